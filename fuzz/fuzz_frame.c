// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_frame.c - libFuzzer target for the IKE framing core (kernel/frame.c,
 * the very source the module is built from) and the userspace stream
 * framer (userspace/stream.c).
 *
 * Input: a configuration prefix, then the TCP byte stream.
 *
 *   byte 0      bits 0-1: max_len source (0: byte 1, 1: bytes 1-2 BE,
 *               2: bytes 1-4 BE, 3: IKETCP_MAX_MSG_LEN_DEFAULT);
 *               bit 2: the callback stops the stream at message K;
 *               bit 3: framing mode from byte 6 (else raw);
 *               bits 4-7: number of split points S
 *   bytes 1-4   max_len material (out-of-range values test the clamp)
 *   byte 5      K - 1 (low 4 bits)
 *   byte 6      framing mode when bit 3 is set
 *   2*S bytes   chunk lengths, 16-bit BE; the last chunk is the rest
 *   rest        the stream
 *
 * The stream is fed to iketcp_stream_feed() in the chosen chunks, in one
 * piece and byte by byte (without callback). Every run is checked against
 * an independent reference model. Raw framing walks the stream by the IKE
 * length field (offset 24, BE32): major version nibble at offset 17 must be
 * 1 or 2, decided as soon as byte 17 is there; length < 28: LEN_SHORT,
 * above the clamped limit: LEN_LONG, both decided at byte 27. RFC 9329
 * framing walks it by the 16-bit record length: below 2 BAD_RECORD (byte
 * 1); a body under 4 bytes, once whole, is skipped if empty or a lone 0xFF
 * and BAD_RECORD otherwise; a non-zero marker (bytes 2-5) is ESP, under 8
 * bytes BAD_RECORD (byte 5); a zero marker is IKE: LEN_SHORT / LEN_LONG for
 * the record's size (byte 5), the version at byte 23, and the IKE length
 * (bytes 30-33) must be the record's, else LEN_MISMATCH. Messages must come
 * out identical and in order, each from the feed call that brings its last
 * byte; the error must come from the call that brings the deciding byte and
 * stay sticky; split points change nothing. iketcp_frame_parse(),
 * iketcp_frame_check_msg(), iketcp_ike_hdr_parse(), iketcp_frame_prefix()
 * and iketcp_framer_init()'s clamp are checked against the model too, on
 * exact-size heap copies so that ASan sees any read past the bytes given.
 * Any mismatch abort()s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define FUZZ_NAME "fuzz_frame"
#include "fuzz.h"

#define CB_STOP		(-1000)
#define MAX_SPLITS	15

/* ---- the reference model ---- */

struct model_msg {
	size_t off;
	size_t len;
};

struct model {
	struct model_msg *msgs;
	size_t nmsgs;
	struct model_msg *esp;	/* RFC 9329 ESP packets */
	size_t nesp;
	size_t skipped;		/* RFC 9329 empty and keepalive records */
	int err;		/* 0 or negative enum iketcp_reason */
	size_t err_pos;		/* stream offset of the byte that decides it */
	size_t tail;		/* bytes of an unfinished message at the end */
};

static uint32_t rd_be(const uint8_t *p, int n)
{
	uint32_t v = 0;

	for (int i = 0; i < n; i++)
		v = v * 256 + p[i];
	return v;
}

static uint32_t model_clamp(uint32_t max_len)
{
	return max_len < 28 ? 28 : max_len > 65535 ? 65535 : max_len;
}

static void model_err(struct model *m, int err, size_t pos)
{
	m->err = err;
	m->err_pos = pos;
}

static void model_raw(struct model *m, uint32_t limit, const uint8_t *s,
		      size_t n)
{
	size_t pos = 0;

	for (;;) {
		uint32_t len;
		uint8_t major;

		m->tail = n - pos;
		if (n - pos < 18)
			return;
		major = s[pos + 17] / 16;
		if (major < 1 || major > 2)
			return model_err(m, -IKETCP_REASON_BAD_VERSION, pos + 17);
		if (n - pos < 28)
			return;
		len = rd_be(s + pos + 24, 4);
		if (len < 28 || len > limit)
			return model_err(m, len < 28 ? -IKETCP_REASON_LEN_SHORT :
						       -IKETCP_REASON_LEN_LONG,
					 pos + 27);
		if (n - pos < len)
			return;
		m->msgs[m->nmsgs].off = pos;
		m->msgs[m->nmsgs].len = len;
		m->nmsgs++;
		pos += len;
	}
}

