// SPDX-License-Identifier: GPL-2.0
/*
 * ulp.c - selftests of the iketcp TCP ULP and its generic netlink channel.
 * Runs as root in the VM with iketcp.ko loaded; each test in a private
 * network namespace. The "peer" is a plain TCP client writing raw bytes;
 * the "helper" is a netlink socket registered in the namespace.
 */
#include <linux/bpf.h>
#include <linux/genetlink.h>
#include <linux/kcm.h>
#include <libmnl/libmnl.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "lib.h"

#define WAIT_MS 5000

FIXTURE(ulp) {
	int cli, srv;
	uint32_t id;
	struct iketcp_nl nl;
	struct evlog *log;
};

FIXTURE_VARIANT(ulp) {
	int family;
};

FIXTURE_VARIANT_ADD(ulp, ipv4) {
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(ulp, ipv6) {
	.family = AF_INET6,
};

/* Attach the ULP to a new pair in the fixture's netns; returns the id. */
static uint32_t fixture_conn(struct __test_metadata *_metadata,
			     FIXTURE_DATA(ulp) *self, int family, int *cli,
			     int *srv)
{
	const struct iketcp_event *ev;
	struct stat st;
	int before = evlog_count(self->log, IKETCP_CMD_CONN_ATTACHED, 0);

	ASSERT_EQ(0, tcp_pair(family, cli, srv));
	ASSERT_EQ(0, ulp_attach(*srv));
	ASSERT_EQ(before + 1, evlog_wait(&self->nl, self->log,
					 IKETCP_CMD_CONN_ATTACHED, 0,
					 before + 1, WAIT_MS));
	ev = evlog_last(self->log, IKETCP_CMD_CONN_ATTACHED, 0);
	ASSERT_EQ(0, fstat(*srv, &st));
	EXPECT_EQ(st.st_ino, ev->ino);
	EXPECT_EQ(family, ev->local.family);
	EXPECT_EQ(IKETCP_FRAMING_RAW, ev->framing);
	return ev->conn_id;
}

FIXTURE_SETUP(ulp)
{
	ASSERT_EQ(0, new_netns());
	self->log = calloc(1, sizeof(*self->log));
	ASSERT_NE(NULL, self->log);
	ASSERT_EQ(0, helper_open(&self->nl)) TH_LOG("%s", self->nl.err);
	self->id = fixture_conn(_metadata, self, variant->family, &self->cli,
				&self->srv);
}

FIXTURE_TEARDOWN(ulp)
{
	close(self->cli);
	close(self->srv);
	iketcp_nl_close(&self->nl);
	evlog_free(self->log);
	free(self->log);
}

/* Wait for @n messages on the fixture connection; check each body. */
static int wait_msgs(FIXTURE_DATA(ulp) *self, uint32_t id, int n)
{
	int got = evlog_wait(&self->nl, self->log, IKETCP_CMD_MSG, id, n,
			     WAIT_MS);

	for (int i = 0; i < self->log->n; i++) {
		const struct iketcp_event *ev = &self->log->ev[i];

		if (ev->cmd == IKETCP_CMD_MSG &&
		    check_msg(ev->msg, ev->msg_len) < 0)
			return -1;
	}
	return got;
}

TEST_F(ulp, getsockopt_names_ulp)
{
	char name[16] = {};
	socklen_t len = sizeof(name);

	ASSERT_EQ(0, getsockopt(self->srv, IPPROTO_TCP, TCP_ULP, name, &len));
	ASSERT_STREQ("iketcp", name);
}

TEST_F(ulp, attach_twice_fails)
{
	ASSERT_EQ(-EEXIST, ulp_attach(self->srv));
}

TEST_F(ulp, attached_event_has_addresses)
{
	const struct iketcp_event *ev =
		evlog_last(self->log, IKETCP_CMD_CONN_ATTACHED, self->id);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uint16_t port;

	ASSERT_NE(NULL, ev);
	ASSERT_EQ(0, getsockname(self->cli, (void *)&ss, &sl));
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (variant->family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	EXPECT_EQ(port, ev->remote.port);
	EXPECT_NE(0, ev->local.port);
	EXPECT_EQ(variant->family, ev->remote.family);
}

TEST_F(ulp, userspace_io_refused)
{
	uint8_t m[64];
	char c;

	ASSERT_EQ(-1, recv(self->srv, &c, 1, MSG_DONTWAIT));
	ASSERT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(-1, send(self->srv, "x", 1, 0));
	ASSERT_EQ(EOPNOTSUPP, errno);
	mk_msg(m, sizeof(m), 0x20, 34, 1);
	ASSERT_EQ(0, write_all(self->cli, m, sizeof(m)));
	/* the stream belongs to the ULP */
	ASSERT_EQ(1, wait_msgs(self, self->id, 1));
	ASSERT_EQ(-1, recv(self->srv, &c, 1, MSG_DONTWAIT));
	ASSERT_EQ(EOPNOTSUPP, errno);
}

TEST_F(ulp, one_message)
{
	const struct iketcp_event *ev;
	uint8_t m[300];

	mk_msg(m, sizeof(m), 0x20, 34, 7);
	ASSERT_EQ(0, write_all(self->cli, m, sizeof(m)));
	ASSERT_EQ(1, wait_msgs(self, self->id, 1));
	ev = evlog_last(self->log, IKETCP_CMD_MSG, self->id);
	ASSERT_EQ(sizeof(m), ev->msg_len);
	ASSERT_EQ(0, memcmp(m, ev->msg, sizeof(m)));
	EXPECT_EQ(variant->family, ev->remote.family);
	EXPECT_NE(0, ev->remote.port);
}

TEST_F(ulp, split_at_every_byte)
{
	uint8_t m[100];
	int k;

	for (k = 1; k < (int)sizeof(m); k++) {
		mk_msg(m, sizeof(m), 0x20, 35, k);
		ASSERT_EQ(0, write_all(self->cli, m, k));
		usleep(2000);	/* separate segments */
		ASSERT_EQ(0, write_all(self->cli, m + k, sizeof(m) - k));
	}
	ASSERT_EQ(k - 1, wait_msgs(self, self->id, k - 1));
	for (int i = 0, n = 0; i < self->log->n; i++)
		if (self->log->ev[i].cmd == IKETCP_CMD_MSG)
			ASSERT_EQ(++n, check_msg(self->log->ev[i].msg,
						 self->log->ev[i].msg_len));
}

TEST_F(ulp, byte_by_byte)
{
	uint8_t m[64];

	mk_msg(m, sizeof(m), 0x10, 2, 3);
	for (size_t i = 0; i < sizeof(m); i++) {
		ASSERT_EQ(0, write_all(self->cli, m + i, 1));
		usleep(500);
	}
	ASSERT_EQ(1, wait_msgs(self, self->id, 1));
}

TEST_F(ulp, many_in_one_segment)
{
	static uint8_t buf[60000];
	size_t off = 0;
	int n = 0;

	while (n < 64) {
		uint32_t len = 28 + (n * 131) % 700;

		mk_msg(buf + off, len, n % 2 ? 0x20 : 0x10, 34, n + 1);
		off += len;
		n++;
	}
	ASSERT_EQ(0, write_all(self->cli, buf, off));
	ASSERT_EQ(n, wait_msgs(self, self->id, n));
	for (int i = 0, k = 0; i < self->log->n; i++)
		if (self->log->ev[i].cmd == IKETCP_CMD_MSG)
			ASSERT_EQ(++k, check_msg(self->log->ev[i].msg,
						 self->log->ev[i].msg_len));
}

TEST_F(ulp, smallest_and_largest)
{
	static uint8_t m[65535];
	const struct iketcp_event *ev;

	mk_msg(m, 28, 0x20, 34, 1);
	ASSERT_EQ(0, write_all(self->cli, m, 28));
	mk_msg(m, IKETCP_MAX_MSG_LEN_DEFAULT, 0x20, 35, 2);
	ASSERT_EQ(0, write_all(self->cli, m, IKETCP_MAX_MSG_LEN_DEFAULT));
	ASSERT_EQ(2, wait_msgs(self, self->id, 2));
	ev = evlog_last(self->log, IKETCP_CMD_MSG, self->id);
	ASSERT_EQ(IKETCP_MAX_MSG_LEN_DEFAULT, ev->msg_len);

	/* the ceiling, once the netns allows it */
	ASSERT_EQ(0, iketcp_nl_netns_set(&self->nl, 65535));
	mk_msg(m, 65535, 0x20, 35, 3);
	ASSERT_EQ(0, write_all(self->cli, m, 65535));
	ASSERT_EQ(3, wait_msgs(self, self->id, 3));
	ev = evlog_last(self->log, IKETCP_CMD_MSG, self->id);
	ASSERT_EQ(65535, ev->msg_len);
}

TEST_F(ulp, limit_is_checked_and_bounded)
{
	struct iketcp_netns_info info;

	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	ASSERT_EQ(IKETCP_MAX_MSG_LEN_DEFAULT, info.max_msg_len);
	ASSERT_EQ(-ERANGE, iketcp_nl_netns_set(&self->nl, 65536));
	ASSERT_EQ(-ERANGE, iketcp_nl_netns_set(&self->nl, 27));
	ASSERT_EQ(0, iketcp_nl_netns_set(&self->nl, 1000));
	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	ASSERT_EQ(1000, info.max_msg_len);
}

static void expect_abort(struct __test_metadata *_metadata,
			 FIXTURE_DATA(ulp) *self, int family,
			 const uint8_t *bytes, size_t len, uint8_t reason,
			 int good_before)
{
	const struct iketcp_event *ev;
	int cli, srv;
	uint32_t id = fixture_conn(_metadata, self, family, &cli, &srv);

	ASSERT_EQ(0, write_all(cli, bytes, len));
	ev = evlog_wait_end(&self->nl, self->log, id);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(reason, ev->reason) TH_LOG("reason %s",
					     iketcp_reason_str(ev->reason));
	EXPECT_EQ(1, ev->stats[IKETCP_STAT_FRAMING_ERRORS]);
	EXPECT_EQ(good_before, ev->stats[IKETCP_STAT_RX_MSGS]);
	EXPECT_EQ(good_before, evlog_count(self->log, IKETCP_CMD_MSG, id));
	EXPECT_TRUE(peer_was_reset(cli));
	close(cli);
	close(srv);
}

TEST_F(ulp, short_lengths_abort)
{
	uint8_t m[IKETCP_IKE_HDR_LEN];

	for (uint32_t l = 0; l < IKETCP_IKE_HDR_LEN; l++) {
		mk_msg(m, IKETCP_IKE_HDR_LEN, 0x20, 34, 1);
		m[24] = m[25] = m[26] = 0;
		m[27] = l;
		expect_abort(_metadata, self, variant->family, m, sizeof(m),
			     IKETCP_REASON_LEN_SHORT, 0);
	}
}

TEST_F(ulp, huge_lengths_abort)
{
	uint8_t m[IKETCP_IKE_HDR_LEN];

	mk_msg(m, IKETCP_IKE_HDR_LEN, 0x20, 34, 1);
	m[24] = m[25] = m[26] = m[27] = 0xff;
	expect_abort(_metadata, self, variant->family, m, sizeof(m),
		     IKETCP_REASON_LEN_LONG, 0);
	mk_msg(m, IKETCP_IKE_HDR_LEN, 0x20, 34, 1);
	m[25] = 0x00;
	m[26] = (IKETCP_MAX_MSG_LEN_DEFAULT + 1) >> 8;
	m[27] = (IKETCP_MAX_MSG_LEN_DEFAULT + 1) & 0xff;
	expect_abort(_metadata, self, variant->family, m, sizeof(m),
		     IKETCP_REASON_LEN_LONG, 0);
}

TEST_F(ulp, bad_versions_abort)
{
	uint8_t m[IKETCP_IKE_HDR_LEN];

	mk_msg(m, sizeof(m), 0x00, 34, 1);
	expect_abort(_metadata, self, variant->family, m, sizeof(m),
		     IKETCP_REASON_BAD_VERSION, 0);
	mk_msg(m, sizeof(m), 0x30, 34, 1);
	expect_abort(_metadata, self, variant->family, m, sizeof(m),
		     IKETCP_REASON_BAD_VERSION, 0);
	/* decided on the version byte alone: 18 bytes are enough */
	mk_msg(m, sizeof(m), 0x40, 34, 1);
	expect_abort(_metadata, self, variant->family, m, 18,
		     IKETCP_REASON_BAD_VERSION, 0);
}

TEST_F(ulp, non_ike_bytes_abort)
{
	const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	/* byte 17 of this request is 'T' (0x54): major version 5 */
	expect_abort(_metadata, self, variant->family, (const void *)http,
		     strlen(http), IKETCP_REASON_BAD_VERSION, 0);
}

TEST_F(ulp, good_messages_before_violation_arrive)
{
	uint8_t buf[3 * 100 + IKETCP_IKE_HDR_LEN];

	for (int i = 0; i < 3; i++)
		mk_msg(buf + i * 100, 100, 0x20, 37, i + 1);
	mk_msg(buf + 300, IKETCP_IKE_HDR_LEN, 0x20, 37, 4);
	buf[300 + 27] = 3;	/* length 3 */
	expect_abort(_metadata, self, variant->family, buf, sizeof(buf),
		     IKETCP_REASON_LEN_SHORT, 3);
}

TEST_F(ulp, ikev1_and_ikev2_pass)
{
	uint8_t m[200];

	mk_msg(m, sizeof(m), 0x10, 2, 1);	/* IKEv1 Main Mode */
	ASSERT_EQ(0, write_all(self->cli, m, sizeof(m)));
	mk_msg(m, sizeof(m), 0x20, 35, 2);	/* IKEv2 IKE_AUTH */
	ASSERT_EQ(0, write_all(self->cli, m, sizeof(m)));
	ASSERT_EQ(2, wait_msgs(self, self->id, 2));
}

TEST_F(ulp, peer_fin_after_messages)
{
	const struct iketcp_event *ev;
	uint8_t m[120];

	for (int i = 1; i <= 3; i++) {
		mk_msg(m, sizeof(m), 0x20, 37, i);
		ASSERT_EQ(0, write_all(self->cli, m, sizeof(m)));
	}
	shutdown(self->cli, SHUT_WR);
	ev = evlog_wait_end(&self->nl, self->log, self->id);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(IKETCP_REASON_PEER_FIN, ev->reason);
	EXPECT_FALSE(ev->truncated);
	/* every message arrived before the end was reported */
	EXPECT_EQ(3, evlog_count(self->log, IKETCP_CMD_MSG, self->id));
	EXPECT_EQ(IKETCP_CMD_CONN_ENDED, self->log->ev[self->log->n - 1].cmd);
}

TEST_F(ulp, peer_closes_mid_message)
{
	const struct iketcp_event *ev;
	uint8_t m[500];

	mk_msg(m, sizeof(m), 0x20, 35, 1);
	ASSERT_EQ(0, write_all(self->cli, m, 200));
	shutdown(self->cli, SHUT_WR);
	ev = evlog_wait_end(&self->nl, self->log, self->id);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(IKETCP_REASON_PEER_FIN, ev->reason);
	EXPECT_TRUE(ev->truncated);
	EXPECT_EQ(0, evlog_count(self->log, IKETCP_CMD_MSG, self->id));
}

TEST_F(ulp, peer_reset)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	const struct iketcp_event *ev;
	uint8_t m[100];

	mk_msg(m, sizeof(m), 0x20, 37, 1);
	ASSERT_EQ(0, write_all(self->cli, m, sizeof(m)));
	ASSERT_EQ(1, wait_msgs(self, self->id, 1));
	ASSERT_EQ(0, setsockopt(self->cli, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	close(self->cli);
	self->cli = -1;
	ev = evlog_wait_end(&self->nl, self->log, self->id);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(IKETCP_REASON_PEER_RESET, ev->reason);
	EXPECT_EQ(ECONNRESET, ev->sk_errno);
	/* a send on the ended connection is refused */
	ASSERT_EQ(-ENOTCONN, iketcp_nl_conn_send(&self->nl, self->id, m,
						  sizeof(m)));
	EXPECT_STREQ("iketcp: connection is closed", self->nl.err);
}

TEST_F(ulp, local_close_reports_and_forgets)
{
	const struct iketcp_event *ev;
	struct iketcp_event cur;

	close(self->srv);
	self->srv = -1;
	ev = evlog_wait_end(&self->nl, self->log, self->id);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(IKETCP_REASON_LOCAL_CLOSE, ev->reason);
	ASSERT_EQ(-ENOENT, iketcp_nl_conn_get(&self->nl, self->id, &cur));
}

TEST_F(ulp, admin_close_resets_peer)
{
	const struct iketcp_event *ev;

	ASSERT_EQ(0, iketcp_nl_conn_close(&self->nl, self->id));
	ev = evlog_wait_end(&self->nl, self->log, self->id);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(IKETCP_REASON_ADMIN, ev->reason);
	EXPECT_TRUE(peer_was_reset(self->cli));
	ASSERT_EQ(-EALREADY, iketcp_nl_conn_close(&self->nl, self->id));
}

TEST_F(ulp, send_whole_messages)
{
	static uint8_t m[65535];
	struct iketcp_stream s;
	struct iketcp_event cur;
	long next = 1;

	ASSERT_EQ(0, iketcp_stream_init(&s, IKETCP_FRAMING_RAW, 65535));
	for (int i = 1; i <= 20; i++) {
		uint32_t len = 28 + (i * 3001) % 20000;

		mk_msg(m, len, 0x20, 35, i);
		ASSERT_EQ(0, iketcp_nl_conn_send(&self->nl, self->id, m, len));
	}
	/* the largest message travels in two netlink attributes */
	ASSERT_EQ(0, iketcp_nl_netns_set(&self->nl, 65535));
	mk_msg(m, 65535, 0x20, 35, 21);
	ASSERT_EQ(0, iketcp_nl_conn_send(&self->nl, self->id, m, 65535));
	ASSERT_EQ(0, stream_read(self->cli, &s, &s.msgs, 21, msg_seq_cb, &next));
	ASSERT_EQ(22, next);
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, self->id, &cur));
	EXPECT_EQ(21, cur.stats[IKETCP_STAT_TX_MSGS]);
	EXPECT_EQ(0, cur.stats[IKETCP_STAT_TX_QUEUED]);
	iketcp_stream_free(&s);
}

TEST_F(ulp, send_refusals_explained)
{
	static uint8_t m[IKETCP_MAX_MSG_LEN_DEFAULT + 1];

	mk_msg(m, sizeof(m), 0x20, 35, 1);
	ASSERT_EQ(-EMSGSIZE, iketcp_nl_conn_send(&self->nl, self->id, m,
						  sizeof(m)));
	EXPECT_STREQ("iketcp: message larger than the netns limit",
		     self->nl.err);
	mk_msg(m, 100, 0x20, 35, 1);
	ASSERT_EQ(-EINVAL, iketcp_nl_conn_send(&self->nl, self->id, m, 99));
	EXPECT_NE(NULL, strstr(self->nl.err, "not one IKE message"));
	ASSERT_EQ(-ENOENT, iketcp_nl_conn_send(&self->nl, self->id + 1000, m,
						100));
	EXPECT_STREQ("no such connection", self->nl.err);
}

struct sender {
	uint32_t id;
	int base;
	int count;
	int err;
};

static void *sender_main(void *arg)
{
	static __thread uint8_t m[24000];
	struct sender *s = arg;
	struct iketcp_nl nl;

	if (iketcp_nl_open(&nl)) {
		s->err = -1;
		return NULL;
	}
	for (int i = 0; i < s->count; i++) {
		uint32_t len = 8000 + (i * 997 + s->base) % 16000;
		int ret;

		mk_msg(m, len, 0x20, 37, s->base + i);
		while ((ret = iketcp_nl_conn_send(&nl, s->id, m, len)) ==
		       -ENOBUFS)
			usleep(1000);
		if (ret) {
			s->err = ret;
			break;
		}
	}
	iketcp_nl_close(&nl);
	return NULL;
}

static int any_cb(const uint8_t *msg, size_t len, void *arg)
{
	int *seen = arg;
	long id = check_msg(msg, len);

	if (id < 0 || id >= 4000 || seen[id])
		return -1;
	seen[id] = 1;
	return 0;
}

TEST_F(ulp, concurrent_senders_never_interleave)
{
	struct sender snd[4];
	pthread_t th[4];
	struct iketcp_stream s;
	static int seen[4000];

	ASSERT_EQ(0, iketcp_stream_init(&s, IKETCP_FRAMING_RAW, 65507));
	for (int i = 0; i < 4; i++) {
		snd[i] = (struct sender){ .id = self->id, .base = i * 1000,
					  .count = 100 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, sender_main, &snd[i]));
	}
	ASSERT_EQ(0, stream_read(self->cli, &s, &s.msgs, 400, any_cb, seen));
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ASSERT_EQ(0, snd[i].err);
	}
	iketcp_stream_free(&s);
}

