// SPDX-License-Identifier: GPL-2.0
/*
 * gen_seeds.c - writes the seed corpora of the fuzzers:
 *   <dir>/corpus-frame/   streams of valid IKEv1/IKEv2 messages, split in
 *                         various ways, and streams that end in each
 *                         framing error, with the fuzz_frame prefix;
 *   <dir>/corpus-config/  a configuration with every directive, one with
 *                         "listen off", one line per error;
 *   <dir>/corpus-ike/     IKE_SA_INIT request and response with NAT-D
 *                         notifies, IKE_AUTH (SK), IKEv1 Main Mode 1 and
 *                         MM3 with NAT-D payloads hashed with MD5, SHA-1,
 *                         SHA-256 for the sender (IPv4, IPv6) or not;
 *   <dir>/corpus-state/   state files written by state_save() of a
 *                         populated daemon (IPv4 and IPv6 peers, every SA
 *                         flag, IKEv1 and IKEv2, more SAs than fuzz_state's
 *                         max-sas), a version 1 file, damaged lines
 *                         (the Makefile adds the regression inputs of
 *                         fixed bugs, crashes/<target>-*);
 *   <dir>/corpus-nl/      notifications as kernel/netlink.c builds them
 *                         (CONN_ATTACHED, CONN_ENDED, MSG in one and in
 *                         several attributes, UDP_CAPTURED, the CONN_GET
 *                         and CAPTURE_GET replies), IPv4 and IPv6, one per
 *                         datagram and several in one, with ACKs, errors
 *                         with an extended ACK message, NLMSG_DONE.
 * Not a fuzzer: built without sanitizers. Usage: gen_seeds <dir>
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <openssl/evp.h>

#include "daemon.h"
#include "log.h"

static const char *outdir;

static void put(const char *corpus, const char *name, const void *b, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/corpus-%s", outdir, corpus);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/corpus-%s/seed-%s", outdir, corpus,
		 name);
	f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* ---- IKE messages ---- */

struct msg {
	uint8_t b[2048];
	size_t n;
	size_t last;	/* offset of the last payload header (its next field) */
};

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void hdr(struct msg *m, uint8_t ver, uint8_t exch, uint8_t flags,
		bool spi_r, uint32_t msgid)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < 8; i++)
		m->b[i] = 0xa0 + i;
	for (int i = 8; i < 16; i++)
		m->b[i] = spi_r ? 0xb0 + i : 0;
	m->b[17] = ver;
	m->b[18] = exch;
	m->b[19] = flags;
	be32(m->b + 20, msgid);
	m->n = 28;
	m->last = 16;	/* the header's next payload field */
}

static void pl(struct msg *m, uint8_t type, const void *body, size_t n)
{
	uint8_t *p = m->b + m->n;

	m->b[m->last] = type;
	p[0] = 0;
	p[1] = 0;
	p[2] = (n + 4) >> 8;
	p[3] = n + 4;
	if (body)
		memcpy(p + 4, body, n);
	else
		for (size_t i = 0; i < n; i++)
			p[4 + i] = i * 7 + type;
	m->last = m->n;
	m->n += n + 4;
}

static void fin(struct msg *m)
{
	be32(m->b + 24, m->n);
}

static void v2_notify(struct msg *m, uint16_t type, size_t dlen)
{
	uint8_t b[64] = { 0, 0, type >> 8, type & 0xff };

	for (size_t i = 0; i < dlen; i++)
		b[4 + i] = 0x55 ^ i;
	pl(m, 41, b, 4 + dlen);
}

static void natd_hash(const EVP_MD *md, const uint8_t *cky, int family,
		      const uint8_t *addr, uint16_t port, uint8_t *out)
{
	size_t al = family == AF_INET6 ? 16 : 4;
	unsigned int olen;
	uint8_t in[34];

	memcpy(in, cky, 16);
	memcpy(in + 16, addr, al);
	in[16 + al] = port >> 8;
	in[17 + al] = port;
	EVP_Digest(in, 18 + al, out, &olen, md, NULL);
}

/* fuzz_ike prefix: flags, 16 address bytes, port */
static void ike_seed(const char *name, uint8_t flags, const uint8_t *addr,
		     uint16_t port, const struct msg *m)
{
	uint8_t b[19 + sizeof(m->b)];

	b[0] = flags;
	memset(b + 1, 0, 16);
	memcpy(b + 1, addr, flags & 1 ? 16 : 4);
	b[17] = port >> 8;
	b[18] = port;
	memcpy(b + 19, m->b, m->n);
	put("ike", name, b, 19 + m->n);
}

static struct msg sa_init_req, sa_init_resp, ike_auth, mm1, mm3;

