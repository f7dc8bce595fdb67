/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: a guest's virtio-net header checked against its frame
 * (vdp_ol_guest_tx), then, for what it accepts, the work the PMD does on
 * it without EAL (vdevpeer_rxtx.c vdp_rx_offload / vdp_rx_segment):
 * checksum completion over the frame's pieces, software TCP segmentation
 * with per-segment headers and checksums; and the checksum helpers the
 * host-to-guest path uses on the same headers (vdp_ol_l4_csum full and
 * partial).
 *
 * Every buffer handed to the library is a heap buffer of exactly its size
 * (frame pieces, the parsed header bytes, the header copies segmentation
 * writes into), so ASan sees a read or write one byte past them.
 *
 * The checks (abort() when broken):
 *  - vdp_ol_parse against a parser written here from the protocols
 *    (Ethernet + up to 2 VLAN tags, IPv4 with options, IPv6, TCP, UDP);
 *  - vdp_ol_guest_tx against vdp_offload.h: it accepts exactly when no
 *    refusal reason holds, returns one of those that hold otherwise, and
 *    what it accepts is safe to act on (csum_start + csum_offset + 2 within
 *    the frame, headers within the bytes parsed and VDP_OL_HDR_MAX,
 *    1 < nsegs <= VDP_GSO_MAX_SEGS, mss >= VDP_GSO_MIN_MSS, no IP length
 *    a segment would overflow);
 *  - vdp_features_unmet: what it drops was acked and lacks a dependency,
 *    and what is left is consistent;
 *  - checksums against a byte-by-byte reference; each segment's headers
 *    field by field against the original (lengths, IPv4 id and header
 *    checksum, sequence number, FIN/PSH/CWR, everything else unchanged),
 *    its TCP checksum verified, and the segments' payloads adding up to
 *    the frame's.
 *
 * Input layout (little-endian; missing bytes read as zero):
 *   0  12   virtio-net header (flags, gso_type, hdr_len, gso_size,
 *           csum_start, csum_offset, num_buffers)
 *  12  u32  features the guest acked (virtio bits 0..30); bit 31: first
 *           drop those whose dependencies are missing, as the PMD does
 *           (vdp_features_unmet), else use them as they are
 *  16  u16  bytes appended to the frame after the input's (a fixed
 *           pattern), so that 64 KiB frames need no 64 KiB input: by its
 *           top bits 0x/10/11: v & 0x7ff, v & 0x3fff, v (mostly small
 *           frames, which keeps the executions fast)
 *  18  u8   bytes the parser is given: 0 = min(frame, VDP_OL_HDR_MAX) as
 *           the PMD does, else v % (that + 1)
 *  19  u8   pieces: 1 + v % 4
 *  20  u8   [3] piece boundaries (fractions of the frame, /255)
 *  23  u8   vdp_iov_copy probe selector
 *  24       frame bytes
 *
 * fuzz-args: -max_len=2048
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdp_features.h"
#include "vdp_offload.h"

#define FZ_NAME "fuzz_offload"
#include "fuzz_check.h"

#define FZ_HDR_LEN 24u
#define FZ_PIECES 4u


