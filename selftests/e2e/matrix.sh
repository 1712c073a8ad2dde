#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# matrix.sh [--tier core|full] [--iketcpd PATH] [--cell CELL]... [--list]
#
# Any daemon, any topology: unmodified charons and plutos on gw-left and
# gw-right, the middlebox dropping every IPv4 and IPv6 fragment, 4096-bit
# certificate chains sent whole (charon send_cert = always, pluto
# sendca=all) with fragmentation off, so that IKE_AUTH is one datagram well
# over the MTU. Runs as root in the VM (scripts/vmrun.sh -- selftests/e2e/
# matrix.sh); needs the PKI and NSS databases of selftests/e2e/pki.sh and
# libreswan unpacked by scripts/setup.sh. TAP output, one line per check,
# and a table of pass counts per cell at the end.
#
# A cell is "INIT RESP VER FAM TOPO POLICY [FLAG...]":
#   INIT, RESP   charon | pluto on gw-left (initiates) and gw-right
#   VER          1 (IKEv1 Main Mode) | 2
#   FAM          4 | 6 | nat (gw-left behind the CGN)
#   TOPO         net | h2h | s2s | rw (selftests/e2e/daemon.sh)
#   POLICY       tcp | auth | fallback | init+auth | auto (iketcpd.conf on
#                both gateways) | udp (no iketcpd: the control, which must
#                fail through the fragment-dropping middlebox)
#   FLAG         faults: the TCP connection is reset (by gw-right) and
#                reopened under the SA, iketcpd restarts on both sides,
#                with rekeys after each; listen-off: gw-left's iketcpd has
#                `listen off` (it cannot accept connections); rfc9329: the
#                peers use RFC 9329's framing (TCP 4500, ESP in the stream)
#                and the middlebox lets only TCP through (every UDP
#                datagram and IP ESP packet is dropped), an added check
#                that the ESP crossed in the TCP stream both ways
# Checks per cell: the SAs come up and the topology's traffic goes through
# ESP; CHILD and IKE rekeys with traffic after each; the flagged faults;
# what went over TCP and UDP (iketcpd's counters); terminate leaves nothing.
# gw-left forces the rekeys, except that pluto 4.10 cannot force an IKEv1
# rekey ("cannot force rekey of IKEv1 connection"): then gw-right's charon
# does, and between two plutos the IKEv1 rekey checks are skipped.
#
# Tiers: core (6 cells, in selftests/run.sh: 160 s in the 6.12 guest on a
# quiet 2-core host, about 20 minutes with the host at load 17) and full
# (`make check-e2e-full`: every daemon pair x topology x family, IKEv1, the
# policies). --iketcpd runs the cells with another iketcpd binary (an old
# build, to show a cell failing without a fix). --cell replaces the tier's
# cells; --list prints them.

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=selftests/e2e/lib.sh
. selftests/e2e/lib.sh

TIER=core
CELLS=()
LIST=0
while [ $# -gt 0 ]; do
	case $1 in
	--tier) TIER=$2; shift 2 ;;
	--iketcpd) E2E_IKETCPD=$2; shift 2 ;;
	--cell) CELLS+=("$2"); shift 2 ;;
	--list) LIST=1; shift ;;
	-h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "matrix.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

UP_TIMEOUT=${E2E_UP_TIMEOUT:-90}
CONTROL_TIMEOUT=${E2E_CONTROL_TIMEOUT:-20}
CTL=$E2E_IKETCPCTL