static void ike_seeds(void)
{
	uint8_t v4[4], v6[16], other[4], h1[64], h2[64];
	const struct { const char *name; const EVP_MD *md; } mds[] = {
		{ "md5", EVP_md5() }, { "sha1", EVP_sha1() },
		{ "sha256", EVP_sha256() },
	};
	struct msg m;
	char name[64];

	inet_pton(AF_INET, "100.64.0.2", v4);
	inet_pton(AF_INET, "198.51.100.1", other);
	inet_pton(AF_INET6, "2001:db8::2", v6);

	/* IKE_SA_INIT request: SA, KE, Ni, N(NAT_DETECTION_*_IP) */
	hdr(&m, 0x20, 34, 0x08, false, 0);
	pl(&m, 33, NULL, 40);
	pl(&m, 34, NULL, 36);
	pl(&m, 40, NULL, 32);
	v2_notify(&m, 16388, 20);
	v2_notify(&m, 16389, 20);
	fin(&m);
	sa_init_req = m;
	ike_seed("v2-sa-init-req-natd", 0, v4, 500, &m);

	/* IKE_SA_INIT response with NAT-D and another notify first */
	hdr(&m, 0x20, 34, 0x20, true, 0);
	pl(&m, 33, NULL, 40);
	pl(&m, 34, NULL, 36);
	pl(&m, 40, NULL, 32);
	v2_notify(&m, 16430, 0);	/* IKEV2_FRAGMENTATION_SUPPORTED */
	v2_notify(&m, 16389, 20);
	v2_notify(&m, 16388, 20);
	fin(&m);
	sa_init_resp = m;
	ike_seed("v2-sa-init-resp-natd", 0, v4, 500, &m);

	/* IKE_SA_INIT without NAT-D */
	hdr(&m, 0x20, 34, 0x08, false, 0);
	pl(&m, 33, NULL, 40);
	pl(&m, 40, NULL, 32);
	fin(&m);
	ike_seed("v2-sa-init-no-natd", 0, v4, 500, &m);

	/* IKE_AUTH: SK, nothing readable */
	hdr(&m, 0x20, 35, 0x08, true, 1);
	pl(&m, 46, NULL, 200);
	m.b[28] = 35;		/* SK's next payload: IDi, inside */
	fin(&m);
	ike_auth = m;
	ike_seed("v2-ike-auth-sk", 0, v4, 4500, &m);

	/* IKEv1 Main Mode message 1: SA, VID */
	hdr(&m, 0x10, 2, 0, false, 0);
	pl(&m, 1, NULL, 52);
	pl(&m, 13, NULL, 16);
	fin(&m);
	mm1 = m;
	ike_seed("v1-mm1", 0, v4, 500, &m);

	/* IKEv1 MM3: KE, Nonce, NAT-D (receiver), NAT-D (sender) */
	for (size_t i = 0; i < sizeof(mds) / sizeof(*mds); i++) {
		size_t hl = EVP_MD_size(mds[i].md);

		for (int v6s = 0; v6s < 2; v6s++) {
			hdr(&m, 0x10, 2, 0, true, 0);
			pl(&m, 4, NULL, 128);
			pl(&m, 10, NULL, 20);
			natd_hash(mds[i].md, m.b, AF_INET, other, 500, h1);
			natd_hash(mds[i].md, m.b, v6s ? AF_INET6 : AF_INET,
				  v6s ? v6 : v4, 500, h2);
			pl(&m, 20, h1, hl);
			pl(&m, 20, h2, hl);
			fin(&m);
			if (i == 1 && !v6s)
				mm3 = m;
			snprintf(name, sizeof(name), "v1-mm3-natd-%s-%s",
				 mds[i].name, v6s ? "v6" : "v4");
			ike_seed(name, v6s, v6s ? v6 : v4, 500, &m);
			/* the same, seen from a NAT's address */
			snprintf(name, sizeof(name), "v1-mm3-natd-%s-%s-nat",
				 mds[i].name, v6s ? "v6" : "v4");
			ike_seed(name, v6s, other, 4500, &m);
		}
	}
	/* draft NAT-D (130), hash planted by the fuzzer into payload 2 */
	hdr(&m, 0x10, 2, 0, true, 0);
	pl(&m, 4, NULL, 128);
	pl(&m, 10, NULL, 20);
	pl(&m, 130, NULL, 20);
	pl(&m, 130, NULL, 20);
	pl(&m, 130, NULL, 20);
	fin(&m);
	ike_seed("v1-mm3-natd-draft-plant", 2 | 2 << 2, v4, 500, &m);
	/* encrypted MM5 */
	hdr(&m, 0x10, 2, 1, true, 0);
	pl(&m, 5, NULL, 60);
	fin(&m);
	ike_seed("v1-mm5-encrypted", 0, v4, 500, &m);
}

/* ---- framing streams ---- */

struct stream {
	uint8_t b[8192];
	size_t n;
};

/* fuzz_frame prefix: flags, max_len (4), K, mode, splits */
static void frame_seed(const char *name, uint8_t flags, uint32_t max_len,
		       uint8_t k, uint8_t mode, const uint16_t *split,
		       const struct stream *s)
{
	uint8_t b[7 + 32 + sizeof(s->b)];
	size_t nsplit = flags >> 4, n = 7;

	b[0] = flags;
	if ((flags & 3) == 0) {
		b[1] = max_len;
	} else if ((flags & 3) == 1) {
		b[1] = max_len >> 8;
		b[2] = max_len;
	} else {
		be32(b + 1, max_len);
	}
	b[5] = k;
	b[6] = mode;
	for (size_t i = 0; i < nsplit; i++) {
		b[n++] = split[i] >> 8;
		b[n++] = split[i];
	}
	memcpy(b + n, s->b, s->n);
	put("frame", name, b, n + s->n);
}

