/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * frame.h - the IKE framing core: IKE header validation and record
 * delimiting on a TCP stream, in both framings (the draft's raw IKE
 * messages, RFC 9329's records), and the RFC 9329 stream prefix. Plain C with no kernel-only calls: the same
 * source is built into the module and into userspace (unit tests, fuzzer,
 * iketcpd). Keep it that way.
 */
#ifndef IKETCP_FRAME_H
#define IKETCP_FRAME_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#endif

#include "uapi/linux/iketcp.h"

/* The most bytes iketcp_frame_parse() needs to see at a frame's start:
 * RFC 9329's length field and non-ESP marker, then an IKE header.
 */
#define IKETCP_FRAME_PEEK_MAX	(IKETCP_RFC9329_IKE_HDR_LEN + IKETCP_IKE_HDR_LEN)

/**
 * enum iketcp_frame_kind - what a frame carries
 * @IKETCP_FRAME_IKE: an IKE message
 * @IKETCP_FRAME_ESP: an ESP packet (RFC 9329)
 * @IKETCP_FRAME_SKIP: nothing to deliver: a record of length 2 or a NAT
 *	keepalive (RFC 9329 s3, s6.6), dropped silently
 */
enum iketcp_frame_kind {
	IKETCP_FRAME_IKE,
	IKETCP_FRAME_ESP,
	IKETCP_FRAME_SKIP,
};

/* IKE header field offsets (RFC 7296 s3.1; identical in RFC 2408 s3.1) */
#define IKETCP_IKE_OFF_SPI_I	0
#define IKETCP_IKE_OFF_SPI_R	8
#define IKETCP_IKE_OFF_NEXT	16
#define IKETCP_IKE_OFF_VERSION	17
#define IKETCP_IKE_OFF_EXCHANGE	18
#define IKETCP_IKE_OFF_FLAGS	19
#define IKETCP_IKE_OFF_MSGID	20
#define IKETCP_IKE_OFF_LENGTH	24

/**
 * struct iketcp_framer - per-stream framing state
 * @mode: enum iketcp_framing
 * @max_len: largest IKE message accepted (header included)
 */
struct iketcp_framer {
	u8 mode;
	u32 max_len;
};

/**
 * struct iketcp_frame - one frame found at the start of a stream
 * @len: bytes the frame occupies on the stream (record header and body);
 *	while undecided, the bytes needed before the framer can say more
 * @msg_off: offset of the IKE message (or ESP packet) inside the frame
 * @msg_len: its length (IKE header included), 0 for IKETCP_FRAME_SKIP
 * @kind: enum iketcp_frame_kind
 */
struct iketcp_frame {
	u32 len;
	u32 msg_off;
	u32 msg_len;
	u8 kind;
};

/**
 * struct iketcp_ike_hdr - the fields of an IKE header, host order
 * @spi_i: initiator SPI (IKEv1: initiator cookie)
 * @spi_r: responder SPI, 0 in the first message of an IKE SA
 * @next_payload: first payload type
 * @major: major version (1: IKEv1, 2: IKEv2)
 * @minor: minor version
 * @exchange: exchange type
 * @flags: flags (IKEv2: 0x08 initiator, 0x20 response; IKEv1: 0x01 E)
 * @msgid: message id
 * @length: length of the whole message, header included
 */
struct iketcp_ike_hdr {
	u64 spi_i;
	u64 spi_r;
	u8 next_payload;
	u8 major;
	u8 minor;
	u8 exchange;
	u8 flags;
	u32 msgid;
	u32 length;
};

void iketcp_framer_init(struct iketcp_framer *fr, u8 mode, u32 max_len);
int iketcp_frame_parse(const struct iketcp_framer *fr, const u8 *buf,
		       size_t avail, struct iketcp_frame *f);
int iketcp_frame_check_msg(const struct iketcp_framer *fr, const u8 *msg,
			   size_t len);
size_t iketcp_frame_prefix(const struct iketcp_framer *fr, u32 msg_len,
			   u8 *buf);
size_t iketcp_frame_esp_prefix(u32 esp_len, u8 *buf);
int iketcp_frame_stream_prefix(const u8 *buf, size_t avail);
int iketcp_ike_hdr_parse(const u8 *buf, size_t len, struct iketcp_ike_hdr *h);

#endif /* IKETCP_FRAME_H */
