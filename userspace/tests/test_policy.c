// SPDX-License-Identifier: GPL-2.0
/*
 * test_policy.c - the transport decision of every policy, and responses
 * following their requests.
 */
#include "kselftest_harness.h"
#include "policy.h"

static enum transport dec(enum iketcp_policy pol, int major, int exch,
			  int flags)
{
	struct iketcp_ike_hdr h = { .major = major, .exchange = exch,
				    .flags = flags };
	struct decide_in in = { .policy = pol, .h = &h };

	return policy_decide(&in);
}

TEST(tcp_and_udp)
{
	EXPECT_EQ(T_TCP, dec(POL_TCP, 2, IKEV2_IKE_SA_INIT, 0x08));
	EXPECT_EQ(T_TCP, dec(POL_TCP, 1, IKEV1_QUICK_MODE, 0x01));
	EXPECT_EQ(T_UDP, dec(POL_UDP, 2, IKEV2_IKE_AUTH, 0x08));
}

TEST(auth)
{
	EXPECT_EQ(T_UDP, dec(POL_AUTH, 2, IKEV2_IKE_SA_INIT, 0x08));
	EXPECT_EQ(T_TCP, dec(POL_AUTH, 2, IKEV2_IKE_AUTH, 0x08));
	EXPECT_EQ(T_TCP, dec(POL_AUTH, 2, IKEV2_CREATE_CHILD_SA, 0x08));
	EXPECT_EQ(T_TCP, dec(POL_AUTH, 2, IKEV2_INFORMATIONAL, 0x00));
	/* IKEv1: Main Mode 1-4 (clear) over UDP, 5 on (E flag) over TCP */
	EXPECT_EQ(T_UDP, dec(POL_AUTH, 1, IKEV1_MAIN_MODE, 0x00));
	EXPECT_EQ(T_TCP, dec(POL_AUTH, 1, IKEV1_MAIN_MODE, 0x01));
	EXPECT_EQ(T_TCP, dec(POL_AUTH, 1, IKEV1_QUICK_MODE, 0x01));
}

TEST(init_auth)
{
	EXPECT_EQ(T_TCP, dec(POL_INIT_AUTH, 2, IKEV2_IKE_SA_INIT, 0x08));
	EXPECT_EQ(T_TCP, dec(POL_INIT_AUTH, 2, IKEV2_IKE_AUTH, 0x08));
	EXPECT_EQ(T_UDP, dec(POL_INIT_AUTH, 2, IKEV2_CREATE_CHILD_SA, 0x08));
	EXPECT_EQ(T_UDP, dec(POL_INIT_AUTH, 2, IKEV2_INFORMATIONAL, 0x08));
	EXPECT_EQ(T_TCP, dec(POL_INIT_AUTH, 1, IKEV1_MAIN_MODE, 0x01));
	EXPECT_EQ(T_UDP, dec(POL_INIT_AUTH, 1, IKEV1_QUICK_MODE, 0x01));
}

TEST(auto_by_path_mtu)
{
	struct iketcp_ike_hdr h = { .major = 2, .exchange = IKEV2_IKE_AUTH };
	struct decide_in in = { .policy = POL_AUTO, .h = &h, .pmtu = 1500 };

	in.wire_len = 1500;
	EXPECT_EQ(T_UDP, policy_decide(&in));
	in.wire_len = 1501;
	EXPECT_EQ(T_TCP, policy_decide(&in));
	in.pmtu = 0;	/* unknown: UDP */
	EXPECT_EQ(T_UDP, policy_decide(&in));
}

TEST(fallback)
{
	struct iketcp_ike_hdr h = { .major = 2, .exchange = IKEV2_IKE_AUTH };
	struct decide_in in = { .policy = POL_FALLBACK, .h = &h };

	EXPECT_EQ(T_UDP, policy_decide(&in));
	in.fallback_tcp = true;
	EXPECT_EQ(T_TCP, policy_decide(&in));
}

TEST(responses_follow_requests)
{
	struct iketcp_ike_hdr h = { .major = 2, .exchange = IKEV2_IKE_AUTH,
				    .flags = IKEV2_FLAG_RESPONSE };
	struct decide_in in = { .policy = POL_TCP, .h = &h };

	/* a request that came over UDP is answered over UDP, whatever the
	 * policy; one that came over TCP over TCP
	 */
	EXPECT_EQ(T_UDP, policy_decide(&in));
	in.v2_req_via_tcp = true;
	in.policy = POL_UDP;
	EXPECT_EQ(T_TCP, policy_decide(&in));

	h.major = 1;
	h.exchange = IKEV1_MAIN_MODE;
	h.flags = 0;
	in.policy = POL_TCP;
	in.v1_peer_started_udp = true;
	EXPECT_EQ(T_UDP, policy_decide(&in));	/* MM2/MM4 to a UDP MM1 */
	in.v1_peer_via_tcp = true;
	EXPECT_EQ(T_TCP, policy_decide(&in));	/* MM6 to a TCP MM5 */
}

TEST_HARNESS_MAIN
