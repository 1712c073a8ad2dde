#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo-guest.sh - inside the VM (run through scripts/demo.sh): the mission in
# one readable run. Two unmodified strongSwan charons, 4096-bit RSA chains,
# fragmentation = no, a middlebox that drops every IP fragment:
#   1. over plain UDP the IKE_AUTH never gets through;
#   2. iketcpd on both gateways (charon untouched): the IKE SA and the CHILD
#      SA come up over TCP 500 and host-left pings host-right through ESP;
#   3. the CHILD SA rekeys over TCP; iketcpctl shows the connection.
# Every step prints the time it took. Exits non-zero if a step fails.

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=selftests/e2e/lib.sh
. selftests/e2e/lib.sh

CTL=build/userspace/iketcpctl
CONN=${IKETCP_DEMO_CONN:-ikev2-v4}
CONTROL_TIMEOUT=${IKETCP_DEMO_CONTROL_TIMEOUT:-20}
N=0 SUMMARY=()

trap 'e2e_cleanup >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM

say() { echo "$*"; }
now() { echo "${EPOCHREALTIME/./}"; }
# step <short label> <title>: a numbered heading, timed until done_/failed
step() {
	N=$((N + 1))
	STEP_LABEL=$1 STEP_T=$(now)
	printf '\n[%6ss] %d. %s\n' "$(e2e_since "$E2E_T0")" "$N" "$2"
}
took() { e2e_since "$STEP_T"; }
done_() { # <result line>
	local d
	d=$(took)
	printf '          -> %s (%s s)\n' "$1" "$d"
	SUMMARY+=("$(printf '%2d. %-44s %6s s' "$N" "$STEP_LABEL" "$d")")
}
failed() { # <what>
	printf '          -> FAILED: %s (%s s)\n' "$1" "$(took)"
	e2e_collect_logs demo
	exit 1
}
indent() { sed 's/^/             /'; }

say "iketcp demo: IKE over TCP 500 through a middlebox that drops IP fragments, then RFC 9329 where UDP is blocked"
say "kernel $(uname -r), $("$E2E_CHARON" --version 2>&1 | head -n 1), iketcp.ko $(grep -q '^iketcp ' /proc/modules && echo loaded || echo MISSING)"
say
printf '  %-11s %-13s %-15s %-14s %s\n' host-left gw-left middlebox gw-right host-right \
	"$E2E_HL4" "$E2E_GL4" "drops every" "$E2E_GR4" "$E2E_HR4" "" "" "IP fragment" "" ""
[ -f "$E2E_PKI/.stamp" ] || { echo "no PKI in $E2E_PKI (make selftests builds it)"; exit 1; }

rm -rf "$E2E_DIR" && mkdir -p "$E2E_DIR"
step "topology" "network namespaces, the fragment-dropping middlebox"
e2e_topology_up >/dev/null && e2e_mb_frag_drop on || failed "topology"
done_ "5 namespaces; nftables on the middlebox drops IPv4 and IPv6 fragments"

step "charons started" "two unmodified charons (RSA-4096 chain: root + 2 intermediates, fragmentation = no)"
e2e_charon_start gl gr >/dev/null && e2e_charon_load gl gr >/dev/null || failed "charon"
done_ "charon running in gw-left and gw-right, connections loaded"

step "control over UDP (fails, as it must)" "control: gw-left initiates $CONN over plain UDP (no iketcpd)"
e2e_log_mark gl
if e2e_initiate "$CONN" "$CONTROL_TIMEOUT" >/dev/null; then
	failed "the IKE SA came up over UDP: the middlebox did not bite"
fi
read -r dropped v4 v6 < <(e2e_mb_frag_dropped all)
sizes=$(e2e_sent_sizes gl)
rt=$(e2e_retransmits gl)
say "             charon sent datagrams of: $sizes bytes ($rt retransmissions)"
say "             the middlebox dropped $dropped fragments (IPv4 $v4, IPv6 $v6)"
[ "$dropped" -gt 0 ] || failed "no fragment was dropped"
done_ "no IKE SA after ${CONTROL_TIMEOUT} s: IKE_AUTH ($(e2e_max_sent gl) bytes) never arrived"
e2e_terminate "$CONN" >/dev/null 2>&1

