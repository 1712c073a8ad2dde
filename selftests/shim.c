// SPDX-License-Identifier: GPL-2.0
/*
 * shim.c - selftests of the loopback shim: capture rules and the capture
 * hook (the daemon's UDP IKE datagrams to captured peers go to the helper
 * and nowhere else; ESP and keepalives are untouched), injection towards
 * the daemon (as if received from the peer, through the firewall), and
 * sending to peers as real UDP (fragmented, not captured), and the fast
 * path that injects an established IKE SA's messages from a connection
 * without the helper.
 */
#include "kselftest_harness.h"
#include "lib.h"

#define WAIT_MS 3000

/* A UDP socket bound to @addr:@port. */
static int udp_bound(const char *addr, uint16_t port)
{
	struct sockaddr_storage ss = {};
	struct iketcp_ep ep;
	int fd, one = 1;
	socklen_t sl;

	if (iketcp_ep_parse(addr, port, &ep))
		return -1;
	fd = socket(ep.family, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ep.family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr = ep.addr.v4;
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = ep.addr.v6;
		sl = sizeof(*a);
	}
	if (bind(fd, (void *)&ss, sl)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int udp_sendto(int fd, const char *addr, uint16_t port,
		      const void *buf, size_t len)
{
	struct sockaddr_storage ss = {};
	struct iketcp_ep ep;
	socklen_t sl;

	iketcp_ep_parse(addr, port, &ep);
	if (ep.family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr = ep.addr.v4;
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = ep.addr.v6;
		sl = sizeof(*a);
	}
	return sendto(fd, buf, len, 0, (void *)&ss, sl) == (ssize_t)len ? 0 : -1;
}

/* Wait for a datagram: its length, or -1; the sender in @from. */
static ssize_t udp_wait(int fd, void *buf, size_t len, int ms,
			struct sockaddr_storage *from)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	socklen_t sl = sizeof(*from);

	if (poll(&p, 1, ms) != 1)
		return -1;
	return recvfrom(fd, buf, len, 0, (void *)from, &sl);
}

static void sh(struct __test_metadata *_metadata, const char *cmd)
{
	ASSERT_EQ(0, system(cmd)) TH_LOG("%s", cmd);
}

/* A UDP socket bound in the named netns @ns. */
static int udp_bound_in(const char *ns, const char *addr, uint16_t port)
{
	int here = open("/proc/self/ns/net", O_RDONLY), there, fd = -1;
	char path[128];

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	there = open(path, O_RDONLY);
	if (here >= 0 && there >= 0 && !setns(there, CLONE_NEWNET)) {
		fd = udp_bound(addr, port);
		if (setns(here, CLONE_NEWNET))
			abort();
	}
	close(here);
	close(there);
	return fd;
}

/*
 * The gateway is the test's own netns (gw0: 10.9.0.1, fd09::1, MTU 1400);
 * the peer is a named netns at the other end of a veth pair (peer0:
 * 10.9.0.2 and .3, fd09::2 and ::3).
 */
/*
 * Every test makes and deletes network namespaces: on the debug kernel
 * (KASAN, lockdep, under TCG) their teardown alone can outlast the
 * harness's default 30 s.
 */
#define SHIM_TIMEOUT	180

FIXTURE(shim) {
	struct iketcp_nl nl;
	struct evlog *log;
	int daemon500, daemon4500, peer500;
	char ns[32];
};

FIXTURE_VARIANT(shim) {
	const char *gw;
	const char *peer;
	const char *other;
};

FIXTURE_VARIANT_ADD(shim, ipv4) {
	.gw = "10.9.0.1",
	.peer = "10.9.0.2",
	.other = "10.9.0.3",
};

FIXTURE_VARIANT_ADD(shim, ipv6) {
	.gw = "fd09::1",
	.peer = "fd09::2",
	.other = "fd09::3",
};

FIXTURE_SETUP(shim)
{
	char cmd[1024];

	ASSERT_EQ(0, new_netns());
	snprintf(self->ns, sizeof(self->ns), "shimpeer%d", getpid());
	snprintf(cmd, sizeof(cmd),
		 "ip netns add %1$s && "
		 "ip link add gw0 type veth peer name peer0 netns %1$s && "
		 "ip addr add 10.9.0.1/24 dev gw0 && "
		 "ip addr add fd09::1/64 dev gw0 nodad && "
		 "ip link set gw0 mtu 1400 up && "
		 "ip -n %1$s addr add 10.9.0.2/24 dev peer0 && "
		 "ip -n %1$s addr add 10.9.0.3/24 dev peer0 && "
		 "ip -n %1$s addr add fd09::2/64 dev peer0 nodad && "
		 "ip -n %1$s addr add fd09::3/64 dev peer0 nodad && "
		 "ip -n %1$s link set peer0 mtu 1400 up && "
		 "ip -n %1$s link set lo up", self->ns);
	sh(_metadata, cmd);
	usleep(200000);
	self->log = calloc(1, sizeof(*self->log));
	ASSERT_EQ(0, helper_open(&self->nl)) TH_LOG("%s", self->nl.err);
	self->daemon500 = udp_bound(variant->gw, 500);
	self->daemon4500 = udp_bound(variant->gw, 4500);
	self->peer500 = udp_bound_in(self->ns, variant->peer, 500);
	ASSERT_LE(0, self->daemon500);
	ASSERT_LE(0, self->daemon4500);
	ASSERT_LE(0, self->peer500);
}

FIXTURE_TEARDOWN(shim)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip netns del %s", self->ns);
	if (system(cmd))
		TH_LOG("%s failed", cmd);
	close(self->daemon500);
	close(self->daemon4500);
	close(self->peer500);
	iketcp_nl_close(&self->nl);
	evlog_free(self->log);
	free(self->log);
}

