// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - the "iketcp" generic netlink family: commands from the helper
 * and from tools, notifications to the helper. See uapi/linux/iketcp.h.
 */
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "iketcp.h"
#include "compat/compat.h"

/* Largest payload of one attribute: a bigger IKE message is carried as
 * several IKETCP_A_MSG attributes in a row, to be concatenated.
 */
#define IKETCP_NL_CHUNK	(U16_MAX - NLA_HDRLEN - NLA_ALIGNTO + 1)

static struct netlink_range_validation iketcp_max_msg_len_range = {
	.min = IKETCP_IKE_HDR_LEN,
	.max = IKETCP_MAX_MSG_LEN_CEILING,
};

static struct netlink_range_validation iketcp_ifindex_range = {
	.min = 1,
	.max = INT_MAX,
};

static struct netlink_range_validation iketcp_max_rate_range = {
	.min = 0,
	.max = IKETCP_MAX_RATE_CEILING,
};

/* (NLA_POLICY_MIN() holds an s16 only) */
static struct netlink_range_validation iketcp_mem_limit_range = {
	.min = IKETCP_MAX_MSG_LEN_CEILING,
	.max = U32_MAX,
};

static struct netlink_range_validation iketcp_first_msg_timeout_range = {
	.min = 0,
	.max = 3600 * 1000,
};

static const struct nla_policy iketcp_policy[IKETCP_A_MAX + 1] = {
	[IKETCP_A_CONN_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[IKETCP_A_MSG] = { .type = NLA_BINARY, .len = IKETCP_NL_CHUNK },
	[IKETCP_A_MAX_MSG_LEN] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &iketcp_max_msg_len_range),
	[IKETCP_A_LOCAL_IPV4] = NLA_POLICY_EXACT_LEN(sizeof(__be32)),
	[IKETCP_A_LOCAL_IPV6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[IKETCP_A_LOCAL_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[IKETCP_A_REMOTE_IPV4] = NLA_POLICY_EXACT_LEN(sizeof(__be32)),
	[IKETCP_A_REMOTE_IPV6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[IKETCP_A_REMOTE_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[IKETCP_A_PREFIXLEN] = NLA_POLICY_MAX(NLA_U8, 128),
	[IKETCP_A_CAPTURE] = NLA_POLICY_MAX(NLA_U8, 1),
	[IKETCP_A_NONESP] = { .type = NLA_FLAG },
	[IKETCP_A_IFINDEX] = NLA_POLICY_FULL_RANGE(NLA_U32, &iketcp_ifindex_range),
	[IKETCP_A_FIRST_MSG_TIMEOUT] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &iketcp_first_msg_timeout_range),
	[IKETCP_A_SPI_I] = NLA_POLICY_MIN(NLA_U64, 1),
	[IKETCP_A_SPI_R] = NLA_POLICY_MIN(NLA_U64, 1),
	[IKETCP_A_RX_SEQ] = { .type = NLA_U64 },
	[IKETCP_A_MAX_RATE] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &iketcp_max_rate_range),
	[IKETCP_A_MSG_TIMEOUT] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &iketcp_first_msg_timeout_range),
	[IKETCP_A_MEM_LIMIT] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &iketcp_mem_limit_range),
	[IKETCP_A_ESP] = NLA_POLICY_MAX(NLA_U8, 1),
};

static struct genl_family iketcp_family;
static u8 *iketcp_nl_gather(struct genl_info *info, u32 *len, bool *copied);

static int iketcp_nl_put_addr(struct sk_buff *skb, const struct iketcp_addr *a,
			      int a4, int a6, int aport)
{
	if (a->family == AF_INET) {
		if (nla_put_in_addr(skb, a4, a->v4))
			return -EMSGSIZE;
	} else if (nla_put_in6_addr(skb, a6, &a->v6)) {
		return -EMSGSIZE;
	}
	return nla_put_u16(skb, aport, a->port);
}

static int iketcp_nl_put_conn_id(struct sk_buff *skb, struct iketcp_conn *conn)
{
	if (nla_put_u32(skb, IKETCP_A_CONN_ID, conn->id) ||
	    iketcp_nl_put_addr(skb, &conn->local, IKETCP_A_LOCAL_IPV4,
			       IKETCP_A_LOCAL_IPV6, IKETCP_A_LOCAL_PORT) ||
	    iketcp_nl_put_addr(skb, &conn->remote, IKETCP_A_REMOTE_IPV4,
			       IKETCP_A_REMOTE_IPV6, IKETCP_A_REMOTE_PORT))
		return -EMSGSIZE;
	return 0;
}

