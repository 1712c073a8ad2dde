#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# b2.sh - B2: data-path cost, iketcp vs a plain userspace relay, in one VM
# run. Runs as root in the VM (bench/Makefile: scripts/vmrun.sh -- bench/b2.sh).
#
#   ns b2c (peers)                      ns b2g (gateway)
#   c0 10.92.0.2/24 ------------------- g0 10.92.0.1/24
#   local 10.93.0.0/16 (one source       benchsink on UDP 10.92.0.1:500/4500
#   address per connection)              iketcpd or relay on TCP 10.92.0.1:500
#
# benchpeer writes valid IKE messages back to back on 1 or 100 connections
# (a fixed total per size, split evenly between the connections: 256 B
# 60000, 1500 B 30000, 16 KB 3000, 65000 B 800, times IKETCP_B2_SCALE),
# then closes; benchsink (the "IKE daemon") counts
# them, checks that none is missing and that each connection's arrived in
# order. Each connection's first message starts an IKE SA (IKE_SA_INIT),
# the others are INFORMATIONAL requests of that established SA. The same
# traffic goes through
#   iketcp:      TCP -> ULP -> genl -> iketcpd (SA set-up, policy) and
#                from the second message of the SA on, once iketcpd handed
#                it over: TCP -> ULP -> fast path -> inject -> sink
#   iketcp-nofp: iketcpd with "fast-path off": every message
#                TCP -> ULP -> genl -> iketcpd -> UDP_INJECT -> sink
#   relay:       TCP -> read() in bench/relay.c -> stream.c framer -> sendto()
# Per run: messages/s (received / (last arrival - first write)), system-wide
# CPU from /proc/stat (all jiffies but idle and iowait, both vCPUs) per
# message, and the helper's (iketcpd's or relay's) own utime+stime per
# message. The helpers alternate run by run, the order rotating each
# repetition.
#
# The backlog of packets delivered locally (loopback, inject) is raised
# (net.core.netdev_max_backlog 30000): with the default 1000 the relay's
# sendto() bursts overflowed it. Drops there (softnet_stat) and in the
# sink's socket (Udp RcvbufErrors, MemErrors) are recorded per run.
#
# Environment: IKETCP_B2_SCALE (default 1), IKETCP_B2_REPS (default 3),
# IKETCP_B2_HELPERS (default "iketcp iketcp-nofp relay"),
# IKETCP_B2_SIZES ("256 1500 16384 65000"), IKETCP_B2_CONNS ("1 100"),
# IKETCP_B2_OUT (default bench/data/b2_raw.csv).

cd "$(dirname "$0")/.." || exit 1
SCALE=${IKETCP_B2_SCALE:-1}
declare -A TOTAL=([256]=60000 [1500]=30000 [16384]=3000 [65000]=800)
REPS=${IKETCP_B2_REPS:-3}
SIZES=(${IKETCP_B2_SIZES:-256 1500 16384 65000})
CONNS=(${IKETCP_B2_CONNS:-1 100})
HELPERS=(${IKETCP_B2_HELPERS:-iketcp iketcp-nofp relay})
OUT=${IKETCP_B2_OUT:-bench/data/b2_raw.csv}
T=$(mktemp -d /tmp/b2.XXXXXX)
# shellcheck source=bench/lib.sh
. bench/lib.sh

