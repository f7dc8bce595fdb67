/* SPDX-License-Identifier: BSD-3-Clause */
/* The direct guest-to-guest path on either ring layout (layout_peer.c),
 * for bench_layout.cc. */
#ifndef LAYOUT_PEER_H
#define LAYOUT_PEER_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lp;

/* Two guests and their rings (packed or split), frames of frame_len
 * bytes, bursts of burst (1..64) frames; state: the rings keep their
 * crash state (as the PMD's always do). NULL on failure. */
struct lp *lp_new(bool packed, bool state, uint32_t frame_len, uint32_t burst);
void lp_free(struct lp *p);

/* One round: A posts a burst, B refills, the device forwards the burst,
 * both guests read their used elements. Frames B received, or -1 when
 * the burst did not move whole (a bug). The device side's TSC cycles are
 * added to *dev_tsc. */
int64_t lp_round(struct lp *p, uint64_t *dev_tsc);

#ifdef __cplusplus
}
#endif

#endif