static void model_rfc9329(struct model *m, uint32_t limit, const uint8_t *s,
			  size_t n)
{
	size_t pos = 0;

	for (;;) {
		uint32_t len, body, ike;
		uint8_t major;

		m->tail = n - pos;
		if (n - pos < 2)
			return;
		len = rd_be(s + pos, 2);
		if (len < 2)
			return model_err(m, -IKETCP_REASON_BAD_RECORD, pos + 1);
		body = len - 2;
		if (body < 4) {
			if (n - pos < len)
				return;
			if (body && !(body == 1 && s[pos + 2] == 0xff))
				return model_err(m, -IKETCP_REASON_BAD_RECORD,
						 pos + len - 1);
			m->skipped++;
			pos += len;
			continue;
		}
		if (n - pos < 6)
			return;
		if (rd_be(s + pos + 2, 4)) {
			if (body < 8)
				return model_err(m, -IKETCP_REASON_BAD_RECORD,
						 pos + 5);
			if (n - pos < len)
				return;
			m->esp[m->nesp].off = pos + 2;
			m->esp[m->nesp].len = body;
			m->nesp++;
			pos += len;
			continue;
		}
		ike = body - 4;
		if (ike < 28)
			return model_err(m, -IKETCP_REASON_LEN_SHORT, pos + 5);
		if (ike > limit)
			return model_err(m, -IKETCP_REASON_LEN_LONG, pos + 5);
		if (n - pos < 24)
			return;
		major = s[pos + 23] / 16;
		if (major < 1 || major > 2)
			return model_err(m, -IKETCP_REASON_BAD_VERSION, pos + 23);
		if (n - pos < 34)
			return;
		if (rd_be(s + pos + 30, 4) != ike)
			return model_err(m, -IKETCP_REASON_LEN_MISMATCH, pos + 33);
		if (n - pos < len)
			return;
		m->msgs[m->nmsgs].off = pos + 6;
		m->msgs[m->nmsgs].len = ike;
		m->nmsgs++;
		pos += len;
	}
}

static void model_run(struct model *m, uint8_t mode, uint32_t limit,
		      const uint8_t *s, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->msgs = malloc((n / 28 + 1) * sizeof(*m->msgs));
	m->esp = malloc((n / 10 + 1) * sizeof(*m->esp));
	CHECK(m->msgs && m->esp, "out of memory");
	if (mode == IKETCP_FRAMING_RAW)
		model_raw(m, limit, s, n);
	else if (mode == IKETCP_FRAMING_RFC9329)
		model_rfc9329(m, limit, s, n);
	else if (n)
		model_err(m, -IKETCP_REASON_ERROR, 0);
}

/* What iketcp_frame_parse() must say about @avail bytes at a frame start:
 * the frame (kind, length, message offset and length) or, undecided, the
 * bytes it needs
 */
struct model_frame {
	uint32_t len;
	uint32_t off;
	uint32_t msg_len;
	uint8_t kind;
};

