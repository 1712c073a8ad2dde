#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vmrun.sh - run a command as root inside a qemu (TCG) guest booting one of
# the cached Debian kernels, with the host root shared read-only, the
# repository read-write, iketcp.ko loaded, panic_on_warn set.
#
# Stable interface (tests, benchmarks, the demo and outside tools use it):
#
#   scripts/vmrun.sh [--kernel 6.1|6.12|debug|espintcp] [--mem MB] [--cpus N]
#                    [--timeout SECONDS] [--no-module] -- CMD [ARGS...]
#
# Exit status: CMD's own exit status; 124 if CMD did not finish within
# --timeout; 125 if the guest could not run CMD (boot or insmod failure);
# 126 if the kernel crashed, panicked or logged a WARNING, BUG, Oops, KASAN,
# refcount, lockdep, UBSAN, soft lockup or hung task report, even when CMD
# itself succeeded. On any failure the tail of the guest console is printed.
# CMD's stdout and stderr both arrive on vmrun's stdout.
#
# --kernel debug boots the debug kernel of scripts/debug-kernel.sh (KASAN,
# lockdep, kmemleak, KFENCE; everything the tests need built in): there a
# kmemleak scan at the end of the run that finds a leak also gives 126.
# --kernel espintcp boots scripts/debug-kernel.sh's espintcp kernel: the
# same 6.12 without the debugging, with Linux's own RFC 9329 (espintcp),
# which no Debian kernel has: for libreswan's native TCP.
#
# Environment passed into the guest: V, and every IKETCP_* and KSFT_*
# variable. VMRUN_KEEP=1 keeps the run directory (console log, dmesg).

set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IKETCP_CACHE:-$ROOT/.cache}
SERIES=6.12
MEM=1024
CPUS=2
TIMEOUT=900
MODULE=1

usage() {
	sed -n '/^# vmrun.sh -/,/^$/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) SERIES=${2:?}; shift 2 ;;
	--mem) MEM=${2:?}; shift 2 ;;
	--cpus) CPUS=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--no-module) MODULE=0; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	*) echo "vmrun: unknown option '$1'" >&2; usage ;;
	esac
