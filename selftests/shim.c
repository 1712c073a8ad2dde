// SPDX-License-Identifier: GPL-2.0
/*
 * shim.c - selftests of the loopback shim: capture rules and the capture
 * hook (the daemon's UDP IKE datagrams to captured peers go to the helper
 * and nowhere else; ESP and keepalives are untouched), injection towards
 * the daemon (as if received from the peer, through the firewall), and
 * sending to peers as real UDP (fragmented, not captured).
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

TEST_HARNESS_MAIN
