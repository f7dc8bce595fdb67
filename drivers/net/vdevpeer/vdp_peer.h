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
 * Per chain taken from a (at most max chains looked at, bad ones
 * included, each fetch under a's burst budget):
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
 *    drop reason counted by b's ring, < 0 b's ring broke: the burst ends);
 *  - seen() after each frame: b may have handed kept used elements to its
 *    guest mid-burst (a packed ring's shadow full), a's position must then
 *    be made to survive a crash at once.
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
	/* the first frame of the burst, len >= 14: its Ethernet header */
	void (*learn)(void *ctx, const uint8_t *eth);
	void (*moved)(void *ctx, uint32_t len, int ret);
	void (*seen)(void *ctx);
	void (*no_slow)(void *ctx);   /* slow() failed: counted */
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

static VDP_ALWAYS_INLINE int
vdp_peer_frames_l(struct vdp_vring *va, const struct vdp_memmap *mma, struct vdp_chain *c,
		  struct vdp_vring *vb, const struct vdp_memmap *mmb, vdp_frame_fn put_frame,
		  uint16_t max, enum vdp_layout l, const struct vdp_peer_ops *ops, void *ctx)
{
	const uint32_t hl = va->hdr_len;
	bool learn = true;
	int nb = 0;

	if (vdp_vq_avail_l(va, l) == 0)
		return 0;
	for (uint16_t i = 0; i < max; i++) {
		enum vdp_fetch r = vdp_vq_fetch_l(va, mma, VDP_DIR_READ, c, l);
		struct vdp_net_hdr vh = { 0 }, oh = { 0 };
		struct vdp_iov fi[VDP_CHAIN_MAX_SEGS + 1];
		uint8_t hb[VDP_OL_HDR_MAX];
		uint32_t len, nf, pre = 0;
		int ret;

		if (r == VDP_FETCH_BAD)
			continue;
		if (r != VDP_FETCH_OK)
			break;
		/* the walkers refuse a chain shorter than the header */
		len = c->len - hl;
		if (!va->hdr_skip)
			vdp_hdr_get(c, hl, &vh);
		if (learn && len >= 14) {
			uint8_t eth[14];

			vdp_chain_read(c, hl, eth, sizeof(eth));
			ops->learn(ctx, eth);
			learn = false;
		}
		if (__builtin_expect((vh.flags | vh.gso_type) != 0, 0)) {
			enum vdp_peer_how how = ops->offload(ctx, c, &vh, len, &oh, hb, &pre);

			if (how == VDP_PEER_DROP) {
				vdp_vq_used_put_l(va, c->id, c->ndesc, 0, l);
				continue;
			}
			if (how == VDP_PEER_MBUF) {
				ret = ops->slow(ctx, c, &vh, len);
				if (__builtin_expect(ret < 0, 0)) {
					/* left with the guest: retried next burst */
					vdp_vq_unfetch_l(va, c, l);
					ops->no_slow(ctx);
					break;
				}
				nb += ret;
				ops->seen(ctx);
				continue;
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
		ret = put_frame(vb, mmb, &oh, fi, nf);
		vdp_vq_used_put_l(va, c->id, c->ndesc, 0, l);
		ops->moved(ctx, len, ret);
		nb++;
		if (__builtin_expect(ret < 0, 0))
			break;   /* b's ring broke */
		ops->seen(ctx);
	}
	return nb;
}

#endif /* VDP_PEER_H */
