/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz.h - shared by the fuzz targets: CHECK(), a failed property of the
 * code under test, reported with the target's name (FUZZ_NAME, defined by
 * the target before it includes this file) and turned into a libFuzzer
 * crash.
 */
#ifndef IKETCP_FUZZ_H
#define IKETCP_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

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

#endif
