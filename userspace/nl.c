// SPDX-License-Identifier: GPL-2.0
/*
 * nl.c - libmnl client of the "iketcp" generic netlink family.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nl.h"

#define IKETCP_NL_CHUNK	65528

/*
 * A whole message in the @len bytes left: mnl_nlmsg_ok() compares
 * (int)nlmsg_len, so a length of 2 GiB or more passes it as negative and
 * mnl_nlmsg_next() then steps outside the buffer.
 */
static bool nl_msg_ok(const struct nlmsghdr *nlh, int len)
{
	return len >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (unsigned int)len;
}

static int nl_family_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= CTRL_ATTR_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

/* Decode an NLMSG_ERROR: 0 for an ACK, else -errno with nl->err set (an
 * error code that is not a negative errno is -EPROTO).
 */
static int nl_error(struct iketcp_nl *nl, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	int err;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EBADMSG;
	if (!e->error)
		return 0;
	err = e->error < 0 && e->error >= -4095 ? e->error : -EPROTO;
	nl->err[0] = 0;
	/* the TLVs follow the request, echoed whole unless capped: read only
	 * where that leaves them inside the message (its length aligned:
	 * libmnl walks up to the aligned end)
	 */
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    nlh->nlmsg_len == MNL_ALIGN(nlh->nlmsg_len)) {
		size_t room = nlh->nlmsg_len - mnl_nlmsg_size(sizeof(*e));
		size_t echoed = 0;
		bool ok = true;

		if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
			ok = e->msg.nlmsg_len >= sizeof(e->msg) &&
			     e->msg.nlmsg_len - sizeof(e->msg) <= room;
			echoed = ok ? e->msg.nlmsg_len - sizeof(e->msg) : 0;
		}
		if (ok) {
			mnl_attr_for_each(attr, nlh, sizeof(*e) + echoed) {
				if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
				    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
					snprintf(nl->err, sizeof(nl->err), "%s",
						 mnl_attr_get_str(attr));
			}
		}
	}
	if (!nl->err[0])
		snprintf(nl->err, sizeof(nl->err), "%s", strerror(-err));
	return err;
}

static int nl_resolve(struct iketcp_nl *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nlattr *tb[CTRL_ATTR_MAX + 1] = {};
	struct genlmsghdr *g;
	struct nlmsghdr *nlh;
	ssize_t n;
	int ret;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, IKETCP_GENL_NAME);
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	nlh = (struct nlmsghdr *)buf;
	if (!nl_msg_ok(nlh, n))
		return -EBADMSG;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		ret = nl_error(nl, nlh);
		if (ret == -ENOENT)
			snprintf(nl->err, sizeof(nl->err),
				 "generic netlink family \"%s\" not found: is the iketcp module loaded?",
				 IKETCP_GENL_NAME);
		return ret ? ret : -EBADMSG;
	}
	mnl_attr_parse(nlh, sizeof(*g), nl_family_cb, tb);
	if (!tb[CTRL_ATTR_FAMILY_ID] ||
	    mnl_attr_validate(tb[CTRL_ATTR_FAMILY_ID], MNL_TYPE_U16))
		return -EBADMSG;
	nl->family = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	return 0;
}

/**
 * iketcp_nl_open() - open a socket and resolve the family
 * @nl: the client state to fill in
 *
 * Return: 0, or -errno with nl->err set (-ENOENT: module not loaded).
 */
int iketcp_nl_open(struct iketcp_nl *nl)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int one = 1, ret;

	memset(nl, 0, sizeof(*nl));
	nl->buf = malloc(IKETCP_NL_BUFSZ);
	nl->scratch = malloc(IKETCP_NL_BUFSZ);
	if (!nl->buf || !nl->scratch) {
		ret = -ENOMEM;
		goto err_free;
	}
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock) {
		ret = -errno;
		snprintf(nl->err, sizeof(nl->err), "netlink socket: %s",
			 strerror(errno));
		goto err_free;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		snprintf(nl->err, sizeof(nl->err), "netlink bind: %s",
			 strerror(errno));
		goto err_close;
	}
	/* Only the kernel may send to this socket: unicast between netlink
	 * sockets needs no privilege, so a local process that guessed its
	 * port id could forge notifications (af_netlink refuses a connected
	 * socket's datagrams from anyone but its peer, here the kernel).
	 */
	if (connect(mnl_socket_get_fd(nl->sock), (struct sockaddr *)&kernel,
		    sizeof(kernel)) < 0) {
		ret = -errno;
		snprintf(nl->err, sizeof(nl->err), "netlink connect: %s",
			 strerror(errno));
		goto err_close;
	}
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)getpid() << 16;
	ret = nl_resolve(nl);
	if (ret)
		goto err_close;
	return 0;

err_close:
	mnl_socket_close(nl->sock);
	nl->sock = NULL;
err_free:
	free(nl->buf);
	free(nl->scratch);
	nl->buf = NULL;
	nl->scratch = NULL;
	return ret;
}

/**
 * iketcp_nl_close() - close the socket
 * @nl: the client
 */
