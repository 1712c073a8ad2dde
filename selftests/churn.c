// SPDX-License-Identifier: GPL-2.0
/*
 * churn.c - open, use and close 10,000 connections with the ULP attached,
 * 500 at a time; the connections' kernel memory must go back to its
 * baseline (slab counters) and the module must forget every connection.
 */
#include "kselftest_harness.h"
#include "lib.h"

#define BATCH	500
#define TOTAL	10000

static long meminfo_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) &&
		    line[strlen(key)] == ':')
			v = atol(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return v;
}

/* TCP sockets allocated in the whole kernel (/proc/net/sockstat) */
static long tcp_sockets(void)
{
	char line[256];
	long alloc = -1;
	FILE *f = fopen("/proc/net/sockstat", "r");
	char *p;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "TCP:", 4) && (p = strstr(line, " alloc ")))
			alloc = atol(p + 7);
	if (f)
		fclose(f);
	return alloc;
}

static void settle(void)
{
	/* let RCU callbacks and deferred frees run */
	for (int i = 0; i < 3; i++) {
		usleep(300000);
		sync();
	}
}

static int run_batch(struct iketcp_nl *nl, struct evlog *log, int lfd,
		     int n)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	static int cli[BATCH], srv[BATCH];
	uint8_t m[200];

	evlog_free(log);
	for (int i = 0; i < n; i++)
		if (tcp_pair_on(lfd, &cli[i], &srv[i]) || ulp_attach(srv[i]))
			return -1;
	if (evlog_wait(nl, log, IKETCP_CMD_CONN_ATTACHED, 0, n, 30000) != n)
		return -2;
	/* use: one message from the peer, echoed back by the helper */
	for (int i = 0; i < n; i++) {
		mk_msg(m, sizeof(m), 0x20, 34, i + 1);
		if (write_all(cli[i], m, sizeof(m)))
			return -3;
	}
	if (evlog_wait(nl, log, IKETCP_CMD_MSG, 0, n, 30000) != n)
		return -4;
	for (int i = 0; i < log->n; i++)
		if (log->ev[i].cmd == IKETCP_CMD_MSG &&
		    iketcp_nl_conn_send(nl, log->ev[i].conn_id, log->ev[i].msg,
					log->ev[i].msg_len))
			return -5;
	for (int i = 0; i < n; i++) {
		uint8_t r[200];
		size_t off = 0;

		while (off < sizeof(r)) {
			ssize_t k = read(cli[i], r + off, sizeof(r) - off);

			if (k <= 0)
				return -6;
			off += k;
		}
		if (check_msg(r, sizeof(r)) != i + 1)
			return -7;
	}
	/* close: the peer resets, then the owner closes */
	for (int i = 0; i < n; i++) {
		setsockopt(cli[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(cli[i]);
	}
	if (evlog_wait(nl, log, IKETCP_CMD_CONN_ENDED, 0, n, 30000) != n)
		return -8;
	for (int i = 0; i < n; i++)
		close(srv[i]);
	return 0;
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

TEST_F_TIMEOUT(long_running, churn_10000_connections, 1200)
{
	struct iketcp_netns_info info;
	struct evlog *log = calloc(1, sizeof(*log));
	long slab0, slab1 = -1, slab2, tcp0, tcp2;
	struct iketcp_nl nl;
	long long t0;
	int lfd;

	ASSERT_EQ(0, new_netns());
	ASSERT_EQ(0, helper_open(&nl));
	/* a batch is attached before its messages are written: on a slow
	 * (debug) kernel that can take longer than the first-message limit
	 */
	ASSERT_EQ(0, iketcp_nl_netns_set_first_msg_timeout(&nl, 0));
	ASSERT_EQ(0, iketcp_nl_set_rcvbuf(&nl, 8 << 20));
	lfd = tcp_listener(AF_INET);
	ASSERT_LE(0, lfd);

	/* warm-up batch: caches reach their working size */
	ASSERT_EQ(0, run_batch(&nl, log, lfd, BATCH));
	settle();
	slab0 = meminfo_kb("SUnreclaim");
	tcp0 = tcp_sockets();

	t0 = now_ms();
	for (int done = 0; done < TOTAL; done += BATCH) {
		ASSERT_EQ(0, run_batch(&nl, log, lfd, BATCH))
			TH_LOG("batch at %d failed", done);
		if (done == TOTAL / 2)
			slab1 = meminfo_kb("SUnreclaim");
	}
	settle();
	slab2 = meminfo_kb("SUnreclaim");
	tcp2 = tcp_sockets();
	ASSERT_EQ(0, iketcp_nl_netns_get(&nl, &info));

	TH_LOG("%d connections in %lld ms", TOTAL, now_ms() - t0);
	TH_LOG("SUnreclaim: baseline %ld kB, mid-run %ld kB, after %ld kB (%+ld kB)",
	       slab0, slab1, slab2, slab2 - slab0);
	TH_LOG("TCP sockets allocated: baseline %ld, after %ld", tcp0, tcp2);
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_CONNS]);
	EXPECT_EQ(TOTAL + BATCH, info.stats[IKETCP_NS_STAT_CONNS_TOTAL]);
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_HELD]);
	/* back to baseline, give or take allocator slack (1 MiB) */
	EXPECT_GT(1024, slab2 - slab0);
	EXPECT_LE(0, tcp0);
	EXPECT_GE(2, tcp2 - tcp0);	/* the listener, maybe a straggler */
	close(lfd);
	iketcp_nl_close(&nl);
}

TEST_HARNESS_MAIN
