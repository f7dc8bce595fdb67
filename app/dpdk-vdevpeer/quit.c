/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The process is asked to quit: by a signal (main.c), the console's
 * "quit", or end of input. Whoever loops (the main lcore, the console,
 * waiting for links) polls it.
 */
#include <stdbool.h>

#include "quit.h"

static int app_quit;

bool
app_quit_requested(void)
{
	return __atomic_load_n(&app_quit, __ATOMIC_RELAXED) != 0;
}

/* Async-signal-safe. */
void
app_request_quit(void)
{
	__atomic_store_n(&app_quit, 1, __ATOMIC_RELEASE);
}
