/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed-virtqueue layout: the device side of virtio 1.1 section 2.7,
 * over guest memory that the guest may rewrite at any moment. The frame
 * logic is in vdp_net.c; this file only reads chains out of the one
 * descriptor ring and writes used elements back into it.
 *
 * The rules of vdp_split.c hold here too: each field of guest memory is
 * loaded once into a local (the flags first, with acquire: they say
 * whether the rest is the guest's finished write), every address is
 * translated with its byte range, every walk is bounded by the ring size
 * and VDP_CHAIN_MAX_SEGS buffers, and every burst by its work budget.
 *
 * What differs from split, for a hostile guest:
 *  - there is no avail index that could jump: a slot is available when
 *    its AVAIL flag equals our wrap counter and its USED flag does not;
 *  - a chain is a run of slots linked by NEXT. The guest makes the head
 *    available last (2.7.6 / 2.7.13), so once the head is available every
 *    slot of the chain must be: one that is not, or a chain longer than
 *    the ring, leaves no way to find where the next chain starts, and
 *    breaks the ring. So does a chain longer than a whole burst may read
 *    (VDP_BURST_DESC_MAX, a ring of more than 8192 slots): its end could
 *    never be found within a burst, and waiting for a bigger budget would
 *    stall the queue on it for ever;
 *  - the buffer id is the guest's to choose (in the chain's last slot):
 *    one out of range, or one we hold already (taken, not yet used: a
 *    zero-copy frame in flight), would make our completions ambiguous,
 *    and breaks the ring too. The ids we hold are a bitmap the owner
 *    gives us (ids_held);
 *  - a chain whose extent and id are sound but whose buffers are bad is
 *    given back as used with len 0, as in split.
 * Positions: a slot and a wrap counter for where we take (last_avail,
 * avail_wrap) and where we write used elements (used_idx, used_wrap); a
 * used element skips as many slots as its chain took (ndesc). A used
 * element is the guest's as soon as its flags are stored: the buffers
 * of one mergeable frame are handed over as a group whose first flags
 * are stored last (2.7.9), and an element carries WRITE when the device
 * wrote into its buffer (len != 0), without which the guest ignores len
 * (2.7.3, 2.7.4).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vdp_ring.h"
#include "vdp_ring_internal.h"

int
vdp_packed_init(struct vdp_vring *vr, void *ring, void *driver_event,
		void *device_event, uint32_t size, uint16_t avail_slot,
		bool avail_wrap, uint16_t used_slot, bool used_wrap,
		uint64_t *ids_held)
{
	if (vr == NULL || ring == NULL || driver_event == NULL ||
	    device_event == NULL || ids_held == NULL)
		return -EINVAL;
	if (size == 0 || size > VDP_RING_SIZE_MAX || avail_slot >= size ||
	    used_slot >= size)
		return -EINVAL;
	/* Alignments of virtio 1.1 2.7.10.1 (our loads are natural). */
	if (((uintptr_t)ring & 15) != 0 || ((uintptr_t)driver_event & 3) != 0 ||
	    ((uintptr_t)device_event & 3) != 0)
		return -EINVAL;

	memset(vr, 0, sizeof(*vr));
	vr->layout = VDP_LAYOUT_PACKED;
	vr->pdesc = ring;
	vr->driver_event = driver_event;
	vr->device_event = device_event;
	vr->size = (uint16_t)size;   /* 32768 fits */
	vr->mask = 0;
	vr->last_avail = avail_slot;
	vr->avail_wrap = avail_wrap;
	vr->used_idx = used_slot;
	vr->used_wrap = used_wrap;
	vr->signalled_used = used_slot;
	vr->signalled_wrap = used_wrap;
	vr->signalled_valid = false;
	vr->hdr_len = VDP_NET_HDR_LEN_MRG;
	vr->ids_held = ids_held;
	memset(ids_held, 0, VDP_PACKED_IDS_WORDS(size) * sizeof(*ids_held));
	vdp_vring_burst_begin(vr);
	return 0;
}

/* A (slot, wrap) position on the circle of 2 * size positions ... */
static inline uint32_t
vdp_pcirc(uint16_t slot, bool wrap, uint32_t size)
{
	return slot + (wrap ? size : 0u);
}

