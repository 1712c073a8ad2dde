// SPDX-License-Identifier: GPL-2.0
/*
 * bridge.c - message routing between the local IKE daemon (UDP, through
 * the module's capture and inject) and the peers (TCP, through the ULP):
 *
 * - the transport of each message of the daemon (policy.c), responses
 *   following their requests;
 * - the connection it takes (channel binding): a connection earns an IKE
 *   SA's traffic by carrying a request of that SA that the local daemon
 *   then answers (the answer proves the request was valid for an SA the
 *   daemon knows). The daemon's requests of an SA go on the connection
 *   that earned it last, else on a connection iketcpd opened to the peer
 *   itself, else on an accepted connection of a known peer (one that
 *   carried an authenticated SA's exchange after IKE_AUTH that the daemon
 *   answered); a response goes on the connection its request came on. A
 *   silent connection, or one that carried only other SAs' messages, gets
 *   nothing; what no connection may carry waits (hold-time), and the old
 *   connection keeps serving until a new one has earned the SA;
 * - a retransmission of the daemon's request already written on a live
 *   connection is not sent again, but never twice in a row: a message the
 *   peer dropped (over its max-rate, say) is delivered by the next one;
 * - the UDP ports a message from a peer is delivered with (ports.c): from
 *   what the daemons themselves do, with NAT detection evaluated here as
 *   the daemons evaluate it;
 * - the IKE SA bookkeeping (sa.c) this needs: requests of the daemon that
 *   go over UDP are never stored (a digest counts their retransmissions
 *   for the fallback policy).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "daemon.h"
#include "log.h"
#include "policy.h"
#include "ports.h"

/* retransmissions of one request in a row not sent again on a live
 * connection (then one is, so that no loss is permanent)
 */
#define SUPPRESS_MAX		1
/* how long an xfrm observation of a peer is good for */
#define NATT_OBS_MS		10000

static uint64_t digest(const uint8_t *m, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ m[i]) * 0x100000001b3ULL;
	return h;
}

/* Exchanges after IKE_AUTH (IKEv2) or after phase 1 (IKEv1): only an SA
 * that was set up has them
 */
static bool after_auth(const struct iketcp_ike_hdr *h)
{
	if (h->major == 2)
		return h->exchange == IKEV2_CREATE_CHILD_SA ||
		       h->exchange == IKEV2_INFORMATIONAL;
	return h->exchange == IKEV1_QUICK_MODE ||
	       h->exchange == IKEV1_INFORMATIONAL;
}

/* The peer's IKEv2 request of @msgid that came over TCP, or NULL */
static struct sa_req *req_find(struct sa *sa, uint32_t msgid)
{
	unsigned int n = sa->nreqs < 8 ? sa->nreqs : 8;

	for (unsigned int i = 0; i < n; i++)
		if (sa->reqs[i].msgid == msgid)
			return &sa->reqs[i];
	return NULL;
}

static void req_add(struct sa *sa, uint32_t msgid, uint32_t conn,
		    uint8_t exch)
{
	struct sa_req *r = req_find(sa, msgid);

	if (!r)
		r = &sa->reqs[sa->nreqs++ % 8];
	*r = (struct sa_req){ .msgid = msgid, .conn = conn, .exch = exch };
}

/* Which live connection may carry a request of @sa (NULL: a new SA). An
 * RFC 9329 IKE SA our daemon started goes only on its own connection.
 */
static struct conn *route_request(struct daemon *d, struct peer *p,
				  struct sa *sa)
{
	struct conn *c = sa ? peer_conn_live(d, p, sa->bound) : NULL;

	if (c)
		return c;
	if (sa && sa->own_conn)
		return peer_conn_for_sa(d, p, sa->spi_i);
	return p->cur;
}

/* ... and a response to a request that came on @req_conn */
static struct conn *route_response(struct daemon *d, struct peer *p,
				   struct sa *sa, uint32_t req_conn)
{
	struct conn *c = peer_conn_live(d, p, req_conn);

	return c ? c : route_request(d, p, sa);
}

static bool same_out(const struct sa *sa, const uint8_t *msg, size_t len)
{
	return sa && sa->out && sa->out_len == len &&
	       !memcmp(sa->out, msg, len);
}