static int capture(struct iketcp_nl *nl, const char *addr, int plen, bool on)
{
	struct iketcp_ep ep;

	iketcp_ep_parse(addr, 0, &ep);
	return iketcp_nl_capture_add(nl, &ep, plen, on);
}

static int count_rules(const struct iketcp_event *ev, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

TEST_F_TIMEOUT(shim, rules_add_replace_del_dump, SHIM_TIMEOUT)
{
	struct iketcp_ep ep;
	int n = 0;

	ASSERT_EQ(0, capture(&self->nl, variant->peer, -1, true));
	ASSERT_EQ(0, capture(&self->nl, variant->peer, -1, false));	/* replace */
	ASSERT_EQ(0, iketcp_nl_capture_dump(&self->nl, count_rules, &n));
	ASSERT_EQ(1, n);
	iketcp_ep_parse(variant->peer, 0, &ep);
	ASSERT_EQ(0, iketcp_nl_capture_del(&self->nl, &ep, -1));
	ASSERT_EQ(-ENOENT, iketcp_nl_capture_del(&self->nl, &ep, -1));
	ASSERT_EQ(-EINVAL, capture(&self->nl, variant->peer, 8, true));
	EXPECT_STREQ("iketcp: host bits set in prefix", self->nl.err);
}

TEST_F_TIMEOUT(shim, rules_need_a_helper, SHIM_TIMEOUT)
{
	struct iketcp_nl other;

	iketcp_nl_close(&self->nl);
	ASSERT_EQ(0, iketcp_nl_open(&other));
	ASSERT_EQ(-ENOTCONN, capture(&other, variant->peer, -1, true));
	EXPECT_STREQ("iketcp: no helper registered in this netns", other.err);
	iketcp_nl_close(&other);
	ASSERT_EQ(0, helper_open(&self->nl));
}

TEST_F_TIMEOUT(shim, daemon_datagram_is_captured_not_sent, SHIM_TIMEOUT)
{
	struct sockaddr_storage from;
	const struct iketcp_event *ev;
	uint8_t m[3000], r[4000];
	char a[64];

	ASSERT_EQ(0, capture(&self->nl, variant->peer, -1, true));
	mk_msg(m, sizeof(m), 0x20, 35, 9);
	ASSERT_EQ(0, udp_sendto(self->daemon500, variant->peer, 500, m,
				sizeof(m)));
	ASSERT_EQ(1, evlog_wait(&self->nl, self->log, IKETCP_CMD_UDP_CAPTURED,
				0, 1, WAIT_MS));
	ev = evlog_last(self->log, IKETCP_CMD_UDP_CAPTURED, 0);
	ASSERT_EQ(sizeof(m), ev->msg_len);
	ASSERT_EQ(0, memcmp(m, ev->msg, sizeof(m)));
	EXPECT_FALSE(ev->nonesp);
	EXPECT_EQ(500, ev->local.port);
	EXPECT_EQ(500, ev->remote.port);
	EXPECT_EQ(1400, ev->pmtu);
	iketcp_ep_str(&ev->remote, a, sizeof(a));
	EXPECT_NE(NULL, strstr(a, variant->peer));
	/* nothing reached the peer */
	ASSERT_EQ(-1, udp_wait(self->peer500, r, sizeof(r), 300, &from));
}

TEST_F_TIMEOUT(shim, natt_marker_esp_and_keepalive, SHIM_TIMEOUT)
{
	struct sockaddr_storage from;
	const struct iketcp_event *ev;
	uint8_t m[4 + 200], r[512];
	int peer4500 = udp_bound_in(self->ns, variant->peer, 4500);

	ASSERT_LE(0, peer4500);
	ASSERT_EQ(0, capture(&self->nl, variant->peer, -1, true));
	/* IKE behind the non-ESP marker: captured, marker removed */
	memset(m, 0, 4);
	mk_msg(m + 4, 200, 0x20, 35, 2);
	ASSERT_EQ(0, udp_sendto(self->daemon4500, variant->peer, 4500, m,
				sizeof(m)));
	ASSERT_EQ(1, evlog_wait(&self->nl, self->log, IKETCP_CMD_UDP_CAPTURED,
				0, 1, WAIT_MS));
	ev = evlog_last(self->log, IKETCP_CMD_UDP_CAPTURED, 0);
	EXPECT_TRUE(ev->nonesp);
	EXPECT_EQ(200, ev->msg_len);
	EXPECT_EQ(4500, ev->local.port);
	/* ESP (a non-zero SPI where the marker would be): untouched */
	m[0] = 0x11;
	ASSERT_EQ(0, udp_sendto(self->daemon4500, variant->peer, 4500, m,
				sizeof(m)));
	ASSERT_EQ(sizeof(m), udp_wait(peer4500, r, sizeof(r), WAIT_MS, &from));
	/* NAT keepalive: untouched */
	ASSERT_EQ(0, udp_sendto(self->daemon4500, variant->peer, 4500, "\xff", 1));
	ASSERT_EQ(1, udp_wait(peer4500, r, sizeof(r), WAIT_MS, &from));
	EXPECT_EQ(1, evlog_count(self->log, IKETCP_CMD_UDP_CAPTURED, 0));
	close(peer4500);
}

TEST_F_TIMEOUT(shim, not_ike_or_not_captured_passes, SHIM_TIMEOUT)
{
	struct sockaddr_storage from;
	uint8_t m[100], r[512];
	int other500 = udp_bound_in(self->ns, variant->other, 500);

	ASSERT_LE(0, other500);
	ASSERT_EQ(0, capture(&self->nl, variant->peer, -1, true));
	/* not an IKE header (version 0) */
	mk_msg(m, sizeof(m), 0x00, 34, 1);
	ASSERT_EQ(0, udp_sendto(self->daemon500, variant->peer, 500, m,
				sizeof(m)));
	ASSERT_EQ(sizeof(m), udp_wait(self->peer500, r, sizeof(r), WAIT_MS,
				      &from));
	/* IKE, but to a peer without a rule */
	mk_msg(m, sizeof(m), 0x20, 34, 1);
	ASSERT_EQ(0, udp_sendto(self->daemon500, variant->other, 500, m,
				sizeof(m)));
	ASSERT_EQ(sizeof(m), udp_wait(other500, r, sizeof(r), WAIT_MS, &from));
	EXPECT_EQ(0, evlog_count(self->log, IKETCP_CMD_UDP_CAPTURED, 0));
	close(other500);
}

TEST_F_TIMEOUT(shim, exception_inside_wider_rule, SHIM_TIMEOUT)
{
	struct sockaddr_storage from;
	uint8_t m[100], r[512];
	int other500 = udp_bound_in(self->ns, variant->other, 500);
	bool v6 = strchr(variant->gw, ':');

	ASSERT_LE(0, other500);
	ASSERT_EQ(0, capture(&self->nl, v6 ? "fd09::" : "10.9.0.0",
			     v6 ? 64 : 24, true));
	ASSERT_EQ(0, capture(&self->nl, variant->other, -1, false));
	mk_msg(m, sizeof(m), 0x20, 34, 1);
	ASSERT_EQ(0, udp_sendto(self->daemon500, variant->other, 500, m,
				sizeof(m)));
	ASSERT_EQ(sizeof(m), udp_wait(other500, r, sizeof(r), WAIT_MS, &from));
	ASSERT_EQ(0, udp_sendto(self->daemon500, variant->peer, 500, m,
				sizeof(m)));
	ASSERT_EQ(1, evlog_wait(&self->nl, self->log, IKETCP_CMD_UDP_CAPTURED,
				0, 1, WAIT_MS));
	close(other500);
}

TEST_F_TIMEOUT(shim, helper_exit_releases_capture, SHIM_TIMEOUT)
{
	struct sockaddr_storage from;
	struct iketcp_netns_info info;
	struct iketcp_nl ctl;
	uint8_t m[100], r[512];

	ASSERT_EQ(0, capture(&self->nl, variant->peer, -1, true));
	iketcp_nl_close(&self->nl);
	mk_msg(m, sizeof(m), 0x20, 34, 1);
	ASSERT_EQ(0, udp_sendto(self->daemon500, variant->peer, 500, m,
				sizeof(m)));
	ASSERT_EQ(sizeof(m), udp_wait(self->peer500, r, sizeof(r), WAIT_MS,
				      &from));
	ASSERT_EQ(0, iketcp_nl_open(&ctl));
	ASSERT_EQ(0, iketcp_nl_netns_get(&ctl, &info));
	EXPECT_EQ(0, info.helper_portid);
	iketcp_nl_close(&ctl);
	ASSERT_EQ(0, helper_open(&self->nl));
}

static void check_from(struct __test_metadata *_metadata,
		       const struct sockaddr_storage *from, const char *addr,
		       uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)from;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		EXPECT_EQ(port, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const void *)from;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		EXPECT_EQ(port, ntohs(s->sin6_port));
	}
	EXPECT_STREQ(addr, a);
}

