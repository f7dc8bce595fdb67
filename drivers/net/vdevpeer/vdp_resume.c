/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Resuming a ring after the backend process died (vdp_ring.h, "state that
 * survives the process"). The state file is ours; the ring is the
 * guest's and is read as hostile: each field once, every position
 * checked against the ring size before use.
 *
 * The process may have died anywhere in a burst. Where each position
 * comes from:
 *  - packed rings the guest set up afresh meanwhile (the device event
 *    area we wrote is cleared): the VMM's positions, nothing resumed;
 *  - packed used: the state's record of the element about to be written
 *    when the process died; the ring says whether it was (the slot holds
 *    a used element of this lap with that id): then past it. On a guest
 *    RX ring an element not written had its id and length stored maybe
 *    (they come before the flags): the length there is no longer the
 *    buffer's, so it is not taken again but given back empty (written
 *    now, without WRITE: the guest drops it and posts it again). A group
 *    (a mergeable frame's buffers, or the elements used_batch kept back)
 *    whose first element was not written was not seen by the guest, but
 *    its other elements may be written already, over the descriptors of
 *    its chains: the state holds its elements while it is handed over
 *    (group), and the resume finishes the hand-over (on a guest RX ring
 *    the frames were whole in their buffers: received; on a guest TX ring
 *    the chains come back, their frames lost with the process). A state
 *    without them (a group of more elements than it holds): the other
 *    slots are made the guest's buffers again, taken again from its
 *    start;
 *  - split used: the used index in guest memory (what the guest saw),
 *    plus, on a guest TX ring, the chains given back (zero-copy) whose
 *    used elements were written and whose held entries were cleared but
 *    that were not published yet: they are published;
 *  - guest TX take position: the state's (chains taken in a burst whose
 *    end was not reached never left the driver: taken again, held ones
 *    too). Unless the guest already saw chains of that burst used (packed:
 *    a used element written; split: the used index published): then the
 *    burst is finished as if it had ended, the take position is where it
 *    had got to (the used position plus what is held) and its held chains
 *    are given back empty with the others (a chain taken last and not
 *    used yet is taken again);
 *  - guest RX take position: the used one (buffers taken and not used
 *    are the guest's again; the frames meant for them are lost);
 *  - held chains (zero-copy): given back empty, whether their frame left
 *    or not: at most once. A packed chain given back whose held entry the
 *    process did not live to clear (the state's group names it) is not
 *    given back again; nor is one given back but kept back (used_batch)
 *    and not handed over: its held entry is cleared only then.
 * With used_batch the used elements of a burst are kept back until its
 * publish: a crash before leaves the guest seeing none of them, as if the
 * burst were cut (guest TX: the chains are taken again; guest RX: the
 * frames are lost, the buffers taken again). When the shadow filled up
 * during the burst, what was handed over is the guest's, and the chains
 * kept since are after every chain held or handed over
 * (vdp_ring_state_held): they are taken again.
 * So per crash and ring at most a burst's worth of frames and the held
 * guest TX frames (a quarter of the ring at most) are lost, none
 * duplicated; after the resume of a guest TX ring nothing is in flight.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vdp_ring.h"
#include "vdp_ring_internal.h"

/* A used record of no element, only the position where the next one goes
 * (an id no element has). */
#define STATE_NO_ID 0xffffu
#define STATE_USED_POS(base) VDP_STATE_USED(base, 1, STATE_NO_ID)

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
	/*
	 * Packed: where the next used element goes (a record of no
	 * element). A process that dies before it writes one resumes here,
	 * not where the VMM thinks the ring is: QEMU hands the positions it
	 * last knew, which an earlier resume moved past.
	 */
	st->used = vr->layout == VDP_LAYOUT_PACKED ? STATE_USED_POS(vdp_vq_used_base(vr)) : 0;
	memset(st->held, 0, sizeof(st->held));
	st->group = 0;
	st->ngroup = 0;
}

void
vdp_ring_state_attach(struct vdp_vring *vr, struct vdp_ring_state *st)
{
	bool holds = false;

	for (uint32_t id = 0; st != NULL && id < vr->size && !holds; id++)
		holds = __atomic_load_n(&st->held[id], __ATOMIC_RELAXED) != 0;
	vr->state = st;
	vr->state_holds = holds;
}

#define RESUME_IDS_WORDS VDP_PACKED_IDS_WORDS(VDP_RING_SIZE_MAX)

static inline bool
bit_test(const uint64_t *bm, uint32_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

static inline void
bit_set(uint64_t *bm, uint32_t i)
{
	bm[i / 64] |= 1ull << (i % 64);
}

/* Position p (vhost-user form) as a count on the circle of 2 * size. */
static inline uint32_t
packed_circ(uint16_t base, uint16_t size)
{
	uint32_t slot = base & 0x7fff;

	return slot + ((base >> VDP_PACKED_WRAP_BIT) ? size : 0u);
}

/* How far to is ahead of from on a circle (both on it). */
static inline uint32_t
circ_ahead(uint32_t from, uint32_t to, uint32_t circle)
{
	return (to + circle - from) % circle;
}

/*
 * Slots, from circle position p on, of chains we hold (their id in the
 * state with as many slots) that are still the guest's descriptors there,
 * available in their lap: taken in the burst the crash cut, before our
 * take position reached the file. Their ids are marked in cut. Chains
 * between them that we do not hold are walked over: with used_batch the
 * chains of that burst that we used were kept back (the guest still sees
 * them as available), as are those not taken yet. Ids in given (a
 * hand-over the crash cut after the guest saw it) are the guest's: a
 * chain under one of them was posted again. Guest memory: each flags and
 * id read once, at most size slots.
 */
static uint32_t
packed_cut_held(const struct vdp_vring *vr, const struct vdp_ring_state *st, uint32_t p,
		const uint64_t *given, uint64_t *cut)
{
	const uint16_t size = vr->size;
	const uint32_t circle = 2u * size;
	uint32_t total = 0, walked = 0;

	for (;;) {
		uint32_t q = p, k = 0;
		uint16_t id;

		for (;;) {
			const struct vdp_pdesc *d = &vr->pdesc[q % size];
			const bool w = q >= size;
			uint16_t flags;

			if (walked + k == size)
				return total;
			flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
			if (!!(flags & VDP_PDESC_F_AVAIL) != w || !!(flags & VDP_PDESC_F_USED) == w)
				return total;     /* not available in its lap */
			k++;
			if (!(flags & VDP_DESC_F_NEXT)) {
				id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
				break;
			}
			q = (q + 1) % circle;
		}
		if (id < size && !bit_test(given, id) && !bit_test(cut, id) &&
		    __atomic_load_n(&st->held[id], __ATOMIC_RELAXED) == k) {
			bit_set(cut, id);
			total += k;
		}
		walked += k;
		p = (p + k) % circle;
	}
}

/*
 * The elements of the hand-over the record rec speaks of, when the
 * process died while it was under way (the state's group is rec): each
 * id in range and once (marked in ids), their slots adding up to the
 * record's, the first one the record's. Returns how many (into e), 0 when
 * the state does not say.
 */
static uint32_t
packed_group(const struct vdp_vring *vr, const struct vdp_ring_state *st, uint64_t rec,
	     uint16_t rec_n, uint16_t rec_id, struct vdp_used_ent *e, uint64_t *ids)
{
	const uint32_t n = __atomic_load_n(&st->ngroup, __ATOMIC_RELAXED);
	uint32_t slots = 0;

	if (__atomic_load_n(&st->group, __ATOMIC_RELAXED) != rec || n == 0 ||
	    n > VDP_STATE_GROUP_MAX)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		e[i] = st->group_ent[i];
		if (e[i].id >= vr->size || bit_test(ids, e[i].id))
			return 0;
		bit_set(ids, e[i].id);
		slots += vdp_used_slots(e[i].ndesc);
		if (slots > rec_n)
			return 0;
	}
	return slots == rec_n && e[0].id == rec_id ? n : 0;
}

/*
 * Slots of the guest's chain at circle position p (each available in its
 * lap, linked by NEXT), if it ends within max slots and carries buffer id
 * id (in its last slot); 0 otherwise. The slot at p was read already:
 * flags0, id0.
 */
static uint32_t
packed_chain_slots(const struct vdp_vring *vr, uint32_t p, uint32_t max, uint16_t id,
		   uint16_t flags0, uint16_t id0)
{
	const uint16_t size = vr->size;

	for (uint32_t k = 0; k < max; k++) {
		const struct vdp_pdesc *d = &vr->pdesc[(p + k) % (2u * size) % size];
		const bool w = (p + k) % (2u * size) >= size;
		uint16_t flags = k == 0 ? flags0 : __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);

		if (!!(flags & VDP_PDESC_F_AVAIL) != w || !!(flags & VDP_PDESC_F_USED) == w)
			return 0;
		if (!(flags & VDP_DESC_F_NEXT))
			return (k == 0 ? id0 : __atomic_load_n(&d->id, __ATOMIC_RELAXED)) == id ?
			       k + 1 : 0;
	}
	return 0;
}

