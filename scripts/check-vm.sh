#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check-vm.sh SERIES... - run every selftest in one VM boot per kernel and
# print a per-kernel summary. Fails if any kernel's run failed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
rc=0 summary=()
for s in "$@"; do
	echo "==== selftests on Debian $s kernel ===="
	log=$(mktemp)
	start=$(date +%s)
	scripts/vmrun.sh --kernel "$s" --timeout "${IKETCP_VM_TIMEOUT:-1800}" \
		-- selftests/run.sh 2>&1 | tee "$log"
	r=${PIPESTATUS[0]}
	line=$(grep -E '^# selftests on ' "$log" | tail -n1)
	summary+=("kernel $s: ${line#\# selftests on } ($(( $(date +%s) - start ))s, vmrun status $r)")
	[ "$r" = 0 ] || rc=1
	rm -f "$log"
done
echo "==== summary ===="
printf '%s\n' "${summary[@]}"
exit $rc