TEST_F_TIMEOUT(shim, inject_arrives_from_the_peer, SHIM_TIMEOUT)
{
	struct iketcp_ep peer, local;
	struct sockaddr_storage from;
	struct iketcp_netns_info info;
	static uint8_t m[5000], r[6000];

	iketcp_ep_parse(variant->peer, 500, &peer);
	iketcp_ep_parse(variant->gw, 500, &local);
	mk_msg(m, sizeof(m), 0x20, 35, 4);	/* bigger than the MTU */
	ASSERT_EQ(0, iketcp_nl_udp_inject(&self->nl, &peer, &local, false, m,
					  sizeof(m), 0)) TH_LOG("%s", self->nl.err);
	ASSERT_EQ(sizeof(m), udp_wait(self->daemon500, r, sizeof(r), WAIT_MS,
				      &from));
	ASSERT_EQ(0, memcmp(m, r, sizeof(m)));
	check_from(_metadata, &from, variant->peer, 500);
	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	EXPECT_EQ(1, info.stats[IKETCP_NS_STAT_INJECTED]);
}

TEST_F_TIMEOUT(shim, inject_natt_has_marker, SHIM_TIMEOUT)
{
	struct iketcp_ep peer, local;
	struct sockaddr_storage from;
	uint8_t m[300], r[512];

	iketcp_ep_parse(variant->peer, 4500, &peer);
	iketcp_ep_parse(variant->gw, 4500, &local);
	mk_msg(m, sizeof(m), 0x20, 37, 5);
	ASSERT_EQ(0, iketcp_nl_udp_inject(&self->nl, &peer, &local, true, m,
					  sizeof(m), 0));
	ASSERT_EQ(sizeof(m) + 4, udp_wait(self->daemon4500, r, sizeof(r),
					  WAIT_MS, &from));
	EXPECT_EQ(0, r[0] | r[1] | r[2] | r[3]);
	ASSERT_EQ(0, memcmp(m, r + 4, sizeof(m)));
	check_from(_metadata, &from, variant->peer, 4500);
}

