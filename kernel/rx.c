// SPDX-License-Identifier: GPL-2.0
/*
 * rx.c - the receive side of a connection: the stream parser cuts the TCP
 * stream into IKE messages (framing core; RFC 9329 records also carry ESP,
 * which goes to esp.c), each goes to the helper; when
 * the helper cannot take one the connection holds it and stops reading;
 * the end of the stream is reported after its last message; a framing
 * violation aborts the connection.
 */
#include <linux/net.h>
#include <net/tcp.h>

#include "iketcp.h"

static int iketcp_rx_parse(struct strparser *strp, struct sk_buff *skb)
{
	struct iketcp_conn *conn = container_of(strp, struct iketcp_conn, strp);
	struct strp_msg *rxm = strp_msg(skb);
	u8 peek[IKETCP_FRAME_PEEK_MAX];
	struct iketcp_framer fr;
	struct iketcp_frame f;
	size_t avail;
	int ret;

	avail = min_t(size_t, skb->len - rxm->offset, sizeof(peek));
	if (skb_copy_bits(skb, rxm->offset, peek, avail))
		return -EINVAL;

	/* the limit of now, on a copy (iketcp_tx_send() reads the mode) */
	iketcp_framer_init(&fr, conn->framer.mode,
			   READ_ONCE(conn->inet->max_msg_len));
	ret = iketcp_frame_parse(&fr, peek, avail, &f);
	if (ret > 0) {
		/* the strparser parses no other frame before it hands us
		 * this one (iketcp_rx_rcv())
		 */
		conn->rx_frame = f;
		return f.len;
	}
	if (ret == 0)
		return 0;
	conn->reason = -ret;
	return -EPROTO;
}

/* Hold @skb (may be NULL) and stop reading until the helper takes it.
 * The message counts as the socket's received data again (the stream
 * parser took it out of the receive queue), so that the window shrinks
 * and ss/sockstat show it, and in the netns memory.
 */
static void iketcp_rx_hold(struct iketcp_conn *conn, struct sk_buff *skb)
{
	struct iketcp_net *in = conn->inet;
	struct sock *sk = conn->sk;

	if (skb && !skb->sk && sk_rmem_schedule(sk, skb, skb->truesize))
		skb_set_owner_r(skb, sk);
	if (skb) {
		conn->rx_held_mem = skb->truesize;
		atomic64_add(conn->rx_held_mem, &in->mem_used);
	}
	conn->rx_held = skb;
	strp_pause(&conn->strp);
	conn->stats.backpressure++;
	atomic64_inc(&in->backpressure);
	iketcp_block(in, conn);
}

static void iketcp_rx_delivered(struct iketcp_conn *conn, struct sk_buff *skb)
{
	struct iketcp_net *in = conn->inet;

	conn->stats.rx_msgs++;
	conn->stats.rx_bytes += strp_msg(skb)->full_len;
	atomic64_inc(&in->rx_msgs);
	consume_skb(skb);
}

/*
 * An RFC 9329 record: an IKE message goes on like a raw one (@skb's
 * strp_msg narrowed to it), an ESP packet to the local xfrm input, a
 * keepalive or an empty record nowhere.
 *
 * Return: true if @skb holds an IKE message to deliver, false if it was
 * consumed here.
 */
static bool iketcp_rx_record(struct iketcp_conn *conn, struct sk_buff *skb)
{
	struct strp_msg *rxm = strp_msg(skb);
	const struct iketcp_frame *f = &conn->rx_frame;

	switch (f->kind) {
	case IKETCP_FRAME_IKE:
		rxm->offset += f->msg_off;
		rxm->full_len = f->msg_len;
		return true;
	case IKETCP_FRAME_ESP:
		iketcp_esp_rcv(conn, skb, rxm->offset + f->msg_off, f->msg_len);
		return false;
	default:
		conn->stats.skipped++;
		consume_skb(skb);
		return false;
	}
}

static void iketcp_rx_rcv(struct strparser *strp, struct sk_buff *skb)
{
	struct iketcp_conn *conn = container_of(strp, struct iketcp_conn, strp);

	if (conn->framer.mode == IKETCP_FRAMING_RFC9329 &&
	    !iketcp_rx_record(conn, skb))
		return;

	if (unlikely(!conn->got_first)) {
		conn->got_first = true;
		if (cancel_delayed_work(&conn->first_msg_work))
			iketcp_conn_put(conn);
	}

	/* Established SAs the helper handed over go straight to the daemon */
	if (iketcp_fastpath_rcv(conn, skb)) {
		consume_skb(skb);
		return;
	}

	/* Others wait already: queue up behind them (fairness) */
	if (test_bit(IKETCP_CONN_BLOCKED, &conn->flags) ||
	    iketcp_any_blocked(conn->inet) ||
	    iketcp_nl_notify_msg(conn, skb, IKETCP_GFP_ATOMIC)) {
		iketcp_rx_hold(conn, skb);
		return;
	}
	iketcp_rx_delivered(conn, skb);
}

