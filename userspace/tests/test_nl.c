// SPDX-License-Identifier: GPL-2.0
/*
 * test_nl.c - the netlink client (nl.c) facing malformed or too many
 * notifications: a scalar attribute of the wrong length is never read,
 * and one drain handles a bounded number of notifications (a flood of
 * kernel events cannot starve the event loop's other descriptors).
 */
#include <errno.h>
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

static int handled;

static int count_cb(const struct iketcp_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
	handled++;
	return 0;
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
