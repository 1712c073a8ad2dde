#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ynl.sh - the netlink spec (Documentation/netlink/specs/iketcp.yaml) drives
# the loaded module through the kernel's own ynl CLI (tools/net/ynl/cli.py of
# linux-source-6.12, extracted by scripts/setup.sh into .cache/ksrc): in a
# namespace with two attached connections (ulp_hold), the conn-get dump, a
# conn-get do and the netns-get reply decode, and say
# what iketcpctl --json says (ids, addresses, ports, framing, state, every
# counter); netns-set through ynl is what iketcpctl then reads; an unknown
# connection fails with the kernel's extended ACK message. TAP output. SKIP
# if /usr/bin/python3 or its yaml module is missing.

cd "$(dirname "$0")/.." || exit 1
HOLD=build/selftests/ulp_hold
CTL=${IKETCPCTL:-build/userspace/iketcpctl}
KO=build/$(uname -r)/kernel/iketcp.ko
KSRC=${IKETCP_CACHE:-$PWD/.cache}/ksrc
YNL=$KSRC/tools/net/ynl/cli.py
SPEC=$PWD/Documentation/netlink/specs/iketcp.yaml
PY=/usr/bin/python3
NS=ynl-$$
T=$(mktemp -d)
n=0 pass=0 fail=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
notok() {
	n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"
	for f in "$T"/*.out; do [ -s "$f" ] && sed "s,^,# ${f##*/}: ," "$f" | tail -n 8; done
}
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }

echo "TAP version 13"
if [ ! -x "$PY" ] || ! "$PY" -c 'import yaml' 2>/dev/null; then
	echo "1..0 # SKIP $PY or its yaml module missing (apt-get install python3-yaml)"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 0
fi
if [ ! -f "$YNL" ]; then
	echo "1..0 # SKIP no ynl CLI at $YNL (run scripts/setup.sh)"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 0
fi
# The schema is checked on the host (make check-spec: the same ynl library,
# jsonschema); here validating it again would double each call's time
# (about 25 s per ynl call under TCG without it).
SCH=(--no-schema)

