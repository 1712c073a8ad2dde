#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# channels.sh - which connection carries what, and how, with scriptable
# fake IKE daemons (fakeike) and iketcpd on two gateways (topology: lib.sh):
#
# - IKE's own TCP connection bypasses IPsec: a CHILD SA covering both
#   gateways' addresses, installed on one side only (the responder after it
#   answered IKE_AUTH), must not capture the connection (issue 10 s1), nor
#   its close a policy left without SA;
# - the ports a message is delivered with come from what the daemons do,
#   not from one daemon's habits (issue 10 s2);
# - a new connection must earn an IKE SA's traffic: a silent intruder on
#   the peer's own address, or one with an IKE SA of its own, gets nothing
#   of the peer's SA (review: channel takeover);
# - retransmission suppression never turns a loss into a permanent one;
# - reconnect attempts stop when nothing is left to carry;
# - the fallback policy's move to TCP does not last for ever.
# TAP.

cd "$(dirname "$0")/.." || exit 1
P=ch
T=$(mktemp -d /tmp/channels.XXXXXX)
. selftests/lib.sh
trap lib_cleanup EXIT
ATK=(ip netns exec "$P-a" "$B/hostile")
K16=0x000102030405060708090a0b0c0d0e0f
K32=${K16}101112131415161718191a1b1c1d1e1f

echo "TAP version 13"
ip link set lo up
topology
modprobe -q -a xfrm_user esp4 esp6 authenc 2>/dev/null

restart() { # restart both iketcpd (configurations written before)
	daemon_stop a
	daemon_stop b
	daemon_start a && daemon_start b
}

fake_start a a 10.77.1.1 && fake_start b b 10.77.2.1 &&
	fake_start a6 a fd77:1::1 && fake_start b6 b fd77:2::1
check "fake daemons started" test $? = 0

# ---- 1. a CHILD SA covering both gateways, on gw B only
# B's kernel encrypts everything to A and accepts only ESP from A; A has
# no SA yet. The IKE messages (and their TCP connection) must pass in clear.
covering_sa() { # <B's address> <A's address>
	nsx b ip xfrm state add src "$1" dst "$2" proto esp spi 0x100 mode transport \
		enc 'cbc(aes)' $K16 auth-trunc 'hmac(sha256)' $K32 128 &&
	nsx b ip xfrm state add src "$2" dst "$1" proto esp spi 0x200 mode transport \
		enc 'cbc(aes)' $K16 auth-trunc 'hmac(sha256)' $K32 128 &&
	nsx b ip xfrm policy add src "$1" dst "$2" dir out \
		tmpl src "$1" dst "$2" proto esp mode transport &&
	nsx b ip xfrm policy add src "$2" dst "$1" dir in \
		tmpl src "$2" dst "$1" proto esp mode transport
}
daemon_conf a "peer 10.77.2.0/24 tcp" "peer fd77:2::/64 tcp"
daemon_conf b "peer 10.77.1.0/24 tcp" "peer fd77:1::/64 tcp"
daemon_start a && daemon_start b
check "iketcpd started on both gateways" test $? = 0
covering_sa 10.77.2.1 10.77.1.1 && covering_sa fd77:2::1 fd77:1::1
check "B has transport-mode SAs and policies covering both gateways" test $? = 0
fake_send a 10.77.2.1 500 3000 2 34 08 0 0 1011121314151617
check "covering SA on B: A's IKE_SA_INIT reaches B's daemon over TCP" \
	fake_wait b "10.77.1.1 500 500 3000 2 34 8 0"
fake_send b 10.77.1.1 500 3000 2 34 20 0 2021222324252627 1011121314151617
check "covering SA on B: B's response reaches A (the connection bypasses the SA)" \
	fake_wait a "10.77.2.1 500 500 3000 2 34 20 0 2021222324252627"
fake_send a6 fd77:2::1 500 3000 2 34 08 0 0 3031323334353637
fake_wait b6 "fd77:1::1 500 500 3000 2 34 8 0" &&
	fake_send b6 fd77:1::1 500 3000 2 34 20 0 4041424344454647 3031323334353637 &&
	fake_wait a6 "fd77:2::1 500 500 3000 2 34 20 0 4041424344454647"
