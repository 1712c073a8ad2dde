// SPDX-License-Identifier: GPL-2.0
/*
 * fakeike - a scriptable stand-in for a UDP IKE daemon, for deterministic
 * tests of iketcpd without a real daemon. Binds ADDR:500 and ADDR:4500 and
 * reads commands on stdin, one per line:
 *
 *   send DST DPORT LEN VERSION EXCH FLAGS MSGID [SPIR [SPII [natd]]]
 *        send an IKE message (from 500, or from 4500 with the non-ESP
 *        marker when DPORT is 4500); FLAGS and the SPIs in hex; "natd"
 *        makes the first payload an IKEv2 NAT_DETECTION_SOURCE_IP notify
 *   quit
 *
 * and prints one line per datagram received, then flushes:
 *
 *   recv FROM FPORT TO-PORT LEN VERSION EXCH FLAGS MSGID SPIR MARKER OK
 *
 * (OK is 1 when the body matches the pattern "send" writes).
 */
#include <stdbool.h>

#include "lib.h"

static int bind_udp(const struct iketcp_ep *ep, uint16_t port)
{
	struct sockaddr_storage ss = {};
	socklen_t sl;
	int fd = socket(ep->family, SOCK_DGRAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ep->family == AF_INET6) {
		struct sockaddr_in6 *a = (void *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = ep->addr.v6;
		a->sin6_port = htons(port);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (void *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr = ep->addr.v4;
		a->sin_port = htons(port);
		sl = sizeof(*a);
	}
	if (bind(fd, (void *)&ss, sl)) {
		perror("fakeike: bind");
		exit(1);
	}
	return fd;
}

static void do_send(int fd500, int fd4500, char *args)
{
	unsigned int dport, len, version, exch, flags, msgid;
	unsigned long long spir = 0, spii = 0xa0a1a2a3a4a5a6a7ULL;
	static uint8_t buf[70000];
	struct sockaddr_storage ss = {};
	struct iketcp_ep ep;
	char dst[64], natd[8] = "";
	socklen_t sl;
	int off = 0, fd;

	if (sscanf(args, "%63s %u %u %u %u %x %u %llx %llx %7s", dst, &dport,
		   &len, &version, &exch, &flags, &msgid, &spir, &spii,
		   natd) < 7 ||
	    iketcp_ep_parse(dst, dport, &ep) || len < 28 || len > 65000) {
		printf("error bad send\n");
		return;
	}
	fd = dport == 4500 ? fd4500 : fd500;
	if (dport == 4500) {
		memset(buf, 0, 4);
		off = 4;
	}
	mk_msg(buf + off, len, version << 4, exch, msgid);
	for (int i = 0; i < 8; i++) {
		buf[off + i] = spii >> (56 - 8 * i);
		buf[off + 8 + i] = spir >> (56 - 8 * i);
	}
	buf[off + IKETCP_IKE_OFF_FLAGS] = flags;
	if (!strcmp(natd, "natd") && len >= 28 + 28) {
		uint8_t *pl = buf + off + 28;

		buf[off + IKETCP_IKE_OFF_NEXT] = 41;	/* Notify */
		memset(pl, 0, 8);
		pl[3] = 28;				/* payload length */
		pl[6] = 16388 >> 8;			/* NAT_DETECTION_SOURCE_IP */
		pl[7] = 16388 & 0xff;
	}
	if (ep.family == AF_INET6) {
		struct sockaddr_in6 *a = (void *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = ep.addr.v6;
		a->sin6_port = htons(dport);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (void *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr = ep.addr.v4;
		a->sin_port = htons(dport);
		sl = sizeof(*a);
	}
	if (sendto(fd, buf, off + len, 0, (void *)&ss, sl) < 0)
		printf("error send: %s\n", strerror(errno));
	else
		printf("sent %u\n", len);
}

static void do_recv(int fd, uint16_t port)
{
	static uint8_t buf[70000];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct iketcp_ike_hdr h;
	char from[INET6_ADDRSTRLEN];
	uint16_t fport;
	ssize_t n;
	int off = 0;

	n = recvfrom(fd, buf, sizeof(buf), 0, (void *)&ss, &sl);
	if (n <= 0)
		return;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (void *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, from, sizeof(from));
		fport = ntohs(a->sin6_port);
	} else {
		struct sockaddr_in *a = (void *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, from, sizeof(from));
		fport = ntohs(a->sin_port);
	}
	if (port == 4500 && n >= 4 && !(buf[0] | buf[1] | buf[2] | buf[3]))
		off = 4;
	if (iketcp_ike_hdr_parse(buf + off, n - off, &h)) {
		printf("recv %s %u %u %zd short\n", from, fport, port, n);
		return;
	}
	/* check_msg() ignores the SPIs and flags: restore what mk_msg set */
	printf("recv %s %u %u %zd %u %u %x %u %llx %d %d\n", from, fport, port,
	       n - off, h.major, h.exchange, h.flags, h.msgid,
	       (unsigned long long)h.spi_r, off == 4,
	       h.length == (uint32_t)(n - off));
}

int main(int argc, char **argv)
{
	struct iketcp_ep ep;
	int fd500, fd4500;
	char in[4096];
	size_t inlen = 0;

	if (argc != 2 || iketcp_ep_parse(argv[1], 0, &ep)) {
		fprintf(stderr, "usage: fakeike ADDR   (commands on stdin)\n");
		return 2;
	}
	fd500 = bind_udp(&ep, 500);
	fd4500 = bind_udp(&ep, 4500);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = 0, .events = POLLIN },
			{ .fd = fd500, .events = POLLIN },
			{ .fd = fd4500, .events = POLLIN },
		};

		if (poll(p, 3, -1) < 0)
			continue;
		if (p[1].revents & POLLIN)
			do_recv(fd500, 500);
		if (p[2].revents & POLLIN)
			do_recv(fd4500, 4500);
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(0, in + inlen, sizeof(in) - 1 - inlen);
			char *line, *nl;

			if (n <= 0)
				return 0;
			inlen += n;
			in[inlen] = 0;
			/* every complete line: commands can arrive together */
			for (line = in; (nl = strchr(line, '\n')); line = nl + 1) {
				*nl = 0;
				if (!strncmp(line, "send ", 5))
					do_send(fd500, fd4500, line + 5);
				else if (!strncmp(line, "quit", 4))
					return 0;
				else
					printf("error unknown command\n");
			}
			inlen -= line - in;
			memmove(in, line, inlen);
		}
	}
}