# Cells are grouped by daemon pair, in an order that restarts few daemons
# (each charon start with its RSA-4096 key costs tens of seconds in TCG).
CORE=(
	"pluto charon 2 4 net udp"
	"pluto charon 2 4 h2h tcp faults"
	"pluto charon 1 4 net tcp"
	"pluto pluto 2 4 net tcp"
	"charon pluto 2 4 net tcp"
	"charon charon 2 4 rw tcp"
	"charon charon 2 4 net tcp rfc9329 faults"
)
FULL=()
for pair in "pluto charon" "pluto pluto" "charon pluto" "charon charon"; do
	FULL+=(
		"$pair 2 4 net udp"
		"$pair 2 4 net tcp faults" "$pair 2 6 net tcp"
		"$pair 2 4 h2h tcp faults" "$pair 2 6 h2h tcp"
		"$pair 2 4 s2s tcp" "$pair 2 6 s2s tcp"
		"$pair 2 4 rw tcp faults" "$pair 2 6 rw tcp"
		"$pair 2 nat net tcp listen-off faults" "$pair 2 nat rw tcp listen-off"
		"$pair 1 4 net tcp" "$pair 1 6 h2h tcp"
		"$pair 2 4 net auth" "$pair 2 4 net fallback" "$pair 2 6 h2h fallback"
	)
done
# RFC 9329 between two iketcp gateways over a network that passes only TCP
for pair in "charon charon" "pluto charon"; do
	FULL+=(
		"$pair 2 4 net udp rfc9329"
		"$pair 2 4 net tcp rfc9329 faults" "$pair 2 6 net tcp rfc9329"
		"$pair 2 4 h2h tcp rfc9329" "$pair 2 6 h2h tcp rfc9329 faults"
		"$pair 2 nat net tcp rfc9329 faults"
	)
done
if [ ${#CELLS[@]} -gt 0 ]; then
	TIER=chosen
else
	case $TIER in
	core) CELLS=("${CORE[@]}") ;;
	full) CELLS=("${FULL[@]}") ;;
	*) echo "matrix.sh: --tier core|full" >&2; exit 2 ;;
	esac
fi
if [ $LIST = 1 ]; then
	printf '%s\n' "${CELLS[@]}"
	exit 0
fi

# checks a cell has (the plan)
cell_checks() { # <cell>
	local _i _r _v _f _t pol flags n
	read -r _i _r _v _f _t pol flags <<<"$1"
	if [ "$pol" = udp ]; then
		echo 1
		return
	fi
	n=5 # up, CHILD rekey, IKE rekey, transports, terminate
	[[ " $flags " == *" faults "* ]] && n=$((n + 3))
	[[ " $flags " == *" rfc9329 "* ]] && n=$((n + 1))
	[[ " $flags " == *" rfc9329 "* ]] && [ "$_t" = net ] && n=$((n + 1)) # iperf3
	echo $n
}

plan=1
for c in "${CELLS[@]}"; do
	plan=$((plan + $(cell_checks "$c")))
done
e2e_tap_plan "$plan"
e2e_log "kernel $(uname -r), $("$E2E_CHARON" --version 2>&1 | head -n 1), $("$E2E_LSW_BIN/pluto" --version 2>/dev/null | cut -d' ' -f1-2), iketcpd $E2E_IKETCPD"
e2e_log "tier $TIER: ${#CELLS[@]} cells"

trap 'e2e_cleanup' EXIT
trap 'exit 130' INT TERM

# per cell (by index): checks passed, failed, skipped, its name and time
CELL_PASS=() CELL_FAIL=() CELL_SKIP=() CELL_TIME=() CELL_NAME=()
CI=0 CUR=
check() { e2e_cell_check "$@"; }
skip() { # <name> <reason>
	e2e_skip "$CUR: $1" "$2"
	CELL_SKIP[CI]=$((${CELL_SKIP[CI]:-0} + 1))
}

rm -rf "$E2E_DIR" && mkdir -p "$E2E_DIR"
[ -f "$E2E_PKI/.stamp" ] || e2e_bail "no PKI in $E2E_PKI: run selftests/e2e/pki.sh on the host"
need_pluto=0
for c in "${CELLS[@]}"; do
	[[ $c == *pluto* ]] && need_pluto=1
done
if [ $need_pluto = 1 ] && ! why=$(e2e_pluto_available); then
	e2e_bail "$why"
