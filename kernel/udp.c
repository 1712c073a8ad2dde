// SPDX-License-Identifier: GPL-2.0
/*
 * udp.c - the emitting half of the loopback shim: build a UDP IKE datagram
 * (with the non-ESP marker on the NAT-T port) and either deliver it to the
 * local IKE daemon as if it had arrived from the peer on the interface that
 * leads to the peer, or send it to the peer as a real datagram.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/udp.h>

#include "iketcp.h"

/* Where the IKE message of a datagram comes from: a buffer, or @len
 * bytes at @off in @skb (the fast path's received message).
 */
struct iketcp_udp_payload {
	const u8 *msg;
	const struct sk_buff *skb;
	u32 off;
	u32 len;
};

/*
 * A complete datagram, network header first: from @src to @dst, payload
 * [marker] + the message, UDP checksum filled in. The IP header is complete
 * but for the fields the output path sets itself (TTL comes from the
 * caller).
 */
static struct sk_buff *iketcp_udp_build(const struct iketcp_addr *src,
					const struct iketcp_addr *dst,
					bool nonesp,
					const struct iketcp_udp_payload *pl,
					u8 ttl, gfp_t gfp)
{
	u32 len = pl->len;
	u32 plen = (nonesp ? IKETCP_NONESP_LEN : 0) + len;
	u32 ulen = sizeof(struct udphdr) + plen;
	u32 hlen = src->family == AF_INET ? sizeof(struct iphdr) :
					     sizeof(struct ipv6hdr);
	struct sk_buff *skb;
	struct udphdr *uh;
	__wsum csum;

	skb = alloc_skb(LL_MAX_HEADER + hlen + ulen, gfp);
	if (!skb)
		return NULL;
	skb_reserve(skb, LL_MAX_HEADER + hlen + sizeof(*uh));
	if (nonesp)
		memset(skb_put(skb, IKETCP_NONESP_LEN), 0, IKETCP_NONESP_LEN);
	if (!pl->skb) {
		skb_put_data(skb, pl->msg, len);
	} else if (skb_copy_bits(pl->skb, pl->off, skb_put(skb, len), len)) {
		kfree_skb(skb);
		return NULL;
	}

	uh = skb_push(skb, sizeof(*uh));
	skb_reset_transport_header(skb);
	uh->source = htons(src->port);
	uh->dest = htons(dst->port);
	uh->len = htons(ulen);
	uh->check = 0;
	csum = csum_partial(uh, ulen, 0);

	if (src->family == AF_INET) {
		struct iphdr *iph = skb_push(skb, sizeof(*iph));

		uh->check = csum_tcpudp_magic(src->v4, dst->v4, ulen,
					      IPPROTO_UDP, csum);
		skb_reset_network_header(skb);
		iph->version = 4;
		iph->ihl = sizeof(*iph) >> 2;
		iph->tos = 0;
		iph->tot_len = htons(skb->len);
		iph->id = 0;
		iph->frag_off = 0;
		iph->ttl = ttl;
		iph->protocol = IPPROTO_UDP;
		iph->saddr = src->v4;
		iph->daddr = dst->v4;
		ip_send_check(iph);
		skb->protocol = htons(ETH_P_IP);
	} else {
		struct ipv6hdr *ip6h = skb_push(skb, sizeof(*ip6h));

		uh->check = csum_ipv6_magic(&src->v6, &dst->v6, ulen,
					    IPPROTO_UDP, csum);
		skb_reset_network_header(skb);
		ip6_flow_hdr(ip6h, 0, 0);
		ip6h->payload_len = htons(ulen);
		ip6h->nexthdr = IPPROTO_UDP;
		ip6h->hop_limit = ttl;
		ip6h->saddr = src->v6;
		ip6h->daddr = dst->v6;
		skb->protocol = htons(ETH_P_IPV6);
	}
	if (!uh->check)
		uh->check = CSUM_MANGLED_0;
	return skb;
}

