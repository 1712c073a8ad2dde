/* SPDX-License-Identifier: GPL-2.0 */
/*
 * policy.h - the per-message transport decision: over TCP or over UDP.
 * Pure functions of what iketcpd knows about the message, its IKE SA and
 * its peer, so that every policy is unit-tested on the host.
 */
#ifndef IKETCP_POLICY_H
#define IKETCP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ike.h"

enum transport {
	T_UDP,
	T_TCP,
};

/**
 * struct decide_in - what the decision looks at
 * @policy: the peer's enum iketcp_policy
 * @h: the message's IKE header
 * @wire_len: size of the datagram it would be (IP + UDP + marker + message)
 * @pmtu: MTU of the route to the peer (0: unknown)
 * @v2_req_via_tcp: IKEv2 response whose request arrived over TCP
 * @v1_peer_via_tcp: IKEv1: the peer's last message of this exchange
 *	(same message id and exchange type) arrived over TCP
 * @v1_peer_started_udp: IKEv1 phase 1 that the peer started over UDP
 * @fallback_tcp: "fallback" policy: the peer was moved to TCP
 */
struct decide_in {
	enum iketcp_policy policy;
	const struct iketcp_ike_hdr *h;
	size_t wire_len;
	uint32_t pmtu;
	bool v2_req_via_tcp;
	bool v1_peer_via_tcp;
	bool v1_peer_started_udp;
	bool fallback_tcp;
};

enum transport policy_decide(const struct decide_in *in);
const char *transport_name(enum transport t);

#endif /* IKETCP_POLICY_H */
