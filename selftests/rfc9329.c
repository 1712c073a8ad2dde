// SPDX-License-Identifier: GPL-2.0
/*
 * rfc9329.c - selftests of the "iketcp-rfc9329" TCP ULP: RFC 9329 records
 * on the stream (IKE behind the non-ESP marker, empty records, NAT
 * keepalives, every fatal record), and ESP in the stream both ways
 * through the local xfrm layer (SAs with the null cipher, so that the
 * test can build and read ESP packets itself). Runs as root in the VM with
 * iketcp.ko loaded, each test in a private network namespace.
 */
#include <linux/udp.h>
#include <stdarg.h>

#include "kselftest_harness.h"
#include "lib.h"

#define WAIT_MS 5000
#define SPI_IN	0x1000
#define SPI_OUT	0x2000

static int attach9329(int fd)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_ULP, IKETCP_ULP_NAME_RFC9329,
			  strlen(IKETCP_ULP_NAME_RFC9329)) ? -errno : 0;
}

FIXTURE(rfc) {
	int cli, srv;
	uint32_t id;
	struct iketcp_nl nl;
	struct evlog *log;
	const char *addr;
	int family;
};

FIXTURE_VARIANT(rfc) {
	int family;
	const char *addr;
};

FIXTURE_VARIANT_ADD(rfc, ipv4) {
	.family = AF_INET,
	.addr = "127.0.0.1",
};

FIXTURE_VARIANT_ADD(rfc, ipv6) {
	.family = AF_INET6,
	.addr = "::1",
};

static uint32_t rfc_conn(struct __test_metadata *_metadata,
			 FIXTURE_DATA(rfc) *self, int family, int *cli,
			 int *srv, bool rfc)
{
	const struct iketcp_event *ev;
	int before = evlog_count(self->log, IKETCP_CMD_CONN_ATTACHED, 0);

	ASSERT_EQ(0, tcp_pair(family, cli, srv));
	ASSERT_EQ(0, rfc ? attach9329(*srv) : ulp_attach(*srv));
	ASSERT_EQ(before + 1, evlog_wait(&self->nl, self->log,
					 IKETCP_CMD_CONN_ATTACHED, 0,
					 before + 1, WAIT_MS));
	ev = evlog_last(self->log, IKETCP_CMD_CONN_ATTACHED, 0);
	EXPECT_EQ(rfc ? IKETCP_FRAMING_RFC9329 : IKETCP_FRAMING_RAW,
		  ev->framing);
	return ev->conn_id;
}

FIXTURE_SETUP(rfc)
{
	ASSERT_EQ(0, new_netns());
	/* IPv4 loopback has no IPsec by default (disable_xfrm, _policy),
	 * and packets from a loopback address arriving on it are martians
	 */
	if (variant->family == AF_INET)
		ASSERT_EQ(0, system("sysctl -qw net.ipv4.conf.lo.disable_xfrm=0 net.ipv4.conf.lo.disable_policy=0 net.ipv4.conf.lo.route_localnet=1 net.ipv4.conf.lo.accept_local=1 net.ipv4.conf.all.route_localnet=1"));
	self->log = calloc(1, sizeof(*self->log));
	ASSERT_NE(NULL, self->log);
	ASSERT_EQ(0, helper_open(&self->nl)) TH_LOG("%s", self->nl.err);
	self->addr = variant->addr;
	self->family = variant->family;
	self->id = rfc_conn(_metadata, self, variant->family, &self->cli,
			    &self->srv, true);
}

FIXTURE_TEARDOWN(rfc)
{
	close(self->cli);
	close(self->srv);
	iketcp_nl_close(&self->nl);
	evlog_free(self->log);
	free(self->log);
}

/* An IKE record of message @msgid, @len bytes: returns the record size */
static size_t rec_ike(uint8_t *b, uint32_t len, uint32_t msgid)
{
	b[0] = (len + 6) >> 8;
	b[1] = (len + 6) & 0xff;
	memset(b + 2, 0, 4);
	mk_msg(b + 6, len, 0x20, 37, msgid);
	return len + 6;
}

TEST_F(rfc, ulp_name_and_framing)
{
	char name[32] = "";
	socklen_t n = sizeof(name);
	struct iketcp_event cur;

	ASSERT_EQ(0, getsockopt(self->srv, IPPROTO_TCP, TCP_ULP, name, &n));
	EXPECT_STREQ(IKETCP_ULP_NAME_RFC9329, name);
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, self->id, &cur));
	EXPECT_EQ(IKETCP_FRAMING_RFC9329, cur.framing);
}

