// SPDX-License-Identifier: GPL-2.0
/*
 * policy.c - which transport an IKE message from the local daemon takes.
 *
 * A response goes back on the transport its request came on: an IKEv2
 * response goes over TCP exactly when its request arrived over TCP (iketcpd
 * sees every request that does); an IKEv1 message follows the peer's last
 * message of the same exchange. Everything else follows the peer's policy.
 */
#include "policy.h"

static enum transport policy_by_rule(const struct decide_in *in)
{
	const struct iketcp_ike_hdr *h = in->h;

	switch (in->policy) {
	case POL_TCP:
		return T_TCP;
	case POL_AUTH:
		if (h->major == 2)
			return h->exchange == IKEV2_IKE_SA_INIT ? T_UDP : T_TCP;
		/* IKEv1: Main Mode messages 1-4 over UDP, 5 on over TCP */
		return (h->exchange == IKEV1_MAIN_MODE &&
			!(h->flags & IKEV1_FLAG_ENCRYPTION)) ? T_UDP : T_TCP;
	case POL_INIT_AUTH:
		if (h->major == 2)
			return (h->exchange == IKEV2_IKE_SA_INIT ||
				h->exchange == IKEV2_IKE_AUTH) ? T_TCP : T_UDP;
		return (h->exchange == IKEV1_MAIN_MODE ||
			h->exchange == IKEV1_AGGRESSIVE) ? T_TCP : T_UDP;
	case POL_AUTO:
		return in->pmtu && in->wire_len > in->pmtu ? T_TCP : T_UDP;
	case POL_FALLBACK:
		return in->fallback_tcp ? T_TCP : T_UDP;
	case POL_UDP:
	default:
		return T_UDP;
	}
}

/**
 * policy_decide() - the transport of one message from the local daemon
 * @in: what is known about it
 *
 * Return: T_TCP or T_UDP.
 */
enum transport policy_decide(const struct decide_in *in)
{
	const struct iketcp_ike_hdr *h = in->h;

	if (h->major == 2 && (h->flags & IKEV2_FLAG_RESPONSE))
		return in->v2_req_via_tcp ? T_TCP : T_UDP;
	if (h->major == 1) {
		if (in->v1_peer_via_tcp)
			return T_TCP;
		if (in->v1_peer_started_udp &&
		    (h->exchange == IKEV1_MAIN_MODE ||
		     h->exchange == IKEV1_AGGRESSIVE))
			return T_UDP;
	}
	return policy_by_rule(in);
}

/**
 * transport_name() - for logs
 * @t: the transport
 *
 * Return: "tcp" or "udp".
 */
const char *transport_name(enum transport t)
{
	return t == T_TCP ? "tcp" : "udp";
}