ulimit -n 200000
cleanup() {
	[ -n "${HPID:-}" ] && kill "$HPID" 2>/dev/null
	[ -n "${SPID:-}" ] && kill "$SPID" 2>/dev/null
	wait 2>/dev/null
	ip netns del b2c 2>/dev/null
	ip netns del b2g 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

log "B2 start: kernel $(uname -r), $(nproc) vCPUs, loadavg $(cat /proc/loadavg)"

bench_topology b2c b2g || exit 1
bench_iketcpd_conf "$T/iketcpd.conf"
bench_iketcpd_conf "$T/iketcpd-nofp.conf" "fast-path off"

busy_jiffies() { # all CPU jiffies but idle and iowait
	local _c u n s i w q sq st
	read -r _c u n s i w q sq st _ </proc/stat
	echo $((u + n + s + q + sq + st))
}
proc_jiffies() { # <pid>: utime + stime
	local f
	f=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	f=${f##*) }
	# shellcheck disable=SC2086
	set -- $f
	echo $((${12} + ${13}))
}
udp_drops() { # sink side: Udp RcvbufErrors + MemErrors, softnet drops
	local u s x
	u=$(ip netns exec b2g awk '/^Udp:/ { if (h) { print $6 + $10; exit } h = 1 }' /proc/net/snmp)
	s=0
	while read -r _ x _; do s=$((s + 16#$x)); done </proc/net/softnet_stat
	echo $((u + s))
}

helper_start() { # iketcp|iketcp-nofp|relay: a fresh one
	rm -f "$T/state"
	case $1 in
	iketcp) bench_helper_start b2g iketcp 100 "$T/iketcpd.conf" ;;
	iketcp-nofp) bench_helper_start b2g iketcp 100 "$T/iketcpd-nofp.conf" ;;
	*) bench_helper_start b2g "$1" 100 ;;
	esac
}
helper_stop() {
	kill "$HPID" 2>/dev/null
	wait "$HPID" 2>/dev/null
	HPID=
}

[ -f "$OUT" ] || echo "helper,size,conns,rep,msgs_per_conn,sent,received,lost,out_of_order,bad,udp_drops,elapsed_s,msgs_per_s,mbytes_per_s,sys_jiffies,sys_us_per_msg,helper_jiffies,helper_us_per_msg,loadavg" >"$OUT"

run() { # <helper> <size> <conns> <rep>
	local h=$1 size=$2 conns=$3 rep=$4 b0 b1 h0 h1 e0 e1 sent sink s r lost el n
	n=$((TOTAL[$size] * SCALE / conns))
	helper_start "$h" || return 1
	ip netns exec b2g "$BB/benchsink" -a $GW -n 20000 -i 3000 >"$T/sink.out" 2>&1 &
	SPID=$!
	for _ in $(seq 100); do grep -q ready "$T/sink.out" && break; sleep 0.1; done
	e0=$(udp_drops)
	h0=$(proc_jiffies "$HPID")
	b0=$(busy_jiffies)
	sent=$(ip netns exec b2c "$BB/benchpeer" stream -d $GW -c "$conns" -s "$size" \
		-n "$n" -b 10.93.0.0)
	wait "$SPID"
	SPID=
	b1=$(busy_jiffies)
	h1=$(proc_jiffies "$HPID")
	e1=$(udp_drops)
	[ "$h" != relay ] && log "$h: module $(ip netns exec b2g build/userspace/iketcpctl --json netns | grep -o '"backpressure":[0-9]*\|"held":[0-9]*\|"fast_msgs":[0-9]*\|"fast_fallbacks":[0-9]*\|"injected":[0-9]*' | tr '\n' ' ') iketcpd $(ip netns exec b2g build/userspace/iketcpctl -s "$T/ctl" --json status | grep -o '"enobufs":[0-9]*\|"injected":[0-9]*\|"inject_errors":[0-9]*\|"rate_dropped":[0-9]*\|"fast_added":[0-9]*\|"fast_ended":[0-9]*' | sort -u | tr '\n' ' ')"
	helper_stop
	sink=$(grep '^summary' "$T/sink.out")
	s=$(kv msgs "$sent") r=$(kv msgs "$sink")
	lost=$((s - r))
	el=$(awk -v a="$(kv start_us "$sent")" -v b="$(kv last_us "$sink")" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
	awk -v h="$h" -v size="$size" -v c="$conns" -v rep="$rep" -v secs="$n" \
	    -v s="$s" -v r="$r" -v lost="$lost" -v ooo="$(kv ooo "$sink")" -v bad="$(kv bad "$sink")" \
	    -v ue=$((e1 - e0)) -v el="$el" -v bytes="$(kv bytes "$sink")" \
	    -v bj=$((b1 - b0)) -v hj=$((h1 - h0)) -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
		r0 = r > 0 ? r : 1
		printf "%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.3f,%.0f,%.2f,%d,%.1f,%d,%.1f,%s\n",
			h, size, c, rep, secs, s, r, lost, ooo, bad, ue, el, r / el,
			bytes / el / 1e6, bj, bj * 10000 / r0, hj, hj * 10000 / r0, load
	}' | tee -a "$OUT"
	[ "$h" = relay ] && log "relay: $(cat "$T/relay.out" | tail -n1)"
	return 0
}

for ((rep = 1; rep <= REPS; rep++)); do
	# rotate the order: each helper goes first in turn
	order=()
	for ((k = 0; k < ${#HELPERS[@]}; k++)); do
		order+=("${HELPERS[$(((rep - 1 + k) % ${#HELPERS[@]}))]}")
	done
	for size in "${SIZES[@]}"; do
		for conns in "${CONNS[@]}"; do
			for h in "${order[@]}"; do
				run "$h" "$size" "$conns" "$rep"
			done
		done
	done
done
log "iketcpd log tail:"
tail -n 5 "$T/iketcpd.log" | sed 's/^/#   /'
log "B2 end: loadavg $(cat /proc/loadavg)"