check "covering SA on B, IPv6: both ways over TCP" test $? = 0
id=$(conn_id b)
nsx b "$CTL" close "$id" >/dev/null
fake_send a 10.77.2.1 500 3000 2 37 08 1 2021222324252627 1011121314151617
check "a connection made while the covering SA exists works too" \
	fake_wait b "10.77.1.1 [0-9]+ [0-9]+ 3000 2 37 8 1"
nsx b ip xfrm policy flush
nsx b ip xfrm state flush

# ... and so does its close: B's policy still covers A but its SA is gone
# (the tunnel just went down; a trap policy), and iketcpd stops on B. The
# peer here closes its side 0.5 s after B's FIN (socat's -t; any peer
# slower than a delayed ACK): the ACK that answers its FIN must leave from
# the connection's own socket. (A timewait socket's ACKs leave from the
# netns' TCP control socket, which has no bypass: dropped, an ACQUIRE each,
# the peer stuck in LAST-ACK.) A's iketcpd stops first: the SYNs of its
# reconnects would get RSTs from that control socket too (a kernel matter
# no listener changes), and their ACQUIRE would hide the one that matters.
daemon_stop a
nsx b ip xfrm policy add src 10.77.2.1 dst 10.77.1.1 dir out \
	tmpl src 10.77.2.1 dst 10.77.1.1 proto esp mode transport
printf '\x01\x02\x03\x04\x05\x06\x07\x08\0\0\0\0\0\0\0\0\0\x20\x22\x08\0\0\0\0\0\0\0\x1c' \
	>"$T/init28.bin"
{ cat "$T/init28.bin"; sleep 8; } |
	nsx a socat -t 0.5 - TCP:10.77.2.1:500,bind=10.77.1.1 >/dev/null 2>&1 &
slow=$!
fake_wait b "10.77.1.1 500 500 28 2 34 8 0 0"
sport=$(nsx a ss -Htnp state established dst 10.77.2.1:500 | grep socat |
	awk '{ n = split($3, a, ":"); print a[n] }')
nsx b ip xfrm monitor acquire >"$T/acquire.txt" 2>&1 &
mon=$!
sleep 0.3
daemon_stop b
sleep 2
lastack=$(nsx a ss -Htn state last-ack dst 10.77.2.1:500 | grep -c ":${sport:-x} ")
kill "$mon" 2>/dev/null
wait "$mon" 2>/dev/null
acq=$(grep -c "proto tcp sport 500 dport ${sport:-x} " "$T/acquire.txt")
echo "# the slow peer's connection (port ${sport:-?}): in LAST-ACK after B stopped: $lastack; ACQUIREs for it: $acq (all: $(grep -c '^acquire' "$T/acquire.txt"))"
check "iketcpd stops under a covering policy without SA: a slow peer's close completes" \
	test -n "$sport" -a "$lastack" = 0
check "... and triggers no ACQUIRE" test -n "$sport" -a "$acq" = 0
kill "$slow" 2>/dev/null
nsx b ip xfrm policy flush
daemon_start a && daemon_start b

# ---- 2. ports from what the daemons do
# A daemon that supports NAT-T but stays on 500 without a NAT (pluto):
# its IKE_AUTH from 500 arrives from 500 (not on 4500: charon's habit)
restart
fake_send a 10.77.2.1 500 600 2 34 08 0 0 5051525354555657 natd-ok
fake_wait b "10.77.1.1 500 500 600 2 34 8 0" &&
	fake_send b 10.77.1.1 500 600 2 34 20 0 6061626364656667 5051525354555657 natd-ok &&
	fake_wait a "10.77.2.1 500 500 600 2 34 20 0 6061626364656667"
fake_send a 10.77.2.1 500 3000 2 35 08 1 6061626364656667 5051525354555657
check "no NAT, the initiator stays on 500: IKE_AUTH arrives from 500 to 500" \
	fake_wait b "10.77.1.1 500 500 3000 2 35 8 1 6061626364656667 0"
fake_send b 10.77.1.1 500 2000 2 35 20 1 6061626364656667 5051525354555657
check "... and its response comes back on 500" \
	fake_wait a "10.77.2.1 500 500 2000 2 35 20 1 6061626364656667 0"
# A daemon that moves to 4500 without a NAT (charon): the responder is
# not told a move no NAT made; the initiator gets its own ports back
fake_send a 10.77.2.1 500 600 2 34 08 0 0 7071727374757677 natd-ok
fake_wait b "10.77.1.1 500 500 600 2 34 8 0 0" 2 &&
	fake_send b 10.77.1.1 500 600 2 34 20 0 8081828384858687 7071727374757677 natd-ok &&
	fake_wait a "10.77.2.1 500 500 600 2 34 20 0 8081828384858687"
