// SPDX-License-Identifier: GPL-2.0
/*
 * peer.c - TCP connections between gateways: listen (TCP 500 for the
 * draft's raw framing, 4500 for RFC 9329), connect on demand, attach the
 * iketcp ULP of the connection's framing, reconnect when a connection we
 * opened drops (only the opener reopens, and only while there is something
 * to carry), queue messages while no connection may carry them.
 *
 * RFC 9329 (s3, s6): the Originator writes the "IKETCP" stream prefix in
 * one segment before anything else (libreswan's responder reads it with
 * one read()); an accepted connection is attached only once its whole
 * prefix is there and right (first-message-timeout for it), so the module
 * never sees a stream without one. Each IKE SA our daemon starts gets a
 * connection of its own (no two IKE SAs share one, s6), and the connection
 * that last earned the peer's traffic carries its ESP (peer_esp_carrier()).
 *
 * IKE's own transport never goes through IPsec: every socket gets an allow
 * policy for both directions (IP_XFRM_POLICY / IPV6_XFRM_POLICY, as IKE
 * daemons put on their UDP sockets), listeners too, before any packet is
 * sent, so that a CHILD SA covering the gateways' addresses cannot capture
 * the connection that carries its own IKE SA.
 *
 * Accepted connections are bounded: max-connections in all and
 * max-connections-per-source from one source (an IPv4 address, an IPv6
 * /64). A connection that has not carried an authenticated IKE SA's
 * message the daemon answered is a stranger's: strangers are closed after
 * stranger-timeout idle, and when a limit is reached the least recently
 * active stranger makes room for the newcomer; known peers' connections
 * are never evicted (they close after idle-timeout).
 */
#include <errno.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "daemon.h"
#include "log.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef IP_XFRM_POLICY
#define IP_XFRM_POLICY 17
#endif
#ifndef IPV6_XFRM_POLICY
#define IPV6_XFRM_POLICY 35
#endif

#define CONNECT_TIMEOUT_MS	10000
#define BACKOFF_MIN_MS		250
/* a peer with nothing left (no connection, SA, message) is forgotten */
/* (hold-time past the last message: nothing can be waiting any more) */
/* listeners rest this long after accept() ran out of descriptors */
#define LISTEN_PAUSE_MS		1000
/* how long a stopping iketcpd waits for its peers to close their side */
#define CLOSE_WAIT_MS		1000

/* accepted connections of one source (IPv4 address, IPv6 /64) */
struct src {
	struct iketcp_ep key;
	int n;
	struct conn *conns;
};

/* A peer is a pair of gateway addresses: remote, then local */
static int peer_cmp(const void *a, const void *b)
{
	const struct peer *x = a, *y = b;
	int r = ep_addr_cmp(&x->remote, &y->remote);

	return r ? r : ep_addr_cmp(&x->local, &y->local);
}

static int conn_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct conn *)a)->id;
	uint32_t y = ((const struct conn *)b)->id;

	return x < y ? -1 : x > y;
}

static int src_cmp(const void *a, const void *b)
{
	return ep_addr_cmp(&((const struct src *)a)->key,
			   &((const struct src *)b)->key);
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

	p = tfind(&key, &d->peers, peer_cmp);
	return p ? *p : NULL;
}

/**
 * peer_apply_rule() - take a peer's TCP port and framing from its rule
 * @p: the peer
 * @cfg: the configuration (at creation, and again after a reload)
 */
void peer_apply_rule(struct peer *p, const struct config *cfg)
{
	const struct cfg_rule *r = config_lookup(cfg, &p->remote);

	p->tcp_port = r ? r->port : framing_port(IKETCP_FRAMING_RAW);
	p->framing = r ? r->framing : IKETCP_FRAMING_RAW;
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
	peer_apply_rule(p, &d->cfg);
	p->last_activity = now_ms();
	p->natt_obs = -1;
	if (!tsearch(p, &d->peers, peer_cmp)) {
		free(p);
		return NULL;
	}
	d->npeers++;
	return p;
}

struct peer_walk {
	void (*fn)(struct peer *p, void *arg);
	void *arg;
};

static void peer_walk_cb(const void *node, VISIT v, void *closure)
{
	struct peer_walk *w = closure;

	if (v == postorder || v == leaf)
		w->fn(*(struct peer *const *)node, w->arg);
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
	struct peer_walk w = { .fn = fn, .arg = arg };

	twalk_r(d->peers, peer_walk_cb, &w);
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
	struct conn **c;

	if (!id)
		return NULL;
	c = tfind(&key, &d->conns, conn_cmp);
	return c ? *c : NULL;
}

/**
 * peer_conn_live() - a live (attached) connection of a peer, by id
 * @d: daemon
 * @p: the peer
 * @id: connection id, 0 for none
 *
 * Return: the connection, or NULL if it ended or is another peer's.
 */
struct conn *peer_conn_live(struct daemon *d, struct peer *p, uint32_t id)
{
	struct conn *c = peer_conn_by_id(d, id);

	return c && c->peer == p ? c : NULL;
}

/**
 * peer_opened() - the newest live connection we opened to a peer
 * @d: daemon
 * @p: the peer
 *
 * We connected to the peer's own address: such a connection may carry
 * anything of that peer.
 *
 * Return: the connection or NULL.
 */
