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
 *                         SHA-256 for the sender (IPv4, IPv6) or not.
 * Not a fuzzer: built without sanitizers. Usage: gen_seeds <dir>
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

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

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <dir>\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	ike_seeds();
	frame_seeds();
	config_seeds();
	return 0;
}
