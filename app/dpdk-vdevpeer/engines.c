/* SPDX-License-Identifier: BSD-3-Clause */
/* The forwarding modes, listed once: --fwd, the config file's mode, the
 * console's `set fwd` and --help all look them up here. */
#include <stdio.h>
#include <string.h>

#include "engines.h"
#include "fwd.h"

const struct fwd_engine *const fwd_engines[] = {
	&fwd_io_engine,
	&fwd_macswap_engine,
	&fwd_rxonly_engine,
	&fwd_bridge_engine,
	&fwd_txonly_engine,
	NULL,
};

const struct fwd_engine *
fwd_engine_find(const char *name)
{
	unsigned int i;

	for (i = 0; fwd_engines[i] != NULL; i++)
		if (strcmp(fwd_engines[i]->name, name) == 0)
			return fwd_engines[i];
	return NULL;
}

const char *
fwd_engine_names(char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i, n = 0;

	while (fwd_engines[n] != NULL)
		n++;
	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s",
				 i == 0 ? "expected " : i + 1 == n ? " or " : ", ",
				 fwd_engines[i]->name);
	return buf;
}
