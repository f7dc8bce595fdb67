/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split-virtqueue layout: the device side of virtio 1.1 section 2.6, over
 * guest memory that the guest may rewrite at any moment. Also what both
 * layouts share: ring set-up checks, errors, chain copies. The frame
 * logic is in vdp_net.c, the packed layout in vdp_packed.c.
 *
 * Rules kept throughout this file:
 *  - every field of guest memory (avail idx, avail ring entry, descriptor
 *    addr/len/flags/next, used_event) is loaded exactly once, with an
 *    atomic load, into a local; checks and uses are on the local only;
 *  - every guest address is translated with vdp_gpa_to_hva() before use,
 *    byte range included, so nothing outside guest memory is touched;
 *  - every walk is bounded by the size of the table it walks and by
 *    VDP_CHAIN_MAX_SEGS buffers, and every burst by its work budget
 *    (VDP_BURST_DESC_MAX descriptors, VDP_BURST_BAD_MAX refused chains).
 *
 * Two kinds of failure: a bad chain (its own fault: counted, given back
 * to the guest with used len 0, the ring goes on) and a broken ring (the
 * ring state itself cannot be trusted: the queue must stop).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vdp_ring.h"
#include "vdp_ring_internal.h"

const char *const vdp_err_names[VDP_ERR_MAX] = {
	[VDP_ERR_NONE] = "none",
#define VDP_ERR_NAME_(e, name, desc) [VDP_ERR_##e] = name,
	VDP_ERR_LIST(VDP_ERR_NAME_)
#undef VDP_ERR_NAME_
};

const char *const vdp_err_descs[VDP_ERR_MAX] = {
	[VDP_ERR_NONE] = "not an error",
#define VDP_ERR_DESC_(e, name, desc) [VDP_ERR_##e] = desc,
	VDP_ERR_LIST(VDP_ERR_DESC_)
#undef VDP_ERR_DESC_
};

/* ---- ring set-up ---- */

int
vdp_vring_init(struct vdp_vring *vr, void *desc, void *avail, void *used,
	       uint32_t size, uint16_t last_avail, uint16_t used_idx)
{
	if (vr == NULL || desc == NULL || avail == NULL || used == NULL)
		return -EINVAL;
	if (size == 0 || size > VDP_RING_SIZE_MAX || (size & (size - 1)) != 0)
		return -EINVAL;
	/* Alignments required by virtio 1.1 2.6 (our loads are natural). */
	if (((uintptr_t)desc & 15) != 0 || ((uintptr_t)avail & 1) != 0 ||
	    ((uintptr_t)used & 3) != 0)
		return -EINVAL;

	memset(vr, 0, sizeof(*vr));
	vr->layout = VDP_LAYOUT_SPLIT;
	vr->desc = desc;
	vr->avail = avail;
	vr->used = used;
	vr->size = (uint16_t)size; /* 32768 fits */
	vr->mask = (uint16_t)(size - 1);
	vr->last_avail = last_avail;
	vr->avail_cache = last_avail;
	vr->used_idx = used_idx;
	vr->signalled_used = used_idx;
	vr->signalled_valid = false;
	vr->hdr_len = VDP_NET_HDR_LEN_MRG;
	vdp_vring_burst_begin(vr);
	return 0;
}

bool
vdp_vring_in_map(const struct vdp_vring *vr, const struct vdp_memmap *mm)
{
	uint64_t n = vr->size;

	if (vr->layout == VDP_LAYOUT_PACKED)
		return vdp_hva_in_map(mm, vr->pdesc, n * sizeof(struct vdp_pdesc)) &&
		       vdp_hva_in_map(mm, vr->driver_event, sizeof(struct vdp_pevent)) &&
		       vdp_hva_in_map(mm, vr->device_event, sizeof(struct vdp_pevent));
	return vdp_hva_in_map(mm, vr->desc, n * sizeof(struct vdp_desc)) &&
	       vdp_hva_in_map(mm, vr->avail,
			      sizeof(struct vdp_avail) + (n + 1) * sizeof(uint16_t)) &&
	       vdp_hva_in_map(mm, vr->used,
			      sizeof(struct vdp_used) +
			      n * sizeof(struct vdp_used_elem) + sizeof(uint16_t));
}

