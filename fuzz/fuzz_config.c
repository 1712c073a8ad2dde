// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_config.c - libFuzzer target for the iketcpd.conf parser
 * (userspace/config.c: config_parse(), config_lookup(), config_free()).
 *
 * Input: byte 0 picks the file name (low 2 bits), byte 1 the size of a
 * small error buffer; the rest, NUL-terminated, is the text.
 *
 * Checks:
 * - the return value is 0 or -EINVAL;
 * - on error: the message is non-empty, NUL-terminated, and every line
 *   starts with "<path>:"; parsing again into a small buffer gives the
 *   same result and a prefix of the same message (truncation only);
 * - on success: the message is empty; every rule has a prefix length
 *   valid for its family, no host bits set, a port in 1..65535, a known
 *   policy; no two rules are the same prefix; the rules and listeners are
 *   exactly the "peer" and "listen" lines of the text, in order, as an
 *   independent line splitter reads them; the numeric settings are in
 *   their documented ranges;
 * - config_lookup() on addresses derived from the rules and the input
 *   (both families, a bogus family) returns the longest matching prefix,
 *   as a brute-force scan finds it (also on a configuration with errors);
 * - config_free() always, twice.
 * Any violation abort()s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config.h"

#define FUZZ_NAME "fuzz_config"
#include "fuzz.h"

/*
 * Room for every message: at most one per line, of at most 160 bytes plus
 * the line's own text, and a final one. Sized per input, so that small
 * inputs stay fast; the check that the message fits verifies the bound.
 */
static size_t big_err(const char *text)
{
	size_t lines = 1, len = strlen(text);

	for (const char *p = text; (p = strchr(p, '\n')); p++)
		lines++;
	return 160 * (lines + 1) + len + 1024;
}

static const char *const paths[] = {
	"/etc/iketcp/iketcpd.conf",
	"fuzz.conf",
	"",
	"%s%n%d.conf",
};

static int alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Independent prefix match: bit by bit */
static bool bit(const void *a, int i)
{
	return ((const uint8_t *)a)[i / 8] >> (7 - i % 8) & 1;
}

static bool matches(const struct cfg_rule *r, const struct iketcp_ep *a)
{
	if (r->prefix.family != a->family)
		return false;
	for (int i = 0; i < r->plen; i++)
		if (bit(&r->prefix.addr, i) != bit(&a->addr, i))
			return false;
	return true;
}

static void check_lookup(const struct config *cfg, const struct iketcp_ep *a)
{
	const struct cfg_rule *got = config_lookup(cfg, a), *best = NULL;

	for (int i = 0; i < cfg->nrules; i++)
		if (matches(&cfg->rules[i], a) &&
		    (!best || cfg->rules[i].plen > best->plen))
			best = &cfg->rules[i];
	if (!got || !best) {
		CHECK(got == best, "lookup: %s, brute force: %s",
		      got ? "a rule" : "NULL", best ? "a rule" : "NULL");
		return;
	}
	/* equal lengths can only tie on duplicates, which are refused */
	CHECK(matches(got, a) && got->plen == best->plen,
	      "lookup gave /%d (line %d), brute force /%d (line %d)",
	      got->plen, got->line, best->plen, best->line);
}

static void lookups(const struct config *cfg, const uint8_t *data,
		    size_t size)
{
	struct iketcp_ep a;

	for (int i = 0; i < cfg->nrules && i < 16; i++) {
		const struct cfg_rule *r = &cfg->rules[i];
		uint8_t *b = (uint8_t *)&a.addr;

		a = r->prefix;
		a.port = 4500;
		check_lookup(cfg, &a);
		/* the same prefix with every host bit set */
		for (int j = r->plen; j < alen(a.family) * 8; j++)
			b[j / 8] |= 0x80 >> (j % 8);
		check_lookup(cfg, &a);
		/* the last prefix bit flipped */
		if (r->plen) {
			a = r->prefix;
			b[(r->plen - 1) / 8] ^= 0x80 >> ((r->plen - 1) % 8);
			check_lookup(cfg, &a);
		}
		/* the rule's prefix with host bits from the input */
		a = r->prefix;
		for (int j = r->plen; j < alen(a.family) * 8; j++)
			if (size && bit(data + (j / 8) % size, j % 8))
				b[j / 8] |= 0x80 >> (j % 8);
		check_lookup(cfg, &a);
	}
	/* addresses taken from the input, both families and a bogus one */
	for (int f = 0; f < 3; f++) {
		memset(&a, 0, sizeof(a));
		a.family = f == 0 ? AF_INET : f == 1 ? AF_INET6 : AF_UNIX;
		memcpy(&a.addr, data, size < sizeof(a.addr) ? size : sizeof(a.addr));
		check_lookup(cfg, &a);
		if (f == 2)
			CHECK(!config_lookup(cfg, &a), "lookup matched AF_UNIX");
	}
}

