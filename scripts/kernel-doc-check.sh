#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kernel-doc-check.sh - every non-static function of the module has a
# kernel-doc comment, and scripts/kernel-doc (from Debian's linux-source)
# finds no problem in any of them or in the uapi header.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KD=${IKETCP_CACHE:-$ROOT/.cache}/ksrc/scripts/kernel-doc
[ -f "$KD" ] || { echo "kernel-doc: $KD missing, run scripts/setup.sh" >&2; exit 1; }
cd "$ROOT" || exit 1
rc=0
for f in kernel/*.c; do
	# non-static function definitions: "type name(" at column 0, no ';'
	defs=$(grep -E '^[a-z][a-z0-9_ *]* \**(iketcp_[a-z0-9_]+)\(' "$f" |
		grep -vE '^static|;$' | sed -E 's/.*(iketcp_[a-z0-9_]+)\(.*/\1/')
	for fn in $defs; do
		grep -qE "^ \* $fn\(\) - " "$f" ||
			{ echo "kernel-doc: $f: $fn() has no kernel-doc comment"; rc=1; }
	done
done
out=$(perl "$KD" -none -Wall kernel/*.c kernel/*.h kernel/uapi/linux/iketcp.h 2>&1)
if [ -n "$out" ]; then
	echo "$out"
	rc=1
fi
[ $rc = 0 ] && echo "kernel-doc: clean"
exit $rc
