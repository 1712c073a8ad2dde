// SPDX-License-Identifier: GPL-2.0
/*
 * esp.c - ESP in an RFC 9329 stream (RFC 9329 s3), without a trip through
 * userspace:
 * - inbound, each ESP record goes to the local xfrm input as the SA of its
 *   SPI expects it: as plain ESP, or as ESP-in-UDP to the NAT-T socket of
 *   the daemon (the ports of the SA's encapsulation);
 * - outbound, the ESP that the local xfrm layer produced for a peer whose
 *   ESP the helper routed to a connection (IKETCP_A_ESP) is taken at
 *   LOCAL_OUT, plain or ESP-in-UDP alike, and written to that connection
 *   as ESP records. The daemon's NAT keepalives to that peer are dropped
 *   (RFC 9329 s6.6).
 * The daemon's configuration does not change: it negotiates ESP, or
 * ESP-in-UDP, as if the peer were reachable over UDP.
 */
#include <linux/hash.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/slab.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/xfrm.h>

#include "iketcp.h"

/* Bytes of ESP a connection may hold before they are written */
#define IKETCP_ESP_QUEUE_MAX	(256 * 1024)

static u32 iketcp_esp_hash(const struct iketcp_addr *a)
{
	u32 h = a->family == AF_INET ? (__force u32)a->v4 :
				       ipv6_addr_hash(&a->v6);

	return hash_32(h, IKETCP_ESP_HASH_BITS);
}

static bool iketcp_esp_addr_eq(const struct iketcp_addr *a,
			       const struct iketcp_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4 == b->v4;
	return ipv6_addr_equal(&a->v6, &b->v6);
}

/* The connection carrying the ESP of @peer, under rcu_read_lock() */
static struct iketcp_conn *iketcp_esp_lookup(struct iketcp_net *in,
					     const struct iketcp_addr *peer)
{
	struct iketcp_esp_route *r;

	hlist_for_each_entry_rcu(r, &in->esp_routes[iketcp_esp_hash(peer)],
				 node)
		if (iketcp_esp_addr_eq(&r->peer, peer))
			return r->conn;
	return NULL;
}

/**
 * iketcp_esp_rcv() - deliver the ESP packet of a received record
 * @conn: the connection, socket locked (the stream parser's context)
 * @skb: the record; consumed
 * @off: offset of the ESP packet in @skb
 * @len: its length (at least IKETCP_ESP_HDR_LEN, the framing core checked)
 *
 * The SA is looked up by SPI and the connection's local address (the
 * daemon's): no SA, or one encapsulated in a way iketcp cannot deliver (TCP,
 * espintcp's), drops the packet and counts it.
 */
void iketcp_esp_rcv(struct iketcp_conn *conn, struct sk_buff *skb, u32 off,
		    u32 len)
{
	struct iketcp_addr peer = conn->remote, local = conn->local;
	struct net *net = sock_net(conn->sk);
	xfrm_address_t daddr = {};
	struct xfrm_state *x;
	bool encap = false, ok = true;
	__be32 spi;
	int err;

	if (skb_copy_bits(skb, off, &spi, sizeof(spi)))
		goto err_drop;
	if (local.family == AF_INET)
		daddr.a4 = local.v4;
	else
		daddr.in6 = local.v6;
	x = xfrm_state_lookup(net, skb->mark, &daddr, spi, IPPROTO_ESP,
			      local.family);
	if (!x) {
		conn->stats.esp_rx_nosa++;
		goto err_drop;
	}
	spin_lock_bh(&x->lock);
	if (x->encap) {
		encap = true;
		ok = x->encap->encap_type == UDP_ENCAP_ESPINUDP;
		/* an inbound SA: the peer sends from sport to our dport */
		peer.port = ntohs(x->encap->encap_sport);
		local.port = ntohs(x->encap->encap_dport);
	}
	spin_unlock_bh(&x->lock);
	xfrm_state_put(x);
	if (!ok) {
		conn->stats.esp_rx_nosa++;
		goto err_drop;
	}
	err = encap ? iketcp_udp_inject_skb(net, &peer, &local, false, skb,
					    off, len) :
		      iketcp_udp_inject_esp_skb(net, &peer, &local, skb, off,
						len);
	if (err)
		goto err_drop;
	conn->stats.esp_rx_pkts++;
	conn->stats.esp_rx_bytes += len;
	consume_skb(skb);
	return;

err_drop:
	conn->stats.esp_rx_drops++;
	kfree_skb(skb);
}