/* Send what waits in the peer's queue and may go now, in order. */
static void flush_queue(struct daemon *d, struct peer *p)
{
	struct qmsg **qq = &p->qhead, *q;

	p->qtail = NULL;
	while ((q = *qq)) {
		struct sa *sa = sa_find(d, &p->remote, q->spi_i);
		struct conn *c = q->response ?
				 route_response(d, p, sa, q->req_conn) :
				 route_request(d, p, sa);
		int ret = c ? peer_write(d, c, q->data, q->len) : 0;

		if (ret == 0) {
			p->qtail = q;
			qq = &q->next;
			continue;
		}
		if (ret == 1 && same_out(sa, q->data, q->len))
			sa->out_conn = c->id;
		*qq = q->next;
		p->qlen--;
		free(q);
	}
}

/* The daemon's outstanding requests last written on a connection that is
 * gone: send them again where they may go now (RFC 9329 s6.2: a request
 * waiting when a new connection comes up is sent again on it)
 */
static void resend_outstanding(struct daemon *d, struct peer *p)
{
	for (struct sa *sa = p->out_head; sa; sa = sa->out_next) {
		struct conn *c;

		if (!sa->out_conn || peer_conn_live(d, p, sa->out_conn))
			continue;
		c = route_request(d, p, sa);
		if (!c || peer_write(d, c, sa->out, sa->out_len) != 1)
			continue;
		sa->out_conn = c->id;
		sa->out_suppressed = 0;
		p->stats.resent++;
		log_rl(LOG_INFO, "peer %s: outstanding request msgid %u sent again on connection %u",
		       ep_str(&p->remote), sa->out_msgid, c->id);
	}
}

/* RFC 9329: a message still waiting for the connection of its own IKE SA
 * opens it (one attempt at a time per peer: the next after this one)
 */
static void connect_waiting(struct daemon *d, struct peer *p)
{
	for (struct qmsg *q = p->qhead; q; q = q->next) {
		struct sa *sa = sa_find(d, &p->remote, q->spi_i);

		if (sa && sa->own_conn && !peer_conn_for_sa(d, p, sa->spi_i)) {
			peer_connect(d, p, sa->spi_i);
			return;
		}
	}
}

/**
 * bridge_conn_up() - a connection came up: what waited for one that may
 *	carry it goes now
 * @d: daemon
 * @c: the connection
 */
void bridge_conn_up(struct daemon *d, struct conn *c)
{
	flush_queue(d, c->peer);
	resend_outstanding(d, c->peer);
	if (c->originator)
		connect_waiting(d, c->peer);
}

/**
 * bridge_sa_bound() - a connection earned an IKE SA (it carried a request
 *	of it that the daemon answered)
 * @d: daemon
 * @sa: the SA
 * @c: the connection
 */
void bridge_sa_bound(struct daemon *d, struct sa *sa, struct conn *c)
{
	struct peer *p = c->peer;

	if (sa->bound == c->id)
		return;
	sa->bound = c->id;
	log_debug("peer %s: IKE SA %016llx now on connection %u",
		  ep_str(&p->remote), (unsigned long long)sa->spi_i, c->id);
	flush_queue(d, p);
	resend_outstanding(d, p);
}

/* The daemon answered a request of the peer that came on @c */
static void answered(struct daemon *d, struct sa *sa, struct conn *c,
		     bool encrypted, bool later, long long now)
{
	bool was_known;

	if (encrypted)
		sa_set_authed(d, sa, now);
	if (!c)
		return;
	/* (RFC 9329: ESP follows the connection that earned the SA) */
	if (sa->authed)
		peer_esp_carrier(d, c);
	was_known = c->known;
	if (later && sa->authed)
		peer_conn_known(d, c);
	if (sa->bound != c->id) {
		bridge_sa_bound(d, sa, c);
	} else if (c->known && !was_known) {
		/* a known peer's connection may carry more now */
		flush_queue(d, c->peer);
		resend_outstanding(d, c->peer);
	}
}

/* Is this message waiting in the peer's queue already? */
static bool queued(const struct peer *p, const uint8_t *msg, size_t len)
{
	for (const struct qmsg *q = p->qhead; q; q = q->next)
		if (q->len == len && !memcmp(q->data, msg, len))
			return true;
	return false;
}

