// SPDX-License-Identifier: GPL-2.0
/*
 * test_config.c - iketcpd.conf parser: valid files, every error with its
 * file:line, longest-prefix lookup.
 */
#include <string.h>

#include "kselftest_harness.h"
#include <syslog.h>

#include "config.h"

static char err[4096];

TEST(valid_file)
{
	struct config c;
	const char *text =
		"# gateway\n"
		"listen 192.0.2.1\n"
		"listen :: 5000\n"
		"log-level debug\n"
		"retransmit-threshold 3\n"
		"fast-path off\n"
		"peer 198.51.100.0/24 tcp\n"
		"peer 198.51.100.7 auth port 4501   # one exception\n"
		"peer 2001:db8::/32 init+auth\n"
		"peer 0.0.0.0/0 udp\n";

	ASSERT_EQ(0, config_parse("t.conf", text, &c, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(4, c.nrules);
	ASSERT_EQ(2, c.nlistens);
	EXPECT_EQ(5000, c.listens[1].ep.port);
	EXPECT_EQ(LOG_DEBUG, c.log_level);
	EXPECT_EQ(3, c.retransmit_threshold);
	EXPECT_FALSE(c.fast_path);
	EXPECT_EQ(POL_AUTH, c.rules[1].policy);
	EXPECT_EQ(4501, c.rules[1].port);
	EXPECT_EQ(8, c.rules[1].line);
	config_free(&c);
}

TEST(rfc9329_framing)
{
	struct config c;
	const char *text =
		"peer 198.51.100.0/24 tcp framing rfc9329\n"
		"peer 198.51.100.7 tcp framing rfc9329 port 4501\n"
		"peer 198.51.100.8 auth port 443 framing rfc9329\n"
		"peer 203.0.113.0/24 tcp framing raw\n"
		"peer 2001:db8::/32 tcp\n";

	ASSERT_EQ(0, config_parse("t.conf", text, &c, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(5, c.nrules);
	EXPECT_EQ(IKETCP_FRAMING_RFC9329, c.rules[0].framing);
	EXPECT_EQ(4500, c.rules[0].port);	/* RFC 9329's port */
	EXPECT_EQ(4501, c.rules[1].port);
	EXPECT_EQ(443, c.rules[2].port);
	EXPECT_EQ(IKETCP_FRAMING_RFC9329, c.rules[2].framing);
	EXPECT_EQ(IKETCP_FRAMING_RAW, c.rules[3].framing);
	EXPECT_EQ(500, c.rules[3].port);
	EXPECT_EQ(IKETCP_FRAMING_RAW, c.rules[4].framing);
	/* default listeners: raw on 500 and, for these rules, RFC 9329 on 4500 */
	ASSERT_EQ(4, c.nlistens);
	EXPECT_EQ(500, c.listens[0].ep.port);
	EXPECT_EQ(IKETCP_FRAMING_RAW, c.listens[1].framing);
	EXPECT_EQ(4500, c.listens[2].ep.port);
	EXPECT_EQ(IKETCP_FRAMING_RFC9329, c.listens[3].framing);
	EXPECT_EQ(AF_INET6, c.listens[3].ep.family);
	config_free(&c);

	ASSERT_EQ(0, config_parse("t.conf",
				  "listen 192.0.2.1 framing rfc9329\n"
				  "listen 192.0.2.1 8443 framing rfc9329\n"
				  "listen 192.0.2.1 framing raw\n"
				  "peer 0.0.0.0/0 tcp framing rfc9329\n",
				  &c, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(3, c.nlistens);
	EXPECT_EQ(4500, c.listens[0].ep.port);
	EXPECT_EQ(IKETCP_FRAMING_RFC9329, c.listens[0].framing);
	EXPECT_EQ(8443, c.listens[1].ep.port);
	EXPECT_EQ(500, c.listens[2].ep.port);
	EXPECT_EQ(IKETCP_FRAMING_RAW, c.listens[2].framing);
	config_free(&c);

	/* a udp rule asks for no listener */
	ASSERT_EQ(0, config_parse("t.conf", "peer 0.0.0.0/0 udp framing rfc9329\n",
				  &c, err, sizeof(err)));
	EXPECT_EQ(2, c.nlistens);
	EXPECT_STREQ("rfc9329", framing_name(c.rules[0].framing));
	config_free(&c);
}

TEST(defaults)
{
	struct config c;

	ASSERT_EQ(0, config_parse("t.conf", "", &c, err, sizeof(err)));
	EXPECT_EQ(2, c.nlistens);	/* 0.0.0.0 and :: port 500 */
	EXPECT_EQ(500, c.listens[0].ep.port);
	EXPECT_EQ(2, c.retransmit_threshold);
	EXPECT_EQ(0, c.nrules);
	config_free(&c);
	ASSERT_EQ(0, config_parse("t.conf", "listen off\n", &c, err, sizeof(err)));
	EXPECT_EQ(0, c.nlistens);
	config_free(&c);
}

static void bad(struct __test_metadata *_metadata, const char *text,
		const char *want)
{
	struct config c;

	ASSERT_EQ(-EINVAL, config_parse("gw.conf", text, &c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, want)) TH_LOG("got: %s", err);
	config_free(&c);
}

TEST(errors_name_file_and_line)
{
	bad(_metadata, "peer 10.0.0.0/8 tcpp\n",
	    "gw.conf:1: unknown policy 'tcpp'");
	bad(_metadata, "\n\npeer 10.0.0.1/8 tcp\n",
	    "gw.conf:3: '10.0.0.1/8' has bits set beyond /8");
	bad(_metadata, "peer 10.0.0.0/33 tcp\n", "gw.conf:1: bad prefix length");
	bad(_metadata, "peer nothere tcp\n", "gw.conf:1: 'nothere' is not an IPv4");
	bad(_metadata, "peer 10.0.0.0/8 tcp port 0\n", "gw.conf:1: bad port '0'");
	bad(_metadata, "peer 10.0.0.0/8 tcp prt 50\n", "gw.conf:1: expected 'port");
	bad(_metadata, "peer 10.0.0.0/8 tcp framing rfc\n",
	    "gw.conf:1: unknown framing 'rfc' (expected raw or rfc9329)");
	bad(_metadata, "peer 10.0.0.0/8 tcp port 1 port 2\n",
	    "gw.conf:1: expected 'port");
	bad(_metadata, "peer 10.0.0.0/8 tcp framing\n", "gw.conf:1: usage: peer");
	bad(_metadata, "listen 0.0.0.0 4500 framing ike\n",
	    "gw.conf:1: unknown framing 'ike'");
	bad(_metadata, "listen 0.0.0.0 framing\n", "gw.conf:1: bad port 'framing'");
	bad(_metadata, "listen 0.0.0.0 4500 rfc9329\n", "gw.conf:1: usage: listen");
	bad(_metadata, "listen :: 4500\nlisten :: 4500 framing rfc9329\n",
	    "gw.conf:2: duplicate listener [::]:4500");
	bad(_metadata, "peer 10.0.0.0/8\n", "gw.conf:1: usage: peer");
	bad(_metadata, "peer 10.0.0.0/8 tcp\npeer 10.0.0.0/8 udp\n",
	    "gw.conf:2: duplicate peer 10.0.0.0/8 (first at line 1)");
	bad(_metadata, "listen 1.2.3\n", "gw.conf:1: '1.2.3' is not");
	bad(_metadata, "listen 1.2.3.4 99999\n", "gw.conf:1: bad port");
	bad(_metadata, "log-level loud\n", "gw.conf:1: usage: log-level");
	bad(_metadata, "retransmit-threshold 0\n", "gw.conf:1: usage: retransmit-threshold");
	bad(_metadata, "\nfast-path maybe\n", "gw.conf:2: usage: fast-path on|off");
	bad(_metadata, "frobnicate\n", "gw.conf:1: unknown directive 'frobnicate'");
	bad(_metadata, "listen off\nlisten 1.2.3.4\n", "'listen off' together");
	/* found by fuzz/fuzz_config: over-long words were cut, not refused */
	bad(_metadata, "peer 10.0.0.0/0000000000000000000000000000000000000000000080 tcp\n",
	    "gw.conf:1: '10.0.0.0/00000000000...' is too long");
}

TEST(all_errors_reported)
{
	struct config c;

	ASSERT_EQ(-EINVAL, config_parse("gw.conf", "a\nb\nc\n", &c, err,
					 sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "gw.conf:1:"));
	EXPECT_NE(NULL, strstr(err, "gw.conf:2:"));
	EXPECT_NE(NULL, strstr(err, "gw.conf:3:"));
	config_free(&c);
}

TEST(longest_prefix_wins)
{
	struct iketcp_ep a;
	struct config c;
	const struct cfg_rule *r;

	ASSERT_EQ(0, config_parse("t.conf",
				  "peer 0.0.0.0/0 tcp\npeer 10.0.0.0/8 auth\n"
				  "peer 10.1.2.3 udp\npeer ::/0 fallback\n",
				  &c, err, sizeof(err)));
	iketcp_ep_parse("10.1.2.3", 0, &a);
	r = config_lookup(&c, &a);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(POL_UDP, r->policy);
	iketcp_ep_parse("10.1.2.4", 0, &a);
	EXPECT_EQ(POL_AUTH, config_lookup(&c, &a)->policy);
	iketcp_ep_parse("192.0.2.1", 0, &a);
	EXPECT_EQ(POL_TCP, config_lookup(&c, &a)->policy);
	iketcp_ep_parse("2001:db8::1", 0, &a);
	EXPECT_EQ(POL_FALLBACK, config_lookup(&c, &a)->policy);
	config_free(&c);
	ASSERT_EQ(0, config_parse("t.conf", "peer 10.0.0.0/8 tcp\n", &c, err,
				  sizeof(err)));
	iketcp_ep_parse("2001:db8::1", 0, &a);
	EXPECT_EQ(NULL, config_lookup(&c, &a));
	config_free(&c);
}

TEST_HARNESS_MAIN
