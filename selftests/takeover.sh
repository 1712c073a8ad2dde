#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# takeover.sh - the fast path's hand-over does not depend on timing. 100
# connections flood iketcpd, as fast as TCP takes them, with messages of
# IKE SAs that are established from their second message on (B2's peers
# and sink: bench/benchpeer, bench/benchsink; topology bench/lib.sh):
#
# - every one of the 100 SAs is handed to the kernel while its connection
#   is still flooding (iketcpd's fast_sas; a hand-over asked for once a
#   stream ended is refused), and the kernel delivered messages itself;
# - every message is delivered to the daemon (the sink), each
#   connection's in order: it received them all, in order, but for those
#   its socket dropped when full (UdpInErrors: the fast path delivers
#   as fast as TCP brings them, and a daemon that falls behind loses
#   datagrams as over UDP).
#
# Before, iketcpd asked for the hand-over only when it had handled every
# message of the connection, which a flooding peer never lets happen: in
# such a run it handed over 0 of 100. Now the kernel stops reading the
# connection until iketcpd has caught up (IKETCP_CMD_FASTPATH_ADD, -EAGAIN).
#
# IKETCP_TAKEOVER_MSGS: messages per connection (default 1000). TAP.

cd "$(dirname "$0")/.." || exit 1
T=$(mktemp -d /tmp/takeover.XXXXXX)
RUN_IKETCPD=${IKETCPD:-build/userspace/iketcpd}
RUN_CTL=${IKETCPCTL:-build/userspace/iketcpctl}
# shellcheck source=bench/lib.sh
. bench/lib.sh
P=tk
# shellcheck source=selftests/lib.sh
. selftests/lib.sh
IKETCPD=$RUN_IKETCPD CTL=$RUN_CTL
CONNS=100
MSGS=${IKETCP_TAKEOVER_MSGS:-1000}
SIZE=256

cleanup() {
	[ -n "${HPID:-}" ] && kill "$HPID" 2>/dev/null
	[ -n "${SPID:-}" ] && kill "$SPID" 2>/dev/null
	wait 2>/dev/null
	ip netns del tkc 2>/dev/null
	ip netns del tkg 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

echo "TAP version 13"
for p in "$BB/benchpeer" "$BB/benchsink"; do
	[ -x "$p" ] || { echo "Bail out! $p missing: make -C bench progs"; exit 1; }
done
ulimit -n 65536
ip link set lo up
bench_topology tkc tkg || { echo "Bail out! topology"; exit 1; }
bench_iketcpd_conf "$T/iketcpd.conf"
bench_helper_start tkg iketcp 300 "$T/iketcpd.conf" || { echo "Bail out! iketcpd did not start"; exit 1; }
ip netns exec tkg "$BB/benchsink" -a "$GW" -n 1000 -i 3000 >"$T/sink.out" 2>&1 &
SPID=$!
for _ in $(seq 100); do grep -q ready "$T/sink.out" && break; sleep 0.1; done

start=$SECONDS
sent=$(ip netns exec tkc timeout 600 "$BB/benchpeer" stream -d "$GW" -c $CONNS -s $SIZE \
	-n "$MSGS" -b 10.93.0.0)
wait "$SPID"
SPID=
sink=$(grep '^summary' "$T/sink.out")
log "flood: $((SECONDS - start)) s; peers: $sent"
log "sink: $sink"
js=$(ip netns exec tkg "$CTL" -s "$T/ctl" --json status)
jn=$(ip netns exec tkg "$CTL" --json netns)
softnet_drops() {
	local s=0 x
	while read -r _ x _; do s=$((s + 16#$x)); done </proc/net/softnet_stat
	echo "$s"
}
num() { grep -o "\"$2\":[0-9]*" <<<"$1" | head -n1 | cut -d: -f2; }
log "iketcpd: fast_added $(num "$js" fast_added) fast_sas $(num "$js" fast_sas) fast_ended $(num "$js" fast_ended) enobufs $(num "$js" enobufs)"
log "module: injected $(num "$jn" injected) inject_drops $(num "$jn" inject_drops); the daemon's socket: $(ip netns exec tkg nstat -az 2>/dev/null | awk '/UdpRcvbufErrors|UdpInErrors|UdpMemErrors/ { printf "%s %s ", $1, $2 }')softnet dropped $(softnet_drops)"
log "module: fast_added $(num "$jn" fast_added) fast_msgs $(num "$jn" fast_msgs) fast_waits $(num "$jn" fast_waits) fast_wait_timeouts $(num "$jn" fast_wait_timeouts) rx_msgs $(num "$jn" rx_msgs) backpressure $(num "$jn" backpressure)"

# (the daemon's socket may overflow: the fast path delivers as fast as
# TCP brings the messages; what it drops, as over UDP, it counts)
# (UdpInErrors: its buffer full, RcvbufErrors, or UDP's memory limit,
# MemErrors, as on 6.1 with the sink's 64 MiB buffer)
sockdrops=$(ip netns exec tkg nstat -az UdpInErrors 2>/dev/null | awk '$1 == "UdpInErrors" { print $2 }')
all_arrived() {
	local s r
	s=$(kv msgs "$sent") r=$(kv msgs "$sink")
	[ -n "$s" ] && [ "$s" = $((CONNS * MSGS)) ] && [ -n "$r" ] &&
		[ $((r + ${sockdrops:-0})) = "$s" ] && [ "$(kv back "$sink")" = 0 ] &&
		[ "$(kv bad "$sink")" = 0 ]
}
check "all $((CONNS * MSGS)) messages of $CONNS flooding connections were delivered to the daemon (${sockdrops:-0} dropped by its socket, full or over UDP's memory limit), none reordered" all_arrived
check "every one of the $CONNS IKE SAs was handed to the kernel (iketcpd fast_sas)" \
	test "$(num "$js" fast_sas)" = $CONNS
fast_ok() {
	[ "$(num "$jn" fast_added)" -ge $CONNS ] && [ "$(num "$jn" fast_msgs)" -gt 0 ] &&
		[ "$(num "$jn" fast_wait_timeouts)" = 0 ]
}
check "the kernel started every entry and delivered messages itself, no pause timed out" fast_ok
totals
