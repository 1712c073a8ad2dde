#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh - the iketcp demonstration (scripts/demo-guest.sh) in the VM:
# unmodified charons fail over UDP through a fragment-dropping middlebox,
# then bring their tunnel up over TCP 500 with iketcpd. Debian 6.12 kernel
# unless IKETCP_DEMO_KERNEL=6.1.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
K=${IKETCP_DEMO_KERNEL:-6.12}
echo "booting the VM (Debian $K kernel, qemu TCG: expect a few minutes in all)..."
exec scripts/vmrun.sh --kernel "$K" --timeout 1200 -- scripts/demo-guest.sh
