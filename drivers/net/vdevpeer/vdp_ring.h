/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtqueue core of net_vdevpeer: plain C over (ring view, guest
 * memory map). No EAL, no mbufs: the PMD, the unit tests (guest-side
 * drivers writing real rings in memory mapped at two addresses) and the
 * micro-benchmarks all use these functions.
 *
 * Two layers. The layouts (vdp_split.c: virtio 1.1 2.6; vdp_packed.c:
 * 2.7) each implement the same few operations on a struct vdp_vring:
 * count what is available, take a chain, mark and rewind, put a used
 * element, publish, decide on a guest interrupt, suppress kicks. The
 * virtio-net frame logic (vdp_net.c: header, mergeable RX buffers,
 * rewind, num_buffers) is written once against those operations
 * (vdp_vq_*, below), in an inline form that a caller instantiates for
 * one layout, so that the layout is chosen once per ring load.
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
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "net_vdevpeer assumes a little-endian host (virtio 1.x rings are LE)"
#endif

#define VDP_LIKELY(x) __builtin_expect(!!(x), 1)
#define VDP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VDP_ALWAYS_INLINE inline __attribute__((always_inline))

/* Largest TX frame (payload after the virtio-net header) we accept. */
#define VDP_TX_FRAME_MAX (64u * 1024u + 256u)

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

/* ---- virtio packed ring layout (virtio 1.1, 2.7) ---- */
#define VDP_PDESC_F_AVAIL (1u << 7)
#define VDP_PDESC_F_USED  (1u << 15)

struct vdp_pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;   /* NEXT, WRITE, INDIRECT as split; AVAIL, USED */
};

/* Event suppression structures (2.7.14): the driver's (written by the
 * guest, read by us) and the device's (written by us). */
struct vdp_pevent {
	uint16_t off_wrap;   /* descriptor offset, bit 15 its wrap counter */
	uint16_t flags;
};
#define VDP_PEVENT_ENABLE  0u
#define VDP_PEVENT_DISABLE 1u
#define VDP_PEVENT_DESC    2u   /* only with VIRTIO_RING_F_EVENT_IDX */

enum vdp_layout {
	VDP_LAYOUT_SPLIT,
	VDP_LAYOUT_PACKED,
};

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
 * The first region holding gpa, *off gpa's offset in it; NULL when none
 * does. One compare per region: the offset wraps to a huge value below a
 * region's start (no region's end wraps 2^64: vdevpeer_gmem.c refuses
 * one, the fuzzers' maps clamp it). All arithmetic on offsets inside a
 * region, so that no sum of guest values wraps. Inline: once per buffer
 * the walkers take.
 */
static inline const struct vdp_mem_region *
vdp_mem_region_of(const struct vdp_memmap *mm, uint64_t gpa, uint64_t *off)
{
	const uint32_t n = mm->nregions < VDP_MAX_REGIONS ? mm->nregions : VDP_MAX_REGIONS;

	for (uint32_t i = 0; i < n; i++) {
		const struct vdp_mem_region *r = &mm->r[i];
		const uint64_t o = gpa - r->gpa;

		if (o < r->size) {
			*off = o;
			return r;
		}
	}
	return NULL;
}

/*
 * Translate [gpa, gpa + *len). Returns the host address of gpa and sets
 * *len to the number of bytes contiguous from there inside one region
 * (<= the request), or NULL when gpa is in no region or gpa + len wraps.
 */
static inline void *
vdp_gpa_to_hva(const struct vdp_memmap *mm, uint64_t gpa, uint64_t *len)
{
	const struct vdp_mem_region *r;
	const uint64_t want = *len;
	uint64_t off, room;

	/* [gpa, gpa + want) must not wrap around 2^64. */
	if (want > UINT64_MAX - gpa)
		return NULL;
	r = vdp_mem_region_of(mm, gpa, &off);
	if (r == NULL)
		return NULL;
	room = r->size - off;
	*len = want < room ? want : room;
	return (void *)(uintptr_t)(r->hva + off);
}

/*
 * The host address of the whole buffer [gpa, gpa + len), len > 0, or NULL
 * when the first region holding gpa does not hold all of it (or none
 * holds gpa): what vdp_gpa_to_hva says for *len = len, in fewer steps, for
 * the one-buffer takes (once per frame and side): the buffer ends inside
 * the region, so its gpa + len does not wrap (vdp_mem_region_of).
 */
static inline void *
vdp_gpa_to_hva_whole(const struct vdp_memmap *mm, uint64_t gpa, uint32_t len)
{
	uint64_t off;
	const struct vdp_mem_region *r = vdp_mem_region_of(mm, gpa, &off);

	return r != NULL && len <= r->size - off ? (void *)(uintptr_t)(r->hva + off) : NULL;
}

/* True when host range [hva, hva + len) lies inside one region. */
bool vdp_hva_in_map(const struct vdp_memmap *mm, const void *hva, uint64_t len);

struct vdp_vring;
/* Log [hva, hva + len) as written, in guest physical terms, piece by
 * piece of the regions it lies in (nothing outside the map is logged). */
void vdp_log_hva(const struct vdp_vring *vr, const void *hva, uint64_t len);
/* Log the structures of the ring that we write (split: the used ring;
 * packed: the descriptor ring and the device event area). */
void vdp_log_ring(const struct vdp_vring *vr);

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
	_(BAD_ID, "bad_id", \
	  "a packed-ring buffer id out of range, or already held by the host") \
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
/* One used element of a group (vdp_vq_used_put_group_l). */
struct vdp_used_ent {
	uint16_t id;
	uint16_t ndesc;
	uint32_t len;
};

/*
 * A used element in one 8-byte store: the hand-over copies kept elements
 * whole into the ring state, and an 8-byte load over three stores waits
 * for all of them to leave the store buffer.
 */
#ifndef __cplusplus
_Static_assert(offsetof(struct vdp_used_ent, ndesc) == 2 &&
	       offsetof(struct vdp_used_ent, len) == 4 && sizeof(struct vdp_used_ent) == 8,
	       "struct vdp_used_ent: id, ndesc, len in one 8-byte word");
#endif
static inline void
vdp_used_ent_set(struct vdp_used_ent *e, uint16_t id, uint16_t ndesc, uint32_t len)
{
	const uint64_t w = (uint64_t)id | (uint64_t)ndesc << 16 | (uint64_t)len << 32;

	memcpy(e, &w, sizeof(w));
}

/* The packed ring slots a used element moves past: its chain's, and one
 * for an ndesc of 0 (an element always takes a slot). */
static inline uint32_t
vdp_used_slots(uint16_t ndesc)
{
	return ndesc != 0 ? ndesc : 1u;
}

/* Used elements a packed ring keeps back at most (used_batch). */
#define VDP_USED_BATCH_MAX 64u

typedef void (*vdp_err_fn)(void *ctx, enum vdp_err err, uint32_t a, uint32_t b);
/* Dirty-page logging (live migration): [gpa, gpa + len) was written. */
typedef void (*vdp_log_fn)(void *ctx, uint64_t gpa, uint64_t len);

struct vdp_vring {
	enum vdp_layout layout;
	uint16_t size;        /* split: a power of two; packed: any, <= 32768 */
	uint16_t mask;        /* split: size - 1 */

	/* split (2.6) */
	struct vdp_desc *desc;
	struct vdp_avail *avail;
	struct vdp_used *used;
	/* packed (2.7): one descriptor ring and the event structures */
	struct vdp_pdesc *pdesc;
	struct vdp_pevent *driver_event;  /* the guest's wishes: read */
	struct vdp_pevent *device_event;  /* ours: written */

