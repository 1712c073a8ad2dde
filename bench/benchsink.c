// SPDX-License-Identifier: GPL-2.0
/*
 * benchsink - the UDP socket standing in for the IKE daemon in B2 and B3:
 * binds ADDR:500 and ADDR:4500 (the non-ESP marker stripped), counts the
 * benchmark messages (bench.h) and checks them.
 *
 *   benchsink -a ADDR [-n MAXCONNS] [-e EXPECT] [-i IDLE_MS] [-r RCVBUF]
 *
 * For each connection index it expects message ids 0, 1, 2, ... of one
 * generation in order on each of the two sockets (a message of a newer
 * generation restarts the count): anything else is counted as out of
 * order. Order across the two sockets is not defined (a daemon reads them
 * apart): a connection's IKE_SA_INIT on 500 may be read after its next
 * messages on 4500 (where iketcpd delivers an SA whose daemon never
 * answered: the NAT-T port its daemon would have moved to). Per generation it counts the
 * connections seen (first message of each) and duplicates; when EXPECT
 * connections of a generation were seen it prints
 *
 *   complete gen=G n=N first_us=T0 last_us=T1
 *
 * It ends on SIGTERM/SIGINT, or IDLE_MS after the last datagram once one
 * arrived (-i, 0: never), and prints (key=value, one line each):
 *
 *   summary msgs= bytes= ooo= back= bad= conns= first_us= last_us=
 *
 * (ooo: messages not the next expected, gaps included; back: of them,
 * those with a lower id than expected, i.e. reordered or repeated)
 *   gen G unique= dup= first_us= last_us=
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include "bench.h"

#define VLEN	32
#define BUFSZ	65536
#define MAXGEN	16

struct gen_stat {
	uint64_t unique;
	uint64_t dup;
	long long first_us;
	long long last_us;
	uint8_t *seen;
	bool complete;
};

static volatile sig_atomic_t stop;
static uint32_t maxconns = 20000;
static uint64_t expect;
static uint32_t *next_id[2];	/* per socket: 500, 4500 */
static uint16_t *cur_gen;
static struct gen_stat gens[MAXGEN];
static uint64_t msgs, bytes, ooo, back, bad, conns;
static long long first_us, last_us;

static volatile sig_atomic_t report;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

static int bind_udp(const char *addr, uint16_t port, int rcvbuf)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "benchsink: bad address %s\n", addr);
		exit(2);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (void *)&a, sizeof(a))) {
		fprintf(stderr, "benchsink: bind %s:%u: %s\n", addr, port,
			strerror(errno));
		exit(1);
	}
	return fd;
}

static void account(const uint8_t *b, size_t n, long long now, int sock)
{
	uint32_t idx, gen, id;
	struct gen_stat *g;

	if (n < BENCH_HDR_LEN || b[0] != BENCH_MAGIC ||
	    bench_get32(b + 24) != n) {
		bad++;
		return;
	}
	gen = (uint32_t)b[1] << 16 | b[2] << 8 | b[3];
	idx = bench_get32(b + 4);
	id = bench_get32(b + 20);
	if (idx >= maxconns || gen >= MAXGEN) {
		bad++;
		return;
	}
	if (!msgs)
		first_us = now;
	last_us = now;
	msgs++;
	bytes += n;
	g = &gens[gen];
	if (!g->seen) {
		g->seen = calloc((maxconns + 7) / 8, 1);
		if (!g->seen) {
			perror("benchsink: calloc");
			exit(1);
		}
	}
	if (!g->unique && !g->dup)
		g->first_us = now;
	g->last_us = now;
	if (cur_gen[idx] != gen) {
		/* a newer generation starts again at 0 */
		if (cur_gen[idx] == 0xffff)
			conns++;
		cur_gen[idx] = gen;
		next_id[0][idx] = next_id[1][idx] = UINT32_MAX;
	}
	/* the first on a socket: 0 on 500, anything on 4500 */
	if (next_id[sock][idx] == UINT32_MAX ? sock == 0 && id != 0 :
	    id != next_id[sock][idx])
		ooo++;
	/* (a gap is a loss; an id lower than the next one expected, reordering) */
	if (next_id[sock][idx] != UINT32_MAX && id < next_id[sock][idx])
		back++;
	next_id[sock][idx] = id + 1;
	if (id == 0) {
		if (g->seen[idx / 8] & (1 << (idx % 8))) {
			g->dup++;
		} else {
			g->seen[idx / 8] |= 1 << (idx % 8);
			g->unique++;
			if (expect && g->unique == expect && !g->complete) {
				g->complete = true;
				printf("complete gen=%u n=%llu first_us=%lld last_us=%lld\n",
				       gen, (unsigned long long)g->unique,
				       g->first_us, g->last_us);
				fflush(stdout);
			}
		}
	}
}