/* ... and how far position to is ahead of position from on it. */
static inline uint32_t
vdp_pdist(uint32_t from, uint32_t to, uint32_t size)
{
	const uint32_t d = to + 2u * size - from;   /* both < 2 * size: no division */

	return d >= 2u * size ? d - 2u * size : d;
}

/* Slot after s, flipping *wrap at the end of the ring. */
static inline uint16_t
vdp_packed_next(const struct vdp_vring *vr, uint16_t s, bool *wrap)
{
	return (uint16_t)vdp_pslot_add(s, 1, vr->size, wrap);
}

int
vdp_packed_init_same(struct vdp_vring *vr, void *ring, void *driver_event,
		     void *device_event, uint32_t size, uint16_t avail_slot,
		     bool avail_wrap, uint16_t used_slot, bool used_wrap,
		     uint64_t *ids_held)
{
	uint64_t keep[VDP_PACKED_IDS_WORDS(VDP_RING_SIZE_MAX)];
	const bool same = vr != NULL && vr->layout == VDP_LAYOUT_PACKED && vr->size == size &&
			  vr->ids_held == ids_held && ids_held != NULL;
	const size_t bytes = VDP_PACKED_IDS_WORDS(size) * sizeof(uint64_t);
	int ret;

	if (same && size <= VDP_RING_SIZE_MAX)
		memcpy(keep, ids_held, bytes);
	ret = vdp_packed_init(vr, ring, driver_event, device_event, size, avail_slot,
			      avail_wrap, used_slot, used_wrap, ids_held);
	if (ret == 0 && same)
		memcpy(ids_held, keep, bytes);
	return ret;
}

uint16_t
vdp_packed_avail_count(struct vdp_vring *vr)
{
	uint16_t flags;

	if (VDP_UNLIKELY(vr->broken))
		return 0;
	/* Acquire: the slot's other fields (and the chain's other slots,
	 * written before the head) are the guest's finished writes. */
	flags = __atomic_load_n(&vr->pdesc[vr->last_avail].flags, __ATOMIC_ACQUIRE);
	return vdp_pdesc_avail(flags, vr->avail_wrap) ? 1 : 0;
}

/*
 * Resolve the indirect table of descriptor d (one ring slot) into c's
 * segments. Returns VDP_WALK_OK or the error; *nread counts table
 * entries read.
 */
static enum vdp_err
vdp_packed_indirect(const struct vdp_memmap *mm,
		    uint16_t want_write, const struct vdp_desc_val *d,
		    struct vdp_chain *c, uint32_t budget, uint32_t *nread,
		    uint64_t *total)
{
	const struct vdp_pdesc *t;
	uint64_t tlen = d->len;
	uint32_t n, i;

	if (d->len == 0 || (d->len % sizeof(struct vdp_pdesc)) != 0 ||
	    d->len / sizeof(struct vdp_pdesc) > VDP_RING_SIZE_MAX)
		return VDP_ERR_BAD_INDIRECT;
	t = vdp_gpa_to_hva(mm, d->addr, &tlen);
	if (t == NULL || tlen != d->len)
		return VDP_ERR_BAD_ADDR;
	if (((uintptr_t)t & 7) != 0)
		return VDP_ERR_BAD_INDIRECT;
	n = d->len / sizeof(struct vdp_pdesc);
	/* Entries follow each other; NEXT is not used in a packed table
	 * (2.7.7): the table's length is the chain's. */
	for (i = 0; i < n; i++) {
		struct vdp_desc_val e;
		uint16_t flags;
		enum vdp_err err;

		if (VDP_UNLIKELY(*nread == budget))
			return VDP_WALK_LIMIT;
		flags = __atomic_load_n(&t[i].flags, __ATOMIC_RELAXED);
		vdp_pdesc_load(&t[i], &e);
		++*nread;
		if (VDP_UNLIKELY(flags & VDP_DESC_F_INDIRECT))
			return VDP_ERR_NESTED_INDIRECT;
		if (VDP_UNLIKELY((flags & VDP_DESC_F_WRITE) != want_write))
			return VDP_ERR_BAD_DESC;
		if (VDP_UNLIKELY(e.len == 0))
			return VDP_ERR_ZERO_LEN;
		err = vdp_chain_add(c, mm, e.addr, e.len);
		if (VDP_UNLIKELY(err != VDP_WALK_OK))
			return err;
		*total += e.len;
	}
	return VDP_WALK_OK;
}

