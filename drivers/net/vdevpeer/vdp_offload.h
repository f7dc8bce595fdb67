/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checksum and segmentation offload of net_vdevpeer, EAL-free: header
 * parsing, validation of a guest's virtio-net header against its frame,
 * Internet checksums over gather lists, and the per-segment headers of
 * software TCP segmentation. No mbufs here: vdevpeer_rxtx.c maps between
 * these and mbuf fields; the unit tests (test/test_offload.c) drive these
 * functions directly, under ASan/UBSan too.
 *
 * Conventions. A "partial" L4 checksum is the virtio (and Linux) one: the
 * checksum field holds the folded, uncomplemented sum of the pseudo header
 * including the L4 length; completing it means summing from the L4 header
 * to the end of the frame and storing the complement. DPDK's TX checksum
 * convention is the same for plain checksum offload; for TSO DPDK leaves
 * the length out of the pseudo header.
 *
 * All functions take bytes the caller owns (copied out of guest memory
 * first): nothing here reads guest memory twice.
 */
#ifndef VDP_OFFLOAD_H
#define VDP_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "vdp_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

/* virtio-net header flags and GSO types (virtio 1.1, 5.1.6) */
#define VDP_HDR_F_NEEDS_CSUM 1
#define VDP_HDR_F_DATA_VALID 2
#define VDP_GSO_NONE  0
#define VDP_GSO_TCPV4 1
#define VDP_GSO_UDP   3
#define VDP_GSO_TCPV6 4
#define VDP_GSO_ECN   0x80

/* Headers we look at: Ethernet, up to 2 VLAN tags, IPv4 with options or
 * IPv6 without extension headers, TCP with options. */
#define VDP_OL_HDR_MAX 192u
/* Most segments one frame may be cut into (64 KiB / 64-byte MSS). */
#define VDP_GSO_MAX_SEGS 1024u
/* Smallest MSS we segment to (IPv4's minimum MTU 68 - 40 bytes, rounded). */
#define VDP_GSO_MIN_MSS 16u

#define VDP_IPPROTO_TCP 6
#define VDP_IPPROTO_UDP 17
#define VDP_TCP_CSUM_OFF 16
#define VDP_UDP_CSUM_OFF 6
#define VDP_TCP_F_FIN 0x01
#define VDP_TCP_F_PSH 0x08
#define VDP_TCP_F_CWR 0x80

/* Where a frame's headers are. */
struct vdp_ol_hdrs {
	uint16_t l2_len;   /* Ethernet + VLAN tags */
	uint16_t l3_len;   /* IP header (IPv4 options included) */
	uint16_t l4_len;   /* TCP header with options, 8 for UDP, 0 otherwise */
	uint8_t ipv;       /* 4, 6, or 0 when not IP */
	uint8_t l4_proto;  /* VDP_IPPROTO_TCP/UDP, 0 otherwise (or a fragment) */
};

/*
 * A TSO request we segment or pass on: its TCP header (at ip + l3_len,
 * which must be readable for 14 bytes) is at least 20 bytes and as long as
 * its data offset says, and mss is one we segment to.
 */
static inline bool
vdp_tso_hdrs_ok(const uint8_t *ip, const struct vdp_ol_hdrs *h, uint32_t mss)
{
	return h->l4_len >= 20 && h->l4_len == (ip[h->l3_len + 12] >> 4) * 4u &&
	       mss >= VDP_GSO_MIN_MSS;
}

/*
 * Parse the headers in p[0..avail) of a frame of frame_len bytes. Returns
 * true when it is IPv4/IPv6 whose IP header fits (l3 set); l4_proto is
 * then TCP or UDP only when that header fits too and the IP packet is not a
 * fragment. The IP length fields are checked against frame_len (the frame
 * may be padded, not truncated).
 */
bool vdp_ol_parse(const uint8_t *p, uint32_t avail, uint32_t frame_len,
		  struct vdp_ol_hdrs *h);

/* What a guest's virtio-net header asks of the host (guest TX). */
enum vdp_ol_kind {
	VDP_OL_PLAIN = 0,  /* nothing to do */
	VDP_OL_CSUM,       /* partial TCP/UDP checksum at the parsed L4 header */
	VDP_OL_CSUM_RAW,   /* partial checksum elsewhere: complete it generically */
	VDP_OL_TSO,        /* TCP segmentation (checksum partial or not) */
};