void iketcp_nl_close(struct iketcp_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	free(nl->scratch);
	free(nl->stash);
	nl->stash = NULL;
	nl->stash_len = 0;
	nl->sock = NULL;
	nl->buf = NULL;
	nl->scratch = NULL;
}

/**
 * iketcp_nl_fd() - the socket's file descriptor (for poll)
 * @nl: the client
 *
 * Return: the descriptor.
 */
int iketcp_nl_fd(const struct iketcp_nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

/**
 * iketcp_nl_set_rcvbuf() - enlarge the receive buffer (root may exceed
 *	rmem_max)
 * @nl: the client
 * @bytes: requested size
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_set_rcvbuf(struct iketcp_nl *nl, int bytes)
{
	if (mnl_socket_setsockopt(nl->sock, SO_RCVBUFFORCE, &bytes,
				  sizeof(bytes)) == 0)
		return 0;
	if (setsockopt(iketcp_nl_fd(nl), SOL_SOCKET, SO_RCVBUF, &bytes,
		       sizeof(bytes)) == 0)
		return 0;
	return -errno;
}

static struct nlmsghdr *nl_put(struct iketcp_nl *nl, void *buf, uint8_t cmd,
			       uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = nl->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = IKETCP_GENL_VERSION;
	return nlh;
}

struct nl_attrs {
	const struct nlattr *tb[IKETCP_A_MAX + 1];
	const struct nlattr *msg[8];
	int nmsg;
};

/* the scalar attributes of notifications and replies: their exact type */
static const uint8_t nl_attr_types[IKETCP_A_MAX + 1] = {
	[IKETCP_A_CONN_ID] = MNL_TYPE_U32,
	[IKETCP_A_CONN_INODE] = MNL_TYPE_U64,
	[IKETCP_A_CONN_STATE] = MNL_TYPE_U8,
	[IKETCP_A_FRAMING] = MNL_TYPE_U8,
	[IKETCP_A_LOCAL_PORT] = MNL_TYPE_U16,
	[IKETCP_A_REMOTE_PORT] = MNL_TYPE_U16,
	[IKETCP_A_REASON] = MNL_TYPE_U8,
	[IKETCP_A_ERRNO] = MNL_TYPE_U32,
	[IKETCP_A_PMTU] = MNL_TYPE_U32,
	[IKETCP_A_PREFIXLEN] = MNL_TYPE_U8,
	[IKETCP_A_CAPTURE] = MNL_TYPE_U8,
	[IKETCP_A_TRUNCATED] = MNL_TYPE_FLAG,
	[IKETCP_A_NONESP] = MNL_TYPE_FLAG,
	[IKETCP_A_MAX_MSG_LEN] = MNL_TYPE_U32,
	[IKETCP_A_FIRST_MSG_TIMEOUT] = MNL_TYPE_U32,
	[IKETCP_A_HELPER_PORTID] = MNL_TYPE_U32,
	[IKETCP_A_STATS] = MNL_TYPE_NESTED,
	[IKETCP_A_NETNS_STATS] = MNL_TYPE_NESTED,
};

/* A scalar attribute of the wrong length is ignored (never read) */
static bool nl_attr_ok(const struct nlattr *attr)
{
	int type = mnl_attr_get_type(attr);

	if (type > IKETCP_A_MAX || !nl_attr_types[type])
		return true;
	return mnl_attr_validate(attr, nl_attr_types[type]) == 0;
}

static int nl_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl_attrs *a = data;
	int type = mnl_attr_get_type(attr);

	if (type > IKETCP_A_MAX || !nl_attr_ok(attr))
		return MNL_CB_OK;
	if (type == IKETCP_A_MSG) {
		if (a->nmsg >= (int)(sizeof(a->msg) / sizeof(a->msg[0])))
			return MNL_CB_ERROR;
		a->msg[a->nmsg++] = attr;
	}
	a->tb[type] = attr;
	return MNL_CB_OK;
}

static void nl_get_ep(const struct nl_attrs *a, int t4, int t6, int tport,
		      struct iketcp_ep *ep)
{
	if (a->tb[t4] && mnl_attr_get_payload_len(a->tb[t4]) == 4) {
		ep->family = AF_INET;
		memcpy(&ep->addr.v4, mnl_attr_get_payload(a->tb[t4]), 4);
	} else if (a->tb[t6] && mnl_attr_get_payload_len(a->tb[t6]) == 16) {
		ep->family = AF_INET6;
		memcpy(&ep->addr.v6, mnl_attr_get_payload(a->tb[t6]), 16);
	}
	if (a->tb[tport])
		ep->port = mnl_attr_get_u16(a->tb[tport]);
}

static int nl_stats_cb(const struct nlattr *attr, void *data)
{
	struct iketcp_event *ev = data;
	int type = mnl_attr_get_type(attr);

	if (type > 0 && type <= IKETCP_STAT_MAX && type != IKETCP_STAT_PAD &&
	    mnl_attr_get_payload_len(attr) == 8)
		ev->stats[type] = mnl_attr_get_u64(attr);
	return MNL_CB_OK;
}

