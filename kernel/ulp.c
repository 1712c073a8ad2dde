// SPDX-License-Identifier: GPL-2.0
/*
 * ulp.c - the TCP upper layer protocols "iketcp" (the draft's raw framing)
 * and "iketcp-rfc9329" (RFC 9329 records): attach to an established TCP
 * socket, take over its receive and send paths (userspace can no longer
 * read or write the byte stream directly), give everything back on close.
 * The name picks the connection's framing, once and for all, before a byte
 * of the stream is parsed.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <net/inet_common.h>
#include <net/ipv6.h>
#include <net/tcp.h>

#include "iketcp.h"
#include "compat/compat.h"

/*
 * Copies of the socket's proto with the operations that would let
 * userspace read or write the byte stream replaced. Built from the first
 * plain TCP socket of each kind seen (IPv4, IPv6); a socket whose
 * operations are anything else is refused. (splice() and TCP zerocopy
 * receive go through proto_ops, which are left alone: the socket's owner
 * must not use them on an attached socket.)
 */
#define IKETCP_NBASE 2
static const struct proto *iketcp_base_prot[IKETCP_NBASE];
static struct proto iketcp_prot[IKETCP_NBASE];
static DEFINE_MUTEX(iketcp_prot_mutex);

static int iketcp_refuse_sendmsg(struct sock *sk, struct msghdr *msg,
				 size_t len)
{
	return -EOPNOTSUPP;
}

static int iketcp_refuse_recvmsg(struct sock *sk, struct msghdr *msg,
				 size_t len, int flags, int *addr_len)
{
	return -EOPNOTSUPP;
}

static int iketcp_refuse_disconnect(struct sock *sk, int flags)
{
	return -EOPNOTSUPP;
}

static void iketcp_close(struct sock *sk, long timeout);

static void iketcp_build(int i, const struct proto *prot)
{
	iketcp_prot[i] = *prot;
	iketcp_prot[i].close = iketcp_close;
	iketcp_prot[i].sendmsg = iketcp_refuse_sendmsg;
	iketcp_prot[i].recvmsg = iketcp_refuse_recvmsg;
	iketcp_prot[i].disconnect = iketcp_refuse_disconnect;
	iketcp_compat_refuse_sendpage(&iketcp_prot[i]);
	iketcp_base_prot[i] = prot;
}

/* Index of the replacement operations for @sk, building them if needed. */
static int iketcp_pick_prot(struct sock *sk)
{
	const struct proto *prot = sk->sk_prot;
	int i, ret = -EBUSY;

	/* Only plain TCP: not a socket already taken over by something else */
	if (prot->recvmsg != tcp_prot.recvmsg ||
	    prot->sendmsg != tcp_prot.sendmsg ||
	    sk->sk_socket->ops->read_sock != tcp_read_sock)
		return -EBUSY;

	mutex_lock(&iketcp_prot_mutex);
	for (i = 0; i < IKETCP_NBASE; i++) {
		if (!iketcp_base_prot[i])
			iketcp_build(i, prot);
		if (iketcp_base_prot[i] == prot) {
			ret = i;
			break;
		}
	}
	mutex_unlock(&iketcp_prot_mutex);
	return ret;
}

static void iketcp_addr_of(struct sock *sk, struct iketcp_conn *conn)
{
	const struct inet_sock *inet = inet_sk(sk);

	conn->local.port = ntohs(inet->inet_sport);
	conn->remote.port = ntohs(inet->inet_dport);
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 &&
	    !ipv6_addr_v4mapped(&sk->sk_v6_daddr)) {
		conn->local.family = AF_INET6;
		conn->local.v6 = sk->sk_v6_rcv_saddr;
		conn->remote.family = AF_INET6;
		conn->remote.v6 = sk->sk_v6_daddr;
		return;
	}
#endif
	conn->local.family = AF_INET;
	conn->local.v4 = inet->inet_rcv_saddr;
	conn->remote.family = AF_INET;
	conn->remote.v4 = inet->inet_daddr;
}

