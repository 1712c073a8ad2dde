# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib.sh - end-to-end test harness: two unmodified strongSwan charon
# gateways in network namespaces, talking through a middlebox that can drop
# every IP fragment and that also acts as a carrier-grade NAT. Sourced by
# the test scripts, which run as root inside the VM (scripts/vmrun.sh).
# Sourcing has no side effects; everything happens in the e2e_* functions.
#
# Topology (every address in topo.sh):
#
#   e2e-hl ----- e2e-gl ----------- e2e-mb ----------- e2e-gr ----- e2e-hr
#   host-left    gw-left   gl-mb   middlebox   mb-gr   gw-right     host-right
#                       \-gl-cgn--/ CGN access link 100.64.0.0/24,
#                                   masqueraded to 198.51.100.254
#
# gw-left initiates, gw-right responds. Only one connection is up at a
# time. The PKI comes from pki.sh, which must have run on the host.
#
# Every process start is expensive in the TCG guest (binaries and libraries
# come over 9p, swanctl and nft take 0.5-2 s each): the functions batch
# `ip` commands, parse in bash and poll swanctl sparingly.
#
# Environment knobs (all optional):
#   E2E_DIR                     runtime directory (default /tmp/e2e)
#   E2E_LOGDIR                  where e2e_save_logs copies the logs
#                               (default build/e2e/logs/<script>-<kernel>)
#   E2E_CHARON_TIMEOUT          seconds to wait for vici (default 180)
#   E2E_RETRANSMIT_TIMEOUT/_BASE/_TRIES   charon's retransmission settings
#                               (default 4 s, 1.4, 2: retransmits after 4 and
#                               9.6 s, gives up after 17.4 s)
#   E2E_IKETCPD                 iketcpd binary (default build/userspace/iketcpd)
#   E2E_LOG_TAIL                lines per log e2e_collect_logs prints (25)

E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_LIB/../.." && pwd)
# shellcheck source=selftests/e2e/topo.sh
. "$E2E_LIB/topo.sh"

E2E_DIR=${E2E_DIR:-/tmp/e2e}
E2E_PKI=${E2E_PKI:-$E2E_ROOT/build/e2e/pki}
E2E_CHARON=${E2E_CHARON:-/usr/lib/ipsec/charon}
E2E_IKETCPD=${E2E_IKETCPD:-$E2E_ROOT/build/userspace/iketcpd}
E2E_IKETCPCTL=${E2E_IKETCPCTL:-$E2E_ROOT/build/userspace/iketcpctl}
E2E_CHARON_TIMEOUT=${E2E_CHARON_TIMEOUT:-180}
E2E_RETRANSMIT_TIMEOUT=${E2E_RETRANSMIT_TIMEOUT:-4}
E2E_RETRANSMIT_BASE=${E2E_RETRANSMIT_BASE:-1.4}
E2E_RETRANSMIT_TRIES=${E2E_RETRANSMIT_TRIES:-2}
E2E_NAMESPACES=(hl gl mb gr hr)
E2E_GATEWAYS=(gl gr)
# The connections: name -> "IKE-version family" (nat: IPv4 through the CGN)
declare -gA E2E_CONNS=(
	[ikev2-v4]="2 4" [ikev2-v6]="2 6" [ikev2-nat]="2 nat"
	[ikev1-v4]="1 4" [ikev1-v6]="1 6" [ikev1-nat]="1 nat"
)
declare -gA E2E_CHARON_PID=() E2E_IKETCPD_PID=() E2E_IKETCPD_LINES=() E2E_LOG_MARK=()

# ---------------------------------------------------------------- timing

E2E_T0=${EPOCHREALTIME/./}

# e2e_now_us: microseconds since the epoch
e2e_now_us() { echo "${EPOCHREALTIME/./}"; }

# e2e_fmt_us <microseconds>: "12.3"
e2e_fmt_us() { printf '%d.%d' $(($1 / 1000000)) $(($1 % 1000000 / 100000)); }

# e2e_since <start-us>: seconds elapsed since start, "12.3"
e2e_since() { e2e_fmt_us $((${EPOCHREALTIME/./} - $1)); }

