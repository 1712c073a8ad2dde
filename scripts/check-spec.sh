#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-spec.sh - the netlink spec Documentation/netlink/specs/iketcp.yaml
# against the kernel's own tooling and against the uapi header:
# 1. the spec loads with the ynl library (tools/net/ynl/lib, as the ynl CLI
#    loads it) and validates against the kernel's genetlink-legacy schema
#    (jsonschema); every reference in it (nested sets, enums, consts,
#    attributes of operations) resolves;
# 2. ynl-gen-c.py renders the uapi header from it (the generator accepts it);
# 3. every name and value it describes is the one of
#    kernel/uapi/linux/iketcp.h: consts, enums, attributes, stats,
#    commands and each enum's _MAX, checked by the C compiler
#    (_Static_assert against the real header).
# The tooling and schemas come from Debian's linux-source-6.12, extracted
# by scripts/setup.sh into .cache/ksrc; nothing of the kernel tree is copied
# into the repository (the spec is copied into a scratch tree under .cache:
# ynl-gen-c.py finds the schema and the tree's root from the spec's path).
# Needs /usr/bin/python3 with python3-yaml and python3-jsonschema (Debian).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IKETCP_CACHE:-$ROOT/.cache}
KSRC=$CACHE/ksrc
SPEC=$ROOT/Documentation/netlink/specs/iketcp.yaml
UAPI=$ROOT/kernel/uapi
PY=/usr/bin/python3

die() { echo "check-spec: $*" >&2; exit 1; }
[ -f "$KSRC/tools/net/ynl/ynl-gen-c.py" ] &&
	[ -f "$KSRC/Documentation/netlink/genetlink-legacy.yaml" ] ||
	die "no ynl tooling in $KSRC (run scripts/setup.sh)"
$PY -c 'import yaml, jsonschema' 2>/dev/null ||
	die "$PY lacks yaml or jsonschema (apt-get install python3-yaml python3-jsonschema)"

# A scratch tree: root/MAINTAINERS, root/Documentation/netlink/<schemas>,
# root/Documentation/netlink/specs/iketcp.yaml.
W=$(mktemp -d "$CACHE/spec-check.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/Documentation/netlink/specs"
: >"$W/MAINTAINERS"
cp "$KSRC"/Documentation/netlink/genetlink*.yaml "$W/Documentation/netlink/"
cp "$SPEC" "$W/Documentation/netlink/specs/iketcp.yaml"
S=$W/Documentation/netlink/specs/iketcp.yaml

# 1. the ynl library's loader: schema validation and resolution
(cd "$KSRC/tools/net/ynl" && $PY - "$S" "$W/Documentation/netlink/genetlink-legacy.yaml") <<'PY'
import sys
from lib import SpecFamily
f = SpecFamily(sys.argv[1], sys.argv[2])
n_attrs = sum(len(s.attrs) for s in f.attr_sets.values())
print(f"check-spec: {f.name}: schema {f.proto} ok: {len(f.attr_sets)} attribute sets, "
      f"{n_attrs} attributes, {len(f.msgs)} messages "
      f"({len(f.ops)} operations), {len(f.consts)} definitions")
PY

# 2. the uapi header rendered by ynl-gen-c.py
$PY "$KSRC/tools/net/ynl/ynl-gen-c.py" --mode uapi --header --spec "$S" \
	-o "$W/iketcp-gen.h" >"$W/gen.log" 2>&1 ||
	{ cat "$W/gen.log" >&2; die "ynl-gen-c.py --mode uapi failed"; }
echo "check-spec: ynl-gen-c.py --mode uapi: $(grep -c '^	IKETCP_' "$W/iketcp-gen.h") enumerators rendered"

# 3. names and values against the real header
$PY - "$S" >"$W/asserts.c" <<'PY'
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
fam = spec['name']
c = lambda s: s.upper().replace('-', '_')
out = ['#include <linux/iketcp.h>']
n = 0
def check(name, value):
    global n
    n += 1
    out.append(f'_Static_assert({name} == {value}, "{name} is not {value}");')
def numbered(prefix, items, v):
    # entries numbered from v on (an explicit value restarts the count);
    # returns the last value
    for e in items:
        e = e if isinstance(e, dict) else {'name': e}
        v = e.get('value', v)
        check(c(prefix + e['name']), v)
        v += 1
    return v - 1
for d in spec.get('definitions', []):
    if d['type'] == 'const':
        check(c(f"{fam}-{d['name']}"), d['value'])
    elif d['type'] == 'enum':
        prefix = d.get('name-prefix', f"{fam}-{d['name']}-")
        out.append(f"enum {fam}_{d['name'].replace('-', '_')} *enum_{d['name'].replace('-', '_')};")
        last = numbered(prefix, d['entries'], d.get('value-start', 0))
        if d.get('render-max'):
            check(c(prefix + 'max'), last)
for s in spec['attribute-sets']:
    prefix = s.get('name-prefix', f"{fam}-a-{s['name']}-")
    if s.get('enum-name'):
        out.append(f"enum {s['enum-name']} *set_{s['name'].replace('-', '_')};")
    check(c(prefix + 'max'), numbered(prefix, s['attributes'], 1))
ops = spec['operations']
prefix = ops.get('name-prefix', f"{fam}-cmd-")
if ops.get('enum-name'):
    out.append(f"enum {ops['enum-name']} *ops_enum;")
check(c(prefix + 'max'), numbered(prefix, ops['list'], 1))
check(c(spec['c-version-name']), spec.get('version', 1))
print('\n'.join(out))
print(f'/* {n} checks */')
PY
# (a string: compared as text)
grep -Eq "^#define[[:space:]]+IKETCP_GENL_NAME[[:space:]]+\"$($PY -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["name"])' "$S")\"" \
	"$UAPI/linux/iketcp.h" || die "IKETCP_GENL_NAME is not the spec's name"
gcc -std=gnu11 -fsyntax-only -Werror -I "$UAPI" "$W/asserts.c" ||
	die "the spec and kernel/uapi/linux/iketcp.h disagree (see above)"
echo "check-spec: $(sed -n 's,^/\* \([0-9]*\) checks \*/,\1,p' "$W/asserts.c") names and values match kernel/uapi/linux/iketcp.h"
