#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hostile.sh - a gateway listening on TCP 500 for the whole Internet, under
# attack. Gateway B (module + iketcpd + a fake IKE daemon) accepts anyone
# ("peer 0.0.0.0/0 tcp"); gateway A is a legitimate peer with an IKE SA;
# the attacker sits in the middlebox namespace (10.77.2.254 and ten more
# addresses). Every attack checks three things: it is contained (the
# connection is reset or refused, a counter moves, a log line says why),
# the legitimate peer's exchange still completes during the attack, and
# nothing the legitimate peer sent is lost. Then faults: iketcpd killed and
# restarted, the IKE daemon restarted, rmmod/insmod with iketcpd running.
# Topology: see lib.sh. TAP output.

cd "$(dirname "$0")/.." || exit 1
P=ho
T=$(mktemp -d /tmp/hostile.XXXXXX)
. selftests/lib.sh
trap lib_cleanup EXIT
KO=build/$(uname -r)/kernel/iketcp.ko
ATK="nsx m $B/hostile"
SRCS=$(for i in $(seq 100 109); do printf '10.77.2.%d ' "$i"; done)
legit=0

# One legitimate request/response between A and B on the known IKE SA,
# 5000 bytes (it would be fragmented): prints its time, fails if lost.
legit_exchange() {
	local t0 t1
	legit=$((legit + 1))
	t0=$(date +%s%N)
	fake_send a 10.77.2.1 4500 5000 2 37 08 $((100 + legit)) c0c1c2c3c4c5c6c7 b0b1b2b3b4b5b6b7
	fake_wait b "10.77.1.1 4500 4500 5000 2 37 8 $((100 + legit)) " || return 1
	fake_send b 10.77.1.1 4500 3000 2 37 20 $((100 + legit)) c0c1c2c3c4c5c6c7 b0b1b2b3b4b5b6b7
	fake_wait a "10.77.2.1 4500 4500 3000 2 37 20 $((100 + legit)) " || return 1
	t1=$(date +%s%N)
	echo "# legitimate exchange $legit: $(( (t1 - t0) / 1000000 )) ms"
	# delivered exactly once
	[ "$(fake_count b "10.77.1.1 4500 4500 5000 2 37 8 $((100 + legit)) ")" = 1 ]
}

# hostile send ... -> "reset after N ms"; expect a reset within [lo, hi] ms
expect_reset() {
	local kind=$1 lo=$2 hi=$3 out ms
	out=$($ATK send 10.77.2.1 500 "$kind" $((hi + 3000)))
	ms=$(sed -n 's/^reset after \([0-9]*\) ms/\1/p' <<<"$out")
	echo "# $kind: $out"
	[ -n "$ms" ] && [ "$ms" -ge "$lo" ] && [ "$ms" -le "$hi" ]
}

echo "TAP version 13"
ip link set lo up
topology
for ip in $SRCS; do nsx m ip addr add "$ip/24" dev m1; done

fake_start a a 10.77.1.1 && fake_start b b 10.77.2.1
daemon_conf a "peer 10.77.2.0/24 tcp"
daemon_conf b "peer 0.0.0.0/0 tcp" "first-message-timeout 3" \
	"max-connections-per-source 20" "max-connections 60" "max-rate 50"
daemon_start a && daemon_start b
# the legitimate IKE SA: IKE_SA_INIT whose NAT detection finds a NAT (both
# daemons then move to 4500, and iketcpd delivers there), then on 4500
fake_send a 10.77.2.1 500 600 2 34 08 0 0 b0b1b2b3b4b5b6b7 natd-nat
fake_wait b "10.77.1.1 500 500 600 2 34" &&
	fake_send b 10.77.1.1 500 600 2 34 20 0 c0c1c2c3c4c5c6c7 b0b1b2b3b4b5b6b7 natd-ok &&
	fake_wait a "10.77.2.1 500 500 600 2 34 20"
check "a legitimate IKE SA is set up over TCP" legit_exchange

# Slow and silent peers: the first-message timeout (3 s here)
check "slowloris (a header byte per second) is reset after the first-message timeout" \
	expect_reset slow 2500 6000
check "a whole header without its body is reset after the timeout" \
	expect_reset partial 2500 6000
