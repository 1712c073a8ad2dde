// SPDX-License-Identifier: GPL-2.0
/*
 * test_loop.c - the event loop (loop.c): an event of a batch that removes
 * another loop item (and frees its object) while that item's own event is
 * still pending in the same batch. The three orders the daemon has: a
 * connect timeout firing before the socket's readiness, SIGHUP replacing
 * the listeners while accepts are pending, the module watchdog closing
 * the netlink socket with its notification pending. Run it under
 * AddressSanitizer too (make SAN=1 test).
 */
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "loop.h"

#define MAGIC 0x1ce7c9u

struct obj {
	unsigned int magic;
	int fd;
};

/* what the event function saw */
static struct {
	int order[16];
	int n;
	int victim_calls;
	int bad_magic;
	struct obj *victim;	/* connect case: the connection */
	int victim_fd;		/* the descriptor removed first */
	int victim_fd2;
	int freed_kind;		/* the kind whose handler removes the victim */
	int new_fds[2];		/* listeners opened by the "reload" */
} ev;

static struct daemon *D = (struct daemon *)&ev;

static int ready_eventfd(void)
{
	int fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);

	return fd;
}

/* a TCP listener on 127.0.0.1 with a connection waiting to be accepted */
static int ready_listener(int *client)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (void *)&sin, sl) || listen(fd, 8) ||
	    getsockname(fd, (void *)&sin, &sl))
		return -1;
	*client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*client < 0 || connect(*client, (void *)&sin, sl))
		return -1;
	return fd;
}

/* a netlink socket with an answer waiting (an RTM_GETLINK dump) */
static int ready_netlink(void)
{
	struct {
		struct nlmsghdr nlh;
		struct ifinfomsg ifm;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.ifm = { .ifi_family = AF_UNSPEC },
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			NETLINK_ROUTE);

	if (fd < 0 || send(fd, &req, sizeof(req), 0) != sizeof(req))
		return -1;
	usleep(10000);
	return fd;
}

static void remove_victims(void)
{
	loop_del(D, ev.victim_fd);
	close(ev.victim_fd);
	if (ev.victim_fd2 >= 0) {
		loop_del(D, ev.victim_fd2);
		close(ev.victim_fd2);
	}
	if (ev.victim) {
		ev.victim->magic = 0;
		loop_defer_free(D, ev.victim);
	}
}

static void on_ev(struct daemon *d, enum ev_kind kind, int fd, void *ptr,
		  uint32_t events)
{
	(void)d;
	(void)events;
	if (ev.n < 16)
		ev.order[ev.n++] = kind;
	if (kind == EV_SIGNAL || kind == EV_TIMER) {
		uint64_t v;

		if (read(fd, &v, sizeof(v)) != sizeof(v))
			ev.bad_magic++;
	}
	if ((int)kind == ev.freed_kind) {
		remove_victims();
		if (kind == EV_SIGNAL) {
			/* the reload opens new listeners (same numbers, likely) */
			int c0, c1;

			ev.new_fds[0] = ready_listener(&c0);
			ev.new_fds[1] = ready_listener(&c1);
			loop_add(D, ev.new_fds[0], EPOLLIN, EV_LISTEN, NULL);
			loop_add(D, ev.new_fds[1], EPOLLIN, EV_LISTEN, NULL);
		}
		return;
	}
	ev.victim_calls++;
	if (kind == EV_CONNECT) {
		struct obj *o = ptr;

		if (o->magic != MAGIC || o->fd != fd)
			ev.bad_magic++;
	}
}

static void reset(int freed_kind)
{
	memset(&ev, 0, sizeof(ev));
	ev.victim_fd = ev.victim_fd2 = -1;
	ev.freed_kind = freed_kind;
}

TEST(connect_timeout_before_readiness)
{
	int sp[2], tfd;

	ASSERT_EQ(0, loop_init());
	reset(EV_TIMER);
	tfd = ready_eventfd();
	ASSERT_GE(tfd, 0);
	/* a connecting socket that is writable: its readiness is pending */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp));
	ev.victim = malloc(sizeof(*ev.victim));
	ASSERT_NE(NULL, ev.victim);
	*ev.victim = (struct obj){ .magic = MAGIC, .fd = sp[0] };
	ev.victim_fd = sp[0];
	/* (already ready when added: the batch has them in this order) */
	ASSERT_EQ(0, loop_add(D, tfd, EPOLLIN, EV_TIMER, NULL));
	ASSERT_EQ(0, loop_add(D, sp[0], EPOLLOUT, EV_CONNECT, ev.victim));
	ASSERT_LE(1, loop_run_once(D, 1000, on_ev));
	ASSERT_EQ(EV_TIMER, ev.order[0]);
	/* the timeout freed the connection: its readiness is not handled */
	EXPECT_EQ(0, ev.victim_calls);
	EXPECT_EQ(0, ev.bad_magic);
	EXPECT_EQ(1, ev.n);
	close(sp[1]);
	close(tfd);
	loop_exit();
}

