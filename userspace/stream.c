// SPDX-License-Identifier: GPL-2.0
/*
 * stream.c - userspace byte-stream framer around the framing core.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

/**
 * iketcp_stream_init() - set up a stream
 * @s: the stream
 * @mode: enum iketcp_framing
 * @max_len: message limit
 *
 * Return: 0 or -ENOMEM.
 */
int iketcp_stream_init(struct iketcp_stream *s, uint8_t mode,
		       uint32_t max_len)
{
	memset(s, 0, sizeof(*s));
	iketcp_framer_init(&s->fr, mode, max_len);
	/* the largest frame: an IKE message, or any RFC 9329 record */
	s->cap = (size_t)s->fr.max_len + 16;
	if (mode == IKETCP_FRAMING_RFC9329)
		s->cap = IKETCP_RFC9329_RECORD_MAX + 16;
	s->buf = malloc(s->cap);
	return s->buf ? 0 : -ENOMEM;
}

/**
 * iketcp_stream_free() - release a stream
 * @s: the stream
 */
void iketcp_stream_free(struct iketcp_stream *s)
{
	free(s->buf);
	s->buf = NULL;
}

/**
 * iketcp_stream_feed() - add bytes; call @cb for each complete IKE message
 *	(and @s->esp_cb, if set, for each ESP packet)
 * @s: the stream
 * @data: the bytes
 * @n: how many
 * @cb: called with each message; a negative return stops and is returned
 * @arg: passed to @cb
 *
 * Return: 0, a negative enum iketcp_reason once the stream is broken
 * (sticky: later calls return it again), or @cb's negative value.
 */
int iketcp_stream_feed(struct iketcp_stream *s, const void *data, size_t n,
		       iketcp_stream_cb cb, void *arg)
{
	const uint8_t *p = data;
	struct iketcp_frame f;
	int ret;

	if (s->err)
		return s->err;
	while (n) {
		size_t want, take;

		ret = iketcp_frame_parse(&s->fr, s->buf, s->len, &f);
		if (ret < 0)
			return s->err = ret;
		/* the frame's length, or what the framer needs to decide */
		want = f.len;
		if (s->len >= want || want > s->cap)
			return s->err = -IKETCP_REASON_ERROR;
		take = want - s->len < n ? want - s->len : n;
		memcpy(s->buf + s->len, p, take);
		s->len += take;
		p += take;
		n -= take;
		/* Re-parse with the new bytes (the header may be complete) */
		ret = iketcp_frame_parse(&s->fr, s->buf, s->len, &f);
		if (ret < 0)
			return s->err = ret;
		if (ret && s->len == f.len) {
			iketcp_stream_cb to = NULL;

			s->len = 0;
			if (f.kind == IKETCP_FRAME_IKE) {
				s->msgs++;
				to = cb;
			} else if (f.kind == IKETCP_FRAME_ESP) {
				s->esp++;
				to = s->esp_cb;
			} else {
				s->skipped++;
			}
			if (to) {
				ret = to(s->buf + f.msg_off, f.msg_len, arg);
				if (ret < 0)
					return ret;
			}
		}
	}
	return 0;
}
