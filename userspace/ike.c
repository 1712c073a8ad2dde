// SPDX-License-Identifier: GPL-2.0
/*
 * ike.c - IKE message inspection for iketcpd. Only unencrypted payloads
 * are read (IKE_SA_INIT, IKEv1 Main Mode messages 1-4); everything is
 * bounds-checked: the bytes come from the network.
 */
#include <string.h>

#include <openssl/evp.h>

#include "ike.h"

#define IKEV2_PL_NOTIFY		41
#define IKEV2_PL_SK		46
#define IKEV2_NAT_DETECTION_SOURCE_IP		16388
#define IKEV2_NAT_DETECTION_DESTINATION_IP	16389
#define IKEV1_PL_NATD		20
#define IKEV1_PL_NATD_DRAFT	130

/**
 * ike_is_v2_response() - an IKEv2 response (the R flag)
 * @h: the header
 *
 * Return: true for an IKEv2 response.
 */
bool ike_is_v2_response(const struct iketcp_ike_hdr *h)
{
	return h->major == 2 && (h->flags & IKEV2_FLAG_RESPONSE);
}

/**
 * ike_is_phase1_start() - the first message of a new IKE SA (SPIr zero)
 * @h: the header
 *
 * Return: true for IKE_SA_INIT requests and IKEv1 MM/AM message 1.
 */
bool ike_is_phase1_start(const struct iketcp_ike_hdr *h)
{
	if (h->spi_r)
		return false;
	if (h->major == 2)
		return h->exchange == IKEV2_IKE_SA_INIT &&
		       !(h->flags & IKEV2_FLAG_RESPONSE);
	return h->major == 1 && (h->exchange == IKEV1_MAIN_MODE ||
				 h->exchange == IKEV1_AGGRESSIVE);
}

/**
 * ike_is_sa_setup() - part of the unencrypted set-up before NAT-T floats
 * @h: the header
 *
 * Return: true for IKE_SA_INIT and IKEv1 Main Mode messages 1-4.
 */
bool ike_is_sa_setup(const struct iketcp_ike_hdr *h)
{
	if (h->major == 2)
		return h->exchange == IKEV2_IKE_SA_INIT;
	return h->exchange == IKEV1_MAIN_MODE &&
	       !(h->flags & IKEV1_FLAG_ENCRYPTION);
}

/**
 * ike_exchange_name() - for logs
 * @h: the header
 *
 * Return: a static string.
 */
const char *ike_exchange_name(const struct iketcp_ike_hdr *h)
{
	if (h->major == 2) {
		switch (h->exchange) {
		case IKEV2_IKE_SA_INIT: return "IKE_SA_INIT";
		case IKEV2_IKE_AUTH: return "IKE_AUTH";
		case IKEV2_CREATE_CHILD_SA: return "CREATE_CHILD_SA";
		case IKEV2_INFORMATIONAL: return "INFORMATIONAL";
		}
	} else {
		switch (h->exchange) {
		case IKEV1_MAIN_MODE: return "ID_PROT";
		case IKEV1_AGGRESSIVE: return "AGGRESSIVE";
		case IKEV1_INFORMATIONAL: return "INFORMATIONAL_V1";
		case IKEV1_QUICK_MODE: return "QUICK_MODE";
		}
	}
	return "other";
}

/* Walk the payload chain; @cb returns nonzero to stop. */
static int ike_walk(const uint8_t *msg, size_t len,
		    int (*cb)(uint8_t type, const uint8_t *body, size_t blen,
			      void *arg), void *arg)
{
	size_t off = IKETCP_IKE_HDR_LEN;
	uint8_t type;
	int ret;

	if (len < IKETCP_IKE_HDR_LEN)
		return 0;
	type = msg[IKETCP_IKE_OFF_NEXT];
	while (type && off + 4 <= len) {
		size_t plen = (size_t)msg[off + 2] << 8 | msg[off + 3];

		if (plen < 4 || off + plen > len)
			return 0;
		ret = cb(type, msg + off + 4, plen - 4, arg);
		if (ret)
			return ret;
		type = msg[off];
		off += plen;
	}
	return 0;
}

static int v2_natd_cb(uint8_t type, const uint8_t *b, size_t n, void *arg)
{
	unsigned int nt;

	(void)arg;
	if (type == IKEV2_PL_SK)
		return -1;
	if (type != IKEV2_PL_NOTIFY || n < 4)
		return 0;
	nt = (unsigned int)b[2] << 8 | b[3];
	return nt == IKEV2_NAT_DETECTION_SOURCE_IP ||
	       nt == IKEV2_NAT_DETECTION_DESTINATION_IP;
}

/**
 * ike_v2_has_natd() - does an IKEv2 message carry NAT detection notifies?
 * @msg: the message
 * @len: its length
 *
 * In IKE_SA_INIT they say that both ends support NAT traversal, so that
 * the initiator may (and charon does) move to UDP 4500 afterwards.
 *
 * Return: true if it does.
 */
bool ike_v2_has_natd(const uint8_t *msg, size_t len)
{
	return ike_walk(msg, len, v2_natd_cb, NULL) == 1;
}

struct v1_natd {
	const uint8_t *hash[8];
	size_t len[8];
	int n;
};

static int v1_natd_cb(uint8_t type, const uint8_t *b, size_t n, void *arg)
{
	struct v1_natd *d = arg;

	if ((type == IKEV1_PL_NATD || type == IKEV1_PL_NATD_DRAFT) && d->n < 8) {
		d->hash[d->n] = b;
		d->len[d->n++] = n;
	}
	return 0;
}

