/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vdevpeer zero-copy of guest TX buffers.
 *
 * A frame the guest transmits is normally copied into host mbufs and its
 * descriptor chain given back at once. Above a size threshold, the frame's
 * first bytes (its headers) are still copied into a host mbuf, but the rest
 * is attached as external buffers pointing into guest memory
 * (rte_pktmbuf_attach_extbuf); the chain is given back to the guest only
 * when the last of those mbufs is freed - by whichever port transmitted
 * it, on whichever lcore. Guest to guest that is one copy in all (guest A's
 * buffer straight into guest B's).
 *
 * Why the headers are copied: the guest may rewrite its buffer while we
 * hold it; what the host looks at (addresses for forwarding, offload
 * fields) must be ours, read once. Only payload bytes stay in guest memory.
 *
 * Completion without locks or atomic read-modify-writes on the hot path:
 * every chain we hold has a token (one per descriptor head, so a hostile
 * guest posting a head twice is caught). The mbufs' shared info lives in
 * the token; its free callback only stores token->done = 1 (release). The
 * queue's own lcore keeps the held heads in issue order (a FIFO) and at the
 * start of each burst pops the done ones off the front into the used ring.
 * When the front one is held for long (a slow or stalled egress port) the
 * ones behind it are found by a scan of the whole FIFO, which is compacted
 * on the way: the guest gets its buffers back out of order.
 *
 * VIRTIO_F_IN_ORDER (offered with zero-copy too): the guest gets every
 * chain back in the order it was taken, held or copied. A copied chain
 * taken while held ones are out is queued in the FIFO behind them (its
 * used element written when they are back: vdp_zc_defer), and no scan
 * takes done ones past a held front. The FIFO (held and queued) holds at
 * most the in-flight bound, a quarter of the ring: a burst takes no more
 * chains than that leaves room for (vdp_zc_inorder_room), so a held
 * buffer makes the guest wait for at most that many. Chains are attached
 * only when the queue's egress is a net_vdevpeer port, whose tx_burst
 * copies them into the other guest and frees them within the application's
 * loop; towards anything else (a NIC that may keep them while its link is
 * down, or no egress known) an IN_ORDER ring copies.
 *
 * Starvation (why DPDK's vhost library dropped its dequeue zero-copy): at
 * most a quarter of the guest's ring is held per queue; past that, frames
 * are copied (and the egress port, if the application named it, is asked
 * to clean up its TX ring). A stalled egress port can therefore hold at
 * most a quarter of a guest's TX ring, never all of it.
 *
 * Guest memory lifetime: held buffers point into the port's own mapping
 * of guest memory (vdevpeer_gmem.c), which stays until the last buffer
 * pointing into it is freed, whatever librte_vhost unmaps meanwhile and
 * whatever the application does with its mbufs. Each queue counts its
 * held buffers per map (VDP_ZC_SLOTS maps at most; past that it copies),
 * so one old buffer keeps exactly its own map, not every newer one.
 *
 * Handing the ring back (device stopped: GET_VRING_BASE, reset,
 * disconnect) with buffers still held: the guest may reuse those buffers
 * at once, and whatever is still queued for sending (a NIC whose link is
 * down) would then go out with what the guest - or the next guest using
 * that RAM - wrote there since. So before the ring goes back, every page
 * under a held buffer is copied into private memory at the same address
 * (mremap of a copy over it: readers see the old page or the copy, never
 * a hole); frames sent later carry the bytes the guest had sent. Past
 * VDP_ZC_SNAPSHOT_MAX bytes or VDP_ZC_SNAPSHOT_RUNS ranges the regions
 * concerned are replaced by zero pages instead (one mapping each: bounded
 * time), their frames counted as scrubbed. Nothing waits for the
 * application on the vhost-user thread; buffers given up on are counted
 * (rx_zc_forced) and their token table is orphaned to the watchdog.
 *
 * DMA: maps used for zero-copy are registered as external memory
 * (rte_extmem_register) and mapped for DMA into every ethdev's device
 * whose bus can (rte_dev_dma_map: PCI devices with vfio), so that a NIC
 * can transmit straight from guest memory; after a snapshot a region's
 * DMA mapping is made again so the IOMMU sees the copies. The mbufs carry
 * the virtual address as IOVA: zero-copy is used only in IOVA-as-VA mode
 * (the mode with vfio and an IOMMU, and with --no-huge).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_vhost.h>
#include <ethdev_driver.h>

#include "vdevpeer.h"
#include "vdevpeer_call.h"
#include "vdevpeer_gmem.h"
#include "vdevpeer_port.h"
#include "vdevpeer_zcopy.h"

/*
 * Frames at least this long (without the virtio-net header) are attached
 * rather than copied in zerocopy=auto. Measured with perf/bench_zcopy
 * (guest buffer -> mbuf(s) -> guest buffer, one lcore, CPU ns per frame,
 * median of 3 runs on the 2-vCPU EPYC of docs/benchmarks.md):
 *     size     1024   1518   4000   9000
 *     copy       35     53    147    361
 *     attach     46     56    113    204
 * Attaching costs a second mbuf, the header copy, the extbuf detach at
 * free and the completion; it breaks even at about 1.7 KB. 2048: frames
 * that would need more than one 2 KB mbuf to copy.
 */
#define VDP_ZC_THRESH_AUTO 2048u
/* Bytes of each frame copied into the head mbuf: up to two cache lines of
 * headers (Ethernet, VLAN, IPv6, TCP with options fit). */
#define VDP_ZC_HDR_COPY 128u
/* Longest header copy an offload request may ask for; longer: copy all. */
#define VDP_ZC_HDR_COPY_MAX 256u
/* virtio-net header flag: partial checksum (virtio 1.1, 5.1.6) */
#define VDP_ZC_HDR_F_NEEDS_CSUM 1
/* Held buffers per queue at most: ring size / this, and never more than
 * VDP_ZC_HELD_MAX (a NIC's TX ring holds a few thousand at most). */
#define VDP_ZC_LIMIT_DIV 4u
#define VDP_ZC_HELD_MAX 1024u
/* Pieces (extbuf mbufs) of one attached frame at most: a Linux guest's
 * skb has up to 18, a DPDK guest's 64 KiB TSO frame in 2 KiB mbufs 33.
 * More: copied. */
#define VDP_ZC_PIECES 64u
/* Maps one queue's held buffers may point into at once. */
#define VDP_ZC_SLOTS 4
/* Snapshot at hand-back: copy at most this much (on the vhost-user
 * thread: ~10 ms), in at most this many ranges (each is a mapping). */
#define VDP_ZC_SNAPSHOT_MAX (64u << 20)
#define VDP_ZC_SNAPSHOT_RUNS 4096u

/* ---- held buffers of one queue ---- */

struct vdp_zc_piece {
	uint8_t *p;
	uint32_t len;
};

struct vdp_zc_tok {
	struct rte_mbuf_ext_shared_info shinfo; /* of the chain's extbuf mbufs */
	uint8_t done;        /* set by the free callback, any thread */
	uint8_t held;        /* owner: the chain is out */
	uint8_t slot;        /* map slot its buffers point into */
	uint16_t npieces;
	uint16_t pool;       /* its entry in the pieces pool */
	uint16_t ndesc;      /* ring slots of the chain (packed) */
} __rte_cache_aligned;

struct vdp_zc_ctx {
	TAILQ_ENTRY(vdp_zc_ctx) next;    /* all contexts, live and orphaned */
	struct vdp_queue *q;             /* NULL once orphaned */
	struct vdp_port *port;           /* NULL once the port is closed */
	uint32_t size;                   /* guest ring size */
	uint32_t limit;                  /* held buffers at most */
	uint32_t fifo_h, fifo_t;         /* held heads in issue order */
	uint32_t scan_at;                /* scan everything when this many held */
	uint16_t *fifo;                  /* size entries: a head, or
					  * ZC_COPIED | head queued (IN_ORDER) */
	uint16_t *fifo_nd;               /* ring slots of a queued copied chain */
	bool inorder;                    /* IN_ORDER: give back in FIFO order only */
	/* maps held buffers point into: held[k] buffers point into map[k]
	 * (map[] written under vdp_gmem_lock by the control thread while
	 * the queue is paused; held[] by the owner, read by the watchdog) */
	struct vdp_gmap *map[VDP_ZC_SLOTS];
	uint32_t held[VDP_ZC_SLOTS];
	int cur;                         /* slot of the current map, -1: copy */
	bool handed_back;                /* its held buffers' pages already made private */
	/* pieces of held buffers: limit entries of VDP_ZC_PIECES */
	struct vdp_zc_piece *pieces;
	uint16_t *pool_free;
	uint32_t pool_nfree;
	char name[VDP_NAME_MAX + 16];
	struct vdp_zc_tok tok[];         /* one per head */
};

/* contexts (vdp_gmem_lock) */
static TAILQ_HEAD(, vdp_zc_ctx) zc_ctxs = TAILQ_HEAD_INITIALIZER(zc_ctxs);

/* ---- completions ---- */

/* A FIFO entry that is a copied chain (IN_ORDER), not a held one: ring
 * sizes are at most 32768, so a head never has this bit. */
#define ZC_COPIED 0x8000u

static void
zc_free_cb(void *addr, void *opaque)
{
	struct vdp_zc_tok *t = opaque;

	RTE_SET_USED(addr);
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
}

/* The used element of chain h (ndesc slots), out of the held ones in the
 * ring's state. Nothing when the queue is gone or its ring not loaded. */
static inline void
zc_used(struct vdp_queue *q, uint16_t h, uint16_t ndesc)
{
	if (q == NULL || !q->ring_ok)
		return;
	vdp_vq_used_put(&q->vr, h, ndesc, 0);
	/* packed: the core clears it when the element is handed over (it
	 * may be kept back until the publish) */
	if (q->vr.layout != VDP_LAYOUT_PACKED)
		vdp_ring_state_held(&q->vr, h, 0);
}

/* Give head h back to the guest (or, orphaned, just forget it). */
static inline void
zc_give_back(struct vdp_zc_ctx *z, uint16_t h)
{
	struct vdp_zc_tok *t = &z->tok[h];
	struct vdp_queue *q = z->q;

	t->held = 0;
	__atomic_store_n(&z->held[t->slot], z->held[t->slot] - 1, __ATOMIC_RELEASE);
	z->pool_free[z->pool_nfree++] = t->pool;
	zc_used(q, h, t->ndesc);
	if (q != NULL)
		q->zc.inflight--;
}

/*
 * Hand back what was freed: the done heads at the front of the FIFO (and
 * the copied chains queued behind them), and, out of order, with scan_all
 * (or when many are held) every done one, compacting.
 * Caller owns the queue (its lcore, or the control thread while paused) or,
 * for an orphan, holds vdp_gmem_lock.
 */
static void
zc_complete(struct vdp_zc_ctx *z, bool scan_all)
{
	uint32_t h = z->fifo_h, t = z->fifo_t, w;

	while (h != t) {
		uint16_t head = z->fifo[h % z->size];

		if (head & ZC_COPIED) {
			/* a copied chain queued behind held ones (IN_ORDER) */
			zc_used(z->q, (uint16_t)(head & ~ZC_COPIED), z->fifo_nd[h % z->size]);
		} else {
			if (!__atomic_load_n(&z->tok[head].done, __ATOMIC_ACQUIRE))
				break;
			zc_give_back(z, head);
		}
		h++;
	}
	z->fifo_h = h;
	if (!z->inorder && h != t && (scan_all || t - h >= z->scan_at)) {
		/* the front one is held up: take the done ones behind it */
		for (w = h; h != t; h++) {
			uint16_t head = z->fifo[h % z->size];

			if (__atomic_load_n(&z->tok[head].done, __ATOMIC_ACQUIRE))
				zc_give_back(z, head);
			else
				z->fifo[w++ % z->size] = head;
		}
		z->fifo_t = w;
	}
}

void
vdp_zc_complete(struct vdp_queue *q, bool scan_all)
{
	zc_complete(q->zc.ctx, scan_all);
}

/* Caller holds vdp_gmem_lock. */
bool
vdp_zc_holds(const struct vdp_gmap *m)
{
	const struct vdp_zc_ctx *z;

	TAILQ_FOREACH(z, &zc_ctxs, next)
		for (int k = 0; k < VDP_ZC_SLOTS; k++)
			if (z->map[k] == m && __atomic_load_n(&z->held[k], __ATOMIC_ACQUIRE) != 0)
				return true;
	return false;
}

/* The queue holds its limit: ask the egress (if the application named
 * it) to free what it sent, then hand back what is done. */
static void
zc_reclaim(struct vdp_queue *q, struct vdp_zc_ctx *z)
{
	if (q->zc.egress) {
		rte_eth_tx_done_cleanup(q->zc.eport, q->zc.equeue, 0);
		VDP_CNT_INC(q->zc.stat[VDP_ZC_RECLAIMS]);
	}
	zc_complete(z, true);
}

/* ---- IN_ORDER ---- */

uint16_t
vdp_zc_inorder_room(struct vdp_queue *q, uint16_t n)
{
	struct vdp_zc_ctx *z = q->zc.ctx;
	uint32_t depth = z->fifo_t - z->fifo_h;

	if (depth >= z->limit) {
		zc_reclaim(q, z);   /* in order: no scan past a held front */
		depth = z->fifo_t - z->fifo_h;
		if (depth >= z->limit) {
			VDP_CNT_INC(q->zc.stat[VDP_ZC_WAITS]);
			return 0;
		}
	}
	return (uint16_t)RTE_MIN((uint32_t)n, z->limit - depth);
}

bool
vdp_zc_queue_copied(struct vdp_queue *q, uint16_t id, uint16_t ndesc)
{
	struct vdp_zc_ctx *z = q->zc.ctx;
	uint32_t at;

	if (z->fifo_h == z->fifo_t)
		return false;   /* nothing taken before it is out */
	at = z->fifo_t++ % z->size;
	z->fifo[at] = (uint16_t)(id | ZC_COPIED);
	z->fifo_nd[at] = ndesc;
	/* out like a held chain: a crash gives it back empty, at most once */
	vdp_ring_state_held(&q->vr, id, ndesc);
	VDP_CNT_INC(q->zc.stat[VDP_ZC_DEFERRED]);
	return true;
}

/* ---- the data path: attach one chain ---- */

struct rte_mbuf *
vdp_zc_rx_chain(struct vdp_queue *q, const struct vdp_chain *c,
		const struct vdp_net_hdr *vh, uint32_t len)
{
	struct vdp_zc_ctx *z = q->zc.ctx;
	struct vdp_zc_tok *t = &z->tok[c->id];
	struct rte_mbuf *ms[VDP_ZC_PIECES + 1];
	struct vdp_zc_piece *pc;
	const uint32_t hdr = q->vr.hdr_len;
	uint32_t hc = VDP_ZC_HDR_COPY, skip, npieces = 0, i, k;

	/* offload requests: their header fields must be in our copy */
	if (vh->flags & VDP_ZC_HDR_F_NEEDS_CSUM) {
		uint32_t need = (uint32_t)vh->csum_start + vh->csum_offset + 2;

		hc = RTE_MAX(hc, need);
	}
	if (vh->gso_type != 0)
		hc = RTE_MAX(hc, (uint32_t)vh->hdr_len);
	if (unlikely(hc > VDP_ZC_HDR_COPY_MAX || hc >= len || z->cur < 0))
		goto copy;
	if (unlikely(t->held))      /* the guest posted a head we hold: copy */
		goto fallback;
	if (unlikely(q->zc.inflight >= z->limit)) {
		zc_reclaim(q, z);
		if (q->zc.inflight >= z->limit)
			goto fallback;
	}

	/* the pieces after the header copy: one extbuf mbuf each */
	skip = hdr + hc;
	for (i = 0; i < c->nseg; i++) {
		uint32_t l = c->seg[i].len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		if (unlikely(l - skip > UINT16_MAX))
			goto copy;
		npieces++;
		skip = 0;
	}
	/* the offload paths take an mbuf as a gather list of at most
	 * VDP_CHAIN_MAX_SEGS pieces; the hand-back snapshot needs them */
	if (unlikely(npieces > VDP_ZC_PIECES))
		goto copy;
	if (unlikely(rte_pktmbuf_alloc_bulk(q->mp, ms, npieces + 1) != 0))
		return NULL;   /* the copy will count the shortage */
	if (unlikely(rte_pktmbuf_tailroom(ms[0]) < hc)) {
		rte_pktmbuf_free_bulk(ms, npieces + 1);
		goto copy;
	}
	vdp_chain_read(c, hdr, rte_pktmbuf_mtod(ms[0], void *), hc);
	ms[0]->data_len = (uint16_t)hc;
	ms[0]->nb_segs = (uint16_t)(npieces + 1);
	ms[0]->pkt_len = len;
	ms[0]->port = q->port->port_id;

	/* limit > held: the pool has an entry */
	t->pool = z->pool_free[--z->pool_nfree];
	pc = &z->pieces[(size_t)t->pool * VDP_ZC_PIECES];
	rte_mbuf_ext_refcnt_set(&t->shinfo, (uint16_t)npieces);
	skip = hdr + hc;
	for (i = 0, k = 1; i < c->nseg; i++) {
		uint8_t *p = c->seg[i].hva;
		uint32_t l = c->seg[i].len;
		struct rte_mbuf *m;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		p += skip;
		l -= skip;
		skip = 0;
		m = ms[k];
		rte_pktmbuf_attach_extbuf(m, p, (rte_iova_t)(uintptr_t)p,
					  (uint16_t)l, &t->shinfo);
		m->data_len = (uint16_t)l;
		ms[k - 1]->next = m;
		pc[k - 1].p = p;
		pc[k - 1].len = l;
		k++;
	}

	t->done = 0;
	t->held = 1;
	t->npieces = (uint16_t)npieces;
	t->ndesc = c->ndesc;
	t->slot = (uint8_t)z->cur;
	vdp_ring_state_held(&q->vr, c->id, c->ndesc);
	__atomic_store_n(&z->held[z->cur], z->held[z->cur] + 1, __ATOMIC_RELEASE);
	z->fifo[z->fifo_t++ % z->size] = c->id;
	q->zc.inflight++;
	VDP_CNT_INC(q->zc.stat[VDP_ZC_FRAMES]);
	return ms[0];

fallback:
	VDP_CNT_INC(q->zc.stat[VDP_ZC_FALLBACKS]);
copy:
	VDP_CNT_INC(q->zc.stat[VDP_ZC_COPIED]);
	return NULL;
}

/* ---- contexts ---- */

static void
zc_ctx_free(struct vdp_zc_ctx *z)
{
	rte_free(z->pieces);
	rte_free(z->pool_free);
	rte_free(z->fifo_nd);
	rte_free(z->fifo);
	rte_free(z);
}

/*
 * Detach the queue's context: free it when nothing is held, else leave it
 * to the watchdog (its tokens must live until their mbufs are freed).
 * Control thread, queue paused.
 */
void
vdp_zc_queue_orphan(struct vdp_queue *q)
{
	struct vdp_zc_ctx *z = q->zc.ctx;

	if (z == NULL)
		return;
	zc_complete(z, true);
	pthread_mutex_lock(&vdp_gmem_lock);
	if (q->zc.inflight != 0) {
		VDP_LOG(WARNING, q->port, "rx queue %u: %u guest buffers still held "
			"by the application: given up on (their memory stays mapped "
			"until they are freed)", q->qid, q->zc.inflight);
		VDP_CNT_ADD(q->zc.stat[VDP_ZC_FORCED], q->zc.inflight);
		z->q = NULL;
	} else {
		TAILQ_REMOVE(&zc_ctxs, z, next);
		zc_ctx_free(z);
	}
	pthread_mutex_unlock(&vdp_gmem_lock);
	q->zc.ctx = NULL;
	q->zc.inflight = 0;
	q->zc.inorder = false;
	vdp_watchdog_poke();
}

static struct vdp_zc_ctx *
zc_ctx_new(struct vdp_queue *q, uint32_t size)
{
	int socket = q->mp != NULL ? q->mp->socket_id : SOCKET_ID_ANY;
	struct vdp_zc_ctx *z;

	z = rte_zmalloc_socket("vdp_zc", sizeof(*z) + size * sizeof(z->tok[0]),
			       RTE_CACHE_LINE_SIZE, socket);
	if (z == NULL)
		return NULL;
	z->q = q;
	z->port = q->port;
	z->size = size;
	z->limit = RTE_MIN(RTE_MAX(size / VDP_ZC_LIMIT_DIV, 1u), VDP_ZC_HELD_MAX);
	z->scan_at = RTE_MAX(z->limit / 2, 1u);
	z->cur = -1;
	z->fifo = rte_zmalloc_socket("vdp_zc_fifo", size * sizeof(z->fifo[0]), 0, socket);
	z->fifo_nd = rte_zmalloc_socket("vdp_zc_fifo_nd", size * sizeof(z->fifo_nd[0]), 0, socket);
	z->pool_free = rte_zmalloc_socket("vdp_zc_pool", z->limit * sizeof(z->pool_free[0]),
					  0, socket);
	z->pieces = rte_zmalloc_socket("vdp_zc_pieces", (size_t)z->limit * VDP_ZC_PIECES *
				       sizeof(z->pieces[0]), 0, socket);
	if (z->fifo == NULL || z->fifo_nd == NULL || z->pool_free == NULL || z->pieces == NULL) {
		zc_ctx_free(z);
		return NULL;
	}
	for (uint32_t i = 0; i < z->limit; i++)
		z->pool_free[i] = (uint16_t)i;
	z->pool_nfree = z->limit;
	snprintf(z->name, sizeof(z->name), "%s rx %u", q->port->args.bind, q->qid);
	for (uint32_t i = 0; i < size; i++) {
		z->tok[i].shinfo.free_cb = zc_free_cb;
		z->tok[i].shinfo.fcb_opaque = &z->tok[i];
	}
	pthread_mutex_lock(&vdp_gmem_lock);
	TAILQ_INSERT_TAIL(&zc_ctxs, z, next);
	pthread_mutex_unlock(&vdp_gmem_lock);
	return z;
}

/* The slot for map m: its own, or a free one. -1: all busy. Caller holds
 * vdp_gmem_lock. */
static int
zc_slot_for(struct vdp_zc_ctx *z, struct vdp_gmap *m)
{
	int free_slot = -1;

	for (int k = 0; k < VDP_ZC_SLOTS; k++) {
		if (z->map[k] == m)
			return k;
		if (free_slot < 0 && __atomic_load_n(&z->held[k], __ATOMIC_ACQUIRE) == 0)
			free_slot = k;
	}
	if (free_slot >= 0)
		z->map[free_slot] = m;
	return free_slot;
}

/*
 * The queue's ring was (re)loaded. keep_idx: the same ring goes on (held
 * heads stay valid); else its indexes restart and anything held is
 * orphaned. Sets up or drops the context as the port's zero-copy state
 * says. Control thread, queue paused, port lock held.
 */
int
vdp_zc_queue_ring(struct vdp_queue *q, bool keep_idx)
{
	struct vdp_port *p = q->port;
	uint32_t size = q->vr.size;
	bool on = p->zc_live && q->gmap != NULL && q->gmap->zc;

	if (!q->is_rx)
		return 0;
	if (q->zc.ctx != NULL && (!p->zc_live || !keep_idx || q->zc.ctx->size != size))
		vdp_zc_queue_orphan(q);
	if (!p->zc_live || q->mp == NULL) {
		q->zc.inorder = false;
		return 0;
	}
	if (q->zc.ctx == NULL) {
		q->zc.ctx = zc_ctx_new(q, size);
		if (q->zc.ctx == NULL) {
			VDP_LOG(ERR, p, "rx queue %u: no memory for zero-copy state: "
				"copying", q->qid);
			return -ENOMEM;
		}
	}
	pthread_mutex_lock(&vdp_gmem_lock);
	q->zc.ctx->cur = on ? zc_slot_for(q->zc.ctx, q->gmap) : -1;
	pthread_mutex_unlock(&vdp_gmem_lock);
	/* the same session keeps its features: a kept FIFO keeps its order */
	q->zc.ctx->inorder = (p->feat & VDP_BIT(VDP_F_IN_ORDER)) != 0;
	q->zc.inorder = q->zc.ctx->inorder;
	if (on && q->zc.ctx->cur < 0)
		VDP_LOG(WARNING, p, "rx queue %u: held buffers still point into %u older "
			"memory maps: copying until they are back", q->qid, VDP_ZC_SLOTS);
	q->zc.thresh = p->args.zerocopy == VDP_ZC_ON ? VDP_ZC_HDR_COPY + 1 :
		       VDP_ZC_THRESH_AUTO;
	return 0;
}

/*
 * Wait up to ms for every rx queue of the port to get its held buffers
 * back, giving them to the guest as they come. Returns how many are still
 * out. Control thread, queues paused, port lock held.
 */
uint32_t
vdp_zc_quiesce(struct vdp_port *p, unsigned int ms)
{
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * ms / 1000;
	uint32_t left;

	for (;;) {
		left = 0;
		for (uint16_t k = 0; k < VDP_MAX_QUEUES; k++) {
			struct vdp_queue *q = vdp_port_rxq(p, k);

			if (q == NULL || q->zc.ctx == NULL || q->stuck)
				continue;
			zc_complete(q->zc.ctx, true);
			vdp_queue_publish_shared(q);
			left += q->zc.inflight;
		}
		if (left == 0 || rte_get_timer_cycles() > deadline)
			return left;
		rte_delay_us_sleep(1000);
	}
}

/* ---- hand-back: nothing held may keep pointing at guest pages ---- */

struct zc_run {
	uint8_t *start, *end;   /* page aligned */
	struct vdp_gmap *map;
	uint32_t region;
};

static int
run_cmp(const void *a, const void *b)
{
	const struct zc_run *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Page-aligned range of piece (p, len) in its map, or false. */
static bool
piece_run(struct vdp_gmap *m, const struct vdp_zc_piece *pc, struct zc_run *r)
{
	for (uint32_t i = 0; i < m->nregions; i++) {
		struct vdp_gmap_region *g = &m->r[i];
		uintptr_t pg = g->id.pgsz, a = (uintptr_t)pc->p;

		if (pc->p < g->base || pc->p + pc->len > g->base + g->len)
			continue;
		r->start = (uint8_t *)(a & ~(pg - 1));
		r->end = (uint8_t *)((a + pc->len + pg - 1) & ~(pg - 1));
		if (r->end > g->base + g->len)
			r->end = g->base + g->len;
		r->map = m;
		r->region = i;
		return true;
	}
	return false;
}

/* Replace [start, end) by a private copy of it, atomically for readers. */
static int
snapshot_run(uint8_t *start, uint8_t *end)
{
	size_t len = (size_t)(end - start);
	void *tmp = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (tmp == MAP_FAILED)
		return -errno;
	memcpy(tmp, start, len);
	if (mremap(tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, start) == MAP_FAILED) {
		int e = errno;

		munmap(tmp, len);
		return -e;
	}
	return 0;
}

/* Replace a whole region by zero pages (one mapping). */
static void
scrub_region(struct vdp_gmap *m, uint32_t i)
{
	struct vdp_gmap_region *g = &m->r[i];

	if (mmap(g->base, g->len, PROT_READ | PROT_WRITE,
		 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		VDP_LOG_NOPORT(ERR, "%s: cannot scrub guest memory region %u: %s",
			       m->name, i, strerror(errno));
}

/*
 * The port's rings go back to the VMM (device stopped or gone). Every
 * buffer still held by the application (live queues and orphans of this
 * port not handed back before) gets its pages copied into private memory,
 * or - past the bounds - its regions zeroed. Queues whose lcore is stuck
 * are left for when it leaves (the watchdog calls this again then). The
 * maps concerned are pinned meanwhile: the watchdog may free what the
 * application's last frees released. Control thread, port lock held,
 * queues paused.
 */
void
vdp_zc_port_handback(struct vdp_port *p)
{
	struct vdp_gmap *pinned[VDP_ZC_SLOTS * 64];
	struct zc_run *runs = NULL;
	struct vdp_zc_ctx *z;
	size_t nruns = 0, cap = 0, bytes = 0;
	uint32_t frames = 0, merged = 0, npinned = 0;
	bool scrub = false;

	pthread_mutex_lock(&vdp_gmem_lock);
	TAILQ_FOREACH(z, &zc_ctxs, next) {
		if (z->port != p || z->handed_back || (z->q != NULL && z->q->stuck))
			continue;
		z->handed_back = true;
		if (z->q == NULL)
			zc_complete(z, true);
		for (uint32_t h = z->fifo_h; h != z->fifo_t; h++) {
			uint16_t head = z->fifo[h % z->size];
			struct vdp_zc_tok *t;
			const struct vdp_zc_piece *pc;
			struct vdp_gmap *m;
			uint32_t k;

			if (head & ZC_COPIED)
				continue;   /* copied: nothing points into the guest */
			t = &z->tok[head];
			pc = &z->pieces[(size_t)t->pool * VDP_ZC_PIECES];
			m = z->map[t->slot];
			if (!t->held || __atomic_load_n(&t->done, __ATOMIC_ACQUIRE))
				continue;
			for (k = 0; k < npinned && pinned[k] != m; k++)
				;
			if (k == npinned) {
				if (npinned == RTE_DIM(pinned)) {
					scrub = true;   /* cannot happen: slots x ctxs of a port */
					continue;
				}
				m->pins++;
				pinned[npinned++] = m;
			}
			frames++;
			for (uint16_t i = 0; i < t->npieces; i++) {
				if (nruns == cap) {
					size_t ncap = cap ? 2 * cap : 256;
					struct zc_run *nr = realloc(runs, ncap * sizeof(*runs));

					if (nr == NULL) {
						scrub = true;
						break;
					}
					runs = nr;
					cap = ncap;
				}
				if (piece_run(m, &pc[i], &runs[nruns]))
					nruns++;
			}
		}
	}
	pthread_mutex_unlock(&vdp_gmem_lock);
	if (frames != 0) {
		/* merge overlapping and touching ranges */
		if (nruns != 0) {
			qsort(runs, nruns, sizeof(*runs), run_cmp);
			merged = 1;
			for (size_t i = 1; i < nruns; i++) {
				struct zc_run *last = &runs[merged - 1];

				if (runs[i].start <= last->end && runs[i].map == last->map &&
				    runs[i].region == last->region) {
					if (runs[i].end > last->end)
						last->end = runs[i].end;
				} else {
					runs[merged++] = runs[i];
				}
			}
		}
		for (uint32_t i = 0; i < merged; i++)
			bytes += (size_t)(runs[i].end - runs[i].start);
		if (merged > VDP_ZC_SNAPSHOT_RUNS || bytes > VDP_ZC_SNAPSHOT_MAX)
			scrub = true;
		for (uint32_t i = 0; !scrub && i < merged; i++) {
			int ret = snapshot_run(runs[i].start, runs[i].end);

			if (ret != 0) {
				VDP_LOG(ERR, p, "zero-copy snapshot of %zu bytes failed (%s): "
					"zeroing instead", (size_t)(runs[i].end - runs[i].start),
					strerror(-ret));
				scrub = true;
				break;
			}
			p->stat[VDP_PS_ZC_SNAPSHOT_PAGES] +=
				(uint64_t)(runs[i].end - runs[i].start) /
				runs[i].map->r[runs[i].region].id.pgsz;
		}
		if (scrub) {
			for (uint32_t i = 0; i < merged; i++)
				if (i == 0 || runs[i].map != runs[i - 1].map ||
				    runs[i].region != runs[i - 1].region)
					scrub_region(runs[i].map, runs[i].region);
			p->stat[VDP_PS_ZC_SCRUBBED] += frames;
		}
		VDP_LOG(WARNING, p, "%u frames still held by the application when the "
			"rings went back: %s (%zu bytes in %u ranges)", frames,
			scrub ? "their guest memory regions zeroed" : "their pages copied",
			bytes, merged);
	}
	free(runs);
	for (uint32_t k = 0; k < npinned; k++)
		vdp_gmap_unpin(pinned[k]);
}

/* ---- the watchdog's part ---- */

/* Forget orphans whose buffers all came back. Returns the orphans left. */
uint32_t
vdp_zc_reap(void)
{
	struct vdp_zc_ctx *z, *zn;
	uint32_t left = 0;

	pthread_mutex_lock(&vdp_gmem_lock);
	for (z = TAILQ_FIRST(&zc_ctxs); z != NULL; z = zn) {
		zn = TAILQ_NEXT(z, next);
		if (z->q != NULL)
			continue;
		zc_complete(z, true);
		if (z->fifo_h == z->fifo_t) {
			TAILQ_REMOVE(&zc_ctxs, z, next);
			zc_ctx_free(z);
		} else {
			left++;
		}
	}
	pthread_mutex_unlock(&vdp_gmem_lock);
	return left;
}

/* The port is closed: its orphans stay until their buffers come back. */
void
vdp_zc_port_gone(struct vdp_port *p)
{
	struct vdp_zc_ctx *z;

	pthread_mutex_lock(&vdp_gmem_lock);
	TAILQ_FOREACH(z, &zc_ctxs, next)
		if (z->port == p)
			z->port = NULL;
	pthread_mutex_unlock(&vdp_gmem_lock);
}
