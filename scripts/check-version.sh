#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-version.sh - VERSION is the tree's one version. iketcpd and
# iketcpctl --version are built from it (userspace/Makefile), and so is
# the module's MODULE_VERSION (IKETCP_VERSION, passed by Makefile and by
# dkms.conf's MAKE line); dkms.conf leaves PACKAGE_VERSION to be filled in
# from it (#MODULE_VERSION#: dh_dkms -V, scripts/dkms-install.sh); and
# debian/changelog's newest entry must be it (a native package: no Debian
# revision). Fails on any drift.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
fail=0
bad() { echo "check-version: $*" >&2; fail=1; }

ver=$(cat "$ROOT/VERSION")
[[ $ver =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || bad "VERSION '$ver' is not X.Y.Z"

deb=$(sed -n '1s/^iketcp (\([^)]*\)).*/\1/p' "$ROOT/debian/changelog")
[ "$deb" = "$ver" ] ||
	bad "debian/changelog's newest entry is '${deb:-?}', VERSION is '$ver' (add an entry to debian/changelog, e.g. dch -v $ver)"

grep -qx 'PACKAGE_VERSION="#MODULE_VERSION#"' "$ROOT/dkms.conf" ||
	bad "dkms.conf must say PACKAGE_VERSION=\"#MODULE_VERSION#\" (filled in from VERSION)"
grep -q '^MAKE\[0\]=.* IKETCP_VERSION=${PACKAGE_VERSION} ' "$ROOT/dkms.conf" ||
	bad "dkms.conf's MAKE[0] must pass IKETCP_VERSION=\${PACKAGE_VERSION} (modinfo's version)"

# no version written into the sources by hand
hard=$(grep -rnE '_VERSION "[0-9]+\.[0-9]+' "$ROOT/userspace" "$ROOT/kernel" \
	--include='*.[ch]' || true)
[ -z "$hard" ] || bad "a version in the sources, not from VERSION: $hard"

[ "$fail" = 0 ] && echo "check-version: $ver (VERSION, debian/changelog, dkms.conf, --version)"
exit "$fail"
