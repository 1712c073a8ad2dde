// SPDX-License-Identifier: GPL-2.0
/*
 * test_log.c - the rate-limited logger (log.c, log_rl()): a burst per call
 * site, then one "N messages suppressed" line; a flood from a remote peer
 * cannot fill the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "log.h"

static long long fake_now;

static long long fake_clock(void)
{
	return fake_now;
}

static char *buf;
static size_t buflen;
static FILE *out;

static void start(void)
{
	fake_now = 1000000;
	log_set_clock(fake_clock);
	log_init(true, LOG_INFO);
	free(buf);
	buf = NULL;
	out = open_memstream(&buf, &buflen);
	log_set_output(out);
}

static int lines(const char *needle)
{
	int n = 0;

	fflush(out);
	for (const char *p = buf; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void site_a(int i)
{
	log_rl(LOG_NOTICE, "refused A %d", i);
}

static void site_b(int i)
{
	log_rl(LOG_NOTICE, "refused B %d", i);
}

static void site_debug(int i)
{
	log_rl(LOG_DEBUG, "debug D %d", i);
}

TEST(a_flood_gives_a_burst_then_a_summary)
{
	start();
	for (int i = 0; i < 1000; i++)
		site_a(i);
	EXPECT_EQ(LOG_RL_BURST, lines("]: refused A"));
	EXPECT_EQ(0, lines("suppressed"));
	/* a period later: one summary, then the message */
	fake_now += LOG_RL_PERIOD_MS;
	site_a(1000);
	EXPECT_EQ(1, lines("990 messages suppressed"));
	EXPECT_EQ(LOG_RL_BURST + 1, lines("]: refused A"));
	EXPECT_NE(NULL, strstr(buf, "refused A 1000"));
}

TEST(steady_rate_within_the_limit_is_not_limited)
{
	start();
	/* one every 500 ms = the refill rate: never suppressed */
	for (int i = 0; i < 100; i++) {
		site_a(i);
		fake_now += LOG_RL_PERIOD_MS / LOG_RL_BURST;
	}
	EXPECT_EQ(100, lines("]: refused A"));
	EXPECT_EQ(0, lines("suppressed"));
}

TEST(a_long_flood_gives_one_burst_and_summary_per_period)
{
	start();
	/* 10 s of 100 lines per second: 2 periods */
	for (int i = 0; i < 1000; i++) {
		site_a(i);
		fake_now += 10;
	}
	log_rl_flush();
	/* 10 + 10 lines, 2 summaries */
	EXPECT_EQ(2 * LOG_RL_BURST, lines("]: refused A"));
	EXPECT_EQ(2, lines("suppressed"));
	EXPECT_EQ(2, lines("490 messages suppressed"));
}

TEST(each_call_site_has_its_own_limit)
{
	start();
	for (int i = 0; i < 50; i++) {
		site_a(i);
		site_b(i);
	}
	EXPECT_EQ(LOG_RL_BURST, lines("]: refused A"));
	EXPECT_EQ(LOG_RL_BURST, lines("]: refused B"));
}

TEST(flush_gives_the_summary_once_the_flood_stopped)
{
	start();
	for (int i = 0; i < 25; i++)
		site_b(i);
	log_rl_flush();
	EXPECT_EQ(0, lines("suppressed"));
	fake_now += LOG_RL_PERIOD_MS - 1;
	log_rl_flush();
	EXPECT_EQ(0, lines("suppressed"));
	fake_now += 1;
	log_rl_flush();
	EXPECT_EQ(1, lines("15 messages suppressed"));
	/* once */
	fake_now += 10000;
	log_rl_flush();
	EXPECT_EQ(1, lines("suppressed"));
}

TEST(lines_below_the_level_use_no_tokens)
{
	start();
	for (int i = 0; i < 100; i++)
		site_debug(i);
	EXPECT_EQ(0, lines("]: debug D"));
	log_set_level(LOG_DEBUG);
	for (int i = 0; i < 100; i++)
		site_debug(i);
	EXPECT_EQ(LOG_RL_BURST, lines("]: debug D"));
	log_set_level(LOG_INFO);
}

TEST_HARNESS_MAIN
