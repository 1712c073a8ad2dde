/* SPDX-License-Identifier: GPL-2.0 */
/*
 * loop.h - iketcpd's event loop: epoll registration of every file
 * descriptor the daemon watches, and the dispatch of its events.
 */
#ifndef IKETCP_LOOP_H
#define IKETCP_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct daemon;

/* the epoll user data: the kind of file descriptor and its object */
enum ev_kind {
	EV_NL,
	EV_LISTEN,
	EV_CONNECT,
	EV_PREFIX,
	EV_SIGNAL,
	EV_TIMER,
	EV_CTL,
	EV_CTL_CLIENT,
};

/* one event of a batch: what the descriptor is, and its object */
typedef void (*loop_fn)(struct daemon *d, enum ev_kind kind, int fd,
			void *ptr, uint32_t events);

int loop_init(void);
void loop_exit(void);
int loop_add(struct daemon *d, int fd, uint32_t events, enum ev_kind kind,
	     void *ptr);
int loop_mod(struct daemon *d, int fd, uint32_t events);
void loop_del(struct daemon *d, int fd);
int loop_pause(struct daemon *d, int fd, int ms);
bool loop_paused(int fd);
void loop_defer_free(struct daemon *d, void *ptr);
int loop_run_once(struct daemon *d, int timeout_ms, loop_fn fn);

#endif /* IKETCP_LOOP_H */