/* Decode a family message into @ev. The message bytes may be assembled in
 * @scratch (IKETCP_NL_BUFSZ) when they came in several attributes.
 * A message too short for its generic netlink header, or whose length is
 * not a multiple of 4 (the kernel's always are: attributes are padded),
 * is refused: libmnl walks the attributes up to the 4-byte aligned end,
 * which is past the message's last byte then.
 */
static int nl_parse_event(const struct nlmsghdr *nlh, struct iketcp_event *ev,
			  uint8_t *scratch)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct nl_attrs a = {};

	memset(ev, 0, sizeof(*ev));
	if (nlh->nlmsg_len < mnl_nlmsg_size(GENL_HDRLEN) ||
	    nlh->nlmsg_len != MNL_ALIGN(nlh->nlmsg_len))
		return -EBADMSG;
	ev->cmd = g->cmd;
	if (mnl_attr_parse(nlh, sizeof(*g), nl_attr_cb, &a) < 0)
		return -EBADMSG;
	if (a.tb[IKETCP_A_CONN_ID])
		ev->conn_id = mnl_attr_get_u32(a.tb[IKETCP_A_CONN_ID]);
	if (a.tb[IKETCP_A_CONN_INODE])
		ev->ino = mnl_attr_get_u64(a.tb[IKETCP_A_CONN_INODE]);
	if (a.tb[IKETCP_A_CONN_STATE])
		ev->state = mnl_attr_get_u8(a.tb[IKETCP_A_CONN_STATE]);
	if (a.tb[IKETCP_A_FRAMING])
		ev->framing = mnl_attr_get_u8(a.tb[IKETCP_A_FRAMING]);
	if (a.tb[IKETCP_A_REASON])
		ev->reason = mnl_attr_get_u8(a.tb[IKETCP_A_REASON]);
	if (a.tb[IKETCP_A_ERRNO])
		ev->sk_errno = mnl_attr_get_u32(a.tb[IKETCP_A_ERRNO]);
	ev->truncated = !!a.tb[IKETCP_A_TRUNCATED];
	ev->nonesp = !!a.tb[IKETCP_A_NONESP];
	if (a.tb[IKETCP_A_PMTU])
		ev->pmtu = mnl_attr_get_u32(a.tb[IKETCP_A_PMTU]);
	if (a.tb[IKETCP_A_PREFIXLEN])
		ev->prefixlen = mnl_attr_get_u8(a.tb[IKETCP_A_PREFIXLEN]);
	if (a.tb[IKETCP_A_CAPTURE])
		ev->capture = mnl_attr_get_u8(a.tb[IKETCP_A_CAPTURE]);
	nl_get_ep(&a, IKETCP_A_LOCAL_IPV4, IKETCP_A_LOCAL_IPV6,
		  IKETCP_A_LOCAL_PORT, &ev->local);
	nl_get_ep(&a, IKETCP_A_REMOTE_IPV4, IKETCP_A_REMOTE_IPV6,
		  IKETCP_A_REMOTE_PORT, &ev->remote);
	if (a.tb[IKETCP_A_STATS]) {
		ev->has_stats = true;
		mnl_attr_parse_nested(a.tb[IKETCP_A_STATS], nl_stats_cb, ev);
	}
	if (a.nmsg == 1) {
		ev->msg = mnl_attr_get_payload(a.msg[0]);
		ev->msg_len = mnl_attr_get_payload_len(a.msg[0]);
	} else if (a.nmsg > 1) {
		size_t off = 0;

		for (int i = 0; i < a.nmsg; i++) {
			size_t n = mnl_attr_get_payload_len(a.msg[i]);

			if (off + n > IKETCP_NL_BUFSZ)
				return -EMSGSIZE;
			memcpy(scratch + off, mnl_attr_get_payload(a.msg[i]), n);
			off += n;
		}
		ev->msg = scratch;
		ev->msg_len = off;
	}
	return 0;
}

/**
 * iketcp_nl_parse() - decode one notification (tests, fuzzing)
 * @nlh: the message (a whole one: nlmsg_len bytes)
 * @ev: filled in
 * @scratch: IKETCP_NL_BUFSZ bytes, for a message in several attributes
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_parse(const struct nlmsghdr *nlh, struct iketcp_event *ev,
		    uint8_t *scratch)
{
	return nl_parse_event(nlh, ev, scratch);
}

static int nl_stash(struct iketcp_nl *nl, const struct nlmsghdr *nlh)
{
	uint8_t *p = realloc(nl->stash,
			     nl->stash_len + NLMSG_ALIGN(nlh->nlmsg_len));

	if (!p)
		return -ENOMEM;
	memcpy(p + nl->stash_len, nlh, nlh->nlmsg_len);
	nl->stash = p;
	nl->stash_len += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

/*
 * Walk one datagram. Messages answering @seq go to @cb (replies, dump
 * entries); notifications (seq 0) go to @cb as well when @seq is 0.
 * Return: 1 when the request @seq completed, 0 to read on, -errno.
 */