fake_send a 10.77.2.1 4500 3000 2 35 08 1 8081828384858687 7071727374757677
fake_wait b "10.77.1.1 500 500 3000 2 35 8 1 8081828384858687 0" &&
	fake_send b 10.77.1.1 500 2000 2 35 20 1 8081828384858687 7071727374757677
check "no NAT, the initiator moved to 4500: its response comes back on 4500" \
	fake_wait a "10.77.2.1 4500 4500 2000 2 35 20 1 8081828384858687 1"
# Behind a NAT (A's NAT detection hash names another address) both move
fake_send a 10.77.2.1 500 600 2 34 08 0 0 90919293949596a7 natd-nat
fake_wait b "10.77.1.1 500 500 600 2 34 8 0 0" 3 &&
	fake_send b 10.77.1.1 500 600 2 34 20 0 a0a1a2a3a4a5a6b7 90919293949596a7 natd-ok &&
	fake_wait a "10.77.2.1 500 500 600 2 34 20 0 a0a1a2a3a4a5a6b7"
fake_send a 10.77.2.1 4500 3000 2 35 08 1 a0a1a2a3a4a5a6b7 90919293949596a7
check "NAT detected: IKE_AUTH arrives on 4500 with the non-ESP marker" \
	fake_wait b "10.77.1.1 4500 4500 3000 2 35 8 1 a0a1a2a3a4a5a6b7 1"

# ---- 3. a new connection must earn an IKE SA's traffic
# The legitimate SA: IKE_SA_INIT, IKE_AUTH, an INFORMATIONAL, all answered
restart
legit_sa() {
	fake_send a 10.77.2.1 500 600 2 34 08 0 0 c0c1c2c3c4c5c6c7 &&
	fake_wait b "10.77.1.1 500 500 600 2 34 8 0 0" 4 &&
	fake_send b 10.77.1.1 500 600 2 34 20 0 d0d1d2d3d4d5d6d7 c0c1c2c3c4c5c6c7 &&
	fake_wait a "10.77.2.1 500 500 600 2 34 20 0 d0d1d2d3d4d5d6d7" &&
	fake_send a 10.77.2.1 500 3000 2 35 08 1 d0d1d2d3d4d5d6d7 c0c1c2c3c4c5c6c7 &&
	fake_wait b "10.77.1.1 500 500 3000 2 35 8 1 d0d1d2d3d4d5d6d7" &&
	fake_send b 10.77.1.1 500 2000 2 35 20 1 d0d1d2d3d4d5d6d7 c0c1c2c3c4c5c6c7 &&
	fake_wait a "10.77.2.1 500 500 2000 2 35 20 1 d0d1d2d3d4d5d6d7" &&
	fake_send a 10.77.2.1 500 300 2 37 08 2 d0d1d2d3d4d5d6d7 c0c1c2c3c4c5c6c7 &&
	fake_wait b "10.77.1.1 500 500 300 2 37 8 2 d0d1d2d3d4d5d6d7" &&
	fake_send b 10.77.1.1 500 300 2 37 20 2 d0d1d2d3d4d5d6d7 c0c1c2c3c4c5c6c7 &&
	fake_wait a "10.77.2.1 500 500 300 2 37 20 2 d0d1d2d3d4d5d6d7"
}
check "a legitimate IKE SA between A and B" legit_sa
# B's daemon sends a request of that SA while an intruder on A's own
# address holds a connection to B (B sees the same pair of addresses)
b_request() { # <msgid>: B's request of the legitimate SA reaches A's daemon
	fake_send b 10.77.1.1 500 1500 2 37 00 "$1" d0d1d2d3d4d5d6d7 c0c1c2c3c4c5c6c7
	fake_wait a "10.77.2.1 500 500 1500 2 37 0 $1 d0d1d2d3d4d5d6d7"
}
"${ATK[@]}" hold 10.77.2.1 500 4000 10.77.1.1 >"$T/intruder1.out" &
intr=$!
sleep 1
check "a silent intruder on the peer's address: B's request still reaches the peer" \
	b_request 10
wait $intr
echo "# silent intruder: $(cat "$T/intruder1.out")"
check "... and the silent intruder got nothing" \
	grep -q '^received 0 bytes' "$T/intruder1.out"