/* How long "fallback" stays on TCP after TCP last carried something */
static long long fallback_hold(const struct daemon *d)
{
	return (d->cfg.idle_timeout ? d->cfg.idle_timeout : 3600) * 1000LL;
}

/*
 * The daemon's answers over UDP to peers' set-ups (an IKE_SA_INIT
 * response, IKEv1 Main Mode message 2 or 4) for addresses a rule covers.
 * Such an SA may move to TCP afterwards (the peer's policy auth, or
 * fallback when the fragments of its IKE_AUTH are dropped), and its first
 * message over TCP then belongs to no SA iketcpd knows. The SPIs of the
 * answer went only to the peer's address: a connection whose first
 * message carries both is the peer's own (whoever spoofed the request
 * never saw them). A ring of the latest UDP_SETUPS, each good for
 * half-open-timeout: no SA and no peer is made for what may answer a
 * spoofed request, and a flood only overwrites the ring (daemons answer
 * floods with cookies, SPIr zero, which are not kept).
 */
#define UDP_SETUPS	1024

struct udp_setup {
	struct iketcp_ep peer;
	uint64_t spi_i;
	uint64_t spi_r;
	uint16_t lport;
	uint16_t rport;
	long long at;
};

/* The ring's entry of this answer, whatever its age, or NULL */
static struct udp_setup *udp_setup_lookup(struct daemon *d,
					  const struct iketcp_ep *peer,
					  uint64_t spi_i, uint64_t spi_r)
{
	for (unsigned int i = 0; d->udp_setups && i < UDP_SETUPS; i++) {
		struct udp_setup *u = &d->udp_setups[i];

		if (u->at && u->spi_i == spi_i && u->spi_r == spi_r &&
		    !ep_addr_cmp(&u->peer, peer))
			return u;
	}
	return NULL;
}

static void udp_setup_note(struct daemon *d, const struct iketcp_event *ev,
			   const struct iketcp_ike_hdr *h, long long now)
{
	struct udp_setup *u;

	if (!d->udp_setups) {
		d->udp_setups = calloc(UDP_SETUPS, sizeof(*d->udp_setups));
		if (!d->udp_setups)
			return;
	}
	/* (IKEv1 Main Mode 4 after 2: the same entry) */
	u = udp_setup_lookup(d, &ev->remote, h->spi_i, h->spi_r);
	if (!u)
		u = &d->udp_setups[d->udp_setup_next++ % UDP_SETUPS];
	*u = (struct udp_setup){
		.peer = ev->remote, .spi_i = h->spi_i, .spi_r = h->spi_r,
		.lport = ev->local.port, .rport = ev->remote.port, .at = now,
	};
}

/* The answer of that ring a peer's message over TCP continues, or NULL */
static const struct udp_setup *udp_setup_find(struct daemon *d,
					      const struct iketcp_ep *remote,
					      const struct iketcp_ike_hdr *h,
					      long long now)
{
	const struct udp_setup *u;

	if (!h->spi_r)
		return NULL;
	u = udp_setup_lookup(d, remote, h->spi_i, h->spi_r);
	return u && now - u->at < d->cfg.half_open_timeout * 1000LL ? u : NULL;
}

static void send_udp(struct daemon *d, const struct iketcp_event *ev,
		     struct peer *p)
{
	if (iketcp_nl_udp_send(&d->cmd, &ev->local, &ev->remote, ev->nonesp,
			       ev->msg, ev->msg_len))
		log_rl(LOG_WARNING, "sending to %s over UDP failed: %s",
		       ep_str(&ev->remote), d->cmd.err);
	if (p)
		p->stats.udp_out++;
	d->stats.to_udp++;
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
	bool response, answer, phase1, setup, same;
	uint32_t req_conn = 0;
	struct conn *c;
	enum transport t;
	struct peer *p;
	struct sa *sa;
	int ret;

	d->stats.captured++;
	if (iketcp_ike_hdr_parse(ev->msg, ev->msg_len, &h) ||
	    h.length != ev->msg_len) {
		d->stats.bad_msgs++;
		log_rl(LOG_WARNING, "captured datagram to %s is not one IKE message, dropped",
		       ep_str(&ev->remote));
		return;
	}
	phase1 = ike_is_phase1_start(&h);
	setup = ike_is_sa_setup(&h) || phase1;
	response = ike_is_v2_response(&h);
	p = peer_find(d, &ev->remote, &ev->local);
	sa = sa_find(d, &ev->remote, h.spi_i);
	if (sa && !p)
		p = sa->p;