/*
 * Walk the chain whose head is at our position (available: the caller
 * loaded its flags, head_flags, and looked, then the rest of it, *head).
 * Finds its extent and id even when a buffer is bad, so that a bad chain
 * can be returned; *fatal when the extent or id cannot be trusted.
 * we->ndesc: descriptors read (ring slots and table entries). Out of
 * line: vdp_packed_fetch takes the common chain (one slot, one buffer)
 * without it, and stays small.
 */
static __attribute__((noinline)) enum vdp_err
vdp_packed_walk(struct vdp_vring *vr, const struct vdp_memmap *mm,
		enum vdp_dir dir, uint16_t head_flags, const struct vdp_desc_val *head,
		struct vdp_chain *c, struct vdp_walk_err *we)
{
	const uint16_t want_write = dir == VDP_DIR_WRITE ? VDP_DESC_F_WRITE : 0;
	const uint32_t budget = vr->budget_desc;
	uint16_t slot = vr->last_avail;
	bool wrap = vr->avail_wrap;
	enum vdp_err bad = VDP_WALK_OK;   /* first buffer error, if any */
	uint32_t bad_where = 0, nslots = 0;
	uint64_t total = 0;
	uint16_t flags, id = 0;
	struct vdp_desc_val d;

	we->ndesc = 0;
	c->nseg = 0;
	for (;;) {
		if (VDP_UNLIKELY(nslots == vr->size))
			return vdp_walk_fail(we, VDP_ERR_LOOP, true, slot);
		if (VDP_UNLIKELY(we->ndesc == budget))
			return vdp_walk_fail(we, VDP_WALK_LIMIT, false, slot);
		/* The head was loaded once by the caller (its flags first,
		 * with acquire); the other slots were written before them. */
		if (nslots == 0) {
			flags = head_flags;
			d = *head;
		} else {
			flags = __atomic_load_n(&vr->pdesc[slot].flags, __ATOMIC_RELAXED);
			/* The head made available last: the rest of the chain
			 * must be available already, in its own slot's phase. */
			if (VDP_UNLIKELY(!vdp_pdesc_avail(flags, wrap)))
				return vdp_walk_fail(we, VDP_ERR_BAD_DESC, true, slot);
			vdp_pdesc_load(&vr->pdesc[slot], &d);
		}
		we->ndesc++;
		nslots++;
		id = d.next;

		if (bad != VDP_WALK_OK) {
			/* already refused: only looking for the end */
		} else if (VDP_UNLIKELY(flags & VDP_DESC_F_INDIRECT)) {
			uint32_t nread = 0;

			if (!vr->indirect)
				bad = VDP_ERR_BAD_DESC;
			else if (flags & VDP_DESC_F_NEXT)
				bad = VDP_ERR_BAD_INDIRECT;
			else if (nslots != 1)
				bad = VDP_ERR_BAD_INDIRECT;   /* only a chain of its own */
			else
				bad = vdp_packed_indirect(mm, want_write, &d, c,
							  budget - we->ndesc, &nread,
							  &total);
			we->ndesc += nread;
			if (bad == VDP_WALK_LIMIT)
				return vdp_walk_fail(we, VDP_WALK_LIMIT, false, slot);
			if (bad != VDP_WALK_OK)
				bad_where = slot;
		} else if (VDP_UNLIKELY((flags & VDP_DESC_F_WRITE) != want_write)) {
			bad = VDP_ERR_BAD_DESC;
			bad_where = slot;
		} else if (VDP_UNLIKELY(d.len == 0)) {
			bad = VDP_ERR_ZERO_LEN;
			bad_where = slot;
		} else {
			bad = vdp_chain_add(c, mm, d.addr, d.len);
			if (bad != VDP_WALK_OK)
				bad_where = slot;
			total += d.len;
		}
		if (!(flags & VDP_DESC_F_NEXT))
			break;
		slot = vdp_packed_next(vr, slot, &wrap);
	}
	vdp_chain_set_id(c, id, (uint16_t)nslots);
	if (VDP_UNLIKELY(id >= vr->size || vdp_id_held(vr, id)))
		return vdp_walk_fail(we, VDP_ERR_BAD_ID, true, id);
	if (bad != VDP_WALK_OK)
		return vdp_walk_fail(we, bad, false, bad_where);
	return vdp_chain_check_len(vr, dir, c, total, we, slot);
}