"${ATK[@]}" hold 10.77.2.1 500 5000 10.77.1.1 init >"$T/intruder2.out" &
intr=$!
# the intruder's own IKE_SA_INIT reaches B's daemon (from A's address),
# which answers it: that earns the intruder its own SA, nothing more
fake_wait b "10.77.1.1 500 500 400 2 34 8 0 0" 1 &&
	fake_send b 10.77.1.1 500 400 2 34 20 0 e0e1e2e3e4e5e6e7 5a5a5a5a00000000
sleep 1
check "an intruder with an IKE SA of its own: B's request of the peer's SA reaches the peer" \
	b_request 11
wait $intr
echo "# intruder with its own SA: $(cat "$T/intruder2.out")"
check "... and the intruder received only the answer to its own request (400 bytes)" \
	grep -q '^received 400 bytes' "$T/intruder2.out"

# ---- 4. retransmission suppression never makes a loss permanent
# B accepts 1 message/s (bursts of 2) from a connection: of three requests
# sent at once the third is dropped. A's daemon retransmits it: the first
# retransmission on the live connection is held back, the next is sent.
daemon_conf b "peer 10.77.1.0/24 tcp" "max-rate 1"
restart
fake_send a 10.77.2.1 500 600 2 34 08 0 0 f0f1f2f3f4f5f6f7
fake_wait b "10.77.1.1 500 500 600 2 34 8 0 0" 5 &&
	fake_send b 10.77.1.1 500 600 2 34 20 0 f8f9fafbfcfdfeff f0f1f2f3f4f5f6f7 &&
	fake_wait a "10.77.2.1 500 500 600 2 34 20 0 f8f9fafbfcfdfeff"
sleep 2.5
# three IKE SAs' requests at once (of SAs set up before A's iketcpd ran)
for m in 1 2 3; do
	fake_send a 10.77.2.1 500 1000 2 37 08 $m 0${m}000000000000ff 0${m}000000000000ee
done
sleep 1
dropped=$(counter b rate_dropped)
echo "# B dropped ${dropped:-?} of the three requests (over its max-rate)"
check "B's max-rate dropped some of the burst" test "${dropped:-0}" -ge 1
sleep 1.5
# the daemon's retransmissions, each SA on its own timer
for _ in 1 2; do
	for m in 1 2 3; do
		fake_send a 10.77.2.1 500 1000 2 37 08 $m 0${m}000000000000ff 0${m}000000000000ee
		sleep 1.2
	done
done
check "every request reaches B's daemon after the daemon's retransmissions" \
	bash -c "for m in 1 2 3; do grep -qE '^recv 10.77.1.1 500 500 1000 2 37 8 '\$m' ' $T/fake-b.log || exit 1; done"

# ---- 5. reconnect attempts stop when nothing is left to carry
daemon_conf a "peer 10.77.2.0/24 tcp port 5555" "hold-time 2" "reconnect-max 1"
daemon_conf b "peer 10.77.1.0/24 tcp"
restart
fake_send a 10.77.2.1 500 600 2 34 08 0 0 0102030405060708
sleep 5
f1=$(stat a 10.77.2.1 connect_failures)
sleep 4
f2=$(stat a 10.77.2.1 connect_failures)
echo "# connect failures to a dead port: ${f1:-?} after 5 s, ${f2:-?} after 9 s"
check "connection attempts to a dead peer stop once nothing waits (hold-time)" \
	test -n "$f1" -a "$f1" = "$f2"

# ---- 6. fallback's move to TCP ends with the TCP traffic
daemon_conf a "peer 10.77.2.0/24 fallback" "retransmit-threshold 2" "idle-timeout 3"
restart
for _ in 1 2 3; do
	fake_send a 10.77.2.1 500 5000 2 34 08 0 0 1112131415161718
	sleep 0.3
done
check "fallback: after 2 unanswered retransmissions the peer moves to TCP" \
	fake_wait b "10.77.1.1 500 500 5000 2 34 8 0 0"
sleep 5
u0=$(stat a 10.77.2.1 udp_out)
fake_send a 10.77.2.1 500 300 2 34 08 0 0 2122232425262728
sleep 1
u1=$(stat a 10.77.2.1 udp_out)
check "fallback: after idle-timeout without TCP traffic, UDP first again (udp_out ${u0:-?} -> ${u1:-?})" \
	test -n "$u1" -a "${u1:-0}" -gt "${u0:-0}"

totals
