// SPDX-License-Identifier: GPL-2.0
/*
 * peer.c - TCP connections between gateways: listen on TCP 500, connect on
 * demand, attach the iketcp ULP, reconnect when a connection drops (only
 * the side that opened it reopens it), queue messages while there is no
 * connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

#define CONNECT_TIMEOUT_MS	10000
#define BACKOFF_MIN_MS		250

static size_t ep_alen(const struct iketcp_ep *ep)
{
	return ep->family == AF_INET6 ? 16 : 4;
}

static int ep_cmp(const struct iketcp_ep *a, const struct iketcp_ep *b)
{
	if (a->family != b->family)
		return a->family - b->family;
	return memcmp(&a->addr, &b->addr, ep_alen(a));
}

/* A peer is a pair of gateway addresses: remote, then local */
static int peer_cmp(const void *a, const void *b)
{
	const struct peer *x = a, *y = b;
	int r = ep_cmp(&x->remote, &y->remote);

	return r ? r : ep_cmp(&x->local, &y->local);
}

static int conn_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct conn *)a)->id;
	uint32_t y = ((const struct conn *)b)->id;

	return x < y ? -1 : x > y;
}

static const char *ep_s(const struct iketcp_ep *ep)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	inet_ntop(ep->family == AF_INET6 ? AF_INET6 : AF_INET, &ep->addr,
		  buf[i], sizeof(buf[i]));
	return buf[i];
}

/**
 * peer_find() - the peer of a pair of addresses
 * @d: daemon
 * @remote: its address (port ignored)
 * @local: our address towards it (port ignored)
 *
 * One connection per pair of gateways: a gateway with two addresses
 * towards the same peer (one of them behind a NAT, say) is two pairs.
 *
 * Return: the peer or NULL.
 */
struct peer *peer_find(struct daemon *d, const struct iketcp_ep *remote,
		       const struct iketcp_ep *local)
{
	struct peer key = { .remote = *remote, .local = *local };
	struct peer **p;

	key.remote.port = 0;
	key.local.port = 0;
	p = tfind(&key, &d->peers, peer_cmp);
	return p ? *p : NULL;
}

/**
 * peer_get() - the peer of a pair of addresses, created if new
 * @d: daemon
 * @remote: its address (port ignored)
 * @local: our address towards it (port ignored)
 *
 * Return: the peer or NULL (no memory).
 */
struct peer *peer_get(struct daemon *d, const struct iketcp_ep *remote,
		      const struct iketcp_ep *local)
{
	const struct cfg_rule *r;
	struct peer *p = peer_find(d, remote, local);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->remote = *remote;
	p->remote.port = 0;
	p->local = *local;
	p->local.port = 0;
	r = config_lookup(&d->cfg, remote);
	p->tcp_port = r ? r->port : 500;
	p->last_activity = now_ms();
	if (!tsearch(p, &d->peers, peer_cmp)) {
		free(p);
		return NULL;
	}
	d->npeers++;
	return p;
}

static struct daemon *walk_d;
static void (*walk_fn)(struct peer *p, void *arg);
static void *walk_arg;

static void peer_walk(const void *node, VISIT v, int depth)
{
	(void)depth;
	if (v == postorder || v == leaf)
		walk_fn(*(struct peer *const *)node, walk_arg);
}

/**
 * peer_for_each() - call @fn for every peer
 * @d: daemon
 * @fn: the function (must not add or remove peers)
 * @arg: passed to @fn
 */
void peer_for_each(struct daemon *d, void (*fn)(struct peer *p, void *arg),
		   void *arg)
{
	walk_d = d;
	walk_fn = fn;
	walk_arg = arg;
	twalk(d->peers, peer_walk);
}

/**
 * peer_conn_by_id() - the connection with a kernel id
 * @d: daemon
 * @id: connection id
 *
 * Return: the connection or NULL.
 */
struct conn *peer_conn_by_id(struct daemon *d, uint32_t id)
{
	struct conn key = { .id = id };
	struct conn **c = tfind(&key, &d->conns, conn_cmp);

	return c ? *c : NULL;
}