step "iketcpd started" "iketcpd on both gateways, policy tcp (charon and its config untouched)"
e2e_iketcpd_start gl "log-level info" "peer $E2E_GR4 tcp" >/dev/null &&
	e2e_iketcpd_start gr "log-level info" "peer $E2E_GL4/32 tcp" >/dev/null ||
	failed "iketcpd"
say "             gw-left:  peer $E2E_GR4 tcp"
say "             gw-right: peer $E2E_GL4/32 tcp (listens on TCP 500)"
done_ "iketcpd captures charon's IKE datagrams to that peer in the module"

step "IKE SA + CHILD SA up over TCP" "gw-left initiates $CONN again: IKE_SA_INIT + IKE_AUTH over TCP 500"
e2e_mb_frag_drop on
e2e_log_mark gl
e2e_initiate "$CONN" 90 >/dev/null || failed "the IKE SA did not come up"
say "             charon sent: $(e2e_sent_sizes gl) bytes (as UDP; iketcpd carried them over TCP)"
say "             fragments dropped this time: $(e2e_mb_frag_dropped)"
done_ "IKE SA ESTABLISHED and CHILD SA INSTALLED on both gateways"

step "ping through the tunnel" "host-left pings host-right through the ESP tunnel"
out=$(ip netns exec e2e-hl ping -n -c 3 -i 0.2 -w 15 "$E2E_HR4" 2>&1)
rc=$?
grep -E 'transmitted' <<<"$out" | indent
[ $rc = 0 ] || failed "ping"
read -r nl pl < <(e2e_xfrm_stat gl)
say "             gw-left: $nl ESP states, $pl packets counted"
done_ "the tunnel carries traffic; ESP itself stays plain IP"

step "iketcpctl" "what iketcpd did (iketcpctl on gw-left)"
ip netns exec e2e-gl "$CTL" -s "$(e2e_iketcpd_ctl gl)" status 2>&1 | indent
ip netns exec e2e-gl "$CTL" conns 2>&1 | indent
done_ "one TCP connection per pair of gateways, counters per direction"

step "CHILD SA rekey over TCP" "CHILD SA rekey over TCP, then ping again"
e2e_rekey_child "$CONN" 60 >/dev/null && e2e_ping 4 >/dev/null || failed "rekey"
done_ "new CHILD SA installed, traffic flows"

step "TCP reset, reconnect, IKE SA rekey" "the TCP connection is reset mid-life (gw-right closes it)"
e2e_conn_reset gr >/dev/null || failed "iketcpctl close"
e2e_rekey_ike "$CONN" 60 >/dev/null && e2e_ping 4 >/dev/null || failed "rekey after the reset"
done_ "gw-left reconnected; the IKE SA rekeyed over the new connection"

e2e_terminate "$CONN" >/dev/null 2>&1

step "UDP blocked: RFC 9329" "the middlebox now drops every UDP datagram and ESP packet; iketcpd restarted with framing rfc9329"
e2e_iketcpd_stop
e2e_mb_tcp_only on
e2e_iketcpd_start gl "log-level info" "peer $E2E_GR4 tcp framing rfc9329" >/dev/null &&
	e2e_iketcpd_start gr "log-level info" "peer $E2E_GL4/32 tcp framing rfc9329" >/dev/null ||
	failed "iketcpd"
say "             gw-left:  peer $E2E_GR4 tcp framing rfc9329"
say "             gw-right: peer $E2E_GL4/32 tcp framing rfc9329 (listens on TCP 4500 too)"
e2e_initiate "$CONN" 90 >/dev/null || failed "the IKE SA did not come up over RFC 9329"
out=$(ip netns exec e2e-hl ping -n -c 3 -i 0.2 -w 15 "$E2E_HR4" 2>&1)
rc=$?
grep -E 'transmitted' <<<"$out" | indent
[ $rc = 0 ] || failed "ping over RFC 9329"
ip netns exec e2e-gl "$CTL" conns 2>&1 | indent
read -r udp esp < <(e2e_mb_tcp_only_dropped)
say "             the middlebox dropped $udp UDP datagrams and $esp ESP packets"
done_ "the tunnel came up over TCP 4500; its ESP travels in the same stream"
e2e_terminate "$CONN" >/dev/null 2>&1
e2e_mb_tcp_only off
e2e_iketcpd_stop
echo
echo "summary (in a TCG-emulated VM: real hardware is many times faster)"
printf '  %s\n' "${SUMMARY[@]}"
printf '  total %s s\n' "$(e2e_since "$E2E_T0")"