static void add(struct stream *s, const struct msg *m)
{
	memcpy(s->b + s->n, m->b, m->n);
	s->n += m->n;
}

static void add_hdr(struct stream *s, uint8_t ver, uint32_t len)
{
	struct msg m;

	hdr(&m, ver, 34, 0x08, false, 0);
	be32(m.b + 24, len);
	add(s, &m);
}

static void frame_seeds(void)
{
	static const uint16_t splits[] = { 5, 12, 10, 1, 100, 0, 27, 2 };
	static const uint16_t hdr_splits[] = { 17, 1, 9, 1 };
	struct stream s = {}, t;
	struct msg small;

	add(&s, &sa_init_req);
	add(&s, &sa_init_resp);
	add(&s, &mm1);
	add(&s, &mm3);
	add(&s, &ike_auth);
	hdr(&small, 0x20, 37, 0x28, true, 7);	/* empty INFORMATIONAL */
	fin(&small);
	add(&s, &small);

	frame_seed("valid-whole", 0x03, 0, 0, 0, NULL, &s);
	frame_seed("valid-split", 0x83, 0, 0, 0, splits, &s);
	frame_seed("valid-split-hdr", 0x43, 0, 0, 0, hdr_splits, &s);
	frame_seed("valid-stop-3", 0x07, 0, 2, 0, NULL, &s);
	frame_seed("valid-max16", 0x21, 1024, 0, 0, splits, &s);
	frame_seed("valid-max32-clamp", 0x02, 0x00100000, 0, 0, NULL, &s);
	frame_seed("valid-max8-clamp", 0x00, 5, 0, 0, NULL, &s);
	frame_seed("mode-unspec", 0x0b, 0, 0, 0, NULL, &s);
	frame_seed("mode-bogus", 0x0b, 0, 0, 200, NULL, &s);

	t = s;
	t.n -= 10;	/* ends inside the last message */
	frame_seed("tail", 0x13, 0, 0, 0, splits, &t);
	t.n = s.n - small.n + 20;	/* ... inside its header */
	frame_seed("tail-hdr", 0x03, 0, 0, 0, NULL, &t);

	t = s;
	add_hdr(&t, 0x30, 100);		/* IKE version 3 */
	frame_seed("bad-version", 0x03, 0, 0, 0, NULL, &t);
	t.n -= 10;			/* error decided before the length */
	frame_seed("bad-version-early", 0x13, 0, 0, 0, splits + 6, &t);
	t = s;
	add_hdr(&t, 0x10, 27);
	frame_seed("len-short", 0x03, 0, 0, 0, NULL, &t);
	t = s;
	add_hdr(&t, 0x20, 0x10000);
	frame_seed("len-long", 0x03, 0, 0, 0, NULL, &t);
	frame_seed("len-long-small-max", 0x21, 210, 0, 0, hdr_splits, &s);

	t.n = 0;
	add(&t, &small);
	frame_seed("one-min", 0x03, 0, 0, 0, NULL, &t);
	frame_seed("one-min-max28", 0x00, 28, 0, 0, NULL, &t);
}

/* RFC 9329 records: an IKE message behind length and marker, ESP, raw */
static void rec_ike(struct stream *s, const struct msg *m)
{
	uint32_t len = m->n + 6;

	s->b[s->n++] = len >> 8;
	s->b[s->n++] = len;
	memset(s->b + s->n, 0, 4);
	s->n += 4;
	add(s, m);
}

static void rec_esp(struct stream *s, uint32_t spi, size_t body)
{
	uint32_t len = body + 2;

	s->b[s->n++] = len >> 8;
	s->b[s->n++] = len;
	be32(s->b + s->n, spi);
	for (size_t i = 4; i < body; i++)
		s->b[s->n + i] = i * 7;
	s->n += body;
}

static void rec_bytes(struct stream *s, const uint8_t *b, size_t n)
{
	memcpy(s->b + s->n, b, n);
	s->n += n;
}

