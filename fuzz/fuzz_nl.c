// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_nl.c - libFuzzer target for the decoding of the module's
 * notifications (userspace/nl.c: iketcp_nl_parse(), and the walk over a
 * datagram of them that iketcp_nl_recv()/iketcp_nl_drain() do).
 *
 * Input: a datagram as the kernel would send it to the helper: netlink
 * messages back to back (nlmsghdr, genlmsghdr, attributes); messages of
 * type FAMILY are the iketcp family's.
 *
 * Each input is used twice, each time in a buffer of its exact size (so
 * that AddressSanitizer sees any read past it):
 * - as one message: nlmsg_len set to the input's size, decoded by
 *   iketcp_nl_parse();
 * - as a datagram: walked as iketcp_nl_recv() walks one (handed over as
 *   the notifications kept aside while a request waited, which it reads
 *   first, without a socket), every event checked in the callback.
 *
 * Checks, against an independent decoding of the messages (attribute by
 * attribute, each scalar attribute of its exact size or ignored, the last
 * valid one of a type wins, one to eight IKETCP_A_MSG attributes
 * concatenated):
 * - a message shorter than the generic netlink header, or not a multiple
 *   of 4 bytes long (attributes end on 4-byte boundaries), is refused with
 *   -EBADMSG, as is one with more than 8 message attributes;
 * - every field of the event is the model's: command, connection id,
 *   inode, state, framing, reason, errno, flags, MTU, prefix length,
 *   capture, both end points (family, address, port), the counters;
 * - the IKE message is inside the input (one attribute) or in the scratch
 *   buffer (several), within its bounds, with the model's bytes;
 * - the walk: the callback sees the family's messages in order until the
 *   first error, a non-zero NLMSG_ERROR or NLMSG_DONE; other types are
 *   skipped; the return value is the count or the error (an NLMSG_ERROR's
 *   code if it is a negative errno, else -EPROTO); the error text is
 *   NUL-terminated; nothing stays stashed.
 * Any violation abort()s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nl.h"

#define FUZZ_NAME "fuzz_nl"
#include "fuzz.h"

#define FAMILY 0x1d

/* ---- the model ---- */

enum kind { K_ANY, K_U8, K_U16, K_U32, K_U64, K_FLAG, K_NEST };

/* the attribute types of enum iketcp_attr that the client validates */
static enum kind kind_of(unsigned int type)
{
	switch (type) {
	case IKETCP_A_CONN_ID:
	case IKETCP_A_ERRNO:
	case IKETCP_A_PMTU:
	case IKETCP_A_MAX_MSG_LEN:
	case IKETCP_A_FIRST_MSG_TIMEOUT:
	case IKETCP_A_HELPER_PORTID:
		return K_U32;
	case IKETCP_A_CONN_INODE:
		return K_U64;
	case IKETCP_A_CONN_STATE:
	case IKETCP_A_FRAMING:
	case IKETCP_A_REASON:
	case IKETCP_A_PREFIXLEN:
	case IKETCP_A_CAPTURE:
		return K_U8;
	case IKETCP_A_LOCAL_PORT:
	case IKETCP_A_REMOTE_PORT:
		return K_U16;
	case IKETCP_A_TRUNCATED:
	case IKETCP_A_NONESP:
		return K_FLAG;
	case IKETCP_A_STATS:
	case IKETCP_A_NETNS_STATS:
		return K_NEST;
	}
	return K_ANY;
}

static bool kind_ok(enum kind k, size_t len)
{
	switch (k) {
	case K_U8:
		return len == 1;
	case K_U16:
		return len == 2;
	case K_U32:
		return len == 4;
	case K_U64:
		return len == 8;
	case K_FLAG:
		return len == 0;
	case K_NEST:
		return len == 0 || len >= 4;
	default:
		return true;
	}
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

struct attr {
	const uint8_t *data;
	size_t len;
};

/* Walk the attributes in [p, p + len): calls fn for each whole one */
static int walk_attrs(const uint8_t *p, size_t len,
		      int (*fn)(unsigned int type, struct attr a, void *arg),
		      void *arg)
{
	size_t off = 0;

	while (len - off >= 4) {
		size_t alen = rd16(p + off);
		int ret;

		if (alen < 4 || alen > len - off)
			break;
		ret = fn(rd16(p + off + 2) & NLA_TYPE_MASK,
			 (struct attr){ p + off + 4, alen - 4 }, arg);
		if (ret)
			return ret;
		off += (alen + 3) & ~3u;
		if (off > len)
			break;
	}
	return 0;
}

struct m_msg {
	int err;		/* 0 or what the parser must return */
	struct attr tb[IKETCP_A_MAX + 1];
	bool has[IKETCP_A_MAX + 1];
	struct attr msg[8];
	int nmsg;
	uint64_t stats[IKETCP_STAT_MAX + 1];
};

static int m_stat(unsigned int type, struct attr a, void *arg)
{
	struct m_msg *m = arg;

	if (type >= 1 && type <= IKETCP_STAT_MAX && type != IKETCP_STAT_PAD &&
	    a.len == 8)
		m->stats[type] = rd64(a.data);
	return 0;
}

static int m_attr(unsigned int type, struct attr a, void *arg)
{
	struct m_msg *m = arg;

	if (type > IKETCP_A_MAX || !kind_ok(kind_of(type), a.len))
		return 0;
	if (type == IKETCP_A_MSG) {
		if (m->nmsg == 8)
			return -EBADMSG;
		m->msg[m->nmsg++] = a;
	}
	m->tb[type] = a;
	m->has[type] = true;
	return 0;
}

static void model_parse(const uint8_t *msg, size_t len, struct m_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < NLMSG_HDRLEN + GENL_HDRLEN || len % 4) {
		m->err = -EBADMSG;
		return;
	}
	m->err = walk_attrs(msg + NLMSG_HDRLEN + GENL_HDRLEN,
			    len - NLMSG_HDRLEN - GENL_HDRLEN, m_attr, m);
	if (m->err)
		return;
	if (m->has[IKETCP_A_STATS])
		walk_attrs(m->tb[IKETCP_A_STATS].data, m->tb[IKETCP_A_STATS].len,
			   m_stat, m);
	if (m->nmsg > 1) {
		size_t total = 0;

		for (int i = 0; i < m->nmsg; i++)
			total += m->msg[i].len;
		if (total > IKETCP_NL_BUFSZ)
			m->err = -EMSGSIZE;
	}
}

