// SPDX-License-Identifier: GPL-2.0
/*
 * test_ike.c - IKE payload inspection: IKEv2 NAT detection notifies,
 * IKEv1 NAT-D (RFC 3947) with every hash length, hostile payload chains.
 */
#include <string.h>

#include <openssl/evp.h>

#include "kselftest_harness.h"
#include "ike.h"

static size_t hdr(uint8_t *b, uint8_t next, uint8_t ver, uint8_t exch)
{
	memset(b, 0, 28);
	for (int i = 0; i < 16; i++)
		b[i] = i + 1;
	b[16] = next;
	b[17] = ver;
	b[18] = exch;
	return 28;
}

static void setlen(uint8_t *b, size_t len)
{
	b[24] = len >> 24;
	b[25] = len >> 16;
	b[26] = len >> 8;
	b[27] = len;
}

static size_t payload(uint8_t *p, uint8_t next, const void *body, size_t n)
{
	p[0] = next;
	p[1] = 0;
	p[2] = (n + 4) >> 8;
	p[3] = n + 4;
	memcpy(p + 4, body, n);
	return n + 4;
}

TEST(v2_natd_notify_found)
{
	uint8_t m[200], nat[24] = { 0, 0, 0x40, 0x04 }, sa[8] = {};
	size_t off = hdr(m, 33, 0x20, 34);

	off += payload(m + off, 41, sa, sizeof(sa));	/* SA, then Notify */
	off += payload(m + off, 0, nat, sizeof(nat));
	setlen(m, off);
	EXPECT_TRUE(ike_v2_has_natd(m, off));
	nat[3] = 0x05;		/* NAT_DETECTION_DESTINATION_IP */
	off = 28 + payload(m + 28, 41, sa, sizeof(sa));
	off += payload(m + off, 0, nat, sizeof(nat));
	EXPECT_TRUE(ike_v2_has_natd(m, off));
	nat[3] = 0x06;		/* another notify */
	off = 28 + payload(m + 28, 41, sa, sizeof(sa));
	off += payload(m + off, 0, nat, sizeof(nat));
	EXPECT_FALSE(ike_v2_has_natd(m, off));
}

TEST(hostile_chains_are_safe)
{
	uint8_t m[64];

	hdr(m, 41, 0x20, 34);
	m[28] = 41;
	m[30] = 0xff;	/* payload length beyond the message */
	m[31] = 0xff;
	EXPECT_FALSE(ike_v2_has_natd(m, sizeof(m)));
	m[30] = 0;
	m[31] = 2;	/* shorter than its own header */
	EXPECT_FALSE(ike_v2_has_natd(m, sizeof(m)));
	EXPECT_FALSE(ike_v2_has_natd(m, 20));
}

static void natd_hash(const EVP_MD *md, const uint8_t *cky, const char *ip,
		      uint16_t port, uint8_t *out)
{
	struct iketcp_ep ep;
	uint8_t in[40];
	unsigned int olen;
	size_t alen;

	iketcp_ep_parse(ip, port, &ep);
	alen = ep.family == AF_INET6 ? 16 : 4;
	memcpy(in, cky, 16);
	memcpy(in + 16, &ep.addr, alen);
	in[16 + alen] = port >> 8;
	in[17 + alen] = port;
	EVP_Digest(in, 18 + alen, out, &olen, md, NULL);
}

TEST(v1_natd_every_hash)
{
	const EVP_MD *mds[] = { EVP_md5(), EVP_sha1(), EVP_sha256(),
				EVP_sha384(), EVP_sha512() };

	for (size_t i = 0; i < sizeof(mds) / sizeof(*mds); i++) {
		uint8_t m[400], h1[64], h2[64];
		size_t hl = EVP_MD_size(mds[i]), off;
		struct iketcp_ep sender, receiver;

		off = hdr(m, 20, 0x10, 2);
		natd_hash(mds[i], m, "198.51.100.1", 500, h1);	/* receiver */
		natd_hash(mds[i], m, "100.64.0.2", 500, h2);	/* sender's own */
		off += payload(m + off, 20, h1, hl);
		off += payload(m + off, 0, h2, hl);
		setlen(m, off);
		iketcp_ep_parse("198.51.100.1", 500, &receiver);
		/* seen from its real address: no NAT */
		iketcp_ep_parse("100.64.0.2", 500, &sender);
		EXPECT_EQ(0, ike_v1_nat_detected(m, off, &sender, &receiver));
		/* seen from a CGN's address: NAT */
		iketcp_ep_parse("203.0.113.9", 500, &sender);
		EXPECT_EQ(1, ike_v1_nat_detected(m, off, &sender, &receiver));
		/* the receiver is not where the sender sent it: NAT */
		iketcp_ep_parse("100.64.0.2", 500, &sender);
		iketcp_ep_parse("198.51.100.1", 4500, &receiver);
		EXPECT_EQ(1, ike_v1_nat_detected(m, off, &sender, &receiver));
	}
}

