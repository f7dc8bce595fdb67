/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-net frames into a guest's receive ring (virtio 1.1 5.1.6): the
 * header, one chain or mergeable buffers with num_buffers, giving
 * buffers back when a frame does not fit. Written once against the
 * layout-agnostic operations of vdp_ring.h and instantiated for each
 * layout (vdp_split_enqueue_frame, vdp_packed_enqueue_frame), so that
 * neither tests the layout per frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vdp_ring.h"
#include "vdp_ring_internal.h"

/* ---- guest RX: frames into the guest's buffers ---- */

/* Read cursor over (header, src[0..nsrc)). */
struct vdp_src {
	const uint8_t *p;
	uint32_t left;        /* bytes left at p */
	uint32_t next;        /* next iov to load */
	uint32_t niov;
	const struct vdp_iov *iov;
};

/* n bytes (a constant: inlined to one load, compare and store) stored
 * only where dst does not hold them already. */
static VDP_ALWAYS_INLINE void
vdp_store_changed(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (memcmp(dst, src, n) != 0)
		memcpy(dst, src, n);
}

/*
 * The virtio-net header h, with num_buffers nb, into a buffer, for the two
 * lengths there are (inline, no call): its first 8 bytes and its last 4
 * (or 2), each stored only when the buffer does not hold them already, as
 * net_vhost does. Headers of plain frames repeat (no flags, one buffer),
 * so in steady state the line is read and never written: it stays shared
 * with the guest, whose own read of it after the frame hits in its cache.
 * Our cost did not measurably change (docs/performance.md, "The packed
 * loop cell in the slow state"): a load of a line the guest holds waits as
 * a store would. The bytes in the buffer afterwards are the same either
 * way; a guest that rewrites a buffer it gave us while we fill it reads
 * back what it wrote, as after any store race.
 * The last 4 bytes are built in a register from csum_offset and nb, not
 * read back from a header whose num_buffers was just stored on its own: a
 * 4-byte load over a 2-byte store and an older one waits until both leave
 * the store buffer (half of vdp_vq_put_plain's cycles in bench_layout's
 * profile, both layouts).
 */
static VDP_ALWAYS_INLINE void
vdp_hdr_put(uint8_t *dst, const struct vdp_net_hdr *h, uint16_t nb, uint16_t hdr_len)
{
	vdp_store_changed(dst, (const uint8_t *)h, 8);
	if (VDP_LIKELY(hdr_len == VDP_NET_HDR_LEN_MRG)) {
		const uint32_t tail = (uint32_t)h->csum_offset | (uint32_t)nb << 16;

		vdp_store_changed(dst + 8, (const uint8_t *)&tail, sizeof(tail));
	} else {
		vdp_store_changed(dst + 8, (const uint8_t *)&h->csum_offset,
				  VDP_NET_HDR_LEN_LEGACY - 8);
	}
}

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
			/* the source may be guest memory too (the direct
			 * guest-to-guest path), which the guest may make
			 * overlap this buffer: memmove (glibc's memcpy on
			 * x86-64 is the same code) */
			memmove(d, s->p, n);
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

/* Log the first `written` bytes of chain c (a guest RX buffer we filled). */
static void
vdp_log_chain(const struct vdp_vring *vr, const struct vdp_chain *c, uint64_t written)
{
	for (uint32_t i = 0; i < c->nseg && written != 0; i++) {
		uint64_t n = c->seg[i].len < written ? c->seg[i].len : written;

		vdp_log_hva(vr, c->seg[i].hva, n);
		written -= n;
	}
}

void
vdp_log_ring(const struct vdp_vring *vr)
{
	if (vr->layout == VDP_LAYOUT_PACKED) {
		vdp_log_hva(vr, vr->pdesc, (uint64_t)vr->size * sizeof(*vr->pdesc));
		vdp_log_hva(vr, vr->device_event, sizeof(*vr->device_event));
	} else {
		/* flags, idx, the elements and avail_event (which we never move,
		 * logged whole all the same: one range) */
		vdp_log_hva(vr, vr->used, sizeof(*vr->used) +
			    (uint64_t)vr->size * sizeof(vr->used->ring[0]) + sizeof(uint16_t));
	}
}

/* Fetch the next writable chain, skipping (already returned) bad ones;
 * the burst's budget bounds how many. *at: where the chain taken starts. */
