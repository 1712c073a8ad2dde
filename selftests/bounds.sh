#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bounds.sh - iketcpd's state stays bounded on a gateway exposed to the
# Internet (topology: lib.sh; the attacker sits in the middlebox):
#
# - IKE SAs a peer starts are half-open until authenticated: a few per
#   peer, forgotten after half-open-timeout, never in the state file;
# - max-sas caps the SAs tracked in all; the daemon's answers to requests
#   that came over UDP (spoofable) create nothing;
# - the daemon's requests over UDP are not kept (memory);
# - the state file is written when it changed, not on a timer;
# - accepted connections of strangers close when idle; at a connection
#   limit a stranger makes room, a known peer's reconnect is accepted;
#   IPv6 sources count per /64.
# TAP.

cd "$(dirname "$0")/.." || exit 1
P=bo
T=$(mktemp -d /tmp/bounds.XXXXXX)
. selftests/lib.sh
trap lib_cleanup EXIT
ATK=(ip netns exec "$P-m" "$B/hostile")
SRCS=$(for i in $(seq 100 109); do printf '10.77.2.%d ' "$i"; done)
SRCS6=$(for i in $(seq 256 275); do printf 'fd77:2::%x ' "$i"; done)

echo "TAP version 13"
ip link set lo up
topology
for ip in $SRCS; do nsx m ip addr add "$ip/24" dev m1; done
for ip in $SRCS6; do nsx m ip addr add "$ip/64" dev m1 nodad; done

restart() { # both iketcpd, with the configurations written before
	daemon_stop a
	daemon_stop b
	rm -f "$T"/ctl-*.state
	daemon_start a && daemon_start b
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$(cat "$T/iketcpd-$1.pid")/status"; }
# hostile idle in the background, on its own (-t: it ends by itself, so no
# daemon started meanwhile can hold it open through an inherited pipe)
holder() { # NAME ARGS... of hostile idle
	local n=$1
	shift
	ip netns exec "$P-m" "$B/hostile" idle "$@" </dev/null >"$T/$n.out" 2>&1 &
	echo $! >"$T/$n.pid"
}
holder_wait() { # NAME: its "accepted A refused R" line
	for _ in $(seq 100); do
		grep -q '^accepted' "$T/$1.out" && break
		sleep 0.2
	done
	grep -m1 '^accepted' "$T/$1.out"
}
holder_end() { # NAME: end its hold (SIGUSR1), its "still open K" line
	kill -USR1 "$(cat "$T/$1.pid")" 2>/dev/null
	for _ in $(seq 100); do
		grep -q '^still open' "$T/$1.out" && break
		sleep 0.2
	done
	grep -m1 '^still open' "$T/$1.out"
}
# BOUNDS_OLD=1: for iketcpd builds older than these bounds (to see the
# tests fail there): the directives they reject are left out
if [ "${BOUNDS_OLD:-0}" = 1 ]; then
	eval "bounds_orig_$(declare -f daemon_conf)"
	daemon_conf() {
		local n=$1 l a=()
		shift
		for l; do
			case $l in
			max-sas*|max-half-open*|half-open-timeout*|stranger-timeout*|sa-timeout*) ;;
			*) a+=("$l") ;;
			esac
		done
		bounds_orig_daemon_conf "$n" "${a[@]}"
	}
fi
n_sa_lines() { local n; n=$(grep -c '^sa ' "$T/ctl-$1.state" 2>/dev/null); echo "${n:-0}"; }

fake_start a a 10.77.1.1 && fake_start b b 10.77.2.1
check "fake daemons started" test $? = 0

# ---- 1. a flood of fresh IKE_SA_INIT: half-open SAs are bounded
daemon_conf a "peer 10.77.2.0/24 tcp"
daemon_conf b "peer 0.0.0.0/0 tcp" "max-half-open-per-peer 32" \
	"half-open-timeout 20" "first-message-timeout 30"
