/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vdevpeer data path, copy mode: ethdev RX takes frames the guest
 * transmitted (its TX virtqueue), ethdev TX puts frames into the guest's
 * RX virtqueue. The ring work is in the core (vdp_ring.h); this file moves bytes
 * between mbufs and descriptor chains and keeps the counters.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <ethdev_driver.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "vdevpeer.h"
#include "vdevpeer_call.h"
#include "vdevpeer_mbuf.h"
#include "vdevpeer_port.h"
#include "vdevpeer_rxtx.h"
#include "vdevpeer_zcopy.h"
#include "vdp_peer.h"

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

/* Publish used elements and interrupt the guest if it asked for it
 * (the queue's lcore; vdp_queue_publish_shared for the control thread). */
static VDP_ALWAYS_INLINE void
vdp_queue_publish_l(struct vdp_queue *q, enum vdp_layout l)
{
	if (vdp_vq_publish_l(&q->vr, l) && q->callfd >= 0 && !q->call_off)
		vdp_queue_call(q);
}

/*
 * A guest TX ring's call, one burst late: the burst flushes its used
 * elements (q->call_due) and the next burst of the queue, or the lcore
 * before it sleeps (vdp_queue_call_check), reads whether the guest wants
 * a call for them. The gate's full barrier at that burst's entry has
 * already made our used index visible, so the fence before the guest's
 * flags costs nothing then, where right after the flush it waited for
 * the line the guest polls. A call comes at most one poll round later;
 * for a ring the control thread pauses (to load it again, give it back
 * or free it), when it is paused (vdp_queue_call_due_shared).
 */
static VDP_ALWAYS_INLINE void
vdp_queue_call_due_l(struct vdp_queue *q, enum vdp_layout l)
{
	if (likely(!q->call_due))
		return;
	q->call_due = false;
	if (vdp_vq_need_call_l(&q->vr, l) && q->callfd >= 0 && !q->call_off)
		vdp_queue_call(q);
}

void
vdp_queue_call_check(struct vdp_queue *q)
{
	vdp_queue_call_due_l(q, q->vr.layout);
}

static inline void
vdp_queue_count(struct vdp_queue *q, uint32_t len)
{
	uint64_t *bin = &q->bins[vdp_size_bin(len)];

	VDP_CNT_INC(q->pkts);
	VDP_CNT_ADD(q->bytes, len);
	VDP_CNT_INC(*bin);
}

struct chain_src {
	const struct vdp_chain *c;
	uint32_t off;
};

static void
copy_from_chain(const void *src, uint32_t off, void *dst, uint32_t len)
{
	const struct chain_src *cs = src;

	vdp_chain_read(cs->c, cs->off + off, dst, len);
}

/* Chain bytes [off, off + len) into new mbufs. */
static struct rte_mbuf *
chain_to_mbuf(struct vdp_queue *q, const struct vdp_chain *c, uint32_t off, uint32_t len)
{
	const struct chain_src cs = { .c = c, .off = off };

	/* the usual short frame: in the first segment, and one mbuf holds it
	 * (a fresh mbuf's tailroom: the data room after the headroom) */
	if (likely(c->seg[0].len >= off + len &&
		   rte_pktmbuf_data_room_size(q->mp) >= RTE_PKTMBUF_HEADROOM + len)) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(q->mp);

		if (unlikely(m == NULL))
			return NULL;
		memcpy(rte_pktmbuf_mtod(m, void *), c->seg[0].hva + off, len);
		m->data_len = (uint16_t)len;
		m->pkt_len = len;
		m->port = q->port->port_id;
		return m;
	}

	return gather_to_mbuf(q->mp, q->port->port_id, copy_from_chain, &cs, len);
}

/*
 * Complete a partial checksum in place: sum [start, end) with the field as
 * it is, store the complement at start + off (bounds checked by the caller).
 */
static void
mbuf_csum_complete(struct rte_mbuf *m, uint32_t start, uint32_t off, bool udp)
{
	struct vdp_iov iov[VDP_CHAIN_MAX_SEGS], sl[VDP_CHAIN_MAX_SEGS];
	struct vdp_csum c;
	uint32_t n;
	uint8_t v[2];
	uint16_t x;
	int k;

	if (!mbuf_to_iov(m, iov, &n))
		return;
	k = vdp_iov_slice(iov, n, start, m->pkt_len - start, sl, VDP_CHAIN_MAX_SEGS);
	if (k < 0)
		return;
	vdp_csum_init(&c);
	vdp_csum_feed_iov(&c, sl, (uint32_t)k);
	x = (uint16_t)~vdp_csum_fold(&c);
	if (x == 0 && udp)
		x = 0xffff;
	vdp_put_be16(v, x);
	vdp_mbuf_write(m, start + off, v, 2);
}

/*
 * A zero-copy frame whose offload work would write into (or whose headers
 * would be read from) guest memory: copy it into our own mbufs, with the
 * header bytes the offload request was validated against (hp[0..hl)) rather
 * than a second read of guest memory. The original is freed (the guest gets
 * its buffer back). NULL when the pool ran dry (m freed, counted).
 */
static struct rte_mbuf *
vdp_rx_privatize(struct vdp_queue *q, struct rte_mbuf *m, const uint8_t *hp, uint32_t hl)
{
	struct vdp_iov iov[VDP_CHAIN_MAX_SEGS];
	struct rte_mbuf *c = NULL;
	uint32_t n;

	if (mbuf_to_iov(m, iov, &n))
		c = vdp_iov_to_mbuf(q->mp, m->port, iov, n, m->pkt_len);
	if (unlikely(c == NULL)) {
		vdp_vring_err(&q->vr, VDP_ERR_NO_MBUF, 0, 0);
		rte_pktmbuf_free(m);
		return NULL;
	}
	vdp_mbuf_write(c, 0, hp, RTE_MIN(hl, c->pkt_len));
	rte_pktmbuf_free(m);
	return c;
}

/* Hand out software segments parked by an earlier burst. */
static inline uint16_t
vdp_pend_drain(struct vdp_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t k = RTE_MIN(n, q->pend_n);

	if (likely(k == 0))
		return 0;
	memcpy(pkts, &q->pend[q->pend_head], k * sizeof(pkts[0]));
	q->pend_head = (uint16_t)(q->pend_head + k);
	q->pend_n = (uint16_t)(q->pend_n - k);
	if (q->pend_n == 0)
		q->pend_head = 0;
	return k;
}

void
vdp_queue_pend_free(struct vdp_queue *q)
{
	for (uint16_t i = 0; i < q->pend_n; i++)
		rte_pktmbuf_free(q->pend[q->pend_head + i]);
	q->pend_n = q->pend_head = 0;
}

/*
 * Software TCP segmentation of a guest's GSO frame m into q->pend (empty
 * here), with complete checksums. The first ones go to out[0..room).
 * Returns how many went to out; m is consumed.
 */
