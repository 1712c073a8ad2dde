// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ike.c - libFuzzer target for iketcpd's IKE message inspection
 * (userspace/ike.c: ike_v2_has_natd(), ike_v2_nat_detected(),
 * ike_v1_nat_detected(), ike_is_*(), ike_exchange_name()) on arbitrary
 * messages.
 *
 * Input:
 *   byte 0      bit 0: sender is IPv6; bit 1: plant the sender's NAT-D
 *               hash; bits 2-4: in which NAT-D payload; bit 5: plant the
 *               receiver's in the first; bit 6: plant both IKEv2 NAT
 *               detection hashes (the first SOURCE, the last DESTINATION)
 *   bytes 1-16  sender address (IPv4: the first 4)
 *   bytes 17-18 sender port, BE
 *   rest        the IKE message
 * The receiver is the sender's address with the last byte inverted, on
 * the sender's port + 1.
 *
 * "Plant" writes HASH(CKY-I | CKY-R | address | port) into the chosen
 * payload when its length fits the hash the message negotiates, so that
 * the fuzzer reaches the "no NAT" paths that a random hash never would.
 *
 * Every function reads an exact-size heap copy of the message (ASan sees
 * any read past its end), at the full length and at shorter lengths, and
 * is checked against an independent reference model: the payload chain
 * (RFC 7296 s3.2 / RFC 2408 s3.1 generic payload headers) walked from
 * offset 28, stopping at next payload 0 or at the first payload that
 * does not fit; IKEv2: true iff a Notify (41) of type NAT_DETECTION_*_IP
 * (16388, 16389) comes before any SK payload (46); IKEv1 (RFC 3947): the
 * NAT-D payloads (20, 130; the first 8), -1 if fewer than 2 or the second
 * one's length is no known hash, else 0 iff one after the first equals
 * the sender's hash and the first equals the receiver's, 1 otherwise;
 * IKEv2 NAT detection: the NAT_DETECTION_SOURCE_IP (the first 8) and the
 * last NAT_DETECTION_DESTINATION_IP notifies whose data is exactly a
 * SHA-1 after the SPI, before any SK payload; -1 without both kinds, else
 * 0 iff a source hash is the sender's and the destination hash the
 * receiver's (SHA-1 of SPIi | SPIr | address | port). The ike_is_*() classifiers are checked for IKEv1
 * and IKEv2 headers against their documented meaning. abort() on any
 * mismatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "ike.h"

#define FUZZ_NAME "fuzz_ike"
#include "fuzz.h"

#define PREFIX	19

struct pl {
	uint8_t type;
	size_t body;		/* offset of the body in the message */
	size_t blen;
};

/* The payload chain: the payloads that fit, in order */
static size_t model_walk(const uint8_t *m, size_t len, struct pl *v,
			 size_t max)
{
	size_t off = 28, n = 0;
	uint8_t next;

	if (len < 28)
		return 0;
	next = m[16];
	while (next != 0 && n < max) {
		size_t plen;

		if (len < off + 4)
			break;
		plen = m[off + 2] * 256u + m[off + 3];
		if (plen < 4 || len - off < plen)
			break;
		v[n].type = next;
		v[n].body = off + 4;
		v[n].blen = plen - 4;
		n++;
		next = m[off];
		off += plen;
	}
	return n;
}

/* Room for every payload that fits in @len bytes */
static struct pl *pl_alloc(size_t len)
{
	struct pl *v = malloc((len / 4 + 1) * sizeof(*v));

	CHECK(v, "out of memory");
	return v;
}

static bool model_v2_natd(const uint8_t *m, size_t len)
{
	struct pl *v = pl_alloc(len);
	size_t n = model_walk(m, len, v, len / 4 + 1);
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *b = m + v[i].body;

		if (v[i].type == 46)
			break;
		if (v[i].type == 41 && v[i].blen >= 4 &&
		    (b[2] * 256u + b[3] == 16388 || b[2] * 256u + b[3] == 16389)) {
			found = true;
			break;
		}
	}
	free(v);
	return found;
}

static const EVP_MD *md_of(size_t len)
{
	return len == 16 ? EVP_md5() : len == 20 ? EVP_sha1() :
	       len == 32 ? EVP_sha256() : len == 48 ? EVP_sha384() :
	       len == 64 ? EVP_sha512() : NULL;
}

