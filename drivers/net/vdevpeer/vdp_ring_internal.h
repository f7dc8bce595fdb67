/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the two ring layouts (vdp_split.c, vdp_packed.c) share inside the
 * core: the one-read descriptor value, the walk result, adding a buffer
 * to a chain, the length checks of a finished chain, the budget stop.
 * Not for users of the core (vdp_ring.h is).
 */
#ifndef VDP_RING_INTERNAL_H
#define VDP_RING_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "vdp_ring.h"

/* Result of a walk: VDP_WALK_OK when the chain is good. */
struct vdp_walk_err {
	enum vdp_err err;
	bool fatal;      /* the ring itself is corrupt: break it */
	uint32_t where;  /* descriptor index (or slot) the error was found at */
	uint32_t ndesc;  /* descriptors read, charged to the burst */
};

#define VDP_WALK_OK VDP_ERR_MAX
#define VDP_WALK_LIMIT VDP_ERR_NONE  /* the budget ran out before the end */

static inline enum vdp_err
vdp_walk_fail(struct vdp_walk_err *we, enum vdp_err e, bool fatal, uint32_t where)
{
	we->err = e;
	we->fatal = fatal;
	we->where = where;
	return e;
}

/*
 * Add the buffer [gpa, gpa + len) to c: one segment per region it
 * touches. VDP_WALK_OK, VDP_ERR_BAD_ADDR (outside guest memory) or
 * VDP_ERR_CHAIN_TOO_LONG (past VDP_CHAIN_MAX_SEGS segments).
 */
static inline enum vdp_err
vdp_chain_add(struct vdp_chain *c, const struct vdp_memmap *mm, uint64_t gpa,
	      uint32_t len)
{
	uint64_t rem = len;

	do {
		uint64_t l = rem;
		void *p = vdp_gpa_to_hva(mm, gpa, &l);

		if (VDP_UNLIKELY(p == NULL))
			return VDP_ERR_BAD_ADDR;
		if (VDP_UNLIKELY(c->nseg == VDP_CHAIN_MAX_SEGS))
			return VDP_ERR_CHAIN_TOO_LONG;
		c->seg[c->nseg].hva = p;
		c->seg[c->nseg].len = (uint32_t)l;
		c->nseg++;
		gpa += l;
		rem -= l;
	} while (rem != 0);
	return VDP_WALK_OK;
}

/*
 * A walked chain of total bytes: too big for us, or (guest TX) shorter
 * than the virtio-net header or longer than a frame may be? Sets c->len.
 */
static inline enum vdp_err
vdp_chain_check_len(const struct vdp_vring *vr, enum vdp_dir dir,
		    struct vdp_chain *c, uint64_t total, struct vdp_walk_err *we,
		    uint32_t where)
{
	if (VDP_UNLIKELY(total > UINT32_MAX))
		return vdp_walk_fail(we, VDP_ERR_TOO_BIG, false, where);
	if (dir == VDP_DIR_READ) {
		if (VDP_UNLIKELY(total > (uint64_t)vr->hdr_len + VDP_TX_FRAME_MAX))
			return vdp_walk_fail(we, VDP_ERR_TOO_BIG, false, where);
		if (VDP_UNLIKELY(total < vr->hdr_len))
			return vdp_walk_fail(we, VDP_ERR_SHORT_CHAIN, false, where);
	}
	c->len = (uint32_t)total;
	return VDP_WALK_OK;
}

/* The burst's budget is spent: say so (once per burst) and stop. */
static inline enum vdp_fetch
vdp_ring_limit(struct vdp_vring *vr)
{
	if (!vr->budget_hit) {
		vr->budget_hit = true;
		VDP_CNT_INC(vr->budget_stops);
	}
	return VDP_FETCH_LIMIT;
}

#endif /* VDP_RING_INTERNAL_H */
