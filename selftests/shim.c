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
#include <grp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/udp.h>
#include <sys/wait.h>

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

static int fail_atomic_high_order(bool on);

FIXTURE_TEARDOWN(shim)
{
	char cmd[128];

	fail_atomic_high_order(false);	/* a test that failed half-way */
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
	struct iketcp_netns_info info;
	struct iketcp_ep peer, local;
	struct sockaddr_storage from;
	uint8_t m[300], r[512];

	sh(_metadata, "nft add table inet t && "
	   "nft add chain inet t in '{ type filter hook input priority 0; }' && "
	   "nft add rule inet t in iifname gw0 udp dport 500 counter drop");
	iketcp_ep_parse(variant->peer, 500, &peer);
	iketcp_ep_parse(variant->gw, 500, &local);
	mk_msg(m, sizeof(m), 0x20, 37, 5);
	/* dropped by the input rule for the interface towards the peer,
	 * and the helper is told
	 */
	ASSERT_EQ(-EPERM, iketcp_nl_udp_inject(&self->nl, &peer, &local, false,
					       m, sizeof(m), 0));
	EXPECT_NE(NULL, strstr(self->nl.err, "netfilter"))
		TH_LOG("extack: '%s'", self->nl.err);
	ASSERT_EQ(-1, udp_wait(self->daemon500, r, sizeof(r), 500, &from));
	sh(_metadata, "nft list ruleset | grep -q 'packets 1 '");
	sh(_metadata, "nft delete table inet t");
	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_INJECTED]);
	EXPECT_EQ(1, info.stats[IKETCP_NS_STAT_INJECT_DROPS]);
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

/* ---- issue 11: the shim exposed to hostile local users and odd set-ups */

/* An AF_PACKET tap on @ifname, in netns @ns (NULL: this one). */
static int packet_tap(const char *ns, const char *ifname)
{
	int here = open("/proc/self/ns/net", O_RDONLY), there = -1, fd = -1;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	char path[128];

	if (ns) {
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		there = open(path, O_RDONLY);
		if (there < 0 || setns(there, CLONE_NEWNET))
			goto out;
	}
	sll.sll_ifindex = if_nametoindex(ifname);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (fd >= 0 && (!sll.sll_ifindex ||
			bind(fd, (void *)&sll, sizeof(sll)))) {
		close(fd);
		fd = -1;
	}
	if (ns && setns(here, CLONE_NEWNET))
		abort();
out:
	close(here);
	if (there >= 0)
		close(there);
	return fd;
}

/* Frames the tap saw within @ms that hold the first @len bytes of @m */
static int tap_count(int fd, const uint8_t *m, size_t len, int ms)
{
	static uint8_t buf[70000];
	long long end = now_ms() + ms;
	int seen = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = end - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) != 1)
			break;
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
			if (memmem(buf, n, m, len))
				seen++;
	}
	return seen;
}

/* Receive a datagram with its destination address and interface. */
static ssize_t udp_wait_pktinfo(int fd, void *buf, size_t len, int ms,
				char *dst, size_t dlen, int *ifindex)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	union {
		char b[256];
		struct cmsghdr align;
	} c;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = c.b, .msg_controllen = sizeof(c.b),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*dst = 0;
	*ifindex = 0;
	if (poll(&p, 1, ms) != 1)
		return -1;
	n = recvmsg(fd, &mh, 0);
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (void *)CMSG_DATA(cm);

			inet_ntop(AF_INET, &pi->ipi_addr, dst, dlen);
			*ifindex = pi->ipi_ifindex;
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
			   cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo *pi = (void *)CMSG_DATA(cm);

			inet_ntop(AF_INET6, &pi->ipi6_addr, dst, dlen);
			*ifindex = pi->ipi6_ifindex;
		}
	}
	return n;
}

static void want_pktinfo(int fd, bool v6)
{
	int one = 1;

	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
}

