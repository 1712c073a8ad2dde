// SPDX-License-Identifier: GPL-2.0
/*
 * hostile - a hostile peer on TCP 500 (or 4500), for the hardening tests,
 * and a minimal RFC 9329 peer that checks what iketcpd writes.
 *
 *   hostile send ADDR PORT KIND [WAIT_MS]
 *       connect, send KIND, report how the gateway ended the connection:
 *       "reset after N ms", "closed after N ms" or "open after N ms"
 *       KIND: http | tls | random:N | len:L (IKE header claiming length L)
 *             | ver:V (IKE header with major version V) | notinit (an
 *             IKE_AUTH request of an unknown IKE SA) | slow (the header
 *             one byte per second) | partial (a whole header, never the
 *             body) | silent (nothing)
 *   hostile idle ADDR PORT N [-i] [-t MS] [SRC...]
 *       open N connections (from the SRC addresses in turn, if given;
 *       with -i each first sends a valid IKE_SA_INIT request of a fresh
 *       IKE SA, then stays silent), print "accepted A refused R", hold
 *       them until stdin closes (with -t: for MS ms, or until SIGUSR1),
 *       then print "still open K"
 *   hostile hold ADDR PORT MS [SRC] [init]
 *       connect (from SRC), with "init" send an IKE_SA_INIT request of a
 *       fresh IKE SA, then read for MS ms: "received B bytes, then
 *       open|closed|reset" (a silent intruder on a peer's address)
 *   hostile flood ADDR PORT N
 *       send N valid-looking IKE_SA_INIT requests (fresh SPIs) back to
 *       back on one connection; print "sent N in T ms"
 *   hostile rfc9329 ADDR PORT MS [PREFIX]
 *       an RFC 9329 Originator: write PREFIX (default "IKETCP") in one
 *       write, then an IKE_SA_INIT request (SPIi 5a5a5a5a00000001) as a
 *       record; print every record received within MS ms ("record L:
 *       ike LEN exch E flags F msgid M" or "record L: esp"), then how the
 *       connection ended (as send does)
 *   hostile accept ADDR PORT MS
 *       an RFC 9329 Responder as libreswan's: accept one connection, read
 *       the prefix with one read of 6 bytes ("prefix 'IKETCP' in one
 *       read" or what came), then print the records as rfc9329 does
 */
#include <signal.h>

#include "addr.h"
#include "lib.h"

static int tcp_connect_from(const char *addr, uint16_t port, const char *src)
{
	struct sockaddr_storage ss;
	struct iketcp_ep ep;
	socklen_t sl;
	int fd;

	if (iketcp_ep_parse(addr, port, &ep))
		return -1;
	fd = socket(ep.family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (src) {
		struct iketcp_ep sep;

		if (iketcp_ep_parse(src, 0, &sep) || sep.family != ep.family)
			return -1;
		sl = ep_to_sockaddr(&sep, 0, &ss);
		if (bind(fd, (void *)&ss, sl)) {
			close(fd);
			return -1;
		}
	}
	sl = ep_to_sockaddr(&ep, port, &ss);
	if (connect(fd, (void *)&ss, sl)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int tcp_connect(const char *addr, uint16_t port)
{
	return tcp_connect_from(addr, port, NULL);
}

/* How did the connection end? Waits up to @ms. */
static void report_end(int fd, long long t0, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];
	ssize_t n;

	while (poll(&p, 1, ms - (now_ms() - t0) > 0 ?
		    ms - (now_ms() - t0) : 0) == 1) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			printf("%s after %lld ms\n",
			       errno == ECONNRESET ? "reset" : "error",
			       now_ms() - t0);
			return;
		}
		if (n == 0) {
			printf("closed after %lld ms\n", now_ms() - t0);
			return;
		}
	}
	printf("open after %lld ms\n", now_ms() - t0);
}