/* HASH(CKY-I | CKY-R | IP | port) of RFC 3947 s3.2 */
static unsigned int natd_hash(const EVP_MD *md, const uint8_t *m,
			      const struct iketcp_ep *ep, uint8_t *out)
{
	uint8_t in[34];
	size_t al = ep->family == AF_INET6 ? 16 : 4;
	unsigned int olen = 0;

	memcpy(in, m, 16);
	memcpy(in + 16, &ep->addr, al);
	in[16 + al] = ep->port / 256;
	in[17 + al] = ep->port % 256;
	CHECK(EVP_Digest(in, 18 + al, out, &olen, md, NULL), "EVP_Digest");
	return olen;
}

/* NAT-D payloads (the first @max) */
static size_t v1_natd(const uint8_t *m, size_t len, struct pl *d, size_t max)
{
	struct pl *v = pl_alloc(len);
	size_t n = model_walk(m, len, v, len / 4 + 1), k = 0;

	for (size_t i = 0; i < n && k < max; i++)
		if (v[i].type == 20 || v[i].type == 130)
			d[k++] = v[i];
	free(v);
	return k;
}

static int model_v1_nat(const uint8_t *m, size_t len,
			const struct iketcp_ep *sender,
			const struct iketcp_ep *receiver)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hl;
	struct pl d[8];
	size_t n = v1_natd(m, len, d, 8);
	const EVP_MD *md;

	if (n < 2)
		return -1;
	md = md_of(d[1].blen);
	if (!md)
		return -1;
	hl = natd_hash(md, m, sender, h);
	for (size_t i = 1; i < n; i++)
		if (d[i].blen == hl && !memcmp(m + d[i].body, h, hl)) {
			hl = natd_hash(md, m, receiver, h);
			return d[0].blen == hl && !memcmp(m + d[0].body, h, hl) ?
			       0 : 1;
		}
	return 1;
}

/* IKEv2 NAT detection notifies before SK: sources (the first 8) and the
 * last destination, data exactly one SHA-1 after the SPI
 */
static void v2_natd(const uint8_t *m, size_t len, size_t *src, size_t *nsrc,
		    size_t *dst)
{
	struct pl *v = pl_alloc(len);
	size_t n = model_walk(m, len, v, len / 4 + 1);

	*nsrc = 0;
	*dst = 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *b = m + v[i].body;
		unsigned int t;

		if (v[i].type == 46)
			break;
		if (v[i].type != 41 || v[i].blen < 4 ||
		    v[i].blen != 4u + b[1] + 20)
			continue;
		t = b[2] * 256u + b[3];
		if (t == 16388 && *nsrc < 8)
			src[(*nsrc)++] = v[i].body + 4 + b[1];
		else if (t == 16389)
			*dst = v[i].body + 4 + b[1];
	}
	free(v);
}

static int model_v2_nat(const uint8_t *m, size_t len,
			const struct iketcp_ep *sender,
			const struct iketcp_ep *receiver)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	size_t src[8], nsrc, dst;
	bool ok = false;

	v2_natd(m, len, src, &nsrc, &dst);
	if (!nsrc || !dst)
		return -1;
	natd_hash(EVP_sha1(), m, sender, h);
	for (size_t i = 0; i < nsrc; i++)
		if (!memcmp(m + src[i], h, 20))
			ok = true;
	natd_hash(EVP_sha1(), m, receiver, h);
	return ok && !memcmp(m + dst, h, 20) ? 0 : 1;
}

static void plant_v2(uint8_t *m, size_t len, const struct iketcp_ep *sender,
		     const struct iketcp_ep *receiver)
{
	size_t src[8], nsrc, dst;

	v2_natd(m, len, src, &nsrc, &dst);
	if (nsrc)
		natd_hash(EVP_sha1(), m, sender, m + src[0]);
	if (dst)
		natd_hash(EVP_sha1(), m, receiver, m + dst);
}

static void plant(uint8_t *m, size_t len, const struct iketcp_ep *sender,
		  unsigned int which)
{
	struct pl d[8];
	size_t n = v1_natd(m, len, d, 8);
	const EVP_MD *md;

	if (n < 2 || which >= n || !(md = md_of(d[1].blen)))
		return;
	if (d[which].blen == (size_t)EVP_MD_size(md))
		natd_hash(md, m, sender, m + d[which].body);
}