_e2e_since_var() { # <var> <start-us>: e2e_since into var, without a subshell
	local us=$((${EPOCHREALTIME/./} - $2))
	printf -v "$1" '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}

# e2e_log <message...>: a TAP diagnostic line stamped with the time since
# lib.sh was sourced: "# [12.3s] message"
e2e_log() {
	local t
	_e2e_since_var t "$E2E_T0"
	echo "# [${t}s] $*"
}

# e2e_sleep <seconds>: sleep without starting a process (read with a timeout
# on a FIFO nobody writes to; falls back to sleep(1))
e2e_sleep() {
	if [ -z "${E2E_SLEEP_FD:-}" ]; then
		local fifo
		fifo=$(mktemp -u "${TMPDIR:-/tmp}/e2e-sleep.XXXXXX")
		if mkfifo -m 600 "$fifo" 2>/dev/null && exec {E2E_SLEEP_FD}<>"$fifo"; then
			rm -f "$fifo"
		else
			E2E_SLEEP_FD=none
		fi
	fi
	if [ "$E2E_SLEEP_FD" = none ]; then
		sleep "$1"
	else
		read -r -t "$1" -u "$E2E_SLEEP_FD" _
	fi
	return 0
}

# e2e_step <label> <cmd...>: run cmd, then log "label: ok|FAILED (N.N s)";
# returns cmd's status
e2e_step() {
	local label=$1 t=${EPOCHREALTIME/./} rc d
	shift
	"$@"
	rc=$?
	_e2e_since_var d "$t"
	if [ $rc = 0 ]; then
		e2e_log "$label: ok ($d s)"
	else
		e2e_log "$label: FAILED, status $rc ($d s)"
	fi
	return $rc
}

# ---------------------------------------------------------------- TAP

E2E_TAP_N=0 E2E_TAP_PLAN=0 E2E_PASS=0 E2E_FAIL=0 E2E_SKIP=0 E2E_ERROR=0

# e2e_tap_plan <n>: the TAP header and the plan
e2e_tap_plan() {
	E2E_TAP_PLAN=$1
	echo "TAP version 13"
	echo "1..$1"
}

# e2e_ok <name> / e2e_notok <name> / e2e_skip <name> <reason>: one result
e2e_ok() { E2E_TAP_N=$((E2E_TAP_N + 1)) E2E_PASS=$((E2E_PASS + 1)); echo "ok $E2E_TAP_N $1"; }
e2e_notok() { E2E_TAP_N=$((E2E_TAP_N + 1)) E2E_FAIL=$((E2E_FAIL + 1)); echo "not ok $E2E_TAP_N $1"; }
e2e_skip() { E2E_TAP_N=$((E2E_TAP_N + 1)) E2E_SKIP=$((E2E_SKIP + 1)); echo "ok $E2E_TAP_N $1 # SKIP $2"; }

# e2e_check <name> <cmd...>: one result from cmd's status, with its time
e2e_check() {
	local name=$1 t=${EPOCHREALTIME/./} rc d
	shift
	"$@"
	rc=$?
	_e2e_since_var d "$t"
	if [ $rc = 0 ]; then
		e2e_ok "$name"
	else
		e2e_notok "$name"
	fi
	e2e_log "  ($d s)"
	return $rc
}

# e2e_tap_finish: skip what the plan promised but did not run, print the
# kselftest totals line; returns non-zero if anything failed
e2e_tap_finish() {
	while [ "$E2E_TAP_N" -lt "$E2E_TAP_PLAN" ]; do
		e2e_skip "not run" "an earlier step failed"
	done
	echo "# Totals: pass:$E2E_PASS fail:$E2E_FAIL xfail:0 xpass:0 skip:$E2E_SKIP error:$E2E_ERROR"
	[ "$E2E_FAIL" = 0 ] && [ "$E2E_ERROR" = 0 ] && [ "$E2E_TAP_N" = "$E2E_TAP_PLAN" ]
}

# e2e_bail <reason>: TAP "Bail out!", the totals (counting one error), exit 1
e2e_bail() {
	echo "Bail out! $*"
	E2E_ERROR=$((E2E_ERROR + 1))
	echo "# Totals: pass:$E2E_PASS fail:$E2E_FAIL xfail:0 xpass:0 skip:$E2E_SKIP error:$E2E_ERROR"
	exit 1
}

# ---------------------------------------------------------------- helpers

# e2e_ns <short>: the namespace name (gl -> e2e-gl)
e2e_ns() { echo "e2e-$1"; }

# e2e_exec <short> <cmd...>: run cmd in that namespace
e2e_exec() { local ns=$1; shift; ip netns exec "e2e-$ns" "$@"; }

# e2e_wait <timeout-s> <cmd...>: poll cmd every 0.2 s until it succeeds
# (returns 0); gives up at the timeout (1) or as soon as cmd returns 2 (2)
e2e_wait() {
	local deadline=$((${EPOCHREALTIME/./} + $1 * 1000000)) rc
	shift
	while :; do
		"$@"
		rc=$?
		[ $rc = 0 ] && return 0
		[ $rc = 2 ] && return 2
		[ "${EPOCHREALTIME/./}" -lt "$deadline" ] || return 1
		e2e_sleep 0.2
	done
}

# e2e_cat: copy stdin to stdout with bash builtins only (for here-documents:
# `cat` would be one more process start)
e2e_cat() {
	local x
	IFS= read -r -d '' x
	printf '%s' "$x"
}

_e2e_copy() { # <src> <dst>: copy a text file with builtins only
	local x
	IFS= read -r -d '' x <"$1"
	[ -n "$x" ] && printf '%s' "$x" >"$2"
}

# ---------------------------------------------------------------- topology

# e2e_topology_up: create the five namespaces, the links, addresses, routes,
# forwarding and the middlebox's nftables (fragments pass, CGN on)
e2e_topology_up() {
	local n fwd warmup
	e2e_topology_down
	# Module autoloading is very slow in the guest: nft alone, loading its
	# modules one request at a time (and replaying its transaction after
	# each), took 30-45 s. One modprobe for all of them takes a few seconds.
	modprobe -q -a nfnetlink nf_tables nf_conntrack nf_nat nft_chain_nat \
		nft_ct nft_masq nft_objref veth xfrm_user esp4 esp6 authenc \
		echainiv drbg jitterentropy_rng crypto_null 2>/dev/null
	ip -b - <<-EOF || return 1
		netns add e2e-hl
		netns add e2e-gl
		netns add e2e-mb
		netns add e2e-gr
		netns add e2e-hr
	EOF
	_e2e_xfrm_warmup &
	warmup=$!
	for n in "${E2E_NAMESPACES[@]}"; do
		fwd=()
		case $n in
		gl|mb|gr) fwd=(net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1) ;;
		esac
		ip netns exec "e2e-$n" sysctl -q -w net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
			"${fwd[@]}" >/dev/null || return 1
	done
	# veth pairs, each end created directly in its namespace (so that it
	# gets the namespace's defaults: no DAD)
	ip -b - <<-EOF || return 1
		link add hl-gl netns e2e-hl type veth peer name gl-hl netns e2e-gl
		link add gl-mb netns e2e-gl type veth peer name mb-gl netns e2e-mb
		link add gl-cgn netns e2e-gl type veth peer name mb-cgn netns e2e-mb
		link add mb-gr netns e2e-mb type veth peer name gr-mb netns e2e-gr
		link add gr-hr netns e2e-gr type veth peer name hr-gr netns e2e-hr
	EOF
	# Hosts and gateways default to the next hop towards the middle; the
	# middlebox knows only its connected networks, so host-to-host traffic
	# gets through only inside the ESP tunnel. gw-left's CGN address leaves
	# through the CGN access link (a source rule to table 100).
	ip -n e2e-hl -b - <<-EOF || return 1
		link set lo up
		addr add $E2E_HL4/24 dev hl-gl
		addr add $E2E_HL6/64 dev hl-gl nodad
		link set hl-gl mtu 1500 up
		route add default via $E2E_GL_IN4
		route add ::/0 via $E2E_GL_IN6
	EOF
	ip -n e2e-gl -b - <<-EOF || return 1
		link set lo up
		addr add $E2E_GL_IN4/24 dev gl-hl
		addr add $E2E_GL_IN6/64 dev gl-hl nodad
		addr add $E2E_GL4/24 dev gl-mb
		addr add $E2E_GL6/64 dev gl-mb nodad
		addr add $E2E_GL_CGN4/24 dev gl-cgn
		link set gl-hl mtu 1500 up
		link set gl-mb mtu 1500 up
		link set gl-cgn mtu 1500 up
		route add default via $E2E_MB_L4
		route add ::/0 via $E2E_MB_L6
		rule add from $E2E_GL_CGN4 lookup 100 pref 100
		route add default via $E2E_MB_CGN4 dev gl-cgn table 100
	EOF
	ip -n e2e-mb -b - <<-EOF || return 1
		link set lo up
		addr add $E2E_MB_L4/24 dev mb-gl
		addr add $E2E_MB_L6/64 dev mb-gl nodad
		addr add $E2E_MB_CGN4/24 dev mb-cgn
		addr add $E2E_MB_R4/24 dev mb-gr
		addr add $E2E_MB_R6/64 dev mb-gr nodad
		link set mb-gl mtu 1500 up
		link set mb-cgn mtu 1500 up
		link set mb-gr mtu 1500 up
	EOF
	ip -n e2e-gr -b - <<-EOF || return 1
		link set lo up
		addr add $E2E_GR4/24 dev gr-mb
		addr add $E2E_GR6/64 dev gr-mb nodad
		addr add $E2E_GR_IN4/24 dev gr-hr
		addr add $E2E_GR_IN6/64 dev gr-hr nodad
		link set gr-mb mtu 1500 up
		link set gr-hr mtu 1500 up
		route add default via $E2E_MB_R4
		route add ::/0 via $E2E_MB_R6
	EOF
	ip -n e2e-hr -b - <<-EOF || return 1
		link set lo up
		addr add $E2E_HR4/24 dev hr-gr
		addr add $E2E_HR6/64 dev hr-gr nodad
		link set hr-gr mtu 1500 up
		route add default via $E2E_GR_IN4
		route add ::/0 via $E2E_GR_IN6
	EOF
	_e2e_mb_nft || return 1
	wait "$warmup"
}