static int nl_walk(struct iketcp_nl *nl, void *buf, int n, uint32_t seq,
		   iketcp_event_cb cb, void *arg, int *count)
{
	struct nlmsghdr *nlh = buf;
	struct iketcp_event ev;
	int ret;

	for (; nl_msg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		if (seq && !nlh->nlmsg_seq && nlh->nlmsg_type == nl->family) {
			/* a notification while waiting for a reply: keep it */
			ret = nl_stash(nl, nlh);
			if (ret)
				return ret;
			continue;
		}
		if (nlh->nlmsg_seq != seq && seq)
			continue;	/* stale reply */
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			ret = nl_error(nl, nlh);
			if (ret || seq)
				return ret ? ret : 1;
			continue;	/* a late ACK among notifications */
		}
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nlh->nlmsg_type != nl->family)
			continue;
		ret = nl_parse_event(nlh, &ev, nl->scratch);
		if (ret)
			return ret;
		if (count)
			(*count)++;
		if (cb) {
			ret = cb(&ev, arg);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int nl_request(struct iketcp_nl *nl, struct nlmsghdr *nlh,
		      iketcp_event_cb cb, void *arg)
{
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (!(nlh->nlmsg_flags & NLM_F_DUMP))
		nlh->nlmsg_flags |= NLM_F_ACK;
	nl->err[0] = 0;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		snprintf(nl->err, sizeof(nl->err), "netlink send: %s",
			 strerror(errno));
		return ret;
	}
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, IKETCP_NL_BUFSZ);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			snprintf(nl->err, sizeof(nl->err), "netlink recv: %s",
				 strerror(errno));
			return ret;
		}
		ret = nl_walk(nl, nl->buf, n, seq, cb, arg, NULL);
		if (ret)
			return ret < 0 ? ret : 0;
	}
}

/**
 * iketcp_nl_register() - become the helper of this netns
 * @nl: the client whose socket will receive the notifications
 *
 * Return: 0 or -errno (-EBUSY: another helper is registered).
 */
int iketcp_nl_register(struct iketcp_nl *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return nl_request(nl, nl_put(nl, buf, IKETCP_CMD_HELPER_REGISTER, 0),
			  NULL, NULL);
}