enum vdp_fetch
vdp_packed_fetch_walk(struct vdp_vring *vr, const struct vdp_memmap *mm, enum vdp_dir dir,
		      uint16_t flags, const struct vdp_desc_val *dp, struct vdp_chain *c)
{
	const uint32_t budget = vr->budget_desc;
	struct vdp_walk_err we;
	enum vdp_err e;

	e = vdp_packed_walk(vr, mm, dir, flags, dp, c, &we);
	vr->budget_desc -= we.ndesc;
	if (VDP_LIKELY(e == VDP_WALK_OK)) {
		vdp_packed_taken(vr, c);
		return VDP_FETCH_OK;
	}
	if (VDP_UNLIKELY(e == VDP_WALK_LIMIT)) {
		vr->budget_desc = 0;
		/* A whole burst's budget did not reach the chain's end (only a
		 * chain of thousands of slots does that): no later burst will
		 * either. As a chain longer than the ring. */
		if (budget >= VDP_BURST_DESC_MAX) {
			vdp_vring_break(vr, VDP_ERR_CHAIN_TOO_LONG, vr->last_avail, we.where);
			return VDP_FETCH_BROKEN;
		}
		return vdp_ring_limit(vr);
	}
	if (we.fatal) {
		vdp_vring_break(vr, we.err, vr->last_avail, we.where);
		return VDP_FETCH_BROKEN;
	}
	/* a bad chain, sound extent and id: back to the guest, empty (with
	 * used_batch kept after the elements kept before it: ring order, and
	 * nothing of a burst the guest's before its publish; its id ours
	 * until then, as theirs) */
	vdp_vring_err(vr, we.err, c->id, we.where);
	vdp_packed_skip(vr, c->ndesc);
	vr->last_id = c->id;
	vr->last_id_ok = true;
	if (vr->used_batch) {
		vdp_id_set(vr, c->id, true);
		vdp_packed_used_keep(vr, c->id, c->ndesc, 0);
	} else {
		vdp_packed_used_put(vr, c->id, c->ndesc, 0);
	}
	vr->budget_bad--;
	return VDP_FETCH_BAD;
}

enum vdp_fetch
vdp_packed_fetch_stop(struct vdp_vring *vr)
{
	return vr->broken ? VDP_FETCH_BROKEN : vdp_ring_limit(vr);
}

enum vdp_fetch
vdp_packed_fetch(struct vdp_vring *vr, const struct vdp_memmap *mm,
		 enum vdp_dir dir, struct vdp_chain *c)
{
	return vdp_packed_fetch_l(vr, mm, dir, c);
}

void
vdp_packed_unfetch(struct vdp_vring *vr, const struct vdp_chain *c)
{
	vdp_packed_untake(vr, c->id, c->ndesc);
}

/*
 * A used element of phase wrap as the one 8-byte word of its slot that
 * holds len, id and flags (vdp_packed_used_store): one store hands the
 * three to the guest at once, instead of three stores to a line the
 * guest holds. WRITE when the device wrote into the buffer (len != 0):
 * the guest reads len only then (2.7.4).
 */
#define VDP_PWORD_WRAP ((uint64_t)(VDP_PDESC_F_AVAIL | VDP_PDESC_F_USED) << 48)

/* The word's flags for the phase wrap (WRITE apart). */
static inline uint64_t
vdp_packed_wrap_bits(bool wrap)
{
	return wrap ? VDP_PWORD_WRAP : 0;
}

/* The word, its phase's bits given (vdp_packed_wrap_bits). */
static inline uint64_t
vdp_packed_used_word_b(uint64_t wrap_bits, uint16_t id, uint32_t len)
{
	return len | (uint64_t)id << 32 | wrap_bits |
	       (len != 0 ? (uint64_t)VDP_DESC_F_WRITE << 48 : 0);
}

static inline uint64_t
vdp_packed_used_word(bool wrap, uint16_t id, uint32_t len)
{
	return vdp_packed_used_word_b(vdp_packed_wrap_bits(wrap), id, len);
}

