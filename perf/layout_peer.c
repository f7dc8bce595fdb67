/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The direct guest-to-guest path on either ring layout, for
 * bench_layout.cc: guest A's TX ring to guest B's RX ring through
 * vdp_peer_frames_l (the code the PMD's vdp_peer_split / vdp_peer_packed
 * inline), with the burst's end as the PMD does it (A's used elements
 * flushed and its take position stored, then B's published), and the
 * rings' crash state (struct vdp_ring_state) on or off. Written in C:
 * the data path's inline headers are C.
 *
 * The guests are the test drivers (test/guest_ring.c, guest_packed.c),
 * set up as the stock testpmd guests of perf/run-e2e.py's loop cells
 * are: in_order, mergeable RX buffers of 2048 bytes, 256 slots; each
 * round A posts one burst of one-buffer frames and B refills its ring,
 * then the device side runs one burst, then both guests read their used
 * elements. The guests' work is in the timings (a few ns per frame):
 * read the figures side by side, layout against layout.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "guest_packed.h"
#include "guest_ring.h"
#include "layout_peer.h"
#include "vdp_peer.h"
#include "vdp_ring.h"

#define LP_RING 256u
#define LP_RXBUF 2048u
#define LP_GPA 0x40000000ull

struct lp {
	bool packed;
	uint32_t burst, tx_len;
	struct guest_mem m;
	struct guest_ring sa, sb;      /* split guests */
	struct guest_packed pa, pb;    /* packed guests */
	struct vdp_vring a, b;
	uint64_t ids_a[VDP_PACKED_IDS_WORDS(LP_RING)], ids_b[VDP_PACKED_IDS_WORDS(LP_RING)];
	struct vdp_ring_state *st;     /* two, or NULL */
	bool mem_ok, rings_ok;
	struct vdp_chain chain;
	vdp_frame_fn put;
	uint64_t tx_gpa, rx_gpa;
	uint32_t tx_next, rx_next;
};

static enum vdp_peer_how
lp_offload(void *ctx, const struct vdp_chain *c, const struct vdp_net_hdr *vh, uint32_t len,
	   struct vdp_net_hdr *oh, uint8_t *hb, uint32_t *pre)
{
	(void)ctx, (void)c, (void)vh, (void)len, (void)hb;
	memset(oh, 0, sizeof(*oh));
	*pre = 0;
	return VDP_PEER_COPY;
}

static int
lp_slow(void *ctx, const struct vdp_chain *c, const struct vdp_net_hdr *vh, uint32_t len)
{
	(void)ctx, (void)c, (void)vh, (void)len;
	return -1;
}

static void lp_learn(void *ctx, const uint8_t *eth) { (void)ctx, (void)eth; }
static void lp_moved(void *ctx, uint32_t len, int ret) { (void)ctx, (void)len, (void)ret; }
static void lp_no_slow(void *ctx) { (void)ctx; }
static bool lp_hold(void *ctx, bool tried) { (void)ctx, (void)tried; return false; }

/* As the PMD's: when B handed used elements over mid-burst, A's position
 * is stored before B's guest can see more. */
static void
lp_seen(void *ctx)
{
	struct lp *p = ctx;

	if (!p->b.used_flushed)
		return;
	vdp_vq_publish(&p->a);
	vdp_ring_state_avail(&p->a);
}

static const struct vdp_peer_ops lp_ops = {
	.offload = lp_offload, .slow = lp_slow, .learn = lp_learn,
	.moved = lp_moved, .seen = lp_seen, .no_slow = lp_no_slow, .hold = lp_hold,
};

static void
lp_ring_common(struct vdp_vring *vr, bool packed)
{
	vr->event_idx = true;
	vr->indirect = true;
	vr->hdr_len = VDP_NET_HDR_LEN_MRG;
	vr->used_batch = packed;   /* as the PMD's ring load */
	vr->in_order = packed;
}

struct lp *
lp_new(bool packed, bool state, uint32_t frame_len, uint32_t burst)
{
	struct lp *p = calloc(1, sizeof(*p));
	size_t mem;
	int ret;

	if (p == NULL || burst == 0 || burst > 64)
		goto fail;
	p->packed = packed;
	p->burst = burst;
	p->tx_len = VDP_NET_HDR_LEN_MRG + frame_len;
	mem = ((size_t)LP_RING * (LP_RXBUF + p->tx_len) + (8u << 20) + 4095) & ~(size_t)4095;
	if (guest_mem_init(&p->m, LP_GPA, mem, 0) != 0)
		goto fail;
	p->mem_ok = true;
	if (packed) {
		ret = guest_packed_init(&p->pa, &p->m, LP_RING, 0, true);
		ret |= guest_packed_init(&p->pb, &p->m, LP_RING, 0, true);
		p->rings_ok = true;
		ret |= guest_packed_attach(&p->pa, &p->a, p->ids_a);
		ret |= guest_packed_attach(&p->pb, &p->b, p->ids_b);
		p->pa.in_order = p->pb.in_order = true;
	} else {
		ret = guest_ring_init(&p->sa, &p->m, LP_RING, 0);
		ret |= guest_ring_init(&p->sb, &p->m, LP_RING, 0);
		p->rings_ok = true;
		ret |= guest_ring_attach(&p->sa, &p->a);
		ret |= guest_ring_attach(&p->sb, &p->b);
	}
	if (ret != 0)
		goto fail;
	lp_ring_common(&p->a, packed);
	lp_ring_common(&p->b, packed);
	p->b.mrg_rxbuf = true;
	p->put = vdp_vq_frame_fn(&p->b);
	p->tx_gpa = guest_alloc(&p->m, (size_t)LP_RING * p->tx_len, 64);
	p->rx_gpa = guest_alloc(&p->m, (size_t)LP_RING * LP_RXBUF, 64);
	if (p->put == NULL || p->tx_gpa == 0 || p->rx_gpa == 0)
		goto fail;
	/* the frames: a zero header, then an Ethernet frame */
	for (uint32_t i = 0; i < LP_RING; i++) {
		uint8_t *f = guest_ptr(&p->m, p->tx_gpa + (uint64_t)i * p->tx_len);

		memset(f, 0, VDP_NET_HDR_LEN_MRG);
		memset(f + VDP_NET_HDR_LEN_MRG, 0x5a, frame_len);
	}
	if (state) {
		p->st = calloc(2, sizeof(*p->st));
		if (p->st == NULL)
			goto fail;
		vdp_ring_state_reset(&p->st[0], &p->a, 1, 2, 3);
		vdp_ring_state_reset(&p->st[1], &p->b, 4, 5, 6);
		vdp_ring_state_attach(&p->a, &p->st[0]);
		vdp_ring_state_attach(&p->b, &p->st[1]);
	}
	return p;
fail:
	lp_free(p);
	return NULL;
}

