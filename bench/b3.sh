#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# b3.sh - B3: scale. Runs as root in the VM (bench/Makefile:
# scripts/vmrun.sh --mem 3072 -- bench/b3.sh).
#
#   ns b3c (N peers)                    ns b3g (the gateway)
#   c0 10.92.0.2/24 ------------------- g0 10.92.0.1/24
#   local 10.93.0.0/16: connection i     benchsink: UDP 10.92.0.1:500 (the daemon)
#   comes from its own address           iketcpd ("peer 0.0.0.0/0 tcp", limits
#                                        raised) or relay on TCP 10.92.0.1:500
#
# For N in IKETCP_B3_COUNTS (default "1000 10000"), two phases (in the order
# of IKETCP_B3_HELPERS, default "iketcp relay") in the same
# VM run: plain TCP (the connections held by bench/relay.c, which reads them
# and forwards the first messages) and iketcp (held by iketcpd with the ULP
# attached). In each phase:
#   1. benchpeer hold opens N connections (512 connecting at a time), each
#      sends one 400-byte IKE_SA_INIT with a fresh SPI; the time from the
#      first connect to the N-th first message at the sink gives new
#      connections + first message per second;
#   2. once idle: kernel memory per connection from /proc/meminfo (Slab,
#      SUnreclaim, MemFree; caches dropped before each reading) and the
#      helper's VmRSS, after minus before, divided by N; the slab caches
#      that grew most (/proc/slabinfo);
#   3. mass reconnect: the helper is killed (SIGTERM) and started again; the
#      peers see their connections close and reconnect (after 250 ms,
#      doubling to 2 s while refused), each sending a first message of the
#      next generation; time from the kill until the sink has all N, and the
#      sink's count of distinct connections (lost = N - that) and duplicates.
#      Still incomplete after IKETCP_B3_DIAG_AFTER s (30): a diagnostic
#      dump (peers' and sink's progress on SIGUSR1, listener queue, TCP
#      counters, the module's and iketcpd's counters), again 20 s later;
#      given up after IKETCP_B3_RECONNECT_TIMEOUT s more (600).
# Memory of both ends of each connection is in the kernel figures (the
# peers run in the same VM); iketcp's own cost is iketcp minus plain.
#
# Output: bench/data/b3_raw.csv (IKETCP_B3_OUT), one line per phase.

cd "$(dirname "$0")/.." || exit 1
COUNTS=(${IKETCP_B3_COUNTS:-1000 10000})
HELPERS=(${IKETCP_B3_HELPERS:-iketcp relay})
OUT=${IKETCP_B3_OUT:-bench/data/b3_raw.csv}
T=$(mktemp -d /tmp/b3.XXXXXX)
# shellcheck source=bench/lib.sh
. bench/lib.sh
SIZE=400
DIAG_AFTER=${IKETCP_B3_DIAG_AFTER:-30}
RECONNECT_TIMEOUT=${IKETCP_B3_RECONNECT_TIMEOUT:-600}