/* Stores that word: 8-aligned, the ring's host address is 16-aligned
 * (vdp_packed_init refuses any other). */
typedef uint64_t __attribute__((may_alias)) vdp_pword;
static inline void
vdp_packed_used_store(struct vdp_pdesc *d, uint64_t w)
{
	__atomic_store_n((vdp_pword *)(void *)&d->len, w, __ATOMIC_RELEASE);
}

/*
 * n slots are about to be used: a whole lap of the 2 x size (slot, wrap)
 * positions or more since the last need_call, and the positions alone can
 * no longer tell whether off_wrap was stepped over (they came back round).
 * Forget the last check: the next one calls, as after init. Possible in
 * one burst on a small ring whose guest reposts buffers while we work (our
 * used elements are its at once). Once per element or group.
 */
static inline void
vdp_packed_used_lap(struct vdp_vring *vr, uint32_t n)
{
	const uint32_t size = vr->size;

	if (vr->signalled_valid &&
	    vdp_pdist(vdp_pcirc(vr->signalled_used, vr->signalled_wrap, size),
		      vdp_pcirc(vr->used_idx, vr->used_wrap, size), size) + n >= 2u * size)
		vr->signalled_valid = false;
}

/*
 * The slot of our used position, for a used element of chain id (the
 * caller stores its word); moves past the ndesc slots of the chain.
 */
static inline struct vdp_pdesc *
vdp_packed_used_step(struct vdp_vring *vr, uint16_t id, uint16_t ndesc)
{
	struct vdp_pdesc *d = &vr->pdesc[vr->used_idx];

	if (id < vr->size)
		vdp_id_set(vr, id, false);
	vr->used_idx = (uint16_t)vdp_pslot_add(vr->used_idx, vdp_used_slots(ndesc), vr->size,
					       &vr->used_wrap);
	vr->used_pending++;
	return d;
}

/*
 * What survives a crash, stored before the element (or group) it speaks
 * of: the elements themselves (group_ent, group: the record they belong
 * to), then the record: where they go, the slots they skip, the id of the
 * first. After a crash the ring shows whether the first was handed over,
 * and the group whether the hand-over was still under way (vdp_vq_resume).
 * The stores are ordered for the compiler (a killed process's stores that
 * were made are in the page: the order they were made in is what counts).
 */