static uint16_t
vdp_rx_segment(struct vdp_queue *q, struct rte_mbuf *m, const struct vdp_ol_req *r,
	       const uint8_t *hp, struct rte_mbuf **out, uint16_t room)
{
	const struct vdp_ol_hdrs *h = &r->h;
	const uint32_t hl = (uint32_t)h->l2_len + h->l3_len + h->l4_len;
	const uint32_t pay = m->pkt_len - hl;
	struct vdp_iov iov[VDP_CHAIN_MAX_SEGS], fi[VDP_CHAIN_MAX_SEGS + 1];
	uint8_t hb[VDP_OL_HDR_MAX], sh[VDP_OL_HDR_MAX];
	uint32_t n, i;
	uint16_t k;

	memcpy(hb, hp, hl);
	if (!mbuf_to_iov(m, iov, &n))
		goto drop;
	for (i = 0; i < r->nsegs; i++) {
		uint32_t off = i * r->mss, len = RTE_MIN((uint32_t)r->mss, pay - off);
		struct rte_mbuf *s;
		int np;

		np = vdp_iov_slice(iov, n, hl + off, len, fi + 1, VDP_CHAIN_MAX_SEGS);
		if (np < 0)
			goto drop_segs;
		vdp_ol_tso_hdr(hb, h, i, off, len, i + 1 == r->nsegs, sh);
		vdp_ol_l4_csum(sh, h, h->l4_len, fi + 1, (uint32_t)np, h->l4_len + len, false);
		fi[0].base = sh;
		fi[0].len = hl;
		s = vdp_iov_to_mbuf(q->mp, q->port->port_id, fi, (uint32_t)np + 1, hl + len);
		if (unlikely(s == NULL)) {
			vdp_vring_err(&q->vr, VDP_ERR_NO_MBUF, i, r->nsegs);
			goto drop_segs;
		}
		q->pend[i] = s;
	}
	rte_pktmbuf_free(m);
	for (i = 0; i < r->nsegs; i++)
		vdp_queue_count(q, q->pend[i]->pkt_len);
	VDP_CNT_ADD(q->ol[VDP_OL_SW_SEG], r->nsegs);
	VDP_CNT_ADD(q->ol[VDP_OL_SW_CSUM], r->nsegs);
	q->pend_head = 0;
	q->pend_n = r->nsegs;
	k = vdp_pend_drain(q, out, room);
	return k;

drop_segs:
	while (i-- > 0)
		rte_pktmbuf_free(q->pend[i]);
drop:
	rte_pktmbuf_free(m);
	return 0;
}

/*
 * A guest frame with a virtio-net header asking for offload: validate it
 * against the frame, then hand the work on as mbuf offload flags where the
 * application takes them (and host-side offload is on for the port), or
 * do it in software. Returns the mbufs put in out (0: dropped, counted).
 */
static uint16_t
vdp_rx_offload(struct vdp_queue *q, struct rte_mbuf *m, const struct vdp_net_hdr *vh,
	       struct rte_mbuf **out, uint16_t room)
{
	struct vdp_port *p = q->port;
	uint8_t buf[VDP_OL_HDR_MAX];
	const uint32_t len = m->pkt_len, avail = RTE_MIN(len, VDP_OL_HDR_MAX);
	const uint8_t *hp = len != 0 ? rte_pktmbuf_read(m, 0, avail, buf) : buf;
	const bool hw = __atomic_load_n(&p->csum_on, __ATOMIC_RELAXED) != 0;
	struct vdp_ol_req r;
	enum vdp_err e;

	e = vdp_ol_guest_tx(vh, p->feat, hp, avail, len, &r);
	if (unlikely(e != VDP_ERR_NONE)) {
		vdp_vring_err(&q->vr, e, (uint32_t)vh->flags << 8 | vh->gso_type,
			      (uint32_t)vh->csum_start << 16 | vh->csum_offset);
		rte_pktmbuf_free(m);
		return 0;
	}
	/*
	 * Zero-copy frames: every path below except software segmentation
	 * (which reads m and builds new mbufs) writes a checksum into m or
	 * hands its headers on. Those bytes must be ours: the head mbuf's
	 * header copy normally covers them (csum_start + csum_offset + 2, and
	 * for TSO csum_start is the parsed L2 + L3 length, well inside it);
	 * where it does not, copy the frame rather than touch guest memory.
	 */
	if (r.kind != VDP_OL_PLAIN &&
	    (r.kind != VDP_OL_TSO || (hw && p->rx_ol_csum && p->rx_ol_lro))) {
		const uint32_t need = RTE_MAX((uint32_t)r.csum_start + r.csum_offset + 2,
					      (uint32_t)r.h.l2_len + r.h.l3_len + r.h.l4_len);

		if (unlikely(!mbuf_prefix_private(m, need))) {
			m = vdp_rx_privatize(q, m, hp, avail);
			if (m == NULL)
				return 0;
			hp = rte_pktmbuf_read(m, 0, avail, buf);
		}
	}
	switch (r.kind) {
	case VDP_OL_PLAIN:
		break;
	case VDP_OL_CSUM:
		VDP_CNT_INC(q->ol[VDP_OL_PARTIAL]);
		if (hw && p->rx_ol_csum) {
			m->l2_len = r.h.l2_len;
			m->l3_len = r.h.l3_len;
			m->l4_len = r.h.l4_len;
			m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE |
				(r.h.ipv == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) |
				(r.h.l4_proto == VDP_IPPROTO_TCP ? RTE_MBUF_F_TX_TCP_CKSUM :
				 RTE_MBUF_F_TX_UDP_CKSUM);
			break;
		}
		mbuf_csum_complete(m, r.csum_start, r.csum_offset,
				   r.h.l4_proto == VDP_IPPROTO_UDP);
		VDP_CNT_INC(q->ol[VDP_OL_SW_CSUM]);
		break;
	case VDP_OL_CSUM_RAW:
		VDP_CNT_INC(q->ol[VDP_OL_PARTIAL]);
		mbuf_csum_complete(m, r.csum_start, r.csum_offset, false);
		VDP_CNT_INC(q->ol[VDP_OL_SW_CSUM]);
		break;
	case VDP_OL_TSO:
		VDP_CNT_INC(q->ol[VDP_OL_GSO]);
		if (hw && p->rx_ol_csum && p->rx_ol_lro) {
			uint8_t *l3 = (uint8_t *)(uintptr_t)hp + r.h.l2_len;
			uint8_t v[2];
			struct vdp_csum c;

			m->l2_len = r.h.l2_len;
			m->l3_len = r.h.l3_len;
			m->l4_len = r.h.l4_len;
			m->tso_segsz = r.mss;
			m->ol_flags |= RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_NONE |
				RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
				(r.h.ipv == 4 ? RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM :
				 RTE_MBUF_F_TX_IPV6);
			/* DPDK's TSO convention: pseudo header without the length */
			vdp_csum_init(&c);
			vdp_csum_pseudo(&c, l3, r.h.ipv, VDP_IPPROTO_TCP, 0);
			vdp_put_be16(v, vdp_csum_fold(&c));
			vdp_mbuf_write(m, (uint32_t)r.h.l2_len + r.h.l3_len + VDP_TCP_CSUM_OFF, v, 2);
			break;
		}
		return vdp_rx_segment(q, m, &r, hp, out, room);
	}
	vdp_queue_count(q, len);
	out[0] = m;
	return 1;
}

/* A copied chain's used element: now, or (IN_ORDER, zero-copy) queued
 * after the held chains taken before it. */
static VDP_ALWAYS_INLINE void
vdp_rx_used_put(struct vdp_queue *q, uint16_t id, uint16_t ndesc, enum vdp_layout l, bool zc)
{
	if (!(zc && unlikely(q->zc.inorder) && vdp_zc_defer(q, id, ndesc)))
		vdp_vq_used_put_l(&q->vr, id, ndesc, 0, l);
}

