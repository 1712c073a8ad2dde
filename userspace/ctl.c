// SPDX-License-Identifier: GPL-2.0
/*
 * ctl.c - iketcpd's status socket (a unix stream socket): one request line
 * ("status" or "status-json"), one answer, then the connection closes.
 * iketcpctl status is its client. Only root and iketcpd's own user are
 * served; clients are non-blocking and driven by the event loop (one that
 * never sends its request or never reads the answer stalls nothing, and
 * is closed after CTL_CLIENT_TIMEOUT_MS, or when CTL_MAX_CLIENTS newer
 * ones need room).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon.h"
#include "log.h"

#define CTL_CLIENT_TIMEOUT_MS	5000
#define CTL_MAX_CLIENTS		16

/*
 * struct ctl_client - one client of the status socket
 * @fd: its socket
 * @req: its request line, as far as read
 * @reqlen: bytes in @req
 * @ans: the answer (malloc'd), NULL until the request is complete
 * @anslen: its length
 * @off: bytes of it written
 * @deadline: when it is closed whatever its state (ms)
 * @next: next client
 */
struct ctl_client {
	int fd;
	char req[64];
	size_t reqlen;
	char *ans;
	size_t anslen;
	size_t off;
	long long deadline;
	struct ctl_client *next;
};

static struct ctl_client *clients;
static int nclients;

struct out {
	char *buf;
	size_t len;
	size_t cap;
	bool json;
	bool first;
	struct daemon *d;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (o->len + n < o->cap) {
			o->len += n;
			return;
		}
		o->cap = (o->cap + n) * 2;
		o->buf = realloc(o->buf, o->cap);
		if (!o->buf) {
			o->cap = o->len = 0;
			return;
		}
	}
}

static const char *addr_s(const struct iketcp_ep *ep, char *buf, size_t len)
{
	if (!ep->family)
		return "";
	inet_ntop(ep->family, &ep->addr, buf, len);
	return buf;
}

/* "up" or "connecting" when a connection of the peer is, else NULL */
static const char *peer_conn_state(const struct peer *p)
{
	const struct conn *c;

	if (p->cur && p->cur->id)
		return "up";
	for (c = p->conns; c; c = c->next)
		if (c->connecting || !c->id)
			return "connecting";
	return NULL;
}

static const char *peer_state(const struct peer *p)
{
	const char *s = peer_conn_state(p);

	if (s)
		return s;
	return p->next_connect ? "reconnecting" : "down";
}

/*
 * What a peer's TCP transport is doing, finer than peer_state() (whose
 * values the JSON "state" keeps): "up" (a connection that may carry a new
 * IKE SA: one we opened, or an accepted one that earned an authenticated
 * SA), "connecting" (a connect in progress, or an accepted connection
 * not attached yet), "accepted" (only connections from the peer that
 * carried no authenticated SA yet), "backing-off" (the next attempt
 * waits for the reconnect back-off after failures), "reconnecting" (an
 * attempt is due now) and "idle" (no connection, none planned: nothing
 * to carry, or a peer that reconnects itself).
 */
static const char *peer_link(const struct peer *p, long long now)
{
	const char *s = peer_conn_state(p);

	if (s)
		return s;
	if (p->conns)
		return "accepted";
	if (p->next_connect)
		return p->backoff_ms && p->next_connect > now ? "backing-off" :
								"reconnecting";
	return "idle";
}

/* seconds since @t (ms), for the JSON: null when it never happened */
static void put_age(struct out *o, const char *key, long long t, long long now)
{
	if (t)
		put(o, ",\"%s\":%lld", key, (now - t) / 1000);
	else
		put(o, ",\"%s\":null", key);
}

/* the same for the text: "12 s ago", "never" */
static const char *age_s(long long t, long long now, char *buf, size_t len)
{
	if (!t)
		return "never";
	snprintf(buf, len, "%lld s ago", (now - t) / 1000);
	return buf;
}