TEST_F(rfc, ike_records_delivered_others_skipped)
{
	static const uint8_t pad[] = { 0, 2 }, ka[] = { 0, 3, 0xff };
	static uint8_t b[4096];
	struct iketcp_event cur;
	size_t n = 0;

	n += rec_ike(b + n, 300, 1);
	memcpy(b + n, pad, sizeof(pad));
	n += sizeof(pad);
	memcpy(b + n, ka, sizeof(ka));
	n += sizeof(ka);
	n += rec_ike(b + n, 28, 2);
	n += rec_ike(b + n, 1000, 3);
	/* byte by byte: every split point of every record kind */
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(0, write_all(self->cli, b + i, 1));
	ASSERT_EQ(3, evlog_wait(&self->nl, self->log, IKETCP_CMD_MSG,
				self->id, 3, WAIT_MS));
	for (int i = 0, k = 0; i < self->log->n; i++) {
		const struct iketcp_event *ev = &self->log->ev[i];

		if (ev->cmd != IKETCP_CMD_MSG)
			continue;
		/* the IKE message alone: no length, no marker */
		EXPECT_EQ(++k, check_msg(ev->msg, ev->msg_len));
	}
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, self->id, &cur));
	EXPECT_EQ(3, cur.stats[IKETCP_STAT_RX_MSGS]);
	EXPECT_EQ(2, cur.stats[IKETCP_STAT_SKIPPED]);
	EXPECT_EQ(IKETCP_CONN_STATE_ACTIVE, cur.state);
}

TEST_F(rfc, sends_are_records)
{
	static uint8_t m[IKETCP_RFC9329_IKE_MAX + 1];
	struct iketcp_stream s;
	uint8_t head[6];
	long next = 1;

	mk_msg(m, 300, 0x20, 37, 1);
	ASSERT_EQ(0, iketcp_nl_conn_send(&self->nl, self->id, m, 300));
	/* length (counting itself) and marker, then the message */
	ASSERT_EQ(6, recv(self->cli, head, 6, MSG_WAITALL));
	EXPECT_EQ(306, head[0] << 8 | head[1]);
	EXPECT_EQ(0, head[2] | head[3] | head[4] | head[5]);
	ASSERT_EQ(300, recv(self->cli, m, 300, MSG_WAITALL));
	EXPECT_EQ(1, check_msg(m, 300));

	ASSERT_EQ(0, iketcp_stream_init(&s, IKETCP_FRAMING_RFC9329, 65535));
	ASSERT_EQ(0, iketcp_nl_netns_set(&self->nl, 65535));
	for (int i = 2; i <= 10; i++) {
		uint32_t len = 28 + (i * 7001) % 60000;

		mk_msg(m, len, 0x20, 37, i);
		ASSERT_EQ(0, iketcp_nl_conn_send(&self->nl, self->id, m, len));
	}
	/* the largest message a record holds, and one byte more */
	mk_msg(m, IKETCP_RFC9329_IKE_MAX, 0x20, 37, 11);
	ASSERT_EQ(0, iketcp_nl_conn_send(&self->nl, self->id, m,
					 IKETCP_RFC9329_IKE_MAX));
	mk_msg(m, IKETCP_RFC9329_IKE_MAX + 1, 0x20, 37, 12);
	EXPECT_EQ(-EMSGSIZE, iketcp_nl_conn_send(&self->nl, self->id, m,
						 IKETCP_RFC9329_IKE_MAX + 1));
	next = 2;
	ASSERT_EQ(0, stream_read(self->cli, &s, &s.msgs, 10, msg_seq_cb, &next));
	EXPECT_EQ(12, next);
	iketcp_stream_free(&s);
}

/* A connection that gets @bytes must end with @reason after a RST */
static void expect_abort(struct __test_metadata *_metadata,
			 FIXTURE_DATA(rfc) *self, int family,
			 const uint8_t *bytes, size_t len, uint8_t reason,
			 int good_before)
{
	const struct iketcp_event *ev;
	int cli, srv;
	uint32_t id = rfc_conn(_metadata, self, family, &cli, &srv, true);

	ASSERT_EQ(0, write_all(cli, bytes, len));
	ev = evlog_wait_end(&self->nl, self->log, id);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(reason, ev->reason) TH_LOG("reason %s",
					     iketcp_reason_str(ev->reason));
	EXPECT_EQ(1, ev->stats[IKETCP_STAT_FRAMING_ERRORS]);
	EXPECT_EQ(good_before, evlog_count(self->log, IKETCP_CMD_MSG, id));
	EXPECT_TRUE(peer_was_reset(cli));
	close(cli);
	close(srv);
}

