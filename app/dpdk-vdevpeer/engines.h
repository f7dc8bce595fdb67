/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forwarding modes the application has (engines.c): the one list of
 * them, looked up by name. The modes themselves are fwd_<mode>.c.
 */
#ifndef APP_ENGINES_H
#define APP_ENGINES_H

#include <stddef.h>

#include "fwd.h"

extern const struct fwd_engine fwd_io_engine;
extern const struct fwd_engine fwd_bridge_engine;
extern const struct fwd_engine fwd_macswap_engine;
extern const struct fwd_engine fwd_rxonly_engine;
extern const struct fwd_engine fwd_txonly_engine;
/* Every mode, NULL-terminated; the first is the default. */
extern const struct fwd_engine *const fwd_engines[];

const struct fwd_engine *fwd_engine_find(const char *name);
/* "io, macswap, rxonly or txonly": for error messages. */
const char *fwd_engine_names(char *buf, size_t len);

#endif /* APP_ENGINES_H */
