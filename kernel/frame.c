// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * frame.c - the IKE framing core (see frame.h). Portable C: no kernel-only
 * calls, so that the module and userspace run the very same code.
 */
#include "frame.h"

static u32 iketcp_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static u64 iketcp_be64(const u8 *p)
{
	return (u64)iketcp_be32(p) << 32 | iketcp_be32(p + 4);
}

static u16 iketcp_be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static void iketcp_put_be16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* Undecided: the framer needs @need bytes before it can say more */
static int iketcp_frame_more(struct iketcp_frame *f, u32 need)
{
	f->len = need;
	return 0;
}

/*
 * The IKE header at @h (@avail bytes of it there) of a message that the
 * framing says is @len bytes long (0: the header's own length decides).
 * Judged as soon as the bytes that decide are there: the version at
 * offset 17, the length at offsets 24..27.
 */
static int iketcp_frame_ike(const struct iketcp_framer *fr, const u8 *h,
			    size_t avail, u32 len, u32 hdr_off,
			    struct iketcp_frame *f)
{
	u32 ike_len;
	u8 major;

	if (avail <= IKETCP_IKE_OFF_VERSION)
		return iketcp_frame_more(f, hdr_off + IKETCP_IKE_OFF_VERSION + 1);
	major = h[IKETCP_IKE_OFF_VERSION] >> 4;
	if (major != 1 && major != 2)
		return -IKETCP_REASON_BAD_VERSION;
	if (avail < IKETCP_IKE_HDR_LEN)
		return iketcp_frame_more(f, hdr_off + IKETCP_IKE_HDR_LEN);
	ike_len = iketcp_be32(h + IKETCP_IKE_OFF_LENGTH);
	if (!len) {
		if (ike_len < IKETCP_IKE_HDR_LEN)
			return -IKETCP_REASON_LEN_SHORT;
		if (ike_len > fr->max_len)
			return -IKETCP_REASON_LEN_LONG;
	} else if (ike_len != len) {
		return -IKETCP_REASON_LEN_MISMATCH;
	}
	f->kind = IKETCP_FRAME_IKE;
	f->len = hdr_off + ike_len;
	f->msg_off = hdr_off;
	f->msg_len = ike_len;
	return 1;
}

/**
 * iketcp_framer_init() - set up the framing state of a new stream
 * @fr: the state
 * @mode: enum iketcp_framing
 * @max_len: largest IKE message accepted, header included; clamped to
 *	[IKETCP_IKE_HDR_LEN, IKETCP_MAX_MSG_LEN_CEILING]
 */
void iketcp_framer_init(struct iketcp_framer *fr, u8 mode, u32 max_len)
{
	if (max_len < IKETCP_IKE_HDR_LEN)
		max_len = IKETCP_IKE_HDR_LEN;
	if (max_len > IKETCP_MAX_MSG_LEN_CEILING)
		max_len = IKETCP_MAX_MSG_LEN_CEILING;
	fr->mode = mode;
	fr->max_len = max_len;
}

/*
 * Raw framing (draft-nir-ipsecme-ike-tcp): the stream is IKE messages back
 * to back, each delimited by its header's length.
 */
static int iketcp_frame_parse_raw(const struct iketcp_framer *fr,
				  const u8 *buf, size_t avail,
				  struct iketcp_frame *f)
{
	return iketcp_frame_ike(fr, buf, avail, 0, 0, f);
}

/*
 * RFC 9329 s3: a 16-bit length counting itself, then the body. Decided in
 * stream order: the length (bytes 0..1: 0 and 1 are fatal, 2 is an empty
 * record), a body under 4 bytes once it is whole (only a NAT keepalive,
 * 0xFF, is valid), the non-ESP marker (bytes 2..5: zero for IKE, an SPI
 * for ESP, whose body holds at least SPI and sequence number), then the
 * IKE header as in raw framing, whose length must be the record's.
 */
