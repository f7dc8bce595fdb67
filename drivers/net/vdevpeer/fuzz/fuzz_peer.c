/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the direct guest-to-guest path's frame loop
 * (vdp_peer_frames_l, vdp_peer.h, the loop the PMD's
 * rte_pmd_vdevpeer_peer_forward runs) between two hostile rings: the
 * sender's TX ring a and the receiver's RX ring b, each split or packed,
 * both in one guest's memory (one guest with two ports, or two guests
 * whose memory the fuzzer lays out alike), so that buffers may point at
 * the other ring, at each other and at the rings themselves. The guest
 * rewrites any bytes between bursts.
 *
 * Checked after every burst, besides what ASan and UBSan see:
 *  - the burst returns at most max frames, and every frame handed on is
 *    one moved() or slow() call (no frame counted twice, none lost);
 *  - a gives back every chain it took (nothing is held on this path):
 *    split used index == take position; packed no id held, used position
 *    == take position; unless a's ring broke;
 *  - b likewise: every buffer taken is used or given back (rewound);
 *  - hold() is asked only while b's ring holds (empty, or too few buffers
 *    for a frame), never again in a burst after it said wait, and that
 *    burst ends there with a's chains not yet handed on given back (the
 *    check above): nothing taken and lost;
 *  - positions in range, each ring's burst budget respected.
 * What frames b receives byte for byte is tests/e2e/test_peer_path.py's
 * (pcap-exact), the pieces of a chain test_ring's test_chain_iov.
 *
 * Input layout (little-endian; missing bytes read as zero):
 *   0  u8  shape: 1 a packed, 2 b packed, 4 b MRG_RXBUF, 8 header 12 (else
 *          10, both rings), 16 INDIRECT_DESC, 32 IN_ORDER (packed: the
 *          burst's TX chains one used element), 64 EVENT_IDX, 128 a COPY
 *          answer rewrites the frame's first 54 bytes (pre, as for TSO)
 *   1  u8  a's ring size (split: 1 << (v % 7); packed: 1 + v % 64)
 *   2  u8  b's ring size (idem)
 *   3  u8  max chains per burst: 1 + v % 64
 *   4  u8  bursts: 1 + v % 8 (bits 0-2); bits 3-6: what the owner
 *          answers hold() in turn, one bit per call (1: hold); bit 7 see_all
 *   5  u8  what the owner answers for a frame asking offload work, one
 *          2-bit choice per frame in turn: 0 COPY (NEEDS_CSUM header for
 *          b), 1 DROP, 2 MBUF done, 3 MBUF failed (burst ends, chain
 *          unfetched)
 *   6  u16 length of the patch area
 *   8      guest memory: FZ_MEM bytes from here (a's ring at 0x0000, b's
 *          at 0x1000: split desc / avail +0x400 / used +0x600, packed
 *          ring / driver event +0x400 / device event +0x404; buffers
 *          anywhere, gpa FZ_GPA + offset)
 *   8 + FZ_MEM  patches applied before each burst after the first, each
 *          u16 offset (% FZ_MEM), u8 length (% 32), bytes
 */
#define FZ_NAME "fuzz_peer"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "vdp_peer.h"
#include "vdp_ring.h"

#define FZ_MEM 0x4000u
#define FZ_GPA 0x100000ull
#define FZ_RING_A 0x0000u
#define FZ_RING_B 0x1000u

static struct {
	uint8_t *mem;
	struct vdp_memmap mm;
	struct vdp_vring a, b;
	struct vdp_chain chain;
	uint64_t ids_a[VDP_PACKED_IDS_WORDS(64)], ids_b[VDP_PACKED_IDS_WORDS(64)];
	uint8_t policy;
	unsigned int nask;       /* offload() calls: which 2 bits of policy */
	unsigned int answer;     /* the last offload() answer (0..3) */
	uint32_t nmoved, nslow;  /* frames moved() / handed by slow() this burst */
	uint8_t hb_pattern;
	bool see_all;            /* op_seen publishes a every time */
	uint8_t hold_bits;       /* hold() answers, one per call in turn */
	unsigned int nhold;      /* hold() calls */
	bool held;               /* hold() said yes this burst */
} fz;

static enum vdp_peer_how
op_offload(void *ctx, const struct vdp_chain *c, const struct vdp_net_hdr *vh, uint32_t len,
	   struct vdp_net_hdr *oh, uint8_t *hb, uint32_t *pre)
{
	const unsigned int k = (fz.policy >> (2 * (fz.nask++ % 4))) & 3;

	(void)ctx;
	(void)c;
	(void)vh;
	/* a header not read asks for nothing */
	FZ_CHECK(!fz.a.hdr_skip, "offload() called on a ring whose headers are not read");
	fz.answer = k;
	switch (k) {
	case 0:
		oh->flags = VDP_HDR_F_NEEDS_CSUM;
		oh->csum_start = 0;
		oh->csum_offset = 6;
		if ((fz.hb_pattern & 128) && len >= 54) {
			/* the frame's first bytes made ours, as for TSO */
			memset(hb, fz.hb_pattern, 54);
			*pre = 54;
		}
		return VDP_PEER_COPY;
	case 1:
		return VDP_PEER_DROP;
	default:
		return VDP_PEER_MBUF;
	}
}

static int
op_slow(void *ctx, const struct vdp_chain *c, const struct vdp_net_hdr *vh, uint32_t len)
{
	uint8_t buf[256];

	(void)ctx;
	(void)vh;
	if (fz.answer == 3)   /* the MBUF answer "out of mbufs" */
		return -1;
	/* as the PMD's mbuf path: the chain read (its start), given back */
	vdp_chain_read(c, fz.a.hdr_len, buf, len < sizeof(buf) ? len : sizeof(buf));
	vdp_vq_used_put(&fz.a, c->id, c->ndesc, 0);
	fz.nslow++;
	return 1;
}

static void
op_learn(void *ctx, const uint8_t *eth)
{
	uint8_t e[14];
	volatile uint8_t x;

	(void)ctx;
	memcpy(e, eth, sizeof(e));   /* all 14 bytes, under ASan */
	x = e[6] ^ e[13];
	(void)x;
}

static void
op_moved(void *ctx, uint32_t len, int ret)
{
	(void)ctx;
	(void)len;
	(void)ret;
	fz.nmoved++;
}

/* Every chain taken from vr given back: its take position is its used
 * position (published or not). */
static bool
all_given_back(const struct vdp_vring *vr)
{
	return vr->last_avail == vr->used_idx &&
	       (vr->layout != VDP_LAYOUT_PACKED || vr->avail_wrap == vr->used_wrap);
}

static void
op_seen(void *ctx)
{
	(void)ctx;
	/* as the PMD when b handed used elements over mid-burst (and, with
	 * see_all, every time): a published, its take position then stored
	 * for a crash - no chain may be taken and not given back here */
	if (!fz.b.used_flushed && !fz.see_all)
		return;
	vdp_vq_publish(&fz.a);
	FZ_CHECK(fz.a.broken || all_given_back(&fz.a),
		 "seen() with a chain of a held: take position %u, used position %u",
		 fz.a.last_avail, fz.a.used_idx);
}

static void
op_no_slow(void *ctx)
{
	(void)ctx;
}

static bool
op_hold(void *ctx, bool tried)
{
	const bool yes = (fz.hold_bits >> (fz.nhold++ % 4)) & 1;

	(void)ctx;
	/* b empty, or too few buffers for a frame (the frame function said
	 * so without counting: it is not counted on either answer here) */
	FZ_CHECK(!fz.b.broken, "hold() asked with b broken");
	FZ_CHECK(tried || vdp_vq_avail(&fz.b) == 0, "hold() asked while b shows a buffer");
	FZ_CHECK(!fz.b.miss_quiet, "hold() asked with b's misses not counted");
	FZ_CHECK(!fz.held, "hold() asked again after it said yes in the same burst");
	fz.held |= yes;
	return yes;
}

static const struct vdp_peer_ops fz_ops = {
	.offload = op_offload, .slow = op_slow, .learn = op_learn,
	.moved = op_moved, .seen = op_seen, .no_slow = op_no_slow, .hold = op_hold,
};

static uint32_t
ring_size(uint8_t v, bool packed)
{
	return packed ? 1u + v % 64u : 1u << (v % 7u);
}

static int
ring_init(struct vdp_vring *vr, uint32_t base, uint32_t size, bool packed, uint64_t *ids,
	  uint8_t shape)
{
	uint8_t *m = fz.mem + base;
	int ret;

	if (packed)
		ret = vdp_packed_init(vr, m, m + 0x400, m + 0x404, size, 0, true, 0, true, ids);
	else
		ret = vdp_vring_init(vr, m, m + 0x400, m + 0x600, size, 0, 0);
	if (ret != 0)
		return ret;
	vr->hdr_len = shape & 8 ? VDP_NET_HDR_LEN_MRG : VDP_NET_HDR_LEN_LEGACY;
	vr->indirect = shape & 16;
	vr->event_idx = shape & 64;
	vr->used_batch = packed;     /* as the PMD's ring load */
	vr->in_order = packed && (shape & 32);
	return 0;
}

static bool
none_held(const struct vdp_vring *vr, const uint64_t *ids)
{
	if (vr->layout != VDP_LAYOUT_PACKED)
		return true;
	for (uint32_t i = 0; i < VDP_PACKED_IDS_WORDS(vr->size); i++)
		if (ids[i] != 0)
			return false;
	return true;
}

static void
check_ring(const char *name, const struct vdp_vring *vr, const uint64_t *ids, unsigned int burst)
{
	if (vr->broken)
		return;
	FZ_CHECK(vr->nshadow == 0 && vr->used_pending == 0,
		 "burst %u: ring %s: %u used elements kept, %u pending after its publish", burst,
		 name, vr->nshadow, vr->used_pending);
	FZ_CHECK(all_given_back(vr),
		 "burst %u: ring %s: take position %u, used position %u: a chain taken and "
		 "not given back", burst, name, vr->last_avail, vr->used_idx);
	FZ_CHECK(none_held(vr, ids), "burst %u: ring %s: an id still held", burst, name);
	if (vr->layout == VDP_LAYOUT_PACKED)
		FZ_CHECK(vr->last_avail < vr->size && vr->used_idx < vr->size,
			 "burst %u: ring %s: position out of range", burst, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size, 0 };
	uint8_t shape, sa, sb, maxv, nbursts;
	uint16_t plen;
	size_t poff, pend;
	int ret;

	shape = in_u8(&in);
	sa = in_u8(&in);
	sb = in_u8(&in);
	maxv = in_u8(&in);
	nbursts = in_u8(&in);
	fz.policy = in_u8(&in);
	plen = in_u16(&in);
	fz.hb_pattern = shape;

	fz.mem = calloc(1, FZ_MEM);
	if (fz.mem == NULL)
		return 0;
	if (size > 8)
		memcpy(fz.mem, data + 8, size - 8 < FZ_MEM ? size - 8 : FZ_MEM);
	fz.mm.nregions = 1;
	fz.mm.r[0].gpa = FZ_GPA;
	fz.mm.r[0].size = FZ_MEM;
	fz.mm.r[0].hva = (uint64_t)(uintptr_t)fz.mem;
	poff = 8 + (size_t)FZ_MEM;
	pend = poff + plen < size ? poff + plen : size;

	ret = ring_init(&fz.a, FZ_RING_A, ring_size(sa, shape & 1), shape & 1, fz.ids_a, shape);
	ret |= ring_init(&fz.b, FZ_RING_B, ring_size(sb, shape & 2), shape & 2, fz.ids_b, shape);
	FZ_CHECK(ret == 0, "ring init refused sizes %u / %u", ring_size(sa, shape & 1),
		 ring_size(sb, shape & 2));
	fz.b.mrg_rxbuf = shape & 4;
	/* a's guest without CSUM: its headers not read (maxv's bit 7; the
	 * burst size takes its low 6 bits) */
	fz.a.hdr_skip = maxv & 128;
	fz.see_all = nbursts & 128;   /* the burst count takes its low 3 bits */
	fz.hold_bits = (uint8_t)((nbursts >> 3) & 15);
	fz.nask = 0;
	fz.nhold = 0;

	for (unsigned int burst = 0; burst <= nbursts % 8u; burst++) {
		const vdp_frame_fn put = vdp_vq_frame_fn(&fz.b);
		const uint16_t max = (uint16_t)(1u + maxv % 64u);
		int nb;

		/* the guest's writes between bursts */
		while (burst != 0 && poff + 3 <= pend) {
			uint16_t off = (uint16_t)(data[poff] | data[poff + 1] << 8) % FZ_MEM;
			uint32_t n = data[poff + 2] % 32u;

			poff += 3;
			for (uint32_t i = 0; i < n && poff < pend; i++, poff++)
				fz.mem[(off + i) % FZ_MEM] = data[poff];
			if (n == 0 || n % 3 == 0)
				break;   /* the rest before the next burst */
		}
		FZ_CHECK(put != NULL, "no frame function for ring b");
		vdp_vring_burst_begin(&fz.a);
		vdp_vring_burst_begin(&fz.b);
		fz.nmoved = fz.nslow = 0;
		fz.held = false;
		nb = fz.a.layout == VDP_LAYOUT_PACKED ?
		     vdp_peer_frames_l(&fz.a, &fz.mm, &fz.chain, &fz.b, &fz.mm, put, max,
				       VDP_LAYOUT_PACKED, &fz_ops, NULL) :
		     vdp_peer_frames_l(&fz.a, &fz.mm, &fz.chain, &fz.b, &fz.mm, put, max,
				       VDP_LAYOUT_SPLIT, &fz_ops, NULL);
		vdp_vq_publish(&fz.a);
		vdp_vq_publish(&fz.b);
		FZ_CHECK(nb >= 0 && nb <= max && (uint32_t)nb == fz.nmoved + fz.nslow,
			 "burst %u: %d frames returned (max %u), %u moved + %u by the slow path",
			 burst, nb, max, fz.nmoved, fz.nslow);
		FZ_CHECK(!fz.b.miss_quiet, "burst %u: b's misses left uncounted after it", burst);
		check_ring("a", &fz.a, fz.ids_a, burst);
		check_ring("b", &fz.b, fz.ids_b, burst);
	}
	free(fz.mem);
	fz.mem = NULL;
	return 0;
}
