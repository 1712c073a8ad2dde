// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - parser of iketcpd.conf. Every error names file:line; a file
 * with an error is refused as a whole (iketcpd does not start, or keeps
 * its previous configuration on reload).
 *
 *   # comment
 *   listen <addr> [port] [framing raw|rfc9329]
 *                                   TCP listener (default: 0.0.0.0 and ::,
 *                                   port 500 raw; port 4500 rfc9329 as
 *                                   well when a peer rule asks for it)
 *   listen off                      no listener
 *   log-level error|warning|notice|info|debug
 *   retransmit-threshold <n>        "fallback": retransmissions before TCP
 *   idle-timeout <seconds>          close idle peer connections
 *   reconnect-max <seconds>         longest reconnect back-off
 *   queue-max <n>                   messages waiting per peer
 *   hold-time <seconds>             how long they may wait
 *   max-connections <n>             connections accepted in all
 *   max-connections-per-source <n>  connections accepted from one source
 *                                   (an IPv4 address, an IPv6 /64)
 *   stranger-timeout <seconds>      idle limit of accepted connections that
 *                                   carried no authenticated IKE SA yet
 *   max-sas <n>                     IKE SAs tracked in all
 *   max-half-open-per-peer <n>      IKE SAs a peer started, not yet
 *                                   authenticated
 *   half-open-timeout <seconds>     how long those are remembered
 *   sa-timeout <seconds>            how long an IKE SA without any message
 *                                   is remembered
 *   max-rate <n>                    messages/s one connection may deliver
 *   first-message-timeout <seconds> time a new connection has to send one
 *   fast-path on|off                the kernel delivers established SAs'
 *                                   messages itself (default on)
 *   peer <addr>[/<len>] <policy> [port <n>] [framing raw|rfc9329]
 *                                   (port: 500 raw, 4500 rfc9329 by default)
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "log.h"

static const char *const policy_names[] = {
	[POL_UDP] = "udp",
	[POL_TCP] = "tcp",
	[POL_AUTH] = "auth",
	[POL_INIT_AUTH] = "init+auth",
	[POL_AUTO] = "auto",
	[POL_FALLBACK] = "fallback",
};

/**
 * policy_name() - the config keyword of a policy
 * @p: the policy
 *
 * Return: a static string.
 */
const char *policy_name(enum iketcp_policy p)
{
	if ((size_t)p < sizeof(policy_names) / sizeof(*policy_names))
		return policy_names[p];
	return "?";
}

static const char *const framing_names[] = {
	[IKETCP_FRAMING_RAW] = "raw",
	[IKETCP_FRAMING_RFC9329] = "rfc9329",
};

/**
 * framing_name() - the config keyword of a framing
 * @framing: enum iketcp_framing
 *
 * Return: a static string.
 */
const char *framing_name(uint8_t framing)
{
	if (framing < sizeof(framing_names) / sizeof(*framing_names) &&
	    framing_names[framing])
		return framing_names[framing];
	return "?";
}

/**
 * framing_parse() - a framing keyword
 * @s: "raw" or "rfc9329"
 *
 * Return: enum iketcp_framing, or -1.
 */
int framing_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(framing_names) / sizeof(*framing_names); i++)
		if (framing_names[i] && !strcmp(s, framing_names[i]))
			return i;
	return -1;
}

/**
 * framing_port() - the default TCP port of a framing
 * @framing: enum iketcp_framing
 *
 * Return: 4500 for RFC 9329 (its s4), 500 for the draft's raw framing.
 */
uint16_t framing_port(uint8_t framing)
{
	return framing == IKETCP_FRAMING_RFC9329 ? 4500 : 500;
}

/**
 * policy_parse() - a policy keyword
 * @s: the keyword
 *
 * Return: enum iketcp_policy, or -1.
 */
int policy_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(policy_names) / sizeof(*policy_names); i++)
		if (!strcmp(s, policy_names[i]))
			return i;
	return -1;
}

struct parser {
	const char *path;
	int line;
	char *err;
	size_t errlen;
	size_t used;
	int nerr;
};

__attribute__((format(printf, 2, 3)))
static void perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	p->nerr++;
	if (p->used >= p->errlen)
		return;
	n = snprintf(p->err + p->used, p->errlen - p->used, "%s%s:%d: ",
		     p->used ? "\n" : "", p->path, p->line);
	if (n > 0)
		p->used += n;
	if (p->used >= p->errlen)
		return;
	va_start(ap, fmt);
	n = vsnprintf(p->err + p->used, p->errlen - p->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->used += n;
	if (p->used > p->errlen)
		p->used = p->errlen;
}

