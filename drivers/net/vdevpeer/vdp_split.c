/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split-virtqueue walkers: the device side of virtio 1.1 section 2.6, over
 * guest memory that the guest may rewrite at any moment.
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

#define VDP_LIKELY(x) __builtin_expect(!!(x), 1)
#define VDP_UNLIKELY(x) __builtin_expect(!!(x), 0)

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

struct vdp_desc_val {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* The one read of a descriptor: each field once, into a local. */
static inline void
vdp_desc_load(const struct vdp_desc *d, struct vdp_desc_val *v)
{
	v->addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED);
	v->len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	v->flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
	v->next = __atomic_load_n(&d->next, __ATOMIC_RELAXED);
}

/* Result of a walk: VDP_ERR_MAX when the chain is good. */
struct vdp_walk_err {
	enum vdp_err err;
	bool fatal;      /* the main table is corrupt: break the ring */
	uint32_t where;  /* descriptor index the error was found at */
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
 * Resolve the chain at head into host segments. The walk reads at most
 * VDP_CHAIN_MAX_SEGS + 2 descriptors (the buffers, one indirect pointer,
 * and the one found past the limit), and never more than the budget left
 * (VDP_WALK_LIMIT: nothing decided, nothing consumed).
 */
static enum vdp_err
vdp_split_walk(const struct vdp_vring *vr, const struct vdp_memmap *mm,
	       enum vdp_dir dir, uint16_t head, struct vdp_chain *c,
	       struct vdp_walk_err *we)
{
	const uint16_t want_write = dir == VDP_DIR_WRITE ? VDP_DESC_F_WRITE : 0;
	const uint32_t budget = vr->budget_desc;
	const struct vdp_desc *tbl = vr->desc;
	uint32_t tsize = vr->size;
	uint32_t idx = head;
	uint32_t walked = 0;
	uint32_t nseg = 0;
	uint64_t total = 0;
	bool in_indirect = false;
	struct vdp_desc_val d;

	we->ndesc = 0;
	for (;;) {
		/* Out of range: the main table is corrupt; an indirect
		 * table is just this chain's own bad data. */
		if (VDP_UNLIKELY(idx >= tsize))
			return vdp_walk_fail(we, VDP_ERR_BAD_DESC, !in_indirect, idx);
		if (VDP_UNLIKELY(++walked > tsize))
			return vdp_walk_fail(we, VDP_ERR_LOOP, !in_indirect, idx);
		if (VDP_UNLIKELY(we->ndesc == budget))
			return vdp_walk_fail(we, VDP_WALK_LIMIT, false, idx);

		vdp_desc_load(&tbl[idx], &d);
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
		uint64_t gpa = d.addr;
		uint64_t rem = d.len;

		do {
			uint64_t l = rem;
			void *p = vdp_gpa_to_hva(mm, gpa, &l);

			if (VDP_UNLIKELY(p == NULL))
				return vdp_walk_fail(we, VDP_ERR_BAD_ADDR, false, idx);
			if (VDP_UNLIKELY(nseg == VDP_CHAIN_MAX_SEGS))
				return vdp_walk_fail(we, VDP_ERR_CHAIN_TOO_LONG, false, idx);
			c->seg[nseg].hva = p;
			c->seg[nseg].len = (uint32_t)l;
			nseg++;
			gpa += l;
			rem -= l;
		} while (rem != 0);
		total += d.len;

		if (!(d.flags & VDP_DESC_F_NEXT))
			break;
		idx = d.next;
	}

