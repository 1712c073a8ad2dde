#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# udp.sh - validate the end-to-end harness with plain UDP, no iketcpd. Runs
# as root in the VM:  scripts/vmrun.sh --timeout 1200 -- selftests/e2e/udp.sh
# Needs the PKI from selftests/e2e/pki.sh (run on the host). TAP output.
#
# (a) fragments pass the middlebox: each connection (IKEv2 and IKEv1 Main
#     Mode, over IPv4, IPv6 and IPv4 through the CGN) comes up with its
#     single-datagram IKE_AUTH / MM5-6 bigger than the MTU, host-left pings
#     host-right through ESP, the SAs are in the kernel; the IPv4
#     connections are rekeyed (CHILD SA, IKE SA) and still carry traffic.
# (b) the control: with every fragment dropped, IKEv2 IKE_AUTH and IKEv1
#     Main Mode 5/6 never complete (the big message is sent and
#     retransmitted in vain), and the middlebox counted the dropped
#     fragments. Then fragments pass again and IKEv2 comes up once more.
#
# The topology and both charons are set up once and reused throughout.

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=selftests/e2e/lib.sh
. selftests/e2e/lib.sh

CONNS=(ikev2-v4 ikev2-v6 ikev1-v4 ikev1-v6 ikev2-nat ikev1-nat)
REKEY=(ikev2-v4 ikev1-v4)
CONTROL=(ikev2-v4 ikev1-v4)
UP_TIMEOUT=${E2E_UP_TIMEOUT:-90}
CONTROL_TIMEOUT=${E2E_CONTROL_TIMEOUT:-20}
# IKE messages that must have been sent as one datagram bigger than this
BIG=4000

trap 'e2e_cleanup' EXIT
trap 'exit 130' INT TERM

# 2 set-up + per connection (up, ping, sizes, down) + 1 per NAT connection
# + 2 per rekey + 1 fragment filter + 3 per control + 1 final
e2e_tap_plan $((2 + 4 * ${#CONNS[@]} + 2 + 2 * ${#REKEY[@]} + 1 + 3 * ${#CONTROL[@]} + 1))
e2e_log "kernel $(uname -r), $("$E2E_CHARON" --version 2>&1 | head -n 1)"

failed_setup() {
	e2e_collect_logs udp
	e2e_tap_finish
	exit 1
}

rm -rf "$E2E_DIR" && mkdir -p "$E2E_DIR"
if [ ! -f "$E2E_PKI/.stamp" ]; then
	e2e_bail "no PKI in $E2E_PKI: run selftests/e2e/pki.sh on the host"
fi
e2e_check "topology: five namespaces, gateways reach each other over IPv4, IPv6 and the CGN" \
	eval 'e2e_step "topology" e2e_topology_up && e2e_step "topology check" e2e_topology_check' ||
	failed_setup
e2e_check "charon: both gateways started, vici answers, swanctl.conf loaded" \
	eval 'e2e_step "charon start (both, until vici answers)" e2e_charon_start gl gr &&
	      e2e_step "swanctl --load-all (both)" e2e_charon_load gl gr' ||
	failed_setup

family() { # <conn>: 4 or 6 for the tunnelled traffic
	case ${E2E_CONNS[$1]} in
	*" 6") echo 6 ;;
	*) echo 4 ;;
	esac
}

big_messages() { # <conn>: both gateways sent one datagram > BIG bytes
	local l la r ra
	e2e_log_scan gl
	l=$E2E_SENT_MAX la=$E2E_SENT_ALL
	e2e_log_scan gr
	r=$E2E_SENT_MAX ra=$E2E_SENT_ALL
	e2e_log "$1: largest datagram sent: gw-left $l bytes, gw-right $r bytes (all: gw-left $la; gw-right $ra)"
	[ "$l" -gt $BIG ] && [ "$r" -gt $BIG ]
}

through_cgn() { # <conn>: gw-right sees the CGN's address, ESP is UDP-encapsulated
	# (not the CGN's counter: NAT rules see only the first packet of a flow,
	# and the flows of the previous NAT connection may still be tracked)
	local out
	out=$(e2e_swanctl gr --list-sas --ike "$1" 2>&1)
	grep -q "remote .* @ $E2E_MB_R4\[" <<<"$out" && grep -q 'TUNNEL-in-UDP' <<<"$out"
}

rekey_and_ping() { # <what> <conn>
	"e2e_rekey_$1" "$2" 60 && e2e_ping "$(family "$2")"
}

# ---- (a) fragments pass
e2e_mb_frag_drop off
for c in "${CONNS[@]}"; do
	what="$c (IKEv${E2E_CONNS[$c]%% *}, $(case $c in *nat) echo "IPv4 via the CGN" ;; *v6) echo IPv6 ;; *) echo IPv4 ;; esac))"
	e2e_log_mark gl gr
	if e2e_check "$what: SAs established on both gateways" \
		e2e_step "initiate $c" e2e_initiate "$c" "$UP_TIMEOUT"; then
		e2e_check "$c: host-left pings host-right (IPv$(family "$c")) through ESP, ESP states in the kernel" \
			e2e_ping "$(family "$c")"
		e2e_check "$c: IKE_AUTH / Main Mode 5-6 sent as single datagrams > $BIG bytes" \
			big_messages "$c"
		case $c in
		*nat) e2e_check "$c: gw-right sees the CGN address $E2E_MB_R4, ESP in UDP" through_cgn "$c" ;;
		esac
		for r in "${REKEY[@]}"; do
			[ "$r" = "$c" ] || continue
			e2e_check "$c: CHILD SA rekeyed (new SPI in the kernel), traffic still flows" \
				e2e_step "rekey CHILD SA $c" rekey_and_ping child "$c"
			e2e_check "$c: IKE SA rekeyed (new SPI), traffic still flows" \
				e2e_step "rekey IKE SA $c" rekey_and_ping ike "$c"
		done
	else
		e2e_collect_logs udp
		e2e_skip "$c: ping through ESP" "not established"
		e2e_skip "$c: message sizes" "not established"
		case $c in *nat) e2e_skip "$c: through the CGN" "not established" ;; esac
		for r in "${REKEY[@]}"; do
			[ "$r" = "$c" ] || continue
			e2e_skip "$c: CHILD SA rekey" "not established"
			e2e_skip "$c: IKE SA rekey" "not established"
		done
	fi
	e2e_check "$c: terminated, no SA and no ESP state left" e2e_step "terminate $c" e2e_terminate "$c"
