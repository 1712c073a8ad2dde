#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# report.sh - tables and plots from the benchmarks' raw CSV (bench/README.md).
# Runs on the host, from bench/Makefile (make -C bench report, and after each
# benchmark):
#
#   ./report.sh [b1] [b2] [b3]      (no argument: all three)
#
# For each benchmark whose bench/data/<bN>_raw.csv has rows: a plain-text
# table on stdout and in bench/data/<bN>_table.txt, the same as Markdown in
# bench/data/<bN>_table.md, PNG plots bench/<bN>_*.png (gnuplot), and each
# target of bench/README.md judged from the data: met, missed or not
# measured.
#
#   B1  per (loss, variant): handshakes, success rate, median and p95
#       (nearest rank) of the time of the successful ones, mean retransmits;
#       p95 and median against udpfrag's at the same loss.
#       Plots: b1_success.png, b1_time.png.
#   B2  per (size, conns, helper): medians over the repetitions of msgs/s,
#       system-wide and helper CPU per message; lost messages summed; per
#       (size, conns) iketcp / relay. Plots: b2_msgs.png, b2_cpu.png.
#   B3  per (conns, helper): memory per idle connection, connections/s, mass
#       reconnect time and losses (medians if a count was run more than
#       once, losses summed). Plot: b3_memory.png.
#
# Columns are found by name in each CSV's header; a field that is empty, NA
# or otherwise not a number is left out of the statistics it would feed.
#
# Environment (for tests): REPORT_DATA, the directory of the raw CSV and of
# the tables (default bench/data); REPORT_PLOTS, that of the PNGs (default
# bench).

cd "$(dirname "$0")" || exit 1
DATA=${REPORT_DATA:-data}
PLOTS=${REPORT_PLOTS:-.}

# targets (bench/README.md)
B1_LOSS=10		# % loss at which success and p95 are judged
B1_SUCCESS=99		# % of handshakes at least
B1_P95_DIV=3		# p95 under udpfrag's divided by this
B1_RTT_MS=20		# at 0 % loss, median at most this above udpfrag's
B1_WINDOW_MS=30000	# b1.sh: success = established within this
B3_CONNS=10000
B3_KERNEL_B=4096
B3_HELPER_B=1024