static void conn_free(struct daemon *d, struct conn *c)
{
	struct peer *p = c->peer;
	struct conn **pp;

	if (c->id)
		tdelete(c, &d->conns, conn_cmp);
	for (pp = &p->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (p->cur == c)
		p->cur = NULL;
	if (!c->originator)
		d->naccepted--;
	if (c->connecting)
		loop_del(d, c->fd);
	close(c->fd);
	free(c);
}

static void peer_schedule(struct daemon *d, struct peer *p, bool failed)
{
	long long now = now_ms();

	if (failed) {
		p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
		if (p->backoff_ms > d->cfg.reconnect_max * 1000LL)
			p->backoff_ms = d->cfg.reconnect_max * 1000LL;
		p->next_connect = now + p->backoff_ms;
	} else {
		p->next_connect = now;
	}
}

static int sock_setup(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	return 0;
}

/* Hand the socket to the kernel; the attach notification tells its id. */
static int conn_attach(struct conn *c)
{
	struct stat st;

	if (setsockopt(c->fd, IPPROTO_TCP, TCP_ULP, "iketcp", 6)) {
		log_err("peer %s: attaching the iketcp ULP failed: %s%s",
			ep_s(&c->peer->remote), strerror(errno),
			errno == ENOENT ? " (is the iketcp module loaded?)" : "");
		return -1;
	}
	if (fstat(c->fd, &st) == 0)
		c->ino = st.st_ino;
	c->connecting = false;
	return 0;
}

static void sa_from_sockaddr(const struct sockaddr_storage *ss,
			     struct iketcp_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			ep->family = AF_INET;
			memcpy(&ep->addr.v4, &a->sin6_addr.s6_addr[12], 4);
		} else {
			ep->family = AF_INET6;
			ep->addr.v6 = a->sin6_addr;
		}
		ep->port = ntohs(a->sin6_port);
	} else {
		const struct sockaddr_in *a = (const void *)ss;

		ep->family = AF_INET;
		ep->addr.v4 = a->sin_addr;
		ep->port = ntohs(a->sin_port);
	}
}

static socklen_t sockaddr_of(const struct iketcp_ep *ep, uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->family == AF_INET6) {
		struct sockaddr_in6 *a = (void *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = ep->addr.v6;
		a->sin6_port = htons(port);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (void *)ss;

	a->sin_family = AF_INET;
	a->sin_addr = ep->addr.v4;
	a->sin_port = htons(port);
	return sizeof(*a);
}

/**
 * peer_listen() - open the configured TCP listeners
 * @d: daemon
 *
 * Return: 0, or -1 if none could be opened while some were configured.
 */
int peer_listen(struct daemon *d)
{
	int ok = 0;

	d->listen_fds = calloc(d->cfg.nlistens + 1, sizeof(int));
	for (int i = 0; i < d->cfg.nlistens; i++) {
		const struct iketcp_ep *ep = &d->cfg.listens[i];
		struct sockaddr_storage ss;
		socklen_t sl = sockaddr_of(ep, ep->port, &ss);
		int fd, one = 1;

		fd = socket(ep->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto fail;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ep->family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, (void *)&ss, sl) || listen(fd, 1024)) {
			close(fd);
			goto fail;
		}
		loop_add(d, fd, EPOLLIN, EV_LISTEN, NULL);
		d->listen_fds[d->nlisten++] = fd;
		log_info("listening on TCP %s%s%s:%u",
			 ep->family == AF_INET6 ? "[" : "", ep_s(ep),
			 ep->family == AF_INET6 ? "]" : "", ep->port);
		ok++;
		continue;
fail:
		log_err("cannot listen on TCP %s port %u: %s", ep_s(ep),
			ep->port, strerror(errno));
	}
	return d->cfg.nlistens && !ok ? -1 : 0;
}

/**
 * peer_unlisten() - close the TCP listeners
 * @d: daemon
 *
 * Connections that completed their handshake but were not accepted yet
 * are reset by the kernel (their peers see it and connect again). Done
 * first when stopping: a listener left open while thousands of
 * connections are closed fills its queue with the peers' reconnections,
 * and resets them all when it finally closes (their first messages with
 * them).
 */