static void frame_seeds_rfc9329(void)
{
	static const uint16_t splits[] = { 1, 1, 4, 17, 10, 1, 2, 3 };
	static const uint8_t pad[] = { 0, 2 }, ka[] = { 0, 3, 0xff };
	struct stream s = {}, t;
	struct msg small;

	hdr(&small, 0x20, 37, 0x28, true, 7);	/* empty INFORMATIONAL */
	fin(&small);
	rec_ike(&s, &sa_init_req);
	rec_esp(&s, 0xc0ffee01, 120);
	rec_bytes(&s, pad, sizeof(pad));
	rec_ike(&s, &ike_auth);
	rec_bytes(&s, ka, sizeof(ka));
	rec_esp(&s, 1, 8);
	rec_ike(&s, &small);
	frame_seed("rfc9329-valid", 0x0b, 0, 0, IKETCP_FRAMING_RFC9329, NULL, &s);
	frame_seed("rfc9329-split", 0x8b, 0, 0, IKETCP_FRAMING_RFC9329,
		   splits, &s);
	frame_seed("rfc9329-stop-1", 0x0f, 0, 0, IKETCP_FRAMING_RFC9329, NULL,
		   &s);
	frame_seed("rfc9329-small-max", 0x09, 300, 0, IKETCP_FRAMING_RFC9329,
		   NULL, &s);

	t = s;
	rec_bytes(&t, (const uint8_t[]){ 0, 1 }, 2);
	frame_seed("rfc9329-len-1", 0x0b, 0, 0, IKETCP_FRAMING_RFC9329, NULL, &t);
	t = s;
	rec_bytes(&t, (const uint8_t[]){ 0, 4, 0xff, 0xff }, 4);
	frame_seed("rfc9329-short-body", 0x0b, 0, 0, IKETCP_FRAMING_RFC9329,
		   NULL, &t);
	t = s;
	rec_esp(&t, 7, 6);
	frame_seed("rfc9329-esp-short", 0x0b, 0, 0, IKETCP_FRAMING_RFC9329,
		   NULL, &t);
	t = s;
	rec_ike(&t, &small);
	t.b[t.n - small.n + 27] += 4;	/* IKE length != record's */
	frame_seed("rfc9329-len-mismatch", 0x0b, 0, 0, IKETCP_FRAMING_RFC9329,
		   NULL, &t);
	t = s;
	rec_ike(&t, &small);
	t.b[t.n - small.n + 17] = 0x30;
	frame_seed("rfc9329-bad-version", 0x0b, 0, 0, IKETCP_FRAMING_RFC9329,
		   NULL, &t);
	t.n = 0;
	rec_bytes(&t, (const uint8_t *)"IKETCP", 6);
	rec_ike(&t, &small);
	frame_seed("rfc9329-prefix", 0x0b, 0, 0, IKETCP_FRAMING_RFC9329, NULL,
		   &t);
}

/* ---- configurations ---- */

static void config_seed(const char *name, uint8_t path, uint8_t errlen,
			const char *text)
{
	size_t n = strlen(text);
	uint8_t *b = malloc(n + 2);

	if (!b)
		exit(1);
	b[0] = path;
	b[1] = errlen;
	memcpy(b + 2, text, n);
	put("config", name, b, n + 2);
	free(b);
}

static void config_seeds(void)
{
	config_seed("every-directive", 0, 64,
		"# iketcpd.conf with every directive\n"
		"listen 0.0.0.0 500\n"
		"listen :: 4500\n"
		"listen 192.0.2.1\n"
		"log-level debug\n"
		"retransmit-threshold 3\n"
		"idle-timeout 600\n"
		"reconnect-max 60\n"
		"queue-max 128\n"
		"hold-time 30\n"
		"\n"
		"peer 198.51.100.0/24 tcp\n"
		"peer 198.51.100.128/25 udp\n"
		"peer 203.0.113.7 auth port 4500\n"
		"peer 203.0.113.0/24 init+auth\n"
		"peer 10.0.0.0/8 auto port 10500\n"
		"peer 0.0.0.0/0 fallback\n"
		"peer 2001:db8:100::/48 fallback\n"
		"peer 2001:db8::/32 tcp port 500\n"
		"peer ::/0 udp\n"
		"peer ::ffff:192.0.2.1 auth   # v4-mapped\n"
		"\tpeer 2001:db8::1/128 init+auth\t# tabs\r\n"
		"log-level error");
	config_seed("listen-off", 1, 0,
		"listen off\n"
		"log-level warning\n"
		"peer 192.0.2.0/24 tcp\n"
		"peer 192.0.2.0/28 udp\n"
		"peer 192.0.2.16/28 fallback port 1\n"
		"retransmit-threshold 100\n"
		"idle-timeout 0\n"
		"queue-max 100000\n"
		"hold-time 3600\n"
		"reconnect-max 3600\n");
	config_seed("rfc9329", 0, 128,
		"peer 198.51.100.0/24 tcp framing rfc9329\n"
		"peer 198.51.100.7 auth framing rfc9329 port 443\n"
		"peer 198.51.100.8 tcp port 4501 framing raw\n"
		"peer 2001:db8::/32 fallback framing rfc9329\n"
		"listen 0.0.0.0 4500 framing rfc9329\n"
		"listen :: framing rfc9329\n"
		"listen 192.0.2.1 framing raw\n"
		"listen 192.0.2.1 4500 framing rfc9329\n");
	config_seed("rfc9329-default-listeners", 1, 64,
		"peer 0.0.0.0/0 tcp framing rfc9329\n"
		"peer ::/0 udp framing rfc9329\n");
	config_seed("defaults", 2, 255, "# nothing\n\n   \n");
	config_seed("errors", 1, 200,
		"peer 192.0.2.1\n"
		"peer 192.0.2.1/33 tcp\n"
		"peer 192.0.2.1/24 tcp\n"
		"peer 192.0.2.0/24 bogus\n"
		"peer 192.0.2.0/24 tcp port 0\n"
		"peer 192.0.2.0/24 tcp prot 5\n"
		"peer 192.0.2.0/24 tcp\n"
		"peer 192.0.2.0/24 udp\n"
		"peer 2001:db8::1/129 tcp\n"
		"peer example.org tcp\n"
		"listen\n"
		"listen 0.0.0.0 0\n"
		"listen 0.0.0.0 65536\n"
		"listen host\n"
		"listen off\n"
		"log-level loud\n"
		"retransmit-threshold 0\n"
		"idle-timeout -1\n"
		"reconnect-max 3601\n"
		"queue-max x\n"
		"hold-time 1 2\n"
		"frobnicate\n"
		"a b c d e f g h i j\n");
	config_seed("listen-off-conflict", 3, 16,
		"listen off\nlisten 127.0.0.1 500\n");
	config_seed("prefix-lengths", 0, 80,
		"peer 10.0.0.0/08 tcp\n"
		"peer 10.128.0.0/9 udp port 0500\n"
		"peer 2001:db8:8000::/33 auth\n"
		"peer ::/1 auto\n");
}

