// SPDX-License-Identifier: GPL-2.0
/*
 * capture.c - the capture half of the loopback shim: a netfilter hook on
 * LOCAL_OUT takes the UDP IKE datagrams that the local IKE daemon sends to
 * peers selected by the helper's capture rules, and hands them to the
 * helper instead of the network. ESP (also UDP-encapsulated on 4500) and
 * NAT keepalives are never touched. The hooks are registered in a netns
 * only while it has rules.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/route.h>

#include "iketcp.h"

static bool iketcp_prefix_match(const struct iketcp_capture_rule *r,
				const struct iketcp_addr *a)
{
	if (r->prefix.family != a->family)
		return false;
	if (a->family == AF_INET) {
		__be32 mask = r->plen ? htonl(~0U << (32 - r->plen)) : 0;

		return !((r->prefix.v4 ^ a->v4) & mask);
	}
	return ipv6_prefix_equal(&r->prefix.v6, &a->v6, r->plen);
}

/* No bit set beyond the prefix length */
static bool iketcp_prefix_clean(const struct iketcp_addr *p, u8 plen)
{
	struct in6_addr t;

	if (p->family == AF_INET) {
		__be32 mask = plen ? htonl(~0U << (32 - plen)) : 0;

		return !(p->v4 & ~mask);
	}
	ipv6_addr_prefix(&t, &p->v6, plen);
	return ipv6_addr_equal(&t, &p->v6);
}

/* Longest-prefix match. Called under RCU. */
static bool iketcp_capture_wanted(struct iketcp_net *in,
				  const struct iketcp_addr *peer)
{
	const struct iketcp_capture_rule *r, *best = NULL;

	list_for_each_entry_rcu(r, &in->capture_rules, node)
		if (iketcp_prefix_match(r, peer) &&
		    (!best || r->plen > best->plen))
			best = r;
	return best && best->capture;
}

/*
 * Is this UDP payload an IKE message of the daemon? From port 500: any
 * payload with a plausible IKE header. From 4500: only after the 4-byte
 * zero non-ESP marker (else it is ESP, or a 1-byte NAT keepalive).
 */
static bool iketcp_capture_is_ike(struct sk_buff *skb, u32 off, u32 len,
				  u16 sport, bool *nonesp, u32 *ike_off)
{
	u8 hdr[IKETCP_NONESP_LEN + IKETCP_IKE_HDR_LEN];
	u32 need, major;

	*nonesp = sport == IKETCP_NATT_PORT;
	need = (*nonesp ? IKETCP_NONESP_LEN : 0) + IKETCP_IKE_HDR_LEN;
	if (len < need || skb_copy_bits(skb, off, hdr, need))
		return false;
	if (*nonesp && (hdr[0] | hdr[1] | hdr[2] | hdr[3]))
		return false;
	*ike_off = off + (*nonesp ? IKETCP_NONESP_LEN : 0);
	major = hdr[need - IKETCP_IKE_HDR_LEN + IKETCP_IKE_OFF_VERSION] >> 4;
	return major == 1 || major == 2;
}

/*
 * Is @sk the IKE daemon's socket? A UDP datagram socket (not raw: a raw
 * socket writes any "UDP" header it likes) opened by a process with
 * CAP_NET_ADMIN or CAP_NET_BIND_SERVICE in the socket's netns: port 4500
 * is unprivileged, and any local user can send from it (on another
 * address, or on the daemon's with SO_REUSEADDR). The credentials are the
 * opener's, kept by the socket's file (an IKE daemon opens its sockets
 * before it drops privileges).
 */
static bool iketcp_capture_daemon_sock(struct sock *sk)
{
	struct user_namespace *ns = sock_net(sk)->user_ns;
	const struct file *file;
	bool ok = false;

	if (!sk_fullsock(sk) || sk->sk_type != SOCK_DGRAM ||
	    sk->sk_protocol != IPPROTO_UDP)
		return false;
	read_lock_bh(&sk->sk_callback_lock);
	file = sk->sk_socket ? sk->sk_socket->file : NULL;
	if (file)
		ok = file_ns_capable(file, ns, CAP_NET_ADMIN) ||
		     file_ns_capable(file, ns, CAP_NET_BIND_SERVICE);
	read_unlock_bh(&sk->sk_callback_lock);
	return ok;
}