static const EVP_MD *v1_natd_md(size_t len)
{
	switch (len) {
	case 16: return EVP_md5();
	case 20: return EVP_sha1();
	case 32: return EVP_sha256();
	case 48: return EVP_sha384();
	case 64: return EVP_sha512();
	}
	return NULL;
}

static int ike_natd_hash(const EVP_MD *md, const uint8_t *spis,
			 const struct iketcp_ep *ep, uint8_t *out,
			 unsigned int *olen)
{
	uint8_t in[16 + 16 + 2];
	size_t alen = ep->family == AF_INET6 ? 16 : 4;

	memcpy(in, spis, 16);	/* SPIi | SPIr (IKEv1: CKY-I | CKY-R) */
	memcpy(in + 16, &ep->addr, alen);
	in[16 + alen] = ep->port >> 8;
	in[16 + alen + 1] = ep->port & 0xff;
	return EVP_Digest(in, 16 + alen + 2, out, olen, md, NULL) ? 0 : -1;
}

struct v2_natd {
	const uint8_t *src[8];
	int nsrc;
	const uint8_t *dst;
};

static int v2_natd_collect(uint8_t type, const uint8_t *b, size_t n, void *arg)
{
	struct v2_natd *d = arg;
	unsigned int nt, spi_size;

	if (type == IKEV2_PL_SK)
		return -1;
	if (type != IKEV2_PL_NOTIFY || n < 4)
		return 0;
	spi_size = b[1];
	nt = (unsigned int)b[2] << 8 | b[3];
	/* the data: SHA-1 (20 bytes) after the SPI */
	if (n != 4 + spi_size + 20)
		return 0;
	if (nt == IKEV2_NAT_DETECTION_SOURCE_IP && d->nsrc < 8)
		d->src[d->nsrc++] = b + 4 + spi_size;
	else if (nt == IKEV2_NAT_DETECTION_DESTINATION_IP)
		d->dst = b + 4 + spi_size;
	return 0;
}

/**
 * ike_v2_nat_detected() - RFC 7296 s2.23 NAT detection on a received
 *	IKE_SA_INIT message, as its receiver does it
 * @msg: the message
 * @len: its length
 * @src: where it appears to come from (the sender's address and port as
 *	the receiver sees them)
 * @dst: where it arrives (the receiver's own address and port)
 *
 * NAT_DETECTION_SOURCE_IP hashes (SHA-1 of SPIi | SPIr | IP | port) name
 * the sender's own addresses; none matching @src puts the sender behind a
 * NAT. NAT_DETECTION_DESTINATION_IP hashes the address the sender sent to;
 * not matching @dst puts the receiver behind one.
 *
 * Return: 1 if a NAT is detected, 0 if not, -1 if the message carries no
 * (usable) NAT detection notifies (no NAT traversal).
 */
int ike_v2_nat_detected(const uint8_t *msg, size_t len,
			const struct iketcp_ep *src,
			const struct iketcp_ep *dst)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	struct v2_natd d = {};
	unsigned int hl;
	bool src_ok = false;

	ike_walk(msg, len, v2_natd_collect, &d);
	if (!d.nsrc || !d.dst)
		return -1;
	if (ike_natd_hash(EVP_sha1(), msg, src, h, &hl))
		return -1;
	for (int i = 0; i < d.nsrc; i++)
		if (!memcmp(d.src[i], h, 20))
			src_ok = true;
	if (ike_natd_hash(EVP_sha1(), msg, dst, h, &hl))
		return -1;
	return !src_ok || memcmp(d.dst, h, 20) ? 1 : 0;
}

/**
 * ike_v1_nat_detected() - RFC 3947 NAT detection on a received Main Mode
 *	message 3 or 4, as its receiver does it
 * @msg: the message
 * @len: its length
 * @sender: where its sender appears to be (address and port)
 * @receiver: the receiver's own address and port
 *
 * The first NAT-D payload hashes the receiver's address as the sender sees
 * it: if it is not HASH(CKY-I | CKY-R | receiver address | port), the
 * receiver is behind a NAT. The others hash the sender's own addresses: if
 * none of them is the hash of @sender, the sender is behind a NAT. The hash
 * is the negotiated one; its length tells which.
 *
 * Return: 1 if a NAT is detected, 0 if not, -1 if the message has no
 * usable NAT-D payloads.
 */
int ike_v1_nat_detected(const uint8_t *msg, size_t len,
			const struct iketcp_ep *sender,
			const struct iketcp_ep *receiver)
{
	struct v1_natd d = {};
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned int olen;
	const EVP_MD *md;
	bool sender_ok = false;

	ike_walk(msg, len, v1_natd_cb, &d);
	if (d.n < 2)
		return -1;
	md = v1_natd_md(d.len[1]);
	if (!md)
		return -1;
	if (ike_natd_hash(md, msg, sender, out, &olen))
		return -1;
	for (int i = 1; i < d.n; i++)
		if (d.len[i] == olen && !memcmp(d.hash[i], out, olen))
			sender_ok = true;
	if (!sender_ok)
		return 1;
	if (ike_natd_hash(md, msg, receiver, out, &olen))
		return -1;
	return d.len[0] == olen && !memcmp(d.hash[0], out, olen) ? 0 : 1;
}