TEST_F_TIMEOUT(shim, inject_goes_through_the_firewall, SHIM_TIMEOUT)
{
	struct iketcp_ep peer, local;
	struct sockaddr_storage from;
	uint8_t m[300], r[512];

	sh(_metadata, "nft add table inet t && "
	   "nft add chain inet t in '{ type filter hook input priority 0; }' && "
	   "nft add rule inet t in iifname gw0 udp dport 500 counter drop");
	iketcp_ep_parse(variant->peer, 500, &peer);
	iketcp_ep_parse(variant->gw, 500, &local);
	mk_msg(m, sizeof(m), 0x20, 37, 5);
	ASSERT_EQ(0, iketcp_nl_udp_inject(&self->nl, &peer, &local, false, m,
					  sizeof(m), 0));
	/* dropped by the input rule for the interface towards the peer */
	ASSERT_EQ(-1, udp_wait(self->daemon500, r, sizeof(r), 500, &from));
	sh(_metadata, "nft list ruleset | grep -q 'packets 1 '");
	sh(_metadata, "nft delete table inet t");
}

TEST_F_TIMEOUT(shim, send_goes_out_fragmented_not_captured, SHIM_TIMEOUT)
{
	struct iketcp_ep peer, local;
	struct sockaddr_storage from;
	struct iketcp_netns_info info;
	static uint8_t m[4600], r[6000];

	ASSERT_EQ(0, capture(&self->nl, variant->peer, -1, true));
	iketcp_ep_parse(variant->peer, 500, &peer);
	iketcp_ep_parse(variant->gw, 500, &local);
	mk_msg(m, sizeof(m), 0x20, 35, 6);
	ASSERT_EQ(0, iketcp_nl_udp_send(&self->nl, &local, &peer, false, m,
					sizeof(m))) TH_LOG("%s", self->nl.err);
	ASSERT_EQ(sizeof(m), udp_wait(self->peer500, r, sizeof(r), WAIT_MS,
				      &from));
	ASSERT_EQ(0, memcmp(m, r, sizeof(m)));
	check_from(_metadata, &from, variant->gw, 500);
	EXPECT_EQ(0, evlog_count(self->log, IKETCP_CMD_UDP_CAPTURED, 0));
	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	EXPECT_EQ(1, info.stats[IKETCP_NS_STAT_UDP_SENT]);
}

