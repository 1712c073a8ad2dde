#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# interop.sh [--cell CELL]... [--list] [--iperf-time S]
#
# RFC 9329 interoperability. libreswan 4.10's pluto with its own TCP
# (enable-tcp=yes, tcp-remoteport=4500, --listen-tcp: Linux espintcp) and
# an unmodified charon behind iketcp (iketcpd `framing rfc9329`: the module
# carries IKE and ESP in the stream), through a middlebox that passes only
# TCP (every UDP datagram and IP ESP packet is dropped) and delivers it in
# segments of one MSS, as a wire to a NIC without GRO (e2e_mb_segments:
# Linux espintcp drops forwarded packets decapsulated from GSO skbs). Needs a kernel with
# CONFIG_INET_ESPINTCP: scripts/vmrun.sh --kernel espintcp -- this script
# (scripts/debug-kernel.sh espintcp builds it); the PKI of pki.sh and
# libreswan unpacked by scripts/setup.sh. TAP output, a table at the end.
#
# A cell is "LEFT RIGHT FAM": gw-left initiates; LEFT, RIGHT: native
# (pluto, its own TCP) | iketcp (charon + iketcpd); FAM 4 | 6. "native
# native" is the baseline (espintcp on both sides, no iketcp), "iketcp
# iketcp" iketcp's own ESP-in-TCP. Checks per cell: the IKE and CHILD SA
# come up over TCP and a ping crosses; the ESP went through the stream (the
# module's counters on an iketcp gateway; the middlebox passes nothing
# else); an iperf3 TCP run through the tunnel (throughput in the table);
# CHILD and IKE rekeys with traffic after each; with an iketcp gateway, its
# connection reset (RST): between two iketcps the Originator reconnects
# under the SA (a CHILD rekey and traffic after it); against pluto, which
# neither reopens a connection nor moves an SA to a new one, what iketcp
# must do (as Responder: not connect back, keep the SA; as Originator:
# reconnect with the prefix, which pluto accepts); terminate leaves nothing.

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=selftests/e2e/lib.sh
. selftests/e2e/lib.sh

CELLS=()
LIST=0
IPERF_TIME=5
while [ $# -gt 0 ]; do
	case $1 in
	--cell) CELLS+=("$2"); shift 2 ;;
	--list) LIST=1; shift ;;
	--iperf-time) IPERF_TIME=$2; shift 2 ;;
	-h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "interop.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ ${#CELLS[@]} -gt 0 ] || CELLS=(
	"native native 4"
	"iketcp iketcp 4"
	"native iketcp 4"
	"iketcp native 4"
	"native iketcp 6"
	"iketcp native 6"
)
if [ $LIST = 1 ]; then
	printf '%s\n' "${CELLS[@]}"
	exit 0
fi
UP_TIMEOUT=${E2E_UP_TIMEOUT:-90}
CTL=$E2E_IKETCPCTL

cell_checks() { # <cell>
	local l r n=6 # up, ESP in the stream, iperf3, CHILD rekey, IKE rekey, terminate
	read -r l r _ <<<"$1"
	[ "$l $r" != "native native" ] && n=$((n + 1)) # reset
	echo $n
}
plan=1
for c in "${CELLS[@]}"; do
	plan=$((plan + $(cell_checks "$c")))
done
e2e_tap_plan "$plan"
e2e_log "kernel $(uname -r), $("$E2E_CHARON" --version 2>&1 | head -n 1), $("$E2E_LSW_BIN/pluto" --version 2>/dev/null | cut -d' ' -f1-2), iketcpd $E2E_IKETCPD"
trap 'e2e_cleanup' EXIT
trap 'exit 130' INT TERM

CELL_PASS=() CELL_FAIL=() CELL_TIME=() CELL_NAME=() CELL_MBPS=()
CI=0 CUR=
check() { e2e_cell_check "$@"; }

rm -rf "$E2E_DIR" && mkdir -p "$E2E_DIR"
[ -f "$E2E_PKI/.stamp" ] || e2e_bail "no PKI in $E2E_PKI: run selftests/e2e/pki.sh on the host"
why=$(e2e_pluto_available) || e2e_bail "$why"
command -v iperf3 >/dev/null || e2e_bail "iperf3 is not installed (scripts/setup.sh installs it)"
grep -q ' espintcp_sendmsg' /proc/kallsyms 2>/dev/null ||
	e2e_bail "this kernel ($(uname -r)) has no espintcp: boot scripts/vmrun.sh --kernel espintcp"
if ! e2e_check "topology up, the middlebox passes only TCP, in segments of one MSS" \
	eval 'e2e_step "topology" e2e_topology_up && e2e_step "topology check" e2e_topology_check &&
	      e2e_pin_neighbours && e2e_mb_tcp_only on && e2e_mb_segments on'; then
	e2e_collect_logs interop
	e2e_tap_finish
	exit 1
fi