TEST_F(rfc, fatal_records_abort)
{
	static const uint8_t len0[] = { 0, 0 }, len1[] = { 0, 1 };
	static const uint8_t junk[] = { 0, 4, 0xff, 0xff };
	static const uint8_t esp6[] = { 0, 8, 0, 0, 0, 7, 1, 2 };
	uint8_t b[400];
	size_t n;

	expect_abort(_metadata, self, variant->family, len0, sizeof(len0),
		     IKETCP_REASON_BAD_RECORD, 0);
	expect_abort(_metadata, self, variant->family, len1, sizeof(len1),
		     IKETCP_REASON_BAD_RECORD, 0);
	expect_abort(_metadata, self, variant->family, junk, sizeof(junk),
		     IKETCP_REASON_BAD_RECORD, 0);
	expect_abort(_metadata, self, variant->family, esp6, sizeof(esp6),
		     IKETCP_REASON_BAD_RECORD, 0);
	/* an IKE header whose length is not the record's */
	n = rec_ike(b, 100, 1);
	n += rec_ike(b + n, 100, 2);
	b[n - 100 + 27] = 101;
	expect_abort(_metadata, self, variant->family, b, n,
		     IKETCP_REASON_LEN_MISMATCH, 1);
	/* IKE version 3 */
	n = rec_ike(b, 100, 1);
	b[6 + 17] = 0x30;
	expect_abort(_metadata, self, variant->family, b, n,
		     IKETCP_REASON_BAD_VERSION, 0);
	/* a record too small for an IKE header */
	n = rec_ike(b, 100, 1);
	b[0] = 0;
	b[1] = 6 + 27;
	expect_abort(_metadata, self, variant->family, b, n,
		     IKETCP_REASON_LEN_SHORT, 0);
	/* the draft framing's first bytes (raw IKE: an SPI, not a length) */
	mk_msg(b, 100, 0x20, 34, 1);
	b[0] = 0;
	b[1] = 1;
	expect_abort(_metadata, self, variant->family, b, 100,
		     IKETCP_REASON_BAD_RECORD, 0);
}

TEST_F(rfc, esp_without_sa_dropped_stream_goes_on)
{
	uint8_t b[200] = { 0, 42, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1 };
	struct iketcp_event cur;
	size_t n = 42;

	n += rec_ike(b + n, 100, 1);
	ASSERT_EQ(0, write_all(self->cli, b, n));
	ASSERT_EQ(1, evlog_wait(&self->nl, self->log, IKETCP_CMD_MSG,
				self->id, 1, WAIT_MS));
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, self->id, &cur));
	EXPECT_EQ(1, cur.stats[IKETCP_STAT_ESP_RX_NOSA]);
	EXPECT_EQ(1, cur.stats[IKETCP_STAT_ESP_RX_DROPS]);
	EXPECT_EQ(0, cur.stats[IKETCP_STAT_ESP_RX_PKTS]);
	/* ESP never reaches the helper */
	EXPECT_EQ(1, cur.stats[IKETCP_STAT_RX_MSGS]);
}

TEST_F(rfc, esp_route_only_on_rfc9329)
{
	int cli, srv;
	uint32_t id = rfc_conn(_metadata, self, variant->family, &cli, &srv,
			       false);

	EXPECT_EQ(-EOPNOTSUPP, iketcp_nl_conn_set_esp(&self->nl, id, true));
	EXPECT_EQ(0, iketcp_nl_conn_set_esp(&self->nl, self->id, true));
	EXPECT_EQ(0, iketcp_nl_conn_set_esp(&self->nl, self->id, false));
	close(cli);
	close(srv);
}

/* ---- ESP through the local xfrm layer (null cipher, no integrity) ---- */

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A transport mode SA @spi from @src to @dst, optionally ESP-in-UDP */
static int xfrm_sa(const char *src, const char *dst, unsigned int spi,
		   bool encap)
{
	return sh("ip xfrm state add src %s dst %s proto esp spi %#x mode transport enc 'ecb(cipher_null)' '' %s 2>/dev/null",
		  src, dst, spi, encap ? "encap espinudp 4500 4500 0.0.0.0" : "");
}