/* A datagram of the daemon to capture, as the hook found it */
struct iketcp_captured {
	struct iketcp_addr local;
	struct iketcp_addr remote;
	u32 ike_off;
	bool nonesp;
};

/* What a deferred datagram keeps in its control buffer (it is ours once
 * stolen): the family and the path MTU (its route is dropped).
 */
struct iketcp_capture_cb {
	u32 pmtu;
	u8 pf;
};

/* The longest a netns defers datagrams for want of memory: beyond it they
 * are dropped (the daemon retransmits). They stay charged to the daemon's
 * socket (its send buffer bounds them too).
 */
#define IKETCP_CAPTURE_QLEN	64

/*
 * Is @skb (LOCAL_OUT, network header first) a datagram the daemon sends
 * from its IKE ports? Fills @c. The socket is checked by the caller.
 */
static bool iketcp_capture_parse(struct sk_buff *skb, u8 pf,
				 struct iketcp_captured *c)
{
	struct udphdr _uh;
	const struct udphdr *uh;
	u32 thoff, ulen;
	u8 proto;

	memset(c, 0, sizeof(*c));
	if (pf == NFPROTO_IPV4) {
		const struct iphdr *iph = ip_hdr(skb);

		if (iph->protocol != IPPROTO_UDP || ip_is_fragment(iph))
			return false;
		thoff = ip_hdrlen(skb);
		c->local.family = AF_INET;
		c->local.v4 = iph->saddr;
		c->remote.family = AF_INET;
		c->remote.v4 = iph->daddr;
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);
		__be16 frag_off;
		int off;

		proto = ip6h->nexthdr;
		off = ipv6_skip_exthdr(skb, sizeof(*ip6h), &proto, &frag_off);
		if (off < 0 || proto != IPPROTO_UDP || frag_off)
			return false;
		thoff = off;
		c->local.family = AF_INET6;
		c->local.v6 = ip6h->saddr;
		c->remote.family = AF_INET6;
		c->remote.v6 = ip6h->daddr;
	}

	uh = skb_header_pointer(skb, skb_network_offset(skb) + thoff,
				sizeof(_uh), &_uh);
	if (!uh)
		return false;
	c->local.port = ntohs(uh->source);
	c->remote.port = ntohs(uh->dest);
	if (c->local.port != IKETCP_IKE_PORT &&
	    c->local.port != IKETCP_NATT_PORT)
		return false;
	ulen = skb->len - skb_network_offset(skb) - thoff - sizeof(*uh);
	return iketcp_capture_is_ike(skb, skb_network_offset(skb) + thoff +
				     sizeof(*uh), ulen, c->local.port,
				     &c->nonesp, &c->ike_off);
}

static int iketcp_capture_notify(struct iketcp_net *in, struct sk_buff *skb,
				 const struct iketcp_captured *c, u32 pmtu,
				 gfp_t gfp)
{
	return iketcp_nl_notify_captured(in, skb, &c->local, &c->remote,
					 c->nonesp, c->ike_off,
					 skb->len - c->ike_off, pmtu, gfp);
}

static void iketcp_capture_counted(struct iketcp_net *in, int err)
{
	if (err) {
		/* The daemon retransmits; count it, never let it out. */
		atomic64_inc(&in->capture_drops);
		net_info_ratelimited("helper busy, captured IKE datagram dropped\n");
	} else {
		atomic64_inc(&in->captured);
	}
}

/* Keep @skb (stolen) for the capture work. Return: false if it is full. */
static bool iketcp_capture_defer(struct iketcp_net *in, struct sk_buff *skb,
				 u8 pf, u32 pmtu)
{
	struct iketcp_capture_cb *cb = (struct iketcp_capture_cb *)skb->cb;

	BUILD_BUG_ON(sizeof(*cb) > sizeof(skb->cb));
	if (skb_queue_len_lockless(&in->capture_q) >= IKETCP_CAPTURE_QLEN ||
	    READ_ONCE(in->exiting))
		return false;
	skb_dst_drop(skb);
	cb->pmtu = pmtu;
	cb->pf = pf;
	atomic_inc(&in->capture_pending);
	skb_queue_tail(&in->capture_q, skb);
	schedule_work(&in->capture_work);
	return true;
}