TEST_F_TIMEOUT(shim, bad_requests_explained, SHIM_TIMEOUT)
{
	struct iketcp_ep peer, local;
	uint8_t m[100];

	iketcp_ep_parse(variant->peer, 500, &peer);
	iketcp_ep_parse(strchr(variant->gw, ':') ? "10.9.0.1" : "fd09::1", 500,
			&local);
	mk_msg(m, sizeof(m), 0x20, 37, 5);
	ASSERT_EQ(-EINVAL, iketcp_nl_udp_inject(&self->nl, &peer, &local, false,
						m, sizeof(m), 0));
	EXPECT_STREQ("iketcp: local and remote addresses of one family needed",
		     self->nl.err);
	iketcp_ep_parse(variant->gw, 500, &local);
	ASSERT_EQ(-ENODEV, iketcp_nl_udp_inject(&self->nl, &peer, &local, false,
						m, sizeof(m), 999));
	EXPECT_STREQ("iketcp: no such interface", self->nl.err);
}

/* ---- the fast path: an established SA's messages delivered by the kernel */

#define FP_SPI_I 0xa0a1a2a3a4a5a6a7ULL	/* mk_msg()'s initiator SPI */

static socklen_t sockaddr_of(const char *addr, uint16_t port,
			     struct sockaddr_storage *ss)
{
	struct iketcp_ep ep;

