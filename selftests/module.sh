#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# module.sh - module lifecycle: the ULPs are listed once loaded and gone
# once unloaded; load/unload cycles; rmmod refuses (EBUSY) while a socket has the
# ULP attached, as documented, and succeeds once it is closed; a network
# namespace torn down with connections open is safe; the module has no
# generic netlink family alias (anyone may ask for a family by name, which
# would load it). TAP output.

cd "$(dirname "$0")/.." || exit 1
KO=build/$(uname -r)/kernel/iketcp.ko
HOLD=build/selftests/ulp_hold
n=0 pass=0 fail=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }

# both ULPs: "iketcp" (draft framing) and "iketcp-rfc9329"
loaded() {
	grep -qE '(^| )iketcp( |$)' /proc/sys/net/ipv4/tcp_available_ulp &&
		grep -qE '(^| )iketcp-rfc9329( |$)' /proc/sys/net/ipv4/tcp_available_ulp
}
gone() { ! grep -qE '(^| )iketcp(-rfc9329)?( |$)' /proc/sys/net/ipv4/tcp_available_ulp; }
unload() { for _ in $(seq 20); do rmmod iketcp 2>/dev/null && return 0; sleep 0.5; done; return 1; }

echo "TAP version 13"
echo "1..7"
lsmod | grep -qw iketcp || insmod "$KO"
check "both ulps listed when loaded" loaded
aliases=$(modinfo -F alias "$KO")
echo "# aliases: $(echo $aliases)"
check "no genl family autoload alias" test -z "$(grep -- '-family-' <<<"$aliases")"

cycles_ok=1
for _ in 1 2 3; do
	unload || cycles_ok=0
	gone || cycles_ok=0
	insmod "$KO" || cycles_ok=0
	loaded || cycles_ok=0
done
check "three unload/load cycles" test $cycles_ok = 1

ip link set lo up
coproc HOLD_P { "$HOLD" 3; }
read -r line <&"${HOLD_P[0]}"
[ "$line" = ready ] || echo "# ulp_hold said '$line'"
err=$(rmmod iketcp 2>&1)
rc=$?
echo "# rmmod with 3 attached connections: rc=$rc: $err"
check "rmmod refused while connections are attached" test $rc != 0 -a "$(lsmod | grep -cw '^iketcp')" = 1
exec {HOLD_P[1]}>&-
wait "$HOLD_P_PID"
check "rmmod succeeds once they are closed" unload
insmod "$KO"

# A namespace with a registered helper and attached connections goes away
ip netns add iketcp-ns
ip -n iketcp-ns link set lo up
coproc NS_P { exec ip netns exec iketcp-ns "$HOLD" 5 helper; }
read -r line <&"${NS_P[0]}"
[ "$line" = ready ] || echo "# ulp_hold in netns said '$line'"
ip netns del iketcp-ns
kill -9 "$NS_P_PID"
wait "$NS_P_PID" 2>/dev/null
check "netns teardown with connections" unload
insmod "$KO"
check "loaded again" loaded

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ $fail = 0 ]