static VDP_ALWAYS_INLINE enum vdp_fetch
vdp_fetch_rx_l(struct vdp_vring *vr, const struct vdp_memmap *mm,
	       struct vdp_chain *c, uint32_t *nbad, struct vdp_vq_mark *at,
	       enum vdp_layout l)
{
	enum vdp_fetch r;

	for (;;) {
		*at = vdp_vq_mark(vr);
		r = vdp_vq_fetch_l(vr, mm, VDP_DIR_WRITE, c, l);
		if (r != VDP_FETCH_BAD)
			return r;
		++*nbad;
	}
}

/* Count a frame function's drop e, unless it is a miss the caller
 * decides about (vr->miss_quiet). */
static inline void
vdp_rx_drop_count(struct vdp_vring *vr, enum vdp_err e, uint32_t a)
{
	if (!(e == VDP_ERR_NO_RX_BUF && vr->miss_quiet))
		vdp_vring_err(vr, e, a, 0);
}

/* Why a frame could not be given a buffer (counted by the caller). */
static inline enum vdp_err
vdp_rx_miss(enum vdp_fetch r)
{
	return r == VDP_FETCH_LIMIT ? VDP_ERR_BURST_BUDGET : VDP_ERR_NO_RX_BUF;
}

static VDP_ALWAYS_INLINE int
vdp_enqueue_one_l(struct vdp_vring *vr, const struct vdp_memmap *mm,
		  const struct vdp_net_hdr *h, uint64_t needed,
		  const struct vdp_iov *src, uint32_t nsrc, enum vdp_layout l, bool log)
{
	struct vdp_chain c;
	struct vdp_vq_mark at;
	struct vdp_src s;
	uint32_t nbad = 0;
	enum vdp_fetch r = vdp_fetch_rx_l(vr, mm, &c, &nbad, &at, l);

	if (r == VDP_FETCH_BROKEN)
		return -1;
	if (r != VDP_FETCH_OK) {
		enum vdp_err e = vdp_rx_miss(r);

		vdp_rx_drop_count(vr, e, 0);
		return e;
	}
	if (c.len < needed) {
		/* Not consumed: the guest may post a bigger one later. */
		vdp_vq_unfetch_l(vr, &c, l);
		vdp_vring_err(vr, VDP_ERR_RX_TOO_SMALL, c.id, (uint32_t)needed);
		return VDP_ERR_RX_TOO_SMALL;
	}

	/* Common case: one source piece, one destination segment. */
	if (VDP_LIKELY(c.nseg == 1 && nsrc == 1)) {
		vdp_hdr_put(c.seg[0].hva, h, 1, vr->hdr_len);
		memmove(c.seg[0].hva + vr->hdr_len, src[0].base, src[0].len);  /* see vdp_chain_fill */
	} else {
		s.p = (const uint8_t *)h;   /* its num_buffers is 1 */
		s.left = vr->hdr_len;
		s.next = 0;
		s.niov = nsrc;
		s.iov = src;
		vdp_chain_fill(&c, &s);
	}
	if (log)
		vdp_log_chain(vr, &c, needed);
	vdp_vq_used_put_l(vr, c.id, c.ndesc, (uint32_t)needed, l);
	return 0;
}