struct conn *peer_opened(struct daemon *d, struct peer *p)
{
	(void)d;
	for (struct conn *c = p->conns; c; c = c->next)
		if (c->originator && c->id)
			return c;
	return NULL;
}

/**
 * peer_conn_for_sa() - the connection we opened for an IKE SA (RFC 9329:
 *	each IKE SA our daemon starts has its own)
 * @d: daemon
 * @p: the peer
 * @spi_i: the SA's initiator SPI
 *
 * Return: the live connection, or NULL (none, or not attached yet).
 */
struct conn *peer_conn_for_sa(struct daemon *d, struct peer *p,
			      uint64_t spi_i)
{
	(void)d;
	for (struct conn *c = p->conns; c; c = c->next)
		if (c->originator && c->id && c->for_spi == spi_i)
			return c;
	return NULL;
}

/**
 * peer_esp_carrier() - make an RFC 9329 connection the carrier of its
 *	peer's ESP (the kernel takes the peer's ESP at LOCAL_OUT and writes
 *	it to this connection; the latest carrier wins)
 * @d: daemon
 * @c: the connection (attached); nothing happens for the raw framing
 *
 * Called for a connection we opened to the peer's address, and for an
 * accepted one once it earned an authenticated SA (or when the peer has
 * no carrier at all: nothing is taken from a working one).
 */
void peer_esp_carrier(struct daemon *d, struct conn *c)
{
	struct peer *p = c->peer;
	int err;

	if (c->framing != IKETCP_FRAMING_RFC9329 || !c->id ||
	    p->esp_conn == c->id)
		return;
	err = iketcp_nl_conn_set_esp(&d->cmd, c->id, true);
	if (err) {
		if (err != -ENOTCONN)
			log_rl(LOG_WARNING, "peer %s: connection %u cannot carry ESP: %s",
			       ep_str(&p->remote), c->id, d->cmd.err);
		return;
	}
	p->esp_conn = c->id;
	d->stats.esp_routed++;
	log_rl(LOG_INFO, "peer %s: ESP now on connection %u", ep_str(&p->remote),
	       c->id);
}

/* The carrier closed: the peer's ESP goes to a connection that earned it */
static void esp_carrier_gone(struct daemon *d, struct peer *p)
{
	for (struct conn *c = p->conns; c; c = c->next)
		if (c->id && c->framing == IKETCP_FRAMING_RFC9329 &&
		    (c->originator || c->known)) {
			peer_esp_carrier(d, c);
			return;
		}
}

/**
 * peer_update_cur() - recompute which connection a new IKE SA of ours
 *	would take (struct peer's @cur)
 * @d: daemon
 * @p: the peer
 */
void peer_update_cur(struct daemon *d, struct peer *p)
{
	struct conn *best = peer_opened(d, p);

	if (!best)
		for (struct conn *c = p->conns; c && !best; c = c->next)
			if (c->id && c->known)
				best = c;
	p->cur = best;
}

static void lru_unlink(struct daemon *d, struct conn *c)
{
	if (!c->in_lru)
		return;
	if (c->lru_prev)
		c->lru_prev->lru_next = c->lru_next;
	else
		d->strangers = c->lru_next;
	if (c->lru_next)
		c->lru_next->lru_prev = c->lru_prev;
	else
		d->strangers_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
	c->in_lru = false;
}

static void lru_append(struct daemon *d, struct conn *c)
{
	c->lru_next = NULL;
	c->lru_prev = d->strangers_tail;
	if (d->strangers_tail)
		d->strangers_tail->lru_next = c;
	else
		d->strangers = c;
	d->strangers_tail = c;
	c->in_lru = true;
}

/**
 * peer_conn_known() - an accepted connection carried a message of an
 *	authenticated IKE SA the daemon answered: a known peer's, no longer
 *	evicted as a stranger's
 * @d: daemon
 * @c: the connection
 */
void peer_conn_known(struct daemon *d, struct conn *c)
{
	if (c->known)
		return;
	c->known = true;
	lru_unlink(d, c);
	peer_update_cur(d, c->peer);
}

/**
 * peer_conn_active() - an IKE message went over a connection
 * @d: daemon
 * @c: the connection
 * @now: current time (ms)
 */
void peer_conn_active(struct daemon *d, struct conn *c, long long now)
{
	c->last_msg = now;
	if (c->in_lru && d->strangers_tail != c) {
		lru_unlink(d, c);
		lru_append(d, c);
	}
}

static void src_put(struct daemon *d, struct conn *c)
{
	struct src *s = c->src;
	struct conn **pp;

	if (!s)
		return;
	for (pp = &s->conns; *pp; pp = &(*pp)->src_next)
		if (*pp == c) {
			*pp = c->src_next;
			break;
		}
	c->src = NULL;
	if (--s->n)
		return;
	tdelete(s, &d->srcs, src_cmp);
	free(s);
}

static struct src *src_get(struct daemon *d, const struct iketcp_ep *remote)
{
	struct src key, *s, **found;

