#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bridge.sh - iketcpd end to end with scriptable fake IKE daemons (fakeike)
# instead of charon: every routing rule of the bridge, deterministically.
#
#   ns br-a (gw A)            ns br-m (middlebox)            ns br-b (gw B)
#   a0 10.77.1.1/24  ----  m0 10.77.1.254   m1 10.77.2.254  ----  b0 10.77.2.1/24
#      fd77:1::1/64           fd77:1::fe     fd77:2::fe           fd77:2::1/64
#
# The middlebox drops every IPv4 and IPv6 fragment. fakeike plays the IKE
# daemon on each gateway (UDP 500 and 4500); iketcpd runs on both. TAP.

cd "$(dirname "$0")/.." || exit 1
B=build/selftests
IKETCPD=build/userspace/iketcpd
CTL=build/userspace/iketcpctl
T=$(mktemp -d /tmp/bridge.XXXXXX)
n=0 pass=0 fail=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
notok() {
	n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"
	for f in "$T"/*.log; do echo "# --- $f"; tail -n 15 "$f" | sed 's/^/# /'; done
}
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }

A="ip netns exec br-a"
M="ip netns exec br-m"
Bx="ip netns exec br-b"

cleanup() {
	for g in a b; do
		[ -f "$T/iketcpd-$g.pid" ] && kill "$(cat "$T/iketcpd-$g.pid")" 2>/dev/null
	done
	kill $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	for ns in br-a br-m br-b; do ip netns del $ns 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

topology() {
	for ns in br-a br-m br-b; do
		ip netns add $ns
		ip -n $ns link set lo up
	done
	ip link add a0 netns br-a type veth peer name m0 netns br-m
	ip link add b0 netns br-b type veth peer name m1 netns br-m
	$A ip addr add 10.77.1.1/24 dev a0
	$A ip addr add fd77:1::1/64 dev a0 nodad
	$M ip addr add 10.77.1.254/24 dev m0
	$M ip addr add fd77:1::fe/64 dev m0 nodad
	$M ip addr add 10.77.2.254/24 dev m1
	$M ip addr add fd77:2::fe/64 dev m1 nodad
	$Bx ip addr add 10.77.2.1/24 dev b0
	$Bx ip addr add fd77:2::1/64 dev b0 nodad
	$A ip link set a0 up
	$Bx ip link set b0 up
	$M ip link set m0 up
	$M ip link set m1 up
	$A ip route add default via 10.77.1.254
	$A ip -6 route add default via fd77:1::fe
	$Bx ip route add default via 10.77.2.254
	$Bx ip -6 route add default via fd77:2::fe
	$M sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	$M nft -f - <<-'EOF'
	table inet mb {
		chain drop_frags {
			type filter hook forward priority 0;
			ip frag-off & 0x3fff != 0 counter drop
			exthdr frag exists counter drop
		}
	}
	EOF
}

# fakeike in a namespace, commands through a fifo: fake_start NAME NS ADDR
fake_start() {
	local g=$1 ns=$2 addr=$3
	mkfifo "$T/fake-$g.in"
	ip netns exec "$ns" "$B/fakeike" "$addr" <"$T/fake-$g.in" >"$T/fake-$g.log" 2>&1 &
	eval "exec {FAKE_$g}>\"$T/fake-$g.in\""
	for _ in $(seq 50); do grep -q ready "$T/fake-$g.log" && return 0; sleep 0.1; done
	return 1
}
fake_send() { local g=$1; shift; local fd="FAKE_$g"; echo "send $*" >&"${!fd}"; }
# count "recv" lines matching a regexp
fake_count() { grep -cE "^recv $2" "$T/fake-$1.log"; }
fake_wait() {
	local g=$1 re=$2 want=${3:-1}
	for _ in $(seq 100); do
		[ "$(fake_count "$g" "$re")" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

daemon_conf() {
	local g=$1
	shift
	printf '%s\n' "log-level debug" "$@" >"$T/iketcpd-$g.conf"
}
daemon_start() {
	local g=$1
	ip netns exec "br-$g" "$IKETCPD" -f -c "$T/iketcpd-$g.conf" -s "$T/ctl-$g" \
		>>"$T/iketcpd-$g.log" 2>&1 &
	echo $! >"$T/iketcpd-$g.pid"
	for _ in $(seq 50); do [ -S "$T/ctl-$g" ] && return 0; sleep 0.1; done
	return 1
}
daemon_stop() {
	local g=$1
	kill "$(cat "$T/iketcpd-$g.pid")" 2>/dev/null
	wait "$(cat "$T/iketcpd-$g.pid")" 2>/dev/null
	rm -f "$T/iketcpd-$g.pid" "$T/ctl-$g"
}
status() { ip netns exec "br-$1" "$CTL" -s "$T/ctl-$1" --json status; }
# a numeric field of one peer in the JSON status: stat GW PEER-ADDR KEY
stat() {
	status "$1" | grep -o "{\"remote\":\"$2\"[^}]*}" |
		grep -o "\"$3\":[0-9]*" | cut -d: -f2
}
counter() { status "$1" | grep -o "\"$2\":[0-9]*" | head -n1 | cut -d: -f2; }
wait_stat() {
	local g=$1 peer=$2 key=$3 want=$4
	for _ in $(seq 50); do
		[ "$(stat "$g" "$peer" "$key")" = "$want" ] && return 0
		sleep 0.2
	done
	echo "# $g $peer $key: $(stat "$g" "$peer" "$key"), wanted $want"
	return 1
}
conn_id() { ip netns exec "br-$1" "$CTL" conns | sed -n 's/^conn \([0-9]*\) .*active.*/\1/p' | head -n1; }

echo "TAP version 13"
ip link set lo up
topology

fake_start a br-a 10.77.1.1 && fake_start b br-b 10.77.2.1 &&
	fake_start a6 br-a fd77:1::1 && fake_start b6 br-b fd77:2::1
check "fake daemons started" test $? = 0

daemon_conf a "peer 10.77.2.0/24 tcp" "peer fd77:2::/64 tcp"
daemon_conf b "peer 10.77.1.0/24 tcp" "peer fd77:1::/64 tcp"
daemon_start a && daemon_start b
check "iketcpd started on both gateways" test $? = 0

# 1. A big IKE_SA_INIT from A arrives at B's daemon from A's address
# (with a NAT detection notify: both ends do NAT-T, A will move to 4500)
fake_send a 10.77.2.1 500 5000 2 34 08 0 0 a0a1a2a3a4a5a6a7 natd
check "tcp: 5000-byte request reaches the peer's daemon from 10.77.1.1:500" \
	fake_wait b "10.77.1.1 500 500 5000 2 34 8 0 0 0 1"
fake_send b 10.77.1.1 500 4000 2 34 20 0 b0b1b2b3b4b5b6b7
check "tcp: the response comes back (response follows request)" \
	fake_wait a "10.77.2.1 500 500 4000 2 34 20 0 b0b1b2b3b4b5b6b7 0 1"
check "one connection, opened by A" test "$(status a | grep -o '"opened_by":"us"' | wc -l)" = 1

# 2. The daemon's retransmission of a request on the live connection
fake_send a 10.77.2.1 4500 3000 2 35 08 1 b0b1b2b3b4b5b6b7
fake_wait b "10.77.1.1 4500 4500 3000 2 35 8 1" 1
fake_send a 10.77.2.1 4500 3000 2 35 08 1 b0b1b2b3b4b5b6b7
sleep 1
check "NAT-T port: arrives on 4500 with the marker" \
	test "$(fake_count b '10.77.1.1 4500 4500 3000 2 35 8 1 b0b1b2b3b4b5b6b7 1 1')" = 1
check "retransmission over a live connection is not sent again" wait_stat a 10.77.2.1 suppressed 1

# 3. The connection is killed: A reconnects and resends the outstanding request
id=$(conn_id b)
ip netns exec br-b "$CTL" close "$id"
check "after a reset A reconnects and resends the outstanding request" \
	fake_wait b "10.77.1.1 4500 4500 3000 2 35 8 1" 2
check "resent counter" wait_stat a 10.77.2.1 resent 1
fake_send b 10.77.1.1 4500 200 2 35 20 1 b0b1b2b3b4b5b6b7
check "the answer flows on the new connection" \
	fake_wait a "10.77.2.1 4500 4500 200 2 35 20 1"

# 4. A request from B (B is not the opener: it uses A's connection)
fake_send b 10.77.1.1 4500 300 2 37 00 7 b0b1b2b3b4b5b6b7
check "the responder side sends its own requests on the same connection" \
	fake_wait a "10.77.2.1 4500 4500 300 2 37 0 7"

# 5. IPv6, and the control: without iketcpd the message is lost
daemon_stop a
daemon_stop b
fake_send a6 fd77:2::1 500 5000 2 34 08 0 0 c0c1c2c3c4c5c6c7
sleep 1
check "control: without iketcpd a big IKE message is lost (fragments dropped)" \
	test "$(fake_count b6 'fd77:1::1')" = 0
daemon_start a && daemon_start b
fake_send a6 fd77:2::1 500 5000 2 34 08 0 0 c0c1c2c3c4c5c6c7
check "IPv6: with iketcpd the same message arrives" \
	fake_wait b6 "fd77:1::1 500 500 5000 2 34 8 0 0 0 1"

# 6. Policies (A's side; B keeps tcp)
daemon_conf a "peer 10.77.2.0/24 auth"
kill -HUP "$(cat "$T/iketcpd-a.pid")"
sleep 0.5
before=$(fake_count b '10.77.1.1 500 500 300 2 34')
fake_send a 10.77.2.1 500 300 2 34 08 0 0 d0d1d2d3d4d5d6d7
fake_wait b "10.77.1.1 500 500 300 2 34 8 0 0 0 1"
fake_send a 10.77.2.1 500 5000 2 35 08 1 e0e1e2e3e4e5e6e7 d0d1d2d3d4d5d6d7
fake_wait b "10.77.1.1 500 500 5000 2 35 8 1"
check "auth: IKE_SA_INIT over UDP, IKE_AUTH over TCP" \
	test "$(stat a 10.77.2.1 udp_out)" -ge 1

daemon_conf a "peer 10.77.2.0/24 init+auth"
kill -HUP "$(cat "$T/iketcpd-a.pid")"
sleep 0.5
u0=$(stat a 10.77.2.1 udp_out)
fake_send a 10.77.2.1 500 400 2 36 08 2 e0e1e2e3e4e5e6e7 d0d1d2d3d4d5d6d7
fake_wait b "10.77.1.1 500 500 400 2 36 8 2"
check "init+auth: CREATE_CHILD_SA over UDP" test "$(stat a 10.77.2.1 udp_out)" = $((u0 + 1))

daemon_conf a "peer 10.77.2.0/24 auto"
kill -HUP "$(cat "$T/iketcpd-a.pid")"
sleep 0.5
u0=$(stat a 10.77.2.1 udp_out) t0=$(stat a 10.77.2.1 tcp_out)
fake_send a 10.77.2.1 500 1000 2 37 08 3 e0e1e2e3e4e5e6e7 d0d1d2d3d4d5d6d7
fake_send a 10.77.2.1 500 3000 2 37 08 4 e0e1e2e3e4e5e6e7 d0d1d2d3d4d5d6d7
fake_wait b "10.77.1.1 500 500 3000 2 37 8 4"
check "auto: 1000 bytes over UDP, 3000 bytes (above the MTU) over TCP" \
	test "$(stat a 10.77.2.1 udp_out)" = $((u0 + 1)) -a "$(stat a 10.77.2.1 tcp_out)" -gt "$t0"

daemon_conf a "peer 10.77.2.0/24 fallback" "retransmit-threshold 2"
kill -HUP "$(cat "$T/iketcpd-a.pid")"
sleep 0.5
for i in 1 2 3; do
	fake_send a 10.77.2.1 500 5000 2 35 08 9 f0f1f2f3f4f5f6f7 f8f9fafbfcfdfeff
	sleep 0.3
done
check "fallback: after 2 unanswered retransmissions the peer moves to TCP" \
	fake_wait b "10.77.1.1 500 500 5000 2 35 8 9"
check "fallback: delivered once" test "$(fake_count b '10.77.1.1 500 500 5000 2 35 8 9')" = 1

# 7. Bad input: config errors, unknown peer, oversized message
printf 'peer 10.0.0.0/8 tcpp\nlisten 1.2.3\npeer 10.0.0.1/8 tcp\n' >"$T/bad.conf"
out=$($IKETCPD --check -c "$T/bad.conf" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
check "config errors name file:line and refuse to start" \
	bash -c "[ $rc = 1 ] && grep -q 'bad.conf:1: unknown policy' <<<\"$out\" && grep -q 'bad.conf:2:' <<<\"$out\" && grep -q 'bad.conf:3:' <<<\"$out\""
cp "$T/bad.conf" "$T/iketcpd-a.conf"
kill -HUP "$(cat "$T/iketcpd-a.pid")"
sleep 0.5
check "a bad reload keeps the previous configuration" \
	grep -q "configuration not reloaded" "$T/iketcpd-a.log"
$M bash -c 'exec 3<>/dev/tcp/10.77.2.1/500; sleep 0.5' 2>/dev/null
sleep 0.3
check "a TCP connection from an unknown peer is refused" \
	test "$(counter b refused)" -ge 1

echo "1..$n"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ $fail = 0 ]