void
lp_free(struct lp *p)
{
	if (p == NULL)
		return;
	if (p->rings_ok) {
		if (p->packed) {
			guest_packed_fini(&p->pa);
			guest_packed_fini(&p->pb);
		} else {
			guest_ring_fini(&p->sa);
			guest_ring_fini(&p->sb);
		}
	}
	if (p->mem_ok)
		guest_mem_fini(&p->m);
	free(p->st);
	free(p);
}

/* One buffer posted by guest A (TX) or B (RX, device-writable), not yet
 * made available; false when its ring is full. */
static bool
lp_post(struct lp *p, bool rx, uint64_t gpa, uint32_t len)
{
	const struct guest_buf b = { gpa, len, rx };

	if (p->packed)
		return guest_packed_post(rx ? &p->pb : &p->pa, &b, 1, false, false) >= 0;
	return guest_ring_post(rx ? &p->sb : &p->sa, &b, 1, false, false) >= 0;
}

/* Guest side: A posts a burst, B fills its ring with buffers. */
static void
lp_guests_post(struct lp *p)
{
	for (uint32_t i = 0; i < p->burst; i++)
		if (!lp_post(p, false, p->tx_gpa + (uint64_t)(p->tx_next++ % LP_RING) * p->tx_len,
			     p->tx_len))
			break;
	while (lp_post(p, true, p->rx_gpa + (uint64_t)(p->rx_next % LP_RING) * LP_RXBUF,
		       LP_RXBUF))
		p->rx_next++;
	if (p->packed) {
		guest_packed_publish(&p->pa);
		guest_packed_publish(&p->pb);
	} else {
		guest_ring_publish(&p->sa);
		guest_ring_publish(&p->sb);
	}
}

/* Guest side: both read their used elements; frames B received. */
static uint32_t
lp_guests_reap(struct lp *p)
{
	uint32_t id, len, n = 0;

	if (p->packed) {
		while (guest_packed_get_used(&p->pa, &id, &len) == 1)
			;
		while (guest_packed_get_used(&p->pb, &id, &len) == 1)
			n += p->pb.nfreed;
	} else {
		while (guest_ring_get_used(&p->sa, &id, &len) == 1)
			;
		while (guest_ring_get_used(&p->sb, &id, &len) == 1)
			n++;
	}
	return n;
}

/* One burst of the device, one copy per layout (as the PMD's
 * vdp_peer_split and vdp_peer_packed: l a constant in each, every layout
 * test folded away); lp_device_burst_split and _packed are functions
 * of their own, not inlined into lp_round: count-layout.sh and
 * profile-layout.sh count from their entry. */
static VDP_ALWAYS_INLINE int
lp_device_burst_l(struct lp *p, enum vdp_layout l)
{
	int nb;

	vdp_vring_burst_begin(&p->a);
	vdp_vring_burst_begin(&p->b);
	nb = vdp_peer_frames_l(&p->a, &p->m.mm, &p->chain, &p->b, &p->m.mm, p->put,
			       (uint16_t)p->burst, l, &lp_ops, p);
	(void)vdp_vq_publish_l(&p->a, l);
	vdp_ring_state_avail(&p->a);
	(void)vdp_vq_publish_l(&p->b, l);
	return nb;
}

static __attribute__((noinline)) int
lp_device_burst_split(struct lp *p)
{
	return lp_device_burst_l(p, VDP_LAYOUT_SPLIT);
}

static __attribute__((noinline)) int
lp_device_burst_packed(struct lp *p)
{
	return lp_device_burst_l(p, VDP_LAYOUT_PACKED);
}

int64_t
lp_round(struct lp *p, uint64_t *dev_tsc)
{
	uint64_t t0;
	int nb;

	lp_guests_post(p);
	t0 = __rdtsc();
	nb = p->packed ? lp_device_burst_packed(p) : lp_device_burst_split(p);
	*dev_tsc += __rdtsc() - t0;
	if (nb != (int)p->burst || p->a.broken || p->b.broken)
		return -1;
	return lp_guests_reap(p);
}