	memset(ss, 0, sizeof(*ss));
	iketcp_ep_parse(addr, port, &ep);
	if (ep.family == AF_INET) {
		struct sockaddr_in *a = (void *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr = ep.addr.v4;
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (void *)ss;

	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	a->sin6_addr = ep.addr.v6;
	return sizeof(*a);
}

/* A TCP connection from the peer's netns to the gateway, ULP attached. */
static uint32_t fp_conn(struct __test_metadata *_metadata,
			FIXTURE_DATA(shim) *self,
			const FIXTURE_VARIANT(shim) *variant, int *cli, int *srv)
{
	int here = open("/proc/self/ns/net", O_RDONLY), there, lfd;
	struct sockaddr_storage ss, src;
	socklen_t sl = sockaddr_of(variant->gw, 0, &ss);
	char path[128];

	lfd = socket(ss.ss_family, SOCK_STREAM, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (void *)&ss, sl));
	ASSERT_EQ(0, listen(lfd, 4));
	ASSERT_EQ(0, getsockname(lfd, (void *)&ss, &sl));
	snprintf(path, sizeof(path), "/run/netns/%s", self->ns);
	there = open(path, O_RDONLY);
	ASSERT_LE(0, there);
	ASSERT_EQ(0, setns(there, CLONE_NEWNET));
	*cli = socket(ss.ss_family, SOCK_STREAM, 0);
	ASSERT_EQ(0, setns(here, CLONE_NEWNET));
	close(here);
	close(there);
	ASSERT_LE(0, *cli);
	/* from the peer's first address (IPv6 would pick the other one) */
	sl = sockaddr_of(variant->peer, 0, &src);
	ASSERT_EQ(0, bind(*cli, (void *)&src, sl));
	sl = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
				       sizeof(struct sockaddr_in6);
	ASSERT_EQ(0, connect(*cli, (void *)&ss, sl));
	*srv = accept(lfd, NULL, NULL);
	close(lfd);
	ASSERT_LE(0, *srv);
	ASSERT_EQ(0, ulp_attach(*srv));
	ASSERT_EQ(1, evlog_wait(&self->nl, self->log, IKETCP_CMD_CONN_ATTACHED,
				0, 1, WAIT_MS));
	return evlog_last(self->log, IKETCP_CMD_CONN_ATTACHED, 0)->conn_id;
}

/* An INFORMATIONAL request of the IKE SA (FP_SPI_I, @spi_r). */
static void fp_msg(uint8_t *m, uint32_t len, uint8_t spi_r, uint32_t msgid)
{
	mk_msg(m, len, 0x20, 37, msgid);
	m[15] = spi_r;
}

static int fp_add(struct iketcp_nl *nl, uint32_t id, uint8_t spi_r,
		  uint16_t port, bool nonesp, uint32_t rate, uint64_t seq)
{
	struct iketcp_fastpath_req req = {
		.conn_id = id, .spi_i = FP_SPI_I, .spi_r = spi_r,
		.lport = port, .rport = port, .nonesp = nonesp,
		.max_rate = rate, .rx_seq = seq,
	};

	return iketcp_nl_fastpath_add(nl, &req);
}

/* The msgid of the connection's n-th (from 1) message to the helper */
static long fp_helper_msg(FIXTURE_DATA(shim) *self, uint32_t id, int nth)
{
	for (int i = 0; i < self->log->n; i++) {
		const struct iketcp_event *ev = &self->log->ev[i];

		if (ev->cmd == IKETCP_CMD_MSG && ev->conn_id == id && !--nth)
			return check_msg(ev->msg, ev->msg_len);
	}
	return -1;
}

TEST_F_TIMEOUT(shim, fast_path_delivers_an_established_sa, SHIM_TIMEOUT)
{
	struct sockaddr_storage from;
	struct iketcp_netns_info info;
	struct iketcp_event cur;
	uint8_t m[3000], r[4000];
	int cli, srv;
	uint32_t id;

	id = fp_conn(_metadata, self, variant, &cli, &srv);
	/* the SA's set-up goes through the helper */
	mk_msg(m, sizeof(m), 0x20, 34, 0);
	ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	ASSERT_EQ(1, evlog_wait(&self->nl, self->log, IKETCP_CMD_MSG, id, 1,
				WAIT_MS));
	/* only once the helper has handled all it was handed */
	EXPECT_EQ(-EAGAIN, fp_add(&self->nl, id, 7, 500, false, 0, 0));
	EXPECT_NE(NULL, strstr(self->nl.err, "on their way"));
	ASSERT_EQ(0, fp_add(&self->nl, id, 7, 500, false, 0, 1))
		TH_LOG("%s", self->nl.err);
	/* three of the SA (bigger than the MTU), one of another, one more */
	for (int i = 1; i <= 3; i++) {
		fp_msg(m, sizeof(m), 7, i);
		ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	}
	fp_msg(m, sizeof(m), 8, 1);
	ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	fp_msg(m, sizeof(m), 7, 4);
	ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	for (int i = 1; i <= 4; i++) {
		ASSERT_EQ(sizeof(m), udp_wait(self->daemon500, r, sizeof(r),
					      WAIT_MS, &from));
		check_from(_metadata, &from, variant->peer, 500);
		EXPECT_EQ(i, check_msg(r, sizeof(m)));	/* in order, whole */
		EXPECT_EQ(7, r[15]);
	}
	/* only the other SA's message reached the helper */
	ASSERT_EQ(2, evlog_wait(&self->nl, self->log, IKETCP_CMD_MSG, id, 2,
				WAIT_MS));
	EXPECT_EQ(8, evlog_last(self->log, IKETCP_CMD_MSG, id)->msg[15]);
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, id, &cur));
	EXPECT_EQ(4, cur.stats[IKETCP_STAT_FAST_MSGS]);
	EXPECT_EQ(4 * sizeof(m), cur.stats[IKETCP_STAT_FAST_BYTES]);
	EXPECT_EQ(2, cur.stats[IKETCP_STAT_RX_MSGS]);
	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	EXPECT_EQ(4, info.stats[IKETCP_NS_STAT_FAST_MSGS]);
	EXPECT_EQ(4, info.stats[IKETCP_NS_STAT_INJECTED]);

	/* ended: the SA's messages go to the helper again */
	ASSERT_EQ(0, iketcp_nl_fastpath_del(&self->nl, id, FP_SPI_I, 7));
	EXPECT_EQ(-ENOENT, iketcp_nl_fastpath_del(&self->nl, id, FP_SPI_I, 7));
	EXPECT_NE(NULL, strstr(self->nl.err, "no fast path entry"));
	fp_msg(m, sizeof(m), 7, 5);
	ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	ASSERT_EQ(3, evlog_wait(&self->nl, self->log, IKETCP_CMD_MSG, id, 3,
				WAIT_MS));
	EXPECT_EQ(5, fp_helper_msg(self, id, 3));
	close(cli);
	close(srv);
}

