// SPDX-License-Identifier: GPL-2.0
/*
 * loop.c - iketcpd's event loop: the epoll registration of every watched
 * file descriptor, one loop item per descriptor, and the dispatch of a
 * batch of events.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

/*
 * An item removed while a batch is being handled may still have an event
 * later in the same batch (epoll already returned it): removing marks it
 * dead, and it is freed only after the batch; a dead item's events are
 * skipped. Objects the events refer to (a connection) are freed the same
 * way: loop_defer_free().
 */
struct loop_item {
	enum ev_kind kind;
	int fd;
	void *ptr;
	uint32_t events;
	bool dead;
	long long paused_until;
	struct loop_item *dead_next;
};

static int epfd = -1;
static struct loop_item **items;
static int nitems;
static struct loop_item *dead_items;
static void **deferred;
static int ndeferred, deferred_cap;
static int npaused;

static long long loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* after the batch: free what was removed during it */
static void loop_reap(void)
{
	while (dead_items) {
		struct loop_item *it = dead_items;

		dead_items = it->dead_next;
		free(it);
	}
	for (int i = 0; i < ndeferred; i++)
		free(deferred[i]);
	ndeferred = 0;
}

static void item_kill(struct loop_item *it)
{
	if (!it->paused_until)
		epoll_ctl(epfd, EPOLL_CTL_DEL, it->fd, NULL);
	else
		npaused--;
	it->dead = true;
	it->dead_next = dead_items;
	dead_items = it;
	items[it->fd] = NULL;
}

/**
 * loop_init() - create the epoll instance
 *
 * Return: 0 or -1 (errno set).
 */
int loop_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? -1 : 0;
}

/**
 * loop_exit() - forget every item, close the epoll instance
 */
void loop_exit(void)
{
	for (int i = 0; i < nitems; i++)
		free(items[i]);
	free(items);
	items = NULL;
	nitems = 0;
	npaused = 0;
	loop_reap();
	free(deferred);
	deferred = NULL;
	deferred_cap = 0;
	if (epfd >= 0)
		close(epfd);
	epfd = -1;
}

/**
 * loop_add() - watch a file descriptor
 * @d: daemon (handed to the event function)
 * @fd: the descriptor
 * @events: EPOLLIN / EPOLLOUT
 * @kind: what it is
 * @ptr: its object
 *
 * Return: 0 or -1.
 */
int loop_add(struct daemon *d, int fd, uint32_t events, enum ev_kind kind,
	     void *ptr)
{
	struct epoll_event e = { .events = events };
	struct loop_item *it;

	(void)d;
	if (fd < 0)
		return -1;
	if (fd >= nitems) {
		int n = fd + 64;
		struct loop_item **ni = realloc(items, n * sizeof(*items));

		if (!ni)
			return -1;
		memset(ni + nitems, 0, (n - nitems) * sizeof(*items));
		items = ni;
		nitems = n;
	}
	/* (a descriptor closed without loop_del(), its number reused) */
	if (items[fd])
		item_kill(items[fd]);
	it = malloc(sizeof(*it));
	if (!it)
		return -1;
	*it = (struct loop_item){ .kind = kind, .fd = fd, .ptr = ptr,
				  .events = events };
	e.data.ptr = it;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e)) {
		free(it);
		return -1;
	}
	items[fd] = it;
	return 0;
}

/**
 * loop_mod() - change the events watched on a descriptor
 * @d: daemon
 * @fd: the descriptor
 * @events: EPOLLIN / EPOLLOUT
 *
 * Return: 0 or -1.
 */
int loop_mod(struct daemon *d, int fd, uint32_t events)
{
	struct epoll_event e = { .events = events };
	struct loop_item *it;

	(void)d;
	if (fd < 0 || fd >= nitems || !items[fd])
		return -1;
	it = items[fd];
	it->events = events;
	if (it->paused_until)
		return 0;
	e.data.ptr = it;
	return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &e);
}

/**
 * loop_del() - stop watching a file descriptor (before closing it)
 * @d: daemon
 * @fd: the descriptor
 *
 * Its events still pending in the batch being handled are skipped.
 */
void loop_del(struct daemon *d, int fd)
{
	(void)d;
	if (fd < 0 || fd >= nitems || !items[fd])
		return;
	item_kill(items[fd]);
}

/**
 * loop_pause() - stop watching a descriptor for a while
 * @d: daemon
 * @fd: the descriptor (watched)
 * @ms: for how long
 *
 * Its events pending in this batch are skipped; it is watched again
 * (same events, same object) once @ms have passed.
 *
 * Return: 0 or -1.
 */
int loop_pause(struct daemon *d, int fd, int ms)
{
	struct loop_item *it;

	(void)d;
	if (fd < 0 || fd >= nitems || !items[fd])
		return -1;
	it = items[fd];
	if (it->paused_until)
		return 0;
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	it->paused_until = loop_now() + (ms > 0 ? ms : 1);
	npaused++;
	return 0;
}

/**
 * loop_paused() - is a descriptor paused
 * @fd: the descriptor
 *
 * Return: true if loop_pause() rests it now.
 */
bool loop_paused(int fd)
{
	return fd >= 0 && fd < nitems && items[fd] && items[fd]->paused_until;
}

/* watch the paused items whose time is up again; the time to the next */
static int loop_resume(long long now)
{
	long long next = -1;

	for (int fd = 0; npaused && fd < nitems; fd++) {
		struct loop_item *it = items[fd];
		struct epoll_event e;

		if (!it || !it->paused_until)
			continue;
		if (now < it->paused_until) {
			if (next < 0 || it->paused_until - now < next)
				next = it->paused_until - now;
			continue;
		}
		e = (struct epoll_event){ .events = it->events, .data.ptr = it };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e)) {
			/* try again a bit later */
			it->paused_until = now + 100;
			continue;
		}
		it->paused_until = 0;
		npaused--;
	}
	return next > INT_MAX ? INT_MAX : (int)next;
}

/**
 * loop_defer_free() - free an object once the batch being handled is over
 * @d: daemon
 * @ptr: the object (malloc'd), which an event of the batch may refer to
 */
void loop_defer_free(struct daemon *d, void *ptr)
{
	(void)d;
	if (!ptr)
		return;
	if (ndeferred == deferred_cap) {
		int n = deferred_cap ? deferred_cap * 2 : 16;
		void **nd = realloc(deferred, n * sizeof(*nd));

		if (!nd) {
			/* never free early: leak it rather */
			return;
		}
		deferred = nd;
		deferred_cap = n;
	}
	deferred[ndeferred++] = ptr;
}

/**
 * loop_run_once() - wait for one batch of events and hand each to @fn
 * @d: daemon
 * @timeout_ms: epoll_wait timeout (-1: none)
 * @fn: the event function
 *
 * Events of items removed earlier in the batch are skipped; what was
 * removed or deferred is freed after the batch.
 *
 * Return: the number of events handed to @fn, or -1 (errno set; EINTR
 * counts as 0 events).
 */
int loop_run_once(struct daemon *d, int timeout_ms, loop_fn fn)
{
	struct epoll_event evs[64];
	int n, handled = 0, next;

	next = loop_resume(loop_now());
	if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
		timeout_ms = next;
	n = epoll_wait(epfd, evs, 64, timeout_ms);
	if (n < 0) {
		if (errno != EINTR)
			return -1;
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		struct loop_item *it = evs[i].data.ptr;

		if (it->dead || it->paused_until)
			continue;
		fn(d, it->kind, it->fd, it->ptr, evs[i].events);
		handled++;
	}
	loop_reap();
	return handled;
}
