/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mbufs and gather lists (vdevpeer_mbuf.c): the helpers the burst
 * functions and the software offload share. The small ones are inline
 * here: they run per frame.
 */
#ifndef VDEVPEER_MBUF_H
#define VDEVPEER_MBUF_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#include "vdp_offload.h"
#include "vdp_ring.h"

/* Copy len bytes at offset off of a gather source into dst. */
typedef void (*vdp_gather_fn)(const void *src, uint32_t off, void *dst, uint32_t len);

/*
 * Copy len bytes of src into freshly allocated mbufs, chained when they do
 * not fit one. NULL when the pool ran dry. Inlined with a constant copy
 * function, so each caller gets its own loop.
 */
static __rte_always_inline struct rte_mbuf *
gather_to_mbuf(struct rte_mempool *mp, uint16_t port, vdp_gather_fn copy,
	       const void *src, uint32_t len)
{
	struct rte_mbuf *head, *m, *prev = NULL;
	uint32_t done = 0;

	head = rte_pktmbuf_alloc(mp);
	if (unlikely(head == NULL))
		return NULL;
	m = head;
	for (;;) {
		uint32_t k = RTE_MIN(rte_pktmbuf_tailroom(m), len - done);

		copy(src, done, rte_pktmbuf_mtod(m, void *), k);
		m->data_len = (uint16_t)k;
		done += k;
		if (prev != NULL) {
			prev->next = m;
			head->nb_segs++;
		}
		if (done == len)
			break;
		prev = m;
		m = rte_pktmbuf_alloc(mp);
		if (unlikely(m == NULL)) {
			rte_pktmbuf_free(head);
			return NULL;
		}
	}
	head->pkt_len = len;
	head->port = port;
	return head;
}

/* mbuf segments as a gather list; false when there are too many. */
static inline bool
mbuf_to_iov(const struct rte_mbuf *m, struct vdp_iov *iov, uint32_t *n)
{
	uint32_t i = 0;

	for (; m != NULL; m = m->next) {
		if (unlikely(i == VDP_CHAIN_MAX_SEGS))
			return false;
		iov[i].base = rte_pktmbuf_mtod(m, const void *);
		iov[i].len = m->data_len;
		i++;
	}
	*n = i;
	return true;
}

/*
 * True when frame bytes [0, len) of m lie in segments only we own: no
 * guest memory attached as an external buffer (zero-copy), nothing shared.
 * Only such bytes may be written, or handed on as validated headers.
 */
static inline bool
mbuf_prefix_private(const struct rte_mbuf *m, uint32_t len)
{
	for (; m != NULL; m = m->next) {
		if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) > 1)
			return false;
		if (m->data_len >= len)
			return true;
		len -= m->data_len;
	}
	return len == 0;
}

/* Gather [iov] (len bytes) into new mbufs of mp; NULL when it ran dry. */
struct rte_mbuf *vdp_iov_to_mbuf(struct rte_mempool *mp, uint16_t port,
				 const struct vdp_iov *iov, uint32_t n, uint32_t len);
/* Write len bytes at frame offset off of m (which must hold them). */
void vdp_mbuf_write(struct rte_mbuf *m, uint32_t off, const void *src, uint32_t len);
/* The headers a host mbuf's offload fields point at, checked against the
 * frame and copied into hb (vdevpeer_mbuf.c). */
bool vdp_tx_hdrs(const struct rte_mbuf *m, const struct vdp_iov *iov, uint32_t n,
		 struct vdp_ol_hdrs *h, uint8_t *hb, uint32_t *l4_total);

#endif /* VDEVPEER_MBUF_H */
