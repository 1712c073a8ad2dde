// SPDX-License-Identifier: GPL-2.0
/*
 * tx.c - the send side of a connection: whole IKE messages (and RFC 9329
 * ESP records) queued in order and written without blocking; a record is
 * never interleaved with another one because every byte written goes
 * through this queue.
 */
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/tcp.h>

#include "iketcp.h"

/* Bytes a connection may queue beyond what the socket's buffer holds */
#define IKETCP_TX_QUEUE_MAX	(256 * 1024)

static void iketcp_tx_push(struct iketcp_conn *conn)
{
	struct sock *sk = conn->sk;
	struct iketcp_txmsg *m;

	while ((m = list_first_entry_or_null(&conn->tx_queue,
					     struct iketcp_txmsg, node))) {
		struct msghdr msg = {
			.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL,
		};
		struct kvec iov = {
			.iov_base = m->data + m->off,
			.iov_len = m->len - m->off,
		};
		int ret;

		iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &iov, 1, iov.iov_len);
		ret = tcp_sendmsg_locked(sk, &msg, iov.iov_len);
		if (ret == -EAGAIN)
			return;	/* write_space brings us back */
		if (ret < 0) {
			/* The connection is dead: its end is reported on the
			 * receive side; drop what cannot be sent.
			 */
			iketcp_tx_purge(conn);
			return;
		}
		m->off += ret;
		conn->tx_queued -= ret;
		if (m->off < m->len)
			return;
		conn->stats.tx_msgs++;
		conn->stats.tx_bytes += m->len;
		list_del(&m->node);
		iketcp_mem_uncharge(conn, m->len);
		kvfree(m);
	}
}

/**
 * iketcp_tx_send() - queue one whole IKE message and start writing it
 * @conn: the connection
 * @msg: the message, header included
 * @len: its length
 * @extack: where to explain a refusal
 *
 * Return: 0 once queued; -EINVAL (not one valid IKE message), -EMSGSIZE
 * (above the netns limit), -ENOTCONN (the connection ended), -ENOBUFS
 * (send queue full) or -ENOMEM.
 */
int iketcp_tx_send(struct iketcp_conn *conn, const u8 *msg, u32 len,
		   struct netlink_ext_ack *extack)
{
	struct sock *sk = conn->sk;
	struct iketcp_framer fr;
	struct iketcp_txmsg *m;
	u8 prefix[8];
	size_t plen;
	int ret;

	/* the limit of now, on a copy: the receive side parses concurrently */
	iketcp_framer_init(&fr, conn->framer.mode,
			   READ_ONCE(conn->inet->max_msg_len));
	ret = iketcp_frame_check_msg(&fr, msg, len);
	if (ret == -IKETCP_REASON_LEN_LONG) {
		NL_SET_ERR_MSG_MOD(extack, "message larger than the netns limit");
		return -EMSGSIZE;
	}
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack,
				   "not one IKE message (header length or version)");
		return -EINVAL;
	}
	plen = iketcp_frame_prefix(&fr, len, prefix);

	m = kvmalloc(struct_size(m, data, plen + len), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->len = plen + len;
	m->off = 0;
	memcpy(m->data, prefix, plen);
	memcpy(m->data + plen, msg, len);

	lock_sock(sk);
	if (test_bit(IKETCP_CONN_DETACHED, &conn->flags) ||
	    test_bit(IKETCP_CONN_ABORTING, &conn->flags) ||
	    (sk->sk_shutdown & SEND_SHUTDOWN) || sk->sk_err ||
	    (1 << sk->sk_state) & ~(TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)) {
		NL_SET_ERR_MSG_MOD(extack, "connection is closed");
		ret = -ENOTCONN;
		goto err_unlock;
	}
	if (conn->tx_queued + m->len > IKETCP_TX_QUEUE_MAX) {
		NL_SET_ERR_MSG_MOD(extack, "send queue full");
		ret = -ENOBUFS;
		goto err_unlock;
	}
	if (!iketcp_mem_charge(conn, m->len)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "netns or socket memory limit reached");
		ret = -ENOBUFS;
		goto err_unlock;
	}
	list_add_tail(&m->node, &conn->tx_queue);
	conn->tx_queued += m->len;
	iketcp_tx_push(conn);
	release_sock(sk);
	return 0;

err_unlock:
	release_sock(sk);
	kvfree(m);
	return ret;
}

/**
 * iketcp_tx_queue_record() - queue a record whose body is an skb's data
 * @conn: the connection, socket locked
 * @hdr: the record header
 * @hlen: its length
 * @skb: the body (its whole data, copied)
 *
 * Only queued: the caller pushes. For what must not wait for the helper
 * (ESP), so a full queue is a drop, not backpressure.
 *
 * Return: 0, -ENOTCONN, -ENOBUFS (queue or memory limits) or -ENOMEM.
 */
int iketcp_tx_queue_record(struct iketcp_conn *conn, const u8 *hdr, u32 hlen,
			   const struct sk_buff *skb)
{
	struct sock *sk = conn->sk;
	struct iketcp_txmsg *m;
	u32 len = hlen + skb->len;

	if (test_bit(IKETCP_CONN_DETACHED, &conn->flags) ||
	    test_bit(IKETCP_CONN_ABORTING, &conn->flags) ||
	    (sk->sk_shutdown & SEND_SHUTDOWN) || sk->sk_err ||
	    (1 << sk->sk_state) & ~(TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))
		return -ENOTCONN;
	if (conn->tx_queued + len > IKETCP_TX_QUEUE_MAX)
		return -ENOBUFS;
	m = kvmalloc(struct_size(m, data, len), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	memcpy(m->data, hdr, hlen);
	if (skb_copy_bits(skb, 0, m->data + hlen, skb->len) ||
	    !iketcp_mem_charge(conn, len)) {
		kvfree(m);
		return -ENOBUFS;
	}
	m->len = len;
	m->off = 0;
	list_add_tail(&m->node, &conn->tx_queue);
	conn->tx_queued += len;
	return 0;
}

/**
 * iketcp_tx_work() - continue writing once the socket has room, and write
 *	the ESP packets the xfrm output left (esp.c)
 * @work: iketcp_conn::tx_work
 */
void iketcp_tx_work(struct work_struct *work)
{
	struct iketcp_conn *conn = container_of(work, struct iketcp_conn,
						tx_work);

	lock_sock(conn->sk);
	if (!test_bit(IKETCP_CONN_DETACHED, &conn->flags)) {
		iketcp_esp_flush_queue(conn);
		iketcp_tx_push(conn);
	}
	release_sock(conn->sk);
}

/**
 * iketcp_tx_write_space() - sk_write_space of an attached socket
 * @sk: the socket (locked)
 */
void iketcp_tx_write_space(struct sock *sk)
{
	struct iketcp_conn *conn = iketcp_conn_of(sk);

	if (unlikely(!conn))
		return;
	if (!list_empty(&conn->tx_queue))
		schedule_work(&conn->tx_work);
	conn->saved_write_space(sk);
}

/**
 * iketcp_tx_purge() - drop every queued message
 * @conn: the connection, socket locked
 */
void iketcp_tx_purge(struct iketcp_conn *conn)
{
	struct iketcp_txmsg *m, *tmp;

	list_for_each_entry_safe(m, tmp, &conn->tx_queue, node) {
		list_del(&m->node);
		iketcp_mem_uncharge(conn, m->len);
		kvfree(m);
	}
	conn->tx_queued = 0;
}
