// SPDX-License-Identifier: GPL-2.0
/*
 * sa.c - the IKE SAs iketcpd tracks, with bounded state:
 *
 * - an SA a peer starts over TCP (its IKE_SA_INIT, IKEv1 Main/Aggressive
 *   Mode message 1), or over UDP and continued over TCP with the SPIs of
 *   the local daemon's answer (bridge.c), is half-open until the local
 *   daemon answers an encrypted exchange of it (IKE_AUTH, IKEv1 Main
 *   Mode 5/6: whoever sent it holds the SA's keys): at most
 *   max-half-open-per-peer of them per peer, forgotten after
 *   half-open-timeout (a flood of fresh SPIs costs a bounded table for a
 *   minute, not a day of memory), never written to the state file;
 * - an SA the daemon started itself, or one authenticated so, is active:
 *   forgotten after sa-timeout without a message; at most max-sas in all,
 *   the least recently seen active one makes room;
 * - expiry walks two lists kept in the order the SAs were last seen, so a
 *   collection costs what it frees, never a walk over every SA;
 * - SA state changes mark the state file dirty (state.c writes it then).
 */
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "daemon.h"
#include "log.h"

/* How many SAs, and authenticated ones, each peer address has */
struct sa_addr {
	struct iketcp_ep addr;
	unsigned int n;
	unsigned int authed;
};

static int sa_cmp(const void *a, const void *b)
{
	const struct sa *x = a, *y = b;

	if (x->spi_i != y->spi_i)
		return x->spi_i < y->spi_i ? -1 : 1;
	return ep_addr_cmp(&x->peer, &y->peer);
}

static int sa_addr_cmp(const void *a, const void *b)
{
	return ep_addr_cmp(&((const struct sa_addr *)a)->addr,
			   &((const struct sa_addr *)b)->addr);
}

static struct sa_addr *sa_addr_of(struct daemon *d,
				  const struct iketcp_ep *peer, bool create)
{
	struct sa_addr key = { .addr = *peer }, *a, **found;

	key.addr.port = 0;
	found = tfind(&key, &d->sa_addrs, sa_addr_cmp);
	if (found || !create)
		return found ? *found : NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	*a = key;
	if (!tsearch(a, &d->sa_addrs, sa_addr_cmp)) {
		free(a);
		return NULL;
	}
	return a;
}

static void sa_addr_put(struct daemon *d, const struct sa *sa)
{
	struct sa_addr *a = sa_addr_of(d, &sa->peer, false);

	if (!a)
		return;
	if (sa->authed && a->authed)
		a->authed--;
	if (--a->n)
		return;
	tdelete(a, &d->sa_addrs, sa_addr_cmp);
	free(a);
}

static void lru_unlink(struct sa_list *l, struct sa *sa)
{
	if (sa->lru_prev)
		sa->lru_prev->lru_next = sa->lru_next;
	else
		l->head = sa->lru_next;
	if (sa->lru_next)
		sa->lru_next->lru_prev = sa->lru_prev;
	else
		l->tail = sa->lru_prev;
	sa->lru_prev = sa->lru_next = NULL;
	l->n--;
}

static void lru_append(struct sa_list *l, struct sa *sa)
{
	sa->lru_next = NULL;
	sa->lru_prev = l->tail;
	if (l->tail)
		l->tail->lru_next = sa;
	else
		l->head = sa;
	l->tail = sa;
	l->n++;
}

/**
 * sa_find() - the SA of a peer address and initiator SPI
 * @d: daemon
 * @peer: the peer's address (port ignored)
 * @spi_i: initiator SPI
 *
 * Return: the SA or NULL.
 */
struct sa *sa_find(struct daemon *d, const struct iketcp_ep *peer,
		   uint64_t spi_i)
{
	struct sa key = { .spi_i = spi_i, .peer = *peer }, **found;

	found = tfind(&key, &d->sas, sa_cmp);
	return found ? *found : NULL;
}

/**
 * sa_destroy() - forget an SA
 * @d: daemon
 * @sa: the SA
 */
void sa_destroy(struct daemon *d, struct sa *sa)
{
	tdelete(sa, &d->sas, sa_cmp);
	lru_unlink(&d->sa_lru[sa->state], sa);
	sa_addr_put(d, sa);
	sa_out_clear(d, sa);
	sa->p->nsas--;
	if (sa->state == SA_HALF_OPEN)
		sa->p->nhalf--;
	else
		d->state_dirty = true;
	d->nsas--;
	free(sa);
}