done
[ $# -gt 0 ] || { echo "vmrun: no command given" >&2; usage; }

KDIR=$CACHE/kernels/$SERIES
if [ ! -f "$KDIR/.ready" ]; then
	if [ "$SERIES" = debug ] || [ "$SERIES" = espintcp ]; then
		echo "vmrun: the $SERIES kernel is not built; run scripts/debug-kernel.sh $SERIES" >&2
	else
		echo "vmrun: kernel $SERIES not in the cache; run scripts/setup.sh" >&2
	fi
	exit 125
fi
KVER=$(cat "$KDIR/kver")
MODDIR=$KDIR/root/lib/modules
VMLINUZ=$KDIR/root/boot/vmlinuz-$KVER
# Modules the initramfs loads before it can mount the 9p shares.
INITRD_MODULES=(9p 9pnet_virtio virtio_pci virtio_rng)
if [ "$SERIES" = debug ] || [ "$SERIES" = espintcp ]; then
	VMLINUZ=$KDIR/bzImage
	INITRD_MODULES=() # virtio and 9p are built in
fi

# The initramfs: busybox, the virtio/9p modules (decompressed) and init.
INITRD=$KDIR/initrd.img
if [ ! -f "$INITRD" ] || [ "$ROOT/scripts/vm/init" -nt "$INITRD" ] ||
   [ "$0" -nt "$INITRD" ]; then
	tmp=$(mktemp -d)
	mkdir -p "$tmp"/{bin,dev,proc,sys,modules,newroot}
	cp /bin/busybox "$tmp/bin/busybox"
	cp "$ROOT/scripts/vm/init" "$tmp/init"
	if [ ${#INITRD_MODULES[@]} -gt 0 ]; then
		modprobe -d "$KDIR/root" -S "$KVER" --show-depends -a "${INITRD_MODULES[@]}" |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }' |
		while read -r ko; do
			base=$(basename "$ko")
			case $ko in
			*.xz) xz -dc "$ko" >"$tmp/modules/${base%.xz}"; base=${base%.xz} ;;
			*) cp "$ko" "$tmp/modules/$base" ;;
			esac
			echo "$base" >>"$tmp/modules.order"
		done
	fi
	touch "$tmp/modules.order"
	(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$INITRD.new.$$" &&
		mv "$INITRD.new.$$" "$INITRD"
	rm -rf "$tmp"
fi

RUN=$(mktemp -d /tmp/vmrun.XXXXXX)
cleanup() { [ "${VMRUN_KEEP:-0}" = 1 ] && echo "vmrun: kept $RUN" >&2 || rm -rf "$RUN"; }
trap cleanup EXIT

printf '%q ' "$@" >"$RUN/cmd"
{
	printf 'vmrun_repo=%q\n' "$ROOT"
	printf 'VMRUN_NO_MODULE=%q\n' "$((1 - MODULE))"
	printf 'VMRUN_KERNEL=%q\n' "$SERIES"
	env | grep -E '^(V|IKETCP_[A-Z0-9_]*|KSFT_[A-Z0-9_]*)=' |
		while IFS='=' read -r k v; do printf 'export %s=%q\n' "$k" "$v"; done
} >"$RUN/env"

APPEND="console=ttyS0 loglevel=5 panic=-1 oops=panic panic_on_warn=1"
APPEND+=" softlockup_panic=1 nmi_watchdog=0 mitigations=off"
# Under TCG on a busy host the clocksource watchdog sees the TSC's read-back
# delay and marks it unstable at run time; switching sched_clock then
# patches kernel text, and with multi-threaded TCG that oopsed on int3 in
# sched_clock_cpu (6.12, 760 s into a run). The guest's TSC comes from the
# host's clock: trust it, so nothing is switched at run time.
APPEND+=" tsc=reliable"
APPEND+=" rdinit=/init vmrun_repo=$ROOT"
# The debug kernel's ACPI interpreter is so slow under KASAN and TCG that
# every PCI interrupt-routing method (_PRT) runs into ACPICA's 30-second
# loop timeout: no ACPI interrupt routing (virtio uses MSI-X anyway).
[ "$SERIES" = debug ] && APPEND+=" acpi=noirq"

# The boot takes a few seconds under TCG: count it in.
boot() {
	timeout -k 10 $((TIMEOUT + 60)) \
	qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "$CPUS" -m "$MEM" \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$VMLINUZ" -initrd "$INITRD" -append "$APPEND" \
	-device virtio-rng-pci \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$MODDIR",mount_tag=modules,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$ROOT",mount_tag=repo,security_model=none,multidevs=remap \
	-virtfs local,path="$RUN",mount_tag=vmrun,security_model=none,multidevs=remap \
	-serial file:"$RUN/console.log" \
	-chardev stdio,id=out,signal=off -serial chardev:out \
	</dev/null
}

# Debian 12's qemu (7.2) has a multi-threaded TCG race with the kernel's
# int3-based code patching (fixed in qemu 8.1): now and then a stock kernel
# dies while booting ("Oops: int3" in a static-key site). A guest that dies
# before guest.sh marked it booted (before iketcp.ko or CMD ran) says nothing
# about the code under test: boot it again, at most VMRUN_BOOT_TRIES times.
# Anything after the mark counts, as always.
TRIES=${VMRUN_BOOT_TRIES:-3}
for try in $(seq 1 "$TRIES"); do
	rm -f "$RUN/booted" "$RUN/rc" "$RUN/dmesg" "$RUN/kmemleak"
	boot
	QRC=$?
	[ -f "$RUN/booted" ] && break
	[ "$QRC" = 124 ] || [ "$QRC" = 137 ] && break
	[ "$try" = "$TRIES" ] && break
	echo "vmrun: the guest kernel died while booting, before the module or CMD ran (attempt $try of $TRIES, qemu status $QRC): booting again" >&2
	grep -m1 -E 'Oops|BUG:|Kernel panic' "$RUN/console.log" | sed 's/^/vmrun:   /' >&2
	mv "$RUN/console.log" "$RUN/console.boot$try.log"
done

# Lines that look like reports but are not: the debug kernel's kmemleak
# announcing itself (its leak reports do not match this).
BENIGN='^(\[ *[0-9.]+\] )?(kmemleak: (Kernel memory leak detector initialized|Automatic memory scanning thread)|rcu:[[:space:]]+RCU lockdep checking is enabled)'
[ "$SERIES" = debug ] || BENIGN='^$'
splat_lines() { cat "$RUN/console.log" "$RUN/dmesg" 2>/dev/null | grep -vE "$BENIGN" | grep -E "$SPLAT"; }

SPLAT='WARNING:|BUG:|Oops|Kernel panic|KASAN|refcount_t:|UBSAN:|circular locking|possible recursive locking|lockdep|kmemleak:|general protection fault|soft lockup|hung_task|blocked for more than|Call Trace:'

fail() {
	local rc=$1
	shift
	echo "vmrun: $* (kernel $SERIES, $KVER)" >&2
	echo "vmrun: ---- guest console (tail) ----" >&2
	tail -n 60 "$RUN/console.log" >&2
	echo "vmrun: ------------------------------" >&2
	exit "$rc"
}

if [ -s "$RUN/kmemleak" ]; then
	echo "vmrun: ---- kmemleak report at the end of the run ----" >&2
	cat "$RUN/kmemleak" >&2
	fail 126 "kmemleak: $(grep -c '^unreferenced object' "$RUN/kmemleak") suspected memory leak(s) at the end of the run"
fi
if splat_lines >/dev/null; then
	what=$(splat_lines | grep -oE "$SPLAT" | head -n1)
	fail 126 "kernel splat detected ($what)"
fi
if [ ! -f "$RUN/rc" ] && [ "$QRC" = 124 ] || [ "$QRC" = 137 ]; then
	fail 124 "command timed out after ${TIMEOUT}s"
fi
if [ ! -f "$RUN/rc" ]; then
	fail 126 "guest ended without a result (qemu status $QRC: crash or panic)"
fi
RC=$(cat "$RUN/rc")
if [ "$RC" = 125 ]; then
	fail 125 "guest could not run the command"
fi
if [ "$RC" != 0 ]; then
	fail "$RC" "command exited with status $RC"
fi
exit 0