TEST_F(ulp, first_message_timeout)
{
	const struct iketcp_event *ev;
	struct iketcp_event cur;
	uint8_t m[200];
	int cli, srv, cli2, srv2;
	uint32_t id, id2;

	ASSERT_EQ(0, iketcp_nl_netns_set_first_msg_timeout(&self->nl, 600));
	/* silent peer */
	id = fixture_conn(_metadata, self, variant->family, &cli, &srv);
	/* slowloris: a partial header, then nothing */
	id2 = fixture_conn(_metadata, self, variant->family, &cli2, &srv2);
	mk_msg(m, sizeof(m), 0x20, 34, 1);
	ASSERT_EQ(0, write_all(cli2, m, 20));
	/* the fixture's connection delivers a message in time */
	ASSERT_EQ(0, write_all(self->cli, m, sizeof(m)));
	ev = evlog_wait_end(&self->nl, self->log, id);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(IKETCP_REASON_TIMEOUT, ev->reason);
	ev = evlog_wait_end(&self->nl, self->log, id2);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(IKETCP_REASON_TIMEOUT, ev->reason);
	EXPECT_TRUE(peer_was_reset(cli));
	EXPECT_TRUE(peer_was_reset(cli2));
	usleep(700000);
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, self->id, &cur));
	EXPECT_EQ(IKETCP_CONN_STATE_ACTIVE, cur.state);
	close(cli);
	close(srv);
	close(cli2);
	close(srv2);
}

