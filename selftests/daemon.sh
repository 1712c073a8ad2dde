#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# daemon.sh - iketcpd hardening (issue 11) on a gateway exposed to the
# Internet (topology: lib.sh; iketcpd on gateway B, the attacker in the
# middlebox):
#
# - 1000 refused connections give a bounded number of log lines;
# - the state file is private (0600), written without following a planted
#   symlink, and a symlink in its place is not read;
# - the status socket serves only root and iketcpd's own user, and
#   clients that never send their request cannot stall the daemon;
# - the JSON status is valid JSON whatever the configuration path;
# - accept() without descriptors left (EMFILE) does not spin the loop.
# TAP.

cd "$(dirname "$0")/.." || exit 1
P=dm
T=$(mktemp -d /tmp/daemon.XXXXXX)
. selftests/lib.sh
trap lib_cleanup EXIT
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

echo "TAP version 13"
ip link set lo up
topology

conf_b() { printf '%s\n' "log-level info" "$@" >"$T/iketcpd-b.conf"; }
pid_b() { cat "$T/iketcpd-b.pid"; }
log_lines() { local n; n=$(grep -c "$1" "$T/iketcpd-b.log"); echo "${n:-0}"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# ---- 1. a flood of refused connections: a bounded number of log lines
conf_b "peer 10.77.1.0/24 tcp"
daemon_start b
check "iketcpd started" test $? = 0
t0=$(date +%s)
nsx m "$PY" - 10.77.2.1 500 1000 <<-'EOF'
	import socket, sys
	addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
	for i in range(0, n, 50):
	    socks = []
	    for _ in range(min(50, n - i)):
	        s = socket.create_connection((addr, port), timeout=10)
	        socks.append(s)
	    for s in socks:
	        s.close()
	EOF
wait_counter b refused 1000
# (10 lines and a summary per 5 s period the flood lasted, begun or not)
max=$(((($(date +%s) - t0) / 5 + 2) * 11))
refused=$(counter b refused)
lines=$(log_lines "refused")
echo "# 1000 connections from a stranger in $(($(date +%s) - t0)) s: ${refused:-?} refused, $lines log lines about it (at most $max)"
echo "# $(grep -m1 'suppressed' "$T/iketcpd-b.log")"
check "1000 refused connections: all refused, a bounded number of log lines" \
	test "${refused:-0}" -ge 1000 -a "$lines" -le "$max" -a "$lines" -lt 250

# ---- 2. the state file
daemon_stop b
cat >"$T/victim" <<-'EOF'
	iketcpd-state 2
	peer 10.77.1.9 10.77.2.1 1 1 0 500
	EOF
rm -f "$T/ctl-b.state"
ln -s "$T/victim" "$T/ctl-b.state"
conf_b "peer 0.0.0.0/0 tcp"
daemon_start b
sleep 1
st=$(status b)
check "a symlink planted as the state file is not read" \
	test -n "$st" -a "${st/10.77.1.9/}" = "$st"
daemon_stop b
rm -f "$T/ctl-b.state" "$T/ctl-b.state.tmp"
echo untouched >"$T/victim2"
ln -s "$T/victim2" "$T/ctl-b.state.tmp"
daemon_start b
# a peer's connection comes up: the state changes, it is written
ip netns exec "$P-m" "$B/hostile" idle 10.77.2.1 500 1 -t 6000 </dev/null >"$T/idle.out" 2>&1 &
idle=$!
for _ in $(seq 100); do [ -f "$T/ctl-b.state" ] && [ ! -L "$T/ctl-b.state" ] && break; sleep 0.2; done
mode=$(command stat -c %a "$T/ctl-b.state" 2>/dev/null)
echo "# state file mode ${mode:-none}, planted symlink's target: $(cat "$T/victim2")"
check "the state file is written 0600" test "${mode:-none}" = 600
check "... without following a symlink planted at its temporary name" \
	test "$(cat "$T/victim2")" = untouched
wait "$idle"

# ---- 3. the status socket: uid check, stalled clients
chmod 755 "$T"
chmod 666 "$T/ctl-b"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$CTL" -s "$T/ctl-b" status 2>&1)
echo "# as uid 65534 (socket made world-writable): $(head -n1 <<<"$out")"
check "a client of another uid is refused" test "${out/iketcpd pid/}" = "$out"
chmod 600 "$T/ctl-b"
# (the time of a request without them first: the guest may be slow)
status_ms() {
	local t0 out
	t0=$(date +%s%N)
	out=$(timeout 120 "$CTL" -s "$T/ctl-b" status)
	[ "${out/iketcpd pid/}" != "$out" ] || { echo 999999; return; }
	echo $((($(date +%s%N) - t0) / 1000000))
}
status_ms >/dev/null
base=$(status_ms)
"$PY" - "$T/ctl-b" 20 120 </dev/null >"$T/stall.out" 2>&1 <<-'EOF' &
	import socket, sys, time
	path, n, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
	socks = []
	for _ in range(n):
	    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	    s.connect(path)
	    socks.append(s)
	print("stalling", flush=True)
	time.sleep(hold)
	EOF
stall=$!
for _ in $(seq 600); do grep -q stalling "$T/stall.out" && break; sleep 0.1; done
ms=$(status_ms)
echo "# a status request took $base ms, with 20 silent clients connected $ms ms"
stall_ok() { grep -q stalling "$T/stall.out" && [ "$ms" -lt $((2 * base + 3000)) ]; }
check "clients that never send their request do not stall the daemon" stall_ok
kill "$stall" 2>/dev/null
wait "$stall" 2>/dev/null

# ---- 4. the JSON status with a strange configuration path
daemon_stop b
weird="$T/we\"ird\\path.conf"
cp "$T/iketcpd-b.conf" "$weird"
rm -f "$T/ctl-b"
ip netns exec "$P-b" "$IKETCPD" -f -c "$weird" -s "$T/ctl-b" >>"$T/iketcpd-b.log" 2>&1 &
echo $! >"$T/iketcpd-b.pid"
for _ in $(seq 300); do [ -S "$T/ctl-b" ] && break; sleep 0.1; done
status b >"$T/status.json"
got=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["config"])' \
	"$T/status.json" 2>&1)
