#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stage-2 init of the vmrun.sh guest, PID 1 inside the host root: finish the
# system set-up, load iketcp.ko for the running kernel, run the command from
# /run/vmrun/cmd in the repository root with its output on the second serial
# port, leave its exit status and the kernel log in /run/vmrun, power off.
# On a kernel with kmemleak (the debug kernel), leaks found at the end of the
# run go to /run/vmrun/kmemleak (vmrun.sh then fails the run).

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8
R=/run/vmrun

mkdir -p /dev/pts /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
hostname iketcp-vm
ip link set lo up
echo /sbin/modprobe >/proc/sys/kernel/modprobe
ulimit -n 65536

stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec </dev/null >/dev/ttyS1 2>&1

finish() {
	dmesg >"$R/dmesg" 2>/dev/null
	echo "$1" >"$R/rc"
	sync
	echo o >/proc/sysrq-trigger
	sleep 30
}

# shellcheck disable=SC1091
. "$R/env"
cd "$vmrun_repo" || finish 125
# Booted: from here on whatever the kernel does counts (vmrun.sh reboots a
# guest that died before this mark).
: >"$R/booted"

# kmemleak: what the boot itself leaves unreferenced is not the run's
# business (it is printed, then cleared); at the end, two scans (objects
# younger than 5 s are never reported) and whatever is left is a leak.
KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -w "$KMEMLEAK" ]; then
	echo scan >"$KMEMLEAK"
	boot=$(cat "$KMEMLEAK")
	if [ -n "$boot" ]; then
		echo "vmrun: kmemleak: $(grep -c '^unreferenced object' <<<"$boot") object(s) unreferenced after boot, before the run (ignored):"
		echo "$boot" | sed 's/^/vmrun:   /'
	fi
	echo clear >"$KMEMLEAK"
fi
kmemleak_check() {
	[ -w "$KMEMLEAK" ] || return 0
	local t0=$SECONDS out
	echo scan >"$KMEMLEAK"
	sleep 6
	echo scan >"$KMEMLEAK"
	out=$(cat "$KMEMLEAK")
	echo "vmrun: kmemleak: scanned in $((SECONDS - t0)) s"
	[ -z "$out" ] && return 0
	echo "$out" >"$R/kmemleak"
	echo "vmrun: kmemleak: $(grep -c '^unreferenced object' <<<"$out") suspected memory leak(s) at the end of the run:"
	echo "$out"
}

if [ "${VMRUN_NO_MODULE:-0}" != 1 ]; then
	ko="build/$(uname -r)/kernel/iketcp.ko"
	if [ ! -f "$ko" ]; then
		echo "vmrun: $ko not built (run make KDIR=/usr/src/linux-headers-$(uname -r))"
		finish 125
	fi
	if ! out=$(insmod "$ko" 2>&1); then
		echo "vmrun: insmod $ko failed: $out"
		finish 125
	fi
fi

# Hold the netstamp static key on for the whole run. Every ping enables
# socket timestamps (SO_TIMESTAMP) and flips the key on and, after it, off:
# a jump-label patch of the kernel text each time. Under TCG a vCPU that
# runs the patched site meanwhile can trap on the patch's int3 after the
# patch is done: seen once, an oops at netif_rx_internal's netstamp branch
# (+0x1e, one byte into it) and "Fatal exception in interrupt", in a run
# full of pings. With one socket keeping the flag, the key never flips.
ping -q -i 86400 127.0.0.1 >/dev/null 2>&1 &
stamp_holder=$!

bash -c "$(cat "$R/cmd")"
rc=$?
kill "$stamp_holder" 2>/dev/null
kmemleak_check
finish $rc