/* the helper vouches for a connection: no limit, or a new one from now */
TEST_F(ulp, first_message_timeout_per_connection)
{
	const struct iketcp_event *ev;
	struct iketcp_event cur;
	int cli, srv, cli2, srv2;
	uint32_t id, id2;

	ASSERT_EQ(0, iketcp_nl_netns_set_first_msg_timeout(&self->nl, 500));
	id = fixture_conn(_metadata, self, variant->family, &cli, &srv);
	id2 = fixture_conn(_metadata, self, variant->family, &cli2, &srv2);
	ASSERT_EQ(0, iketcp_nl_conn_set_first_msg_timeout(&self->nl, id, 0));
	ASSERT_EQ(0, iketcp_nl_conn_set_first_msg_timeout(&self->nl, id2, 1500));
	usleep(1000000);
	/* both outlived the netns limit */
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, id, &cur));
	EXPECT_EQ(IKETCP_CONN_STATE_ACTIVE, cur.state);
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, id2, &cur));
	EXPECT_EQ(IKETCP_CONN_STATE_ACTIVE, cur.state);
	/* the second one's own limit strikes */
	ev = evlog_wait_end(&self->nl, self->log, id2);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(IKETCP_REASON_TIMEOUT, ev->reason);
	EXPECT_TRUE(peer_was_reset(cli2));
	/* an ended connection is refused, an unknown one too */
	EXPECT_EQ(-ENOTCONN,
		  iketcp_nl_conn_set_first_msg_timeout(&self->nl, id2, 0));
	EXPECT_EQ(-ENOENT,
		  iketcp_nl_conn_set_first_msg_timeout(&self->nl, 0x7ffffff0, 0));
	usleep(700000);
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, id, &cur));
	EXPECT_EQ(IKETCP_CONN_STATE_ACTIVE, cur.state);
	close(cli);
	close(srv);
	close(cli2);
	close(srv2);
}