static void drain(int fd, uint8_t (*bufs)[BUFSZ], struct mmsghdr *mm,
		  struct iovec *iov, bool marker)
{
	for (;;) {
		int n;

		for (int i = 0; i < VLEN; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = BUFSZ;
			memset(&mm[i].msg_hdr, 0, sizeof(mm[i].msg_hdr));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, mm, VLEN, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		long long now = bench_now_us();

		for (int i = 0; i < n; i++) {
			const uint8_t *b = bufs[i];
			size_t len = mm[i].msg_len;

			if (marker) {
				if (len < 4 || (b[0] | b[1] | b[2] | b[3])) {
					bad++;
					continue;
				}
				b += 4;
				len -= 4;
			}
			account(b, len, now, marker);
		}
	}
}

int main(int argc, char **argv)
{
	const char *addr = NULL;
	int idle_ms = 0, rcvbuf = 64 << 20, c;
	static uint8_t bufs[VLEN][BUFSZ];
	struct mmsghdr mm[VLEN];
	struct iovec iov[VLEN];
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd p[2];

	while ((c = getopt(argc, argv, "a:n:e:i:r:")) != -1) {
		switch (c) {
		case 'a': addr = optarg; break;
		case 'n': maxconns = strtoul(optarg, NULL, 0); break;
		case 'e': expect = strtoull(optarg, NULL, 0); break;
		case 'i': idle_ms = atoi(optarg); break;
		case 'r': rcvbuf = atoi(optarg); break;
		default: addr = NULL; optind = argc; break;
		}
	}
	if (!addr || !maxconns) {
		fprintf(stderr, "usage: benchsink -a ADDR [-n MAXCONNS] [-e EXPECT] [-i IDLE_MS] [-r RCVBUF]\n");
		return 2;
	}
	next_id[0] = calloc(maxconns, sizeof(*next_id[0]));
	next_id[1] = calloc(maxconns, sizeof(*next_id[1]));
	cur_gen = malloc(maxconns * sizeof(*cur_gen));
	if (!next_id[0] || !next_id[1] || !cur_gen)
		return 1;
	memset(cur_gen, 0xff, maxconns * sizeof(*cur_gen));
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	p[0] = (struct pollfd){ .fd = bind_udp(addr, 500, rcvbuf), .events = POLLIN };
	p[1] = (struct pollfd){ .fd = bind_udp(addr, 4500, rcvbuf), .events = POLLIN };
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		int n = poll(p, 2, 100);

		if (n > 0) {
			if (p[0].revents & POLLIN)
				drain(p[0].fd, bufs, mm, iov, false);
			if (p[1].revents & POLLIN)
				drain(p[1].fd, bufs, mm, iov, true);
		}
		if (report) {
			/* SIGUSR1: progress so far (b3.sh when a phase stalls) */
			report = 0;
			printf("progress msgs=%llu bad=%llu", (unsigned long long)msgs,
			       (unsigned long long)bad);
			for (int g = 0; g < MAXGEN; g++)
				if (gens[g].unique || gens[g].dup)
					printf(" gen%d=%llu/%llu", g,
					       (unsigned long long)gens[g].unique,
					       (unsigned long long)gens[g].dup);
			printf("\n");
			fflush(stdout);
		}
		if (idle_ms && msgs && bench_now_us() - last_us > idle_ms * 1000LL)
			break;
	}
	printf("summary msgs=%llu bytes=%llu ooo=%llu back=%llu bad=%llu conns=%llu first_us=%lld last_us=%lld\n",
	       (unsigned long long)msgs, (unsigned long long)bytes,
	       (unsigned long long)ooo, (unsigned long long)back,
	       (unsigned long long)bad,
	       (unsigned long long)conns, first_us, last_us);
	for (int g = 0; g < MAXGEN; g++)
		if (gens[g].unique || gens[g].dup)
			printf("gen %d unique=%llu dup=%llu first_us=%lld last_us=%lld\n",
			       g, (unsigned long long)gens[g].unique,
			       (unsigned long long)gens[g].dup,
			       gens[g].first_us, gens[g].last_us);
	return 0;
}
