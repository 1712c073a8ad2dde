#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh - the iketcp demonstration, run in the VM (Debian 6.12 kernel).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
exec scripts/vmrun.sh --kernel "${IKETCP_DEMO_KERNEL:-6.12}" --timeout 900 \
	-- scripts/demo-guest.sh