T=$(mktemp -d /tmp/report.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

show() { # a path as seen from the top of the tree
	case $1 in
	/*) echo "$1" ;;
	*) echo "bench/${1#./}" ;;
	esac
}

# awk functions shared by the three benchmarks (POSIX awk: mawk is enough)
# shellcheck disable=SC2016 # awk, not shell
AWKLIB='
function isnum(x) { return x ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ }
function isort(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
}
# a space-separated list of numbers -> sorted array a[1..n], returns n
function sorted(list, a,   n, i) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++)
		a[i] += 0
	isort(a, n)
	return n
}
function median(list,   a, n) {
	n = sorted(list, a)
	if (n == 0)
		return ""
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function p95(list,   a, n) { # nearest rank: the ceil(0.95 n)-th smallest
	n = sorted(list, a)
	if (n == 0)
		return ""
	return a[int((95 * n + 99) / 100)]
}
function f(fmt, x) { return x == "" ? "-" : sprintf(fmt, x) }
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "" : a / b }
# header: column numbers by name; call for the first line that is not a comment
function header(names,   i, k, nm, miss) {
	for (i = 1; i <= NF; i++)
		C[$i] = i
	FIRST = $1
	k = split(names, nm, " ")
	for (i = 1; i <= k; i++)
		if (!(nm[i] in C))
			miss = miss " " nm[i]
	if (miss != "") {
		printf "missing column(s):%s\n", miss >"/dev/stderr"
		BADHDR = 1
		exit 2
	}
}
# 1 if the line is to be skipped (comment, blank, repeated header)
function skip() {
	sub(/\r$/, "")
	if ($0 ~ /^[ \t]*(#|$)/)
		return 1
	if (!HDR) {
		header(NEED)
		HDR = 1
		return 1
	}
	return $1 == FIRST
}
function load() {
	if (!("loadavg" in C) || !isnum($(C["loadavg"])))
		return
	if (LMIN == "" || $(C["loadavg"]) + 0 < LMIN)
		LMIN = $(C["loadavg"]) + 0
	if (LMAX == "" || $(C["loadavg"]) + 0 > LMAX)
		LMAX = $(C["loadavg"]) + 0
}
# order: the names in "pref" first, then the others as first seen
function order(pref, seen, nseen, out,   k, i, j, p, n, done) {
	k = split(pref, p, " ")
	n = 0
	for (i = 1; i <= k; i++)
		for (j = 1; j <= nseen; j++)
			if (seen[j] == p[i] && !(p[i] in done)) {
				out[++n] = p[i]
				done[p[i]] = 1
			}
	for (j = 1; j <= nseen; j++)
		if (!(seen[j] in done)) {
			out[++n] = seen[j]
			done[seen[j]] = 1
		}
	return n
}
# series: order() the names, and list them in that order for the plots
function series(pref, seen, nseen, out,   n, j) {
	n = order(pref, seen, nseen, out)
	for (j = 1; j <= n; j++)
		print out[j] >(T "/series")
	return n
}
function numorder(set, out,   n, x) {
	n = 0
	for (x in set)
		out[++n] = x + 0
	isort(out, n)
	return n
}
function summary() { # the title line: rows, skipped rows, load
	if (BADHDR)
		exit 2
	printf "%d rows", ROWS >(T "/summary")
	if (SKIPPED)
		printf ", %d skipped (NA or empty fields)", SKIPPED >(T "/summary")
	if (LMIN != "")
		printf ", guest loadavg %.2f-%.2f", LMIN, LMAX >(T "/summary")
	printf "\n" >(T "/summary")
}
'

# TSV (header line first) -> aligned plain text; columns with letters left
fmt_text() {
	awk -F'\t' '
	function pad(n,   s) { s = ""; while (n-- > 0) s = s " "; return s }
	NR == FNR {
		for (i = 1; i <= NF; i++) {
			if (length($i) > w[i]) w[i] = length($i)
			if (FNR > 1 && $i ~ /[A-Za-z]/) left[i] = 1
		}
		if (NF > nf) nf = NF
		next
	}
	{
		s = ""
		for (i = 1; i <= nf; i++) {
			c = $i
			s = s (i > 1 ? "  " : "") (left[i] ? c pad(w[i] - length(c)) : pad(w[i] - length(c)) c)
		}
		sub(/ +$/, "", s)
		print s
		if (FNR == 1) {
			s = ""
			for (i = 1; i <= nf; i++) {
				s = s (i > 1 ? "  " : "")
				for (j = 0; j < w[i]; j++) s = s "-"
			}
			print s
		}
	}' "$1" "$1"
}

# TSV -> Markdown table
fmt_md() {
	awk -F'\t' '
	NR == FNR {
		if (FNR > 1) for (i = 1; i <= NF; i++) if ($i ~ /[A-Za-z]/) left[i] = 1
		if (NF > nf) nf = NF
		next
	}
	{
		s = "|"
		for (i = 1; i <= nf; i++) s = s " " $i " |"
		print s
		if (FNR == 1) {
			s = "|"
			for (i = 1; i <= nf; i++) s = s (left[i] ? " :--- |" : " ---: |")
			print s
		}
	}' "$1" "$1"
}

# output of one benchmark: $T/out.txt and $T/out.md
out_title() { # <text>
	printf '== %s ==\n\n' "$1" >>"$T/out.txt"
	printf '### %s\n\n' "$1" >>"$T/out.md"
}
out_line() { # <text>: a paragraph
	printf '%s\n\n' "$1" >>"$T/out.txt"
	printf '%s\n\n' "$1" >>"$T/out.md"
}
out_table() { # <tsv>
	[ -s "$1" ] || return 0
	fmt_text "$1" >>"$T/out.txt"
	echo >>"$T/out.txt"
	fmt_md "$1" >>"$T/out.md"
	echo >>"$T/out.md"
}
out_flush() { # <bN>: stdout and bench/data/<bN>_table.{txt,md}
	cat "$T/out.txt"
	cp "$T/out.txt" "$DATA/$1_table.txt" &&
		cp "$T/out.md" "$DATA/$1_table.md" &&
		echo "($1: tables in $(show "$DATA/$1_table.txt") and .md)"
}

GP_TERM=
gp_term() {
	[ -n "$GP_TERM" ] && return 0
	command -v gnuplot >/dev/null 2>&1 || return 1
	if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
		GP_TERM="pngcairo enhanced font 'sans,10' size 800,520"
	elif gnuplot -e 'set terminal png' >/dev/null 2>&1; then
		GP_TERM="png size 800,520"
	else
		return 1
	fi
}

# plot <png name> <title> <xlabel> <ylabel> <set commands> <plot clause>...
# (clauses with an empty or missing data file are left out)
plot() {
	local png=$1 title=$2 xl=$3 yl=$4 setup=$5 c file clauses=() consts=()
	shift 5
	for c in "$@"; do
		case $c in
		\'*)
			file=${c#\'}
			file=${file%%\'*}
			[ -s "$file" ] && clauses+=("$c")
			;;
		*) consts+=("$c") ;;
		esac
	done
	[ ${#clauses[@]} -gt 0 ] || return 0
	clauses+=("${consts[@]}")
	if ! gp_term; then
		echo "(no gnuplot with a png terminal: $(show "$PLOTS/$png") not made)"
		return 0
	fi
	{
		echo "set terminal $GP_TERM"
		echo "set output '$PLOTS/$png'"
		echo "set title '$title' noenhanced"
		echo "set xlabel '$xl' noenhanced"
		echo "set ylabel '$yl' noenhanced"
		echo "set grid"
		echo "set key outside right top noenhanced"
		echo "set datafile missing '-'"
		echo "set autoscale fix"
		echo "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05"
		echo "$setup"
		local IFS=,
		echo "plot ${clauses[*]}"
	} >"$T/plot.gp"
	if gnuplot "$T/plot.gp" >"$T/gp.err" 2>&1; then
		echo "(plot $(show "$PLOTS/$png"))"
	else
		echo "(gnuplot failed for $(show "$PLOTS/$png"):"
		sed 's/^/  /' "$T/gp.err"
		echo ")"
	fi
}

# run_awk <bN> <needed columns> <program>: the benchmark's CSV through
# AWKLIB + program; 0 if it produced rows
run_awk() {
	local b=$1 csv="$DATA/$1_raw.csv" rc
	if [ ! -f "$csv" ]; then
		echo "$b: no data ($(show "$csv"))"
		return 1
	fi
	rm -rf "${T:?}"/*
	awk -F, -v T="$T" -v NEED="$2" "$AWKLIB$3" "$csv" 2>"$T/awk.err"
	rc=$?
	if [ "$rc" = 3 ] || { [ "$rc" = 0 ] && [ ! -s "$T/table.tsv" ]; }; then
		echo "$b: no rows in $(show "$csv")$(grep -o ', [0-9]* skipped[^,]*' "$T/summary" 2>/dev/null)"
		return 1
	fi
	if [ "$rc" != 0 ]; then
		echo "$b: cannot read $(show "$csv"): $(cat "$T/awk.err")"
		return 1
	fi
	return 0
}

# ---------------------------------------------------------------- B1

# shellcheck disable=SC2016 # awk, not shell
B1_AWK='
!skip() {
	loss = $(C["loss_pct"]); v = $(C["variant"]); ok = $(C["success"])
	if (!isnum(loss) || v == "" || (ok != "0" && ok != "1")) {
		SKIPPED++
		next
	}
	ROWS++
	load()
	loss += 0
	if (!(loss in L))
		L[loss] = 1
	if (!(v in V)) {
		V[v] = 1
		VS[++NV] = v
	}
	k = loss SUBSEP v
	N[k]++
	if (ok == "1") {
		OK[k]++
		if (isnum($(C["ms"])))
			MS[k] = MS[k] " " $(C["ms"])
	}
	if (isnum($(C["retransmits"]))) {
		RSUM[k] += $(C["retransmits"])
		RCNT[k]++
	}
}
function stats(loss, v,   k) {
	k = loss SUBSEP v
	n = N[k] + 0; ok = OK[k] + 0
	med = median(MS[k]); p = p95(MS[k])
}
function verdict(t, v, res, meas) {
	printf "%s\t%s\t%s\t%s\n", t, v, res, meas >>(T "/targets.tsv")
}
END {
	summary()
	if (!ROWS)
		exit 3
	nl = numorder(L, LS)
	nv = series("udpfrag tcp auth", VS, NV, VO)
	tsv = T "/table.tsv"
	print "loss %\tvariant\tn\tok\tsuccess %\tmedian ms\tp95 ms\tmean retransmits\tp95 / udpfrag\tmedian - udpfrag ms" >tsv
	for (i = 1; i <= nl; i++) {
		loss = LS[i]
		stats(loss, "udpfrag")
		umed = med; up = p
		for (j = 1; j <= nv; j++) {
			v = VO[j]
			k = loss SUBSEP v
			if (!(k in N))
				continue
			stats(loss, v)
			rm = RCNT[k] ? RSUM[k] / RCNT[k] : ""
			other = v != "udpfrag"
			printf "%g\t%s\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\n", loss, v, n, ok, 100 * ok / n,
				f("%.0f", med), f("%.0f", p), f("%.2f", rm),
				f("%.2f", other ? ratio(p, up) : ""),
				f("%+.0f", other && med != "" && umed != "" ? med - umed : "") >tsv
			f1 = T "/b1_succ_" v ".dat"
			printf "%g %.2f\n", loss, 100 * ok / n >f1
			if (med != "") {
				f2 = T "/b1_time_" v ".dat"
				printf "%g %s %s\n", loss, med, p >f2
			}
		}
	}

	print "target\tvariant\tresult\tmeasured" >(T "/targets.tsv")
	for (j = 1; j <= 2; j++) {
		v = j == 1 ? "tcp" : "auth"

		# success at B1_LOSS
		t = sprintf("success >= %g %% at %g %% loss", B1_SUCCESS, B1_LOSS)
		stats(B1_LOSS, v)
		if (!n)
			verdict(t, v, "not measured", sprintf("no %s handshake at %g %% loss", v, B1_LOSS))
		else
			verdict(t, v, 100 * ok >= B1_SUCCESS * n ? "met" : "missed",
				sprintf("%d/%d = %.1f %%", ok, n, 100 * ok / n))

		# p95 at B1_LOSS against udpfrag
		t = sprintf("p95 < udpfrag p95 / %g at %g %% loss", B1_P95_DIV, B1_LOSS)
		vn = n; vok = ok; vp = p
		stats(B1_LOSS, "udpfrag")
		if (!vn || !n)
			verdict(t, v, "not measured", sprintf("no %s handshake at %g %% loss", !vn ? v : "udpfrag", B1_LOSS))
		else if (!vok)
			verdict(t, v, "missed", sprintf("none of %d %s handshakes succeeded", vn, v))
		else if (!ok)
			verdict(t, v, vp * B1_P95_DIV < B1_WINDOW ? "met" : "missed",
				sprintf("%.0f ms (n=%d); udpfrag: none of %d succeeded (> %d ms)", vp, vok, n, B1_WINDOW))
		else
			verdict(t, v, vp * B1_P95_DIV < p ? "met" : "missed",
				sprintf("%.0f / %.0f ms = %.2f (n=%d/%d)", vp, p, vp / p, vok, ok))

		# median at 0 % loss against udpfrag
		t = sprintf("median <= udpfrag median + %g ms at 0 %% loss", B1_RTT)
		stats(0, v)
		vok = ok; vm = med
		stats(0, "udpfrag")
		if (!vok || !ok)
			verdict(t, v, "not measured", sprintf("no successful %s handshake at 0 %% loss", !vok ? v : "udpfrag"))
		else
			verdict(t, v, vm - med <= B1_RTT ? "met" : "missed",
				sprintf("%.0f - %.0f ms = %+.0f ms (n=%d/%d)", vm, med, vm - med, vok, ok))
	}
}
'

report_b1() {
	local csv="$DATA/b1_raw.csv" clauses=() series=() v i
	run_awk b1 "loss_pct variant success ms retransmits" \
		"BEGIN { B1_LOSS = $B1_LOSS; B1_SUCCESS = $B1_SUCCESS; B1_P95_DIV = $B1_P95_DIV; B1_RTT = $B1_RTT_MS; B1_WINDOW = $B1_WINDOW_MS }
		$B1_AWK" || return 0
	: >"$T/out.txt"
	: >"$T/out.md"
	out_title "B1: IKE handshake under loss ($(show "$csv"): $(cat "$T/summary"))"
	out_line "Time of the successful handshakes (established within ${B1_WINDOW_MS} ms); p95 nearest rank; mean retransmits over all handshakes; the last two columns against udpfrag at the same loss."
	out_table "$T/table.tsv"
	out_line "Targets (tcp and auth are both iketcp):"
	out_table "$T/targets.tsv"
	out_flush b1

	# one colour per variant, the same in both plots
	mapfile -t series <"$T/series"
	i=0
	for v in "${series[@]}"; do
		i=$((i + 1))
		clauses+=("'$T/b1_succ_$v.dat' using 1:2 with linespoints lc $i pt $((i + 4)) lw 2 title '$v'")
	done
	plot b1_success.png "B1: handshake success under loss (20 ms RTT)" "loss each way (%)" \
		"handshakes established within 30 s (%)" "set yrange [0:105]" "${clauses[@]}"
	clauses=()
	i=0
	for v in "${series[@]}"; do
		i=$((i + 1))
		clauses+=("'$T/b1_time_$v.dat' using 1:2 with linespoints lc $i pt $((i + 4)) lw 2 title '$v median'"
			"'$T/b1_time_$v.dat' using 1:3 with linespoints lc $i pt $((i + 4)) lw 2 dt 2 title '$v p95'")
	done
	plot b1_time.png "B1: handshake time under loss (successful handshakes)" "loss each way (%)" \
		"time to CHILD_SA established (ms)" "set yrange [0:*]" "${clauses[@]}"
}

# ---------------------------------------------------------------- B2

# shellcheck disable=SC2016 # awk, not shell
B2_AWK='
function add(arr, k, x) { if (isnum(x)) arr[k] = arr[k] " " x }
function sum(arr, bad, k, x) { if (isnum(x)) arr[k] += x; else bad[k] = 1 }
!skip() {
	h = $(C["helper"]); size = $(C["size"]); c = $(C["conns"])
	if (h == "" || !isnum(size) || !isnum(c)) {
		SKIPPED++
		next
	}
	ROWS++
	load()
	size += 0; c += 0
	S[size] = 1; CN[c] = 1
	if (!(h in H)) {
		H[h] = 1
		HS[++NH] = h
	}
	k = size SUBSEP c SUBSEP h
	REPS[k]++
	add(MPS, k, $(C["msgs_per_s"]))
	add(MBS, k, $(C["mbytes_per_s"]))
	add(SYS, k, $(C["sys_us_per_msg"]))
	add(HLP, k, $(C["helper_us_per_msg"]))
	sum(LOST, LOSTNA, k, $(C["lost"]))
	sum(OOO, OOONA, k, $(C["out_of_order"]))
	sum(BAD, BADNA, k, $(C["bad"]))
	sum(DROP, DROPNA, k, $(C["udp_drops"]))
}
function total(arr, na, k) { return (k in na) ? (k in arr ? arr[k] "+?" : "?") : arr[k] + 0 }
END {
	summary()
	if (!ROWS)
		exit 3
	ns = numorder(S, SO)
	nc = numorder(CN, CO)
	nh = order("iketcp relay", HS, NH, HO)
	tsv = T "/table.tsv"
	print "size B\tconns\thelper\treps\tmsgs/s\tMB/s\tsystem us/msg\thelper us/msg\tlost\tout of order\tbad\tudp drops" >tsv
	cmp = T "/compare.tsv"
	print "size B\tconns\tmsgs/s iketcp/relay\tsystem us/msg iketcp/relay\thelper us/msg iketcp/relay\ttarget" >cmp
	cells = 0; met = 0; nm = 0
	for (i = 1; i <= ns; i++)
		for (j = 1; j <= nc; j++) {
			any = 0
			for (l = 1; l <= nh; l++) {
				h = HO[l]
				k = SO[i] SUBSEP CO[j] SUBSEP h
				if (!(k in REPS))
					continue
				any = 1
				m[h] = median(MPS[k]); sy[h] = median(SYS[k]); hl[h] = median(HLP[k])
				printf "%d\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", SO[i], CO[j], h, REPS[k],
					f("%.0f", m[h]), f("%.2f", median(MBS[k])), f("%.1f", sy[h]), f("%.1f", hl[h]),
					total(LOST, LOSTNA, k), total(OOO, OOONA, k), total(BAD, BADNA, k),
					total(DROP, DROPNA, k) >tsv
				if (m[h] != "") {
					pf = T "/b2_" h "_" CO[j] ".dat"
					printf "%d %s %s\n", SO[i], m[h], sy[h] == "" ? "-" : sy[h] >pf
				}
			}
			if (!any)
				continue
			ki = SO[i] SUBSEP CO[j] SUBSEP "iketcp"
			kr = SO[i] SUBSEP CO[j] SUBSEP "relay"
			if (!(ki in REPS) || !(kr in REPS)) {
				mi = si = hi = mr = sr = hr = ""
			} else {
				mi = m["iketcp"]; si = sy["iketcp"]; hi = hl["iketcp"]
				mr = m["relay"]; sr = sy["relay"]; hr = hl["relay"]
			}
			cells++
			if (mi == "" || mr == "" || si == "" || sr == "") {
				res = "not measured"
				nm++
			} else if (mi >= mr && si <= sr) {
				res = "met"
				met++
			} else {
				res = "missed"
			}
			printf "%d\t%d\t%s\t%s\t%s\t%s\n", SO[i], CO[j], f("%.2f", ratio(mi, mr)),
				f("%.2f", ratio(si, sr)), f("%.2f", ratio(hi, hr)), res >cmp
		}
	t = T "/targets.tsv"
	print "target\tresult\tmeasured" >t
	res = cells == nm ? "not measured" : met + nm == cells ? "met" : "missed"
	printf "throughput >= relay and system CPU/msg <= relay, every size and conns\t%s\t%d of %d cells met, %d missed, %d not measured\n",
		res, met, cells, cells - met - nm, nm >t
}
'

report_b2() {
	local csv="$DATA/b2_raw.csv" clauses=() clauses2=() f h c i=0 pt
	run_awk b2 "helper size conns msgs_per_s sys_us_per_msg helper_us_per_msg lost" "$B2_AWK" || return 0
	: >"$T/out.txt"
	: >"$T/out.md"
	out_title "B2: data-path cost, iketcp vs relay ($(show "$csv"): $(cat "$T/summary"))"
	out_line "Medians over the repetitions (reps); lost, out of order, bad and udp drops summed over them; system us/msg = all CPU of the VM but idle per message received, helper us/msg = iketcpd's or relay's own."
	out_table "$T/table.tsv"
	out_line "iketcp / relay (medians); target: at least the relay's throughput (msgs/s ratio >= 1) and no more CPU per message (system us/msg ratio <= 1):"
	out_table "$T/compare.tsv"
	out_table "$T/targets.tsv"
	out_flush b2

	for f in "$T"/b2_*.dat; do
		[ -e "$f" ] || continue
		f=${f##*/b2_}
		f=${f%.dat}
		h=${f%_*} c=${f##*_}
		case $h in iketcp) i=1 ;; relay) i=2 ;; *) i=$((i < 3 ? 3 : i + 1)) ;; esac
		pt=$([ "$c" = 1 ] && echo 7 || echo 5)
		clauses+=("'$T/b2_$f.dat' using 1:2 with linespoints lc $i pt $pt lw 2 $([ "$c" = 1 ] || echo dt 2) title '$h, $c conn$([ "$c" = 1 ] || echo s)'")
		clauses2+=("'$T/b2_$f.dat' using 1:3 with linespoints lc $i pt $pt lw 2 $([ "$c" = 1 ] || echo dt 2) title '$h, $c conn$([ "$c" = 1 ] || echo s)'")
	done
	plot b2_msgs.png "B2: messages per second (median over repetitions)" "message size (bytes)" \
		"messages/s" "set logscale xy" "${clauses[@]}"
	plot b2_cpu.png "B2: CPU per message, whole VM (median over repetitions)" "message size (bytes)" \
		"CPU us per message" "set logscale xy" "${clauses2[@]}"
}

