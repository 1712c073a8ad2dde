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
 * Return: the port id, 0 if no helper is registered.
 */
u32 iketcp_helper_portid(struct iketcp_net *in)
{
	return READ_ONCE(in->helper_portid);
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
 *
 * Return: 0, or -EBUSY if another helper is registered.
 */
int iketcp_helper_register(struct iketcp_net *in, u32 portid)
{
	int ret = 0;

	spin_lock_bh(&in->lock);
	if (in->helper_portid && in->helper_portid != portid)
		ret = -EBUSY;
	else
		WRITE_ONCE(in->helper_portid, portid);
	spin_unlock_bh(&in->lock);
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
	struct iketcp_net *in;
	bool gone;

	if (state != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	in = iketcp_net(n->net);
	spin_lock_bh(&in->lock);
	gone = in->helper_portid == n->portid;
	if (gone)
		WRITE_ONCE(in->helper_portid, 0);
	spin_unlock_bh(&in->lock);
	/* The capture rules were the helper's: the daemon talks UDP again */
	if (gone)
		iketcp_capture_flush(in);
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
	iketcp_capture_net_init(in);
	IKETCP_DEBUG_COUNT(nets_alive, 1);
	return 0;
}

static void __net_exit iketcp_net_exit(struct net *net)
{
	struct iketcp_net *in = iketcp_net(net);

	/* User sockets hold the netns: no connection can be left here */
	WRITE_ONCE(in->exiting, true);
	iketcp_capture_flush(in);
	cancel_delayed_work_sync(&in->deliver_work);
	WARN_ON_ONCE(!xa_empty(&in->conns));
	xa_destroy(&in->conns);
	IKETCP_DEBUG_COUNT(nets_alive, -1);
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