void
vdp_vring_break(struct vdp_vring *vr, enum vdp_err e, uint32_t a, uint32_t b)
{
	/* The first reason is the one counted; later calls change nothing. */
	if (vr->broken)
		return;
	vr->broken = true;
	vdp_vring_err(vr, e, a, b);
}

uint16_t
vdp_split_avail_count(struct vdp_vring *vr)
{
	uint16_t idx, n;

	if (VDP_UNLIKELY(vr->broken))
		return 0;
	/* Acquire: the ring entries and descriptors published before idx. */
	idx = __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);
	n = (uint16_t)(idx - vr->last_avail);
	if (VDP_UNLIKELY(n > vr->size)) {
		vdp_vring_break(vr, VDP_ERR_AVAIL_JUMP, idx, vr->last_avail);
		return 0;
	}
	vr->avail_cache = idx;
	return n;
}

/* ---- descriptor chains ---- */

/*
 * Resolve the chain at head into host segments. The walk reads at most
 * VDP_CHAIN_MAX_SEGS + 2 descriptors (the buffers, one indirect pointer,
 * and the one found past the limit), and never more than the budget left
 * (VDP_WALK_LIMIT: nothing decided, nothing consumed).
 */
static enum vdp_err
vdp_split_walk(const struct vdp_vring *vr, const struct vdp_memmap *mm,
	       enum vdp_dir dir, uint16_t head, const struct vdp_desc_val *first,
	       struct vdp_chain *c, struct vdp_walk_err *we)
{
	const uint16_t want_write = dir == VDP_DIR_WRITE ? VDP_DESC_F_WRITE : 0;
	const uint32_t budget = vr->budget_desc;
	const struct vdp_desc *tbl = vr->desc;
	uint32_t tsize = vr->size;
	uint32_t idx = head;
	uint32_t walked = 0;
	uint64_t total = 0;
	bool in_indirect = false;
	struct vdp_desc_val d;

	we->ndesc = 0;
	c->nseg = 0;
	for (;;) {
		/* Out of range: the main table is corrupt; an indirect
		 * table is just this chain's own bad data. */
		if (VDP_UNLIKELY(idx >= tsize))
			return vdp_walk_fail(we, VDP_ERR_BAD_DESC, !in_indirect, idx);
		if (VDP_UNLIKELY(++walked > tsize))
			return vdp_walk_fail(we, VDP_ERR_LOOP, !in_indirect, idx);
		if (VDP_UNLIKELY(we->ndesc == budget))
			return vdp_walk_fail(we, VDP_WALK_LIMIT, false, idx);

		if (first != NULL) {
			d = *first;   /* tbl[head], read by the caller */
			first = NULL;
		} else {
			vdp_desc_load(&tbl[idx], &d);
		}
		we->ndesc++;

		if (VDP_UNLIKELY(d.flags & VDP_DESC_F_INDIRECT)) {
			uint64_t tlen = d.len;
			void *t;

			if (in_indirect)
				return vdp_walk_fail(we, VDP_ERR_NESTED_INDIRECT, false, idx);
			if (!vr->indirect)
				return vdp_walk_fail(we, VDP_ERR_BAD_DESC, false, idx);
			if (d.flags & VDP_DESC_F_NEXT)
				return vdp_walk_fail(we, VDP_ERR_BAD_INDIRECT, false, idx);
			if (d.len == 0 || (d.len % sizeof(struct vdp_desc)) != 0 ||
			    d.len / sizeof(struct vdp_desc) > VDP_RING_SIZE_MAX)
				return vdp_walk_fail(we, VDP_ERR_BAD_INDIRECT, false, idx);
			t = vdp_gpa_to_hva(mm, d.addr, &tlen);
			if (t == NULL || tlen != d.len)
				return vdp_walk_fail(we, VDP_ERR_BAD_ADDR, false, idx);
			/* Our loads are natural-size: the table must be
			 * 8-byte aligned (every known driver aligns it). */
			if (((uintptr_t)t & 7) != 0)
				return vdp_walk_fail(we, VDP_ERR_BAD_INDIRECT, false, idx);
			/* WRITE on the indirect descriptor itself is ignored
			 * (virtio 1.1 2.6.5.3.2). */
			tbl = t;
			tsize = d.len / sizeof(struct vdp_desc);
			idx = 0;
			walked = 0;
			in_indirect = true;
			continue;
		}

		if (VDP_UNLIKELY((d.flags & VDP_DESC_F_WRITE) != want_write))
			return vdp_walk_fail(we, VDP_ERR_BAD_DESC, false, idx);
		if (VDP_UNLIKELY(d.len == 0))
			return vdp_walk_fail(we, VDP_ERR_ZERO_LEN, false, idx);

		/* One segment per region the buffer touches; the walk ends
		 * at the first segment past the limit (a longer chain, or a
		 * loop longer than it, is refused there, not walked on). */
		{
			enum vdp_err e = vdp_chain_add(c, mm, d.addr, d.len);

			if (VDP_UNLIKELY(e != VDP_WALK_OK))
				return vdp_walk_fail(we, e, false, idx);
		}
		total += d.len;

		if (!(d.flags & VDP_DESC_F_NEXT))
			break;
		idx = d.next;
	}

