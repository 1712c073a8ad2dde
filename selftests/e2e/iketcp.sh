#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# iketcp.sh - the mission, end to end: two unmodified strongSwan charons
# with 4096-bit certificate chains and fragmentation = no, separated by a
# middlebox that drops every IPv4 and IPv6 fragment. Runs as root in the
# VM (scripts/vmrun.sh -- selftests/e2e/iketcp.sh); needs the PKI from
# selftests/e2e/pki.sh (run on the host). TAP output.
#
# - control: without iketcpd, IKE_AUTH never completes;
# - with iketcpd on both gateways, policy tcp: IKEv2 and IKEv1 (Main Mode),
#   IPv4 and IPv6, with and without a CGN in front of gw-left: the IKE SA
#   and the CHILD SA come up, host-left pings host-right through ESP, the
#   IKE and CHILD SAs rekey;
# - the TCP connection reset mid-life, and iketcpd restarted: the SA lives
#   on (it rekeys afterwards);
# - the policies auth, init+auth, auto and fallback, each with what goes
#   over UDP and what over TCP checked in iketcpd's counters.
#
# Set E2E_QUICK=1 for the short matrix (IKEv2/IKEv1 over IPv4, NAT, the
# faults and the policies, without the IPv6 and IKEv1-NAT repeats).

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=selftests/e2e/lib.sh
. selftests/e2e/lib.sh

UP_TIMEOUT=${E2E_UP_TIMEOUT:-90}
CONTROL_TIMEOUT=${E2E_CONTROL_TIMEOUT:-20}
CTL=build/userspace/iketcpctl
if [ "${E2E_QUICK:-0}" = 1 ]; then
	TCP_CONNS=(ikev2-v4 ikev1-v4 ikev2-nat)
else
	TCP_CONNS=(ikev2-v4 ikev2-v6 ikev1-v4 ikev1-v6 ikev2-nat ikev1-nat)
fi
REKEY=(ikev2-v4 ikev1-v4 ikev2-nat)
POLICIES=(auth init+auth auto fallback)

trap 'e2e_cleanup' EXIT
trap 'exit 130' INT TERM

# setup 2 + control 1 + per conn 3 (+1 NAT, +2 rekey, +1 IKEv2 rekey's
# fast path) + faults 4 + per policy 3
nat=0 rk=0 rk2=0
for c in "${TCP_CONNS[@]}"; do
	case $c in *nat) nat=$((nat + 1)) ;; esac
	for r in "${REKEY[@]}"; do
		[ "$r" = "$c" ] || continue
		rk=$((rk + 1))
		case $c in ikev2*) rk2=$((rk2 + 1)) ;; esac
	done
