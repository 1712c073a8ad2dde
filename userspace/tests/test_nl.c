// SPDX-License-Identifier: GPL-2.0
/*
 * test_nl.c - the netlink client (nl.c) facing malformed or too many
 * notifications: a scalar attribute of the wrong length is never read,
 * a message too short for its header or not padded is refused, a walk
 * never steps outside its datagram, an error's extended ACK is read only
 * inside the message, and one drain handles a bounded number of
 * notifications (a flood of kernel events cannot starve the event loop's
 * other descriptors). (fuzz/fuzz_nl.c found the malformed cases.)
 */
#include <errno.h>
#include <limits.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "nl.h"

#define FAMILY 0x77

static struct nlmsghdr *put_event(char *buf, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = FAMILY;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = IKETCP_GENL_VERSION;
	return nlh;
}

TEST(scalars_of_the_wrong_length_are_not_read)
{
	char buf[512] __attribute__((aligned(4))) = {};
	static uint8_t scratch[IKETCP_NL_BUFSZ];
	struct iketcp_event ev;
	struct nlmsghdr *nlh = put_event(buf, IKETCP_CMD_CONN_ENDED);
	uint8_t one = 7;
	uint16_t two = 0x4242;
	uint64_t ino = 0x1111222233334444ULL;

	/* 1 byte where a u32 belongs, 2 where a u64, 8 where a u8 */
	mnl_attr_put(nlh, IKETCP_A_CONN_ID, 1, &one);
	mnl_attr_put(nlh, IKETCP_A_CONN_INODE, 2, &two);
	mnl_attr_put(nlh, IKETCP_A_REASON, 8, &ino);
	mnl_attr_put(nlh, IKETCP_A_ERRNO, 2, &two);
	mnl_attr_put(nlh, IKETCP_A_REMOTE_PORT, 1, &one);
	ASSERT_EQ(0, iketcp_nl_parse(nlh, &ev, scratch));
	EXPECT_EQ(0, ev.conn_id);
	EXPECT_EQ(0, ev.ino);
	EXPECT_EQ(0, ev.reason);
	EXPECT_EQ(0, ev.sk_errno);
	EXPECT_EQ(0, ev.remote.port);
}

TEST(scalars_of_the_right_length_are_read)
{
	char buf[512] __attribute__((aligned(4))) = {};
	static uint8_t scratch[IKETCP_NL_BUFSZ];
	struct iketcp_event ev;
	struct nlmsghdr *nlh = put_event(buf, IKETCP_CMD_CONN_ENDED);

	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, 42);
	mnl_attr_put_u64(nlh, IKETCP_A_CONN_INODE, 0x1234567890ULL);
	mnl_attr_put_u8(nlh, IKETCP_A_REASON, 3);
	mnl_attr_put_u32(nlh, IKETCP_A_ERRNO, ECONNRESET);
	mnl_attr_put_u16(nlh, IKETCP_A_REMOTE_PORT, 500);
	mnl_attr_put_u32(nlh, IKETCP_A_REMOTE_IPV4, 0x0100007f);
	mnl_attr_put(nlh, IKETCP_A_TRUNCATED, 0, NULL);
	ASSERT_EQ(0, iketcp_nl_parse(nlh, &ev, scratch));
	EXPECT_EQ(42, ev.conn_id);
	EXPECT_EQ(0x1234567890ULL, ev.ino);
	EXPECT_EQ(3, ev.reason);
	EXPECT_EQ(ECONNRESET, ev.sk_errno);
	EXPECT_EQ(500, ev.remote.port);
	EXPECT_TRUE(ev.truncated);
}