done

# ---- (b) the control: fragments dropped
e2e_mb_frag_drop on
e2e_check "middlebox: fragmented IPv4 and IPv6 pings dropped and counted, small ones pass" \
	e2e_mb_frag_check
for c in "${CONTROL[@]}"; do
	e2e_mb_frag_drop on
	e2e_log_mark gl gr
	if e2e_step "initiate $c, fragments dropped (up to ${CONTROL_TIMEOUT}s)" \
		e2e_initiate "$c" "$CONTROL_TIMEOUT"; then
		e2e_notok "$c with fragments dropped: never established"
	else
		# it got as far as sending the big message (and retransmitting
		# it), and is not established
		ok=1
		e2e_sa_established gl "$c" && ok=0
		e2e_log_scan gl
		e2e_log "$c: gw-left retransmitted $E2E_RETRANSMITS times, largest datagram $E2E_SENT_MAX bytes (all: $E2E_SENT_ALL)"
		[ "$E2E_SENT_MAX" -gt $BIG ] && [ "$E2E_RETRANSMITS" -gt 0 ] || ok=0
		if [ $ok = 1 ]; then
			e2e_ok "$c with fragments dropped: never established"
		else
			e2e_notok "$c with fragments dropped: never established"
		fi
	fi
	read -r dropped v4 v6 < <(e2e_mb_frag_dropped all)
	e2e_log "$c: the middlebox dropped $dropped fragments (IPv4 $v4, IPv6 $v6)"
	e2e_check "$c with fragments dropped: the middlebox counted dropped fragments" test "$dropped" -gt 0
	e2e_check "$c with fragments dropped: half-open SAs cleaned up on both gateways" \
		e2e_step "terminate $c" e2e_terminate "$c"
done

# ---- fragments pass again
e2e_mb_frag_drop off
again() {
	e2e_initiate ikev2-v4 "$UP_TIMEOUT" && e2e_ping 4 && e2e_terminate ikev2-v4
}
e2e_check "fragments pass again: ikev2-v4 comes up, carries traffic, goes down" \
	e2e_step "ikev2-v4 again" again

if [ "$E2E_FAIL" != 0 ]; then
	E2E_LOG_TAIL=60 e2e_collect_logs udp
elif [ "${E2E_KEEP_LOGS:-0}" = 1 ]; then
	e2e_save_logs udp
fi
e2e_log "total run time"
e2e_tap_finish