done
e2e_tap_plan $((2 + 1 + 3 * ${#TCP_CONNS[@]} + nat + 2 * rk + rk2 + 4 + 3 * ${#POLICIES[@]}))
e2e_log "kernel $(uname -r), $("$E2E_CHARON" --version 2>&1 | head -n 1)"

rm -rf "$E2E_DIR" && mkdir -p "$E2E_DIR"
[ -f "$E2E_PKI/.stamp" ] || e2e_bail "no PKI in $E2E_PKI: run selftests/e2e/pki.sh on the host"
failed_setup() {
	e2e_collect_logs iketcp
	e2e_tap_finish
	exit 1
}
e2e_check "topology and both charons up; the middlebox drops every fragment" \
	eval 'e2e_step "topology" e2e_topology_up && e2e_step "charon start" e2e_charon_start gl gr &&
	      e2e_step "swanctl --load-all" e2e_charon_load gl gr && e2e_mb_frag_drop on' ||
	failed_setup

family() {
	case ${E2E_CONNS[$1]} in
	*" 6") echo 6 ;;
	*) echo 4 ;;
	esac
}

# iketcpd configuration for both gateways with one policy
iketcpd_lines_gl() {
	echo "peer $E2E_GR4 $1"
	echo "peer $E2E_GR6 $1"
	echo "retransmit-threshold 2"
}
iketcpd_lines_gr() {
	echo "peer $E2E_GL4/32 $1"
	echo "peer $E2E_MB_R4/32 $1"
	echo "peer $E2E_GL6/128 $1"
}
iketcpd_start_gw() { # <gw> <policy>: one config line per argument
	local IFS=$'\n'
	# shellcheck disable=SC2046
	e2e_iketcpd_start "$1" $("iketcpd_lines_$1" "$2")
}
iketcpd_up() { # <policy>
	iketcpd_start_gw gl "$1" && iketcpd_start_gw gr "$1"
}
iketcpd_policy() { # <policy>: reload both with another policy
	local IFS=$'\n'
	# shellcheck disable=SC2046
	e2e_iketcpd_reload gl $(iketcpd_lines_gl "$1") &&
		e2e_iketcpd_reload gr $(iketcpd_lines_gr "$1") && sleep 1
}
# a counter of gw-left's iketcpd for its peer (gw-right, or the CGN view)
gl_stat() { # <key>
	ip netns exec e2e-gl "$CTL" -s "$(e2e_iketcpd_ctl gl)" --json status |
		grep -o "\"$1\":[0-9]*" | cut -d: -f2 | paste -sd+ | bc
}
through_cgn() {
	local out
	out=$(e2e_swanctl gr --list-sas --ike "$1" 2>&1)
	grep -q "remote .* @ $E2E_MB_R4\[" <<<"$out" && grep -q 'TUNNEL-in-UDP' <<<"$out"
}
# a counter of gw-right's iketcpd, summed over its peers
gr_stat() { # <key>
	ip netns exec e2e-gr "$CTL" -s "$(e2e_iketcpd_ctl gr)" --json status |
		grep -o "\"$1\":[0-9]*" | cut -d: -f2 | paste -sd+ | bc
}
# messages gw-right's module delivered by itself (the fast path)
gr_fast() {
	ip netns exec e2e-gr "$CTL" --json netns | grep -o '"fast_msgs":[0-9]*' | cut -d: -f2
}
rekey_and_ping() { # <what> <conn>
	"e2e_rekey_$1" "$2" 60 && e2e_ping "$(family "$2")"
}
up_and_ping() { # <conn>
	e2e_initiate "$1" "$UP_TIMEOUT" && e2e_ping "$(family "$1")"
}

# ---- control: no iketcpd, fragments dropped
e2e_log_mark gl gr
if e2e_step "control: initiate ikev2-v4 over plain UDP" e2e_initiate ikev2-v4 "$CONTROL_TIMEOUT"; then
	e2e_notok "control: over plain UDP IKE_AUTH never completes"
else
	read -r dropped _ < <(e2e_mb_frag_dropped all)
	e2e_log "control: the middlebox dropped $dropped fragments"
	e2e_check "control: over plain UDP IKE_AUTH never completes ($dropped fragments dropped)" \
		test "$dropped" -gt 0
fi
e2e_terminate ikev2-v4 >/dev/null 2>&1

e2e_check "iketcpd started on both gateways (policy tcp)" e2e_step "iketcpd start" iketcpd_up tcp ||
	failed_setup

# ---- policy tcp: the matrix
for c in "${TCP_CONNS[@]}"; do
	if e2e_check "$c over TCP: IKE and CHILD SA up, host-left pings host-right through ESP" \
		e2e_step "initiate $c and ping" up_and_ping "$c"; then
		case $c in
		*nat) e2e_check "$c: gw-right sees the CGN address, ESP stays UDP-encapsulated" through_cgn "$c" ;;
		esac
		for r in "${REKEY[@]}"; do
			[ "$r" = "$c" ] || continue
			fast0=$(gr_fast)
			e2e_check "$c: CHILD SA rekeyed over TCP, traffic flows" \
				e2e_step "rekey CHILD $c" rekey_and_ping child "$c"
			e2e_check "$c: IKE SA rekeyed over TCP, traffic flows" \
				e2e_step "rekey IKE $c" rekey_and_ping ike "$c"
			# gw-left's requests on the established SA (the old CHILD
			# SA's delete, the IKE rekey) skipped gw-right's iketcpd
			case $c in
			ikev2*)
				e2e_check "$c: gw-right's kernel delivered requests of the established SA itself (fast path: $fast0 -> $(gr_fast))" \
					test "$(gr_fast)" -gt "$fast0"
				;;
			esac
		done
		e2e_check "$c: iketcpd carried it (TCP messages both ways, no IKE over UDP)" \
			test "$(gl_stat tcp_out)" -gt 0 -a "$(gl_stat tcp_in)" -gt 0 \
				-a "$(gl_stat udp_out)" = 0 -a "$(gr_stat udp_out)" = 0
	else
		e2e_collect_logs "iketcp-$c"
		e2e_notok "$c: iketcpd carried it"
		case $c in *nat) e2e_skip "$c: through the CGN" "not established" ;; esac
		for r in "${REKEY[@]}"; do
			[ "$r" = "$c" ] || continue
			e2e_skip "$c: CHILD rekey" "not established"
			e2e_skip "$c: IKE rekey" "not established"
			case $c in ikev2*) e2e_skip "$c: fast path" "not established" ;; esac
		done
	fi
	e2e_check "$c: terminated on both gateways" e2e_terminate "$c"