side() { # <gw> <native|iketcp>: that gateway's daemon (and iketcpd)
	local gw=$1 kind=$2 o4=$E2E_GL4 o6=$E2E_GL6
	[ "$gw" = gl ] && o4=$E2E_GR4 o6=$E2E_GR6
	e2e_iketcpd_stop "$gw"
	if [ "$kind" = native ]; then
		# (pluto restarts for a change of its TCP listener)
		e2e_pluto_stop "$gw"
		e2e_daemon_start "$gw" pluto
	else
		e2e_daemon_start "$gw" charon || return 1
		rm -f "$(e2e_iketcpd_ctl "$gw").state"
		e2e_iketcpd_start "$gw" "peer $o4 tcp framing rfc9329" \
			"peer $o6 tcp framing rfc9329" || return 1
	fi
}
esp_in_stream() { # <left kind> <right kind>
	local gw tx rx ok=0 drops states kind
	drops=$(e2e_mb_tcp_only_dropped)
	for gw in gl gr; do
		kind=$1
		[ "$gw" = gr ] && kind=$2
		if [ "$kind" = native ]; then
			# espintcp: the SAs are TCP-encapsulated (encap type espintcp)
			states=$(ip -n "e2e-$gw" xfrm state 2>/dev/null | grep -c "encap type espintcp")
			e2e_log "$gw (native): $states xfrm states with espintcp encapsulation"
			[ "$states" -ge 2 ] || ok=1
		else
			tx=$(e2e_conn_sum "$gw" esp_tx_pkts) rx=$(e2e_conn_sum "$gw" esp_rx_pkts)
			e2e_log "$gw (iketcp): ESP in the stream tx $tx rx $rx packets"
			[ "$tx" -gt 0 ] && [ "$rx" -gt 0 ] || ok=1
		fi
	done
	e2e_log "middlebox dropped (udp esp): $drops"
	return $ok
}
iperf() { # <fam>: iperf3 TCP from the host behind gw-left to the one behind gw-right
	e2e_iperf "$1" "$IPERF_TIME" || { iperf_diag; return 1; }
	CELL_MBPS[CI]=$E2E_IPERF_MBPS
}
iperf_diag() { # what the gateways counted
	local gw
	for gw in gl gr; do
		e2e_log "$gw: $(ip netns exec "e2e-$gw" "$CTL" conns 2>&1 | tr '\n' ' ')"
		e2e_log "$gw xfrm: $(ip -n "e2e-$gw" -s xfrm state 2>&1 | grep -E 'encap|lifetime current|bytes|proto esp|replay-window' | tr -s ' \n' ' ' | cut -c1-900)"
		e2e_log "$gw dropped (dev rx/tx): $(e2e_link_drops "$gw")"
		e2e_log "$gw nstat: $(ip netns exec "e2e-$gw" nstat -az 2>/dev/null | grep -E 'XfrmIn|XfrmOut|IpOutDiscards|IpFragFails|Udp(In|Out)Errors|TcpExtTCPTimeouts' | awk '$2 != 0 { printf "%s=%s ", $1, $2 }')"
	done
	e2e_log "middlebox dropped (udp esp): $(e2e_mb_tcp_only_dropped)"
}
reset_tcp() { # <gw>: abort its connection (RST), let the peers notice
	e2e_conn_reset "$1" && sleep 2
}
# (the cell's connection name and spec: F_NAME F_SPEC, as matrix.sh does)
fault_reset() { # <gw>
	reset_tcp "$1" && e2e_step "rekey CHILD after the reset" e2e_d_rekey_ping child "$F_NAME" "$F_SPEC"
}
connects() { # <gw>: connections its iketcpd opened (all peers)
	e2e_json_sum "$(ip netns exec "e2e-$1" "$CTL" -s "$(e2e_iketcpd_ctl "$1")" --json status 2>/dev/null)" connects
}
# pluto 4.10 neither reopens its connection after a reset (as the
# Originator) nor answers on a new one (as the Responder: it keeps the SA on
# the old socket): against it, the reset checks what iketcp must do
fault_reset_pluto_originator() { # <iketcp gw>: iketcp is the Responder
	local c0 c1
	c0=$(connects "$1")
	reset_tcp "$1" || return 1
	sleep 5
	c1=$(connects "$1")
	e2e_log "$1 opened $((c1 - c0)) connections after the reset; pluto's log: $(grep -h -o 'reading packet failed: [A-Za-z ]*' "$E2E_DIR"/g?/pluto.log | tail -n1)"
	[ "$c1" = "$c0" ] && e2e_d_established "$1" "$F_NAME"
}
reconnected_to_pluto() {
	[ "$(connects "$R_GW")" -gt "$R_C0" ] && [ "$(grep -c "IKETCP ACCEPTED" "$R_PL")" -gt "$R_A0" ]
}
fault_reset_pluto_responder() { # <iketcp gw>: iketcp is the Originator
	local c0 pl
	c0=$(connects "$1")
	pl=$E2E_DIR/gl/pluto.log
	[ "$1" = gl ] && pl=$E2E_DIR/gr/pluto.log
	local a0
	a0=$(grep -c "IKETCP ACCEPTED" "$pl")
	reset_tcp "$1" || return 1
	R_GW=$1 R_C0=$c0 R_PL=$pl R_A0=$a0
	e2e_wait 30 reconnected_to_pluto || return 1
	e2e_log "$1 reconnected ($(($(connects "$1") - c0)) connections); pluto accepted $(($(grep -c "IKETCP ACCEPTED" "$pl") - a0)) with the prefix; pluto then: $(grep -h -o 'send on [^ ]* from [^ ]* to [^ ]* using TCP failed[^(]*' "$pl" | tail -n1)"
}
run_cell() { # <cell>
	local l r fam spec name n i
	read -r l r fam <<<"$1"
	spec="2 $fam net" name="rfc-$fam"
	CUR="$l->$r IPv$fam"
	n=$(cell_checks "$1")
	e2e_log "==== cell $CUR"
	E2E_PLUTO_TCP=""
	[ "$l" = native ] && E2E_PLUTO_TCP+=" gl"
	[ "$r" = native ] && E2E_PLUTO_TCP+=" gr"
	export E2E_PLUTO_TCP
	if ! e2e_step "gateways $l / $r" eval 'side gl "$l" && side gr "$r"' ||
	   ! e2e_d_conf gl "$name" "$spec" || ! e2e_d_conf gr "$name" "$spec"; then
		e2e_collect_logs "interop-setup"
		check "set-up (daemons, iketcpd)" false
		for ((i = 1; i < n; i++)); do e2e_skip "$CUR: check $((i + 1))" "the set-up failed"; done
		return
	fi
	if ! check "IKE and CHILD SA up over TCP, traffic through ESP" e2e_step "initiate" e2e_d_up_ping "$name" "$spec" "$UP_TIMEOUT"; then
		e2e_collect_logs "interop-up"
		for ((i = 1; i < n - 1; i++)); do e2e_skip "$CUR: check $((i + 1))" "not established"; done
		check "terminated on both gateways" e2e_d_terminate "$name"
		return
	fi
	check "the ESP went through the TCP stream" esp_in_stream "$l" "$r" || e2e_collect_logs "interop-esp"
	check "iperf3 through ESP-in-TCP" e2e_step "iperf3" iperf "$fam"
	check "CHILD SA rekeyed, traffic flows" e2e_step "rekey CHILD" e2e_d_rekey_ping child "$name" "$spec" ||
		e2e_collect_logs "interop-rekey-child"
	check "IKE SA rekeyed, traffic flows" e2e_step "rekey IKE" e2e_d_rekey_ping ike "$name" "$spec" ||
		e2e_collect_logs "interop-rekey-ike"
	if [ "$l $r" != "native native" ]; then
		F_NAME=$name F_SPEC=$spec
		case "$l $r" in
		"iketcp iketcp")
			check "TCP connection reset by gr: the Originator reconnects, CHILD SA rekeys, traffic flows" \
				fault_reset gr ;;
		"native iketcp")
			check "TCP connection reset by gr (pluto the Originator): iketcp does not connect back, the SA stays" \
				fault_reset_pluto_originator gr ;;
		"iketcp native")
			check "TCP connection reset by gl (iketcp the Originator): it reconnects with the prefix, pluto accepts" \
				fault_reset_pluto_responder gl ;;
		esac || e2e_collect_logs "interop-reset"
	fi
	check "terminated on both gateways" e2e_d_terminate "$name"
}

