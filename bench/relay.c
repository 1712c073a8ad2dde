// SPDX-License-Identifier: GPL-2.0
/*
 * relay - the baseline of B2 and B3: what an operator would write without
 * the iketcp module. Accepts TCP connections, read()s them, cuts the
 * stream into IKE messages with the project's userspace framer
 * (userspace/stream.c, the module's framing core) and sendto()s each
 * message to the IKE daemon's UDP socket. One thread, epoll.
 *
 *   relay -l ADDR [-p PORT] -d DAEMON_ADDR [-D DAEMON_PORT]
 *
 * A framing error closes the connection. SIGTERM prints
 * "relay conns= msgs= bytes= send_errors= framing_errors=" and exits.
 */
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "bench.h"
#include "stream.h"

struct rconn {
	int fd;
	struct iketcp_stream s;
};

static volatile sig_atomic_t stop;
static int udp_fd;
static struct sockaddr_in daemon_addr;
static uint64_t nconns, msgs, bytes, send_errors, framing_errors;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int to_daemon(const uint8_t *msg, size_t len, void *arg)
{
	(void)arg;
	if (sendto(udp_fd, msg, len, 0, (void *)&daemon_addr,
		   sizeof(daemon_addr)) < 0) {
		send_errors++;
		return 0;
	}
	msgs++;
	bytes += len;
	return 0;
}

static void conn_close(int ep, struct rconn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	iketcp_stream_free(&c->s);
	free(c);
}

int main(int argc, char **argv)
{
	struct sockaddr_in la = { .sin_family = AF_INET, .sin_port = htons(500) };
	struct sigaction sa = { .sa_handler = on_signal };
	const char *laddr = NULL, *daddr = NULL;
	static uint8_t buf[65536];
	struct epoll_event evs[256];
	int lfd, ep, c, one = 1, sndbuf = 8 << 20;

	daemon_addr.sin_family = AF_INET;
	daemon_addr.sin_port = htons(500);
	while ((c = getopt(argc, argv, "l:p:d:D:")) != -1) {
		switch (c) {
		case 'l': laddr = optarg; break;
		case 'p': la.sin_port = htons(atoi(optarg)); break;
		case 'd': daddr = optarg; break;
		case 'D': daemon_addr.sin_port = htons(atoi(optarg)); break;
		default: return 2;
		}
	}
	if (!laddr || !daddr || inet_pton(AF_INET, laddr, &la.sin_addr) != 1 ||
	    inet_pton(AF_INET, daddr, &daemon_addr.sin_addr) != 1) {
		fprintf(stderr, "usage: relay -l ADDR [-p PORT] -d DAEMON_ADDR [-D DAEMON_PORT]\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (setsockopt(udp_fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(udp_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (udp_fd < 0 || lfd < 0 || bind(lfd, (void *)&la, sizeof(la)) ||
	    listen(lfd, 4096)) {
		perror("relay: listen");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event le = { .events = EPOLLIN, .data.ptr = NULL };

	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &le);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			struct rconn *rc = evs[i].data.ptr;

			if (!rc) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL,
						     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					rc = malloc(sizeof(*rc));
					if (!rc || iketcp_stream_init(&rc->s, IKETCP_FRAMING_RAW,
								      BENCH_MAX_MSG)) {
						free(rc);
						close(fd);
						continue;
					}
					rc->fd = fd;
					nconns++;
					struct epoll_event e = { .events = EPOLLIN, .data.ptr = rc };

					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
				}
				continue;
			}
			for (;;) {
				ssize_t r = read(rc->fd, buf, sizeof(buf));

				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (r <= 0) {
					conn_close(ep, rc);
					break;
				}
				if (iketcp_stream_feed(&rc->s, buf, r, to_daemon, NULL)) {
					framing_errors++;
					conn_close(ep, rc);
					break;
				}
				if ((size_t)r < sizeof(buf))
					break;
			}
		}
	}
	/*
	 * The listener first, explicitly: left to exit(), it is released
	 * after the connections (an exiting task's files are released last
	 * opened first), and the peers that reconnect while thousands of
	 * connections close queue up in it, only to be reset with it.
	 */
	close(lfd);
	printf("relay conns=%llu msgs=%llu bytes=%llu send_errors=%llu framing_errors=%llu\n",
	       (unsigned long long)nconns, (unsigned long long)msgs,
	       (unsigned long long)bytes, (unsigned long long)send_errors,
	       (unsigned long long)framing_errors);
	return 0;
}