echo "# config path in the JSON status: $got"
check "the JSON status is valid JSON with a quote and a backslash in the path" \
	test "$got" = "$weird"

# ---- 5. readiness for systemd (Type=notify): once the capture rules are in
daemon_stop b
rm -f "$T/notify.sock" "$T/notify.out"
"$PY" - "$T/notify.sock" "$T/iketcpd-b.log" </dev/null >"$T/notify.out" 2>&1 <<-'EOF' &
	import os, socket, sys, time
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind(sys.argv[1])
	print("listening", flush=True)
	s.settimeout(120)
	while True:
	    msg = s.recv(4096).decode()
	    if "READY=1" in msg:
	        started = "started" in open(sys.argv[2]).read()
	        print("ready", "after-start" if started else "too-early", flush=True)
	        break
	EOF
notify=$!
for _ in $(seq 600); do grep -q listening "$T/notify.out" && break; sleep 0.1; done
NOTIFY_SOCKET="$T/notify.sock" daemon_start b
wait "$notify"
echo "# notify socket got: $(grep ready "$T/notify.out")"
check "READY=1 is sent once the capture rules are installed" \
	grep -q "ready after-start" "$T/notify.out"

# ---- 6. no descriptor left for accept(): no busy loop
daemon_stop b
conf_b "peer 0.0.0.0/0 tcp" "max-connections-per-source 1000"
daemon_start b
prlimit --pid "$(pid_b)" --nofile=32:32
ip netns exec "$P-m" "$B/hostile" idle 10.77.2.1 500 100 -t 60000 </dev/null >"$T/emfile.out" 2>&1 &
idle=$!
for _ in $(seq 300); do
	[ "$(log_lines 'accept: Too many open files')" -gt 0 ] && break
	sleep 0.2
done
sleep 1
c0=$(cpu_ticks "$(pid_b)") l0=$(log_lines 'accept: Too many open files')
sleep 5
c1=$(cpu_ticks "$(pid_b)") l1=$(log_lines 'accept: Too many open files')
pct=$(((c1 - c0) * 100 / ($(getconf CLK_TCK) * 5)))
echo "# EMFILE: iketcpd used $pct% CPU over 5 s, logged $((l1 - l0)) lines about it meanwhile"
# (a spinning loop takes a whole CPU; a loaded guest charges some of its
# waiting to iketcpd, hence the generous bound)
check "accept() without descriptors left: listener paused, not spinning (CPU ${pct}% < 50%)" \
	test "$l0" -ge 1 -a "$pct" -lt 50
check "... and its log lines are bounded (at most 11 per 5 s)" \
	test $((l1 - l0)) -le 11
kill -USR1 "$idle" 2>/dev/null
wait "$idle"
daemon_stop b

totals
