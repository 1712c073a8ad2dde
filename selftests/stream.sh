#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stream.sh - iketcpd with RFC 9329's framing (TCP 4500, the "IKETCP"
# stream prefix, length-prefixed records), over a middlebox that lets only
# TCP through (every forwarded UDP datagram and IP ESP packet is dropped).
# Gateways A and B run the module, iketcpd and a fake IKE daemon (lib.sh's
# topology); the hostile tool plays a foreign RFC 9329 Originator (from the
# middlebox) and a libreswan-like Responder (one read of the 6-byte prefix).
# Checks: the prefix and the records on the wire both ways, the Responder's
# prefix rules (wrong, partial, missing, raw framing), ESP routed to the
# connection that earned the SA, only the Originator reconnecting after a
# reset, one connection per IKE SA, IPv6. TAP output.

cd "$(dirname "$0")/.." || exit 1
P=st
T=$(mktemp -d /tmp/stream.XXXXXX)
. selftests/lib.sh
trap lib_cleanup EXIT
H=$B/hostile

# "<udp> <esp>": what the TCP-only filter dropped
mb_dropped() {
	nsx m nft list table inet tcponly | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | tr '\n' ' '
}
# number of active connections of a gateway, all or to an address
active_conns() {
	nsx "$1" "$CTL" conns | grep -c "^conn .* -> ${2:-}.* rfc9329 active"
}
grep_file() { # <file> <regexp>: the file has a line that matches, within 10 s
	for _ in $(seq 100); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# $1:"
	sed 's/^/#   /' "$1" 2>/dev/null
	return 1
}
# a connection ended within [lo, hi] ms: its hostile output
ended_within() { # <file> <lo> <hi>
	local ms
	ms=$(sed -n 's/^\(closed\|reset\) after \([0-9]*\) ms/\2/p' "$1")
	echo "# $(tr '\n' ' ' <"$1")"
	[ -n "$ms" ] && [ "$ms" -ge "$2" ] && [ "$ms" -le "$3" ]
}
exchange() { # <msgid> <len>: a request A -> B and its response, over TCP
	fake_send a 10.77.2.1 500 "$2" 2 37 08 "$1" c0c1c2c3c4c5c6c7 b0b1b2b3b4b5b6b7
	fake_wait b "10.77.1.1 500 500 $2 2 37 8 $1 " || return 1
	fake_send b 10.77.1.1 500 "$2" 2 37 20 "$1" c0c1c2c3c4c5c6c7 b0b1b2b3b4b5b6b7
	fake_wait a "10.77.2.1 500 500 $2 2 37 20 $1 "
}

echo "TAP version 13"
ip link set lo up
topology
nsx b ip addr add 10.77.2.50/24 dev b0
nsx m nft -f - <<-'EOF'
	table inet tcponly {
		chain only_tcp {
			type filter hook forward priority 10;
			meta l4proto udp counter drop
			meta l4proto esp counter drop
		}
	}
EOF

fake_start a a 10.77.1.1 && fake_start b b 10.77.2.1
fake_start a6 a fd77:1::1 && fake_start b6 b fd77:2::1
daemon_conf a "peer 10.77.2.0/24 tcp framing rfc9329" \
	"peer fd77:2::/64 tcp framing rfc9329"
daemon_conf b "peer 10.77.1.0/24 tcp framing rfc9329" \
	"peer 10.77.2.0/24 tcp framing rfc9329" "peer fd77:1::/64 tcp framing rfc9329" \
	"listen 10.77.2.1 framing rfc9329" "listen fd77:2::1 framing rfc9329" \
	"listen 10.77.2.1" "first-message-timeout 3"
daemon_start a && daemon_start b
check "B listens on TCP 4500 (RFC 9329) and 500 (raw) as configured" \
	eval 'nsx b ss -Hltn | grep -q "10.77.2.1:4500" && nsx b ss -Hltn | grep -q "10.77.2.1:500"'