/*
 * A valid header announcing a long message, one more byte in a second
 * segment, then silence: the byte waits in the socket (the parser needs
 * more); that is the peer's delay, not our backlog.
 */
TEST_F(ulp, first_message_limit_not_defeated_by_one_byte)
{
	const struct iketcp_event *ev;
	long long t0;
	uint8_t m[1000];
	int cli, srv;
	uint32_t id;

	ASSERT_EQ(0, iketcp_nl_netns_set_first_msg_timeout(&self->nl, 600));
	id = fixture_conn(_metadata, self, variant->family, &cli, &srv);
	mk_msg(m, sizeof(m), 0x20, 34, 1);
	t0 = now_ms();
	ASSERT_EQ(0, write_all(cli, m, IKETCP_IKE_HDR_LEN));
	usleep(100000);
	ASSERT_EQ(0, write_all(cli, m + IKETCP_IKE_HDR_LEN, 1));
	ev = evlog_wait_end(&self->nl, self->log, id);
	ASSERT_NE(NULL, ev) TH_LOG("not aborted %lld ms after the header",
				   now_ms() - t0);
	EXPECT_EQ(IKETCP_REASON_TIMEOUT, ev->reason);
	TH_LOG("aborted after %lld ms", now_ms() - t0);
	EXPECT_TRUE(peer_was_reset(cli));
	close(cli);
	close(srv);
}

/* After the first message, a message begun must still end in time */
TEST_F(ulp, partial_message_after_first_times_out)
{
	const struct iketcp_event *ev;
	struct iketcp_netns_info info;
	uint8_t m[1000];
	int cli, srv, cli2, srv2;
	uint32_t id, id2;
	long long t0, t;

	ASSERT_EQ(0, iketcp_nl_netns_set_msg_timeout(&self->nl, 800))
		TH_LOG("%s", self->nl.err);
	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	EXPECT_EQ(800, info.msg_timeout);
	id = fixture_conn(_metadata, self, variant->family, &cli, &srv);
	id2 = fixture_conn(_metadata, self, variant->family, &cli2, &srv2);
	mk_msg(m, 200, 0x20, 34, 1);
	ASSERT_EQ(0, write_all(cli, m, 200));
	ASSERT_EQ(0, write_all(cli2, m, 200));
	ASSERT_EQ(1, wait_msgs(self, id, 1));
	ASSERT_EQ(1, wait_msgs(self, id2, 1));
	/* the next one: a header and a bit, then nothing */
	mk_msg(m, sizeof(m), 0x20, 37, 2);
	t0 = now_ms();
	ASSERT_EQ(0, write_all(cli, m, 100));
	/* a slow but steady one completes within its time */
	ASSERT_EQ(0, write_all(cli2, m, 100));
	usleep(400000);
	ASSERT_EQ(0, write_all(cli2, m + 100, sizeof(m) - 100));
	ev = evlog_wait_end(&self->nl, self->log, id);
	t = now_ms() - t0;
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(IKETCP_REASON_TIMEOUT, ev->reason);
	EXPECT_LE(700, t);
	TH_LOG("partial message aborted after %lld ms", t);
	EXPECT_TRUE(peer_was_reset(cli));
	ASSERT_EQ(2, wait_msgs(self, id2, 2));
	EXPECT_EQ(0, evlog_count(self->log, IKETCP_CMD_CONN_ENDED, id2));
	close(cli);
	close(srv);
	close(cli2);
	close(srv2);
}

TEST_F(ulp, counters_in_dump)
{
	struct iketcp_event cur;
	uint8_t m[250];

	for (int i = 1; i <= 4; i++) {
		mk_msg(m, sizeof(m), 0x20, 37, i);
		ASSERT_EQ(0, write_all(self->cli, m, sizeof(m)));
	}
	ASSERT_EQ(4, wait_msgs(self, self->id, 4));
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, self->id, &cur));
	EXPECT_EQ(IKETCP_CONN_STATE_ACTIVE, cur.state);
	EXPECT_EQ(4, cur.stats[IKETCP_STAT_RX_MSGS]);
	EXPECT_EQ(4 * sizeof(m), cur.stats[IKETCP_STAT_RX_BYTES]);
	EXPECT_EQ(0, cur.stats[IKETCP_STAT_FRAMING_ERRORS]);
}

/* Out-of-range values are refused by the policy (ERANGE), before any
 * lookup
 */
TEST_F(ulp, policy_ranges)
{
	struct iketcp_fastpath_req fp = {
		.conn_id = self->id, .spi_i = 1, .spi_r = 2, .lport = 500,
		.rport = 500, .max_rate = 0xffffffff, .rx_seq = 0,
	};
	struct iketcp_ep a = { .family = AF_INET, .port = 500 };
	struct iketcp_ep b = { .family = AF_INET, .port = 0 };
	uint8_t m[IKETCP_IKE_HDR_LEN];

	mk_msg(m, sizeof(m), 0x20, 34, 1);
	a.addr.v4.s_addr = htonl(INADDR_LOOPBACK);
	b.addr.v4.s_addr = htonl(INADDR_LOOPBACK);
	EXPECT_EQ(-ERANGE, iketcp_nl_fastpath_add(&self->nl, &fp));
	TH_LOG("max_rate 0xffffffff: %s", self->nl.err);
	EXPECT_NE(NULL, strstr(self->nl.err, "out of range"));
	EXPECT_EQ(-ERANGE, iketcp_nl_udp_send(&self->nl, &a, &b, false, m,
					      sizeof(m)));
	TH_LOG("remote port 0: %s", self->nl.err);
	EXPECT_NE(NULL, strstr(self->nl.err, "out of range"));
	b.port = 500;
	EXPECT_EQ(-ERANGE, iketcp_nl_udp_inject(&self->nl, &a, &b, false, m,
						sizeof(m), -1));
	TH_LOG("ifindex -1: %s", self->nl.err);
	EXPECT_NE(NULL, strstr(self->nl.err, "out of range"));
}

/* ---- tests with their own set-up ---- */

/* Only the kernel reaches a helper's socket: a local process cannot forge
 * notifications by sending to its port id.
 */
