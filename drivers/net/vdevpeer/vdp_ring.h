/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split-virtqueue walkers of net_vdevpeer: plain C over (ring view, guest
 * memory map). No EAL, no mbufs: the PMD, the unit tests (a guest-side
 * driver writing real rings in memory mapped at two addresses) and the
 * micro-benchmarks all use these functions.
 *
 * The guest is hostile. Everything reached through a struct vdp_vring
 * (descriptor table, avail ring, buffers) may change under us at any time:
 * each field is read exactly once into a local, checked, then used.
 *
 * Concurrency: a struct vdp_vring is owned by one thread at a time (the
 * lcore polling the queue); the control plane only touches it while the
 * queue is paused (see vdevpeer.h).
 */
#ifndef VDP_RING_H
#define VDP_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "net_vdevpeer assumes a little-endian host (virtio 1.x rings are LE)"
#endif

/* ---- virtio split ring layout (virtio 1.1, 2.6) ---- */
#define VDP_DESC_F_NEXT      1
#define VDP_DESC_F_WRITE     2
#define VDP_DESC_F_INDIRECT  4
#define VDP_USED_F_NO_NOTIFY 1
#define VDP_AVAIL_F_NO_INTERRUPT 1

struct vdp_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vdp_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* size entries, then used_event */
};

struct vdp_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vdp_used {
	uint16_t flags;
	uint16_t idx;
	struct vdp_used_elem ring[]; /* size entries, then avail_event */
};

#define VDP_RING_SIZE_MAX 32768u

/* ---- virtio-net header (virtio 1.1, 5.1.6) ---- */
struct vdp_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers; /* only with MRG_RXBUF or VERSION_1 */
};
#define VDP_NET_HDR_LEN_LEGACY 10u
#define VDP_NET_HDR_LEN_MRG    12u

/* ---- guest memory map ---- */
#define VDP_MAX_REGIONS 8

struct vdp_mem_region {
	uint64_t gpa;   /* guest physical start */
	uint64_t size;
	uint64_t hva;   /* where we mapped it */
};

struct vdp_memmap {
	uint32_t nregions;
	struct vdp_mem_region r[VDP_MAX_REGIONS];
};

/*
 * Translate [gpa, gpa + *len). Returns the host address of gpa and sets
 * *len to the number of bytes contiguous from there inside one region
 * (<= the request), or NULL when gpa is in no region or gpa + len wraps.
 */
void *vdp_gpa_to_hva(const struct vdp_memmap *mm, uint64_t gpa, uint64_t *len);

/* True when host range [hva, hva + len) lies inside one region. */
bool vdp_hva_in_map(const struct vdp_memmap *mm, const void *hva, uint64_t len);

/* ---- errors: one counter each, exported as xstats ---- */
/*
 * Why a frame or chain was dropped, counted per queue (xstats
 * <dir>_drop_<name>). Each reason is declared once here: its enum value,
 * its xstat name and what it means.
 */
#define VDP_ERR_LIST(_) \
	_(NO_RX_BUF, "no_rx_buf", "the guest had no (or too few) receive buffers posted") \
	_(RX_TOO_SMALL, "rx_too_small", \
	  "the frame did not fit the guest's buffers (one chain, or 128 mergeable ones)") \
	_(BAD_DESC, "bad_desc", "a descriptor index out of range, of the wrong direction or flags") \
	_(ZERO_LEN, "zero_len", "a descriptor of length 0") \
	_(CHAIN_TOO_LONG, "chain_too_long", "a chain of more segments than the driver carries") \
	_(LOOP, "loop", "a chain longer than its table: a loop") \
	_(BAD_ADDR, "bad_addr", "a buffer outside the guest's memory") \
	_(BAD_INDIRECT, "bad_indirect", "an indirect table malformed (length, NEXT flag, size)") \
	_(NESTED_INDIRECT, "nested_indirect", "an indirect descriptor inside an indirect table") \
	_(AVAIL_JUMP, "avail_jump", "the avail index moved by more than the ring size") \
	_(SHORT_CHAIN, "short_chain", "a chain shorter than the virtio-net header") \
	_(TOO_BIG, "too_big", "a guest frame larger than the driver accepts") \
	_(NO_MBUF, "no_mbuf", "the host's mbuf pool was empty") \
	_(NOT_READY, "not_ready", "the guest was not ready (link down, queue disabled or paused)") \
	_(QUEUE_STOPPED, "queue_stopped", "the queue was stopped: its ring is no longer trusted") \
	_(OL_NOT_NEGOTIATED, "offload_not_negotiated", \
	  "an offload request the guest did not negotiate") \
	_(BAD_CSUM_HDR, "bad_csum_offset", "csum_start / csum_offset outside the frame") \
	_(BAD_GSO, "bad_gso", "a GSO header that does not match the frame") \
	_(BAD_TX_OFFLOAD, "bad_offload_request", \
	  "a host frame whose offload fields do not fit it") \
	_(BURST_BUDGET, "burst_budget", \
	  "the guest's bad or short buffers used up the burst's work budget")

