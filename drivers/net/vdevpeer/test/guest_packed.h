/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small guest-side PACKED-ring driver (virtio 1.1 section 2.7) for the
 * unit tests of vdp_packed.c, in the style of guest_ring.h (whose guest
 * memory it uses: memfd regions mapped twice, guest_mem_* / guest_alloc /
 * guest_ptr).
 *
 * It writes what a driver writes: a ring of any size (1..32768, not only
 * powers of two) with the driver's and the device's event suppression
 * structures; chains of n buffers made available head last (every
 * descriptor carrying the buffer id, as Linux writes them), or one slot
 * pointing to an indirect table; buffer ids it chooses itself, with the
 * number of slots each chain took, so that it can skip as many when the
 * id comes back used. Its bookkeeping (free ids, slots per id, pending
 * heads) lives outside guest memory, like a real driver's, so a test may
 * scribble on the ring without confusing it.
 *
 * Positions are a slot and a wrap counter (2.7.1): where the next chain
 * goes (avail_slot, avail_wrap) and where the next used element is read
 * (used_slot, used_wrap). A ring may start anywhere, in either phase, to
 * test wrap-around.
 */
#ifndef GUEST_PACKED_H
#define GUEST_PACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_ring.h"
#include "vdp_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

struct guest_packed {
	struct guest_mem *m;
	uint16_t size;
	uint64_t ring_gpa, driver_event_gpa, device_event_gpa;
	struct vdp_pdesc *ring;          /* guest views */
	struct vdp_pevent *driver_event; /* ours: the device reads it */
	struct vdp_pevent *device_event; /* the device's: we read it */

	uint16_t avail_slot;             /* where the next chain goes */
	bool avail_wrap;
	uint16_t used_slot;              /* where the next used element is */
	bool used_wrap;
	uint16_t kick_slot;              /* avail position at the last kick check */
	bool kick_wrap;

	uint16_t nfree;                  /* slots not holding a chain */
	uint16_t nfree_ids;
	uint16_t *free_ids;              /* private: stack of free buffer ids */
	uint16_t *id_slots;              /* private: per id, slots its chain
					  * took; 0: the id is free */
	uint16_t npending;               /* heads written, not yet made available */
	uint16_t *pending_slot;          /* private: their slots ... */
	uint16_t *pending_flags;         /* ... and the flags to store there */
	uint64_t indirect_gpa;           /* per id: a table of GUEST_INDIRECT_MAX */

	uint16_t *slot_id;               /* private: per slot, the id of the
					  * chain whose head was posted there */
	uint16_t *freed;                 /* ids the last guest_packed_get_used
					  * gave back, in ring order ... */
	uint16_t nfreed;                 /* ... how many (1 unless in_order) */
	bool in_order;                   /* VIRTIO_F_IN_ORDER: a used element
					  * gives back every chain up to its id
					  * (2.7.18); nused counts chains */
	uint16_t last_used_flags;        /* flags of the last used element read */
	uint64_t nused;                  /* used elements read so far */
};

/*
 * Lay out a ring of size descriptors (16-byte aligned) and the two event
 * structures in guest memory, both positions at (start_slot, start_wrap).
 * The ring is filled as it would be at that point of a ring used in
 * order: slots before start_slot hold used descriptors of phase
 * start_wrap, the others used descriptors of the other phase (all zero
 * for the start of a fresh ring, (0, true)), so nothing looks available
 * to the device or used to us. Returns 0 or -errno.
 */
int guest_packed_init(struct guest_packed *g, struct guest_mem *m, uint32_t size,
		      uint16_t start_slot, bool start_wrap);
void guest_packed_fini(struct guest_packed *g);

/*
 * Device-side view: vdp_packed_init() over the host mapping, positions
 * where ours are (call it before posting). ids_held: the device's
 * storage, VDP_PACKED_IDS_WORDS(size) words, owned by the caller.
 */
int guest_packed_attach(const struct guest_packed *g, struct vdp_vring *vr,
			uint64_t *ids_held);

/* AVAIL/USED bits of a descriptor made available in phase wrap. */
static inline uint16_t
guest_packed_avail_bits(bool wrap)
{
	return wrap ? VDP_PDESC_F_AVAIL : VDP_PDESC_F_USED;
}

