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
 *        (with a hash that matches nothing); "natd-ok" adds both IKEv2 NAT
 *        detection notifies with the right hashes (RFC 7296 s2.23: SHA-1
 *        of SPIi | SPIr | address | port, the source being ADDR and the
 *        port it sends from, the destination DST DPORT): no NAT;
 *        "natd-nat" hashes another source address: the receiver detects
 *        a NAT
 *   quit
 *
 * Like an IKE daemon, its sockets bypass IPsec (an allow socket policy for
 * both directions), so that a policy covering the peers does not capture
 * its IKE datagrams.
 *
 * and prints one line per datagram received, then flushes:
 *
 *   recv FROM FPORT TO-PORT LEN VERSION EXCH FLAGS MSGID SPIR MARKER OK
 *
 * (OK is 1 when the body matches the pattern "send" writes).
 */
#include <stdbool.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>

#include <openssl/evp.h>

#include "addr.h"
#include "lib.h"

static struct iketcp_ep me;

/* The allow socket policy IKE daemons put on their sockets (the key
 * manager that compiles it, xfrm_user, is loaded by opening NETLINK_XFRM,
 * as a daemon does)
 */
static void bypass_ipsec(int fd, int family)
{
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);

	if (nl >= 0)
		close(nl);
	struct xfrm_userpolicy_info pol = {
		.action = XFRM_POLICY_ALLOW,
		.sel.family = family,
		.lft = {
			.soft_byte_limit = XFRM_INF,
			.hard_byte_limit = XFRM_INF,
			.soft_packet_limit = XFRM_INF,
			.hard_packet_limit = XFRM_INF,
		},
	};

	for (int dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_OUT; dir++) {
		pol.dir = dir;
		if (setsockopt(fd, family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
			       family == AF_INET6 ? 35 : 17, &pol, sizeof(pol)) &&
		    errno != ENOPROTOOPT && (errno != EINVAL || nl >= 0)) {
			perror("fakeike: IP_XFRM_POLICY");
			exit(1);
		}
	}
}

/* SHA-1(SPIi | SPIr | address | port) into @out */
static void natd_hash(const uint8_t *spis, const struct iketcp_ep *ep,
		      uint16_t port, uint8_t *out)
{
	uint8_t in[16 + 16 + 2];
	size_t alen = ep->family == AF_INET6 ? 16 : 4;
	unsigned int olen;

	memcpy(in, spis, 16);
	memcpy(in + 16, &ep->addr, alen);
	in[16 + alen] = port >> 8;
	in[16 + alen + 1] = port & 0xff;
	EVP_Digest(in, 16 + alen + 2, out, &olen, EVP_sha1(), NULL);
}

static int bind_udp(const struct iketcp_ep *ep, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(ep->family, SOCK_DGRAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	bypass_ipsec(fd, ep->family);
	sl = ep_to_sockaddr(ep, port, &ss);
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
	char dst[64], natd[12] = "";
	socklen_t sl;
	int off = 0, fd;

	if (sscanf(args, "%63s %u %u %u %u %x %u %llx %llx %11s", dst, &dport,
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
	if (!strncmp(natd, "natd-", 5) && len >= 28 + 2 * 28) {
		uint8_t *pl = buf + off + 28;
		struct iketcp_ep src = me;
		uint16_t sport = dport == 4500 ? 4500 : 500;

		if (!strcmp(natd, "natd-nat"))	/* a private address */
			((uint8_t *)&src.addr)[src.family == AF_INET6 ? 15 : 3] ^= 0x55;
		buf[off + IKETCP_IKE_OFF_NEXT] = 41;	/* Notify */
		for (int n = 0; n < 2; n++, pl += 28) {
			uint16_t type = n ? 16389 : 16388;

			memset(pl, 0, 8);
			pl[0] = n ? 0 : 41;		/* next payload */
			pl[3] = 28;
			pl[6] = type >> 8;
			pl[7] = type & 0xff;
			if (n)
				natd_hash(buf + off, &ep, dport, pl + 8);
			else
				natd_hash(buf + off, &src, sport, pl + 8);
		}
	} else if (!strcmp(natd, "natd") && len >= 28 + 28) {
		uint8_t *pl = buf + off + 28;

		buf[off + IKETCP_IKE_OFF_NEXT] = 41;	/* Notify */
		memset(pl, 0, 8);
		pl[3] = 28;				/* payload length */
		pl[6] = 16388 >> 8;			/* NAT_DETECTION_SOURCE_IP */
		pl[7] = 16388 & 0xff;
	}
	sl = ep_to_sockaddr(&ep, dport, &ss);
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
	me = ep;
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