for ((CI = 0; CI < ${#CELLS[@]}; CI++)); do
	t=${EPOCHREALTIME/./}
	run_cell "${CELLS[CI]}"
	_e2e_since_var "CELL_TIME[$CI]" "$t"
	CELL_NAME[CI]=$CUR
done

e2e_iketcpd_stop
echo "# ---- RFC 9329 interoperability (kernel $(uname -r)): pass/checks per cell"
printf '# %-24s %5s %5s %10s %7s\n' "cell (left->right)" pass fail "iperf Mb/s" "time s"
base= own=
for ((i = 0; i < ${#CELLS[@]}; i++)); do
	printf '# %-24s %5s %5s %10s %7s\n' "${CELL_NAME[i]}" "${CELL_PASS[i]:-0}" \
		"${CELL_FAIL[i]:-0}" "${CELL_MBPS[i]:--}" "${CELL_TIME[i]}"
	[ "${CELLS[i]}" = "native native 4" ] && base=${CELL_MBPS[i]:-}
	[ "${CELLS[i]}" = "iketcp iketcp 4" ] && own=${CELL_MBPS[i]:-}
done
if [ -n "$base" ] && [ -n "$own" ]; then
	echo "# iperf3 through ESP-in-TCP, iketcp (charon) / native espintcp (pluto): $own / $base Mbit/s = $(awk -v a="$own" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
fi
e2e_tap_finish