/* ---- state files ---- */

/* the daemon's clock (iketcpd.c, not linked here) */
long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static struct iketcp_ep ep(const char *s)
{
	struct iketcp_ep e;

	if (iketcp_ep_parse(s, 0, &e))
		exit(1);
	return e;
}

static void state_sa(struct daemon *d, struct peer *p, uint64_t spi,
		     int major, uint16_t lport, uint16_t rport, int flags)
{
	struct sa *sa = sa_create(d, p, spi, major, SA_ACTIVE, now_ms());

	if (!sa)
		exit(1);
	sa->lport = lport;
	sa->rport = rport;
	sa->ports_known = flags & 1;
	sa->nat = flags & 64 ? !!(flags & 2) : -1;
	sa->v1_seen_start = flags & 4;
	sa->v1_peer_started_udp = flags & 8;
	sa->post_setup_sent = flags & 16;
	if (flags & 32)
		sa_set_authed(d, sa, now_ms());
}

static void state_write(struct daemon *d, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/corpus-state", outdir);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/corpus-state/seed-%s", outdir, name);
	d->state_path = path;
	d->state_dirty = true;
	if (state_save(d))
		exit(1);
	peer_close_all(d);
	bridge_free(d);
	d->state_path = NULL;
}

static void state_text(const char *name, const char *text)
{
	put("state", name, text, strlen(text));
}

static void state_seeds(void)
{
	struct daemon d = {};
	struct peer *a, *b, *c;

	d.cfg.max_sas = 1000;
	d.cfg.max_half_open = 100;
	log_init(true, LOG_ERR);

	/* every flag, both versions, both families */
	a = peer_get(&d, &(struct iketcp_ep){ .family = AF_INET, .addr.v4.s_addr = htonl(0xc0000201) },
		     &(struct iketcp_ep){ .family = AF_INET, .addr.v4.s_addr = htonl(0xc0000202) });
	b = peer_get(&d, &(struct iketcp_ep){ .family = AF_INET, .addr.v4.s_addr = htonl(0xc6336401) },
		     &(struct iketcp_ep){ .family = AF_INET, .addr.v4.s_addr = htonl(0x0a000001) });
	{
		struct iketcp_ep r = ep("2001:db8::1"), l = ep("2001:db8:1::2");

		c = peer_get(&d, &r, &l);
	}
	if (!a || !b || !c)
		exit(1);
	a->originator = a->ever_up = true;
	a->tcp_port = 4500;
	b->ever_up = true;
	b->fallback_tcp = true;
	c->originator = true;	/* never up: saved as not the originator */
	state_sa(&d, a, 0x0102030405060708ULL, 2, 500, 500, 1 | 32 | 64);
	state_sa(&d, a, 0x1112131415161718ULL, 2, 4500, 4500, 1 | 2 | 16 | 32 | 64);
	state_sa(&d, a, 0xffffffffffffffffULL, 1, 500, 500, 1 | 4 | 8 | 32);
	state_sa(&d, b, 0x00000000000000ffULL, 2, 0, 0, 32);
	state_sa(&d, b, 0x8000000000000000ULL, 1, 4500, 62000, 1 | 2 | 4 | 16 | 64);
	state_sa(&d, c, 0xa0a1a2a3a4a5a6a7ULL, 2, 500, 4500, 1 | 32 | 64);
	state_sa(&d, c, 0xa0a1a2a3a4a5a6a7ULL ^ 1, 1, 4500, 4500, 127);
	state_write(&d, "every-flag");

	/* more SAs than fuzz_state's max-sas (12): the oldest make room */
	a = peer_get(&d, &(struct iketcp_ep){ .family = AF_INET, .addr.v4.s_addr = htonl(0xc0000210) },
		     &(struct iketcp_ep){ .family = AF_INET, .addr.v4.s_addr = htonl(0xc0000202) });
	{
		struct iketcp_ep r = ep("2001:db8::10"), l = ep("2001:db8:1::2");

		b = peer_get(&d, &r, &l);
	}
	if (!a || !b)
		exit(1);
	a->ever_up = a->originator = true;
	for (int i = 0; i < 20; i++)
		state_sa(&d, i % 3 ? a : b, 0x1000 + i * 0x10001ULL, 1 + i % 2,
			 i % 2 ? 4500 : 500, 500 + i, (i * 37) & 127);
	state_write(&d, "beyond-max-sas");

	/* peers only */
	a = peer_get(&d, &(struct iketcp_ep){ .family = AF_INET, .addr.v4.s_addr = htonl(0xcb007107) },
		     &(struct iketcp_ep){ .family = AF_INET, .addr.v4.s_addr = htonl(0xc0000202) });
	if (!a)
		exit(1);
	a->ever_up = true;
	state_write(&d, "peer-only");

	state_text("v1",
		   "iketcpd-state 1\n"
		   "peer 192.0.2.1 192.0.2.2 1 1 0 500\n"
		   "sa 192.0.2.1 0102030405060708 2 500 500 1\n"
		   "sa 2001:db8::1 00000000000000ff 1 500 4500 127\n"
		   "sa 198.51.100.7 a0a1a2a3a4a5a6a7 1 4500 4500 12\n");
	state_text("damaged",
		   "iketcpd-state 2\n"
		   "peer 192.0.2.1 192.0.2.2 1 1 0 500\n"
		   "peer 192.0.2.1 - 1 1 0 500\n"
		   "peer example.org 192.0.2.2 1 1 0 500\n"
		   "peer 192.0.2.1 192.0.2.2 1 1\n"
		   "sa 192.0.2.1 192.0.2.2 0102030405060708 2 500 500 33\n"
		   "sa 192.0.2.1 192.0.2.2 0102030405060708 1 500 500 1\n"
		   "sa 192.0.2.1 192.0.2.9 0102030405060708 2 500 500 33\n"
		   "sa 192.0.2.1 0102030405060708 2 500 500 33\n"
		   "sa 192.0.2.1 192.0.2.2 zz 2 500 500 33\n"
		   "sa 2001:db8::1 ::1 1 2 500 500 33 trailing\n"
		   "unknown line\n"
		   "\n");
	state_text("header-only", "iketcpd-state 2\n");
	state_text("bad-header", "iketcpd-state 3\npeer 192.0.2.1 192.0.2.2 1 1 0 500\n");
}

