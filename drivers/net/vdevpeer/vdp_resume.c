/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Resuming a ring after the backend process died (vdp_ring.h, "state that
 * survives the process"). The state file is ours; the ring is the
 * guest's and is read as hostile: each field once, every position
 * checked against the ring size before use.
 *
 * Where each position comes from:
 *  - packed rings the guest set up afresh meanwhile (the device event
 *    area we wrote is cleared): the VMM's positions, nothing resumed;
 *  - packed used: the state's record of the element about to be written
 *    when the process died; the ring says whether it was (the slot holds
 *    a used element of this lap with that id): then past it;
 *  - split used: the used index in guest memory (what the guest saw:
 *    used elements not published then were never seen);
 *  - guest TX take position: the state's (chains taken in a burst whose
 *    end was not reached never left the driver: taken again);
 *  - guest RX take position: the used one (buffers taken and not used
 *    are the guest's again; the frames meant for them are lost);
 *  - held chains (zero-copy): given back empty, whether their frame left
 *    or not: at most once.
 * So per crash and ring at most a burst's worth of guest RX frames and
 * the held guest TX frames (a quarter of the ring at most) are lost,
 * none duplicated.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vdp_ring.h"
#include "vdp_ring_internal.h"

void
vdp_ring_state_reset(struct vdp_ring_state *st, const struct vdp_vring *vr,
		     uint64_t desc_gpa, uint64_t driver_gpa, uint64_t device_gpa)
{
	st->layout = vr->layout;
	st->size = vr->size;
	st->desc_gpa = desc_gpa;
	st->driver_gpa = driver_gpa;
	st->device_gpa = device_gpa;
	st->avail = vdp_vq_avail_base(vr);
	st->avail_valid = 1;
	st->used = 0;
	memset(st->held, 0, sizeof(st->held));
}

/* Position p (vhost-user form) as a count on the circle of 2 * size. */
static inline uint32_t
packed_circ(uint16_t base, uint16_t size)
{
	uint32_t slot = base & 0x7fff;

	return slot + ((base >> VDP_PACKED_WRAP_BIT) ? size : 0u);
}

static void
resume_packed(struct vdp_vring *vr, const struct vdp_ring_state *st, bool dev_reads,
	      struct vdp_resume *out)
{
	const uint16_t size = vr->size;
	uint32_t used = packed_circ(vdp_vq_used_base(vr), size);
	uint32_t avail, inflight = 0;
	uint64_t rec = __atomic_load_n(&st->used, __ATOMIC_RELAXED);

	/* Only we write the device event area, and we left DISABLE there
	 * (vdp_packed_suppress_kicks, at every ring load). A driver that set
	 * its ring up afresh (DPDK's virtio_user resets packed rings when
	 * its backend comes back) cleared it: its positions are right. Must
	 * be looked at before this load's own suppress_kicks. */
	if (__atomic_load_n(&vr->device_event->flags, __ATOMIC_ACQUIRE) !=
	    VDP_PEVENT_DISABLE) {
		out->why = "the guest set the ring up afresh";
		return;
	}
	if (rec >> 63) {
		uint16_t base = (uint16_t)rec, n = (uint16_t)(rec >> 16);
		uint16_t id = (uint16_t)(rec >> 32), slot = base & 0x7fff;
		bool wrap = base >> VDP_PACKED_WRAP_BIT;

		if (slot >= size || n == 0 || n > size) {
			out->why = "used record out of range";
			return;
		}
		used = packed_circ(base, size);
		{
			const struct vdp_pdesc *d = &vr->pdesc[slot];
			uint16_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
			uint16_t did = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
			bool a = flags & VDP_PDESC_F_AVAIL, u = flags & VDP_PDESC_F_USED;

			/* Written: the slot shows our element (AVAIL and USED
			 * of this lap, our id), or the guest took it and has
			 * already posted the slot for the next lap (AVAIL
			 * flipped, USED still this lap's: nothing else leaves
			 * it so). Not written: still the guest's descriptor
			 * (USED of the lap before). */
			if (u == wrap && (a != wrap || did == id))
				used += n;
		}
	}
	if (dev_reads) {
		if (!st->avail_valid) {
			out->why = "no take position";
			return;
		}
		avail = packed_circ((uint16_t)st->avail, size);
		if ((st->avail & 0x7fff) >= size) {
			out->why = "take position out of range";
			return;
		}
	} else {
		avail = used;
	}
	/* held chains: their slots together at most the distance taken */
	if (dev_reads)
		for (uint32_t id = 0; id < size; id++)
			inflight += __atomic_load_n(&st->held[id], __ATOMIC_RELAXED);
	if ((avail + 2u * size - used) % (2u * size) > size || inflight > size) {
		out->why = "positions do not fit the ring";
		return;
	}
	vr->used_idx = (uint16_t)(used % (2u * size) % size);
	vr->used_wrap = used % (2u * size) >= size;
	vr->last_avail = (uint16_t)(avail % (2u * size) % size);
	vr->avail_wrap = avail % (2u * size) >= size;
	vr->signalled_valid = false;
	memset(vr->ids_held, 0, VDP_PACKED_IDS_WORDS(size) * sizeof(uint64_t));
	if (dev_reads) {
		for (uint32_t id = 0; id < size; id++) {
			uint16_t n = __atomic_load_n(&st->held[id], __ATOMIC_RELAXED);

			if (n == 0 || n > size)
				continue;
			vdp_packed_used_put(vr, (uint16_t)id, n, 0);
			out->completed++;
		}
	}
	out->resumed = true;
}

static void
resume_split(struct vdp_vring *vr, const struct vdp_ring_state *st, bool dev_reads,
	     struct vdp_resume *out)
{
	uint16_t used = __atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE);
	uint16_t avail = used;
	uint32_t held = 0;

	if (dev_reads) {
		if (!st->avail_valid) {
			out->why = "no take position";
			return;
		}
		avail = (uint16_t)st->avail;
		for (uint32_t h = 0; h < vr->size; h++)
			held += __atomic_load_n(&st->held[h], __ATOMIC_RELAXED) != 0;
		/* the guest saw more than we recorded: the burst's end (our
		 * record) was not reached, but its used index was published */
		if (used != avail && (uint16_t)(used - avail) <= vr->size)
			avail = used;
	}
	if ((uint16_t)(avail - used) > vr->size || held > vr->size) {
		out->why = "positions do not fit the ring";
		return;
	}
	vr->used_idx = used;
	vr->signalled_used = used;
	vr->signalled_valid = false;
	vr->last_avail = avail;
	vr->avail_cache = avail;
	if (dev_reads) {
		for (uint32_t h = 0; h < vr->size; h++) {
			if (__atomic_load_n(&st->held[h], __ATOMIC_RELAXED) == 0)
				continue;
			vdp_split_used_put(vr, (uint16_t)h, 0);
			out->completed++;
		}
	}
	out->resumed = true;
}

void
vdp_vq_resume(struct vdp_vring *vr, const struct vdp_ring_state *st,
	      bool dev_reads, struct vdp_resume *out)
{
	memset(out, 0, sizeof(*out));
	if (st->layout != (uint32_t)vr->layout || st->size != vr->size) {
		out->why = "another ring";
	} else if (vr->layout == VDP_LAYOUT_PACKED) {
		resume_packed(vr, st, dev_reads, out);
	} else {
		resume_split(vr, st, dev_reads, out);
	}
	out->avail = vdp_vq_avail_base(vr);
	out->used = vdp_vq_used_base(vr);
}