static size_t iketcp_nl_conn_id_size(void)
{
	return nla_total_size(sizeof(u32)) +
	       2 * nla_total_size(sizeof(struct in6_addr)) +
	       2 * nla_total_size(sizeof(u16));
}

static int iketcp_nl_put_esp_stats(struct sk_buff *skb,
				   struct iketcp_conn *conn)
{
	const struct iketcp_conn_stats *s = &conn->stats;

	if (conn->framer.mode != IKETCP_FRAMING_RFC9329)
		return 0;
	if (nla_put_u64_64bit(skb, IKETCP_STAT_SKIPPED, READ_ONCE(s->skipped),
			      IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_ESP_RX_PKTS,
			      READ_ONCE(s->esp_rx_pkts), IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_ESP_RX_BYTES,
			      READ_ONCE(s->esp_rx_bytes), IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_ESP_RX_DROPS,
			      READ_ONCE(s->esp_rx_drops), IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_ESP_RX_NOSA,
			      READ_ONCE(s->esp_rx_nosa), IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_ESP_TX_PKTS,
			      READ_ONCE(s->esp_tx_pkts), IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_ESP_TX_BYTES,
			      READ_ONCE(s->esp_tx_bytes), IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_ESP_TX_DROPS,
			      atomic64_read(&conn->esp_tx_drops),
			      IKETCP_STAT_PAD))
		return -EMSGSIZE;
	return 0;
}