/*
 * An injected datagram enters at the IP layer: a packet socket on the
 * interface sees no frame (there never was one), the daemon gets the
 * datagram from the peer, to its address, on that interface.
 */
TEST_F_TIMEOUT(shim, inject_not_seen_by_packet_taps, SHIM_TIMEOUT)
{
	bool v6 = strchr(variant->gw, ':');
	struct iketcp_ep peer, local;
	struct sockaddr_storage from;
	uint8_t m[300], r[512];
	char dst[INET6_ADDRSTRLEN];
	int tap, ifindex;

	tap = packet_tap(NULL, "gw0");
	ASSERT_LE(0, tap);
	want_pktinfo(self->daemon500, v6);
	iketcp_ep_parse(variant->peer, 500, &peer);
	iketcp_ep_parse(variant->gw, 500, &local);
	mk_msg(m, sizeof(m), 0x20, 37, 0x5a17);
	ASSERT_EQ(0, iketcp_nl_udp_inject(&self->nl, &peer, &local, false, m,
					  sizeof(m), 0)) TH_LOG("%s", self->nl.err);
	ASSERT_EQ(sizeof(m), udp_wait_pktinfo(self->daemon500, r, sizeof(r),
					      WAIT_MS, dst, sizeof(dst),
					      &ifindex));
	ASSERT_EQ(0, memcmp(m, r, sizeof(m)));
	EXPECT_STREQ(variant->gw, dst);
	EXPECT_EQ(if_nametoindex("gw0"), ifindex);
	/* the source, from a second one */
	ASSERT_EQ(0, iketcp_nl_udp_inject(&self->nl, &peer, &local, false, m,
					  sizeof(m), 0));
	ASSERT_EQ(sizeof(m), udp_wait(self->daemon500, r, sizeof(r), WAIT_MS,
				      &from));
	check_from(_metadata, &from, variant->peer, 500);
	EXPECT_EQ(0, tap_count(tap, m, 64, 500));
	close(tap);
}

/*
 * The interface towards the peer is a bridge port: the injected datagram
 * is the daemon's, and never leaves through the bridge's other ports.
 */
TEST_F_TIMEOUT(shim, inject_on_bridge_port_not_forwarded, SHIM_TIMEOUT)
{
	struct iketcp_ep peer, local;
	struct sockaddr_storage from;
	uint8_t m[300], r[512];
	char cmd[512];
	int tap;

	snprintf(cmd, sizeof(cmd),
		 "ip link add br0 type bridge && ip link set br0 up && "
		 "ip link add brp0 type veth peer name brx0 netns %1$s && "
		 "ip link set brp0 master br0 up && "
		 "ip link set gw0 master br0 && "
		 "ip -n %1$s link set brx0 up", self->ns);
	sh(_metadata, cmd);
	usleep(300000);
	tap = packet_tap(self->ns, "brx0");
	ASSERT_LE(0, tap);
	iketcp_ep_parse(variant->peer, 500, &peer);
	iketcp_ep_parse(variant->gw, 500, &local);
	mk_msg(m, sizeof(m), 0x20, 37, 0x5b17);
	ASSERT_EQ(0, iketcp_nl_udp_inject(&self->nl, &peer, &local, false, m,
					  sizeof(m), 0)) TH_LOG("%s", self->nl.err);
	EXPECT_EQ(0, tap_count(tap, m, 64, 1000));
	ASSERT_EQ(sizeof(m), udp_wait(self->daemon500, r, sizeof(r), WAIT_MS,
				      &from));
	ASSERT_EQ(0, memcmp(m, r, sizeof(m)));
	check_from(_metadata, &from, variant->peer, 500);
	close(tap);
}