# The kernel instantiates the ESP transform (authenc(hmac(sha256),cbc(aes)),
# after a modprobe attempt for each template) on the first SA. In the guest
# that took 8-30 s and made the responder answer the first IKE_AUTH late
# enough for charon to retransmit it. A throw-away SA of each family with
# the same algorithms, in host-left's namespace, does that work during the
# set-up instead (in the background).
_e2e_xfrm_warmup() {
	local k16=0x000102030405060708090a0b0c0d0e0f
	local k32=${k16}101112131415161718191a1b1c1d1e1f
	ip -n e2e-hl -b - <<-EOF >/dev/null 2>&1
		xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1000 mode tunnel enc cbc(aes) $k16 auth-trunc hmac(sha256) $k32 128
		xfrm state add src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x1000 mode tunnel enc cbc(aes) $k16 auth-trunc hmac(sha256) $k32 128
		xfrm state flush
	EOF
	return 0
}

# The middlebox's rule set. The fragment filter hooks prerouting at
# priority -500: conntrack's defragmentation (which the CGN's NAT turns on
# in this namespace) runs at -400 and would otherwise hand the filter whole
# datagrams. The CGN masquerades 100.64.0.0/24 to mb-gr's address and lets
# only replies back in.
_e2e_mb_nft() {
	ip netns exec e2e-mb nft -f - <<-EOF
		table inet e2e_frag {
			counter frag4 { }
			counter frag6 { }
			chain frag_pre {
				type filter hook prerouting priority -500; policy accept;
			}
		}
		table inet e2e_tcponly {
			counter udp_drop { }
			counter esp_drop { }
			chain tcponly_fwd {
				type filter hook forward priority -10; policy accept;
			}
		}
		table ip e2e_cgn {
			counter cgn_snat { }
			chain cgn_post {
				type nat hook postrouting priority srcnat; policy accept;
				ip saddr $E2E_NET_CGN4 oifname "mb-gr" counter name "cgn_snat" masquerade
			}
			chain cgn_fwd {
				type filter hook forward priority filter; policy accept;
				iifname "mb-cgn" oifname != "mb-gr" drop
				iifname "mb-gr" oifname "mb-cgn" ct state established,related accept
				oifname "mb-cgn" drop
			}
		}
	EOF
}

# e2e_topology_down: delete the namespaces (and kill what still runs in
# them: only processes this harness started can be there)
e2e_topology_down() {
	local n p
	for n in "${E2E_NAMESPACES[@]}"; do
		[ -e "/run/netns/e2e-$n" ] || continue
		for p in $(ip netns pids "e2e-$n" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "e2e-$n" 2>/dev/null
	done
	return 0
}

# e2e_topology_check: gateways reach each other directly (IPv4, IPv6) and
# through the CGN (which must count it); the middlebox has no route between
# the host networks
e2e_topology_check() {
	local rc=0
	_e2e_ping_once gl "$E2E_GR4" || { e2e_log "gl -> gr IPv4 failed"; rc=1; }
	_e2e_ping_once gl "$E2E_GR6" || { e2e_log "gl -> gr IPv6 failed"; rc=1; }
	_e2e_ping_once gl "$E2E_GR4" -I "$E2E_GL_CGN4" || { e2e_log "gl -> gr via the CGN failed"; rc=1; }
	if ip -n e2e-mb route get "$E2E_HR4" >/dev/null 2>&1; then
		e2e_log "the middlebox routes to $E2E_HR4: host traffic could bypass the tunnel"
		rc=1
	fi
	[ "$(e2e_mb_nat_count)" -gt 0 ] || { e2e_log "the CGN translated nothing"; rc=1; }
	return $rc
}

_e2e_ping_once() { # <ns> <dst> [ping options]
	local ns=$1 dst=$2
	shift 2
	ip netns exec "e2e-$ns" ping -n -q -c 1 -W 2 "$@" "$dst" >/dev/null 2>&1
}

# ---------------------------------------------------------------- middlebox

# e2e_mb_frag_drop on|off: drop every IPv4 fragment (the first one too:
# frag-off & 0x3fff != 0) and every IPv6 packet with a fragment header, in
# both directions; "on" also resets the counters
e2e_mb_frag_drop() {
	case $1 in
	on)
		ip netns exec e2e-mb nft -f - >/dev/null <<-EOF
			flush chain inet e2e_frag frag_pre
			reset counter inet e2e_frag frag4
			reset counter inet e2e_frag frag6
			add rule inet e2e_frag frag_pre ip frag-off & 0x3fff != 0 counter name "frag4" drop
			add rule inet e2e_frag frag_pre exthdr frag exists counter name "frag6" drop
		EOF
		;;
	off) ip netns exec e2e-mb nft flush chain inet e2e_frag frag_pre ;;
	*) echo "e2e_mb_frag_drop: on|off" >&2; return 2 ;;
	esac
}

# e2e_mb_tcp_only on|off: a network that allows only TCP between the
# gateways: the middlebox drops every UDP datagram (IKE on 500 and 4500,
# ESP-in-UDP) and every IP ESP packet it forwards, IPv4 and IPv6; "on"
# also resets the counters
e2e_mb_tcp_only() {
	case $1 in
	on)
		ip netns exec e2e-mb nft -f - >/dev/null <<-EOF
			flush chain inet e2e_tcponly tcponly_fwd
			reset counter inet e2e_tcponly udp_drop
			reset counter inet e2e_tcponly esp_drop
			add rule inet e2e_tcponly tcponly_fwd meta l4proto udp counter name "udp_drop" drop
			add rule inet e2e_tcponly tcponly_fwd meta l4proto esp counter name "esp_drop" drop
		EOF
		;;
	off) ip netns exec e2e-mb nft flush chain inet e2e_tcponly tcponly_fwd ;;
	*) echo "e2e_mb_tcp_only: on|off" >&2; return 2 ;;
	esac
}

# e2e_mb_segments on|off: "on", the middlebox hands each gateway the TCP
# stream in segments of at most one MSS, as a wire does to a NIC without
# GRO (TSO and GSO off on its links to the gateways); "off", as veth does
# by default, the sender's TSO super-packets. Linux espintcp (6.12) needs
# "on" to forward: it leaves the TCP segment's GSO metadata on the ESP
# packets it decapsulates, so every inner packet from a multi-segment skb
# is dropped at validate_xmit_skb (GSO segmentation of a packet no longer
# than its gso_size fails). iketcp copies each record and is not affected.
e2e_mb_segments() {
	local dev v
	case $1 in on) v=off ;; off) v=on ;; *) echo "e2e_mb_segments: on|off" >&2; return 2 ;; esac
	for dev in mb-gl mb-gr; do
		ip netns exec e2e-mb ethtool -K "$dev" tso "$v" gso "$v" >/dev/null || return 1
	done
}

# e2e_mb_tcp_only_dropped: "<udp> <esp>" packets the TCP-only filter dropped
e2e_mb_tcp_only_dropped() {
	local u e
	read -r u e < <(_e2e_nft_counters inet e2e_tcponly udp_drop esp_drop)
	echo "${u:-0} ${e:-0}"
}

