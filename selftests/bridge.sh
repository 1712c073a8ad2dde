#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bridge.sh - iketcpd end to end with scriptable fake IKE daemons (fakeike)
# instead of charon: every routing rule of the bridge, deterministically.
#
# Topology (see lib.sh): gw A 10.77.1.1 / fd77:1::1 -- middlebox, which
# drops every IPv4 and IPv6 fragment -- gw B 10.77.2.1 / fd77:2::1.
# fakeike plays the IKE daemon on each gateway (UDP 500 and 4500);
# iketcpd runs on both. TAP.

cd "$(dirname "$0")/.." || exit 1
P=br
T=$(mktemp -d /tmp/bridge.XXXXXX)
. selftests/lib.sh
trap lib_cleanup EXIT

echo "TAP version 13"
ip link set lo up
topology

fake_start a a 10.77.1.1 && fake_start b b 10.77.2.1 &&
	fake_start a6 a fd77:1::1 && fake_start b6 b fd77:2::1
check "fake daemons started" test $? = 0

daemon_conf a "peer 10.77.2.0/24 tcp" "peer fd77:2::/64 tcp"
daemon_conf b "peer 10.77.1.0/24 tcp" "peer fd77:1::/64 tcp"
daemon_start a && daemon_start b
check "iketcpd started on both gateways" test $? = 0

# 1. A big IKE_SA_INIT from A arrives at B's daemon from A's address
# (with NAT detection notifies that find a NAT: both ends move to 4500)
fake_send a 10.77.2.1 500 5000 2 34 08 0 0 a0a1a2a3a4a5a6a7 natd-nat
check "tcp: 5000-byte request reaches the peer's daemon from 10.77.1.1:500" \
	fake_wait b "10.77.1.1 500 500 5000 2 34 8 0 0 0 1"
fake_send b 10.77.1.1 500 4000 2 34 20 0 b0b1b2b3b4b5b6b7 a0a1a2a3a4a5a6a7 natd-ok
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
nsx b "$CTL" close "$id"
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

# 4b. The status of a peer, and iketcpctl metrics: the exposition format
# parses (prom-check.awk) and its counters are the JSON status's. B's
# `close` reset A's first connection: one aborted connection each side.
peer_up() {
	status a | grep -q '"remote":"10.77.2.1"[^}]*"link":"up"[^}]*"conn_up_s":[0-9][^}]*"last_in_s":[0-9][^}]*"last_out_s":[0-9]'
}
check "status: A's peer is up, its connection's uptime and last messages known" peer_up
check "status: the reset counts as an aborted connection on both sides" \
	test "$(stat a 10.77.2.1 resets)" = 1 -a "$(stat b 10.77.1.1 resets)" = 1 \
	-a "$(stat a 10.77.2.1 conns_ended)" = 1 -a "$(stat a 10.77.2.1 conns_open)" = 1
check "status: TCP bytes each way counted (10000+ bytes sent by A)" \
	test "$(stat a 10.77.2.1 tcp_out_bytes)" -ge 10000 -a "$(stat a 10.77.2.1 tcp_in_bytes)" -ge 4000
PROMCHECK=userspace/tests/prom-check.awk
# prom_val FILE SERIES: the value of one sample
prom_val() { awk -v s="$2" 'index($0, s " ") == 1 { print $NF }' "$1"; }
PA='peer="10.77.2.1",local="10.77.1.1",framing="raw"'
# prom_ok FILE: prom-check.awk in strict mode, its verdict as a TAP comment
prom_ok() {
	awk -v strict=1 -f "$PROMCHECK" "$1" | sed 's/^/# /'
	return "${PIPESTATUS[0]}"
}
nsx a "$CTL" -s "$T/ctl-a" status | sed -n '/^peer 10.77.2.1:/,/^  conn /s/^/# /p'
nsx a "$CTL" -s "$T/ctl-a" metrics >"$T/metrics-a.prom" 2>"$T/metrics-a.err"
check "metrics: exit 0" test $? = 0
grep "^iketcp_peer_[a-z_]*{$PA} " "$T/metrics-a.prom" | sed 's/^/# /'
check "metrics: the Prometheus text format parses (prom-check.awk, strict)" \
	prom_ok "$T/metrics-a.prom"
check "metrics: iketcpd and the module answered" \
	test "$(prom_val "$T/metrics-a.prom" iketcp_daemon_up)" = 1 \
	-a "$(prom_val "$T/metrics-a.prom" iketcp_module_up)" = 1
check "metrics: A's tcp_out and resets are the JSON status's" \
	test "$(prom_val "$T/metrics-a.prom" "iketcp_peer_tcp_out_messages_total{$PA}")" = "$(stat a 10.77.2.1 tcp_out)" \
	-a "$(prom_val "$T/metrics-a.prom" "iketcp_peer_connection_resets_total{$PA}")" = 1 \
	-a "$(prom_val "$T/metrics-a.prom" "iketcp_peer_state{$PA,state=\"up\"}")" = 1