/* UDP to @addr port 7777 goes out through the SA SPI_OUT */
static int xfrm_out_policy(const char *addr)
{
	return sh("ip xfrm policy add src %s dst %s proto udp dport 7777 dir out tmpl src %s dst %s proto esp spi %#x mode transport",
		  addr, addr, addr, addr, SPI_OUT);
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static uint32_t csum_add(uint32_t sum, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += b[n - 1] << 8;
	return sum;
}

/*
 * The ESP packet of a UDP datagram @data from port 1234 to @dport under
 * SPI @spi, null cipher: SPI, sequence number, UDP header and data, pad to
 * 4 bytes, pad length, next header 17. Returns its length.
 */
static size_t mk_esp(uint8_t *b, int family, unsigned int spi, uint16_t dport,
		     const char *data)
{
	size_t dl = strlen(data), ul = 8 + dl, n = 8, pad;
	uint32_t sum = 0;
	uint16_t c;

	b[0] = spi >> 24; b[1] = spi >> 16; b[2] = spi >> 8; b[3] = spi;
	b[4] = 0; b[5] = 0; b[6] = 0; b[7] = 1;
	b[n + 0] = 1234 >> 8; b[n + 1] = 1234 & 0xff;
	b[n + 2] = dport >> 8; b[n + 3] = dport & 0xff;
	b[n + 4] = ul >> 8; b[n + 5] = ul & 0xff;
	b[n + 6] = 0; b[n + 7] = 0;
	memcpy(b + n + 8, data, dl);
	/* the UDP checksum over the pseudo header (loopback both ends) */
	if (family == AF_INET) {
		static const uint8_t lo[4] = { 127, 0, 0, 1 };

		sum = csum_add(sum, lo, 4);
		sum = csum_add(sum, lo, 4);
		sum += 17 + ul;
	} else {
		static const uint8_t lo[16] = { [15] = 1 };

		sum = csum_add(sum, lo, 16);
		sum = csum_add(sum, lo, 16);
		sum += ul + 17;
	}
	sum = csum_add(sum, b + n, ul);
	c = csum_fold(sum);
	if (!c)
		c = 0xffff;
	b[n + 6] = c >> 8;
	b[n + 7] = c & 0xff;
	n += ul;
	for (pad = 1; (ul + pad + 2) % 4; pad++)
		;
	for (size_t i = 1; i < pad; i++)
		b[n++] = i;
	b[n++] = pad - 1;
	b[n++] = 17;
	return n;
}

static int udp_socket(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(family, &ss, port);
	int fd = socket(family, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Udp6InDatagrams of this netns */
static long long udp6_in(void)
{
	FILE *f = fopen("/proc/net/snmp6", "r");
	char name[64];
	long long v = -1, x;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &x) == 2)
		if (!strcmp(name, "Udp6InDatagrams"))
			v = x;
	fclose(f);
	return v;
}

static void esp_in(struct __test_metadata *_metadata, FIXTURE_DATA(rfc) *self,
		   int family, bool encap)
{
	struct pollfd p = { .events = POLLIN };
	long long before;
	uint8_t b[256], esp[128];
	char got[64] = "";
	struct iketcp_event cur;
	int u, e = -1, type = UDP_ENCAP_ESPINUDP;
	size_t n;

	/* setting up the first null-cipher SA can take longer than the
	 * first-message period (crypto self-tests under TCG)
	 */
	ASSERT_EQ(0, iketcp_nl_conn_set_first_msg_timeout(&self->nl, self->id,
							  0));
	if (xfrm_sa(self->addr, self->addr, SPI_IN, encap)) {
		SKIP(return, "no null-cipher ESP SAs (ip xfrm, CONFIG_CRYPTO_NULL)");
	}
	u = udp_socket(family, 9999);
	ASSERT_LE(0, u);
	if (encap) {
		/* the daemon's NAT-T socket */
		e = udp_socket(family, 4500);
		ASSERT_LE(0, e);
		ASSERT_EQ(0, setsockopt(e, IPPROTO_UDP, UDP_ENCAP, &type,
					sizeof(type)));
	}
	n = mk_esp(esp, family, SPI_IN, 9999, "hello, ESP in TCP");
	b[0] = (n + 2) >> 8;
	b[1] = (n + 2) & 0xff;
	memcpy(b + 2, esp, n);
	before = udp6_in();
	ASSERT_EQ(0, write_all(self->cli, b, n + 2)) TH_LOG("%s", strerror(errno));
	if (encap && family == AF_INET6) {
		/*
		 * Linux does not decrypt ESP-in-UDP over IPv6 loopback, not
		 * even from a plain UDP socket (tested with 6.12): check
		 * what iketcp does, one datagram to the NAT-T socket.
		 */
		for (int i = 0; i < 50 && udp6_in() == before; i++)
			usleep(100 * 1000);
		EXPECT_EQ(before + 1, udp6_in());
		ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, self->id, &cur));
		EXPECT_EQ(1, cur.stats[IKETCP_STAT_ESP_RX_PKTS]);
		EXPECT_EQ(0, cur.stats[IKETCP_STAT_ESP_RX_DROPS]);
		close(u);
		close(e);
		return;
	}
	p.fd = u;
	ASSERT_EQ(1, poll(&p, 1, WAIT_MS)) {
		struct iketcp_event c;

		if (!iketcp_nl_conn_get(&self->nl, self->id, &c))
			TH_LOG("nothing decrypted: esp rx %llu, drops %llu, no SA %llu",
			       (unsigned long long)c.stats[IKETCP_STAT_ESP_RX_PKTS],
			       (unsigned long long)c.stats[IKETCP_STAT_ESP_RX_DROPS],
			       (unsigned long long)c.stats[IKETCP_STAT_ESP_RX_NOSA]);
		sh("grep -v ' 0$' /proc/net/xfrm_stat >&2; nstat -a 2>/dev/null | grep -Ei 'udp|Ip(6)?In' >&2");
	}
	ASSERT_EQ(17, recv(u, got, sizeof(got), 0));
	EXPECT_STREQ("hello, ESP in TCP", got);
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, self->id, &cur));
	EXPECT_EQ(1, cur.stats[IKETCP_STAT_ESP_RX_PKTS]);
	EXPECT_EQ(n, cur.stats[IKETCP_STAT_ESP_RX_BYTES]);
	EXPECT_EQ(0, cur.stats[IKETCP_STAT_ESP_RX_DROPS]);
	close(u);
	if (e >= 0)
		close(e);
}