static void put_peer(struct peer *p, void *arg)
{
	struct out *o = arg;
	const struct cfg_rule *r = config_lookup(&o->d->cfg, &p->remote);
	const struct peer_stats *s = &p->stats;
	long long now = now_ms(), cur_up = 0;
	char ra[64], la[64], t1[32], t2[32];
	int nopen = 0;

	addr_s(&p->remote, ra, sizeof(ra));
	addr_s(&p->local, la, sizeof(la));
	for (const struct conn *c = p->conns; c; c = c->next)
		nopen += c->id != 0;
	if (p->cur && p->cur->id)
		cur_up = p->cur->up_at;
	if (o->json) {
		put(o, "%s{\"remote\":\"%s\",\"local\":\"%s\",\"state\":\"%s\",\"conn\":%u,"
		    "\"opened_by\":\"%s\",\"generation\":%u,\"queued\":%d,\"fallback_tcp\":%s,"
		    "\"tcp_out\":%llu,\"tcp_in\":%llu,\"udp_out\":%llu,\"suppressed\":%llu,"
		    "\"resent\":%llu,\"connects\":%llu,\"accepts\":%llu,"
		    "\"connect_failures\":%llu,\"dropped\":%llu,\"sas\":%d,"
		    "\"half_open\":%d,\"outstanding\":%d,\"framing\":\"%s\","
		    "\"esp_conn\":%u",
		    o->first ? "" : ",", ra, la, peer_state(p),
		    p->cur ? p->cur->id : 0, p->originator ? "us" : "peer",
		    p->gen, p->qlen, p->fallback_tcp ? "true" : "false",
		    (unsigned long long)s->tcp_out, (unsigned long long)s->tcp_in,
		    (unsigned long long)s->udp_out,
		    (unsigned long long)s->suppressed,
		    (unsigned long long)s->resent, (unsigned long long)s->connects,
		    (unsigned long long)s->accepts,
		    (unsigned long long)s->connect_failures,
		    (unsigned long long)s->dropped, p->nsas, p->nhalf, p->nout,
		    framing_name(p->framing), p->esp_conn);
		put(o, ",\"link\":\"%s\",\"policy\":\"%s\",\"tcp_port\":%u,"
		    "\"conns_open\":%d,\"tcp_out_bytes\":%llu,\"tcp_in_bytes\":%llu,"
		    "\"conns_ended\":%llu,\"resets\":%llu",
		    peer_link(p, now), r ? policy_name(r->policy) : "none",
		    p->tcp_port, nopen, (unsigned long long)s->tcp_out_bytes,
		    (unsigned long long)s->tcp_in_bytes,
		    (unsigned long long)s->conns_ended,
		    (unsigned long long)s->resets);
		put_age(o, "conn_up_s", cur_up, now);
		put_age(o, "first_up_s", p->first_up, now);
		put_age(o, "last_in_s", p->last_tcp_in, now);
		put_age(o, "last_out_s", p->last_tcp_out, now);
		if (p->next_connect && p->next_connect > now)
			put(o, ",\"retry_in_ms\":%lld", p->next_connect - now);
		else
			put(o, ",\"retry_in_ms\":null");
		put(o, ",\"conns\":[");
		for (const struct conn *c = p->conns; c; c = c->next) {
			put(o, "%s{\"id\":%u,\"framing\":\"%s\",\"opened_by_us\":%s,"
			    "\"for_sa\":\"%016llx\",\"known\":%s",
			    c == p->conns ? "" : ",", c->id,
			    framing_name(c->framing),
			    c->originator ? "true" : "false",
			    (unsigned long long)c->for_spi,
			    c->known ? "true" : "false");
			put_age(o, "up_s", c->up_at, now);
			put(o, "}");
		}
		put(o, "]}");
	} else {
		put(o, "peer %s: %s", ra, peer_link(p, now));
		if (cur_up)
			put(o, " %lld s (conn %u, opened by %s, generation %u)",
			    (now - cur_up) / 1000, p->cur->id,
			    p->originator ? "us" : "the peer", p->gen);
		else if (p->next_connect && p->next_connect > now)
			put(o, " (next attempt in %lld ms)", p->next_connect - now);
		put(o, "%s\n  local %s, policy %s, %s framing, tcp port %u; first up %s\n",
		    p->fallback_tcp ? " [fallback: tcp]" : "", la,
		    r ? policy_name(r->policy) : "none", framing_name(p->framing),
		    p->tcp_port, age_s(p->first_up, now, t1, sizeof(t1)));
		put(o, "  tcp out %llu (%llu bytes, last %s) in %llu (%llu bytes, last %s), udp out %llu\n",
		    (unsigned long long)s->tcp_out,
		    (unsigned long long)s->tcp_out_bytes,
		    age_s(p->last_tcp_out, now, t1, sizeof(t1)),
		    (unsigned long long)s->tcp_in,
		    (unsigned long long)s->tcp_in_bytes,
		    age_s(p->last_tcp_in, now, t2, sizeof(t2)),
		    (unsigned long long)s->udp_out);
		put(o, "  connections open %d, opened by us %llu (failed %llu), accepted %llu, ended %llu (aborted %llu)\n",
		    nopen, (unsigned long long)s->connects,
		    (unsigned long long)s->connect_failures,
		    (unsigned long long)s->accepts,
		    (unsigned long long)s->conns_ended,
		    (unsigned long long)s->resets);
		put(o, "  retransmissions suppressed %llu, resent %llu, queued %d, dropped %llu\n",
		    (unsigned long long)s->suppressed,
		    (unsigned long long)s->resent, p->qlen,
		    (unsigned long long)s->dropped);
		for (const struct conn *c = p->conns; c; c = c->next) {
			put(o, "  conn %u: %s, opened by %s", c->id,
			    framing_name(c->framing),
			    c->originator ? "us" : "the peer");
			if (c->for_spi)
				put(o, ", for IKE SA %016llx",
				    (unsigned long long)c->for_spi);
			put(o, "%s%s%s", c->known ? ", known" : "",
			    c->id && c->id == p->esp_conn ? ", carries ESP" : "",
			    !c->id ? ", not attached yet" : "");
			if (c->up_at)
				put(o, ", up %lld s", (now - c->up_at) / 1000);
			put(o, "\n");
		}
	}
	o->first = false;
}