static int iketcp_nl_put_stats(struct sk_buff *skb, struct iketcp_conn *conn)
{
	const struct iketcp_conn_stats *s = &conn->stats;
	struct nlattr *nest;

	nest = nla_nest_start(skb, IKETCP_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, IKETCP_STAT_RX_MSGS, READ_ONCE(s->rx_msgs),
			      IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_RX_BYTES, READ_ONCE(s->rx_bytes),
			      IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_TX_MSGS, READ_ONCE(s->tx_msgs),
			      IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_TX_BYTES, READ_ONCE(s->tx_bytes),
			      IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_FRAMING_ERRORS,
			      READ_ONCE(s->framing_errors), IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_BACKPRESSURE,
			      READ_ONCE(s->backpressure), IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_TX_QUEUED,
			      READ_ONCE(conn->tx_queued), IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_FAST_MSGS,
			      READ_ONCE(s->fast_msgs), IKETCP_STAT_PAD) ||
	    nla_put_u64_64bit(skb, IKETCP_STAT_FAST_BYTES,
			      READ_ONCE(s->fast_bytes), IKETCP_STAT_PAD) ||
	    iketcp_nl_put_esp_stats(skb, conn)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static size_t iketcp_nl_stats_size(void)
{
	return nla_total_size(0) +
	       IKETCP_STAT_MAX * nla_total_size_64bit(sizeof(u64));
}

static int iketcp_nl_put_end(struct sk_buff *skb, struct iketcp_conn *conn)
{
	if (nla_put_u8(skb, IKETCP_A_REASON, conn->reason) ||
	    (conn->sk_errno &&
	     nla_put_u32(skb, IKETCP_A_ERRNO, conn->sk_errno)) ||
	    (conn->truncated && nla_put_flag(skb, IKETCP_A_TRUNCATED)))
		return -EMSGSIZE;
	return 0;
}

static int iketcp_nl_fill_conn(struct sk_buff *skb, struct iketcp_conn *conn,
			       u32 portid, u32 seq, int flags, u8 cmd)
{
	bool ended = test_bit(IKETCP_CONN_ENDED, &conn->flags);
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &iketcp_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (iketcp_nl_put_conn_id(skb, conn) ||
	    nla_put_u64_64bit(skb, IKETCP_A_CONN_INODE, conn->ino,
			      IKETCP_A_PAD) ||
	    nla_put_u8(skb, IKETCP_A_FRAMING, conn->framer.mode) ||
	    nla_put_u8(skb, IKETCP_A_CONN_STATE,
		       ended ? IKETCP_CONN_STATE_ENDED :
			       IKETCP_CONN_STATE_ACTIVE) ||
	    (ended && iketcp_nl_put_end(skb, conn)) ||
	    iketcp_nl_put_stats(skb, conn))
		goto err_cancel;
	genlmsg_end(skb, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static size_t iketcp_nl_conn_size(void)
{
	return iketcp_nl_conn_id_size() +
	       nla_total_size_64bit(sizeof(u64)) + 2 * nla_total_size(1) +
	       nla_total_size(1) + nla_total_size(4) + nla_total_size(0) +
	       iketcp_nl_stats_size();
}

/* Unicast a notification to the helper of the connection's netns. */
static int iketcp_nl_to_helper(struct iketcp_conn *conn, struct sk_buff *skb)
{
	u32 portid = iketcp_helper_portid(conn->inet);

	if (!portid) {
		nlmsg_free(skb);
		return -ENOTCONN;
	}
	return genlmsg_unicast(conn->inet->net, skb, portid);
}

/**
 * iketcp_nl_notify_attached() - tell the helper about a new connection
 * @conn: the connection
 * @gfp: allocation flags
 *
 * Return: 0 once delivered, else a negative errno (nothing was queued).
 */
int iketcp_nl_notify_attached(struct iketcp_conn *conn, gfp_t gfp)
{
	struct sk_buff *skb;

	if (!iketcp_helper_portid(conn->inet))
		return -ENOTCONN;
	skb = genlmsg_new(iketcp_nl_conn_size(), gfp);
	if (!skb)
		return -ENOMEM;
	if (iketcp_nl_fill_conn(skb, conn, 0, 0, 0, IKETCP_CMD_CONN_ATTACHED)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return iketcp_nl_to_helper(conn, skb);
}

/**
 * iketcp_nl_notify_ended() - tell the helper that a stream ended
 * @conn: the connection (reason, errno and truncation filled in)
 * @gfp: allocation flags
 *
 * Return: 0 once delivered, else a negative errno (nothing was queued).
 */
int iketcp_nl_notify_ended(struct iketcp_conn *conn, gfp_t gfp)
{
	struct sk_buff *skb;
	void *hdr;

	if (!iketcp_helper_portid(conn->inet))
		return -ENOTCONN;
	skb = genlmsg_new(iketcp_nl_conn_size(), gfp);
	if (!skb)
		return -ENOMEM;
	hdr = genlmsg_put(skb, 0, 0, &iketcp_family, 0, IKETCP_CMD_CONN_ENDED);
	if (!hdr || iketcp_nl_put_conn_id(skb, conn) ||
	    iketcp_nl_put_end(skb, conn) || iketcp_nl_put_stats(skb, conn)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return iketcp_nl_to_helper(conn, skb);
}

/**
 * iketcp_nl_notify_msg() - hand one received IKE message to the helper
 * @conn: the connection it arrived on
 * @skb: the stream parser's message (strp_msg() gives offset and length)
 * @gfp: allocation flags
 *
 * Return: 0 once delivered, else a negative errno; @skb is never consumed.
 */
int iketcp_nl_notify_msg(struct iketcp_conn *conn, struct sk_buff *skb,
			 gfp_t gfp)
{
	struct strp_msg *rxm = strp_msg(skb);
	u32 len = rxm->full_len, off = 0;
	struct sk_buff *nskb;
	void *hdr;

	if (!iketcp_helper_portid(conn->inet))
		return -ENOTCONN;
	nskb = genlmsg_new(iketcp_nl_conn_id_size() +
			   nla_total_size(len) + NLA_HDRLEN + NLA_ALIGNTO, gfp);
	if (!nskb)
		return -ENOMEM;
	hdr = genlmsg_put(nskb, 0, 0, &iketcp_family, 0, IKETCP_CMD_MSG);
	if (!hdr || iketcp_nl_put_conn_id(nskb, conn))
		goto err_free;
	while (off < len) {
		u32 n = min_t(u32, len - off, IKETCP_NL_CHUNK);
		struct nlattr *nla = nla_reserve(nskb, IKETCP_A_MSG, n);

		if (!nla || skb_copy_bits(skb, rxm->offset + off,
					  nla_data(nla), n))
			goto err_free;
		off += n;
	}
	genlmsg_end(nskb, hdr);
	return iketcp_nl_to_helper(conn, nskb);

err_free:
	nlmsg_free(nskb);
	return -EMSGSIZE;
}

/**
 * iketcp_nl_notify_captured() - hand a captured datagram to the helper
 * @in: the per-netns state
 * @skb: the datagram
 * @local: its source (the daemon)
 * @remote: its destination (the peer)
 * @nonesp: it carried the non-ESP marker
 * @off: offset of the IKE message in @skb
 * @len: length of the IKE message
 * @pmtu: MTU of the route to the peer
 * @gfp: allocation flags
 *
 * Return: 0 once delivered, -ENOMEM without memory for the notification,
 * else another negative errno.
 */
int iketcp_nl_notify_captured(struct iketcp_net *in, struct sk_buff *skb,
			      const struct iketcp_addr *local,
			      const struct iketcp_addr *remote, bool nonesp,
			      u32 off, u32 len, u32 pmtu, gfp_t gfp)
{
	u32 portid = iketcp_helper_portid(in), done = 0;
	struct sk_buff *nskb;
	void *hdr;

	if (!portid)
		return -ENOTCONN;
	nskb = genlmsg_new(iketcp_nl_conn_id_size() + nla_total_size(0) +
			   nla_total_size(sizeof(u32)) + nla_total_size(len) +
			   NLA_HDRLEN + NLA_ALIGNTO, gfp);
	if (!nskb)
		return -ENOMEM;
	hdr = genlmsg_put(nskb, 0, 0, &iketcp_family, 0,
			  IKETCP_CMD_UDP_CAPTURED);
	if (!hdr ||
	    iketcp_nl_put_addr(nskb, local, IKETCP_A_LOCAL_IPV4,
			       IKETCP_A_LOCAL_IPV6, IKETCP_A_LOCAL_PORT) ||
	    iketcp_nl_put_addr(nskb, remote, IKETCP_A_REMOTE_IPV4,
			       IKETCP_A_REMOTE_IPV6, IKETCP_A_REMOTE_PORT) ||
	    (nonesp && nla_put_flag(nskb, IKETCP_A_NONESP)) ||
	    nla_put_u32(nskb, IKETCP_A_PMTU, pmtu))
		goto err_free;
	while (done < len) {
		u32 n = min_t(u32, len - done, IKETCP_NL_CHUNK);
		struct nlattr *nla = nla_reserve(nskb, IKETCP_A_MSG, n);

		if (!nla || skb_copy_bits(skb, off + done, nla_data(nla), n))
			goto err_free;
		done += n;
	}
	genlmsg_end(nskb, hdr);
	return genlmsg_unicast(in->net, nskb, portid);

err_free:
	nlmsg_free(nskb);
	return -EMSGSIZE;
}

/* An address from its IPv4 or IPv6 attribute and its port attribute. */
static int iketcp_nl_get_addr(struct genl_info *info, int a4, int a6,
			      int aport, bool need_port, struct iketcp_addr *a)
{
	struct nlattr **tb = info->attrs;

	memset(a, 0, sizeof(*a));
	if (!!tb[a4] == !!tb[a6]) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[a4] ?: tb[a6],
				    "need exactly one of an IPv4 and an IPv6 address");
		return -EINVAL;
	}
	if (tb[a4]) {
		a->family = AF_INET;
		a->v4 = nla_get_in_addr(tb[a4]);
	} else {
		a->family = AF_INET6;
		a->v6 = nla_get_in6_addr(tb[a6]);
	}
	if (tb[aport])
		a->port = nla_get_u16(tb[aport]);
	else if (need_port) {
		NL_SET_ERR_MSG_MOD(info->extack, "port missing");
		return -EINVAL;
	}
	return 0;
}

static int iketcp_nl_capture_add(struct sk_buff *skb, struct genl_info *info)
{
	struct iketcp_net *in = iketcp_net(genl_info_net(info));
	struct iketcp_addr prefix;
	u8 plen;
	int err;

	err = iketcp_nl_get_addr(info, IKETCP_A_REMOTE_IPV4,
				 IKETCP_A_REMOTE_IPV6, IKETCP_A_REMOTE_PORT,
				 false, &prefix);
	if (err)
		return err;
	plen = prefix.family == AF_INET ? 32 : 128;
	if (info->attrs[IKETCP_A_PREFIXLEN])
		plen = nla_get_u8(info->attrs[IKETCP_A_PREFIXLEN]);
	return iketcp_capture_add(in, &prefix, plen,
				  !info->attrs[IKETCP_A_CAPTURE] ||
				  nla_get_u8(info->attrs[IKETCP_A_CAPTURE]),
				  info->extack);
}

static int iketcp_nl_capture_del(struct sk_buff *skb, struct genl_info *info)
{
	struct iketcp_net *in = iketcp_net(genl_info_net(info));
	struct iketcp_addr prefix;
	u8 plen;
	int err;

	err = iketcp_nl_get_addr(info, IKETCP_A_REMOTE_IPV4,
				 IKETCP_A_REMOTE_IPV6, IKETCP_A_REMOTE_PORT,
				 false, &prefix);
	if (err)
		return err;
	plen = prefix.family == AF_INET ? 32 : 128;
	if (info->attrs[IKETCP_A_PREFIXLEN])
		plen = nla_get_u8(info->attrs[IKETCP_A_PREFIXLEN]);
	err = iketcp_capture_del(in, &prefix, plen);
	if (err)
		NL_SET_ERR_MSG_MOD(info->extack, "no such capture rule");
	return err;
}

static int iketcp_nl_capture_flush(struct sk_buff *skb, struct genl_info *info)
{
	iketcp_capture_flush(iketcp_net(genl_info_net(info)));
	return 0;
}

static int iketcp_nl_capture_dump(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	struct iketcp_net *in = iketcp_net(sock_net(skb->sk));
	struct iketcp_capture_rule *r;
	long idx = 0, start = cb->args[0];
	int err = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(r, &in->capture_rules, node) {
		void *hdr;

		if (idx++ < start)
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &iketcp_family,
				  NLM_F_MULTI, IKETCP_CMD_CAPTURE_GET);
		if (!hdr ||
		    iketcp_nl_put_addr(skb, &r->prefix, IKETCP_A_REMOTE_IPV4,
				       IKETCP_A_REMOTE_IPV6,
				       IKETCP_A_REMOTE_PORT) ||
		    nla_put_u8(skb, IKETCP_A_PREFIXLEN, r->plen) ||
		    nla_put_u8(skb, IKETCP_A_CAPTURE, r->capture)) {
			if (hdr)
				genlmsg_cancel(skb, hdr);
			err = -EMSGSIZE;
			idx--;
			break;
		}
		genlmsg_end(skb, hdr);
	}
	rcu_read_unlock();
	cb->args[0] = idx;
	if (err && !skb->len)
		return err;
	return skb->len;
}

static int iketcp_nl_udp(struct genl_info *info, bool inject)
{
	struct net *net = genl_info_net(info);
	struct iketcp_addr local, remote;
	bool copied = false;
	u32 len;
	u8 *msg;
	int err;

	err = iketcp_nl_get_addr(info, IKETCP_A_LOCAL_IPV4,
				 IKETCP_A_LOCAL_IPV6, IKETCP_A_LOCAL_PORT,
				 true, &local);
	if (!err)
		err = iketcp_nl_get_addr(info, IKETCP_A_REMOTE_IPV4,
					 IKETCP_A_REMOTE_IPV6,
					 IKETCP_A_REMOTE_PORT, true, &remote);
	if (err)
		return err;
	msg = iketcp_nl_gather(info, &len, &copied);
	if (!msg)
		return -EINVAL;
	if (inject)
		err = iketcp_udp_inject(net, &remote, &local,
					!!info->attrs[IKETCP_A_NONESP], msg,
					len,
					info->attrs[IKETCP_A_IFINDEX] ?
					nla_get_u32(info->attrs[IKETCP_A_IFINDEX]) :
					0, info->extack);
	else
		err = iketcp_udp_send(net, &local, &remote,
				      !!info->attrs[IKETCP_A_NONESP], msg, len,
				      info->extack);
	if (copied)
		kvfree(msg);
	return err;
}

static int iketcp_nl_udp_inject(struct sk_buff *skb, struct genl_info *info)
{
	return iketcp_nl_udp(info, true);
}

static int iketcp_nl_udp_send(struct sk_buff *skb, struct genl_info *info)
{
	return iketcp_nl_udp(info, false);
}

static struct iketcp_conn *iketcp_nl_conn(struct genl_info *info)
{
	struct iketcp_net *in = iketcp_net(genl_info_net(info));
	struct iketcp_conn *conn;

	if (GENL_REQ_ATTR_CHECK(info, IKETCP_A_CONN_ID))
		return NULL;
	conn = iketcp_conn_get(in, nla_get_u32(info->attrs[IKETCP_A_CONN_ID]));
	if (!conn)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[IKETCP_A_CONN_ID],
				    "no such connection");
	return conn;
}

static int iketcp_nl_register(struct sk_buff *skb, struct genl_info *info)
{
	struct iketcp_net *in = iketcp_net(genl_info_net(info));
	int err;

	err = iketcp_helper_register(in, info->snd_portid, NETLINK_CB(skb).sk);
	if (err)
		NL_SET_ERR_MSG_MOD(info->extack,
				   "another helper is registered in this netns");
	return err;
}

static int iketcp_nl_resume(struct sk_buff *skb, struct genl_info *info)
{
	iketcp_helper_resume(iketcp_net(genl_info_net(info)));
	return 0;
}

static int iketcp_nl_netns_get(struct sk_buff *skb, struct genl_info *info)
{
	struct iketcp_net *in = iketcp_net(genl_info_net(info));
	u64 st[IKETCP_NS_STAT_MAX + 1] = {};
	struct iketcp_conn *conn;
	struct nlattr *nest;
	struct sk_buff *msg;
	unsigned long id;
	void *hdr;
	int i;

	rcu_read_lock();
	xa_for_each(&in->conns, id, conn)
		st[IKETCP_NS_STAT_CONNS]++;
	rcu_read_unlock();
	st[IKETCP_NS_STAT_CONNS_TOTAL] = atomic64_read(&in->conns_total);
	st[IKETCP_NS_STAT_ABORTS] = atomic64_read(&in->aborts);
	st[IKETCP_NS_STAT_RX_MSGS] = atomic64_read(&in->rx_msgs);
	st[IKETCP_NS_STAT_BACKPRESSURE] = atomic64_read(&in->backpressure);
	st[IKETCP_NS_STAT_MSG_TIMEOUTS] = atomic64_read(&in->msg_timeouts);
	st[IKETCP_NS_STAT_MEM_USED] = atomic64_read(&in->mem_used);
	st[IKETCP_NS_STAT_MEM_REFUSALS] = atomic64_read(&in->mem_refusals);
	spin_lock_bh(&in->lock);
	list_for_each_entry(conn, &in->blocked, blocked_node)
		st[IKETCP_NS_STAT_HELD]++;
	spin_unlock_bh(&in->lock);
	st[IKETCP_NS_STAT_CAPTURED] = atomic64_read(&in->captured);
	st[IKETCP_NS_STAT_CAPTURE_DROPS] = atomic64_read(&in->capture_drops);
	st[IKETCP_NS_STAT_INJECTED] = atomic64_read(&in->injected);
	st[IKETCP_NS_STAT_UDP_SENT] = atomic64_read(&in->udp_sent);
	st[IKETCP_NS_STAT_FAST_MSGS] = atomic64_read(&in->fast_msgs);
	st[IKETCP_NS_STAT_FAST_FALLBACKS] = atomic64_read(&in->fast_fallbacks);
	st[IKETCP_NS_STAT_FIRST_MSG_TIMEOUTS] =
		atomic64_read(&in->first_msg_timeouts);
	st[IKETCP_NS_STAT_INJECT_DROPS] = atomic64_read(&in->inject_drops);
	st[IKETCP_NS_STAT_CAPTURE_DEFERRED] =
		atomic64_read(&in->capture_deferred);
	st[IKETCP_NS_STAT_FAST_ADDED] = atomic64_read(&in->fast_added);
	st[IKETCP_NS_STAT_FAST_WAITS] = atomic64_read(&in->fast_waits);
	st[IKETCP_NS_STAT_FAST_WAIT_TIMEOUTS] =
		atomic64_read(&in->fast_wait_timeouts);

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &iketcp_family, 0,
				IKETCP_CMD_NETNS_GET);
	if (!hdr)
		goto err_free;
	if (nla_put_u32(msg, IKETCP_A_MAX_MSG_LEN, READ_ONCE(in->max_msg_len)) ||
	    nla_put_u32(msg, IKETCP_A_FIRST_MSG_TIMEOUT,
			READ_ONCE(in->first_msg_timeout)) ||
	    nla_put_u32(msg, IKETCP_A_MSG_TIMEOUT,
			READ_ONCE(in->msg_timeout)) ||
	    nla_put_u32(msg, IKETCP_A_MEM_LIMIT, READ_ONCE(in->mem_limit)) ||
	    nla_put_u32(msg, IKETCP_A_HELPER_PORTID, iketcp_helper_portid(in)))
		goto err_free;
	nest = nla_nest_start(msg, IKETCP_A_NETNS_STATS);
	if (!nest)
		goto err_free;
	for (i = IKETCP_NS_STAT_CONNS; i <= IKETCP_NS_STAT_MAX; i++)
		if (i != IKETCP_NS_STAT_PAD &&
		    nla_put_u64_64bit(msg, i, st[i], IKETCP_NS_STAT_PAD))
			goto err_free;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int iketcp_nl_netns_set(struct sk_buff *skb, struct genl_info *info)
{
	struct iketcp_net *in = iketcp_net(genl_info_net(info));

	if (!info->attrs[IKETCP_A_MAX_MSG_LEN] &&
	    !info->attrs[IKETCP_A_FIRST_MSG_TIMEOUT] &&
	    !info->attrs[IKETCP_A_MSG_TIMEOUT] &&
	    !info->attrs[IKETCP_A_MEM_LIMIT]) {
		NL_SET_ERR_MSG_MOD(info->extack, "nothing to set");
		return -EINVAL;
	}
	if (info->attrs[IKETCP_A_MAX_MSG_LEN])
		WRITE_ONCE(in->max_msg_len,
			   nla_get_u32(info->attrs[IKETCP_A_MAX_MSG_LEN]));
	if (info->attrs[IKETCP_A_FIRST_MSG_TIMEOUT])
		WRITE_ONCE(in->first_msg_timeout,
			   nla_get_u32(info->attrs[IKETCP_A_FIRST_MSG_TIMEOUT]));
	if (info->attrs[IKETCP_A_MSG_TIMEOUT])
		WRITE_ONCE(in->msg_timeout,
			   nla_get_u32(info->attrs[IKETCP_A_MSG_TIMEOUT]));
	if (info->attrs[IKETCP_A_MEM_LIMIT])
		WRITE_ONCE(in->mem_limit,
			   nla_get_u32(info->attrs[IKETCP_A_MEM_LIMIT]));
	return 0;
}

static int iketcp_nl_conn_get(struct sk_buff *skb, struct genl_info *info)
{
	struct iketcp_conn *conn;
	struct sk_buff *msg;
	int err;

	conn = iketcp_nl_conn(info);
	if (!conn)
		return -ENOENT;
	msg = genlmsg_new(iketcp_nl_conn_size(), GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto out;
	}
	err = iketcp_nl_fill_conn(msg, conn, info->snd_portid, info->snd_seq,
				  0, IKETCP_CMD_CONN_GET);
	if (err) {
		nlmsg_free(msg);
		goto out;
	}
	err = genlmsg_reply(msg, info);
out:
	iketcp_conn_put(conn);
	return err;
}

static int iketcp_nl_conn_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct iketcp_net *in = iketcp_net(sock_net(skb->sk));
	unsigned long id = cb->args[0];
	struct iketcp_conn *conn;
	int err = 0;

	if (cb->args[1])
		return 0;	/* everything was dumped */
	rcu_read_lock();
	xa_for_each_start(&in->conns, id, conn, id) {
		err = iketcp_nl_fill_conn(skb, conn,
					  NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq, NLM_F_MULTI,
					  IKETCP_CMD_CONN_GET);
		if (err)
			break;
	}
	rcu_read_unlock();
	if (!err)
		cb->args[1] = 1;
	else if (!skb->len)
		return err;
	cb->args[0] = id;
	return skb->len;
}