	/*
	 * Positions. Split: free-running 16-bit indexes. Packed: a slot
	 * (0..size-1) and its wrap counter (avail_wrap, used_wrap).
	 */
	uint16_t last_avail;  /* next chain we will take */
	uint16_t used_idx;    /* next used element we will write (split:
			       * shadow of used->idx, published at flush) */
	bool avail_wrap;      /* packed */
	bool used_wrap;       /* packed */
	uint16_t avail_cache; /* split: last avail->idx seen */
	uint16_t signalled_used; /* used position at the previous call check */
	bool signalled_valid;
	bool signalled_wrap;  /* packed: its wrap counter */
	uint16_t used_pending; /* used elements put since the last publish */

	bool event_idx;       /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;        /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool mrg_rxbuf;       /* VIRTIO_NET_F_MRG_RXBUF negotiated */
	bool broken;          /* ring no longer trustworthy: queue stopped */
	uint16_t hdr_len;     /* virtio-net header length: 10 or 12 */
	/* guest TX: the guest negotiated no offload it could ask for in the
	 * header (no CSUM, so no HOST_TSO either): the header is not read,
	 * taken as all zero (the spec has such a driver write zeros; what
	 * else it writes asks for nothing). Its cache line, which the guest
	 * has just written, then stays with the guest. Set by the owner at
	 * ring load. */
	bool hdr_skip;

	/* work budget of the current burst (vdp_vring_burst_begin) */
	uint32_t budget_desc; /* descriptors the walkers may still read */
	uint32_t budget_bad;  /* chains they may still refuse */
	bool budget_hit;      /* this burst ran out (counted once) */
	bool miss_quiet;      /* the frame function returns VDP_ERR_NO_RX_BUF
			       * without counting it: its caller decides (the
			       * direct path may make the frame wait, else it
			       * counts it); set only around one call */
	bool grant_held;      /* vdp_vq_put_plain granted the frame it handed
			       * back to the frame function: that one does not
			       * grant it again */

	/* packed: buffer ids taken and not yet put in the used ring (a
	 * guest that reuses one while we hold it is refused) */
	uint64_t *ids_held;   /* size bits, given by the owner; NULL: split */
	/* packed, used_batch: used elements kept here until the publish (or
	 * until it is full), then handed over as one group, first flags last:
	 * the guest's cache lines of the ring move once per burst, not once
	 * per element (set by the owner after init; off: each element is
	 * the guest's at once). Bad chains a fetch gives back are kept too
	 * (ring order); a kept element's id stays held until it is handed
	 * over, and its held entry in the state (vdp_ring_state_held) is
	 * cleared only then. */
	bool used_batch;
	bool in_order;        /* VIRTIO_F_IN_ORDER negotiated (packed, used_batch:
			       * vdp_packed_used_put_kept) */
	bool last_id_ok;      /* packed: last_id is the id of the chain that
			       * ends at our take position (taken last, not
			       * unfetched nor rewound since) */
	uint16_t last_id;
	bool used_flushed;    /* kept elements handed over in this burst
			       * (before its publish): vdp_ring_state_held */
	/*
	 * Dirty logging, while the VMM migrates the guest (set by the owner
	 * at ring load; the frame variant with logging is chosen then): every
	 * guest buffer we write is logged right after the copy, before its
	 * used element is put; the used ring (split) or descriptor ring and
	 * device event area (packed) as a whole after each publish's writes.
	 * Always after the write: a mark read by the VMM before a later
	 * write of the same page would lose that write. log_mm: the map the
	 * ring's hvas are in.
	 */
	bool log;
	vdp_log_fn log_fn;
	void *log_ctx;
	const struct vdp_memmap *log_mm;
	uint16_t nshadow;
	uint32_t shadow_slots; /* the slots the kept elements skip: at most
				* size (one group never laps the ring) */
	uint32_t shadow_lens;  /* the kept elements' lengths or'ed: 0 when
				* none has one (vdp_packed_used_put_kept) */
	struct vdp_used_ent shadow[VDP_USED_BATCH_MAX];
	/* what survives the process (vdp_resume.c); NULL: nothing kept */
	struct vdp_ring_state *state;
	/* state->held[] may have a non-zero entry: set by every store of
	 * one (vdp_ring_state_held), computed by vdp_ring_state_attach (a
	 * scan of the entries), never cleared otherwise; false: the packed
	 * hand-overs skip the held entries (a ring without zero-copy never
	 * holds a chain) */
	bool state_holds;

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
	vr->grant_held = false;
	vr->used_flushed = false;
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

/* True when the ring's tables (either layout) lie inside guest memory. */
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
	uint16_t id;     /* returned in the used ring: split, the head index;
			  * packed, the buffer id */
	uint16_t ndesc;  /* packed: ring slots it took (the used element
			  * skips as many); split: 1 */
	uint16_t nseg;
	uint32_t len;    /* sum of seg lengths */
	struct vdp_seg seg[VDP_CHAIN_MAX_SEGS];
};

/*
 * A chain's id and ndesc, in one store: callers copy the two as one word,
 * and a load over two stores waits for both to leave the store buffer
 * (seen: a fifth of vdp_vq_put_plain's time on packed rings, a quarter of
 * the burst's on split ones, in bench_layout's profiles).
 */
#ifndef __cplusplus
_Static_assert(offsetof(struct vdp_chain, ndesc) == sizeof(uint16_t),
	       "struct vdp_chain: ndesc right after id");
#endif
static inline void
vdp_chain_set_id(struct vdp_chain *c, uint16_t id, uint16_t ndesc)
{
	const uint32_t w = (uint32_t)id | (uint32_t)ndesc << 16;

	memcpy(&c->id, &w, sizeof(w));
}

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

/* Ask for the line at p, to write it (x86: PREFETCHW, which -march=corei7
 * does not let the compiler emit; a hint: it never faults, and the Intel
 * CPUs of that class without the PRFCHW flag are reported to run it as a
 * no-op). */
static inline void
vdp_prefetch_w(const void *p)
{
#if defined(__x86_64__)
	__asm__ volatile("prefetchw %0" : : "m"(*(const volatile char *)p));
#else
	__builtin_prefetch(p, 1);
#endif
}

/* ---- used ring ---- */
/* Write one used element at the shadow index (not yet visible to the guest). */
static inline void
vdp_split_used_put(struct vdp_vring *vr, uint16_t head, uint32_t len)
{
	struct vdp_used_elem *e = &vr->used->ring[vr->used_idx & vr->mask];

	e->id = head;
	e->len = len;
	vr->used_idx++;
	vr->used_pending++;
}

/* Publish every used element written since the last flush (one store). */
static inline void
vdp_split_used_flush(struct vdp_vring *vr)
{
	__atomic_store_n(&vr->used->idx, vr->used_idx, __ATOMIC_RELEASE);
	vr->used_pending = 0;
}

/*
 * After a flush: does the guest want an interrupt for what we published?
 * (EVENT_IDX: used_event crossed; otherwise: NO_INTERRUPT clear.)
 */
bool vdp_split_need_call(struct vdp_vring *vr);

/* We poll: ask the guest not to kick us (NO_NOTIFY, or a stale avail_event). */
void vdp_split_suppress_kicks(struct vdp_vring *vr);
/* We are going to sleep: kick us for the next chain (NO_NOTIFY clear, or
 * avail_event = last_avail). */
void vdp_split_enable_kicks(struct vdp_vring *vr);

/* ---- packed layout (vdp_packed.c, virtio 1.1 2.7) ---- */

/*
 * Reset the device side of a packed ring: ring (size descriptors, 16-byte
 * aligned), the driver's and the device's event structures (4-byte
 * aligned), positions as handed over (slot and wrap counter each), and
 * ids_held: size bits of storage for the buffer ids we hold (the owner
 * keeps it; VDP_PACKED_IDS_WORDS(size) words). Any size in [1, 32768].
 * Returns 0 or -EINVAL. As vdp_vring_init otherwise.
 */
