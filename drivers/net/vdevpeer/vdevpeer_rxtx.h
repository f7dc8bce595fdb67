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
/*
 * The direct path: up to max chains from rx queue a (a guest's TX ring)
 * into tx queue b (another guest's RX ring), one copy each, no mbuf.
 * Returns the frames taken (as eth_vdevpeer_rx would have returned
 * them), or -EAGAIN: use the ethdev path this time (zero-copy buffers
 * still out, a RARP or folded rings to serve, b paused). The caller owns
 * both queues (their lcore).
 */
int vdp_peer_forward(struct vdp_queue *a, struct vdp_queue *b, uint16_t max);
/* free the software segments an rx queue has not handed out yet */
void vdp_queue_pend_free(struct vdp_queue *q);
/* A guest TX ring's call left for later by its last burst, now (the
 * queue's lcore, inside the gate; before it sleeps). */
void vdp_queue_call_check(struct vdp_queue *q);

#endif /* VDEVPEER_RXTX_H */