	/* Does it answer a request of the peer that came over TCP? */
	answer = false;
	if (sa && h.major == 2 && response) {
		struct sa_req *q = req_find(sa, h.msgid);

		if (q) {
			answer = true;
			req_conn = q->conn;
		} else if (sa->fp_used) {
			/* the kernel's fast path delivered its request */
			answer = true;
			req_conn = sa->fp_conn;
		}
	} else if (sa && h.major == 1 && sa->v1_last_valid &&
		   sa->v1_last_msgid == h.msgid &&
		   sa->v1_last_exch == h.exchange) {
		answer = true;
		req_conn = sa->v1_last_conn;
	}

	/* The daemon's own SAs are tracked from their first request; one it
	 * answers over UDP without one is none of ours (a request that came
	 * over UDP, perhaps spoofed: nothing is created for it)
	 */
	if (!sa && (phase1 || (h.major == 2 && !response))) {
		if (!p)
			p = peer_get(d, &ev->remote, &ev->local);
		if (p)
			sa = sa_create(d, p, h.spi_i, h.major, SA_ACTIVE, now);
		if (sa && phase1 && p->framing == IKETCP_FRAMING_RFC9329)
			sa->own_conn = true;
	}
	/* ... but its answer to a peer's set-up may let the SA move to TCP */
	if (!sa && r && h.spi_r && ike_is_sa_setup(&h) &&
	    (h.major == 1 || response))
		udp_setup_note(d, ev, &h, now);
	if (sa) {
		sa_touch(d, sa, now);
		if (sa->lport != ev->local.port || sa->rport != ev->remote.port ||
		    (!setup && !sa->post_setup_sent))
			d->state_dirty = true;
		sa->lport = ev->local.port;
		sa->rport = ev->remote.port;
		sa->ports_known = true;
		if (!setup) {
			sa->post_setup_sent = true;
			sa->p->ports_known = true;
			sa->p->lport = ev->local.port;
			sa->p->rport = ev->remote.port;
		}
		if (h.major == 1) {
			sa->v1_out_msgid = h.msgid;
			sa->v1_out_exch = h.exchange;
			sa->v1_out_setup = setup;
			sa->v1_out_valid = true;
			if (h.exchange == IKEV1_MAIN_MODE ||
			    h.exchange == IKEV1_AGGRESSIVE) {
				if (phase1)
					sa->v1_seen_start = true;
				else if (!sa->v1_seen_start)
					sa->v1_peer_started_udp = true;
			}
		}
	}

	/* The fallback policy counts the daemon's retransmissions of a
	 * request over UDP (a digest; the request itself is not kept)
	 */
	if (r && r->policy == POL_FALLBACK && sa && p && !answer && !response) {
		uint64_t hash = digest(ev->msg, ev->msg_len);

		if (sa->udp_hash == hash && sa->udp_len == ev->msg_len) {
			sa->udp_sends++;
		} else {
			sa->udp_hash = hash;
			sa->udp_len = ev->msg_len;
			sa->udp_sends = 1;
		}
		if (sa->udp_sends - 1 >= d->cfg.retransmit_threshold &&
		    (!p->fallback_tcp || now >= p->fallback_until)) {
			p->fallback_tcp = true;
			p->fallback_until = now + fallback_hold(d);
			d->state_dirty = true;
			log_rl(LOG_NOTICE, "peer %s: %d retransmissions of a %s request unanswered over UDP, moving to TCP",
			       ep_str(&ev->remote), sa->udp_sends - 1,
			       ike_exchange_name(&h));
		}
	}