#define VDP_PACKED_IDS_WORDS(size) (((size) + 63u) / 64u)
int vdp_packed_init(struct vdp_vring *vr, void *ring, void *driver_event,
		    void *device_event, uint32_t size, uint16_t avail_slot,
		    bool avail_wrap, uint16_t used_slot, bool used_wrap,
		    uint64_t *ids_held);
/*
 * vdp_packed_init for the same ring loaded again (its tables may have
 * moved, e.g. a new memory table; the positions are ours): the ids held
 * (chains still out, zero-copy) stay held, so that a guest reposting one
 * is refused as before. Only when vr was this packed ring with the same
 * size and bitmap; otherwise as vdp_packed_init (bitmap cleared).
 */
int vdp_packed_init_same(struct vdp_vring *vr, void *ring, void *driver_event,
			 void *device_event, uint32_t size, uint16_t avail_slot,
			 bool avail_wrap, uint16_t used_slot, bool used_wrap,
			 uint64_t *ids_held);

/* Is a chain available at our position? (1 or 0: counting further would
 * read every descriptor twice.) */
uint16_t vdp_packed_avail_count(struct vdp_vring *vr);

/*
 * As vdp_split_fetch, for a packed ring: the chain's descriptors are the
 * next ring slots (NEXT), or one slot pointing to an indirect table. A
 * bad chain is returned as used with len 0 when its extent and its id
 * are sound (with used_batch kept like the other used elements, in ring
 * order); a chain whose end cannot be found (not all of it available,
 * longer than the ring, or longer than a whole burst's budget of
 * VDP_BURST_DESC_MAX descriptors: VDP_ERR_CHAIN_TOO_LONG) or whose id is
 * out of range or held by us breaks the ring.
 */
enum vdp_fetch vdp_packed_fetch(struct vdp_vring *vr, const struct vdp_memmap *mm,
				enum vdp_dir dir, struct vdp_chain *c);

/*
 * ---- packed: the common take, inline ----
 *
 * vdp_packed_fetch_l is vdp_packed_fetch inlined at the callers of
 * vdp_vq_fetch_l: the head slot read once, a one-slot chain taken there
 * (vdp_packed_take1); anything else goes on out of line with the values
 * read (vdp_packed_fetch_walk), a stopped ring or a spent budget too
 * (vdp_packed_fetch_stop). The call per chain was a tenth of the fetch's
 * time in bench_layout. The helpers below are vdp_packed.c's as well.
 */

/* A descriptor as read, once (packed: next holds the buffer id). */
struct vdp_desc_val {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Is slot (in the phase wrap) available to us? Flags loaded by the caller.
 * AVAIL equal to wrap and USED not: one compare of the two bits. */
static inline bool
vdp_pdesc_avail(uint16_t flags, bool wrap)
{
	return (flags & (VDP_PDESC_F_AVAIL | VDP_PDESC_F_USED)) ==
	       (wrap ? VDP_PDESC_F_AVAIL : VDP_PDESC_F_USED);
}

/* Slot s (< size) moved on by n (<= size) slots, flipping *wrap past the
 * ring's end. */
static inline uint32_t
vdp_pslot_add(uint32_t s, uint32_t n, uint32_t size, bool *wrap)
{
	s += n;
	if (s >= size) {
		s -= size;
		*wrap = !*wrap;
	}
	return s;
}

static inline bool
vdp_id_held(const struct vdp_vring *vr, uint16_t id)
{
	return (vr->ids_held[id / 64] >> (id % 64)) & 1;
}

static inline void
vdp_id_set(struct vdp_vring *vr, uint16_t id, bool held)
{
	if (held)
		vr->ids_held[id / 64] |= 1ull << (id % 64);
	else
		vr->ids_held[id / 64] &= ~(1ull << (id % 64));
}

/* The one read of a packed descriptor's addr, len and id (flags apart). */
static inline void
vdp_pdesc_load(const struct vdp_pdesc *d, struct vdp_desc_val *v)
{
	v->addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED);
	v->len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	v->next = __atomic_load_n(&d->id, __ATOMIC_RELAXED);  /* the id */
}

/* Move our position past n slots. */
static inline void
vdp_packed_skip(struct vdp_vring *vr, uint16_t n)
{
	vr->last_avail = (uint16_t)vdp_pslot_add(vr->last_avail, n, vr->size, &vr->avail_wrap);
}

/* Chain c, good, taken: its id ours, our position past it. */
static inline void
vdp_packed_taken(struct vdp_vring *vr, const struct vdp_chain *c)
{
	vdp_id_set(vr, c->id, true);
	vdp_packed_skip(vr, c->ndesc);
	vr->last_id = c->id;
	vr->last_id_ok = true;
}

/* The chain taken last (id, ndesc slots) given back: our position back
 * before it, its id no longer ours (vdp_packed_unfetch). */
static inline void
vdp_packed_untake(struct vdp_vring *vr, uint16_t id, uint16_t ndesc)
{
	int32_t s = (int32_t)vr->last_avail - ndesc;

	if (s < 0) {
		s += vr->size;
		vr->avail_wrap = !vr->avail_wrap;
	}
	vr->last_avail = (uint16_t)s;
	vr->last_id_ok = false;
	if (id < vr->size)
		vdp_id_set(vr, id, false);
}

/*
 * A chain of one buffer, taken without the walk, either layout: a direct
 * buffer (no NEXT, no INDIRECT) of the direction asked for, not empty,
 * inside one region of guest memory, a length the checks of the walk
 * accept; id is the chain's (the caller checked it). Exactly what the
 * walk returns for that descriptor (one segment, one descriptor charged);
 * anything else is left to it, with the values read (each field of the
 * descriptor read once either way). false: c untouched.
 */
static inline bool
vdp_take_one_buf(const struct vdp_vring *vr, const struct vdp_memmap *mm, enum vdp_dir dir,
		 uint16_t flags, const struct vdp_desc_val *d, uint16_t id, struct vdp_chain *c)
{
	const uint16_t want = dir == VDP_DIR_WRITE ? VDP_DESC_F_WRITE : 0;
	const uint32_t len = d->len;
	void *p;

	if (VDP_UNLIKELY((flags & (VDP_DESC_F_NEXT | VDP_DESC_F_INDIRECT | VDP_DESC_F_WRITE)) !=
			 want || len == 0))
		return false;
	if (dir == VDP_DIR_READ &&
	    VDP_UNLIKELY(len < vr->hdr_len || len > (uint64_t)vr->hdr_len + VDP_TX_FRAME_MAX))
		return false;
	p = vdp_gpa_to_hva_whole(mm, d->addr, len);
	if (VDP_UNLIKELY(p == NULL))
		return false;
	vdp_chain_set_id(c, id, 1);
	c->nseg = 1;
	c->len = len;
	c->seg[0].hva = (uint8_t *)p;
	c->seg[0].len = len;
	return true;
}

/* Packed: the common chain, one slot, taken without the walk
 * (vdp_take_one_buf), its buffer id in range and free; marked ours when
 * taken (the caller moves past its slot). */
static inline bool
vdp_packed_take1(struct vdp_vring *vr, const struct vdp_memmap *mm, enum vdp_dir dir,
		 uint16_t flags, const struct vdp_desc_val *d, struct vdp_chain *c)
{
	const uint16_t id = d->next;
	uint64_t *w, held, bit;

	if (VDP_UNLIKELY(id >= vr->size))
		return false;
	/* the id's bitmap word read once: tested, then set from the value
	 * read (nothing else writes the bitmap in between) */
	w = &vr->ids_held[id / 64u];
	held = *w;
	bit = 1ull << (id % 64u);
	if (VDP_UNLIKELY((held & bit) != 0) || !vdp_take_one_buf(vr, mm, dir, flags, d, id, c))
		return false;
	*w = held | bit;
	return true;
}