TEST_F_TIMEOUT(shim, fast_path_natt_marker_and_limits, SHIM_TIMEOUT)
{
	struct sockaddr_storage from;
	uint8_t m[200], r[300];
	int cli, srv;
	uint32_t id;

	id = fp_conn(_metadata, self, variant, &cli, &srv);
	/* the NAT-T port: the datagram carries the non-ESP marker */
	ASSERT_EQ(0, fp_add(&self->nl, id, 1, 4500, true, 0, 0))
		TH_LOG("%s", self->nl.err);
	fp_msg(m, sizeof(m), 1, 1);
	ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	ASSERT_EQ(4 + sizeof(m), udp_wait(self->daemon4500, r, sizeof(r),
					  WAIT_MS, &from));
	check_from(_metadata, &from, variant->peer, 4500);
	EXPECT_EQ(0, r[0] | r[1] | r[2] | r[3]);
	EXPECT_EQ(1, check_msg(r + 4, sizeof(m)));
	/* the same SPIs replace their entry; IKETCP_FASTPATH_MAX per conn */
	ASSERT_EQ(0, fp_add(&self->nl, id, 1, 4500, true, 0, 0));
	for (int i = 2; i <= IKETCP_FASTPATH_MAX; i++)
		ASSERT_EQ(0, fp_add(&self->nl, id, i, 4500, true, 0, 0));
	EXPECT_EQ(-ENOSPC, fp_add(&self->nl, id, 99, 4500, true, 0, 0));
	EXPECT_NE(NULL, strstr(self->nl.err, "all in use"));
	/* bad requests: no port (the policy), no responder SPI, no such
	 * connection
	 */
	EXPECT_EQ(-ERANGE, fp_add(&self->nl, id, 5, 0, false, 0, 0));
	EXPECT_NE(NULL, strstr(self->nl.err, "out of range"));
	EXPECT_EQ(-ERANGE, fp_add(&self->nl, id, 0, 500, false, 0, 0));
	EXPECT_EQ(-ENOENT, fp_add(&self->nl, 0x7ffffff0, 5, 500, false, 0, 0));
	/* every entry at once, then there is room again */
	ASSERT_EQ(0, iketcp_nl_fastpath_del(&self->nl, id, 0, 0));
	ASSERT_EQ(0, fp_add(&self->nl, id, 99, 4500, true, 0, 0));
	/* an ended connection takes none */
	close(cli);
	ASSERT_EQ(1, evlog_wait(&self->nl, self->log, IKETCP_CMD_CONN_ENDED,
				id, 1, WAIT_MS));
	EXPECT_EQ(-ENOTCONN, fp_add(&self->nl, id, 5, 500, false, 0, 0));
	close(srv);
}

