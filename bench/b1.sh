#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# b1.sh - B1: handshake success and time under loss. Runs as root in the VM
# (bench/Makefile: scripts/vmrun.sh ... -- bench/b1.sh).
#
# Two unmodified charons (selftests/e2e/lib.sh: gw-left initiates IKEv2 to
# gw-right, 4096-bit RSA chain, ~4.6 KB IKE_AUTH each way) through the
# middlebox with netem "delay 10ms loss X%" on both of its interfaces
# (20 ms RTT, X% random loss each way). charon's default retransmission
# settings (4 s, base 1.8, 5 tries). Three variants, interleaved handshake by
# handshake so that load drift hits them alike:
#
#   udpfrag  plain UDP, RFC 7383 IKE fragmentation (fragmentation = yes on
#            both charons; gw-left uses a copy of ikev2-v4 named b1frag),
#            no iketcpd on gw-left, gw-right's iketcpd leaves it alone (udp)
#   tcp      iketcpd on both gateways, policy tcp, fragmentation = no
#   auth     iketcpd on both gateways, policy auth, fragmentation = no
#
# For tcp and auth, gw-left's iketcpd is restarted before every handshake
# (untimed), so every handshake pays for a fresh TCP connection (SYN under
# loss included): the conservative case, the first contact between two
# gateways. The middlebox passes fragments (none are sent in any variant).
#
# One handshake: swanctl --initiate; the time is taken from gw-left's charon
# log (from "initiating IKE_SA" to "CHILD_SA ... established", ms stamps),
# not from swanctl's (slow) process start; success means established within
# 30 s of the start. Then everything is torn down (e2e_terminate).
#
# Environment (bench/Makefile passes B1_PLAN=... as IKETCP_B1_PLAN, which
# scripts/vmrun.sh carries into the guest):
#   IKETCP_B1_PLAN      "loss:count ..." in the order run (default
#                       "10:30 5:30 3:30 1:30 0:30")
#   IKETCP_B1_VARIANTS  default "udpfrag tcp auth"
#   IKETCP_B1_BUDGET    seconds; no new round starts after it (default 6600)
#   IKETCP_B1_OUT       raw CSV (default bench/data/b1_raw.csv), appended
#                       per handshake

cd "$(dirname "$0")/.." || exit 1
export E2E_RETRANSMIT_TIMEOUT=4 E2E_RETRANSMIT_BASE=1.8 E2E_RETRANSMIT_TRIES=5
export E2E_DIR=${E2E_DIR:-/tmp/b1}
# A private copy of iketcpd: the run takes hours, and a binary rebuilt on
# the host meanwhile reaches the guest's 9p page cache half old, half new
# (seen: every later start crashed)
B1_BIN=/dev/shm/b1-bin
mkdir -p "$B1_BIN" && cp build/userspace/iketcpd "$B1_BIN/" || exit 1
export E2E_IKETCPD=$B1_BIN/iketcpd
# shellcheck source=selftests/e2e/lib.sh
. selftests/e2e/lib.sh

PLAN=${IKETCP_B1_PLAN:-"10:30 5:30 3:30 1:30 0:30"}
VARIANTS=(${IKETCP_B1_VARIANTS:-udpfrag tcp auth})
BUDGET=${IKETCP_B1_BUDGET:-6600}
OUT=${IKETCP_B1_OUT:-bench/data/b1_raw.csv}
WINDOW_MS=30000
T_START=$SECONDS

trap 'e2e_cleanup' EXIT
trap 'exit 130' INT TERM

loadavg() { local a; read -r a _ </proc/loadavg; echo "$a"; }
e2e_log "B1 start: kernel $(uname -r), loadavg $(cat /proc/loadavg), plan $PLAN, variants ${VARIANTS[*]}"

rm -rf "$E2E_DIR" && mkdir -p "$E2E_DIR"
[ -f "$E2E_PKI/.stamp" ] || { echo "no PKI: run selftests/e2e/pki.sh on the host"; exit 1; }
modprobe -q sch_netem

b1_charon_conf() { # rewrite both swanctl.conf files with only what B1 uses
	{
		echo "connections {"
		_e2e_conn gl ikev2-v4 2 4
		_e2e_conn gl b1frag 2 4 | sed 's/fragmentation = no/fragmentation = yes/'
		echo "}"
	} >"$E2E_DIR/gl/swanctl/swanctl.conf"
	{
		echo "connections {"
		_e2e_conn gr ikev2-v4 2 4 | sed 's/fragmentation = no/fragmentation = yes/'
		echo "}"
	} >"$E2E_DIR/gr/swanctl/swanctl.conf"
}

