/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The unit tests' one check: CHECK(cond, "what", ...) prints "ok   what"
 * or "FAIL what (line N)" and counts; check_summary() prints "N passed,
 * N failed" and gives the exit status. Header-only: each test program
 * has its own counters.
 */
#ifndef VDP_TEST_CHECK_H
#define VDP_TEST_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static unsigned int npass, nfail;

#define CHECK(cond, ...) check_line(!!(cond), __LINE__, __VA_ARGS__)

static inline bool __attribute__((format(printf, 3, 4)))
check_line(bool ok, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (ok) {
		npass++;
		printf("\n");
	} else {
		nfail++;
		printf(" (line %d)\n", line);
	}
	return ok;
}

static inline int
check_summary(void)
{
	printf("%u passed, %u failed\n", npass, nfail);
	return nfail == 0 ? 0 : 1;
}

#endif /* VDP_TEST_CHECK_H */
