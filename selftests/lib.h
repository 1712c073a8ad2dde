/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib.h - helpers shared by the iketcp C selftests: a private network
 * namespace, TCP pairs over loopback, IKE messages with a checkable body,
 * and an event log fed by the helper's netlink socket.
 */
#ifndef IKETCP_SELFTEST_LIB_H
#define IKETCP_SELFTEST_LIB_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nl.h"
#include "stream.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A fresh network namespace with loopback up. */
static inline int new_netns(void)
{
	struct ifreq ifr = {};
	int fd, ret;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (!ret) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret ? -errno : 0;
}

static inline socklen_t loop_addr(int family, struct sockaddr_storage *ss,
				  uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (void *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(port);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (void *)ss;

	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = htons(port);
	return sizeof(*a);
}

/* A listening socket on loopback, any port. */
static inline int tcp_listener(int family)
{
	struct sockaddr_storage ss;
	socklen_t sl = loop_addr(family, &ss, 0);
	int fd = socket(family, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (void *)&ss, sl) || listen(fd, 4096)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connect a client to @lfd and accept it: 0 or -1. */
static inline int tcp_pair_on(int lfd, int *cli, int *srv)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1;

	if (getsockname(lfd, (void *)&ss, &sl))
		return -1;
	*cli = socket(ss.ss_family, SOCK_STREAM, 0);
	if (*cli < 0)
		return -1;
	if (connect(*cli, (void *)&ss, sl)) {
		close(*cli);
		return -1;
	}
	*srv = accept(lfd, NULL, NULL);
	if (*srv < 0) {
		close(*cli);
		return -1;
	}
	setsockopt(*cli, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static inline int tcp_pair(int family, int *cli, int *srv)
{
	int lfd = tcp_listener(family), ret;

	if (lfd < 0)
		return -1;
	ret = tcp_pair_on(lfd, cli, srv);
	close(lfd);
	return ret;
}

static inline int ulp_attach(int fd)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_ULP, "iketcp", 6) ? -errno : 0;
}

/* An IKE message: header with @len and @msgid, body derived from both. */
static inline void mk_msg(uint8_t *b, uint32_t len, uint8_t version,
			  uint8_t exch, uint32_t msgid)
{
	memset(b, 0, IKETCP_IKE_HDR_LEN);
	for (int i = 0; i < 8; i++)
		b[i] = 0xa0 + i;
	b[IKETCP_IKE_OFF_NEXT] = 33;
	b[IKETCP_IKE_OFF_VERSION] = version;
	b[IKETCP_IKE_OFF_EXCHANGE] = exch;
	b[IKETCP_IKE_OFF_FLAGS] = 0x08;
	b[20] = msgid >> 24;
	b[21] = msgid >> 16;
	b[22] = msgid >> 8;
	b[23] = msgid;
	b[24] = len >> 24;
	b[25] = len >> 16;
	b[26] = len >> 8;
	b[27] = len;
	for (uint32_t i = IKETCP_IKE_HDR_LEN; i < len; i++)
		b[i] = (uint8_t)(i * 7 + msgid);
}

/* Does @b look like mk_msg(len, *, *, msgid)? Returns msgid or -1. */
static inline long check_msg(const uint8_t *b, size_t len)
{
	struct iketcp_ike_hdr h;

	if (iketcp_ike_hdr_parse(b, len, &h) || h.length != len)
		return -1;
	for (uint32_t i = IKETCP_IKE_HDR_LEN; i < len; i++)
		if (b[i] != (uint8_t)(i * 7 + h.msgid))
			return -1;
	return h.msgid;
}

static inline int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Events received by a helper, with message bytes copied. */
#define EVLOG_MAX 20000
struct evlog {
	struct iketcp_event ev[EVLOG_MAX];
	uint8_t *msg[EVLOG_MAX];
	int n;
	int enobufs;
};

static inline int evlog_cb(const struct iketcp_event *ev, void *arg)
{
	struct evlog *l = arg;

	if (l->n >= EVLOG_MAX)
		return -ENOSPC;
	l->ev[l->n] = *ev;
	l->msg[l->n] = NULL;
	if (ev->msg_len) {
		l->msg[l->n] = malloc(ev->msg_len);
		memcpy(l->msg[l->n], ev->msg, ev->msg_len);
		l->ev[l->n].msg = l->msg[l->n];
	}
	l->n++;
	return 0;
}

static inline void evlog_free(struct evlog *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->msg[i]);
	l->n = 0;
}

