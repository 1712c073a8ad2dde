/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - helpers shared by the benchmark programs (benchpeer, benchsink,
 * relay): time, addresses, the benchmark's IKE messages.
 *
 * A benchmark message is a structurally valid IKEv2 message: the 28-byte
 * header and one Vendor ID payload filling the rest. Its SPIi names the
 * connection that sent it:
 *
 *   byte 0     0xb7 (magic)
 *   byte 1-3   generation (a reconnect sends with the next one)
 *   byte 4-7   connection index, big endian
 *
 * and its message id is its sequence number on that connection (0, 1, ...),
 * so that the sink can check that nothing was lost and that the messages of
 * each connection arrived in order.
 */
#ifndef IKETCP_BENCH_H
#define IKETCP_BENCH_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MAGIC	0xb7
#define BENCH_HDR_LEN	28
#define BENCH_MAX_MSG	65507

/* Wall clock in microseconds (shared with bash's EPOCHREALTIME) */
static inline long long bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Source address of connection @idx inside the /16 @base (host order):
 * base + 256 * (idx / 254) + idx % 254 + 1, never .0 or .255
 */
static inline struct in_addr bench_src_addr(uint32_t base, uint32_t idx)
{
	struct in_addr a = {
		.s_addr = htonl(base + 256 * (idx / 254) + idx % 254 + 1)
	};

	return a;
}

static inline void bench_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline uint32_t bench_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Only the message id changes between messages of one connection, and
 * after the first (IKE_SA_INIT, message id 0) the messages are those of an
 * established IKE SA: INFORMATIONAL requests with the responder's SPI
 * (which the gateway's fast path may deliver by itself).
 */
static inline void bench_msg_set_id(uint8_t *m, uint32_t msgid)
{
	bench_put32(m + 20, msgid);
	if (msgid && m[18] == 34) {
		memset(m + 8, 0, 8);
		m[15] = 1;		/* SPIr */
		m[18] = 37;		/* INFORMATIONAL */
	}
}

/* A whole message of @len bytes (28 + 4 .. 65507) */
static inline void bench_msg(uint8_t *m, uint32_t len, uint32_t gen,
			     uint32_t idx, uint32_t msgid)
{
	m[0] = BENCH_MAGIC;
	m[1] = gen >> 16;
	m[2] = gen >> 8;
	m[3] = gen;
	bench_put32(m + 4, idx);
	memset(m + 8, 0, 8);		/* SPIr 0: the start of an IKE SA */
	m[16] = 43;			/* next payload: Vendor ID */
	m[17] = 0x20;			/* IKEv2 */
	m[18] = 34;			/* IKE_SA_INIT */
	m[19] = 0x08;			/* initiator, request */
	bench_put32(m + 20, msgid);
	bench_put32(m + 24, len);
	/* the Vendor ID payload: generic header, then its data */
	m[28] = 0;
	m[29] = 0;
	m[30] = (len - 28) >> 8;
	m[31] = (len - 28) & 0xff;
	for (uint32_t i = 32; i < len; i++)
		m[i] = (uint8_t)(i * 7);
	bench_msg_set_id(m, msgid);
}

#endif /* IKETCP_BENCH_H */
