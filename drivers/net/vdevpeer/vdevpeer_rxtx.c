/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vdevpeer data path, copy mode: ethdev RX takes frames the guest
 * transmitted (its TX virtqueue), ethdev TX puts frames into the guest's
 * RX virtqueue. The ring work is in vdp_split.c; this file moves bytes
 * between mbufs and descriptor chains and keeps the counters.
 */
#include <sys/eventfd.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "vdevpeer.h"

/* Data-path log lines per queue per second: enough to see what a broken
 * guest does, too few to flood the log. */
#define VDP_LOG_BURST 10

void
vdp_ring_err_log(void *ctx, enum vdp_err err, uint32_t a, uint32_t b)
{
	struct vdp_queue *q = ctx;
	uint64_t now = rte_get_timer_cycles();

	if (now - q->log_tsc > rte_get_timer_hz()) {
		q->log_tsc = now;
		q->log_count = 0;
	}
	if (q->log_count++ >= VDP_LOG_BURST)
		return;
	rte_log(err == VDP_ERR_NO_RX_BUF || err == VDP_ERR_NO_MBUF ?
		RTE_LOG_DEBUG : RTE_LOG_WARNING, vdp_logtype_data,
		"net_vdevpeer: %s (%s): %s queue %u: %s (%u, %u)%s\n",
		q->port->args.bind, q->port->args.peer, q->is_rx ? "rx" : "tx",
		q->qid, vdp_err_names[err], a, b,
		q->vr.broken ? ": ring no longer trusted, queue stopped" : "");
}

/*
 * Enter the ring for one burst, or return false when the queue is paused.
 * See the handshake in vdevpeer.h.
 */
static inline bool
vdp_queue_enter(struct vdp_queue *q)
{
	if (!__atomic_load_n(&q->allow, __ATOMIC_RELAXED))
		return false;
	__atomic_store_n(&q->busy, 1, __ATOMIC_SEQ_CST);
	if (unlikely(!__atomic_load_n(&q->allow, __ATOMIC_SEQ_CST))) {
		__atomic_store_n(&q->busy, 0, __ATOMIC_RELEASE);
		return false;
	}
	return true;
}

static inline void
vdp_queue_leave(struct vdp_queue *q)
{
	__atomic_store_n(&q->busy, 0, __ATOMIC_RELEASE);
}

/* Publish used elements and interrupt the guest if it asked for it. */
static inline void
vdp_queue_complete(struct vdp_queue *q)
{
	vdp_split_used_flush(&q->vr);
	if (vdp_split_need_call(&q->vr) && q->callfd >= 0) {
		eventfd_write(q->callfd, 1);
		q->calls++;
	}
}

static inline void
vdp_queue_count(struct vdp_queue *q, uint32_t len)
{
	q->pkts++;
	q->bytes += len;
	q->bins[vdp_size_bin(len)]++;
}

/*
 * Copy chain bytes [off, off + len) into freshly allocated mbufs, chained
 * when they do not fit one. NULL when the pool ran dry.
 */
static struct rte_mbuf *
chain_to_mbuf(struct vdp_queue *q, const struct vdp_chain *c, uint32_t off, uint32_t len)
{
	struct rte_mbuf *head, *m, *prev = NULL;
	uint32_t done = 0;

	head = rte_pktmbuf_alloc(q->mp);
	if (unlikely(head == NULL))
		return NULL;
	m = head;
	for (;;) {
		uint32_t room = rte_pktmbuf_tailroom(m);
		uint32_t n = RTE_MIN(room, len - done);

		vdp_chain_read(c, off + done, rte_pktmbuf_mtod(m, void *), n);
		m->data_len = (uint16_t)n;
		done += n;
		if (prev != NULL) {
			prev->next = m;
			head->nb_segs++;
		}
		if (done == len)
			break;
		prev = m;
		m = rte_pktmbuf_alloc(q->mp);
		if (unlikely(m == NULL)) {
			rte_pktmbuf_free(head);
			return NULL;
		}
	}
	head->pkt_len = len;
	head->port = q->port->port_id;
	return head;
}

uint16_t
eth_vdevpeer_rx(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vdp_queue *q = queue;
	struct vdp_vring *vr = &q->vr;
	struct vdp_chain *c = &q->chain;
	uint16_t nb_rx = 0, avail, i, used_before;

	if (!vdp_queue_enter(q))
		return 0;
	used_before = vr->used_idx;
	vdp_zc_drain(q);  /* zero-copy: give back buffers freed since */
	avail = vdp_split_avail_count(vr);
	if (avail == 0)
		goto out;
	if (avail < n)
		n = avail;
	for (i = 0; i < n; i++) {
		enum vdp_fetch r = vdp_split_fetch(vr, &q->port->mm, VDP_DIR_READ, c);
		struct vdp_net_hdr vh = { 0 };
		struct rte_mbuf *m;
		uint32_t len;

		if (r == VDP_FETCH_BAD)
			continue;
		if (r != VDP_FETCH_OK)
			break;
		len = c->len - vr->hdr_len;
		/* the header: read once, into our copy */
		vdp_chain_read(c, 0, &vh, vr->hdr_len);
		/* zero-copy: the chain is held, given back when m is freed */
		m = vdp_zc_try(q, c, &vh, len);
		if (m == NULL) {
			m = chain_to_mbuf(q, c, vr->hdr_len, len);
			if (unlikely(m == NULL)) {
				/* leave the chain with the guest: we retry next burst */
				vdp_split_unfetch(vr, 1);
				vdp_vring_err(vr, VDP_ERR_NO_MBUF, 0, 0);
				break;
			}
			vdp_split_used_put(vr, c->head, 0);
		}
		vdp_queue_count(q, len);
		pkts[nb_rx++] = m;
	}
out:
	if (vr->used_idx != used_before)
		vdp_queue_complete(q);
	vdp_queue_leave(q);
	return nb_rx;
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

uint16_t
eth_vdevpeer_tx(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vdp_queue *q = queue;
	struct vdp_vring *vr = &q->vr;
	struct vdp_iov iov[VDP_CHAIN_MAX_SEGS];
	struct vdp_net_hdr hdr = { 0 };
	uint16_t i = 0;

	/* Every frame handed to us is consumed: delivered or counted dropped. */
	if (!vdp_queue_enter(q)) {
		q->drop_paused += n;  /* link down, queue disabled or stopped */
		goto free;
	}
	for (; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t nseg;
		int ret;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		if (unlikely(!mbuf_to_iov(m, iov, &nseg))) {
			vdp_vring_err(vr, VDP_ERR_CHAIN_TOO_LONG, m->nb_segs, 0);
			continue;
		}
		ret = vdp_split_enqueue_frame(vr, &q->port->mm, &hdr, iov, nseg);
		if (likely(ret == 0))
			vdp_queue_count(q, m->pkt_len);
		else if (ret < 0)
			break;
	}
	if (i < n)  /* the ring broke under us */
		vr->err[VDP_ERR_QUEUE_STOPPED] += n - i;
	vdp_queue_complete(q);
	vdp_queue_leave(q);
free:
	rte_pktmbuf_free_bulk(pkts, n);
	return n;
}