static void check_classify(const uint8_t *m, size_t len)
{
	static const struct {
		uint8_t major, exch;
		const char *name;
	} names[] = {
		{ 2, 34, "IKE_SA_INIT" }, { 2, 35, "IKE_AUTH" },
		{ 2, 36, "CREATE_CHILD_SA" }, { 2, 37, "INFORMATIONAL" },
		{ 1, 2, "ID_PROT" }, { 1, 4, "AGGRESSIVE" },
		{ 1, 5, "INFORMATIONAL_V1" }, { 1, 32, "QUICK_MODE" },
	};
	struct iketcp_ike_hdr h;
	const char *name, *want = "other";
	bool resp, start, setup;

	if (iketcp_ike_hdr_parse(m, len, &h))
		return;
	resp = ike_is_v2_response(&h);
	start = ike_is_phase1_start(&h);
	setup = ike_is_sa_setup(&h);
	name = ike_exchange_name(&h);
	CHECK(name && strlen(name) < 64, "exchange name");
	if (h.major != 1 && h.major != 2)
		return;		/* the framer refuses those */
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (names[i].major == h.major && names[i].exch == h.exchange)
			want = names[i].name;
	CHECK(!strcmp(name, want), "exchange %u.%u: '%s', want '%s'", h.major,
	      h.exchange, name, want);
	if (h.major == 2) {
		bool r = h.flags & IKEV2_FLAG_RESPONSE;

		CHECK(resp == r, "v2 response flag");
		CHECK(start == (h.spi_r == 0 && h.exchange == 34 && !r),
		      "v2 phase1 start");
		CHECK(setup == (h.exchange == 34), "v2 sa setup");
	} else {
		CHECK(!resp, "IKEv1 message called an IKEv2 response");
		CHECK(start == (h.spi_r == 0 && (h.exchange == 2 || h.exchange == 4)),
		      "v1 phase1 start");
		CHECK(setup == (h.exchange == 2 && !(h.flags & 1)),
		      "v1 sa setup");
	}
}

static void check_len(const uint8_t *msg, size_t len,
		      const struct iketcp_ep *sender,
		      const struct iketcp_ep *receiver)
{
	uint8_t *c = malloc(len ? len : 1);
	bool v2;
	int v1, want;

	CHECK(c, "out of memory");
	memcpy(c, msg, len);
	v2 = ike_v2_has_natd(c, len);
	CHECK(v2 == model_v2_natd(msg, len), "ike_v2_has_natd(len %zu) = %d",
	      len, v2);
	v1 = ike_v1_nat_detected(c, len, sender, receiver);
	want = model_v1_nat(msg, len, sender, receiver);
	CHECK(v1 == want, "ike_v1_nat_detected(len %zu) = %d, model %d", len,
	      v1, want);
	v1 = ike_v2_nat_detected(c, len, sender, receiver);
	want = model_v2_nat(msg, len, sender, receiver);
	CHECK(v1 == want, "ike_v2_nat_detected(len %zu) = %d, model %d", len,
	      v1, want);
	check_classify(c, len);
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iketcp_ep sender = {}, receiver;
	uint8_t *m;
	size_t len;

	if (size < PREFIX)
		return 0;
	sender.family = data[0] & 1 ? AF_INET6 : AF_INET;
	memcpy(&sender.addr, data + 1, sender.family == AF_INET6 ? 16 : 4);
	sender.port = data[17] * 256u + data[18];
	receiver = sender;
	((uint8_t *)&receiver.addr)[sender.family == AF_INET6 ? 15 : 3] ^= 0xff;
	receiver.port = sender.port + 1;
	len = size - PREFIX;
	m = malloc(len ? len : 1);
	CHECK(m, "out of memory");
	memcpy(m, data + PREFIX, len);
	if (data[0] & 2)
		plant(m, len, &sender, data[0] >> 2 & 7);
	if (data[0] & 0x20)
		plant(m, len, &receiver, 0);
	if (data[0] & 0x40)
		plant_v2(m, len, &sender, &receiver);

	check_len(m, len, &sender, &receiver);
	/* the length field's claim, when shorter than the buffer */
	if (len >= 28) {
		size_t claim = (size_t)m[24] << 24 | m[25] << 16 | m[26] << 8 | m[27];

		if (claim < len)
			check_len(m, claim, &sender, &receiver);
	}
	for (size_t l = 0; l < len && l <= 40; l += 4)
		check_len(m, l, &sender, &receiver);
	if (len)
		check_len(m, len - 1, &sender, &receiver);
	free(m);
	return 0;
}
