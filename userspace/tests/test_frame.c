// SPDX-License-Identifier: GPL-2.0
/*
 * test_frame.c - host unit tests of the framing core (kernel/frame.c, the
 * very source the module is built from) and of the userspace stream
 * framer, against a simple reference model.
 */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "stream.h"

static void mk_hdr(uint8_t *b, uint8_t version, uint8_t exch, uint32_t len)
{
	memset(b, 0, IKETCP_IKE_HDR_LEN);
	for (int i = 0; i < 8; i++)
		b[i] = 0x11 * (i + 1);
	b[IKETCP_IKE_OFF_NEXT] = 33;
	b[IKETCP_IKE_OFF_VERSION] = version;
	b[IKETCP_IKE_OFF_EXCHANGE] = exch;
	b[IKETCP_IKE_OFF_FLAGS] = 0x08;
	b[24] = len >> 24;
	b[25] = len >> 16;
	b[26] = len >> 8;
	b[27] = len;
}

static int parse(uint32_t limit, const uint8_t *b, size_t n, uint32_t *len)
{
	struct iketcp_framer fr;
	struct iketcp_frame f = {};
	int ret;

	iketcp_framer_init(&fr, IKETCP_FRAMING_RAW, limit);
	ret = iketcp_frame_parse(&fr, b, n, &f);
	if (len)
		*len = f.len;
	return ret;
}

TEST(valid_ikev2_and_ikev1)
{
	uint8_t b[IKETCP_IKE_HDR_LEN];
	uint32_t len;

	mk_hdr(b, 0x20, 34, 300);
	ASSERT_EQ(1, parse(65507, b, sizeof(b), &len));
	ASSERT_EQ(300, len);
	mk_hdr(b, 0x10, 2, 28);
	ASSERT_EQ(1, parse(65507, b, sizeof(b), &len));
	ASSERT_EQ(28, len);
}

TEST(needs_whole_header)
{
	uint8_t b[IKETCP_IKE_HDR_LEN];

	mk_hdr(b, 0x20, 35, 1000);
	for (size_t n = 0; n < sizeof(b); n++)
		ASSERT_EQ(0, parse(65507, b, n, NULL));
}

TEST(short_lengths_rejected)
{
	uint8_t b[IKETCP_IKE_HDR_LEN];

	for (uint32_t l = 0; l < IKETCP_IKE_HDR_LEN; l++) {
		mk_hdr(b, 0x20, 34, l);
		ASSERT_EQ(-IKETCP_REASON_LEN_SHORT, parse(65507, b, sizeof(b), NULL));
	}
}

TEST(long_lengths_rejected)
{
	uint8_t b[IKETCP_IKE_HDR_LEN];

	mk_hdr(b, 0x20, 34, 0xffffffff);
	ASSERT_EQ(-IKETCP_REASON_LEN_LONG, parse(65507, b, sizeof(b), NULL));
	mk_hdr(b, 0x20, 34, 65508);
	ASSERT_EQ(-IKETCP_REASON_LEN_LONG, parse(65507, b, sizeof(b), NULL));
	mk_hdr(b, 0x20, 34, 65507);
	ASSERT_EQ(1, parse(65507, b, sizeof(b), NULL));
	mk_hdr(b, 0x20, 34, 1001);
	ASSERT_EQ(-IKETCP_REASON_LEN_LONG, parse(1000, b, sizeof(b), NULL));
	/* the limit is clamped to [28, 65535] */
	mk_hdr(b, 0x20, 34, 65535);
	ASSERT_EQ(1, parse(0xffffffff, b, sizeof(b), NULL));
	mk_hdr(b, 0x20, 34, 65536);
	ASSERT_EQ(-IKETCP_REASON_LEN_LONG, parse(0xffffffff, b, sizeof(b), NULL));
}

TEST(bad_versions_rejected_early)
{
	uint8_t b[IKETCP_IKE_HDR_LEN];

	for (int v = 0; v < 16; v++) {
		int want = (v == 1 || v == 2) ? 0 : -IKETCP_REASON_BAD_VERSION;

		mk_hdr(b, v << 4, 34, 100);
		/* decided as soon as the version byte is there */
		ASSERT_EQ(want, parse(65507, b, IKETCP_IKE_OFF_VERSION + 1, NULL));
	}
}

