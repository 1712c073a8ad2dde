/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stream.h - a userspace byte-stream framer around the kernel's framing
 * core (kernel/frame.c, the same source): feed it bytes in any chunks, it
 * calls back once per complete IKE message (and ESP packet, RFC 9329). Used by the tests, the fuzzer
 * and the benchmarks' userspace relay.
 */
#ifndef IKETCP_STREAM_H
#define IKETCP_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "../kernel/frame.h"

/**
 * struct iketcp_stream - framing state plus the bytes of the message in
 *	progress
 * @fr: framing core state
 * @buf: bytes not yet returned as a message
 * @len: bytes in @buf
 * @cap: size of @buf
 * @err: 0, or the negative enum iketcp_reason that stopped the stream
 * @msgs: IKE messages returned so far
 * @esp: ESP packets found so far (RFC 9329 framing)
 * @skipped: records dropped silently so far (RFC 9329: empty, keepalive)
 * @esp_cb: called for each ESP packet like the feed's callback for IKE
 *	messages; NULL: they are only counted
 */
typedef int (*iketcp_stream_cb)(const uint8_t *msg, size_t len, void *arg);

struct iketcp_stream {
	struct iketcp_framer fr;
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err;
	uint64_t msgs;
	uint64_t esp;
	uint64_t skipped;
	iketcp_stream_cb esp_cb;
};

int iketcp_stream_init(struct iketcp_stream *s, uint8_t mode,
		       uint32_t max_len);
void iketcp_stream_free(struct iketcp_stream *s);
int iketcp_stream_feed(struct iketcp_stream *s, const void *data, size_t n,
		       iketcp_stream_cb cb, void *arg);

#endif /* IKETCP_STREAM_H */