static int do_send(const char *addr, uint16_t port, const char *kind, int ms)
{
	signal(SIGPIPE, SIG_IGN);
	uint8_t m[4096];
	long long t0;
	size_t len = 0;
	int fd = tcp_connect(addr, port);

	if (fd < 0) {
		printf("refused\n");
		return 0;
	}
	t0 = now_ms();
	if (!strcmp(kind, "http")) {
		len = snprintf((char *)m, sizeof(m),
			       "GET / HTTP/1.1\r\nHost: gateway\r\n\r\n");
	} else if (!strcmp(kind, "tls")) {
		/* the start of a TLS 1.2 ClientHello */
		static const uint8_t ch[] = { 0x16, 0x03, 0x01, 0x00, 0xa5, 0x01,
			0x00, 0x00, 0xa1, 0x03, 0x03 };

		memcpy(m, ch, sizeof(ch));
		memset(m + sizeof(ch), 0x42, 40);
		len = sizeof(ch) + 40;
	} else if (!strncmp(kind, "random:", 7)) {
		len = atoi(kind + 7);
		if (len > sizeof(m))
			len = sizeof(m);
		srand(getpid());
		for (size_t i = 0; i < len; i++)
			m[i] = rand();
	} else if (!strncmp(kind, "len:", 4)) {
		unsigned long l = strtoul(kind + 4, NULL, 0);

		mk_msg(m, 28, 0x20, 34, 0);
		m[24] = l >> 24;
		m[25] = l >> 16;
		m[26] = l >> 8;
		m[27] = l;
		len = 28;
	} else if (!strncmp(kind, "ver:", 4)) {
		mk_msg(m, 100, atoi(kind + 4) << 4, 34, 0);
		len = 100;
	} else if (!strcmp(kind, "notinit")) {
		mk_msg(m, 300, 0x20, 35, 1);
		m[8] = 0x55;	/* SPIr of an IKE SA nobody knows */
		len = 300;
	} else if (!strcmp(kind, "slow")) {
		mk_msg(m, 300, 0x20, 34, 0);
		for (int i = 0; i < 28 && now_ms() - t0 < ms; i++) {
			if (write(fd, m + i, 1) != 1) {
				/* the reset came while writing */
				printf("%s after %lld ms\n",
				       errno == ECONNRESET || errno == EPIPE ?
				       "reset" : "error", now_ms() - t0);
				close(fd);
				return 0;
			}
			sleep(1);
		}
	} else if (!strcmp(kind, "partial")) {
		mk_msg(m, 3000, 0x20, 34, 0);
		len = 28;
	} else if (strcmp(kind, "silent")) {
		fprintf(stderr, "hostile: unknown kind %s\n", kind);
		return 2;
	}
	if (len && write_all(fd, m, len) && errno != ECONNRESET && errno != EPIPE)
		perror("hostile: write");
	report_end(fd, t0, ms);
	close(fd);
	return 0;
}

/* A valid IKEv2 IKE_SA_INIT request of a fresh IKE SA */
static void send_init(int fd, unsigned int seq)
{
	uint8_t m[400];

	mk_msg(m, sizeof(m), 0x20, 34, 0);
	/* SPIi 5a5a5a5a0000NNNN */
	memset(m, 0x5a, 4);
	memset(m + 4, 0, 2);
	m[6] = seq >> 8;
	m[7] = seq;
	if (write_all(fd, m, sizeof(m)))
		perror("hostile: write");
}

static bool still_open(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return !(poll(&p, 1, 0) == 1 && read(fd, &c, 1) <= 0);
}

static void idle_wake(int sig)
{
	(void)sig;	/* only interrupts the hold */
}