/* The device event area as we leave it (see vdp_packed_enable_kicks). */
static bool
resume_event_ours(const struct vdp_pevent *ev)
{
	uint32_t w = __atomic_load_n((const uint32_t *)ev, __ATOMIC_ACQUIRE);
	struct vdp_pevent e;

	memcpy(&e, &w, sizeof(e));
	return e.flags == VDP_PEVENT_DISABLE || e.flags == VDP_PEVENT_DESC ||
	       (e.flags == VDP_PEVENT_ENABLE && e.off_wrap == VDP_PEVENT_OURS);
}

/*
 * Guest RX: a group of used elements (one mergeable frame's buffers) cut
 * before its first element's flags, at circle position base, n slots. The
 * guest never saw any of it, but its other elements may carry our used
 * flags already (the first one's are stored last): their slots are made
 * available again, in their lap, as the guest's buffers of one
 * descriptor each (what mergeable receive buffers are; their id is the
 * buffer's own, their length what we wrote, at most the buffer's), to be
 * taken again. A group over buffers of several descriptors (a guest
 * descriptor there says NEXT or INDIRECT), or of more slots than a
 * frame's buffers, is left as it is.
 */
static void
packed_group_back(struct vdp_vring *vr, uint32_t base, uint16_t n)
{
	const uint16_t size = vr->size;
	const uint32_t circle = 2u * size;
	uint16_t flags[VDP_MRG_MAX_BUFS];

	if (n > VDP_MRG_MAX_BUFS)
		return;
	for (uint32_t i = 0; i < n; i++) {
		const uint32_t p = (base + i) % circle;
		const bool w = p >= size;

		flags[i] = __atomic_load_n(&vr->pdesc[p % size].flags, __ATOMIC_ACQUIRE);
		if (!!(flags[i] & VDP_PDESC_F_AVAIL) == w && !!(flags[i] & VDP_PDESC_F_USED) != w &&
		    (flags[i] & (VDP_DESC_F_NEXT | VDP_DESC_F_INDIRECT)))
			return;
	}
	for (uint32_t i = 1; i < n; i++) {
		const uint32_t p = (base + i) % circle;
		const bool w = p >= size;

		if (!!(flags[i] & VDP_PDESC_F_AVAIL) == w && !!(flags[i] & VDP_PDESC_F_USED) == w)
			__atomic_store_n(&vr->pdesc[p % size].flags,
					 (uint16_t)((w ? VDP_PDESC_F_AVAIL : VDP_PDESC_F_USED) |
						    VDP_DESC_F_WRITE), __ATOMIC_RELEASE);
	}
}