TEST(reload_replaces_listeners_with_accepts_pending)
{
	int sfd, l1, l2, c1, c2;

	ASSERT_EQ(0, loop_init());
	reset(EV_SIGNAL);
	sfd = ready_eventfd();
	l1 = ready_listener(&c1);
	l2 = ready_listener(&c2);
	ASSERT_GE(sfd, 0);
	ASSERT_GE(l1, 0);
	ASSERT_GE(l2, 0);
	ev.victim_fd = l1;
	ev.victim_fd2 = l2;
	ASSERT_EQ(0, loop_add(D, sfd, EPOLLIN, EV_SIGNAL, NULL));
	ASSERT_EQ(0, loop_add(D, l1, EPOLLIN, EV_LISTEN, NULL));
	ASSERT_EQ(0, loop_add(D, l2, EPOLLIN, EV_LISTEN, NULL));
	ASSERT_LE(1, loop_run_once(D, 1000, on_ev));
	ASSERT_EQ(EV_SIGNAL, ev.order[0]);
	/* the old listeners' accepts of this batch are not handled ... */
	EXPECT_EQ(0, ev.victim_calls);
	/* ... and the new listeners are watched: their accepts come next */
	ev.n = 0;
	ev.freed_kind = -1;
	EXPECT_EQ(2, loop_run_once(D, 1000, on_ev));
	EXPECT_EQ(2, ev.victim_calls);
	close(c1);
	close(c2);
	close(sfd);
	loop_exit();
}

TEST(watchdog_closes_netlink_with_event_pending)
{
	int tfd, nfd;

	ASSERT_EQ(0, loop_init());
	reset(EV_TIMER);
	tfd = ready_eventfd();
	nfd = ready_netlink();
	ASSERT_GE(tfd, 0);
	ASSERT_GE(nfd, 0);
	ev.victim_fd = nfd;
	ASSERT_EQ(0, loop_add(D, tfd, EPOLLIN, EV_TIMER, NULL));
	ASSERT_EQ(0, loop_add(D, nfd, EPOLLIN, EV_NL, NULL));
	ASSERT_LE(1, loop_run_once(D, 1000, on_ev));
	ASSERT_EQ(EV_TIMER, ev.order[0]);
	EXPECT_EQ(0, ev.victim_calls);
	EXPECT_EQ(1, ev.n);
	close(tfd);
	loop_exit();
}

/* accept() without descriptors: the listener rests, then comes back */
static int pause_calls;

static void on_pause(struct daemon *d, enum ev_kind kind, int fd, void *ptr,
		     uint32_t events)
{
	(void)d;
	(void)kind;
	(void)ptr;
	(void)events;
	pause_calls++;
	/* rest the other one too: its event of this batch is skipped */
	loop_pause(D, fd, 300);
	loop_pause(D, ev.victim_fd == fd ? ev.victim_fd2 : ev.victim_fd, 300);
}

TEST(pause_rests_a_listener)
{
	int l1, l2, c1, c2;
	struct timespec t0, t1;
	long long ms;
	int n = 0;

	ASSERT_EQ(0, loop_init());
	reset(-1);
	l1 = ready_listener(&c1);
	l2 = ready_listener(&c2);
	ASSERT_GE(l1, 0);
	ASSERT_GE(l2, 0);
	ev.victim_fd = l1;
	ev.victim_fd2 = l2;
	ASSERT_EQ(0, loop_add(D, l1, EPOLLIN, EV_LISTEN, NULL));
	ASSERT_EQ(0, loop_add(D, l2, EPOLLIN, EV_LISTEN, NULL));
	ASSERT_EQ(1, loop_run_once(D, 1000, on_pause));
	EXPECT_EQ(1, pause_calls);
	EXPECT_TRUE(loop_paused(l1));
	EXPECT_TRUE(loop_paused(l2));
	/* nothing while paused (the connections still wait) */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(0, loop_run_once(D, 100, on_pause));
	/* then both are back, after about 300 ms */
	while (n == 0) {
		n = loop_run_once(D, 2000, on_pause);
		ASSERT_GE(n, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		ASSERT_LT(ms, 2000);
	}
	EXPECT_GE(ms, 150);
	EXPECT_EQ(2, pause_calls);
	loop_del(D, l1);
	loop_del(D, l2);
	close(l1);
	close(l2);
	close(c1);
	close(c2);
	loop_exit();
}

TEST_HARNESS_MAIN