/* A datagram that does not route to a local address is a counted drop */
TEST_F_TIMEOUT(shim, inject_unroutable_counted_as_dropped, SHIM_TIMEOUT)
{
	bool v6 = strchr(variant->gw, ':');
	struct iketcp_netns_info info;
	struct iketcp_ep peer, local;
	uint8_t m[100];

	iketcp_ep_parse(variant->peer, 500, &peer);
	/* on the peer's subnet, but no address of this host (arriving on
	 * gw0: the route from it to the peer would not even be looked up)
	 */
	iketcp_ep_parse(v6 ? "fd09::77" : "10.9.0.77", 500, &local);
	mk_msg(m, sizeof(m), 0x20, 37, 5);
	EXPECT_EQ(-EHOSTUNREACH,
		  iketcp_nl_udp_inject(&self->nl, &peer, &local, false, m,
				       sizeof(m), if_nametoindex("gw0")));
	EXPECT_NE(NULL, strstr(self->nl.err, "local address"))
		TH_LOG("extack: '%s'", self->nl.err);
	/* from a peer this host has no route to */
	iketcp_ep_parse(v6 ? "fd0a::2" : "10.10.0.2", 500, &peer);
	iketcp_ep_parse(variant->gw, 500, &local);
	EXPECT_EQ(-ENETUNREACH, iketcp_nl_udp_inject(&self->nl, &peer, &local,
						     false, m, sizeof(m), 0));
	EXPECT_STREQ("iketcp: no route to the peer", self->nl.err);
	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_INJECTED]);
	EXPECT_EQ(2, info.stats[IKETCP_NS_STAT_INJECT_DROPS]);
}

/*
 * The largest message of a datagram: IPv4's total length and IPv6's
 * payload length hold the headers, the UDP header and the non-ESP marker.
 * One byte more is refused, never wrapped.
 */