# The IKE SA: IKE_SA_INIT (no NAT) and IKE_AUTH, A initiates
fake_send a 10.77.2.1 500 600 2 34 08 0 0 b0b1b2b3b4b5b6b7 natd-ok
fake_wait b "10.77.1.1 500 500 600 2 34" &&
	fake_send b 10.77.1.1 500 600 2 34 20 0 c0c1c2c3c4c5c6c7 b0b1b2b3b4b5b6b7 natd-ok
check "IKE_SA_INIT over an RFC 9329 connection A -> B:4500" \
	fake_wait a "10.77.2.1 500 500 600 2 34 20 0 "
check "both ends of the connection are in RFC 9329 framing" \
	eval '[ "$(active_conns a 10.77.2.1)" = 1 ] && [ "$(active_conns b 10.77.1.1)" = 1 ]'
fake_send a 10.77.2.1 500 5000 2 35 08 1 c0c1c2c3c4c5c6c7 b0b1b2b3b4b5b6b7
fake_wait b "10.77.1.1 500 500 5000 2 35 8 1 " &&
	fake_send b 10.77.1.1 500 5000 2 35 20 1 c0c1c2c3c4c5c6c7 b0b1b2b3b4b5b6b7
check "IKE_AUTH of 5000 bytes both ways (it would be fragmented over UDP)" \
	fake_wait a "10.77.2.1 500 500 5000 2 35 20 1 "
esp_a=$(stat a 10.77.2.1 esp_conn) esp_b=$(stat b 10.77.1.1 esp_conn)
echo "# ESP carriers: A conn ${esp_a:-none}, B conn ${esp_b:-none}"
check "once authenticated, the connection carries the SA's ESP on both gateways" \
	eval '[ "${esp_a:-0}" -gt 0 ] && [ "${esp_b:-0}" -gt 0 ]'

# What the Originator writes: libreswan's responder reads the prefix with
# one read() of 6 bytes
ip netns exec $P-b "$H" accept 10.77.2.50 4500 8000 >"$T/accept.out" 2>&1 &
hpid=$!
grep_file "$T/accept.out" listening
fake_send a 10.77.2.50 500 400 2 34 08 0 0 d0d1d2d3d4d5d6d7
check "the Originator writes the 6-byte prefix first (one read of 6 bytes)" \
	grep_file "$T/accept.out" "^prefix 'IKETCP' in one read \(6 bytes\)"
check "then IKE_SA_INIT as a record: length 406 = 2 + 4 (non-ESP marker) + 400" \
	grep_file "$T/accept.out" "^record 406: ike 400 exch 34 flags 08 msgid 0$"
wait $hpid

# B as the Responder of a foreign Originator (the middlebox's address)
ip netns exec $P-m "$H" rfc9329 10.77.2.1 4500 6000 >"$T/orig.out" 2>&1 &
hpid=$!
fake_wait b "10.77.2.254 [0-9]+ 500 400 2 34 8 0 " &&
	fake_send b 10.77.2.254 500 300 2 34 20 0 c0c1c2c3c4c5c6c7 5a5a5a5a00000001
check "a foreign Originator's IKE_SA_INIT record reaches B's daemon" \
	fake_wait b "10.77.2.254 [0-9]+ 500 400 2 34 8 0 "
check "and the answer comes back on its connection as a record (306 = 2 + 4 + 300)" \
	grep_file "$T/orig.out" "^record 306: ike 300 exch 34 flags 20 msgid 0$"
wait $hpid

# The Responder's prefix rules (first-message-timeout 3 s)
bad0=$(counter b bad_prefix)
nsx m "$H" rfc9329 10.77.2.1 4500 6000 IKETCX >"$T/bad.out" 2>&1
check "a wrong prefix is closed at once" ended_within "$T/bad.out" 0 1500
nsx m "$H" send 10.77.2.1 4500 len:400 6000 >"$T/raw.out" 2>&1
check "a raw-framed IKE header on the RFC 9329 port is closed at once" \
	ended_within "$T/raw.out" 0 1500
