/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ike.h - what iketcpd reads in IKE messages beyond the header (which the
 * framing core kernel/frame.c decodes): exchange classification, IKEv2
 * NAT detection notifies, IKEv1 NAT-D payloads.
 */
#ifndef IKETCP_IKE_H
#define IKETCP_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernel/frame.h"
#include "nl.h"

/* IKEv2 exchange types (RFC 7296 s3.1) */
#define IKEV2_IKE_SA_INIT	34
#define IKEV2_IKE_AUTH		35
#define IKEV2_CREATE_CHILD_SA	36
#define IKEV2_INFORMATIONAL	37
#define IKEV2_FLAG_INITIATOR	0x08
#define IKEV2_FLAG_RESPONSE	0x20
/* IKEv1 exchange types (RFC 2408 s3.1, RFC 2409) */
#define IKEV1_MAIN_MODE		2
#define IKEV1_AGGRESSIVE	4
#define IKEV1_INFORMATIONAL	5
#define IKEV1_QUICK_MODE	32
#define IKEV1_FLAG_ENCRYPTION	0x01

bool ike_is_v2_response(const struct iketcp_ike_hdr *h);
bool ike_is_phase1_start(const struct iketcp_ike_hdr *h);
bool ike_is_sa_setup(const struct iketcp_ike_hdr *h);
const char *ike_exchange_name(const struct iketcp_ike_hdr *h);
bool ike_v2_has_natd(const uint8_t *msg, size_t len);
int ike_v2_nat_detected(const uint8_t *msg, size_t len,
			const struct iketcp_ep *src,
			const struct iketcp_ep *dst);
int ike_v1_nat_detected(const uint8_t *msg, size_t len,
			const struct iketcp_ep *sender,
			const struct iketcp_ep *receiver);

#endif /* IKETCP_IKE_H */
