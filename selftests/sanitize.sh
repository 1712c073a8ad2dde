#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sanitize.sh [SUITE...] - inside the VM: the selftests that drive iketcpd
# and iketcpctl, with their AddressSanitizer + UBSan build
# (build/userspace-san, from `make -C userspace SAN=1 O=../build/userspace-san`).
# Default suites: bridge.sh hostile.sh channels.sh daemon.sh e2e/iketcp.sh
# e2e/matrix.sh. Fails when a suite fails, and when a sanitizer reported
# anything, even in a run whose tests passed (a report at exit, a process
# the test only stopped): every report is printed.
#
# bounds.sh is not among them: it measures iketcpd's memory, which ASan's
# shadow and quarantine change.

cd "$(dirname "$0")/.." || exit 1
SAN=$PWD/build/userspace-san
if [ ! -x "$SAN/iketcpd" ] || [ ! -x "$SAN/iketcpctl" ]; then
	echo "# $SAN: not built (make -C userspace SAN=1 O=../build/userspace-san)"
	exit 1
fi
R=$(mktemp -d /tmp/sanitize.XXXXXX) || exit 1

export IKETCPD=$SAN/iketcpd IKETCPCTL=$SAN/iketcpctl E2E_IKETCPD=$SAN/iketcpd
# A report goes to its own file (the tests redirect the daemons' output);
# the first one ends the process with a distinct status.
export ASAN_OPTIONS="log_path=$R/asan:detect_leaks=1:halt_on_error=1:exitcode=99:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="log_path=$R/ubsan:print_stacktrace=1:halt_on_error=1:exitcode=98"
export LSAN_OPTIONS="log_path=$R/lsan"

[ $# -gt 0 ] || set -- bridge.sh hostile.sh channels.sh daemon.sh e2e/iketcp.sh e2e/matrix.sh
for b in "$IKETCPD" "$IKETCPCTL"; do
	if ! ldd "$b" | grep -q libasan || ! ldd "$b" | grep -q libubsan; then
		echo "# $b: not an ASan+UBSan build"
		exit 1
	fi
done
echo "# sanitize: $IKETCPD, suites: $*"
selftests/run.sh "$@"
rc=$?

mapfile -t reports < <(find "$R" -type f | sort)
for f in "${reports[@]}"; do
	echo "# ==== sanitizer report ${f#"$R"/} ===="
	sed 's/^/# /' "$f"
done
echo "# sanitize: ${#reports[@]} sanitizer report(s), selftests status $rc"
rm -rf "$R"
[ "$rc" = 0 ] && [ ${#reports[@]} = 0 ]