cleanup() {
	[ -n "${HOLD_P_PID:-}" ] && kill "$HOLD_P_PID" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

lsmod | grep -qw iketcp || insmod "$KO"
ip netns add "$NS"
ip -n "$NS" link set lo up

# ynl OP-ARGS...: the ynl CLI in the namespace, JSON out
ynl() { ip netns exec "$NS" "$PY" "$YNL" --spec "$SPEC" "${SCH[@]}" --output-json "$@"; }
ctl() { ip netns exec "$NS" "$CTL" --json "$@"; }

# (they send nothing: without this they are aborted 10 s after attaching,
# before the slower ynl calls below)
ip netns exec "$NS" "$CTL" set first-msg-timeout 0 >/dev/null
coproc HOLD_P { exec ip netns exec "$NS" "$HOLD" 2; }
read -r line <&"${HOLD_P[0]}"
[ "$line" = ready ] || echo "# ulp_hold said '$line'"

t0=$(date +%s.%N)
ynl --dump conn-get >"$T/dump.out" 2>&1
echo "# ynl --dump conn-get: $(echo "$(date +%s.%N) - $t0" | bc) s"
ctl conns >"$T/ctl-conns.out" 2>&1
ynl --do netns-get >"$T/netns.out" 2>&1
ctl netns >"$T/ctl-netns.out" 2>&1

# compare.py KIND YNL-JSON CTL-JSON: what ynl decoded is what iketcpctl shows
cat >"$T/compare.py" <<'PY'
import json, sys
kind, y, c = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
def fail(msg):
    print(f"# {kind}: {msg}")
    sys.exit(1)
if kind == 'conns':
    c = c['conns']
    if len(y) != 2 or len(c) != 2:
        fail(f"{len(y)} connections from ynl, {len(c)} from iketcpctl, 2 held")
    by_id = {x['id']: x for x in c}
    for conn in y:
        x = by_id.get(conn['conn-id'])
        if x is None:
            fail(f"connection {conn['conn-id']} not in iketcpctl")
        for side in ('local', 'remote'):
            addr = conn.get(side + '-ipv4') or '[%s]' % conn.get(side + '-ipv6')
            ep = f"{addr}:{conn[side + '-port']}"
            if ep != x[side]:
                fail(f"{side} {ep} != {x[side]}")
        if conn['framing'] != x['framing'] or conn['conn-state'] != x['state']:
            fail(f"framing/state {conn['framing']}/{conn['conn-state']} != {x['framing']}/{x['state']}")
        if not isinstance(conn.get('conn-inode'), int) or conn['conn-inode'] <= 0:
            fail(f"inode {conn.get('conn-inode')}")
        st = {k.replace('-', '_'): v for k, v in conn['stats'].items()}
        names = [k for k in x if k not in ('id', 'local', 'remote', 'framing', 'state', 'reason')]
        for k in names:
            if st.get(k, 0) != x[k]:
                fail(f"stat {k}: ynl {st.get(k)} iketcpctl {x[k]}")
        extra = set(st) - set(names)
        if extra:
            fail(f"ynl has stats iketcpctl lacks: {sorted(extra)}")
    print(f"# conns: {len(y)} connections, {len(names)} counters each agree")
else:
    c = c['netns']
    m = {'max-msg-len': 'max_msg_len', 'first-msg-timeout': 'first_msg_timeout_ms',
         'msg-timeout': 'msg_timeout_ms', 'mem-limit': 'mem_limit',
         'helper-portid': 'helper_portid'}
    for a, b in m.items():
        if y.get(a) != c[b]:
            fail(f"{a}: ynl {y.get(a)} iketcpctl {c[b]}")
    st = {k.replace('-', '_'): v for k, v in y['netns-stats'].items()}
    for k, v in c.items():
        if k in m.values():
            continue
        if st.get(k) != v:
            fail(f"stat {k}: ynl {st.get(k)} iketcpctl {v}")
    if set(st) - set(c):
        fail(f"ynl has counters iketcpctl lacks: {sorted(set(st) - set(c))}")
    print(f"# netns: {len(m)} parameters and {len(st)} counters agree; conns {st['conns']}")
PY
# ctl prints {"conns":[...]} / {"netns":{...}} (one command: one member)
wrap() { "$PY" -c 'import json,sys; t=sys.stdin.read().strip(); print(t if t.startswith("{") else "{"+t+"}")' <"$1" >"$1.json"; }
wrap "$T/ctl-conns.out"; wrap "$T/ctl-netns.out"

check "ynl dumps the connections (conn-get dump)" \
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (isinstance(d, list) and d))' "$T/dump.out"
check "the dump is what iketcpctl --json conns shows" \
	"$PY" "$T/compare.py" conns "$T/dump.out" "$T/ctl-conns.out.json"
check "ynl reads the netns (netns-get)" \
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not ("max-msg-len" in d and "netns-stats" in d))' "$T/netns.out"
check "netns-get is what iketcpctl --json netns shows" \
	"$PY" "$T/compare.py" netns "$T/netns.out" "$T/ctl-netns.out.json"

id=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["conn-id"])' "$T/dump.out" 2>/dev/null)
ynl --do conn-get --json "{\"conn-id\": ${id:-1}}" >"$T/get.out" 2>&1
check "conn-get do of connection ${id:-?} is its dump entry" \
	"$PY" -c 'import json,sys; a=json.load(open(sys.argv[1])); b=[c for c in json.load(open(sys.argv[2])) if c["conn-id"]==a["conn-id"]][0]; sys.exit(a != b)' "$T/get.out" "$T/dump.out"

ynl --do conn-get --json '{"conn-id": 4000000000}' >"$T/enoent.out" 2>&1
rc=$?
check "an unknown connection: an error with the extended ACK (rc $rc)" \
	grep -q "no such connection" "$T/enoent.out"

# (the namespace is ours: nothing to restore)
ynl --do netns-set --json '{"msg-timeout": 12345, "max-msg-len": 40000}' >"$T/set.out" 2>&1
ctl netns >"$T/ctl-netns2.out" 2>&1
check "netns-set through ynl is what iketcpctl reads" \
	grep -q '"max_msg_len":40000,.*"msg_timeout_ms":12345' "$T/ctl-netns2.out"
echo "1..$n"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