static int parse_int(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno || end == s || *end || *v < min || *v > max)
		return -1;
	return 0;
}

static bool prefix_clean(const struct iketcp_ep *ep, int plen)
{
	const uint8_t *b = (const uint8_t *)&ep->addr;
	int bits = ep->family == AF_INET ? 32 : 128;

	for (int i = plen; i < bits; i++)
		if (b[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

static int parse_prefix(struct parser *p, const char *s, struct iketcp_ep *ep,
			int *plen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	long v;

	if (strlen(s) >= sizeof(buf)) {
		perr(p, "'%.20s...' is too long for an address prefix", s);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (iketcp_ep_parse(buf, 0, ep)) {
		perr(p, "'%s' is not an IPv4 or IPv6 address", buf);
		return -1;
	}
	*plen = ep->family == AF_INET ? 32 : 128;
	if (slash) {
		if (parse_int(slash, 0, *plen, &v)) {
			perr(p, "bad prefix length '%s' (0..%d)", slash, *plen);
			return -1;
		}
		*plen = v;
	}
	if (!prefix_clean(ep, *plen)) {
		perr(p, "'%s' has bits set beyond /%d", s, *plen);
		return -1;
	}
	return 0;
}

static void *grow(void *arr, int n, size_t sz)
{
	return realloc(arr, (n + 1) * sz);
}

static int parse_line(struct parser *p, struct config *cfg, char **tok, int n)
{
	long v;

	if (!strcmp(tok[0], "peer")) {
		struct cfg_rule r = { .framing = IKETCP_FRAMING_RAW,
				      .line = p->line };
		bool port_set = false, framing_set = false;
		int pol;

		if (n < 3 || n % 2 == 0) {
			perr(p, "usage: peer <addr>[/<len>] <policy> [port <n>] [framing raw|rfc9329]");
			return -1;
		}
		if (parse_prefix(p, tok[1], &r.prefix, &r.plen))
			return -1;
		pol = policy_parse(tok[2]);
		if (pol < 0) {
			perr(p, "unknown policy '%s' (expected tcp, auth, init+auth, auto, fallback or udp)",
			     tok[2]);
			return -1;
		}
		r.policy = pol;
		for (int i = 3; i < n; i += 2) {
			if (!strcmp(tok[i], "port") && !port_set) {
				if (parse_int(tok[i + 1], 1, 65535, &v)) {
					perr(p, "bad port '%s' (1..65535)", tok[i + 1]);
					return -1;
				}
				r.port = v;
				port_set = true;
			} else if (!strcmp(tok[i], "framing") && !framing_set) {
				int f = framing_parse(tok[i + 1]);

				if (f < 0) {
					perr(p, "unknown framing '%s' (expected raw or rfc9329)",
					     tok[i + 1]);
					return -1;
				}
				r.framing = f;
				framing_set = true;
			} else {
				perr(p, "expected 'port <1..65535>' or 'framing raw|rfc9329' after the policy, not '%s'",
				     tok[i]);
				return -1;
			}
		}
		if (!port_set)
			r.port = framing_port(r.framing);
		for (int i = 0; i < cfg->nrules; i++) {
			const struct cfg_rule *o = &cfg->rules[i];

			if (config_same_rule(o, &r)) {
				perr(p, "duplicate peer %s (first at line %d)",
				     tok[1], o->line);
				return -1;
			}
		}
		cfg->rules = grow(cfg->rules, cfg->nrules, sizeof(r));
		if (!cfg->rules)
			return -ENOMEM;
		cfg->rules[cfg->nrules++] = r;
	} else if (!strcmp(tok[0], "listen")) {
		struct cfg_listen l = { .framing = IKETCP_FRAMING_RAW };
		const char *port = NULL;
		int f;

		if (n == 2 && !strcmp(tok[1], "off")) {
			cfg->listen_off = true;
			return 0;
		}
		/* listen <addr> [<port>] [framing raw|rfc9329] */
		if (n == 3 || n == 5)
			port = tok[2];
		if (n < 2 || n > 5 ||
		    (n >= 4 && strcmp(tok[n - 2], "framing"))) {
			perr(p, "usage: listen <addr> [<port>] [framing raw|rfc9329] | listen off");
			return -1;
		}
		if (n >= 4) {
			f = framing_parse(tok[n - 1]);
			if (f < 0) {
				perr(p, "unknown framing '%s' (expected raw or rfc9329)",
				     tok[n - 1]);
				return -1;
			}
			l.framing = f;
		}
		v = framing_port(l.framing);
		if (port && parse_int(port, 1, 65535, &v)) {
			perr(p, "bad port '%s' (1..65535)", port);
			return -1;
		}
		if (iketcp_ep_parse(tok[1], v, &l.ep)) {
			perr(p, "'%s' is not an IPv4 or IPv6 address", tok[1]);
			return -1;
		}
		for (int i = 0; i < cfg->nlistens; i++)
			if (!ep_addr_cmp(&cfg->listens[i].ep, &l.ep) &&
			    cfg->listens[i].ep.port == l.ep.port) {
				perr(p, "duplicate listener %s", ep_str_port(&l.ep));
				return -1;
			}
		cfg->listens = grow(cfg->listens, cfg->nlistens, sizeof(l));
		if (!cfg->listens)
			return -ENOMEM;
		cfg->listens[cfg->nlistens++] = l;
	} else if (!strcmp(tok[0], "fast-path")) {
		if (n != 2 || (strcmp(tok[1], "on") && strcmp(tok[1], "off"))) {
			perr(p, "usage: fast-path on|off");
			return -1;
		}
		cfg->fast_path = !strcmp(tok[1], "on");
	} else if (!strcmp(tok[0], "log-level")) {
		if (n != 2 || (cfg->log_level = log_level_parse(tok[1])) < 0) {
			perr(p, "usage: log-level error|warning|notice|info|debug");
			return -1;
		}
	} else {
		static const struct {
			const char *name;
			long min, max;
			size_t off;
		} ints[] = {
			{ "retransmit-threshold", 1, 100,
			  offsetof(struct config, retransmit_threshold) },
			{ "idle-timeout", 0, 30 * 86400,
			  offsetof(struct config, idle_timeout) },
			{ "reconnect-max", 1, 3600,
			  offsetof(struct config, reconnect_max) },
			{ "queue-max", 1, 100000,
			  offsetof(struct config, queue_max) },
			{ "hold-time", 1, 3600,
			  offsetof(struct config, hold_time) },
			{ "max-connections", 1, 1000000,
			  offsetof(struct config, max_conns) },
			{ "max-connections-per-source", 1, 1000000,
			  offsetof(struct config, max_conns_per_source) },
			{ "stranger-timeout", 1, 86400,
			  offsetof(struct config, stranger_timeout) },
			{ "max-sas", 1, 10000000,
			  offsetof(struct config, max_sas) },
			{ "max-half-open-per-peer", 1, 100000,
			  offsetof(struct config, max_half_open) },
			{ "half-open-timeout", 1, 3600,
			  offsetof(struct config, half_open_timeout) },
			{ "sa-timeout", 60, 30 * 86400,
			  offsetof(struct config, sa_timeout) },
			{ "max-rate", 1, 1000000,
			  offsetof(struct config, max_rate) },
			{ "first-message-timeout", 0, 3600,
			  offsetof(struct config, first_msg_timeout) },
		};

		for (size_t i = 0; i < sizeof(ints) / sizeof(*ints); i++) {
			if (strcmp(tok[0], ints[i].name))
				continue;
			if (n != 2 || parse_int(tok[1], ints[i].min, ints[i].max, &v)) {
				perr(p, "usage: %s <%ld..%ld>", ints[i].name,
				     ints[i].min, ints[i].max);
				return -1;
			}
			*(int *)((char *)cfg + ints[i].off) = v;
			return 0;
		}
		perr(p, "unknown directive '%s'", tok[0]);
		return -1;
	}
	return 0;
}

/**
 * config_parse() - parse configuration text
 * @path: file name for error messages
 * @text: the contents
 * @cfg: filled in (free with config_free(), also on error)
 * @err: receives the errors, one "file:line: message" per line
 * @errlen: size of @err
 *
 * Return: 0, or -EINVAL when the text has errors (all are reported).
 */
int config_parse(const char *path, const char *text, struct config *cfg,
		 char *err, size_t errlen)
{
	struct parser p = { .path = path, .err = err, .errlen = errlen };
	const char *s = text;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	cfg->log_level = LOG_INFO;
	cfg->retransmit_threshold = 2;
	cfg->idle_timeout = 3600;
	cfg->reconnect_max = 30;
	cfg->queue_max = 64;
	cfg->hold_time = 60;
	cfg->max_conns = 50000;
	cfg->max_conns_per_source = 64;
	cfg->stranger_timeout = 60;
	cfg->max_sas = 100000;
	cfg->max_half_open = 32;
	cfg->half_open_timeout = 60;
	cfg->sa_timeout = 86400;
	cfg->max_rate = 200;
	cfg->first_msg_timeout = 10;
	cfg->fast_path = true;
	if (errlen)
		err[0] = 0;

	while (*s) {
		char line[1024], *tok[8], *q;
		size_t len = strcspn(s, "\n");
		int n = 0;

		p.line++;
		if (len >= sizeof(line)) {
			perr(&p, "line too long");
			s += len + (s[len] == '\n');
			continue;
		}
		memcpy(line, s, len);
		line[len] = 0;
		s += len + (s[len] == '\n');
		q = strchr(line, '#');
		if (q)
			*q = 0;
		for (q = strtok(line, " \t\r"); q; q = strtok(NULL, " \t\r")) {
			if (n == (int)(sizeof(tok) / sizeof(*tok))) {
				perr(&p, "too many words");
				n = -1;
				break;
			}
			tok[n++] = q;
		}
		if (n > 0 && parse_line(&p, cfg, tok, n) == -ENOMEM)
			return -ENOMEM;
	}
	if (!cfg->nlistens && !cfg->listen_off) {
		bool rfc9329 = false;

		for (int i = 0; i < cfg->nrules; i++)
			if (cfg->rules[i].framing == IKETCP_FRAMING_RFC9329 &&
			    cfg->rules[i].policy != POL_UDP)
				rfc9329 = true;
		cfg->listens = calloc(4, sizeof(*cfg->listens));
		if (!cfg->listens)
			return -ENOMEM;
		for (int i = 0; i < (rfc9329 ? 4 : 2); i++) {
			struct cfg_listen *l = &cfg->listens[i];

			l->framing = i < 2 ? IKETCP_FRAMING_RAW :
					     IKETCP_FRAMING_RFC9329;
			iketcp_ep_parse(i % 2 ? "::" : "0.0.0.0",
					framing_port(l->framing), &l->ep);
		}
		cfg->nlistens = rfc9329 ? 4 : 2;
	}
	if (cfg->listen_off && cfg->nlistens) {
		p.line = 0;
		perr(&p, "'listen off' together with listen addresses");
	}
	return p.nerr ? -EINVAL : 0;
}

/**
 * config_load() - read and parse a configuration file
 * @path: the file
 * @cfg: filled in (free with config_free(), also on error)
 * @err: receives the errors, "file:line: message" each
 * @errlen: size of @err
 *
 * Return: 0, -EINVAL (errors in @err) or another -errno.
 */
int config_load(const char *path, struct config *cfg, char *err,
		size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text;
	long size;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	if (size < 0 || size > (1 << 24)) {
		fclose(f);
		snprintf(err, errlen, "%s: not a regular file or too large", path);
		return -EINVAL;
	}
	text = calloc(1, size + 1);
	if (!text || fread(text, 1, size, f) != (size_t)size) {
		free(text);
		fclose(f);
		snprintf(err, errlen, "%s: read error", path);
		return -EIO;
	}
	fclose(f);
	if (strlen(text) != (size_t)size) {
		free(text);
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		return -EINVAL;
	}
	ret = config_parse(path, text, cfg, err, errlen);
	free(text);
	return ret;
}

/**
 * config_free() - release a configuration
 * @cfg: the configuration
 */
void config_free(struct config *cfg)
{
	free(cfg->rules);
	free(cfg->listens);
	cfg->rules = NULL;
	cfg->listens = NULL;
	cfg->nrules = 0;
	cfg->nlistens = 0;
}

/**
 * config_same_rule() - do two rules name the same prefix?
 * @a: one
 * @b: the other
 *
 * Return: true if they do.
 */
bool config_same_rule(const struct cfg_rule *a, const struct cfg_rule *b)
{
	return a->plen == b->plen && ep_addr_eq(&a->prefix, &b->prefix);
}

/**
 * config_lookup() - the rule for a peer address (longest prefix)
 * @cfg: the configuration
 * @addr: the peer's address (port ignored)
 *
 * Return: the rule, or NULL (then the peer is left alone: udp).
 */
const struct cfg_rule *config_lookup(const struct config *cfg,
				     const struct iketcp_ep *addr)
{
	const struct cfg_rule *best = NULL;

	for (int i = 0; i < cfg->nrules; i++)
		if (ep_prefix_match(&cfg->rules[i].prefix, cfg->rules[i].plen,
				    addr) &&
		    (!best || cfg->rules[i].plen > best->plen))
			best = &cfg->rules[i];
	return best;
}