void peer_unlisten(struct daemon *d)
{
	for (int i = 0; i < d->nlisten; i++) {
		loop_del(d, d->listen_fds[i]);
		close(d->listen_fds[i]);
	}
	free(d->listen_fds);
	d->listen_fds = NULL;
	d->nlisten = 0;
}

static struct conn *conn_new(struct peer *p, int fd, bool originator)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->peer = p;
	c->originator = originator;
	c->started = now_ms();
	c->next = p->conns;
	p->conns = c;
	return c;
}

static int peer_accepted(const struct peer *p)
{
	const struct conn *c;
	int n = 0;

	for (c = p->conns; c; c = c->next)
		n += !c->originator;
	return n;
}

/**
 * peer_accept() - accept connections on a listener
 * @d: daemon
 * @lfd: the listener
 *
 * A connection from an address no rule sends over TCP is refused.
 */
void peer_accept(struct daemon *d, int lfd)
{
	for (;;) {
		struct sockaddr_storage rs, ls;
		socklen_t rl = sizeof(rs), ll = sizeof(ls);
		struct iketcp_ep remote, local;
		const struct cfg_rule *r;
		struct peer *p;
		struct conn *c;
		int fd;

		fd = accept4(lfd, (void *)&rs, &rl, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		getsockname(fd, (void *)&ls, &ll);
		sa_from_sockaddr(&rs, &remote);
		sa_from_sockaddr(&ls, &local);
		r = config_lookup(&d->cfg, &remote);
		if (!r || r->policy == POL_UDP) {
			d->stats.refused++;
			log_notice("TCP connection from %s refused: no peer rule in %s sends it over TCP",
				   ep_s(&remote), d->cfg.path);
			close(fd);
			continue;
		}
		p = peer_get(d, &remote, &local);
		if (p && (d->naccepted >= d->cfg.max_conns ||
			  peer_accepted(p) >= d->cfg.max_conns_per_source)) {
			static long long warned;

			d->stats.limited++;
			if (now_ms() - warned > 5000) {
				warned = now_ms();
				log_warn("TCP connection from %s refused: %s limit reached",
					 ep_s(&remote),
					 d->naccepted >= d->cfg.max_conns ?
					 "max-connections" :
					 "max-connections-per-source");
			}
			close(fd);
			continue;
		}
		c = p ? conn_new(p, fd, false) : NULL;
		if (!c) {
			close(fd);
			continue;
		}
		d->naccepted++;
		sock_setup(fd);
		if (conn_attach(c)) {
			conn_free(d, c);
			continue;
		}
		p->originator = false;
		p->stats.accepts++;
		log_info("peer %s: connection accepted (port %u)",
			 ep_s(&remote), remote.port);
	}
}

/**
 * peer_connect() - open a connection to a peer (non-blocking)
 * @d: daemon
 * @p: the peer
 */
void peer_connect(struct daemon *d, struct peer *p)
{
	struct sockaddr_storage ss;
	struct conn *c;
	socklen_t sl;
	int fd, one = 1;

	for (c = p->conns; c; c = c->next)
		if (c->connecting)
			return;	/* one attempt at a time */
	p->next_connect = 0;
	fd = socket(p->remote.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_err("peer %s: socket: %s", ep_s(&p->remote), strerror(errno));
		peer_schedule(d, p, true);
		return;
	}
	sock_setup(fd);
	{
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			   sizeof(one));
		sl = sockaddr_of(&p->local, 0, &ss);
		if (bind(fd, (void *)&ss, sl))
			log_warn("peer %s: cannot bind to %s: %s",
				 ep_s(&p->remote), ep_s(&p->local),
				 strerror(errno));
	}
	sl = sockaddr_of(&p->remote, p->tcp_port, &ss);
	c = conn_new(p, fd, true);
	if (!c) {
		close(fd);
		return;
	}
	c->connecting = true;
	p->originator = true;
	p->stats.connects++;
	if (connect(fd, (void *)&ss, sl) && errno != EINPROGRESS) {
		log_warn("peer %s: connect to TCP port %u: %s",
			 ep_s(&p->remote), p->tcp_port, strerror(errno));
		c->connecting = false;
		conn_free(d, c);
		p->stats.connect_failures++;
		peer_schedule(d, p, true);
		return;
	}
	log_info("peer %s: connecting to TCP port %u", ep_s(&p->remote),
		 p->tcp_port);
	loop_add(d, fd, EPOLLOUT, EV_CONNECT, c);
}