/* ---- netlink notifications ---- */

#define NL_FAMILY 0x1d	/* fuzz_nl's family id */

struct nlbuf {
	uint8_t b[16384] __attribute__((aligned(4)));
	size_t n;	/* bytes of the finished messages */
};

static struct nlmsghdr *nl_msg(struct nlbuf *nb, uint16_t type, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nb->b + nb->n);

	nlh->nlmsg_type = type;
	if (type == NL_FAMILY) {
		struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

		g->cmd = cmd;
		g->version = IKETCP_GENL_VERSION;
	}
	return nlh;
}

static void nl_end(struct nlbuf *nb, struct nlmsghdr *nlh)
{
	nb->n += nlh->nlmsg_len;
}

static void nl_seed(const char *name, const struct nlbuf *nb)
{
	put("nl", name, nb->b, nb->n);
}

struct nl_conn {
	uint32_t id;
	bool v6;
	uint16_t lport, rport;
};

static void nl_addrs(struct nlmsghdr *nlh, const struct nl_conn *c)
{
	static const uint8_t l6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	static const uint8_t r6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	if (c->v6) {
		mnl_attr_put(nlh, IKETCP_A_LOCAL_IPV6, 16, l6);
		mnl_attr_put_u16(nlh, IKETCP_A_LOCAL_PORT, c->lport);
		mnl_attr_put(nlh, IKETCP_A_REMOTE_IPV6, 16, r6);
		mnl_attr_put_u16(nlh, IKETCP_A_REMOTE_PORT, c->rport);
	} else {
		mnl_attr_put_u32(nlh, IKETCP_A_LOCAL_IPV4, htonl(0xc0000202));
		mnl_attr_put_u16(nlh, IKETCP_A_LOCAL_PORT, c->lport);
		mnl_attr_put_u32(nlh, IKETCP_A_REMOTE_IPV4, htonl(0xc0000201));
		mnl_attr_put_u16(nlh, IKETCP_A_REMOTE_PORT, c->rport);
	}
}

static void nl_stats(struct nlmsghdr *nlh, bool pad)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, IKETCP_A_STATS);

	for (int i = IKETCP_STAT_RX_MSGS; i <= IKETCP_STAT_MAX; i++) {
		if (i == IKETCP_STAT_PAD)
			continue;
		if (pad)	/* nla_put_u64_64bit() without unaligned access */
			mnl_attr_put(nlh, IKETCP_STAT_PAD, 0, NULL);
		mnl_attr_put_u64(nlh, i, 1000 * i + 7);
	}
	mnl_attr_nest_end(nlh, nest);
}