static int do_idle(const char *addr, uint16_t port, int n, char **srcs,
		   int nsrcs)
{
	int acc = 0, ref = 0, open = 0, *fds = calloc(n, sizeof(int));
	bool init = nsrcs && !strcmp(srcs[0], "-i");
	int hold_ms = -1;
	char c;

	if (init) {
		srcs++;
		nsrcs--;
	}
	if (nsrcs >= 2 && !strcmp(srcs[0], "-t")) {
		hold_ms = atoi(srcs[1]);
		srcs += 2;
		nsrcs -= 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < n; i++) {
		fds[i] = tcp_connect_from(addr, port,
					  nsrcs ? srcs[i % nsrcs] : NULL);
		if (fds[i] < 0)
			ref++;
		else if (init)
			send_init(fds[i], i);
	}
	/* refused connections are accepted by TCP, then closed by iketcpd */
	usleep(500000);
	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };

		if (fds[i] < 0)
			continue;
		if (poll(&p, 1, 0) == 1 && read(fds[i], &c, 1) <= 0) {
			ref++;
			close(fds[i]);
			fds[i] = -1;
		} else {
			acc++;
		}
	}
	printf("accepted %d refused %d\n", acc, ref);
	fflush(stdout);
	if (hold_ms >= 0) {
		struct sigaction sa = { .sa_handler = idle_wake };
		struct timespec ts = { hold_ms / 1000, hold_ms % 1000 * 1000000L };

		sigaction(SIGUSR1, &sa, NULL);
		nanosleep(&ts, NULL);
	}
	else
		while (read(0, &c, 1) > 0)
			;
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0 && still_open(fds[i]))
			open++;
	printf("still open %d\n", open);
	return 0;
}

static int do_hold(const char *addr, uint16_t port, int ms, const char *src,
		   bool init)
{
	struct pollfd p;
	long long t0;
	size_t total = 0;
	char buf[4096];
	const char *end = "open";
	int fd = tcp_connect_from(addr, port, src);

	if (fd < 0) {
		printf("refused\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (init)
		send_init(fd, 0);
	t0 = now_ms();
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (now_ms() - t0 < ms &&
	       poll(&p, 1, ms - (now_ms() - t0)) == 1) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0) {
			end = n < 0 && errno == ECONNRESET ? "reset" : "closed";
			break;
		}
		total += n;
	}
	printf("received %zu bytes, then %s\n", total, end);
	close(fd);
	return 0;
}

static int do_flood(const char *addr, uint16_t port, int n)
{
	uint8_t m[400];
	long long t0 = now_ms();
	int fd = tcp_connect(addr, port), sent = 0;

	if (fd < 0) {
		printf("refused\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < n; i++) {
		mk_msg(m, sizeof(m), 0x20, 34, 0);
		m[0] = i >> 24;	/* a fresh SPIi each time */
		m[1] = i >> 16;
		m[2] = i >> 8;
		m[3] = i;
		if (write_all(fd, m, sizeof(m)))
			break;
		sent++;
	}
	printf("sent %d in %lld ms\n", sent, now_ms() - t0);
	close(fd);
	return 0;
}

/* Print the RFC 9329 records that come within @ms, then how it ended */
static void read_records(int fd, long long t0, int ms)
{
	static uint8_t buf[70000];
	size_t have = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = ms - (now_ms() - t0);
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) != 1) {
			printf("open after %lld ms\n", now_ms() - t0);
			return;
		}
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n <= 0) {
			printf("%s after %lld ms\n", !n ? "closed" :
			       errno == ECONNRESET ? "reset" : "error",
			       now_ms() - t0);
			return;
		}
		have += n;
		while (have >= 2) {
			size_t l = buf[0] << 8 | buf[1];
			struct iketcp_ike_hdr h;

			if (l < 2) {
				printf("bad record length %zu\n", l);
				return;
			}
			if (have < l)
				break;
			if (l >= 6 + IKETCP_IKE_HDR_LEN && !buf[2] && !buf[3] &&
			    !buf[4] && !buf[5] &&
			    !iketcp_ike_hdr_parse(buf + 6, l - 6, &h))
				printf("record %zu: ike %u exch %u flags %02x msgid %u%s\n",
				       l, h.length, h.exchange, h.flags, h.msgid,
				       h.length == l - 6 ? "" : " (length mismatch)");
			else
				printf("record %zu: %s\n", l, l > 6 ? "esp" : "other");
			memmove(buf, buf + l, have - l);
			have -= l;
		}
	}
}