static inline int evlog_count(const struct evlog *l, uint8_t cmd,
			      uint32_t conn_id)
{
	int c = 0;

	for (int i = 0; i < l->n; i++)
		if (l->ev[i].cmd == cmd &&
		    (!conn_id || l->ev[i].conn_id == conn_id))
			c++;
	return c;
}

/* Read events until @cmd was seen @want times for @conn_id (0: any), or
 * @timeout_ms passed. ENOBUFS is handled like a real helper: count it,
 * drain, ask for the rest. Returns the count seen.
 */
static inline int evlog_wait(struct iketcp_nl *nl, struct evlog *l,
			     uint8_t cmd, uint32_t conn_id, int want,
			     int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	bool overrun;
	int ret;

	while (evlog_count(l, cmd, conn_id) < want) {
		struct pollfd p = { .fd = iketcp_nl_fd(nl), .events = POLLIN };
		long long left = end - now_ms();

		if (left <= 0)
			break;
		if (!iketcp_nl_pending(nl) &&
		    poll(&p, 1, left > 100 ? 100 : left) <= 0)
			continue;
		overrun = false;
		for (;;) {
			ret = iketcp_nl_recv(nl, false, evlog_cb, l);
			if (ret == -ENOBUFS) {
				l->enobufs++;
				overrun = true;
				continue;
			}
			if (ret < 0)
				break;
		}
		if (overrun)
			iketcp_nl_resume(nl);
	}
	return evlog_count(l, cmd, conn_id);
}

/* The last event of @cmd for @conn_id, or NULL. */
static inline const struct iketcp_event *evlog_last(const struct evlog *l,
						   uint8_t cmd,
						   uint32_t conn_id)
{
	for (int i = l->n - 1; i >= 0; i--)
		if (l->ev[i].cmd == cmd &&
		    (!conn_id || l->ev[i].conn_id == conn_id))
			return &l->ev[i];
	return NULL;
}

/* The end notification of connection @id, waited for up to 5 s */
static inline const struct iketcp_event *evlog_wait_end(struct iketcp_nl *nl,
							struct evlog *l,
							uint32_t id)
{
	if (evlog_wait(nl, l, IKETCP_CMD_CONN_ENDED, id, 1, 5000) != 1)
		return NULL;
	return evlog_last(l, IKETCP_CMD_CONN_ENDED, id);
}

/* The peer's view of an abort: a reset (within 5 s). */
static inline int peer_was_reset(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, 5000) != 1)
		return 0;
	return read(fd, &c, 1) < 0 && errno == ECONNRESET;
}

/* A stream callback: messages must carry the message ids *arg, *arg + 1.. */
static inline int msg_seq_cb(const uint8_t *msg, size_t len, void *arg)
{
	long *next = arg;

	if (check_msg(msg, len) != *next)
		return -1;
	(*next)++;
	return 0;
}

/*
 * Read @fd into stream @s until its counter @count (s->msgs, s->esp)
 * reaches @want; @cb and @arg go to iketcp_stream_feed(). Each read waits
 * at most 5 s. Return: 0, -ETIMEDOUT, -EIO (end or error) or -EPROTO.
 */
static inline int stream_read(int fd, struct iketcp_stream *s,
			      const uint64_t *count, uint64_t want,
			      iketcp_stream_cb cb, void *arg)
{
	uint8_t buf[8192];

	while (*count < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) != 1)
			return -ETIMEDOUT;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return -EIO;
		if (iketcp_stream_feed(s, buf, n, cb, arg))
			return -EPROTO;
	}
	return 0;
}

/* Helper netlink socket registered in the current netns. */
static inline int helper_open(struct iketcp_nl *nl)
{
	int ret = iketcp_nl_open(nl);

	if (ret)
		return ret;
	ret = iketcp_nl_register(nl);
	if (ret)
		iketcp_nl_close(nl);
	return ret;
}

#endif /* IKETCP_SELFTEST_LIB_H */