TEST_F_TIMEOUT(rfc, esp_in_plain_to_xfrm, 180)
{
	esp_in(_metadata, self, variant->family, false);
}

TEST_F_TIMEOUT(rfc, esp_in_udp_to_natt_socket, 180)
{
	esp_in(_metadata, self, variant->family, true);
}

static int esp_cb(const uint8_t *pkt, size_t len, void *arg)
{
	uint8_t *out = arg;

	if (len > 256)
		return -1;
	memcpy(out, pkt, len);
	out[256] = len;
	return 0;
}

static void esp_out(struct __test_metadata *_metadata,
		    FIXTURE_DATA(rfc) *self, int family, bool encap)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(family, &ss, 7777);
	struct iketcp_stream s;
	struct iketcp_event cur;
	uint8_t pkt[257] = {};
	int u;

	ASSERT_EQ(0, iketcp_nl_conn_set_first_msg_timeout(&self->nl, self->id,
							  0));
	if (xfrm_sa(self->addr, self->addr, SPI_OUT, encap)) {
		SKIP(return, "no null-cipher ESP SAs (ip xfrm, CONFIG_CRYPTO_NULL)");
	}
	ASSERT_EQ(0, xfrm_out_policy(self->addr));
	ASSERT_EQ(0, iketcp_nl_conn_set_esp(&self->nl, self->id, true));
	u = socket(family, SOCK_DGRAM, 0);
	ASSERT_LE(0, u);
	ASSERT_EQ(5, sendto(u, "hello", 5, 0, (struct sockaddr *)&ss, sl));

	ASSERT_EQ(0, iketcp_stream_init(&s, IKETCP_FRAMING_RFC9329, 65535));
	s.esp_cb = esp_cb;
	ASSERT_EQ(0, stream_read(self->cli, &s, &s.esp, 1, NULL, pkt));
	/* the ESP packet itself (no UDP header even when encapsulated) */
	EXPECT_EQ(SPI_OUT, pkt[0] << 24 | pkt[1] << 16 | pkt[2] << 8 | pkt[3]);
	EXPECT_EQ(1, pkt[7]);
	ASSERT_LE(8 + 8 + 5 + 2, pkt[256]);
	EXPECT_EQ(0, memcmp(pkt + 16, "hello", 5));
	EXPECT_EQ(17, pkt[pkt[256] - 1]);
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, self->id, &cur));
	EXPECT_EQ(1, cur.stats[IKETCP_STAT_ESP_TX_PKTS]);
	EXPECT_EQ(pkt[256], cur.stats[IKETCP_STAT_ESP_TX_BYTES]);

	/* no carrier any more: the next one leaves as ESP does */
	ASSERT_EQ(0, iketcp_nl_conn_set_esp(&self->nl, self->id, false));
	ASSERT_EQ(5, sendto(u, "again", 5, 0, (struct sockaddr *)&ss, sl));
	usleep(200 * 1000);
	ASSERT_EQ(0, iketcp_nl_conn_get(&self->nl, self->id, &cur));
	EXPECT_EQ(1, cur.stats[IKETCP_STAT_ESP_TX_PKTS]);
	iketcp_stream_free(&s);
	close(u);
}