TEST(check_msg_for_sending)
{
	struct iketcp_framer fr;
	uint8_t b[200];

	iketcp_framer_init(&fr, IKETCP_FRAMING_RAW, 65507);
	mk_hdr(b, 0x20, 35, 200);
	ASSERT_EQ(0, iketcp_frame_check_msg(&fr, b, 200));
	ASSERT_NE(0, iketcp_frame_check_msg(&fr, b, 199));
	ASSERT_NE(0, iketcp_frame_check_msg(&fr, b, 27));
	mk_hdr(b, 0x30, 35, 200);
	ASSERT_EQ(-IKETCP_REASON_BAD_VERSION, iketcp_frame_check_msg(&fr, b, 200));
}

TEST(ike_hdr_parse)
{
	struct iketcp_ike_hdr h;
	uint8_t b[IKETCP_IKE_HDR_LEN];

	mk_hdr(b, 0x20, 37, 80);
	b[20] = 0;
	b[23] = 7;
	ASSERT_EQ(0, iketcp_ike_hdr_parse(b, sizeof(b), &h));
	ASSERT_EQ(0x1122334455667788ULL, h.spi_i);
	ASSERT_EQ(0, h.spi_r);
	ASSERT_EQ(2, h.major);
	ASSERT_EQ(37, h.exchange);
	ASSERT_EQ(7, h.msgid);
	ASSERT_EQ(80, h.length);
	ASSERT_NE(0, iketcp_ike_hdr_parse(b, 27, &h));
}

/* Reference model: walk the concatenation by its length fields. */
struct collect {
	size_t n;
	size_t len[4096];
	const uint8_t *ref;	/* the stream as sent */
	size_t pos;		/* where the next message must start */
};

static int collect_cb(const uint8_t *msg, size_t len, void *arg)
{
	struct collect *c = arg;

	if (c->n >= 4096)
		return -1;
	if (c->ref && memcmp(msg, c->ref + c->pos, len))
		return -2;	/* bytes differ from the reference */
	c->len[c->n++] = len;
	c->pos += len;
	return 0;
}

static size_t build_stream(uint8_t *buf, size_t cap, unsigned int seed,
			   size_t *lens, size_t *nmsg)
{
	size_t off = 0, n = 0;

	srand(seed);
	while (n < 200) {
		uint32_t len = 28 + rand() % 3000;

		if (off + len > cap)
			break;
		mk_hdr(buf + off, rand() % 2 ? 0x20 : 0x10, 34, len);
		for (uint32_t i = 28; i < len; i++)
			buf[off + i] = rand();
		lens[n++] = len;
		off += len;
	}
	*nmsg = n;
	return off;
}

TEST(stream_random_splits_match_model)
{
	static uint8_t buf[1 << 20];
	static size_t lens[256];
	static struct collect c;
	size_t total, nmsg;

	for (unsigned int seed = 1; seed <= 50; seed++) {
		struct iketcp_stream s;
		size_t off = 0;

		total = build_stream(buf, sizeof(buf), seed, lens, &nmsg);
		memset(&c, 0, sizeof(c));
		c.ref = buf;
		ASSERT_EQ(0, iketcp_stream_init(&s, IKETCP_FRAMING_RAW, 65507));
		while (off < total) {
			size_t chunk = 1 + rand() % 5000;

			if (chunk > total - off)
				chunk = total - off;
			ASSERT_EQ(0, iketcp_stream_feed(&s, buf + off, chunk,
							collect_cb, &c));
			off += chunk;
		}
		ASSERT_EQ(nmsg, c.n);
		for (size_t i = 0; i < nmsg; i++)
			ASSERT_EQ(lens[i], c.len[i]);
		ASSERT_EQ(0, s.len);
		iketcp_stream_free(&s);
	}
}

TEST(stream_every_split_point)
{
	uint8_t msg[300];
	static struct collect c;

	mk_hdr(msg, 0x20, 35, sizeof(msg));
	for (size_t k = 1; k < sizeof(msg); k++) {
		struct iketcp_stream s;

		memset(&c, 0, sizeof(c));
		c.ref = msg;
		ASSERT_EQ(0, iketcp_stream_init(&s, IKETCP_FRAMING_RAW, 65507));
		ASSERT_EQ(0, iketcp_stream_feed(&s, msg, k, collect_cb, &c));
		ASSERT_EQ(0, c.n);
		ASSERT_EQ(0, iketcp_stream_feed(&s, msg + k, sizeof(msg) - k,
						collect_cb, &c));
		ASSERT_EQ(1, c.n);
		iketcp_stream_free(&s);
	}
}

TEST(stream_error_is_sticky)
{
	struct iketcp_stream s;
	uint8_t b[IKETCP_IKE_HDR_LEN];

	mk_hdr(b, 0x20, 34, 5);
	ASSERT_EQ(0, iketcp_stream_init(&s, IKETCP_FRAMING_RAW, 65507));
	ASSERT_EQ(-IKETCP_REASON_LEN_SHORT,
		  iketcp_stream_feed(&s, b, sizeof(b), NULL, NULL));
	mk_hdr(b, 0x20, 34, 100);
	ASSERT_EQ(-IKETCP_REASON_LEN_SHORT,
		  iketcp_stream_feed(&s, b, sizeof(b), NULL, NULL));
	iketcp_stream_free(&s);
}