/* The IKE message of a command: one or more IKETCP_A_MSG in a row. */
static u8 *iketcp_nl_gather(struct genl_info *info, u32 *len, bool *copied)
{
	const struct nlattr *attr, *last = NULL;
	size_t total = 0;
	u8 *buf;
	int rem, n = 0;

	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != IKETCP_A_MSG)
			continue;
		total += nla_len(attr);
		last = attr;
		n++;
	}
	if (!n) {
		NL_SET_ERR_MSG_MOD(info->extack, "no message given");
		return NULL;
	}
	if (total > IKETCP_MAX_MSG_LEN_CEILING) {
		NL_SET_ERR_MSG_MOD(info->extack, "message too long");
		return NULL;
	}
	*len = total;
	*copied = n > 1;
	if (n == 1)
		return nla_data(last);
	buf = kvmalloc(total, GFP_KERNEL);
	if (!buf)
		return NULL;
	total = 0;
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != IKETCP_A_MSG)
			continue;
		memcpy(buf + total, nla_data(attr), nla_len(attr));
		total += nla_len(attr);
	}
	return buf;
}

static int iketcp_nl_conn_send(struct sk_buff *skb, struct genl_info *info)
{
	struct iketcp_conn *conn;
	bool copied = false;
	u32 len;
	u8 *msg;
	int err;

	conn = iketcp_nl_conn(info);
	if (!conn)
		return -ENOENT;
	msg = iketcp_nl_gather(info, &len, &copied);
	if (!msg) {
		err = -EINVAL;
		goto out;
	}
	err = iketcp_tx_send(conn, msg, len, info->extack);
	if (copied)
		kvfree(msg);
out:
	iketcp_conn_put(conn);
	return err;
}