/* Decide whether the stream ended, once everything before the end was
 * handed over. Socket locked.
 */
static void iketcp_rx_check_end(struct iketcp_conn *conn)
{
	struct sock *sk = conn->sk;

	if (test_bit(IKETCP_CONN_ENDED, &conn->flags) ||
	    test_bit(IKETCP_CONN_DETACHED, &conn->flags))
		return;
	if (test_bit(IKETCP_CONN_ABORTING, &conn->flags))
		return;
	if (!(READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) &&
	    sk->sk_state != TCP_CLOSE)
		return;
	if (conn->rx_held || !skb_queue_empty(&sk->sk_receive_queue))
		return;

	conn->truncated = !!conn->strp.skb_head;
	conn->sk_errno = sk->sk_err;
	if (sk->sk_err == ECONNRESET)
		conn->reason = IKETCP_REASON_PEER_RESET;
	else if (sk->sk_err)
		conn->reason = IKETCP_REASON_ERROR;
	else
		conn->reason = IKETCP_REASON_PEER_FIN;
	set_bit(IKETCP_CONN_ENDED, &conn->flags);
	strp_stop(&conn->strp);
	iketcp_rx_flush(conn, IKETCP_GFP_ATOMIC);
}

static int iketcp_rx_read_done(struct strparser *strp, int err)
{
	struct iketcp_conn *conn = container_of(strp, struct iketcp_conn, strp);

	iketcp_rx_check_end(conn);
	return err;
}

/* Free or hand on the held message: @deliver it, or drop it. Socket locked. */
static void iketcp_rx_unhold(struct iketcp_conn *conn, bool deliver)
{
	struct sk_buff *skb = conn->rx_held;

	if (!skb)
		return;
	conn->rx_held = NULL;
	atomic64_sub(conn->rx_held_mem, &conn->inet->mem_used);
	conn->rx_held_mem = 0;
	if (deliver)
		iketcp_rx_delivered(conn, skb);
	else
		kfree_skb(skb);
}

/* A framing violation, or a message not completed in time (the
 * strparser's timer, -ETIMEDOUT): the parser stopped; abort the
 * connection. Socket locked.
 */
static void iketcp_rx_abort_parser(struct strparser *strp, int err)
{
	struct iketcp_conn *conn = container_of(strp, struct iketcp_conn, strp);
	struct iketcp_net *in = conn->inet;

	strp_stop(strp);
	/* closing: iketcp_close() no longer expects an abort work */
	if (test_bit(IKETCP_CONN_DETACHED, &conn->flags) ||
	    test_bit(IKETCP_CONN_ENDED, &conn->flags) ||
	    test_and_set_bit(IKETCP_CONN_ABORTING, &conn->flags))
		return;
	if (err == -ETIMEDOUT) {
		conn->reason = IKETCP_REASON_TIMEOUT;
		atomic64_inc(&in->msg_timeouts);
		net_info_ratelimited("conn %u: message not completed in time, aborting\n",
				     conn->id);
	} else {
		if (!conn->reason)
			conn->reason = err == -EMSGSIZE ?
				       IKETCP_REASON_LEN_LONG :
				       IKETCP_REASON_ERROR;
		conn->stats.framing_errors++;
		atomic64_inc(&in->aborts);
		net_info_ratelimited("conn %u: framing violation (reason %u), aborting\n",
				     conn->id, conn->reason);
	}
	refcount_inc(&conn->refcnt);
	if (!schedule_delayed_work(&conn->abort_work,
				   iketcp_debug_abort_delay()))
		iketcp_conn_put(conn);
}

/**
 * iketcp_rx_abort() - abort a connection with a RST and report its end
 * @conn: the connection (process context, socket not locked)
 * @reason: enum iketcp_reason to report
 *
 * Whatever was held for the helper is dropped; the helper then gets
 * IKETCP_CMD_CONN_ENDED with @reason.
 *
 * Return: 0, or -EALREADY if the stream had already ended.
 */
