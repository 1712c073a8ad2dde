// SPDX-License-Identifier: GPL-2.0
/*
 * udp.c - the emitting half of the loopback shim: build a UDP IKE datagram
 * (with the non-ESP marker on the NAT-T port) and either deliver it to the
 * local IKE daemon as if it had arrived from the peer on the interface that
 * leads to the peer, or send it to the peer as a real datagram. ESP from an
 * RFC 9329 stream is delivered the same way, as a plain ESP packet or as
 * ESP-in-UDP.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/highmem.h>
#include <linux/netfilter.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/ipv6_stubs.h>
#include <net/l3mdev.h>
#include <net/route.h>
#include <net/udp.h>

#include "iketcp.h"

/* Where the IKE message of a datagram comes from: a buffer, or @len
 * bytes at @off in @skb (the fast path's received message, an ESP packet);
 * @esp: the packet is plain ESP (IP protocol 50), no UDP header.
 */
struct iketcp_udp_payload {
	const u8 *msg;
	const struct sk_buff *skb;
	u32 off;
	u32 len;
	bool esp;
};

/*
 * Copy the message into @skb at @at (the headers before it are in the
 * head): into the head first, then into the page fragments.
 */
static int iketcp_udp_fill(struct sk_buff *skb, u32 at,
			   const struct iketcp_udp_payload *pl)
{
	u32 n = min_t(u32, skb_headlen(skb) - at, pl->len), done;
	int i, err;

	if (!pl->skb)
		return skb_store_bits(skb, at, pl->msg, pl->len);
	err = skb_copy_bits(pl->skb, pl->off, skb->data + at, n);
	for (i = 0, done = n; !err && i < skb_shinfo(skb)->nr_frags; i++) {
		skb_frag_t *f = &skb_shinfo(skb)->frags[i];
		u8 *va = kmap_local_page(skb_frag_page(f));

		n = skb_frag_size(f);
		err = skb_copy_bits(pl->skb, pl->off + done,
				    va + skb_frag_off(f), n);
		kunmap_local(va);
		done += n;
	}
	return err;
}

/*
 * A complete datagram, network header first: from @src to @dst, payload
 * [marker] + the message, UDP checksum filled in. The IP header is complete
 * but for the fields the output path sets itself (TTL comes from the
 * caller). A message that does not fit in one page with the headers goes
 * into order-0 page fragments: no datagram needs a high-order allocation,
 * which an atomic caller (the fast path) would fail under fragmentation.
 */
static struct sk_buff *iketcp_udp_build(const struct iketcp_addr *src,
					const struct iketcp_addr *dst,
					bool nonesp,
					const struct iketcp_udp_payload *pl,
					u8 ttl, gfp_t gfp)
{
	u32 len = pl->len;
	u32 plen = (nonesp ? IKETCP_NONESP_LEN : 0) + len;
	u32 thlen = pl->esp ? 0 : sizeof(struct udphdr);
	u32 ulen = thlen + plen;
	u32 hlen = src->family == AF_INET ? sizeof(struct iphdr) :
					     sizeof(struct ipv6hdr);
	u32 head = LL_MAX_HEADER + hlen + ulen - len, linear = len;
	u8 proto = pl->esp ? IPPROTO_ESP : IPPROTO_UDP;
	struct udphdr *uh = NULL;
	struct sk_buff *skb;
	int err;

	if (head + len > SKB_WITH_OVERHEAD(PAGE_SIZE))
		linear = 0;
	skb = alloc_skb_with_frags(head + linear, len - linear, 0, &err, gfp);
	if (!skb)
		return NULL;
	skb_reserve(skb, LL_MAX_HEADER + hlen + thlen);
	if (nonesp)
		memset(skb_put(skb, IKETCP_NONESP_LEN), 0, IKETCP_NONESP_LEN);
	skb_put(skb, linear);
	skb->len += len - linear;
	skb->data_len = len - linear;
	if (iketcp_udp_fill(skb, skb->len - len, pl)) {
		kfree_skb(skb);
		return NULL;
	}

	if (!pl->esp) {
		uh = skb_push(skb, sizeof(*uh));
		uh->source = htons(src->port);
		uh->dest = htons(dst->port);
		uh->len = htons(ulen);
		uh->check = 0;
	}
	skb_reset_transport_header(skb);

	if (src->family == AF_INET) {
		struct iphdr *iph;

		if (uh)
			uh->check = csum_tcpudp_magic(src->v4, dst->v4, ulen,
						      IPPROTO_UDP,
						      skb_checksum(skb, 0, ulen,
								   0));
		iph = skb_push(skb, sizeof(*iph));
		skb_reset_network_header(skb);
		iph->version = 4;
		iph->ihl = sizeof(*iph) >> 2;
		iph->tos = 0;
		iph->tot_len = htons(skb->len);
		iph->id = 0;
		iph->frag_off = 0;
		iph->ttl = ttl;
		iph->protocol = proto;
		iph->saddr = src->v4;
		iph->daddr = dst->v4;
		ip_send_check(iph);
		skb->protocol = htons(ETH_P_IP);
	} else {
		struct ipv6hdr *ip6h;

		if (uh)
			uh->check = csum_ipv6_magic(&src->v6, &dst->v6, ulen,
						    IPPROTO_UDP,
						    skb_checksum(skb, 0, ulen,
								 0));
		ip6h = skb_push(skb, sizeof(*ip6h));
		skb_reset_network_header(skb);
		ip6_flow_hdr(ip6h, 0, 0);
		ip6h->payload_len = htons(ulen);
		ip6h->nexthdr = proto;
		ip6h->hop_limit = ttl;
		ip6h->saddr = src->v6;
		ip6h->daddr = dst->v6;
		skb->protocol = htons(ETH_P_IPV6);
	}
	if (uh && !uh->check)
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

/*
 * The route from @local to @peer (the interface that leads to the peer),
 * without IPsec policy lookups (ip6_route_output() does none either).
 */
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
		/* No xfrm lookup: the daemon's socket bypasses IPsec policies
		 * (its IKE must not go into the SAs it negotiates), and so
		 * does what is sent in its place.
		 */
		struct rtable *rt = __ip_route_output_key(net, &fl4);

		return IS_ERR(rt) ? ERR_CAST(rt) : &rt->dst;
	}
	return iketcp_udp_route6(net, local, peer, oif);
}

