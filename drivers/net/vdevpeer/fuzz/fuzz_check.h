/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every fuzz target uses to say that an invariant broke: FZ_CHECK
 * prints the target's name (FZ_NAME, defined before this is included),
 * the line and the message, then aborts, which libFuzzer reports as a
 * finding and saves the input for.
 */
#ifndef VDP_FUZZ_CHECK_H
#define VDP_FUZZ_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FZ_NAME
#error "define FZ_NAME (the target's name) before including fuzz_check.h"
#endif

static void __attribute__((noreturn, format(printf, 2, 3)))
fz_fail(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, FZ_NAME ": invariant broken (line %d): ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define FZ_CHECK(cond, ...) do { \
	if (!(cond)) \
		fz_fail(__LINE__, __VA_ARGS__); \
} while (0)

#define FZ_FAIL(...) fz_fail(__LINE__, __VA_ARGS__)

#endif /* VDP_FUZZ_CHECK_H */
