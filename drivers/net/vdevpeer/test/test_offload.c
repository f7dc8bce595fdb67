/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the offload helpers (vdp_offload.c), without EAL:
 * checksums over pieces against a byte-wise reference, header parsing,
 * validation of hostile virtio-net headers (every truncation of a frame,
 * every field out of range, random headers; frames live in heap buffers
 * of exactly their size so that ASan catches any read past them), software
 * TCP segmentation (checksums, sequence numbers, flags, payload), and the
 * feature dependency rules.
 *
 * One line per check, then "N passed, N failed"; exit status 1 on failure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdp_features.h"
#include "vdp_offload.h"
#include "check.h"


static uint32_t rnd_state = 12345;

static uint32_t
rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/* Reference: network-order 16-bit words, byte by byte. */
static uint16_t
ref_sum(const uint8_t *p, uint32_t len, uint32_t start)
{
	uint32_t s = start;

	for (uint32_t i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void
test_csum_pieces(void)
{
	uint8_t buf[3000];
	bool all = true;

	for (int round = 0; round < 500; round++) {
		uint32_t len = rnd() % sizeof(buf), off = 0;
		struct vdp_csum c;

		for (uint32_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
		vdp_csum_init(&c);
		while (off < len) {
			uint32_t k = 1 + rnd() % 97;

			if (k > len - off)
				k = len - off;
			vdp_csum_feed(&c, buf + off, k);
			off += k;
		}
		if (vdp_csum_fold(&c) != ref_sum(buf, len, 0)) {
			all = false;
			CHECK(false, "csum of %u bytes in random pieces", len);
			break;
		}
	}
	CHECK(all, "checksum over random odd/even pieces equals the byte-wise sum (500 buffers)");
}

/* ---- frames ---- */
struct frame {
	uint8_t *b;
	uint32_t len;
};

static uint32_t
put_eth(uint8_t *p, int vlans, uint16_t type)
{
	uint32_t off = 12;

	memset(p, 0x02, 12);
	for (int i = 0; i < vlans; i++) {
		vdp_put_be16(p + off, i == 0 && vlans == 2 ? 0x88a8 : 0x8100);
		vdp_put_be16(p + off + 2, 100);
		off += 4;
	}
	vdp_put_be16(p + off, type);
	return off + 2;
}

/*
 * A frame: Ethernet (+vlans), IPv4 (ihl words) or IPv6, TCP (with topts
 * option bytes) or UDP, pay payload bytes. Checksums complete.
 */
static struct frame
mk_frame(int ipv, int vlans, int ihl, uint8_t proto, int topts, uint32_t pay)
{
	uint8_t tmp[70000];
	uint32_t l2, l3, l4, i;
	struct frame f;
	uint8_t *ip, *t;

	memset(tmp, 0, sizeof(tmp));
	l2 = put_eth(tmp, vlans, ipv == 4 ? 0x0800 : 0x86dd);
	ip = tmp + l2;
	l4 = proto == VDP_IPPROTO_TCP ? 20u + (uint32_t)topts : 8u;
	if (ipv == 4) {
		l3 = (uint32_t)ihl * 4;
		ip[0] = (uint8_t)(0x40 | ihl);
		vdp_put_be16(ip + 2, (uint16_t)(l3 + l4 + pay));
		vdp_put_be16(ip + 4, 0x1234);
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		for (i = 20; i < l3; i++)
			ip[i] = 1;  /* NOP options */
		vdp_ipv4_hdr_csum(ip);
	} else {
		l3 = 40;
		ip[0] = 0x60;
		vdp_put_be16(ip + 4, (uint16_t)(l4 + pay));
		ip[6] = proto;
		ip[7] = 64;
		for (i = 8; i < 40; i++)
			ip[i] = (uint8_t)(i * 3);
	}
	t = ip + l3;
	vdp_put_be16(t, 4000);
	vdp_put_be16(t + 2, 5001);
	if (proto == VDP_IPPROTO_TCP) {
		t[4] = 0xff; t[5] = 0xff; t[6] = 0xf0; t[7] = 0x00; /* seq near wrap */
		t[12] = (uint8_t)((l4 / 4) << 4);
		t[13] = VDP_TCP_F_PSH | VDP_TCP_F_FIN | VDP_TCP_F_CWR | 0x10;
		vdp_put_be16(t + 14, 65535);
		for (i = 20; i < l4; i++)
			t[i] = 1;
	} else {
		vdp_put_be16(t + 4, (uint16_t)(l4 + pay));
	}
	for (i = 0; i < pay; i++)
		t[l4 + i] = (uint8_t)(i * 7 + 3);
	{
		struct vdp_ol_hdrs h = {
			.l2_len = (uint16_t)l2, .l3_len = (uint16_t)l3, .l4_len = (uint16_t)l4,
			.ipv = (uint8_t)ipv, .l4_proto = proto,
		};
		struct vdp_iov pv = { t + l4, pay };

		vdp_ol_l4_csum(tmp, &h, l4, &pv, 1, l4 + pay, false);
	}
	f.len = l2 + l3 + l4 + pay;
	f.b = malloc(f.len);
	memcpy(f.b, tmp, f.len);
	return f;
}

/* Is the L4 checksum of the IP packet at l3 (l4 bytes of total len) valid? */
static bool
l4_ok(const uint8_t *l3, int ipv, uint8_t proto, const uint8_t *l4, uint32_t l4len)
{
	struct vdp_csum c;

	vdp_csum_init(&c);
	vdp_csum_pseudo(&c, l3, (uint8_t)ipv, proto, l4len);
	vdp_csum_feed(&c, l4, l4len);
	return vdp_csum_fold(&c) == 0xffff;
}

static bool
ip4_ok(const uint8_t *ip)
{
	return ref_sum(ip, (ip[0] & 15u) * 4, 0) == 0xffff;
}

static void
test_parse(void)
{
	struct vdp_ol_hdrs h;
	struct frame f;

	f = mk_frame(4, 0, 5, VDP_IPPROTO_TCP, 12, 100);
	CHECK(vdp_ol_parse(f.b, f.len, f.len, &h) && h.l2_len == 14 && h.l3_len == 20 &&
	      h.l4_len == 32 && h.ipv == 4 && h.l4_proto == VDP_IPPROTO_TCP,
	      "parse IPv4/TCP with 12 option bytes: 14/20/32");
	CHECK(l4_ok(f.b + 14, 4, VDP_IPPROTO_TCP, f.b + 34, f.len - 34) && ip4_ok(f.b + 14),
	      "test frame builder: checksums valid");
	free(f.b);
	f = mk_frame(6, 2, 0, VDP_IPPROTO_UDP, 0, 33);
	CHECK(vdp_ol_parse(f.b, f.len, f.len, &h) && h.l2_len == 22 && h.l3_len == 40 &&
	      h.l4_len == 8 && h.ipv == 6 && h.l4_proto == VDP_IPPROTO_UDP,
	      "parse QinQ/IPv6/UDP: 22/40/8");
	CHECK(l4_ok(f.b + 22, 6, VDP_IPPROTO_UDP, f.b + 62, f.len - 62),
	      "IPv6/UDP builder checksum valid");
	free(f.b);
	f = mk_frame(4, 1, 7, VDP_IPPROTO_UDP, 0, 0);
	CHECK(vdp_ol_parse(f.b, f.len, f.len, &h) && h.l2_len == 18 && h.l3_len == 28 &&
	      h.l4_proto == VDP_IPPROTO_UDP, "parse VLAN/IPv4 with options/UDP, no payload");
	/* a fragment: no L4 */
	f.b[18 + 6] = 0x20;
	CHECK(vdp_ol_parse(f.b, f.len, f.len, &h) && h.l4_proto == 0,
	      "IPv4 fragment (MF): IP parsed, no L4");
	/* IP length beyond the frame */
	f.b[18 + 6] = 0;
	vdp_put_be16(f.b + 18 + 2, (uint16_t)(f.len));
	CHECK(!vdp_ol_parse(f.b, f.len, f.len, &h), "IPv4 total length beyond the frame: refused");
	free(f.b);

	/* every truncation, exact-size buffers */
	f = mk_frame(4, 2, 15, VDP_IPPROTO_TCP, 40, 20);
	bool sane = true;
	for (uint32_t n = 0; n <= f.len; n++) {
		uint8_t *b = malloc(n ? n : 1);

		memcpy(b, f.b, n);
		if (vdp_ol_parse(b, n, n, &h) &&
		    (uint32_t)h.l2_len + h.l3_len + h.l4_len > n)
			sane = false;
		free(b);
	}
	CHECK(sane, "every truncation of a QinQ/IPv4+60 B options/TCP+40 B options frame: "
	      "no read past the buffer, headers inside it");
	free(f.b);
}

static struct vdp_net_hdr
hdr(uint8_t flags, uint8_t gso, uint16_t gso_size, uint16_t cs, uint16_t co)
{
	struct vdp_net_hdr h = {
		.flags = flags, .gso_type = gso, .gso_size = gso_size,
		.csum_start = cs, .csum_offset = co,
	};
	return h;
}

#define ALL_OL (VDP_FEATURES_OFFLOAD)

static void
test_guest_tx(void)
{
	struct frame f4 = mk_frame(4, 0, 5, VDP_IPPROTO_TCP, 0, 5000);
	struct frame f6 = mk_frame(6, 1, 0, VDP_IPPROTO_TCP, 12, 3000);
	struct frame fu = mk_frame(4, 0, 5, VDP_IPPROTO_UDP, 0, 100);
	struct vdp_net_hdr vh;
	struct vdp_ol_req r;
	enum vdp_err e;

	vh = hdr(0, 0, 0, 0, 0);
	CHECK(vdp_ol_guest_tx(&vh, 0, f4.b, f4.len, f4.len, &r) == VDP_ERR_NONE &&
	      r.kind == VDP_OL_PLAIN, "no offload asked: plain");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r) == VDP_ERR_NONE &&
	      r.kind == VDP_OL_CSUM && r.h.l4_proto == VDP_IPPROTO_TCP,
	      "NEEDS_CSUM at the TCP header: mapped to TCP checksum offload");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, 0, 0, 34, 6);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, fu.b, fu.len, fu.len, &r) == VDP_ERR_NONE &&
	      r.kind == VDP_OL_CSUM && r.h.l4_proto == VDP_IPPROTO_UDP, "UDP partial checksum");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, 0, 0, 20, 4);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r) == VDP_ERR_NONE &&
	      r.kind == VDP_OL_CSUM_RAW, "NEEDS_CSUM elsewhere: generic software completion");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL & ~VDP_BIT(VDP_F_CSUM), f4.b, 200, f4.len, &r) ==
	      VDP_ERR_OL_NOT_NEGOTIATED, "NEEDS_CSUM without CSUM negotiated: dropped");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, 0, 0, (uint16_t)f4.len, 0);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r) == VDP_ERR_BAD_CSUM_HDR,
	      "csum_start beyond the frame: bad_csum_offset");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, 0, 0, 34, (uint16_t)(f4.len - 35));
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r) == VDP_ERR_BAD_CSUM_HDR,
	      "csum_offset: field one byte past the end: bad_csum_offset");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, 0, 0, 34, (uint16_t)(f4.len - 36));
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r) == VDP_ERR_NONE &&
	      r.kind == VDP_OL_CSUM_RAW, "csum field in the frame's last two bytes: accepted");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, 0, 0, 0xffff, 0xffff);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r) == VDP_ERR_BAD_CSUM_HDR,
	      "csum_start/offset 0xffff: no overflow, bad_csum_offset");

	vh = hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_TCPV4, 1448, 34, 16);
	e = vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r);
	CHECK(e == VDP_ERR_NONE && r.kind == VDP_OL_TSO && r.mss == 1448 && r.nsegs == 4,
	      "GSO TCPV4 5000 B payload, mss 1448: TSO, 4 segments");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_TCPV4, 0, 34, 16);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r) == VDP_ERR_BAD_GSO,
	      "gso_size 0: bad_gso");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_TCPV4, 4, 34, 16);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r) == VDP_ERR_BAD_GSO,
	      "gso_size 4 (below the minimum MSS): bad_gso");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_TCPV6, 1448, 34, 16);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r) == VDP_ERR_BAD_GSO,
	      "GSO TCPV6 on an IPv4 frame: bad_gso");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_TCPV4, 1448, 18 + 40, 16);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f6.b, 200, f6.len, &r) == VDP_ERR_BAD_GSO,
	      "GSO TCPV4 on an IPv6 frame: bad_gso");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_TCPV6, 1000, 18 + 40, 16);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f6.b, 200, f6.len, &r) == VDP_ERR_NONE &&
	      r.kind == VDP_OL_TSO && r.nsegs == 3, "GSO TCPV6 (VLAN), 3000 B / 1000: 3 segments");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_TCPV4, 1448, 34, 6);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, fu.b, fu.len, fu.len, &r) == VDP_ERR_BAD_GSO,
	      "GSO TCPV4 on a UDP frame: bad_gso");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_UDP, 1448, 34, 6);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, fu.b, fu.len, fu.len, &r) == VDP_ERR_BAD_GSO,
	      "GSO UDP (UFO, never offered): bad_gso");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_TCPV4, 1448, 34, 16);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL & ~VDP_BIT(VDP_F_HOST_TSO4), f4.b, 200, f4.len, &r) ==
	      VDP_ERR_OL_NOT_NEGOTIATED, "GSO TCPV4 without HOST_TSO4: dropped");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_TCPV4 | VDP_GSO_ECN, 1448, 34, 16);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL & ~VDP_BIT(VDP_F_HOST_ECN), f4.b, 200, f4.len, &r) ==
	      VDP_ERR_OL_NOT_NEGOTIATED, "GSO ECN without HOST_ECN: dropped");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_TCPV4, 1448, 34, 4);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r) == VDP_ERR_BAD_GSO,
	      "GSO with the partial checksum not at the TCP header: bad_gso");
	vh = hdr(0, 0x80, 1448, 0, 0);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r) == VDP_ERR_BAD_GSO,
	      "gso_type ECN alone: bad_gso");
	vh = hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_TCPV4, 8000, 34, 16);
	CHECK(vdp_ol_guest_tx(&vh, ALL_OL, f4.b, 200, f4.len, &r) == VDP_ERR_NONE &&
	      r.kind == VDP_OL_CSUM, "GSO whose payload fits one segment: checksum only");

	/* a header on frames too short for it: every truncation, exact buffers */
	bool ok = true;
	for (uint32_t n = 0; n <= 80; n++) {
		uint8_t *b = malloc(n ? n : 1);
		struct vdp_net_hdr hs[3] = {
			hdr(VDP_HDR_F_NEEDS_CSUM, 0, 0, 34, 16),
			hdr(VDP_HDR_F_NEEDS_CSUM, VDP_GSO_TCPV4, 1448, 34, 16),
			hdr(0, VDP_GSO_TCPV4, 16, 0, 0),
		};

		memcpy(b, f4.b, n);
		for (int k = 0; k < 3; k++) {
			e = vdp_ol_guest_tx(&hs[k], ALL_OL, b, n, n, &r);
			if (n < 36 && e == VDP_ERR_NONE && k < 2)
				ok = false;  /* the checksum field is not in the frame */
			if (n < 54 && e == VDP_ERR_NONE && r.kind == VDP_OL_TSO)
				ok = false;
		}
		free(b);
	}
	CHECK(ok, "headers on frames of 0..80 bytes (shorter than their headers): "
	      "refused, nothing read past the frame");

	/* random headers on a valid frame: never out of bounds */
	ok = true;
	for (int i = 0; i < 200000; i++) {
		struct vdp_net_hdr x = {
			.flags = (uint8_t)rnd(), .gso_type = (uint8_t)rnd(),
			.hdr_len = (uint16_t)rnd(), .gso_size = (uint16_t)(rnd() % 3000),
			.csum_start = (uint16_t)(rnd() % 6000), .csum_offset = (uint16_t)(rnd() % 200),
		};
		uint32_t n = rnd() % (f4.len + 1);

		e = vdp_ol_guest_tx(&x, rnd() & 1 ? ALL_OL : rnd(), f4.b, n < 200 ? n : 200, n, &r);
		if (e == VDP_ERR_NONE && r.kind != VDP_OL_PLAIN &&
		    (uint32_t)r.csum_start + r.csum_offset + 2 > n)
			ok = false;
		if (e == VDP_ERR_NONE && r.kind == VDP_OL_TSO &&
		    ((uint32_t)r.h.l2_len + r.h.l3_len + r.h.l4_len > n || r.mss < VDP_GSO_MIN_MSS ||
		     r.nsegs > VDP_GSO_MAX_SEGS))
			ok = false;
	}
	CHECK(ok, "200000 random headers on random truncations: accepted ones stay inside the frame");
	free(f4.b);
	free(f6.b);
	free(fu.b);
}