# ---------------------------------------------------------------- B3

# shellcheck disable=SC2016 # awk, not shell
B3_AWK='
function add(arr, k, x) { if (isnum(x)) arr[k] = arr[k] " " x }
!skip() {
	h = $(C["helper"]); c = $(C["conns"])
	if (h == "" || !isnum(c)) {
		SKIPPED++
		next
	}
	ROWS++
	load()
	c += 0
	CN[c] = 1
	if (!(h in H)) {
		H[h] = 1
		HS[++NH] = h
	}
	k = c SUBSEP h
	RUNS[k]++
	add(CPS, k, $(C["conns_per_s"]))
	add(SLAB, k, $(C["slab_b_per_conn"]))
	add(SUNR, k, $(C["sunreclaim_b_per_conn"]))
	add(FREE, k, $(C["memfree_b_per_conn"]))
	add(HELP, k, $(C["helper_b_per_conn"]))
	add(RECO, k, $(C["reconnect_s"]))
	if (!isnum($(C["reconnect_s"])))
		TIMEOUT[k]++
	x = $(C["first_msgs"])
	if (isnum(x)) FLOST[k] += c - x; else FNA[k] = 1
	x = $(C["reconnect_lost"])
	if (isnum(x)) RLOST[k] += x; else RNA[k] = 1
	x = $(C["reconnect_dup"])
	if (isnum(x)) DUP[k] += x; else DNA[k] = 1
}
function tot(x, na) { return na ? (x == "" ? "?" : x "+?") : x + 0 }
function verdict(t, res, meas) { printf "%s\t%s\t%s\n", t, res, meas >>(T "/targets.tsv") }
END {
	summary()
	if (!ROWS)
		exit 3
	nc = numorder(CN, CO)
	nh = series("relay iketcp", HS, NH, HO)
	tsv = T "/table.tsv"
	print "conns\thelper\truns\tconns/s\tslab B/conn\tSUnreclaim B/conn\tMemFree drop B/conn\thelper B/conn\tslab over plain B/conn\treconnect s\tfirst msgs lost\treconnect lost\treconnect dup" >tsv
	for (i = 1; i <= nc; i++) {
		c = CO[i]
		sr = median(SLAB[c SUBSEP "relay"])
		for (j = 1; j <= nh; j++) {
			h = HO[j]
			k = c SUBSEP h
			if (!(k in RUNS))
				continue
			sl = median(SLAB[k]); su = median(SUNR[k]); hb = median(HELP[k])
			d = h != "relay" && sl != "" && sr != "" ? sl - sr : ""
			rc = median(RECO[k])
			rcs = f("%.2f", rc)
			if (k in TIMEOUT)
				rcs = (rc == "" ? "" : rcs " ") "timeout" (TIMEOUT[k] > 1 ? " x" TIMEOUT[k] : "")
			printf "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c, h, RUNS[k],
				f("%.0f", median(CPS[k])), f("%.0f", sl), f("%.0f", su), f("%.0f", median(FREE[k])),
				f("%.0f", hb), f("%+.0f", d), rcs, tot(FLOST[k], k in FNA),
				tot(RLOST[k], k in RNA), tot(DUP[k], k in DNA) >tsv
			pf = T "/b3_" h ".dat"
			printf "%d %s %s %s %s\n", c, sl == "" ? "-" : sl, su == "" ? "-" : su, hb == "" ? "-" : hb,
				d == "" ? "-" : d >pf
		}
	}

	# the targets, at the largest count iketcp was run with
	print "target\tresult\tmeasured" >(T "/targets.tsv")
	n = 0
	for (i = 1; i <= nc; i++)
		if ((CO[i] SUBSEP "iketcp") in RUNS)
			n = CO[i]
	if (!n) {
		verdict(sprintf("%d connections, kernel < %d B and helper < %d B per idle connection, no message lost", B3_CONNS, B3_KERNEL, B3_HELPER), "not measured", "no iketcp row")
		exit 0
	}
	k = n SUBSEP "iketcp"
	at = sprintf("at %d connections: ", n)
	full = n >= B3_CONNS
	cps = median(CPS[k])
	verdict(sprintf("%d connections", B3_CONNS), full ? "met" : "not measured",
		sprintf("largest run: %d connections%s", n, cps == "" ? "" : sprintf(", %.0f/s", cps)))

	# kernel: iketcp minus plain TCP (both ends of each connection are in
	# the figures: the peers run in the same VM); without a plain-TCP row
	# the iketcp figure itself is an upper bound
	sl = median(SLAB[k]); sr = median(SLAB[n SUBSEP "relay"])
	t = sprintf("kernel < %d B per idle connection (Slab, iketcp over plain TCP)", B3_KERNEL)
	if (sl == "")
		verdict(t, "not measured", at "no Slab figure")
	else if (sr != "")
		verdict(t, !full ? "not measured" : sl - sr < B3_KERNEL ? "met" : "missed",
			sprintf("%s%.0f - %.0f = %.0f B (iketcp total, both ends: %.0f B)", at, sl, sr, sl - sr, sl))
	else
		verdict(t, !full ? "not measured" : sl < B3_KERNEL ? "met" : "not measured",
			sprintf("%siketcp total (both ends) %.0f B; no plain-TCP row to subtract", at, sl))

	hb = median(HELP[k])
	t = sprintf("helper < %d B per idle connection (iketcpd RSS)", B3_HELPER)
	if (hb == "")
		verdict(t, "not measured", at "no helper figure")
	else
		verdict(t, !full ? "not measured" : hb < B3_HELPER ? "met" : "missed", sprintf("%s%.0f B", at, hb))

	t = "no message lost (first messages, mass reconnect)"
	if (k in TIMEOUT)
		res = "missed"
	else if ((k in FNA) || (k in RNA))
		res = "not measured"
	else
		res = FLOST[k] + RLOST[k] == 0 ? "met" : "missed"
	verdict(t, full ? res : "not measured",
		sprintf("%sfirst %s, reconnect %s%s", at, tot(FLOST[k], k in FNA), tot(RLOST[k], k in RNA),
			(k in TIMEOUT) ? ", reconnect timed out" : ""))
}
'