/**
 * iketcp_nl_resume() - ask for held-back notifications to be delivered
 * @nl: any client of the netns
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_resume(struct iketcp_nl *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return nl_request(nl, nl_put(nl, buf, IKETCP_CMD_HELPER_RESUME, 0),
			  NULL, NULL);
}

static int nl_netns_cb(const struct nlattr *attr, void *data)
{
	struct iketcp_netns_info *info = data;
	int type = mnl_attr_get_type(attr);

	if (type > 0 && type <= IKETCP_NS_STAT_MAX &&
	    type != IKETCP_NS_STAT_PAD && mnl_attr_get_payload_len(attr) == 8)
		info->stats[type] = mnl_attr_get_u64(attr);
	return MNL_CB_OK;
}

static int nl_netns_attr_cb(const struct nlattr *attr, void *data)
{
	struct iketcp_netns_info *info = data;

	if (!nl_attr_ok(attr))
		return MNL_CB_OK;
	switch (mnl_attr_get_type(attr)) {
	case IKETCP_A_MAX_MSG_LEN:
		info->max_msg_len = mnl_attr_get_u32(attr);
		break;
	case IKETCP_A_FIRST_MSG_TIMEOUT:
		info->first_msg_timeout = mnl_attr_get_u32(attr);
		break;
	case IKETCP_A_HELPER_PORTID:
		info->helper_portid = mnl_attr_get_u32(attr);
		break;
	case IKETCP_A_MSG_TIMEOUT:
		info->msg_timeout = mnl_attr_get_u32(attr);
		break;
	case IKETCP_A_MEM_LIMIT:
		info->mem_limit = mnl_attr_get_u32(attr);
		break;
	case IKETCP_A_NETNS_STATS:
		mnl_attr_parse_nested(attr, nl_netns_cb, info);
		break;
	}
	return MNL_CB_OK;
}

/**
 * iketcp_nl_netns_get() - netns parameters and counters
 * @nl: the client
 * @info: filled in
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_netns_get(struct iketcp_nl *nl, struct iketcp_netns_info *info)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_NETNS_GET, 0);
	uint32_t seq = nlh->nlmsg_seq;
	int n;
	int ret;

	memset(info, 0, sizeof(*info));
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, IKETCP_NL_BUFSZ);
		if (n < 0)
			return -errno;
		for (nlh = (struct nlmsghdr *)nl->buf; nl_msg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				ret = nl_error(nl, nlh);
				return ret;
			}
			if (nlh->nlmsg_type == nl->family)
				mnl_attr_parse(nlh, GENL_HDRLEN,
					       nl_netns_attr_cb, info);
		}
	}
}

/**
 * iketcp_nl_netns_set() - set the netns message limit
 * @nl: the client
 * @max_msg_len: 28..65535
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_netns_set(struct iketcp_nl *nl, uint32_t max_msg_len)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_NETNS_SET, 0);

	mnl_attr_put_u32(nlh, IKETCP_A_MAX_MSG_LEN, max_msg_len);
	return nl_request(nl, nlh, NULL, NULL);
}

static void nl_put_ep(struct nlmsghdr *nlh, const struct iketcp_ep *ep,
		      int a4, int a6, int aport, bool port)
{
	if (ep->family == AF_INET6)
		mnl_attr_put(nlh, a6, 16, &ep->addr.v6);
	else
		mnl_attr_put(nlh, a4, 4, &ep->addr.v4);
	if (port)
		mnl_attr_put_u16(nlh, aport, ep->port);
}

static void nl_put_msg(struct nlmsghdr *nlh, const void *msg, size_t len)
{
	size_t off = 0;

	do {
		size_t n = len - off > IKETCP_NL_CHUNK ? IKETCP_NL_CHUNK :
							 len - off;

		mnl_attr_put(nlh, IKETCP_A_MSG, n, (const uint8_t *)msg + off);
		off += n;
	} while (off < len);
}

/**
 * iketcp_nl_capture_add() - capture (or exempt) the daemon's datagrams to
 *	a prefix
 * @nl: the client
 * @prefix: peer prefix (port ignored)
 * @prefixlen: its length, -1 for a single address
 * @capture: capture (true) or leave alone (false)
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_capture_add(struct iketcp_nl *nl, const struct iketcp_ep *prefix,
			  int prefixlen, bool capture)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_CAPTURE_ADD, 0);

	nl_put_ep(nlh, prefix, IKETCP_A_REMOTE_IPV4, IKETCP_A_REMOTE_IPV6, 0,
		  false);
	if (prefixlen >= 0)
		mnl_attr_put_u8(nlh, IKETCP_A_PREFIXLEN, prefixlen);
	mnl_attr_put_u8(nlh, IKETCP_A_CAPTURE, capture);
	return nl_request(nl, nlh, NULL, NULL);
}

/**
 * iketcp_nl_capture_del() - remove a capture rule
 * @nl: the client
 * @prefix: peer prefix
 * @prefixlen: its length, -1 for a single address
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_capture_del(struct iketcp_nl *nl, const struct iketcp_ep *prefix,
			  int prefixlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_CAPTURE_DEL, 0);

	nl_put_ep(nlh, prefix, IKETCP_A_REMOTE_IPV4, IKETCP_A_REMOTE_IPV6, 0,
		  false);
	if (prefixlen >= 0)
		mnl_attr_put_u8(nlh, IKETCP_A_PREFIXLEN, prefixlen);
	return nl_request(nl, nlh, NULL, NULL);
}

/**
 * iketcp_nl_capture_flush() - remove every capture rule
 * @nl: the client
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_capture_flush(struct iketcp_nl *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return nl_request(nl, nl_put(nl, buf, IKETCP_CMD_CAPTURE_FLUSH, 0),
			  NULL, NULL);
}

/**
 * iketcp_nl_capture_dump() - every capture rule (remote, prefixlen,
 *	capture in the events)
 * @nl: the client
 * @cb: called for each rule
 * @arg: passed to @cb
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_capture_dump(struct iketcp_nl *nl, iketcp_event_cb cb,
			   void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return nl_request(nl, nl_put(nl, buf, IKETCP_CMD_CAPTURE_GET,
				     NLM_F_DUMP), cb, arg);
}

static int nl_udp(struct iketcp_nl *nl, uint8_t cmd,
		  const struct iketcp_ep *local, const struct iketcp_ep *peer,
		  bool nonesp, const void *msg, size_t len, int ifindex)
{
	void *buf = malloc(MNL_SOCKET_BUFFER_SIZE + len + 64);
	struct nlmsghdr *nlh;
	int ret;

	if (!buf)
		return -ENOMEM;
	nlh = nl_put(nl, buf, cmd, 0);
	nl_put_ep(nlh, local, IKETCP_A_LOCAL_IPV4, IKETCP_A_LOCAL_IPV6,
		  IKETCP_A_LOCAL_PORT, true);
	nl_put_ep(nlh, peer, IKETCP_A_REMOTE_IPV4, IKETCP_A_REMOTE_IPV6,
		  IKETCP_A_REMOTE_PORT, true);
	if (nonesp)
		mnl_attr_put(nlh, IKETCP_A_NONESP, 0, NULL);
	if (ifindex)
		mnl_attr_put_u32(nlh, IKETCP_A_IFINDEX, ifindex);
	nl_put_msg(nlh, msg, len);
	ret = nl_request(nl, nlh, NULL, NULL);
	free(buf);
	return ret;
}

/**
 * iketcp_nl_udp_inject() - deliver a message to the local daemon as a UDP
 *	datagram from the peer
 * @nl: the client
 * @peer: source of the datagram (the peer)
 * @local: destination (the daemon)
 * @nonesp: add the non-ESP marker (NAT-T port)
 * @msg: the IKE message
 * @len: its length
 * @ifindex: interface it arrives on, 0 for the route to @peer
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_udp_inject(struct iketcp_nl *nl, const struct iketcp_ep *peer,
			 const struct iketcp_ep *local, bool nonesp,
			 const void *msg, size_t len, int ifindex)
{
	return nl_udp(nl, IKETCP_CMD_UDP_INJECT, local, peer, nonesp, msg, len,
		      ifindex);
}

/**
 * iketcp_nl_udp_send() - send a message to a peer as a real UDP datagram
 * @nl: the client
 * @local: source (the daemon's address and port)
 * @peer: destination
 * @nonesp: add the non-ESP marker (NAT-T port)
 * @msg: the IKE message
 * @len: its length
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_udp_send(struct iketcp_nl *nl, const struct iketcp_ep *local,
		       const struct iketcp_ep *peer, bool nonesp,
		       const void *msg, size_t len)
{
	return nl_udp(nl, IKETCP_CMD_UDP_SEND, local, peer, nonesp, msg, len, 0);
}

/**
 * iketcp_nl_netns_set_first_msg_timeout() - time a new connection has to
 *	deliver its first complete message
 * @nl: the client
 * @ms: milliseconds, 0 for no limit
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_netns_set_first_msg_timeout(struct iketcp_nl *nl, uint32_t ms)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_NETNS_SET, 0);

	mnl_attr_put_u32(nlh, IKETCP_A_FIRST_MSG_TIMEOUT, ms);
	return nl_request(nl, nlh, NULL, NULL);
}

/**
 * iketcp_nl_netns_set_msg_timeout() - time a peer has to complete a message
 *	once it began it, for connections attached from now on
 * @nl: the client
 * @ms: milliseconds, 0 for no limit
 *
 * Return: 0 or -errno with nl->err set.
 */