/*
 * The largest message a datagram holds: IPv4's total length counts its
 * header, IPv6's payload length does not; both count the UDP header and
 * the non-ESP marker.
 */
static u32 iketcp_udp_max_msg(u16 family, bool nonesp, bool esp)
{
	u32 hdrs = (esp ? 0 : sizeof(struct udphdr)) +
		   (nonesp ? IKETCP_NONESP_LEN : 0);

	if (family == AF_INET)
		hdrs += sizeof(struct iphdr);
	return U16_MAX - hdrs;
}

static int iketcp_udp_check(const struct iketcp_addr *local,
			    const struct iketcp_addr *peer, bool nonesp,
			    bool esp, u32 len, struct netlink_ext_ack *extack)
{
	if (!local->family || local->family != peer->family) {
		NL_SET_ERR_MSG_MOD(extack,
				   "local and remote addresses of one family needed");
		return -EINVAL;
	}
	if (!esp && (!local->port || !peer->port)) {
		NL_SET_ERR_MSG_MOD(extack, "local and remote ports needed");
		return -EINVAL;
	}
	if (len > iketcp_udp_max_msg(local->family, nonesp, esp)) {
		NL_SET_ERR_MSG_MOD(extack, "message too large for a datagram");
		return -EMSGSIZE;
	}
	return 0;
}

/*
 * After PRE_ROUTING (netfilter's okfn, or called directly): route the
 * datagram as received on skb->dev, and only to a local address (never
 * forwarded, never an error route's ICMP to the "peer" that sent nothing).
 */
static int iketcp_udp_rcv4(struct net *net, struct sock *sk,
			   struct sk_buff *skb)
{
	const struct iphdr *iph;

	skb = l3mdev_ip_rcv(skb);
	if (!skb)
		return 0;
	iph = ip_hdr(skb);
	if (ip_route_input_noref(skb, iph->daddr, iph->saddr, iph->tos,
				 skb->dev) ||
	    skb_rtable(skb)->rt_type != RTN_LOCAL) {
		kfree_skb(skb);
		return -EHOSTUNREACH;
	}
	return dst_input(skb);
}

static int iketcp_udp_rcv6(struct net *net, struct sock *sk,
			   struct sk_buff *skb)
{
	skb = l3mdev_ip6_rcv(skb);
	if (!skb)
		return 0;
	if (ipv6_stub->ipv6_route_input(skb) ||
	    skb_dst(skb)->input != ip6_input) {
		kfree_skb(skb);
		return -EHOSTUNREACH;
	}
	return dst_input(skb);
}

/*
 * Hand @skb (network header first) to the IP layer as received on @dev:
 * what ip_rcv() / ipv6_rcv() do after their sanity checks, which a
 * datagram built here passes. Not through the device layer: there was no
 * frame, so packet taps, tc and XDP see none and a bridge forwards none.
 */
static int iketcp_udp_rcv(struct net *net, struct sk_buff *skb,
			  struct net_device *dev)
{
	int err;

