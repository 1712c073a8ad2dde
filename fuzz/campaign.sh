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
# one row per target: seconds, executions, exec/s, coverage (cov: edges,
# ft: features), crashes; then the total executions and wall time, and
# whether the total reached <goal> executions. Exits 1 on a crash, 2 if
# the goal was not reached, else 0. FUZZ_NICE (default 15) is the nice
# level of the fuzzers.
set -u
out=$1 total=$2 goal=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
shares=("$@")
[ ${#shares[@]} -gt 0 ] || shares=(frame:3 config:3 ike:3 state:3 nl:10)
nice=${FUZZ_NICE:-15}

sum=0
for s in "${shares[@]}"; do
	sum=$((sum + ${s#*:}))
done

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
	line=$(nice -n "$nice" "$here/run.sh" "$t" "$secs" "$out")
	r=$?
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
	rows+=("$(printf '| fuzz_%-7s | %7s | %11s | %8s | %5s | %6s | %7s |' \
		"$t" "$el" "$n" "$eps" "${cov:-?}" "${ft:-?}" $((after - before)))")
	execs=$((execs + n))
done
wall=$(($(date +%s) - start))

echo
echo "| target       | seconds |  executions |  exec/s |   cov |     ft | crashes |"
echo "|--------------|---------|-------------|---------|-------|--------|---------|"
printf '%s\n' "${rows[@]}"
printf '| total        | %7s | %11s | %8s |       |        |         |\n' \
	"$wall" "$execs" $((wall > 0 ? execs / wall : 0))
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
