#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kdir.sh [SERIES] - print the kernel build tree to build against.
# Without SERIES: the running kernel's build tree if it exists, else the
# newest Debian linux-headers-*-amd64 installed. With SERIES (6.1, 6.12):
# the headers matching the Debian kernel that setup.sh cached for it.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IKETCP_CACHE:-$ROOT/.cache}
if [ -n "${1:-}" ]; then
	kver=$(cat "$CACHE/kernels/$1/kver" 2>/dev/null) ||
		{ echo "kdir: kernel $1 not cached, run scripts/setup.sh" >&2; exit 1; }
	echo "/usr/src/linux-headers-$kver"
	exit 0
fi
if [ -d "/lib/modules/$(uname -r)/build" ]; then
	echo "/lib/modules/$(uname -r)/build"
	exit 0
fi
d=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n1)
[ -n "$d" ] || { echo "kdir: no kernel headers, run scripts/setup.sh" >&2; exit 1; }
echo "$d"