TEST(helper_socket_takes_only_the_kernel)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	char buf[64] __attribute__((aligned(4))) = {};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct iketcp_nl nl;
	int fd;

	ASSERT_EQ(0, helper_open(&nl)) TH_LOG("%s", nl.err);
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	ASSERT_LE(0, fd);
	nlh->nlmsg_type = nl.family;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct genlmsghdr));
	to.nl_pid = nl.portid;
	EXPECT_EQ(-1, sendto(fd, nlh, nlh->nlmsg_len, 0, (void *)&to,
			     sizeof(to)));
	EXPECT_EQ(ECONNREFUSED, errno);
	close(fd);
	iketcp_nl_close(&nl);
}

TEST(attach_needs_established_tcp)
{
	int lfd, fd;

	ASSERT_EQ(0, new_netns());
	lfd = tcp_listener(AF_INET);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(-ENOTCONN, ulp_attach(lfd));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(-ENOTCONN, ulp_attach(fd));
	close(fd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_EQ(-ENOPROTOOPT, ulp_attach(fd));
	close(fd);
	close(lfd);
}

TEST(bytes_before_attach_are_framed)
{
	struct iketcp_nl nl;
	struct evlog *log = calloc(1, sizeof(*log));
	uint8_t m[150];
	int cli, srv;

	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&nl));
	ASSERT_EQ(0, tcp_pair(AF_INET, &cli, &srv));
	mk_msg(m, sizeof(m), 0x20, 34, 1);
	ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	mk_msg(m, 40, 0x20, 34, 2);
	m[27] = 5;	/* a bad header, already queued before attaching */
	ASSERT_EQ(0, write_all(cli, m, 40));
	usleep(100000);
	ASSERT_EQ(0, ulp_attach(srv));
	ASSERT_EQ(1, evlog_wait(&nl, log, IKETCP_CMD_CONN_ENDED, 0, 1,
				WAIT_MS));
	EXPECT_EQ(1, evlog_count(log, IKETCP_CMD_MSG, 0));
	EXPECT_EQ(IKETCP_REASON_LEN_SHORT,
		  evlog_last(log, IKETCP_CMD_CONN_ENDED, 0)->reason);
	close(cli);
	close(srv);
	iketcp_nl_close(&nl);
}

/* Nobody would read what it receives: refused, until a helper registers */
TEST(attach_without_helper_is_refused)
{
	struct iketcp_nl nl;
	struct evlog *log = calloc(1, sizeof(*log));
	uint8_t m[200];
	int cli, srv;

	ASSERT_NE(NULL, log);
	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, tcp_pair(AF_INET, &cli, &srv));
	ASSERT_EQ(-ESRCH, ulp_attach(srv));
	/* still a plain TCP socket */
	ASSERT_EQ(1, send(srv, "x", 1, 0));
	ASSERT_EQ(0, helper_open(&nl));
	ASSERT_EQ(0, ulp_attach(srv));
	mk_msg(m, sizeof(m), 0x20, 37, 1);
	ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	ASSERT_EQ(1, evlog_wait(&nl, log, IKETCP_CMD_MSG, 0, 1, WAIT_MS));
	ASSERT_EQ(IKETCP_CMD_CONN_ATTACHED, log->ev[0].cmd);
	close(cli);
	close(srv);
	iketcp_nl_close(&nl);
	evlog_free(log);
	free(log);
}

/* Only CAP_NET_ADMIN (in the socket's netns) may attach */
TEST(unprivileged_attach_eperm)
{
	struct iketcp_nl nl;
	int status, cli, srv;
	pid_t pid;

	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&nl));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int ret;

		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		if (tcp_pair(AF_INET, &cli, &srv))
			_exit(11);
		ret = ulp_attach(srv);
		if (ret)
			fprintf(stderr, "# unprivileged attach: %s\n",
				strerror(-ret));
		else
			fprintf(stderr, "# unprivileged attach succeeded\n");
		_exit(ret == -EPERM ? 0 : 12);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* root still can */
	ASSERT_EQ(0, tcp_pair(AF_INET, &cli, &srv));
	ASSERT_EQ(0, ulp_attach(srv));
	close(cli);
	close(srv);
	iketcp_nl_close(&nl);
}

/* An SO_RCVBUF below the message limit must not abort valid messages */
TEST(small_rcvbuf_takes_large_messages)
{
	static uint8_t m[30000];
	struct iketcp_nl nl;
	struct evlog *log = calloc(1, sizeof(*log));
	const struct iketcp_event *ev;
	int cli, srv;

	ASSERT_NE(NULL, log);
	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&nl));
	ASSERT_EQ(0, tcp_pair(AF_INET, &cli, &srv));
	ASSERT_EQ(0, setsockopt(srv, SOL_SOCKET, SO_RCVBUF, &(int){ 4096 },
				sizeof(int)));
	ASSERT_EQ(0, ulp_attach(srv));
	mk_msg(m, sizeof(m), 0x20, 37, 1);
	ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	evlog_wait(&nl, log, IKETCP_CMD_MSG, 0, 1, WAIT_MS);
	ev = evlog_last(log, IKETCP_CMD_CONN_ENDED, 0);
	if (ev)
		TH_LOG("ended with reason %u", ev->reason);
	ASSERT_EQ(NULL, ev);
	ASSERT_EQ(1, evlog_count(log, IKETCP_CMD_MSG, 0));
	ev = evlog_last(log, IKETCP_CMD_MSG, 0);
	ASSERT_EQ(sizeof(m), ev->msg_len);
	ASSERT_EQ(1, check_msg(ev->msg, ev->msg_len));
	close(cli);
	close(srv);
	iketcp_nl_close(&nl);
	evlog_free(log);
	free(log);
}

static long debugfs_read(const char *name)
{
	char path[128], buf[32] = "";
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/iketcp/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 10);
	fclose(f);
	return v;
}

static int debugfs_write(const char *name, long v)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/kernel/debug/iketcp/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fprintf(f, "%ld\n", v) < 0;
	return fclose(f) || ret ? -1 : 0;
}

/* The attach fails after strp_init() (debugfs: no id): it must unwind
 * without locking the socket setsockopt() holds, and leave plain TCP.
 */
TEST(attach_error_path_unwinds)
{
	long conns0 = debugfs_read("conns_alive");
	struct iketcp_nl nl;
	int cli, srv;
	char c;

	if (conns0 < 0 || debugfs_write("fail_conn_id", 1))
		SKIP(return, "needs an IKETCP_DEBUG=y build and debugfs");
	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&nl));
	ASSERT_EQ(0, tcp_pair(AF_INET, &cli, &srv));
	ASSERT_EQ(-ENOMEM, ulp_attach(srv));
	EXPECT_EQ(conns0, debugfs_read("conns_alive"));
	/* still plain TCP, and the next attach works */
	ASSERT_EQ(1, write(cli, "x", 1));
	ASSERT_EQ(1, recv(srv, &c, 1, 0));
	ASSERT_EQ(0, ulp_attach(srv));
	close(cli);
	close(srv);
	iketcp_nl_close(&nl);
}