static void check_ep(const char *what, const struct m_msg *m, int t4, int t6,
		     int tport, const struct iketcp_ep *ep)
{
	int family = 0;
	const uint8_t *a = NULL;

	if (m->has[t4] && m->tb[t4].len == 4) {
		family = AF_INET;
		a = m->tb[t4].data;
	} else if (m->has[t6] && m->tb[t6].len == 16) {
		family = AF_INET6;
		a = m->tb[t6].data;
	}
	CHECK(ep->family == family, "%s: family %d, model %d", what,
	      ep->family, family);
	if (a)
		CHECK(!memcmp(&ep->addr, a, family == AF_INET ? 4 : 16),
		      "%s: address", what);
	else
		CHECK(!memcmp(&ep->addr, &(struct iketcp_ep){}.addr,
			      sizeof(ep->addr)), "%s: address without one", what);
	CHECK(ep->port == (m->has[tport] ? rd16(m->tb[tport].data) : 0),
	      "%s: port %u", what, ep->port);
}

static uint64_t scalar(const struct m_msg *m, int type)
{
	const struct attr *a = &m->tb[type];

	if (!m->has[type])
		return 0;
	switch (a->len) {
	case 1:
		return a->data[0];
	case 2:
		return rd16(a->data);
	case 4:
		return rd32(a->data);
	default:
		return rd64(a->data);
	}
}

static uint8_t *scratch;

/* An event against the model of its message (@msg, @len bytes) */
static void check_event(const struct iketcp_event *ev, const uint8_t *msg,
			size_t len, const struct m_msg *m)
{
	CHECK(ev->cmd == msg[NLMSG_HDRLEN], "cmd %u, message %u", ev->cmd,
	      msg[NLMSG_HDRLEN]);
	CHECK(ev->conn_id == scalar(m, IKETCP_A_CONN_ID), "conn_id %u",
	      ev->conn_id);
	CHECK(ev->ino == scalar(m, IKETCP_A_CONN_INODE), "ino");
	CHECK(ev->state == scalar(m, IKETCP_A_CONN_STATE), "state");
	CHECK(ev->framing == scalar(m, IKETCP_A_FRAMING), "framing");
	CHECK(ev->reason == scalar(m, IKETCP_A_REASON), "reason");
	CHECK(ev->sk_errno == scalar(m, IKETCP_A_ERRNO), "errno");
	CHECK(ev->pmtu == scalar(m, IKETCP_A_PMTU), "pmtu");
	CHECK(ev->prefixlen == scalar(m, IKETCP_A_PREFIXLEN), "prefixlen");
	CHECK(ev->capture == scalar(m, IKETCP_A_CAPTURE), "capture");
	CHECK(ev->truncated == m->has[IKETCP_A_TRUNCATED], "truncated");
	CHECK(ev->nonesp == m->has[IKETCP_A_NONESP], "nonesp");
	check_ep("local", m, IKETCP_A_LOCAL_IPV4, IKETCP_A_LOCAL_IPV6,
		 IKETCP_A_LOCAL_PORT, &ev->local);
	check_ep("remote", m, IKETCP_A_REMOTE_IPV4, IKETCP_A_REMOTE_IPV6,
		 IKETCP_A_REMOTE_PORT, &ev->remote);
	CHECK(ev->has_stats == m->has[IKETCP_A_STATS], "has_stats");
	CHECK(!memcmp(ev->stats, m->stats, sizeof(m->stats)), "stats");

	if (!m->nmsg) {
		CHECK(!ev->msg && !ev->msg_len, "a message without IKETCP_A_MSG");
	} else if (m->nmsg == 1) {
		CHECK(ev->msg == m->msg[0].data && ev->msg_len == m->msg[0].len,
		      "message at %td (%zu bytes), model %td (%zu)",
		      ev->msg - msg, ev->msg_len, m->msg[0].data - msg,
		      m->msg[0].len);
		CHECK(ev->msg >= msg + NLMSG_HDRLEN + GENL_HDRLEN &&
		      ev->msg + ev->msg_len <= msg + len,
		      "message outside the netlink message");
	} else {
		size_t off = 0;

		CHECK(ev->msg == scratch, "reassembled message not in scratch");
		for (int i = 0; i < m->nmsg; i++) {
			CHECK(off + m->msg[i].len <= ev->msg_len &&
			      !memcmp(ev->msg + off, m->msg[i].data, m->msg[i].len),
			      "reassembled message: chunk %d", i);
			off += m->msg[i].len;
		}
		CHECK(off == ev->msg_len && off <= IKETCP_NL_BUFSZ,
		      "reassembled %zu bytes, model %zu", ev->msg_len, off);
	}
}