enum vdp_err {
	VDP_ERR_NONE = 0,       /* not an error: keeps every reason non-zero */
#define VDP_ERR_ENUM_(e, name, desc) VDP_ERR_##e,
	VDP_ERR_LIST(VDP_ERR_ENUM_)
#undef VDP_ERR_ENUM_
	VDP_ERR_MAX
};
#define VDP_ERR_FIRST VDP_ERR_NO_RX_BUF

extern const char *const vdp_err_names[VDP_ERR_MAX];
extern const char *const vdp_err_descs[VDP_ERR_MAX];

/*
 * Counters: one writer (the queue's lcore, or the control thread while
 * the queue is paused), read by other threads (xstats, telemetry) while it
 * runs. The writer stores with a relaxed atomic (a plain load, add and
 * store: no locked instruction), a reader loads with one, so it sees a
 * whole value and the compiler keeps both.
 */
#define VDP_CNT_ADD(c, n) __atomic_store_n(&(c), (c) + (n), __ATOMIC_RELAXED)
#define VDP_CNT_INC(c) VDP_CNT_ADD(c, 1)
#define VDP_CNT_GET(c) __atomic_load_n(&(c), __ATOMIC_RELAXED)

/* ---- one virtqueue as the device sees it ---- */
typedef void (*vdp_err_fn)(void *ctx, enum vdp_err err, uint32_t a, uint32_t b);

struct vdp_vring {
	struct vdp_desc *desc;
	struct vdp_avail *avail;
	struct vdp_used *used;
	uint16_t size;        /* power of two, <= VDP_RING_SIZE_MAX */
	uint16_t mask;

	uint16_t last_avail;  /* next avail slot we will consume */
	uint16_t used_idx;    /* shadow of used->idx (published at flush) */
	uint16_t avail_cache; /* last avail->idx seen, for avail_count */
	uint16_t signalled_used; /* used idx at the previous notify check */
	bool signalled_valid;

	bool event_idx;       /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;        /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool mrg_rxbuf;       /* VIRTIO_NET_F_MRG_RXBUF negotiated */
	bool broken;          /* ring no longer trustworthy: queue stopped */
	uint16_t hdr_len;     /* virtio-net header length: 10 or 12 */

	/* work budget of the current burst (vdp_vring_burst_begin) */
	uint32_t budget_desc; /* descriptors the walkers may still read */
	uint32_t budget_bad;  /* chains they may still refuse */
	bool budget_hit;      /* this burst ran out (counted once) */

	uint64_t err[VDP_ERR_MAX];
	uint64_t budget_stops; /* bursts cut short by their budget */
	vdp_err_fn on_err;    /* optional: rate-limited logging by the owner */
	void *err_ctx;
};

/*
 * The work of one burst is bounded by numbers, not by the guest's good
 * behaviour (whatever it writes into its rings):
 *  - a chain is walked for at most VDP_CHAIN_MAX_SEGS buffer descriptors
 *    (plus the one pointing to an indirect table): a longer chain, a loop
 *    or an indirect table chained past that is refused at that point
 *    (VDP_ERR_CHAIN_TOO_LONG), never walked to its end;
 *  - a burst reads at most VDP_BURST_DESC_MAX descriptors, plus
 *    VDP_FRAME_DESC_GRANT for every frame put into the guest's RX ring
 *    (the host's own work: a software-segmented 64 KiB frame for a guest
 *    without mergeable buffers is ~46 chains of up to 20 descriptors), and
 *    refuses at most VDP_BURST_BAD_MAX chains (bad ones, and with
 *    MRG_RXBUF first buffers shorter than the header). When either runs
 *    out, fetches return VDP_FETCH_LIMIT: guest TX chains wait for the
 *    next burst, guest RX frames of this burst are dropped
 *    (VDP_ERR_BURST_BUDGET). A chain is never walked in part: one that
 *    does not fit what is left of the budget stays for the next burst.
 * Sizes: a legitimate burst of 32 frames of 64 KiB in 2 KiB buffers reads
 * about 1100 descriptors; 8192 leaves room for bursts of 128 such frames;
 * 256 per frame is a frame in 128 one-descriptor buffers, twice. Worst
 * case measured with a hostile guest: docs/security.md.
 */