kid=$(conn_id a)
check "metrics: the module's per-connection rx_msgs is iketcpctl conns's" \
	test "$(awk -v s="iketcp_conn_rx_messages_total{conn=\"$kid\"," 'index($0, s) == 1 { print $NF }' "$T/metrics-a.prom")" = \
	"$(nsx a "$CTL" --json conns | grep -o "{\"id\":$kid,[^}]*" | grep -o '"rx_msgs":[0-9]*' | cut -d: -f2)"
nsx a "$CTL" -s "$T/ctl-a" -o "$T/prom/iketcp.prom" metrics 2>/dev/null
check "metrics -o: a missing directory fails (exit 1)" test $? = 1
mkdir "$T/prom"
nsx a "$CTL" -s "$T/ctl-a" -o "$T/prom/iketcp.prom" metrics 2>/dev/null
check "metrics -o: the file written (mode 644), no temporary file left" \
	test "$(command stat -c %a "$T/prom/iketcp.prom")" = 644 -a "$(ls -A "$T/prom")" = iketcp.prom

# 5. IPv6, and the control: without iketcpd the message is lost
daemon_stop a
daemon_stop b
nsx a "$CTL" -s "$T/ctl-a" metrics >"$T/metrics-a0.prom" 2>/dev/null
check "metrics without iketcpd: exit 0, iketcp_daemon_up 0, the module's counters" \
	test $? = 0 -a "$(prom_val "$T/metrics-a0.prom" iketcp_daemon_up)" = 0 \
	-a "$(prom_val "$T/metrics-a0.prom" iketcp_module_up)" = 1 \
	-a "$(grep -c '^iketcp_peer_' "$T/metrics-a0.prom")" = 0
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
daemon_reload a
before=$(fake_count b '10.77.1.1 500 500 300 2 34')
fake_send a 10.77.2.1 500 300 2 34 08 0 0 d0d1d2d3d4d5d6d7
fake_wait b "10.77.1.1 500 500 300 2 34 8 0 0 0 1"
# B's daemon answers (over UDP: the request came over UDP)
fake_send b 10.77.1.1 500 300 2 34 20 0 e0e1e2e3e4e5e6e7 d0d1d2d3d4d5d6d7
fake_wait a "10.77.2.1 500 500 300 2 34 20 0 e0e1e2e3e4e5e6e7"
fake_send a 10.77.2.1 500 5000 2 35 08 1 e0e1e2e3e4e5e6e7 d0d1d2d3d4d5d6d7
fake_wait b "10.77.1.1 500 500 5000 2 35 8 1"
check "auth: IKE_SA_INIT over UDP, IKE_AUTH over TCP" \
	test "$(stat a 10.77.2.1 udp_out)" -ge 1

daemon_conf a "peer 10.77.2.0/24 init+auth"
daemon_reload a
u0=$(stat a 10.77.2.1 udp_out)
fake_send a 10.77.2.1 500 400 2 36 08 2 e0e1e2e3e4e5e6e7 d0d1d2d3d4d5d6d7
fake_wait b "10.77.1.1 500 500 400 2 36 8 2"
check "init+auth: CREATE_CHILD_SA over UDP" test "$(stat a 10.77.2.1 udp_out)" = $((u0 + 1))

daemon_conf a "peer 10.77.2.0/24 auto"
daemon_reload a
u0=$(stat a 10.77.2.1 udp_out) t0=$(stat a 10.77.2.1 tcp_out)
fake_send a 10.77.2.1 500 1000 2 37 08 3 e0e1e2e3e4e5e6e7 d0d1d2d3d4d5d6d7
fake_send a 10.77.2.1 500 3000 2 37 08 4 e0e1e2e3e4e5e6e7 d0d1d2d3d4d5d6d7
fake_wait b "10.77.1.1 500 500 3000 2 37 8 4"
check "auto: 1000 bytes over UDP, 3000 bytes (above the MTU) over TCP" \
	test "$(stat a 10.77.2.1 udp_out)" = $((u0 + 1)) -a "$(stat a 10.77.2.1 tcp_out)" -gt "$t0"

daemon_conf a "peer 10.77.2.0/24 fallback" "retransmit-threshold 2"
daemon_reload a
# a new IKE SA: IKE_SA_INIT answered over UDP, then a big IKE_AUTH
fake_send a 10.77.2.1 500 300 2 34 08 0 0 f8f9fafbfcfdfeff
fake_wait b "10.77.1.1 500 500 300 2 34 8 0 0 0 1" 2
fake_send b 10.77.1.1 500 300 2 34 20 0 f0f1f2f3f4f5f6f7 f8f9fafbfcfdfeff
fake_wait a "10.77.2.1 500 500 300 2 34 20 0 f0f1f2f3f4f5f6f7"
for i in 1 2 3; do
	fake_send a 10.77.2.1 500 5000 2 35 08 9 f0f1f2f3f4f5f6f7 f8f9fafbfcfdfeff
	sleep 0.3