TEST_F_TIMEOUT(shim, udp_size_limit_per_family, SHIM_TIMEOUT)
{
	bool v6 = strchr(variant->gw, ':');
	/* 65535 - IPv4 header - UDP header; IPv6: 65535 - UDP header */
	uint32_t max = v6 ? 65535 - 8 : 65535 - 20 - 8;
	struct iketcp_ep peer, local;
	struct sockaddr_storage from;
	static uint8_t m[65536], r[65600];
	int big = 1 << 20;

	setsockopt(self->daemon500, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(self->daemon4500, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(self->peer500, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	iketcp_ep_parse(variant->gw, 4500, &local);
	iketcp_ep_parse(variant->peer, 4500, &peer);
	/* NAT-T: the marker takes 4 bytes */
	mk_msg(m, max - 4, 0x20, 37, 1);
	ASSERT_EQ(0, iketcp_nl_udp_inject(&self->nl, &peer, &local, true, m,
					  max - 4, 0)) TH_LOG("%s", self->nl.err);
	ASSERT_EQ(max, udp_wait(self->daemon4500, r, sizeof(r), WAIT_MS, &from));
	EXPECT_EQ(1, check_msg(r + 4, max - 4));
	mk_msg(m, max - 3, 0x20, 37, 2);
	EXPECT_EQ(-EMSGSIZE, iketcp_nl_udp_inject(&self->nl, &peer, &local,
						  true, m, max - 3, 0));
	EXPECT_STREQ("iketcp: message too large for a datagram", self->nl.err);
	EXPECT_EQ(-EMSGSIZE, iketcp_nl_udp_send(&self->nl, &local, &peer, true,
						m, max - 3));
	/* port 500: no marker */
	iketcp_ep_parse(variant->gw, 500, &local);
	iketcp_ep_parse(variant->peer, 500, &peer);
	mk_msg(m, max, 0x20, 37, 3);
	ASSERT_EQ(0, iketcp_nl_udp_inject(&self->nl, &peer, &local, false, m,
					  max, 0)) TH_LOG("%s", self->nl.err);
	ASSERT_EQ(max, udp_wait(self->daemon500, r, sizeof(r), WAIT_MS, &from));
	EXPECT_EQ(3, check_msg(r, max));
	/* and sent to the peer, fragmented */
	ASSERT_EQ(0, iketcp_nl_udp_send(&self->nl, &local, &peer, false, m,
					max)) TH_LOG("%s", self->nl.err);
	ASSERT_EQ(max, udp_wait(self->peer500, r, sizeof(r), WAIT_MS, &from));
	EXPECT_EQ(3, check_msg(r, max));
	mk_msg(m, max + 1, 0x20, 37, 4);
	EXPECT_EQ(-EMSGSIZE, iketcp_nl_udp_inject(&self->nl, &peer, &local,
						  false, m, max + 1, 0));
	EXPECT_STREQ("iketcp: message too large for a datagram", self->nl.err);
	EXPECT_EQ(-EMSGSIZE, iketcp_nl_udp_send(&self->nl, &local, &peer, false,
						m, max + 1));
	/* nothing else arrived */
	EXPECT_EQ(-1, udp_wait(self->daemon4500, r, sizeof(r), 200, &from));
	EXPECT_EQ(-1, udp_wait(self->daemon500, r, sizeof(r), 200, &from));
}

/*
 * Port 4500 is unprivileged: a local user binds it too (here on the
 * daemon's own address, SO_REUSEADDR like the daemon's socket). Its
 * datagrams are not the daemon's: they leave as plain UDP.
 */
TEST_F_TIMEOUT(shim, capture_ignores_unprivileged_socket, SHIM_TIMEOUT)
{
	struct sockaddr_storage from;
	struct iketcp_netns_info info;
	int peer4500 = udp_bound_in(self->ns, variant->peer, 4500);
	uint8_t m[4 + 200], r[512];
	int status;
	pid_t pid;

	ASSERT_LE(0, peer4500);
	ASSERT_EQ(0, capture(&self->nl, variant->peer, -1, true));
	memset(m, 0, 4);
	mk_msg(m + 4, 200, 0x20, 35, 2);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(2);
		fd = udp_bound(variant->gw, 4500);
		if (fd < 0)
			_exit(3);
		_exit(udp_sendto(fd, variant->peer, 4500, m, sizeof(m)) ? 4 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(sizeof(m), udp_wait(peer4500, r, sizeof(r), WAIT_MS, &from));
	EXPECT_EQ(0, evlog_wait(&self->nl, self->log, IKETCP_CMD_UDP_CAPTURED,
				0, 1, 300));
	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_CAPTURED]);
	/* the daemon's, from the same address and port, still is */
	ASSERT_EQ(0, udp_sendto(self->daemon4500, variant->peer, 4500, m,
				sizeof(m)));
	ASSERT_EQ(1, evlog_wait(&self->nl, self->log, IKETCP_CMD_UDP_CAPTURED,
				0, 1, WAIT_MS));
	EXPECT_EQ(-1, udp_wait(peer4500, r, sizeof(r), 300, &from));
	close(peer4500);
}

/* A raw socket writes its own "UDP" header: not the daemon's datagram. */
TEST_F_TIMEOUT(shim, capture_ignores_raw_socket, SHIM_TIMEOUT)
{
	bool v6 = strchr(variant->gw, ':');
	struct sockaddr_storage from, to;
	uint8_t pkt[8 + 200], r[512];
	int fd, off = 6;
	socklen_t sl;

	ASSERT_EQ(0, capture(&self->nl, variant->peer, -1, true));
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_UDP);
	ASSERT_LE(0, fd);
	if (v6)		/* the kernel fills in the UDP checksum */
		ASSERT_EQ(0, setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &off,
					sizeof(off)));
	memset(pkt, 0, 8);
	pkt[1] = 500 & 0xff;	/* source port 500 (0x01f4) */
	pkt[0] = 500 >> 8;
	pkt[2] = 500 >> 8;
	pkt[3] = 500 & 0xff;
	pkt[4] = sizeof(pkt) >> 8;
	pkt[5] = sizeof(pkt) & 0xff;
	mk_msg(pkt + 8, 200, 0x20, 35, 3);
	sl = sockaddr_of(variant->peer, 0, &to);
	ASSERT_EQ(sizeof(pkt), sendto(fd, pkt, sizeof(pkt), 0, (void *)&to, sl));
	EXPECT_EQ(200, udp_wait(self->peer500, r, sizeof(r), WAIT_MS, &from));
	EXPECT_EQ(0, evlog_wait(&self->nl, self->log, IKETCP_CMD_UDP_CAPTURED,
				0, 1, 300));
	close(fd);
}