/* IKE SAs and the connection each is bound to (text output) */
static void put_sa(struct sa *sa, void *arg)
{
	struct out *o = arg;
	const struct conn *own;
	char r[64];

	if (!sa->bound && !sa->own_conn)
		return;
	own = sa->bound ? NULL : peer_conn_for_sa(o->d, sa->p, sa->spi_i);
	put(o, "sa %016llx peer %s: IKEv%u, %s, conn %u\n",
	    (unsigned long long)sa->spi_i, addr_s(&sa->peer, r, sizeof(r)),
	    sa->major, sa->authed ? "authenticated" : "not authenticated",
	    sa->bound ? sa->bound : own ? own->id : 0);
}

static void status(struct daemon *d, struct out *o)
{
	const struct daemon_stats *s = &d->stats;
	char a[64];

	if (o->json) {
		json_object *path = json_object_new_string(d->cfg.path ?: "");

		put(o, "{\"pid\":%d,\"uptime_s\":%lld,\"config\":%s,\"policies\":[",
		    getpid(), (now_ms() - d->started) / 1000,
		    path ? json_object_to_json_string_ext(path,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE) : "null");
		json_object_put(path);
		for (int i = 0; i < d->cfg.nrules; i++) {
			const struct cfg_rule *r = &d->cfg.rules[i];

			put(o, "%s{\"peer\":\"%s/%d\",\"policy\":\"%s\",\"port\":%u,"
			    "\"framing\":\"%s\",\"line\":%d}",
			    i ? "," : "", addr_s(&r->prefix, a, sizeof(a)),
			    r->plen, policy_name(r->policy), r->port,
			    framing_name(r->framing), r->line);
		}
		put(o, "],\"counters\":{\"captured\":%llu,\"to_tcp\":%llu,\"to_udp\":%llu,"
		    "\"from_tcp\":%llu,\"injected\":%llu,\"inject_errors\":%llu,"
		    "\"refused\":%llu,\"enobufs\":%llu,\"bad_msgs\":%llu,"
		    "\"limited\":%llu,\"rate_dropped\":%llu,\"first_refused\":%llu,"
		    "\"fast_added\":%llu,\"fast_sas\":%llu,\"fast_ended\":%llu,"
		    "\"evicted\":%llu,"
		    "\"idle_closed\":%llu,\"half_open_refused\":%llu,"
		    "\"sas_expired\":%llu,\"sas_evicted\":%llu,"
		    "\"peers_freed\":%llu,\"unrouted\":%llu,\"bad_prefix\":%llu,"
		    "\"esp_routed\":%llu},"
		    "\"sas\":%d,\"half_open\":%d,\"outstanding\":%d,"
		    "\"npeers\":%d,\"accepted\":%d,\"peers\":[",
		    (unsigned long long)s->captured, (unsigned long long)s->to_tcp,
		    (unsigned long long)s->to_udp, (unsigned long long)s->from_tcp,
		    (unsigned long long)s->injected,
		    (unsigned long long)s->inject_errors,
		    (unsigned long long)s->refused, (unsigned long long)s->enobufs,
		    (unsigned long long)s->bad_msgs,
		    (unsigned long long)s->limited,
		    (unsigned long long)s->rate_dropped,
		    (unsigned long long)s->first_refused,
		    (unsigned long long)s->fast_added,
		    (unsigned long long)s->fast_sas,
		    (unsigned long long)s->fast_ended,
		    (unsigned long long)s->evicted,
		    (unsigned long long)s->idle_closed,
		    (unsigned long long)s->half_open_refused,
		    (unsigned long long)s->sas_expired,
		    (unsigned long long)s->sas_evicted,
		    (unsigned long long)s->peers_freed,
		    (unsigned long long)s->unrouted,
		    (unsigned long long)s->bad_prefix,
		    (unsigned long long)s->esp_routed, d->nsas,
		    d->sa_lru[SA_HALF_OPEN].n, d->nout, d->npeers, d->naccepted);
		o->first = true;
		peer_for_each(d, put_peer, o);
		put(o, "]}\n");
		return;
	}
	put(o, "iketcpd pid %d, up %lld s, config %s\n", getpid(),
	    (now_ms() - d->started) / 1000, d->cfg.path);
	for (int i = 0; i < d->cfg.nrules; i++) {
		const struct cfg_rule *r = &d->cfg.rules[i];

		put(o, "policy %s/%d %s (tcp port %u, %s framing, line %d)\n",
		    addr_s(&r->prefix, a, sizeof(a)), r->plen,
		    policy_name(r->policy), r->port,
		    framing_name(r->framing), r->line);
	}
	put(o, "counters: captured %llu (tcp %llu, udp %llu), from tcp %llu, injected %llu (errors %llu), refused %llu, limited %llu, rate-dropped %llu, first-refused %llu, bad-prefix %llu, esp-routed %llu, overruns %llu, bad %llu, fast path added %llu (IKE SAs %llu) ended %llu; %d IKE SAs\n",
	    (unsigned long long)s->captured, (unsigned long long)s->to_tcp,
	    (unsigned long long)s->to_udp, (unsigned long long)s->from_tcp,
	    (unsigned long long)s->injected, (unsigned long long)s->inject_errors,
	    (unsigned long long)s->refused, (unsigned long long)s->limited,
	    (unsigned long long)s->rate_dropped,
	    (unsigned long long)s->first_refused,
	    (unsigned long long)s->bad_prefix,
	    (unsigned long long)s->esp_routed, (unsigned long long)s->enobufs,
	    (unsigned long long)s->bad_msgs,
	    (unsigned long long)s->fast_added,
	    (unsigned long long)s->fast_sas,
	    (unsigned long long)s->fast_ended, d->nsas);
	peer_for_each(d, put_peer, o);
	sa_for_each(d, put_sa, o);
}

