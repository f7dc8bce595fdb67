/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small guest-side split-ring driver for the unit tests and the
 * micro-benchmarks of the ring walkers.
 *
 * Guest memory is one or more memfd regions, each mapped twice: once
 * contiguously at the "guest" addresses (what the driver writes through)
 * and once, with guard pages around each region, at unrelated "host"
 * addresses (what the device side sees through its struct vdp_memmap).
 * Each region starts at the guest physical address right after the one
 * before, so a buffer may straddle two and still be contiguous for the
 * guest. GUEST_MEM_ONE_VIEW maps each region once: the device is given
 * the guest's own addresses (for ThreadSanitizer, which tells accesses
 * apart by address only).
 *
 * The driver keeps its own bookkeeping (free list, chain lengths) outside
 * guest memory, like a real driver, so a test may scribble on descriptors
 * without confusing it.
 */
#ifndef GUEST_RING_H
#define GUEST_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdp_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GUEST_MAX_REGIONS VDP_MAX_REGIONS

struct guest_mem {
	uint32_t nregions;
	int fd[GUEST_MAX_REGIONS];
	uint64_t gpa[GUEST_MAX_REGIONS];
	uint64_t size[GUEST_MAX_REGIONS];
	uint8_t *gva;                    /* guest view: all regions, contiguous */
	size_t gva_len;
	uint8_t *host_base;              /* host view reservation, guards incl.
					  * (NULL with GUEST_MEM_ONE_VIEW) */
	size_t host_len;
	struct vdp_memmap mm;            /* what the device is given */
	uint64_t brk;                    /* bump allocator, as a gpa */
};

/*
 * Create guest memory: region 1 of size1 bytes at gpa base, and, when
 * size2 != 0, region 2 of size2 bytes at base + size1. Sizes must be page
 * multiples. Returns 0 or -errno.
 */
int guest_mem_init(struct guest_mem *m, uint64_t base, size_t size1, size_t size2);

/* The device sees guest memory at the guest's addresses (no second mapping). */
#define GUEST_MEM_ONE_VIEW 1u

/*
 * Create guest memory of n regions (1..GUEST_MAX_REGIONS) of sizes[i]
 * bytes each (page multiples), back to back from gpa base. flags: 0 (two
 * views, as guest_mem_init) or GUEST_MEM_ONE_VIEW. Returns 0 or -errno.
 */
int guest_mem_init_regions(struct guest_mem *m, uint64_t base, const size_t *sizes,
			   uint32_t n, unsigned int flags);
void guest_mem_fini(struct guest_mem *m);

/* Guest view of gpa (NULL when outside guest memory). */
void *guest_ptr(const struct guest_mem *m, uint64_t gpa);
/* Host view of gpa, i.e. what the device maps (NULL when outside). */
void *guest_host_ptr(const struct guest_mem *m, uint64_t gpa);
/*
 * Chains of one buffer at the edges of what the walkers accept (header of
 * 12 bytes), for the unit tests of both layouts: each must be taken whole.
 * span: a buffer of len over the end of region 0 of guest_mem_init (100
 * bytes there, the rest at the start of region 1): two segments.
 */
struct guest_one_buf {
	uint32_t len;
	enum vdp_dir dir;
	bool span;
	const char *what;
};
#define GUEST_ONE_BUF_GOOD 5u
extern const struct guest_one_buf guest_one_buf_good[GUEST_ONE_BUF_GOOD];

/*
 * ... and chains of one buffer each with one defect, refused as a bad
 * chain with err counted (the ring goes on). Where the buffer lies:
 */
enum guest_at {
	GUEST_AT_FRESH,   /* a fresh buffer of len */
	GUEST_AT_ABS,     /* gpa addr, as it is */
	GUEST_AT_END,     /* addr bytes before the end of guest memory (0: just past) */
};
struct guest_one_bad {
	enum guest_at at;
	uint64_t addr;
	uint32_t len;
	uint16_t flags;   /* WRITE or not */
	enum vdp_dir dir;
	enum vdp_err err;
	const char *what;
};
#define GUEST_ONE_BUF_BAD 10u
extern const struct guest_one_bad guest_one_buf_bad[GUEST_ONE_BUF_BAD];
/* The gpa of b's buffer in m (GUEST_AT_FRESH: allocated now). */
uint64_t guest_one_bad_gpa(struct guest_mem *m, const struct guest_one_bad *b);

/* Allocate len bytes aligned to align (power of two); returns a gpa, 0 on failure. */
uint64_t guest_alloc(struct guest_mem *m, size_t len, size_t align);

struct guest_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;          /* device-writable (guest RX) */
};

#define GUEST_INDIRECT_MAX 64