restart
check "iketcpd started on both gateways" test $? = 0
t0=$(date +%s)
"${ATK[@]}" flood 10.77.2.1 500 3000 >"$T/flood.out"
sleep 1
sas=$(counter b sas) refused=$(counter b half_open_refused)
echo "# flood: $(cat "$T/flood.out"); B tracks ${sas:-?} IKE SAs, ${refused:-?} refused, $(counter b rate_dropped) rate-dropped"
check "a flood of 3000 fresh IKE_SA_INIT leaves at most 32 half-open SAs" \
	test -n "$sas" -a "${sas:-999}" -le 32 -a "${refused:-0}" -gt 0
sleep 3
check "... and none of them in the state file" test "$(n_sa_lines b)" = 0
left=$((t0 + 23 - $(date +%s)))
[ "$left" -gt 0 ] && sleep "$left"
sas=$(counter b sas)
check "half-open SAs are forgotten after half-open-timeout (${sas:-?} left)" \
	test -n "$sas" -a "${sas:-999}" = 0

# ---- 2. max-sas: the least recently seen SA makes room
daemon_conf b "peer 10.77.1.0/24 tcp" "max-sas 20"
restart
for i in $(seq 10 49); do
	fake_send b 10.77.1.1 500 300 2 34 08 0 0 "00000000000000$i"
done
fake_wait a "10.77.2.1 500 500 300 2 34 8 0 0" 40
sas=$(counter b sas)
echo "# B's daemon started 40 IKE SAs: B tracks ${sas:-?}, evicted $(counter b sas_evicted)"
check "max-sas 20: at most 20 IKE SAs tracked, all 40 delivered" \
	test -n "$sas" -a "${sas:-999}" -le 20

# ---- 3. the daemon's answers to requests that came over UDP create nothing
daemon_conf b "peer 10.77.0.0/16 auth"
restart
for i in $(seq 100 199); do
	fake_send b "10.77.1.$i" 500 300 2 34 20 0 1100000000000001 "$(printf '%016x' $((0x100 + i)))"
done
sleep 2
sas=$(counter b sas)
echo "# 100 answers to UDP requests from 100 addresses: B tracks ${sas:-?} SAs"
check "answers over UDP (to possibly spoofed requests) create no IKE SA" \
	test -n "$sas" -a "${sas:-999}" = 0

# ---- 4. the daemon's requests over UDP are not kept
daemon_conf a "peer 10.77.2.0/24 auth"
restart
r0=$(rss_kb a)
for i in $(seq 100 249); do
	fake_send a 10.77.2.1 500 60000 2 34 08 0 0 "0000000000002$i"
done
sleep 3
r1=$(rss_kb a)
out=$(counter a outstanding)
echo "# 150 IKE_SA_INIT of 60000 bytes over UDP: iketcpd A RSS $r0 -> $r1 kB, outstanding ${out:-?}"
# (9 MB of requests: 140 kB of growth here, 1292 kB with an iketcpd that
# kept them)
check "requests sent over UDP are not stored (RSS grew by $((r1 - r0)) kB, < 768 kB)" \
	test $((r1 - r0)) -lt 768

# ---- 5. the state file is written when it changed
daemon_conf a "peer 10.77.2.0/24 tcp"
daemon_conf b "peer 10.77.1.0/24 tcp"
restart
fake_send a 10.77.2.1 500 300 2 34 08 0 0 0000000000000301
fake_wait b "10.77.1.1 500 500 300 2 34 8 0 0" 1
sleep 4
m0=$(command stat -c "%i %Y" "$T/ctl-a.state" 2>/dev/null)
sleep 7
m1=$(command stat -c "%i %Y" "$T/ctl-a.state" 2>/dev/null)
check "the state file is not rewritten while nothing changes" \
	test -n "$m0" -a "$m0" = "$m1"