done

# ---- faults: the SA outlives the TCP connection and iketcpd
if up_and_ping ikev2-v4; then
	e2e_conn_reset gr
	e2e_check "TCP connection reset mid-life: the CHILD SA rekeys afterwards" \
		e2e_step "rekey CHILD after the reset" rekey_and_ping child ikev2-v4 ||
		e2e_collect_logs iketcp-reset
	e2e_check "... and the IKE SA too" e2e_step "rekey IKE after the reset" rekey_and_ping ike ikev2-v4
	e2e_iketcpd_stop gl
	iketcpd_start_gw gl tcp
	e2e_check "iketcpd restarted on gw-left: the SA lives on and rekeys" \
		e2e_step "rekey CHILD after the restart" rekey_and_ping child ikev2-v4 ||
		e2e_collect_logs iketcp-restart-gl
	e2e_iketcpd_stop gr
	iketcpd_start_gw gr tcp
	e2e_check "iketcpd restarted on gw-right: the SA lives on and rekeys" \
		e2e_step "rekey IKE after the restart" rekey_and_ping ike ikev2-v4 ||
		e2e_collect_logs iketcp-restart-gr
else
	e2e_collect_logs iketcp-faults
	for _ in 1 2 3 4; do e2e_skip "faults" "ikev2-v4 not established"; done
fi
e2e_terminate ikev2-v4 >/dev/null 2>&1

# ---- the other policies (IKEv2 over IPv4)
for pol in "${POLICIES[@]}"; do
	iketcpd_policy "$pol"
	u0=$(gl_stat udp_out) t0=$(gl_stat tcp_out)
	e2e_log_mark gl gr
	if e2e_check "policy $pol: ikev2-v4 comes up, traffic flows" \
		e2e_step "initiate ikev2-v4 ($pol)" up_and_ping ikev2-v4; then
		du=$(($(gl_stat udp_out) - u0)) dt=$(($(gl_stat tcp_out) - t0))
		e2e_log "policy $pol: gw-left sent $du messages over UDP, $dt over TCP"
		case $pol in
		auth|auto) want="test $du -ge 1 -a $dt -ge 1" ;;	# IKE_SA_INIT UDP, IKE_AUTH TCP
		init+auth) want="test $du = 0 -a $dt -ge 2" ;;
		fallback) want="test $du -ge 2 -a $dt -ge 1" ;;	# UDP tries, then TCP
		esac
		# shellcheck disable=SC2086
		e2e_check "policy $pol: the right messages went over UDP and over TCP" $want
		if [ "$pol" = init+auth ]; then
			u1=$(gl_stat udp_out)
			e2e_check "policy init+auth: the CHILD SA rekey goes over UDP" \
				eval 'rekey_and_ping child ikev2-v4 && [ $(gl_stat udp_out) -gt '"$u1"' ]'
		else
			e2e_check "policy $pol: the CHILD SA rekeys" rekey_and_ping child ikev2-v4
		fi
	else
		e2e_collect_logs "iketcp-$pol"
		e2e_skip "policy $pol: transports" "not established"
		e2e_skip "policy $pol: rekey" "not established"
	fi
	e2e_terminate ikev2-v4 >/dev/null 2>&1
done

e2e_iketcpd_stop
e2e_tap_finish