struct vdp_ol_req {
	enum vdp_ol_kind kind;
	struct vdp_ol_hdrs h;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t mss;       /* VDP_OL_TSO */
	uint16_t nsegs;     /* VDP_OL_TSO: segments of at most mss payload */
};

/*
 * Check the guest's header hdr against the frame (its first avail bytes in
 * p, frame_len in all) and the features the guest acked (feats: virtio
 * bits). Returns VDP_ERR_NONE and fills *r, or the reason to drop:
 *  VDP_ERR_OL_NOT_NEGOTIATED  NEEDS_CSUM without CSUM, GSO without the
 *                             HOST_TSO bit of its type, ECN without HOST_ECN
 *  VDP_ERR_BAD_CSUM_HDR       csum_start + csum_offset + 2 beyond the frame
 *  VDP_ERR_BAD_GSO            unknown/UDP GSO type, gso_size 0 or too small
 *                             for the frame (more than VDP_GSO_MAX_SEGS
 *                             segments), type not matching the headers
 *                             (TCPV4 on a non-TCP/IPv4 frame), headers that
 *                             do not fit, or a segment larger than IP allows
 */
enum vdp_err vdp_ol_guest_tx(const struct vdp_net_hdr *hdr, uint64_t feats,
			     const uint8_t *p, uint32_t avail, uint32_t frame_len,
			     struct vdp_ol_req *r);

/* ---- Internet checksum over pieces ---- */
struct vdp_csum {
	uint64_t sum;      /* of little-endian 16-bit words, unfolded */
	uint32_t off;      /* bytes fed so far (odd: next piece is shifted) */
};

static inline void
vdp_csum_init(struct vdp_csum *c)
{
	c->sum = 0;
	c->off = 0;
}

void vdp_csum_feed(struct vdp_csum *c, const void *p, uint32_t len);
void vdp_csum_feed_iov(struct vdp_csum *c, const struct vdp_iov *iov, uint32_t n);
/* Folded 16-bit sum in network order as a host integer (not complemented). */
uint16_t vdp_csum_fold(const struct vdp_csum *c);

/* Add the pseudo header of the IP header at l3 (ipv 4/6) for proto, l4len. */
void vdp_csum_pseudo(struct vdp_csum *c, const uint8_t *l3, uint8_t ipv,
		     uint8_t proto, uint32_t l4len);

/* Store a 16-bit value big-endian at p. */
static inline void
vdp_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t
vdp_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Recompute the IPv4 header checksum of the header at ip. */
void vdp_ipv4_hdr_csum(uint8_t *ip);

/*
 * Fill the L4 checksum of a frame whose headers (l2 + l3 + hb_l4 bytes,
 * hb_l4 >= the checksum field's end) are in hb and whose bytes after them
 * are pay[0..npay): full (complemented, UDP 0 sent as 0xffff) or, with
 * partial, the pseudo-header sum the receiver of NEEDS_CSUM completes.
 * l4_total: L4 header + payload bytes.
 */
void vdp_ol_l4_csum(uint8_t *hb, const struct vdp_ol_hdrs *h, uint32_t hb_l4,
		    const struct vdp_iov *pay, uint32_t npay, uint32_t l4_total,
		    bool partial);

/*
 * Software TCP segmentation: write into out the headers (l2 + l3 + l4
 * bytes, as in hb) of the segment that carries payload bytes
 * [off, off + len) of the original frame: IPv4 total length, id (+ index)
 * and header checksum, or IPv6 payload length; TCP sequence + off; FIN and
 * PSH only on the last segment, CWR only on the first. The TCP checksum
 * field is left zero (caller: vdp_ol_l4_csum).
 */
void vdp_ol_tso_hdr(const uint8_t *hb, const struct vdp_ol_hdrs *h,
		    uint32_t idx, uint32_t off, uint32_t len, bool last,
		    uint8_t *out);

/*
 * The pieces of src[0..nsrc) covering bytes [off, off + len): at most max
 * pieces into out. Returns the number of pieces, or -1 when they do not
 * fit in max or the range is beyond src.
 */
int vdp_iov_slice(const struct vdp_iov *src, uint32_t nsrc, uint32_t off,
		  uint32_t len, struct vdp_iov *out, uint32_t max);

/* Copy bytes [off, off + len) of src into dst; returns bytes copied. */
uint32_t vdp_iov_copy(const struct vdp_iov *src, uint32_t nsrc, uint32_t off,
		      void *dst, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif /* VDP_OFFLOAD_H */