/*
 * Queue the ESP packet that @skb holds at @off (network header first) on
 * @conn; tx_work makes it a record of the send queue, charged to the
 * socket. Until then (any context: no socket lock) it counts against the
 * connection's IKETCP_ESP_QUEUE_MAX and the netns memory cap. (Charging
 * the socket's sk_wmem_alloc here would throttle TCP small queues with
 * bytes that are not in flight.)
 */
static void iketcp_esp_queue(struct iketcp_conn *conn, struct sk_buff *skb,
			     u32 off)
{
	struct iketcp_net *in = conn->inet;
	u32 len;

	if (!pskb_pull(skb, off))
		goto err_drop;
	len = skb->len;
	if (len < IKETCP_ESP_HDR_LEN || len > IKETCP_RFC9329_ESP_MAX)
		goto err_drop;
	skb_orphan(skb);
	skb_dst_drop(skb);
	spin_lock_bh(&conn->esp_q.lock);
	/* a closing connection purges the queue under this lock */
	if (test_bit(IKETCP_CONN_DETACHED, &conn->flags) ||
	    conn->esp_queued + skb->truesize > IKETCP_ESP_QUEUE_MAX)
		goto err_unlock;
	if (atomic64_add_return(skb->truesize, &in->mem_used) >
	    READ_ONCE(in->mem_limit)) {
		atomic64_sub(skb->truesize, &in->mem_used);
		atomic64_inc(&in->mem_refusals);
		goto err_unlock;
	}
	conn->esp_queued += skb->truesize;
	__skb_queue_tail(&conn->esp_q, skb);
	schedule_work(&conn->tx_work);
	spin_unlock_bh(&conn->esp_q.lock);
	return;

err_unlock:
	spin_unlock_bh(&conn->esp_q.lock);
err_drop:
	atomic64_inc(&conn->esp_tx_drops);
	kfree_skb(skb);
}

/*
 * The ESP (or ESP-in-UDP) payload of a transformed packet: its offset from
 * the network header and where it goes. A UDP datagram whose payload is a
 * NAT keepalive sets *@keepalive; one with the non-ESP marker (IKE) is not
 * ESP.
 */
static bool iketcp_esp_parse(struct sk_buff *skb, u8 pf,
			     struct iketcp_addr *peer, u32 *off,
			     bool *keepalive)
{
	u8 proto;
	u32 n;

	memset(peer, 0, sizeof(*peer));
	/* one packet on the wire (ESP offload's GSO leaves as it is) */
	if (skb_is_gso(skb))
		return false;
	if (pf == NFPROTO_IPV4) {
		const struct iphdr *iph = ip_hdr(skb);

		if (!(IPCB(skb)->flags & IPSKB_XFRM_TRANSFORMED) ||
		    ip_is_fragment(iph))
			return false;
		proto = iph->protocol;
		peer->family = AF_INET;
		peer->v4 = iph->daddr;
		n = iph->ihl * 4;
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		if (!(IP6CB(skb)->flags & IP6SKB_XFRM_TRANSFORMED))
			return false;
		proto = ip6h->nexthdr;
		peer->family = AF_INET6;
		peer->v6 = ip6h->daddr;
		n = sizeof(*ip6h);
	}
	*keepalive = false;
	if (proto == IPPROTO_UDP) {
		u8 b[sizeof(struct udphdr) + IKETCP_NONESP_LEN];
		u32 plen;

		if (skb->len < n + sizeof(struct udphdr) + 1 ||
		    skb_copy_bits(skb, n, b, min_t(u32, skb->len - n,
						   sizeof(b))))
			return false;
		plen = skb->len - n - sizeof(struct udphdr);
		if (plen == 1 && b[sizeof(struct udphdr)] == 0xff) {
			*keepalive = true;
			return true;
		}
		if (plen < IKETCP_ESP_HDR_LEN ||
		    !memchr_inv(b + sizeof(struct udphdr), 0, IKETCP_NONESP_LEN))
			return false;
		n += sizeof(struct udphdr);
	} else if (proto != IPPROTO_ESP) {
		return false;
	}
	*off = n;
	return true;
}