static VDP_ALWAYS_INLINE int
vdp_enqueue_mrg_l(struct vdp_vring *vr, const struct vdp_memmap *mm,
		  struct vdp_net_hdr *h, uint64_t needed,
		  const struct vdp_iov *src, uint32_t nsrc, enum vdp_layout l, bool log)
{
	const uint8_t *hbuf = (const uint8_t *)h;
	struct vdp_chain first, more;
	struct vdp_used_ent bufs[VDP_MRG_MAX_BUFS];
	struct vdp_src s = {
		.p = hbuf, .left = vr->hdr_len, .next = 0, .niov = nsrc, .iov = src,
	};
	struct vdp_vq_mark rewind_to = vdp_vq_mark(vr); /* where unconsumed bufs start */
	struct vdp_vq_mark at;
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
		r = vdp_fetch_rx_l(vr, mm, c, &nbad, &at, l);
		if (r == VDP_FETCH_BROKEN)
			return -1;
		if (r != VDP_FETCH_OK) {
			err = vdp_rx_miss(r);
			goto fail;
		}
		if (nbufs == 0 && c->len < vr->hdr_len) {
			/* The header must fit in the first buffer (virtio 1.1
			 * 5.1.6.3.1): refuse this one like a bad chain, and
			 * charge it to the burst like one. */
			vdp_vring_err(vr, VDP_ERR_SHORT_CHAIN, c->id, c->len);
			vdp_vq_used_put_l(vr, c->id, c->ndesc, 0, l);
			vr->budget_bad--;
			rewind_to = vdp_vq_mark(vr);
			continue;
		}
		if (nbufs == 0 && VDP_LIKELY(c->nseg == 1 && nsrc == 1 &&
					     c->len >= needed)) {
			/* Common case: the frame fits the first buffer. */
			vdp_hdr_put(c->seg[0].hva, h, 1, vr->hdr_len);
			memmove(c->seg[0].hva + vr->hdr_len, src[0].base, src[0].len);
			if (log)
				vdp_log_chain(vr, c, needed);
			vdp_vq_used_put_l(vr, c->id, c->ndesc, (uint32_t)needed, l);
			return 0;
		}
		if (VDP_UNLIKELY(nbad != 0)) {
			/* Bad chains were put in the used ring between
			 * ours: what we took before them cannot be given
			 * back by moving last_avail. */
			keep_from = nbufs;
			rewind_to = at;
			nbad = 0;
		}
		w = vdp_chain_fill(c, &s);
		if (log)
			vdp_log_chain(vr, c, w);   /* the first one's again below */
		bufs[nbufs].id = c->id;
		bufs[nbufs].ndesc = c->ndesc;
		bufs[nbufs].len = w;
		nbufs++;
		if (vdp_src_done(&s))
			break;
	}

	if (vr->hdr_len == VDP_NET_HDR_LEN_MRG) {
		uint16_t nb = (uint16_t)nbufs;

		vdp_chain_write(&first, offsetof(struct vdp_net_hdr, num_buffers),
				&nb, sizeof(nb));
		if (log)   /* after its write: see struct vdp_vring */
			vdp_log_chain(vr, &first, vr->hdr_len);
	}
	/* Contiguous in the used ring, as the guest reads them, and seen
	 * whole: a guest that finds the first but not the rest drops the
	 * frame (packed: used elements are the guest's at once). */
	vdp_vq_used_put_group_l(vr, bufs, nbufs, l);
	return 0;

fail:
	if (nbad != 0) {
		/* Bad chains since the last good one: rewind to after them. */
		keep_from = nbufs;
		rewind_to = vdp_vq_mark(vr);
	}
	/*
	 * The buffers stay with the guest: those after the last bad chain by
	 * rewinding last_avail, those before it by returning them empty (the
	 * guest drops a used buffer shorter than a header).
	 */
	for (uint32_t i = 0; i < keep_from; i++)
		vdp_vq_used_put_l(vr, bufs[i].id, bufs[i].ndesc, 0, l);
	for (uint32_t i = keep_from; i < nbufs; i++)
		vdp_vq_release_l(vr, bufs[i].id, l);
	vdp_vq_rewind_l(vr, rewind_to, l);
	vdp_rx_drop_count(vr, err, nbufs);
	return err;
}

/* mrg: mergeable buffers (a constant in the per-variant instances below,
 * vr->mrg_rxbuf in the others) */
static VDP_ALWAYS_INLINE int
vdp_enqueue_frame_lm(struct vdp_vring *vr, const struct vdp_memmap *mm,
		     const struct vdp_net_hdr *hdr,
		     const struct vdp_iov *src, uint32_t nsrc, enum vdp_layout l,
		     bool mrg, bool log)
{
	struct vdp_net_hdr h = *hdr;
	uint64_t needed = vr->hdr_len;

	if (VDP_UNLIKELY(vr->broken))
		return -1;
	if (VDP_UNLIKELY(vr->hdr_len > sizeof(h) || vr->hdr_len < VDP_NET_HDR_LEN_LEGACY))
		return -1;
	for (uint32_t i = 0; i < nsrc; i++)
		needed += src[i].len;
	/* each frame the host hands over brings its own allowance (bounded by
	 * the frames of the burst; once: vdp_vq_put_plain may have granted
	 * it already); refused chains keep their burst bound */
	if (VDP_UNLIKELY(vr->grant_held))
		vr->grant_held = false;
	else if (VDP_LIKELY(vr->budget_desc <= UINT32_MAX - VDP_FRAME_DESC_GRANT))
		vr->budget_desc += VDP_FRAME_DESC_GRANT;

	if (mrg)
		return vdp_enqueue_mrg_l(vr, mm, &h, needed, src, nsrc, l, log);
	h.num_buffers = 1;
	return vdp_enqueue_one_l(vr, mm, &h, needed, src, nsrc, l, log);
}

