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
 * on the way: the guest gets its buffers back out of order, which is why
 * VIRTIO_F_IN_ORDER is never offered with zero-copy possible.
 *
 * Starvation (why DPDK's vhost library dropped its dequeue zero-copy): at
 * most a quarter of the guest's ring is held per queue; past that, frames
 * are copied (and the egress port, if the application named it, is asked
 * to clean up its TX ring). A stalled egress port can therefore hold at
 * most a quarter of a guest's TX ring, never all of it.
 *
 * Guest memory lifetime: librte_vhost unmaps a guest's memory when the
 * memory table changes and when the device goes away. Held buffers must
 * outlive that, so with zero-copy the driver maps the regions itself (from
 * the same file descriptors) and uses only its own mapping, rings included.
 * A mapping that is replaced or whose device went away is retired and
 * unmapped by the reaper once no held buffer points into it: memory is
 * never unmapped under an mbuf, whatever the application does with its
 * mbufs. Teardown (device destroyed, port stopped or closed) first waits a
 * bounded time for held buffers to come back so the guest gets them;
 * buffers still out after that are counted (rx_zc_forced) and their token
 * table is orphaned to the reaper together with the mapping they use.
 *
 * DMA: each mapping is registered as external memory (rte_extmem_register)
 * and mapped for DMA into every ethdev's device whose bus can
 * (rte_dev_dma_map: PCI devices with vfio), so that a NIC can transmit
 * straight from guest memory. The mbufs carry the virtual address as IOVA:
 * zero-copy is used only in IOVA-as-VA mode (the mode with vfio and an
 * IOMMU, and with --no-huge).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_alarm.h>
#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_vhost.h>
#include <ethdev_driver.h>

#include "vdevpeer.h"

const char *const vdp_zc_stat_names[VDP_ZC_NB] = {
	[VDP_ZC_FRAMES] = "frames",
	[VDP_ZC_COPIED] = "copied_frames",
	[VDP_ZC_FALLBACKS] = "fallbacks",
	[VDP_ZC_RECLAIMS] = "reclaims",
	[VDP_ZC_FORCED] = "forced",
};

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
/* Held buffers per queue at most: ring size / this. */
#define VDP_ZC_LIMIT_DIV 4u
/* Reaper period while something waits to be reaped. */
#define VDP_ZC_REAP_US (100u * 1000u)
/* Ethdev devices we remember having mapped guest memory for. */
#define VDP_ZC_MAX_DMA_DEVS 32

/* ---- guest memory, mapped by us ---- */

struct vdp_zc_region {
	uint64_t lib_hua;    /* librte_vhost's host_user_addr of the region */
	uint64_t lib_mmap;   /* ... and its mmap_addr (identity of the table) */
	uint64_t gpa;
	uint64_t size;
	uint8_t *base;       /* our mapping of [0, len) of the region's file */
	size_t len;
	uint64_t off;        /* the region starts at base + off */
	bool extmem;         /* registered with rte_extmem_register */
};

struct vdp_zc_map {
	TAILQ_ENTRY(vdp_zc_map) next;   /* retired list */
	uint64_t gen;                    /* increasing: tokens name their map by it */
	uint32_t nregions;
	struct vdp_zc_region r[VDP_MAX_REGIONS];
	uint16_t ndev;
	struct {
		uint16_t port;
		struct rte_device *dev;
		uint32_t regions;            /* bit i: region i mapped for DMA */
	} dev[VDP_ZC_MAX_DMA_DEVS];
	char name[VDP_NAME_MAX];
};

/* ---- held buffers of one queue ---- */

struct vdp_zc_tok {
	struct rte_mbuf_ext_shared_info shinfo; /* of the chain's extbuf mbufs */
	uint64_t gen;        /* map the buffers point into */
	uint8_t done;        /* set by the free callback, any thread */
	uint8_t held;        /* owner: the chain is out */
} __rte_cache_aligned;

struct vdp_zc_ctx {
	TAILQ_ENTRY(vdp_zc_ctx) next;    /* all contexts, live and orphaned */
	struct vdp_queue *q;             /* NULL once orphaned */
	uint64_t min_gen;                /* atomic: oldest map gen held, or MAX */
	uint64_t map_gen;                /* gen of the map new buffers go into */
	uint32_t size;                   /* guest ring size */
	uint32_t limit;                  /* held buffers at most */
	uint32_t fifo_h, fifo_t;         /* held heads in issue order */
	uint32_t scan_at;                /* scan everything when this many held */
	uint16_t *fifo;                  /* size entries */
	char name[VDP_NAME_MAX + 16];
	struct vdp_zc_tok tok[];         /* one per head */
};

static pthread_mutex_t zc_lock = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, vdp_zc_ctx) zc_ctxs = TAILQ_HEAD_INITIALIZER(zc_ctxs);
static TAILQ_HEAD(, vdp_zc_map) zc_retired = TAILQ_HEAD_INITIALIZER(zc_retired);
static uint64_t zc_next_gen = 1;
static bool zc_alarm_armed;

