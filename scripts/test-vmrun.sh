#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test-vmrun.sh - tests of the VM runner itself (TAP): a module WARN (the
# debug-only trigger /sys/kernel/debug/iketcp/warn) turns the run red, the
# command's exit status comes out unchanged, a hung command times out.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
n=0 fail=0
t() {
	local name=$1 want=$2
	shift 2
	local out got
	out=$(scripts/vmrun.sh "$@" 2>&1)
	got=$?
	n=$((n + 1))
	if [ "$got" = "$want" ]; then
		echo "ok $n $name (status $got)"
	else
		fail=$((fail + 1))
		echo "not ok $n $name (status $got, want $want)"
		tail -n 20 <<<"$out" | sed 's/^/# /'
	fi
}
echo "TAP version 13"
echo "1..5"
t "module WARN fails the run (6.12)" 126 --kernel 6.12 -- \
	sh -c 'echo 1 >/sys/kernel/debug/iketcp/warn; exit 0'
t "module WARN fails the run (6.1)" 126 --kernel 6.1 -- \
	sh -c 'echo 1 >/sys/kernel/debug/iketcp/warn; exit 0'
t "exit status passes through" 7 --kernel 6.12 -- sh -c 'grep -qw iketcp /proc/sys/net/ipv4/tcp_available_ulp && exit 7'
t "hung command times out" 124 --kernel 6.12 --timeout 10 -- sleep 600
# a newcomer clones wherever they like, /tmp included (the guest mounts a
# tmpfs there before it mounts the repository)
clone=$(mktemp -d /tmp/iketcp-clone.XXXXXX)
git clone -q "$ROOT" "$clone/iketcp"
n=$((n + 1))
out=$(IKETCP_CACHE=$ROOT/.cache "$clone/iketcp/scripts/vmrun.sh" --no-module \
	--kernel 6.12 -- sh -c 'test -f scripts/vm/guest.sh && test "$PWD" = "$0" && exit 5' "$clone/iketcp" 2>&1)
got=$?
if [ "$got" = 5 ]; then
	echo "ok $n a checkout under /tmp runs in the VM (status $got)"
else
	fail=$((fail + 1))
	echo "not ok $n a checkout under /tmp runs in the VM (status $got, want 5)"
	tail -n 20 <<<"$out" | sed 's/^/# /'
fi
rm -rf "$clone"
echo "# Totals: pass:$((n - fail)) fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ $fail = 0 ]