/* A GSO datagram (UDP_SEGMENT) is several on the wire: not taken whole */
TEST_F_TIMEOUT(shim, capture_skips_gso, SHIM_TIMEOUT)
{
	struct sockaddr_storage from;
	uint8_t m[600], r[1000];
	int gso = 300;

	ASSERT_EQ(0, capture(&self->nl, variant->peer, -1, true));
	ASSERT_EQ(0, setsockopt(self->daemon500, IPPROTO_UDP, UDP_SEGMENT,
				&gso, sizeof(gso)));
	mk_msg(m, 300, 0x20, 37, 1);
	mk_msg(m + 300, 300, 0x20, 37, 2);
	ASSERT_EQ(0, udp_sendto(self->daemon500, variant->peer, 500, m,
				sizeof(m)));
	EXPECT_EQ(300, udp_wait(self->peer500, r, sizeof(r), WAIT_MS, &from));
	EXPECT_EQ(300, udp_wait(self->peer500, r, sizeof(r), WAIT_MS, &from));
	EXPECT_EQ(0, evlog_wait(&self->nl, self->log, IKETCP_CMD_UDP_CAPTURED,
				0, 1, 300));
}

/*
 * The daemon's socket bypasses IPsec policies (its IKE would otherwise be
 * tunnelled into the SA it negotiates): UDP_SEND must too.
 */
