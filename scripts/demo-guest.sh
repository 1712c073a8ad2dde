#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo-guest.sh - inside the VM: the module loaded, the ULP attached to TCP
# connections, their IKE framing counters. (Run through scripts/demo.sh.)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
T0=$(date +%s.%N)
step() { printf '[%6.2fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }

step "kernel $(uname -r); TCP ULPs available: $(cat /proc/sys/net/ipv4/tcp_available_ulp)"
ip link set lo up
coproc HOLD { exec build/selftests/ulp_hold 2 helper; }
read -r line <&"${HOLD[0]}"
step "two loopback TCP connections with the iketcp ULP attached ($line)"
build/userspace/iketcpctl show
exec {HOLD[1]}>&-
wait "$HOLD_PID"
step "connections closed; module still loaded: $(lsmod | grep -c '^iketcp')"