_e2e_nft_counters() { # <family> <table> <counter...>: their packet counts, one nft call
	local fam=$1 table=$2 out line cur='' re='^[[:space:]]*packets ([0-9]+)' c
	local -A val=()
	shift 2
	out=$(ip netns exec e2e-mb nft list table "$fam" "$table" 2>/dev/null)
	while IFS= read -r line; do
		if [[ $line =~ ^[[:space:]]*counter\ ([a-z0-9_]+)\ \{ ]]; then
			cur=${BASH_REMATCH[1]}
		elif [ -n "$cur" ] && [[ $line =~ $re ]]; then
			val[$cur]=${BASH_REMATCH[1]}
			cur=''
		fi
	done <<<"$out"
	out=
	for c in "$@"; do
		out+="${out:+ }${val[$c]:-0}"
	done
	echo "$out"
}

# e2e_mb_frag_dropped [4|6|all]: fragments dropped since "on": IPv4 and IPv6
# together (default), one family, or all three figures "<total> <v4> <v6>"
e2e_mb_frag_dropped() {
	local v4 v6
	read -r v4 v6 < <(_e2e_nft_counters inet e2e_frag frag4 frag6)
	v4=${v4:-0} v6=${v6:-0}
	case ${1:-} in
	4) echo "$v4" ;;
	6) echo "$v6" ;;
	all) echo "$((v4 + v6)) $v4 $v6" ;;
	*) echo $((v4 + v6)) ;;
	esac
}

# e2e_mb_frag_check: with the filter on, 3000-byte pings (fragmented) from
# gw-left to gw-right fail over IPv4 and IPv6 while small ones pass, and
# both counters moved; resets the counters afterwards
e2e_mb_frag_check() {
	local rc=0 v4 v6
	_e2e_ping_once gl "$E2E_GR4" -W 1 || { e2e_log "small IPv4 ping dropped"; rc=1; }
	_e2e_ping_once gl "$E2E_GR4" -W 1 -s 3000 && { e2e_log "fragmented IPv4 ping passed"; rc=1; }
	_e2e_ping_once gl "$E2E_GR6" -W 1 -s 3000 && { e2e_log "fragmented IPv6 ping passed"; rc=1; }
	read -r _ v4 v6 < <(e2e_mb_frag_dropped all)
	e2e_log "fragments dropped by the middlebox: IPv4 $v4, IPv6 $v6"
	[ "$v4" -gt 0 ] && [ "$v6" -gt 0 ] || rc=1
	e2e_mb_frag_drop on
	return $rc
}

# e2e_mb_nat_count: packets the CGN has source-translated so far
e2e_mb_nat_count() {
	local c
	c=$(_e2e_nft_counters ip e2e_cgn cgn_snat)
	echo "${c:-0}"
}

# ---------------------------------------------------------------- charon

# e2e_gw_dir <gw> / e2e_vici <gw> / e2e_charon_log <gw>: runtime directory,
# vici URI and log file of a gateway's charon
e2e_gw_dir() { echo "$E2E_DIR/$1"; }
e2e_vici() { echo "unix://$E2E_DIR/$1/charon.vici"; }
e2e_charon_log() { echo "$E2E_DIR/$1/charon.log"; }

_e2e_strongswan_conf() { # <gw>
	local d=$E2E_DIR/$1
	e2e_cat <<EOF
# generated by selftests/e2e/lib.sh for $1
charon {
	load_modular = no
	load = random nonce drbg sha1 sha2 hmac kdf mgf1 aes gmp pem pkcs1 pkcs8 x509 pubkey constraints kernel-netlink socket-default vici
	max_packet = 65535
	install_routes = no
	install_virtual_ip = no
	retransmit_timeout = $E2E_RETRANSMIT_TIMEOUT
	retransmit_base = $E2E_RETRANSMIT_BASE
	retransmit_tries = $E2E_RETRANSMIT_TRIES
	retransmit_jitter = 0
	plugins {
		vici {
			socket = unix://$d/charon.vici
		}
	}
	filelog {
		e2e {
			path = $d/charon.log
			append = no
			flush_line = yes
			time_format = %H:%M:%S
			time_add_ms = yes
			ike_name = yes
			default = 1
			ike = 2
			net = 2
			enc = 1
			cfg = 2
			knl = 1
		}
	}
}
swanctl {
	load = random nonce sha1 sha2 hmac gmp pem pkcs1 pkcs8 x509 pubkey
}
EOF
}

_e2e_conn() { # <gw> <name> <version> <family>
	local gw=$1 name=$2 ver=$3 fam=$4 me other lts rts myid peerid
	case $gw in
	gl) myid=$E2E_GL_NAME peerid=$E2E_GR_NAME ;;
	gr) myid=$E2E_GR_NAME peerid=$E2E_GL_NAME ;;
	esac
	case $gw:$fam in
	gl:4) me=$E2E_GL4 other=$E2E_GR4 ;;
	gl:6) me=$E2E_GL6 other=$E2E_GR6 ;;
	gl:nat) me=$E2E_GL_CGN4 other=$E2E_GR4 ;;
	gr:4) me=$E2E_GR4 other=$E2E_GL4 ;;
	gr:6) me=$E2E_GR6 other=$E2E_GL6 ;;
	gr:nat) me=$E2E_GR4 other=%any ;;
	esac
	case $gw:$fam in
	gl:6) lts=$E2E_NET_L6 rts=$E2E_NET_R6 ;;
	gr:6) lts=$E2E_NET_R6 rts=$E2E_NET_L6 ;;
	gl:*) lts=$E2E_NET_L4 rts=$E2E_NET_R4 ;;
	gr:*) lts=$E2E_NET_R4 rts=$E2E_NET_L4 ;;
	esac
	e2e_cat <<EOF
	$name {
		version = $ver
		local_addrs = $me
		remote_addrs = $other
		proposals = aes128-sha256-modp2048
		fragmentation = no
		send_certreq = no
		send_cert = always
		aggressive = no
		local {
			auth = pubkey
			certs = $gw.crt
			id = $myid
		}
		remote {
			auth = pubkey
			id = $peerid
		}
		children {
			$name {
				local_ts = $lts
				remote_ts = $rts
				mode = tunnel
				esp_proposals = aes128-sha256
				start_action = none
			}
		}
	}
EOF
}

# e2e_charon_config <gw>: write strongswan.conf and the swanctl directory
# (x509ca: the root only; x509: own certificate and both intermediates, so
# that charon sends the whole chain; private: own key)
e2e_charon_config() {
	local gw=$1 d=$E2E_DIR/$1 s=$E2E_DIR/$1/swanctl name
	if [ ! -f "$E2E_PKI/.stamp" ]; then
		echo "e2e: no PKI in $E2E_PKI: run selftests/e2e/pki.sh on the host first" >&2
		return 1
	fi
	case $gw in
	gl) name="gw-left" ;;
	gr) name="gw-right" ;;
	*) echo "e2e_charon_config: gl|gr" >&2; return 2 ;;
	esac
	[ -d "$d" ] || mkdir -p "$d" || return 1
	[ -e "$s" ] && rm -rf "$s"
	mkdir -m 0700 "$s" "$s/x509ca" "$s/x509" "$s/private" || return 1
	_e2e_copy "$E2E_PKI/root.crt" "$s/x509ca/root.crt" &&
	_e2e_copy "$E2E_PKI/int1.crt" "$s/x509/int1.crt" &&
	_e2e_copy "$E2E_PKI/int2.crt" "$s/x509/int2.crt" &&
	_e2e_copy "$E2E_PKI/$name.crt" "$s/x509/$gw.crt" &&
	_e2e_copy "$E2E_PKI/$name.key" "$s/private/$gw.key" || return 1
	_e2e_strongswan_conf "$gw" >"$d/strongswan.conf"
	# swanctl's status commands need no plugin (an empty list would mean
	# the default one, some 40 plugins to load at every call)
	printf 'swanctl {\n\tload = pem\n}\n' >"$d/swanctl-light.conf"
	{
		echo "# generated by selftests/e2e/lib.sh for $gw"
		echo "connections {"
		for name in ikev2-v4 ikev2-v6 ikev2-nat ikev1-v4 ikev1-v6 ikev1-nat; do
			# shellcheck disable=SC2086 # "version family"
			_e2e_conn "$gw" "$name" ${E2E_CONNS[$name]}
		done
		echo "}"
	} >"$s/swanctl.conf"
}