check "both counted as bad prefixes" test "$(counter b bad_prefix)" = $((bad0 + 2))
nsx m "$H" rfc9329 10.77.2.1 4500 8000 IKE >"$T/half.out" 2>&1
check "half a prefix, then silence: closed after first-message-timeout" \
	ended_within "$T/half.out" 2500 6000
nsx m "$H" send 10.77.2.1 4500 silent 8000 >"$T/silent.out" 2>&1
check "no prefix at all: closed after first-message-timeout" \
	ended_within "$T/silent.out" 2500 6000
check "the two timeouts counted as bad prefixes too" wait_counter b bad_prefix $((bad0 + 4))
check "A's IKE SA is served meanwhile" exchange 2 3000

# A reset: only the Originator (A) reconnects; the SA goes on
c0=$(stat a 10.77.2.1 connects)
id=$(nsx b "$CTL" conns | sed -n 's/^conn \([0-9]*\) .* -> 10.77.1.1:.*active.*/\1/p' | head -n1)
nsx b "$CTL" close "$id"
check "B reset the connection: A (the Originator) reconnects" \
	wait_stat a 10.77.2.1 connects $((c0 + 1))
check "and A's new connection carries ESP at once" \
	eval 'for _ in $(seq 50); do e=$(stat a 10.77.2.1 esp_conn); [ "${e:-0}" -gt 0 ] && [ "$e" != "$esp_a" ] && break; sleep 0.1; done; [ "${e:-0}" -gt 0 ] && [ "$e" != "$esp_a" ]'
check "the SA's next exchange goes over the new connection" exchange 3 3000
check "B, the Responder, never opened a connection" test "$(stat b 10.77.1.1 connects)" = 0
e=$(stat b 10.77.1.1 esp_conn)
check "B's ESP moved to the new connection (the old one is gone)" \
	eval '[ "${e:-0}" -gt 0 ] && [ "$e" != "$esp_b" ]'

# One connection per IKE SA (RFC 9329 s6): a second IKE SA A starts
fake_send a 10.77.2.1 500 700 2 34 08 0 0 e0e1e2e3e4e5e6e7 natd-ok
check "a second IKE SA started by A gets a connection of its own" \
	eval 'fake_wait b "10.77.1.1 500 500 700 2 34 8 0 " && [ "$(active_conns a 10.77.2.1)" = 2 ]'
fake_send b 10.77.1.1 500 700 2 34 20 0 f0f1f2f3f4f5f6f7 e0e1e2e3e4e5e6e7 natd-ok
check "its answer comes back" fake_wait a "10.77.2.1 500 500 700 2 34 20 0 "
check "the first SA still has its own" exchange 4 2000

# IPv6
fake_send a6 fd77:2::1 500 800 2 34 08 0 0 a6a6a6a6a6a6a6a6 natd-ok
fake_wait b6 "fd77:1::1 500 500 800 2 34 8 0 " &&
	fake_send b6 fd77:1::1 500 800 2 34 20 0 b6b6b6b6b6b6b6b6 a6a6a6a6a6a6a6a6 natd-ok
check "IPv6: IKE_SA_INIT over an RFC 9329 connection to [fd77:2::1]:4500" \
	eval 'fake_wait a6 "fd77:2::1 500 500 800 2 34 20 0 " && [ "$(active_conns a "\[fd77:2::1\]")" = 1 ]'

read -r udp esp <<<"$(mb_dropped)"
echo "# the TCP-only middlebox dropped $udp UDP datagrams and $esp ESP packets"
check "nothing tried to cross the middlebox as UDP or ESP" \
	eval '[ "${udp:-x}" = 0 ] && [ "${esp:-x}" = 0 ]'
check "B's status lists the connections' framing and the SAs on them" \
	eval 'nsx b "$CTL" -s "$T/ctl-b" status | grep -q "conn [0-9]*: rfc9329, opened by the peer" &&
	      nsx b "$CTL" -s "$T/ctl-b" status | grep -q "^sa b0b1b2b3b4b5b6b7 peer 10.77.1.1: IKEv2, authenticated"'
totals