static VDP_ALWAYS_INLINE int
vdp_enqueue_frame_l(struct vdp_vring *vr, const struct vdp_memmap *mm,
		    const struct vdp_net_hdr *hdr,
		    const struct vdp_iov *src, uint32_t nsrc, enum vdp_layout l)
{
	if (VDP_UNLIKELY(vr->log))
		return vr->mrg_rxbuf ? vdp_enqueue_frame_lm(vr, mm, hdr, src, nsrc, l, true, true) :
				       vdp_enqueue_frame_lm(vr, mm, hdr, src, nsrc, l, false, true);
	return vr->mrg_rxbuf ? vdp_enqueue_frame_lm(vr, mm, hdr, src, nsrc, l, true, false) :
			       vdp_enqueue_frame_lm(vr, mm, hdr, src, nsrc, l, false, false);
}

/* One instance per (layout, mergeable, logging): what a ring load picks;
 * the ones without logging have no trace of it. */
#define VDP_FRAME_VARIANT(name, l, mrg, log) \
static int \
name(struct vdp_vring *vr, const struct vdp_memmap *mm, \
     const struct vdp_net_hdr *hdr, const struct vdp_iov *src, uint32_t nsrc) \
{ \
	return vdp_enqueue_frame_lm(vr, mm, hdr, src, nsrc, l, mrg, log); \
}
VDP_FRAME_VARIANT(vdp_frame_split_one, VDP_LAYOUT_SPLIT, false, false)
VDP_FRAME_VARIANT(vdp_frame_split_mrg, VDP_LAYOUT_SPLIT, true, false)
VDP_FRAME_VARIANT(vdp_frame_packed_one, VDP_LAYOUT_PACKED, false, false)
VDP_FRAME_VARIANT(vdp_frame_packed_mrg, VDP_LAYOUT_PACKED, true, false)
VDP_FRAME_VARIANT(vdp_frame_split_one_log, VDP_LAYOUT_SPLIT, false, true)
VDP_FRAME_VARIANT(vdp_frame_split_mrg_log, VDP_LAYOUT_SPLIT, true, true)
VDP_FRAME_VARIANT(vdp_frame_packed_one_log, VDP_LAYOUT_PACKED, false, true)
VDP_FRAME_VARIANT(vdp_frame_packed_mrg_log, VDP_LAYOUT_PACKED, true, true)
#undef VDP_FRAME_VARIANT

vdp_frame_fn
vdp_vq_frame_fn(const struct vdp_vring *vr)
{
	static const vdp_frame_fn fns[2][2][2] = {   /* [packed][mrg][log] */
		{ { vdp_frame_split_one, vdp_frame_split_one_log },
		  { vdp_frame_split_mrg, vdp_frame_split_mrg_log } },
		{ { vdp_frame_packed_one, vdp_frame_packed_one_log },
		  { vdp_frame_packed_mrg, vdp_frame_packed_mrg_log } },
	};

	return fns[vr->layout == VDP_LAYOUT_PACKED][vr->mrg_rxbuf][vr->log];
}

int
vdp_split_enqueue_frame(struct vdp_vring *vr, const struct vdp_memmap *mm,
			const struct vdp_net_hdr *hdr,
			const struct vdp_iov *src, uint32_t nsrc)
{
	return vdp_enqueue_frame_l(vr, mm, hdr, src, nsrc, VDP_LAYOUT_SPLIT);
}

int
vdp_packed_enqueue_frame(struct vdp_vring *vr, const struct vdp_memmap *mm,
			 const struct vdp_net_hdr *hdr,
			 const struct vdp_iov *src, uint32_t nsrc)
{
	return vdp_enqueue_frame_l(vr, mm, hdr, src, nsrc, VDP_LAYOUT_PACKED);
}

/* ---- plain frames in two passes ---- */

/*
 * The first pass asks for a buffer's last line too only up to this many
 * bytes (header and frame, 8 lines): a longer copy streams its lines in
 * order and the hardware's prefetcher follows it, while 32 software
 * prefetches of lines the guest's core holds fill this core's miss
 * buffers (profile of the packed 1518 B loop cell: 43% of this function
 * on that prefetch). Measured at 64 B (kept) and 1518 B (dropped: 9-16%
 * fewer ns per frame); 256 B keeps it, the alternated rounds there could
 * not tell the two apart.
 */
#define VDP_PLAIN_TAIL_PREFETCH 512u