	vdp_chain_set_id(c, head, 1);
	return vdp_chain_check_len(vr, dir, c, total, we, idx);
}

/* Give a chain we refuse back to the guest, empty, and move on. */
static inline void
vdp_split_drop_chain(struct vdp_vring *vr, uint16_t head, enum vdp_err e,
		     uint32_t where)
{
	vdp_vring_err(vr, e, head, where);
	vdp_split_used_put(vr, head, 0);
	vr->last_avail++;
	vr->budget_bad--;
}

enum vdp_fetch
vdp_split_fetch_head(struct vdp_vring *vr, const struct vdp_memmap *mm,
		     enum vdp_dir dir, uint16_t head, const struct vdp_desc_val *d,
		     struct vdp_chain *c)
{
	struct vdp_walk_err we;
	enum vdp_err e;

	if (VDP_UNLIKELY(head >= vr->size)) {
		vdp_vring_break(vr, VDP_ERR_BAD_DESC, head, vr->last_avail & vr->mask);
		return VDP_FETCH_BROKEN;
	}
	e = vdp_split_walk(vr, mm, dir, head, d, c, &we);
	vr->budget_desc -= we.ndesc;
	if (VDP_LIKELY(e == VDP_WALK_OK)) {
		vr->last_avail++;
		return VDP_FETCH_OK;
	}
	if (VDP_UNLIKELY(e == VDP_WALK_LIMIT)) {
		vr->budget_desc = 0;  /* nothing more this burst */
		return vdp_ring_limit(vr);
	}
	if (we.fatal) {
		vdp_vring_break(vr, we.err, head, we.where);
		return VDP_FETCH_BROKEN;
	}
	vdp_split_drop_chain(vr, head, we.err, we.where);
	return VDP_FETCH_BAD;
}

enum vdp_fetch
vdp_split_fetch(struct vdp_vring *vr, const struct vdp_memmap *mm,
		enum vdp_dir dir, struct vdp_chain *c)
{
	if (VDP_UNLIKELY(vr->broken))
		return VDP_FETCH_BROKEN;
	if (VDP_UNLIKELY(vr->budget_desc == 0 || vr->budget_bad == 0))
		return vdp_ring_limit(vr);
	/* Callers are told to check avail_count first; be safe anyway. */
	if (VDP_UNLIKELY(vr->last_avail == vr->avail_cache) &&
	    vdp_split_avail_count(vr) == 0)
		return vr->broken ? VDP_FETCH_BROKEN : VDP_FETCH_EMPTY;
	return vdp_split_take_l(vr, mm, dir, c);
}

