#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# unit-security.sh - the systemd unit's sandbox: `systemd-analyze security`
# must rate iketcpd.service at an exposure of at most 2.5 (the unit before
# the hardening: 6.9), and the unit must keep what the daemon needs. TAP.

cd "$(dirname "$0")/.." || exit 1
UNIT=iketcpd.service
MAX=2.5
echo "TAP version 13"
echo "1..2"
if ! command -v systemd-analyze >/dev/null; then
	echo "ok 1 # SKIP systemd-analyze not installed"
	echo "ok 2 # SKIP systemd-analyze not installed"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:2 error:0"
	exit 0
fi
out=$(systemd-analyze security --offline=yes "$UNIT" 2>&1)
level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
echo "# exposure of $UNIT: ${level:-?} (at most $MAX)"
pass=0 fail=0
if [ -n "$level" ] && awk -v l="$level" -v m="$MAX" 'BEGIN { exit !(l <= m) }'; then
	echo "ok 1 exposure ${level} <= $MAX"
	pass=$((pass + 1))
else
	echo "not ok 1 exposure ${level:-unknown} <= $MAX"
	sed 's/^/# /' <<<"$out" | grep -F '✗'
	fail=$((fail + 1))
fi
# what the daemon needs, and the '+' that lets modprobe run before it
need=("Type=notify" "ExecStartPre=+/sbin/modprobe iketcp" "DynamicUser=yes"
      "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE"
      "RuntimeDirectory=iketcpd" "UMask=0077")
missing=()
for l in "${need[@]}"; do grep -qxF "$l" "$UNIT" || missing+=("$l"); done
if [ ${#missing[@]} = 0 ]; then
	echo "ok 2 the unit has ${#need[@]} settings the daemon needs"
	pass=$((pass + 1))
else
	echo "not ok 2 missing: ${missing[*]}"
	fail=$((fail + 1))
fi
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