#define VDP_BURST_DESC_MAX 8192u
#define VDP_FRAME_DESC_GRANT 256u
#define VDP_BURST_BAD_MAX 64u

/* Start a burst: a fresh work budget (also set by vdp_vring_init). */
static inline void
vdp_vring_burst_begin(struct vdp_vring *vr)
{
	vr->budget_desc = VDP_BURST_DESC_MAX;
	vr->budget_bad = VDP_BURST_BAD_MAX;
	vr->budget_hit = false;
}

/*
 * Reset the device-side state of a ring. Validates the layout: size a
 * power of two in [1, 32768], tables non-NULL and aligned as virtio 1.1
 * 2.6 requires (desc 16, avail 2, used 4 bytes). Returns 0 or -EINVAL.
 * The indexes start at last_avail/used_idx (handed over by the VMM).
 * Everything else is reset: err counters zeroed, broken cleared,
 * features off, hdr_len = VDP_NET_HDR_LEN_MRG, on_err/err_ctx NULL. The
 * caller sets event_idx, indirect, mrg_rxbuf, hdr_len and on_err/err_ctx
 * after init (and keeps its own totals if counters must survive a re-init).
 */
int vdp_vring_init(struct vdp_vring *vr, void *desc, void *avail, void *used,
		   uint32_t size, uint16_t last_avail, uint16_t used_idx);

/* True when the ring's three tables lie inside guest memory. */
bool vdp_vring_in_map(const struct vdp_vring *vr, const struct vdp_memmap *mm);

/* Count an error and tell the owner. */
static inline void
vdp_vring_err(struct vdp_vring *vr, enum vdp_err e, uint32_t a, uint32_t b)
{
	VDP_CNT_INC(vr->err[e]);
	if (vr->on_err != NULL)
		vr->on_err(vr->err_ctx, e, a, b);
}

/* Mark the ring broken (the queue stops), counting err. */
void vdp_vring_break(struct vdp_vring *vr, enum vdp_err e, uint32_t a, uint32_t b);

/*
 * Number of chains the guest made available and we did not consume yet.
 * Reads avail->idx once (acquire). An idx that moved by more than the ring
 * size breaks the ring (returns 0).
 */
uint16_t vdp_split_avail_count(struct vdp_vring *vr);

/* ---- descriptor chains ---- */
#define VDP_CHAIN_MAX_SEGS 128

struct vdp_seg {
	uint8_t *hva;
	uint32_t len;
};

struct vdp_chain {
	uint16_t head;   /* head index, returned in the used ring */
	uint16_t nseg;
	uint32_t len;    /* sum of seg lengths */
	struct vdp_seg seg[VDP_CHAIN_MAX_SEGS];
};

enum vdp_dir {
	VDP_DIR_READ,    /* guest TX: device reads, descriptors without WRITE */
	VDP_DIR_WRITE,   /* guest RX: device writes, descriptors with WRITE */
};

enum vdp_fetch {
	VDP_FETCH_OK = 0,     /* *c holds a valid chain, last_avail advanced */
	VDP_FETCH_EMPTY = 1,  /* nothing available (avail_count said 0) */
	VDP_FETCH_BAD = 2,    /* chain invalid: counted, returned to the used
			       * ring with len 0, last_avail advanced */
	VDP_FETCH_BROKEN = 3, /* ring broken: queue must stop */
	VDP_FETCH_LIMIT = 4,  /* this burst's work budget is spent: nothing
			       * consumed, try again in the next burst */
};