/*
 * The second pass: the k plain chains of the first (one segment, a
 * header asking for nothing, a frame one mbuf takes and that is copied,
 * not attached), in order, each into one of the mbufs mb[] (from the
 * pool, not yet reset) with one copy, its used element put. The copies
 * read lines the first pass asked for.
 */
static VDP_ALWAYS_INLINE void
vdp_rx_plain_copy(struct vdp_queue *q, const struct vdp_take *t, uint32_t k,
		  struct rte_mbuf **mb, struct rte_mbuf **pkts, enum vdp_layout l, bool zc)
{
	const uint32_t hl = q->vr.hdr_len;
	const uint16_t port = q->port->port_id;

	for (uint32_t j = 0; j < k; j++) {
		struct rte_mbuf *m = mb[j];
		const uint32_t len = t[j].len - hl;

		rte_pktmbuf_reset(m);
		memcpy(rte_pktmbuf_mtod(m, void *), t[j].hva + hl, len);
		m->data_len = (uint16_t)len;
		m->pkt_len = len;
		m->port = port;
		if (zc)
			VDP_CNT_INC(q->zc.stat[VDP_ZC_COPIED]);
		vdp_rx_used_put(q, t[j].id, t[j].ndesc, l, zc);
		vdp_queue_count(q, len);
		pkts[j] = m;
	}
}

/*
 * One chain that is not plain (several segments, offload asked for, a
 * frame attached or gathered), after the plain ones taken before it.
 * Returns the frames it gave (0: dropped, counted), or -1 when no mbuf
 * was left: the chain stays with the guest for the next burst.
 */
static VDP_ALWAYS_INLINE int
vdp_rx_chain(struct vdp_queue *q, struct vdp_chain *c, const struct vdp_net_hdr *vh,
	     struct rte_mbuf **pkts, uint16_t room, enum vdp_layout l, bool zc)
{
	struct vdp_vring *vr = &q->vr;
	const uint32_t len = c->len - vr->hdr_len;
	/* zero-copy: the chain is held, given back when m is freed */
	struct rte_mbuf *m = zc ? vdp_zc_try(q, c, vh, len) : NULL;

	if (m == NULL) {
		m = chain_to_mbuf(q, c, vr->hdr_len, len);
		if (unlikely(m == NULL)) {
			vdp_vq_unfetch_l(vr, c, l);
			vdp_vring_err(vr, VDP_ERR_NO_MBUF, 0, 0);
			return -1;
		}
		vdp_rx_used_put(q, c->id, c->ndesc, l, zc);
	}
	if (unlikely((vh->flags | vh->gso_type) != 0))
		return vdp_rx_offload(q, m, vh, pkts, room);
	vdp_queue_count(q, len);
	pkts[0] = m;
	return 1;
}

/*
 * Guest TX frames into mbufs, written once and instantiated per ring
 * layout and zero-copy (on: the queue has a zero-copy context): both are
 * tested per burst, on what the ring was loaded with, never per frame.
 *
 * In two passes, as the direct path (vdp_peer_frames_l): the first takes
 * up to VDP_PEER_BATCH plain chains and asks for their frames' lines (the
 * guest has just written them; they come from its core), the second
 * copies them, so the misses overlap instead of each waiting for the
 * next descriptor's. A chain that is not plain ends a first pass and is
 * moved on its own after the second. The mbufs of a pass are taken from
 * the pool in one go; what a pass did not use goes back at once.
 */
static VDP_ALWAYS_INLINE uint16_t
vdp_rx_burst_l(struct vdp_queue *q, struct rte_mbuf **pkts, uint16_t n,
	       enum vdp_layout l, bool zc)
{
	struct vdp_vring *vr = &q->vr;
	struct vdp_chain *c = &q->chain;
	const uint32_t hl = vr->hdr_len;
	const uint32_t max_len = rte_pktmbuf_data_room_size(q->mp) - RTE_PKTMBUF_HEADROOM;
	struct vdp_take t[VDP_PEER_BATCH];
	struct rte_mbuf *mb[VDP_PEER_BATCH];
	uint16_t nb_rx, i = 0, take = n, left;

	vdp_queue_call_due_l(q, l);   /* the last burst's */
	vdp_vring_burst_begin(vr);
	if (zc)
		vdp_zc_drain(q);  /* zero-copy: give back buffers freed since */
	nb_rx = vdp_pend_drain(q, pkts, n);
	if (nb_rx == n || (left = vdp_vq_avail_l(vr, l)) == 0)
		goto out;
	/* split: the chains available, exactly; packed: at least one (the
	 * pass takes up to a batch, returning the mbufs it did not use) */
	if (l == VDP_LAYOUT_PACKED)
		left = VDP_PEER_BATCH;
	/* IN_ORDER: no more chains than the in-order window has room for */
	if (zc && unlikely(q->zc.inorder))
		take = vdp_zc_inorder_room(q, n);
	/* at most take chains looked at, bad ones included */
	while (i < take && nb_rx < n) {
		struct vdp_net_hdr vh = { 0 };
		enum vdp_fetch r = VDP_FETCH_OK;
		uint32_t k = 0, want;
		bool odd = false;

		/* split: what the guest made available since */
		if (left == 0 && (left = vdp_vq_avail_l(vr, l)) == 0)
			break;
		want = RTE_MIN(RTE_MIN((uint32_t)(take - i), (uint32_t)(n - nb_rx)),
			       RTE_MIN((uint32_t)left, VDP_PEER_BATCH));
		if (unlikely(rte_mempool_get_bulk(q->mp, (void **)mb, want) != 0)) {
			/* the pool runs low: one at a time */
			if (rte_mempool_get(q->mp, (void **)mb) != 0) {
				vdp_vring_err(vr, VDP_ERR_NO_MBUF, 0, 0);
				break;
			}
			want = 1;
		}
		/* first pass: plain chains taken, their frames' lines asked for */
		while (k < want && i < take) {
			uint32_t len;

			if (l == VDP_LAYOUT_PACKED && k + VDP_TAKE_N <= want &&
			    i + VDP_TAKE_N <= take) {
				/* four at once, each judged as below; the first
				 * not plain is moved on its own after the pass,
				 * those after it given back (vdp_peer_frames_l) */
				const uint32_t k0 = k;
				const uint32_t got = vdp_packed_take_n(vr, q->mm, VDP_DIR_READ, t + k0);

				i = (uint16_t)(i + got);
				for (; k < k0 + got; k++) {
					if (!vr->hdr_skip)
						vdp_hdr_get_buf(t[k].hva, hl, &vh);
					len = t[k].len - hl;
					if (unlikely((vh.flags | vh.gso_type) != 0 || len > max_len ||
						     (zc && !vdp_zc_copies(q, len))))
						break;
					rte_prefetch0(t[k].hva + hl);
					rte_prefetch0(t[k].hva + hl + len - 1);
				}
				if (k != k0 + got) {
					vdp_packed_take_n_keep(vr, t + k0, got, k + 1 - k0);
					i = (uint16_t)(i - (k0 + got - k - 1));
					vdp_take_chain(&t[k], c);
					odd = true;
					break;
				}
				if (got != 0)
					continue;
			}
			r = vdp_vq_fetch_l(vr, q->mm, VDP_DIR_READ, c, l);
			i++;
			if (l == VDP_LAYOUT_SPLIT && left != 0)
				left--;
			if (r == VDP_FETCH_BAD)
				continue;
			if (r != VDP_FETCH_OK)
				break;
			/* the header: read once, into our copy; zero-copy and
			 * the offload dispatch both use it (all zero, not
			 * read, when the guest can ask for no offload) */
			if (!vr->hdr_skip)
				vdp_hdr_get(c, hl, &vh);
			len = c->len - hl;
			if (unlikely(c->nseg != 1 || (vh.flags | vh.gso_type) != 0 ||
				     len > max_len || (zc && !vdp_zc_copies(q, len)))) {
				odd = true;
				break;
			}
			rte_prefetch0(c->seg[0].hva + hl);
			rte_prefetch0(c->seg[0].hva + hl + len - 1);
			t[k].hva = c->seg[0].hva;
			t[k].len = c->seg[0].len;   /* header and frame */
			t[k].id = c->id;
			t[k].ndesc = c->ndesc;
			k++;
		}
		/* second pass: the copies, in order */
		vdp_rx_plain_copy(q, t, k, mb, pkts + nb_rx, l, zc);
		nb_rx = (uint16_t)(nb_rx + k);
		if (k != want)
			rte_mempool_put_bulk(q->mp, (void **)(mb + k), want - k);
		if (odd) {
			/* room: the first pass stopped short of n - nb_rx */
			int got = vdp_rx_chain(q, c, &vh, pkts + nb_rx, (uint16_t)(n - nb_rx), l, zc);

			if (got < 0)
				break;
			nb_rx = (uint16_t)(nb_rx + got);
		} else if (r != VDP_FETCH_OK && r != VDP_FETCH_BAD) {
			break;   /* empty, out of budget, or broken */
		}
	}
	if (nb_rx != 0)
		vdp_queue_learn_mac(q, pkts[0]);
out:
	q->call_due = vdp_vq_flush_l(vr, l);
	/* the frames leave the driver now: where we took up to survives us */
	vdp_ring_state_avail(vr);
	return nb_rx;
}

