// SPDX-License-Identifier: GPL-2.0
/*
 * netns.c - per network namespace state: the registered helper, the
 * connections, and the delivery of held-back notifications (backpressure)
 * round robin between connections.
 */
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "iketcp.h"

/* Retry period for held-back notifications when nobody says "resume" */
#define IKETCP_RETRY_DELAY	(HZ / 10)
/* Connections flushed per run of the delivery work before yielding */
#define IKETCP_DELIVER_BUDGET	64

static unsigned int iketcp_net_id __read_mostly;

/**
 * iketcp_net() - the iketcp state of a network namespace
 * @net: the namespace
 *
 * Return: the state, valid as long as @net is.
 */
struct iketcp_net *iketcp_net(const struct net *net)
{
	return net_generic(net, iketcp_net_id);
}

/**
 * iketcp_helper_portid() - netlink port of the netns helper
 * @in: the per-netns state
 *
 * The helper is its socket, not its port id: once that socket is closing
 * (orphaned, before the NETLINK_URELEASE notifier forgets it) another
 * socket may already have bound the same port id, and must not receive
 * what was meant for the helper.
 *
 * Return: the port id, 0 if no helper is registered or it is closing.
 */
u32 iketcp_helper_portid(struct iketcp_net *in)
{
	struct sock *sk;
	u32 portid = 0;

	rcu_read_lock();
	sk = rcu_dereference(in->helper_sk);
	if (sk && !sock_flag(sk, SOCK_DEAD))
		portid = READ_ONCE(in->helper_portid);
	rcu_read_unlock();
	return portid;
}

/* Drop the reference on a former helper's socket, once no reader of
 * iketcp_net::helper_sk can still look at it.
 */
static void iketcp_helper_put(struct sock *sk)
{
	if (!sk)
		return;
	synchronize_rcu();
	sock_put(sk);
}

static void iketcp_kick(struct iketcp_net *in, unsigned long delay)
{
	if (!READ_ONCE(in->helper_portid) || READ_ONCE(in->exiting))
		return;
	if (delay)
		queue_delayed_work(system_wq, &in->deliver_work, delay);
	else
		mod_delayed_work(system_wq, &in->deliver_work, 0);
}

/**
 * iketcp_helper_register() - make a netlink socket the netns helper
 * @in: the per-netns state
 * @portid: its netlink port id
 * @sk: the socket (a reference is kept while it is the helper)
 *
 * Context: process, may sleep.
 * Return: 0, or -EBUSY if another helper is registered.
 */
int iketcp_helper_register(struct iketcp_net *in, u32 portid, struct sock *sk)
{
	struct sock *cur, *old = NULL;
	int ret = 0;

	spin_lock_bh(&in->lock);
	cur = rcu_dereference_protected(in->helper_sk,
					lockdep_is_held(&in->lock));
	if (cur == sk) {
		/* registered already */
	} else if (cur && !sock_flag(cur, SOCK_DEAD)) {
		ret = -EBUSY;
	} else {
		old = cur;
		sock_hold(sk);
		WRITE_ONCE(in->helper_portid, portid);
		rcu_assign_pointer(in->helper_sk, sk);
	}
	spin_unlock_bh(&in->lock);
	iketcp_helper_put(old);
	if (!ret)
		iketcp_kick(in, 0);
	return ret;
}

/**
 * iketcp_helper_resume() - the helper has room again: deliver now
 * @in: the per-netns state
 */
void iketcp_helper_resume(struct iketcp_net *in)
{
	iketcp_kick(in, 0);
}

/**
 * iketcp_mem_charge() - take queue memory for a connection: counted in its
 *	netns (capped) and charged to its socket
 * @conn: the connection, socket locked
 * @size: bytes
 *
 * Return: true if taken (give it back with iketcp_mem_uncharge()), false
 * if the netns cap or the socket's memory limits refuse it (counted).
 */
bool iketcp_mem_charge(struct iketcp_conn *conn, u32 size)
{
	struct iketcp_net *in = conn->inet;
	struct sock *sk = conn->sk;

	if (atomic64_add_return(size, &in->mem_used) > READ_ONCE(in->mem_limit))
		goto err_refuse;
	if (!sk_wmem_schedule(sk, size))
		goto err_refuse;
	sk_mem_charge(sk, size);
	return true;

err_refuse:
	atomic64_sub(size, &in->mem_used);
	atomic64_inc(&in->mem_refusals);
	return false;
}

/**
 * iketcp_mem_uncharge() - give back what iketcp_mem_charge() took
 * @conn: the connection, socket locked
 * @size: bytes
 */
void iketcp_mem_uncharge(struct iketcp_conn *conn, u32 size)
{
	atomic64_sub(size, &conn->inet->mem_used);
	sk_mem_uncharge(conn->sk, size);
}

/**
 * iketcp_any_blocked() - are notifications held back in this netns?
 * @in: the per-netns state
 *
 * Return: true if some connection waits for delivery.
 */
bool iketcp_any_blocked(struct iketcp_net *in)
{
	return !list_empty_careful(&in->blocked);
}

/**
 * iketcp_block() - queue a connection for delayed delivery (idempotent)
 * @in: the per-netns state
 * @conn: the connection
 */
void iketcp_block(struct iketcp_net *in, struct iketcp_conn *conn)
{
	spin_lock_bh(&in->lock);
	if (!test_and_set_bit(IKETCP_CONN_BLOCKED, &conn->flags))
		list_add_tail(&conn->blocked_node, &in->blocked);
	spin_unlock_bh(&in->lock);
	iketcp_kick(in, IKETCP_RETRY_DELAY);
}