e2e_step "topology" e2e_topology_up || exit 1
e2e_step "charon start" e2e_charon_start gl gr || exit 1
b1_charon_conf
e2e_step "swanctl --load-all" e2e_charon_load gl gr || exit 1
e2e_mb_frag_drop off

netem() { # <loss %>
	local dev
	for dev in mb-gl mb-gr; do
		if [ "$1" = 0 ]; then
			ip netns exec e2e-mb tc qdisc replace dev $dev root netem delay 10ms
		else
			ip netns exec e2e-mb tc qdisc replace dev $dev root netem delay 10ms loss "$1%"
		fi
	done
}

iketcpd_gl() { # <policy>: fresh iketcpd on gw-left
	e2e_iketcpd_stop gl
	e2e_iketcpd_start gl "log-level notice" "peer $E2E_GR4 $1"
}
# gw-right's iketcpd runs throughout; its rule for gw-left follows the variant
e2e_iketcpd_start gr "log-level notice" "peer $E2E_GL4/32 udp" || exit 1
GR_POLICY=udp
gr_policy() {
	[ "$GR_POLICY" = "$1" ] && return 0
	e2e_iketcpd_reload gr "log-level notice" "peer $E2E_GL4/32 $1" || return 1
	GR_POLICY=$1
	e2e_sleep 0.3
}

ms_of() { # HH:MM:SS.mmm -> ms
	local h=${1:0:2} m=${1:3:2} s=${1:6:2} f=${1:9:3}
	echo $(((10#$h * 3600 + 10#$m * 60 + 10#$s) * 1000 + 10#$f))
}

# one handshake: prints "success ms retransmits"
handshake() { # <conn>
	local conn=$1 lines line t0='' t1='' n=0 d
	e2e_log_mark gl
	e2e_swanctl gl --initiate --ike "$conn" --child "$conn" --timeout 35 \
		--loglevel -1 >/dev/null 2>&1
	mapfile -t lines < <(e2e_log_since gl)
	for line in "${lines[@]}"; do
		case $line in
		*"initiating IKE_SA $conn["*) [ -z "$t0" ] && t0=$(ms_of "${line:0:12}") ;;
		*"CHILD_SA $conn{"*"} established"*) [ -z "$t1" ] && t1=$(ms_of "${line:0:12}") ;;
		*"retransmit "*" of request"*) n=$((n + 1)) ;;
		esac
	done
	if [ -z "$t0" ] || [ -z "$t1" ]; then
		echo "0 - $n"
		return
	fi
	d=$((t1 - t0))
	[ $d -lt 0 ] && d=$((d + 86400000))
	if [ $d -le $WINDOW_MS ]; then echo "1 $d $n"; else echo "0 $d $n"; fi
}

[ -f "$OUT" ] || echo "loss_pct,variant,round,success,ms,retransmits,loadavg" >"$OUT"
stop=0
for cell in $PLAN; do
	loss=${cell%%:*} count=${cell##*:}
	netem "$loss"
	e2e_log "loss $loss %: $count rounds of ${VARIANTS[*]} (loadavg $(cat /proc/loadavg))"
	for ((i = 1; i <= count; i++)); do
		if [ $((SECONDS - T_START)) -ge "$BUDGET" ]; then
			e2e_log "time budget of ${BUDGET}s used: stopping (loss $loss at round $i)"
			stop=1
			break
		fi
		for v in "${VARIANTS[@]}"; do
			case $v in
			udpfrag)
				e2e_iketcpd_stop gl
				gr_policy udp
				conn=b1frag
				;;
			tcp|auth)
				gr_policy "$v"
				iketcpd_gl "$v" || { e2e_log "iketcpd gl start failed"; continue; }
				conn=ikev2-v4
				;;
			esac
			read -r ok ms rt < <(handshake "$conn")
			echo "$loss,$v,$i,$ok,$ms,$rt,$(loadavg)" >>"$OUT"
			e2e_log "loss $loss% $v #$i: success $ok, ${ms} ms, $rt retransmits"
			e2e_terminate "$conn" >/dev/null 2>&1 || e2e_terminate >/dev/null 2>&1
		done
	done
	[ $stop = 1 ] && break
done
e2e_log "B1 end: loadavg $(cat /proc/loadavg), $((SECONDS - T_START)) s"
e2e_save_logs b1 >/dev/null 2>&1
exit 0