static int iketcp_nl_conn_close(struct sk_buff *skb, struct genl_info *info)
{
	struct iketcp_conn *conn;
	int err;

	conn = iketcp_nl_conn(info);
	if (!conn)
		return -ENOENT;
	err = iketcp_rx_abort(conn, IKETCP_REASON_ADMIN);
	if (err)
		NL_SET_ERR_MSG_MOD(info->extack, "connection already ended");
	iketcp_conn_put(conn);
	return err;
}

static int iketcp_nl_conn_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *esp = info->attrs[IKETCP_A_ESP];
	struct iketcp_conn *conn;
	int err = 0;

	if (!esp && GENL_REQ_ATTR_CHECK(info, IKETCP_A_FIRST_MSG_TIMEOUT))
		return -EINVAL;
	conn = iketcp_nl_conn(info);
	if (!conn)
		return -ENOENT;
	if (esp)
		err = iketcp_esp_route_set(conn, nla_get_u8(esp), info->extack);
	if (!err && info->attrs[IKETCP_A_FIRST_MSG_TIMEOUT]) {
		err = iketcp_rx_set_first_msg_timeout(conn,
			nla_get_u32(info->attrs[IKETCP_A_FIRST_MSG_TIMEOUT]));
		if (err)
			NL_SET_ERR_MSG_MOD(info->extack,
					   "connection already ended");
	}
	iketcp_conn_put(conn);
	return err;
}