static void zc_reap(void *arg);

/* ---- completions ---- */

static void
zc_free_cb(void *addr, void *opaque)
{
	struct vdp_zc_tok *t = opaque;

	RTE_SET_USED(addr);
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
}

static inline void
zc_set_min_gen(struct vdp_zc_ctx *z)
{
	uint64_t g = z->fifo_h == z->fifo_t ? UINT64_MAX :
		     z->tok[z->fifo[z->fifo_h % z->size]].gen;

	if (g != z->min_gen)
		__atomic_store_n(&z->min_gen, g, __ATOMIC_RELEASE);
}

/* Give head h back to the guest (or, orphaned, just forget it). */
static inline void
zc_give_back(struct vdp_zc_ctx *z, uint16_t h)
{
	struct vdp_queue *q = z->q;

	z->tok[h].held = 0;
	if (q != NULL) {
		if (q->ring_ok)
			vdp_split_used_put(&q->vr, h, 0);
		q->zc_inflight--;
	}
}

/*
 * Hand back what was freed: the done heads at the front of the FIFO, and
 * with scan_all (or when many are held) every done one, compacting.
 * Caller owns the queue (its lcore, or the control thread while paused) or,
 * for an orphan, holds zc_lock.
 */
static void
zc_complete(struct vdp_zc_ctx *z, bool scan_all)
{
	uint32_t h = z->fifo_h, t = z->fifo_t, w;

	while (h != t) {
		uint16_t head = z->fifo[h % z->size];

		if (!__atomic_load_n(&z->tok[head].done, __ATOMIC_ACQUIRE))
			break;
		zc_give_back(z, head);
		h++;
	}
	z->fifo_h = h;
	if (h != t && (scan_all || t - h >= z->scan_at)) {
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
	zc_set_min_gen(z);
}

void
vdp_zc_complete(struct vdp_queue *q, bool scan_all)
{
	zc_complete(q->zc, scan_all);
}

/* Publish used elements and interrupt the guest if it wants (paused queue). */
static void
zc_publish(struct vdp_queue *q, uint16_t used_before)
{
	if (!q->ring_ok || q->vr.used_idx == used_before)
		return;
	vdp_split_used_flush(&q->vr);
	if (vdp_split_need_call(&q->vr) && q->callfd >= 0) {
		eventfd_write(q->callfd, 1);
		q->calls++;
	}
}

/* ---- the data path: attach one chain ---- */

struct rte_mbuf *
vdp_zc_rx_chain(struct vdp_queue *q, const struct vdp_chain *c,
		const struct vdp_net_hdr *vh, uint32_t len)
{
	struct vdp_zc_ctx *z = q->zc;
	struct vdp_zc_tok *t = &z->tok[c->head];
	struct rte_mbuf *ms[VDP_CHAIN_MAX_SEGS + 1];
	const uint32_t hdr = q->vr.hdr_len;
	uint32_t hc = VDP_ZC_HDR_COPY, skip, npieces = 0, i, k;

	/* offload requests: their header fields must be in our copy */
	if (vh->flags & VDP_ZC_HDR_F_NEEDS_CSUM) {
		uint32_t need = (uint32_t)vh->csum_start + vh->csum_offset + 2;

		hc = RTE_MAX(hc, need);
	}
	if (vh->gso_type != 0)
		hc = RTE_MAX(hc, (uint32_t)vh->hdr_len);
	if (unlikely(hc > VDP_ZC_HDR_COPY_MAX || hc >= len))
		goto copy;
	if (unlikely(t->held))      /* the guest posted a head we hold: copy */
		goto fallback;
	if (unlikely(q->zc_inflight >= z->limit)) {
		if (q->zc_egress) {
			rte_eth_tx_done_cleanup(q->zc_eport, q->zc_equeue, 0);
			q->zc_stat[VDP_ZC_RECLAIMS]++;
		}
		zc_complete(z, true);
		if (q->zc_inflight >= z->limit)
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
	 * VDP_CHAIN_MAX_SEGS pieces */
	if (unlikely(npieces + 1 > VDP_CHAIN_MAX_SEGS))
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
		k++;
	}

	t->done = 0;
	t->held = 1;
	t->gen = z->map_gen;
	if (z->fifo_h == z->fifo_t)
		__atomic_store_n(&z->min_gen, t->gen, __ATOMIC_RELEASE);
	z->fifo[z->fifo_t++ % z->size] = c->head;
	q->zc_inflight++;
	q->zc_stat[VDP_ZC_FRAMES]++;
	return ms[0];

fallback:
	q->zc_stat[VDP_ZC_FALLBACKS]++;
copy:
	q->zc_stat[VDP_ZC_COPIED]++;
	return NULL;
}

/* ---- contexts ---- */

static void
zc_ctx_free(struct vdp_zc_ctx *z)
{
	rte_free(z->fifo);
	rte_free(z);
}

/* Caller holds zc_lock. */
static void
zc_arm_reaper(void)
{
	if (zc_alarm_armed)
		return;
	if (rte_eal_alarm_set(VDP_ZC_REAP_US, zc_reap, NULL) == 0)
		zc_alarm_armed = true;
}

/*
 * Detach the queue's context: free it when nothing is held, else leave it
 * to the reaper (its tokens must live until their mbufs are freed).
 * Control thread, queue paused.
 */
void
vdp_zc_queue_orphan(struct vdp_queue *q)
{
	struct vdp_zc_ctx *z = q->zc;

	if (z == NULL)
		return;
	zc_complete(z, true);
	pthread_mutex_lock(&zc_lock);
	if (q->zc_inflight != 0) {
		VDP_LOG(WARNING, q->port, "rx queue %u: %u guest buffers still held "
			"by the application: given up on (their memory stays mapped "
			"until they are freed)", q->qid, q->zc_inflight);
		q->zc_stat[VDP_ZC_FORCED] += q->zc_inflight;
		z->q = NULL;
		zc_arm_reaper();
	} else {
		TAILQ_REMOVE(&zc_ctxs, z, next);
		zc_ctx_free(z);
	}
	pthread_mutex_unlock(&zc_lock);
	q->zc = NULL;
	q->zc_inflight = 0;
}

static struct vdp_zc_ctx *
zc_ctx_new(struct vdp_queue *q, uint32_t size)
{
	struct vdp_zc_ctx *z;

	z = rte_zmalloc_socket("vdp_zc", sizeof(*z) + size * sizeof(z->tok[0]),
			       RTE_CACHE_LINE_SIZE, q->mp != NULL ?
			       q->mp->socket_id : SOCKET_ID_ANY);
	if (z == NULL)
		return NULL;
	z->fifo = rte_zmalloc("vdp_zc_fifo", size * sizeof(z->fifo[0]), 0);
	if (z->fifo == NULL) {
		rte_free(z);
		return NULL;
	}
	z->q = q;
	z->size = size;
	z->limit = RTE_MAX(size / VDP_ZC_LIMIT_DIV, 1u);
	z->scan_at = RTE_MAX(z->limit / 2, 1u);
	z->min_gen = UINT64_MAX;
	snprintf(z->name, sizeof(z->name), "%s rx %u", q->port->args.bind, q->qid);
	for (uint32_t i = 0; i < size; i++) {
		z->tok[i].shinfo.free_cb = zc_free_cb;
		z->tok[i].shinfo.fcb_opaque = &z->tok[i];
	}
	pthread_mutex_lock(&zc_lock);
	TAILQ_INSERT_TAIL(&zc_ctxs, z, next);
	pthread_mutex_unlock(&zc_lock);
	return z;
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

	if (!q->is_rx)
		return 0;
	if (q->zc != NULL && (!p->zc_live || !keep_idx || q->zc->size != size))
		vdp_zc_queue_orphan(q);
	if (!p->zc_live || q->mp == NULL)
		return 0;
	if (q->zc == NULL) {
		q->zc = zc_ctx_new(q, size);
		if (q->zc == NULL) {
			VDP_LOG(ERR, p, "rx queue %u: no memory for zero-copy state: "
				"copying", q->qid);
			return -ENOMEM;
		}
	}
	q->zc->map_gen = p->zmap->gen;
	q->zc_thresh = p->args.zerocopy == VDP_ZC_ON ? VDP_ZC_HDR_COPY + 1 :
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
	struct rte_eth_dev_data *d = p->eth_dev->data;
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * ms / 1000;
	uint32_t left;

	for (;;) {
		left = 0;
		for (uint16_t i = 0; i < d->nb_rx_queues; i++) {
			struct vdp_queue *q = d->rx_queues[i];
			uint16_t before;

			if (q == NULL || q->zc == NULL)
				continue;
			before = q->vr.used_idx;
			zc_complete(q->zc, true);
			zc_publish(q, before);
			left += q->zc_inflight;
		}
		if (left == 0 || rte_get_timer_cycles() > deadline)
			return left;
		rte_delay_us_sleep(1000);
	}
}

/* ---- mapping guest memory ---- */

static void
zc_map_free(struct vdp_zc_map *m)
{
	for (uint16_t d = 0; d < m->ndev; d++) {
		uint16_t port = m->dev[d].port;

		/* the device may have gone: unmap only from the one we mapped */
		if (!rte_eth_dev_is_valid_port(port) ||
		    rte_eth_devices[port].device != m->dev[d].dev)
			continue;
		for (uint32_t i = 0; i < m->nregions; i++)
			if (m->dev[d].regions & (1u << i))
				rte_dev_dma_unmap(m->dev[d].dev, m->r[i].base,
						  (uint64_t)(uintptr_t)m->r[i].base,
						  m->r[i].len);
	}
	for (uint32_t i = 0; i < m->nregions; i++) {
		if (m->r[i].extmem)
			rte_extmem_unregister(m->r[i].base, m->r[i].len);
		if (m->r[i].base != NULL)
			munmap(m->r[i].base, m->r[i].len);
	}
	VDP_LOG_NOPORT(INFO, "%s: guest memory mapping %" PRIu64 " unmapped (no buffer "
		       "points into it any more)",
		       m->name, m->gen);
	free(m);
}

/*
 * Map the regions for DMA into every ethdev device on a bus that does DMA
 * (virtual devices do not: skipped).
 */
static int
zc_map_dma(struct vdp_port *p, struct vdp_zc_map *m)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		struct rte_device *dev = rte_eth_devices[port].device;
		uint16_t d;

		if (dev == NULL || strcmp(rte_bus_name(rte_dev_bus(dev)), "vdev") == 0)
			continue;
		for (d = 0; d < m->ndev; d++)
			if (m->dev[d].dev == dev)
				break;
		if (d < m->ndev)
			continue;
		if (m->ndev == VDP_ZC_MAX_DMA_DEVS) {
			VDP_LOG(ERR, p, "more than %u DMA devices", VDP_ZC_MAX_DMA_DEVS);
			return -ENOSPC;
		}
		m->dev[d].port = port;
		m->dev[d].dev = dev;
		m->ndev++;
		for (uint32_t i = 0; i < m->nregions; i++) {
			if (rte_dev_dma_map(dev, m->r[i].base,
					    (uint64_t)(uintptr_t)m->r[i].base,
					    m->r[i].len) == 0) {
				m->dev[d].regions |= 1u << i;
			} else if (rte_errno != ENOTSUP) {
				/* a device that DMAs but cannot reach guest
				 * memory: zero-copy would make it fault */
				VDP_LOG(ERR, p, "cannot map guest memory for DMA "
					"into %s: %s", rte_dev_name(dev),
					rte_strerror(rte_errno));
				return -rte_errno;
			}
		}
	}
	return 0;
}