	skb->dev = dev;
	skb->skb_iif = dev->ifindex;
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
	 * whichever CPU. A datagram netfilter queues (NFQUEUE) is counted
	 * as injected whatever becomes of it.
	 */
	local_bh_disable();
	rcu_read_lock();
	if (skb->protocol == htons(ETH_P_IP)) {
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
		IPCB(skb)->iif = dev->ifindex;
		err = NF_HOOK(NFPROTO_IPV4, NF_INET_PRE_ROUTING, net, NULL, skb,
			      dev, NULL, iketcp_udp_rcv4);
	} else {
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
		IP6CB(skb)->iif = dev->ifindex;
		IP6CB(skb)->nhoff = offsetof(struct ipv6hdr, nexthdr);
		err = NF_HOOK(NFPROTO_IPV6, NF_INET_PRE_ROUTING, net, NULL, skb,
			      dev, NULL, iketcp_udp_rcv6);
	}
	rcu_read_unlock();
	local_bh_enable();
	return err < 0 ? err : 0;
}

/* iketcp_udp_inject() and iketcp_udp_inject_skb(): the datagram enters the
 * receive path like one received on the interface of the route to @peer.
 * A datagram that could not be delivered is counted in inject_drops.
 */
static int iketcp_udp_deliver(struct net *net, const struct iketcp_addr *peer,
			      const struct iketcp_addr *local, bool nonesp,
			      const struct iketcp_udp_payload *pl, int ifindex,
			      gfp_t gfp, struct netlink_ext_ack *extack)
{
	struct iketcp_net *in = iketcp_net(net);
	struct net_device *dev;
	struct dst_entry *dst;
	struct sk_buff *skb;
	int err;

	err = iketcp_udp_check(local, peer, nonesp, pl->esp, pl->len, extack);
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
			err = PTR_ERR(dst);
			goto err_drop;
		}
		dev = dst->dev;
		dev_hold(dev);
		dst_release(dst);
	}

	skb = iketcp_udp_build(peer, local, nonesp, pl, 64, gfp);
	if (!skb) {
		err = -ENOMEM;
		goto err_put;
	}
	err = iketcp_udp_rcv(net, skb, dev);
	if (err == -EHOSTUNREACH) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the datagram does not route to a local address: dropped");
		goto err_put;
	}
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "the datagram was dropped by netfilter");
		goto err_put;
	}
	dev_put(dev);
	/* ESP has counters of its own (esp.c) */
	if (!pl->esp)
		atomic64_inc(&in->injected);
	return 0;

err_put:
	dev_put(dev);
err_drop:
	if (!pl->esp)
		atomic64_inc(&in->inject_drops);
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
 * The datagram enters the receive path at the IP layer (netfilter,
 * conntrack, routing, UDP) like one received from the network on that
 * interface, and only for a local address.
 *
 * Return: 0, -EHOSTUNREACH if it does not route to a local address, the
 * error of a netfilter drop, or another negative errno.
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
 * For the fast path: any context, @skb is only read. Without memory it
 * fails at once (the helper's GFP_KERNEL injection is the fallback).
 *
 * Return: 0 or a negative errno.
 */
int iketcp_udp_inject_skb(struct net *net, const struct iketcp_addr *peer,
			  const struct iketcp_addr *local, bool nonesp,
			  const struct sk_buff *skb, u32 off, u32 len)
{
	struct iketcp_udp_payload pl = { .skb = skb, .off = off, .len = len };

	return iketcp_udp_deliver(net, peer, local, nonesp, &pl, 0,
				  IKETCP_GFP_ATOMIC, NULL);
}

/**
 * iketcp_udp_inject_esp_skb() - deliver a plain ESP packet (IP protocol 50)
 *	from @peer to @local, for the local xfrm input
 * @net: the network namespace
 * @peer: where it claims to come from (port unused)
 * @local: where it goes (port unused)
 * @skb: holds the ESP packet
 * @off: its offset in @skb
 * @len: its length
 *
 * Any context, like iketcp_udp_inject_skb().
 *
 * Return: 0 or a negative errno.
 */
int iketcp_udp_inject_esp_skb(struct net *net, const struct iketcp_addr *peer,
			      const struct iketcp_addr *local,
			      const struct sk_buff *skb, u32 off, u32 len)
{
	struct iketcp_udp_payload pl = {
		.skb = skb, .off = off, .len = len, .esp = true,
	};

	return iketcp_udp_deliver(net, peer, local, false, &pl, 0,
				  IKETCP_GFP_ATOMIC, NULL);
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
 * The datagram has no socket, so the capture hook lets it pass; no IPsec
 * policy applies to it (the daemon's socket bypasses them too); it is
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

	err = iketcp_udp_check(local, peer, nonesp, false, len, extack);
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