TEST_F_TIMEOUT(rfc, esp_out_plain_from_xfrm, 180)
{
	esp_out(_metadata, self, variant->family, false);
}

TEST_F_TIMEOUT(rfc, esp_out_udp_encap_from_xfrm, 180)
{
	esp_out(_metadata, self, variant->family, true);
}

/* ESP packets the xfrm output sent on connection @id */
static uint64_t esp_sent(struct __test_metadata *_metadata,
			 FIXTURE_DATA(rfc) *self, uint32_t id)
{
	struct iketcp_event cur;

	if (iketcp_nl_conn_get(&self->nl, id, &cur))
		return (uint64_t)-1;
	return cur.stats[IKETCP_STAT_ESP_TX_PKTS];
}

/* Send one datagram to port 7777 and wait until @id carried @want */
static bool esp_lands(struct __test_metadata *_metadata,
		      FIXTURE_DATA(rfc) *self, int u, uint32_t id,
		      uint64_t want)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(self->family, &ss, 7777);

	if (sendto(u, "x", 1, 0, (struct sockaddr *)&ss, sl) != 1)
		return false;
	for (int i = 0; i < 50; i++) {
		if (esp_sent(_metadata, self, id) == want)
			return true;
		usleep(20 * 1000);
	}
	return false;
}

TEST_F_TIMEOUT(rfc, esp_carrier_moves_and_closes, 180)
{
	int cli, srv, u;
	uint32_t id;

	ASSERT_EQ(0, iketcp_nl_conn_set_first_msg_timeout(&self->nl, self->id,
							  0));
	if (xfrm_sa(self->addr, self->addr, SPI_OUT, false)) {
		SKIP(return, "no null-cipher ESP SAs (ip xfrm, CONFIG_CRYPTO_NULL)");
	}
	ASSERT_EQ(0, xfrm_out_policy(self->addr));
	u = socket(self->family, SOCK_DGRAM, 0);
	ASSERT_LE(0, u);
	id = rfc_conn(_metadata, self, self->family, &cli, &srv, true);
	ASSERT_EQ(0, iketcp_nl_conn_set_first_msg_timeout(&self->nl, id, 0));

	ASSERT_EQ(0, iketcp_nl_conn_set_esp(&self->nl, self->id, true));
	EXPECT_TRUE(esp_lands(_metadata, self, u, self->id, 1));
	/* the address moves to the newer connection */
	ASSERT_EQ(0, iketcp_nl_conn_set_esp(&self->nl, id, true));
	EXPECT_TRUE(esp_lands(_metadata, self, u, id, 1));
	EXPECT_TRUE(esp_lands(_metadata, self, u, id, 2));
	EXPECT_EQ(1, esp_sent(_metadata, self, self->id));
	/* setting it again where it is changes nothing */
	ASSERT_EQ(0, iketcp_nl_conn_set_esp(&self->nl, id, true));
	EXPECT_TRUE(esp_lands(_metadata, self, u, id, 3));
	/* the carrier closes: the route goes with it, ESP leaves as ESP */
	close(srv);
	close(cli);
	EXPECT_FALSE(esp_lands(_metadata, self, u, self->id, 2));
	EXPECT_EQ(1, esp_sent(_metadata, self, self->id));
	/* and the older connection can take it again */
	ASSERT_EQ(0, iketcp_nl_conn_set_esp(&self->nl, self->id, true));
	EXPECT_TRUE(esp_lands(_metadata, self, u, self->id, 2));
	ASSERT_EQ(0, iketcp_nl_conn_set_esp(&self->nl, self->id, false));
	close(u);
}

TEST_HARNESS_MAIN