static inline void
vdp_packed_state_record(struct vdp_vring *vr, const struct vdp_used_ent *e, uint32_t n,
			uint32_t nslots)
{
	struct vdp_ring_state *st = vr->state;
	uint64_t rec;

	if (st == NULL)
		return;
	rec = VDP_STATE_USED(vdp_vq_used_base(vr), nslots, e[0].id);
	if (n <= VDP_STATE_GROUP_MAX) {
		memcpy(st->group_ent, e, n * sizeof(*e));
		st->ngroup = n;
		__atomic_store_n(&st->group, rec, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&st->used, rec, __ATOMIC_RELEASE);
}

/* The hand-over the record speaks of is done (held entries cleared). */
static inline void
vdp_packed_state_done(struct vdp_vring *vr)
{
	if (vr->state != NULL)
		__atomic_store_n(&vr->state->group, 0, __ATOMIC_RELEASE);
}

/* One element, handed over at once (no record, no lap check). */
static inline void
vdp_packed_used_put1(struct vdp_vring *vr, uint16_t id, uint16_t ndesc, uint32_t len)
{
	const uint64_t w = vdp_packed_used_word(vr->used_wrap, id, len);
	struct vdp_pdesc *d = vdp_packed_used_step(vr, id, ndesc);

	/* Release: the buffer's bytes (and the elements before) first. */
	vdp_packed_used_store(d, w);
}

/* Handed over: a chain the state counted as held (zero-copy) is not any
 * more (cleared only now: a crash before leaves it held, never lost). */
static inline void
vdp_packed_state_unhold(struct vdp_vring *vr, uint16_t id)
{
	if (vr->state_holds && id < vr->size &&
	    __atomic_load_n(&vr->state->held[id], __ATOMIC_RELAXED) != 0)
		__atomic_store_n(&vr->state->held[id], 0, __ATOMIC_RELAXED);
}

void
vdp_packed_used_put(struct vdp_vring *vr, uint16_t id, uint16_t ndesc, uint32_t len)
{
	const struct vdp_used_ent e = { id, ndesc, len };
	const uint32_t nslots = vdp_used_slots(ndesc);

	vdp_packed_state_record(vr, &e, 1, nslots);
	vdp_packed_used_lap(vr, nslots);
	vdp_packed_used_put1(vr, id, ndesc, len);
	vdp_packed_state_unhold(vr, id);
	vdp_packed_state_done(vr);
}

/*
 * The ids of e[0..n) (those in range) are the guest's again: cleared a
 * 64-bit word at a time, one store per run of ids in the same word, in
 * locals (the stores into the guest's ring are may_alias: the compiler
 * would otherwise reload the bitmap and store each bit on its own).
 */
struct vdp_ids_run {
	uint32_t word;
	uint64_t bits;
};

static inline void
vdp_ids_run_add(uint64_t *held, struct vdp_ids_run *r, uint16_t id)
{
	if (id / 64u != r->word) {
		if (r->bits != 0)
			held[r->word] &= ~r->bits;
		r->word = id / 64u;
		r->bits = 0;
	}
	r->bits |= 1ull << (id % 64u);
}

static inline void
vdp_ids_run_end(uint64_t *held, const struct vdp_ids_run *r)
{
	if (r->bits != 0)
		held[r->word] &= ~r->bits;
}

/*
 * May the ids of n elements being handed over be released by clearing
 * the whole bitmap? Their ids are held (each chain's id is marked when it
 * is taken, and stays so until its element is handed over) and distinct
 * (a held id is refused at the take), so when the bitmap holds n ids it
 * holds theirs and no other. Counted only when there are no more words
 * than elements (a ring of up to 64 slots per element): the count and
 * the clearing then cost less than releasing id by id.
 */
static inline bool
vdp_ids_clear_whole(const struct vdp_vring *vr, uint32_t n)
{
	const uint32_t words = VDP_PACKED_IDS_WORDS(vr->size);
	uint32_t held = 0;

	/*
	 * Not on a ring that has held a chain for zero-copy since its state
	 * was attached (state_holds), nor on one that cannot tell (no
	 * state): the argument needs every element's id marked, and a chain
	 * out across bursts is where a mark could go missing (a reload used
	 * to forget them: vdp_packed_init_same keeps them now); an element
	 * unmarked would let the count match with another chain still out.
	 */
	if (vr->state == NULL || vr->state_holds || words > n)
		return false;
	for (uint32_t w = 0; w < words; w++)
		held += (uint32_t)__builtin_popcountll(vr->ids_held[w]);
	return held == n;
}

static inline void
vdp_ids_clear(struct vdp_vring *vr)
{
	memset(vr->ids_held, 0, VDP_PACKED_IDS_WORDS(vr->size) * sizeof(*vr->ids_held));
}

/* The ids of e[0..n), all held, are the guest's again. */
static inline void
vdp_packed_ids_release(struct vdp_vring *vr, const struct vdp_used_ent *e, uint32_t n)
{
	struct vdp_ids_run run = { UINT32_MAX, 0 };

	if (vdp_ids_clear_whole(vr, n)) {
		vdp_ids_clear(vr);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		if (e[i].id < vr->size)
			vdp_ids_run_add(vr->ids_held, &run, e[i].id);
	vdp_ids_run_end(vr->ids_held, &run);
}

/*
 * vdp_packed_used_put_group_n's pass over e[0..n): the words of e[1..n)
 * stored (e[0]'s, at *first, is the caller's: last), the ids released
 * as they pass unless whole (the caller clears the bitmap). Returns the
 * slot after the group; *wbits its phase's bits. ones: every element
 * takes one slot (the group's slots are n: a receiver's plain buffers),
 * not looked up element by element. One copy for each value of whole
 * and ones: the tests are not made per element.
 */
static VDP_ALWAYS_INLINE uint32_t
vdp_packed_used_walk(struct vdp_vring *vr, const struct vdp_used_ent *e, uint32_t n,
		     uint64_t *wbits, bool whole, bool ones)
{
	struct vdp_pdesc *const ring = vr->pdesc;
	uint64_t *const held = vr->ids_held;
	const uint32_t size = vr->size;
	struct vdp_ids_run run = { UINT32_MAX, 0 };
	uint64_t wb = *wbits;
	uint32_t s = vr->used_idx;

	for (uint32_t i = 0;;) {
		const uint16_t id = e[i].id;

		s += ones ? 1u : vdp_used_slots(e[i].ndesc);
		if (s >= size) {
			s -= size;
			wb ^= VDP_PWORD_WRAP;   /* the phase flips */
		}
		if (!whole && id < size)
			vdp_ids_run_add(held, &run, id);
		if (++i == n)
			break;
		vdp_packed_used_store(&ring[s], vdp_packed_used_word_b(wb, e[i].id, e[i].len));
	}
	if (!whole)
		vdp_ids_run_end(held, &run);
	*wbits = wb;
	return s;
}

/* vdp_packed_used_put_group, the slots of e[0..n) known (nslots); held:
 * every element's id is held (vdp_ids_clear_whole), not released before. */
static void
vdp_packed_used_put_group_n(struct vdp_vring *vr, const struct vdp_used_ent *e, uint32_t n,
			    uint32_t nslots, bool held_all)
{
	const bool whole = held_all && vdp_ids_clear_whole(vr, n);
	struct vdp_pdesc *first;
	uint64_t first_w, wbits;
	uint32_t s;

	/* the group is handed over whole or not at all: one record */
	vdp_packed_state_record(vr, e, n, nslots);
	vdp_packed_used_lap(vr, nslots);
	/*
	 * One pass, walked in locals, and our positions stored once after:
	 * the stores into the guest's ring (may_alias) would otherwise make
	 * the compiler store them back after each element, and each of our
	 * stores waits in the store buffer behind the guest's lines (a
	 * burst's 64 kept elements, or a mergeable frame's up to 128
	 * buffers, in one go). The ids are the guest's again as they pass
	 * (our bitmap: nothing the guest sees).
	 */
	wbits = vdp_packed_wrap_bits(vr->used_wrap);
	first = &vr->pdesc[vr->used_idx];
	first_w = vdp_packed_used_word_b(wbits, e[0].id, e[0].len);
	/* every element at least one slot: n slots, each one */
	if (whole) {
		s = nslots == n ? vdp_packed_used_walk(vr, e, n, &wbits, true, true) :
				  vdp_packed_used_walk(vr, e, n, &wbits, true, false);
		vdp_ids_clear(vr);
	} else {
		s = vdp_packed_used_walk(vr, e, n, &wbits, false, false);
	}
	vr->used_idx = (uint16_t)s;
	vr->used_wrap = wbits != 0;
	vr->used_pending = (uint16_t)(vr->used_pending + n);
	/* The guest looks at the first element only: once it is used, all
	 * of the group are (release: their stores before this one). */
	vdp_packed_used_store(first, first_w);
	if (vr->state_holds)
		for (uint32_t i = 0; i < n; i++)
			vdp_packed_state_unhold(vr, e[i].id);
	vdp_packed_state_done(vr);
}

void
vdp_packed_used_put_group(struct vdp_vring *vr, const struct vdp_used_ent *e, uint32_t n)
{
	uint32_t nslots = 0;

	if (n == 0)
		return;
	for (uint32_t i = 0; i < n; i++)
		nslots += vdp_used_slots(e[i].ndesc);
	vdp_packed_used_put_group_n(vr, e, n, nslots, true);
}

void
vdp_packed_used_put_kept(struct vdp_vring *vr)
{
	const struct vdp_used_ent *const e = vr->shadow;
	const uint32_t n = vr->nshadow, slots = vr->shadow_slots;
	const uint32_t size = vr->size;
	struct vdp_used_ent one;
	uint32_t taken;

	/* in order, none with a length (vdp_packed_used_keep's summary) */
	if (!vr->in_order || n < 2 || vr->shadow_lens != 0 || !vr->last_id_ok)
		goto each;
	/* slots from the used position to the take position: every chain
	 * taken and not given back yet; all of them kept? */
	taken = vdp_pdist(vdp_pcirc(vr->used_idx, vr->used_wrap, size),
			  vdp_pcirc(vr->last_avail, vr->avail_wrap, size), size);
	if (taken != slots)
		goto each;
	/* the chain taken last among them (the last one, unless they were
	 * given back out of order), none held in the state (zero-copy) */
	if (e[n - 1].id != vr->last_id || vr->state_holds) {
		bool last_kept = false;

		for (uint32_t i = 0; i < n; i++) {
			if (e[i].id >= size ||
			    (vr->state_holds &&
			     __atomic_load_n(&vr->state->held[e[i].id], __ATOMIC_RELAXED) != 0))
				goto each;
			last_kept |= e[i].id == vr->last_id;
		}
		if (!last_kept)
			goto each;
	}
	/* the others' ids are the guest's again with the one element (the
	 * last one's too, again, by vdp_packed_used_put_group_n) */
	vdp_packed_ids_release(vr, e, n);
	one.id = vr->last_id;
	one.ndesc = (uint16_t)slots;   /* <= size <= 32768 */
	one.len = 0;
	vdp_packed_used_put_group_n(vr, &one, 1, slots, false);
	/* used_pending counts chains given back, as without it */
	vr->used_pending = (uint16_t)(vr->used_pending + n - 1);
	return;
each:
	if (n != 0)
		vdp_packed_used_put_group_n(vr, e, n, slots, true);
}

bool
vdp_packed_need_call(struct vdp_vring *vr)
{
	const uint16_t size = vr->size;
	uint16_t old = vr->signalled_used, new = vr->used_idx;
	bool valid = vr->signalled_valid, old_wrap = vr->signalled_wrap;
	uint16_t flags, off_wrap, ev;
	uint32_t now, since, ev_dist;

	/* Our used flags stores before the guest's event load (as split). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vr->signalled_used = new;
	vr->signalled_wrap = vr->used_wrap;
	vr->signalled_valid = true;

	/* Acquire: the guest writes off_wrap before the flags that make it
	 * count (DISABLE to DESC); seeing those flags, we see that off_wrap. */
	flags = __atomic_load_n(&vr->driver_event->flags, __ATOMIC_ACQUIRE);
	if (flags == VDP_PEVENT_DISABLE)
		return false;
	if (flags != VDP_PEVENT_DESC || !vr->event_idx)
		return true;   /* ENABLE, or a value we do not know: call */
	if (!valid)
		return true;
	off_wrap = __atomic_load_n(&vr->driver_event->off_wrap, __ATOMIC_RELAXED);
	ev = off_wrap & 0x7fff;
	if (ev >= size)
		return true;   /* nonsense: a call never hurts */
	/*
	 * Distances on the circle of 2 * size positions (slot, wrap): how far
	 * we moved since the last check, and how far the event position is
	 * behind where we are now. The guest wants a call when we stepped
	 * over (or onto) its position: ev_dist < since.
	 */
	now = vdp_pcirc(new, vr->used_wrap, size);
	since = vdp_pdist(vdp_pcirc(old, old_wrap, size), now, size);
	ev_dist = vdp_pdist(vdp_pcirc(ev, off_wrap >> 15, size), now, size);
	ev_dist = ev_dist != 0 ? ev_dist - 1u : 2u * size - 1u;   /* - 1, on the circle */
	return ev_dist < since;
}

void
vdp_packed_suppress_kicks(struct vdp_vring *vr)
{
	/* We poll: no notifications, whatever EVENT_IDX says. */
	__atomic_store_n(&vr->device_event->flags, VDP_PEVENT_DISABLE, __ATOMIC_RELAXED);
}

void
vdp_packed_enable_kicks(struct vdp_vring *vr)
{
	struct vdp_pevent ev = {
		.off_wrap = VDP_PEVENT_OURS,
		.flags = VDP_PEVENT_ENABLE,
	};
	uint32_t w;

	if (vr->event_idx) {
		ev.off_wrap = (uint16_t)(vr->last_avail |
					 (uint16_t)vr->avail_wrap << VDP_PACKED_WRAP_BIT);
		ev.flags = VDP_PEVENT_DESC;
	}
	memcpy(&w, &ev, sizeof(w));
	__atomic_store_n((uint32_t *)vr->device_event, w, __ATOMIC_RELAXED);
	if (vr->log)
		vdp_log_hva(vr, vr->device_event, sizeof(*vr->device_event));
}