static int model_parse(uint8_t mode, uint32_t limit, const uint8_t *b,
		       size_t avail, struct model_frame *f)
{
	uint32_t l, body, h = 0;

	if (mode == IKETCP_FRAMING_RFC9329) {
		if (avail < 2)
			return f->len = 2, 0;
		l = rd_be(b, 2);
		if (l < 2)
			return -IKETCP_REASON_BAD_RECORD;
		body = l - 2;
		if (body < 4) {
			if (avail < l)
				return f->len = l, 0;
			if (body && !(body == 1 && b[2] == 0xff))
				return -IKETCP_REASON_BAD_RECORD;
			*f = (struct model_frame){ l, 2, 0, IKETCP_FRAME_SKIP };
			return 1;
		}
		if (avail < 6)
			return f->len = 6, 0;
		if (rd_be(b + 2, 4)) {
			if (body < 8)
				return -IKETCP_REASON_BAD_RECORD;
			*f = (struct model_frame){ l, 2, body, IKETCP_FRAME_ESP };
			return 1;
		}
		if (body - 4 < 28)
			return -IKETCP_REASON_LEN_SHORT;
		if (body - 4 > limit)
			return -IKETCP_REASON_LEN_LONG;
		h = 6;
	} else if (mode != IKETCP_FRAMING_RAW) {
		return -IKETCP_REASON_ERROR;
	}
	if (avail < h + 18)
		return f->len = h + 18, 0;
	if (b[h + 17] / 16 != 1 && b[h + 17] / 16 != 2)
		return -IKETCP_REASON_BAD_VERSION;
	if (avail < h + 28)
		return f->len = h + 28, 0;
	l = rd_be(b + h + 24, 4);
	if (h) {
		if (l != rd_be(b, 2) - h)
			return -IKETCP_REASON_LEN_MISMATCH;
	} else {
		if (l < 28)
			return -IKETCP_REASON_LEN_SHORT;
		if (l > limit)
			return -IKETCP_REASON_LEN_LONG;
	}
	*f = (struct model_frame){ h + l, h, l, IKETCP_FRAME_IKE };
	return 1;
}

/* What iketcp_frame_check_msg() must say about a message of @len bytes */
static int model_check_msg(uint8_t mode, uint32_t limit, const uint8_t *b,
			   size_t len)
{
	uint32_t l;

	if (len < 28)
		return -IKETCP_REASON_LEN_SHORT;
	if (len > limit || (mode == IKETCP_FRAMING_RFC9329 && len > 65529))
		return -IKETCP_REASON_LEN_LONG;
	if (b[17] / 16 != 1 && b[17] / 16 != 2)
		return -IKETCP_REASON_BAD_VERSION;
	l = rd_be(b + 24, 4);
	if (l > limit)
		return -IKETCP_REASON_LEN_LONG;
	if (l != len)		/* also l < 28: len >= 28 here */
		return -IKETCP_REASON_LEN_SHORT;
	return 0;
}

/* ---- the runs ---- */

struct run {
	const struct model *m;
	const uint8_t *stream;
	size_t call;		/* index of the current feed call */
	const size_t *call_end;	/* stream offset after each call */
	size_t got;		/* messages received */
	size_t got_esp;		/* ESP packets received */
	size_t stop_at;		/* 0, or return CB_STOP at this message */
};

static int esp_cb(const uint8_t *pkt, size_t len, void *arg)
{
	struct run *r = arg;
	const struct model_msg *me;

	CHECK(r->got_esp < r->m->nesp, "ESP packet %zu beyond the model's %zu",
	      r->got_esp + 1, r->m->nesp);
	me = &r->m->esp[r->got_esp];
	CHECK(len == me->len && !memcmp(pkt, r->stream + me->off, len),
	      "ESP packet %zu: %zu bytes, model %zu at %zu", r->got_esp, len,
	      me->len, me->off);
	CHECK(me->off + me->len <= r->call_end[r->call] &&
	      (r->call == 0 || me->off + me->len > r->call_end[r->call - 1]),
	      "ESP packet %zu delivered by call %zu", r->got_esp, r->call);
	r->got_esp++;
	return 0;
}

static int msg_cb(const uint8_t *msg, size_t len, void *arg)
{
	struct run *r = arg;
	const struct model_msg *mm;

	CHECK(r->got < r->m->nmsgs, "message %zu beyond the model's %zu",
	      r->got + 1, r->m->nmsgs);
	mm = &r->m->msgs[r->got];
	CHECK(len == mm->len, "message %zu: length %zu, model %zu", r->got,
	      len, mm->len);
	CHECK(!memcmp(msg, r->stream + mm->off, len),
	      "message %zu: bytes differ from the stream at %zu", r->got,
	      mm->off);
	/* delivered by the call that brought its last byte */
	CHECK(mm->off + mm->len <= r->call_end[r->call] &&
	      (r->call == 0 || mm->off + mm->len > r->call_end[r->call - 1]),
	      "message %zu (ends at %zu) delivered by call %zu [..%zu)",
	      r->got, mm->off + mm->len, r->call, r->call_end[r->call]);
	r->got++;
	if (r->stop_at && r->got == r->stop_at)
		return CB_STOP;
	return 0;
}