/* vdp_packed_fetch after the head was read (flags, *d) and is not a
 * one-slot chain take1 takes; and its stop (broken, budget spent) */
enum vdp_fetch vdp_packed_fetch_walk(struct vdp_vring *vr, const struct vdp_memmap *mm,
				     enum vdp_dir dir, uint16_t flags,
				     const struct vdp_desc_val *d, struct vdp_chain *c);
enum vdp_fetch vdp_packed_fetch_stop(struct vdp_vring *vr);

static VDP_ALWAYS_INLINE enum vdp_fetch
vdp_packed_fetch_l(struct vdp_vring *vr, const struct vdp_memmap *mm,
		   enum vdp_dir dir, struct vdp_chain *c)
{
	const struct vdp_pdesc *p;
	struct vdp_desc_val d;
	uint16_t flags;

	if (VDP_UNLIKELY(vr->broken || vr->budget_desc == 0 || vr->budget_bad == 0))
		return vdp_packed_fetch_stop(vr);
	/* The head's flags, once (acquire: the chain's other slots and the
	 * head's other fields are the guest's finished writes), then the
	 * rest of the head, once. */
	p = &vr->pdesc[vr->last_avail];
	flags = __atomic_load_n(&p->flags, __ATOMIC_ACQUIRE);
	if (!vdp_pdesc_avail(flags, vr->avail_wrap))
		return VDP_FETCH_EMPTY;
	vdp_pdesc_load(p, &d);
	if (VDP_LIKELY(vdp_packed_take1(vr, mm, dir, flags, &d, c))) {
		/* take1 marked the id (vdp_packed_taken's other half, from
		 * the values in hand: one slot, id d.next) */
		vr->budget_desc--;
		vdp_packed_skip(vr, 1);
		vr->last_id = d.next;
		vr->last_id_ok = true;
		return VDP_FETCH_OK;
	}
	return vdp_packed_fetch_walk(vr, mm, dir, flags, &d, c);
}

/*
 * Packed: up to VDP_TAKE_N one-slot chains taken at once, the common case
 * of a busy ring (net_vhost takes packed descriptors four at a time as
 * well): the stop and budget checks, the wrap, our position and last_id
 * once for all of them, their flags loaded together (one line of the
 * ring when it is aligned). Only when all n slots lie before the ring's
 * end, are available in our phase and are one-slot buffers of the
 * direction asked for; each is then taken exactly as vdp_packed_take1
 * takes it (id in range and not held, buffer in one region, lengths), in
 * ring order, up to the first it would not take: that one and those
 * after it stay for vdp_vq_fetch_l, which reads them again and says what
 * they are. Returns the chains taken into t[0..) (ndesc 1, hva and len
 * the buffer's); 0 when the batch does not apply (nothing changed then;
 * the first slot read whole when only it was refused).
 */
#define VDP_TAKE_N 4u

/* A one-slot chain: its buffer, its id (ndesc 1 here; the peer path's
 * first pass keeps its plain chains in the same form). */
struct vdp_take {
	uint8_t *hva;
	uint32_t len;
	uint16_t id, ndesc;
};

static VDP_ALWAYS_INLINE uint32_t
vdp_packed_take_n(struct vdp_vring *vr, const struct vdp_memmap *mm, enum vdp_dir dir,
		  struct vdp_take *t)
{
	const uint16_t mask = VDP_PDESC_F_AVAIL | VDP_PDESC_F_USED | VDP_DESC_F_NEXT |
			      VDP_DESC_F_INDIRECT | VDP_DESC_F_WRITE;
	const uint16_t want = (vr->avail_wrap ? VDP_PDESC_F_AVAIL : VDP_PDESC_F_USED) |
			      (dir == VDP_DIR_WRITE ? VDP_DESC_F_WRITE : 0);
	const struct vdp_pdesc *p;
	uint16_t flags[VDP_TAKE_N];
	uint16_t odd = 0;
	uint32_t k;

	if (VDP_UNLIKELY(vr->broken || vr->budget_desc < VDP_TAKE_N || vr->budget_bad == 0) ||
	    (uint32_t)vr->last_avail + VDP_TAKE_N > vr->size)
		return 0;
	p = &vr->pdesc[vr->last_avail];
	for (k = 0; k < VDP_TAKE_N; k++) {
		flags[k] = __atomic_load_n(&p[k].flags, __ATOMIC_RELAXED);
		odd |= (uint16_t)((flags[k] & mask) ^ want);
	}
	if (odd != 0)
		return 0;
	/* as the acquire of each flags load: the slots' other fields are
	 * the guest's finished writes */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	for (k = 0; k < VDP_TAKE_N; k++) {
		struct vdp_desc_val d;
		struct vdp_chain c;

		vdp_pdesc_load(&p[k], &d);
		/* its flags are those of the test above: passed as the
		 * constant they equal there, so that take1 does not test
		 * them again */
		if (VDP_UNLIKELY(!vdp_packed_take1(vr, mm, dir,
						   dir == VDP_DIR_WRITE ? VDP_DESC_F_WRITE : 0,
						   &d, &c)))
			break;
		t[k].hva = c.seg[0].hva;
		t[k].len = c.seg[0].len;
		t[k].id = d.next;
		t[k].ndesc = 1;
	}
	if (VDP_LIKELY(k != 0)) {
		vr->budget_desc -= k;
		vdp_packed_skip(vr, (uint16_t)k);
		vr->last_id = t[k - 1].id;
		vr->last_id_ok = true;
	}
	return k;
}

/*
 * After vdp_packed_take_n took got chains into t[0..got): t[0..keep)
 * stay taken, the others are given back, last first, as if they had
 * never been read (their descriptors' budget back): the ring as after
 * keep single takes (last_id t[keep - 1]'s).
 */
static inline void
vdp_packed_take_n_keep(struct vdp_vring *vr, const struct vdp_take *t, uint32_t got,
		       uint32_t keep)
{
	for (uint32_t u = got; u-- > keep;)
		vdp_packed_untake(vr, t[u].id, t[u].ndesc);
	vr->budget_desc += got - keep;
	if (keep != 0) {
		vr->last_id = t[keep - 1].id;
		vr->last_id_ok = true;
	}
}

/*
 * ---- split: the common take, inline ----
 *
 * vdp_split_fetch_l is vdp_split_fetch inlined at the callers of
 * vdp_vq_fetch_l: the head read once from the avail ring, its descriptor
 * read once, a chain of one buffer taken there (vdp_take_one_buf);
 * anything else goes on out of line with the values read
 * (vdp_split_fetch_head); a stopped ring, a spent budget or an avail
 * index to read again go to vdp_split_fetch before anything is read.
 */

/* The one read of a split descriptor: each field once, into a local. */
static inline void
vdp_desc_load(const struct vdp_desc *d, struct vdp_desc_val *v)
{
	v->addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED);
	v->len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	v->flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
	v->next = __atomic_load_n(&d->next, __ATOMIC_RELAXED);
}

/* vdp_split_fetch after the head was read from the avail ring (head, and
 * d: its descriptor as read, when head is in range; else NULL) */
enum vdp_fetch vdp_split_fetch_head(struct vdp_vring *vr, const struct vdp_memmap *mm,
				    enum vdp_dir dir, uint16_t head,
				    const struct vdp_desc_val *d, struct vdp_chain *c);

/* The take itself: ring usable, budget left, last_avail below avail_cache
 * (published: vdp_split_avail_count's acquire). */