/* A second user of sk_user_data (KCM here) is refused once attached */
TEST(kcm_cannot_stack_on_attached_socket)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = IKETCP_IKE_HDR_LEN },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr = {};
	struct kcm_attach ka = {};
	struct kcm_unattach ku = {};
	struct iketcp_nl nl;
	int cli, srv, kcm, pfd, ret;

	ASSERT_EQ(0, new_netns());
	kcm = socket(AF_KCM, SOCK_DGRAM, KCMPROTO_CONNECTED);
	if (kcm < 0)
		SKIP(return, "no KCM (AF_KCM) in this kernel: %s",
		     strerror(errno));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (uintptr_t)prog;
	attr.insn_cnt = 2;
	attr.license = (uintptr_t)"GPL";
	pfd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	ASSERT_LE(0, pfd) TH_LOG("BPF_PROG_LOAD: %s", strerror(errno));
	ASSERT_EQ(0, helper_open(&nl));
	ASSERT_EQ(0, tcp_pair(AF_INET, &cli, &srv));
	ASSERT_EQ(0, ulp_attach(srv));
	ka.fd = srv;
	ka.bpf_fd = pfd;
	ret = ioctl(kcm, SIOCKCMATTACH, &ka);
	if (!ret) {
		/* undo before anything else touches the socket */
		ku.fd = srv;
		ioctl(kcm, SIOCKCMUNATTACH, &ku);
	}
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(errno == EALREADY || errno == EBUSY)
		TH_LOG("SIOCKCMATTACH: %s", strerror(errno));
	close(kcm);
	close(pfd);
	close(cli);
	close(srv);
	iketcp_nl_close(&nl);
}

/*
 * A framing violation schedules the abort (RST); the connection is closed
 * before it runs (the delay widens that window): everything must still be
 * freed, the connection, its socket and thereby its netns.
 */
TEST(abort_then_close_frees_everything)
{
	long conns0 = debugfs_read("conns_alive");
	long nets0 = debugfs_read("nets_alive");
	long conns = -1, nets = -1;
	int status, i;
	pid_t pid;

	if (conns0 < 0 || nets0 < 0 || debugfs_write("abort_delay_ms", 300))
		SKIP(return, "needs an IKETCP_DEBUG=y build and debugfs");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct iketcp_nl nl;
		uint8_t m[28];
		int cli, srv;

		if (new_netns() || helper_open(&nl))
			_exit(10);
		mk_msg(m, sizeof(m), 0x30, 34, 1);	/* bad version */
		for (i = 0; i < 30; i++) {
			if (tcp_pair(AF_INET, &cli, &srv) || ulp_attach(srv))
				_exit(11);
			if (write_all(cli, m, sizeof(m)))
				_exit(12);
			usleep(20000);	/* parsed: the abort is pending */
			close(srv);
			close(cli);
		}
		iketcp_nl_close(&nl);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	debugfs_write("abort_delay_ms", 0);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	for (i = 0; i < 200; i++) {
		conns = debugfs_read("conns_alive");
		nets = debugfs_read("nets_alive");
		if (conns == conns0 && nets == nets0)
			break;
		usleep(100000);
	}
	TH_LOG("conns_alive %ld (before %ld), nets_alive %ld (before %ld)",
	       conns, conns0, nets, nets0);
	EXPECT_EQ(conns0, conns);
	EXPECT_EQ(nets0, nets);
}

TEST(second_helper_is_refused_until_first_leaves)
{
	struct iketcp_nl a, b;

	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&a));
	ASSERT_EQ(0, iketcp_nl_open(&b));
	ASSERT_EQ(-EBUSY, iketcp_nl_register(&b));
	EXPECT_STREQ("iketcp: another helper is registered in this netns",
		     b.err);
	iketcp_nl_close(&a);
	ASSERT_EQ(0, iketcp_nl_register(&b));
	iketcp_nl_close(&b);
}

TEST(helper_exit_then_new_helper_gets_the_rest)
{
	struct iketcp_nl a, b;
	struct evlog *log = calloc(1, sizeof(*log));
	uint8_t m[100];
	int cli, srv;

	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&a));
	ASSERT_EQ(0, tcp_pair(AF_INET6, &cli, &srv));
	ASSERT_EQ(0, ulp_attach(srv));
	ASSERT_EQ(1, evlog_wait(&a, log, IKETCP_CMD_CONN_ATTACHED, 0, 1,
				WAIT_MS));
	iketcp_nl_close(&a);	/* the helper goes away */
	for (int i = 1; i <= 3; i++) {
		mk_msg(m, sizeof(m), 0x20, 37, i);
		ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	}
	usleep(200000);
	ASSERT_EQ(0, helper_open(&b));
	ASSERT_EQ(3, evlog_wait(&b, log, IKETCP_CMD_MSG, 0, 3, WAIT_MS));
	close(cli);
	close(srv);
	iketcp_nl_close(&b);
}

static int count_cb(const struct iketcp_event *ev, void *arg)
{
	(void)ev;
	(*(int *)arg)++;
	return 0;
}

TEST(two_netns_see_only_their_own)
{
	struct iketcp_nl nla, nlb;
	struct evlog *la = calloc(1, sizeof(*la));
	struct evlog *lb = calloc(1, sizeof(*lb));
	int ca, sa, cb, sb, nsa;
	uint8_t m[64];
	int n = 0;

	ASSERT_EQ(0, new_netns());
	nsa = open("/proc/self/ns/net", O_RDONLY);
	ASSERT_EQ(0, helper_open(&nla));
	ASSERT_EQ(0, tcp_pair(AF_INET, &ca, &sa));
	ASSERT_EQ(0, ulp_attach(sa));

	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&nlb));
	ASSERT_EQ(0, tcp_pair(AF_INET, &cb, &sb));
	ASSERT_EQ(0, ulp_attach(sb));
	mk_msg(m, sizeof(m), 0x20, 37, 2);
	ASSERT_EQ(0, write_all(cb, m, sizeof(m)));
	mk_msg(m, sizeof(m), 0x20, 37, 1);
	ASSERT_EQ(0, write_all(ca, m, sizeof(m)));

	ASSERT_EQ(1, evlog_wait(&nla, la, IKETCP_CMD_MSG, 0, 1, WAIT_MS));
	ASSERT_EQ(1, evlog_wait(&nlb, lb, IKETCP_CMD_MSG, 0, 1, WAIT_MS));
	usleep(100000);
	evlog_wait(&nla, la, IKETCP_CMD_MSG, 0, 2, 200);
	evlog_wait(&nlb, lb, IKETCP_CMD_MSG, 0, 2, 200);
	EXPECT_EQ(1, evlog_count(la, IKETCP_CMD_MSG, 0));
	EXPECT_EQ(1, evlog_count(lb, IKETCP_CMD_MSG, 0));
	EXPECT_EQ(1, check_msg(evlog_last(la, IKETCP_CMD_MSG, 0)->msg, 64));
	EXPECT_EQ(2, check_msg(evlog_last(lb, IKETCP_CMD_MSG, 0)->msg, 64));
	/* dumps are per netns as well (nlb lives in netns B) */
	ASSERT_EQ(0, iketcp_nl_conn_dump(&nlb, count_cb, &n));
	EXPECT_EQ(1, n);
	ASSERT_EQ(0, setns(nsa, CLONE_NEWNET));
	close(ca);
	close(sa);
	close(cb);
	close(sb);
	iketcp_nl_close(&nla);
	iketcp_nl_close(&nlb);
}