/**
 * ctl_open() - create the status socket
 * @d: daemon
 * @path: its path
 *
 * Created under umask 0077: no moment where another user could connect.
 *
 * Return: 0 or -1.
 */
int ctl_open(struct daemon *d, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t um;
	int fd, ret;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_err("control socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	um = umask(0077);
	ret = bind(fd, (void *)&sun, sizeof(sun));
	umask(um);
	if (ret || listen(fd, 16)) {
		log_err("control socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return loop_add(d, fd, EPOLLIN, EV_CTL, NULL);
}

static void client_free(struct daemon *d, struct ctl_client *c)
{
	struct ctl_client **pp;

	for (pp = &clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	nclients--;
	loop_del(d, c->fd);
	close(c->fd);
	free(c->ans);
	loop_defer_free(d, c);
}

/* a peer of the socket we serve: root or our own user */
static bool client_allowed(int fd)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l))
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

/**
 * ctl_serve() - accept the clients waiting on the status socket
 * @d: daemon
 * @lfd: the listening socket
 */
void ctl_serve(struct daemon *d, int lfd)
{
	for (int budget = 16; budget--;) {
		struct ctl_client *c;
		int fd;

		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		if (!client_allowed(fd)) {
			log_warn("status socket: client of another user refused");
			close(fd);
			continue;
		}
		if (nclients >= CTL_MAX_CLIENTS) {
			/* the oldest (newest first: the last) makes room */
			struct ctl_client *old = clients;

			while (old->next)
				old = old->next;
			log_warn("status socket: %d clients already, closing the oldest",
				 nclients);
			client_free(d, old);
		}
		c = calloc(1, sizeof(*c));
		if (!c || loop_add(d, fd, EPOLLIN, EV_CTL_CLIENT, c)) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->deadline = now_ms() + CTL_CLIENT_TIMEOUT_MS;
		c->next = clients;
		clients = c;
		nclients++;
	}
}

static void client_answer(struct daemon *d, struct ctl_client *c)
{
	struct out o = { .cap = 4096, .d = d };

	c->req[c->reqlen] = 0;
	c->req[strcspn(c->req, "\r\n")] = 0;
	o.buf = malloc(o.cap);
	if (o.buf) {
		if (!strcmp(c->req, "status") || !strcmp(c->req, "status-json")) {
			o.json = !strcmp(c->req, "status-json");
			status(d, &o);
		} else {
			put(&o, "error: unknown request (status, status-json)\n");
		}
	}
	c->ans = o.buf;
	c->anslen = o.len;
	c->off = 0;
	/* (no more reading: a half-closed client is answered all the same) */
	if (!c->ans || loop_mod(d, c->fd, EPOLLOUT))
		client_free(d, c);
}

/**
 * ctl_client_event() - a status client is readable or writable
 * @d: daemon
 * @ptr: the client
 * @events: EPOLLIN / EPOLLOUT / EPOLLHUP / EPOLLERR
 */
void ctl_client_event(struct daemon *d, void *ptr, uint32_t events)
{
	struct ctl_client *c = ptr;
	ssize_t n;

	(void)events;
	if (!c->ans) {
		n = read(c->fd, c->req + c->reqlen, sizeof(c->req) - 1 - c->reqlen);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n > 0)
			c->reqlen += n;
		if (n > 0 && c->reqlen < sizeof(c->req) - 1 &&
		    !memchr(c->req, '\n', c->reqlen))
			return;
		if (n < 0) {
			client_free(d, c);
			return;
		}
		client_answer(d, c);
		return;
	}
	while (c->off < c->anslen) {
		n = write(c->fd, c->ans + c->off, c->anslen - c->off);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			break;
		c->off += n;
	}
	client_free(d, c);
}

/**
 * ctl_tick() - close the status clients that took too long
 * @d: daemon
 * @now: now (ms)
 */
void ctl_tick(struct daemon *d, long long now)
{
	struct ctl_client *c, *next;

	for (c = clients; c; c = next) {
		next = c->next;
		if (now >= c->deadline)
			client_free(d, c);
	}
}

/**
 * ctl_close() - close the status clients, remove the status socket
 * @d: daemon
 * @path: its path
 */
void ctl_close(struct daemon *d, const char *path)
{
	while (clients)
		client_free(d, clients);
	unlink(path);
}