static void
resume_packed(struct vdp_vring *vr, const struct vdp_ring_state *st, bool dev_reads,
	      struct vdp_resume *out)
{
	const uint16_t size = vr->size;
	const uint32_t circle = 2u * size;
	uint32_t used = packed_circ(vdp_vq_used_base(vr), size);
	uint32_t avail, base = 0, held = 0, ncut = 0, skip = UINT32_MAX;
	uint64_t rec = __atomic_load_n(&st->used, __ATOMIC_RELAXED);
	uint16_t rec_n = 0, rec_id = 0;
	bool written = false, group_back = false, give_back = false, complete = false;
	uint16_t flags = 0, did = 0;   /* the slot under the record, read once */
	uint64_t cut[RESUME_IDS_WORDS];
	/* the hand-over under way at the crash (state's group), its ids, and
	 * those of them whose held entries are still there (the guest's) */
	struct vdp_used_ent grp[VDP_STATE_GROUP_MAX];
	uint64_t gids[RESUME_IDS_WORDS], given[RESUME_IDS_WORDS];
	uint32_t ngrp = 0;

	/* Only we write the device event area, and what we write is never
	 * all zero: DISABLE (vdp_packed_suppress_kicks, at every ring load),
	 * or while asleep DESC, or ENABLE with VDP_PEVENT_OURS as its offset
	 * (vdp_packed_enable_kicks). A driver that set its ring up afresh
	 * (DPDK's virtio_user resets packed rings when its backend comes
	 * back) cleared it: its positions are right. Must be looked at
	 * before this load's own suppress_kicks. */
	if (!resume_event_ours(vr->device_event)) {
		out->why = "the guest set the ring up afresh";
		return;
	}
	if (rec >> 63) {
		uint16_t b = (uint16_t)rec, slot = b & 0x7fff;
		bool wrap = b >> VDP_PACKED_WRAP_BIT;

		rec_n = (uint16_t)(rec >> 16);
		rec_id = (uint16_t)(rec >> 32);
		if (slot >= size || rec_n == 0 || rec_n > size ||
		    (rec_id >= size && (rec_id != STATE_NO_ID || rec_n != 1)) ||
		    ((rec >> 48) & 0x7fff) != 0) {
			out->why = "used record out of range";
			return;
		}
		base = packed_circ(b, size);
		if (rec_id != STATE_NO_ID) {
			const struct vdp_pdesc *d = &vr->pdesc[slot];
			bool a, u;

			flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
			did = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
			a = flags & VDP_PDESC_F_AVAIL;
			u = flags & VDP_PDESC_F_USED;

			/* Written: the slot shows our element (AVAIL and USED
			 * of this lap, our id), or the guest took it and has
			 * already posted the slot for the next lap (AVAIL
			 * flipped, USED still this lap's: nothing else leaves
			 * it so). Not written: still the guest's descriptor
			 * (USED of the lap before). */
			written = u == wrap && (a != wrap || did == rec_id);
			memset(gids, 0, VDP_PACKED_IDS_WORDS(size) * sizeof(gids[0]));
			ngrp = packed_group(vr, st, rec, rec_n, rec_id, grp, gids);
		}
		/* A group not handed over whose every element the state knows:
		 * its other elements may be written already over the slots (and
		 * the buffers' descriptors) of its chains, which cannot be
		 * taken again: the hand-over is finished now, as the process
		 * would have (the frames written into a guest RX ring's buffers
		 * are whole: received; a guest TX ring's chains come back). */
		complete = !written && ngrp > 1;
		/* reduced to the circle: base + n may pass its end */
		used = (base + (written || complete ? rec_n : 0u)) % circle;
		if (!dev_reads && !written && !complete && rec_id != STATE_NO_ID) {
			/* one element (the guest's chain there is all of it),
			 * or a group */
			give_back = packed_chain_slots(vr, base, rec_n, rec_id, flags, did) ==
				    rec_n;
			group_back = !give_back && rec_n > 1;
		}
	}
	if (!dev_reads) {
		avail = give_back ? (used + rec_n) % circle : used;
	} else {
		uint32_t a = st->avail, end;

		if (!st->avail_valid) {
			out->why = "no take position";
			return;
		}
		if (a > UINT16_MAX || (a & 0x7fff) >= size) {
			out->why = "take position out of range";
			return;
		}
		avail = packed_circ((uint16_t)a, size);
		/* held chains: their slots together at most the ring */
		for (uint32_t id = 0; id < size; id++)
			held += __atomic_load_n(&st->held[id], __ATOMIC_RELAXED);
		if (held > size) {
			out->why = "positions do not fit the ring";
			return;
		}
		/* Chains given back in the hand-over the crash cut after its
		 * first element was the guest's (or that the resume finishes),
		 * whose held entries the process did not live to clear: the
		 * guest's already. */
		memset(given, 0, VDP_PACKED_IDS_WORDS(size) * sizeof(given[0]));
		for (uint32_t i = 0; (written || complete) && i < ngrp; i++) {
			const uint16_t n = (uint16_t)vdp_used_slots(grp[i].ndesc);

			if (__atomic_load_n(&st->held[grp[i].id], __ATOMIC_RELAXED) == n) {
				bit_set(given, grp[i].id);
				held -= n;
			}
		}
		memset(cut, 0, VDP_PACKED_IDS_WORDS(size) * sizeof(cut[0]));
		ncut = packed_cut_held(vr, st, avail, given, cut);
		/* Every chain taken is used (written: before used) or held:
		 * where the dead process had taken up to. */
		end = (used + held) % circle;
		/* The record is of a chain given back (written) whose held
		 * entry is still there: the process died between the two
		 * stores. It is the guest's already. (A state without the
		 * hand-over's elements: they tell it apart above.) */
		if (written && ngrp == 0 && !bit_test(cut, rec_id) &&
		    __atomic_load_n(&st->held[rec_id], __ATOMIC_RELAXED) == rec_n &&
		    (end + circle - rec_n) % circle == (avail + ncut) % circle) {
			skip = rec_id;
			held -= rec_n;
			end = (end + circle - rec_n) % circle;
		}
		if (end != (avail + ncut) % circle) {
			/* The guest saw chains of the burst the crash cut used:
			 * they cannot be taken again. The burst is finished:
			 * the take position is where the process had got to
			 * (but for a chain taken last and not used yet, which
			 * is taken again), its held chains given back with the
			 * rest. */
			uint32_t ahead = circ_ahead(avail, end, circle);

			if (ahead <= ncut || ahead > size) {
				out->why = "positions do not fit the ring";
				return;
			}
			avail = end;
			ncut = 0;
			memset(cut, 0, VDP_PACKED_IDS_WORDS(size) * sizeof(cut[0]));
		}
	}
	if (complete) {
		/* from the group's start: it ends where used is */
		vr->used_idx = (uint16_t)(base % size);
		vr->used_wrap = base >= size;
		vdp_packed_used_put_group(vr, grp, ngrp);
	}
	vr->used_idx = (uint16_t)(used % size);
	vr->used_wrap = used >= size;
	vr->last_avail = (uint16_t)(avail % size);
	vr->avail_wrap = avail >= size;
	vr->signalled_valid = false;
	memset(vr->ids_held, 0, VDP_PACKED_IDS_WORDS(size) * sizeof(uint64_t));
	if (give_back)
		vdp_packed_used_put(vr, rec_id, rec_n, 0);
	if (group_back)
		packed_group_back(vr, base, rec_n);
	if (dev_reads) {
		for (uint32_t id = 0; id < size; id++) {
			uint16_t n = __atomic_load_n(&st->held[id], __ATOMIC_RELAXED);

			if (n == 0 || id == skip || bit_test(cut, id) || bit_test(given, id))
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
	const uint16_t size = vr->size;
	uint16_t used = __atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE);
	uint16_t avail = used, unpub = 0;
	uint32_t ncut = 0;
	uint64_t cut[RESUME_IDS_WORDS];

	if (dev_reads) {
		uint32_t a = st->avail, held = 0, nheld = 0, old;
		uint16_t n, behind, ahead;

		if (!st->avail_valid) {
			out->why = "no take position";
			return;
		}
		if (a > UINT16_MAX) {
			out->why = "take position out of range";
			return;
		}
		for (uint32_t h = 0; h < size; h++) {
			uint16_t v = __atomic_load_n(&st->held[h], __ATOMIC_RELAXED);

			held += v;
			nheld += v != 0;
		}
		if (held > size) {
			out->why = "positions do not fit the ring";
			return;
		}
		/* Heads we hold that the guest's avail ring still offers at
		 * our take position or after: taken in the burst the crash
		 * cut, before that position reached the file. */
		memset(cut, 0, VDP_PACKED_IDS_WORDS(size) * sizeof(cut[0]));
		n = (uint16_t)(__atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE) - a);
		for (uint32_t i = 0; n <= size && i < n; i++) {
			uint16_t h = __atomic_load_n(&vr->avail->ring[(a + i) & vr->mask],
						     __ATOMIC_RELAXED);

			if (h < size && !bit_test(cut, h) &&
			    __atomic_load_n(&st->held[h], __ATOMIC_RELAXED) != 0) {
				bit_set(cut, h);
				ncut++;
			}
		}
		old = nheld - ncut;
		/* Every chain taken before our take position is used or
		 * held: used elements missing from the guest's index were
		 * given back (their held entries cleared) and not published. */
		behind = (uint16_t)(a - used - old);
		ahead = (uint16_t)(used + old - a);
		if (behind <= size && (uint16_t)(a - used) <= size) {
			avail = (uint16_t)a;
			unpub = behind;
		} else if (ahead <= size) {
			/* The guest saw more than we recorded: the burst's end
			 * (our record) was not reached, but its used index was
			 * published. The burst is finished: we had taken up to
			 * the used index plus what we hold. */
			avail = (uint16_t)(used + nheld);
			ncut = 0;
			memset(cut, 0, VDP_PACKED_IDS_WORDS(size) * sizeof(cut[0]));
		} else {
			out->why = "positions do not fit the ring";
			return;
		}
	}
	vr->used_idx = (uint16_t)(used + unpub);
	vr->used_pending = unpub;
	vr->signalled_used = used;
	vr->signalled_valid = false;
	vr->last_avail = avail;
	vr->avail_cache = avail;
	if (dev_reads) {
		for (uint32_t h = 0; h < size; h++) {
			if (__atomic_load_n(&st->held[h], __ATOMIC_RELAXED) == 0 ||
			    bit_test(cut, h))
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
