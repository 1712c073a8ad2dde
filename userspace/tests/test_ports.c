// SPDX-License-Identifier: GPL-2.0
/*
 * test_ports.c - the ports a message from a peer is delivered with
 * (ports.c): answers mirror the daemon's datagram, the set-up is on 500,
 * later messages follow the daemon's own view or NAT detection, unknown
 * SAs follow the kernel's NAT-T state. Daemon-agnostic: the cases of a
 * daemon that floats without a NAT (charon) and one that does not
 * (pluto) are both here.
 */
#include "kselftest_harness.h"
#include "ports.h"

static void ports(const struct port_view *v, uint16_t *l, uint16_t *r)
{
	*l = *r = 0;
	ports_for_delivery(v, l, r);
}

TEST(answers_mirror_the_daemons_datagram)
{
	struct port_view v = { .sa_known = true, .mirror = true,
			       .mirror_lport = 4500, .mirror_rport = 4501,
			       .nat = 0 };
	uint16_t l, r;

	ports(&v, &l, &r);
	EXPECT_EQ(4500, l);
	EXPECT_EQ(4501, r);
	/* even during the set-up (an IKE_SA_INIT response) */
	v.setup = true;
	v.mirror_lport = v.mirror_rport = 500;
	ports(&v, &l, &r);
	EXPECT_EQ(500, l);
	EXPECT_EQ(500, r);
}

TEST(setup_on_500)
{
	struct port_view v = { .sa_known = true, .setup = true, .nat = 1,
			       .post_setup_sent = true, .lport = 4500,
			       .rport = 4500 };
	uint16_t l, r;

	ports(&v, &l, &r);
	EXPECT_EQ(500, l);
	EXPECT_EQ(500, r);
	v.sa_known = false;	/* a new SA's first message */
	ports(&v, &l, &r);
	EXPECT_EQ(500, l);
}

/* pluto initiating to charon without a NAT: pluto stays on 500, so the
 * responder's side delivers IKE_AUTH on 500 (charon would move; nothing
 * here assumes either)
 */
TEST(request_after_setup_without_nat_on_500)
{
	struct port_view v = { .sa_known = true, .nat = 0 };
	uint16_t l, r;

	ports(&v, &l, &r);
	EXPECT_EQ(500, l);
	EXPECT_EQ(500, r);
	v.nat = -1;		/* no NAT detection payloads at all */
	ports(&v, &l, &r);
	EXPECT_EQ(500, l);
}

TEST(request_after_setup_with_nat_on_4500)
{
	struct port_view v = { .sa_known = true, .nat = 1 };
	uint16_t l, r;

	ports(&v, &l, &r);
	EXPECT_EQ(4500, l);
	EXPECT_EQ(4500, r);
}

/* once the daemon sent a datagram of the SA after the set-up, its view
 * wins (charon moved to 4500 without a NAT: it gets 4500)
 */
TEST(the_daemons_own_view_wins)
{
	struct port_view v = { .sa_known = true, .nat = 0,
			       .post_setup_sent = true, .lport = 4500,
			       .rport = 4500 };
	uint16_t l, r;

	ports(&v, &l, &r);
	EXPECT_EQ(4500, l);
	EXPECT_EQ(4500, r);
	v.lport = v.rport = 500;
	v.nat = 1;
	ports(&v, &l, &r);
	EXPECT_EQ(500, l);
}

/* an SA rekeyed inside another one: the daemon's ports with that peer */
TEST(unknown_sa_takes_the_daemons_ports_with_the_peer)
{
	struct port_view v = { .sa_known = false, .peer_ports_known = true,
			       .peer_lport = 4500, .peer_rport = 4500,
			       .observed_natt = 0 };
	uint16_t l, r;

	ports(&v, &l, &r);
	EXPECT_EQ(4500, l);
	EXPECT_EQ(4500, r);
	v.peer_lport = v.peer_rport = 500;
	v.observed_natt = 1;
	ports(&v, &l, &r);
	EXPECT_EQ(500, l);
}

TEST(unknown_sa_by_observation)
{
	struct port_view v = { .sa_known = false, .observed_natt = 1 };
	uint16_t l, r;

	ports(&v, &l, &r);
	EXPECT_EQ(4500, l);
	EXPECT_EQ(4500, r);
	v.observed_natt = 0;
	ports(&v, &l, &r);
	EXPECT_EQ(500, l);
	v.observed_natt = -1;
	ports(&v, &l, &r);
	EXPECT_EQ(500, l);
}

TEST_HARNESS_MAIN