# e2e_swanctl <gw> <swanctl command and options...>: swanctl against that
# gateway's charon (its strongswan.conf, swanctl directory and vici socket)
e2e_swanctl() {
	local gw=$1 d=$E2E_DIR/$1 conf
	shift
	case $1 in
	--load-all|--load-creds|-q|-s) conf=$d/strongswan.conf ;;
	*) conf=$d/swanctl-light.conf ;;
	esac
	[ -f "$conf" ] || conf=$d/strongswan.conf
	STRONGSWAN_CONF=$conf SWANCTL_DIR=$d/swanctl \
		swanctl "$@" --uri "unix://$d/charon.vici"
}

_e2e_vici_up() { e2e_swanctl "$1" --stats >/dev/null 2>&1; }

# e2e_charon_start <gw...>: configure and start one charon per gateway in its
# namespace, each with a private /run (unshare -m + tmpfs), then wait until
# every vici socket answers
e2e_charon_start() {
	local gw d
	for gw in "$@"; do
		d=$E2E_DIR/$gw
		[ -d "$d" ] || mkdir -p "$d" || return 1
		e2e_charon_config "$gw" || return 1
		[ -e "$d/charon.vici" ] || [ -e "$d/charon.log" ] && rm -f "$d/charon.vici" "$d/charon.log"
		STRONGSWAN_CONF=$d/strongswan.conf ip netns exec "e2e-$gw" \
			unshare -m sh -c 'mount -t tmpfs -o mode=0755 tmpfs /run && exec "$@"' \
			sh "$E2E_CHARON" </dev/null >"$d/charon.out" 2>&1 &
		E2E_CHARON_PID[$gw]=$!
	done
	# swanctl is slow to start in the guest: wait for the socket first
	for gw in "$@"; do
		if ! e2e_wait "$E2E_CHARON_TIMEOUT" _e2e_charon_socket "$gw" ||
		   ! e2e_wait 30 _e2e_vici_up "$gw"; then
			e2e_log "charon $gw: vici does not answer"
			return 1
		fi
	done
}

_e2e_charon_socket() { # <gw>
	if ! kill -0 "${E2E_CHARON_PID[$1]}" 2>/dev/null; then
		e2e_log "charon $1 exited: $(tail -n 5 "$E2E_DIR/$1/charon.out")"
		return 2
	fi
	[ -S "$E2E_DIR/$1/charon.vici" ]
}

# e2e_charon_load <gw...>: swanctl --load-all into each gateway's charon
e2e_charon_load() {
	local gw d out
	for gw in "$@"; do
		d=$E2E_DIR/$gw
		if ! out=$(e2e_swanctl "$gw" --load-all --noprompt --file "$d/swanctl/swanctl.conf" 2>&1); then
			e2e_log "swanctl --load-all on $gw failed:"
			printf '%s\n' "$out" | sed 's/^/#   /'
			return 1
		fi
	done
}

