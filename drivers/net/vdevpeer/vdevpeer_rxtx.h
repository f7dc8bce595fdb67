/* SPDX-License-Identifier: BSD-3-Clause */
/* The data path, copy mode (vdevpeer_rxtx.c). */
#ifndef VDEVPEER_RXTX_H
#define VDEVPEER_RXTX_H

#include <stdbool.h>
#include <stdint.h>

#include "vdevpeer.h"

#include <rte_mbuf.h>

uint16_t eth_vdevpeer_rx(void *q, struct rte_mbuf **pkts, uint16_t n);
uint16_t eth_vdevpeer_tx(void *q, struct rte_mbuf **pkts, uint16_t n);
/* the ring walkers' error report (rate-limited log) */
void vdp_ring_err_log(void *ctx, enum vdp_err err, uint32_t a, uint32_t b);
/* free the software segments an rx queue has not handed out yet */
void vdp_queue_pend_free(struct vdp_queue *q);

#endif /* VDEVPEER_RXTX_H */