static void iketcp_capture_work(struct work_struct *work)
{
	struct iketcp_net *in = container_of(work, struct iketcp_net,
					     capture_work);
	struct sk_buff *skb;

	while ((skb = skb_dequeue(&in->capture_q))) {
		struct iketcp_capture_cb *cb =
			(struct iketcp_capture_cb *)skb->cb;
		struct iketcp_captured c;
		int err = -EINVAL;

		if (iketcp_capture_parse(skb, cb->pf, &c))
			err = iketcp_capture_notify(in, skb, &c, cb->pmtu,
						    GFP_KERNEL);
		if (!err)
			atomic64_inc(&in->capture_deferred);
		iketcp_capture_counted(in, err);
		consume_skb(skb);
		atomic_dec(&in->capture_pending);
		cond_resched();
	}
}

/* Drop what waits for the capture work (its helper is gone) */
static void iketcp_capture_purge(struct iketcp_net *in)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(&in->capture_q))) {
		atomic64_inc(&in->capture_drops);
		kfree_skb(skb);
		atomic_dec(&in->capture_pending);
	}
}

static unsigned int iketcp_capture_hook(void *priv, struct sk_buff *skb,
					const struct nf_hook_state *state)
{
	struct iketcp_net *in = priv;
	struct iketcp_captured c;
	u32 pmtu;
	int err;

	/* Only datagrams of a local UDP socket (the daemon's: checked last,
	 * once the datagram is one it would be), one datagram on the wire
	 */
	if (!skb->sk || !sk_fullsock(skb->sk) ||
	    skb->sk->sk_protocol != IPPROTO_UDP || skb_is_gso(skb))
		return NF_ACCEPT;
	if (!iketcp_capture_parse(skb, state->pf, &c))
		return NF_ACCEPT;
	if (!iketcp_helper_portid(in) ||
	    !iketcp_capture_wanted(in, &c.remote) ||
	    !iketcp_capture_daemon_sock(skb->sk))
		return NF_ACCEPT;

	pmtu = skb_dst(skb) ? dst_mtu(skb_dst(skb)) : 0;
	/*
	 * The notification copies up to 64 KiB: no reserves for it here;
	 * without memory now, the capture work retries with GFP_KERNEL.
	 * Behind datagrams it still holds, so that the helper gets them in
	 * the order the daemon sent them.
	 */
	err = -ENOMEM;
	if (!atomic_read(&in->capture_pending))
		err = iketcp_capture_notify(in, skb, &c, pmtu,
					    IKETCP_GFP_ATOMIC);
	if (err == -ENOMEM &&
	    iketcp_capture_defer(in, skb, state->pf, pmtu))
		return NF_STOLEN;
	iketcp_capture_counted(in, err);
	consume_skb(skb);
	return NF_STOLEN;
}

static int iketcp_capture_hooks_on(struct iketcp_net *in)
{
	int err;

	if (in->hooks_on)
		return 0;
	err = nf_register_net_hooks(in->net, in->hooks, ARRAY_SIZE(in->hooks));
	if (!err)
		in->hooks_on = true;
	return err;
}

static void iketcp_capture_hooks_off(struct iketcp_net *in)
{
	if (!in->hooks_on)
		return;
	nf_unregister_net_hooks(in->net, in->hooks, ARRAY_SIZE(in->hooks));
	in->hooks_on = false;
}

static struct iketcp_capture_rule *
iketcp_capture_find(struct iketcp_net *in, const struct iketcp_addr *prefix,
		    u8 plen)
{
	struct iketcp_capture_rule *r;

	list_for_each_entry(r, &in->capture_rules, node)
		if (r->plen == plen && iketcp_prefix_match(r, prefix) &&
		    r->prefix.family == prefix->family)
			return r;
	return NULL;
}

/**
 * iketcp_capture_add() - add or replace a capture rule
 * @in: the per-netns state
 * @prefix: peer address prefix (host bits must be zero)
 * @plen: prefix length
 * @capture: capture (true) or leave alone (false)
 * @extack: where to explain a refusal
 *
 * Return: 0 or a negative errno.
 */