TEST(unprivileged_commands_eperm)
{
	pid_t pid;
	int status;

	ASSERT_EQ(0, new_netns());
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct iketcp_netns_info info;
		struct iketcp_event ev;
		struct iketcp_nl nl;
		uint8_t m[28];
		int bad = 0;

		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		if (iketcp_nl_open(&nl))
			_exit(11);
		mk_msg(m, sizeof(m), 0x20, 34, 1);
		bad |= iketcp_nl_register(&nl) != -EPERM;
		bad |= iketcp_nl_resume(&nl) != -EPERM;
		bad |= iketcp_nl_netns_get(&nl, &info) != -EPERM;
		bad |= iketcp_nl_netns_set(&nl, 1000) != -EPERM;
		bad |= iketcp_nl_conn_get(&nl, 1, &ev) != -EPERM;
		bad |= iketcp_nl_conn_dump(&nl, NULL, NULL) != -EPERM;
		bad |= iketcp_nl_conn_send(&nl, 1, m, sizeof(m)) != -EPERM;
		bad |= iketcp_nl_conn_close(&nl, 1) != -EPERM;
		_exit(bad ? 12 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* A held message is received data of its socket again (ss -tm: r) */
TEST(held_message_charged_to_socket)
{
	struct iketcp_nl nl, ctl;
	struct evlog *log = calloc(1, sizeof(*log));
	struct iketcp_netns_info info;
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t ml = sizeof(mem);
	uint8_t m[1024];
	int cli, srv, i, n = 0;

	ASSERT_NE(NULL, log);
	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&nl));
	ASSERT_EQ(0, iketcp_nl_open(&ctl));
	ASSERT_EQ(0, iketcp_nl_set_rcvbuf(&nl, 4096));
	ASSERT_EQ(0, tcp_pair(AF_INET, &cli, &srv));
	ASSERT_EQ(0, ulp_attach(srv));
	/* one at a time until one is held: then nothing else is queued */
	for (i = 1; i <= 200; i++) {
		mk_msg(m, sizeof(m), 0x20, 37, i);
		ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
		n = i;
		usleep(20000);
		ASSERT_EQ(0, iketcp_nl_netns_get(&ctl, &info));
		if (info.stats[IKETCP_NS_STAT_HELD])
			break;
	}
	ASSERT_LT(0, info.stats[IKETCP_NS_STAT_HELD]);
	ASSERT_EQ(0, getsockopt(srv, SOL_SOCKET, SO_MEMINFO, mem, &ml));
	TH_LOG("%d messages sent, held: rmem_alloc %u, netns mem_used %llu",
	       n, mem[SK_MEMINFO_RMEM_ALLOC],
	       (unsigned long long)info.stats[IKETCP_NS_STAT_MEM_USED]);
	EXPECT_LE(sizeof(m), mem[SK_MEMINFO_RMEM_ALLOC]);
	EXPECT_LE(sizeof(m), info.stats[IKETCP_NS_STAT_MEM_USED]);
	/* taken: given back */
	ASSERT_EQ(n, evlog_wait(&nl, log, IKETCP_CMD_MSG, 0, n, 10000));
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, iketcp_nl_netns_get(&ctl, &info));
		ml = sizeof(mem);
		ASSERT_EQ(0, getsockopt(srv, SOL_SOCKET, SO_MEMINFO, mem, &ml));
		if (!info.stats[IKETCP_NS_STAT_MEM_USED] &&
		    !mem[SK_MEMINFO_RMEM_ALLOC])
			break;
		usleep(100000);
	}
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_MEM_USED]);
	EXPECT_EQ(0, mem[SK_MEMINFO_RMEM_ALLOC]);
	close(cli);
	close(srv);
	iketcp_nl_close(&nl);
	iketcp_nl_close(&ctl);
	evlog_free(log);
	free(log);
}

/* A peer that never reads: the send queues stop at the netns cap */
TEST(netns_mem_limit_refuses_sends)
{
	static uint8_t m[60000];
	struct iketcp_nl nl;
	struct evlog *log = calloc(1, sizeof(*log));
	struct iketcp_netns_info info;
	int cli, srv, i, ret = 0, sent = 0;
	uint32_t id;

	ASSERT_NE(NULL, log);
	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&nl));
	ASSERT_EQ(0, iketcp_nl_netns_set_mem_limit(&nl, 200000))
		TH_LOG("%s", nl.err);
	ASSERT_EQ(0, tcp_pair(AF_INET, &cli, &srv));
	ASSERT_EQ(0, setsockopt(cli, SOL_SOCKET, SO_RCVBUF, &(int){ 4096 },
				sizeof(int)));
	ASSERT_EQ(0, ulp_attach(srv));
	ASSERT_EQ(1, evlog_wait(&nl, log, IKETCP_CMD_CONN_ATTACHED, 0, 1,
				WAIT_MS));
	id = log->ev[0].conn_id;
	mk_msg(m, sizeof(m), 0x20, 37, 1);
	for (i = 0; i < 100; i++) {
		ret = iketcp_nl_conn_send(&nl, id, m, sizeof(m));
		if (ret)
			break;
		sent++;
	}
	TH_LOG("%d sent, then %d: %s", sent, ret, nl.err);
	EXPECT_EQ(-ENOBUFS, ret);
	EXPECT_NE(NULL, strstr(nl.err, "memory limit"));
	ASSERT_EQ(0, iketcp_nl_netns_get(&nl, &info));
	EXPECT_EQ(200000, info.mem_limit);
	EXPECT_LE(1, info.stats[IKETCP_NS_STAT_MEM_REFUSALS]);
	EXPECT_LT(0, info.stats[IKETCP_NS_STAT_MEM_USED]);
	EXPECT_GE(200000, info.stats[IKETCP_NS_STAT_MEM_USED]);
	close(srv);
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, iketcp_nl_netns_get(&nl, &info));
		if (!info.stats[IKETCP_NS_STAT_MEM_USED])
			break;
		usleep(100000);
	}
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_MEM_USED]);
	close(cli);
	iketcp_nl_close(&nl);
	evlog_free(log);
	free(log);
}

struct closer {
	struct iketcp_nl *nl;
};

static void *closer_main(void *arg)
{
	struct closer *c = arg;

	iketcp_nl_close(c->nl);
	return NULL;
}

/*
 * The helper closes; before the module forgets it (the release path is
 * slowed down through debugfs), another socket binds the same port id:
 * it is not the helper and must receive nothing.
 */
TEST(rebound_helper_portid_gets_nothing)
{
	struct iketcp_netns_info info;
	struct iketcp_nl a, ctl;
	struct closer c = { .nl = &a };
	struct evlog *log = calloc(1, sizeof(*log));
	struct mnl_socket *b;
	struct pollfd p;
	uint8_t m[200];
	pthread_t th;
	uint32_t portid;
	int cli, srv, ret;

	if (debugfs_read("conns_alive") < 0 ||
	    debugfs_write("urelease_delay_ms", 1500))
		SKIP(return, "needs an IKETCP_DEBUG=y build and debugfs");
	ASSERT_NE(NULL, log);
	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&a));
	ASSERT_EQ(0, iketcp_nl_open(&ctl));
	ASSERT_EQ(0, iketcp_nl_netns_get(&ctl, &info));
	portid = info.helper_portid;
	ASSERT_NE(0, portid);
	ASSERT_EQ(0, tcp_pair(AF_INET, &cli, &srv));
	ASSERT_EQ(0, ulp_attach(srv));
	ASSERT_EQ(1, evlog_wait(&a, log, IKETCP_CMD_CONN_ATTACHED, 0, 1,
				WAIT_MS));
	ASSERT_EQ(0, pthread_create(&th, NULL, closer_main, &c));
	usleep(300000);		/* a is closing, its port id is free */
	b = mnl_socket_open(NETLINK_GENERIC);
	ASSERT_NE(NULL, b);
	ret = mnl_socket_bind(b, 0, portid);
	debugfs_write("urelease_delay_ms", 0);
	ASSERT_EQ(0, ret) TH_LOG("bind to %u: %s", portid, strerror(errno));
	mk_msg(m, sizeof(m), 0x20, 37, 1);
	ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	p.fd = mnl_socket_get_fd(b);
	p.events = POLLIN;
	ret = poll(&p, 1, 1000);
	EXPECT_EQ(0, ret) TH_LOG("the socket that rebound port %u received",
				 portid);
	pthread_join(th, NULL);
	mnl_socket_close(b);
	close(cli);
	close(srv);
	iketcp_nl_close(&ctl);
	evlog_free(log);
	free(log);
}

struct flood {
	int fd;
	int count;
	int blocked;	/* the peer saw a full window at least once */
};