/**
 * peer_connect_done() - a connect finished (or failed)
 * @d: daemon
 * @c: the connection
 */
void peer_connect_done(struct daemon *d, struct conn *c)
{
	struct peer *p = c->peer;
	int err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		log_warn("peer %s: connect to TCP port %u failed: %s",
			 ep_s(&p->remote), p->tcp_port, strerror(err ?: errno));
		p->stats.connect_failures++;
		conn_free(d, c);
		peer_schedule(d, p, true);
		return;
	}
	loop_del(d, c->fd);
	if (conn_attach(c)) {
		c->connecting = false;
		conn_free(d, c);
		peer_schedule(d, p, true);
		return;
	}
	log_info("peer %s: connected", ep_s(&p->remote));
}

/**
 * peer_attached() - the kernel attached the ULP: the connection is up
 * @d: daemon
 * @ev: IKETCP_CMD_CONN_ATTACHED
 */
void peer_attached(struct daemon *d, const struct iketcp_event *ev)
{
	struct peer *p = peer_find(d, &ev->remote, &ev->local);
	struct conn *c = NULL;

	if (p)
		for (c = p->conns; c; c = c->next)
			if (!c->id && !c->connecting && c->ino == ev->ino)
				break;
	if (!c) {
		log_debug("attach notification for an unknown socket (conn %u)",
			  ev->conn_id);
		return;
	}
	c->id = ev->conn_id;
	tsearch(c, &d->conns, conn_cmp);
	p->cur = c;
	p->gen++;
	p->ever_up = true;
	p->next_connect = 0;
	log_info("peer %s: connection %u up (%s, generation %u)",
		 ep_s(&p->remote), c->id,
		 c->originator ? "opened by us" : "opened by the peer", p->gen);
	/*
	 * The module's first-message timeout is for strangers: a connection
	 * we opened, or one from a peer we share IKE SAs with, may idle (a
	 * standby connection between gateways carries requests both ways).
	 */
	if (c->originator || bridge_peer_known(d, &ev->remote)) {
		int err = iketcp_nl_conn_set_first_msg_timeout(&d->cmd, c->id, 0);

		if (err && err != -ENOTCONN)
			log_debug("conn %u: no first-message limit: %s", c->id,
				  strerror(-err));
	}
	bridge_peer_up(d, p);
}

/**
 * peer_ended() - a connection ended: close it; reopen if we opened it
 * @d: daemon
 * @ev: IKETCP_CMD_CONN_ENDED
 */
void peer_ended(struct daemon *d, const struct iketcp_event *ev)
{
	struct conn *c = peer_conn_by_id(d, ev->conn_id);
	bool was_cur, short_lived;
	struct peer *p;

	if (!c)
		return;
	p = c->peer;
	was_cur = p->cur == c;
	/* a connection that dies young is retried with back-off */
	short_lived = now_ms() - c->started < 5000 ||
		      ev->reason >= IKETCP_REASON_LEN_SHORT;
	log_info("peer %s: connection %u ended: %s%s", ep_s(&p->remote),
		 c->id, iketcp_reason_str(ev->reason),
		 ev->truncated ? " (inside a message)" : "");
	conn_free(d, c);
	if (!was_cur)
		return;
	/* Another live connection of the same peer takes over */
	for (c = p->conns; c; c = c->next)
		if (c->id) {
			p->cur = c;
			p->gen++;
			bridge_peer_up(d, p);
			return;
		}
	/* the back-off grows while connections die young, resets otherwise */
	if (!short_lived)
		p->backoff_ms = 0;
	if (p->originator && bridge_peer_active(d, p, now_ms()))
		peer_schedule(d, p, short_lived);
}

/**
 * peer_send() - send one message to a peer over TCP, or queue it
 * @d: daemon
 * @p: the peer
 * @msg: the IKE message
 * @len: its length
 *
 * Return: 1 when written to the connection, 0 when queued, -1 if dropped.
 */