static int do_rfc9329(const char *addr, uint16_t port, int ms,
		      const char *prefix)
{
	uint8_t m[2 + 4 + 400];
	long long t0;
	int fd = tcp_connect(addr, port);

	signal(SIGPIPE, SIG_IGN);
	if (fd < 0) {
		printf("refused\n");
		return 0;
	}
	t0 = now_ms();
	if (write_all(fd, prefix, strlen(prefix)))
		perror("hostile: write");
	if (!strcmp(prefix, IKETCP_STREAM_PREFIX)) {
		m[0] = sizeof(m) >> 8;
		m[1] = sizeof(m) & 0xff;
		memset(m + 2, 0, 4);
		mk_msg(m + 6, 400, 0x20, 34, 0);
		memcpy(m + 6, "\x5a\x5a\x5a\x5a\0\0\0\x01", 8);
		if (write_all(fd, m, sizeof(m)))
			perror("hostile: write");
	}
	read_records(fd, t0, ms);
	close(fd);
	return 0;
}

static int do_accept(const char *addr, uint16_t port, int ms)
{
	struct sockaddr_storage ss;
	struct iketcp_ep ep;
	char pfx[8] = "";
	int lfd, fd, one = 1;
	struct pollfd p;
	socklen_t sl;
	long long t0;
	ssize_t n;

	if (iketcp_ep_parse(addr, port, &ep))
		return 2;
	lfd = socket(ep.family, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sl = ep_to_sockaddr(&ep, port, &ss);
	if (lfd < 0 || bind(lfd, (void *)&ss, sl) || listen(lfd, 4)) {
		perror("hostile: listen");
		return 1;
	}
	printf("listening\n");
	p = (struct pollfd){ .fd = lfd, .events = POLLIN };
	if (poll(&p, 1, ms) != 1) {
		printf("no connection within %d ms\n", ms);
		return 0;
	}
	fd = accept(lfd, NULL, NULL);
	t0 = now_ms();
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (fd < 0 || poll(&p, 1, ms) != 1) {
		printf("nothing within %d ms\n", ms);
		return 0;
	}
	/* libreswan's responder: one read of the prefix's 6 bytes */
	n = read(fd, pfx, IKETCP_STREAM_PREFIX_LEN);
	printf("prefix '%.*s' in one read (%zd bytes)\n", n > 0 ? (int)n : 0,
	       pfx, n);
	read_records(fd, t0, ms);
	close(fd);
	close(lfd);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 5 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), argv[4],
			       argc > 5 ? atoi(argv[5]) : 3000);
	if (argc >= 5 && !strcmp(argv[1], "idle"))
		return do_idle(argv[2], atoi(argv[3]), atoi(argv[4]), argv + 5,
			       argc - 5);
	if (argc == 5 && !strcmp(argv[1], "flood"))
		return do_flood(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc >= 5 && !strcmp(argv[1], "hold"))
		return do_hold(argv[2], atoi(argv[3]), atoi(argv[4]),
			       argc > 5 && strcmp(argv[5], "-") ? argv[5] : NULL,
			       argc > 6 && !strcmp(argv[6], "init"));
	if (argc >= 5 && !strcmp(argv[1], "rfc9329"))
		return do_rfc9329(argv[2], atoi(argv[3]), atoi(argv[4]),
				  argc > 5 ? argv[5] : IKETCP_STREAM_PREFIX);
	if (argc == 5 && !strcmp(argv[1], "accept"))
		return do_accept(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: hostile send ADDR PORT KIND [WAIT_MS] | idle ADDR PORT N [-i] [-t MS] [SRC...] | flood ADDR PORT N | hold ADDR PORT MS [SRC|-] [init] | rfc9329 ADDR PORT MS [PREFIX] | accept ADDR PORT MS\n");
	return 2;
}
