// SPDX-License-Identifier: GPL-2.0
/*
 * fastpath.c - which IKE SAs the kernel delivers to the daemon by itself
 * (IKETCP_CMD_FASTPATH_ADD), so that their messages skip the round trip
 * through iketcpd.
 *
 * An SA qualifies once it is established (an IKEv2 message with both SPIs
 * that is not IKE_SA_INIT or IKE_AUTH) on a peer whose policy sends
 * everything over TCP, while no request of ours on it waits for an
 * answer: iketcpd must see that answer to stop resending the request
 * after a reconnect. So the entry ends (IKETCP_CMD_FASTPATH_DEL) before
 * our daemon's next request is sent, and comes back with the answer.
 *
 * The kernel only starts an entry once iketcpd has handled every message
 * of the connection it was handed (the SA's messages stay in order), so
 * entries are requested when the notification socket is drained
 * (fastpath_flush()), and asked for again while the kernel says -EAGAIN.
 * With -EAGAIN the kernel stops reading the connection until it is asked
 * again, so the next drain finds iketcpd caught up: a peer that floods
 * its connection cannot keep its SA from being handed over.
 * An entry the kernel ended by itself (a message over the connection's
 * rate, or one it could not deliver) shows as a message of the SA
 * reaching iketcpd again: it is requested anew.
 *
 * The daemon's responses follow their requests (policy.c): a request of
 * an SA the kernel delivers never reaches iketcpd, so once an SA went to
 * the kernel its unseen requests count as having come over TCP (the SA's
 * peer has policy tcp: everything of it comes over TCP).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

struct fp_pending {
	uint32_t conn_id;
	struct iketcp_ep peer;
	uint64_t spi_i;
};

static bool fp_wanted(const struct sa *sa, const struct conn *c)
{
	return !sa->out && sa->fp_conn != c->id && sa->fp_refused != c->id;
}

/**
 * fastpath_consider() - an SA's message from a peer was delivered: hand
 *	the SA's next messages to the kernel if it qualifies
 * @d: daemon
 * @c: the connection it came on
 * @sa: its IKE SA
 * @h: its header
 * @lport: the daemon's port it was delivered to
 * @rport: the peer's port it was delivered from
 */
void fastpath_consider(struct daemon *d, struct conn *c, struct sa *sa,
		       const struct iketcp_ike_hdr *h, uint16_t lport,
		       uint16_t rport)
{
	const struct cfg_rule *r;
	struct fp_pending *e;

	if (sa->fp_conn == c->id && h->spi_r == sa->fp_spi_r) {
		/* the kernel ended the entry and handed us this message */
		sa->fp_conn = 0;
		d->stats.fast_ended++;
	}
	if (!d->cfg.fast_path || !c->id || h->major != 2 || !h->spi_r ||
	    h->exchange == IKEV2_IKE_SA_INIT || h->exchange == IKEV2_IKE_AUTH ||
	    sa->fp_queued || !fp_wanted(sa, c))
		return;
	r = config_lookup(&d->cfg, &c->peer->remote);
	if (!r || r->policy != POL_TCP)
		return;
	if (d->nfp_pending == d->fp_pending_cap) {
		int cap = d->fp_pending_cap ? 2 * d->fp_pending_cap : 16;
		void *n = realloc(d->fp_pending, cap * sizeof(*e));

		if (!n)
			return;
		d->fp_pending = n;
		d->fp_pending_cap = cap;
	}
	e = &((struct fp_pending *)d->fp_pending)[d->nfp_pending++];
	e->conn_id = c->id;
	e->peer = sa->peer;
	e->spi_i = sa->spi_i;
	sa->fp_queued = true;
	sa->fp_spi_r = h->spi_r;
	sa->fp_lport = lport;
	sa->fp_rport = rport;
}

/**
 * fastpath_flush() - request the entries waiting (notification socket
 *	just drained)
 * @d: daemon
 */
void fastpath_flush(struct daemon *d)
{
	struct fp_pending *pend = d->fp_pending;
	int kept = 0;

	for (int i = 0; i < d->nfp_pending; i++) {
		struct fp_pending *e = &pend[i];
		struct conn *c = peer_conn_by_id(d, e->conn_id);
		struct sa *sa = sa_find(d, &e->peer, e->spi_i);
		struct iketcp_fastpath_req req;
		int err;

		if (!sa)
			continue;
		if (!c || !fp_wanted(sa, c)) {
			sa->fp_queued = false;
			continue;
		}
		req = (struct iketcp_fastpath_req){
			.conn_id = c->id,
			.spi_i = sa->spi_i,
			.spi_r = sa->fp_spi_r,
			.lport = sa->fp_lport,
			.rport = sa->fp_rport,
			.nonesp = sa->fp_lport == 4500,
			.max_rate = d->cfg.max_rate,
			.rx_seq = c->rx_handled,
		};
		err = iketcp_nl_fastpath_add(&d->cmd, &req);
		if (err == -EAGAIN) {
			pend[kept++] = *e;	/* messages still on their way */
			continue;
		}
		sa->fp_queued = false;
		if (err) {
			sa->fp_refused = c->id;
			log_rl(LOG_INFO, "conn %u: no fast path for IKE SA %llx: %s",
			       c->id, (unsigned long long)sa->spi_i,
			       d->cmd.err[0] ? d->cmd.err : strerror(-err));
			continue;
		}
		sa->fp_conn = c->id;
		if (!sa->fp_used)
			d->stats.fast_sas++;
		sa->fp_used = true;
		d->stats.fast_added++;
		log_debug("conn %u: IKE SA %llx/%llx now delivered by the kernel",
			  c->id, (unsigned long long)sa->spi_i,
			  (unsigned long long)sa->fp_spi_r);
	}
	d->nfp_pending = kept;
}

/**
 * fastpath_before_request() - our daemon sends a request on an SA: its
 *	answer must reach iketcpd, so the SA's entry ends first
 * @d: daemon
 * @sa: the SA
 */
void fastpath_before_request(struct daemon *d, struct sa *sa)
{
	int err;

	if (!sa->fp_conn)
		return;
	err = iketcp_nl_fastpath_del(&d->cmd, sa->fp_conn, sa->spi_i,
				     sa->fp_spi_r);
	if (err && err != -ENOENT)
		log_rl(LOG_WARNING, "conn %u: ending the fast path of IKE SA %llx: %s",
		       sa->fp_conn, (unsigned long long)sa->spi_i, d->cmd.err);
	sa->fp_conn = 0;
	d->stats.fast_ended++;
}

/**
 * fastpath_live() - does the kernel deliver this SA's messages now?
 * @d: daemon
 * @sa: the SA
 *
 * Return: true while its entry's connection lives (iketcpd then does not
 * see the SA's traffic, and must not take it for idle).
 */
bool fastpath_live(struct daemon *d, const struct sa *sa)
{
	return sa->fp_conn && peer_conn_by_id(d, sa->fp_conn);
}

/**
 * fastpath_free() - forget the pending requests
 * @d: daemon
 */
void fastpath_free(struct daemon *d)
{
	free(d->fp_pending);
	d->fp_pending = NULL;
	d->nfp_pending = 0;
	d->fp_pending_cap = 0;
}
