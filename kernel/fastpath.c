// SPDX-License-Identifier: GPL-2.0
/*
 * fastpath.c - in-kernel delivery of an established IKE SA's messages: the
 * helper names (IKETCP_CMD_FASTPATH_ADD) the SAs of a connection whose
 * messages need nothing from it, and the receive side injects those
 * straight into the local daemon, saving the round trip through the
 * helper (notification, UDP_INJECT request and its answer).
 *
 * Order: an entry only starts once the helper has handled every message
 * the connection handed it (IKETCP_A_RX_SEQ), and ends at the first
 * message it cannot deliver (which then goes to the helper), so messages
 * of one SA reach the daemon in the order received.
 *
 * Hand-over: a request that comes while messages are still on their way
 * to the helper is refused (-EAGAIN), and the connection is no longer read
 * (iketcp_conn::fp_wait): the helper's backlog of it can only shrink, and
 * its next request, once drained, finds it caught up. So a connection that
 * a peer floods is handed over as surely as an idle one. The pause ends
 * with that request, with an entry ended, or after IKETCP_FASTPATH_WAIT_MS.
 *
 * The table lives under the socket lock: the receive side runs with it
 * (strparser), the netlink requests take it.
 */
#include <linux/slab.h>
#include <net/sock.h>

#include "iketcp.h"

struct iketcp_fastpath_entry {
	u64 spi_i;
	u64 spi_r;
	u16 lport;
	u16 rport;
	bool nonesp;
};

struct iketcp_fastpath {
	struct iketcp_fastpath_entry ent[IKETCP_FASTPATH_MAX];
	unsigned int n;
	u32 rate;		/* messages per second, 0: no limit */
	u64 tokens;		/* in 1/HZ of a message */
	unsigned long refilled;	/* jiffies */
};

static int iketcp_fastpath_find(const struct iketcp_fastpath *fp, u64 spi_i,
				u64 spi_r)
{
	unsigned int i;

	for (i = 0; i < fp->n; i++)
		if (fp->ent[i].spi_i == spi_i && fp->ent[i].spi_r == spi_r)
			return i;
	return -1;
}

static void iketcp_fastpath_remove(struct iketcp_fastpath *fp, unsigned int i)
{
	fp->n--;
	if (i < fp->n)
		fp->ent[i] = fp->ent[fp->n];
}

/* Token bucket: @rate messages per second, bursts of twice that */
static bool iketcp_fastpath_take(struct iketcp_fastpath *fp)
{
	unsigned long now = jiffies;
	u64 cap;

	if (!fp->rate)
		return true;
	cap = 2ULL * fp->rate * HZ;
	fp->tokens = min(cap, fp->tokens + (u64)(now - fp->refilled) * fp->rate);
	fp->refilled = now;
	if (fp->tokens < HZ)
		return false;
	fp->tokens -= HZ;
	return true;
}

/* Pause reading @conn until the helper has caught up (socket locked). The
 * timer holds a reference on @conn.
 */
static void iketcp_fastpath_wait(struct iketcp_conn *conn)
{
	if (conn->fp_wait)
		return;
	conn->fp_wait = true;
	strp_pause(&conn->strp);
	atomic64_inc(&conn->inet->fast_waits);
	refcount_inc(&conn->refcnt);
	if (!schedule_delayed_work(&conn->fp_wait_work,
				   msecs_to_jiffies(IKETCP_FASTPATH_WAIT_MS)))
		iketcp_conn_put(conn);
}

/* The pause is over (socket locked) */
static void iketcp_fastpath_wait_end(struct iketcp_conn *conn)
{
	if (!conn->fp_wait)
		return;
	conn->fp_wait = false;
	if (cancel_delayed_work(&conn->fp_wait_work))
		iketcp_conn_put(conn);
	iketcp_rx_resume(conn);
}

/**
 * iketcp_fastpath_wait_work() - end a pause for a hand-over that the helper
 *	did not complete in time
 * @work: iketcp_conn::fp_wait_work
 */
void iketcp_fastpath_wait_work(struct work_struct *work)
{
	struct iketcp_conn *conn = container_of(to_delayed_work(work),
						struct iketcp_conn,
						fp_wait_work);

	lock_sock(conn->sk);
	if (conn->fp_wait) {
		conn->fp_wait = false;
		atomic64_inc(&conn->inet->fast_wait_timeouts);
		iketcp_rx_resume(conn);
	}
	release_sock(conn->sk);
	iketcp_conn_put(conn);
}

/**
 * iketcp_fastpath_add() - deliver an IKE SA's messages in the kernel
 * @conn: the connection
 * @spi_i: the SA's initiator SPI
 * @spi_r: its responder SPI
 * @lport: the daemon's port its messages go to
 * @rport: the peer's port they come from
 * @nonesp: prefix the non-ESP marker (@lport is the NAT-T port)
 * @rate: messages per second the connection may deliver so, 0: no limit
 * @rx_seq: IKETCP_CMD_MSG notifications of @conn the helper has handled
 * @extack: where to explain a failure
 *
 * While notifications of @conn are still in flight or held back, the
 * connection is no longer read until the helper asks again (see the top of
 * this file).
 *
 * Return: 0; -EAGAIN if notifications are still in flight or held back,
 * -EINVAL if @rx_seq counts more than were sent, -ENOSPC if the connection
 * has IKETCP_FASTPATH_MAX entries already, -ENOTCONN if it ended, -ENOMEM.
 */
int iketcp_fastpath_add(struct iketcp_conn *conn, u64 spi_i, u64 spi_r,
			u16 lport, u16 rport, bool nonesp, u32 rate, u64 rx_seq,
			struct netlink_ext_ack *extack)
{
	struct sock *sk = conn->sk;
	struct iketcp_fastpath *fp;
	int i, err = 0;