int iketcp_rx_abort(struct iketcp_conn *conn, u8 reason)
{
	struct sock *sk = conn->sk;

	lock_sock(sk);
	if (test_bit(IKETCP_CONN_DETACHED, &conn->flags) ||
	    test_bit(IKETCP_CONN_ENDED, &conn->flags)) {
		release_sock(sk);
		return -EALREADY;
	}
	/* Keep sk_state_change from reporting the end with another reason */
	set_bit(IKETCP_CONN_ABORTING, &conn->flags);
	if (!conn->reason)
		conn->reason = reason;
	strp_stop(&conn->strp);
	release_sock(sk);

	tcp_abort(sk, ECONNABORTED);

	lock_sock(sk);
	if (!test_bit(IKETCP_CONN_DETACHED, &conn->flags) &&
	    !test_and_set_bit(IKETCP_CONN_ENDED, &conn->flags)) {
		conn->sk_errno = ECONNABORTED;
		iketcp_rx_unhold(conn, false);
		iketcp_rx_flush(conn, GFP_KERNEL);
	}
	release_sock(sk);
	return 0;
}

/**
 * iketcp_rx_abort_work() - send the RST for a framing violation
 * @work: iketcp_conn::abort_work
 */
void iketcp_rx_abort_work(struct work_struct *work)
{
	struct iketcp_conn *conn = container_of(to_delayed_work(work),
						struct iketcp_conn, abort_work);

	iketcp_rx_abort(conn, conn->reason);
	iketcp_conn_put(conn);
}

/**
 * iketcp_rx_first_msg_work() - abort a connection that did not deliver a
 *	complete first message in time (a slow or silent peer)
 * @work: iketcp_conn::first_msg_work
 */
void iketcp_rx_first_msg_work(struct work_struct *work)
{
	struct iketcp_conn *conn = container_of(to_delayed_work(work),
						struct iketcp_conn,
						first_msg_work);
	struct iketcp_net *in = conn->inet;
	struct sock *sk = conn->sk;
	u32 ms;

	/* Not read because the helper is behind (held back notifications):
	 * that is our backlog, not a slow peer. Give it another period (the
	 * end of the backlog starts a fresh one, iketcp_rx_flush()). Bytes
	 * waiting in the socket are no excuse: the parser may be waiting for
	 * more of them.
	 */
	lock_sock(sk);
	if (!conn->got_first &&
	    test_bit(IKETCP_CONN_BLOCKED, &conn->flags) &&
	    !test_bit(IKETCP_CONN_DETACHED, &conn->flags) &&
	    !test_bit(IKETCP_CONN_ENDED, &conn->flags)) {
		ms = conn->first_msg_ms ? : IKETCP_FIRST_MSG_TIMEOUT_DEFAULT;
		/* our reference goes with the timer, unless it is set again */
		if (!schedule_delayed_work(&conn->first_msg_work,
					   msecs_to_jiffies(ms)))
			iketcp_conn_put(conn);
		release_sock(sk);
		return;
	}
	release_sock(sk);

	if (!READ_ONCE(conn->got_first) &&
	    !iketcp_rx_abort(conn, IKETCP_REASON_TIMEOUT)) {
		atomic64_inc(&in->first_msg_timeouts);
		net_info_ratelimited("conn %u: no first message in time, aborted\n",
				     conn->id);
	}
	iketcp_conn_put(conn);
}

/**
 * iketcp_rx_set_first_msg_timeout() - change the time a connection has left
 *	for its first message
 * @conn: the connection
 * @ms: milliseconds from now, 0: no limit (a connection the helper trusts)
 *
 * Nothing changes once the first message has arrived.
 *
 * Return: 0, or -ENOTCONN if the connection is detached or ended.
 */
int iketcp_rx_set_first_msg_timeout(struct iketcp_conn *conn, u32 ms)
{
	struct sock *sk = conn->sk;
	int err = 0;

	lock_sock(sk);
	if (test_bit(IKETCP_CONN_DETACHED, &conn->flags) ||
	    test_bit(IKETCP_CONN_ENDED, &conn->flags)) {
		err = -ENOTCONN;
		goto out;
	}
	if (!conn->got_first)
		iketcp_rx_arm_first_msg(conn, ms);
out:
	release_sock(sk);
	return err;
}

/**
 * iketcp_rx_arm_first_msg() - (re)start or stop the first-message timer
 * @conn: the connection, socket locked (or not yet reachable)
 * @ms: milliseconds from now, 0: stop it
 *
 * A pending timer holds a reference on @conn: it is kept, taken or given
 * back here.
 */
void iketcp_rx_arm_first_msg(struct iketcp_conn *conn, u32 ms)
{
	conn->first_msg_ms = ms;
	if (cancel_delayed_work(&conn->first_msg_work)) {
		if (!ms) {
			iketcp_conn_put(conn);
			return;
		}
	} else if (ms) {
		refcount_inc(&conn->refcnt);
	}
	if (ms)
		schedule_delayed_work(&conn->first_msg_work,
				      msecs_to_jiffies(ms));
}

/**
 * iketcp_rx_flush() - hand the helper what the connection holds, in order:
 *	the attach notification, a received message, the end of the stream
 * @conn: the connection, socket locked
 * @gfp: allocation flags for the notifications
 *
 * Whatever cannot be delivered stays held, the connection stays blocked
 * (not read) and the per-netns delivery work retries later.
 */