/* Called by tcp_set_ulp() with the socket locked. */
static int iketcp_ulp_attach(struct sock *sk, u8 mode)
{
	struct iketcp_net *in = iketcp_net(sock_net(sk));
	struct iketcp_conn *conn;
	u32 ms;
	int idx, err;

	/* What the peer sends goes to the helper and to the IKE daemon */
	if (!ns_capable(sock_net(sk)->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	if (sk->sk_state != TCP_ESTABLISHED && sk->sk_state != TCP_CLOSE_WAIT)
		return -ENOTCONN;
	if (!sk->sk_socket || sk->sk_user_data)
		return -EBUSY;
	/* Nobody would read it: refuse rather than hold it unbounded */
	if (!iketcp_helper_portid(in))
		return -ESRCH;
	idx = iketcp_pick_prot(sk);
	if (idx < 0)
		return idx;

	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return -ENOMEM;
	refcount_set(&conn->refcnt, 1);
	iketcp_debug_conns(1);
	conn->sk = sk;
	conn->inet = in;
	iketcp_framer_init(&conn->framer, mode, READ_ONCE(in->max_msg_len));
	INIT_LIST_HEAD(&conn->blocked_node);
	INIT_LIST_HEAD(&conn->tx_queue);
	INIT_WORK(&conn->tx_work, iketcp_tx_work);
	INIT_DELAYED_WORK(&conn->abort_work, iketcp_rx_abort_work);
	INIT_DELAYED_WORK(&conn->first_msg_work, iketcp_rx_first_msg_work);
	INIT_DELAYED_WORK(&conn->fp_wait_work, iketcp_fastpath_wait_work);
	skb_queue_head_init(&conn->esp_q);
	atomic64_set(&conn->esp_tx_drops, 0);
	iketcp_addr_of(sk, conn);
	conn->ino = sock_i_ino(sk);

	/* strp_init() only initialises: nothing to undo on the error paths
	 * below (strp_done() would lock the socket, which we hold).
	 */
	err = iketcp_rx_attach(conn);
	if (err)
		goto err_free;

	/* An id, reserved (lookups see nothing) until the attach is done */
	err = iketcp_debug_fail_conn_id() ? -ENOMEM :
	      xa_alloc_cyclic(&in->conns, &conn->id, NULL,
			      XA_LIMIT(1, U32_MAX), &in->next_id, GFP_KERNEL);
	if (err < 0)
		goto err_free;

	write_lock_bh(&sk->sk_callback_lock);
	/* Claim sk_user_data: KCM, sockmap and the like check it */
	if (sk->sk_user_data) {
		write_unlock_bh(&sk->sk_callback_lock);
		err = -EBUSY;
		goto err_id;
	}
	sock_hold(sk);
	rcu_assign_sk_user_data(sk, conn);
	conn->saved_data_ready = sk->sk_data_ready;
	conn->saved_write_space = sk->sk_write_space;
	conn->saved_state_change = sk->sk_state_change;
	conn->saved_prot = sk->sk_prot;
	rcu_assign_pointer(inet_csk(sk)->icsk_ulp_data, conn);
	sk->sk_data_ready = iketcp_rx_data_ready;
	sk->sk_write_space = iketcp_tx_write_space;
	sk->sk_state_change = iketcp_rx_state_change;
	WRITE_ONCE(sk->sk_prot, &iketcp_prot[idx]);
	write_unlock_bh(&sk->sk_callback_lock);
	/* the reserved slot: no allocation, cannot fail */
	xa_store(&in->conns, conn->id, conn, GFP_KERNEL);

	/* The strparser cannot take a message larger than the receive
	 * buffer: make room for the largest one the limit can allow.
	 */
	if (READ_ONCE(sk->sk_rcvbuf) < IKETCP_MIN_RCVBUF)
		WRITE_ONCE(sk->sk_rcvbuf, IKETCP_MIN_RCVBUF);
	/* The strparser's message assembly timer (sk_rcvtimeo): a message
	 * begun must be complete in time (the socket's own reads are
	 * refused, so nothing else uses it).
	 */
	ms = READ_ONCE(in->msg_timeout);
	WRITE_ONCE(sk->sk_rcvtimeo,
		   ms ? msecs_to_jiffies(ms) : MAX_SCHEDULE_TIMEOUT);

	atomic64_inc(&in->conns_total);

	iketcp_rx_arm_first_msg(conn, READ_ONCE(in->first_msg_timeout));

	/* Tell the helper, then parse whatever arrived before attaching. */
	if (iketcp_any_blocked(in) ||
	    iketcp_nl_notify_attached(conn, GFP_KERNEL)) {
		set_bit(IKETCP_CONN_ATTACH_HELD, &conn->flags);
		strp_pause(&conn->strp);
		iketcp_block(in, conn);
	}
	strp_check_rcv(&conn->strp);
	return 0;

err_id:
	xa_erase(&in->conns, conn->id);
err_free:
	iketcp_debug_conns(-1);
	kfree(conn);
	return err;
}

/* Give the socket back its own callbacks and operations. Socket locked. */
static void iketcp_ulp_detach_locked(struct sock *sk, struct iketcp_conn *conn)
{
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = conn->saved_data_ready;
	sk->sk_write_space = conn->saved_write_space;
	sk->sk_state_change = conn->saved_state_change;
	WRITE_ONCE(sk->sk_prot, conn->saved_prot);
	rcu_assign_pointer(inet_csk(sk)->icsk_ulp_data, NULL);
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
	set_bit(IKETCP_CONN_DETACHED, &conn->flags);
	strp_stop(&conn->strp);
}

static void iketcp_close(struct sock *sk, long timeout)
{
	struct iketcp_conn *conn;
	struct proto *prot;

	lock_sock(sk);
	conn = iketcp_conn_of(sk);
	prot = conn->saved_prot;
	iketcp_ulp_detach_locked(sk, conn);
	release_sock(sk);

	/* No socket callback runs any more. The strparser's own work and
	 * message timer can still call back (and schedule the abort): stop
	 * them first. Then stop our deferred work; each pending one held a
	 * reference. Free what is held, tell the helper (unless it never
	 * heard of the connection), drop the attachment's reference.
	 */
	strp_done(&conn->strp);
	if (cancel_delayed_work_sync(&conn->first_msg_work))
		iketcp_conn_put(conn);
	if (iketcp_compat_disable_delayed_work_sync(&conn->fp_wait_work))
		iketcp_conn_put(conn);
	if (iketcp_compat_disable_delayed_work_sync(&conn->abort_work))
		iketcp_conn_put(conn);
	/* the ESP hooks queue and schedule tx_work: stop them first */
	iketcp_esp_detach(conn);
	iketcp_compat_disable_work_sync(&conn->tx_work);
	lock_sock(sk);	/* the memory charged to the socket */
	iketcp_rx_detach(conn);
	iketcp_tx_purge(conn);
	release_sock(sk);
	xa_erase(&conn->inet->conns, conn->id);
	if (!test_bit(IKETCP_CONN_ATTACH_HELD, &conn->flags) &&
	    !test_and_set_bit(IKETCP_CONN_END_SENT, &conn->flags)) {
		if (!test_bit(IKETCP_CONN_ENDED, &conn->flags))
			conn->reason = IKETCP_REASON_LOCAL_CLOSE;
		iketcp_nl_notify_ended(conn, GFP_KERNEL);
	}
	iketcp_conn_put(conn);

	prot->close(sk, timeout);
}

/**
 * iketcp_conn_get() - look up a connection by id and take a reference
 * @in: the per-netns state
 * @id: connection id
 *
 * Return: the connection (release it with iketcp_conn_put()) or NULL.
 */
struct iketcp_conn *iketcp_conn_get(struct iketcp_net *in, u32 id)
{
	struct iketcp_conn *conn;

	rcu_read_lock();
	conn = xa_load(&in->conns, id);
	if (conn && !refcount_inc_not_zero(&conn->refcnt))
		conn = NULL;
	rcu_read_unlock();
	return conn;
}

/**
 * iketcp_conn_put() - release a reference on a connection
 * @conn: the connection
 */
void iketcp_conn_put(struct iketcp_conn *conn)
{
	if (!refcount_dec_and_test(&conn->refcnt))
		return;
	iketcp_fastpath_free(conn);
	sock_put(conn->sk);
	iketcp_debug_conns(-1);
	kfree_rcu(conn, rcu);
}

static int iketcp_ulp_attach_raw(struct sock *sk)
{
	return iketcp_ulp_attach(sk, IKETCP_FRAMING_RAW);
}

static int iketcp_ulp_attach_rfc9329(struct sock *sk)
{
	return iketcp_ulp_attach(sk, IKETCP_FRAMING_RFC9329);
}

static struct tcp_ulp_ops iketcp_ulp_ops __read_mostly = {
	.name = IKETCP_ULP_NAME,
	.owner = THIS_MODULE,
	.init = iketcp_ulp_attach_raw,
};

static struct tcp_ulp_ops iketcp_ulp_ops_rfc9329 __read_mostly = {
	.name = IKETCP_ULP_NAME_RFC9329,
	.owner = THIS_MODULE,
	.init = iketcp_ulp_attach_rfc9329,
};

/**
 * iketcp_ulp_init() - register the TCP ULPs "iketcp" and "iketcp-rfc9329"
 *
 * Return: 0 or a negative errno.
 */
int iketcp_ulp_init(void)
{
	int err;

	err = tcp_register_ulp(&iketcp_ulp_ops);
	if (err)
		return err;
	err = tcp_register_ulp(&iketcp_ulp_ops_rfc9329);
	if (err)
		goto err_raw;
	return 0;

err_raw:
	tcp_unregister_ulp(&iketcp_ulp_ops);
	return err;
}

/**
 * iketcp_ulp_exit() - unregister the ULPs; no socket can still use them
 * (each attached socket holds a reference on the module)
 */
void iketcp_ulp_exit(void)
{
	tcp_unregister_ulp(&iketcp_ulp_ops_rfc9329);
	tcp_unregister_ulp(&iketcp_ulp_ops);
}

MODULE_ALIAS_TCP_ULP(IKETCP_ULP_NAME);
MODULE_ALIAS_TCP_ULP(IKETCP_ULP_NAME_RFC9329);