static int iketcp_nl_fastpath_add(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **tb = info->attrs;
	struct iketcp_conn *conn;
	u16 lport, rport;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, IKETCP_A_SPI_I) ||
	    GENL_REQ_ATTR_CHECK(info, IKETCP_A_SPI_R) ||
	    GENL_REQ_ATTR_CHECK(info, IKETCP_A_LOCAL_PORT) ||
	    GENL_REQ_ATTR_CHECK(info, IKETCP_A_REMOTE_PORT) ||
	    GENL_REQ_ATTR_CHECK(info, IKETCP_A_RX_SEQ))
		return -EINVAL;
	lport = nla_get_u16(tb[IKETCP_A_LOCAL_PORT]);
	rport = nla_get_u16(tb[IKETCP_A_REMOTE_PORT]);
	if (!lport || !rport) {
		NL_SET_ERR_MSG_MOD(info->extack, "local and remote ports needed");
		return -EINVAL;
	}
	conn = iketcp_nl_conn(info);
	if (!conn)
		return -ENOENT;
	err = iketcp_fastpath_add(conn, nla_get_u64(tb[IKETCP_A_SPI_I]),
				  nla_get_u64(tb[IKETCP_A_SPI_R]), lport, rport,
				  nla_get_flag(tb[IKETCP_A_NONESP]),
				  tb[IKETCP_A_MAX_RATE] ?
				  nla_get_u32(tb[IKETCP_A_MAX_RATE]) : 0,
				  nla_get_u64(tb[IKETCP_A_RX_SEQ]), info->extack);
	iketcp_conn_put(conn);
	return err;
}