check "a silent connection is reset after the timeout" expect_reset silent 2500 6000
check "the legitimate peer is served meanwhile" legit_exchange

# Framing violations: the kernel resets at once
for k in len:0 len:27 len:0xffffffff len:65508 ver:0 ver:3 http tls random:300; do
	check "framing violation $k is reset at once" expect_reset "$k" 0 2000
done
aborts=$(nsx b "$CTL" --json netns | grep -o '"aborts":[0-9]*' | cut -d: -f2)
echo "# kernel framing aborts on B: $aborts"
check "the kernel counted the framing aborts" test "${aborts:-0}" -ge 9
out=$($ATK send 10.77.2.1 500 notinit 3000)
echo "# notinit: $out"
check "a first message that starts no IKE SA and continues none is closed" \
	wait_counter b first_refused 1
check "the legitimate peer is served meanwhile" legit_exchange

# Connection limits: 100 idle connections from one source, then from ten
coproc IDLE1 { exec ip netns exec "$P-m" "$B/hostile" idle 10.77.2.1 500 100; }
read -r line <&"${IDLE1[0]}"
echo "# one source: $line"
acc=$(awk '{print $2}' <<<"$line")
check "per-source limit: at most 20 of 100 idle connections from one source" \
	test "${acc:-999}" -le 20
check "the legitimate peer is served meanwhile" legit_exchange
exec {IDLE1[1]}>&-
wait "$IDLE1_PID" 2>/dev/null
sleep 1
# shellcheck disable=SC2086
coproc IDLE2 { exec ip netns exec "$P-m" "$B/hostile" idle 10.77.2.1 500 100 $SRCS; }
read -r line <&"${IDLE2[0]}"
echo "# ten sources: $line"
acc=$(awk '{print $2}' <<<"$line")
check "global limit: at most 59 more connections (60 with the peer's)" \
	test "${acc:-999}" -le 59
# (a stranger's idle connection at a limit makes room for the next one:
# evicted; with no stranger to evict the newcomer is refused: limited)
limits_counted() {
	local n l e
	for _ in $(seq 50); do
		l=$(counter b limited) e=$(counter b evicted)
		n=$((${l:-0} + ${e:-0}))
		[ "$n" -ge 80 ] && break
		sleep 0.2
	done
	echo "# connections refused or evicted by the limits: $n (limited ${l:-?}, evicted ${e:-?})"
	[ "$n" -ge 80 ]
}
check "connections refused or evicted by the limits are counted" limits_counted
check "the legitimate peer's connection is kept and served" legit_exchange
exec {IDLE2[1]}>&-
wait "$IDLE2_PID" 2>/dev/null

# A flood of valid-looking IKE_SA_INIT on one connection
ip netns exec "$P-m" "$B/hostile" flood 10.77.2.1 500 3000 >"$T/flood.out" &
flood=$!
sleep 0.5
check "during a flood of 3000 IKE_SA_INIT the legitimate peer is served" legit_exchange
wait $flood
echo "# flood: $(cat "$T/flood.out"), rate-dropped $(counter b rate_dropped)"
check "the flood beyond max-rate is dropped and counted" wait_counter b rate_dropped 1

# Faults
daemon_stop b KILL
daemon_start b
check "iketcpd killed and restarted (responder): the peer reconnects, the SA goes on" \
	legit_exchange
daemon_stop a KILL
daemon_start a
check "iketcpd killed and restarted (initiator): it reconnects by itself" legit_exchange
fake_stop b
fake_start b b 10.77.2.1
check "the IKE daemon restarted: service goes on" legit_exchange

out=$(rmmod iketcp 2>&1)
rc=$?
echo "# rmmod with connections attached: $rc $out"
check "rmmod refuses while connections are attached" test $rc != 0
daemon_stop a
for _ in $(seq 60); do rmmod iketcp 2>/dev/null && break; sleep 0.5; done
check "rmmod succeeds once the connections are gone, iketcpd B still running" \
	bash -c "! grep -qw iketcp /proc/modules"
sleep 1.5
insmod "$KO"
check "iketcpd B registers again by itself when the module is back" \
	bash -c "for i in \$(seq 50); do grep -q 'module is back' $T/iketcpd-b.log && exit 0; sleep 0.2; done; exit 1"
daemon_start a
check "and the service comes back" legit_exchange

totals