report_b3() {
	local csv="$DATA/b3_raw.csv" clauses=() series=() h i=0
	run_awk b3 "helper conns conns_per_s first_msgs slab_b_per_conn sunreclaim_b_per_conn memfree_b_per_conn helper_b_per_conn reconnect_s reconnect_lost reconnect_dup" \
		"BEGIN { B3_CONNS = $B3_CONNS; B3_KERNEL = $B3_KERNEL_B; B3_HELPER = $B3_HELPER_B }
		$B3_AWK" || return 0
	: >"$T/out.txt"
	: >"$T/out.md"
	out_title "B3: scale ($(show "$csv"): $(cat "$T/summary"))"
	out_line "Per idle connection (memory after minus before, divided by conns; kernel figures hold both ends of each connection, the peers being in the same VM); slab over plain = iketcp's Slab minus plain TCP's (relay) at the same count. Medians if a count was run more than once; losses summed."
	out_table "$T/table.tsv"
	out_line "Targets (iketcp, at the largest count run):"
	out_table "$T/targets.tsv"
	out_flush b3

	mapfile -t series <"$T/series"
	for h in "${series[@]}"; do
		i=$((i + 1))
		clauses+=("'$T/b3_$h.dat' using 1:2 with linespoints lc $i pt 7 lw 2 title '$h: Slab'"
			"'$T/b3_$h.dat' using 1:3 with linespoints lc $i pt 5 lw 2 dt 2 title '$h: SUnreclaim'"
			"'$T/b3_$h.dat' using 1:4 with linespoints lc $i pt 9 lw 2 dt 3 title '$h: helper RSS'")
		[ "$h" = relay ] ||
			clauses+=("'$T/b3_$h.dat' using 1:5 with linespoints lc $i pt 11 lw 1 dt 4 title '$h: Slab over plain'")
	done
	clauses+=("$B3_KERNEL_B with lines lc rgb 'gray30' lw 1.5 dt 2 title 'kernel target'"
		"$B3_HELPER_B with lines lc rgb 'gray50' lw 1.5 dt 3 title 'helper target'")
	plot b3_memory.png "B3: memory per idle connection" "connections" \
		"bytes per connection" "set logscale x; set yrange [0:*]" "${clauses[@]}"
}

[ $# -gt 0 ] || set -- b1 b2 b3
for b in "$@"; do
	case $b in
	b1 | b2 | b3) ;;
	*)
		echo "usage: $0 [b1] [b2] [b3]" >&2
		exit 2
		;;
	esac
done
first=1
for b in "$@"; do
	[ $first = 1 ] || echo
	first=0
	case $b in
	b1) report_b1 ;;
	b2) report_b2 ;;
	b3) report_b3 ;;
	esac
done
exit 0