/* iketcp_nl_fill_conn(): CONN_ATTACHED, CONN_GET */
static void nl_conn(struct nlbuf *nb, uint8_t cmd, const struct nl_conn *c,
		    bool ended, bool pad)
{
	struct nlmsghdr *nlh = nl_msg(nb, NL_FAMILY, cmd);

	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, c->id);
	nl_addrs(nlh, c);
	if (pad)
		mnl_attr_put(nlh, IKETCP_A_PAD, 0, NULL);
	mnl_attr_put_u64(nlh, IKETCP_A_CONN_INODE, 0x100000 + c->id);
	mnl_attr_put_u8(nlh, IKETCP_A_FRAMING, IKETCP_FRAMING_RAW);
	mnl_attr_put_u8(nlh, IKETCP_A_CONN_STATE, ended ? IKETCP_CONN_STATE_ENDED :
							  IKETCP_CONN_STATE_ACTIVE);
	if (ended) {
		mnl_attr_put_u8(nlh, IKETCP_A_REASON, IKETCP_REASON_ERROR);
		mnl_attr_put_u32(nlh, IKETCP_A_ERRNO, ECONNRESET);
		mnl_attr_put(nlh, IKETCP_A_TRUNCATED, 0, NULL);
	}
	nl_stats(nlh, pad);
	nl_end(nb, nlh);
}

/* iketcp_nl_notify_ended() */
static void nl_ended(struct nlbuf *nb, const struct nl_conn *c, uint8_t reason,
		     uint32_t err, bool truncated)
{
	struct nlmsghdr *nlh = nl_msg(nb, NL_FAMILY, IKETCP_CMD_CONN_ENDED);

	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, c->id);
	nl_addrs(nlh, c);
	mnl_attr_put_u8(nlh, IKETCP_A_REASON, reason);
	if (err)
		mnl_attr_put_u32(nlh, IKETCP_A_ERRNO, err);
	if (truncated)
		mnl_attr_put(nlh, IKETCP_A_TRUNCATED, 0, NULL);
	nl_stats(nlh, false);
	nl_end(nb, nlh);
}

/* the IKE message in chunks of at most @chunk bytes */
static void nl_put_ike(struct nlmsghdr *nlh, const struct msg *m, size_t chunk)
{
	for (size_t off = 0; off < m->n; off += chunk)
		mnl_attr_put(nlh, IKETCP_A_MSG,
			     m->n - off < chunk ? m->n - off : chunk, m->b + off);
}

/* iketcp_nl_notify_msg() */
static void nl_ike(struct nlbuf *nb, const struct nl_conn *c,
		   const struct msg *m, size_t chunk)
{
	struct nlmsghdr *nlh = nl_msg(nb, NL_FAMILY, IKETCP_CMD_MSG);

	mnl_attr_put_u32(nlh, IKETCP_A_CONN_ID, c->id);
	nl_addrs(nlh, c);
	nl_put_ike(nlh, m, chunk);
	nl_end(nb, nlh);
}

/* iketcp_nl_notify_captured() */
static void nl_captured(struct nlbuf *nb, const struct nl_conn *c,
			bool nonesp, const struct msg *m, size_t chunk)
{
	struct nlmsghdr *nlh = nl_msg(nb, NL_FAMILY, IKETCP_CMD_UDP_CAPTURED);

	nl_addrs(nlh, c);
	if (nonesp)
		mnl_attr_put(nlh, IKETCP_A_NONESP, 0, NULL);
	mnl_attr_put_u32(nlh, IKETCP_A_PMTU, c->v6 ? 1280 : 1500);
	nl_put_ike(nlh, m, chunk);
	nl_end(nb, nlh);
}

/* iketcp_nl_capture_dump() */
static void nl_rule(struct nlbuf *nb, bool v6, uint8_t plen, bool capture)
{
	struct nlmsghdr *nlh = nl_msg(nb, NL_FAMILY, IKETCP_CMD_CAPTURE_GET);
	static const uint8_t p6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = 7;
	if (v6)
		mnl_attr_put(nlh, IKETCP_A_REMOTE_IPV6, 16, p6);
	else
		mnl_attr_put_u32(nlh, IKETCP_A_REMOTE_IPV4, htonl(0xc6336400));
	mnl_attr_put_u16(nlh, IKETCP_A_REMOTE_PORT, 0);
	mnl_attr_put_u8(nlh, IKETCP_A_PREFIXLEN, plen);
	mnl_attr_put_u8(nlh, IKETCP_A_CAPTURE, capture);
	nl_end(nb, nlh);
}

/* an NLMSG_ERROR: an ACK (0), or an error with an extended ACK message */
static void nl_err(struct nlbuf *nb, int error, const char *text, bool capped)
{
	struct nlmsghdr *nlh = nl_msg(nb, NLMSG_ERROR, 0);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	e->error = error;
	e->msg.nlmsg_len = sizeof(e->msg) + GENL_HDRLEN;
	e->msg.nlmsg_type = NL_FAMILY;
	e->msg.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	e->msg.nlmsg_seq = 7;
	if (!capped)	/* the request's genetlink header echoed */
		mnl_nlmsg_put_extra_header(nlh, GENL_HDRLEN);
	if (text) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 20);
	}
	if (capped)
		nlh->nlmsg_flags |= NLM_F_CAPPED;
	nl_end(nb, nlh);
}