static struct dst_entry *iketcp_udp_route6(struct net *net,
					   const struct iketcp_addr *local,
					   const struct iketcp_addr *peer,
					   int oif)
{
	struct flowi6 fl6 = {
		.daddr = peer->v6,
		.saddr = local->v6,
		.flowi6_oif = oif,
		.flowi6_proto = IPPROTO_UDP,
		.fl6_sport = htons(local->port),
		.fl6_dport = htons(peer->port),
	};
	struct dst_entry *dst = ip6_route_output(net, NULL, &fl6);
	int err = dst->error;

	if (err) {
		dst_release(dst);
		return ERR_PTR(err);
	}
	return dst;
}

/* The route from @local to @peer (the interface that leads to the peer). */
static struct dst_entry *iketcp_udp_route(struct net *net,
					  const struct iketcp_addr *local,
					  const struct iketcp_addr *peer,
					  int oif)
{
	if (local->family == AF_INET) {
		struct flowi4 fl4 = {
			.daddr = peer->v4,
			.saddr = local->v4,
			.flowi4_oif = oif,
			.flowi4_proto = IPPROTO_UDP,
			.fl4_sport = htons(local->port),
			.fl4_dport = htons(peer->port),
		};
		struct rtable *rt = ip_route_output_key(net, &fl4);

		return IS_ERR(rt) ? ERR_CAST(rt) : &rt->dst;
	}
	return iketcp_udp_route6(net, local, peer, oif);
}

static int iketcp_udp_check(const struct iketcp_addr *local,
			    const struct iketcp_addr *peer, u32 len,
			    struct netlink_ext_ack *extack)
{
	if (!local->family || local->family != peer->family) {
		NL_SET_ERR_MSG_MOD(extack,
				   "local and remote addresses of one family needed");
		return -EINVAL;
	}
	if (!local->port || !peer->port) {
		NL_SET_ERR_MSG_MOD(extack, "local and remote ports needed");
		return -EINVAL;
	}
	if (len + IKETCP_NONESP_LEN + sizeof(struct udphdr) > U16_MAX) {
		NL_SET_ERR_MSG_MOD(extack, "message too large for a datagram");
		return -EMSGSIZE;
	}
	return 0;
}

/* iketcp_udp_inject() and iketcp_udp_inject_skb(): the datagram enters the
 * receive path like one received on the interface of the route to @peer.
 */
static int iketcp_udp_deliver(struct net *net, const struct iketcp_addr *peer,
			      const struct iketcp_addr *local, bool nonesp,
			      const struct iketcp_udp_payload *pl, int ifindex,
			      gfp_t gfp, struct netlink_ext_ack *extack)
{
	struct net_device *dev;
	struct dst_entry *dst;
	struct sk_buff *skb;
	int err;

	err = iketcp_udp_check(local, peer, pl->len, extack);
	if (err)
		return err;
	if (ifindex) {
		dev = dev_get_by_index(net, ifindex);
		if (!dev) {
			NL_SET_ERR_MSG_MOD(extack, "no such interface");
			return -ENODEV;
		}
	} else {
		dst = iketcp_udp_route(net, local, peer, 0);
		if (IS_ERR(dst)) {
			NL_SET_ERR_MSG_MOD(extack, "no route to the peer");
			return PTR_ERR(dst);
		}
		dev = dst->dev;
		dev_hold(dev);
		dst_release(dst);
	}

	skb = iketcp_udp_build(peer, local, nonesp, pl, 64, gfp);
	if (!skb) {
		err = -ENOMEM;
		goto out;
	}
	skb->dev = dev;
	skb->pkt_type = PACKET_HOST;
	skb->ip_summed = CHECKSUM_NONE;
	skb_reset_mac_header(skb);
	skb->mac_len = 0;
	/*
	 * Received here and now, not queued to this CPU's backlog: when this
	 * returns the datagram is in the daemon's socket (or was dropped by
	 * the stack as a received one would be: firewall, full socket). So
	 * injections of one connection keep their order, whether they come
	 * from the helper (process context) or the fast path (softirq), on
	 * whichever CPU.
	 */
	local_bh_disable();
	netif_receive_skb(skb);
	local_bh_enable();
	atomic64_inc(&iketcp_net(net)->injected);
out:
	dev_put(dev);
	return err;
}