/* ---- RFC 9329 records ---- */

static int parse9329(uint32_t limit, const uint8_t *b, size_t n,
		     struct iketcp_frame *f)
{
	struct iketcp_framer fr;

	iketcp_framer_init(&fr, IKETCP_FRAMING_RFC9329, limit);
	memset(f, 0, sizeof(*f));
	return iketcp_frame_parse(&fr, b, n, f);
}

/* An IKE record of an IKE message of @ike_len bytes at @b */
static size_t mk_rec_ike(uint8_t *b, uint32_t ike_len)
{
	b[0] = (ike_len + 6) >> 8;
	b[1] = ike_len + 6;
	memset(b + 2, 0, 4);
	mk_hdr(b + 6, 0x20, 37, ike_len);
	memset(b + 6 + IKETCP_IKE_HDR_LEN, 0x5a, ike_len - IKETCP_IKE_HDR_LEN);
	return ike_len + 6;
}

TEST(rfc9329_ike_record)
{
	uint8_t b[400];
	struct iketcp_frame f;

	mk_rec_ike(b, 300);
	ASSERT_EQ(1, parse9329(65507, b, 306, &f));
	ASSERT_EQ(IKETCP_FRAME_IKE, f.kind);
	ASSERT_EQ(306, f.len);
	ASSERT_EQ(6, f.msg_off);
	ASSERT_EQ(300, f.msg_len);
	/* decided once the IKE header is there, not the body */
	ASSERT_EQ(1, parse9329(65507, b, 34, &f));
	/* undecided: the bytes it needs */
	ASSERT_EQ(0, parse9329(65507, b, 1, &f));
	ASSERT_EQ(2, f.len);
	ASSERT_EQ(0, parse9329(65507, b, 5, &f));
	ASSERT_EQ(6, f.len);
	ASSERT_EQ(0, parse9329(65507, b, 20, &f));
	ASSERT_EQ(24, f.len);
	ASSERT_EQ(0, parse9329(65507, b, 33, &f));
	ASSERT_EQ(34, f.len);
}

TEST(rfc9329_fatal_lengths)
{
	uint8_t b[8] = {};
	struct iketcp_frame f;

	/* 0 and 1: close the connection (s3) */
	ASSERT_EQ(-IKETCP_REASON_BAD_RECORD, parse9329(65507, b, 2, &f));
	b[1] = 1;
	ASSERT_EQ(-IKETCP_REASON_BAD_RECORD, parse9329(65507, b, 2, &f));
}

TEST(rfc9329_skipped_records)
{
	uint8_t pad[] = { 0, 2 }, ka[] = { 0, 3, 0xff }, bad[] = { 0, 3, 0 };
	uint8_t three[] = { 0, 5, 1, 2, 3 };
	struct iketcp_frame f;

	/* length 2: ignored */
	ASSERT_EQ(1, parse9329(65507, pad, 2, &f));
	ASSERT_EQ(IKETCP_FRAME_SKIP, f.kind);
	ASSERT_EQ(2, f.len);
	/* a NAT keepalive: dropped silently (s6.6) */
	ASSERT_EQ(0, parse9329(65507, ka, 2, &f));
	ASSERT_EQ(3, f.len);
	ASSERT_EQ(1, parse9329(65507, ka, 3, &f));
	ASSERT_EQ(IKETCP_FRAME_SKIP, f.kind);
	ASSERT_EQ(3, f.len);
	/* any other body too short for a marker or an SPI */
	ASSERT_EQ(-IKETCP_REASON_BAD_RECORD, parse9329(65507, bad, 3, &f));
	ASSERT_EQ(-IKETCP_REASON_BAD_RECORD, parse9329(65507, three, 5, &f));
}

TEST(rfc9329_esp_record)
{
	uint8_t b[64] = { 0, 42, 0xc0, 0xff, 0xee, 0x01 };
	struct iketcp_frame f;

	ASSERT_EQ(1, parse9329(65507, b, 6, &f));
	ASSERT_EQ(IKETCP_FRAME_ESP, f.kind);
	ASSERT_EQ(42, f.len);
	ASSERT_EQ(2, f.msg_off);
	ASSERT_EQ(40, f.msg_len);
	/* ESP is not bound by the IKE message limit */
	ASSERT_EQ(1, parse9329(28, b, 6, &f));
	/* no room for SPI and sequence number */
	b[1] = 9;
	ASSERT_EQ(-IKETCP_REASON_BAD_RECORD, parse9329(65507, b, 6, &f));
	b[1] = 10;
	ASSERT_EQ(1, parse9329(65507, b, 6, &f));
}

