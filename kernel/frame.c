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
 * to back. Each header is judged as soon as the bytes that decide are
 * there: the version at offset 17, the length at offsets 24..27.
 */
static int iketcp_frame_parse_raw(const struct iketcp_framer *fr,
				  const u8 *buf, size_t avail,
				  struct iketcp_frame *f)
{
	u32 len;
	u8 major;

	if (avail <= IKETCP_IKE_OFF_VERSION)
		return 0;
	major = buf[IKETCP_IKE_OFF_VERSION] >> 4;
	if (major != 1 && major != 2)
		return -IKETCP_REASON_BAD_VERSION;
	if (avail < IKETCP_IKE_HDR_LEN)
		return 0;
	len = iketcp_be32(buf + IKETCP_IKE_OFF_LENGTH);
	if (len < IKETCP_IKE_HDR_LEN)
		return -IKETCP_REASON_LEN_SHORT;
	if (len > fr->max_len)
		return -IKETCP_REASON_LEN_LONG;
	f->len = len;
	f->msg_off = 0;
	f->msg_len = len;
	return 1;
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
 * to decide, or a negative enum iketcp_reason for a framing violation: the
 * stream is then unusable.
 */
int iketcp_frame_parse(const struct iketcp_framer *fr, const u8 *buf,
		       size_t avail, struct iketcp_frame *f)
{
	switch (fr->mode) {
	case IKETCP_FRAMING_RAW:
		return iketcp_frame_parse_raw(fr, buf, avail, f);
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
 * within the stream's limit, so that the peer's framer accepts it.
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
	if (len > fr->max_len)
		return -IKETCP_REASON_LEN_LONG;
	ret = iketcp_frame_parse_raw(fr, msg, len, &f);
	if (ret < 0)
		return ret;
	if (f.msg_len != len)
		return -IKETCP_REASON_LEN_SHORT;
	return 0;
}

/**
 * iketcp_frame_prefix() - the bytes to write before a message
 * @fr: the stream's framing state
 * @msg_len: length of the IKE message
 * @buf: receives the prefix (at most 8 bytes)
 *
 * Return: the number of prefix bytes (0 in raw framing).
 */
size_t iketcp_frame_prefix(const struct iketcp_framer *fr, u32 msg_len,
			   u8 *buf)
{
	(void)fr;
	(void)msg_len;
	(void)buf;
	return 0;
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
