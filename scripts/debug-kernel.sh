#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [debug|espintcp] - build (once) a test kernel from
# Debian's linux-source-6.12, `make tinyconfig` plus a fragment:
#   debug     (the default) the "debug" VM tier's: scripts/debug-kernel.config
#             (KASAN, lockdep, kmemleak, KFENCE, ... and everything the VM
#             tests need, built in);
#   espintcp  the interoperability tests': the same without its debugging
#             section, plus scripts/espintcp-kernel.config (Linux's RFC 9329,
#             CONFIG_INET_ESPINTCP and INET6, which Debian's kernels lack:
#             libreswan's enable-tcp needs it).
# Idempotent: rebuilds only when the fragment or the source package changed
# (incrementally when only the fragment did).
#
# The result, in the git-ignored cache (.cache/kernels/<flavour>/; here for
# debug):
#   bzImage          the kernel (scripts/vmrun.sh --kernel debug boots it)
#   kver             its release, e.g. 6.12.117-iketcp-debug
#   build/           the build tree (O=): KDIR for out-of-tree modules,
#                    make module KDIR=.cache/kernels/debug/build
#   root/lib/modules/<kver>/   modules_install output (vmrun's 9p share)
#   src/             the unpacked source; build.log the last build's log
#
# Environment: JOBS (default: CPUs + 1), IKETCP_CACHE, IKETCP_DEBUG_KSRC
# (the source tarball, default /usr/src/linux-source-6.12.tar.xz).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IKETCP_CACHE:-$ROOT/.cache}
FLAVOUR=${1:-debug}
D=$CACHE/kernels/$FLAVOUR
SRC_TAR=${IKETCP_DEBUG_KSRC:-/usr/src/linux-source-6.12.tar.xz}
FRAG=$ROOT/scripts/debug-kernel.config
JOBS=${JOBS:-$(($(nproc) + 1))}
LOG=$D/build.log

say() { echo "$FLAVOUR-kernel: $*"; }
die() { echo "$FLAVOUR-kernel: error: $*" >&2; exit 1; }

[ -f "$SRC_TAR" ] || die "$SRC_TAR missing (apt-get install linux-source-6.12; scripts/setup.sh)"
[ -f "$FRAG" ] || die "$FRAG missing"
mkdir -p "$D"
case $FLAVOUR in
debug) ;;
espintcp)
	# what the tests need (the debug fragment up to its debugging
	# section, without its release name), then the espintcp fragment
	sed -e '/^# ---- the debugging this kernel is for/,$d' \
	    -e '/^CONFIG_LOCALVERSION=/d' "$FRAG" >"$D/fragment.new"
	cat "$ROOT/scripts/espintcp-kernel.config" >>"$D/fragment.new"
	mv "$D/fragment.new" "$D/fragment"
	FRAG=$D/fragment
	;;
*) die "unknown flavour '$FLAVOUR' (debug or espintcp)" ;;
esac

# One build at a time (make check-debug from two shells).
exec 9>"$D/.lock"
flock 9

# What the cached kernel was built from (bump the last word when the way it
# is built changes).
src_id="$(stat -c '%s %Y' "$SRC_TAR") $SRC_TAR"
want="source: $src_id
fragment: $(sha256sum <"$FRAG" | cut -d' ' -f1)
recipe: 1"
if [ -f "$D/.ready" ] && [ "$(cat "$D/stamp" 2>/dev/null)" = "$want" ] &&
   [ -f "$D/bzImage" ]; then
	say "up to date: $(cat "$D/kver") ($D)"
	exit 0
fi
rm -f "$D/.ready"

start=$(date +%s)
: >"$LOG"
fail() {
	echo "$FLAVOUR-kernel: error: $* (log: $LOG)" >&2
	tail -n 40 "$LOG" >&2
	exit 1
}

# The source: unpacked once per source package; a new package starts the
# build tree afresh.
if [ "$(cat "$D/src.stamp" 2>/dev/null)" != "$src_id" ] || [ ! -f "$D/src/Makefile" ]; then
	say "unpacking $SRC_TAR"
	rm -rf "$D/src" "$D/src.tmp" "$D/build"
	mkdir -p "$D/src.tmp"
	tar -C "$D/src.tmp" --strip-components=1 -xJf "$SRC_TAR" || die "cannot unpack $SRC_TAR"
	mv "$D/src.tmp" "$D/src"
	echo "$src_id" >"$D/src.stamp"
fi

K=(make -C "$D/src" O="$D/build")
mkdir -p "$D/build"

# The configuration: tinyconfig + the fragment, then olddefconfig.
say "configuring (tinyconfig + ${FRAG#"$ROOT"/})"
"${K[@]}" tinyconfig >>"$LOG" 2>&1 || fail "make tinyconfig failed"
(cd "$D/build" && "$D/src/scripts/kconfig/merge_config.sh" -m -O "$D/build" \
	"$D/build/.config" "$FRAG") >>"$LOG" 2>&1 || fail "merge_config.sh failed"
"${K[@]}" olddefconfig >>"$LOG" 2>&1 || fail "make olddefconfig failed"

# Every line of the fragment must have made it (else a dependency is missing).
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*) sym=${line%%=*} ;;
	"# CONFIG_"*" is not set") sym=${line#"# "}; sym=${sym%% *}; line="# $sym is not set" ;;
	*) continue ;;
	esac
	got=$(grep -E "^($sym=|# $sym is not set)" "$D/build/.config" || true)
	# "not set" is also satisfied by a symbol that is not visible at all
	if [ "$got" != "$line" ] && ! { [ "${line#\# }" != "$line" ] && [ -z "$got" ]; }; then
		echo "$FLAVOUR-kernel: fragment wants '$line', .config has '${got:-nothing}'" >&2
		bad=1
	fi
done <"$FRAG"
[ $bad = 0 ] || die "the configuration does not match ${FRAG#"$ROOT"/}"

# The build: kernel, (built-in) modules, modules_prepare for out-of-tree
# modules, modules_install into root/ (modules.builtin etc. for modprobe).
say "building with -j$JOBS (log: $LOG)"
"${K[@]}" -j"$JOBS" bzImage modules >>"$LOG" 2>&1 || fail "kernel build failed"
"${K[@]}" -j"$JOBS" modules_prepare >>"$LOG" 2>&1 || fail "make modules_prepare failed"
kver=$("${K[@]}" -s kernelrelease 2>>"$LOG") || fail "make kernelrelease failed"
[ -n "$kver" ] || fail "empty kernel release"
rm -rf "$D/root"
"${K[@]}" INSTALL_MOD_PATH="$D/root" modules_install >>"$LOG" 2>&1 ||
	fail "make modules_install failed"
[ -d "$D/root/lib/modules/$kver" ] || fail "no $D/root/lib/modules/$kver"
rm -f "$D/root/lib/modules/$kver/build" "$D/root/lib/modules/$kver/source"
cp "$D/build/arch/x86/boot/bzImage" "$D/bzImage.new" && mv "$D/bzImage.new" "$D/bzImage"
rm -f "$D/initrd.img"
echo "$kver" >"$D/kver"
echo "$want" >"$D/stamp"
touch "$D/.ready"

secs=$(($(date +%s) - start))
say "built $kver in $((secs / 60))m$((secs % 60))s ($(du -k "$D/bzImage" | cut -f1) KiB bzImage)"
say "KDIR=$D/build"