TEST(rfc9329_ike_header_checked)
{
	uint8_t b[400];
	struct iketcp_frame f;

	/* the IKE length must be the record's */
	mk_rec_ike(b, 300);
	b[6 + 27] = 45;
	ASSERT_EQ(-IKETCP_REASON_LEN_MISMATCH, parse9329(65507, b, 34, &f));
	/* a version neither 1 nor 2, decided at its byte */
	mk_rec_ike(b, 300);
	b[6 + 17] = 0x30;
	ASSERT_EQ(-IKETCP_REASON_BAD_VERSION, parse9329(65507, b, 24, &f));
	/* the record's size against the IKE limits, decided at the marker */
	mk_rec_ike(b, 300);
	ASSERT_EQ(-IKETCP_REASON_LEN_LONG, parse9329(299, b, 6, &f));
	b[0] = 0;
	b[1] = 6 + 27;
	ASSERT_EQ(-IKETCP_REASON_LEN_SHORT, parse9329(65507, b, 6, &f));
}

TEST(rfc9329_prefixes)
{
	struct iketcp_framer fr;
	uint8_t p[8], msg[100];

	iketcp_framer_init(&fr, IKETCP_FRAMING_RFC9329, 65535);
	ASSERT_EQ(6, iketcp_frame_prefix(&fr, 300, p));
	ASSERT_EQ(0x01, p[0]);
	ASSERT_EQ(0x32, p[1]);
	ASSERT_EQ(0, p[2] | p[3] | p[4] | p[5]);
	ASSERT_EQ(2, iketcp_frame_esp_prefix(100, p));
	ASSERT_EQ(0, p[0]);
	ASSERT_EQ(102, p[1]);
	ASSERT_EQ(0, iketcp_frame_esp_prefix(7, p));
	ASSERT_EQ(0, iketcp_frame_esp_prefix(65534, p));
	ASSERT_EQ(2, iketcp_frame_esp_prefix(65533, p));
	/* the largest IKE message a record carries */
	mk_hdr(msg, 0x20, 37, 65529);
	ASSERT_NE(-IKETCP_REASON_LEN_LONG, iketcp_frame_check_msg(&fr, msg, 65529));
	mk_hdr(msg, 0x20, 37, 65530);
	ASSERT_EQ(-IKETCP_REASON_LEN_LONG, iketcp_frame_check_msg(&fr, msg, 65530));

	ASSERT_EQ(0, iketcp_frame_stream_prefix((const uint8_t *)"IKE", 3));
	ASSERT_EQ(1, iketcp_frame_stream_prefix((const uint8_t *)"IKETCPxx", 8));
	ASSERT_EQ(-IKETCP_REASON_BAD_PREFIX,
		  iketcp_frame_stream_prefix((const uint8_t *)"IKX", 3));
	ASSERT_EQ(-IKETCP_REASON_BAD_PREFIX,
		  iketcp_frame_stream_prefix((const uint8_t *)"iketcp", 6));
}

static int count_cb(const uint8_t *msg, size_t len, void *arg)
{
	size_t *n = arg;

	(void)msg;
	(void)len;
	(*n)++;
	return 0;
}

TEST(rfc9329_stream_byte_by_byte)
{
	static uint8_t buf[4096];
	uint8_t pad[] = { 0, 2 }, ka[] = { 0, 3, 0xff };
	uint8_t esp[20] = { 0, 20, 0, 0, 0, 9 };
	struct iketcp_stream s;
	size_t n = 0, got = 0;

	n += mk_rec_ike(buf + n, 100);
	memcpy(buf + n, pad, 2);
	n += 2;
	memcpy(buf + n, esp, 20);
	n += 20;
	memcpy(buf + n, ka, 3);
	n += 3;
	n += mk_rec_ike(buf + n, 28);
	ASSERT_EQ(0, iketcp_stream_init(&s, IKETCP_FRAMING_RFC9329, 65507));
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(0, iketcp_stream_feed(&s, buf + i, 1, count_cb, &got));
	ASSERT_EQ(2, got);
	ASSERT_EQ(2, s.msgs);
	ASSERT_EQ(1, s.esp);
	ASSERT_EQ(2, s.skipped);
	ASSERT_EQ(0, s.len);
	iketcp_stream_free(&s);
}

TEST_HARNESS_MAIN