ulimit -n 200000
cleanup() {
	for p in ${CPID:-} ${HPID:-} ${SPID:-}; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del b3c 2>/dev/null
	ip netns del b3g 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

log "B3 start: kernel $(uname -r), $(nproc) vCPUs, $(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo), loadavg $(cat /proc/loadavg)"

bench_topology b3c b3g net.core.somaxconn=8192 \
	net.ipv4.tcp_max_syn_backlog=8192 || exit 1
bench_iketcpd_conf "$T/iketcpd.conf"

mem() { # "Slab SUnreclaim MemFree" in kB, after dropping the caches
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sleep 1
	awk '/^Slab:/ { s = $2 } /^SUnreclaim:/ { u = $2 } /^MemFree:/ { f = $2 }
	     END { print s, u, f }' /proc/meminfo
}
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
slabs() { # name bytes (num_objs * objsize), every cache
	awk 'NR > 2 { print $1, $3 * $4 }' /proc/slabinfo | sort
}
wait_for() { # <file> <regexp> <timeout s>: polled in bash, by the clock
	local end=$((SECONDS + $3)) line
	while :; do
		if [ -f "$1" ]; then
			while IFS= read -r line; do
				[[ $line =~ $2 ]] && return 0
			done <"$1"
		fi
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.5
	done
}

helper_start() { # iketcp|relay ($T/state kept: iketcpd restores it)
	bench_helper_start b3g "$1" 300 "$T/iketcpd.conf"
}

# A stalled mass reconnect: where are the connections? (peers, sink,
# listener queue, TCP counters, the module, iketcpd)
diag() { # <helper> <N>
	log "$1 N=$2: reconnect not complete yet, diagnostics:"
	kill -USR1 "$CPID" "$SPID" 2>/dev/null
	sleep 0.5
	{
		echo "peers: $(grep '^progress' "$T/client.out" | tail -n 1)"
		echo "sink: $(grep '^progress' "$T/sink.out" | tail -n 1)"
		echo "gateway listener: $(ip netns exec b3g ss -Hltn "sport = :500")"
		echo "gateway: $(ip netns exec b3g ss -s | grep -E '^TCP:')"
		echo "peers: $(ip netns exec b3c ss -s | grep -E '^TCP:')"
		echo "gateway states: $(ip netns exec b3g ss -Htan | awk '{ print $1 }' | sort | uniq -c | tr '\n' ' ')"
		echo "peer states: $(ip netns exec b3c ss -Htan | awk '{ print $1 }' | sort | uniq -c | tr '\n' ' ')"
		echo "gateway nstat: $(ip netns exec b3g nstat -az 2>/dev/null | awk '$2 > 0 && $1 ~ /Listen|ReqQ|Abort|SynRetrans|SYNChallenge|Reset|Drop|Overflow|Backlog|Estab|Attempt/ { printf "%s=%s ", $1, $2 }')"
		echo "peer nstat: $(ip netns exec b3c nstat -az 2>/dev/null | awk '$2 > 0 && $1 ~ /Listen|ReqQ|Abort|SynRetrans|Reset|Drop|Timeout|Attempt/ { printf "%s=%s ", $1, $2 }')"
		if [ "$1" = iketcp ]; then
			echo "module: $(ip netns exec b3g build/userspace/iketcpctl --json netns 2>&1 | tr -d '\n' | cut -c1-600)"
			echo "iketcpd: $(ip netns exec b3g build/userspace/iketcpctl -s "$T/ctl" --json status 2>&1 | tr -d '\n' | cut -c1-900)"
			echo "iketcpd process: $(ps -o stat=,pcpu=,wchan:20= -p "$HPID")"
			echo "iketcpd log tail:"; tail -n 5 "$T/iketcpd.log"
		fi
		echo "ps: $(ps -eo pcpu=,comm= --sort=-pcpu | head -n 5 | tr '\n' ';')"
	} | sed 's/^/#   /'
}

[ -f "$OUT" ] || echo "helper,conns,connect_s,conns_per_s,first_msgs,slab_kb,sunreclaim_kb,memfree_drop_kb,slab_b_per_conn,sunreclaim_b_per_conn,memfree_b_per_conn,helper_rss_kb_before,helper_rss_kb_after,helper_b_per_conn,reconnect_s,reconnect_first_msgs,reconnect_lost,reconnect_dup,loadavg" >"$OUT"

phase() { # <relay|iketcp> <N>
	local h=$1 n=$2 m0 m1 r0 r1 s0 up sink t0 t1 rc gen2 lost dup el rel line
	rm -f "$T/state"
	helper_start "$h" || return 1
	: >"$T/sink.out"
	ip netns exec b3g "$BB/benchsink" -a $GW -n $((n + 10)) -e "$n" >"$T/sink.out" 2>&1 &
	SPID=$!
	wait_for "$T/sink.out" ready 30
	sleep 2
	read -r -a m0 < <(mem)
	r0=$(rss "$HPID")
	slabs >"$T/slab0"
	: >"$T/client.out"
	ip netns exec b3c "$BB/benchpeer" hold -d $GW -c "$n" -s $SIZE -b 10.93.0.0 -P 512 -R \
		>"$T/client.out" 2>&1 &
	CPID=$!
	if ! wait_for "$T/sink.out" "complete gen=1 " 900; then
		log "$h N=$n: first messages incomplete: $(tail -n 2 "$T/client.out")"
		kill "$SPID"; wait "$SPID"; cat "$T/sink.out"
		return 1
	fi
	wait_for "$T/client.out" "^up " 60
	up=$(grep '^up ' "$T/client.out") sink=$(grep 'complete gen=1 ' "$T/sink.out")
	el=$(awk -v a="$(kv start_us "$up")" -v b="$(kv last_us "$sink")" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
	log "$h N=$n: all up and first messages in after $el s ($up)"
	sleep 3
	read -r -a m1 < <(mem)
	r1=$(rss "$HPID")
	slabs >"$T/slab1"
	log "$h N=$n: slab caches that grew most (bytes per connection):"
	join "$T/slab0" "$T/slab1" | awk -v n="$n" '{ d = $3 - $2; if (d > 0) print d / n, $1 }' |
		sort -rn | head -n 8 | awk '{ printf "#     %8.0f  %s\n", $1, $2 }'
	[ "$h" = iketcp ] && log "$h N=$n: module: $(ip netns exec b3g build/userspace/iketcpctl --json netns | grep -o '"conns":[0-9]*\|"aborts":[0-9]*\|"backpressure":[0-9]*' | tr '\n' ' ')"

	# mass reconnect: kill the helper, start it again
	t0=${EPOCHREALTIME/./}
	kill "$HPID"
	wait "$HPID"
	rel=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
	helper_start "$h"
	log "$h N=$n: helper stopped in $rel ms, started again after $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms"
	if wait_for "$T/sink.out" "complete gen=2 " "$DIAG_AFTER" ||
	   { diag "$h" "$n"; wait_for "$T/sink.out" "complete gen=2 " 20; } ||
	   { diag "$h" "$n"; wait_for "$T/sink.out" "complete gen=2 " "$RECONNECT_TIMEOUT"; }; then
		line=$(grep 'complete gen=2 ' "$T/sink.out")
		rc=$(awk -v a="$t0" -v b="$(kv last_us "$line")" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
	else
		rc=timeout
		log "$h N=$n: reconnect incomplete: $(tail -n 2 "$T/client.out")"
	fi
	wait_for "$T/client.out" "^reup " 30
	# peers reset their connections, then the helper and the sink stop
	kill "$CPID"
	wait "$CPID"
	sleep 1
	kill "$HPID" "$SPID"
	wait "$HPID" "$SPID"
	HPID= SPID= CPID=
	gen2=$(grep '^gen 2 ' "$T/sink.out")
	lost=$((n - $(kv unique "$gen2")))
	dup=$(kv dup "$gen2")
	log "$h N=$n: reconnect: all first messages in after $rc s; gen 2: $gen2; client: $(grep -E '^(reup|bye)' "$T/client.out" | tr '\n' ' ')"
	log "$h N=$n: sink: $(grep -E '^(summary|gen)' "$T/sink.out" | tr '\n' ';')"
	[ "$h" = relay ] && log "relay: $(tail -n 2 "$T/relay.out" | tr '\n' ' ')"
	awk -v h="$h" -v n="$n" -v el="$el" -v first="$(kv n "$sink")" \
	    -v s0="${m0[0]}" -v u0="${m0[1]}" -v f0="${m0[2]}" \
	    -v s1="${m1[0]}" -v u1="${m1[1]}" -v f1="${m1[2]}" -v r0="$r0" -v r1="$r1" \
	    -v rc="$rc" -v g2="$(kv unique "$gen2")" -v lost="$lost" -v dup="$dup" \
	    -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
		printf "%s,%d,%.3f,%.0f,%d,%d,%d,%d,%.0f,%.0f,%.0f,%d,%d,%.0f,%s,%d,%d,%d,%s\n",
			h, n, el, n / el, first, s1 - s0, u1 - u0, f0 - f1,
			(s1 - s0) * 1024 / n, (u1 - u0) * 1024 / n, (f0 - f1) * 1024 / n,
			r0, r1, (r1 - r0) * 1024 / n, rc, g2, lost, dup, load
	}' | tee -a "$OUT"
	sleep 2
}

for n in "${COUNTS[@]}"; do
	for h in "${HELPERS[@]}"; do
		phase "$h" "$n"
	done
done
log "iketcpd log tail:"
tail -n 8 "$T/iketcpd.log" | sed 's/^/#   /'
log "B3 end: loadavg $(cat /proc/loadavg)"
