/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bridge forwarding mode's MAC table, for the console (fwd_bridge.c).
 */
#ifndef APP_FWD_BRIDGE_H
#define APP_FWD_BRIDGE_H

#include <stdint.h>
#include <stdio.h>

struct bridge_table;

/*
 * The running bridge's MAC table (NULL when --fwd is not bridge), for a
 * console: bridge_mac_add/del/flush/dump, bridge_set_aging (bridge.h)
 * with fwd_bridge_now() as the clock. Safe while the workers forward.
 */
struct bridge_table *fwd_bridge_table(void);
uint32_t fwd_bridge_now(void);
/* The bridge counters' reference in markdown (--dump-xstats). */
void fwd_bridge_counters_markdown(FILE *f);

#endif /* APP_FWD_BRIDGE_H */