static unsigned int iketcp_esp_hook(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	struct iketcp_net *in = priv;
	struct iketcp_addr peer;
	struct iketcp_conn *conn;
	bool keepalive;
	u32 off;

	if (!iketcp_esp_parse(skb, state->pf, &peer, &off, &keepalive))
		return NF_ACCEPT;
	rcu_read_lock();
	conn = iketcp_esp_lookup(in, &peer);
	if (!conn) {
		rcu_read_unlock();
		return NF_ACCEPT;
	}
	if (keepalive)
		consume_skb(skb);
	else
		iketcp_esp_queue(conn, skb, off);
	rcu_read_unlock();
	return NF_STOLEN;
}

/**
 * iketcp_esp_flush_queue() - move the queued ESP packets to the send queue
 * @conn: the connection, socket locked (tx_work)
 *
 * Each packet becomes one record; a packet that does not fit the send
 * queue or the memory limits is dropped and counted.
 */
void iketcp_esp_flush_queue(struct iketcp_conn *conn)
{
	struct sk_buff_head q;
	struct sk_buff *skb;

	__skb_queue_head_init(&q);
	spin_lock_bh(&conn->esp_q.lock);
	skb_queue_splice_init(&conn->esp_q, &q);
	atomic64_sub(conn->esp_queued, &conn->inet->mem_used);
	conn->esp_queued = 0;
	spin_unlock_bh(&conn->esp_q.lock);

	while ((skb = __skb_dequeue(&q))) {
		u8 hdr[IKETCP_RFC9329_LEN_FIELD];
		u32 len = skb->len;

		if (!iketcp_frame_esp_prefix(len, hdr) ||
		    iketcp_tx_queue_record(conn, hdr, sizeof(hdr), skb)) {
			atomic64_inc(&conn->esp_tx_drops);
			kfree_skb(skb);
			continue;
		}
		conn->stats.esp_tx_pkts++;
		conn->stats.esp_tx_bytes += len;
		consume_skb(skb);
	}
}

/* Remove @r (under iketcp_net::esp_lock): its connection carries no ESP */
static void iketcp_esp_route_drop(struct iketcp_esp_route *r)
{
	hlist_del_rcu(&r->node);
	r->conn->esp_route = NULL;
	kfree_rcu(r, rcu);
}

/**
 * iketcp_esp_route_set() - make @conn the carrier of its peer's ESP, or stop
 * @conn: an RFC 9329 connection
 * @on: carry (the previous carrier of that address stops), or stop (only
 *	if @conn carries it)
 * @extack: where to explain a refusal
 *
 * Return: 0, -EOPNOTSUPP (not RFC 9329 framing), -ENOTCONN (closing), or
 * the error of registering the netfilter hooks.
 */
int iketcp_esp_route_set(struct iketcp_conn *conn, bool on,
			 struct netlink_ext_ack *extack)
{
	struct iketcp_net *in = conn->inet;
	struct iketcp_esp_route *r, *old;
	int err = 0;

	if (conn->framer.mode != IKETCP_FRAMING_RFC9329) {
		NL_SET_ERR_MSG_MOD(extack,
				   "only RFC 9329 connections carry ESP");
		return -EOPNOTSUPP;
	}
	r = on ? kzalloc(sizeof(*r), GFP_KERNEL) : NULL;
	if (on && !r)
		return -ENOMEM;