static void *
xmalloc(size_t n)
{
	void *p = malloc(n != 0 ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- reference checksum: one byte at a time, network order ---- */

struct ref_sum {
	uint64_t s;
	uint64_t n;    /* bytes so far: odd means the next is a low byte */
};

static void
ref_feed(struct ref_sum *r, const uint8_t *p, uint32_t len)
{
	uint32_t i = 0;

	if (len != 0 && (r->n & 1))
		r->s += p[i++];
	for (; i + 1 < len; i += 2)
		r->s += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		r->s += (uint32_t)p[i] << 8;
	r->n += len;
}

static uint16_t
ref_fold(const struct ref_sum *r)
{
	uint64_t s = r->s;

	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Pseudo header: addresses, protocol, L4 length (RFC 793, RFC 8200 8.1). */
static void
ref_pseudo(struct ref_sum *r, const uint8_t *l3, uint8_t ipv, uint8_t proto, uint32_t l4len)
{
	uint8_t b[40];
	uint32_t n;

	if (ipv == 4) {
		memcpy(b, l3 + 12, 8);
		b[8] = 0;
		b[9] = proto;
		b[10] = (uint8_t)(l4len >> 8);
		b[11] = (uint8_t)l4len;
		n = 12;
	} else {
		memcpy(b, l3 + 8, 32);
		b[32] = (uint8_t)(l4len >> 24);
		b[33] = (uint8_t)(l4len >> 16);
		b[34] = (uint8_t)(l4len >> 8);
		b[35] = (uint8_t)l4len;
		b[36] = b[37] = b[38] = 0;
		b[39] = proto;
		n = 40;
	}
	/* even-sized: does not change the parity of what follows */
	{
		struct ref_sum t = { 0, 0 };

		ref_feed(&t, b, n);
		r->s += t.s;
	}
}

/* ---- reference parser, from the protocols ---- */

static bool
ref_parse(const uint8_t *p, uint32_t avail, uint32_t frame_len, struct vdp_ol_hdrs *h,
	  uint32_t *ip_end)
{
	uint32_t l2 = 14, l4, end;
	uint16_t type;
	uint8_t proto;
	bool frag = false;

	memset(h, 0, sizeof(*h));
	*ip_end = 0;
	if (avail > frame_len)
		avail = frame_len;
	if (avail < 14)
		return false;
	type = vdp_get_be16(p + 12);
	/* up to two tags: 802.1Q or 802.1ad */
	if (type == 0x8100 || type == 0x88a8) {
		if (avail < 18)
			return false;
		type = vdp_get_be16(p + 16);
		l2 = 18;
		if (type == 0x8100 || type == 0x88a8) {
			if (avail < 22)
				return false;
			type = vdp_get_be16(p + 20);
			l2 = 22;
		}
	}
	if (type == 0x0800) {
		const uint8_t *ip = p + l2;
		uint32_t ihl, tot;

		if (avail < l2 + 20 || ip[0] >> 4 != 4)
			return false;
		ihl = (ip[0] & 15u) * 4;
		tot = vdp_get_be16(ip + 2);
		if (ihl < 20 || avail < l2 + ihl || tot < ihl || l2 + tot > frame_len)
			return false;
		h->ipv = 4;
		h->l3_len = (uint16_t)ihl;
		proto = ip[9];
		/* MF set or a fragment offset: no L4 header of its own */
		frag = (vdp_get_be16(ip + 6) & 0x3fff) != 0;
		l4 = l2 + ihl;
		end = l2 + tot;
	} else if (type == 0x86dd) {
		const uint8_t *ip = p + l2;

		if (avail < l2 + 40 || ip[0] >> 4 != 6)
			return false;
		if (l2 + 40 + vdp_get_be16(ip + 4) > frame_len)
			return false;
		h->ipv = 6;
		h->l3_len = 40;
		proto = ip[6];
		l4 = l2 + 40;
		end = l4 + vdp_get_be16(ip + 4);
	} else {
		return false;
	}
	h->l2_len = (uint16_t)l2;
	*ip_end = end;
	if (frag)
		return true;
	if (proto == VDP_IPPROTO_TCP && l4 + 20 <= avail && l4 + 20 <= end) {
		uint32_t doff = (p[l4 + 12] >> 4) * 4u;

		if (doff >= 20 && l4 + doff <= avail && l4 + doff <= end) {
			h->l4_proto = VDP_IPPROTO_TCP;
			h->l4_len = (uint16_t)doff;
		}
	} else if (proto == VDP_IPPROTO_UDP && l4 + 8 <= avail && l4 + 8 <= end) {
		h->l4_proto = VDP_IPPROTO_UDP;
		h->l4_len = 8;
	}
	return true;
}

static bool
hdrs_equal(const struct vdp_ol_hdrs *a, const struct vdp_ol_hdrs *b)
{
	return a->l2_len == b->l2_len && a->l3_len == b->l3_len && a->l4_len == b->l4_len &&
	       a->ipv == b->ipv && a->l4_proto == b->l4_proto;
}

/* ---- the frame, in pieces ---- */

struct fz_frame {
	uint8_t *flat;                 /* the whole frame (reference copy) */
	uint32_t len;
	uint32_t n;
	struct vdp_iov iov[FZ_PIECES];
	uint8_t *piece[FZ_PIECES];
};

/* Write src at frame offset off, in the pieces and in the flat copy. */
static void
frame_write(struct fz_frame *f, uint32_t off, const uint8_t *src, uint32_t len)
{
	memcpy(f->flat + off, src, len);
	for (uint32_t i = 0, base = 0; i < f->n; base += f->iov[i].len, i++) {
		for (uint32_t k = 0; k < len; k++)
			if (off + k >= base && off + k < base + f->iov[i].len)
				f->piece[i][off + k - base] = src[k];
	}
}

/* Index of the piece holding frame byte b (zero-length pieces hold none). */
static uint32_t
piece_of(const struct fz_frame *f, uint32_t b)
{
	uint32_t i = 0, end = f->iov[0].len;

	while (end <= b)
		end += f->iov[++i].len;
	return i;
}

/*
 * vdp_iov_slice of [off, off + len): -1 exactly when the range is beyond
 * the frame or spans more than max pieces (empty ones in between count);
 * otherwise pieces inside the frame's own, covering exactly those bytes.
 */
static int
check_slice(const struct fz_frame *f, uint32_t off, uint32_t len, struct vdp_iov *out,
	    uint32_t max)
{
	int n = vdp_iov_slice(f->iov, f->n, off, len, out, max);
	int want;
	uint32_t pos = off;

	if (len == 0)
		want = 0;
	else if (off >= f->len || len > f->len - off)
		want = -1;
	else
		want = (int)(piece_of(f, off + len - 1) - piece_of(f, off) + 1);
	if (want > (int)max)
		want = -1;
	FZ_CHECK(n == want, "iov_slice(%u, %u, max %u) of a %u-byte frame in %u pieces: "
		 "%d, want %d", off, len, max, f->len, f->n, n, want);
	for (int i = 0; i < n; i++) {
		bool inside = false;

		for (uint32_t k = 0; k < f->n; k++)
			inside |= (const uint8_t *)out[i].base >= f->piece[k] &&
				  out[i].len <= f->iov[k].len &&
				  (const uint8_t *)out[i].base - f->piece[k] <=
				  (ptrdiff_t)(f->iov[k].len - out[i].len);
		FZ_CHECK(inside, "iov_slice piece %d outside the frame's pieces", i);
		FZ_CHECK(memcmp(out[i].base, f->flat + pos, out[i].len) == 0,
			 "iov_slice piece %d: wrong bytes", i);
		pos += out[i].len;
	}
	FZ_CHECK(n < 0 || pos == off + len, "iov_slice covered %u bytes of %u", pos - off, len);
	return n;
}

/* ---- what the PMD does with an accepted request ---- */

/* Checksum completion in place (vdp_rx_offload, software path). */
static void
run_csum(struct fz_frame *f, const struct vdp_ol_req *r, bool udp)
{
	struct vdp_iov sl[VDP_CHAIN_MAX_SEGS];
	struct vdp_csum c;
	struct ref_sum rs = { 0, 0 };
	uint16_t x, rx;
	uint8_t v[2];
	int n;

	n = check_slice(f, r->csum_start, f->len - r->csum_start, sl, VDP_CHAIN_MAX_SEGS);
	FZ_CHECK(n >= 0, "no slice for the checksummed range");
	vdp_csum_init(&c);
	vdp_csum_feed_iov(&c, sl, (uint32_t)n);
	x = vdp_csum_fold(&c);
	ref_feed(&rs, f->flat + r->csum_start, f->len - r->csum_start);
	rx = ref_fold(&rs);
	FZ_CHECK(x == rx, "checksum over [%u, %u) in %d pieces: 0x%04x, reference 0x%04x",
		 r->csum_start, f->len, n, x, rx);
	x = (uint16_t)~x;
	if (x == 0 && udp)
		x = 0xffff;
	vdp_put_be16(v, x);
	frame_write(f, (uint32_t)r->csum_start + r->csum_offset, v, 2);
}

/*
 * The host side's L4 checksum over the same headers (vdp_ol_l4_csum,
 * partial and full), on a header copy of exactly l2 + l3 + l4 bytes.
 */
static void
run_l4_csum(const struct fz_frame *f, const struct vdp_ol_hdrs *h, uint32_t ip_end)
{
	const uint32_t hl = (uint32_t)h->l2_len + h->l3_len + h->l4_len;
	const uint32_t l4_total = ip_end - h->l2_len - h->l3_len;
	const uint32_t fo = h->l4_proto == VDP_IPPROTO_TCP ? VDP_TCP_CSUM_OFF : VDP_UDP_CSUM_OFF;
	struct vdp_iov pay[VDP_CHAIN_MAX_SEGS];
	uint8_t *hb = xmalloc(hl);
	struct ref_sum rs = { 0, 0 };
	uint16_t want, got;
	int n;

	n = check_slice(f, hl, ip_end - hl, pay, VDP_CHAIN_MAX_SEGS);
	FZ_CHECK(n >= 0, "no slice for the L4 payload");

	memcpy(hb, f->flat, hl);
	vdp_ol_l4_csum(hb, h, h->l4_len, NULL, 0, l4_total, true);
	ref_pseudo(&rs, f->flat + h->l2_len, h->ipv, h->l4_proto, l4_total);
	got = vdp_get_be16(hb + h->l2_len + h->l3_len + fo);
	FZ_CHECK(got == ref_fold(&rs), "partial L4 checksum 0x%04x, reference 0x%04x",
		 got, ref_fold(&rs));
	FZ_CHECK(memcmp(hb, f->flat, h->l2_len + h->l3_len + fo) == 0 &&
		 memcmp(hb + h->l2_len + h->l3_len + fo + 2,
			f->flat + h->l2_len + h->l3_len + fo + 2,
			h->l4_len - fo - 2) == 0, "partial L4 checksum changed other bytes");

	/* reference: the original header with its checksum field zero */
	memcpy(hb, f->flat, hl);
	hb[h->l2_len + h->l3_len + fo] = 0;
	hb[h->l2_len + h->l3_len + fo + 1] = 0;
	ref_feed(&rs, hb + h->l2_len + h->l3_len, h->l4_len);
	ref_feed(&rs, f->flat + hl, ip_end - hl);
	want = (uint16_t)~ref_fold(&rs);
	if (want == 0 && h->l4_proto == VDP_IPPROTO_UDP)
		want = 0xffff;
	memcpy(hb, f->flat, hl);
	vdp_ol_l4_csum(hb, h, h->l4_len, pay, (uint32_t)n, l4_total, false);
	got = vdp_get_be16(hb + h->l2_len + h->l3_len + fo);
	FZ_CHECK(memcmp(hb, f->flat, h->l2_len + h->l3_len + fo) == 0 &&
		 memcmp(hb + h->l2_len + h->l3_len + fo + 2,
			f->flat + h->l2_len + h->l3_len + fo + 2,
			h->l4_len - fo - 2) == 0, "L4 checksum changed other bytes");
	FZ_CHECK(got == want, "L4 checksum 0x%04x, reference 0x%04x", got, want);
	free(hb);
}

/*
 * Software segmentation (vdp_rx_segment): for each segment the headers
 * from vdp_ol_tso_hdr and the checksum from vdp_ol_l4_csum, checked field
 * by field against the original headers.
 */
static void
run_tso(const struct fz_frame *f, const struct vdp_ol_req *r, const uint8_t *hp)
{
	const struct vdp_ol_hdrs *h = &r->h;
	const uint32_t l2 = h->l2_len, l3 = h->l3_len, l4 = h->l4_len;
	const uint32_t hl = l2 + l3 + l4, pay = f->len - hl;
	struct vdp_iov sl[VDP_CHAIN_MAX_SEGS];
	uint8_t *hb = xmalloc(hl), *sh = xmalloc(hl);
	uint32_t done = 0, i;

	/* the PMD copies them into a VDP_OL_HDR_MAX stack buffer */
	FZ_CHECK(hl <= VDP_OL_HDR_MAX, "TSO headers of %u bytes", hl);
	memcpy(hb, hp, hl);
	{
		/* hardware path: pseudo header without the length (DPDK) */
		struct vdp_csum c;
		struct ref_sum rs = { 0, 0 };

		vdp_csum_init(&c);
		vdp_csum_pseudo(&c, hb + l2, h->ipv, VDP_IPPROTO_TCP, 0);
		ref_pseudo(&rs, hb + l2, h->ipv, VDP_IPPROTO_TCP, 0);
		FZ_CHECK(vdp_csum_fold(&c) == ref_fold(&rs), "TSO pseudo header sum");
	}
	for (i = 0; i < r->nsegs; i++) {
		const uint32_t off = i * r->mss;
		const uint32_t len = pay - off < r->mss ? pay - off : r->mss;
		const bool last = i + 1 == r->nsegs;
		const uint8_t *oip = hb + l2, *otcp = oip + l3;
		const uint8_t *ip = sh + l2, *tcp = ip + l3;
		struct ref_sum rs = { 0, 0 };
		uint8_t fl;
		int n;

		FZ_CHECK(off < pay && len > 0, "segment %u of %u starts past the payload (%u)",
			 i, r->nsegs, pay);
		n = check_slice(f, hl + off, len, sl, VDP_CHAIN_MAX_SEGS);
		FZ_CHECK(n >= 0, "no slice for segment %u", i);
		memset(sh, 0xa5, hl);
		vdp_ol_tso_hdr(hb, h, i, off, len, last, sh);
		vdp_ol_l4_csum(sh, h, l4, sl, (uint32_t)n, l4 + len, false);

		FZ_CHECK(memcmp(sh, hb, l2) == 0, "segment %u: L2 header changed", i);
		if (h->ipv == 4) {
			uint16_t want_id = (uint16_t)(vdp_get_be16(oip + 4) + i);
			struct ref_sum is = { 0, 0 };

			FZ_CHECK(l3 + l4 + len <= 0xffff, "segment %u: IPv4 length overflows", i);
			FZ_CHECK(vdp_get_be16(ip + 2) == l3 + l4 + len,
				 "segment %u: IPv4 total length %u, want %u", i,
				 vdp_get_be16(ip + 2), l3 + l4 + len);
			FZ_CHECK(vdp_get_be16(ip + 4) == want_id, "segment %u: IPv4 id", i);
			ref_feed(&is, ip, l3);
			FZ_CHECK(ref_fold(&is) == 0xffff, "segment %u: bad IPv4 header checksum", i);
			FZ_CHECK(memcmp(ip, oip, 2) == 0 && memcmp(ip + 6, oip + 6, 4) == 0 &&
				 memcmp(ip + 12, oip + 12, l3 - 12) == 0,
				 "segment %u: IPv4 header bytes changed", i);
		} else {
			FZ_CHECK(l4 + len <= 0xffff, "segment %u: IPv6 length overflows", i);
			FZ_CHECK(vdp_get_be16(ip + 4) == l4 + len,
				 "segment %u: IPv6 payload length %u, want %u", i,
				 vdp_get_be16(ip + 4), l4 + len);
			FZ_CHECK(memcmp(ip, oip, 4) == 0 && memcmp(ip + 6, oip + 6, 34) == 0,
				 "segment %u: IPv6 header bytes changed", i);
		}
		FZ_CHECK(be32(tcp + 4) == be32(otcp + 4) + off, "segment %u: sequence number", i);
		fl = otcp[13];
		if (!last)
			fl &= (uint8_t)~(VDP_TCP_F_FIN | VDP_TCP_F_PSH);
		if (i != 0)
			fl &= (uint8_t)~VDP_TCP_F_CWR;
		FZ_CHECK(tcp[13] == fl, "segment %u of %u: TCP flags 0x%02x, want 0x%02x", i,
			 r->nsegs, tcp[13], fl);
		FZ_CHECK(memcmp(tcp, otcp, 4) == 0 && memcmp(tcp + 8, otcp + 8, 5) == 0 &&
			 memcmp(tcp + 14, otcp + 14, 2) == 0 &&
			 memcmp(tcp + 18, otcp + 18, l4 - 18) == 0,
			 "segment %u: TCP header bytes changed", i);
		/* the receiver's check: pseudo header + segment sums to 0xffff */
		ref_pseudo(&rs, ip, h->ipv, VDP_IPPROTO_TCP, l4 + len);
		ref_feed(&rs, tcp, l4);
		ref_feed(&rs, f->flat + hl + off, len);
		FZ_CHECK(ref_fold(&rs) == 0xffff, "segment %u: TCP checksum does not verify", i);
		done += len;
	}
	FZ_CHECK(done == pay, "segments carry %u bytes of %u", done, pay);
	free(hb);
	free(sh);
}

/* ---- vdp_features_unmet against virtio 1.1 5.1.3.1 ---- */

static uint64_t
check_unmet(uint64_t f)
{
	const uint64_t gcsum = VDP_BIT(VDP_F_GUEST_CSUM), hcsum = VDP_BIT(VDP_F_CSUM);
	const uint64_t gtso = VDP_BIT(VDP_F_GUEST_TSO4) | VDP_BIT(VDP_F_GUEST_TSO6);
	const uint64_t htso = VDP_BIT(VDP_F_HOST_TSO4) | VDP_BIT(VDP_F_HOST_TSO6);
	const uint64_t gdep = gtso | VDP_BIT(VDP_F_GUEST_UFO);
	const uint64_t hdep = htso | VDP_BIT(VDP_F_HOST_UFO);
	const uint64_t gecn = VDP_BIT(VDP_F_GUEST_ECN), hecn = VDP_BIT(VDP_F_HOST_ECN);
	const uint64_t d = vdp_features_unmet(f), g = f & ~d;

	FZ_CHECK((d & ~f) == 0, "unmet(0x%llx) drops 0x%llx, not acked",
		 (unsigned long long)f, (unsigned long long)(d & ~f));
	/* what is left depends only on what is left */
	FZ_CHECK(!(g & gdep) || (g & gcsum), "0x%llx: guest TSO/UFO without GUEST_CSUM",
		 (unsigned long long)g);
	FZ_CHECK(!(g & hdep) || (g & hcsum), "0x%llx: host TSO/UFO without CSUM",
		 (unsigned long long)g);
	FZ_CHECK(!(g & gecn) || (g & gtso), "0x%llx: GUEST_ECN without GUEST_TSO",
		 (unsigned long long)g);
	FZ_CHECK(!(g & hecn) || (g & htso), "0x%llx: HOST_ECN without HOST_TSO",
		 (unsigned long long)g);
	/* and nothing is dropped that had what it needs */
	FZ_CHECK(!(d & gdep) || !(f & gcsum), "0x%llx: guest TSO dropped with GUEST_CSUM",
		 (unsigned long long)f);
	FZ_CHECK(!(d & hdep) || !(f & hcsum), "0x%llx: host TSO dropped with CSUM",
		 (unsigned long long)f);
	FZ_CHECK(!(d & gecn) || !(g & gtso), "0x%llx: GUEST_ECN dropped with GUEST_TSO",
		 (unsigned long long)f);
	FZ_CHECK(!(d & hecn) || !(g & htso), "0x%llx: HOST_ECN dropped with HOST_TSO",
		 (unsigned long long)f);
	FZ_CHECK((d & ~(gdep | hdep | gecn | hecn)) == 0, "0x%llx: drops 0x%llx",
		 (unsigned long long)f, (unsigned long long)d);
	FZ_CHECK(vdp_features_unmet(g) == 0, "0x%llx: not consistent after one pass",
		 (unsigned long long)f);
	return g;
}

/* ---- vdp_ol_guest_tx against vdp_offload.h ---- */

#define WHY(e) (1u << (e))

/* The refusal reasons that hold for this header and frame. */
static uint32_t
reasons(const struct vdp_net_hdr *nh, uint64_t feats, bool parsed,
	const struct vdp_ol_hdrs *h, uint32_t ip_end, uint32_t frame_len)
{
	const uint8_t gso = nh->gso_type, gtype = gso & (uint8_t)~VDP_GSO_ECN;
	const bool csum = nh->flags & VDP_HDR_F_NEEDS_CSUM;
	uint32_t why = 0;

	if (!csum && gso == VDP_GSO_NONE)
		return 0;
	if (csum && !(feats & VDP_BIT(VDP_F_CSUM)))
		why |= WHY(VDP_ERR_OL_NOT_NEGOTIATED);
	if (csum && (uint32_t)nh->csum_start + nh->csum_offset + 2 > frame_len)
		why |= WHY(VDP_ERR_BAD_CSUM_HDR);
	if (gso == VDP_GSO_NONE)
		return why;
	if ((gtype == VDP_GSO_TCPV4 && !(feats & VDP_BIT(VDP_F_HOST_TSO4))) ||
	    (gtype == VDP_GSO_TCPV6 && !(feats & VDP_BIT(VDP_F_HOST_TSO6))) ||
	    ((gso & VDP_GSO_ECN) && !(feats & VDP_BIT(VDP_F_HOST_ECN))))
		why |= WHY(VDP_ERR_OL_NOT_NEGOTIATED);
	if (gtype != VDP_GSO_TCPV4 && gtype != VDP_GSO_TCPV6) {
		why |= WHY(VDP_ERR_BAD_GSO);   /* UDP is never offered */
	} else if (!parsed || h->l4_proto != VDP_IPPROTO_TCP ||
		   h->ipv != (gtype == VDP_GSO_TCPV4 ? 4 : 6)) {
		why |= WHY(VDP_ERR_BAD_GSO);   /* type not matching the frame */
	} else {
		const uint32_t hl = (uint32_t)h->l2_len + h->l3_len + h->l4_len;
		const uint32_t pay = frame_len - hl;

		/* a partial checksum elsewhere than the TCP header contradicts
		 * GSO; so does padding after the IP packet (it would be cut
		 * into the segments) */
		if (csum && (nh->csum_start != h->l2_len + h->l3_len ||
			     nh->csum_offset != VDP_TCP_CSUM_OFF))
			why |= WHY(VDP_ERR_BAD_GSO);
		if (ip_end != frame_len || nh->gso_size < VDP_GSO_MIN_MSS)
			why |= WHY(VDP_ERR_BAD_GSO);
		else if (pay > nh->gso_size &&
			 (pay + nh->gso_size - 1) / nh->gso_size > VDP_GSO_MAX_SEGS)
			why |= WHY(VDP_ERR_BAD_GSO);
	}
	return why;
}

static void
check_request(const struct vdp_net_hdr *nh, const struct vdp_ol_req *r, bool parsed,
	      const struct vdp_ol_hdrs *h, uint32_t ip_end, uint32_t avail,
	      uint32_t frame_len)
{
	const bool csum = nh->flags & VDP_HDR_F_NEEDS_CSUM;
	const uint32_t cs = nh->csum_start, co = nh->csum_offset;
	enum vdp_ol_kind want = VDP_OL_PLAIN;

	if (!csum && nh->gso_type == VDP_GSO_NONE) {
		FZ_CHECK(r->kind == VDP_OL_PLAIN, "no offload asked, kind %d", r->kind);
		return;
	}
	FZ_CHECK(hdrs_equal(&r->h, h), "request headers differ from the reference parse");
	if (csum) {
		FZ_CHECK(r->csum_start == cs && r->csum_offset == co, "csum fields changed");
		want = parsed && h->l4_proto != 0 && cs == (uint32_t)h->l2_len + h->l3_len &&
			co == (h->l4_proto == VDP_IPPROTO_TCP ? VDP_TCP_CSUM_OFF : VDP_UDP_CSUM_OFF) ?
			VDP_OL_CSUM : VDP_OL_CSUM_RAW;
	}
	if (nh->gso_type != VDP_GSO_NONE) {
		const uint32_t hl = (uint32_t)h->l2_len + h->l3_len + h->l4_len;
		const uint32_t pay = frame_len - hl;

		if (pay > nh->gso_size) {
			want = VDP_OL_TSO;
			FZ_CHECK(r->mss == nh->gso_size &&
				 r->nsegs == (pay + r->mss - 1) / r->mss,
				 "TSO of %u bytes: mss %u nsegs %u", pay, r->mss, r->nsegs);
			FZ_CHECK(r->csum_start == h->l2_len + h->l3_len &&
				 r->csum_offset == VDP_TCP_CSUM_OFF, "TSO csum fields");
		}
	}
	FZ_CHECK(r->kind == want, "kind %d, want %d", r->kind, want);

	/* what the PMD relies on, whatever the rules above */
	if (r->kind != VDP_OL_PLAIN)
		FZ_CHECK((uint32_t)r->csum_start + r->csum_offset + 2 <= frame_len,
			 "checksum field at %u + %u outside a %u-byte frame", r->csum_start,
			 r->csum_offset, frame_len);
	if (r->kind == VDP_OL_CSUM || r->kind == VDP_OL_TSO) {
		const uint32_t hl = (uint32_t)r->h.l2_len + r->h.l3_len + r->h.l4_len;

		FZ_CHECK(r->h.l4_proto == VDP_IPPROTO_TCP || r->h.l4_proto == VDP_IPPROTO_UDP,
			 "L4 offload on protocol %u", r->h.l4_proto);
		FZ_CHECK(r->h.ipv == 4 || r->h.ipv == 6, "L4 offload on IP version %u", r->h.ipv);
		FZ_CHECK(hl <= avail && hl <= frame_len && hl <= VDP_OL_HDR_MAX,
			 "headers of %u bytes, %u parsed, frame %u", hl, avail, frame_len);
		FZ_CHECK(r->h.l4_len >= (r->h.l4_proto == VDP_IPPROTO_TCP ? 20 : 8),
			 "L4 header of %u bytes", r->h.l4_len);
		FZ_CHECK(ip_end <= frame_len && ip_end >= hl, "IP packet ends at %u", ip_end);
	}
	if (r->kind == VDP_OL_TSO) {
		const uint32_t hl = (uint32_t)r->h.l2_len + r->h.l3_len + r->h.l4_len;

		FZ_CHECK(r->h.l4_proto == VDP_IPPROTO_TCP, "TSO of protocol %u", r->h.l4_proto);
		FZ_CHECK(r->mss >= VDP_GSO_MIN_MSS, "TSO with mss %u", r->mss);
		FZ_CHECK(r->nsegs > 1 && r->nsegs <= VDP_GSO_MAX_SEGS, "TSO into %u segments",
			 r->nsegs);
		FZ_CHECK((uint32_t)r->nsegs * r->mss >= frame_len - hl &&
			 (uint32_t)(r->nsegs - 1) * r->mss < frame_len - hl,
			 "%u segments of %u for %u bytes", r->nsegs, r->mss, frame_len - hl);
		FZ_CHECK(ip_end == frame_len, "TSO frame with %u bytes of padding",
			 frame_len - ip_end);
	}
}

static uint8_t pattern[VDP_TX_FRAME_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (uint32_t i = 0; i < VDP_TX_FRAME_MAX; i++)
		pattern[i] = (uint8_t)(i * 29u + 3);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t in[FZ_HDR_LEN] = { 0 };
	struct vdp_net_hdr nh;
	struct vdp_ol_hdrs ph, rh;
	struct vdp_ol_req r;
	struct fz_frame f;
	uint32_t bytes, extra, avail, cut[FZ_PIECES + 1], ip_end;
	uint64_t feats;
	uint8_t *hp;
	enum vdp_err e;
	uint32_t why;
	bool parsed;

	memcpy(in, data, size < FZ_HDR_LEN ? size : FZ_HDR_LEN);
	memcpy(&nh, in, sizeof(nh));
	feats = (uint32_t)le16(in + 12) | (uint32_t)le16(in + 14) << 16;
	if (feats & VDP_BIT(31)) {
		feats &= ~VDP_BIT(31);
		feats = check_unmet(feats);
	} else {
		(void)check_unmet(feats);
	}
	extra = le16(in + 16);
	extra &= extra >> 15 == 0 ? 0x7ffu : extra >> 14 == 2 ? 0x3fffu : 0xffffu;
	bytes = size > FZ_HDR_LEN ? (uint32_t)(size - FZ_HDR_LEN) : 0;
	f.len = bytes + extra;
	if (f.len > VDP_TX_FRAME_MAX)
		f.len = VDP_TX_FRAME_MAX;
	avail = f.len < VDP_OL_HDR_MAX ? f.len : VDP_OL_HDR_MAX;
	if (in[18] != 0)
		avail = in[18] % (avail + 1);

	/* the frame: the input's bytes, then the pattern */
	f.flat = xmalloc(f.len);
	if (bytes > f.len)
		bytes = f.len;
	if (bytes != 0)
		memcpy(f.flat, data + FZ_HDR_LEN, bytes);
	memcpy(f.flat + bytes, pattern, f.len - bytes);
	f.n = 1 + in[19] % FZ_PIECES;
	cut[0] = 0;
	cut[f.n] = f.len;
	for (uint32_t i = 1; i < f.n; i++) {
		cut[i] = (uint32_t)((uint64_t)f.len * in[19 + i] / 255);
		if (cut[i] < cut[i - 1])
			cut[i] = cut[i - 1];
	}
	for (uint32_t i = 0; i < f.n; i++) {
		f.iov[i].len = cut[i + 1] - cut[i];
		f.piece[i] = xmalloc(f.iov[i].len);
		memcpy(f.piece[i], f.flat + cut[i], f.iov[i].len);
		f.iov[i].base = f.piece[i];
	}
	/* the header bytes the PMD parses: a copy of exactly avail bytes */
	hp = xmalloc(avail);
	memcpy(hp, f.flat, avail);

	/* iov_copy: any range, clipped at the end */
	{
		uint32_t off = (uint32_t)((uint64_t)(f.len + 4) * in[23] / 255);
		uint32_t len = f.len + 8 - (off < f.len ? off : f.len);
		uint8_t *dst = xmalloc(len);
		uint32_t n = vdp_iov_copy(f.iov, f.n, off, dst, len);

		FZ_CHECK(n == (off < f.len ? f.len - off : 0) &&
			 (n == 0 || memcmp(dst, f.flat + off, n) == 0),
			 "iov_copy(off %u, len %u) of %u bytes: %u", off, len, f.len, n);
		/* a part inside the frame, and its pieces with a small max */
		len = off < f.len ? (f.len - off + 1) / 2 : 0;
		n = vdp_iov_copy(f.iov, f.n, off, dst, len);
		FZ_CHECK(n == len && (n == 0 || memcmp(dst, f.flat + off, n) == 0),
			 "iov_copy(off %u, len %u) of %u bytes: %u", off, len, f.len, n);
		{
			struct vdp_iov sl[FZ_PIECES];

			check_slice(&f, off, len, sl, 1 + in[23] % FZ_PIECES);
			check_slice(&f, off, f.len + 1 - (off < f.len ? off : f.len), sl,
				    FZ_PIECES);
		}
		free(dst);
	}

	parsed = vdp_ol_parse(hp, avail, f.len, &ph);
	FZ_CHECK(parsed == ref_parse(hp, avail, f.len, &rh, &ip_end) && hdrs_equal(&ph, &rh),
		 "vdp_ol_parse: %d l2 %u l3 %u l4 %u ipv %u proto %u; reference l2 %u l3 %u "
		 "l4 %u ipv %u proto %u", parsed, ph.l2_len, ph.l3_len, ph.l4_len, ph.ipv,
		 ph.l4_proto, rh.l2_len, rh.l3_len, rh.l4_len, rh.ipv, rh.l4_proto);
	if (parsed) {
		FZ_CHECK((uint32_t)rh.l2_len + rh.l3_len <= avail,
			 "IP header beyond the bytes parsed");
		if (rh.l4_proto != 0)
			FZ_CHECK((uint32_t)rh.l2_len + rh.l3_len + rh.l4_len <= avail,
				 "L4 header beyond the bytes parsed");
	}

	e = vdp_ol_guest_tx(&nh, feats, hp, avail, f.len, &r);
	why = reasons(&nh, feats, parsed, &rh, ip_end, f.len);
	if (why == 0) {
		FZ_CHECK(e == VDP_ERR_NONE, "refused (%s) a header that breaks no rule: "
			 "flags 0x%x gso 0x%x size %u csum %u+%u frame %u",
			 e < VDP_ERR_MAX ? vdp_err_names[e] : "?", nh.flags, nh.gso_type,
			 nh.gso_size, nh.csum_start, nh.csum_offset, f.len);
		check_request(&nh, &r, parsed, &rh, ip_end, avail, f.len);
	} else {
		FZ_CHECK(e > VDP_ERR_NONE && e < 32 && (why & WHY(e)),
			 "returned %d for a header refused for 0x%x: flags 0x%x gso 0x%x "
			 "size %u csum %u+%u frame %u", e, why, nh.flags, nh.gso_type,
			 nh.gso_size, nh.csum_start, nh.csum_offset, f.len);
	}

	if (e == VDP_ERR_NONE) {
		switch (r.kind) {
		case VDP_OL_PLAIN:
			break;
		case VDP_OL_CSUM:
			run_l4_csum(&f, &r.h, ip_end);
			run_csum(&f, &r, r.h.l4_proto == VDP_IPPROTO_UDP);
			break;
		case VDP_OL_CSUM_RAW:
			run_csum(&f, &r, false);
			break;
		case VDP_OL_TSO:
			run_tso(&f, &r, hp);
			break;
		default:
			FZ_CHECK(false, "request kind %d", r.kind);
		}
	}

	for (uint32_t i = 0; i < f.n; i++)
		free(f.piece[i]);
	free(f.flat);
	free(hp);
	return 0;
}