#define VDP_RX_VARIANT(name, l, zc) \
static uint16_t \
name(struct vdp_queue *q, struct rte_mbuf **pkts, uint16_t n) \
{ \
	return vdp_rx_burst_l(q, pkts, n, l, zc); \
}
VDP_RX_VARIANT(vdp_rx_split, VDP_LAYOUT_SPLIT, false)
VDP_RX_VARIANT(vdp_rx_split_zc, VDP_LAYOUT_SPLIT, true)
VDP_RX_VARIANT(vdp_rx_packed, VDP_LAYOUT_PACKED, false)
VDP_RX_VARIANT(vdp_rx_packed_zc, VDP_LAYOUT_PACKED, true)
#undef VDP_RX_VARIANT

/* One burst from q's own ring. */
static inline uint16_t
vdp_rx_ring(struct vdp_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t nb_rx;

	if (!vdp_queue_enter_lcore(q))
		return 0;
	if (q->vr.layout == VDP_LAYOUT_PACKED)
		nb_rx = q->zc.ctx != NULL ? vdp_rx_packed_zc(q, pkts, n) :
					    vdp_rx_packed(q, pkts, n);
	else
		nb_rx = q->zc.ctx != NULL ? vdp_rx_split_zc(q, pkts, n) :
					    vdp_rx_split(q, pkts, n);
	vdp_queue_leave(q);
	return nb_rx;
}

/* The rings of the guest pairs folded onto rx queue q (pairs beyond the
 * port's rx queues: q->qid + k * nb_rx_queues), each behind its own gate. */
static __rte_noinline uint16_t
vdp_rx_folded(struct vdp_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
	struct vdp_port *p = q->port;
	const uint16_t step = p->eth_dev->data->nb_rx_queues;
	uint16_t nb_rx = 0;

	for (uint32_t k = (uint32_t)q->qid + step; step != 0 && k < VDP_MAX_QUEUES &&
	     nb_rx < n; k += step) {
		struct vdp_queue *f = __atomic_load_n(&p->fold_rx[k], __ATOMIC_ACQUIRE);

		if (f != NULL)
			nb_rx += vdp_rx_ring(f, pkts + nb_rx, n - nb_rx);
	}
	return nb_rx;
}

/* RARP (RFC 903) payload after the Ethernet header: htype, ptype, hlen,
 * plen, op (3: request reverse), sender MAC/IP, target MAC/IP */
#define VDP_RARP_OP_REQUEST 3
#define VDP_RARP_FRAME_LEN 60   /* the Ethernet minimum, zero padded */

/*
 * The announce the VMM asked for after a migration (SEND_RARP): a RARP
 * request from the guest's MAC, broadcast, handed to the application as
 * if the guest had sent it first in this burst - the bridge moves the
 * MAC to this port, switches behind a world port learn it. The mbuf
 * first (without one the announce stays pending for the next burst),
 * then the claim: one lcore takes MAC and pending mark in one exchange,
 * so a session's end (which clears it) or a newer request cannot be
 * undone or mixed up by a slow lcore.
 */
static __rte_noinline uint16_t
vdp_rx_rarp(struct vdp_queue *q, struct rte_mbuf **pkts)
{
	struct vdp_port *p = q->port;
	struct rte_ether_hdr *eth;
	struct rte_mbuf *m;
	uint8_t *a;
	uint64_t mac;

	m = rte_pktmbuf_alloc(q->mp);
	if (m == NULL || rte_pktmbuf_tailroom(m) < VDP_RARP_FRAME_LEN) {
		rte_pktmbuf_free(m);
		return 0;
	}
	/* the hint off first: a request after this sets it again */
	__atomic_and_fetch(&p->rx_extra, ~VDP_RX_RARP, __ATOMIC_ACQ_REL);
	mac = __atomic_exchange_n(&p->rarp, 0, __ATOMIC_ACQ_REL);
	if (!(mac & VDP_RARP_PENDING)) {
		rte_pktmbuf_free(m);   /* another lcore took it, or the session ended */
		return 0;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	memset(eth, 0, VDP_RARP_FRAME_LEN);
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		eth->src_addr.addr_bytes[i] = (uint8_t)(mac >> (8 * i));
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_RARP);
	a = (uint8_t *)(eth + 1);
	a[1] = 1;                                  /* Ethernet */
	a[2] = RTE_ETHER_TYPE_IPV4 >> 8;           /* IPv4 */
	a[4] = RTE_ETHER_ADDR_LEN;
	a[5] = 4;
	a[7] = VDP_RARP_OP_REQUEST;
	memcpy(a + 8, &eth->src_addr, RTE_ETHER_ADDR_LEN);   /* sender: the guest */
	memcpy(a + 18, &eth->src_addr, RTE_ETHER_ADDR_LEN);  /* target: the guest */
	m->data_len = m->pkt_len = VDP_RARP_FRAME_LEN;
	m->port = p->port_id;
	m->packet_type = RTE_PTYPE_L2_ETHER;
	pkts[0] = m;
	vdp_queue_count(q, VDP_RARP_FRAME_LEN);
	__atomic_fetch_add(&p->stat[VDP_PS_RARP_SENT], 1, __ATOMIC_RELAXED);
	return 1;
}