/**
 * sa_create() - start tracking an SA
 * @d: daemon
 * @p: its peer
 * @spi_i: initiator SPI
 * @major: IKE version
 * @state: SA_HALF_OPEN (the peer's first message) or SA_ACTIVE (the daemon
 *	started it)
 * @now: current time (ms)
 *
 * A half-open SA beyond max-half-open-per-peer, or when max-sas are
 * tracked and none of them is active, is refused; an active one makes
 * room by forgetting the least recently seen active SA.
 *
 * Return: the SA, or NULL (refused, or no memory).
 */
struct sa *sa_create(struct daemon *d, struct peer *p, uint64_t spi_i,
		     uint8_t major, enum sa_state state, long long now)
{
	struct sa *sa;
	struct sa_addr *a;

	if (state == SA_HALF_OPEN && p->nhalf >= d->cfg.max_half_open)
		return NULL;
	if (d->nsas >= d->cfg.max_sas) {
		struct sa *victim = d->sa_lru[SA_ACTIVE].head;

		if (state == SA_HALF_OPEN || !victim)
			return NULL;
		d->stats.sas_evicted++;
		log_rl(LOG_NOTICE, "%d IKE SAs tracked (max-sas): forgetting the least recently seen one, with %s",
		       d->nsas, ep_str(&victim->peer));
		sa_destroy(d, victim);
	}
	sa = calloc(1, sizeof(*sa));
	if (!sa)
		return NULL;
	sa->spi_i = spi_i;
	sa->peer = p->remote;
	sa->peer.port = 0;
	sa->local = p->local;
	sa->local.port = 0;
	sa->p = p;
	sa->major = major;
	sa->state = state;
	sa->nat = -1;
	sa->last_seen = now;
	a = sa_addr_of(d, &sa->peer, true);
	if (!a || !tsearch(sa, &d->sas, sa_cmp)) {
		if (a && !a->n) {
			tdelete(a, &d->sa_addrs, sa_addr_cmp);
			free(a);
		}
		free(sa);
		return NULL;
	}
	a->n++;
	lru_append(&d->sa_lru[state], sa);
	p->nsas++;
	if (state == SA_HALF_OPEN)
		p->nhalf++;
	else
		d->state_dirty = true;
	d->nsas++;
	return sa;
}

/**
 * sa_touch() - a message of the SA was seen
 * @d: daemon
 * @sa: the SA
 * @now: current time (ms)
 */
void sa_touch(struct daemon *d, struct sa *sa, long long now)
{
	struct sa_list *l = &d->sa_lru[sa->state];

	sa->last_seen = now;
	if (l->tail != sa) {
		lru_unlink(l, sa);
		lru_append(l, sa);
	}
}

static void sa_activate(struct daemon *d, struct sa *sa, long long now)
{
	if (sa->state == SA_ACTIVE)
		return;
	lru_unlink(&d->sa_lru[SA_HALF_OPEN], sa);
	sa->p->nhalf--;
	sa->state = SA_ACTIVE;
	sa->last_seen = now;
	lru_append(&d->sa_lru[SA_ACTIVE], sa);
	d->state_dirty = true;
}

/**
 * sa_set_authed() - an encrypted exchange of the SA was answered: whoever
 *	sent it holds the SA's keys, its address is a known peer, a
 *	half-open SA becomes active
 * @d: daemon
 * @sa: the SA
 * @now: current time (ms)
 */
void sa_set_authed(struct daemon *d, struct sa *sa, long long now)
{
	struct sa_addr *a;

	if (sa->authed)
		return;
	sa_activate(d, sa, now);
	sa->authed = true;
	a = sa_addr_of(d, &sa->peer, false);
	if (a)
		a->authed++;
	d->state_dirty = true;
}

/**
 * sa_set_out() - remember the daemon's outstanding request over TCP (to
 *	resend it on a new connection and to see its answer)
 * @d: daemon
 * @sa: the SA
 * @msg: the request
 * @len: its length
 * @msgid: its message id
 * @lport: the daemon's port it was sent from
 * @rport: the peer's port it was sent to
 */