	ep_source_key(remote, &key.key);
	found = tfind(&key, &d->srcs, src_cmp);
	if (found)
		return *found;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = key.key;
	if (!tsearch(s, &d->srcs, src_cmp)) {
		free(s);
		return NULL;
	}
	return s;
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
	if (c->id && p->esp_conn == c->id) {
		p->esp_conn = 0;	/* (the kernel drops its route at close) */
		esp_carrier_gone(d, p);
	}
	if (!c->originator) {
		d->naccepted--;
		lru_unlink(d, c);
		src_put(d, c);
	}
	/* an event of this batch may still refer to it: freed after it */
	loop_del(d, c->fd);
	close(c->fd);
	peer_update_cur(d, p);
	loop_defer_free(d, c);
}

/* Abort a connection now (RST), forget it at once. */
static void conn_abort(struct daemon *d, struct conn *c)
{
	if (c->id)
		iketcp_nl_conn_close(&d->cmd, c->id);
	conn_free(d, c);
}

/* Who reopens the connection (saved in the state file) */
static void peer_set_originator(struct daemon *d, struct peer *p, bool us)
{
	if (p->originator != us)
		d->state_dirty = true;
	p->originator = us;
}

static void peer_schedule(struct daemon *d, struct peer *p, bool failed,
			  uint64_t for_spi)
{
	long long now = now_ms();

	p->connect_spi = for_spi;
	if (failed) {
		p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
		if (p->backoff_ms > d->cfg.reconnect_max * 1000LL)
			p->backoff_ms = d->cfg.reconnect_max * 1000LL;
		p->next_connect = now + p->backoff_ms;
	} else {
		p->next_connect = now;
	}
}

/**
 * peer_wants_conn() - is there something a connection to the peer would
 *	carry? (reconnect attempts stop when not)
 * @d: daemon
 * @p: the peer
 * @now: current time (ms)
 *
 * (A request of the daemon still unanswered does not count by itself:
 * the daemon retransmits what it still waits for, which is activity.)
 *
 * Return: true with messages waiting, or IKE traffic within the last
 * hold-time.
 */
bool peer_wants_conn(struct daemon *d, struct peer *p, long long now)
{
	return p->qlen || now - p->last_activity < d->cfg.hold_time * 1000LL;
}

/*
 * IKE's own transport bypasses IPsec, in both directions, like the IKE
 * daemons' UDP sockets (charon, pluto). Socket policies are compiled by an
 * IPsec key manager (xfrm_user): without one loaded the kernel says
 * EINVAL. Opening a NETLINK_XFRM socket loads it (as the IKE daemon will
 * when it starts, perhaps after us: our sockets must have their policy
 * before any covering policy can exist). Without XFRM in the kernel, or
 * without any key manager, no IPsec policy can capture us.
 */
static int sock_bypass_ipsec(int fd, int family);

static bool xfrm_km_loaded(void)
{
	static bool tried;

	if (tried)
		return false;
	tried = true;
	return xfrm_load_km() == 0;
}