static int iketcp_frame_parse_rfc9329(const struct iketcp_framer *fr,
				      const u8 *buf, size_t avail,
				      struct iketcp_frame *f)
{
	const u32 hdr = IKETCP_RFC9329_IKE_HDR_LEN;
	u32 len, body;

	if (avail < IKETCP_RFC9329_LEN_FIELD)
		return iketcp_frame_more(f, IKETCP_RFC9329_LEN_FIELD);
	len = iketcp_be16(buf);
	if (len < IKETCP_RFC9329_LEN_FIELD)
		return -IKETCP_REASON_BAD_RECORD;
	body = len - IKETCP_RFC9329_LEN_FIELD;
	f->msg_off = IKETCP_RFC9329_LEN_FIELD;
	f->msg_len = 0;
	if (body < IKETCP_NONESP_LEN) {
		if (avail < len)
			return iketcp_frame_more(f, len);
		if (body && (body != 1 || buf[IKETCP_RFC9329_LEN_FIELD] != 0xff))
			return -IKETCP_REASON_BAD_RECORD;
		f->kind = IKETCP_FRAME_SKIP;
		f->len = len;
		return 1;
	}
	if (avail < hdr)
		return iketcp_frame_more(f, hdr);
	if (iketcp_be32(buf + IKETCP_RFC9329_LEN_FIELD)) {
		if (body < IKETCP_ESP_HDR_LEN)
			return -IKETCP_REASON_BAD_RECORD;
		f->kind = IKETCP_FRAME_ESP;
		f->len = len;
		f->msg_len = body;
		return 1;
	}
	if (len - hdr < IKETCP_IKE_HDR_LEN)
		return -IKETCP_REASON_LEN_SHORT;
	if (len - hdr > fr->max_len)
		return -IKETCP_REASON_LEN_LONG;
	return iketcp_frame_ike(fr, buf + hdr, avail - hdr, len - hdr, hdr, f);
}

/**
 * iketcp_frame_parse() - find the frame at the start of the unread stream
 * @fr: the stream's framing state
 * @buf: the first bytes of the unread stream
 * @avail: how many bytes @buf holds (only the first
 *	IKETCP_FRAME_PEEK_MAX are ever looked at)
 * @f: filled in when a frame header was found
 *
 * Return: 1 when @f describes the next frame, 0 when more bytes are needed
 * to decide (@f->len says how many the frame has at least), or a negative
 * enum iketcp_reason for a framing violation: the stream is then unusable.
 */
int iketcp_frame_parse(const struct iketcp_framer *fr, const u8 *buf,
		       size_t avail, struct iketcp_frame *f)
{
	switch (fr->mode) {
	case IKETCP_FRAMING_RAW:
		return iketcp_frame_parse_raw(fr, buf, avail, f);
	case IKETCP_FRAMING_RFC9329:
		return iketcp_frame_parse_rfc9329(fr, buf, avail, f);
	default:
		return -IKETCP_REASON_ERROR;
	}
}

/**
 * iketcp_frame_check_msg() - check a whole IKE message before sending it
 * @fr: the stream's framing state
 * @msg: the message, header included
 * @len: its length
 *
 * The message must be one valid IKE message whose length field is @len,
 * within the stream's limit (and, in RFC 9329 framing, within a record),
 * so that the peer's framer accepts it.
 *
 * Return: 0, or a negative enum iketcp_reason.
 */
int iketcp_frame_check_msg(const struct iketcp_framer *fr, const u8 *msg,
			   size_t len)
{
	struct iketcp_frame f;
	int ret;

	if (len < IKETCP_IKE_HDR_LEN)
		return -IKETCP_REASON_LEN_SHORT;
	if (len > fr->max_len ||
	    (fr->mode == IKETCP_FRAMING_RFC9329 && len > IKETCP_RFC9329_IKE_MAX))
		return -IKETCP_REASON_LEN_LONG;
	ret = iketcp_frame_parse_raw(fr, msg, len, &f);
	if (ret < 0)
		return ret;
	if (f.msg_len != len)
		return -IKETCP_REASON_LEN_SHORT;
	return 0;
}