/*
 * Feed @s in @nchunks chunks of the given lengths (the sum is the stream
 * length) and check the results against @m.
 */
static void feed_run(const struct model *m, uint8_t mode, uint32_t max_len,
		     const uint8_t *s, size_t n, const size_t *chunk,
		     size_t nchunks, bool use_cb, size_t stop_at)
{
	struct iketcp_stream st;
	size_t *end = malloc((nchunks + 1) * sizeof(*end));
	struct run r = { .m = m, .stream = s, .call_end = end,
			 .stop_at = stop_at };
	size_t off = 0, stop_msg_end = 0;
	bool stopped = false, failed = false;
	int ret;

	CHECK(end, "out of memory");
	for (size_t i = 0; i < nchunks; i++) {
		off += chunk[i];
		end[i] = off;
	}
	CHECK(off == n, "chunks sum to %zu, stream %zu", off, n);
	if (stop_at && stop_at <= m->nmsgs)
		stop_msg_end = m->msgs[stop_at - 1].off + m->msgs[stop_at - 1].len;

	CHECK(iketcp_stream_init(&st, mode, max_len) == 0, "stream_init");
	if (use_cb)
		st.esp_cb = esp_cb;
	CHECK(st.fr.max_len == model_clamp(max_len) && st.fr.mode == mode,
	      "framer_init(%u): max_len %u mode %u", max_len, st.fr.max_len,
	      st.fr.mode);

	off = 0;
	for (size_t i = 0; i < nchunks && !stopped; i++) {
		size_t a = off, b = off + chunk[i];
		int want = 0;

		r.call = i;
		ret = iketcp_stream_feed(&st, s + a, chunk[i],
					 use_cb ? msg_cb : NULL, &r);
		if (stop_msg_end && a < stop_msg_end && stop_msg_end <= b) {
			want = CB_STOP;
			stopped = true;
		} else if (m->err && (failed || (a <= m->err_pos && m->err_pos < b))) {
			want = m->err;
			failed = true;
		}
		CHECK(ret == want,
		      "feed call %zu [%zu..%zu) of %zu: returned %d, model %d (model error %d at %zu)",
		      i, a, b, n, ret, want, m->err, m->err_pos);
		off = b;
	}
	if (stopped) {
		CHECK(!use_cb || r.got == stop_at, "stopped after %zu, wanted %zu",
		      r.got, stop_at);
	} else {
		CHECK(st.msgs == m->nmsgs, "%llu messages, model %zu",
		      (unsigned long long)st.msgs, m->nmsgs);
		CHECK(!use_cb || r.got == m->nmsgs, "%zu callbacks, model %zu",
		      r.got, m->nmsgs);
		CHECK(st.esp == m->nesp && (!use_cb || r.got_esp == m->nesp),
		      "%llu ESP packets (%zu callbacks), model %zu",
		      (unsigned long long)st.esp, r.got_esp, m->nesp);
		CHECK(st.skipped == m->skipped, "%llu skipped, model %zu",
		      (unsigned long long)st.skipped, m->skipped);
		CHECK(st.err == m->err, "stream err %d, model %d", st.err, m->err);
		if (!m->err) {
			CHECK(st.len == m->tail, "%zu bytes pending, model %zu",
			      st.len, m->tail);
			CHECK(!memcmp(st.buf, s + n - m->tail, m->tail),
			      "pending bytes differ from the stream's tail");
		} else {
			/* sticky, even for an empty feed */
			ret = iketcp_stream_feed(&st, s, 0, NULL, NULL);
			CHECK(ret == m->err, "not sticky: %d after %d", ret, m->err);
		}
	}
	iketcp_stream_free(&st);
	free(end);
}

/* ---- direct checks of the framing core ---- */

static uint8_t *heap_copy(const uint8_t *b, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	CHECK(p, "out of memory");
	memcpy(p, b, n);
	return p;
}