	in.policy = r ? r->policy : POL_UDP;
	in.h = &h;
	in.wire_len = ev->msg_len + (ev->nonesp ? 4 : 0) + 8 +
		      (ev->remote.family == AF_INET6 ? 40 : 20);
	in.pmtu = ev->pmtu;
	in.v2_req_via_tcp = h.major == 2 && answer;
	in.v1_peer_via_tcp = h.major == 1 && answer;
	in.v1_peer_started_udp = sa && sa->v1_peer_started_udp;
	if (p && p->fallback_tcp && now >= p->fallback_until) {
		p->fallback_tcp = false;	/* the TCP period ran out */
		d->state_dirty = true;
	}
	in.fallback_tcp = p && p->fallback_tcp;
	t = policy_decide(&in);
	log_debug("%s %s msgid %u (%zu bytes) from %s to %s: %s",
		  ike_exchange_name(&h), response ? "response" : "message",
		  h.msgid, ev->msg_len, ep_str_port(&ev->local),
		  ep_str_port(&ev->remote), transport_name(t));

	if (t == T_UDP) {
		send_udp(d, ev, p);
		return;
	}

	d->stats.to_tcp++;
	if (!p)
		p = peer_get(d, &ev->remote, &ev->local);
	if (!p)
		return;
	p->last_activity = now;
	if (p->fallback_tcp)
		p->fallback_until = now + fallback_hold(d);
	if (sa && answer) {
		struct conn *rc = peer_conn_live(d, p, req_conn);

		answered(d, sa, rc, !setup, after_auth(&h), now);
	}

	/* what has to wait for its answer: IKEv2 requests, IKEv1 messages */
	same = false;
	if (sa && (h.major == 1 || !response)) {
		same = same_out(sa, ev->msg, ev->msg_len);
		if (same) {
			sa->out_sends++;
			if ((!sa->out_conn && queued(p, ev->msg, ev->msg_len)) ||
			    (peer_conn_live(d, p, sa->out_conn) &&
			     sa->out_suppressed < SUPPRESS_MAX)) {
				/* waiting for a connection, or written on a
				 * live one: TCP delivers it
				 */
				sa->out_suppressed++;
				p->stats.suppressed++;
				log_debug("peer %s: retransmission of msgid %u not sent again",
					  ep_str(&ev->remote), h.msgid);
				return;
			}
		} else {
			/* its answer must come to us: not by the fast path */
			fastpath_before_request(d, sa);
			sa_set_out(d, sa, ev->msg, ev->msg_len, h.msgid,
				   ev->local.port, ev->remote.port);
		}
	}