int iketcp_nl_netns_set_msg_timeout(struct iketcp_nl *nl, uint32_t ms)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_NETNS_SET, 0);

	mnl_attr_put_u32(nlh, IKETCP_A_MSG_TIMEOUT, ms);
	return nl_request(nl, nlh, NULL, NULL);
}

/**
 * iketcp_nl_netns_set_mem_limit() - bytes the send queues and held messages
 *	of all connections of the netns may take
 * @nl: the client
 * @bytes: at least 65535
 *
 * Return: 0 or -errno with nl->err set.
 */
int iketcp_nl_netns_set_mem_limit(struct iketcp_nl *nl, uint32_t bytes)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_NETNS_SET, 0);

	mnl_attr_put_u32(nlh, IKETCP_A_MEM_LIMIT, bytes);
	return nl_request(nl, nlh, NULL, NULL);
}

/**
 * iketcp_nl_conn_send() - send one IKE message on a connection
 * @nl: the client
 * @conn_id: connection
 * @msg: the message
 * @len: its length
 *
 * Return: 0 once queued by the kernel, or -errno with nl->err set.
 */
int iketcp_nl_conn_send(struct iketcp_nl *nl, uint32_t conn_id,
			const void *msg, size_t len)
{
	size_t sz = MNL_SOCKET_BUFFER_SIZE + len + 64;
	struct nlmsghdr *nlh;
	void *buf;
	int ret;

	buf = malloc(sz);
	if (!buf)
		return -ENOMEM;
	nlh = nl_put(nl, buf, IKETCP_CMD_CONN_SEND, 0);
	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, conn_id);
	nl_put_msg(nlh, msg, len);
	ret = nl_request(nl, nlh, NULL, NULL);
	free(buf);
	return ret;
}

/**
 * iketcp_nl_conn_close() - abort a connection (RST)
 * @nl: the client
 * @conn_id: connection
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_conn_close(struct iketcp_nl *nl, uint32_t conn_id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_CONN_CLOSE, 0);

	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, conn_id);
	return nl_request(nl, nlh, NULL, NULL);
}

/**
 * iketcp_nl_conn_set_first_msg_timeout() - the time a connection has left
 *	for its first message
 * @nl: the client
 * @conn_id: connection
 * @ms: milliseconds from now, 0: no limit (a connection we vouch for)
 *
 * Return: 0 or -errno (-ENOTCONN: it ended already).
 */
int iketcp_nl_conn_set_first_msg_timeout(struct iketcp_nl *nl,
					 uint32_t conn_id, uint32_t ms)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_CONN_SET, 0);

	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, conn_id);
	mnl_attr_put_u32(nlh, IKETCP_A_FIRST_MSG_TIMEOUT, ms);
	return nl_request(nl, nlh, NULL, NULL);
}

/**
 * iketcp_nl_conn_set_esp() - make an RFC 9329 connection the carrier of
 *	its peer's ESP, or stop
 * @nl: the client
 * @conn_id: connection
 * @on: carry (the connection that carried it before stops), or stop
 *
 * Return: 0 or -errno (-EOPNOTSUPP: raw framing; -ENOTCONN: closing).
 */