/* Buffer hva (chain id, ndesc) kept for a frame of needed bytes with its
 * header (b->len: what its used element says the device wrote); the
 * lines the second pass writes (header, and a short frame's end) asked
 * for now, while the next buffer is taken. */
static VDP_ALWAYS_INLINE void
vdp_plain_buf_keep(struct vdp_take *b, uint8_t *hva, uint16_t id, uint16_t ndesc,
		   uint64_t needed)
{
	__builtin_prefetch(hva, 1);
	if (needed <= VDP_PLAIN_TAIL_PREFETCH)
		__builtin_prefetch(hva + needed - 1, 1);
	b->hva = hva;
	b->len = (uint32_t)needed;   /* <= hdr_len + VDP_PLAIN_LEN_MAX */
	b->id = id;
	b->ndesc = ndesc;
}

/*
 * Packed: buffers for the next VDP_TAKE_N frames f[0..) taken at once
 * (vdp_packed_take_n), each long enough for its frame and the frame not
 * too long for a plain one; up to the first that is not (it and the
 * buffers taken after it given back, last first): the single take
 * decides about it. The budget as if each frame had been granted and its
 * buffer taken one at a time (the grants of frames not taken undone).
 * Returns the frames given a buffer in b[0..).
 */
static VDP_ALWAYS_INLINE uint32_t
vdp_put_plain_take_n(struct vdp_vring *vr, const struct vdp_memmap *mm,
		     const struct vdp_plain *f, struct vdp_take *b)
{
	const uint32_t hl = vr->hdr_len, budget0 = vr->budget_desc;
	struct vdp_take t[VDP_TAKE_N];
	uint32_t got, j;

	for (j = 0; j < VDP_TAKE_N; j++)
		if (f[j].len > VDP_PLAIN_LEN_MAX)
			return 0;
	if (budget0 > UINT32_MAX - VDP_TAKE_N * VDP_FRAME_DESC_GRANT)
		return 0;
	vr->budget_desc += VDP_TAKE_N * VDP_FRAME_DESC_GRANT;
	got = vdp_packed_take_n(vr, mm, VDP_DIR_WRITE, t);
	for (j = 0; j < got; j++) {
		const uint64_t needed = (uint64_t)hl + f[j].len;

		if (VDP_UNLIKELY(t[j].len < needed))
			break;
		vdp_plain_buf_keep(&b[j], t[j].hva, t[j].id, t[j].ndesc, needed);
	}
	vdp_packed_take_n_keep(vr, t, got, j);
	vr->budget_desc = budget0 + j * (VDP_FRAME_DESC_GRANT - 1u);
	return j;
}

