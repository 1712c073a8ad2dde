// SPDX-License-Identifier: GPL-2.0
/*
 * bridge.c - message routing between the local IKE daemon (UDP, through
 * the module's capture and inject) and the peers (TCP, through the ULP),
 * and the IKE SA tracking it needs:
 *
 * - the transport of each outgoing message (policy.c), responses following
 *   their requests;
 * - the daemon's retransmission of a request already written to the live
 *   connection is not sent again; after a reconnect the outstanding request
 *   is sent again on the new connection;
 * - the UDP ports a message is injected with mirror the daemon's own view
 *   of its IKE SA (500, or 4500 with the non-ESP marker once NAT-T moved
 *   the SA there), so that its peer matching, NAT detection and replies
 *   work unchanged.
 */
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "policy.h"

#define SA_TIMEOUT_MS	(86400LL * 1000)

static int sa_cmp(const void *a, const void *b)
{
	const struct sa *x = a, *y = b;

	if (x->spi_i != y->spi_i)
		return x->spi_i < y->spi_i ? -1 : 1;
	if (x->peer.family != y->peer.family)
		return x->peer.family - y->peer.family;
	return memcmp(&x->peer.addr, &y->peer.addr,
		      x->peer.family == AF_INET6 ? 16 : 4);
}

/* How many SAs each peer address has: "do we know this peer?" in O(log n) */
struct sa_addr {
	struct iketcp_ep addr;
	unsigned int n;
};

static int sa_addr_cmp(const void *a, const void *b)
{
	const struct sa_addr *x = a, *y = b;

	if (x->addr.family != y->addr.family)
		return x->addr.family - y->addr.family;
	return memcmp(&x->addr.addr, &y->addr.addr,
		      x->addr.family == AF_INET6 ? 16 : 4);
}