int iketcp_capture_add(struct iketcp_net *in, const struct iketcp_addr *prefix,
		       u8 plen, bool capture, struct netlink_ext_ack *extack)
{
	struct iketcp_capture_rule *r, *old;
	int err;

	if (plen > (prefix->family == AF_INET ? 32 : 128)) {
		NL_SET_ERR_MSG_MOD(extack, "prefix length too long");
		return -EINVAL;
	}
	if (!iketcp_prefix_clean(prefix, plen)) {
		NL_SET_ERR_MSG_MOD(extack, "host bits set in prefix");
		return -EINVAL;
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->prefix = *prefix;
	r->prefix.port = 0;
	r->plen = plen;
	r->capture = capture;

	mutex_lock(&in->capture_lock);
	if (!iketcp_helper_portid(in)) {
		NL_SET_ERR_MSG_MOD(extack, "no helper registered in this netns");
		err = -ENOTCONN;
		goto err_unlock;
	}
	err = iketcp_capture_hooks_on(in);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "cannot register netfilter hooks");
		goto err_unlock;
	}
	old = iketcp_capture_find(in, prefix, plen);
	if (old) {
		list_replace_rcu(&old->node, &r->node);
		kfree_rcu(old, rcu);
	} else {
		list_add_tail_rcu(&r->node, &in->capture_rules);
	}
	mutex_unlock(&in->capture_lock);
	return 0;

err_unlock:
	mutex_unlock(&in->capture_lock);
	kfree(r);
	return err;
}

/**
 * iketcp_capture_del() - remove the rule for a prefix
 * @in: the per-netns state
 * @prefix: peer address prefix
 * @plen: prefix length
 *
 * Return: 0 or -ENOENT.
 */
int iketcp_capture_del(struct iketcp_net *in, const struct iketcp_addr *prefix,
		       u8 plen)
{
	struct iketcp_capture_rule *r;
	int err = -ENOENT;

	mutex_lock(&in->capture_lock);
	r = iketcp_capture_find(in, prefix, plen);
	if (r) {
		list_del_rcu(&r->node);
		kfree_rcu(r, rcu);
		err = 0;
	}
	if (list_empty(&in->capture_rules))
		iketcp_capture_hooks_off(in);
	mutex_unlock(&in->capture_lock);
	return err;
}

/**
 * iketcp_capture_flush() - remove every rule and the hooks
 * @in: the per-netns state
 *
 * Called when the helper goes away and when the netns exits.
 */
void iketcp_capture_flush(struct iketcp_net *in)
{
	struct iketcp_capture_rule *r, *tmp;

	mutex_lock(&in->capture_lock);
	iketcp_capture_hooks_off(in);
	list_for_each_entry_safe(r, tmp, &in->capture_rules, node) {
		list_del_rcu(&r->node);
		kfree_rcu(r, rcu);
	}
	mutex_unlock(&in->capture_lock);
	/* the hooks are off (synchronously): nothing queues any more */
	iketcp_capture_purge(in);
}

/**
 * iketcp_capture_net_exit() - stop the capture work of an exiting netns
 * @in: the per-netns state, hooks already off (iketcp_capture_flush())
 */
void iketcp_capture_net_exit(struct iketcp_net *in)
{
	cancel_work_sync(&in->capture_work);
	iketcp_capture_purge(in);
}

/**
 * iketcp_capture_net_init() - set up the capture state of a netns
 * @in: the per-netns state
 */
void iketcp_capture_net_init(struct iketcp_net *in)
{
	mutex_init(&in->capture_lock);
	INIT_LIST_HEAD(&in->capture_rules);
	skb_queue_head_init(&in->capture_q);
	INIT_WORK(&in->capture_work, iketcp_capture_work);
	in->hooks[0] = (struct nf_hook_ops) {
		.hook = iketcp_capture_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_FILTER + 1,
		.priv = in,
	};
	in->hooks[1] = (struct nf_hook_ops) {
		.hook = iketcp_capture_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP6_PRI_FILTER + 1,
		.priv = in,
	};
}