int iketcp_nl_conn_set_esp(struct iketcp_nl *nl, uint32_t conn_id, bool on)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_CONN_SET, 0);

	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, conn_id);
	mnl_attr_put_u8(nlh, IKETCP_A_ESP, on);
	return nl_request(nl, nlh, NULL, NULL);
}

/**
 * iketcp_nl_fastpath_add() - let the kernel deliver an IKE SA's messages
 *	from a connection straight to the daemon
 * @nl: the client
 * @fp: connection, SPIs, ports, marker, rate, and the number of the
 *	connection's messages this helper has handled
 *
 * Return: 0 or -errno (-EAGAIN: messages are still on their way to us,
 * try again once they are handled; -ENOSPC: the connection's entries are
 * all in use; -ENOTCONN: it ended).
 */
int iketcp_nl_fastpath_add(struct iketcp_nl *nl,
			   const struct iketcp_fastpath_req *fp)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_FASTPATH_ADD, 0);

	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, fp->conn_id);
	mnl_attr_put_u64(nlh, IKETCP_A_SPI_I, fp->spi_i);
	mnl_attr_put_u64(nlh, IKETCP_A_SPI_R, fp->spi_r);
	mnl_attr_put_u16(nlh, IKETCP_A_LOCAL_PORT, fp->lport);
	mnl_attr_put_u16(nlh, IKETCP_A_REMOTE_PORT, fp->rport);
	if (fp->nonesp)
		mnl_attr_put(nlh, IKETCP_A_NONESP, 0, NULL);
	mnl_attr_put_u32(nlh, IKETCP_A_MAX_RATE, fp->max_rate);
	mnl_attr_put_u64(nlh, IKETCP_A_RX_SEQ, fp->rx_seq);
	return nl_request(nl, nlh, NULL, NULL);
}

/**
 * iketcp_nl_fastpath_del() - messages of an IKE SA go to the helper again
 * @nl: the client
 * @conn_id: connection
 * @spi_i: the SA's initiator SPI (0 with @spi_r 0: every SA of @conn_id)
 * @spi_r: its responder SPI
 *
 * Return: 0 or -errno (-ENOENT: no such entry).
 */
int iketcp_nl_fastpath_del(struct iketcp_nl *nl, uint32_t conn_id,
			   uint64_t spi_i, uint64_t spi_r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_FASTPATH_DEL, 0);

	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, conn_id);
	if (spi_i || spi_r) {
		mnl_attr_put_u64(nlh, IKETCP_A_SPI_I, spi_i);
		mnl_attr_put_u64(nlh, IKETCP_A_SPI_R, spi_r);
	}
	return nl_request(nl, nlh, NULL, NULL);
}

static int nl_copy_cb(const struct iketcp_event *ev, void *arg)
{
	struct iketcp_event *out = arg;

	*out = *ev;
	out->msg = NULL;
	out->msg_len = 0;
	return 0;
}

/**
 * iketcp_nl_conn_get() - one connection's state and counters
 * @nl: the client
 * @conn_id: connection
 * @ev: filled in
 *
 * Return: 0 or -errno (-ENOENT: no such connection).
 */
int iketcp_nl_conn_get(struct iketcp_nl *nl, uint32_t conn_id,
		       struct iketcp_event *ev)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_CONN_GET, 0);

	memset(ev, 0, sizeof(*ev));
	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, conn_id);
	return nl_request(nl, nlh, nl_copy_cb, ev);
}

/**
 * iketcp_nl_conn_dump() - every connection of the netns
 * @nl: the client
 * @cb: called for each connection
 * @arg: passed to @cb
 *
 * Return: 0 or -errno.
 */
int iketcp_nl_conn_dump(struct iketcp_nl *nl, iketcp_event_cb cb, void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_put(nl, buf, IKETCP_CMD_CONN_GET, NLM_F_DUMP);

	return nl_request(nl, nlh, cb, arg);
}

/**
 * iketcp_nl_recv() - read notifications
 * @nl: the helper's (registered) client
 * @wait: block until something arrives
 * @cb: called for each notification
 * @arg: passed to @cb
 *
 * Return: the number of notifications handled, -EAGAIN if none was
 * waiting, -ENOBUFS when the kernel could not deliver one (it is held
 * back: drain, then iketcp_nl_resume()), or another -errno.
 */
