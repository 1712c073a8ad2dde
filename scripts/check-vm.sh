#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check-vm.sh SERIES[:kernel]... - run the selftests in one VM boot per
# kernel and print a per-kernel summary. SERIES alone runs every selftest;
# SERIES:kernel only those whose outcome depends on the kernel
# (selftests/run.sh --kernel-suites). Fails if any kernel's run failed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
rc=0 summary=()
for arg in "$@"; do
	s=${arg%%:*} sel=()
	[ "$arg" != "$s" ] && sel=(--kernel-suites)
	echo "==== selftests on Debian $s kernel${sel:+ (the kernel-dependent suites)} ===="
	log=$(mktemp)
	start=$(date +%s)
	scripts/vmrun.sh --kernel "$s" --timeout "${IKETCP_VM_TIMEOUT:-2700}" \
		-- selftests/run.sh "${sel[@]}" 2>&1 | tee "$log"
	r=${PIPESTATUS[0]}
	line=$(grep -E '^# selftests on ' "$log" | tail -n1)
	summary+=("kernel $s${sel:+ (kernel-dependent suites)}: ${line#\# selftests on } ($(( $(date +%s) - start ))s, vmrun status $r)")
	[ "$r" = 0 ] || rc=1
	rm -f "$log"
done
echo "==== summary ===="
printf '%s\n' "${summary[@]}"
exit $rc
