#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - run one libFuzzer target for a while and summarise the run.
#
#   run.sh <target> <seconds> <build dir>
#
# Runs <build dir>/fuzz_<target> on <build dir>/corpus-<target>/ (seeds
# plus everything found so far) for <seconds>, logs to
# <build dir>/fuzz_<target>.log, and prints one line: executions, exec/s
# (from libFuzzer's final "stat::" lines and "Done N runs in S second(s)"),
# coverage (cov: edges, ft: features), corpus size. Exits 1 when the
# fuzzer found a crash, leak, timeout or OOM (the input is saved in
# <build dir>/artifacts-<target>/ and named in the output).
set -u
t=$1 secs=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
bin=$out/fuzz_$t
corpus=$out/corpus-$t
art=$out/artifacts-$t
log=$out/fuzz_$t.log
opts=(-max_total_time="$secs" -print_final_stats=1 -timeout=10
      -rss_limit_mb=2048 -artifact_prefix="$art/")

case $t in
frame)	opts+=(-max_len=8192) ;;
config)	opts+=(-max_len=4096 -dict="$here/config.dict") ;;
ike)	opts+=(-max_len=4096) ;;
state)	opts+=(-max_len=4096 -dict="$here/state.dict") ;;
nl)	opts+=(-max_len=4096) ;;
esac
# more options (the campaign's -runs=N, say) from the environment
read -r -a extra <<<"${FUZZ_OPTS:-}"
opts+=("${extra[@]}")

mkdir -p "$corpus" "$art"
stamp=$(mktemp)
"$bin" "${opts[@]}" "$corpus" >"$log" 2>&1
rc=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
dsecs=
done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n1)
if [ -n "$done_line" ]; then
	druns=$(echo "$done_line" | awk '{print $2}')
	dsecs=$(echo "$done_line" | awk '{print $5}')
	runs=${runs:-$druns}
	if [ -z "$eps" ] && [ "$dsecs" -gt 0 ]; then
		eps=$((druns / dsecs))
	fi
fi
last=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -n1)
cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')

found=$(find "$art" -type f -newer "$stamp" 2>/dev/null)
rm -f "$stamp"
if [ $rc -eq 0 ] && [ -z "$found" ]; then
	verdict="no crash"
else
	verdict="CRASH (exit $rc)"
fi
printf '%-12s %10s execs in %ss  %8s exec/s  cov %-5s ft %-6s corpus %-10s %s\n' \
	"fuzz_$t" "${runs:-?}" "${dsecs:-$secs}" "${eps:-?}" "${cov:-?}" "${ft:-?}" \
	"${corp:-?}" "$verdict"
if [ "$verdict" != "no crash" ]; then
	for f in $found; do
		echo "  input: $f"
	done
	echo "  log: $log; the report:"
	grep -E 'check failed|ERROR:|runtime error|SUMMARY|Test unit written|Timeout|out-of-memory| in [A-Za-z_0-9]+ /' \
		"$log" | grep -v ' in fuzzer::' | head -n 20 | sed 's/^/    /'
	exit 1
fi
exit 0
