// SPDX-License-Identifier: GPL-2.0
/*
 * benchpeer - the peers of B2 and B3: TCP connections to a gateway carrying
 * benchmark IKE messages (bench.h). Connection i comes from its own source
 * address inside the /16 SRCBASE (bench_src_addr(); the client namespace
 * routes the whole /16 to itself: "ip route add local SRCBASE/16 dev lo").
 *
 *   benchpeer stream -d DST [-p PORT] -c CONNS -s SIZE -n MSGS -b SRCBASE
 *       B2: CONNS connections write MSGS SIZE-byte messages each, back to
 *       back (all connections at once, as fast as TCP takes them), then
 *       shut down their sending side and wait until the gateway closed
 *       each connection (everything it read was handed on). Prints
 *       "sent msgs= bytes= conns= start_us= stop_us= end_us="
 *       (stop_us: the last byte written)
 *
 *   benchpeer hold -d DST [-p PORT] -c N -s SIZE -b SRCBASE [-P INFLIGHT] [-R]
 *       B3: opens N connections (at most INFLIGHT connecting at a time,
 *       default 512), each sends one SIZE-byte IKE_SA_INIT (generation 1)
 *       and stays open, idle. Prints "up n= start_us= end_us=" once all are
 *       up. A connection the gateway closes is reset (no TIME_WAIT on the
 *       gateway's side). With -R, it is opened again after
 *       250 ms (doubling up to 2 s while attempts fail) and sends a first
 *       message of the next generation; prints "dropped n=" at the first
 *       drop and "reup n= gen= end_us=" each time all N are up again.
 *       SIGTERM: every connection is reset (no TIME_WAIT), "bye ..." printed.
 */
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "bench.h"

static const char *dst;
static uint16_t port = 500;
static uint32_t nconns, size, srcbase;
static int inflight = 512;
static uint64_t per_conn;
static bool reconnect;
static volatile sig_atomic_t stop, report;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "benchpeer: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A socket from source address @idx to the gateway; connect started. */
static int open_conn(uint32_t idx, bool block, int *err)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (block ? 0 : SOCK_NONBLOCK), 0);
	int one = 1;

	*err = 0;
	if (fd < 0)
		die("socket");
	inet_pton(AF_INET, dst, &to.sin_addr);
	src.sin_addr = bench_src_addr(srcbase, idx);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (void *)&src, sizeof(src)))
		die("bind (is the source /16 routed locally?)");
	if (connect(fd, (void *)&to, sizeof(to)) && errno != EINPROGRESS) {
		*err = errno;
		close(fd);
		return -1;
	}
	return fd;
}

static void reset_close(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* ------------------------------------------------------------ stream */

struct sconn {
	int fd;
	uint8_t *batch;		/* k messages */
	size_t off;		/* bytes of the batch written */
	uint32_t base;		/* message id of the batch's first message */
	uint64_t written;	/* bytes written in all */
};

static uint32_t batch_k;

static void batch_fill(struct sconn *c, uint32_t idx, bool first)
{
	for (uint32_t j = 0; j < batch_k; j++) {
		uint8_t *m = c->batch + (size_t)j * size;

		if (first)
			bench_msg(m, size, 1, idx, c->base + j);
		else
			bench_msg_set_id(m, c->base + j);
	}
}

/* Write what the socket takes; returns false when it would block. */
static bool stream_write(struct sconn *c, uint32_t idx)
{
	size_t total = (size_t)batch_k * size;
	uint64_t all = per_conn * size;

	for (;;) {
		size_t want = total - c->off;
		ssize_t n;

		if (want > all - c->written)
			want = all - c->written;
		if (!want)
			return true;
		n = write(c->fd, c->batch + c->off, want);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return false;
			die("write");
		}
		c->off += n;
		c->written += n;
		if (c->off == total) {
			c->off = 0;
			c->base += batch_k;
			batch_fill(c, idx, false);
		}
	}
}