static void check_parse(const struct iketcp_framer *fr, uint8_t mode,
			uint32_t limit, const uint8_t *b, size_t avail)
{
	uint8_t *c = heap_copy(b, avail);
	struct model_frame mf = {};
	struct iketcp_frame f;
	int ret, want;

	memset(&f, 0xa5, sizeof(f));
	ret = iketcp_frame_parse(fr, c, avail, &f);
	want = model_parse(mode, limit, b, avail, &mf);
	CHECK(ret == want, "frame_parse(avail %zu) = %d, model %d", avail, ret,
	      want);
	if (ret == 1)
		CHECK(f.len == mf.len && f.msg_off == mf.off &&
		      f.msg_len == mf.msg_len && f.kind == mf.kind,
		      "frame_parse: kind %u len %u off %u msg_len %u, model %u %u %u %u",
		      f.kind, f.len, f.msg_off, f.msg_len, mf.kind, mf.len,
		      mf.off, mf.msg_len);
	if (ret == 0)
		CHECK(f.len == mf.len && f.len > avail,
		      "frame_parse(avail %zu): needs %u, model %u", avail,
		      f.len, mf.len);
	free(c);
}

static void check_msg(const struct iketcp_framer *fr, uint8_t mode,
		      uint32_t limit, const uint8_t *b, size_t len)
{
	uint8_t *c = heap_copy(b, len);
	int ret = iketcp_frame_check_msg(fr, c, len);

	/* frame_check_msg() judges raw IKE messages whatever the mode */
	CHECK(ret == model_check_msg(mode, limit, b, len),
	      "frame_check_msg(len %zu) = %d, model %d", len, ret,
	      model_check_msg(mode, limit, b, len));
	free(c);
}

/* The RFC 9329 stream prefix and record headers */
static void check_prefixes(const struct iketcp_framer *fr, uint8_t mode,
			   uint32_t limit, const uint8_t *b, size_t n)
{
	static const uint8_t want[6] = "IKETCP";
	uint8_t *pbuf = malloc(8);
	uint32_t msg_len = limit;
	size_t plen;

	CHECK(pbuf, "out of memory");
	for (size_t avail = 0; avail <= n && avail <= 8; avail++) {
		uint8_t *c = heap_copy(b, avail);
		size_t k = avail < 6 ? avail : 6;
		int w = memcmp(b, want, k) ? -IKETCP_REASON_BAD_PREFIX : k == 6;
		int ret = iketcp_frame_stream_prefix(c, avail);

		CHECK(ret == w, "stream_prefix(avail %zu) = %d, model %d",
		      avail, ret, w);
		free(c);
	}
	if (mode == IKETCP_FRAMING_RFC9329 && msg_len > 65529)
		msg_len = 65529;
	plen = iketcp_frame_prefix(fr, msg_len, pbuf);
	if (mode == IKETCP_FRAMING_RFC9329)
		CHECK(plen == 6 && rd_be(pbuf, 2) == msg_len + 6 &&
		      !rd_be(pbuf + 2, 4), "rfc9329 prefix of %u", msg_len);
	else
		CHECK(plen == 0, "raw framing has no prefix");
	/* an ESP record header from the stream's first bytes as a length */
	msg_len = n >= 2 ? rd_be(b, 2) : 0;
	plen = iketcp_frame_esp_prefix(msg_len, pbuf);
	if (msg_len < 8 || msg_len > 65533)
		CHECK(plen == 0, "esp_prefix(%u) = %zu", msg_len, plen);
	else
		CHECK(plen == 2 && rd_be(pbuf, 2) == msg_len + 2,
		      "esp_prefix(%u)", msg_len);
	free(pbuf);
}