	c = answer ? route_response(d, p, sa, req_conn) :
		     route_request(d, p, sa);
	ret = c ? peer_write(d, c, ev->msg, ev->msg_len) : 0;
	if (ret == 1) {
		if (same_out(sa, ev->msg, ev->msg_len)) {
			sa->out_conn = c->id;
			sa->out_suppressed = 0;
		}
		return;
	}
	if (ret < 0)
		return;
	if (!c)
		d->stats.unrouted++;
	if (peer_queue(d, p, ev->msg, ev->msg_len, h.spi_i, answer, req_conn,
		       phase1))
		return;
	if (sa && sa->own_conn) {
		if (!c && !p->next_connect)
			peer_connect(d, p, sa->spi_i);
	} else if (!c && !peer_opened(d, p) && !p->next_connect &&
		   (p->originator || !p->ever_up || phase1)) {
		peer_connect(d, p, 0);
	}
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

/* NAT detection on an unencrypted set-up message from the peer, as the
 * daemon receiving it does it (with the addresses and ports it gets)
 */
static void detect_nat(struct daemon *d, struct sa *sa,
		       const struct iketcp_event *ev,
		       const struct iketcp_ike_hdr *h, uint16_t lport,
		       uint16_t rport)
{
	struct iketcp_ep src = ev->remote, dst = ev->local;
	int nat = -1;

	src.port = rport;
	dst.port = lport;
	if (h->major == 2 && h->exchange == IKEV2_IKE_SA_INIT)
		nat = ike_v2_nat_detected(ev->msg, ev->msg_len, &src, &dst);
	else if (h->major == 1 && !(h->flags & IKEV1_FLAG_ENCRYPTION) &&
		 (h->exchange == IKEV1_MAIN_MODE ||
		  h->exchange == IKEV1_AGGRESSIVE))
		nat = ike_v1_nat_detected(ev->msg, ev->msg_len, &src, &dst);
	if (nat < 0)
		return;
	if (sa->nat != nat) {
		sa->nat = nat;
		d->state_dirty = true;
		if (nat)
			log_rl(LOG_INFO, "peer %s: NAT detected for IKE SA %016llx: it moves to UDP 4500",
			       ep_str(&ev->remote),
			       (unsigned long long)sa->spi_i);
	}
}

/* UDP-encapsulated ESP with the peer in the kernel? (cached) */
static int observe_natt(struct peer *p, long long now)
{
	if (p->natt_obs < 0 || now - p->natt_obs_at > NATT_OBS_MS) {
		p->natt_obs = xfrm_natt_with(&p->remote);
		p->natt_obs_at = now;
	}
	return p->natt_obs;
}

/* Rate limit per connection: may one more message be delivered? */
static bool rate_ok(struct daemon *d, struct conn *c, long long now)
{
	double rate = d->cfg.max_rate;

	c->tokens += (now - c->refilled) * rate / 1000;
	if (!c->nmsgs || c->tokens > 2 * rate)
		c->tokens = 2 * rate;
	c->refilled = now;
	c->nmsgs++;
	if (c->tokens < 1)
		return false;
	c->tokens -= 1;
	return true;
}

/**
 * bridge_from_tcp() - a message from a peer over TCP: deliver it to the
 *	local daemon as a UDP datagram from the peer
 * @d: daemon
 * @ev: IKETCP_CMD_MSG
 */
void bridge_from_tcp(struct daemon *d, const struct iketcp_event *ev)
{
	struct conn *c = peer_conn_by_id(d, ev->conn_id);
	struct iketcp_ep local = ev->local, remote = ev->remote;
	struct port_view v = { .observed_natt = -1 };
	const struct udp_setup *setup = NULL;
	struct iketcp_ike_hdr h;
	long long now = now_ms();
	uint16_t lport, rport;
	bool phase1, adopted = false;
	struct peer *p;
	struct sa *sa;

	d->stats.from_tcp++;
	if (!c) {
		log_debug("message on connection %u, which is not ours (any more)",
			  ev->conn_id);
		return;
	}
	c->rx_handled++;
	p = c->peer;
	if (iketcp_ike_hdr_parse(ev->msg, ev->msg_len, &h)) {
		d->stats.bad_msgs++;
		return;
	}
	phase1 = ike_is_phase1_start(&h);
	sa = sa_find(d, &ev->remote, h.spi_i);
	if (!sa && !phase1)
		setup = udp_setup_find(d, &ev->remote, &h, now);
	if (!c->originator && !c->nmsgs && !phase1 && !sa && !setup &&
	    !sa_addr_known(d, &ev->remote)) {
		/* a peer must start with an IKE SA, or be one we know */
		d->stats.first_refused++;
		log_rl(LOG_NOTICE, "peer %s: first message on its connection (%s, SPIr %llx) starts no IKE SA, from an address with no authenticated SA: closing",
		       ep_str(&ev->remote), ike_exchange_name(&h),
		       (unsigned long long)h.spi_r);
		iketcp_nl_conn_close(&d->cmd, c->id);
		return;
	}
	if (!rate_ok(d, c, now)) {
		d->stats.rate_dropped++;
		log_rl(LOG_WARNING, "peer %s: more than %d messages/s on connection %u, dropping",
		       ep_str(&ev->remote), d->cfg.max_rate, c->id);
		return;
	}
	if (!sa) {
		/* a new SA, or one we never saw set up (adopted): half-open
		 * until the daemon answers an encrypted request of it
		 */
		sa = sa_create(d, p, h.spi_i, h.major, SA_HALF_OPEN, now);
		if (!sa) {
			d->stats.half_open_refused++;
			log_rl(LOG_WARNING, "peer %s: too many IKE SAs not authenticated yet (max-half-open-per-peer %d, max-sas %d): %s not delivered",
			       ep_str(&ev->remote), d->cfg.max_half_open,
			       d->cfg.max_sas, ike_exchange_name(&h));
			return;
		}
		adopted = !phase1 && !setup;
		if (setup) {
			/* set up over UDP: the ports of the daemon's answer */
			sa->lport = setup->lport;
			sa->rport = setup->rport;
			sa->ports_known = true;
		}
	}
	peer_conn_active(d, c, now);
	p->stats.tcp_in++;
	p->stats.tcp_in_bytes += ev->msg_len;
	p->last_tcp_in = now;
	p->last_activity = now;
	sa_touch(d, sa, now);

	/* The ports, from what the daemons do (ports.c) */
	v.setup = ike_is_sa_setup(&h) || phase1;
	v.sa_known = !adopted && !(sa->state == SA_HALF_OPEN && !sa->ports_known &&
				   !phase1 && !v.setup);
	v.post_setup_sent = sa->post_setup_sent;
	v.lport = sa->lport;
	v.rport = sa->rport;
	v.nat = sa->nat;
	if (h.major == 2 && ike_is_v2_response(&h) && sa->out &&
	    h.msgid == sa->out_msgid) {
		v.mirror = true;
		v.mirror_lport = sa->out_lport;
		v.mirror_rport = sa->out_rport;
	} else if (h.major == 1 && sa->v1_out_valid && sa->ports_known &&
		   sa->v1_out_msgid == h.msgid && sa->v1_out_exch == h.exchange &&
		   sa->v1_out_setup == v.setup) {
		v.mirror = true;
		v.mirror_lport = sa->lport;
		v.mirror_rport = sa->rport;
	}
	v.peer_ports_known = p->ports_known;
	v.peer_lport = p->lport;
	v.peer_rport = p->rport;
	if (!v.sa_known && !v.mirror && !v.peer_ports_known)
		v.observed_natt = observe_natt(p, now);
	ports_for_delivery(&v, &lport, &rport);

	/* What it tells about the SA */
	if (h.major == 2) {
		if (!ike_is_v2_response(&h)) {
			req_add(sa, h.msgid, c->id, h.exchange);
		} else if (sa->out && h.msgid == sa->out_msgid) {
			/* answered; a daemon's own SA is set up with it */
			if (h.exchange == IKEV2_IKE_AUTH && sa->state == SA_ACTIVE)
				sa_set_authed(d, sa, now);
			sa_out_clear(d, sa);
			/* (a connection we opened carries its ESP) */
			if (sa->authed && c->originator)
				peer_esp_carrier(d, c);
		}
	} else {
		sa->v1_last_msgid = h.msgid;
		sa->v1_last_exch = h.exchange;
		sa->v1_last_conn = c->id;
		sa->v1_last_valid = true;
		sa_out_clear(d, sa);
		if (phase1)
			sa->v1_seen_start = true;
	}
	detect_nat(d, sa, ev, &h, lport, rport);

	local.port = lport;
	remote.port = rport;
	if (iketcp_nl_udp_inject(&d->cmd, &remote, &local, lport == 4500,
				 ev->msg, ev->msg_len, 0)) {
		d->stats.inject_errors++;
		log_rl(LOG_WARNING, "delivering a message from %s to the daemon failed: %s",
		       ep_str_port(&remote), d->cmd.err);
		return;
	}
	d->stats.injected++;
	fastpath_consider(d, c, sa, &h, lport, rport);
	log_debug("%s %s msgid %u (%zu bytes) from %s over TCP delivered to %s",
		  ike_exchange_name(&h),
		  ike_is_v2_response(&h) ? "response" : "message", h.msgid,
		  ev->msg_len, ep_str_port(&remote), ep_str_port(&local));
	if (!daemon_listening(lport))
		log_rl(LOG_WARNING, "no IKE daemon is listening on UDP port %u: messages from peers are dropped",
		       lport);
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
 * bridge_peer_known() - does an authenticated IKE SA run with this
 *	address?
 * @d: daemon
 * @remote: the peer's address (port ignored)
 *
 * TCP cannot be spoofed: a connection from such an address is the peer
 * itself (reconnecting, or keeping a standby connection), even when its
 * first message belongs to an IKE SA we never saw set up (an IKEv2 SA
 * rekeyed: its new SPIs travel encrypted).
 *
 * Return: true if so.
 */
bool bridge_peer_known(struct daemon *d, const struct iketcp_ep *remote)
{
	return sa_addr_known(d, remote);
}

/**
 * bridge_gc() - forget IKE SAs past their time (sa.c)
 * @d: daemon
 * @now: current time (ms)
 */
void bridge_gc(struct daemon *d, long long now)
{
	sa_gc(d, now);
}

/**
 * bridge_free() - forget every SA
 * @d: daemon
 */
void bridge_free(struct daemon *d)
{
	sa_free_all(d);
	free(d->udp_setups);
	d->udp_setups = NULL;
}
