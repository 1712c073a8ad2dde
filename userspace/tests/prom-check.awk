# SPDX-License-Identifier: GPL-2.0
#
# prom-check.awk - check a file in the Prometheus text exposition format
# (0.0.4), as node_exporter's textfile collector would read it: metric and
# label names, label values and their escapes (\\ \" \n only), values,
# HELP and TYPE at most once per family and before its samples, each
# family's samples together, no series twice. With -v strict=1 also the
# conventions of iketcpctl metrics: every family has HELP and TYPE, names
# begin with iketcp_, counters end in _total and nothing else does.
#
#   awk [-v strict=1] -f prom-check.awk FILE
#
# Exits 1 after printing each problem ("prom-check: line N: ..."), else
# prints "prom-check: ok, F families, S samples".

function err(msg) {
	printf "prom-check: line %d: %s\n", NR, msg
	bad++
}

function name_ok(s) {
	return s ~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
}

function family_of(s, t) {
	t = type[s]
	if (t != "")
		return s
	if (s ~ /_(bucket|sum|count)$/) {
		t = s
		sub(/_(bucket|sum|count)$/, "", t)
		if (type[t] == "histogram" || type[t] == "summary")
			return t
	}
	return s
}

# a family's lines begin: it must not have been seen, and closes the last
function open_family(f) {
	if (f == cur)
		return
	if (f in done)
		err("family " f " is not together (its lines are split)")
	if (cur != "")
		done[cur] = 1
	cur = f
	nfam++
}

# parse the labels of a sample: "{" at s[1]; sets rest to what follows "}"
function parse_labels(s, i, c, n, lname, val, seen_l) {
	i = 2
	n = length(s)
	for (;;) {
		while (substr(s, i, 1) == " ")
			i++
		if (substr(s, i, 1) == "}") {
			rest = substr(s, i + 1)
			return 1
		}
		lname = ""
		while (i <= n && substr(s, i, 1) ~ /[a-zA-Z0-9_]/) {
			lname = lname substr(s, i, 1)
			i++
		}
		if (lname == "" || lname !~ /^[a-zA-Z_][a-zA-Z0-9_]*$/) {
			err("bad label name at column " i)
			return 0
		}
		if (lname in seen_l)
			err("label " lname " twice")
		seen_l[lname] = 1
		if (substr(s, i, 2) != "=\"") {
			err("label " lname ": no =\"")
			return 0
		}
		i += 2
		val = ""
		for (;;) {
			if (i > n) {
				err("label " lname ": value not terminated")
				return 0
			}
			c = substr(s, i, 1)
			if (c == "\"")
				break
			if (c == "\\") {
				c = substr(s, i + 1, 1)
				if (c != "\\" && c != "\"" && c != "n") {
					err("label " lname ": bad escape \\" c)
					return 0
				}
				val = val "\\" c
				i += 2
				continue
			}
			val = val c
			i++
		}
		i++
		c = substr(s, i, 1)
		if (c == ",") {
			i++
			continue
		}
		if (c == "}") {
			rest = substr(s, i + 1)
			return 1
		}
		err("label " lname ": , or } expected after the value")
		return 0
	}
}

BEGIN {
	cur = ""
	bad = nfam = nsamples = 0
}

/^[ \t]*$/ { next }

/^#/ {
	if ($2 == "HELP" || $2 == "TYPE") {
		if (!name_ok($3)) {
			err("bad metric name in " $2 ": " $3)
			next
		}
		if ($2 == "HELP") {
			if ($3 in help)
				err("second HELP for " $3)
			help[$3] = 1
			h = $0
			sub(/^#[ \t]+HELP[ \t]+[^ \t]+[ \t]?/, "", h)
			tmp = h
			gsub(/\\\\/, "", tmp)
			if (tmp ~ /\\[^n]/ || tmp ~ /\\$/)
				err("bad escape in the HELP of " $3)
		} else {
			if ($3 in type)
				err("second TYPE for " $3)
			if ($4 !~ /^(counter|gauge|histogram|summary|untyped)$/ || NF != 4)
				err("bad TYPE line for " $3)
			if ($3 in sampled)
				err("TYPE for " $3 " after its samples")
			type[$3] = $4
		}
		open_family($3)
	}
	next
}

{
	line = $0
	if (!match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) {
		err("not a sample: " line)
		next
	}
	name = substr(line, 1, RLENGTH)
	rest = substr(line, RLENGTH + 1)
	labels = ""
	if (substr(rest, 1, 1) == "{") {
		whole = rest
		if (!parse_labels(rest))
			next
		labels = substr(whole, 1, length(whole) - length(rest))
	}
	if (rest !~ /^ [^ ]+( -?[0-9]+)?$/) {
		err("bad value part: \"" rest "\"")
		next
	}
	split(substr(rest, 2), v, " ")
	if (v[1] !~ /^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/ &&
	    v[1] !~ /^([-+]?Inf|NaN)$/)
		err("bad value " v[1])
	f = family_of(name)
	open_family(f)
	sampled[f] = 1
	if ((name labels) in series)
		err("series twice: " name labels)
	series[name labels] = 1
	nsamples++
	if (strict) {
		if (!(f in help) || !(f in type))
			err(f ": no HELP or TYPE")
		if (f !~ /^iketcp_/)
			err(f ": not an iketcp_ name")
		if (type[f] == "counter" && f !~ /_total$/)
			err(f ": a counter not ending in _total")
		if (type[f] != "counter" && f ~ /_total$/)
			err(f ": ends in _total but is no counter")
	}
}

END {
	if (bad)
		exit 1
	printf "prom-check: ok, %d families, %d samples\n", nfam, nsamples
}