static VDP_ALWAYS_INLINE enum vdp_fetch
vdp_split_take_l(struct vdp_vring *vr, const struct vdp_memmap *mm,
		 enum vdp_dir dir, struct vdp_chain *c)
{
	struct vdp_desc_val d;
	uint16_t head;

	head = __atomic_load_n(&vr->avail->ring[vr->last_avail & vr->mask], __ATOMIC_RELAXED);
	if (VDP_UNLIKELY(head >= vr->size))
		return vdp_split_fetch_head(vr, mm, dir, head, NULL, c);
	vdp_desc_load(&vr->desc[head], &d);
	if (VDP_LIKELY(vdp_take_one_buf(vr, mm, dir, d.flags, &d, head, c))) {
		vr->budget_desc--;
		vr->last_avail++;
		return VDP_FETCH_OK;
	}
	return vdp_split_fetch_head(vr, mm, dir, head, &d, c);
}

static VDP_ALWAYS_INLINE enum vdp_fetch
vdp_split_fetch_l(struct vdp_vring *vr, const struct vdp_memmap *mm,
		  enum vdp_dir dir, struct vdp_chain *c)
{
	if (VDP_UNLIKELY(vr->broken || vr->budget_desc == 0 || vr->budget_bad == 0 ||
			 vr->last_avail == vr->avail_cache))
		return vdp_split_fetch(vr, mm, dir, c);
	return vdp_split_take_l(vr, mm, dir, c);
}

/* Give back the chain taken last (not yet used): position and id. */
void vdp_packed_unfetch(struct vdp_vring *vr, const struct vdp_chain *c);

/* Write one used element (id, len) for a chain of ndesc slots: visible
 * to the guest at once (its flags stored last, release; WRITE among them
 * when len != 0, virtio 1.1 2.7.4); the id is no longer held. Whatever
 * used_batch says (vdp_vq_used_put_l keeps elements back). */
void vdp_packed_used_put(struct vdp_vring *vr, uint16_t id, uint16_t ndesc,
			 uint32_t len);

/*
 * The used elements of one multi-buffer request (a mergeable frame's
 * buffers), in ring order: the first one's flags are stored last, so
 * the guest, which looks at the first, never sees a part of the group
 * (virtio 1.1 2.7.9).
 */
void vdp_packed_used_put_group(struct vdp_vring *vr, const struct vdp_used_ent *e,
			       uint32_t n);

/*
 * The elements used_batch kept back, handed over as one group. On an
 * IN_ORDER ring (in_order), when the kept elements are those of every
 * chain taken since the used position (their slots add up to the
 * distance to the take position: none held between them), all have len 0
 * (a guest TX ring's chains: the device wrote nothing) and none is held
 * in the state (zero-copy), they go as one element: the id of the chain
 * taken last (last_id), skipping the slots of them all (virtio 1.1
 * 2.7.18: the driver reads it and has every chain up to it back). One
 * cache line of the ring written per burst instead of one per four
 * chains, as the guest reads it.
 */
void vdp_packed_used_put_kept(struct vdp_vring *vr);
/* (the kept elements: shadow[0..nshadow), their slots shadow_slots, their
 * lengths or'ed shadow_lens; the caller empties the shadow after) */

/* After used elements: does the guest want an interrupt? */
bool vdp_packed_need_call(struct vdp_vring *vr);

/* We poll: device event flags DISABLE. */
void vdp_packed_suppress_kicks(struct vdp_vring *vr);
/*
 * We are going to sleep: kick us for the next chain. With EVENT_IDX:
 * DESC at the next slot we take; without: ENABLE, with VDP_PEVENT_OURS in
 * off_wrap (which the driver ignores then). The device event area is
 * never all zero once we wrote it - what a ring set up afresh has
 * (vdp_resume.c's witness). One 32-bit store.
 */
void vdp_packed_enable_kicks(struct vdp_vring *vr);
#define VDP_PEVENT_OURS 0xffffu

/* ---- the layout-agnostic operations ----
 *
 * Each tests vr->layout; called with a layout known at compile time
 * (the _l forms, from an always-inline caller instantiated per layout)
 * the test is folded away. The PMD picks its burst functions per ring
 * load, so the layout is never tested per frame there.
 */
static VDP_ALWAYS_INLINE uint16_t
vdp_vq_avail_l(struct vdp_vring *vr, enum vdp_layout l)
{
	return l == VDP_LAYOUT_PACKED ? vdp_packed_avail_count(vr) :
					vdp_split_avail_count(vr);
}

static VDP_ALWAYS_INLINE enum vdp_fetch
vdp_vq_fetch_l(struct vdp_vring *vr, const struct vdp_memmap *mm,
	       enum vdp_dir dir, struct vdp_chain *c, enum vdp_layout l)
{
	return l == VDP_LAYOUT_PACKED ? vdp_packed_fetch_l(vr, mm, dir, c) :
					vdp_split_fetch_l(vr, mm, dir, c);
}

/* Give back the chain taken last (e.g. no mbuf for it). */
static VDP_ALWAYS_INLINE void
vdp_vq_unfetch_l(struct vdp_vring *vr, const struct vdp_chain *c, enum vdp_layout l)
{
	if (l == VDP_LAYOUT_PACKED)
		vdp_packed_unfetch(vr, c);
	else
		vdp_split_unfetch(vr, 1);
}

/*
 * Does vr show no chain at our position? One load, inline, no side
 * effect: a ring that shows one is looked at by the take itself (the
 * split avail index's checks are vdp_split_avail_count's, then). A broken
 * ring shows none.
 */
static VDP_ALWAYS_INLINE bool
vdp_vq_empty(const struct vdp_vring *vr)
{
	if (VDP_UNLIKELY(vr->broken))
		return true;
	if (vr->layout == VDP_LAYOUT_PACKED)
		return !vdp_pdesc_avail(__atomic_load_n(&vr->pdesc[vr->last_avail].flags,
							 __ATOMIC_ACQUIRE), vr->avail_wrap);
	return __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE) == vr->last_avail;
}

/*
 * The chains t[keep..k), the last k - keep taken (in ring order), given
 * back, last first: the ring as after the first keep (a packed ring's
 * last_id t[keep - 1]'s, so that an IN_ORDER burst can still hand its
 * used elements over as one).
 */
static VDP_ALWAYS_INLINE void
vdp_vq_untake_tail_l(struct vdp_vring *vr, const struct vdp_take *t, uint32_t k,
		     uint32_t keep, enum vdp_layout l)
{
	if (keep >= k)
		return;
	if (l == VDP_LAYOUT_PACKED) {
		vdp_packed_take_n_keep(vr, t, k, keep);
		return;
	}
	vdp_split_unfetch(vr, (uint16_t)(k - keep));
	vr->budget_desc += k - keep;
}

/* Where the next take is: to rewind to (vdp_vq_rewind_l). */
struct vdp_vq_mark {
	uint16_t avail;
	bool wrap;
};

static VDP_ALWAYS_INLINE struct vdp_vq_mark
vdp_vq_mark(const struct vdp_vring *vr)
{
	struct vdp_vq_mark m = { vr->last_avail, vr->avail_wrap };

	return m;
}

/*
 * Back to mark m: the chains taken since stay with the guest. Their ids
 * (packed) must be released first (vdp_vq_release_l), and none of them
 * may have been put in the used ring.
 */
static VDP_ALWAYS_INLINE void
vdp_vq_rewind_l(struct vdp_vring *vr, struct vdp_vq_mark m, enum vdp_layout l)
{
	vr->last_avail = m.avail;
	if (l == VDP_LAYOUT_PACKED) {
		vr->avail_wrap = m.wrap;
		vr->last_id_ok = false;
	}
}