TEST_F_TIMEOUT(shim, send_bypasses_ipsec_policy, SHIM_TIMEOUT)
{
	bool v6 = strchr(variant->gw, ':');
	struct iketcp_ep peer, local;
	struct sockaddr_storage from;
	uint8_t m[300], r[512];
	char cmd[512];
	int plain;

	snprintf(cmd, sizeof(cmd),
		 "ip xfrm policy add src %1$s/%3$d dst %2$s/%3$d dir out "
		 "tmpl src %1$s dst %2$s proto esp mode tunnel",
		 variant->gw, variant->peer, v6 ? 128 : 32);
	sh(_metadata, cmd);
	/* the policy covers the path: a plain socket's datagram is held */
	plain = udp_bound(variant->gw, 0);
	ASSERT_LE(0, plain);
	mk_msg(m, sizeof(m), 0x20, 37, 9);
	udp_sendto(plain, variant->peer, 500, m, sizeof(m));
	ASSERT_EQ(-1, udp_wait(self->peer500, r, sizeof(r), 300, &from));
	close(plain);
	/* UDP_SEND's is not */
	iketcp_ep_parse(variant->peer, 500, &peer);
	iketcp_ep_parse(variant->gw, 500, &local);
	ASSERT_EQ(0, iketcp_nl_udp_send(&self->nl, &local, &peer, false, m,
					sizeof(m))) TH_LOG("%s", self->nl.err);
	ASSERT_EQ(sizeof(m), udp_wait(self->peer500, r, sizeof(r), WAIT_MS,
				      &from));
	ASSERT_EQ(0, memcmp(m, r, sizeof(m)));
	check_from(_metadata, &from, variant->gw, 500);
	sh(_metadata, "ip xfrm policy flush");
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

/*
 * A hand-over asked for while messages are still on their way to the
 * helper is refused, and the connection is not read until the helper asks
 * again, caught up: then the SA's messages go by the fast path, in order,
 * and none reached the helper meanwhile. A pause the helper never ends is
 * over after IKETCP_FASTPATH_WAIT_MS: the messages reach it then.
 */
TEST_F_TIMEOUT(shim, fast_path_hand_over_waits_for_the_helper, SHIM_TIMEOUT)
{
	struct sockaddr_storage from;
	struct iketcp_netns_info info;
	uint8_t m[200], r[300];
	long long t0;
	int cli, srv;
	uint32_t id;

	id = fp_conn(_metadata, self, variant, &cli, &srv);
	mk_msg(m, sizeof(m), 0x20, 34, 0);
	ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	ASSERT_EQ(1, evlog_wait(&self->nl, self->log, IKETCP_CMD_MSG, id, 1,
				WAIT_MS));
	/* more handled than delivered: the helper's own bug */
	EXPECT_EQ(-EINVAL, fp_add(&self->nl, id, 7, 500, false, 0, 2));
	EXPECT_NE(NULL, strstr(self->nl.err, "more messages handled"));

	/* behind by one: refused, and the stream is no longer read */
	EXPECT_EQ(-EAGAIN, fp_add(&self->nl, id, 7, 500, false, 0, 0));
	EXPECT_NE(NULL, strstr(self->nl.err, "not read until it asks again"));
	for (int i = 1; i <= 3; i++) {
		fp_msg(m, sizeof(m), 7, i);
		ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	}
	EXPECT_EQ(1, evlog_wait(&self->nl, self->log, IKETCP_CMD_MSG, id, 2,
				300));
	EXPECT_EQ(-1, udp_wait(self->daemon500, r, sizeof(r), 100, &from));
	/* caught up: the entry starts, and the three go by the fast path */
	ASSERT_EQ(0, fp_add(&self->nl, id, 7, 500, false, 0, 1))
		TH_LOG("%s", self->nl.err);
	for (int i = 1; i <= 3; i++) {
		ASSERT_EQ(sizeof(m), udp_wait(self->daemon500, r, sizeof(r),
					      WAIT_MS, &from));
		EXPECT_EQ(i, check_msg(r, sizeof(m)));
	}
	EXPECT_EQ(1, evlog_count(self->log, IKETCP_CMD_MSG, id));
	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	EXPECT_EQ(1, info.stats[IKETCP_NS_STAT_FAST_WAITS]);
	EXPECT_EQ(1, info.stats[IKETCP_NS_STAT_FAST_ADDED]);
	EXPECT_EQ(3, info.stats[IKETCP_NS_STAT_FAST_MSGS]);
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_FAST_WAIT_TIMEOUTS]);

	/* a pause the helper never ends (it asks for another SA, behind) */
	EXPECT_EQ(-EAGAIN, fp_add(&self->nl, id, 8, 500, false, 0, 0));
	t0 = now_ms();
	fp_msg(m, sizeof(m), 8, 1);
	ASSERT_EQ(0, write_all(cli, m, sizeof(m)));
	ASSERT_EQ(2, evlog_wait(&self->nl, self->log, IKETCP_CMD_MSG, id, 2,
				IKETCP_FASTPATH_WAIT_MS + WAIT_MS));
	EXPECT_LE(IKETCP_FASTPATH_WAIT_MS - 100, now_ms() - t0);
	EXPECT_EQ(1, fp_helper_msg(self, id, 2));
	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	EXPECT_EQ(2, info.stats[IKETCP_NS_STAT_FAST_WAITS]);
	EXPECT_EQ(1, info.stats[IKETCP_NS_STAT_FAST_WAIT_TIMEOUTS]);
	close(cli);
	close(srv);
}

/*
 * fail_page_alloc (CONFIG_FAIL_PAGE_ALLOC, the debug kernel): while on,
 * every allocation of order 1 or more that cannot sleep fails. Return:
 * 0, or -1 if this kernel has no such knob.
 */
#define FAIL_PAGE_ALLOC "/sys/kernel/debug/fail_page_alloc/"