	mutex_lock(&in->esp_lock);
	if (test_bit(IKETCP_CONN_DETACHED, &conn->flags)) {
		NL_SET_ERR_MSG_MOD(extack, "connection is closing");
		err = -ENOTCONN;
		goto out;
	}
	if (!on) {
		if (conn->esp_route)
			iketcp_esp_route_drop(conn->esp_route);
		goto out;
	}
	if (conn->esp_route)
		goto out;	/* already */
	if (!in->esp_hooks_on) {
		err = nf_register_net_hooks(in->net, in->esp_hooks,
					    ARRAY_SIZE(in->esp_hooks));
		if (err) {
			NL_SET_ERR_MSG_MOD(extack,
					   "cannot register the ESP hooks");
			goto out;
		}
		in->esp_hooks_on = true;
	}
	r->peer = conn->remote;
	r->peer.port = 0;
	r->conn = conn;
	/* the address moves to this connection */
	hlist_for_each_entry(old, &in->esp_routes[iketcp_esp_hash(&r->peer)],
			     node) {
		if (iketcp_esp_addr_eq(&old->peer, &r->peer)) {
			iketcp_esp_route_drop(old);
			break;
		}
	}
	hlist_add_head_rcu(&r->node,
			   &in->esp_routes[iketcp_esp_hash(&r->peer)]);
	conn->esp_route = r;
	r = NULL;
out:
	mutex_unlock(&in->esp_lock);
	kfree(r);
	return err;
}

/**
 * iketcp_esp_detach() - a closing connection stops carrying ESP
 * @conn: the connection, detached from its socket (no callback runs),
 *	process context, before its tx_work is disabled
 *
 * The hooks find no route to it any more; what they queued is dropped
 * (under the queue's lock, so none comes after).
 */
void iketcp_esp_detach(struct iketcp_conn *conn)
{
	struct iketcp_net *in = conn->inet;

	if (conn->esp_route) {
		mutex_lock(&in->esp_lock);
		if (conn->esp_route)
			iketcp_esp_route_drop(conn->esp_route);
		mutex_unlock(&in->esp_lock);
	}
	spin_lock_bh(&conn->esp_q.lock);
	atomic64_add(skb_queue_len(&conn->esp_q), &conn->esp_tx_drops);
	__skb_queue_purge(&conn->esp_q);
	atomic64_sub(conn->esp_queued, &conn->inet->mem_used);
	conn->esp_queued = 0;
	spin_unlock_bh(&conn->esp_q.lock);
}

/**
 * iketcp_esp_net_init() - set up the ESP state of a netns
 * @in: the per-netns state
 */
void iketcp_esp_net_init(struct iketcp_net *in)
{
	int i;

	mutex_init(&in->esp_lock);
	for (i = 0; i < ARRAY_SIZE(in->esp_routes); i++)
		INIT_HLIST_HEAD(&in->esp_routes[i]);
	in->esp_hooks[0] = (struct nf_hook_ops) {
		.hook = iketcp_esp_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_FILTER + 2,
		.priv = in,
	};
	in->esp_hooks[1] = (struct nf_hook_ops) {
		.hook = iketcp_esp_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP6_PRI_FILTER + 2,
		.priv = in,
	};
}

/**
 * iketcp_esp_net_exit() - unregister the ESP hooks of an exiting netns
 * @in: the per-netns state; every connection is gone (no route is left)
 */
void iketcp_esp_net_exit(struct iketcp_net *in)
{
	mutex_lock(&in->esp_lock);
	if (in->esp_hooks_on)
		nf_unregister_net_hooks(in->net, in->esp_hooks,
					ARRAY_SIZE(in->esp_hooks));
	in->esp_hooks_on = false;
	mutex_unlock(&in->esp_lock);
}
