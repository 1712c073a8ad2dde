#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# campaign.sh - a long fuzzing run of every target, one after the other
# (never two fuzzers at once: the machine is shared), niced, with a table.
#
#   campaign.sh <build dir> <seconds> <goal> [target:share ...]
#
# <seconds> of wall time are split between the targets by their shares
# (default frame:3 config:3 ike:3 state:3 nl:10: the netlink decoder runs
# an order of magnitude faster than the others, so it gets the larger
# slice of the executions goal). Each target runs through run.sh (its
# corpus in <build dir>/corpus-<target>/ grows from run to run). Prints
# one row per target: seconds, executions, exec/s, the CPU seconds it got
# (user + system: below the wall seconds when the machine is busy),
# coverage (cov: edges, ft: features), crashes; then the total executions
# and wall time, and whether the total reached <goal> executions. Exits 1
# on a crash, 2 if the goal was not reached, else 0. FUZZ_NICE (default
# 15) is the nice level of the fuzzers (absolute: not added to the
# caller's). The time limit of one input is 60 s here, not run.sh's 10:
# a fuzzer that gets a few percent of a CPU (the machine busy with VMs)
# can stall for 10 s on an input that takes 2 ms (a spurious timeout);
# FUZZ_OPTS adds libFuzzer options.
set -u
out=$1 total=$2 goal=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
shares=("$@")
[ ${#shares[@]} -gt 0 ] || shares=(frame:3 config:3 ike:3 state:3 nl:10)
nice=${FUZZ_NICE:-15}
export FUZZ_OPTS="-timeout=60 ${FUZZ_OPTS:-}"
incr=$((nice - $(nice)))
[ $incr -ge 0 ] || incr=0

sum=0
for s in "${shares[@]}"; do
	sum=$((sum + ${s#*:}))
done

# CPU time of the waited-for children, in 1/100 s: snap in this shell
# (a subshell's times start at 0), then cs (times says "XmY.YYYs")
tf=$(mktemp)
trap 'rm -f "$tf"' EXIT
snap() { times >"$tf"; }
cs() {
	tail -n1 "$tf" | awk '{
		n = 0
		for (i = 1; i <= 2; i++) {
			split($i, a, /[ms]/)
			n += a[1] * 6000 + a[2] * 100
		}
		printf "%d\n", n }'
}

start=$(date +%s)
rows=() execs=0 rc=0
for s in "${shares[@]}"; do
	t=${s%%:*}
	secs=$((total * ${s#*:} / sum))
	[ "$secs" -gt 0 ] || continue
	art=$out/artifacts-$t
	mkdir -p "$art"
	before=$(find "$art" -type f | wc -l)
	t0=$(date +%s)
	snap
	cpu0=$(cs)
	line=$(nice -n "$incr" "$here/run.sh" "$t" "$secs" "$out")
	r=$?
	snap
	cpu=$((($(cs) - cpu0) / 100))
	t1=$(date +%s)
	echo "$line"
	[ $r -eq 0 ] || rc=1
	after=$(find "$art" -type f | wc -l)
	log=$out/fuzz_$t.log
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	n=${n:-0}
	last=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -n1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	el=$((t1 - t0))
	eps=$((el > 0 ? n / el : 0))
	rows+=("$(printf '| fuzz_%-7s | %7s | %7s | %11s | %8s | %5s | %6s | %7s |' \
		"$t" "$el" "$cpu" "$n" "$eps" "${cov:-?}" "${ft:-?}" \
		$((after - before)))")
	execs=$((execs + n))
done
wall=$(($(date +%s) - start))

echo
echo "| target       | seconds | CPU sec |  executions |   exec/s |   cov |     ft | crashes |"
echo "|--------------|---------|---------|-------------|----------|-------|--------|---------|"
printf '%s\n' "${rows[@]}"
snap
printf '| total        | %7s | %7s | %11s | %8s |       |        |         |\n' \
	"$wall" $(($(cs) / 100)) "$execs" $((wall > 0 ? execs / wall : 0))
echo
echo "$execs executions in $wall s of wall time ($(date -u +%FT%TZ), nice $nice)"
if [ $rc -ne 0 ]; then
	echo "CRASH: see the inputs named above"
	exit 1
fi
if [ "$execs" -lt "$goal" ]; then
	echo "goal of $goal executions NOT reached"
	exit 2
fi
echo "goal of $goal executions reached"
exit 0
