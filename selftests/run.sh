#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [--kernel-suites] [NAME...] - run the iketcp selftests (all, the
# kernel-dependent ones, or those named) inside the VM (scripts/vmrun.sh --
# selftests/run.sh). Each test prints TAP and its run time; a summary line
# per test program and a total for this kernel follow. Exits non-zero if
# any test failed or none ran.
#
# --kernel-suites: the module's own tests and e2e/iketcp.sh's short matrix
# with real charons (whose outcome depends on the kernel: xfrm, netfilter,
# TCP); the others (iketcpd's decisions with fake daemons, the charon/pluto
# topology matrix) run on one kernel in make check (all of them on every
# kernel: make check-vm-full).

cd "$(dirname "$0")/.." || exit 1
B=build/selftests
ALL=(module.sh ulp shim churn nlfuzz bridge.sh channels.sh bounds.sh hostile.sh daemon.sh e2e/iketcp.sh e2e/matrix.sh)
KERNEL_SUITES=(module.sh ulp shim churn nlfuzz e2e/iketcp.sh)
if [ "${1:-}" = --kernel-suites ]; then
	shift
	ALL=("${KERNEL_SUITES[@]}")
	export E2E_QUICK=1	# e2e/iketcp.sh's short matrix
fi
[ $# -gt 0 ] && ALL=("$@")
T_PASS=0 T_FAIL=0 T_SKIP=0 T_RUN=0 failed=()

for t in "${ALL[@]}"; do
	case $t in
	*.sh) cmd=(selftests/"$t") ;;
	*) cmd=("$B/$t") ;;
	esac
	if [ ! -x "${cmd[0]}" ]; then
		echo "# $t: not built"
		failed+=("$t")
		T_FAIL=$((T_FAIL + 1))
		continue
	fi
	echo "# ==== $t ===="
	t0=$(date +%s)
	log=$(mktemp)
	# to a file, streamed: a stray child holding a pipe cannot stall us
	"${cmd[@]}" >"$log" 2>&1 &
	pid=$!
	tail -n +1 -f --pid=$pid "$log"
	wait $pid
	rc=$?
	totals=$(grep -E '^# Totals: ' "$log" | tail -n1)
	rm -f "$log"
	p=$(sed -n 's/.* pass:\([0-9]*\).*/\1/p' <<<"$totals")
	f=$(sed -n 's/.* fail:\([0-9]*\).*/\1/p' <<<"$totals")
	s=$(sed -n 's/.*skip:\([0-9]*\).*/\1/p' <<<"$totals")
	e=$(sed -n 's/.*error:\([0-9]*\).*/\1/p' <<<"$totals")
	p=${p:-0} f=${f:-0} s=${s:-0} e=${e:-0}
	echo "# $t: $(($(date +%s) - t0)) s"
	if [ -z "$totals" ] || [ "$rc" != 0 ]; then
		[ "$f" = 0 ] && f=1
		failed+=("$t")
	fi
	T_PASS=$((T_PASS + p)) T_FAIL=$((T_FAIL + f + e)) T_SKIP=$((T_SKIP + s))
	T_RUN=$((T_RUN + p + f + e + s))
done

echo "# selftests on $(uname -r): $T_RUN tests, $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
[ ${#failed[@]} -gt 0 ] && echo "# failed: ${failed[*]}"
[ "$T_RUN" -gt 0 ] && [ "$T_FAIL" = 0 ] && [ ${#failed[@]} = 0 ]