/* AVAIL/USED bits of a used descriptor of phase wrap. */
static inline uint16_t
guest_packed_used_bits(bool wrap)
{
	return wrap ? VDP_PDESC_F_AVAIL | VDP_PDESC_F_USED : 0;
}

/* Slot after s (and its phase), n slots on. */
uint16_t guest_packed_slot_add(const struct guest_packed *g, uint16_t s, bool *wrap,
			       uint32_t n);

/*
 * Post a chain of n buffers with a free buffer id of ours: direct (n
 * consecutive slots linked with NEXT, each carrying the id) or indirect
 * (one slot pointing to this id's table of n entries, n <=
 * GUEST_INDIRECT_MAX). The head's flags are stored last, with release;
 * with publish false they are kept back until guest_packed_publish().
 * Returns the buffer id, or -1 when out of slots or ids.
 */
int guest_packed_post(struct guest_packed *g, const struct guest_buf *b, uint32_t n,
		      bool indirect, bool publish);

/*
 * Raw post for hostile tests: n descriptors d[0..n) into the next n
 * slots, verbatim except that each gets the AVAIL/USED bits of its own
 * slot's phase (d[i].flags should not carry them). The chain is recorded
 * under the id of its last descriptor (taken off our free ids if it is
 * one of them), so that its used element can be read back. Returns the
 * chain's first slot, or -1 when out of slots.
 */
int guest_packed_post_desc(struct guest_packed *g, const struct vdp_pdesc *d,
			   uint32_t n, bool publish);

/* Make the heads kept back available, the last posted first (so the
 * device may find the earlier ones only when all are there). */
void guest_packed_publish(struct guest_packed *g);

/* Raw write of any slot: addr, len, id, then flags verbatim (release). */
void guest_packed_set_desc(struct guest_packed *g, uint16_t slot, uint64_t addr,
			   uint32_t len, uint16_t id, uint16_t flags);

/* Take a free buffer id off our list (lowest first), or -1. */
int guest_packed_alloc_id(struct guest_packed *g);

/* Table of id's indirect descriptors (GUEST_INDIRECT_MAX entries). */
uint64_t guest_packed_table_gpa(const struct guest_packed *g, uint16_t id);

/* Is a used element at our used position? (AVAIL and USED both equal to
 * our used wrap counter, loaded with acquire.) */
bool guest_packed_used_ready(const struct guest_packed *g);

/*
 * Read one used element: returns 1 and fills id / len (len as a driver
 * takes it: 0 unless the device set WRITE, virtio 1.1 2.7.4), 0 when
 * none, -1 when its id is not one of our chains in flight (then nothing
 * moves). On 1 the id is free again and our used position moves on by
 * the slots that id's chain took, flipping the wrap counter at the end.
 */
int guest_packed_get_used(struct guest_packed *g, uint32_t *id, uint32_t *len);

/* Used elements ready from our position on, without taking them. */
uint32_t guest_packed_used_pending(const struct guest_packed *g);

/* Driver event suppression, raw: off_wrap = off | wrap << 15, then flags. */
void guest_packed_set_event(struct guest_packed *g, uint16_t flags, uint16_t off,
			    bool wrap);

/*
 * A driver about to sleep: ask for an interrupt (with EVENT_IDX: DESC at
 * our used position plus delay slots; without: ENABLE, delay ignored),
 * then a full fence and a last look. Returns false when used elements are
 * already there (at our position, or with a delay at the event's slot):
 * do not sleep.
 */
bool guest_packed_enable_cb(struct guest_packed *g, bool event_idx, uint16_t delay);

/* The driver polls: DISABLE. */
void guest_packed_disable_cb(struct guest_packed *g);

/*
 * After making chains available: does the device want a kick? A full
 * fence, then the device's event structure: DISABLE no, ENABLE yes, DESC
 * (EVENT_IDX) when its position is among the slots made available since
 * the last check. The check position moves on to ours.
 */
bool guest_packed_kick_prepare(struct guest_packed *g, bool event_idx);

#ifdef __cplusplus
}
#endif

#endif /* GUEST_PACKED_H */
