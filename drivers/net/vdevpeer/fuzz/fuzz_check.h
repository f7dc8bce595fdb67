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
#include <string.h>
#include <stdint.h>

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

/* The input, read in little-endian fields: zero past its end (a short
 * input is a valid one, with zeroes after it). */
struct fz_in {
	const uint8_t *p;
	size_t n;
	size_t off;
};

static inline uint8_t
in_u8(struct fz_in *in)
{
	uint8_t v = in->off < in->n ? in->p[in->off] : 0;

	in->off++;
	return v;
}

static inline uint16_t
in_u16(struct fz_in *in)
{
	uint16_t v = in_u8(in);

	return (uint16_t)(v | in_u8(in) << 8);
}

static inline uint32_t
in_u32(struct fz_in *in)
{
	uint32_t v = in_u16(in);

	return v | (uint32_t)in_u16(in) << 16;
}

static inline uint64_t
in_u64(struct fz_in *in)
{
	uint64_t v = in_u32(in);

	return v | (uint64_t)in_u32(in) << 32;
}

static inline void
in_bytes(struct fz_in *in, void *dst, size_t len)
{
	size_t have = in->off < in->n ? in->n - in->off : 0;

	if (have > len)
		have = len;
	memcpy(dst, in->p + in->off, have);
	memset((uint8_t *)dst + have, 0, len - have);
	in->off += len;
}

#endif /* VDP_FUZZ_CHECK_H */