# e2e_charon_stop [gw...]: stop the charons (all by default)
e2e_charon_stop() {
	local gw pid
	[ $# -gt 0 ] || set -- "${!E2E_CHARON_PID[@]}"
	for gw in "$@"; do
		pid=${E2E_CHARON_PID[$gw]:-}
		[ -n "$pid" ] || continue
		_e2e_kill_wait "$pid"
		unset "E2E_CHARON_PID[$gw]"
	done
}

_e2e_kill_wait() { # <pid>: TERM, up to 5 s, then KILL
	local pid=$1 n=0
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 25 ]; do
		e2e_sleep 0.2
		n=$((n + 1))
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# ---------------------------------------------------------------- charon log

# e2e_log_mark <gw...>: remember where the charon logs end now
e2e_log_mark() {
	local gw lines
	for gw in "$@"; do
		lines=()
		[ -f "$E2E_DIR/$gw/charon.log" ] && mapfile -t lines <"$E2E_DIR/$gw/charon.log"
		E2E_LOG_MARK[$gw]=${#lines[@]}
	done
}

# e2e_log_since <gw>: the charon log lines written since e2e_log_mark
e2e_log_since() {
	local lines=()
	[ -f "$E2E_DIR/$1/charon.log" ] &&
		mapfile -t -s "${E2E_LOG_MARK[$1]:-0}" lines <"$E2E_DIR/$1/charon.log"
	[ ${#lines[@]} = 0 ] || printf '%s\n' "${lines[@]}"
}

# e2e_log_scan <gw>: read the charon log since the mark (bash only) and set
#   E2E_SENT_MAX    largest datagram sent (bytes, 0 if none)
#   E2E_SENT_ALL    all datagram sizes sent, space separated
#   E2E_RETRANSMITS retransmissions logged
# from "sending packet: from A[p] to B[p] (N bytes)" and "retransmit N of
# request" lines
e2e_log_scan() {
	local lines=() line re_sent='sending packet: .* \(([0-9]+) bytes\)$'
	E2E_SENT_MAX=0 E2E_SENT_ALL='' E2E_RETRANSMITS=0
	[ -f "$E2E_DIR/$1/charon.log" ] &&
		mapfile -t -s "${E2E_LOG_MARK[$1]:-0}" lines <"$E2E_DIR/$1/charon.log"
	for line in "${lines[@]}"; do
		if [[ $line =~ $re_sent ]]; then
			E2E_SENT_ALL+="${E2E_SENT_ALL:+ }${BASH_REMATCH[1]}"
			[ "${BASH_REMATCH[1]}" -gt "$E2E_SENT_MAX" ] && E2E_SENT_MAX=${BASH_REMATCH[1]}
		elif [[ $line == *"retransmit "*" of request"* ]]; then
			E2E_RETRANSMITS=$((E2E_RETRANSMITS + 1))
		fi
	done
}

# e2e_sent_sizes <gw>: sizes of the datagrams charon sent since the mark
e2e_sent_sizes() { e2e_log_scan "$1"; echo "$E2E_SENT_ALL"; }

# e2e_max_sent <gw>: the largest of those (0 if none)
e2e_max_sent() { e2e_log_scan "$1"; echo "$E2E_SENT_MAX"; }

# e2e_retransmits <gw>: retransmissions charon logged since the mark
e2e_retransmits() { e2e_log_scan "$1"; echo "$E2E_RETRANSMITS"; }

# ---------------------------------------------------------------- SAs

# e2e_sas <gw> [conn]: one line per SA from swanctl --list-sas:
#   ike <unique-id> <state> <spi-i>
#   child <unique-id> <state> <mode> <spi-in> <spi-out> <IKE SA unique-id>
# (all SAs, or those of the IKE SA named conn); parsed in bash
e2e_sas() {
	local gw=$1 filter=() line out cid=- cst=- mode=- cin=- ike=-
	local re_ike='^[^ ].*: #([0-9]+), ([A-Z_]+), IKEv[12], ([0-9a-f]+)_i'
	local re_child='^  [^ ].*: #([0-9]+), reqid [0-9]+, ([A-Z_]+), ([A-Za-z_-]+),'
	local re_in='^    in  ([0-9a-f]+)' re_out='^    out ([0-9a-f]+)'
	[ -n "${2:-}" ] && filter=(--ike "$2")
	out=$(e2e_swanctl "$gw" --list-sas "${filter[@]}" 2>/dev/null)
	while IFS= read -r line; do
		if [[ $line =~ $re_ike ]]; then
			ike=${BASH_REMATCH[1]}
			echo "ike $ike ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
		elif [[ $line =~ $re_child ]]; then
			cid=${BASH_REMATCH[1]} cst=${BASH_REMATCH[2]} mode=${BASH_REMATCH[3]} cin=-
		elif [[ $line =~ $re_in ]]; then
			cin=${BASH_REMATCH[1]}
		elif [[ $line =~ $re_out ]]; then
			echo "child $cid $cst $mode $cin ${BASH_REMATCH[1]} $ike"
		fi
	done <<<"$out"
}

# e2e_sa_established <gw> <conn>: the IKE SA conn is ESTABLISHED on gw with
# an INSTALLED CHILD SA
e2e_sa_established() {
	local sas
	sas=$(e2e_sas "$1" "$2")
	[[ $sas =~ (^|$'\n')"ike "[0-9]+" ESTABLISHED " ]] &&
		[[ $sas =~ (^|$'\n')"child "[0-9]+" INSTALLED " ]]
}

# e2e_xfrm_stat <gw>: "<ESP states> <packets counted over all of them>" in
# the kernel of gw (one `ip -s xfrm state`)
e2e_xfrm_stat() {
	local line n=0 p=0 out re='[^0-9]([0-9]+)\(packets\)'
	out=$(ip -n "e2e-$1" -s xfrm state 2>/dev/null)
	while IFS= read -r line; do
		[[ $line == *"proto esp "* ]] && n=$((n + 1))
		[[ $line =~ $re ]] && p=$((p + BASH_REMATCH[1]))
	done <<<"$out"
	echo "$n $p"
}

# e2e_xfrm_states <gw>: number of ESP states in the kernel of gw
e2e_xfrm_states() { local n _p; read -r n _p < <(e2e_xfrm_stat "$1"); echo "$n"; }

# e2e_initiate <conn> [timeout-s]: gw-left initiates conn (its CHILD SA);
# succeeds when swanctl says both SAs are up and gw-right has them too.
# swanctl's output goes to $E2E_DIR/initiate-<conn>.out
e2e_initiate() {
	local conn=$1 timeout=${2:-60} out rc
	out=$E2E_DIR/initiate-$conn.out
	e2e_swanctl gl --initiate --ike "$conn" --child "$conn" --timeout "$timeout" \
		--loglevel 0 >"$out" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		e2e_log "swanctl --initiate $conn: status $rc: $(tail -n 1 "$out")"
		return $rc
	fi
	# the responder installs its SAs before it answers; give it a moment
	e2e_wait 5 e2e_sa_established gr "$conn" ||
		{ e2e_log "$conn: not established on gr"; return 1; }
}

# e2e_ping <4|6> [count]: host-left pings host-right (only possible through
# the tunnel: the middlebox has no route between the host networks); all
# count replies must arrive within 15 s; both gateways must then have at
# least two ESP states that counted packets
e2e_ping() {
	local fam=$1 count=${2:-3} dst out rc summary nl pl nr pr
	case $fam in
	4) dst=$E2E_HR4 ;;
	6) dst=$E2E_HR6 ;;
	*) echo "e2e_ping: 4|6" >&2; return 2 ;;
	esac
	out=$(ip netns exec e2e-hl ping -q -n -c "$count" -i 0.2 -w 15 "$dst" 2>&1)
	rc=$?
	[[ $out =~ [^$'\n']*(transmitted|unreachable)[^$'\n']* ]] && summary=${BASH_REMATCH[0]}
	if [ $rc != 0 ]; then
		e2e_log "ping $dst failed: ${summary:-$out}"
		return 1
	fi
	e2e_log "ping $dst: $summary"
	read -r nl pl < <(e2e_xfrm_stat gl)
	read -r nr pr < <(e2e_xfrm_stat gr)
	if [ "$nl" -lt 2 ] || [ "$nr" -lt 2 ] || [ "$pl" = 0 ] || [ "$pr" = 0 ]; then
		e2e_log "ESP states: gl $nl ($pl packets), gr $nr ($pr packets); want 2 each, with packets"
		return 1
	fi
}

_e2e_ike_spi() { # <gw> <conn> [old]: SPIi of its ESTABLISHED IKE SA (not old)
	local t id st spi _r
	while read -r t id st spi _r; do
		[ "$t" = ike ] && [ "$st" = ESTABLISHED ] && [ "$spi" != "${3:-}" ] &&
			{ echo "$spi"; return 0; }
	done < <(e2e_sas "$1" "$2")
	return 1
}

_e2e_child_spi() { # <gw> <conn> [old]: inbound SPI of an INSTALLED CHILD SA (not old)
	local t id st mode in _r
	while read -r t id st mode in _r; do
		[ "$t" = child ] && [ "$st" = INSTALLED ] && [ "$in" != "${3:-}" ] &&
			{ echo "$in"; return 0; }
	done < <(e2e_sas "$1" "$2")
	return 1
}

_e2e_rekeyed_ike() { # <conn> <old spi-i>: an ESTABLISHED IKE SA with a new SPI and its own INSTALLED CHILD SA
	local t id st f4 f7 new=
	while read -r t id st f4 _ _ f7; do
		# ike <id> <state> <spi-i> | child <id> <state> <mode> <in> <out> <ike-id>
		if [ "$t" = ike ] && [ "$st" = ESTABLISHED ] && [ "$f4" != "$2" ]; then
			new=$id
		elif [ "$t" = child ] && [ -n "$new" ] && [ "$f7" = "$new" ] && [ "$st" = INSTALLED ]; then
			return 0
		fi
	done < <(e2e_sas gl "$1")
	return 1
}

_e2e_rekeyed_child() { # <conn> <old spi-in>: a new INSTALLED CHILD SA, in the kernel
	local new
	new=$(_e2e_child_spi gl "$1" "$2") &&
		ip -n e2e-gl xfrm state | grep -q "spi 0x$new "
}

# e2e_rekey_ike <conn> [timeout-s]: rekey the IKE SA (IKEv1: charon
# reauthenticates with a new Main Mode and Quick Mode, and deletes the old
# IKE SA some seconds later); wait for an ESTABLISHED IKE SA with a new SPI
# that has an INSTALLED CHILD SA
e2e_rekey_ike() {
	local conn=$1 timeout=${2:-60} old new
	old=$(_e2e_ike_spi gl "$conn") || { e2e_log "$conn: no established IKE SA to rekey"; return 1; }
	e2e_swanctl gl --rekey --ike "$conn" >/dev/null || return 1
	if ! e2e_wait "$timeout" _e2e_rekeyed_ike "$conn" "$old"; then
		e2e_log "$conn: IKE SA not rekeyed within ${timeout}s: $(e2e_sas gl "$conn" | tr '\n' ';')"
		return 1
	fi
	new=$(_e2e_ike_spi gl "$conn" "$old")
	e2e_log "$conn: IKE SA rekeyed, SPIi $old -> $new"
}

# e2e_rekey_child <conn> [timeout-s]: rekey the CHILD SA; wait for an
# INSTALLED CHILD SA with a new inbound SPI that the kernel has. (IKEv2
# deletes the old one right away; IKEv1 charon keeps it until it expires,
# charon.delete_rekeyed being "no" by default.)
e2e_rekey_child() {
	local conn=$1 timeout=${2:-60} old new
	old=$(_e2e_child_spi gl "$conn") || { e2e_log "$conn: no installed CHILD SA to rekey"; return 1; }
	e2e_swanctl gl --rekey --child "$conn" >/dev/null || return 1
	if ! e2e_wait "$timeout" _e2e_rekeyed_child "$conn" "$old"; then
		e2e_log "$conn: CHILD SA not rekeyed within ${timeout}s: $(e2e_sas gl "$conn" | tr '\n' ';')"
		return 1
	fi
	new=$(_e2e_child_spi gl "$conn" "$old")
	e2e_log "$conn: CHILD SA rekeyed, inbound SPI $old -> $new"
}

_e2e_no_xfrm() { # no ESP state on either gateway
	[ "$(e2e_xfrm_states gl)" = 0 ] && [ "$(e2e_xfrm_states gr)" = 0 ]
}

# e2e_terminate [conn]: gw-left deletes conn (every IKE SA of that name,
# waiting up to 5 s for the answer), then whatever gw-right still lists
# (the half-open SA of a failed attempt, an SA whose DELETE was lost) is
# destroyed; succeeds when no ESP state is left on either gateway and
# neither charon lists an SA. Without conn, gw-left's SAs are destroyed too.
e2e_terminate() {
	local conn=${1:-} gw id t _r gws=(gr) left=()
	if [ -n "$conn" ]; then
		e2e_swanctl gl --terminate --ike "$conn" --force --timeout 5 --loglevel -1 >/dev/null 2>&1
	else
		gws=(gl gr)
	fi
	for gw in "${gws[@]}"; do
		while read -r t id _r; do
			[ "$t" = ike ] || continue
			e2e_swanctl "$gw" --terminate --ike-id "$id" --force --loglevel -1 >/dev/null 2>&1
			[[ " ${left[*]} " == *" $gw "* ]] || left+=("$gw")
		done < <(e2e_sas "$gw")
	done
	# the kernel states go, and where charon still had SAs, they go too
	if e2e_wait 10 _e2e_no_xfrm && e2e_wait 10 _e2e_no_sas_on "${left[@]}"; then
		return 0
	fi
	e2e_log "SAs left after terminate: gl: $(e2e_sas gl | tr '\n' ';') gr: $(e2e_sas gr | tr '\n' ';')"
	return 1
}

_e2e_no_sas_on() { # <gw...>: none of them lists an SA
	local gw
	for gw in "$@"; do
		[ -z "$(e2e_sas "$gw")" ] || return 1
	done
}

# ---------------------------------------------------------------- iketcpd

# e2e_iketcpd_conf|ctl|log <gw>: its configuration, control socket, log
e2e_iketcpd_conf() { echo "$E2E_DIR/$1/iketcpd.conf"; }
e2e_iketcpd_ctl() { echo "$E2E_DIR/$1/iketcpd.ctl"; }
e2e_iketcpd_log() { echo "$E2E_DIR/$1/iketcpd.log"; }

_e2e_iketcpd_write_conf() { # <gw>: from E2E_IKETCPD_LINES[gw] (newline separated)
	local gw=$1 cfg=${E2E_IKETCPD_LINES[$1]}
	{
		echo "# generated by selftests/e2e/lib.sh for $gw"
		[[ $cfg =~ (^|$'\n')[[:space:]]*log-level ]] || echo "log-level debug"
		printf '%s\n' "$cfg"
	} >"$(e2e_iketcpd_conf "$gw")"
}

# e2e_iketcpd_start <gw> <config-line...>: write iketcpd.conf, one argument
# per line (e.g. "listen 192.0.2.1", "peer 198.51.100.1 tcp"; "log-level
# debug" unless a log-level line is given), start `iketcpd -f -c <conf>
# --ctl <socket>` in the gateway's namespace, stderr appended to
# iketcpd.log; waits up to 30 s for the control socket (a loaded TCG guest)
e2e_iketcpd_start() {
	local gw=$1 d
	shift
	d=$(e2e_gw_dir "$gw")
	mkdir -p "$d" || return 1
	[ -x "$E2E_IKETCPD" ] || { e2e_log "$E2E_IKETCPD is not built"; return 1; }
	e2e_iketcpd_stop "$gw"
	E2E_IKETCPD_LINES[$gw]=$(printf '%s\n' "$@")
	_e2e_iketcpd_write_conf "$gw"
	rm -f "$(e2e_iketcpd_ctl "$gw")"
	ip netns exec "e2e-$gw" "$E2E_IKETCPD" -f -c "$(e2e_iketcpd_conf "$gw")" \
		--ctl "$(e2e_iketcpd_ctl "$gw")" </dev/null >>"$(e2e_iketcpd_log "$gw")" 2>&1 &
	E2E_IKETCPD_PID[$gw]=$!
	if ! e2e_wait 30 _e2e_iketcpd_ready "$gw"; then
		e2e_log "iketcpd $gw did not come up; its log:"
		tail -n 20 "$(e2e_iketcpd_log "$gw")" | sed 's/^/#   /'
		return 1
	fi
}

_e2e_iketcpd_ready() {
	kill -0 "${E2E_IKETCPD_PID[$1]}" 2>/dev/null || return 2
	[ -S "$(e2e_iketcpd_ctl "$1")" ]
}

# e2e_iketcpd_reload <gw> [config-line...]: rewrite the configuration (from
# the new lines if given, else the current ones) and send SIGHUP
e2e_iketcpd_reload() {
	local gw=$1 pid
	shift
	pid=${E2E_IKETCPD_PID[$gw]:-}
	if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
		e2e_log "iketcpd $gw is not running"
		return 1
	fi
	[ $# -gt 0 ] && E2E_IKETCPD_LINES[$gw]=$(printf '%s\n' "$@")
	_e2e_iketcpd_write_conf "$gw"
	kill -HUP "$pid"
}

# e2e_iketcpd_stop [gw...]: stop iketcpd (all by default)
e2e_iketcpd_stop() {
	local gw pid
	[ $# -gt 0 ] || set -- "${!E2E_IKETCPD_PID[@]}"
	for gw in "$@"; do
		pid=${E2E_IKETCPD_PID[$gw]:-}
		[ -n "$pid" ] || continue
		_e2e_kill_wait "$pid"
		unset "E2E_IKETCPD_PID[$gw]"
	done
}

# e2e_json_sum <json> <key>: a numeric field, summed over every object of
# the JSON text that has it (iketcpctl --json output)
e2e_json_sum() {
	local out=$1 n sum=0
	while [[ $out =~ \"$2\":([0-9]+)(.*) ]]; do
		n=${BASH_REMATCH[1]} out=${BASH_REMATCH[2]}
		sum=$((sum + n))
	done
	echo "$sum"
}

# e2e_conn_sum <gw> <counter>: a counter of the module (iketcpctl --json
# conns: esp_tx_pkts, ...), summed over the gateway's connections
e2e_conn_sum() {
	e2e_json_sum "$(ip netns exec "e2e-$1" "$E2E_IKETCPCTL" --json conns 2>/dev/null)" "$2"
}

# e2e_conn_reset <gw>: abort the gateway's first active connection (RST)
e2e_conn_reset() {
	local id
	id=$(ip netns exec "e2e-$1" "$E2E_IKETCPCTL" conns | sed -n 's/^conn \([0-9]*\) .*active.*/\1/p' | head -n1)
	[ -n "$id" ] || { e2e_log "$1 has no active connection"; return 1; }
	ip netns exec "e2e-$1" "$E2E_IKETCPCTL" close "$id" || return 1
	e2e_log "TCP connection $id reset by $1"
}

# e2e_iperf <4|6|nat> <seconds>: an iperf3 TCP run from the host behind
# gw-left to the one behind gw-right, through the tunnel (bounded: a stalled
# tunnel does not hang the run); its throughput in Mbit/s goes to
# E2E_IPERF_MBPS and the log. Fails if it did not finish or moved nothing.
e2e_iperf() {
	local dst=$E2E_HR4 out bps srv
	E2E_IPERF_MBPS=
	[ "$1" = 6 ] && dst=$E2E_HR6
	ip netns exec e2e-hr iperf3 -s -1 -B "$dst" >/dev/null 2>&1 &
	srv=$!
	sleep 1
	out=$(ip netns exec e2e-hl timeout $(($2 + 30)) iperf3 -c "$dst" -t "$2" -J 2>&1)
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	bps=$(sed -n '/"sum_received"/,/}/s/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' <<<"$out" | head -n1)
	[ -n "$bps" ] || { e2e_log "iperf3: $(tail -n 3 <<<"$out" | tr '\n' ' ')"; return 1; }
	E2E_IPERF_MBPS=$(awk -v b="$bps" 'BEGIN { printf "%.1f", b / 1e6 }')
	e2e_log "iperf3 TCP $2 s through the tunnel: $E2E_IPERF_MBPS Mbit/s"
	awk -v b="$bps" 'BEGIN { exit !(b > 0) }'
}

# e2e_link_drops <ns>: the namespace's interfaces that dropped packets
# ("dev rx/tx"), for diagnostics
e2e_link_drops() {
	ip -n "e2e-$1" -s link 2>/dev/null | awk '
		/^[0-9]+:/ { dev = $2; sub(/@.*|:$/, "", dev) }
		/RX:/ { getline; rx = $4 } /TX:/ { getline; if (rx + $4) printf "%s %s/%s ", dev, rx, $4 }'
}

# e2e_cell_check <name> <cmd...>: e2e_check for a script of cells (matrix.sh,
# interop.sh), named after the current cell ($CUR) and counted in its
# CELL_PASS[CI] and CELL_FAIL[CI]
e2e_cell_check() {
	local p=$E2E_PASS f=$E2E_FAIL rc
	e2e_check "$CUR: $1" "${@:2}"
	rc=$?
	CELL_PASS[CI]=$((${CELL_PASS[CI]:-0} + E2E_PASS - p))
	CELL_FAIL[CI]=$((${CELL_FAIL[CI]:-0} + E2E_FAIL - f))
	return $rc
}

# ---------------------------------------------------------------- set-up / tear-down

# e2e_setup: fresh runtime directory, topology (checked), both charons
# started and loaded; logs each step's time
e2e_setup() {
	e2e_cleanup
	rm -rf "$E2E_DIR" && mkdir -p "$E2E_DIR" || return 1
	e2e_step "topology" e2e_topology_up &&
	e2e_step "topology check" e2e_topology_check &&
	e2e_step "charon start (both, until vici answers)" e2e_charon_start gl gr &&
	e2e_step "swanctl --load-all (both)" e2e_charon_load gl gr
}

# e2e_cleanup: stop iketcpd and charon, delete the namespaces. Safe to call
# repeatedly, after failures and with nothing set up.
e2e_cleanup() {
	e2e_iketcpd_stop
	e2e_charon_stop
	e2e_pluto_stop
	e2e_topology_down
}

# e2e_save_logs [label]: copy the runtime directory (logs, configuration,
# SA state; not the private keys) to E2E_LOGDIR, by default
# build/e2e/logs/<label, default the script's name>-<kernel release>/
e2e_save_logs() {
	local label=${1:-$(basename "$0" .sh)} dst gw
	dst=${E2E_LOGDIR:-$E2E_ROOT/build/e2e/logs/$label-$(uname -r)}
	[ -d "$E2E_DIR" ] || return 0
	for gw in "${E2E_GATEWAYS[@]}"; do
		[ -d "$E2E_DIR/$gw" ] || continue
		{
			if [ "${E2E_DAEMON[$gw]:-charon}" = pluto ]; then
				echo "== whack --showstates"; e2e_whack "$gw" --showstates 2>&1
			else
				echo "== swanctl --list-sas"; e2e_swanctl "$gw" --list-sas 2>&1
			fi
			echo "== ip xfrm state"; ip -n "e2e-$gw" xfrm state 2>&1
			echo "== ip xfrm policy"; ip -n "e2e-$gw" xfrm policy 2>&1
		} >"$E2E_DIR/$gw/state.txt"
	done
	ip netns exec e2e-mb nft list ruleset >"$E2E_DIR/mb-nft.txt" 2>&1
	rm -rf "$dst" && mkdir -p "$dst" || return 1
	# regular files only: the vici and control sockets must not be copied
	# (a socket created on the guest's 9p share of the repository makes qemu
	# declare the client compromised and cut the share off)
	(cd "$E2E_DIR" && find . -type f ! -path '*/private/*' -exec cp --parents -t "$dst" {} +)
	e2e_log "logs saved in ${dst#"$E2E_ROOT"/}"
}

# e2e_collect_logs [label]: e2e_save_logs, then print the tail of every log
# (E2E_LOG_TAIL lines, default 25) as TAP diagnostics
e2e_collect_logs() {
	local f
	e2e_save_logs "$@"
	for f in "$E2E_DIR"/*/charon.log "$E2E_DIR"/*/charon.out "$E2E_DIR"/*/iketcpd.log \
		 "$E2E_DIR"/*/pluto.log "$E2E_DIR"/*/pluto.out \
		 "$E2E_DIR"/*/state.txt "$E2E_DIR"/*.out "$E2E_DIR"/mb-nft.txt; do
		[ -f "$f" ] || continue
		echo "# ---- ${f#"$E2E_DIR"/} (tail)"
		tail -n "${E2E_LOG_TAIL:-25}" "$f" | sed 's/^/#   /'
	done
}

# pluto beside charon, connections for every topology (e2e_d_*)
# shellcheck source=selftests/e2e/daemon.sh
. "$E2E_LIB/daemon.sh"