/* ---- an independent reading of the text's lines ---- */

struct line {
	int no;
	int n;
	char *tok[8];
};

/* Split into lines and words; returns the lines with words. */
static struct line *split(char *text, int *nlines)
{
	struct line *v = NULL;
	int no = 0, cnt = 0;
	char *s = text;

	while (*s) {
		char *nl = strchr(s, '\n'), *hash, *save;
		struct line l = { .no = ++no };

		if (nl)
			*nl = 0;
		hash = strchr(s, '#');
		if (hash)
			*hash = 0;
		for (char *w = strtok_r(s, " \t\r", &save); w;
		     w = strtok_r(NULL, " \t\r", &save))
			if (l.n < 8)
				l.tok[l.n++] = w;
		if (l.n) {
			v = realloc(v, (cnt + 1) * sizeof(*v));
			CHECK(v, "out of memory");
			v[cnt++] = l;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	*nlines = cnt;
	return v;
}

/* A whole decimal number in [min, max] (what the grammar calls <n>) */
static bool number(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return !errno && end != s && !*end && *v >= min && *v <= max;
}

static void check_success(const struct config *cfg, const char *text)
{
	static const char *const pol[] = { "udp", "tcp", "auth", "init+auth",
					   "auto", "fallback" };
	char *copy = strdup(text);
	int nlines, r = 0, li = 0;
	bool want_4500 = false;
	struct line *l;

	CHECK(copy, "out of memory");
	l = split(copy, &nlines);

	CHECK(cfg->log_level >= LOG_ERR && cfg->log_level <= LOG_DEBUG,
	      "log level %d", cfg->log_level);
	CHECK(cfg->retransmit_threshold >= 1 && cfg->retransmit_threshold <= 100,
	      "retransmit-threshold %d", cfg->retransmit_threshold);
	CHECK(cfg->idle_timeout >= 0 && cfg->idle_timeout <= 30 * 86400,
	      "idle-timeout %d", cfg->idle_timeout);
	CHECK(cfg->reconnect_max >= 1 && cfg->reconnect_max <= 3600,
	      "reconnect-max %d", cfg->reconnect_max);
	CHECK(cfg->queue_max >= 1 && cfg->queue_max <= 100000,
	      "queue-max %d", cfg->queue_max);
	CHECK(cfg->hold_time >= 1 && cfg->hold_time <= 3600,
	      "hold-time %d", cfg->hold_time);

	for (int i = 0; i < cfg->nrules; i++) {
		const struct cfg_rule *a = &cfg->rules[i];
		int bits;

		CHECK(a->prefix.family == AF_INET || a->prefix.family == AF_INET6,
		      "rule %d: family %d", i, a->prefix.family);
		bits = alen(a->prefix.family) * 8;
		CHECK(a->plen >= 0 && a->plen <= bits, "rule %d: /%d", i, a->plen);
		for (int j = a->plen; j < bits; j++)
			CHECK(!bit(&a->prefix.addr, j), "rule %d: host bit %d set",
			      i, j);
		CHECK(a->port >= 1, "rule %d: port 0", i);
		CHECK((int)a->policy >= 0 && a->policy <= POL_FALLBACK &&
		      policy_parse(policy_name(a->policy)) == (int)a->policy,
		      "rule %d: policy %d", i, a->policy);
		for (int k = 0; k < i; k++)
			CHECK(!(cfg->rules[k].plen == a->plen &&
				cfg->rules[k].prefix.family == a->prefix.family &&
				!memcmp(&cfg->rules[k].prefix.addr, &a->prefix.addr,
					alen(a->prefix.family))),
			      "rules %d and %d are the same prefix", k, i);
	}

	/* the rules and listeners are the text's peer and listen lines */
	for (int i = 0; i < nlines; i++) {
		struct iketcp_ep ep;
		char *slash;

		if (!strcmp(l[i].tok[0], "peer")) {
			const struct cfg_rule *a;
			long plen, port = -1;
			int p = -1, fr = IKETCP_FRAMING_RAW;

			CHECK(r < cfg->nrules, "line %d: peer line without rule",
			      l[i].no);
			a = &cfg->rules[r++];
			CHECK(a->line == l[i].no, "rule %d: line %d, model %d",
			      r - 1, a->line, l[i].no);
			CHECK(l[i].n >= 3 && l[i].n % 2 && l[i].n <= 7,
			      "line %d: %d words", l[i].no, l[i].n);
			slash = strchr(l[i].tok[1], '/');
			if (slash)
				*slash++ = 0;
			CHECK(fuzz_addr(l[i].tok[1], &ep), "line %d: address '%s'",
			      l[i].no, l[i].tok[1]);
			plen = alen(ep.family) * 8;
			CHECK(!slash || number(slash, 0, plen, &plen),
			      "line %d: accepted prefix length '%s'", l[i].no, slash);
			for (int k = 0; k < 6; k++)
				if (!strcmp(l[i].tok[2], pol[k]))
					p = k;
			CHECK(p >= 0, "line %d: accepted policy '%s'", l[i].no,
			      l[i].tok[2]);
			/* options: port <n> and framing raw|rfc9329, each once */
			for (int o = 3, seen_f = 0; o + 1 < l[i].n; o += 2) {
				if (!strcmp(l[i].tok[o], "port")) {
					CHECK(port < 0 && number(l[i].tok[o + 1], 1, 65535, &port),
					      "line %d: accepted 'port %s'", l[i].no,
					      l[i].tok[o + 1]);
				} else {
					CHECK(!strcmp(l[i].tok[o], "framing") && !seen_f &&
					      (!strcmp(l[i].tok[o + 1], "raw") ||
					       !strcmp(l[i].tok[o + 1], "rfc9329")),
					      "line %d: accepted option '%s %s'", l[i].no,
					      l[i].tok[o], l[i].tok[o + 1]);
					seen_f = 1;
					fr = strcmp(l[i].tok[o + 1], "raw") ?
					     IKETCP_FRAMING_RFC9329 : IKETCP_FRAMING_RAW;
				}
			}
			if (port < 0)
				port = fr == IKETCP_FRAMING_RFC9329 ? 4500 : 500;
			if (fr == IKETCP_FRAMING_RFC9329 && p != POL_UDP)
				want_4500 = true;
			CHECK(a->prefix.family == ep.family && a->plen == plen &&
			      !memcmp(&a->prefix.addr, &ep.addr, alen(ep.family)) &&
			      (int)a->policy == p && a->port == port &&
			      a->framing == fr,
			      "line %d: rule /%d policy %d port %u framing %u, model /%ld policy %d port %ld framing %d",
			      l[i].no, a->plen, a->policy, a->port, a->framing,
			      plen, p, port, fr);
		} else if (!strcmp(l[i].tok[0], "listen") &&
			   !(l[i].n == 2 && !strcmp(l[i].tok[1], "off"))) {
			const struct cfg_listen *a;
			int fr = IKETCP_FRAMING_RAW, n = l[i].n;
			long port = -1;

			/* listen <addr> [<port>] [framing raw|rfc9329] */
			CHECK(n >= 2 && n <= 5, "line %d: accepted listen with %d words",
			      l[i].no, n);
			if (n == 3 || n == 5)
				CHECK(number(l[i].tok[2], 1, 65535, &port),
				      "line %d: accepted listen port '%s'", l[i].no,
				      l[i].tok[2]);
			if (n >= 4) {
				CHECK(!strcmp(l[i].tok[n - 2], "framing") &&
				      (!strcmp(l[i].tok[n - 1], "raw") ||
				       !strcmp(l[i].tok[n - 1], "rfc9329")),
				      "line %d: accepted listen option '%s %s'",
				      l[i].no, l[i].tok[n - 2], l[i].tok[n - 1]);
				fr = strcmp(l[i].tok[n - 1], "raw") ?
				     IKETCP_FRAMING_RFC9329 : IKETCP_FRAMING_RAW;
			}
			if (port < 0)
				port = fr == IKETCP_FRAMING_RFC9329 ? 4500 : 500;
			CHECK(li < cfg->nlistens, "line %d: listen without listener",
			      l[i].no);
			a = &cfg->listens[li++];
			CHECK(fuzz_addr(l[i].tok[1], &ep), "line %d: address '%s'",
			      l[i].no, l[i].tok[1]);
			CHECK(a->ep.family == ep.family && a->ep.port == port &&
			      a->framing == fr &&
			      !memcmp(&a->ep.addr, &ep.addr, alen(ep.family)),
			      "line %d: listener differs", l[i].no);
			for (int k = 0; k < li - 1; k++)
				CHECK(!(cfg->listens[k].ep.family == ep.family &&
					cfg->listens[k].ep.port == port &&
					!memcmp(&cfg->listens[k].ep.addr, &ep.addr,
						alen(ep.family))),
				      "line %d: duplicate listener accepted", l[i].no);
		}
	}
	CHECK(r == cfg->nrules, "%d rules, %d peer lines", cfg->nrules, r);
	if (cfg->listen_off) {
		CHECK(cfg->nlistens == 0 && li == 0, "listen off with %d listeners",
		      cfg->nlistens);
	} else if (li == 0) {
		CHECK(cfg->nlistens == (want_4500 ? 4 : 2) &&
		      cfg->listens[0].ep.port == 500 &&
		      cfg->listens[1].ep.port == 500 &&
		      cfg->listens[0].ep.family == AF_INET &&
		      cfg->listens[1].ep.family == AF_INET6 &&
		      (!want_4500 || (cfg->listens[2].ep.port == 4500 &&
				      cfg->listens[3].ep.port == 4500 &&
				      cfg->listens[3].framing == IKETCP_FRAMING_RFC9329)),
		      "default listeners: %d", cfg->nlistens);
	} else {
		CHECK(li == cfg->nlistens, "%d listeners, %d listen lines",
		      cfg->nlistens, li);
	}
	free(l);
	free(copy);
}

static void check_error(const char *err, const char *path)
{
	size_t plen = strlen(path);
	const char *s = err;

	CHECK(err[0], "error without a message");
	for (;;) {
		CHECK(!strncmp(s, path, plen) && s[plen] == ':',
		      "error line does not start with '%s:': '%.80s'", path, s);
		s = strchr(s, '\n');
		if (!s)
			break;
		s++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path;
	struct config cfg, cfg2;
	char *text, *err, *small;
	size_t smallen, errlen;
	int ret, ret2;

	if (size < 2)
		return 0;
	path = paths[data[0] & 3];
	smallen = data[1];
	text = malloc(size - 1);
	CHECK(text, "out of memory");
	memcpy(text, data + 2, size - 2);
	text[size - 2] = 0;
	errlen = big_err(text);
	err = malloc(errlen);
	small = malloc(smallen ? smallen : 1);
	CHECK(err && small, "out of memory");
	memset(err, 0x5a, errlen);

	ret = config_parse(path, text, &cfg, err, errlen);
	CHECK(ret == 0 || ret == -EINVAL, "config_parse returned %d", ret);
	CHECK(memchr(err, 0, errlen), "error message not terminated");
	CHECK(strlen(err) < errlen - 1, "error message filled %zu bytes",
	      errlen);
	CHECK(!strncmp(cfg.path, path, sizeof(cfg.path) - 1), "cfg.path");
	if (ret == 0) {
		CHECK(!err[0], "success with message '%.80s'", err);
		check_success(&cfg, text);
	} else {
		check_error(err, path);
	}
	lookups(&cfg, data + 2, size - 2);

	/* a small buffer: same result, the message truncated */
	memset(small, 0x5a, smallen ? smallen : 1);
	ret2 = config_parse(path, text, &cfg2, small, smallen);
	CHECK(ret2 == ret, "small buffer: %d, big: %d", ret2, ret);
	CHECK(cfg2.nrules == cfg.nrules && cfg2.nlistens == cfg.nlistens,
	      "small buffer: different configuration");
	if (smallen) {
		size_t n = strnlen(small, smallen);

		CHECK(n < smallen, "small buffer (%zu) not terminated", smallen);
		CHECK(!strncmp(small, err, n), "small buffer is not a prefix: '%s' vs '%.*s'",
		      small, (int)n, err);
		CHECK(n == smallen - 1 || n == strlen(err),
		      "small buffer (%zu) holds %zu of %zu bytes", smallen, n,
		      strlen(err));
	}
	config_free(&cfg2);
	config_free(&cfg2);

	config_free(&cfg);
	config_free(&cfg);
	free(small);
	free(err);
	free(text);
	return 0;
}