static int sock_bypass_ipsec(int fd, int family)
{
	struct xfrm_userpolicy_info pol = {
		.action = XFRM_POLICY_ALLOW,
		.sel.family = family,
		.lft = {
			.soft_byte_limit = XFRM_INF,
			.hard_byte_limit = XFRM_INF,
			.soft_packet_limit = XFRM_INF,
			.hard_packet_limit = XFRM_INF,
		},
	};
	int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
	int opt = family == AF_INET6 ? IPV6_XFRM_POLICY : IP_XFRM_POLICY;

	for (int dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_OUT; dir++) {
		pol.dir = dir;
		if (setsockopt(fd, level, opt, &pol, sizeof(pol))) {
			if (errno == EINVAL && xfrm_km_loaded()) {
				dir--;		/* again, with the key manager */
				continue;
			}
			if (errno == ENOPROTOOPT || errno == EINVAL)
				return 0;	/* no IPsec here: nothing to bypass */
			log_rl(LOG_ERR, "cannot exempt a TCP socket from IPsec (%s): %s",
			       family == AF_INET6 ? "IPV6_XFRM_POLICY" : "IP_XFRM_POLICY",
			       strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int sock_setup(int fd, int family)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	return sock_bypass_ipsec(fd, family);
}

/* Hand the socket to the kernel; the attach notification tells its id.
 * An RFC 9329 Originator writes the stream prefix first, in one segment.
 */
static int conn_attach(struct conn *c)
{
	bool rfc9329 = c->framing == IKETCP_FRAMING_RFC9329;
	const char *ulp = rfc9329 ? IKETCP_ULP_NAME_RFC9329 : IKETCP_ULP_NAME;
	struct stat st;

	if (rfc9329 && c->originator &&
	    send(c->fd, IKETCP_STREAM_PREFIX, IKETCP_STREAM_PREFIX_LEN,
		 MSG_NOSIGNAL | MSG_DONTWAIT) != IKETCP_STREAM_PREFIX_LEN) {
		log_rl(LOG_WARNING, "peer %s: writing the RFC 9329 stream prefix failed: %s",
		       ep_str(&c->peer->remote), strerror(errno));
		return -1;
	}
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_ULP, ulp, strlen(ulp))) {
		log_rl(LOG_ERR, "peer %s: attaching the %s ULP failed: %s%s",
		       ep_str(&c->peer->remote), ulp, strerror(errno),
		       errno == ENOENT ? " (is the iketcp module loaded?)" : "");
		return -1;
	}
	if (fstat(c->fd, &st) == 0)
		c->ino = st.st_ino;
	c->connecting = false;
	return 0;
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
	d->listen_framing = calloc(d->cfg.nlistens + 1, 1);
	if (!d->listen_fds || !d->listen_framing) {
		free(d->listen_fds);
		d->listen_fds = NULL;
		return -1;
	}
	for (int i = 0; i < d->cfg.nlistens; i++) {
		const struct iketcp_ep *ep = &d->cfg.listens[i].ep;
		struct sockaddr_storage ss;
		socklen_t sl = ep_to_sockaddr(ep, ep->port, &ss);
		int fd, one = 1;

		fd = socket(ep->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto fail;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ep->family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		/* (accepted sockets inherit the listener's policy, and the
		 * handshake's own segments use it)
		 */
		if (sock_bypass_ipsec(fd, ep->family) || bind(fd, (void *)&ss, sl) ||
		    listen(fd, 1024) || loop_add(d, fd, EPOLLIN, EV_LISTEN, NULL)) {
			close(fd);
			goto fail;
		}
		d->listen_framing[d->nlisten] = d->cfg.listens[i].framing;
		d->listen_fds[d->nlisten++] = fd;
		log_info("listening on TCP %s (%s framing)", ep_str_port(ep),
			 framing_name(d->cfg.listens[i].framing));
		ok++;
		continue;
fail:
		log_err("cannot listen on TCP %s: %s", ep_str_port(ep),
			strerror(errno));
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
	free(d->listen_framing);
	d->listen_fds = NULL;
	d->listen_framing = NULL;
	d->nlisten = 0;
}

/* accept() has no descriptor left: rest the listeners, do not spin */
static void listen_pause(struct daemon *d, int err)
{
	if (d->nlisten && loop_paused(d->listen_fds[0]))
		return;
	log_rl(LOG_WARNING, "accept: %s: not accepting connections for %d ms",
	       strerror(err), LISTEN_PAUSE_MS);
	for (int i = 0; i < d->nlisten; i++)
		loop_pause(d, d->listen_fds[i], LISTEN_PAUSE_MS);
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
	c->last_msg = c->started;
	c->next = p->conns;
	p->conns = c;
	return c;
}

/* The least recently active stranger of a source, or NULL */
static struct conn *src_oldest_stranger(const struct src *s)
{
	struct conn *best = NULL;

	for (struct conn *c = s->conns; c; c = c->src_next)
		if (!c->known && (!best || c->last_msg < best->last_msg))
			best = c;
	return best;
}

/*
 * Room for a connection from @remote: a stranger at a limit makes room;
 * Return: the source to count it against, or NULL (refused).
 */
static struct src *accept_room(struct daemon *d,
			       const struct iketcp_ep *remote)
{
	struct src *s = src_get(d, remote);
	struct conn *victim;
	const char *limit = NULL;

	if (!s)
		return NULL;
	if (s->n >= d->cfg.max_conns_per_source) {
		victim = src_oldest_stranger(s);
		if (!victim)
			limit = "max-connections-per-source";
		else
			goto evict;
	}
	if (!limit && d->naccepted >= d->cfg.max_conns) {
		victim = d->strangers;
		if (!victim)
			limit = "max-connections";
		else
			goto evict;
	}
	if (limit) {
		d->stats.limited++;
		log_rl(LOG_WARNING, "TCP connection from %s refused: %s reached and no stranger's connection to make room",
		       ep_str(remote), limit);
		if (!s->n) {
			tdelete(s, &d->srcs, src_cmp);
			free(s);
		}
		return NULL;
	}
	return s;

evict:
	d->stats.evicted++;
	log_rl(LOG_NOTICE, "connection limit reached: closing the least recently active stranger's connection (%s, conn %u) for one from %s",
	       ep_str(&victim->peer->remote), victim->id, ep_str(remote));
	conn_abort(d, victim);
	/* (the source may have gone with the victim) */
	return src_get(d, remote);
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
	uint8_t framing = IKETCP_FRAMING_RAW;

	for (int i = 0; i < d->nlisten; i++)
		if (d->listen_fds[i] == lfd)
			framing = d->listen_framing[i];
	for (int budget = 64; budget--;) {
		struct sockaddr_storage rs, ls;
		socklen_t rl = sizeof(rs), ll = sizeof(ls);
		struct iketcp_ep remote, local;
		const struct cfg_rule *r;
		struct peer *p;
		struct conn *c;
		struct src *s;
		int fd;

		fd = accept4(lfd, (void *)&rs, &rl, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				listen_pause(d, errno);
			else if (errno != EAGAIN && errno != EINTR &&
				 errno != ECONNABORTED)
				log_rl(LOG_WARNING, "accept: %s", strerror(errno));
			return;
		}
		if (getsockname(fd, (void *)&ls, &ll)) {
			log_rl(LOG_WARNING, "accepted connection: getsockname: %s",
			       strerror(errno));
			close(fd);
			continue;
		}
		ep_from_sockaddr(&rs, &remote);
		ep_from_sockaddr(&ls, &local);
		r = config_lookup(&d->cfg, &remote);
		if (!r || r->policy == POL_UDP) {
			d->stats.refused++;
			log_rl(LOG_NOTICE, "TCP connection from %s refused: no peer rule in %s sends it over TCP",
			       ep_str(&remote), d->cfg.path);
			close(fd);
			continue;
		}
		s = accept_room(d, &remote);
		p = s ? peer_get(d, &remote, &local) : NULL;
		c = p ? conn_new(p, fd, false) : NULL;
		if (!c) {
			if (s && !s->n) {
				tdelete(s, &d->srcs, src_cmp);
				free(s);
			}
			close(fd);
			continue;
		}
		d->naccepted++;
		c->src = s;
		c->src_next = s->conns;
		s->conns = c;
		s->n++;
		lru_append(d, c);
		c->framing = framing;
		/* RFC 9329: attached once its stream prefix is read */
		if (sock_setup(fd, remote.family) ||
		    (framing == IKETCP_FRAMING_RFC9329 ?
		     loop_add(d, fd, EPOLLIN, EV_PREFIX, c) : conn_attach(c))) {
			conn_free(d, c);
			continue;
		}
		peer_set_originator(d, p, false);
		p->stats.accepts++;
		log_rl(LOG_INFO, "peer %s: connection accepted (port %u, %s framing)",
		       ep_str(&remote), remote.port, framing_name(framing));
	}
}

/**
 * peer_prefix_read() - an accepted RFC 9329 connection has data: read
 *	its stream prefix, attach the ULP once it is complete
 * @d: daemon
 * @c: the connection (in the loop as EV_PREFIX)
 *
 * Nothing but the prefix is read: what follows stays in the socket for
 * the module. A wrong prefix, or a stream that ends first, closes the
 * connection (RFC 9329 s4); one that does not come within
 * first-message-timeout is closed by peer_tick().
 */
void peer_prefix_read(struct daemon *d, struct conn *c)
{
	char buf[IKETCP_STREAM_PREFIX_LEN];
	ssize_t n;

	n = recv(c->fd, buf, IKETCP_STREAM_PREFIX_LEN - c->prefix_got,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		log_rl(LOG_INFO, "peer %s: connection ended before its RFC 9329 stream prefix%s%s",
		       ep_str(&c->peer->remote), n ? ": " : "",
		       n ? strerror(errno) : "");
		conn_free(d, c);
		return;
	}
	if (memcmp(buf, &IKETCP_STREAM_PREFIX[c->prefix_got], n)) {
		d->stats.bad_prefix++;
		log_rl(LOG_NOTICE, "peer %s: connection does not begin with the RFC 9329 stream prefix, closing",
		       ep_str(&c->peer->remote));
		conn_free(d, c);
		return;
	}
	c->prefix_got += n;
	if (c->prefix_got < IKETCP_STREAM_PREFIX_LEN)
		return;
	loop_del(d, c->fd);
	if (conn_attach(c))
		conn_free(d, c);
}

/**
 * peer_connect() - open a connection to a peer (non-blocking)
 * @d: daemon
 * @p: the peer
 * @for_spi: RFC 9329: the IKE SA the connection is for, 0 for none
 */
void peer_connect(struct daemon *d, struct peer *p, uint64_t for_spi)
{
	struct sockaddr_storage ss;
	struct conn *c;
	socklen_t sl;
	int fd, one = 1;

	for (c = p->conns; c; c = c->next)
		if (c->connecting)
			return;	/* one attempt at a time */
	p->next_connect = 0;
	p->connect_spi = 0;
	if (p->framing != IKETCP_FRAMING_RFC9329)
		for_spi = 0;
	fd = socket(p->remote.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_rl(LOG_ERR, "peer %s: socket: %s", ep_str(&p->remote),
		       strerror(errno));
		peer_schedule(d, p, true, for_spi);
		return;
	}
	if (p->remote.family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			   sizeof(one));
	sl = ep_to_sockaddr(&p->local, 0, &ss);
	/* the connection must leave from the address of its pair */
	if (sock_setup(fd, p->remote.family) || bind(fd, (void *)&ss, sl)) {
		log_rl(LOG_WARNING, "peer %s: cannot use %s for the connection: %s",
		       ep_str(&p->remote), ep_str(&p->local), strerror(errno));
		close(fd);
		p->stats.connect_failures++;
		peer_schedule(d, p, true, for_spi);
		return;
	}
	sl = ep_to_sockaddr(&p->remote, p->tcp_port, &ss);
	c = conn_new(p, fd, true);
	if (!c) {
		close(fd);
		return;
	}
	c->connecting = true;
	c->framing = p->framing;
	c->for_spi = for_spi;
	peer_set_originator(d, p, true);
	p->stats.connects++;
	if ((connect(fd, (void *)&ss, sl) && errno != EINPROGRESS) ||
	    loop_add(d, fd, EPOLLOUT, EV_CONNECT, c)) {
		log_rl(LOG_WARNING, "peer %s: connect to TCP port %u: %s",
		       ep_str(&p->remote), p->tcp_port, strerror(errno));
		c->connecting = false;
		conn_free(d, c);
		p->stats.connect_failures++;
		peer_schedule(d, p, true, for_spi);
		return;
	}
	log_rl(LOG_INFO, "peer %s: connecting to TCP port %u (%s framing)",
	       ep_str(&p->remote), p->tcp_port, framing_name(c->framing));
}

/*
 * Is a reconnect wanted? Something to carry (peer_wants_conn()), or, for
 * RFC 9329, an authenticated IKE SA with the peer whose ESP has no
 * carrier (state survives a dropped connection, RFC 9329 s6.1), until
 * idle-timeout passes without any IKE message.
 */
static bool wants_reconnect(struct daemon *d, struct peer *p, long long now)
{
	if (peer_wants_conn(d, p, now))
		return true;
	return p->framing == IKETCP_FRAMING_RFC9329 && !p->esp_conn &&
	       sa_addr_known(d, &p->remote) &&
	       (!d->cfg.idle_timeout ||
		now - p->last_activity < d->cfg.idle_timeout * 1000LL);
}

/* a connect attempt failed: try again later while there is something to carry */
static void connect_failed(struct daemon *d, struct peer *p, uint64_t for_spi)
{
	p->stats.connect_failures++;
	if (wants_reconnect(d, p, now_ms())) {
		peer_schedule(d, p, true, for_spi);
	} else {
		p->next_connect = 0;
		log_info("peer %s: nothing to carry any more, not reconnecting",
			 ep_str(&p->remote));
	}
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
	uint64_t for_spi = c->for_spi;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		log_rl(LOG_WARNING, "peer %s: connect to TCP port %u failed: %s",
		       ep_str(&p->remote), p->tcp_port, strerror(err ?: errno));
		conn_free(d, c);
		connect_failed(d, p, for_spi);
		return;
	}
	loop_del(d, c->fd);
	if (conn_attach(c)) {
		/* (no longer in the loop: an ordinary free) */
		conn_free(d, c);
		connect_failed(d, p, for_spi);
		return;
	}
	log_rl(LOG_INFO, "peer %s: connected", ep_str(&p->remote));
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
	if (!tsearch(c, &d->conns, conn_cmp)) {
		c->id = 0;
		conn_abort(d, c);
		return;
	}
	p->gen++;
	c->up_at = now_ms();
	if (!p->first_up)
		p->first_up = c->up_at;
	if (!p->ever_up)
		d->state_dirty = true;
	p->ever_up = true;
	if (c->originator)
		p->next_connect = 0;	/* (the back-off resets when it lived) */
	peer_update_cur(d, p);
	log_rl(LOG_INFO, "peer %s: connection %u up (%s, generation %u)",
	       ep_str(&p->remote), c->id,
	       c->originator ? "opened by us" : "opened by the peer", p->gen);
	/*
	 * The module's first-message timeout is for strangers: a connection
	 * we opened, or one from a known peer (an authenticated IKE SA runs
	 * with its address), may idle (a standby connection between gateways
	 * carries requests both ways).
	 */
	if (c->originator || sa_addr_known(d, &ev->remote)) {
		int err = iketcp_nl_conn_set_first_msg_timeout(&d->cmd, c->id, 0);

		if (err && err != -ENOTCONN)
			log_debug("conn %u: no first-message limit: %s", c->id,
				  strerror(-err));
	}
	/* RFC 9329: ESP goes on a connection we opened to the peer at once
	 * (a reconnect restores the tunnel), on an accepted one only when
	 * the peer has no carrier (else once it earned an SA: bridge.c)
	 */
	if (c->framing == IKETCP_FRAMING_RFC9329 &&
	    (c->originator || !p->esp_conn) && sa_addr_known(d, &ev->remote))
		peer_esp_carrier(d, c);
	bridge_conn_up(d, c);
}

/**
 * peer_ended() - a connection ended: close it; reopen if we opened it and
 *	there is something to carry
 * @d: daemon
 * @ev: IKETCP_CMD_CONN_ENDED
 */
void peer_ended(struct daemon *d, const struct iketcp_event *ev)
{
	struct conn *c = peer_conn_by_id(d, ev->conn_id);
	bool ours, short_lived, rfc9329;
	uint64_t for_spi;
	struct peer *p;

	if (!c)
		return;
	p = c->peer;
	ours = c->originator;
	rfc9329 = c->framing == IKETCP_FRAMING_RFC9329;
	for_spi = c->for_spi;
	/* a connection that dies young is retried with back-off */
	short_lived = now_ms() - c->started < 5000 ||
		      ev->reason >= IKETCP_REASON_LEN_SHORT;
	log_rl(LOG_INFO, "peer %s: connection %u ended: %s%s", ep_str(&p->remote),
	       c->id, iketcp_reason_str(ev->reason),
	       ev->truncated ? " (inside a message)" : "");
	p->stats.conns_ended++;
	if (ev->reason != IKETCP_REASON_PEER_FIN &&
	    ev->reason != IKETCP_REASON_LOCAL_CLOSE)
		p->stats.resets++;
	conn_free(d, c);
	/* (RFC 9329: each IKE SA we started has its own connection) */
	if (!ours || (rfc9329 ? for_spi && peer_conn_for_sa(d, p, for_spi) :
				peer_opened(d, p) != NULL))
		return;
	/* the back-off grows while connections die young, resets otherwise */
	if (!short_lived)
		p->backoff_ms = 0;
	if ((p->originator || rfc9329) && wants_reconnect(d, p, now_ms()))
		peer_schedule(d, p, short_lived, for_spi);
}

/**
 * peer_write() - send one message on a connection
 * @d: daemon
 * @c: the connection (attached)
 * @msg: the IKE message
 * @len: its length
 *
 * Return: 1 when the kernel queued it, 0 when the connection could not
 * take it now (ended, or its send queue full: queue it), -1 when it was
 * refused as not one IKE message (dropped).
 */
int peer_write(struct daemon *d, struct conn *c, const uint8_t *msg,
	       size_t len)
{
	struct peer *p = c->peer;
	int ret;

	ret = iketcp_nl_conn_send(&d->cmd, c->id, msg, len);
	if (!ret) {
		p->stats.tcp_out++;
		p->stats.tcp_out_bytes += len;
		p->last_tcp_out = now_ms();
		peer_conn_active(d, c, p->last_tcp_out);
		return 1;
	}
	if (ret == -EMSGSIZE || ret == -EINVAL) {
		log_rl(LOG_WARNING, "peer %s: message of %zu bytes refused: %s",
		       ep_str(&p->remote), len, d->cmd.err);
		p->stats.dropped++;
		return -1;
	}
	log_debug("peer %s: send on conn %u: %s", ep_str(&p->remote), c->id,
		  d->cmd.err);
	return 0;
}

/**
 * peer_queue() - keep a message until a connection may carry it
 * @d: daemon
 * @p: the peer
 * @msg: the IKE message
 * @len: its length
 * @spi_i: its IKE SA's initiator SPI
 * @response: it answers a request of the peer
 * @req_conn: responses: the connection the request came on
 * @phase1_start: it starts a new IKE SA
 *
 * The oldest waiting message makes room when queue-max are waiting.
 *
 * Return: 0, or -1 (no memory).
 */
int peer_queue(struct daemon *d, struct peer *p, const uint8_t *msg,
	       size_t len, uint64_t spi_i, bool response, uint32_t req_conn,
	       bool phase1_start)
{
	struct qmsg *q;

	if (p->qlen >= d->cfg.queue_max) {
		q = p->qhead;
		p->qhead = q->next;
		if (!p->qhead)
			p->qtail = NULL;
		p->qlen--;
		free(q);
		p->stats.dropped++;
		log_rl(LOG_WARNING, "peer %s: queue full, oldest waiting message dropped",
		       ep_str(&p->remote));
	}
	q = malloc(sizeof(*q) + len);
	if (!q)
		return -1;
	q->next = NULL;
	q->queued = now_ms();
	q->spi_i = spi_i;
	q->response = response;
	q->req_conn = req_conn;
	q->phase1_start = phase1_start;
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

/* Idle accepted connections: strangers after stranger-timeout, known
 * peers' after idle-timeout (they reopen when they need to)
 */
static void idle_close_accepted(struct daemon *d, struct peer *p,
				long long now)
{
	struct conn *c, *next;

	for (c = p->conns; c; c = next) {
		next = c->next;
		if (c->originator || !c->id)
			continue;
		if (c->known ? d->cfg.idle_timeout &&
			       now - c->last_msg > d->cfg.idle_timeout * 1000LL :
			       now - c->last_msg > d->cfg.stranger_timeout * 1000LL) {
			d->stats.idle_closed++;
			log_rl(LOG_INFO, "peer %s: accepted connection %u idle for %lld s, closing",
			       ep_str(&p->remote), c->id,
			       (now - c->last_msg) / 1000);
			conn_abort(d, c);
		}
	}
}

/* How long an accepted RFC 9329 connection has for its stream prefix */
static long long prefix_timeout(const struct daemon *d)
{
	return (d->cfg.first_msg_timeout ?: d->cfg.stranger_timeout) * 1000LL;
}

struct tick {
	struct daemon *d;
	long long now;
	bool slow;
	struct peer **forget;
	int nforget;
	int cap;
};

static void peer_tick_one(struct peer *p, void *arg)
{
	struct tick *t = arg;
	struct daemon *d = t->d;
	long long now = t->now;
	struct conn *c, *next;

	for (c = p->conns; c; c = next) {
		next = c->next;
		if (!c->originator && c->framing == IKETCP_FRAMING_RFC9329 &&
		    !c->ino && now - c->started > prefix_timeout(d)) {
			d->stats.bad_prefix++;
			log_rl(LOG_NOTICE, "peer %s: no RFC 9329 stream prefix within %lld ms, closing",
			       ep_str(&p->remote), prefix_timeout(d));
			conn_free(d, c);
			continue;
		}
		if (c->connecting && now - c->started > CONNECT_TIMEOUT_MS) {
			log_rl(LOG_WARNING, "peer %s: connect timed out",
			       ep_str(&p->remote));
			uint64_t for_spi = c->for_spi;

			conn_free(d, c);
			connect_failed(d, p, for_spi);
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
		log_rl(LOG_WARNING, "peer %s: message dropped after waiting %d s for a connection that may carry it",
		       ep_str(&p->remote), d->cfg.hold_time);
	}
	if (p->next_connect && now >= p->next_connect &&
	    !(p->connect_spi ? peer_conn_for_sa(d, p, p->connect_spi) :
			       peer_opened(d, p)))
		peer_connect(d, p, p->connect_spi);
	if (!t->slow)
		return;
	if (d->cfg.idle_timeout && peer_opened(d, p) &&
	    !bridge_peer_active(d, p, now)) {
		log_info("peer %s: idle for %d s, closing", ep_str(&p->remote),
			 d->cfg.idle_timeout);
		for (c = p->conns; c; c = c->next)
			if (c->originator && c->id)
				iketcp_nl_conn_close(&d->cmd, c->id);
		peer_set_originator(d, p, false);	/* do not reopen */
	}
	idle_close_accepted(d, p, now);
	if (!p->conns && !p->qlen && !p->nsas && !p->next_connect &&
	    now - p->last_activity > d->cfg.hold_time * 1000LL) {
		if (t->nforget == t->cap) {
			int cap = t->cap ? 2 * t->cap : 64;
			struct peer **n = realloc(t->forget, cap * sizeof(*n));

			if (!n)
				return;
			t->forget = n;
			t->cap = cap;
		}
		t->forget[t->nforget++] = p;
	}
}

/**
 * peer_tick() - periodic work on every peer: connect attempts due,
 *	connect timeouts, waiting messages held too long; once a second also
 *	idle connections and forgotten peers
 * @d: daemon
 * @now: current time (ms)
 */
void peer_tick(struct daemon *d, long long now)
{
	static long long last_slow;
	struct tick t = { .d = d, .now = now };
	struct conn *c;

	t.slow = now - last_slow >= 1000;
	if (t.slow) {
		last_slow = now;
		bridge_gc(d, now);
		/* strangers idle too long, oldest first */
		while ((c = d->strangers) &&
		       now - c->last_msg > d->cfg.stranger_timeout * 1000LL) {
			d->stats.idle_closed++;
			log_rl(LOG_INFO, "peer %s: stranger's connection %u idle for %lld s, closing",
			       ep_str(&c->peer->remote), c->id,
			       (now - c->last_msg) / 1000);
			conn_abort(d, c);
		}
	}
	peer_for_each(d, peer_tick_one, &t);
	for (int i = 0; i < t.nforget; i++) {
		tdelete(t.forget[i], &d->peers, peer_cmp);
		free(t.forget[i]);
		d->npeers--;
		d->stats.peers_freed++;
	}
	free(t.forget);
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

struct close_walk {
	struct pollfd *pfd;
	size_t n;
	size_t max;
};

static void close_walk_cb(const void *node, VISIT v, void *closure)
{
	const struct conn *c = *(const struct conn *const *)node;
	struct close_walk *w = closure;

	if (v != postorder && v != leaf)
		return;
	if (!w->pfd) {
		w->max++;	/* (counting) */
		return;
	}
	if (w->n >= w->max || shutdown(c->fd, SHUT_WR))
		return;
	w->pfd[w->n++] = (struct pollfd){ .fd = c->fd, .events = POLLRDHUP };
}

/*
 * Close the connections the orderly way and wait (CLOSE_WAIT_MS at most)
 * for each peer's FIN: the ACK that answers it then leaves from the
 * connection's own socket, which bypasses IPsec. Closed with its FIN
 * unanswered, a socket becomes a timewait socket whose ACKs leave from the
 * namespace's TCP control socket, which has no bypass: under a policy that
 * covers the peer but has no SA (the tunnel just went, a trap policy) they
 * are dropped, each triggering an ACQUIRE, and the peer's side lingers in
 * LAST-ACK.
 */
static void conns_close_orderly(struct daemon *d)
{
	struct close_walk w = {};
	long long deadline = now_ms() + CLOSE_WAIT_MS, left;
	size_t open;

	twalk_r(d->conns, close_walk_cb, &w);
	if (!w.max)
		return;
	w.pfd = calloc(w.max, sizeof(*w.pfd));
	if (!w.pfd)
		return;
	twalk_r(d->conns, close_walk_cb, &w);
	open = w.n;
	while (open && (left = deadline - now_ms()) > 0) {
		int n = poll(w.pfd, w.n, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (size_t i = 0; i < w.n; i++) {
			if (w.pfd[i].fd < 0 || !w.pfd[i].revents)
				continue;
			w.pfd[i].fd = -1;
			open--;
		}
	}
	if (open)
		log_info("%zu of %zu connections not closed by their peer within %d ms",
			 open, w.n, CLOSE_WAIT_MS);
	free(w.pfd);
}

/**
 * peer_close_all() - close every connection (the orderly way: see
 *	conns_close_orderly()) and forget every peer
 * @d: daemon
 */
void peer_close_all(struct daemon *d)
{
	conns_close_orderly(d);
	tdestroy(d->conns, nofree);
	d->conns = NULL;
	tdestroy(d->srcs, free);
	d->srcs = NULL;
	d->strangers = d->strangers_tail = NULL;
	tdestroy(d->peers, peer_free_one);
	d->peers = NULL;
	d->npeers = 0;
	peer_unlisten(d);
}