static int iketcp_nl_fastpath_del(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **tb = info->attrs;
	struct iketcp_conn *conn;
	bool all;
	int err;

	all = !tb[IKETCP_A_SPI_I] && !tb[IKETCP_A_SPI_R];
	if (!all && (GENL_REQ_ATTR_CHECK(info, IKETCP_A_SPI_I) ||
		     GENL_REQ_ATTR_CHECK(info, IKETCP_A_SPI_R)))
		return -EINVAL;
	conn = iketcp_nl_conn(info);
	if (!conn)
		return -ENOENT;
	err = iketcp_fastpath_del(conn,
				  all ? 0 : nla_get_u64(tb[IKETCP_A_SPI_I]),
				  all ? 0 : nla_get_u64(tb[IKETCP_A_SPI_R]),
				  all, info->extack);
	iketcp_conn_put(conn);
	return err;
}

static const struct genl_ops iketcp_ops[] = {
	{
		.cmd = IKETCP_CMD_HELPER_REGISTER,
		.doit = iketcp_nl_register,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_HELPER_RESUME,
		.doit = iketcp_nl_resume,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_NETNS_GET,
		.doit = iketcp_nl_netns_get,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_NETNS_SET,
		.doit = iketcp_nl_netns_set,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_CONN_GET,
		.doit = iketcp_nl_conn_get,
		.dumpit = iketcp_nl_conn_dump,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_CONN_SEND,
		.doit = iketcp_nl_conn_send,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_CONN_CLOSE,
		.doit = iketcp_nl_conn_close,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_CONN_SET,
		.doit = iketcp_nl_conn_set,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_FASTPATH_ADD,
		.doit = iketcp_nl_fastpath_add,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_FASTPATH_DEL,
		.doit = iketcp_nl_fastpath_del,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_CAPTURE_ADD,
		.doit = iketcp_nl_capture_add,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_CAPTURE_DEL,
		.doit = iketcp_nl_capture_del,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_CAPTURE_FLUSH,
		.doit = iketcp_nl_capture_flush,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_CAPTURE_GET,
		.dumpit = iketcp_nl_capture_dump,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_UDP_INJECT,
		.doit = iketcp_nl_udp_inject,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = IKETCP_CMD_UDP_SEND,
		.doit = iketcp_nl_udp_send,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family iketcp_family __ro_after_init = {
	.name = IKETCP_GENL_NAME,
	.version = IKETCP_GENL_VERSION,
	.maxattr = IKETCP_A_MAX,
	.policy = iketcp_policy,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = iketcp_ops,
	.n_ops = ARRAY_SIZE(iketcp_ops),
};

/**
 * iketcp_nl_init() - register the generic netlink family
 *
 * Return: 0 or a negative errno.
 */
int iketcp_nl_init(void)
{
	return genl_register_family(&iketcp_family);
}

/**
 * iketcp_nl_exit() - unregister the generic netlink family
 */
void iketcp_nl_exit(void)
{
	genl_unregister_family(&iketcp_family);
}
