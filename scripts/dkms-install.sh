#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dkms-install.sh - register the module source with DKMS (rebuilt for every
# kernel installed later), build and install it for the running kernel.
# Release build: the debug-only fault triggers are not compiled in.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VER=$(cat "$ROOT/VERSION")
DST=/usr/src/iketcp-$VER
command -v dkms >/dev/null || { echo "dkms-install: install dkms first (apt-get install dkms)" >&2; exit 1; }
dkms remove -m iketcp -v "$VER" --all 2>/dev/null || true
rm -rf "$DST"
mkdir -p "$DST"
cp -r "$ROOT/Kbuild" "$ROOT/kernel" "$DST/"
# dkms.conf's PACKAGE_VERSION is #MODULE_VERSION# (as dh_dkms fills it in)
sed "s/#MODULE_VERSION#/$VER/" "$ROOT/dkms.conf" >"$DST/dkms.conf"
dkms add -m iketcp -v "$VER"
dkms build -m iketcp -v "$VER"
dkms install -m iketcp -v "$VER"
echo "dkms-install: iketcp $VER installed; load it with: modprobe iketcp"