done
# (an IKEv2 SA B did not see set up: B's daemon gets it on the NAT-T port)
check "fallback: after 2 unanswered retransmissions the peer moves to TCP" \
	fake_wait b "10.77.1.1 [0-9]+ [0-9]+ 5000 2 35 8 9 "
check "fallback: delivered once" test "$(fake_count b '10.77.1.1 [0-9]+ [0-9]+ 5000 2 35 8 9 ')" = 1

# 7. The first connection between two gateways opened for IKE_AUTH: the
# IKE_SA_INIT went over UDP (policy auth; fallback after dropped fragments)
# and B's iketcpd, fresh, knows no SA of A's address. The SPIs of B's UDP
# answer admit the connection; the right SPIi with a wrong SPIr does not.
fresh_start() { # both iketcpds restarted without their state files
	daemon_stop a
	daemon_stop b
	rm -f "$T/ctl-a.state" "$T/ctl-b.state"
	daemon_start a && daemon_start b
}
# A set-up answered over UDP: <version> <exchange> <request flags>
# <response flags> <SPIi> <SPIr> <how many such requests B got by then>
setup_over_udp() {
	fake_send a 10.77.2.1 500 300 "$1" "$2" "$3" 0 0 "$5"
	fake_wait b "10.77.1.1 500 500 300 $1 $2 $(printf %x $((0x$3))) 0 0 0 1" "$7"
	fake_send b 10.77.1.1 500 300 "$1" "$2" "$4" 0 "$6" "$5"
	fake_wait a "10.77.2.1 500 500 300 $1 $2 $(printf %x $((0x$4))) 0 $6"
}
daemon_conf a "peer 10.77.2.0/24 auth"
daemon_conf b "peer 10.77.1.0/24 auth"
fresh_start
r0=$(counter b first_refused)
setup_over_udp 2 34 08 20 1a1b1c1d1e1f1011 2a2b2c2d2e2f2021 3
fake_send a 10.77.2.1 500 5000 2 35 08 1 2a2b2c2d2e2f2020 1a1b1c1d1e1f1011
check "a first message with the SA's SPIi but another SPIr is refused" \
	wait_counter b first_refused $((${r0:-0} + 1))
fake_send a 10.77.2.1 500 5000 2 35 08 1 2a2b2c2d2e2f2021 1a1b1c1d1e1f1011
check "IKE_SA_INIT answered over UDP: the first connection, for IKE_AUTH, is accepted" \
	fake_wait b "10.77.1.1 500 500 5000 2 35 8 1 2a2b2c2d2e2f2021"
fake_send b 10.77.1.1 500 3000 2 35 20 1 2a2b2c2d2e2f2021 1a1b1c1d1e1f1011
check "... and the IKE_AUTH response comes back over TCP" \
	fake_wait a "10.77.2.1 500 500 3000 2 35 20 1 2a2b2c2d2e2f2021"
check "the wrong SPIr was never delivered" \
	test "$(fake_count b '10.77.1.1 [0-9]+ [0-9]+ 5000 2 35 8 1 2a2b2c2d2e2f2020')" = 0

# ... and IKEv1: Main Mode 1-4 over UDP, 5 and 6 over TCP on a first
# connection (B's answer, message 2, carried the responder cookie)
fresh_start
setup_over_udp 1 2 00 00 3a3b3c3d3e3f3031 4a4b4c4d4e4f4041 1
fake_send a 10.77.2.1 500 5000 1 2 01 0 4a4b4c4d4e4f4041 3a3b3c3d3e3f3031
check "IKEv1: Main Mode 2 answered over UDP, message 5 opens the first connection" \
	fake_wait b "10.77.1.1 500 500 5000 1 2 1 0 4a4b4c4d4e4f4041"
fake_send b 10.77.1.1 500 3000 1 2 01 0 4a4b4c4d4e4f4041 3a3b3c3d3e3f3031
check "IKEv1: ... and message 6 comes back over TCP" \
	fake_wait a "10.77.2.1 500 500 3000 1 2 1 0 4a4b4c4d4e4f4041"

# 8. Bad input: config errors, unknown peer, oversized message
printf 'peer 10.0.0.0/8 tcpp\nlisten 1.2.3\npeer 10.0.0.1/8 tcp\n' >"$T/bad.conf"
out=$($IKETCPD --check -c "$T/bad.conf" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
check "config errors name file:line and refuse to start" \
	bash -c "[ $rc = 1 ] && grep -q 'bad.conf:1: unknown policy' <<<\"$out\" && grep -q 'bad.conf:2:' <<<\"$out\" && grep -q 'bad.conf:3:' <<<\"$out\""
cp "$T/bad.conf" "$T/iketcpd-a.conf"
daemon_reload a
check "a bad reload keeps the previous configuration" \
	grep -q "configuration not reloaded" "$T/iketcpd-a.log"
nsx m bash -c 'exec 3<>/dev/tcp/10.77.2.1/500; sleep 0.5' 2>/dev/null
sleep 0.3
check "a TCP connection from an unknown peer is refused" \
	test "$(counter b refused)" -ge 1

totals