static VDP_ALWAYS_INLINE uint32_t
vdp_put_plain_l(struct vdp_vring *vr, const struct vdp_memmap *mm,
		const struct vdp_plain *f, uint32_t n, enum vdp_layout l)
{
	struct vdp_take b[VDP_PLAIN_MAX];
	const uint32_t hl = vr->hdr_len;
	bool kept, ones = true;   /* every buffer a one-slot chain */
	struct vdp_chain c;
	uint32_t k;

	if (n > VDP_PLAIN_MAX)
		n = VDP_PLAIN_MAX;
	/* first pass: a buffer for each frame (the guest's descriptors) */
	for (k = 0; k < n; k++) {
		uint64_t needed;
		bool granted = false;
		uint32_t walk0;
		enum vdp_fetch r;

		if (l == VDP_LAYOUT_PACKED && n - k >= VDP_TAKE_N) {
			uint32_t got = vdp_put_plain_take_n(vr, mm, f + k, b + k);

			k += got;
			if (got == VDP_TAKE_N) {
				k--;   /* the loop's own step */
				continue;
			}
			/* fewer: frame k (< n) is the single take's */
		}
		needed = (uint64_t)hl + f[k].len;
		if (f[k].len > VDP_PLAIN_LEN_MAX)
			break;   /* not even fetched: likely to need several buffers */
		/* the allowance the frame function would give the frame */
		if (VDP_LIKELY(vr->budget_desc <= UINT32_MAX - VDP_FRAME_DESC_GRANT)) {
			vr->budget_desc += VDP_FRAME_DESC_GRANT;
			granted = true;
		}
		do {   /* refused chains are skipped (returned empty) */
			walk0 = vr->budget_desc;
			r = vdp_vq_fetch_l(vr, mm, VDP_DIR_WRITE, &c, l);
		} while (r == VDP_FETCH_BAD);
		if (VDP_LIKELY(r == VDP_FETCH_OK && c.nseg == 1 && c.len >= needed)) {
			vdp_plain_buf_keep(&b[k], c.seg[0].hva, c.id, c.ndesc, needed);
			ones &= c.ndesc == 1;   /* take_n's are */
			continue;
		}
		/*
		 * Not plain, no buffer, out of budget or broken: the frame
		 * function takes this frame (and counts what it cannot do).
		 * It walks that chain again (its walk here is given back)
		 * and does not grant the frame again (grant_held), so that
		 * the budget goes exactly as if it had had the frame alone;
		 * the refused chains stay charged: they are gone.
		 */
		if (r == VDP_FETCH_OK) {
			vdp_vq_unfetch_l(vr, &c, l);
			vr->budget_desc = walk0;
		}
		vr->grant_held = granted;
		break;
	}
	/*
	 * Packed, used_batch: the used elements kept now, the k at once
	 * (nothing hands them over before the next keep or publish, after
	 * the copies; and their slots' lines are asked for early). Else
	 * each is put after its copy (a packed ring without used_batch
	 * sees it at once; so would the guest the first of k that cannot
	 * be kept as one group, which plain one-slot chains always can).
	 */
	kept = l == VDP_LAYOUT_PACKED && vr->used_batch && vdp_packed_used_keep_n_o(vr, b, k, true, ones);
	/* second pass: header and frame into each (lines the guest holds) */
	for (uint32_t j = 0; j < k; j++) {
		vdp_hdr_put(b[j].hva, f[j].hdr, 1, (uint16_t)hl);
		memmove(b[j].hva + hl, f[j].base, f[j].len);  /* see vdp_chain_fill */
		if (!kept)
			vdp_vq_used_put_l(vr, b[j].id, b[j].ndesc, b[j].len, l);
	}
	return k;
}

uint32_t
vdp_vq_put_plain(struct vdp_vring *vr, const struct vdp_memmap *mm,
		 const struct vdp_plain *f, uint32_t n)
{
	/* the frame function's cases: a broken ring, dirty logging, a
	 * header length it refuses */
	vr->grant_held = false;   /* a stop before was handed on (contract) */
	if (VDP_UNLIKELY(vr->broken || vr->log || vr->hdr_len > sizeof(struct vdp_net_hdr) ||
			 vr->hdr_len < VDP_NET_HDR_LEN_LEGACY))
		return 0;
	if (vr->layout == VDP_LAYOUT_PACKED)
		return vdp_put_plain_l(vr, mm, f, n, VDP_LAYOUT_PACKED);
	return vdp_put_plain_l(vr, mm, f, n, VDP_LAYOUT_SPLIT);
}

/* Here, above both layouts: vdp_split.c and vdp_packed.c do not call
 * each other's functions (ci/check-layers.py). */
void
vdp_vq_suppress_kicks(struct vdp_vring *vr)
{
	if (vr->layout == VDP_LAYOUT_PACKED)
		vdp_packed_suppress_kicks(vr);
	else
		vdp_split_suppress_kicks(vr);
}

bool
vdp_vq_enable_kicks(struct vdp_vring *vr)
{
	if (vr->broken)
		return false;   /* stopped: nothing to wait for */
	if (vr->layout == VDP_LAYOUT_PACKED)
		vdp_packed_enable_kicks(vr);
	else
		vdp_split_enable_kicks(vr);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vdp_vq_avail(vr) != 0;
}

void
vdp_vq_disable_kicks(struct vdp_vring *vr)
{
	if (vr->broken)
		return;
	vdp_vq_suppress_kicks(vr);
	if (!vr->log)
		return;
	if (vr->layout == VDP_LAYOUT_PACKED)
		vdp_log_hva(vr, vr->device_event, sizeof(*vr->device_event));
	else
		if (vr->log)
			vdp_log_hva(vr, &vr->used->flags, sizeof(vr->used->flags));
}

int
vdp_vq_enqueue_frame(struct vdp_vring *vr, const struct vdp_memmap *mm,
		     const struct vdp_net_hdr *hdr,
		     const struct vdp_iov *src, uint32_t nsrc)
{
	return vr->layout == VDP_LAYOUT_PACKED ?
	       vdp_packed_enqueue_frame(vr, mm, hdr, src, nsrc) :
	       vdp_split_enqueue_frame(vr, mm, hdr, src, nsrc);
}