/* ---- the walk ---- */

struct walk {
	const uint8_t *buf;
	size_t len;
	/* the model's family messages, in order */
	size_t off[64];
	int n;
	int seen;
};

static int walk_cb(const struct iketcp_event *ev, void *arg)
{
	struct walk *w = arg;
	const uint8_t *msg;
	struct m_msg m;
	size_t len;

	CHECK(w->seen < w->n, "event %d, model %d", w->seen, w->n);
	msg = w->buf + w->off[w->seen++];
	len = rd32(msg);
	model_parse(msg, len, &m);
	CHECK(!m.err, "an event of a message the model refuses (%d)", m.err);
	check_event(ev, msg, len, &m);
	return 0;
}

/* The model's walk: the family's messages it hands out, and the result */
static int model_walk(struct walk *w)
{
	size_t off = 0;

	w->n = 0;
	while (off <= w->len && w->len - off >= NLMSG_HDRLEN) {
		const uint8_t *p = w->buf + off;
		uint32_t len = rd32(p);
		uint16_t type = rd16(p + 4);

		if (len < NLMSG_HDRLEN || len > w->len - off)
			break;
		if (type == NLMSG_ERROR) {
			int32_t e;

			if (len < NLMSG_HDRLEN + sizeof(struct nlmsgerr))
				return -EBADMSG;
			e = (int32_t)rd32(p + NLMSG_HDRLEN);
			if (e)	/* (one that is not an errno: -EPROTO) */
				return e < 0 && e >= -4095 ? e : -EPROTO;
		} else if (type == NLMSG_DONE) {
			return w->n;
		} else if (type == FAMILY) {
			struct m_msg m;

			model_parse(p, len, &m);
			if (m.err)
				return m.err;
			if (w->n == (int)(sizeof(w->off) / sizeof(*w->off)))
				return -1;	/* too many for the model */
			w->off[w->n++] = off;
		}
		off += (len + 3) & ~3u;
	}
	return w->n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iketcp_event ev;
	struct iketcp_nl nl;
	struct walk w;
	struct m_msg m;
	uint8_t *buf;
	int ret, expect;

	if (!scratch) {
		scratch = malloc(IKETCP_NL_BUFSZ);
		CHECK(scratch, "out of memory");
	}

	/* one message, nlmsg_len fixed up to the input's size */
	if (size >= NLMSG_HDRLEN && size <= UINT32_MAX) {
		uint32_t len = size;

		buf = malloc(size);
		CHECK(buf, "out of memory");
		memcpy(buf, data, size);
		memcpy(buf, &len, 4);
		model_parse(buf, size, &m);
		memset(&ev, 0x5a, sizeof(ev));
		ret = iketcp_nl_parse((const struct nlmsghdr *)buf, &ev, scratch);
		CHECK(ret == m.err, "iketcp_nl_parse returned %d, model %d", ret,
		      m.err);
		if (!ret)
			check_event(&ev, buf, size, &m);
		free(buf);
	}

	/* a datagram of messages, as the helper's receive walks it */
	if (!size)
		return 0;
	buf = malloc(size);
	CHECK(buf, "out of memory");
	memcpy(buf, data, size);
	w.buf = buf;
	w.len = size;
	w.seen = 0;
	expect = model_walk(&w);
	if (expect == -1)
		goto out;
	memset(&nl, 0, sizeof(nl));
	nl.family = FAMILY;
	nl.scratch = scratch;
	nl.stash = malloc(size);
	CHECK(nl.stash, "out of memory");
	memcpy(nl.stash, buf, size);
	nl.stash_len = size;
	/* (the events point into the stash, freed after the walk) */
	w.buf = nl.stash;
	ret = iketcp_nl_recv(&nl, false, walk_cb, &w);
	CHECK(ret == expect, "iketcp_nl_recv returned %d, model %d", ret,
	      expect);
	CHECK(w.seen == w.n, "%d events, model %d", w.seen, w.n);
	CHECK(!nl.stash && !nl.stash_len && !iketcp_nl_pending(&nl),
	      "notifications left in the stash");
	CHECK(memchr(nl.err, 0, sizeof(nl.err)), "error text not terminated");
out:
	free(buf);
	return 0;
}