static void sa_addr_ref(struct daemon *d, const struct iketcp_ep *peer)
{
	struct sa_addr key = { .addr = *peer }, *a, **found;

	found = tfind(&key, &d->sa_addrs, sa_addr_cmp);
	if (found) {
		(*found)->n++;
		return;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return;
	*a = key;
	a->n = 1;
	if (!tsearch(a, &d->sa_addrs, sa_addr_cmp))
		free(a);
}

static void sa_addr_unref(struct daemon *d, const struct iketcp_ep *peer)
{
	struct sa_addr key = { .addr = *peer }, *a, **found;

	found = tfind(&key, &d->sa_addrs, sa_addr_cmp);
	if (!found)
		return;
	a = *found;
	if (--a->n)
		return;
	tdelete(a, &d->sa_addrs, sa_addr_cmp);
	free(a);
}

static struct sa *sa_find(struct daemon *d, const struct iketcp_ep *peer,
			  uint64_t spi_i)
{
	struct sa key = { .spi_i = spi_i, .peer = *peer }, **found;

	key.peer.port = 0;
	found = tfind(&key, &d->sas, sa_cmp);
	return found ? *found : NULL;
}

static struct sa *sa_get(struct daemon *d, const struct iketcp_ep *peer,
			 uint64_t spi_i, uint8_t major)
{
	struct sa key = { .spi_i = spi_i, .peer = *peer }, *sa, **found;

	key.peer.port = 0;
	found = tfind(&key, &d->sas, sa_cmp);
	if (found)
		return *found;
	sa = calloc(1, sizeof(*sa));
	if (!sa)
		return NULL;
	*sa = key;
	sa->major = major;
	if (!tsearch(sa, &d->sas, sa_cmp)) {
		free(sa);
		return NULL;
	}
	sa_addr_ref(d, &sa->peer);
	d->nsas++;
	return sa;
}

static bool sa_tcp_req_has(const struct sa *sa, uint32_t msgid)
{
	for (int i = 0; i < sa->ntcp_reqs && i < 8; i++)
		if (sa->tcp_reqs[i] == msgid)
			return true;
	return false;
}

static void sa_tcp_req_add(struct sa *sa, uint32_t msgid)
{
	if (sa_tcp_req_has(sa, msgid))
		return;
	sa->tcp_reqs[sa->ntcp_reqs % 8] = msgid;
	sa->ntcp_reqs++;
}

static void sa_out_clear(struct daemon *d, struct sa *sa)
{
	if (sa->out)
		d->nout--;
	free(sa->out);
	sa->out = NULL;
	sa->out_len = 0;
	sa->out_gen = 0;
	sa->out_sends = 0;
}

static const char *ep_str(const struct iketcp_ep *ep)
{
	static char buf[4][64];
	static int i;

	i = (i + 1) % 4;
	iketcp_ep_str(ep, buf[i], sizeof(buf[i]));
	return buf[i];
}

/**
 * bridge_captured() - a datagram from the local daemon to a peer
 * @d: daemon
 * @ev: IKETCP_CMD_UDP_CAPTURED
 */
void bridge_captured(struct daemon *d, const struct iketcp_event *ev)
{
	const struct cfg_rule *r = config_lookup(&d->cfg, &ev->remote);
	long long now = now_ms();
	struct iketcp_ike_hdr h;
	struct decide_in in = {};
	bool same, request_like;
	enum transport t;
	struct peer *p;
	struct sa *sa;
	int ret;

	d->stats.captured++;
	if (iketcp_ike_hdr_parse(ev->msg, ev->msg_len, &h) ||
	    h.length != ev->msg_len) {
		d->stats.bad_msgs++;
		log_warn("captured datagram to %s is not one IKE message, dropped",
			 ep_str(&ev->remote));
		return;
	}
	p = peer_get(d, &ev->remote, &ev->local);
	sa = sa_get(d, &ev->remote, h.spi_i, h.major);
	if (!p || !sa)
		return;
	p->last_activity = now;
	sa->last_seen = now;
	sa->local = ev->local;
	sa->local.port = 0;
	sa->lport = ev->local.port;
	sa->rport = ev->remote.port;
	sa->ports_known = true;

	if (h.major == 2 && h.exchange == IKEV2_IKE_SA_INIT &&
	    (h.flags & IKEV2_FLAG_RESPONSE) &&
	    ike_v2_has_natd(ev->msg, ev->msg_len))
		sa->natt_float = true;
	if (h.major == 1 && (h.exchange == IKEV1_MAIN_MODE ||
			     h.exchange == IKEV1_AGGRESSIVE)) {
		if (ike_is_phase1_start(&h))
			sa->v1_seen_start = true;
		else if (!sa->v1_seen_start)
			sa->v1_peer_started_udp = true;
	}

	request_like = h.major == 1 || !(h.flags & IKEV2_FLAG_RESPONSE);
	same = request_like && sa->out && sa->out_len == ev->msg_len &&
	       !memcmp(sa->out, ev->msg, ev->msg_len);
	if (request_like && !same) {
		sa_out_clear(d, sa);
		sa->out = malloc(ev->msg_len);
		if (sa->out) {
			d->nout++;
			memcpy(sa->out, ev->msg, ev->msg_len);
			sa->out_len = ev->msg_len;
			sa->out_msgid = h.msgid;
		}
	}
	if (same)
		sa->out_sends++;
	else if (request_like)
		sa->out_sends = 1;
	/* its answer must come to us: not by the kernel's fast path */
	if (request_like && sa->out)
		fastpath_before_request(d, sa);

	if (r && r->policy == POL_FALLBACK && !p->fallback_tcp && same &&
	    sa->out_sends - 1 >= d->cfg.retransmit_threshold) {
		p->fallback_tcp = true;
		log_notice("peer %s: %d retransmissions of a %s request unanswered over UDP, moving to TCP",
			   ep_str(&ev->remote), sa->out_sends - 1,
			   ike_exchange_name(&h));
	}

	in.policy = r ? r->policy : POL_UDP;
	in.h = &h;
	in.wire_len = ev->msg_len + (ev->nonesp ? 4 : 0) + 8 +
		      (ev->remote.family == AF_INET6 ? 40 : 20);
	in.pmtu = ev->pmtu;
	/* (the requests the kernel's fast path delivered came over TCP) */
	in.v2_req_via_tcp = sa_tcp_req_has(sa, h.msgid) || sa->fp_used;
	in.v1_peer_via_tcp = sa->v1_last_valid &&
			     sa->v1_last_msgid == h.msgid &&
			     sa->v1_last_exch == h.exchange;
	in.v1_peer_started_udp = sa->v1_peer_started_udp;
	in.fallback_tcp = p->fallback_tcp;
	t = policy_decide(&in);
	log_debug("%s %s msgid %u (%zu bytes) from %s to %s: %s",
		  ike_exchange_name(&h),
		  ike_is_v2_response(&h) ? "response" : "message", h.msgid,
		  ev->msg_len, ep_str(&ev->local), ep_str(&ev->remote),
		  transport_name(t));

	if (t == T_UDP) {
		ret = iketcp_nl_udp_send(&d->cmd, &ev->local, &ev->remote,
					 ev->nonesp, ev->msg, ev->msg_len);
		if (ret)
			log_warn("sending to %s over UDP failed: %s",
				 ep_str(&ev->remote), d->cmd.err);
		p->stats.udp_out++;
		d->stats.to_udp++;
		return;
	}

	d->stats.to_tcp++;
	if (same && sa->out_gen && p->cur && p->cur->id &&
	    sa->out_gen == p->gen) {
		/* already on the live connection: TCP delivers it */
		p->stats.suppressed++;
		log_debug("peer %s: retransmission of msgid %u not sent again",
			  ep_str(&ev->remote), h.msgid);
		return;
	}
	ret = peer_send(d, p, ev->msg, ev->msg_len);
	if (ret == 1 && request_like && sa->out)
		sa->out_gen = p->gen;
	if (ret == 0 && !p->cur && !p->next_connect &&
	    (p->originator || !p->ever_up || ike_is_phase1_start(&h)))
		peer_connect(d, p);
}

/* Is a UDP socket bound to @port (the IKE daemon)? Cached for 2 s. */
static bool daemon_listening(uint16_t port)
{
	static long long checked[2];
	static bool result[2];
	int i = port == 4500;
	long long now = now_ms();
	char line[256], want[8];
	bool found = false;

	if (now - checked[i] < 2000)
		return result[i];
	snprintf(want, sizeof(want), ":%04X ", port);
	for (int v = 0; v < 2 && !found; v++) {
		FILE *f = fopen(v ? "/proc/net/udp6" : "/proc/net/udp", "r");

		while (f && !found && fgets(line, sizeof(line), f)) {
			char *local = strchr(line, ':');

			/* "sl: local_address rem_address st ..." */
			if (local && (local = strchr(local + 1, ':')) &&
			    !strncmp(local, want, 6))
				found = true;
		}
		if (f)
			fclose(f);
	}
	checked[i] = now;
	result[i] = found;
	return found;
}

/**
 * bridge_from_tcp() - a message from a peer over TCP: deliver it to the
 *	local daemon as a UDP datagram from the peer
 * @d: daemon
 * @ev: IKETCP_CMD_MSG
 */
void bridge_from_tcp(struct daemon *d, const struct iketcp_event *ev)
{
	static long long warned;
	struct conn *c = peer_conn_by_id(d, ev->conn_id);
	struct iketcp_ep local = ev->local, remote = ev->remote;
	struct iketcp_ike_hdr h;
	long long now = now_ms();
	uint16_t lport = 500, rport = 500;
	struct peer *p;
	struct sa *sa;
	int nat;

	d->stats.from_tcp++;
	if (c)
		c->rx_handled++;
	if (iketcp_ike_hdr_parse(ev->msg, ev->msg_len, &h)) {
		d->stats.bad_msgs++;
		return;
	}
	p = c ? c->peer : peer_get(d, &ev->remote, &ev->local);
	if (c && !c->originator && !c->nmsgs && !ike_is_phase1_start(&h) &&
	    !sa_find(d, &ev->remote, h.spi_i) &&
	    !bridge_peer_known(d, &ev->remote)) {
		/* a peer must start with an IKE SA, or be one we know */
		d->stats.first_refused++;
		log_notice("peer %s: first message on its connection (%s, SPIr %llx) starts no IKE SA, from an address we share none with: closing",
			   ep_str(&ev->remote), ike_exchange_name(&h),
			   (unsigned long long)h.spi_r);
		iketcp_nl_conn_close(&d->cmd, c->id);
		return;
	}
	if (c) {
		double rate = d->cfg.max_rate;

		c->tokens += (now - c->refilled) * rate / 1000;
		if (!c->nmsgs || c->tokens > 2 * rate)
			c->tokens = 2 * rate;
		c->refilled = now;
		c->nmsgs++;
		if (c->tokens < 1) {
			static long long warned_rate;

			d->stats.rate_dropped++;
			if (now - warned_rate > 5000) {
				warned_rate = now;
				log_warn("peer %s: more than %d messages/s on connection %u, dropping",
					 ep_str(&ev->remote), d->cfg.max_rate,
					 c->id);
			}
			return;
		}
		c->tokens -= 1;
	}
	sa = sa_get(d, &ev->remote, h.spi_i, h.major);
	if (!p || !sa)
		return;
	p->stats.tcp_in++;
	p->last_activity = now;
	sa->last_seen = now;
	sa->local = ev->local;
	sa->local.port = 0;

	if (sa->ports_known) {
		lport = sa->lport;
		rport = sa->rport;
	} else if (h.major == 2 && h.exchange != IKEV2_IKE_SA_INIT) {
		/* An IKEv2 SA we have not seen set up (iketcpd restarted):
		 * daemons move IKE to 4500 after IKE_SA_INIT when both ends
		 * support NAT traversal, which they all do nowadays.
		 */
		lport = rport = 4500;
	}
	if (h.major == 2) {
		if (!(h.flags & IKEV2_FLAG_RESPONSE)) {
			sa_tcp_req_add(sa, h.msgid);
			if (h.exchange == IKEV2_IKE_SA_INIT &&
			    ike_v2_has_natd(ev->msg, ev->msg_len))
				sa->natt_float = true;
		} else if (sa->out && h.msgid == sa->out_msgid) {
			sa_out_clear(d, sa);	/* answered */
		}
	} else {
		sa->v1_last_msgid = h.msgid;
		sa->v1_last_exch = h.exchange;
		sa->v1_last_valid = true;
		sa_out_clear(d, sa);
		if (ike_is_phase1_start(&h))
			sa->v1_seen_start = true;
		if (ike_is_sa_setup(&h)) {
			struct iketcp_ep sender = ev->remote;

			sender.port = rport;
			nat = ike_v1_nat_detected(ev->msg, ev->msg_len, &sender);
			if (nat == 1 && !sa->natt_float) {
				sa->natt_float = true;
				log_info("peer %s: behind a NAT (IKEv1 NAT-D), its SA moves to UDP 4500",
					 ep_str(&ev->remote));
			}
		}
	}
	/* NAT-T: after the set-up exchanges the peer is on 4500 */
	if (sa->natt_float && lport == 500 && !ike_is_sa_setup(&h))
		lport = rport = 4500;

	local.port = lport;
	remote.port = rport;
	if (iketcp_nl_udp_inject(&d->cmd, &remote, &local, lport == 4500,
				 ev->msg, ev->msg_len, 0)) {
		d->stats.inject_errors++;
		log_warn("delivering a message from %s to the daemon failed: %s",
			 ep_str(&remote), d->cmd.err);
		return;
	}
	d->stats.injected++;
	if (c)
		fastpath_consider(d, c, sa, &h, lport, rport);
	log_debug("%s %s msgid %u (%zu bytes) from %s over TCP delivered to %s",
		  ike_exchange_name(&h),
		  ike_is_v2_response(&h) ? "response" : "message", h.msgid,
		  ev->msg_len, ep_str(&remote), ep_str(&local));
	if (!daemon_listening(lport) && now - warned > 10000) {
		warned = now;
		log_warn("no IKE daemon is listening on UDP port %u: messages from peers are dropped",
			 lport);
	}
}

struct peer_up_ctx {
	struct daemon *d;
	struct peer *p;
};

static struct peer_up_ctx *resend_ctx;

static void resend_outstanding(const void *node, VISIT v, int depth)
{
	struct peer_up_ctx *ctx = resend_ctx;
	struct sa *sa;

	(void)depth;
	if (v != postorder && v != leaf)
		return;
	sa = *(struct sa *const *)node;
	if (!sa->out || sa->out_gen == ctx->p->gen ||
	    sa->peer.family != ctx->p->remote.family ||
	    memcmp(&sa->peer.addr, &ctx->p->remote.addr,
		   sa->peer.family == AF_INET6 ? 16 : 4) ||
	    (sa->local.family &&
	     memcmp(&sa->local.addr, &ctx->p->local.addr,
		    sa->local.family == AF_INET6 ? 16 : 4)))
		return;
	/* only requests that went (or were to go) over TCP */
	if (!sa->out_gen)
		return;
	if (peer_send(ctx->d, ctx->p, sa->out, sa->out_len) == 1) {
		sa->out_gen = ctx->p->gen;
		ctx->p->stats.resent++;
		log_info("peer %s: outstanding request msgid %u sent again after the reconnect",
			 ep_str(&ctx->p->remote), sa->out_msgid);
	}
}

static struct sa *sa_of_msg(struct daemon *d, const struct peer *p,
			    const uint8_t *msg, size_t len)
{
	struct iketcp_ike_hdr h;
	struct sa key = { .peer = p->remote }, **found;

	if (iketcp_ike_hdr_parse(msg, len, &h))
		return NULL;
	key.spi_i = h.spi_i;
	key.peer.port = 0;
	found = tfind(&key, &d->sas, sa_cmp);
	return found ? *found : NULL;
}

/**
 * bridge_peer_up() - a connection to a peer came up: send what waited,
 *	then the outstanding requests written on an older connection
 * @d: daemon
 * @p: the peer
 */
void bridge_peer_up(struct daemon *d, struct peer *p)
{
	struct peer_up_ctx ctx = { .d = d, .p = p };

	while (p->qhead && p->cur && p->cur->id) {
		struct qmsg *q = p->qhead;
		struct sa *sa;

		if (iketcp_nl_conn_send(&d->cmd, p->cur->id, q->data, q->len)) {
			log_warn("peer %s: sending a waiting message failed: %s",
				 ep_str(&p->remote), d->cmd.err);
			break;
		}
		p->stats.tcp_out++;
		sa = sa_of_msg(d, p, q->data, q->len);
		if (sa && sa->out && sa->out_len == q->len &&
		    !memcmp(sa->out, q->data, q->len))
			sa->out_gen = p->gen;
		p->qhead = q->next;
		if (!p->qhead)
			p->qtail = NULL;
		p->qlen--;
		free(q);
	}
	/* (no walk over every SA when no request of ours is outstanding:
	 * a mass reconnect of thousands of peers)
	 */
	if (!p->cur || !p->cur->id || !d->nout)
		return;
	resend_ctx = &ctx;
	twalk(d->sas, resend_outstanding);
	resend_ctx = NULL;
}

/**
 * bridge_peer_active() - does the peer still have IKE traffic?
 * @d: daemon
 * @p: the peer
 * @now: current time (ms)
 *
 * Return: true if its connection should be kept (or reopened).
 */
bool bridge_peer_active(struct daemon *d, struct peer *p, long long now)
{
	if (p->qlen)
		return true;
	if (!d->cfg.idle_timeout)
		return true;
	return now - p->last_activity < d->cfg.idle_timeout * 1000LL;
}

/**
 * bridge_peer_known() - do we share an IKE SA with this address?
 * @d: daemon
 * @remote: the peer's address (port ignored)
 *
 * TCP cannot be spoofed: a connection from such an address is the peer
 * itself (reconnecting, or keeping a standby connection), even when its
 * first message belongs to an IKE SA we never saw set up (an IKEv2 SA
 * rekeyed: its new SPIs travel encrypted).
 *
 * Return: true if one of the IKE SAs we know is with that address.
 */
bool bridge_peer_known(struct daemon *d, const struct iketcp_ep *remote)
{
	struct sa_addr key = { .addr = *remote };

	key.addr.port = 0;
	return tfind(&key, &d->sa_addrs, sa_addr_cmp) != NULL;
}

static struct daemon *gc_d;
static long long gc_now;
static struct sa *gc_victim;

static void gc_find(const void *node, VISIT v, int depth)
{
	struct sa *sa;

	(void)depth;
	if (gc_victim || (v != postorder && v != leaf))
		return;
	sa = *(struct sa *const *)node;
	if (gc_now - sa->last_seen > SA_TIMEOUT_MS && !fastpath_live(gc_d, sa))
		gc_victim = sa;
}

/**
 * bridge_gc() - forget IKE SAs not seen for a day
 * @d: daemon
 * @now: current time (ms)
 */
void bridge_gc(struct daemon *d, long long now)
{
	gc_d = d;
	gc_now = now;
	for (int n = 0; n < 100; n++) {
		gc_victim = NULL;
		twalk(d->sas, gc_find);
		if (!gc_victim)
			break;
		tdelete(gc_victim, &d->sas, sa_cmp);
		sa_addr_unref(d, &gc_victim->peer);
		sa_out_clear(d, gc_victim);
		free(gc_victim);
		d->nsas--;
	}
}

static void sa_free(void *node)
{
	struct sa *sa = node;

	free(sa->out);
	free(sa);
}

/**
 * bridge_sa_find() - the SA of a peer and initiator SPI
 * @d: daemon
 * @peer: the peer's address (port ignored)
 * @spi_i: initiator SPI
 *
 * Return: the SA or NULL.
 */
struct sa *bridge_sa_find(struct daemon *d, const struct iketcp_ep *peer,
			  uint64_t spi_i)
{
	return sa_find(d, peer, spi_i);
}

/**
 * bridge_sa_get() - the SA of a peer and initiator SPI, created if new
 * @d: daemon
 * @peer: the peer's address
 * @spi_i: initiator SPI
 * @major: IKE version
 *
 * Return: the SA or NULL.
 */
struct sa *bridge_sa_get(struct daemon *d, const struct iketcp_ep *peer,
			 uint64_t spi_i, uint8_t major)
{
	return sa_get(d, peer, spi_i, major);
}

static void (*sa_walk_fn)(struct sa *sa, void *arg);
static void *sa_walk_arg;

static void sa_walk(const void *node, VISIT v, int depth)
{
	(void)depth;
	if (v == postorder || v == leaf)
		sa_walk_fn(*(struct sa *const *)node, sa_walk_arg);
}

/**
 * bridge_sa_for_each() - call @fn for every SA (which must not add or
 *	remove SAs)
 * @d: daemon
 * @fn: the function
 * @arg: passed to @fn
 */
void bridge_sa_for_each(struct daemon *d, void (*fn)(struct sa *sa, void *arg),
			void *arg)
{
	sa_walk_fn = fn;
	sa_walk_arg = arg;
	twalk(d->sas, sa_walk);
}

/**
 * bridge_free() - forget every SA
 * @d: daemon
 */
void bridge_free(struct daemon *d)
{
	tdestroy(d->sas, sa_free);
	d->sas = NULL;
	tdestroy(d->sa_addrs, free);
	d->sa_addrs = NULL;
	d->nsas = 0;
	d->nout = 0;
}