int peer_send(struct daemon *d, struct peer *p, const uint8_t *msg,
	      size_t len)
{
	struct qmsg *q;
	int ret;

	if (p->cur && p->cur->id) {
		ret = iketcp_nl_conn_send(&d->cmd, p->cur->id, msg, len);
		if (!ret) {
			p->stats.tcp_out++;
			return 1;
		}
		if (ret == -EMSGSIZE || ret == -EINVAL) {
			log_warn("peer %s: message of %zu bytes refused: %s",
				 ep_s(&p->remote), len, d->cmd.err);
			p->stats.dropped++;
			return -1;
		}
		/* ended or full: keep it for the next connection */
		log_debug("peer %s: send on conn %u: %s", ep_s(&p->remote),
			  p->cur->id, d->cmd.err);
	}
	if (p->qlen >= d->cfg.queue_max) {
		q = p->qhead;
		p->qhead = q->next;
		if (!p->qhead)
			p->qtail = NULL;
		p->qlen--;
		free(q);
		p->stats.dropped++;
		log_warn("peer %s: queue full, oldest waiting message dropped",
			 ep_s(&p->remote));
	}
	q = malloc(sizeof(*q) + len);
	if (!q)
		return -1;
	q->next = NULL;
	q->queued = now_ms();
	q->len = len;
	memcpy(q->data, msg, len);
	if (p->qtail)
		p->qtail->next = q;
	else
		p->qhead = q;
	p->qtail = q;
	p->qlen++;
	return 0;
}

/**
 * peer_tick() - timers: connect attempts due, connect timeouts, waiting
 *	messages held too long, idle connections
 * @d: daemon
 * @now: current time (ms)
 */
static void peer_tick_one(struct peer *p, void *arg)
{
	struct daemon *d = arg;
	long long now = now_ms();
	struct conn *c, *next;

	for (c = p->conns; c; c = next) {
		next = c->next;
		if (c->connecting && now - c->started > CONNECT_TIMEOUT_MS) {
			log_warn("peer %s: connect timed out", ep_s(&p->remote));
			p->stats.connect_failures++;
			conn_free(d, c);
			peer_schedule(d, p, true);
		}
	}
	while (p->qhead && now - p->qhead->queued > d->cfg.hold_time * 1000LL) {
		struct qmsg *q = p->qhead;

		p->qhead = q->next;
		if (!p->qhead)
			p->qtail = NULL;
		p->qlen--;
		free(q);
		p->stats.dropped++;
		log_warn("peer %s: message dropped after waiting %d s for a connection",
			 ep_s(&p->remote), d->cfg.hold_time);
	}
	if (p->next_connect && now >= p->next_connect && !p->cur)
		peer_connect(d, p);
	if (p->cur && p->cur->originator && d->cfg.idle_timeout &&
	    !bridge_peer_active(d, p, now)) {
		log_info("peer %s: idle for %d s, closing", ep_s(&p->remote),
			 d->cfg.idle_timeout);
		iketcp_nl_conn_close(&d->cmd, p->cur->id);
		p->originator = false;	/* do not reopen */
	}
}

/**
 * peer_tick() - periodic work on every peer
 * @d: daemon
 * @now: current time (ms)
 */
void peer_tick(struct daemon *d, long long now)
{
	(void)now;
	peer_for_each(d, peer_tick_one, d);
}

static void peer_free_one(void *node)
{
	struct peer *p = node;

	while (p->conns) {
		struct conn *c = p->conns;

		p->conns = c->next;
		close(c->fd);
		free(c);
	}
	while (p->qhead) {
		struct qmsg *q = p->qhead;

		p->qhead = q->next;
		free(q);
	}
	free(p);
}

static void nofree(void *node)
{
	(void)node;
}

/**
 * peer_close_all() - close every connection and forget every peer
 * @d: daemon
 */
void peer_close_all(struct daemon *d)
{
	tdestroy(d->conns, nofree);
	d->conns = NULL;
	tdestroy(d->peers, peer_free_one);
	d->peers = NULL;
	d->npeers = 0;
	peer_unlisten(d);
}