fi
if ! e2e_check "topology up, the middlebox drops every fragment" \
	eval 'e2e_step "topology" e2e_topology_up && e2e_step "topology check" e2e_topology_check &&
	      e2e_pin_neighbours && e2e_mb_frag_drop on'; then
	e2e_collect_logs matrix
	e2e_tap_finish
	exit 1
fi

# ---- iketcpd
IKETCPD_CONF=
framing() { # <flags>: the peer lines' framing option
	[[ " $1 " == *" rfc9329 "* ]] && echo " framing rfc9329"
	return 0
}
iketcpd_lines_gl() { # <policy> <flags>
	echo "peer $E2E_GR4 $1$(framing "$2")"
	echo "peer $E2E_GR6 $1$(framing "$2")"
	echo "retransmit-threshold 2"
	[[ " $2 " == *" listen-off "* ]] && echo "listen off"
	return 0
}
iketcpd_lines_gr() { # <policy> <flags>
	echo "peer $E2E_GL4/32 $1$(framing "$2")"
	echo "peer $E2E_MB_R4/32 $1$(framing "$2")"
	echo "peer $E2E_GL6/128 $1$(framing "$2")"
}
iketcpd_start_gw() { # <gw> <policy> <flags>
	local IFS=$'\n'
	# shellcheck disable=SC2046 # one line per argument
	e2e_iketcpd_start "$1" $("iketcpd_lines_$1" "$2" "$3")
}
# iketcpd_for <policy> <flags>: both iketcpds running with that
# configuration (restarted when it differs: a listener change needs it)
iketcpd_for() {
	local want="$1|$2"
	if [ "$1" = udp ]; then
		e2e_iketcpd_stop
		IKETCPD_CONF=
		return 0
	fi
	[ "$IKETCPD_CONF" = "$want" ] && [ -n "${E2E_IKETCPD_PID[gl]:-}" ] &&
		[ -n "${E2E_IKETCPD_PID[gr]:-}" ] && return 0
	e2e_iketcpd_stop
	IKETCPD_CONF=
	# a cell's gateways start afresh: what an earlier cell's iketcpd
	# learnt (a fallback peer's TCP period) would decide this cell's
	# transports (the restarts within a cell keep their state)
	rm -f "$(e2e_iketcpd_ctl gl).state" "$(e2e_iketcpd_ctl gr).state"
	iketcpd_start_gw gl "$1" "$2" && iketcpd_start_gw gr "$1" "$2" || return 1
	IKETCPD_CONF=$want
}
iketcpd_status() { # <gw>: iketcpctl --json status, into STATUS_<gw>
	printf -v "STATUS_$1" '%s' "$(ip netns exec "e2e-$1" "$CTL" -s "$(e2e_iketcpd_ctl "$1")" \
		--json status 2>/dev/null)"
}
stat_sum() { # <gw> <key>: a counter of the last iketcpd_status, summed over the peers
	local v="STATUS_$1"
	e2e_json_sum "${!v}" "$2"
}
transports_ok() { # <policy> <udp_out gl before> <tcp_out gl before>
	local du dt tin ugr
	iketcpd_status gl && iketcpd_status gr
	du=$(($(stat_sum gl udp_out) - $2)) dt=$(($(stat_sum gl tcp_out) - $3))
	tin=$(stat_sum gl tcp_in) ugr=$(stat_sum gr udp_out)
	e2e_log "gw-left sent $du IKE messages over UDP, $dt over TCP (tcp_in $tin); gw-right udp_out $ugr"
	case $1 in
	tcp) [ "$du" = 0 ] && [ "$dt" -ge 2 ] && [ "$tin" -gt 0 ] && [ "$ugr" = 0 ] ;;
	auth|auto) [ "$du" -ge 1 ] && [ "$dt" -ge 1 ] ;;
	init+auth) [ "$dt" -ge 2 ] ;;
	fallback) [ "$du" -ge 2 ] && [ "$dt" -ge 1 ] ;;
	esac
}
# RFC 9329: the tunnel's ESP went through the TCP stream, both ways (the
# middlebox passes no UDP and no IP ESP: the ping could go no other way)
esp_in_stream() {
	local gtx grx rtx rrx drops
	gtx=$(e2e_conn_sum gl esp_tx_pkts) grx=$(e2e_conn_sum gl esp_rx_pkts)
	rtx=$(e2e_conn_sum gr esp_tx_pkts) rrx=$(e2e_conn_sum gr esp_rx_pkts)
	drops=$(e2e_mb_tcp_only_dropped)
	e2e_log "ESP in the stream: gw-left tx $gtx rx $grx, gw-right tx $rtx rx $rrx; middlebox dropped (udp esp) $drops"
	[ "$gtx" -gt 0 ] && [ "$grx" -gt 0 ] && [ "$rtx" -gt 0 ] && [ "$rrx" -gt 0 ]
}
restart_iketcpd() { # <gw> <policy> <flags>
	e2e_iketcpd_stop "$1"
	iketcpd_start_gw "$1" "$2" "$3"
}