/* Packed: the id of a chain given back by a rewind is no longer ours. */
static VDP_ALWAYS_INLINE void
vdp_vq_release_l(struct vdp_vring *vr, uint16_t id, enum vdp_layout l)
{
	if (l == VDP_LAYOUT_PACKED && id < vr->size)
		vr->ids_held[id / 64] &= ~(1ull << (id % 64));
}

/*
 * Packed, used_batch: hand the kept elements over (one group). They were
 * counted in used_pending when kept: not again (put_group counts what it
 * writes).
 */
static inline void
vdp_packed_used_flush(struct vdp_vring *vr)
{
	const uint16_t n = vr->nshadow;

	if (n != 0) {
		vdp_packed_used_put_kept(vr);
		vr->nshadow = 0;
		vr->shadow_slots = 0;
		vr->shadow_lens = 0;
		vr->used_pending = (uint16_t)(vr->used_pending - n);
		vr->used_flushed = true;
	}
}

/*
 * Packed, used_batch: the slot d a kept element will be written into, when
 * it starts a descriptor line, asked for now for writing (why, and which
 * elements: vdp_packed_used_keep).
 */
static inline void
vdp_packed_used_line_ask(const struct vdp_pdesc *d)
{
	if (((uintptr_t)d & 63u) < sizeof(struct vdp_pdesc))
		vdp_prefetch_w(d);
}

/*
 * Packed, used_batch: keep one element back, handing the kept ones over
 * first when there are VDP_USED_BATCH_MAX already, or when with it they
 * would skip more slots than the ring has (a hostile guest can make us
 * take more than a ring's worth of chains before we give any back: one
 * group's elements must not land on each other's slots). Its id stays
 * held (ids_held) until it is handed over: a guest cannot have it back
 * yet.
 */
static inline void
vdp_packed_used_keep(struct vdp_vring *vr, uint16_t id, uint16_t ndesc, uint32_t len)
{
	const uint32_t slots = vdp_used_slots(ndesc);
	struct vdp_used_ent *e;

	if (vr->nshadow == VDP_USED_BATCH_MAX || vr->shadow_slots + slots > vr->size)
		vdp_packed_used_flush(vr);
	if (len != 0 && vr->shadow_slots != 0) {
		/* The slot this element will be written into, when it starts
		 * a line: asked for, for writing, now, so that the flush's
		 * stores do not each wait for a line from the guest. A
		 * driver does not write slots we took and have not used (it
		 * may still be filling later slots of the line; a hostile one
		 * that writes ours only moves lines: a hint, nothing read or
		 * trusted). Not the first kept one's slot: the guest polls
		 * its line (a group of nearly a whole small ring can come
		 * back round to that line's start: asked for early, no more).
		 * Receivers only (len != 0): an in-order sender's kept
		 * elements end as one store (put_kept). */
		uint32_t at = (uint32_t)vr->used_idx + vr->shadow_slots;

		if (at >= vr->size)
			at -= vr->size;
		vdp_packed_used_line_ask(&vr->pdesc[at]);
	}
	e = &vr->shadow[vr->nshadow++];
	vdp_used_ent_set(e, id, ndesc, len);
	vr->shadow_slots += slots;
	vr->shadow_lens |= len;   /* a constant 0 for a sender: folded away */
	vr->used_pending++;
}

/*
 * vdp_packed_used_keep for the k chains of t[0..k), in order, used
 * length t[j].len (lens) or 0 (!lens: a sender's). Room is checked once
 * for the k: the kept ones are handed over first when the k would not
 * fit beside them (a group boundary one keep at a time would draw later;
 * either is a whole group). The k are then written in locals: each keep
 * on its own stores the shadow's count, slots and lengths back per
 * element (the entries are stored through a pointer that may alias
 * them). None of the k is handed over here: a caller may keep them
 * before their buffers are written. false, nothing kept: the k could
 * not form one group even alone (more than VDP_USED_BATCH_MAX, or more
 * slots than the ring has). ones: the caller knows every t[j].ndesc is 1
 * (vdp_packed_take_n's chains are; the callers test a single take's,
 * which a packed walk gives one slot whenever it gives one segment), and
 * the slots are not counted chain by chain.
 */
static VDP_ALWAYS_INLINE bool
vdp_packed_used_keep_n(struct vdp_vring *vr, const struct vdp_take *t, uint32_t k, bool lens,
		       bool ones)
{
	const uint32_t size = vr->size;
	struct vdp_pdesc *const ring = vr->pdesc;
	struct vdp_used_ent *e;
	uint32_t slots = 0, s, at, lor = 0;

	if (ones)
		slots = k;
	else
		for (uint32_t j = 0; j < k; j++)
			slots += vdp_used_slots(t[j].ndesc);
	if (VDP_UNLIKELY(k > VDP_USED_BATCH_MAX || slots > size))
		return false;
	if (vr->nshadow + k > VDP_USED_BATCH_MAX || vr->shadow_slots + slots > size)
		vdp_packed_used_flush(vr);
	e = &vr->shadow[vr->nshadow];
	s = vr->shadow_slots;
	at = (uint32_t)vr->used_idx + s;
	if (at >= size)
		at -= size;
	for (uint32_t j = 0; j < k; j++) {
		const uint32_t sl = ones ? 1u : vdp_used_slots(t[j].ndesc);

		if (lens) {
			if (s != 0)   /* not the first kept: vdp_packed_used_keep */
				vdp_packed_used_line_ask(&ring[at]);
			at += sl;
			if (at >= size)
				at -= size;
			lor |= t[j].len;
		}
		vdp_used_ent_set(&e[j], t[j].id, ones ? 1 : t[j].ndesc, lens ? t[j].len : 0);
		s += sl;
	}
	vr->nshadow = (uint16_t)(vr->nshadow + k);
	vr->shadow_slots = s;
	vr->shadow_lens |= lor;
	vr->used_pending = (uint16_t)(vr->used_pending + k);
	return true;
}

/* One used element, not necessarily visible until vdp_vq_publish_l. */
static VDP_ALWAYS_INLINE void
vdp_vq_used_put_l(struct vdp_vring *vr, uint16_t id, uint16_t ndesc, uint32_t len,
		  enum vdp_layout l)
{
	if (l == VDP_LAYOUT_PACKED) {
		if (vr->used_batch)
			vdp_packed_used_keep(vr, id, ndesc, len);
		else
			vdp_packed_used_put(vr, id, ndesc, len);
	} else {
		vdp_split_used_put(vr, id, len);
	}
}

/* vdp_packed_used_keep_n, compiled for ones known and not. */
static VDP_ALWAYS_INLINE bool
vdp_packed_used_keep_n_o(struct vdp_vring *vr, const struct vdp_take *t, uint32_t k, bool lens,
			 bool ones)
{
	return ones ? vdp_packed_used_keep_n(vr, t, k, lens, true) :
		      vdp_packed_used_keep_n(vr, t, k, lens, false);
}

/*
 * vdp_vq_used_put_l for the k chains of t[0..k), in order, used length
 * t[j].len (lens) or 0; ones: each of them one slot (keep_n).
 */
static VDP_ALWAYS_INLINE void
vdp_vq_used_put_n_l(struct vdp_vring *vr, const struct vdp_take *t, uint32_t k, bool lens,
		    bool ones, enum vdp_layout l)
{
	if (l == VDP_LAYOUT_PACKED && vr->used_batch && vdp_packed_used_keep_n_o(vr, t, k, lens, ones))
		return;
	for (uint32_t j = 0; j < k; j++)
		vdp_vq_used_put_l(vr, t[j].id, t[j].ndesc, lens ? t[j].len : 0, l);
}

/*
 * The used elements of one request, in order, made visible together
 * (packed: the first one's flags last; split: nothing is visible before
 * the publish anyway).
 */