static void check_hdr(const uint8_t *b, size_t len)
{
	uint8_t *c = heap_copy(b, len);
	struct iketcp_ike_hdr h;
	int ret = iketcp_ike_hdr_parse(c, len, &h);

	if (len < 28) {
		CHECK(ret == -IKETCP_REASON_LEN_SHORT, "hdr_parse(%zu) = %d",
		      len, ret);
	} else {
		uint64_t spi_i = (uint64_t)rd_be(b, 4) << 32 | rd_be(b + 4, 4);
		uint64_t spi_r = (uint64_t)rd_be(b + 8, 4) << 32 | rd_be(b + 12, 4);

		CHECK(ret == 0, "hdr_parse(%zu) = %d", len, ret);
		CHECK(h.spi_i == spi_i && h.spi_r == spi_r, "hdr_parse: SPIs");
		CHECK(h.next_payload == b[16], "hdr_parse: next payload");
		CHECK(h.major == b[17] / 16 && h.minor == b[17] % 16,
		      "hdr_parse: version %u.%u of 0x%02x", h.major, h.minor,
		      b[17]);
		CHECK(h.exchange == b[18] && h.flags == b[19],
		      "hdr_parse: exchange/flags");
		CHECK(h.msgid == rd_be(b + 20, 4) && h.length == rd_be(b + 24, 4),
		      "hdr_parse: msgid/length");
	}
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t cfg[7] = {};
	size_t hdr, nsplit, n, chunk[MAX_SPLITS + 1], nchunks = 0, left;
	size_t *bytes, stop_at = 0;
	uint32_t max_len, limit;
	uint8_t mode = IKETCP_FRAMING_RAW;
	struct iketcp_framer fr;
	const uint8_t *s;
	struct model m;

	memcpy(cfg, data, size < sizeof(cfg) ? size : sizeof(cfg));
	switch (cfg[0] & 3) {
	case 0: max_len = cfg[1]; break;
	case 1: max_len = rd_be(cfg + 1, 2); break;
	case 2: max_len = rd_be(cfg + 1, 4); break;
	default: max_len = IKETCP_MAX_MSG_LEN_DEFAULT; break;
	}
	if (cfg[0] & 4)
		stop_at = (cfg[5] & 15) + 1;
	if (cfg[0] & 8)
		mode = cfg[6];
	nsplit = cfg[0] >> 4;
	hdr = sizeof(cfg) + 2 * nsplit;
	if (size < hdr)
		return 0;
	s = data + hdr;
	n = size - hdr;
	limit = model_clamp(max_len);

	/* chunks: the lengths given, cut to what is left; then the rest */
	left = n;
	for (size_t i = 0; i < nsplit; i++) {
		size_t c = rd_be(data + sizeof(cfg) + 2 * i, 2);

		chunk[nchunks++] = c < left ? c : left;
		left -= chunk[nchunks - 1];
	}
	chunk[nchunks++] = left;

	model_run(&m, mode, limit, s, n);

	feed_run(&m, mode, max_len, s, n, chunk, nchunks, true, stop_at);
	feed_run(&m, mode, max_len, s, n, &n, 1, true, 0);
	bytes = malloc((n + 1) * sizeof(*bytes));
	CHECK(bytes, "out of memory");
	for (size_t i = 0; i < n; i++)
		bytes[i] = 1;
	feed_run(&m, mode, max_len, s, n, bytes, n, false, 0);
	free(bytes);

	iketcp_framer_init(&fr, mode, max_len);
	CHECK(fr.max_len == limit && fr.mode == mode, "framer_init clamp");
	for (size_t avail = 0; avail <= n && avail <= 40; avail++)
		check_parse(&fr, mode, limit, s, avail);
	check_parse(&fr, mode, limit, s, n);
	for (size_t i = 0; i < m.nmsgs; i++) {
		const uint8_t *msg = s + m.msgs[i].off;
		size_t len = m.msgs[i].len;
		size_t rec = mode == IKETCP_FRAMING_RFC9329 ? 6 : 0;

		check_parse(&fr, mode, limit, msg - rec, n - m.msgs[i].off + rec);
		check_msg(&fr, mode, limit, msg, len);
		check_msg(&fr, mode, limit, msg, len - 1);
		check_hdr(msg, len);
		/* every message the stream gave is one the framer accepts */
		CHECK(iketcp_frame_check_msg(&fr, msg, len) == 0,
		      "framed message %zu refused by frame_check_msg", i);
	}
	for (size_t i = 0; i < m.nesp; i++)
		check_parse(&fr, mode, limit, s + m.esp[i].off - 2,
			    n - m.esp[i].off + 2);
	if (m.err && mode == IKETCP_FRAMING_RAW) {
		size_t at = m.nmsgs ? m.msgs[m.nmsgs - 1].off +
				      m.msgs[m.nmsgs - 1].len : 0;

		check_parse(&fr, mode, limit, s + at, n - at);
	}
	check_msg(&fr, mode, limit, s, n);
	for (size_t l = 0; l <= n && l <= 30; l++)
		check_hdr(s, l);
	check_hdr(s, n);
	check_prefixes(&fr, mode, limit, s, n);
	free(m.msgs);
	free(m.esp);
	return 0;
}
