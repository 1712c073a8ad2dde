// SPDX-License-Identifier: GPL-2.0
/*
 * test_state.c - the state file a previous iketcpd left (state.c), read
 * back: lines are read whole whatever their length, a record whose values
 * do not fit its fields is a damaged line (skipped, no peer created),
 * version 1 files are still read, and what state_save() writes is read
 * back the same. (fuzz/fuzz_state.c found the first two.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "daemon.h"
#include "log.h"

/* iketcpd.c's clock (iketcpd.c has main()) */
long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

FIXTURE(state) {
	char dir[64];
	char path[96];
	struct daemon d;
};

FIXTURE_SETUP(state)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/test_state.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->path, sizeof(self->path), "%s/state", self->dir);
	memset(&self->d, 0, sizeof(self->d));
	self->d.cfg.max_sas = 100;
	self->d.cfg.max_half_open = 5;
	self->d.state_path = self->path;
	log_init(true, LOG_ERR);
}

FIXTURE_TEARDOWN(state)
{
	peer_close_all(&self->d);
	bridge_free(&self->d);
	unlink(self->path);
	rmdir(self->dir);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

static struct sa *find(struct daemon *d, const char *addr, uint64_t spi)
{
	struct iketcp_ep ep;

	if (iketcp_ep_parse(addr, 0, &ep))
		return NULL;
	return sa_find(d, &ep, spi);
}

TEST_F(state, values_that_do_not_fit_are_damaged_lines)
{
	struct sa *sa;

	write_file(self->path,
		   "iketcpd-state 2\n"
		   "sa 192.0.2.1 192.0.2.2 0000000000000001 0 500 500 33\n"
		   "sa 192.0.2.3 192.0.2.2 0000000000000002 258 500 500 33\n"
		   "sa 192.0.2.4 192.0.2.2 0000000000000003 3 500 500 33\n"
		   "sa 192.0.2.5 192.0.2.2 0000000000000004 2 70000 500 33\n"
		   "sa 192.0.2.6 192.0.2.2 0000000000000005 2 500 4294967295 33\n"
		   "sa 192.0.2.7 192.0.2.2 0000000000000006 2 65535 4500 33\n");
	EXPECT_EQ(1, state_load(&self->d));
	EXPECT_EQ(1, self->d.nsas);
	/* a damaged line creates no peer either */
	EXPECT_EQ(1, self->d.npeers);
	sa = find(&self->d, "192.0.2.7", 6);
	ASSERT_NE(NULL, sa);
	EXPECT_EQ(2, sa->major);
	EXPECT_EQ(65535, sa->lport);
	EXPECT_EQ(4500, sa->rport);
	EXPECT_TRUE(sa->authed);
}

TEST_F(state, version_1_values_that_do_not_fit)
{
	write_file(self->path,
		   "iketcpd-state 1\n"
		   "sa 192.0.2.1 0000000000000001 257 500 500 1\n"
		   "sa 192.0.2.1 0000000000000002 1 500 65536 1\n"
		   "sa 192.0.2.1 0000000000000003 1 4500 4500 1\n");
	EXPECT_EQ(1, state_load(&self->d));
	ASSERT_NE(NULL, find(&self->d, "192.0.2.1", 3));
	EXPECT_EQ(1, find(&self->d, "192.0.2.1", 3)->major);
	EXPECT_EQ(4500, find(&self->d, "192.0.2.1", 3)->lport);
}

TEST_F(state, a_long_line_is_one_line)
{
	char *text = malloc(4096), *p;
	int n;

	ASSERT_NE(NULL, text);
	/* a fgets() of 512 bytes read its last 40 bytes as a record */
	p = text + sprintf(text, "iketcpd-state 2\n");
	n = sprintf(p, "sa 192.0.2.1 192.0.2.2 01 2 500 500 33 ");
	memset(p + n, 'x', 511 - n);
	p += 511;
	p += sprintf(p, "sa 192.0.2.9 192.0.2.2 0102 2 500 500 33\n");
	/* a longer valid record after a very long line is read */
	memset(p, 'y', 2000);
	p += 2000;
	sprintf(p, "\nsa 192.0.2.8 192.0.2.2 0103 2 500 500 33\n");
	write_file(self->path, text);
	free(text);

	EXPECT_EQ(2, state_load(&self->d));
	EXPECT_NE(NULL, find(&self->d, "192.0.2.1", 1));
	EXPECT_EQ(NULL, find(&self->d, "192.0.2.9", 0x102));
	EXPECT_NE(NULL, find(&self->d, "192.0.2.8", 0x103));
	EXPECT_EQ(2, self->d.npeers);
}

TEST_F(state, saved_state_reads_back_the_same)
{
	struct daemon d2 = { .cfg = self->d.cfg, .state_path = self->path };
	struct peer *p;
	struct sa *sa;
	struct iketcp_ep r, l;

	ASSERT_EQ(0, iketcp_ep_parse("2001:db8::1", 0, &r));
	ASSERT_EQ(0, iketcp_ep_parse("2001:db8::2", 0, &l));
	p = peer_get(&self->d, &r, &l);
	ASSERT_NE(NULL, p);
	p->ever_up = p->originator = true;
	sa = sa_create(&self->d, p, 0xfedcba9876543210ULL, 1, SA_ACTIVE,
		       now_ms());
	ASSERT_NE(NULL, sa);
	sa->lport = 4500;
	sa->rport = 65535;
	sa->ports_known = true;
	sa->nat = 1;
	sa->v1_seen_start = true;
	sa_set_authed(&self->d, sa, now_ms());
	ASSERT_EQ(0, state_save(&self->d));

	ASSERT_EQ(1, state_load(&d2));
	ASSERT_EQ(1, d2.npeers);
	p = peer_find(&d2, &r, &l);
	ASSERT_NE(NULL, p);
	EXPECT_TRUE(p->ever_up);
	EXPECT_TRUE(p->originator);
	sa = sa_find(&d2, &r, 0xfedcba9876543210ULL);
	ASSERT_NE(NULL, sa);
	EXPECT_EQ(p, sa->p);
	EXPECT_EQ(1, sa->major);
	EXPECT_EQ(4500, sa->lport);
	EXPECT_EQ(65535, sa->rport);
	EXPECT_TRUE(sa->ports_known);
	EXPECT_EQ(1, sa->nat);
	EXPECT_TRUE(sa->v1_seen_start);
	EXPECT_TRUE(sa->authed);
	peer_close_all(&d2);
	bridge_free(&d2);
}

TEST_HARNESS_MAIN