static void *flood_main(void *arg)
{
	static uint8_t m[1024];
	struct flood *f = arg;

	for (int i = 1; i <= f->count; i++) {
		size_t off = 0;

		mk_msg(m, sizeof(m), 0x20, 37, i);
		while (off < sizeof(m)) {
			ssize_t n = send(f->fd, m + off, sizeof(m) - off,
					 MSG_DONTWAIT);

			if (n < 0 && errno == EAGAIN) {
				f->blocked = 1;
				usleep(5000);
				continue;
			}
			if (n <= 0)
				return NULL;
			off += n;
		}
	}
	return NULL;
}

/* A fixture only to give the test a longer time limit */
FIXTURE(long_running) {
	int unused;
};

FIXTURE_SETUP(long_running)
{
}

FIXTURE_TEARDOWN(long_running)
{
}

TEST_F_TIMEOUT(long_running, backpressure_loses_nothing, 120)
{
	struct iketcp_nl nl, ctl;
	struct evlog *log = calloc(1, sizeof(*log));
	struct flood f = { .count = 3000 };
	struct iketcp_event cur;
	pthread_t th;
	uint32_t id;
	int srv;

	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&nl));
	ASSERT_EQ(0, iketcp_nl_open(&ctl));
	ASSERT_EQ(0, tcp_pair(AF_INET, &f.fd, &srv));
	/* a small window, so that the peer feels the backpressure */
	ASSERT_EQ(0, setsockopt(srv, SOL_SOCKET, SO_RCVBUF, &(int){ 65536 },
				sizeof(int)));
	ASSERT_EQ(0, ulp_attach(srv));
	ASSERT_EQ(1, evlog_wait(&nl, log, IKETCP_CMD_CONN_ATTACHED, 0, 1,
				WAIT_MS));
	id = log->ev[0].conn_id;

	/* The helper stops reading while the peer floods */
	ASSERT_EQ(0, pthread_create(&th, NULL, flood_main, &f));
	sleep(3);
	ASSERT_EQ(0, iketcp_nl_conn_get(&ctl, id, &cur));
	EXPECT_LT(0, cur.stats[IKETCP_STAT_BACKPRESSURE]);
	EXPECT_GT(f.count, cur.stats[IKETCP_STAT_RX_MSGS]);
	TH_LOG("stalled: %llu delivered, %llu backpressure events, peer blocked %d",
	       (unsigned long long)cur.stats[IKETCP_STAT_RX_MSGS],
	       (unsigned long long)cur.stats[IKETCP_STAT_BACKPRESSURE],
	       f.blocked);
	EXPECT_TRUE(f.blocked);

	/* It resumes: everything arrives, in order */
	ASSERT_EQ(f.count, evlog_wait(&nl, log, IKETCP_CMD_MSG, id, f.count,
				      60000));
	pthread_join(th, NULL);
	for (int i = 1, k = 0; i < log->n; i++)
		if (log->ev[i].cmd == IKETCP_CMD_MSG)
			ASSERT_EQ(++k, check_msg(log->ev[i].msg,
						 log->ev[i].msg_len));
	EXPECT_LT(0, log->enobufs);
	close(f.fd);
	close(srv);
	iketcp_nl_close(&nl);
	iketcp_nl_close(&ctl);
}

/*
 * While the helper is behind (our backlog holds a new connection's
 * notifications back), the first-message limit is not the peer's fault:
 * a prompt peer survives, a silent one still goes once we catch up.
 */
TEST_F_TIMEOUT(long_running, first_message_timeout_spares_our_backlog, 120)
{
	struct iketcp_nl nl, ctl;
	struct evlog *log = calloc(1, sizeof(*log));
	const struct iketcp_event *ev;
	struct iketcp_netns_info info;
	struct iketcp_event cur;
	int cli, srv, cli2, srv2, cli3, srv3;
	uint32_t id2 = 0, id3 = 0;
	struct stat st2, st3;
	uint8_t m[1024];

	ASSERT_NE(NULL, log);
	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&nl));
	ASSERT_EQ(0, iketcp_nl_open(&ctl));
	ASSERT_EQ(0, iketcp_nl_set_rcvbuf(&nl, 4096));
	ASSERT_EQ(0, iketcp_nl_netns_set_first_msg_timeout(&ctl, 500));
	/* the helper does not read: its socket fills, the rest is held */
	ASSERT_EQ(0, tcp_pair(AF_INET, &cli, &srv));
	ASSERT_EQ(0, ulp_attach(srv));
	for (int i = 1; i <= 30; i++) {
		mk_msg(m, sizeof(m), 0x20, 37, i);
		ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	}
	for (int i = 0; i < 50; i++) {
		ASSERT_EQ(0, iketcp_nl_netns_get(&ctl, &info));
		if (info.stats[IKETCP_NS_STAT_HELD])
			break;
		usleep(100000);
	}
	ASSERT_LT(0, info.stats[IKETCP_NS_STAT_HELD]);
	/* a peer whose first message comes at once, and a silent one */
	ASSERT_EQ(0, tcp_pair(AF_INET, &cli2, &srv2));
	ASSERT_EQ(0, ulp_attach(srv2));
	mk_msg(m, 300, 0x20, 34, 0);
	ASSERT_EQ(0, write_all(cli2, m, 300));
	ASSERT_EQ(0, tcp_pair(AF_INET, &cli3, &srv3));
	ASSERT_EQ(0, ulp_attach(srv3));
	usleep(1500000);	/* three times the limit, still not reading */
	ASSERT_EQ(0, iketcp_nl_netns_get(&ctl, &info));
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_FIRST_MSG_TIMEOUTS]);

	/* caught up: everything arrives; the silent peer's period runs out */
	ASSERT_EQ(31, evlog_wait(&nl, log, IKETCP_CMD_MSG, 0, 31, 10000));
	ASSERT_EQ(3, evlog_wait(&nl, log, IKETCP_CMD_CONN_ATTACHED, 0, 3,
				WAIT_MS));
	ASSERT_EQ(0, fstat(srv2, &st2));
	ASSERT_EQ(0, fstat(srv3, &st3));
	for (int i = 0; i < log->n; i++) {
		ev = &log->ev[i];
		if (ev->cmd == IKETCP_CMD_CONN_ATTACHED && ev->ino == st2.st_ino)
			id2 = ev->conn_id;
		if (ev->cmd == IKETCP_CMD_CONN_ATTACHED && ev->ino == st3.st_ino)
			id3 = ev->conn_id;
	}
	ASSERT_NE(0, id2);
	ASSERT_NE(0, id3);
	ASSERT_EQ(1, evlog_count(log, IKETCP_CMD_MSG, id2));
	ASSERT_EQ(1, evlog_wait(&nl, log, IKETCP_CMD_CONN_ENDED, id3, 1,
				WAIT_MS));
	EXPECT_EQ(IKETCP_REASON_TIMEOUT,
		  evlog_last(log, IKETCP_CMD_CONN_ENDED, id3)->reason);
	EXPECT_EQ(0, evlog_count(log, IKETCP_CMD_CONN_ENDED, id2));
	ASSERT_EQ(0, iketcp_nl_conn_get(&ctl, id2, &cur));
	EXPECT_EQ(IKETCP_CONN_STATE_ACTIVE, cur.state);
	ASSERT_EQ(0, iketcp_nl_netns_get(&ctl, &info));
	EXPECT_EQ(1, info.stats[IKETCP_NS_STAT_FIRST_MSG_TIMEOUTS]);
	close(cli);
	close(srv);
	close(cli2);
	close(srv2);
	close(cli3);
	close(srv3);
	iketcp_nl_close(&nl);
	iketcp_nl_close(&ctl);
	evlog_free(log);
	free(log);
}

TEST_HARNESS_MAIN