# ---- 6. idle strangers' connections close
daemon_conf b "peer 0.0.0.0/0 tcp" "stranger-timeout 2" "first-message-timeout 30"
restart
holder idle1 10.77.2.1 500 10 -i -t 5000
line=$(holder_wait idle1)
echo "# ten connections that sent an IKE_SA_INIT, then nothing: $line"
sleep 5
line=$(holder_end idle1)
echo "# after 5 s: $line, idle_closed $(counter b idle_closed)"
check "accepted connections of strangers close after stranger-timeout" \
	test "$line" = "still open 0"

# ---- 7. at the connection limit a stranger makes room for a known peer
daemon_conf b "peer 0.0.0.0/0 tcp" "max-connections 20" \
	"stranger-timeout 600" "first-message-timeout 30"
restart
known_sa() {
	fake_send a 10.77.2.1 500 600 2 34 08 0 0 c0c1c2c3c4c5c6c7 &&
	fake_wait b "10.77.1.1 500 500 600 2 34 8 0 0" 1 &&
	fake_send b 10.77.1.1 500 600 2 34 20 0 d0d1d2d3d4d5d6d7 c0c1c2c3c4c5c6c7 &&
	fake_wait a "10.77.2.1 500 500 600 2 34 20 0 d0d1d2d3d4d5d6d7" &&
	fake_send a 10.77.2.1 500 3000 2 35 08 1 d0d1d2d3d4d5d6d7 c0c1c2c3c4c5c6c7 &&
	fake_wait b "10.77.1.1 500 500 3000 2 35 8 1 d0d1d2d3d4d5d6d7" &&
	fake_send b 10.77.1.1 500 2000 2 35 20 1 d0d1d2d3d4d5d6d7 c0c1c2c3c4c5c6c7 &&
	fake_wait a "10.77.2.1 500 500 2000 2 35 20 1 d0d1d2d3d4d5d6d7"
}
legit=0
legit_exchange() {
	legit=$((legit + 1))
	fake_send a 10.77.2.1 500 300 2 37 08 $((40 + legit)) d0d1d2d3d4d5d6d7 c0c1c2c3c4c5c6c7 &&
	fake_wait b "10.77.1.1 500 500 300 2 37 8 $((40 + legit)) " &&
	fake_send b 10.77.1.1 500 300 2 37 20 $((40 + legit)) d0d1d2d3d4d5d6d7 c0c1c2c3c4c5c6c7 &&
	fake_wait a "10.77.2.1 500 500 300 2 37 20 $((40 + legit)) "
}
check "a known peer: IKE SA set up and authenticated" known_sa
check "... an exchange after IKE_AUTH" legit_exchange
# shellcheck disable=SC2086
holder idle2 10.77.2.1 500 30 -i -t 120000 $SRCS
line=$(holder_wait idle2)
echo "# 30 strangers' connections from ten sources: $line, evicted $(counter b evicted), accepted now $(counter b accepted)"
check "the known peer's connection was not evicted" legit_exchange
# A's iketcpd restarts: its connection closes, a stranger takes the slot,
# the table is full of strangers when A reconnects
daemon_stop a
sleep 1
holder idle3 10.77.2.1 500 3 -i -t 120000 10.77.2.254
line=$(holder_wait idle3)
echo "# three more strangers' connections: $line, accepted now $(counter b accepted)"
daemon_start a
check "the known peer reconnects at the limit (a stranger makes room) and is served" \
	legit_exchange
echo "# strangers: $(holder_end idle2), $(holder_end idle3); evicted $(counter b evicted)"

# ---- 8. IPv6 sources count per /64
daemon_conf b "peer ::/0 tcp" "max-connections-per-source 5" \
	"stranger-timeout 600" "first-message-timeout 30"
restart
# shellcheck disable=SC2086
holder idle6 fd77:2::1 500 20 -i -t 1000 $SRCS6
line=$(holder_wait idle6)
sleep 1
line2=$(holder_end idle6)
echo "# 20 connections from 20 addresses of one /64: $line, at the end $line2"
open=$(sed -n 's/^still open //p' <<<"$line2")
check "one IPv6 /64 is one source: at most 5 of its connections stay" \
	test -n "$open" -a "${open:-99}" -le 5

totals