/**
 * iketcp_frame_prefix() - the bytes to write before an IKE message
 * @fr: the stream's framing state
 * @msg_len: length of the IKE message, one iketcp_frame_check_msg()
 *	accepted
 * @buf: receives the prefix (at most 8 bytes)
 *
 * Return: the number of prefix bytes: 0 in raw framing, the record length
 * and the non-ESP marker in RFC 9329 framing.
 */
size_t iketcp_frame_prefix(const struct iketcp_framer *fr, u32 msg_len,
			   u8 *buf)
{
	u32 i;

	if (fr->mode != IKETCP_FRAMING_RFC9329)
		return 0;
	iketcp_put_be16(buf, (u16)(msg_len + IKETCP_RFC9329_IKE_HDR_LEN));
	for (i = IKETCP_RFC9329_LEN_FIELD; i < IKETCP_RFC9329_IKE_HDR_LEN; i++)
		buf[i] = 0;
	return IKETCP_RFC9329_IKE_HDR_LEN;
}

/**
 * iketcp_frame_esp_prefix() - the record header of an ESP packet (RFC 9329)
 * @esp_len: length of the ESP packet
 * @buf: receives the 2-byte record length
 *
 * Return: 2, or 0 if no record can carry @esp_len bytes (fewer than an
 * ESP header, more than IKETCP_RFC9329_ESP_MAX).
 */
size_t iketcp_frame_esp_prefix(u32 esp_len, u8 *buf)
{
	if (esp_len < IKETCP_ESP_HDR_LEN || esp_len > IKETCP_RFC9329_ESP_MAX)
		return 0;
	iketcp_put_be16(buf, (u16)(esp_len + IKETCP_RFC9329_LEN_FIELD));
	return IKETCP_RFC9329_LEN_FIELD;
}

/**
 * iketcp_frame_stream_prefix() - check the start of an RFC 9329 stream
 * @buf: its first bytes
 * @avail: how many (only the first IKETCP_STREAM_PREFIX_LEN are looked at)
 *
 * Each byte is judged as it arrives: the first wrong one decides.
 *
 * Return: 1 when the whole prefix "IKETCP" is there, 0 when the bytes so
 * far begin it, -IKETCP_REASON_BAD_PREFIX when they do not.
 */
int iketcp_frame_stream_prefix(const u8 *buf, size_t avail)
{
	static const char prefix[] = IKETCP_STREAM_PREFIX;
	size_t i;

	for (i = 0; i < avail && i < IKETCP_STREAM_PREFIX_LEN; i++)
		if (buf[i] != (u8)prefix[i])
			return -IKETCP_REASON_BAD_PREFIX;
	return i == IKETCP_STREAM_PREFIX_LEN;
}

/**
 * iketcp_ike_hdr_parse() - decode an IKE header
 * @buf: the message
 * @len: bytes available at @buf
 * @h: the decoded fields
 *
 * Return: 0, or -IKETCP_REASON_LEN_SHORT if fewer than 28 bytes are given.
 */
int iketcp_ike_hdr_parse(const u8 *buf, size_t len, struct iketcp_ike_hdr *h)
{
	if (len < IKETCP_IKE_HDR_LEN)
		return -IKETCP_REASON_LEN_SHORT;
	h->spi_i = iketcp_be64(buf + IKETCP_IKE_OFF_SPI_I);
	h->spi_r = iketcp_be64(buf + IKETCP_IKE_OFF_SPI_R);
	h->next_payload = buf[IKETCP_IKE_OFF_NEXT];
	h->major = buf[IKETCP_IKE_OFF_VERSION] >> 4;
	h->minor = buf[IKETCP_IKE_OFF_VERSION] & 0x0f;
	h->exchange = buf[IKETCP_IKE_OFF_EXCHANGE];
	h->flags = buf[IKETCP_IKE_OFF_FLAGS];
	h->msgid = iketcp_be32(buf + IKETCP_IKE_OFF_MSGID);
	h->length = iketcp_be32(buf + IKETCP_IKE_OFF_LENGTH);
	return 0;
}