void sa_set_out(struct daemon *d, struct sa *sa, const uint8_t *msg,
		size_t len, uint32_t msgid, uint16_t lport, uint16_t rport)
{
	uint8_t *copy = malloc(len);
	struct peer *p = sa->p;

	if (!copy)
		return;
	sa_out_clear(d, sa);
	memcpy(copy, msg, len);
	sa->out = copy;
	sa->out_len = len;
	sa->out_msgid = msgid;
	sa->out_lport = lport;
	sa->out_rport = rport;
	sa->out_sends = 1;
	sa->out_suppressed = 0;
	sa->out_conn = 0;
	sa->out_prev = NULL;
	sa->out_next = p->out_head;
	if (p->out_head)
		p->out_head->out_prev = sa;
	p->out_head = sa;
	p->nout++;
	d->nout++;
}

/**
 * sa_out_clear() - the outstanding request was answered (or replaced)
 * @d: daemon
 * @sa: the SA
 */
void sa_out_clear(struct daemon *d, struct sa *sa)
{
	struct peer *p = sa->p;

	if (!sa->out)
		return;
	if (sa->out_prev)
		sa->out_prev->out_next = sa->out_next;
	else
		p->out_head = sa->out_next;
	if (sa->out_next)
		sa->out_next->out_prev = sa->out_prev;
	sa->out_prev = sa->out_next = NULL;
	p->nout--;
	d->nout--;
	free(sa->out);
	sa->out = NULL;
	sa->out_len = 0;
	sa->out_conn = 0;
	sa->out_sends = 0;
	sa->out_suppressed = 0;
}

/**
 * sa_gc() - forget half-open SAs older than half-open-timeout and active
 *	ones not seen for sa-timeout (the kernel's fast path may deliver an
 *	SA's messages without iketcpd seeing them: those are kept while
 *	their connection lives)
 * @d: daemon
 * @now: current time (ms)
 */
void sa_gc(struct daemon *d, long long now)
{
	long long limit[2] = {
		[SA_HALF_OPEN] = d->cfg.half_open_timeout * 1000LL,
		[SA_ACTIVE] = d->cfg.sa_timeout * 1000LL,
	};

	for (int s = 0; s < 2; s++) {
		struct sa *sa;

		while ((sa = d->sa_lru[s].head) &&
		       now - sa->last_seen > limit[s]) {
			if (fastpath_live(d, sa)) {
				sa_touch(d, sa, now);
				continue;
			}
			if (s == SA_ACTIVE)
				d->stats.sas_expired++;
			sa_destroy(d, sa);
		}
	}
}

/**
 * sa_addr_known() - does an authenticated IKE SA run with this address?
 * @d: daemon
 * @remote: the address (port ignored)
 *
 * Return: true if so (a connection from there is a known peer's).
 */
bool sa_addr_known(struct daemon *d, const struct iketcp_ep *remote)
{
	struct sa_addr *a = sa_addr_of(d, remote, false);

	return a && a->authed;
}

struct sa_walk {
	void (*fn)(struct sa *sa, void *arg);
	void *arg;
};

static void sa_walk_cb(const void *node, VISIT v, void *closure)
{
	struct sa_walk *w = closure;

	if (v == postorder || v == leaf)
		w->fn(*(struct sa *const *)node, w->arg);
}

/**
 * sa_for_each() - call @fn for every SA (it must not add or remove SAs)
 * @d: daemon
 * @fn: the function
 * @arg: passed to @fn
 */
void sa_for_each(struct daemon *d, void (*fn)(struct sa *sa, void *arg),
		 void *arg)
{
	struct sa_walk w = { .fn = fn, .arg = arg };

	twalk_r(d->sas, sa_walk_cb, &w);
}

static void sa_free_node(void *node)
{
	struct sa *sa = node;

	free(sa->out);
	free(sa);
}

/**
 * sa_free_all() - forget every SA (at exit)
 * @d: daemon
 */
void sa_free_all(struct daemon *d)
{
	tdestroy(d->sas, sa_free_node);
	d->sas = NULL;
	tdestroy(d->sa_addrs, free);
	d->sa_addrs = NULL;
	memset(d->sa_lru, 0, sizeof(d->sa_lru));
	d->nsas = 0;
	d->nout = 0;
}