/* Segment frame f with mss, check every segment. */
static void
check_tso(int ipv, int vlans, uint32_t pay, uint32_t mss, bool partial)
{
	struct frame f = mk_frame(ipv, vlans, 5, VDP_IPPROTO_TCP, 12, pay);
	struct vdp_ol_hdrs h;
	uint32_t hl, nsegs, i;
	bool ok = true;
	uint8_t sh[VDP_OL_HDR_MAX];
	uint8_t *seg = malloc(70000);
	uint32_t seq0;

	vdp_ol_parse(f.b, f.len, f.len, &h);
	hl = (uint32_t)h.l2_len + h.l3_len + h.l4_len;
	nsegs = (pay + mss - 1) / mss;
	seq0 = (uint32_t)f.b[hl - h.l4_len + 4] << 24 | (uint32_t)f.b[hl - h.l4_len + 5] << 16 |
	       (uint32_t)f.b[hl - h.l4_len + 6] << 8 | f.b[hl - h.l4_len + 7];
	for (i = 0; i < nsegs; i++) {
		uint32_t off = i * mss, sl = pay - off < mss ? pay - off : mss;
		struct vdp_iov pv[2];
		uint8_t *ip, *t;
		uint32_t seq;
		int np;

		/* the payload as two pieces split at an odd offset */
		struct vdp_iov src[2] = { { f.b, 101 }, { f.b + 101, f.len - 101 } };
		np = vdp_iov_slice(src, 2, hl + off, sl, pv, 2);
		if (np < 0) {
			ok = false;
			break;
		}
		vdp_ol_tso_hdr(f.b, &h, i, off, sl, i + 1 == nsegs, sh);
		vdp_ol_l4_csum(sh, &h, h.l4_len, pv, (uint32_t)np, h.l4_len + sl, partial);
		memcpy(seg, sh, hl);
		vdp_iov_copy(pv, (uint32_t)np, 0, seg + hl, sl);
		ip = seg + h.l2_len;
		t = ip + h.l3_len;
		if (partial) {
			/* complete it as a NEEDS_CSUM receiver would */
			struct vdp_csum c;

			vdp_csum_init(&c);
			vdp_csum_feed(&c, t, h.l4_len + sl);
			vdp_put_be16(t + 16, (uint16_t)~vdp_csum_fold(&c));
		}
		if (!l4_ok(ip, ipv, VDP_IPPROTO_TCP, t, h.l4_len + sl))
			ok = false;
		if (ipv == 4 && (!ip4_ok(ip) || vdp_get_be16(ip + 2) != h.l3_len + h.l4_len + sl ||
				 vdp_get_be16(ip + 4) != (uint16_t)(0x1234 + i)))
			ok = false;
		if (ipv == 6 && vdp_get_be16(ip + 4) != h.l4_len + sl)
			ok = false;
		seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
		if (seq != seq0 + off)
			ok = false;
		if (((t[13] & (VDP_TCP_F_FIN | VDP_TCP_F_PSH)) != 0) != (i + 1 == nsegs) ||
		    ((t[13] & VDP_TCP_F_CWR) != 0) != (i == 0) || !(t[13] & 0x10))
			ok = false;
		if (memcmp(seg + hl, f.b + hl + off, sl) != 0)
			ok = false;
	}
	CHECK(ok, "TSO IPv%d%s %u B / mss %u -> %u segments (%s checksums): IP length/id/"
	      "checksum, TCP seq (across 2^32), FIN/PSH last, CWR first, payload", ipv,
	      vlans ? " VLAN" : "", pay, mss, nsegs, partial ? "partial, completed" : "full");
	free(seg);
	free(f.b);
}