static int do_stream(void)
{
	struct sconn *cs = calloc(nconns, sizeof(*cs));
	int ep = epoll_create1(EPOLL_CLOEXEC), err;
	long long start, stop_us, end_us;
	uint32_t left = nconns;
	uint64_t msgs = 0, bytes = 0;
	struct epoll_event evs[256];

	batch_k = 65536 / size ? 65536 / size : 1;
	if (batch_k > 256)
		batch_k = 256;
	for (uint32_t i = 0; i < nconns; i++) {
		int one = 1;

		cs[i].fd = open_conn(i, true, &err);
		if (cs[i].fd < 0) {
			errno = err;
			die("connect");
		}
		setsockopt(cs[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fcntl(cs[i].fd, F_SETFL, O_NONBLOCK);
		cs[i].batch = malloc((size_t)batch_k * size);
		if (!cs[i].batch)
			die("malloc");
		batch_fill(&cs[i], i, true);
		struct epoll_event e = { .events = EPOLLOUT, .data.u32 = i };

		epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &e);
	}
	start = bench_now_us();
	while (!stop && left) {
		int n = epoll_wait(ep, evs, 256, 100);

		for (int i = 0; i < n; i++) {
			uint32_t idx = evs[i].data.u32;
			struct sconn *c = &cs[idx];

			if (stream_write(c, idx)) {
				/* all written: FIN */
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				shutdown(c->fd, SHUT_WR);
				msgs += c->written / size;
				bytes += c->written;
				left--;
			}
		}
	}
	stop_us = bench_now_us();
	/* the gateway closes each connection once it handed everything on */
	for (uint32_t i = 0; i < nconns; i++) {
		struct pollfd p = { .fd = cs[i].fd, .events = POLLIN };
		char buf[256];

		fcntl(cs[i].fd, F_SETFL, 0);
		while (poll(&p, 1, 120000) == 1 && read(cs[i].fd, buf, sizeof(buf)) > 0)
			;
		close(cs[i].fd);
	}
	end_us = bench_now_us();
	printf("sent msgs=%llu bytes=%llu conns=%u start_us=%lld stop_us=%lld end_us=%lld\n",
	       (unsigned long long)msgs, (unsigned long long)bytes, nconns,
	       start, stop_us, end_us);
	return 0;
}

/* ------------------------------------------------------------ hold */

enum hstate { H_IDLE, H_CONNECTING, H_UP, H_WAIT };

struct hconn {
	int fd;
	enum hstate st;
	uint32_t gen;
	long long retry_at;
	int backoff_ms;
};

static int do_hold(void)
{
	struct hconn *hs = calloc(nconns, sizeof(*hs));
	int ep = epoll_create1(EPOLL_CLOEXEC), connecting = 0, err;
	uint32_t next = 0, up = 0, want_gen = 1;
	uint64_t drops = 0, attempts = 0, failures = 0;
	long long start = bench_now_us();
	bool all_up_reported = false;
	uint8_t *msg = malloc(size);
	struct epoll_event evs[512];

	if (!hs || !msg)
		die("calloc");
	for (uint32_t i = 0; i < nconns; i++) {
		hs[i].st = H_IDLE;
		hs[i].gen = 1;
		hs[i].fd = -1;
	}
	while (!stop) {
		long long now = bench_now_us();
		int n;

		/* start connections: new ones in order, then due retries */
		for (; next < nconns && connecting < inflight; next++) {
			struct hconn *h = &hs[next];

			h->fd = open_conn(next, false, &err);
			attempts++;
			if (h->fd < 0) {
				failures++;
				h->st = H_WAIT;
				h->backoff_ms = 250;
				h->retry_at = now + 250000;
				continue;
			}
			h->st = H_CONNECTING;
			connecting++;
			struct epoll_event e = { .events = EPOLLOUT, .data.u32 = next };

			epoll_ctl(ep, EPOLL_CTL_ADD, h->fd, &e);
		}
		if (next == nconns && (reconnect || up < nconns)) {
			for (uint32_t i = 0; i < nconns && connecting < inflight; i++) {
				struct hconn *h = &hs[i];

				if (h->st != H_WAIT || h->retry_at > now)
					continue;
				h->fd = open_conn(i, false, &err);
				attempts++;
				if (h->fd < 0) {
					failures++;
					h->backoff_ms = h->backoff_ms * 2 > 2000 ?
							2000 : h->backoff_ms * 2;
					h->retry_at = now + h->backoff_ms * 1000LL;
					continue;
				}
				h->st = H_CONNECTING;
				connecting++;
				struct epoll_event e = { .events = EPOLLOUT, .data.u32 = i };

				epoll_ctl(ep, EPOLL_CTL_ADD, h->fd, &e);
			}
		}
		if (report) {
			/* SIGUSR1: where the connections are (b3.sh diagnostics) */
			uint32_t st[4] = { 0 };

			report = 0;
			for (uint32_t i = 0; i < nconns; i++)
				st[hs[i].st]++;
			printf("progress up=%u idle=%u connecting=%u (counted %u) waiting=%u attempts=%llu failures=%llu drops=%llu\n",
			       st[H_UP], st[H_IDLE], st[H_CONNECTING], connecting,
			       st[H_WAIT], (unsigned long long)attempts,
			       (unsigned long long)failures,
			       (unsigned long long)drops);
			fflush(stdout);
		}
		n = epoll_wait(ep, evs, 512, 20);
		now = bench_now_us();
		for (int k = 0; k < n; k++) {
			uint32_t i = evs[k].data.u32;
			struct hconn *h = &hs[i];

			if (h->st == H_CONNECTING) {
				socklen_t el = sizeof(err);

				connecting--;
				err = 0;
				getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (!err) {
					bench_msg(msg, size, h->gen, i, 0);
					if (write(h->fd, msg, size) != (ssize_t)size)
						err = errno ? errno : EIO;
				}
				if (err) {
					failures++;
					epoll_ctl(ep, EPOLL_CTL_DEL, h->fd, NULL);
					close(h->fd);
					h->fd = -1;
					h->st = H_WAIT;
					h->backoff_ms = h->backoff_ms ?
						(h->backoff_ms * 2 > 2000 ? 2000 : h->backoff_ms * 2) : 250;
					h->retry_at = now + h->backoff_ms * 1000LL;
					continue;
				}
				h->st = H_UP;
				h->backoff_ms = 0;
				up++;
				struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP,
							 .data.u32 = i };

				epoll_ctl(ep, EPOLL_CTL_MOD, h->fd, &e);
				if (up == nconns) {
					if (!all_up_reported) {
						all_up_reported = true;
						printf("up n=%u start_us=%lld end_us=%lld attempts=%llu failures=%llu\n",
						       nconns, start, now,
						       (unsigned long long)attempts,
						       (unsigned long long)failures);
					} else {
						printf("reup n=%u gen=%u end_us=%lld attempts=%llu failures=%llu\n",
						       nconns, want_gen, now,
						       (unsigned long long)attempts,
						       (unsigned long long)failures);
					}
					fflush(stdout);
				}
			} else if (h->st == H_UP) {
				char buf[512];
				ssize_t r = read(h->fd, buf, sizeof(buf));

				if (r > 0)
					continue;	/* the gateway never sends: ignore */
				if (r < 0 && errno == EAGAIN)
					continue;
				/* reset: no FIN_WAIT/TIME_WAIT left on the gateway */
				epoll_ctl(ep, EPOLL_CTL_DEL, h->fd, NULL);
				reset_close(h->fd);
				h->fd = -1;
				up--;
				if (!drops++) {
					printf("dropped first_us=%lld\n", now);
					fflush(stdout);
				}
				if (!reconnect) {
					h->st = H_IDLE;
					continue;
				}
				h->gen++;
				if (h->gen > want_gen)
					want_gen = h->gen;
				h->st = H_WAIT;
				h->backoff_ms = 250;
				h->retry_at = now + 250000;
			}
		}
	}
	for (uint32_t i = 0; i < nconns; i++)
		if (hs[i].fd >= 0)
			reset_close(hs[i].fd);
	printf("bye up=%u drops=%llu attempts=%llu failures=%llu\n", up,
	       (unsigned long long)drops, (unsigned long long)attempts,
	       (unsigned long long)failures);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct in_addr b;
	const char *mode;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: benchpeer stream|hold -d DST [-p PORT] -c N -s SIZE [-n MSGS] -b SRCBASE [-P INFLIGHT] [-R]\n");
		return 2;
	}
	mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "d:p:c:s:n:b:P:R")) != -1) {
		switch (c) {
		case 'd': dst = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': nconns = strtoul(optarg, NULL, 0); break;
		case 's': size = strtoul(optarg, NULL, 0); break;
		case 'n': per_conn = strtoull(optarg, NULL, 0); break;
		case 'b':
			if (inet_pton(AF_INET, optarg, &b) != 1)
				return 2;
			srcbase = ntohl(b.s_addr) & 0xffff0000;
			break;
		case 'P': inflight = atoi(optarg); break;
		case 'R': reconnect = true; break;
		default: return 2;
		}
	}
	if (!dst || !nconns || size < 32 || size > BENCH_MAX_MSG || !srcbase) {
		fprintf(stderr, "benchpeer: -d, -c, -s (32..65507) and -b are needed\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (!strcmp(mode, "stream")) {
		if (!per_conn)
			return 2;
		return do_stream();
	}
	if (!strcmp(mode, "hold"))
		return do_hold();
	fprintf(stderr, "benchpeer: unknown mode %s\n", mode);
	return 2;
}