void iketcp_rx_flush(struct iketcp_conn *conn, gfp_t gfp)
{
	struct iketcp_net *in = conn->inet;
	bool was_blocked;

	if (test_bit(IKETCP_CONN_DETACHED, &conn->flags))
		return;
	if (test_bit(IKETCP_CONN_ATTACH_HELD, &conn->flags)) {
		if (iketcp_nl_notify_attached(conn, gfp))
			goto blocked;
		clear_bit(IKETCP_CONN_ATTACH_HELD, &conn->flags);
	}
	if (conn->rx_held) {
		if (iketcp_nl_notify_msg(conn, conn->rx_held, gfp))
			goto blocked;
		iketcp_rx_unhold(conn, true);
	}
	if (test_bit(IKETCP_CONN_ENDED, &conn->flags)) {
		if (!test_bit(IKETCP_CONN_END_SENT, &conn->flags)) {
			if (iketcp_nl_notify_ended(conn, gfp))
				goto blocked;
			set_bit(IKETCP_CONN_END_SENT, &conn->flags);
		}
		iketcp_unblock(in, conn);
		return;
	}
	was_blocked = test_bit(IKETCP_CONN_BLOCKED, &conn->flags);
	iketcp_unblock(in, conn);
	if (!test_bit(IKETCP_CONN_ABORTING, &conn->flags)) {
		/* our backlog is over: the peer's period starts now */
		if (was_blocked && !conn->got_first && conn->first_msg_ms)
			iketcp_rx_arm_first_msg(conn, conn->first_msg_ms);
		iketcp_rx_resume(conn);
	}
	return;

blocked:
	iketcp_block(in, conn);
}

/**
 * iketcp_rx_resume() - read a connection again once nothing holds it back
 * @conn: the connection, socket locked
 *
 * Nothing happens while a message is held for the helper (then
 * iketcp_rx_flush() calls this once it is delivered), while a hand-over
 * waits for the helper (iketcp_conn::fp_wait: fastpath.c calls this when
 * it ends), or once the connection ended.
 */
void iketcp_rx_resume(struct iketcp_conn *conn)
{
	if (conn->fp_wait ||
	    conn->rx_held || test_bit(IKETCP_CONN_BLOCKED, &conn->flags) ||
	    test_bit(IKETCP_CONN_DETACHED, &conn->flags) ||
	    test_bit(IKETCP_CONN_ENDED, &conn->flags) ||
	    test_bit(IKETCP_CONN_ABORTING, &conn->flags))
		return;
	strp_unpause(&conn->strp);
	iketcp_rx_check_end(conn);
}

/**
 * iketcp_rx_data_ready() - sk_data_ready of an attached socket
 * @sk: the socket (bh-locked)
 */
void iketcp_rx_data_ready(struct sock *sk)
{
	struct iketcp_conn *conn = iketcp_conn_of(sk);

	if (likely(conn))
		strp_data_ready(&conn->strp);
}

/**
 * iketcp_rx_state_change() - sk_state_change of an attached socket
 * @sk: the socket (locked)
 *
 * Wakes up the socket's own waiters, then checks whether the stream ended.
 */
void iketcp_rx_state_change(struct sock *sk)
{
	struct iketcp_conn *conn = iketcp_conn_of(sk);

	if (unlikely(!conn))
		return;
	conn->saved_state_change(sk);
	if (conn->rx_held || test_bit(IKETCP_CONN_BLOCKED, &conn->flags))
		return;
	/* Unread bytes first (a reset does not call sk_data_ready) */
	if (!skb_queue_empty(&sk->sk_receive_queue))
		strp_check_rcv(&conn->strp);
	else
		iketcp_rx_check_end(conn);
}

/**
 * iketcp_rx_attach() - set up the stream parser of a new connection
 * @conn: the connection
 *
 * Return: 0 or a negative errno.
 */
int iketcp_rx_attach(struct iketcp_conn *conn)
{
	static const struct strp_callbacks cb = {
		.parse_msg = iketcp_rx_parse,
		.rcv_msg = iketcp_rx_rcv,
		.read_sock_done = iketcp_rx_read_done,
		.abort_parser = iketcp_rx_abort_parser,
	};

	return strp_init(&conn->strp, conn->sk, &cb);
}

/**
 * iketcp_rx_detach() - free what is held
 * @conn: the connection, detached from its socket, its strparser done
 *	(strp_done()), socket locked
 */
void iketcp_rx_detach(struct iketcp_conn *conn)
{
	iketcp_unblock(conn->inet, conn);
	iketcp_rx_unhold(conn, false);
}