static bool
zc_map_same(const struct vdp_zc_map *m, const struct rte_vhost_memory *mem)
{
	if (m == NULL || m->nregions != mem->nregions)
		return false;
	for (uint32_t i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *r = &mem->regions[i];

		if (m->r[i].lib_hua != r->host_user_addr ||
		    m->r[i].lib_mmap != (uint64_t)(uintptr_t)r->mmap_addr ||
		    m->r[i].gpa != r->guest_phys_addr || m->r[i].size != r->size)
			return false;
	}
	return true;
}

static void
zc_fill_memmap(const struct vdp_zc_map *m, struct vdp_memmap *mm)
{
	memset(mm, 0, sizeof(*mm));
	for (uint32_t i = 0; i < m->nregions; i++) {
		mm->r[i].gpa = m->r[i].gpa;
		mm->r[i].size = m->r[i].size;
		mm->r[i].hva = (uint64_t)(uintptr_t)(m->r[i].base + m->r[i].off);
	}
	mm->nregions = m->nregions;
}

/* Caller holds zc_lock. */
static void
zc_retire_locked(struct vdp_zc_map *m)
{
	TAILQ_INSERT_TAIL(&zc_retired, m, next);
	zc_arm_reaper();
}

/*
 * Map the guest's memory table ourselves (validated by the caller) and
 * fill *mm with our addresses. Keeps the current mapping when the table
 * did not change. Returns 0, or -errno: zero-copy stays off for this table
 * and the caller uses librte_vhost's mapping. Port lock held.
 */
