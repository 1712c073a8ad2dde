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
#
# IKETCP_SANITIZE=1 (make check, selftests/sanitize.sh): the suites that
# drive iketcpd with fake daemons (IKETCP_SAN_SUITES, default bridge.sh
# channels.sh hostile.sh stream.sh daemon.sh) run it and iketcpctl from their
# ASan+UBSan build (build/userspace-san); a sanitizer report fails its
# suite even when its tests passed (a report at exit, a process the test
# only stopped). bounds.sh keeps the plain build: it measures iketcpd's
# memory.

cd "$(dirname "$0")/.." || exit 1
B=build/selftests
ALL=(module.sh ynl.sh ulp rfc9329 shim churn nlfuzz takeover.sh bridge.sh channels.sh bounds.sh hostile.sh stream.sh daemon.sh e2e/iketcp.sh e2e/matrix.sh)
KERNEL_SUITES=(module.sh ulp rfc9329 shim churn nlfuzz takeover.sh e2e/iketcp.sh)
if [ "${1:-}" = --kernel-suites ]; then
	shift
	ALL=("${KERNEL_SUITES[@]}")
	export E2E_QUICK=1	# e2e/iketcp.sh's short matrix
fi
[ $# -gt 0 ] && ALL=("$@")
T_PASS=0 T_FAIL=0 T_SKIP=0 T_RUN=0 failed=()

SAN_SUITES=" ${IKETCP_SAN_SUITES:-bridge.sh channels.sh hostile.sh stream.sh daemon.sh} "
SAN=$PWD/build/userspace-san
SAN_DIR=
if [ "${IKETCP_SANITIZE:-0}" = 1 ]; then
	for b in "$SAN/iketcpd" "$SAN/iketcpctl"; do
		if [ ! -x "$b" ] || ! ldd "$b" | grep -q libasan ||
		   ! ldd "$b" | grep -q libubsan; then
			echo "# IKETCP_SANITIZE=1: $b is not an ASan+UBSan build (make userspace-san)"
			exit 1
		fi
	done
	SAN_DIR=$(mktemp -d /tmp/sanitize.XXXXXX) || exit 1
fi
# san_env <suite>: the environment a sanitized suite runs in
san_env() {
	local r=$SAN_DIR/${1//\//_}

	mkdir -p "$r"
	SAN_ENV=(env IKETCPD="$SAN/iketcpd" IKETCPCTL="$SAN/iketcpctl"
		E2E_IKETCPD="$SAN/iketcpd"
		ASAN_OPTIONS="log_path=$r/asan:detect_leaks=1:halt_on_error=1:exitcode=99:strict_string_checks=1:detect_stack_use_after_return=1"
		UBSAN_OPTIONS="log_path=$r/ubsan:print_stacktrace=1:halt_on_error=1:exitcode=98"
		LSAN_OPTIONS="log_path=$r/lsan")
}
# san_reports <suite>: print its reports; fails if there were any
san_reports() {
	local r=$SAN_DIR/${1//\//_} f n=0

	for f in "$r"/*; do
		[ -f "$f" ] || continue
		echo "# ==== $1: sanitizer report ${f##*/} ===="
		sed 's/^/# /' "$f"
		n=$((n + 1))
	done
	[ "$n" = 0 ] && echo "# $1: no sanitizer report (iketcpd, iketcpctl: ASan+UBSan)"
	[ "$n" = 0 ]
}

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
	SAN_ENV=()
	[ -n "$SAN_DIR" ] && [[ $SAN_SUITES == *" $t "* ]] && san_env "$t"
	# to a file, streamed: a stray child holding a pipe cannot stall us
	"${SAN_ENV[@]}" "${cmd[@]}" >"$log" 2>&1 &
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
	if [ ${#SAN_ENV[@]} -gt 0 ] && ! san_reports "$t"; then
		rc=1
	fi
	if [ -z "$totals" ] || [ "$rc" != 0 ]; then
		[ "$f" = 0 ] && f=1
		failed+=("$t")
	fi
	T_PASS=$((T_PASS + p)) T_FAIL=$((T_FAIL + f + e)) T_SKIP=$((T_SKIP + s))
	T_RUN=$((T_RUN + p + f + e + s))
done

[ -n "$SAN_DIR" ] && rm -rf "$SAN_DIR"
echo "# selftests on $(uname -r): $T_RUN tests, $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
[ ${#failed[@]} -gt 0 ] && echo "# failed: ${failed[*]}"
[ "$T_RUN" -gt 0 ] && [ "$T_FAIL" = 0 ] && [ ${#failed[@]} = 0 ]
