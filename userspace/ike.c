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

/**
 * ike_v1_nat_detected() - RFC 3947 NAT detection on a received Main Mode
 *	message 3 or 4, as its receiver does it
 * @msg: the message
 * @len: its length
 * @sender: where its sender appears to be (address and port)
 *
 * The first NAT-D payload hashes the receiver's address; the others hash
 * the sender's own addresses: if none of them is HASH(CKY-I | CKY-R |
 * sender address | sender port), the sender is behind a NAT. The hash is
 * the negotiated one; its length tells which.
 *
 * Return: 1 if the sender is behind a NAT, 0 if not, -1 if the message
 * has no usable NAT-D payloads.
 */
int ike_v1_nat_detected(const uint8_t *msg, size_t len,
			const struct iketcp_ep *sender)
{
	struct v1_natd d = {};
	uint8_t in[16 + 16 + 2], out[EVP_MAX_MD_SIZE];
	size_t alen = sender->family == AF_INET6 ? 16 : 4;
	unsigned int olen;
	const EVP_MD *md;

	ike_walk(msg, len, v1_natd_cb, &d);
	if (d.n < 2)
		return -1;
	md = v1_natd_md(d.len[1]);
	if (!md)
		return -1;
	memcpy(in, msg, 16);	/* CKY-I | CKY-R */
	memcpy(in + 16, &sender->addr, alen);
	in[16 + alen] = sender->port >> 8;
	in[16 + alen + 1] = sender->port & 0xff;
	if (!EVP_Digest(in, 16 + alen + 2, out, &olen, md, NULL))
		return -1;
	for (int i = 1; i < d.n; i++)
		if (d.len[i] == olen && !memcmp(d.hash[i], out, olen))
			return 0;
	return 1;
}
