# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - shell helpers for the iketcpd tests that use scriptable fake IKE
# daemons (fakeike) instead of a real one: a three-namespace topology,
# fakeike and iketcpd per gateway, status queries, TAP output.
#
#   ns $P-a (gw A)            ns $P-m (middlebox)            ns $P-b (gw B)
#   a0 10.77.1.1/24  ----  m0 10.77.1.254   m1 10.77.2.254  ----  b0 10.77.2.1/24
#      fd77:1::1/64           fd77:1::fe     fd77:2::fe           fd77:2::1/64
#
# The middlebox drops every IPv4 and IPv6 fragment. Set P (namespace prefix)
# and T (a scratch directory) before sourcing.

B=build/selftests
IKETCPD=${IKETCPD:-build/userspace/iketcpd}
CTL=${IKETCPCTL:-build/userspace/iketcpctl}
n=0 pass=0 fail=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
notok() {
	n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"
	for f in "$T"/*.log; do echo "# --- $f"; tail -n 15 "$f" | sed 's/^/# /'; done
}
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }
totals() {
	echo "1..$n"
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
	[ "$fail" = 0 ]
}

# (background jobs: use ip netns exec directly, so that $! is the process)
nsx() { local g=$1; shift; ip netns exec "$P-$g" "$@"; }

lib_cleanup() {
	for f in "$T"/iketcpd-*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	# shellcheck disable=SC2046
	kill $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	for g in a m b; do ip netns del "$P-$g" 2>/dev/null; done
	rm -rf "$T"
}

topology() {
	for g in a m b; do
		ip netns add "$P-$g"
		ip -n "$P-$g" link set lo up
	done
	ip link add a0 netns "$P-a" type veth peer name m0 netns "$P-m"
	ip link add b0 netns "$P-b" type veth peer name m1 netns "$P-m"
	nsx a ip addr add 10.77.1.1/24 dev a0
	nsx a ip addr add fd77:1::1/64 dev a0 nodad
	nsx m ip addr add 10.77.1.254/24 dev m0
	nsx m ip addr add fd77:1::fe/64 dev m0 nodad
	nsx m ip addr add 10.77.2.254/24 dev m1
	nsx m ip addr add fd77:2::fe/64 dev m1 nodad
	nsx b ip addr add 10.77.2.1/24 dev b0
	nsx b ip addr add fd77:2::1/64 dev b0 nodad
	nsx a ip link set a0 up
	nsx b ip link set b0 up
	nsx m ip link set m0 up
	nsx m ip link set m1 up
	nsx a ip route add default via 10.77.1.254
	nsx a ip -6 route add default via fd77:1::fe
	nsx b ip route add default via 10.77.2.254
	nsx b ip -6 route add default via fd77:2::fe
	nsx m sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	nsx m nft -f - <<-'EOF'
	table inet mb {
		chain drop_frags {
			type filter hook forward priority 0;
			ip frag-off & 0x3fff != 0 counter drop
			exthdr frag exists counter drop
		}
	}
	EOF
}

# fakeike in a namespace, commands through a fifo: fake_start NAME GW ADDR
fake_start() {
	local f=$1 g=$2 addr=$3
	rm -f "$T/fake-$f.in"
	mkfifo "$T/fake-$f.in"
	ip netns exec "$P-$g" "$B/fakeike" "$addr" <"$T/fake-$f.in" >>"$T/fake-$f.log" 2>&1 &
	echo $! >"$T/fake-$f.pid"
	eval "exec {FAKE_$f}>\"$T/fake-$f.in\""
	for _ in $(seq 50); do grep -q ready "$T/fake-$f.log" && return 0; sleep 0.1; done
	return 1
}
fake_stop() {
	# (children inherited the fifo: closing our end is no EOF for fakeike)
	local f=$1 fd="FAKE_$1"
	echo quit >&"${!fd}"
	wait "$(cat "$T/fake-$f.pid")" 2>/dev/null
	eval "exec ${!fd}>&-"
}
fake_send() { local f=$1; shift; local fd="FAKE_$f"; echo "send $*" >&"${!fd}"; }
# count "recv" lines matching a regexp
fake_count() { grep -cE "^recv $2" "$T/fake-$1.log"; }
fake_wait() {
	local f=$1 re=$2 want=${3:-1}
	for _ in $(seq 100); do
		[ "$(fake_count "$f" "$re")" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

daemon_conf() {
	local g=$1
	shift
	printf '%s\n' "log-level debug" "$@" >"$T/iketcpd-$g.conf"
}
daemon_start() {
	local g=$1
	rm -f "$T/ctl-$g"
	ip netns exec "$P-$g" "$IKETCPD" -f -c "$T/iketcpd-$g.conf" -s "$T/ctl-$g" \
		>>"$T/iketcpd-$g.log" 2>&1 &
	echo $! >"$T/iketcpd-$g.pid"
	for _ in $(seq 150); do [ -S "$T/ctl-$g" ] && return 0; sleep 0.1; done
	return 1
}
daemon_stop() {
	local g=$1 sig=${2:-TERM}
	kill -"$sig" "$(cat "$T/iketcpd-$g.pid")" 2>/dev/null
	wait "$(cat "$T/iketcpd-$g.pid")" 2>/dev/null
	rm -f "$T/iketcpd-$g.pid"
}
daemon_reload() { kill -HUP "$(cat "$T/iketcpd-$1.pid")"; sleep 0.5; }
status() { nsx "$1" "$CTL" -s "$T/ctl-$1" --json status; }
# a numeric field of one peer in the JSON status: stat GW PEER-ADDR KEY
stat() {
	status "$1" | grep -o "{\"remote\":\"$2\"[^}]*}" |
		grep -o "\"$3\":[0-9]*" | cut -d: -f2
}
# a global counter of iketcpd: counter GW KEY
counter() { status "$1" | grep -o "\"$2\":[0-9]*" | head -n1 | cut -d: -f2; }
wait_stat() {
	local g=$1 peer=$2 key=$3 want=$4
	for _ in $(seq 50); do
		[ "$(stat "$g" "$peer" "$key")" = "$want" ] && return 0
		sleep 0.2
	done
	echo "# $g $peer $key: $(stat "$g" "$peer" "$key"), wanted $want"
	return 1
}
wait_counter() {
	local g=$1 key=$2 min=$3
	for _ in $(seq 50); do
		[ "$(counter "$g" "$key")" -ge "$min" ] 2>/dev/null && return 0
		sleep 0.2
	done
	echo "# $g $key: $(counter "$g" "$key"), wanted at least $min"
	return 1
}
conn_id() { nsx "$1" "$CTL" conns | sed -n 's/^conn \([0-9]*\) .*active.*/\1/p' | head -n1; }
