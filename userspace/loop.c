// SPDX-License-Identifier: GPL-2.0
/*
 * loop.c - iketcpd's event loop: the epoll registration of every watched
 * file descriptor, one loop item per descriptor, and the dispatch of a
 * batch of events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

struct loop_item {
	enum ev_kind kind;
	int fd;
	void *ptr;
};

static int epfd = -1;
static struct loop_item **items;
static int nitems;

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
	it = malloc(sizeof(*it));
	if (!it)
		return -1;
	*it = (struct loop_item){ .kind = kind, .fd = fd, .ptr = ptr };
	e.data.ptr = it;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e)) {
		free(it);
		return -1;
	}
	free(items[fd]);
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

	(void)d;
	if (fd < 0 || fd >= nitems || !items[fd])
		return -1;
	e.data.ptr = items[fd];
	return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &e);
}

/**
 * loop_del() - stop watching a file descriptor (before closing it)
 * @d: daemon
 * @fd: the descriptor
 */
void loop_del(struct daemon *d, int fd)
{
	(void)d;
	if (fd < 0 || fd >= nitems || !items[fd])
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	free(items[fd]);
	items[fd] = NULL;
}

/**
 * loop_defer_free() - free an object an event of this batch may refer to
 * @d: daemon
 * @ptr: the object (malloc'd)
 */
void loop_defer_free(struct daemon *d, void *ptr)
{
	(void)d;
	free(ptr);
}

/**
 * loop_run_once() - wait for one batch of events and hand each to @fn
 * @d: daemon
 * @timeout_ms: epoll_wait timeout (-1: none)
 * @fn: the event function
 *
 * Return: the number of events, or -1 (errno set; EINTR is 0).
 */
int loop_run_once(struct daemon *d, int timeout_ms, loop_fn fn)
{
	struct epoll_event evs[64];
	int n = epoll_wait(epfd, evs, 64, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		struct loop_item *it = evs[i].data.ptr;

		fn(d, it->kind, it->fd, it->ptr, evs[i].events);
	}
	return n;
}