/**
 * iketcp_unblock() - take a connection off the delayed delivery queue
 * @in: the per-netns state
 * @conn: the connection
 */
void iketcp_unblock(struct iketcp_net *in, struct iketcp_conn *conn)
{
	spin_lock_bh(&in->lock);
	if (test_and_clear_bit(IKETCP_CONN_BLOCKED, &conn->flags))
		list_del_init(&conn->blocked_node);
	spin_unlock_bh(&in->lock);
}

static void iketcp_deliver_work(struct work_struct *work)
{
	struct iketcp_net *in = container_of(to_delayed_work(work),
					     struct iketcp_net, deliver_work);
	struct iketcp_conn *conn;
	int budget = IKETCP_DELIVER_BUDGET;

	while (budget--) {
		bool stuck;

		spin_lock_bh(&in->lock);
		conn = list_first_entry_or_null(&in->blocked,
						struct iketcp_conn,
						blocked_node);
		if (conn && !refcount_inc_not_zero(&conn->refcnt))
			conn = NULL;
		spin_unlock_bh(&in->lock);
		if (!conn)
			return;

		lock_sock(conn->sk);
		iketcp_rx_flush(conn, GFP_KERNEL);
		stuck = test_bit(IKETCP_CONN_BLOCKED, &conn->flags);
		release_sock(conn->sk);
		iketcp_conn_put(conn);
		if (stuck) {
			iketcp_kick(in, IKETCP_RETRY_DELAY);
			return;
		}
	}
	iketcp_kick(in, 0);
}

static int iketcp_netlink_notify(struct notifier_block *nb,
				 unsigned long state, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct sock *sk = NULL;
	struct iketcp_net *in;

	if (state != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	in = iketcp_net(n->net);
	if (READ_ONCE(in->helper_portid) == n->portid)
		iketcp_debug_urelease_delay();
	spin_lock_bh(&in->lock);
	/* the helper's socket, not a new helper that rebound its port id */
	if (in->helper_portid == n->portid) {
		sk = rcu_dereference_protected(in->helper_sk,
					       lockdep_is_held(&in->lock));
		if (sk && sock_flag(sk, SOCK_DEAD)) {
			RCU_INIT_POINTER(in->helper_sk, NULL);
			WRITE_ONCE(in->helper_portid, 0);
		} else {
			sk = NULL;
		}
	}
	spin_unlock_bh(&in->lock);
	/* The capture rules were the helper's: the daemon talks UDP again */
	if (sk) {
		iketcp_capture_flush(in);
		iketcp_helper_put(sk);
	}
	return NOTIFY_DONE;
}

static struct notifier_block iketcp_netlink_notifier = {
	.notifier_call = iketcp_netlink_notify,
};

static int __net_init iketcp_net_init(struct net *net)
{
	struct iketcp_net *in = iketcp_net(net);

	in->net = net;
	spin_lock_init(&in->lock);
	xa_init_flags(&in->conns, XA_FLAGS_ALLOC1);
	INIT_LIST_HEAD(&in->blocked);
	INIT_DELAYED_WORK(&in->deliver_work, iketcp_deliver_work);
	in->max_msg_len = IKETCP_MAX_MSG_LEN_DEFAULT;
	in->first_msg_timeout = IKETCP_FIRST_MSG_TIMEOUT_DEFAULT;
	in->msg_timeout = IKETCP_MSG_TIMEOUT_DEFAULT;
	in->mem_limit = IKETCP_MEM_LIMIT_DEFAULT;
	iketcp_capture_net_init(in);
	iketcp_esp_net_init(in);
	iketcp_debug_nets(1);
	return 0;
}

static void __net_exit iketcp_net_exit(struct net *net)
{
	struct iketcp_net *in = iketcp_net(net);

	/* User sockets hold the netns: no connection can be left here */
	WRITE_ONCE(in->exiting, true);
	iketcp_capture_flush(in);
	iketcp_capture_net_exit(in);
	iketcp_esp_net_exit(in);
	cancel_delayed_work_sync(&in->deliver_work);
	WARN_ON_ONCE(!xa_empty(&in->conns));
	xa_destroy(&in->conns);
	/* its socket holds the netns: gone, and forgotten, already */
	iketcp_helper_put(rcu_dereference_protected(in->helper_sk, true));
	iketcp_debug_nets(-1);
}

static struct pernet_operations iketcp_net_ops = {
	.init = iketcp_net_init,
	.exit = iketcp_net_exit,
	.id = &iketcp_net_id,
	.size = sizeof(struct iketcp_net),
};

/**
 * iketcp_netns_init() - register the per-netns state and the notifier
 *	that forgets a helper whose netlink socket closed
 *
 * Return: 0 or a negative errno.
 */
int iketcp_netns_init(void)
{
	int err;

	err = register_pernet_subsys(&iketcp_net_ops);
	if (err)
		return err;
	err = netlink_register_notifier(&iketcp_netlink_notifier);
	if (err)
		goto err_pernet;
	return 0;

err_pernet:
	unregister_pernet_subsys(&iketcp_net_ops);
	return err;
}

/**
 * iketcp_netns_exit() - undo iketcp_netns_init()
 */
void iketcp_netns_exit(void)
{
	netlink_unregister_notifier(&iketcp_netlink_notifier);
	unregister_pernet_subsys(&iketcp_net_ops);
}