	if (VDP_UNLIKELY(total > UINT32_MAX))
		return vdp_walk_fail(we, VDP_ERR_TOO_BIG, false, idx);
	if (dir == VDP_DIR_READ) {
		if (VDP_UNLIKELY(total > (uint64_t)vr->hdr_len + VDP_TX_FRAME_MAX))
			return vdp_walk_fail(we, VDP_ERR_TOO_BIG, false, idx);
		if (VDP_UNLIKELY(total < vr->hdr_len))
			return vdp_walk_fail(we, VDP_ERR_SHORT_CHAIN, false, idx);
	}
	c->head = head;
	c->nseg = (uint16_t)nseg;
	c->len = (uint32_t)total;
	return VDP_WALK_OK;
}

/* The burst's budget is spent: say so (once per burst) and stop. */
static inline enum vdp_fetch
vdp_split_limit(struct vdp_vring *vr)
{
	if (!vr->budget_hit) {
		vr->budget_hit = true;
		VDP_CNT_INC(vr->budget_stops);
	}
	return VDP_FETCH_LIMIT;
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
vdp_split_fetch(struct vdp_vring *vr, const struct vdp_memmap *mm,
		enum vdp_dir dir, struct vdp_chain *c)
{
	struct vdp_walk_err we;
	uint16_t slot, head;
	enum vdp_err e;

	if (VDP_UNLIKELY(vr->broken))
		return VDP_FETCH_BROKEN;
	if (VDP_UNLIKELY(vr->budget_desc == 0 || vr->budget_bad == 0))
		return vdp_split_limit(vr);
	/* Callers are told to check avail_count first; be safe anyway. */
	if (VDP_UNLIKELY(vr->last_avail == vr->avail_cache) &&
	    vdp_split_avail_count(vr) == 0)
		return vr->broken ? VDP_FETCH_BROKEN : VDP_FETCH_EMPTY;

	slot = vr->last_avail & vr->mask;
	head = __atomic_load_n(&vr->avail->ring[slot], __ATOMIC_RELAXED);
	if (VDP_UNLIKELY(head >= vr->size)) {
		vdp_vring_break(vr, VDP_ERR_BAD_DESC, head, slot);
		return VDP_FETCH_BROKEN;
	}
	e = vdp_split_walk(vr, mm, dir, head, c, &we);
	vr->budget_desc -= we.ndesc;
	if (VDP_LIKELY(e == VDP_WALK_OK)) {
		vr->last_avail++;
		return VDP_FETCH_OK;
	}
	if (VDP_UNLIKELY(e == VDP_WALK_LIMIT)) {
		vr->budget_desc = 0;  /* nothing more this burst */
		return vdp_split_limit(vr);
	}
	if (we.fatal) {
		vdp_vring_break(vr, we.err, head, we.where);
		return VDP_FETCH_BROKEN;
	}
	vdp_split_drop_chain(vr, head, we.err, we.where);
	return VDP_FETCH_BAD;
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

/* ---- guest RX: frames into the guest's buffers ---- */

/* Read cursor over (header, src[0..nsrc)). */
struct vdp_src {
	const uint8_t *p;
	uint32_t left;        /* bytes left at p */
	uint32_t next;        /* next iov to load */
	uint32_t niov;
	const struct vdp_iov *iov;
};

/* Fill chain c from the cursor; return the bytes written. */
static uint32_t
vdp_chain_fill(const struct vdp_chain *c, struct vdp_src *s)
{
	uint32_t written = 0;

	for (uint32_t i = 0; i < c->nseg; i++) {
		uint8_t *d = c->seg[i].hva;
		uint32_t room = c->seg[i].len;

		while (room != 0) {
			uint32_t n;

			while (s->left == 0) {
				if (s->next == s->niov)
					return written;
				s->p = s->iov[s->next].base;
				s->left = s->iov[s->next].len;
				s->next++;
			}
			n = room < s->left ? room : s->left;
			memcpy(d, s->p, n);
			d += n;
			room -= n;
			s->p += n;
			s->left -= n;
			written += n;
		}
	}
	return written;
}

static inline bool
vdp_src_done(const struct vdp_src *s)
{
	if (s->left != 0)
		return false;
	for (uint32_t i = s->next; i < s->niov; i++)
		if (s->iov[i].len != 0)
			return false;
	return true;
}

/* Fetch the next writable chain, skipping (already returned) bad ones;
 * the burst's budget bounds how many. */
static inline enum vdp_fetch
vdp_split_fetch_rx(struct vdp_vring *vr, const struct vdp_memmap *mm,
		   struct vdp_chain *c, uint32_t *nbad)
{
	enum vdp_fetch r;

	while ((r = vdp_split_fetch(vr, mm, VDP_DIR_WRITE, c)) == VDP_FETCH_BAD)
		++*nbad;
	return r;
}

/* Why a frame could not be given a buffer (counted by the caller). */
static inline enum vdp_err
vdp_split_rx_miss(enum vdp_fetch r)
{
	return r == VDP_FETCH_LIMIT ? VDP_ERR_BURST_BUDGET : VDP_ERR_NO_RX_BUF;
}

static int
vdp_split_enqueue_one(struct vdp_vring *vr, const struct vdp_memmap *mm,
		      const uint8_t *hbuf, uint64_t needed,
		      const struct vdp_iov *src, uint32_t nsrc)
{
	struct vdp_chain c;
	struct vdp_src s;
	uint32_t nbad = 0;
	enum vdp_fetch r = vdp_split_fetch_rx(vr, mm, &c, &nbad);

	if (r == VDP_FETCH_BROKEN)
		return -1;
	if (r != VDP_FETCH_OK) {
		enum vdp_err e = vdp_split_rx_miss(r);

		vdp_vring_err(vr, e, 0, 0);
		return e;
	}
	if (c.len < needed) {
		/* Not consumed: the guest may post a bigger one later. */
		vdp_split_unfetch(vr, 1);
		vdp_vring_err(vr, VDP_ERR_RX_TOO_SMALL, c.head, (uint32_t)needed);
		return VDP_ERR_RX_TOO_SMALL;
	}

	/* Common case: one source piece, one destination segment. */
	if (VDP_LIKELY(c.nseg == 1 && nsrc == 1)) {
		memcpy(c.seg[0].hva, hbuf, vr->hdr_len);
		memcpy(c.seg[0].hva + vr->hdr_len, src[0].base, src[0].len);
	} else {
		s.p = hbuf;
		s.left = vr->hdr_len;
		s.next = 0;
		s.niov = nsrc;
		s.iov = src;
		vdp_chain_fill(&c, &s);
	}
	vdp_split_used_put(vr, c.head, (uint32_t)needed);
	return 0;
}

static int
vdp_split_enqueue_mrg(struct vdp_vring *vr, const struct vdp_memmap *mm,
		      struct vdp_net_hdr *h, uint64_t needed,
		      const struct vdp_iov *src, uint32_t nsrc)
{
	const uint8_t *hbuf = (const uint8_t *)h;
	struct vdp_chain first, more;
	struct {
		uint16_t head;
		uint32_t len;
	} bufs[VDP_MRG_MAX_BUFS];
	struct vdp_src s = {
		.p = hbuf, .left = vr->hdr_len, .next = 0, .niov = nsrc, .iov = src,
	};
	uint16_t rewind_to = vr->last_avail; /* where unconsumed bufs start */
	uint32_t keep_from = 0;               /* bufs[0..keep_from) can't rewind */
	uint32_t nbufs = 0, nbad = 0;
	enum vdp_err err;

	for (;;) {
		struct vdp_chain *c = nbufs == 0 ? &first : &more;
		enum vdp_fetch r;
		uint32_t w;

		if (nbufs == VDP_MRG_MAX_BUFS) {
			err = VDP_ERR_RX_TOO_SMALL;
			goto fail;
		}
		r = vdp_split_fetch_rx(vr, mm, c, &nbad);
		if (r == VDP_FETCH_BROKEN)
			return -1;
		if (r != VDP_FETCH_OK) {
			err = vdp_split_rx_miss(r);
			goto fail;
		}
		if (nbufs == 0 && c->len < vr->hdr_len) {
			/* The header must fit in the first buffer (virtio 1.1
			 * 5.1.6.3.1): refuse this one like a bad chain, and
			 * charge it to the burst like one. */
			vdp_vring_err(vr, VDP_ERR_SHORT_CHAIN, c->head, c->len);
			vdp_split_used_put(vr, c->head, 0);
			vr->budget_bad--;
			rewind_to = vr->last_avail;
			continue;
		}
		if (nbufs == 0 && VDP_LIKELY(c->nseg == 1 && nsrc == 1 &&
					     c->len >= needed)) {
			/* Common case: the frame fits the first buffer. */
			h->num_buffers = 1;
			memcpy(c->seg[0].hva, hbuf, vr->hdr_len);
			memcpy(c->seg[0].hva + vr->hdr_len, src[0].base, src[0].len);
			vdp_split_used_put(vr, c->head, (uint32_t)needed);
			return 0;
		}
		if (VDP_UNLIKELY(nbad != 0)) {
			/* Bad chains were put in the used ring between
			 * ours: what we took before them cannot be given
			 * back by moving last_avail. */
			keep_from = nbufs;
			rewind_to = (uint16_t)(vr->last_avail - 1);
			nbad = 0;
		}
		w = vdp_chain_fill(c, &s);
		bufs[nbufs].head = c->head;
		bufs[nbufs].len = w;
		nbufs++;
		if (vdp_src_done(&s))
			break;
	}

	if (vr->hdr_len == VDP_NET_HDR_LEN_MRG) {
		uint16_t nb = (uint16_t)nbufs;

		vdp_chain_write(&first, offsetof(struct vdp_net_hdr, num_buffers),
				&nb, sizeof(nb));
	}
	/* Contiguous in the used ring, as the guest reads them. */
	for (uint32_t i = 0; i < nbufs; i++)
		vdp_split_used_put(vr, bufs[i].head, bufs[i].len);
	return 0;

fail:
	if (nbad != 0) {
		/* Bad chains since the last good one: rewind to after them. */
		keep_from = nbufs;
		rewind_to = vr->last_avail;
	}
	/*
	 * The buffers stay with the guest: those after the last bad chain by
	 * rewinding last_avail, those before it by returning them empty (the
	 * guest drops a used buffer shorter than a header).
	 */
	for (uint32_t i = 0; i < keep_from; i++)
		vdp_split_used_put(vr, bufs[i].head, 0);
	vr->last_avail = rewind_to;
	vdp_vring_err(vr, err, nbufs, 0);
	return err;
}

int
vdp_split_enqueue_frame(struct vdp_vring *vr, const struct vdp_memmap *mm,
			const struct vdp_net_hdr *hdr,
			const struct vdp_iov *src, uint32_t nsrc)
{
	struct vdp_net_hdr h = *hdr;
	uint64_t needed = vr->hdr_len;

	if (VDP_UNLIKELY(vr->broken))
		return -1;
	if (VDP_UNLIKELY(vr->hdr_len > sizeof(h)))
		return -1;
	for (uint32_t i = 0; i < nsrc; i++)
		needed += src[i].len;
	/* each frame the host hands over brings its own allowance (bounded by
	 * the frames of the burst); refused chains keep their burst bound */
	if (VDP_LIKELY(vr->budget_desc <= UINT32_MAX - VDP_FRAME_DESC_GRANT))
		vr->budget_desc += VDP_FRAME_DESC_GRANT;

	if (vr->mrg_rxbuf)
		return vdp_split_enqueue_mrg(vr, mm, &h, needed, src, nsrc);
	h.num_buffers = 1;
	return vdp_split_enqueue_one(vr, mm, (const uint8_t *)&h, needed, src, nsrc);
}