/**
 * iketcp_udp_inject() - deliver a datagram to the local IKE daemon
 * @net: the network namespace
 * @peer: where it claims to come from (the peer's address and port)
 * @local: where it goes (the daemon's address and port)
 * @nonesp: prefix the non-ESP marker (the daemon is on the NAT-T port)
 * @msg: the IKE message
 * @len: its length
 * @ifindex: interface it arrives on, 0 for the one routing to @peer
 * @extack: where to explain a failure
 *
 * The datagram enters the receive path (netfilter, conntrack, routing,
 * UDP) like one received from the network.
 *
 * Return: 0 or a negative errno.
 */
int iketcp_udp_inject(struct net *net, const struct iketcp_addr *peer,
		      const struct iketcp_addr *local, bool nonesp,
		      const u8 *msg, u32 len, int ifindex,
		      struct netlink_ext_ack *extack)
{
	struct iketcp_udp_payload pl = { .msg = msg, .len = len };

	return iketcp_udp_deliver(net, peer, local, nonesp, &pl, ifindex,
				  GFP_KERNEL, extack);
}

/**
 * iketcp_udp_inject_skb() - iketcp_udp_inject() of a message in an skb
 * @net: the network namespace
 * @peer: where it claims to come from (the peer's address and port)
 * @local: where it goes (the daemon's address and port)
 * @nonesp: prefix the non-ESP marker
 * @skb: holds the IKE message
 * @off: its offset in @skb
 * @len: its length
 *
 * For the fast path: any context (GFP_ATOMIC), @skb is only read.
 *
 * Return: 0 or a negative errno.
 */
int iketcp_udp_inject_skb(struct net *net, const struct iketcp_addr *peer,
			  const struct iketcp_addr *local, bool nonesp,
			  const struct sk_buff *skb, u32 off, u32 len)
{
	struct iketcp_udp_payload pl = { .skb = skb, .off = off, .len = len };

	return iketcp_udp_deliver(net, peer, local, nonesp, &pl, 0,
				  GFP_ATOMIC, NULL);
}

/**
 * iketcp_udp_send() - send a datagram to a peer, as the daemon would have
 * @net: the network namespace
 * @local: source address and port (the daemon's)
 * @peer: destination address and port
 * @nonesp: prefix the non-ESP marker (NAT-T port)
 * @msg: the IKE message
 * @len: its length
 * @extack: where to explain a failure
 *
 * The datagram has no socket, so the capture hook lets it pass; it is
 * fragmented when it exceeds the path MTU, like the daemon's would be.
 *
 * Return: 0 or a negative errno.
 */
int iketcp_udp_send(struct net *net, const struct iketcp_addr *local,
		    const struct iketcp_addr *peer, bool nonesp,
		    const u8 *msg, u32 len, struct netlink_ext_ack *extack)
{
	struct iketcp_udp_payload pl = { .msg = msg, .len = len };
	struct dst_entry *dst;
	struct sk_buff *skb;
	int err;

	err = iketcp_udp_check(local, peer, len, extack);
	if (err)
		return err;
	dst = iketcp_udp_route(net, local, peer, 0);
	if (IS_ERR(dst)) {
		NL_SET_ERR_MSG_MOD(extack, "no route to the peer");
		return PTR_ERR(dst);
	}
	skb = iketcp_udp_build(local, peer, nonesp, &pl,
			       local->family == AF_INET ?
			       ip4_dst_hoplimit(dst) : ip6_dst_hoplimit(dst),
			       GFP_KERNEL);
	if (!skb) {
		dst_release(dst);
		return -ENOMEM;
	}
	skb_dst_set(skb, dst);
	skb->ignore_df = 1;
	if (local->family == AF_INET) {
		ip_select_ident(net, skb, NULL);
		err = ip_local_out(net, NULL, skb);
	} else {
		err = ip6_local_out(net, NULL, skb);
	}
	err = net_xmit_eval(err);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "sending the datagram failed");
		return err;
	}
	atomic64_inc(&iketcp_net(net)->udp_sent);
	return 0;
}
