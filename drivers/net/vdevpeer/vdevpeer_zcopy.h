/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Zero-copy of guest TX buffers (vdevpeer_zcopy.c): what the control
 * plane and the data path call, and the burst hooks. The queue's state is
 * struct vdp_zc_queue (vdevpeer.h), embedded in struct vdp_queue.
 */
#ifndef VDEVPEER_ZCOPY_H
#define VDEVPEER_ZCOPY_H

#include <stdbool.h>
#include <stdint.h>

#include "vdevpeer.h"

/* stop (application thread): how long to wait for held buffers */
#define VDP_ZC_QUIESCE_MS 500u

/* control thread, port lock held */
int vdp_zc_queue_ring(struct vdp_queue *q, bool keep_idx);
void vdp_zc_port_handback(struct vdp_port *p);
uint32_t vdp_zc_quiesce(struct vdp_port *p, unsigned int ms);
void vdp_zc_queue_orphan(struct vdp_queue *q);
bool vdp_zc_holds(const struct vdp_gmap *m);  /* vdp_gmem_lock held */
uint32_t vdp_zc_reap(void);                    /* watchdog: orphans left */
void vdp_zc_port_gone(struct vdp_port *p);
/* data path (and control thread while the queue is paused) */
void vdp_zc_complete(struct vdp_queue *q, bool scan_all);
struct rte_mbuf *vdp_zc_rx_chain(struct vdp_queue *q, const struct vdp_chain *c,
				 const struct vdp_net_hdr *vh, uint32_t len);
/* IN_ORDER rings (q->zc.inorder): chains a burst may take (of n), and a
 * copied chain's used element queued behind the held ones (true) or due
 * now (false: nothing taken before it is still out). */
uint16_t vdp_zc_inorder_room(struct vdp_queue *q, uint16_t n);
bool vdp_zc_queue_copied(struct vdp_queue *q, uint16_t id, uint16_t ndesc);

/* Burst hooks: hand back guest buffers whose mbufs were freed; try
 * zero-copy for one guest TX chain (NULL: copy it). */
static inline void
vdp_zc_drain(struct vdp_queue *q)
{
	if (q->zc.inflight != 0)
		vdp_zc_complete(q, false);
}

/* IN_ORDER: queue a copied chain's used element behind the held ones
 * (true), or false when none is out (give it back now). Nothing is queued
 * without a held chain in front (the FIFO's front is always a held one),
 * so the common case costs no call. */
static inline bool
vdp_zc_defer(struct vdp_queue *q, uint16_t id, uint16_t ndesc)
{
	return q->zc.inflight != 0 && vdp_zc_queue_copied(q, id, ndesc);
}

/* Would vdp_zc_try copy a frame of len bytes whatever its chain? (Below
 * the threshold, or IN_ORDER towards an egress that may hold buffers.)
 * Not counted: the caller counts VDP_ZC_COPIED when it copies. */
static inline bool
vdp_zc_copies(const struct vdp_queue *q, uint32_t len)
{
	return q->zc.ctx == NULL || len < q->zc.thresh ||
	       (q->zc.inorder && !q->zc.egress_vdp);
}

static inline struct rte_mbuf *
vdp_zc_try(struct vdp_queue *q, const struct vdp_chain *c,
	   const struct vdp_net_hdr *vh, uint32_t len)
{
	if (q->zc.ctx == NULL)
		return NULL;
	/* IN_ORDER: only towards a port that frees at once (a guest's),
	 * or one stalled egress would hold up everything taken after */
	if (vdp_zc_copies(q, len)) {
		VDP_CNT_INC(q->zc.stat[VDP_ZC_COPIED]);
		return NULL;
	}
	return vdp_zc_rx_chain(q, c, vh, len);
}

#endif /* VDEVPEER_ZCOPY_H */
