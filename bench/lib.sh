# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - what bench/b2.sh and bench/b3.sh share (sourced, in the VM):
#
#   ns PEERS (benchpeer)                ns GW (the gateway)
#   c0 10.92.0.2/24 ------------------- g0 10.92.0.1/24 ($GW)
#   local 10.93.0.0/16: one source       benchsink on UDP $GW:500/4500,
#   address per connection               iketcpd or relay on TCP $GW:500
#
# Expects T (a private directory) and fills in HPID (the helper's pid).

BB=build/bench
IKETCPD=build/userspace/iketcpd
GW=10.92.0.1

log() { echo "# [$SECONDS s] $*"; }

kv() { # <key> <line>: the value of key=value in line
	local re="(^| )$1=([^ ]*)"
	[[ $2 =~ $re ]] && echo "${BASH_REMATCH[2]}"
}

# The two namespaces and their veth pair; [sysctl ...] set in both
bench_topology() { # <peers ns> <gateway ns> [sysctl ...]
	local ns
	ip netns add "$1" && ip netns add "$2" || return 1
	ip link add c0 netns "$1" type veth peer name g0 netns "$2"
	ip -n "$1" -b - <<EOT
link set lo up
addr add 10.92.0.2/24 dev c0
link set c0 up
route add local 10.93.0.0/16 dev lo
EOT
	ip -n "$2" -b - <<EOT
link set lo up
addr add $GW/24 dev g0
link set g0 up
route add 10.93.0.0/16 via 10.92.0.2
EOT
	for ns in "$1" "$2"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 "${@:3}"
	done
	# the backlog of packets delivered locally (loopback, inject)
	sysctl -qw net.core.netdev_max_backlog=30000
}

# iketcpd.conf for the gateway: every peer over TCP, no limits in the way
bench_iketcpd_conf() { # <file> [extra line ...]
	{
		cat <<EOT
log-level warning
listen $GW 500
peer 0.0.0.0/0 tcp
max-connections 1000000
max-connections-per-source 1000000
max-rate 1000000
EOT
		for l in "${@:2}"; do echo "$l"; done
	} >"$1"
}

# Start a helper in the gateway's netns: iketcpd with <conf> ($T/state
# kept: a restarted iketcpd restores it), or the relay; wait until it is
# ready, at most <tries> x 0.1 s.
bench_helper_start() { # <gateway ns> iketcp|relay <tries> [conf]
	HPID=
	case $2 in
	iketcp)
		rm -f "$T/ctl"
		ip netns exec "$1" "$IKETCPD" -f -c "$4" -s "$T/ctl" \
			--state "$T/state" </dev/null >>"$T/iketcpd.log" 2>&1 &
		HPID=$!
		for _ in $(seq "$3"); do [ -S "$T/ctl" ] && return 0; sleep 0.1; done
		;;
	relay)
		: >"$T/relay.out"
		ip netns exec "$1" "$BB/relay" -l $GW -d $GW </dev/null >>"$T/relay.out" 2>&1 &
		HPID=$!
		for _ in $(seq "$3"); do grep -q ready "$T/relay.out" && return 0; sleep 0.1; done
		;;
	esac
	log "$2 did not start"
	return 1
}
