/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz.h - shared by the fuzz targets: CHECK(), a failed property of the
 * code under test, reported with the target's name (FUZZ_NAME, defined by
 * the target before it includes this file) and turned into a libFuzzer
 * crash; fuzz_addr(), the reference models' reading of an address.
 */
#ifndef IKETCP_FUZZ_H
#define IKETCP_FUZZ_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nl.h"

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, FUZZ_NAME ": %s:%d: check failed: %s: ", \
				__FILE__, __LINE__, #cond);		\
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
			abort();					\
		}							\
	} while (0)

/* An IPv4 or IPv6 address in text, read with inet_pton (not the code
 * under test). Return: true if @s is one.
 */
static inline bool fuzz_addr(const char *s, struct iketcp_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (inet_pton(AF_INET, s, &ep->addr) == 1)
		ep->family = AF_INET;
	else if (inet_pton(AF_INET6, s, &ep->addr) == 1)
		ep->family = AF_INET6;
	else
		return false;
	return true;
}

#endif