int iketcp_nl_recv(struct iketcp_nl *nl, bool wait, iketcp_event_cb cb,
		   void *arg)
{
	int count = 0, ret;
	ssize_t n;

	if (nl->stash_len) {
		/* notifications kept while a request waited come first */
		uint8_t *stash = nl->stash;

		n = nl->stash_len;
		nl->stash = NULL;
		nl->stash_len = 0;
		ret = nl_walk(nl, stash, n, 0, cb, arg, &count);
		free(stash);
		return ret < 0 ? ret : count;
	}
	n = recv(iketcp_nl_fd(nl), nl->buf, IKETCP_NL_BUFSZ,
		 wait ? 0 : MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	ret = nl_walk(nl, nl->buf, n, 0, cb, arg, &count);
	if (ret < 0)
		return ret;
	return count;
}

/**
 * iketcp_nl_drain() - handle the notifications waiting, a bounded number
 * @nl: the helper's (registered) client
 * @max: handle at most about this many (whole datagrams: a few more)
 * @cb: called for each notification
 * @arg: passed to @cb
 * @overruns: incremented for each overrun (-ENOBUFS) the kernel reported
 *
 * Return: the number handled, or -errno (not -EAGAIN/-ENOBUFS). Handling
 * stops at @max so that a flood of notifications cannot starve the other
 * descriptors of the event loop: the rest waits for the next round.
 */
int iketcp_nl_drain(struct iketcp_nl *nl, int max, iketcp_event_cb cb,
		    void *arg, int *overruns)
{
	int total = 0, ret;

	while (total < max) {
		ret = iketcp_nl_recv(nl, false, cb, arg);
		if (ret == -ENOBUFS) {
			/* the kernel holds back what did not fit */
			(*overruns)++;
			continue;
		}
		if (ret == -EAGAIN || ret == -EINTR)
			break;
		if (ret < 0)
			return ret;
		total += ret;
	}
	return total;
}

/**
 * iketcp_nl_pending() - are notifications waiting in the stash?
 * @nl: the client
 *
 * Return: true if iketcp_nl_recv() would return some without reading the
 * socket (poll() on the socket does not see them).
 */
bool iketcp_nl_pending(const struct iketcp_nl *nl)
{
	return nl->stash_len > 0;
}

/**
 * iketcp_framing_str() - name of an enum iketcp_framing
 * @framing: the value
 *
 * Return: a static string ("raw", "rfc9329", "unknown").
 */
const char *iketcp_framing_str(unsigned int framing)
{
	switch (framing) {
	case IKETCP_FRAMING_RAW:
		return "raw";
	case IKETCP_FRAMING_RFC9329:
		return "rfc9329";
	default:
		return "unknown";
	}
}

/**
 * iketcp_reason_str() - name of an enum iketcp_reason
 * @reason: the value
 *
 * Return: a static string.
 */
const char *iketcp_reason_str(unsigned int reason)
{
	static const char *const names[] = {
		[IKETCP_REASON_UNSPEC] = "unspec",
		[IKETCP_REASON_PEER_FIN] = "peer-closed",
		[IKETCP_REASON_PEER_RESET] = "peer-reset",
		[IKETCP_REASON_LOCAL_CLOSE] = "local-close",
		[IKETCP_REASON_ADMIN] = "admin-close",
		[IKETCP_REASON_ERROR] = "error",
		[IKETCP_REASON_LEN_SHORT] = "framing-length-short",
		[IKETCP_REASON_LEN_LONG] = "framing-length-long",
		[IKETCP_REASON_BAD_VERSION] = "framing-bad-version",
		[IKETCP_REASON_TIMEOUT] = "first-message-timeout",
		[IKETCP_REASON_BAD_RECORD] = "framing-bad-record",
		[IKETCP_REASON_LEN_MISMATCH] = "framing-length-mismatch",
		[IKETCP_REASON_BAD_PREFIX] = "framing-bad-prefix",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "unknown";
}

/**
 * iketcp_cmd_str() - name of an enum iketcp_cmd
 * @cmd: the value
 *
 * Return: a static string.
 */
const char *iketcp_cmd_str(unsigned int cmd)
{
	static const char *const names[] = {
		[IKETCP_CMD_CONN_ATTACHED] = "attached",
		[IKETCP_CMD_CONN_ENDED] = "ended",
		[IKETCP_CMD_MSG] = "msg",
		[IKETCP_CMD_CONN_GET] = "conn",
		[IKETCP_CMD_UDP_CAPTURED] = "captured",
		[IKETCP_CMD_CAPTURE_GET] = "capture-rule",
	};

	if (cmd < sizeof(names) / sizeof(names[0]) && names[cmd])
		return names[cmd];
	return "unknown";
}

/**
 * iketcp_ep_str() - "addr:port" or "[addr6]:port"
 * @ep: the end point
 * @buf: output
 * @len: its size
 *
 * Return: snprintf()'s result.
 */
int iketcp_ep_str(const struct iketcp_ep *ep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(ep->family == AF_INET6 ? AF_INET6 : AF_INET, &ep->addr, a,
		  sizeof(a));
	if (ep->family == AF_INET6)
		return snprintf(buf, len, "[%s]:%u", a, ep->port);
	return snprintf(buf, len, "%s:%u", a, ep->port);
}

/**
 * iketcp_ep_parse() - an end point from an address string and a port
 * @addr: IPv4 or IPv6 address
 * @port: port, host order
 * @ep: filled in
 *
 * Return: 0, or -EINVAL if @addr is not an address.
 */
int iketcp_ep_parse(const char *addr, uint16_t port, struct iketcp_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->port = port;
	if (inet_pton(AF_INET, addr, &ep->addr.v4) == 1)
		ep->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &ep->addr.v6) == 1)
		ep->family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}