TEST(short_or_unpadded_messages_are_refused)
{
	uint8_t buf[64] __attribute__((aligned(4))) = {};
	static uint8_t scratch[IKETCP_NL_BUFSZ];
	struct nlmsghdr *nlh = put_event((char *)buf, IKETCP_CMD_CONN_ENDED);
	struct iketcp_event ev;
	uint8_t *exact;

	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, 42);
	ASSERT_EQ(0, iketcp_nl_parse(nlh, &ev, scratch));
	EXPECT_EQ(42, ev.conn_id);
	/* no room for the genetlink header: nothing past 16 bytes is read */
	exact = malloc(16);
	ASSERT_NE(NULL, exact);
	memcpy(exact, buf, 16);
	((struct nlmsghdr *)exact)->nlmsg_len = 16;
	EXPECT_EQ(-EBADMSG, iketcp_nl_parse((struct nlmsghdr *)exact, &ev,
					    scratch));
	free(exact);
	nlh->nlmsg_len = 19;
	EXPECT_EQ(-EBADMSG, iketcp_nl_parse(nlh, &ev, scratch));
	/* 27 bytes: the u32 would end 1 byte past the message */
	nlh->nlmsg_len = 27;
	EXPECT_EQ(-EBADMSG, iketcp_nl_parse(nlh, &ev, scratch));
	EXPECT_EQ(0, ev.conn_id);
	nlh->nlmsg_len = 28;
	EXPECT_EQ(0, iketcp_nl_parse(nlh, &ev, scratch));
	EXPECT_EQ(42, ev.conn_id);
}

static int handled;

static int count_cb(const struct iketcp_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
	handled++;
	return 0;
}

/* Walk @len bytes as iketcp_nl_recv() walks a datagram (the stash) */
static int walk(struct iketcp_nl *nl, const void *buf, size_t len)
{
	memset(nl, 0, sizeof(*nl));
	nl->family = FAMILY;
	nl->scratch = malloc(IKETCP_NL_BUFSZ);
	nl->stash = malloc(len);
	if (!nl->scratch || !nl->stash)
		abort();
	memcpy(nl->stash, buf, len);
	nl->stash_len = len;
	handled = 0;
	return iketcp_nl_recv(nl, false, count_cb, NULL);
}

TEST(a_walk_stays_inside_its_datagram)
{
	char buf[256] __attribute__((aligned(4))) = {};
	struct nlmsghdr *nlh = put_event(buf, IKETCP_CMD_CONN_ENDED), *bad;
	struct iketcp_nl nl;

	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, 1);
	/* then a message claiming 0xfe131313 bytes (negative as an int) */
	bad = (struct nlmsghdr *)(buf + nlh->nlmsg_len);
	bad->nlmsg_len = 0xfe131313;
	bad->nlmsg_type = FAMILY;
	EXPECT_EQ(1, walk(&nl, buf, nlh->nlmsg_len + 16));
	EXPECT_EQ(1, handled);
	iketcp_nl_close(&nl);
}

static size_t put_error(char *buf, int error, uint32_t echoed_len,
			uint16_t flags, const char *text)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = flags;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_len = echoed_len;
	if (text)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
	return nlh->nlmsg_len;
}

TEST(extended_acks_are_read_inside_the_message)
{
	char buf[256] __attribute__((aligned(4))) = {};
	struct iketcp_nl nl;
	size_t len;

	/* capped: the TLVs follow the header */
	len = put_error(buf, -EINVAL, 16, NLM_F_ACK_TLVS | NLM_F_CAPPED,
			"bad thing");
	EXPECT_EQ(-EINVAL, walk(&nl, buf, len));
	EXPECT_STREQ("bad thing", nl.err);
	iketcp_nl_close(&nl);
	/* not capped, the echoed request is the bare header (16 bytes) */
	len = put_error(buf, -ENOENT, 16, NLM_F_ACK_TLVS, "gone");
	EXPECT_EQ(-ENOENT, walk(&nl, buf, len));
	EXPECT_STREQ("gone", nl.err);
	iketcp_nl_close(&nl);
	/* an echoed request far longer than the message: no TLV is read */
	len = put_error(buf, -EINVAL, 0xf6f6f6f6, NLM_F_ACK_TLVS, "x");
	EXPECT_EQ(-EINVAL, walk(&nl, buf, len));
	EXPECT_STREQ(strerror(EINVAL), nl.err);
	iketcp_nl_close(&nl);
	len = put_error(buf, -EINVAL, 3, NLM_F_ACK_TLVS, "x");
	EXPECT_EQ(-EINVAL, walk(&nl, buf, len));
	EXPECT_STREQ(strerror(EINVAL), nl.err);
	iketcp_nl_close(&nl);
}