static int fail_atomic_high_order(bool on)
{
	static const char *const knobs[][2] = {
		{ "probability", "0" }, { "min-order", "1" },
		{ "ignore-gfp-wait", "Y" }, { "ignore-gfp-highmem", "N" },
		{ "task-filter", "N" }, { "space", "0" }, { "verbose", "0" },
		{ "interval", "1" }, { "times", "-1" }, { "probability", "100" },
	};
	int n = on ? ARRAY_SIZE(knobs) : 1;

	for (int i = 0; i < n; i++) {
		char path[128];
		int fd;

		snprintf(path, sizeof(path), FAIL_PAGE_ALLOC "%s", knobs[i][0]);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			return -1;
		if (write(fd, knobs[i][1], strlen(knobs[i][1])) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

/*
 * A 60000-byte message needs a 64 KiB buffer: the fast path, the helper
 * path and the capture each get it across while no atomic allocation of
 * more than a page succeeds (fragmented memory): in page fragments, or
 * from process context, never from the atomic reserves.
 */
TEST_F_TIMEOUT(shim, large_messages_need_no_high_order_atomic_allocation,
	       SHIM_TIMEOUT)
{
	enum { LEN = 60000 };
	struct sockaddr_storage from;
	struct iketcp_netns_info info;
	const struct iketcp_event *ev;
	uint8_t *m = malloc(LEN), *r = malloc(LEN + 100);
	int cli, srv;
	uint32_t id;

	ASSERT_NE(NULL, m);
	ASSERT_NE(NULL, r);
	if (access(FAIL_PAGE_ALLOC "min-order", W_OK))
		SKIP(return, "needs CONFIG_FAIL_PAGE_ALLOC (the debug kernel)");
	id = fp_conn(_metadata, self, variant, &cli, &srv);
	ASSERT_EQ(0, fp_add(&self->nl, id, 7, 500, false, 0, 0))
		TH_LOG("%s", self->nl.err);
	ASSERT_EQ(0, capture(&self->nl, variant->peer, -1, true));

	ASSERT_EQ(0, fail_atomic_high_order(true));
	/* the fast path: the SA's message straight to the daemon */
	fp_msg(m, LEN, 7, 1);
	EXPECT_EQ(0, write_all(cli, m, LEN));
	EXPECT_EQ(LEN, udp_wait(self->daemon500, r, LEN + 100, WAIT_MS, &from));
	EXPECT_EQ(1, check_msg(r, LEN));
	/* another SA's: to the helper */
	fp_msg(m, LEN, 8, 2);
	EXPECT_EQ(0, write_all(cli, m, LEN));
	EXPECT_EQ(1, evlog_wait(&self->nl, self->log, IKETCP_CMD_MSG, id, 1,
				WAIT_MS));
	/* the daemon's datagram: captured for the helper */
	mk_msg(m, LEN, 0x20, 35, 3);
	EXPECT_EQ(0, udp_sendto(self->daemon500, variant->peer, 500, m, LEN));
	EXPECT_EQ(1, evlog_wait(&self->nl, self->log, IKETCP_CMD_UDP_CAPTURED,
				0, 1, WAIT_MS));
	ASSERT_EQ(0, fail_atomic_high_order(false));

	ev = evlog_last(self->log, IKETCP_CMD_MSG, id);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(LEN, ev->msg_len);
	EXPECT_EQ(2, check_msg(ev->msg, ev->msg_len));
	ev = evlog_last(self->log, IKETCP_CMD_UDP_CAPTURED, 0);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(LEN, ev->msg_len);
	EXPECT_EQ(3, check_msg(ev->msg, ev->msg_len));
	ASSERT_EQ(0, iketcp_nl_netns_get(&self->nl, &info));
	EXPECT_EQ(1, info.stats[IKETCP_NS_STAT_FAST_MSGS]);
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_FAST_FALLBACKS]);
	EXPECT_EQ(1, info.stats[IKETCP_NS_STAT_CAPTURED]);
	EXPECT_EQ(1, info.stats[IKETCP_NS_STAT_CAPTURE_DEFERRED]);
	EXPECT_EQ(0, info.stats[IKETCP_NS_STAT_CAPTURE_DROPS]);
	close(cli);
	close(srv);
	free(m);
	free(r);
}

TEST_HARNESS_MAIN