static void nl_done(struct nlbuf *nb)
{
	struct nlmsghdr *nlh = nl_msg(nb, NLMSG_DONE, 0);

	nlh->nlmsg_flags = NLM_F_MULTI;
	mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	nl_end(nb, nlh);
}

static void nl_seeds(void)
{
	static struct nlbuf nb;
	const struct nl_conn c4 = { 3, false, 500, 40123 },
			     c6 = { 4, true, 4500, 4500 },
			     out = { 9, false, 51000, 500 };
	static const struct { const char *name; uint8_t reason; uint32_t err;
			      bool trunc; } ends[] = {
		{ "peer-fin", IKETCP_REASON_PEER_FIN, 0, false },
		{ "peer-reset", IKETCP_REASON_PEER_RESET, ECONNRESET, false },
		{ "local-close", IKETCP_REASON_LOCAL_CLOSE, 0, true },
		{ "admin", IKETCP_REASON_ADMIN, 0, false },
		{ "error", IKETCP_REASON_ERROR, ETIMEDOUT, true },
		{ "len-short", IKETCP_REASON_LEN_SHORT, 0, false },
		{ "len-long", IKETCP_REASON_LEN_LONG, 0, true },
		{ "bad-version", IKETCP_REASON_BAD_VERSION, 0, true },
		{ "timeout", IKETCP_REASON_TIMEOUT, 0, false },
	};
	char name[64];

	nb.n = 0;
	nl_conn(&nb, IKETCP_CMD_CONN_ATTACHED, &c4, false, false);
	nl_seed("attached-v4", &nb);
	nb.n = 0;
	nl_conn(&nb, IKETCP_CMD_CONN_ATTACHED, &c6, false, true);
	nl_seed("attached-v6-pad", &nb);
	nb.n = 0;
	nl_conn(&nb, IKETCP_CMD_CONN_GET, &c4, true, false);
	nl_seed("conn-get-ended", &nb);
	for (size_t i = 0; i < sizeof(ends) / sizeof(*ends); i++) {
		nb.n = 0;
		nl_ended(&nb, i % 2 ? &c6 : &c4, ends[i].reason, ends[i].err,
			 ends[i].trunc);
		snprintf(name, sizeof(name), "ended-%s", ends[i].name);
		nl_seed(name, &nb);
	}
	nb.n = 0;
	nl_ike(&nb, &c4, &sa_init_req, 65528);
	nl_seed("msg-v4", &nb);
	nb.n = 0;
	nl_ike(&nb, &c6, &ike_auth, 65528);
	nl_seed("msg-v6", &nb);
	nb.n = 0;
	nl_ike(&nb, &c4, &mm3, 40);	/* several attributes */
	nl_seed("msg-chunks", &nb);
	nb.n = 0;
	nl_captured(&nb, &out, false, &sa_init_resp, 65528);
	nl_seed("captured-v4", &nb);
	nb.n = 0;
	nl_captured(&nb, &c6, true, &ike_auth, 100);
	nl_seed("captured-v6-nonesp-chunks", &nb);
	nb.n = 0;
	nl_rule(&nb, false, 24, true);
	nl_rule(&nb, true, 32, false);
	nl_done(&nb);
	nl_seed("capture-dump", &nb);

	/* a datagram as the helper reads one: several notifications */
	nb.n = 0;
	nl_conn(&nb, IKETCP_CMD_CONN_ATTACHED, &c4, false, false);
	nl_ike(&nb, &c4, &sa_init_req, 65528);
	nl_ike(&nb, &c4, &mm1, 16);
	nl_captured(&nb, &out, true, &mm3, 65528);
	nl_err(&nb, 0, NULL, true);	/* a late ACK */
	nl_ended(&nb, &c4, IKETCP_REASON_PEER_FIN, 0, false);
	nl_seed("datagram", &nb);
	nb.n = 0;
	nl_ike(&nb, &c6, &mm1, 65528);
	nl_err(&nb, -EINVAL, "IKETCP_A_MSG is not one IKE message", false);
	nl_ike(&nb, &c6, &mm1, 65528);
	nl_seed("datagram-error-extack", &nb);
	nb.n = 0;
	nl_err(&nb, -ENOENT, "no such connection", true);
	nl_seed("error-extack-capped", &nb);
	nb.n = 0;
	nl_ike(&nb, &c4, &mm1, 65528);
	nl_msg(&nb, 0x42, 0);	/* another family's: skipped */
	nl_end(&nb, (struct nlmsghdr *)(nb.b + nb.n));
	nl_done(&nb);
	nl_ike(&nb, &c4, &mm1, 65528);
	nl_seed("datagram-done", &nb);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <dir>\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	ike_seeds();
	frame_seeds();
	frame_seeds_rfc9329();
	config_seeds();
	state_seeds();
	nl_seeds();
	return 0;
}