# the fault checks work on the current cell's F_NAME F_SPEC F_POL F_FLAGS
fault_reset() {
	e2e_conn_reset gr &&
		e2e_step "rekey CHILD after the reset" e2e_d_rekey_ping child "$F_NAME" "$F_SPEC"
}
fault_restart() { # <gw> <child|ike>
	restart_iketcpd "$1" "$F_POL" "$F_FLAGS" &&
		e2e_step "rekey $2 after restarting iketcpd on $1" e2e_d_rekey_ping "$2" "$F_NAME" "$F_SPEC"
}
faults() {
	check "TCP connection reset and reopened under the SA: CHILD SA rekeys, traffic flows" \
		fault_reset || e2e_collect_logs "matrix-reset"
	check "iketcpd restarted on gw-left: the IKE SA rekeys, traffic flows" \
		fault_restart gl ike || e2e_collect_logs "matrix-restart-gl"
	check "iketcpd restarted on gw-right: the CHILD SA rekeys, traffic flows" \
		fault_restart gr child || e2e_collect_logs "matrix-restart-gr"
}

run_cell() { # <cell>
	local init resp ver fam topo pol flags spec name n dropped u0 t0 i rekeyer why
	read -r init resp ver fam topo pol flags <<<"$1"
	spec="$ver $fam $topo"
	name="v$ver-$fam-$topo"
	CUR="$init->$resp v$ver $fam $topo $pol${flags:+ $flags}"
	n=$(cell_checks "$1")
	e2e_log "==== cell $CUR"
	if [ "$ver" = 1 ] && [[ "$init $resp" == *pluto* ]] && ! e2e_pluto_has_ikev1; then
		for ((i = 0; i < n; i++)); do skip "check $((i + 1))" "this pluto build has no IKEv1"; done
		return
	fi
	if ! e2e_step "daemons $init / $resp" eval 'e2e_daemon_start gl "$init" && e2e_daemon_start gr "$resp"' ||
	   ! iketcpd_for "$pol" "$flags" ||
	   ! e2e_d_conf gl "$name" "$spec" || ! e2e_d_conf gr "$name" "$spec"; then
		e2e_collect_logs "matrix-setup"
		check "set-up (daemons, iketcpd, connection)" false
		for ((i = 1; i < n; i++)); do skip "check $((i + 1))" "the set-up failed"; done
		return
	fi
	if [[ " $flags " == *" rfc9329 "* ]]; then
		e2e_mb_tcp_only on
	else
		e2e_mb_tcp_only off
	fi
	if [ "$pol" = udp ] && [[ " $flags " == *" rfc9329 "* ]]; then
		if e2e_step "control: initiate over plain UDP" e2e_d_initiate "$name" "$CONTROL_TIMEOUT"; then
			check "on a TCP-only network no IKE SA comes up over UDP" false
		else
			read -r dropped _ < <(e2e_mb_tcp_only_dropped)
			check "on a TCP-only network no IKE SA comes up over UDP ($dropped datagrams dropped)" \
				test "$dropped" -gt 0
		fi
		e2e_d_terminate "$name" >/dev/null 2>&1
		return
	fi
	if [ "$pol" = udp ]; then
		e2e_mb_frag_drop on
		if e2e_step "control: initiate over plain UDP" e2e_d_initiate "$name" "$CONTROL_TIMEOUT"; then
			check "over plain UDP IKE_AUTH never completes" false
		else
			dropped=$(e2e_mb_frag_dropped)
			check "over plain UDP IKE_AUTH never completes ($dropped fragments dropped)" \
				test "$dropped" -gt 0
		fi
		e2e_d_terminate "$name" >/dev/null 2>&1
		return
	fi
	iketcpd_status gl
	u0=$(stat_sum gl udp_out) t0=$(stat_sum gl tcp_out)
	if ! check "IKE and CHILD SA up, traffic through ESP" e2e_step "initiate $name" e2e_d_up_ping "$name" "$spec" "$UP_TIMEOUT"; then
		e2e_collect_logs "matrix-up"
		for ((i = 1; i < n - 1; i++)); do skip "check $((i + 1))" "not established"; done
		check "terminated on both gateways" e2e_d_terminate "$name"
		e2e_mb_tcp_only off
		return
	fi
	if [[ " $flags " == *" rfc9329 "* ]]; then
		check "RFC 9329: the ESP crossed in the TCP stream both ways" esp_in_stream ||
			e2e_collect_logs "matrix-esp"
		# full-size packets (a ping is small) between the subnets
		[ "$topo" = net ] &&
			{ check "RFC 9329: iperf3 through ESP-in-TCP" e2e_step "iperf3" e2e_iperf "$fam" 5 ||
				e2e_collect_logs "matrix-iperf"; }
	fi
	if rekeyer=$(e2e_d_rekeyer); then
		[ "$rekeyer" = gl ] || e2e_log "pluto cannot force an IKEv1 rekey: gw-right's charon rekeys"
		check "CHILD SA rekeyed, traffic flows" e2e_step "rekey CHILD" e2e_d_rekey_ping child "$name" "$spec" ||
			e2e_collect_logs "matrix-rekey-child"
		check "IKE SA rekeyed, traffic flows" e2e_step "rekey IKE" e2e_d_rekey_ping ike "$name" "$spec" ||
			e2e_collect_logs "matrix-rekey-ike"
	else
		why="pluto 4.10 cannot force an IKEv1 rekey and neither gateway runs charon"
		skip "CHILD SA rekeyed" "$why"
		skip "IKE SA rekeyed" "$why"
		[[ " $flags " == *" faults "* ]] && flags=${flags/faults/} &&
			for i in 1 2 3; do skip "fault $i" "$why"; done
	fi
	# before the faults: restarting iketcpd resets its counters
	check "policy $pol: the right messages went over TCP and UDP" transports_ok "$pol" "$u0" "$t0"
	F_NAME=$name F_SPEC=$spec F_POL=$pol F_FLAGS=$flags
	[[ " $flags " == *" faults "* ]] && faults
	check "terminated on both gateways" e2e_d_terminate "$name"
	e2e_mb_tcp_only off
}

for ((CI = 0; CI < ${#CELLS[@]}; CI++)); do
	t=${EPOCHREALTIME/./}
	run_cell "${CELLS[CI]}"
	_e2e_since_var "CELL_TIME[$CI]" "$t"
	CELL_NAME[CI]=$CUR
done

e2e_iketcpd_stop
echo "# ---- matrix ($TIER, kernel $(uname -r)): pass/checks per cell"
printf '# %-48s %5s %5s %5s %7s\n' "cell (initiator->responder ver fam topo policy)" pass fail skip "time s"
for ((i = 0; i < ${#CELLS[@]}; i++)); do
	printf '# %-48s %5s %5s %5s %7s\n' "${CELL_NAME[i]}" "${CELL_PASS[i]:-0}" \
		"${CELL_FAIL[i]:-0}" "${CELL_SKIP[i]:-0}" "${CELL_TIME[i]}"
done
e2e_tap_finish