/* A burst with something besides q's own ring: folded rings, a RARP. */
static __rte_noinline uint16_t
vdp_rx_extra(struct vdp_queue *q, struct rte_mbuf **pkts, uint16_t n, uint32_t extra)
{
	uint16_t nb_rx = 0;

	if ((extra & VDP_RX_RARP) && n != 0)
		nb_rx = vdp_rx_rarp(q, pkts);
	if (!(extra & VDP_RX_FOLDED))
		return nb_rx + vdp_rx_ring(q, pkts + nb_rx, n - nb_rx);
	/* own ring and folded ones take turns going first: none starves */
	q->fold_turn ^= 1;
	if (q->fold_turn) {
		nb_rx += vdp_rx_folded(q, pkts + nb_rx, n - nb_rx);
		return nb_rx + vdp_rx_ring(q, pkts + nb_rx, n - nb_rx);
	}
	nb_rx += vdp_rx_ring(q, pkts + nb_rx, n - nb_rx);
	return nb_rx + vdp_rx_folded(q, pkts + nb_rx, n - nb_rx);
}

uint16_t
eth_vdevpeer_rx(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vdp_queue *q = queue;
	const uint32_t extra = __atomic_load_n(&q->port->rx_extra, __ATOMIC_RELAXED);

	if (likely(extra == 0))
		return vdp_rx_ring(q, pkts, n);
	return vdp_rx_extra(q, pkts, n, extra);
}

/* Put one frame (virtio-net header vh, then fi[0..n)) into the guest's RX ring. */
static inline int
vdp_tx_put(struct vdp_queue *q, const struct vdp_net_hdr *vh, const struct vdp_iov *fi,
	   uint32_t n, uint32_t len)
{
	int ret = q->put_frame(&q->vr, q->mm, vh, fi, n);

	if (likely(ret == 0))
		vdp_queue_count(q, len);
	return ret;
}

/* Can a guest of features f take a TSO frame of len bytes (headers h,
 * CWR set or not) whole, as one GSO frame? It must still be one IP packet
 * (<= 65535 bytes). */
static inline bool
vdp_gso_whole_ok(uint64_t f, const struct vdp_ol_hdrs *h, uint32_t len, bool cwr)
{
	return (f & VDP_BIT(h->ipv == 4 ? VDP_F_GUEST_TSO4 : VDP_F_GUEST_TSO6)) &&
	       (!cwr || (f & VDP_BIT(VDP_F_GUEST_ECN))) &&
	       len - h->l2_len - (h->ipv == 6 ? 40u : 0u) <= UINT16_MAX;
}

/* Make hb, the headers of a TSO frame of len bytes (l4_total after the
 * IP header), those of one GSO frame, and vh its virtio-net header. */
static void
vdp_gso_whole(uint8_t *hb, const struct vdp_ol_hdrs *h, uint32_t len, uint32_t l4_total,
	      uint32_t mss, bool cwr, struct vdp_net_hdr *vh)
{
	uint8_t *ip = hb + h->l2_len;

	if (h->ipv == 4) {
		vdp_put_be16(ip + 2, (uint16_t)(len - h->l2_len));
		vdp_ipv4_hdr_csum(ip);
	} else {
		vdp_put_be16(ip + 4, (uint16_t)(len - h->l2_len - h->l3_len));
	}
	vdp_ol_l4_csum(hb, h, h->l4_len, NULL, 0, l4_total, true);
	vh->flags = VDP_HDR_F_NEEDS_CSUM;
	vh->gso_type = (uint8_t)((h->ipv == 4 ? VDP_GSO_TCPV4 : VDP_GSO_TCPV6) |
				 (cwr ? VDP_GSO_ECN : 0));
	vh->hdr_len = (uint16_t)((uint32_t)h->l2_len + h->l3_len + h->l4_len);
	vh->gso_size = (uint16_t)mss;
	vh->csum_start = (uint16_t)(h->l2_len + h->l3_len);
	vh->csum_offset = VDP_TCP_CSUM_OFF;
}

/*
 * A host frame with offload flags to a guest: partial checksums and GSO
 * go as they are where the guest negotiated them (and the port's host
 * offload is on); the rest is done here in software. Returns 0, a drop
 * reason (> 0, counted) or -1 when the ring broke.
 */
static int
vdp_tx_offload(struct vdp_queue *q, struct rte_mbuf *m, const struct vdp_iov *iov,
	       uint32_t nseg)
{
	struct vdp_port *p = q->port;
	const uint64_t f = __atomic_load_n(&p->csum_on, __ATOMIC_RELAXED) ? p->feat : 0;
	const uint64_t ol = m->ol_flags;
	const uint32_t len = m->pkt_len;
	struct vdp_iov fi[VDP_CHAIN_MAX_SEGS + 1];
	uint8_t hb[VDP_OL_HDR_MAX], sh[VDP_OL_HDR_MAX];
	struct vdp_net_hdr vh = { 0 };
	struct vdp_ol_hdrs h;
	uint32_t l4_total, hl, pay;
	uint8_t *ip;
	int np;

	if (unlikely(!vdp_tx_hdrs(m, iov, nseg, &h, hb, &l4_total))) {
		vdp_vring_err(&q->vr, VDP_ERR_BAD_TX_OFFLOAD, m->l2_len << 16 | m->l3_len,
			      m->l4_len);
		return VDP_ERR_BAD_TX_OFFLOAD;
	}
	hl = (uint32_t)h.l2_len + h.l3_len + h.l4_len;
	pay = len - hl;
	ip = hb + h.l2_len;
	fi[0].base = hb;
	fi[0].len = hl;
	if (h.ipv == 4 && (ol & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_SEG)))
		vdp_ipv4_hdr_csum(ip);

	if ((ol & RTE_MBUF_F_TX_TCP_SEG) && pay > m->tso_segsz) {
		const uint32_t mss = m->tso_segsz;
		const bool cwr = (ip[h.l3_len + 13] & VDP_TCP_F_CWR) != 0;
		const bool partial = (f & VDP_BIT(VDP_F_GUEST_CSUM)) != 0;
		uint32_t i, nsegs;

		if (vdp_gso_whole_ok(f, &h, len, cwr)) {
			/* one GSO frame: the guest segments (or takes it whole) */
			vdp_gso_whole(hb, &h, len, l4_total, mss, cwr, &vh);
			np = vdp_iov_slice(iov, nseg, hl, pay, fi + 1, VDP_CHAIN_MAX_SEGS);
			if (np < 0)
				goto bad;
			VDP_CNT_INC(q->ol[VDP_OL_GSO]);
			return vdp_tx_put(q, &vh, fi, (uint32_t)np + 1, len);
		}
		/* software segmentation, each segment checksummed or partial */
		nsegs = (pay + mss - 1) / mss;
		fi[0].base = sh;
		if (partial) {
			vh.flags = VDP_HDR_F_NEEDS_CSUM;
			vh.csum_start = (uint16_t)(h.l2_len + h.l3_len);
			vh.csum_offset = VDP_TCP_CSUM_OFF;
		}
		for (i = 0; i < nsegs; i++) {
			uint32_t off = i * mss, sl = RTE_MIN(mss, pay - off);
			int ret;

			np = vdp_iov_slice(iov, nseg, hl + off, sl, fi + 1, VDP_CHAIN_MAX_SEGS);
			if (np < 0)
				goto bad;
			vdp_ol_tso_hdr(hb, &h, i, off, sl, i + 1 == nsegs, sh);
			vdp_ol_l4_csum(sh, &h, h.l4_len, fi + 1, (uint32_t)np,
				       h.l4_len + sl, partial);
			VDP_CNT_INC(q->ol[partial ? VDP_OL_PARTIAL : VDP_OL_SW_CSUM]);
			VDP_CNT_INC(q->ol[VDP_OL_SW_SEG]);
			ret = vdp_tx_put(q, &vh, fi, (uint32_t)np + 1, hl + sl);
			if (ret != 0)
				return ret;
		}
		return 0;
	}

	np = vdp_iov_slice(iov, nseg, hl, pay, fi + 1, VDP_CHAIN_MAX_SEGS);
	if (np < 0)
		goto bad;
	if (h.l4_proto != 0) {
		if (f & VDP_BIT(VDP_F_GUEST_CSUM)) {
			vdp_ol_l4_csum(hb, &h, h.l4_len, NULL, 0, l4_total, true);
			vh.flags = VDP_HDR_F_NEEDS_CSUM;
			vh.csum_start = (uint16_t)(h.l2_len + h.l3_len);
			vh.csum_offset = h.l4_proto == VDP_IPPROTO_TCP ?
					 VDP_TCP_CSUM_OFF : VDP_UDP_CSUM_OFF;
			VDP_CNT_INC(q->ol[VDP_OL_PARTIAL]);
		} else {
			struct vdp_iov sl[VDP_CHAIN_MAX_SEGS];
			int ns = vdp_iov_slice(fi + 1, (uint32_t)np, 0, l4_total - h.l4_len,
					       sl, VDP_CHAIN_MAX_SEGS);

			if (ns < 0)
				goto bad;
			vdp_ol_l4_csum(hb, &h, h.l4_len, sl, (uint32_t)ns, l4_total, false);
			VDP_CNT_INC(q->ol[VDP_OL_SW_CSUM]);
		}
	}
	return vdp_tx_put(q, &vh, fi, (uint32_t)np + 1, len);