/* Over the rate: that message and the SA's next go to the helper, in order */
TEST_F_TIMEOUT(shim, fast_path_over_the_rate_falls_back_in_order, SHIM_TIMEOUT)
{
	struct sockaddr_storage from;
	struct iketcp_netns_info info;
	uint8_t m[200], r[300];
	int cli, srv;
	uint32_t id;

	id = fp_conn(_metadata, self, variant, &cli, &srv);
	ASSERT_EQ(0, fp_add(&self->nl, id, 3, 500, false, 1, 0));
	for (int i = 1; i <= 5; i++) {
		fp_msg(m, sizeof(m), 3, i);
		ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	}
	/* a burst of twice the rate passes */
	for (int i = 1; i <= 2; i++) {
		ASSERT_EQ(sizeof(m), udp_wait(self->daemon500, r, sizeof(r),
					      WAIT_MS, &from));
		EXPECT_EQ(i, check_msg(r, sizeof(m)));
	}
	ASSERT_EQ(3, evlog_wait(&self->nl, self->log, IKETCP_CMD_MSG, id, 3,
				WAIT_MS));
	for (int i = 1; i <= 3; i++)
		EXPECT_EQ(2 + i, fp_helper_msg(self, id, i));
	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	EXPECT_EQ(1, info.stats[IKETCP_NS_STAT_FAST_FALLBACKS]);
	EXPECT_EQ(2, info.stats[IKETCP_NS_STAT_FAST_MSGS]);
	/* and not one datagram more */
	EXPECT_EQ(-1, udp_wait(self->daemon500, r, sizeof(r), 300, &from));
	close(cli);
	close(srv);
}

TEST_HARNESS_MAIN