TEST(error_codes_that_are_not_errnos)
{
	char buf[256] __attribute__((aligned(4))) = {};
	struct iketcp_nl nl;
	size_t len;

	len = put_error(buf, INT_MIN, 16, NLM_F_CAPPED, NULL);
	EXPECT_EQ(-EPROTO, walk(&nl, buf, len));
	iketcp_nl_close(&nl);
	/* a positive one was taken for success */
	len = put_error(buf, 5, 16, NLM_F_CAPPED, NULL);
	EXPECT_EQ(-EPROTO, walk(&nl, buf, len));
	iketcp_nl_close(&nl);
	len = put_error(buf, -4096, 16, NLM_F_CAPPED, NULL);
	EXPECT_EQ(-EPROTO, walk(&nl, buf, len));
	iketcp_nl_close(&nl);
	len = put_error(buf, -EBUSY, 16, NLM_F_CAPPED, NULL);
	EXPECT_EQ(-EBUSY, walk(&nl, buf, len));
	EXPECT_STREQ(strerror(EBUSY), nl.err);
	iketcp_nl_close(&nl);
	/* an ACK among notifications is no error */
	len = put_error(buf, 0, 16, NLM_F_CAPPED, NULL);
	EXPECT_EQ(0, walk(&nl, buf, len));
	iketcp_nl_close(&nl);
}

/* notifications from another user socket (NETLINK_USERSOCK, unicast) */
TEST(a_drain_handles_a_bounded_number)
{
	struct mnl_socket *rx, *tx;
	struct iketcp_nl nl = {};
	int overruns = 0, sent = 0, ret;

	rx = mnl_socket_open(NETLINK_USERSOCK);
	tx = mnl_socket_open(NETLINK_USERSOCK);
	ASSERT_NE(NULL, rx);
	ASSERT_NE(NULL, tx);
	ASSERT_EQ(0, mnl_socket_bind(rx, 0, MNL_SOCKET_AUTOPID));
	ASSERT_EQ(0, mnl_socket_bind(tx, 0, MNL_SOCKET_AUTOPID));
	nl.sock = rx;
	nl.family = FAMILY;
	nl.buf = malloc(IKETCP_NL_BUFSZ);
	nl.scratch = malloc(IKETCP_NL_BUFSZ);
	ASSERT_NE(NULL, nl.buf);
	ASSERT_NE(NULL, nl.scratch);
	for (int i = 0; i < 150; i++) {
		char buf[256] __attribute__((aligned(4))) = {};
		struct nlmsghdr *nlh = put_event(buf, IKETCP_CMD_CONN_ENDED);
		struct sockaddr_nl to = { .nl_family = AF_NETLINK,
					  .nl_pid = mnl_socket_get_portid(rx) };

		mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, i + 1);
		if (sendto(mnl_socket_get_fd(tx), nlh, nlh->nlmsg_len,
			   MSG_DONTWAIT, (void *)&to, sizeof(to)) < 0)
			break;
		sent++;
	}
	ASSERT_EQ(150, sent);
	ret = iketcp_nl_drain(&nl, 64, count_cb, NULL, &overruns);
	EXPECT_EQ(64, ret);
	EXPECT_EQ(64, handled);
	ret = iketcp_nl_drain(&nl, 64, count_cb, NULL, &overruns);
	EXPECT_EQ(64, ret);
	/* the rest, then nothing: the socket is empty */
	ret = iketcp_nl_drain(&nl, 64, count_cb, NULL, &overruns);
	EXPECT_EQ(22, ret);
	EXPECT_EQ(150, handled);
	EXPECT_EQ(0, overruns);
	mnl_socket_close(tx);
	iketcp_nl_close(&nl);
}

TEST_HARNESS_MAIN
