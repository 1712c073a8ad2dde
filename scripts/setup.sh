#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# setup.sh - install everything iketcp needs to build and test, idempotently.
#
# - Debian packages: both kernel header sets (6.1 and 6.12), qemu, busybox,
#   libmnl, OpenSSL, strongSwan, nftables, clang, the linux-source packages,
#   python3-yaml and python3-jsonschema (the netlink spec check)...
# - The Debian kernel images for 6.1 and 6.12, unpacked into the git-ignored
#   cache (.cache/kernels/<series>/), with depmod run on their module trees.
# - kselftest_harness.h / kselftest.h, checkpatch.pl, kernel-doc and the ynl
#   tooling (tools/net/ynl, Documentation/netlink/*.yaml) taken from Debian's
#   linux-source package into .cache/ (never copied into the repository).
#
# Re-running it on a ready machine only checks and returns in seconds.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IKETCP_CACHE:-$ROOT/.cache}
QUIET=${QUIET:-0}

say() { [ "$QUIET" = 1 ] || echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, qemu 9p sharing of /)"

PKGS=(
	build-essential make gcc pkg-config bc flex bison libelf-dev
	kmod cpio xz-utils busybox-static
	qemu-system-x86
	libmnl-dev libssl-dev libjson-c-dev libsystemd-dev
	strongswan-charon strongswan-swanctl strongswan-pki
	nftables iproute2 iputils-ping tcpdump socat ethtool util-linux procps iperf3
	clang llvm lld libclang-rt-14-dev
	gnuplot-nox
	python3-yaml python3-jsonschema
	linux-headers-amd64 linux-headers-6.12-amd64
	linux-source-6.1 linux-source-6.12
	libnss3-tools libcap-ng0 libcurl3-nss libevent-core-2.1-7
	libevent-pthreads-2.1-7 libldap-2.5-0 libldns3 libnspr4 libnss3
	libunbound8 dns-root-data
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Kernel release of the header package a meta package points at,
# e.g. linux-headers-amd64 -> 6.1.0-56-amd64.
kver_of_meta() {
	dpkg-query -W -f='${Depends}\n' "$1" |
		tr ',' '\n' | sed -n 's/^ *linux-headers-\([^ ]*\).*/\1/p' | head -n1
}

fetch_kernel() {
	local series=$1 kver=$2
	local dir=$CACHE/kernels/$series
	if [ -f "$dir/.ready" ] && [ "$(cat "$dir/kver" 2>/dev/null)" = "$kver" ]; then
		return 0
	fi
	say "fetching Debian kernel image $kver"
	rm -rf "$dir" && mkdir -p "$dir/tmp"
	local pkg=linux-image-$kver-unsigned
	(cd "$dir/tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
		die "apt-get download $pkg failed"
	dpkg-deb -x "$dir"/tmp/*.deb "$dir/root"
	rm -rf "$dir/tmp"
	[ -f "$dir/root/boot/vmlinuz-$kver" ] || die "no vmlinuz in $pkg"
	depmod -b "$dir/root" "$kver"
	echo "$kver" >"$dir/kver"
	touch "$dir/.ready"
}

mkdir -p "$CACHE/kernels"
K61=$(kver_of_meta linux-headers-amd64)
K612=$(kver_of_meta linux-headers-6.12-amd64)
[ -n "$K61" ] && [ -n "$K612" ] || die "cannot resolve the Debian kernel versions"
[ -d "/usr/src/linux-headers-$K61" ] || die "headers for $K61 missing"
[ -d "/usr/src/linux-headers-$K612" ] || die "headers for $K612 missing"
fetch_kernel 6.1 "$K61"
fetch_kernel 6.12 "$K612"

# kselftest harness headers, checkpatch, kernel-doc and the netlink YAML
# tooling (tools/net/ynl: the ynl CLI and ynl-gen-c.py; the genetlink
# schemas, Documentation/netlink/*.yaml) from the newest linux-source. The
# stamp names the tarball and the list, so that a longer list re-extracts;
# the new tree replaces the old one at once (a build may be reading it).
KSRC=$CACHE/ksrc
SRC_TAR=/usr/src/linux-source-6.12.tar.xz
KSRC_FILES=(
	'*/tools/testing/selftests/kselftest.h'
	'*/tools/testing/selftests/kselftest_harness.h'
	'*/scripts/checkpatch.pl' '*/scripts/spelling.txt'
	'*/scripts/const_structs.checkpatch'
	'*/scripts/kernel-doc' '*/Documentation/dev-tools/checkpatch.rst'
	'*/tools/net/ynl/*' '*/Documentation/netlink/*.yaml'
)
stamp="$(stat -c %Y "$SRC_TAR") $(printf '%s\n' "${KSRC_FILES[@]}" | md5sum | cut -d' ' -f1)"
if [ "$(cat "$KSRC/.stamp" 2>/dev/null)" != "$stamp" ]; then
	say "extracting kselftest harness, checkpatch, kernel-doc and ynl from $SRC_TAR"
	rm -rf "$KSRC.new" && mkdir -p "$KSRC.new"
	tar -C "$KSRC.new" --strip-components=1 -xJf "$SRC_TAR" \
		--wildcards "${KSRC_FILES[@]}"
	echo "$stamp" >"$KSRC.new/.stamp"
	rm -rf "$KSRC.old"
	[ -d "$KSRC" ] && mv "$KSRC" "$KSRC.old"
	mv "$KSRC.new" "$KSRC" && rm -rf "$KSRC.old"
fi

# libreswan's pluto for the end-to-end tests: it conflicts with strongSwan
# in apt, so it is unpacked into the cache (its runtime libraries, above,
# install without conflict). pluto finds its helpers in /usr/libexec/ipsec:
# the e2e harness bind-mounts the unpacked ones there inside the gateway's
# mount namespace, and the guest's root is read-only, so the mount point
# must exist on the host.
LSW=$CACHE/libreswan
if [ ! -f "$LSW/.ready" ] || [ ! -x "$LSW/root/usr/libexec/ipsec/pluto" ]; then
	say "fetching libreswan (unpacked into $LSW)"
	rm -rf "$LSW" && mkdir -p "$LSW/tmp"
	(cd "$LSW/tmp" && apt-get download -qq -o APT::Sandbox::User=root libreswan >/dev/null) ||
		die "apt-get download libreswan failed"
	dpkg-deb -x "$LSW"/tmp/*.deb "$LSW/root"
	dpkg-deb -f "$LSW"/tmp/*.deb Version >"$LSW/version"
	rm -rf "$LSW/tmp"
	[ -x "$LSW/root/usr/libexec/ipsec/pluto" ] || die "no pluto in the libreswan package"
	touch "$LSW/.ready"
fi
if [ ! -e /usr/libexec/ipsec ]; then
	mkdir -p /usr/libexec/ipsec
elif [ ! -d /usr/libexec/ipsec ]; then
	die "/usr/libexec/ipsec exists and is not a directory"
fi

# The guest mounts the cached module tree over /lib/modules: it must exist.
mkdir -p /lib/modules

say "ready: 6.1=$K61 6.12=$K612 cache=$CACHE"