int
vdp_zc_map_load(struct vdp_port *p, const struct rte_vhost_memory *mem,
		struct vdp_memmap *mm)
{
	struct vdp_zc_map *m;
	int ret = 0;

	if (p->args.zerocopy == VDP_ZC_OFF)
		return -ENOTSUP;
	if (rte_eal_iova_mode() != RTE_IOVA_VA) {
		VDP_LOG(NOTICE, p, "zero-copy off: IOVA mode is not VA "
			"(use vfio with an IOMMU, or --iova-mode=va)");
		return -ENOTSUP;
	}
	if (zc_map_same(p->zmap, mem)) {
		zc_fill_memmap(p->zmap, mm);
		return 0;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	snprintf(m->name, sizeof(m->name), "%s", p->args.bind);
	for (uint32_t i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *r = &mem->regions[i];
		struct vdp_zc_region *z = &m->r[i];
		struct stat st;
		void *base;

		z->lib_hua = r->host_user_addr;
		z->lib_mmap = (uint64_t)(uintptr_t)r->mmap_addr;
		z->gpa = r->guest_phys_addr;
		z->size = r->size;
		z->off = r->host_user_addr - (uint64_t)(uintptr_t)r->mmap_addr;
		z->len = r->mmap_size;
		if (r->fd < 0 || fstat(r->fd, &st) != 0) {
			ret = -EBADF;
			goto fail;
		}
		base = mmap(NULL, z->len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
		if (base == MAP_FAILED) {
			ret = -errno;
			VDP_LOG(ERR, p, "cannot map guest memory region %u: %s",
				i, strerror(errno));
			goto fail;
		}
		z->base = base;
		m->nregions = i + 1;
		if (rte_extmem_register(base, z->len, NULL, 0,
					(size_t)st.st_blksize) != 0) {
			ret = -rte_errno;
			VDP_LOG(ERR, p, "cannot register guest memory region %u "
				"(%zu bytes, pages of %ld) as external memory: %s",
				i, z->len, (long)st.st_blksize, rte_strerror(rte_errno));
			goto fail;
		}
		z->extmem = true;
	}
	ret = zc_map_dma(p, m);
	if (ret != 0)
		goto fail;

	pthread_mutex_lock(&zc_lock);
	m->gen = zc_next_gen++;
	if (p->zmap != NULL)
		zc_retire_locked(p->zmap);
	pthread_mutex_unlock(&zc_lock);
	p->zmap = m;
	zc_fill_memmap(m, mm);
	VDP_LOG(INFO, p, "guest memory mapped for zero-copy: %u region(s), "
		"%u DMA device(s)", m->nregions, m->ndev);
	return 0;
fail:
	zc_map_free(m);
	return ret;
}

/* The device's memory goes away: retire our mapping. Port lock held. */
void
vdp_zc_map_retire(struct vdp_port *p)
{
	if (p->zmap == NULL)
		return;
	pthread_mutex_lock(&zc_lock);
	zc_retire_locked(p->zmap);
	pthread_mutex_unlock(&zc_lock);
	p->zmap = NULL;
	p->zc_live = false;
}

/* librte_vhost's address of guest memory -> ours (rings). */
void *
vdp_zc_xlate(const struct vdp_port *p, void *lib_addr)
{
	const struct vdp_zc_map *m = p->zmap;
	uint64_t a = (uint64_t)(uintptr_t)lib_addr;

	if (m == NULL)
		return lib_addr;
	for (uint32_t i = 0; i < m->nregions; i++) {
		const struct vdp_zc_region *r = &m->r[i];

		if (a >= r->lib_hua && a - r->lib_hua < r->size)
			return r->base + r->off + (a - r->lib_hua);
	}
	return NULL;
}

/* ---- the reaper ---- */

/*
 * Forget orphans whose buffers all came back; unmap retired mappings no
 * held buffer points into. EAL alarm thread; re-arms itself while
 * something is left.
 */
static void
zc_reap(void *arg)
{
	struct vdp_zc_ctx *z, *zn;
	struct vdp_zc_map *m, *mn;

	RTE_SET_USED(arg);
	pthread_mutex_lock(&zc_lock);
	zc_alarm_armed = false;
	for (z = TAILQ_FIRST(&zc_ctxs); z != NULL; z = zn) {
		zn = TAILQ_NEXT(z, next);
		if (z->q != NULL)
			continue;
		zc_complete(z, true);
		if (z->fifo_h == z->fifo_t) {
			TAILQ_REMOVE(&zc_ctxs, z, next);
			zc_ctx_free(z);
		}
	}
	for (m = TAILQ_FIRST(&zc_retired); m != NULL; m = mn) {
		bool used = false;

		mn = TAILQ_NEXT(m, next);
		TAILQ_FOREACH(z, &zc_ctxs, next)
			if (__atomic_load_n(&z->min_gen, __ATOMIC_ACQUIRE) <= m->gen)
				used = true;
		if (!used) {
			TAILQ_REMOVE(&zc_retired, m, next);
			zc_map_free(m);
		}
	}
	if (!TAILQ_EMPTY(&zc_retired))
		zc_arm_reaper();
	else
		TAILQ_FOREACH(z, &zc_ctxs, next)
			if (z->q == NULL) {
				zc_arm_reaper();
				break;
			}
	pthread_mutex_unlock(&zc_lock);
}