static VDP_ALWAYS_INLINE void
vdp_vq_used_put_group_l(struct vdp_vring *vr, const struct vdp_used_ent *e, uint32_t n,
			enum vdp_layout l)
{
	if (l == VDP_LAYOUT_PACKED) {
		uint32_t slots = 0;

		for (uint32_t i = 0; vr->used_batch && i < n && slots <= vr->size; i++)
			slots += vdp_used_slots(e[i].ndesc);
		if (!vr->used_batch || n > VDP_USED_BATCH_MAX || slots > vr->size) {
			vdp_packed_used_flush(vr);   /* ring order kept */
			vdp_packed_used_put_group(vr, e, n);
			if (vr->used_batch)
				vr->used_flushed = true;
			return;
		}
		/* kept whole: the batch is one group, first flags last */
		if (vr->nshadow + n > VDP_USED_BATCH_MAX || vr->shadow_slots + slots > vr->size)
			vdp_packed_used_flush(vr);
		for (uint32_t i = 0; i < n; i++)
			vdp_packed_used_keep(vr, e[i].id, e[i].ndesc, e[i].len);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		vdp_split_used_put(vr, e[i].id, e[i].len);
}

/*
 * Make every used element put since the last flush visible. false when
 * there was nothing to flush; true: vdp_vq_need_call_l says, now or
 * later (before the next flush), whether the guest asked to be
 * interrupted for them.
 */
static VDP_ALWAYS_INLINE bool
vdp_vq_flush_l(struct vdp_vring *vr, enum vdp_layout l)
{
	if (vr->used_pending == 0)
		return false;
	/* logged after the writes: a log read between a mark and a later
	 * write of the same page would lose that write */
	if (l == VDP_LAYOUT_PACKED) {
		vdp_packed_used_flush(vr);
		if (__builtin_expect(vr->log, 0))
			vdp_log_ring(vr);
		vr->used_pending = 0;
		return true;
	}
	vdp_split_used_flush(vr);
	if (__builtin_expect(vr->log, 0))
		vdp_log_ring(vr);
	return true;
}

/* Did the guest ask for a call for what was flushed since the last check?
 * (A full fence first: our flushed stores before its event's load.) */
static VDP_ALWAYS_INLINE bool
vdp_vq_need_call_l(struct vdp_vring *vr, enum vdp_layout l)
{
	return l == VDP_LAYOUT_PACKED ? vdp_packed_need_call(vr) : vdp_split_need_call(vr);
}

/*
 * Make every used element put since the last publish visible, and say
 * whether the guest asked to be interrupted for them. false when there
 * was nothing to publish.
 */
static VDP_ALWAYS_INLINE bool
vdp_vq_publish_l(struct vdp_vring *vr, enum vdp_layout l)
{
	return vdp_vq_flush_l(vr, l) && vdp_vq_need_call_l(vr, l);
}

/* The same, testing the layout at run time (control path, tests). */
static inline uint16_t
vdp_vq_avail(struct vdp_vring *vr)
{
	return vdp_vq_avail_l(vr, vr->layout);
}

static inline enum vdp_fetch
vdp_vq_fetch(struct vdp_vring *vr, const struct vdp_memmap *mm, enum vdp_dir dir,
	     struct vdp_chain *c)
{
	return vdp_vq_fetch_l(vr, mm, dir, c, vr->layout);
}

static inline void
vdp_vq_unfetch(struct vdp_vring *vr, const struct vdp_chain *c)
{
	vdp_vq_unfetch_l(vr, c, vr->layout);
}

static inline void
vdp_vq_used_put(struct vdp_vring *vr, uint16_t id, uint16_t ndesc, uint32_t len)
{
	vdp_vq_used_put_l(vr, id, ndesc, len, vr->layout);
}

static inline bool
vdp_vq_publish(struct vdp_vring *vr)
{
	return vdp_vq_publish_l(vr, vr->layout);
}

void vdp_vq_suppress_kicks(struct vdp_vring *vr);

/*
 * Kicks around a sleep (rx interrupt mode). enable: ask for a kick for the
 * next chain, then (full fence: the guest publishes its avail position
 * before it reads ours) look again: true when chains are available
 * already - do not sleep, poll (the kick may never come). disable: back
 * to polling, kicks off. Both log what they write when logging is on.
 */
bool vdp_vq_enable_kicks(struct vdp_vring *vr);
void vdp_vq_disable_kicks(struct vdp_vring *vr);

/*
 * Our positions as vhost-user carries them (GET/SET_VRING_BASE,
 * librte_vhost's vring base): split, the 16-bit indexes; packed, the slot
 * with its wrap counter in bit 15.
 */
#define VDP_PACKED_WRAP_BIT 15
static inline uint16_t
vdp_vq_avail_base(const struct vdp_vring *vr)
{
	return vr->layout == VDP_LAYOUT_PACKED ?
	       (uint16_t)(vr->last_avail | (uint16_t)vr->avail_wrap << VDP_PACKED_WRAP_BIT) :
	       vr->last_avail;
}

static inline uint16_t
vdp_vq_used_base(const struct vdp_vring *vr)
{
	return vr->layout == VDP_LAYOUT_PACKED ?
	       (uint16_t)(vr->used_idx | (uint16_t)vr->used_wrap << VDP_PACKED_WRAP_BIT) :
	       vr->used_idx;
}

/* ---- state that survives the process (vdp_resume.c) ----
 *
 * A crashed backend cannot answer GET_VRING_BASE, and the VMM's fallback
 * is wrong for packed rings (it has no position to fall back on) and
 * re-sends frames still held for split ones. So each ring keeps, in a
 * file mapping shared with nobody but the next incarnation of this
 * process, what it needs to resume exactly:
 *  - avail: our take position after the last burst that handed frames on
 *    (stored at the end of the burst, before the frames leave the driver);
 *  - used (packed): the used element about to be written (position, its
 *    chain's slots and id), stored before the element is: after a crash
 *    the ring shows whether it was written;
 *  - held: the chains still out (zero-copy), by id, with their slots
 *    (packed: cleared by the core when the chain's used element is
 *    handed over);
 *  - group (packed): the elements of the hand-over under way, so that a
 *    crash in the middle of one can be finished or told apart.
 * Stores are plain (relaxed) stores to shared memory: a killed process's
 * stores are in the page already, no flush is needed.
 */
/* Elements of one hand-over the state describes at most: a mergeable
 * frame's buffers (VDP_MRG_MAX_BUFS), or the kept ones (used_batch). */
#define VDP_STATE_GROUP_MAX 128u

struct vdp_ring_state {
	uint32_t layout;      /* enum vdp_layout */
	uint32_t size;
	uint64_t desc_gpa;    /* the ring's tables: which ring this is */
	uint64_t driver_gpa;  /* split: avail ring; packed: driver event */
	uint64_t device_gpa;  /* split: used ring; packed: device event */
	uint32_t avail;       /* vdp_vq_avail_base after the last burst */
	uint32_t avail_valid;
	uint64_t used;        /* packed: VDP_STATE_USED(base, ndesc, id) */
	uint16_t held[VDP_RING_SIZE_MAX]; /* slots of each held id, 0: none */
	/*
	 * Packed: the elements of the hand-over the record (used) speaks of,
	 * while it is under way: stored before the record, group set to the
	 * record's value, back to 0 once the elements are the guest's and
	 * their held entries cleared. A crash in between leaves both equal:
	 * the resume knows every element (vdp_resume.c).
	 */
	uint64_t group;
	uint32_t ngroup;
	uint32_t group_pad;
	struct vdp_used_ent group_ent[VDP_STATE_GROUP_MAX];
};

#define VDP_STATE_USED(base, ndesc, id) \
	((uint64_t)(base) | (uint64_t)(ndesc) << 16 | (uint64_t)(id) << 32 | 1ull << 63)

/* What vdp_vq_resume did. */
struct vdp_resume {
	bool resumed;          /* positions taken from the state */
	uint16_t avail, used;  /* the positions now (vhost-user form) */
	uint32_t completed;    /* held chains given back empty */
	const char *why;       /* why the state was not used, or NULL */
};

/*
 * After a ring was initialised with the VMM's positions: resume it from
 * st (same ring: the caller compared layout, size and table addresses),
 * dev_reads for a ring the device reads (guest TX), before anything else
 * writes into the ring (kick suppression included). Reads the ring once
 * where it must (packed: whether the last used element or group was
 * written, whether the guest set the ring up afresh; split: the used
 * index the guest saw), takes the positions from st, finishes a burst
 * the crash cut when the guest already saw part of it, and gives held
 * chains back empty (at most once). Refuses a state that does not fit
 * the ring (out of range, more in flight than the ring holds): then
 * nothing changes. vdp_resume.c's header says where each position comes
 * from and what a crash may lose.
 */
void vdp_vq_resume(struct vdp_vring *vr, const struct vdp_ring_state *st,
		   bool dev_reads, struct vdp_resume *out);

/* Record the ring's identity and current positions in st (ring load). */
void vdp_ring_state_reset(struct vdp_ring_state *st, const struct vdp_vring *vr,
			  uint64_t desc_gpa, uint64_t driver_gpa, uint64_t device_gpa);

/* The end of a burst that handed frames on: our take position. */
static inline void
vdp_ring_state_avail(struct vdp_vring *vr)
{
	if (vr->state != NULL)
		__atomic_store_n(&vr->state->avail, vdp_vq_avail_base(vr), __ATOMIC_RELAXED);
}

/*
 * A chain held (ndesc slots) or given back (0). Packed, used_batch: a
 * chain held after kept elements were handed over in this burst first
 * hands over those kept since, so that the chains taken before a held
 * one are the guest's or held, as without used_batch: a crash after the
 * guest saw part of a burst resumes from where the process had taken up
 * to, the used position plus what is held (vdp_resume.c), which a chain
 * kept before a held one would make wrong.
 */
static inline void
vdp_ring_state_held(struct vdp_vring *vr, uint16_t id, uint16_t ndesc)
{
	if (vr->state == NULL || id >= vr->size)
		return;
	if (ndesc != 0 && vr->used_flushed && vr->nshadow != 0 &&
	    vr->layout == VDP_LAYOUT_PACKED)
		vdp_packed_used_flush(vr);
	if (ndesc != 0)
		vr->state_holds = true;
	__atomic_store_n(&vr->state->held[id], ndesc, __ATOMIC_RELAXED);
}

/*
 * Attach st (reset or resumed for this ring) to vr: from now on the ring
 * keeps it up to date. Reads st's held entries once (at most 32768: a
 * ring load, not a burst) to know whether any is set.
 */
void vdp_ring_state_attach(struct vdp_vring *vr, struct vdp_ring_state *st);

/* ---- frames ---- */
struct vdp_iov {
	const void *base;
	uint32_t len;
};

/*
 * The bytes of chain c from offset off on, as pieces of host memory in
 * iov[] (room for VDP_CHAIN_MAX_SEGS): the direct guest-to-guest path
 * hands a sender's frame to the receiver's ring this way, one copy.
 * Returns the number of pieces.
 */
static inline uint32_t
vdp_chain_iov(const struct vdp_chain *c, uint32_t off, struct vdp_iov *iov)
{
	uint32_t n = 0;

	for (uint32_t s = 0; s < c->nseg; s++) {
		const uint32_t sl = c->seg[s].len;

		if (off >= sl) {
			off -= sl;
			continue;
		}
		iov[n].base = c->seg[s].hva + off;
		iov[n].len = sl - off;
		n++;
		off = 0;
	}
	return n;
}

#define VDP_MRG_MAX_BUFS 128
#if VDP_STATE_GROUP_MAX < VDP_MRG_MAX_BUFS || VDP_STATE_GROUP_MAX < VDP_USED_BATCH_MAX
#error "the ring state must hold a whole hand-over (VDP_STATE_GROUP_MAX)"
#endif

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
int vdp_vq_enqueue_frame(struct vdp_vring *vr, const struct vdp_memmap *mm,
			 const struct vdp_net_hdr *hdr,
			 const struct vdp_iov *src, uint32_t nsrc);
/* The same for one layout (the PMD's per-layout burst functions). */
int vdp_split_enqueue_frame(struct vdp_vring *vr, const struct vdp_memmap *mm,
			    const struct vdp_net_hdr *hdr,
			    const struct vdp_iov *src, uint32_t nsrc);
int vdp_packed_enqueue_frame(struct vdp_vring *vr, const struct vdp_memmap *mm,
			     const struct vdp_net_hdr *hdr,
			     const struct vdp_iov *src, uint32_t nsrc);
/*
 * The frame function for vr as it is now (its layout, and whether
 * mergeable buffers were negotiated), with neither tested per frame: a
 * ring's owner picks it once, when it loads the ring.
 */
typedef int (*vdp_frame_fn)(struct vdp_vring *vr, const struct vdp_memmap *mm,
			    const struct vdp_net_hdr *hdr, const struct vdp_iov *src,
			    uint32_t nsrc);
vdp_frame_fn vdp_vq_frame_fn(const struct vdp_vring *vr);

/* A frame for vdp_vq_put_plain: the header to give it (num_buffers is
 * set to 1) and the frame, in one piece. */
struct vdp_plain {
	const struct vdp_net_hdr *hdr;
	const void *base;
	uint32_t len;
};

/* Frames one vdp_vq_put_plain call takes at most. */
#define VDP_PLAIN_MAX 32u
#ifndef __cplusplus
/* a call's plain elements are kept as one group (vdp_packed_used_keep_n) */
_Static_assert(VDP_PLAIN_MAX <= VDP_USED_BATCH_MAX, "VDP_PLAIN_MAX: one group of used elements");
#endif
/* The longest frame it takes: what the smallest buffer a Linux guest
 * posts with mergeable buffers holds after the header (1500 bytes of
 * payload, Ethernet and VLAN headers). A longer frame is left to the
 * frame function before any fetch, rather than fetched and given back
 * when it needs several buffers. */
#define VDP_PLAIN_LEN_MAX 1518u

/*
 * Frames f[0..n) (at most VDP_PLAIN_MAX) into vr's RX ring in two
 * passes: first a buffer for each, of one segment holding header and
 * frame (loads of what the guest wrote), then the writes (stores into
 * lines the guest holds), so that no descriptor load waits behind the
 * stores of the frame before. What the guest sees is what the frame
 * function would have given it frame by frame. Stops before the first
 * frame longer than VDP_PLAIN_LEN_MAX or without such a buffer (several
 * segments, too short, none, out of budget, broken ring), leaving the
 * buffer where it was: hand that frame to
 * the frame function (vdp_vq_frame_fn), which knows every other case
 * and counts what it cannot do. Returns the frames put. Puts none with
 * dirty logging on.
 *
 * A chain the walker refuses (a guest breaking the spec) is given back
 * when it is met, before the buffers taken ahead of it in the same call:
 * with IN_ORDER that guest may misread its own used ring. Our positions
 * and ids stay exact while the process lives; on a packed ring with
 * used_batch whose kept elements fill up in between, a crash right then
 * may resume that ring inside a chain (it breaks: the guest's own ring
 * only). The same holds for the first pass of ethdev RX and of the
 * direct path.
 */
uint32_t vdp_vq_put_plain(struct vdp_vring *vr, const struct vdp_memmap *mm,
			  const struct vdp_plain *f, uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* VDP_RING_H */