TEST(v1_without_natd)
{
	uint8_t m[64];
	struct iketcp_ep sender;

	hdr(m, 0, 0x10, 2);
	setlen(m, 28);
	iketcp_ep_parse("192.0.2.1", 500, &sender);
	EXPECT_EQ(-1, ike_v1_nat_detected(m, 28, &sender, &sender));
	EXPECT_EQ(-1, ike_v2_nat_detected(m, 28, &sender, &sender));
}

/* An IKEv2 NAT detection notify: protocol 0, no SPI, type, SHA-1 */
static size_t v2_natd_notify(uint8_t *p, uint8_t next, uint16_t type,
			     const uint8_t *hash)
{
	uint8_t b[24] = { 0, 0, type >> 8, type & 0xff };

	memcpy(b + 4, hash, 20);
	return payload(p, next, b, sizeof(b));
}

TEST(v2_nat_detection)
{
	uint8_t m[400], hs[64], hd[64];
	struct iketcp_ep src, dst;
	size_t off;

	/* IKE_SA_INIT request from 100.64.0.2:500 to 198.51.100.1:500 */
	off = hdr(m, 41, 0x20, 34);
	m[19] = 0x08;
	memset(m + 8, 0, 8);	/* SPIr 0 */
	natd_hash(EVP_sha1(), m, "100.64.0.2", 500, hs);
	natd_hash(EVP_sha1(), m, "198.51.100.1", 500, hd);
	off += v2_natd_notify(m + off, 41, 16388, hs);
	off += v2_natd_notify(m + off, 0, 16389, hd);
	setlen(m, off);
	iketcp_ep_parse("100.64.0.2", 500, &src);
	iketcp_ep_parse("198.51.100.1", 500, &dst);
	EXPECT_EQ(0, ike_v2_nat_detected(m, off, &src, &dst));
	/* the same request, delivered from a CGN's address: NAT */
	iketcp_ep_parse("198.51.100.254", 500, &src);
	EXPECT_EQ(1, ike_v2_nat_detected(m, off, &src, &dst));
	/* received on another address than it was sent to: NAT */
	iketcp_ep_parse("100.64.0.2", 500, &src);
	iketcp_ep_parse("198.51.100.7", 500, &dst);
	EXPECT_EQ(1, ike_v2_nat_detected(m, off, &src, &dst));
	/* only a source notify: no usable NAT detection */
	setlen(m, 28 + 28);
	m[28] = 0;
	EXPECT_EQ(-1, ike_v2_nat_detected(m, 28 + 28, &src, &dst));
}

TEST(classification)
{
	struct iketcp_ike_hdr h = { .major = 2, .exchange = IKEV2_IKE_SA_INIT };

	EXPECT_TRUE(ike_is_phase1_start(&h));
	EXPECT_TRUE(ike_is_sa_setup(&h));
	h.spi_r = 1;
	EXPECT_FALSE(ike_is_phase1_start(&h));
	h.exchange = IKEV2_IKE_AUTH;
	EXPECT_FALSE(ike_is_sa_setup(&h));
	h.major = 1;
	h.exchange = IKEV1_MAIN_MODE;
	EXPECT_TRUE(ike_is_sa_setup(&h));
	h.flags = IKEV1_FLAG_ENCRYPTION;
	EXPECT_FALSE(ike_is_sa_setup(&h));
}

TEST_HARNESS_MAIN