	lock_sock(sk);
	if (test_bit(IKETCP_CONN_DETACHED, &conn->flags) ||
	    test_bit(IKETCP_CONN_ENDED, &conn->flags)) {
		NL_SET_ERR_MSG_MOD(extack, "connection already ended");
		err = -ENOTCONN;
		goto out;
	}
	if (rx_seq > conn->stats.rx_msgs) {
		NL_SET_ERR_MSG_MOD(extack,
				   "more messages handled than the connection delivered");
		err = -EINVAL;
		goto out;
	}
	if (rx_seq < conn->stats.rx_msgs || conn->rx_held ||
	    test_bit(IKETCP_CONN_BLOCKED, &conn->flags)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "messages of the connection are on their way to the helper: not read until it asks again");
		iketcp_fastpath_wait(conn);
		err = -EAGAIN;
		goto out;
	}
	/* caught up: read on (the parser runs once the socket is released,
	 * after the entry is in place)
	 */
	iketcp_fastpath_wait_end(conn);
	fp = conn->fastpath;
	if (!fp) {
		fp = kzalloc(sizeof(*fp), GFP_KERNEL);
		if (!fp) {
			err = -ENOMEM;
			goto out;
		}
		fp->refilled = jiffies;
		conn->fastpath = fp;
	}
	i = iketcp_fastpath_find(fp, spi_i, spi_r);
	if (i < 0) {
		if (fp->n == IKETCP_FASTPATH_MAX) {
			NL_SET_ERR_MSG_MOD(extack,
					   "fast path entries of the connection all in use");
			err = -ENOSPC;
			goto out;
		}
		i = fp->n++;
	}
	fp->ent[i] = (struct iketcp_fastpath_entry){
		.spi_i = spi_i,
		.spi_r = spi_r,
		.lport = lport,
		.rport = rport,
		.nonesp = nonesp,
	};
	if (fp->rate != rate) {
		fp->rate = rate;
		fp->tokens = 2ULL * rate * HZ;
	}
	atomic64_inc(&conn->inet->fast_added);
out:
	release_sock(sk);
	return err;
}

/**
 * iketcp_fastpath_del() - end fast path entries of a connection
 * @conn: the connection
 * @spi_i: initiator SPI of the SA
 * @spi_r: responder SPI of the SA
 * @all: end every entry (@spi_i and @spi_r ignored)
 * @extack: where to explain a failure
 *
 * Return: 0, or -ENOENT if there is no such entry.
 */
int iketcp_fastpath_del(struct iketcp_conn *conn, u64 spi_i, u64 spi_r,
			bool all, struct netlink_ext_ack *extack)
{
	struct sock *sk = conn->sk;
	struct iketcp_fastpath *fp;
	int i, err = 0;

	lock_sock(sk);
	/* the helper gave up a hand-over, or changed its mind */
	iketcp_fastpath_wait_end(conn);
	fp = conn->fastpath;
	if (all) {
		if (fp)
			fp->n = 0;
	} else {
		i = fp ? iketcp_fastpath_find(fp, spi_i, spi_r) : -1;
		if (i < 0) {
			NL_SET_ERR_MSG_MOD(extack, "no fast path entry for these SPIs");
			err = -ENOENT;
		} else {
			iketcp_fastpath_remove(fp, i);
		}
	}
	release_sock(sk);
	return err;
}

/**
 * iketcp_fastpath_rcv() - deliver a received message by the fast path
 * @conn: the connection (socket locked: the strparser's receive callback)
 * @skb: the message (strp_msg() says where it is); not consumed
 *
 * Return: true if the message went to the daemon, false if it is for the
 * helper (no entry for its SA, or the entry just ended).
 */
bool iketcp_fastpath_rcv(struct iketcp_conn *conn, struct sk_buff *skb)
{
	struct iketcp_fastpath *fp = conn->fastpath;
	struct strp_msg *rxm = strp_msg(skb);
	struct iketcp_net *in = conn->inet;
	struct iketcp_addr local, remote;
	__be64 spis[2];	/* the IKE header starts with the SPIs */
	u64 spi_i, spi_r;
	int i;

	if (!fp || !fp->n)
		return false;
	if (skb_copy_bits(skb, rxm->offset, spis, sizeof(spis)))
		return false;
	spi_i = be64_to_cpu(spis[0]);
	spi_r = be64_to_cpu(spis[1]);
	i = iketcp_fastpath_find(fp, spi_i, spi_r);
	if (i < 0)
		return false;

	local = conn->local;
	local.port = fp->ent[i].lport;
	remote = conn->remote;
	remote.port = fp->ent[i].rport;
	if (!iketcp_fastpath_take(fp) ||
	    iketcp_udp_inject_skb(sock_net(conn->sk), &remote, &local,
				  fp->ent[i].nonesp, skb, rxm->offset,
				  rxm->full_len)) {
		/* the helper gets this one and the SA's next ones, in order */
		iketcp_fastpath_remove(fp, i);
		atomic64_inc(&in->fast_fallbacks);
		return false;
	}
	conn->stats.fast_msgs++;
	conn->stats.fast_bytes += rxm->full_len;
	atomic64_inc(&in->fast_msgs);
	return true;
}

/**
 * iketcp_fastpath_free() - free a connection's fast path table
 * @conn: the connection, no longer reachable
 */
void iketcp_fastpath_free(struct iketcp_conn *conn)
{
	kfree(conn->fastpath);
	conn->fastpath = NULL;
}
