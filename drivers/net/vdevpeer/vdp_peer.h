/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The direct guest-to-guest path's frame loop, EAL-free: chains taken from
 * the sender's TX ring (a) go straight into the receiver's RX ring (b),
 * one copy from guest buffer to guest buffer, no mbuf. The PMD
 * (vdp_peer_burst_l in vdevpeer_rxtx.c) instantiates it with its own
 * callbacks for what needs DPDK (offload decisions, the mbuf path,
 * counters, MAC learning); the fuzz target fuzz_peer with its own, over
 * two hostile rings in one guest's memory. The callbacks are constants at
 * each call site, so the compiler inlines them: no indirect call per
 * frame.
 *
 * Two passes, up to VDP_PEER_BATCH chains at a time: first the chains
 * are taken from a (at most max chains looked at, bad ones included,
 * each fetch under a's burst budget) and kept while they are plain - one
 * segment, a header that asks for nothing - then those are copied into
 * b in order. A chain that is not plain ends the first pass and is moved
 * on its own after the ones before it (given back when it ends the pass
 * and taken again after the delivery: no chain is ever held while seen()
 * may store a's position). Apart, a's descriptors are read without b's
 * stores queued between them: with the host in its slow state (cache
 * lines slow to move between the two cores), 64 B, split rings went from
 * 0.65-0.71x net_vhost's cost per frame to 0.96-0.97x (docs/performance.md,
 * "The direct path in two passes").
 * A chain the walker refuses (a guest breaking the spec) is given back by
 * the walker at once, so before the plain chains kept ahead of it in the
 * same pass: with IN_ORDER, that guest may then misread its own used
 * ring; our positions and ids stay exact.
 *
 * Per chain taken from a:
 *  - its virtio-net header read once, into a local copy (vh), unless the
 *    ring says it asks for nothing (hdr_skip: vh stays all zero);
 *  - a header asking for offload work goes to offload(): COPY (with the
 *    header for b in *oh and, when it rewrote the frame's first *pre
 *    bytes, those in hb), DROP (a gives the chain back with len 0), or
 *    MBUF: slow() moves it another way and gives the chain back itself
 *    (it returns the frames it handed b), or returns < 0 when it could
 *    not: the chain is left with the guest (unfetched) and the burst ends;
 *  - COPY: the frame (the chain's bytes after the header) is handed to
 *    b's frame function as pieces of guest memory, then a's used element
 *    put (len 0), then moved() is told b's answer (0 delivered, > 0 the
 *    drop reason counted by b's ring, < 0 b's ring broke: the burst ends;
 *    plain chains already taken then go to b as dropped, counted there,
 *    and a chain that is not is left with the guest);
 *  - seen() after each chain moved on its own and after each pass of
 *    plain chains: b may have handed kept used elements to its guest
 *    mid-burst (a packed ring's shadow full), a's position must then be
 *    made to survive a crash at once.
 * Publishing both rings (and the crash state) is the caller's, after.
 * Returns the frames taken from a and handed on (delivered or dropped by
 * b), as the ethdev path counts them.
 */
#ifndef VDP_PEER_H
#define VDP_PEER_H

#include <stdint.h>
#include <string.h>

#include "vdp_offload.h"
#include "vdp_ring.h"

enum vdp_peer_how {
	VDP_PEER_COPY,   /* one copy, with the header in *oh */
	VDP_PEER_MBUF,   /* another way (slow()) */
	VDP_PEER_DROP,   /* refused (counted on a by offload()) */
};

struct vdp_peer_ops {
	enum vdp_peer_how (*offload)(void *ctx, const struct vdp_chain *c,
				     const struct vdp_net_hdr *vh, uint32_t len,
				     struct vdp_net_hdr *oh, uint8_t *hb, uint32_t *pre);
	int (*slow)(void *ctx, const struct vdp_chain *c, const struct vdp_net_hdr *vh,
		    uint32_t len);
	/* the first frame of the burst, len >= 14: its Ethernet header (it
	 * may point into the sending guest's memory: read it once) */
	void (*learn)(void *ctx, const uint8_t *eth);
	void (*moved)(void *ctx, uint32_t len, int ret);
	void (*seen)(void *ctx);
	void (*no_slow)(void *ctx);   /* slow() failed: counted */
	/* b has no receive buffer posted, or too few for the next frame:
	 * true when the frames not yet handed to b are to stay in a's ring
	 * (given back, the burst ends), false when they are dropped at b,
	 * counted; the owner bounds how long it says true. tried: b's frame
	 * function was run on the frame and found too few (its copy into
	 * b's buffers undone): the owner paces such tries. A frame held
	 * after offload() comes again (offload() is asked again then): what
	 * offload() decides is counted at seen(), when the frame went. */
	bool (*hold)(void *ctx, bool tried);
};

/* A guest TX chain's virtio-net header, read once into *vh: an inline
 * fixed-size copy when the first segment holds it (nearly always). */
static VDP_ALWAYS_INLINE void
vdp_hdr_get(const struct vdp_chain *c, uint32_t hl, struct vdp_net_hdr *vh)
{
	if (__builtin_expect(hl == VDP_NET_HDR_LEN_MRG && c->seg[0].len >= VDP_NET_HDR_LEN_MRG, 1))
		memcpy(vh, c->seg[0].hva, VDP_NET_HDR_LEN_MRG);
	else
		vdp_chain_read(c, 0, vh, hl);
}

/* The same from a one-segment chain (at least hl bytes: the walkers
 * refuse shorter ones). */
static VDP_ALWAYS_INLINE void
vdp_hdr_get_buf(const uint8_t *hva, uint32_t hl, struct vdp_net_hdr *vh)
{
	if (__builtin_expect(hl == VDP_NET_HDR_LEN_MRG, 1))
		memcpy(vh, hva, VDP_NET_HDR_LEN_MRG);
	else
		memcpy(vh, hva, hl < sizeof(*vh) ? hl : sizeof(*vh));
}

/* A one-slot chain taken by vdp_packed_take_n as a chain (c's id, ndesc
 * and one segment). */
static VDP_ALWAYS_INLINE void
vdp_take_chain(const struct vdp_take *t, struct vdp_chain *c)
{
	vdp_chain_set_id(c, t->id, t->ndesc);
	c->nseg = 1;
	c->len = t->len;
	c->seg[0].hva = t->hva;
	c->seg[0].len = t->len;
}

/* A plain one-segment chain taken from the sender in the first pass,
 * delivered in the second (vdp_peer_frames_l; also the ethdev RX path's
 * first pass, vdp_rx_burst_l): struct vdp_take, hva the segment (header,
 * then the frame). */

/* Chains taken from the sender before the first is delivered (what
 * vdp_vq_put_plain takes in one call; and the ethdev RX path's pass). */
#define VDP_PEER_BATCH VDP_PLAIN_MAX

/* What a frame loop carries from one frame to the next. */
struct vdp_peer_run {
	struct vdp_vring *va, *vb;
	const struct vdp_memmap *mmb;
	vdp_frame_fn put_frame;
	const struct vdp_peer_ops *ops;
	void *ctx;
	enum vdp_layout l;
	bool learn;      /* the first frame's Ethernet header not seen yet */
	bool broke;      /* b's ring broke */
	bool held;       /* b had no buffer: the rest left in a's ring */
	int nb;          /* frames taken and handed on */
};

/* b shows no buffer and the owner says to wait for one (hold()): the
 * chains of a not yet handed on are to be given back. */
static VDP_ALWAYS_INLINE bool
vdp_peer_stall(struct vdp_peer_run *x)
{
	/* b's own layout (x->l is a's); a broken b is the frame function's */
	if (!vdp_vq_empty(x->vb) || x->vb->broken || !x->ops->hold(x->ctx, false))
		return false;
	x->held = true;
	return true;
}

/* t[from..k), the pass's chains not handed on (from >= kc: none before
 * the last refused one), back into a's ring, last first; returns from. */
static VDP_ALWAYS_INLINE uint32_t
vdp_peer_give_back(struct vdp_peer_run *x, const struct vdp_take *t, uint32_t k, uint32_t kc,
		   uint32_t from)
{
	vdp_vq_untake_tail_l(x->va, t, k, from, x->l);
	if (kc != 0 && from == kc)
		x->va->last_id_ok = false;   /* the refused chain was taken last */
	return from;
}

/* What vdp_peer_put did with the frame. */
enum vdp_peer_put {
	VDP_PEER_PUT_ON,      /* moved (delivered, or dropped at b, counted) */
	VDP_PEER_PUT_BROKE,   /* b's ring broke: counted dropped there */
	VDP_PEER_PUT_HELD,    /* b had too few buffers: a's chain to be given back */
};

/* Frame of len bytes (in fi/nf, header oh for b) to b, a's chain given
 * back: one frame moved, or counted dropped on b when its ring broke.
 * seen() told when no other chain is taken and not given back (see).
 * can_hold: a's chain may go back to a's ring (the last taken, or only
 * chains after it taken since), which happens when b has too few buffers
 * for the frame and hold(ctx, true) says wait (tried: see hold()); then
 * nothing is done with the chain here, and the burst ends. */
static VDP_ALWAYS_INLINE enum vdp_peer_put
vdp_peer_put(struct vdp_peer_run *x, const struct vdp_net_hdr *oh, const struct vdp_iov *fi,
	     uint32_t nf, uint32_t len, uint16_t id, uint16_t ndesc, bool see, bool can_hold)
{
	int ret;

	if (x->broke) {
		ret = -1;
	} else {
		x->vb->miss_quiet = can_hold;
		ret = x->put_frame(x->vb, x->mmb, oh, fi, nf);
		x->vb->miss_quiet = false;
		if (VDP_UNLIKELY(ret == VDP_ERR_NO_RX_BUF && can_hold)) {
			if (!x->vb->broken && x->ops->hold(x->ctx, true)) {
				x->held = true;
				return VDP_PEER_PUT_HELD;
			}
			vdp_vring_err(x->vb, VDP_ERR_NO_RX_BUF, 0, 0);   /* as put_frame */
		}
	}
	vdp_vq_used_put_l(x->va, id, ndesc, 0, x->l);
	x->ops->moved(x->ctx, len, ret);
	x->nb++;
	if (__builtin_expect(ret < 0, 0)) {
		x->broke = true;
		return VDP_PEER_PUT_BROKE;
	}
	if (see)
		x->ops->seen(x->ctx);
	return VDP_PEER_PUT_ON;
}

/* The second pass: the k plain chains of the first, in order, into b
 * in two passes of its own (vdp_vq_put_plain: b's buffers first, then
 * the copies), those it has no plain buffer for one at a time; seen()
 * once they are all given back (a's take position is then its used
 * position, what the crash state may store). When b runs out and hold()
 * says wait, the chains not delivered go back to a's ring - those taken
 * after the last chain the walker refused in this pass (t[kc..k)): the
 * ones before it cannot go back without it (it was given back already),
 * they go to b's frame function (dropped there, counted). */
static VDP_ALWAYS_INLINE void
vdp_peer_deliver(struct vdp_peer_run *x, const struct vdp_take *t, uint32_t k, uint32_t kc,
		 bool ones)
{
	static const struct vdp_net_hdr oh;
	const uint32_t hl = x->va->hdr_len;
	struct vdp_plain f[VDP_PEER_BATCH];
	uint32_t put = 0;

	for (uint32_t j = 0; j < k; j++) {
		f[j].hdr = &oh;
		f[j].base = t[j].hva + hl;
		f[j].len = t[j].len - hl;
	}
	/* the first frame with an Ethernet header (once per port: not
	 * tested per frame) */
	for (uint32_t j = 0; VDP_UNLIKELY(x->learn) && j < k; j++) {
		if (f[j].len >= 14) {
			x->ops->learn(x->ctx, f[j].base);
			x->learn = false;
		}
	}
	if (!x->broke)
		put = vdp_vq_put_plain(x->vb, x->mmb, f, k);
	if (VDP_UNLIKELY(put < k) && !x->broke && vdp_peer_stall(x))
		k = vdp_peer_give_back(x, t, k, kc, put > kc ? put : kc);   /* b ran out */
	vdp_vq_used_put_n_l(x->va, t, put, false, ones, x->l);
	for (uint32_t j = 0; j < put; j++)
		x->ops->moved(x->ctx, f[j].len, 0);
	x->nb += (int)put;
	for (uint32_t j = put; j < k; j++) {
		const struct vdp_iov fi = { f[j].base, f[j].len };

		if (vdp_peer_put(x, &oh, &fi, 1, fi.len, t[j].id, t[j].ndesc, false,
				 j >= kc) == VDP_PEER_PUT_HELD) {
			k = vdp_peer_give_back(x, t, k, kc, j);
			break;
		}
	}
	if (k != 0 && !x->broke)
		x->ops->seen(x->ctx);
}

/*
 * One chain the first pass could not keep (its header asks for offload
 * work, or it has several segments), the only one taken from a and not
 * given back: moved on its own (never after b broke: the loop ends
 * then). False when the burst must end here (no mbuf for the slow path:
 * the chain left with the guest; or b's ring broke on it).
 */
static VDP_ALWAYS_INLINE bool
vdp_peer_chain(struct vdp_peer_run *x, struct vdp_chain *c, const struct vdp_net_hdr *vh)
{
	const uint32_t hl = x->va->hdr_len, len = c->len - hl;
	struct vdp_net_hdr oh = { 0 };
	struct vdp_iov fi[VDP_CHAIN_MAX_SEGS + 1];
	uint8_t hb[VDP_OL_HDR_MAX];
	uint32_t nf, pre = 0;

	if (VDP_UNLIKELY(vdp_peer_stall(x))) {
		vdp_vq_unfetch_l(x->va, c, x->l);   /* b has nothing for it now */
		return false;
	}
	if (x->learn && len >= 14) {
		uint8_t eth[14];

		vdp_chain_read(c, hl, eth, sizeof(eth));
		x->ops->learn(x->ctx, eth);
		x->learn = false;
	}
	if ((vh->flags | vh->gso_type) != 0) {
		enum vdp_peer_how how = x->ops->offload(x->ctx, c, vh, len, &oh, hb, &pre);

		if (how == VDP_PEER_DROP) {
			vdp_vq_used_put_l(x->va, c->id, c->ndesc, 0, x->l);
			return true;
		}
		if (how == VDP_PEER_MBUF) {
			int ret = x->ops->slow(x->ctx, c, vh, len);

			if (__builtin_expect(ret < 0, 0)) {
				/* left with the guest: retried next burst */
				vdp_vq_unfetch_l(x->va, c, x->l);
				x->ops->no_slow(x->ctx);
				return false;
			}
			x->nb += ret;
			x->ops->seen(x->ctx);
			return true;
		}
	}
	/* the frame: the chain's segments after the header (after the
	 * frame's own headers when they were rewritten, in hb) */
	if (__builtin_expect(pre == 0, 1)) {
		nf = vdp_chain_iov(c, hl, fi);
	} else {
		fi[0].base = hb;
		fi[0].len = pre;
		nf = 1 + vdp_chain_iov(c, hl + pre, fi + 1);
	}
	switch (vdp_peer_put(x, &oh, fi, nf, len, c->id, c->ndesc, true, true)) {
	case VDP_PEER_PUT_ON:
		return true;
	case VDP_PEER_PUT_HELD:
		vdp_vq_unfetch_l(x->va, c, x->l);   /* too few buffers in b for it now */
		return false;
	default:
		return false;
	}
}

/*
 * c, just taken (the i-th chain looked at), is not plain: it ends the
 * first pass. With k plain chains kept before it, it is given back for
 * now, taken again first thing after they are delivered (no chain is
 * then held while seen() stores a's position); else it is the pass's odd
 * chain (true), moved on its own.
 */
static VDP_ALWAYS_INLINE bool
vdp_peer_cut(struct vdp_vring *va, struct vdp_chain *c, uint32_t k, uint16_t *i,
	     enum vdp_layout l)
{
	if (k == 0)
		return true;
	vdp_vq_unfetch_l(va, c, l);
	(*i)--;
	return false;
}

static VDP_ALWAYS_INLINE int
vdp_peer_frames_l(struct vdp_vring *va, const struct vdp_memmap *mma, struct vdp_chain *c,
		  struct vdp_vring *vb, const struct vdp_memmap *mmb, vdp_frame_fn put_frame,
		  uint16_t max, enum vdp_layout l, const struct vdp_peer_ops *ops, void *ctx)
{
	struct vdp_peer_run x = {
		.va = va, .vb = vb, .mmb = mmb, .put_frame = put_frame, .ops = ops,
		.ctx = ctx, .l = l, .learn = true,
	};
	struct vdp_take t[VDP_PEER_BATCH];
	const uint32_t hl = va->hdr_len;
	uint16_t i = 0;

	if (vdp_vq_avail_l(va, l) == 0 || vdp_peer_stall(&x))
		return 0;
	while (i < max) {
		struct vdp_net_hdr vh = { 0 };
		bool odd = false, end = false, ones = true;   /* t[]'s ndesc all 1 */
		uint32_t k = 0, kc = 0;   /* t[kc..k): taken after the last refused chain */

		/* first pass: plain one-segment chains taken and kept */
		while (k < VDP_PEER_BATCH && i < max) {
			enum vdp_fetch r;

			if (l == VDP_LAYOUT_PACKED && k + VDP_TAKE_N <= VDP_PEER_BATCH &&
			    i + VDP_TAKE_N <= max) {
				const uint32_t k0 = k;
				const uint32_t got = vdp_packed_take_n(va, mma, VDP_DIR_READ, t + k0);

				i = (uint16_t)(i + got);
				for (; k < k0 + got; k++) {
					if (!va->hdr_skip)
						vdp_hdr_get_buf(t[k].hva, hl, &vh);
					if (__builtin_expect((vh.flags | vh.gso_type) != 0, 0))
						break;
					__builtin_prefetch(t[k].hva + hl);
				}
				if (k != k0 + got) {
					/* t[k] asks for offload work: those taken
					 * after it given back, it then as if taken
					 * on its own (the single take's case below) */
					vdp_packed_take_n_keep(va, t + k0, got, k + 1 - k0);
					i = (uint16_t)(i - (k0 + got - k - 1));
					vdp_take_chain(&t[k], c);
					odd = vdp_peer_cut(va, c, k, &i, l);
					break;
				}
				if (got != 0)
					continue;
			}
			r = vdp_vq_fetch_l(va, mma, VDP_DIR_READ, c, l);

			i++;
			if (r == VDP_FETCH_BAD) {
				kc = k;   /* it lies between t[k - 1] and what comes next */
				continue;
			}
			if (r != VDP_FETCH_OK) {
				end = true;
				break;
			}
			if (!va->hdr_skip)
				vdp_hdr_get(c, hl, &vh);
			if (__builtin_expect(c->nseg != 1 || (vh.flags | vh.gso_type) != 0, 0)) {
				odd = vdp_peer_cut(va, c, k, &i, l);
				break;
			}
			/* the frame's first line asked for now: the receiver's
			 * buffers are taken before it is copied */
			__builtin_prefetch(c->seg[0].hva + hl);
			/* the walkers refuse a chain shorter than the header */
			t[k].hva = c->seg[0].hva;
			t[k].len = c->seg[0].len;
			t[k].id = c->id;
			t[k].ndesc = c->ndesc;
			ones &= c->ndesc == 1;   /* vdp_packed_take_n's are */
			k++;
		}
		/* second pass: into b, in order */
		vdp_peer_deliver(&x, t, k, kc, ones);
		if (odd && !vdp_peer_chain(&x, c, &vh))
			break;
		if (end || x.broke || x.held)
			break;
	}
	return x.nb;
}

#endif /* VDP_PEER_H */