/*
 * Take the next available chain and resolve it to host segments. The caller
 * should have checked vdp_split_avail_count() > 0 (if not, fetch reads
 * avail idx itself and may return VDP_FETCH_EMPTY). The descriptors read
 * and a refused chain are charged to the burst's budget
 * (VDP_FETCH_LIMIT once it is spent).
 * VDP_DIR_READ chains are also checked against vr->hdr_len: shorter is a
 * bad chain (VDP_ERR_SHORT_CHAIN), longer than hdr_len + VDP_TX_FRAME_MAX
 * too (VDP_ERR_TOO_BIG). An indirect table must lie in one region and be
 * 8-byte aligned (VDP_ERR_BAD_ADDR / VDP_ERR_BAD_INDIRECT).
 */
enum vdp_fetch vdp_split_fetch(struct vdp_vring *vr, const struct vdp_memmap *mm,
			       enum vdp_dir dir, struct vdp_chain *c);

/*
 * Give back the last n fetched (valid) chains, e.g. a frame that did not
 * fit. Only valid when no VDP_FETCH_BAD happened since those n fetches
 * (a bad chain advances last_avail too).
 */
static inline void
vdp_split_unfetch(struct vdp_vring *vr, uint16_t n)
{
	vr->last_avail = (uint16_t)(vr->last_avail - n);
}

/* Copy len bytes at chain offset off out to dst / in from src. Return bytes. */
uint32_t vdp_chain_read(const struct vdp_chain *c, uint32_t off, void *dst, uint32_t len);
uint32_t vdp_chain_write(const struct vdp_chain *c, uint32_t off, const void *src, uint32_t len);

/* ---- used ring ---- */
/* Write one used element at the shadow index (not yet visible to the guest). */
static inline void
vdp_split_used_put(struct vdp_vring *vr, uint16_t head, uint32_t len)
{
	struct vdp_used_elem *e = &vr->used->ring[vr->used_idx & vr->mask];

	e->id = head;
	e->len = len;
	vr->used_idx++;
}

/* Publish every used element written since the last flush (one store). */
static inline void
vdp_split_used_flush(struct vdp_vring *vr)
{
	__atomic_store_n(&vr->used->idx, vr->used_idx, __ATOMIC_RELEASE);
}

/*
 * After a flush: does the guest want an interrupt for what we published?
 * (EVENT_IDX: used_event crossed; otherwise: NO_INTERRUPT clear.)
 */
bool vdp_split_need_call(struct vdp_vring *vr);

/* We poll: ask the guest not to kick us (NO_NOTIFY, or a stale avail_event). */
void vdp_split_suppress_kicks(struct vdp_vring *vr);

/* ---- frames ---- */
struct vdp_iov {
	const void *base;
	uint32_t len;
};

#define VDP_MRG_MAX_BUFS 128

/*
 * Guest RX: write one frame (virtio-net header hdr of vr->hdr_len bytes,
 * then the payload gathered from src[0..nsrc)) into the guest's RX ring,
 * over several buffers with MRG_RXBUF (num_buffers filled in). Used
 * elements are written but not flushed. Returns 0, or the vdp_err that
 * dropped the frame (counted), or -1 when the ring broke.
 * Drops: VDP_ERR_NO_RX_BUF (ring empty or ran out), VDP_ERR_RX_TOO_SMALL
 * (non-mergeable chain too small, or more than VDP_MRG_MAX_BUFS buffers
 * needed), VDP_ERR_BURST_BUDGET (the burst's budget ran out). Buffers taken for a dropped frame stay with the guest (not
 * consumed), except those taken before a bad chain met while gathering:
 * they come back with used len 0. Bad chains met on the way (and, with
 * MRG_RXBUF, a first buffer shorter than the header: VDP_ERR_SHORT_CHAIN)
 * are counted, returned with len 0 and skipped. A frame's used elements
 * are contiguous in the used ring.
 */
int vdp_split_enqueue_frame(struct vdp_vring *vr, const struct vdp_memmap *mm,
			    const struct vdp_net_hdr *hdr,
			    const struct vdp_iov *src, uint32_t nsrc);

/* Largest TX frame (payload after the virtio-net header) we accept. */
#define VDP_TX_FRAME_MAX (64u * 1024u + 256u)

#ifdef __cplusplus
}
#endif

#endif /* VDP_RING_H */