bad:
	vdp_vring_err(&q->vr, VDP_ERR_BAD_TX_OFFLOAD, len, hl);
	return VDP_ERR_BAD_TX_OFFLOAD;
}

#define VDP_TX_OL_FLAGS (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | \
			 RTE_MBUF_F_TX_IP_CKSUM)

/* The header of a host frame with no offload asked for: DATA_VALID for
 * one a NIC verified, when the guest takes it (dv). */
static inline const struct vdp_net_hdr *
vdp_tx_hdr(const struct rte_mbuf *m, bool dv)
{
	static const struct vdp_net_hdr hdr = { 0 }, hdr_dv = { .flags = VDP_HDR_F_DATA_VALID };

	return dv && (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
		     RTE_MBUF_F_RX_L4_CKSUM_GOOD ? &hdr_dv : &hdr;
}

/* A host frame that goes as it is: one segment, no offload asked for,
 * not longer than vdp_vq_put_plain takes. */
static inline bool
vdp_tx_plain_ok(const struct rte_mbuf *m)
{
	return m->nb_segs == 1 && !(m->ol_flags & VDP_TX_OL_FLAGS) &&
	       m->data_len <= VDP_PLAIN_LEN_MAX;
}

/*
 * Host frames pkts[0..n) into q's guest RX ring (q entered, its burst
 * begun); they are not freed. Returns how many were handled: n, or
 * fewer when the ring broke (the rest counted as queue_stopped). Runs
 * of plain frames go in two passes (vdp_vq_put_plain); the others one
 * at a time, and once the ring had no plain buffer for a plain frame
 * (none, one of several segments or too short, dirty logging) the rest
 * of the burst too: the buffer it gave back is not taken twice per frame.
 */
static uint16_t
vdp_tx_mbufs(struct vdp_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
	struct vdp_vring *vr = &q->vr;
	struct vdp_iov iov[VDP_CHAIN_MAX_SEGS];
	struct vdp_plain f[VDP_PLAIN_MAX];
	bool dv, plain = true;
	uint16_t i = 0;

	/* frames verified by a NIC (or a guest's offload contract) */
	dv = __atomic_load_n(&q->port->csum_on, __ATOMIC_RELAXED) &&
	     (q->port->feat & VDP_BIT(VDP_F_GUEST_CSUM));
	while (i < n) {
		struct rte_mbuf *m = pkts[i];
		const struct vdp_net_hdr *h;
		uint32_t nseg, k = 0;
		int ret;

		/* a run of plain frames, in two passes */
		while (plain && i + k < n && k < VDP_PLAIN_MAX && vdp_tx_plain_ok(pkts[i + k])) {
			const struct rte_mbuf *x = pkts[i + k];

			f[k].hdr = vdp_tx_hdr(x, dv);
			f[k].base = rte_pktmbuf_mtod(x, const void *);
			f[k].len = x->data_len;
			k++;
		}
		if (k != 0) {
			uint32_t put = vdp_vq_put_plain(vr, q->mm, f, k);

			for (uint32_t j = 0; j < put; j++) {
				if (f[j].hdr->flags == VDP_HDR_F_DATA_VALID)
					VDP_CNT_INC(q->ol[VDP_OL_DATA_VALID]);
				vdp_queue_count(q, f[j].len);
			}
			i = (uint16_t)(i + put);
			if (put == k)
				continue;
			/* pkts[i] is plain: the frame function says why it
			 * had no plain buffer (or puts it in several) */
			plain = false;
			m = pkts[i];
		}
		if (unlikely(!mbuf_to_iov(m, iov, &nseg))) {
			vdp_vring_err(vr, VDP_ERR_CHAIN_TOO_LONG, m->nb_segs, 0);
			i++;
			continue;
		}
		if (unlikely(m->ol_flags & VDP_TX_OL_FLAGS)) {
			ret = vdp_tx_offload(q, m, iov, nseg);
		} else {
			h = vdp_tx_hdr(m, dv);
			ret = vdp_tx_put(q, h, iov, nseg, m->pkt_len);
			/* counted when delivered, as in a plain run */
			if (ret == 0 && h->flags == VDP_HDR_F_DATA_VALID)
				VDP_CNT_INC(q->ol[VDP_OL_DATA_VALID]);
		}
		if (ret < 0)
			break;
		i++;
	}
	if (i < n)  /* the ring broke under us */
		VDP_CNT_ADD(vr->err[VDP_ERR_QUEUE_STOPPED], n - i);
	return i;
}

/* Publish q's used elements, the layout chosen at run time (once per burst). */
static inline void
vdp_queue_publish(struct vdp_queue *q)
{
	if (q->vr.layout == VDP_LAYOUT_PACKED)
		vdp_queue_publish_l(q, VDP_LAYOUT_PACKED);
	else
		vdp_queue_publish_l(q, VDP_LAYOUT_SPLIT);
}

uint16_t
eth_vdevpeer_tx(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	struct vdp_queue *q = queue;

	/* Every frame handed to us is consumed: delivered or counted dropped. */
	if (!vdp_queue_enter_lcore(q)) {
		/* link down, queue disabled or stopped, or refused on this lcore */
		VDP_CNT_ADD(q->drop_paused, n);
		goto free;
	}
	vdp_vring_burst_begin(&q->vr);
	vdp_tx_mbufs(q, pkts, n);
	vdp_queue_publish(q);
	vdp_queue_leave(q);
free:
	rte_pktmbuf_free_bulk(pkts, n);
	return n;
}

/* ---- the direct guest-to-guest path (rte_pmd_vdevpeer_peer_forward) ----
 *
 * A frame the sending guest a put in its TX ring is copied once, straight
 * into the receiving guest b's RX ring: no mbuf. What reaches b and every
 * counter are what the ethdev path (eth_vdevpeer_rx on a, then
 * eth_vdevpeer_tx on b) gives; frames this path cannot finish in one copy
 * (GSO, a checksum b cannot take partial) go through mbufs exactly as
 * there, in their place in the stream.
 */

/* Frames of the mbuf path handed to b at a time (a software-segmented
 * GSO frame comes out in pieces of this many). */
#define VDP_PEER_SLOW_BURST 32u

/*
 * A frame whose header asks for offload work: can it go as one copy?
 * Exactly where the ethdev path would pass the request on (a's host
 * offload on and the application taking partial checksums, and GSO frames
 * for a GSO one; b's host offload on): a partial checksum (NEEDS_CSUM)
 * to a receiver with GUEST_CSUM goes as such; a TSO frame to a receiver
 * with the GUEST_TSO bit of its type goes whole, its headers made those
 * of one GSO frame as the ethdev path makes them: the first *pre bytes of
 * the frame are then hb's, not the guest's. The header is checked against
 * the frame first, as there.
 */
static __rte_noinline enum vdp_peer_how
vdp_peer_offload(struct vdp_queue *a, struct vdp_queue *b, const struct vdp_chain *c,
		 const struct vdp_net_hdr *vh, uint32_t len, struct vdp_net_hdr *oh,
		 uint8_t *hb, uint32_t *pre)
{
	struct vdp_port *pa = a->port, *pb = b->port;
	const uint32_t avail = RTE_MIN(len, (uint32_t)VDP_OL_HDR_MAX);
	const uint64_t f = pb->feat;
	struct vdp_ol_req r;
	enum vdp_err e;
	uint32_t hl;
	bool cwr;

	if (!pa->rx_ol_csum || !__atomic_load_n(&pa->csum_on, __ATOMIC_RELAXED) ||
	    !__atomic_load_n(&pb->csum_on, __ATOMIC_RELAXED))
		return VDP_PEER_MBUF;
	if (vh->gso_type != 0 ? !pa->rx_ol_lro : !(f & VDP_BIT(VDP_F_GUEST_CSUM)))
		return VDP_PEER_MBUF;
	vdp_chain_read(c, a->vr.hdr_len, hb, avail);
	e = vdp_ol_guest_tx(vh, pa->feat, hb, avail, len, &r);
	if (unlikely(e != VDP_ERR_NONE)) {
		vdp_vring_err(&a->vr, e, (uint32_t)vh->flags << 8 | vh->gso_type,
			      (uint32_t)vh->csum_start << 16 | vh->csum_offset);
		return VDP_PEER_DROP;
	}
	switch (r.kind) {
	case VDP_OL_PLAIN:
		return VDP_PEER_COPY;
	case VDP_OL_CSUM:
		if (!(f & VDP_BIT(VDP_F_GUEST_CSUM)))
			return VDP_PEER_MBUF;
		oh->flags = VDP_HDR_F_NEEDS_CSUM;
		oh->csum_start = r.csum_start;
		oh->csum_offset = r.csum_offset;
		return VDP_PEER_COPY;   /* counted by the caller */
	case VDP_OL_TSO:
		hl = (uint32_t)r.h.l2_len + r.h.l3_len + r.h.l4_len;
		/* what vdp_tx_hdrs refuses goes where it is refused */
		if (r.h.l4_proto != VDP_IPPROTO_TCP || hl > avail || len - hl <= r.mss ||
		    !vdp_tso_hdrs_ok(hb + r.h.l2_len, &r.h, r.mss))
			return VDP_PEER_MBUF;
		cwr = (hb[r.h.l2_len + r.h.l3_len + 13] & VDP_TCP_F_CWR) != 0;
		if (!vdp_gso_whole_ok(f, &r.h, len, cwr))
			return VDP_PEER_MBUF;
		vdp_gso_whole(hb, &r.h, len, len - r.h.l2_len - r.h.l3_len, r.mss, cwr, oh);
		*pre = hl;
		return VDP_PEER_COPY;   /* counted by the caller */
	default:
		return VDP_PEER_MBUF;
	}
}

/*
 * One frame through mbufs, as the ethdev path moves it (a's chain c given
 * back to a here). Returns the frames handed to b (software segments each
 * count, as eth_vdevpeer_rx returns them), or -1 when no mbuf was left
 * (c not consumed).
 */
static __rte_noinline int
vdp_peer_mbuf(struct vdp_queue *a, struct vdp_queue *b, const struct vdp_chain *c,
	      const struct vdp_net_hdr *vh, uint32_t len)
{
	struct rte_mbuf *out[VDP_PEER_SLOW_BURST];
	struct rte_mbuf *m = chain_to_mbuf(a, c, a->vr.hdr_len, len);
	uint16_t k;
	int total;

	if (unlikely(m == NULL))
		return -1;
	vdp_vq_used_put(&a->vr, c->id, c->ndesc, 0);
	k = vdp_rx_offload(a, m, vh, out, RTE_DIM(out));
	total = k;
	for (;;) {
		vdp_tx_mbufs(b, out, k);
		rte_pktmbuf_free_bulk(out, k);
		if (a->pend_n == 0)
			break;
		k = vdp_pend_drain(a, out, RTE_DIM(out));
		total += k;
	}
	return total;
}

/*
 * b's guest saw frames before the end of the burst (a packed ring hands
 * its kept used elements over when they no longer fit: jumbo frames in
 * many buffers): a's chains of those frames are made the guest's and its
 * position stored now, so that a crash resumes a after them rather than
 * sending them to b again (vdp_resume.c). Told only when no chain of a
 * is taken and not given back (vdp_peer.h: after a pass of plain chains,
 * or after a chain moved on its own), so the take position stored is a's
 * used position; what is left is the window of one pass (at most
 * VDP_PEER_BATCH frames) that b's guest can see before it is stored.
 */
static VDP_ALWAYS_INLINE void
vdp_peer_seen(struct vdp_queue *a, struct vdp_queue *b, enum vdp_layout l)
{
	if (likely(!b->vr.used_flushed))
		return;
	vdp_queue_publish_l(a, l);
	vdp_ring_state_avail(&a->vr);
}

/* The PMD's side of the frame loop (vdp_peer.h): a and b. */
struct vdp_peer_ctx {
	struct vdp_queue *a, *b;
	enum vdp_layout l;
	int ol_pending;   /* the offload counter the frame offload() was last
			   * asked about is to count on a and b once it goes
			   * (seen()), VDP_OL_NB: none */
};

static enum vdp_peer_how
vdp_peer_op_offload(void *ctx, const struct vdp_chain *c, const struct vdp_net_hdr *vh,
		    uint32_t len, struct vdp_net_hdr *oh, uint8_t *hb, uint32_t *pre)
{
	struct vdp_peer_ctx *x = ctx;
	enum vdp_peer_how how = vdp_peer_offload(x->a, x->b, c, vh, len, oh, hb, pre);

	/* counted once the frame went (vdp_peer_op_seen): one that waits
	 * for b's buffers is asked about again when it comes back */
	x->ol_pending = how == VDP_PEER_COPY && oh->flags != 0 ?
			(oh->gso_type != 0 ? VDP_OL_GSO : VDP_OL_PARTIAL) : VDP_OL_NB;
	return how;
}

static int
vdp_peer_op_slow(void *ctx, const struct vdp_chain *c, const struct vdp_net_hdr *vh,
		 uint32_t len)
{
	struct vdp_peer_ctx *x = ctx;

	return vdp_peer_mbuf(x->a, x->b, c, vh, len);
}

static void
vdp_peer_op_no_slow(void *ctx)
{
	struct vdp_peer_ctx *x = ctx;

	vdp_vring_err(&x->a->vr, VDP_ERR_NO_MBUF, 0, 0);
}

static VDP_ALWAYS_INLINE void
vdp_peer_op_learn(void *ctx, const uint8_t *eth)
{
	struct vdp_peer_ctx *x = ctx;
	struct rte_ether_hdr e;

	memcpy(&e, eth, sizeof(e));
	vdp_queue_learn_mac_eth(x->a, &e);
}

static VDP_ALWAYS_INLINE void
vdp_peer_op_moved(void *ctx, uint32_t len, int ret)
{
	struct vdp_peer_ctx *x = ctx;

	vdp_queue_count(x->a, len);
	VDP_CNT_INC(x->a->peer);
	if (likely(ret == 0)) {
		vdp_queue_count(x->b, len);
		VDP_CNT_INC(x->b->peer);
	} else if (ret < 0) {
		/* b's ring broke: what a took stays counted as dropped there */
		VDP_CNT_INC(x->b->vr.err[VDP_ERR_QUEUE_STOPPED]);
	}
}

static VDP_ALWAYS_INLINE void
vdp_peer_op_seen(void *ctx)
{
	struct vdp_peer_ctx *x = ctx;

	if (unlikely(x->ol_pending != VDP_OL_NB)) {
		VDP_CNT_INC(x->a->ol[x->ol_pending]);
		VDP_CNT_INC(x->b->ol[x->ol_pending]);
		x->ol_pending = VDP_OL_NB;
	}
	vdp_peer_seen(x->a, x->b, x->l);
}

/*
 * b had no receive buffer: a's frames wait in a's ring (the burst ends,
 * nothing taken is dropped) while the wait is shorter than a's port's
 * peer_hold_us; past it they are dropped as b's frame function drops
 * them (tx_drop_no_rx_buf) until b takes a frame again, so that a guest
 * that never drains stops its peer's ring for no longer than that at a
 * time. The wait ends when a frame reaches b, by this path or the mbuf
 * one (b->pkts moved: vdp_peer_burst_l).
 */
static bool
vdp_peer_op_hold(void *ctx, bool tried)
{
	struct vdp_peer_ctx *x = ctx;
	struct vdp_queue *a = x->a;
	const uint64_t lim = a->port->hold_cycles;
	uint64_t now;

	if (a->hold_over || lim == 0)
		return false;
	now = rte_get_tsc_cycles();
	if (a->hold_tsc == 0) {
		a->hold_tsc = now;
	} else if (now - a->hold_tsc >= lim) {
		a->hold_over = true;
		VDP_CNT_INC(a->peer_hold_over);
		return false;
	}
	VDP_CNT_INC(a->peer_held);
	x->ol_pending = VDP_OL_NB;   /* the frame comes again */
	/* b had buffers, too few: its copy into them was undone; not tried
	 * again for VDP_PEER_RETRY_US (each try copies up to a frame) */
	if (tried)
		a->hold_retry_tsc = now + rte_get_tsc_hz() / 1000000u * VDP_PEER_RETRY_US;
	return true;
}

static const struct vdp_peer_ops vdp_peer_ops = {
	.offload = vdp_peer_op_offload,
	.slow = vdp_peer_op_slow,
	.learn = vdp_peer_op_learn,
	.moved = vdp_peer_op_moved,
	.seen = vdp_peer_op_seen,
	.no_slow = vdp_peer_op_no_slow,
	.hold = vdp_peer_op_hold,
};

static VDP_ALWAYS_INLINE int
vdp_peer_burst_l(struct vdp_queue *a, struct vdp_queue *b, uint16_t max, enum vdp_layout l)
{
	struct vdp_peer_ctx x = { a, b, l, VDP_OL_NB };
	const uint64_t b_pkts = b->pkts;
	int nb;

	/* a's burst was begun by vdp_peer_forward */
	vdp_queue_call_due_l(a, l);   /* a's last burst's (either path) */
	if (unlikely(a->hold_retry_tsc != 0)) {
		/* a frame waits for more of b's buffers: tried again only
		 * after the pause (vdp_peer_op_hold) */
		if (rte_get_tsc_cycles() < a->hold_retry_tsc)
			return 0;
		a->hold_retry_tsc = 0;
	}
	vdp_vring_burst_begin(&b->vr);
	nb = vdp_peer_frames_l(&a->vr, a->mm, &a->chain, &b->vr, b->mm, b->put_frame, max, l,
			       &vdp_peer_ops, &x);
	if (unlikely(a->hold_tsc != 0) && b->pkts != b_pkts) {
		a->hold_tsc = 0;   /* b took a frame (either way): a wait is over */
		a->hold_over = false;
	}
	/* a's position survives us before b's guest sees the frames: a
	 * crash in between loses (at most) this burst, never sends it twice;
	 * a's call as the ethdev path's (vdp_queue_call_due_l) */
	a->call_due = vdp_vq_flush_l(&a->vr, l);
	vdp_ring_state_avail(&a->vr);
	vdp_queue_publish(b);
	return nb;
}

static int
vdp_peer_split(struct vdp_queue *a, struct vdp_queue *b, uint16_t max)
{
	return vdp_peer_burst_l(a, b, max, VDP_LAYOUT_SPLIT);
}

static int
vdp_peer_packed(struct vdp_queue *a, struct vdp_queue *b, uint16_t max)
{
	return vdp_peer_burst_l(a, b, max, VDP_LAYOUT_PACKED);
}

int
vdp_peer_forward(struct vdp_queue *a, struct vdp_queue *b, uint16_t max)
{
	int nb;

	/* a RARP to announce, folded rings, segments parked: the ethdev path
	 * (a wait for b's buffers is the direct path's: a's lcore's fields) */
	if (__atomic_load_n(&a->port->rx_extra, __ATOMIC_RELAXED) != 0 || a->pend_n != 0) {
		vdp_queue_hold_clear(a);
		return -EAGAIN;
	}
	if (!vdp_queue_enter_lcore(a))
		return 0;   /* as eth_vdevpeer_rx: nothing to take */
	vdp_vring_burst_begin(&a->vr);
	/* zero-copy buffers still out (taken by the ethdev path): their used
	 * elements come first, and an IN_ORDER ring keeps the order; those
	 * freed since are given back here, in this burst */
	if (a->zc.ctx != NULL) {
		vdp_zc_drain(a);
		if (a->zc.inflight != 0)
			goto ethdev;
	}
	if (!vdp_queue_enter_lcore(b))
		goto ethdev;   /* its drops are counted there (drop_paused) */
	if (unlikely(b->vr.broken)) {
		vdp_queue_leave(b);
		goto ethdev;   /* counted there, a whole burst at a time */
	}
	nb = a->vr.layout == VDP_LAYOUT_PACKED ? vdp_peer_packed(a, b, max) :
						 vdp_peer_split(a, b, max);
	vdp_queue_leave(b);
	vdp_queue_leave(a);
	return nb;
ethdev:
	vdp_queue_hold_clear(a);   /* a wait for b's buffers is the direct path's */
	vdp_queue_publish(a);   /* what the drain gave back */
	vdp_queue_leave(a);
	return -EAGAIN;
}