struct guest_ring {
	struct guest_mem *m;
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct vdp_desc *desc;           /* guest views */
	struct vdp_avail *avail;
	struct vdp_used *used;
	uint16_t avail_idx;              /* next avail idx to publish */
	uint16_t last_used;              /* next used idx to read */
	uint16_t nfree;
	uint16_t *free_stack;            /* private: free descriptor indexes */
	uint16_t *chain_next;            /* private copy of the chain links */
	uint16_t *chain_ndesc;           /* per head: main-table descs, 0 = raw */
	uint64_t indirect_gpa;           /* size tables of GUEST_INDIRECT_MAX */
};

/*
 * Lay out a ring of size entries in guest memory (desc, avail with
 * used_event, used with avail_event), with avail idx and used idx both
 * starting at start_idx (to test wrap-around). Returns 0 or -errno.
 */
int guest_ring_init(struct guest_ring *g, struct guest_mem *m, uint16_t size,
		    uint16_t start_idx);
void guest_ring_fini(struct guest_ring *g);

/* Device-side view of the ring: vdp_vring_init() over the host mapping. */
int guest_ring_attach(const struct guest_ring *g, struct vdp_vring *vr);

/*
 * Post a chain of n buffers, direct or through an indirect table. Returns
 * the head index, or -1 when out of descriptors. Publishes avail idx
 * unless publish is false (then call guest_ring_publish()).
 */
int guest_ring_post(struct guest_ring *g, const struct guest_buf *b, uint32_t n,
		    bool indirect, bool publish);
void guest_ring_publish(struct guest_ring *g);

/*
 * Raw access for hostile tests: take n descriptors off the free list
 * (linked in order with NEXT, fields otherwise zero) for the test to fill
 * in, then push a head, any value, into the avail ring.
 */
int guest_desc_alloc(struct guest_ring *g, uint32_t n, uint16_t *idx);
void guest_ring_push_head(struct guest_ring *g, uint16_t head, bool publish);

/*
 * Read one used element. Returns 1 and fills id / len, or 0 when none.
 * Descriptors of chains posted through guest_ring_post / guest_desc_alloc
 * go back to the free list.
 */
int guest_ring_get_used(struct guest_ring *g, uint32_t *id, uint32_t *len);

/* Read one used element without touching the free list (for rings whose
 * descriptors the caller set up once and re-posts with push_head). */
int guest_ring_pop_used(struct guest_ring *g, uint32_t *id, uint32_t *len);

/* Number of used elements the device published that we did not read. */
uint16_t guest_ring_used_pending(const struct guest_ring *g);

/* Interrupt control as the driver does it. */
void guest_ring_set_used_event(struct guest_ring *g, uint16_t v);
void guest_ring_set_no_interrupt(struct guest_ring *g, bool on);
uint16_t guest_ring_used_flags(const struct guest_ring *g);

/* avail_event (after the used ring), as the device last wrote it. */
uint16_t guest_ring_avail_event(const struct guest_ring *g);

/*
 * A driver about to sleep: ask for an interrupt once the device has
 * published more than delay used elements past the ones we read (with
 * EVENT_IDX: used_event = last_used + delay; without: NO_INTERRUPT
 * cleared and delay ignored, any element calls), then look again. Returns false when they
 * are already there: do not sleep, process them. The store and the look
 * are ordered by a full fence, against the device's used idx store and
 * its used_event / flags load.
 */
bool guest_ring_enable_cb(struct guest_ring *g, bool event_idx, uint16_t delay);

/*
 * The driver is awake and polls: without EVENT_IDX set NO_INTERRUPT;
 * with it, move used_event half the index space away, so that the device
 * calls again only after 32768 more used elements.
 */
void guest_ring_disable_cb(struct guest_ring *g, bool event_idx);

/*
 * After publishing avail idx (it was old before): does the device want a
 * kick? (EVENT_IDX: avail_event crossed; otherwise NO_NOTIFY clear.)
 */
bool guest_ring_need_kick(const struct guest_ring *g, uint16_t old, bool event_idx);

/*
 * The device side's error counters, for the hostile tests of either
 * layout: a copy to compare with later, and whether exactly counter e
 * moved (by one) since (e == VDP_ERR_MAX: none moved).
 */
static inline void
guest_err_mark(uint64_t err0[VDP_ERR_MAX], const struct vdp_vring *vr)
{
	for (int i = 0; i < VDP_ERR_MAX; i++)
		err0[i] = vr->err[i];
}

static inline bool
guest_err_only(const uint64_t err0[VDP_ERR_MAX], const struct vdp_vring *vr, enum vdp_err e)
{
	for (int i = 0; i < VDP_ERR_MAX; i++)
		if (vr->err[i] != err0[i] + (i == (int)e ? 1 : 0))
			return false;
	return true;
}

#ifdef __cplusplus
}
#endif

#endif /* GUEST_RING_H */