/* Copy between a chain (from byte off) and a flat buffer. */
static inline uint32_t
vdp_chain_copy(const struct vdp_chain *c, uint32_t off, uint8_t *buf,
	       uint32_t len, bool to_chain)
{
	uint32_t nseg = c->nseg < VDP_CHAIN_MAX_SEGS ? c->nseg : VDP_CHAIN_MAX_SEGS;
	uint32_t i = 0, done = 0;

	while (i < nseg && off >= c->seg[i].len) {
		off -= c->seg[i].len;
		i++;
	}
	for (; i < nseg && done < len; i++) {
		uint32_t n = c->seg[i].len - off;

		if (n > len - done)
			n = len - done;
		if (to_chain)
			memcpy(c->seg[i].hva + off, buf + done, n);
		else
			memcpy(buf + done, c->seg[i].hva + off, n);
		done += n;
		off = 0;
	}
	return done;
}

uint32_t
vdp_chain_read(const struct vdp_chain *c, uint32_t off, void *dst, uint32_t len)
{
	return vdp_chain_copy(c, off, dst, len, false);
}

uint32_t
vdp_chain_write(const struct vdp_chain *c, uint32_t off, const void *src, uint32_t len)
{
	return vdp_chain_copy(c, off, (uint8_t *)(uintptr_t)src, len, true);
}

/* ---- notifications ---- */

bool
vdp_split_need_call(struct vdp_vring *vr)
{
	uint16_t old = vr->signalled_used;
	uint16_t new = vr->used_idx;
	bool valid = vr->signalled_valid;

	/* Our used idx store before the guest's flags / used_event load:
	 * otherwise a guest going to sleep could miss our update. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	if (new == old)
		return false; /* nothing published since the last check */
	vr->signalled_used = new;
	vr->signalled_valid = true;

	if (vr->event_idx) {
		uint16_t event = __atomic_load_n(&vr->avail->ring[vr->size],
						 __ATOMIC_RELAXED);

		/* After (re)start we do not know what the guest waited
		 * for: call once rather than risk a stall. */
		if (!valid)
			return true;
		/* Did [old, new) step over event? (virtio 1.1 2.6.7.2) */
		return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
	}
	return !(__atomic_load_n(&vr->avail->flags, __ATOMIC_RELAXED) &
		 VDP_AVAIL_F_NO_INTERRUPT);
}

void
vdp_split_suppress_kicks(struct vdp_vring *vr)
{
	/*
	 * Without EVENT_IDX: NO_NOTIFY in used->flags.
	 * With EVENT_IDX the guest ignores used->flags (and we must leave it
	 * 0) and kicks only when its avail idx steps over avail_event. We
	 * never move avail_event, so the guest's idx meets it at most once
	 * per 65536 chains: an occasional spurious kick, harmless while we
	 * poll, and no store into the ring per burst.
	 */
	if (!vr->event_idx)
		__atomic_store_n(&vr->used->flags, VDP_USED_F_NO_NOTIFY,
				 __ATOMIC_RELAXED);
}

void
vdp_split_enable_kicks(struct vdp_vring *vr)
{
	if (vr->event_idx) {
		uint16_t *avail_event = (uint16_t *)&vr->used->ring[vr->size];

		__atomic_store_n(avail_event, vr->last_avail, __ATOMIC_RELAXED);
		if (vr->log)
			vdp_log_hva(vr, avail_event, sizeof(*avail_event));
	} else {
		__atomic_store_n(&vr->used->flags, 0, __ATOMIC_RELAXED);
		if (vr->log)
			vdp_log_hva(vr, &vr->used->flags, sizeof(vr->used->flags));
	}
}