static void
test_features(void)
{
	uint64_t g_csum = VDP_BIT(VDP_F_GUEST_CSUM), g_tso4 = VDP_BIT(VDP_F_GUEST_TSO4),
		 g_tso6 = VDP_BIT(VDP_F_GUEST_TSO6), g_ecn = VDP_BIT(VDP_F_GUEST_ECN),
		 g_ufo = VDP_BIT(VDP_F_GUEST_UFO), csum = VDP_BIT(VDP_F_CSUM),
		 h_tso4 = VDP_BIT(VDP_F_HOST_TSO4), h_ecn = VDP_BIT(VDP_F_HOST_ECN);

	CHECK(vdp_features_unmet(VDP_FEATURES_OFFLOAD) == 0, "all offloads: consistent");
	CHECK(vdp_features_unmet(g_tso4 | g_tso6 | g_ecn | g_ufo) == (g_tso4 | g_tso6 | g_ecn | g_ufo),
	      "QEMU csum=off,guest_csum=off set (GUEST_TSO4/6, ECN, UFO without GUEST_CSUM): "
	      "all ignored");
	CHECK(vdp_features_unmet(g_csum | g_ecn) == g_ecn, "GUEST_ECN without a GUEST_TSO: ignored");
	CHECK(vdp_features_unmet(h_tso4 | h_ecn) == (h_tso4 | h_ecn),
	      "HOST_TSO4 + HOST_ECN without CSUM: both ignored");
	CHECK(vdp_features_unmet(csum | h_tso4 | h_ecn | g_csum) == 0, "CSUM+HOST_TSO4+HOST_ECN ok");
	CHECK((0x7fc3ull & VDP_FEATURES_UFO) == VDP_FEATURES_UFO &&
	      (0x7fc3ull & ~VDP_FEATURES_UFO & ~VDP_FEATURES_OFFLOAD) ==
	      0x40, 
	      "peerfeats 0x7fc3 = offloads + UFO + GSO(bit 6)");
}

int
main(void)
{
	test_csum_pieces();
	test_parse();
	test_guest_tx();
	check_tso(4, 0, 5000, 1448, false);
	check_tso(4, 1, 5000, 1448, true);
	check_tso(6, 0, 60000, 1440, false);
	check_tso(6, 2, 9000, 1000, true);
	check_tso(4, 0, 65000, 536, false);
	check_tso(4, 0, 1449, 1448, false);
	test_features();
	return check_summary();
}
