/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offload helpers of net_vdevpeer without EAL (see vdp_offload.h): header
 * parsing and validation, Internet checksums over gather lists, software
 * TCP segmentation headers.
 */
#include <string.h>

#include "vdp_features.h"
#include "vdp_offload.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_VLAN 0x8100
#define ETH_P_QINQ 0x88a8

static inline uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- parsing ---- */

/* As vdp_ol_parse; *ip_end: offset of the end of the IP packet. */
static bool
parse(const uint8_t *p, uint32_t avail, uint32_t frame_len, struct vdp_ol_hdrs *h,
      uint32_t *ip_end)
{
	uint32_t off = 14, l4, l4max;
	uint16_t type;
	uint8_t proto;

	memset(h, 0, sizeof(*h));
	if (avail > frame_len)
		avail = frame_len;
	if (avail < 14)
		return false;
	type = vdp_get_be16(p + 12);
	for (int i = 0; i < 2 && (type == ETH_P_VLAN || type == ETH_P_QINQ); i++) {
		if (avail < off + 4)
			return false;
		type = vdp_get_be16(p + off + 2);
		off += 4;
	}
	if (type == ETH_P_IPV4) {
		uint32_t ihl, tot;

		if (avail < off + 20 || (p[off] >> 4) != 4)
			return false;
		ihl = (p[off] & 15u) * 4;
		tot = vdp_get_be16(p + off + 2);
		if (ihl < 20 || avail < off + ihl || tot < ihl || off + tot > frame_len)
			return false;
		h->ipv = 4;
		h->l3_len = (uint16_t)ihl;
		proto = p[off + 9];
		l4 = off + ihl;
		l4max = off + tot;
		/* a fragment: L4 header absent or not checksummed alone */
		if (vdp_get_be16(p + off + 6) & 0x3fff) {
			h->l2_len = (uint16_t)off;
			*ip_end = l4max;
			return true;
		}
	} else if (type == ETH_P_IPV6) {
		uint32_t plen;

		if (avail < off + 40 || (p[off] >> 4) != 6)
			return false;
		plen = vdp_get_be16(p + off + 4);
		if (off + 40 + plen > frame_len)
			return false;
		h->ipv = 6;
		h->l3_len = 40;
		proto = p[off + 6];  /* extension headers: not TCP/UDP to us */
		l4 = off + 40;
		l4max = l4 + plen;
	} else {
		return false;
	}
	h->l2_len = (uint16_t)off;
	*ip_end = l4max;
	if (proto == VDP_IPPROTO_TCP) {
		uint32_t doff;

		if (l4 + 20 > avail || l4 + 20 > l4max)
			return true;
		doff = (p[l4 + 12] >> 4) * 4u;
		if (doff < 20 || l4 + doff > avail || l4 + doff > l4max)
			return true;
		h->l4_proto = VDP_IPPROTO_TCP;
		h->l4_len = (uint16_t)doff;
	} else if (proto == VDP_IPPROTO_UDP) {
		if (l4 + 8 > avail || l4 + 8 > l4max)
			return true;
		h->l4_proto = VDP_IPPROTO_UDP;
		h->l4_len = 8;
	}
	return true;
}

bool
vdp_ol_parse(const uint8_t *p, uint32_t avail, uint32_t frame_len, struct vdp_ol_hdrs *h)
{
	uint32_t ip_end;

	return parse(p, avail, frame_len, h, &ip_end);
}

enum vdp_err
vdp_ol_guest_tx(const struct vdp_net_hdr *hdr, uint64_t feats, const uint8_t *p,
		uint32_t avail, uint32_t frame_len, struct vdp_ol_req *r)
{
	/* the header is the caller's copy: each field read once here */
	const uint8_t flags = hdr->flags, gso = hdr->gso_type;
	const uint8_t gtype = gso & (uint8_t)~VDP_GSO_ECN;
	uint32_t ip_end = 0, hl, pay;
	bool parsed;

	memset(r, 0, sizeof(*r));
	r->kind = VDP_OL_PLAIN;
	if (!(flags & VDP_HDR_F_NEEDS_CSUM) && gso == VDP_GSO_NONE)
		return VDP_ERR_NONE;  /* other flags (DATA_VALID) mean nothing from a driver */
	parsed = parse(p, avail, frame_len, &r->h, &ip_end);

	if (flags & VDP_HDR_F_NEEDS_CSUM) {
		const uint32_t cs = hdr->csum_start, co = hdr->csum_offset;

		if (!(feats & VDP_BIT(VDP_F_CSUM)))
			return VDP_ERR_OL_NOT_NEGOTIATED;
		if (cs + co + 2 > frame_len)
			return VDP_ERR_BAD_CSUM_HDR;
		r->csum_start = (uint16_t)cs;
		r->csum_offset = (uint16_t)co;
		if (parsed && r->h.l4_proto != 0 &&
		    cs == (uint32_t)r->h.l2_len + r->h.l3_len &&
		    co == (r->h.l4_proto == VDP_IPPROTO_TCP ? VDP_TCP_CSUM_OFF : VDP_UDP_CSUM_OFF))
			r->kind = VDP_OL_CSUM;
		else
			r->kind = VDP_OL_CSUM_RAW;
	}
	if (gso == VDP_GSO_NONE)
		return VDP_ERR_NONE;

	if (gtype == VDP_GSO_TCPV4) {
		if (!(feats & VDP_BIT(VDP_F_HOST_TSO4)))
			return VDP_ERR_OL_NOT_NEGOTIATED;
	} else if (gtype == VDP_GSO_TCPV6) {
		if (!(feats & VDP_BIT(VDP_F_HOST_TSO6)))
			return VDP_ERR_OL_NOT_NEGOTIATED;
	} else {
		return VDP_ERR_BAD_GSO;  /* UDP (UFO is never offered), unknown */
	}
	if ((gso & VDP_GSO_ECN) && !(feats & VDP_BIT(VDP_F_HOST_ECN)))
		return VDP_ERR_OL_NOT_NEGOTIATED;
	if (!parsed || r->h.l4_proto != VDP_IPPROTO_TCP ||
	    r->h.ipv != (gtype == VDP_GSO_TCPV4 ? 4 : 6))
		return VDP_ERR_BAD_GSO;
	/* a partial checksum elsewhere than the TCP header contradicts GSO */
	if (r->kind == VDP_OL_CSUM_RAW)
		return VDP_ERR_BAD_GSO;
	/* no padding after a GSO frame's IP packet */
	if (ip_end != frame_len)
		return VDP_ERR_BAD_GSO;
	if (hdr->gso_size < VDP_GSO_MIN_MSS)
		return VDP_ERR_BAD_GSO;
	hl = (uint32_t)r->h.l2_len + r->h.l3_len + r->h.l4_len;
	pay = frame_len - hl;
	if (pay <= hdr->gso_size) {
		/* fits one segment: nothing to segment */
		return VDP_ERR_NONE;
	}
	if ((pay + hdr->gso_size - 1) / hdr->gso_size > VDP_GSO_MAX_SEGS)
		return VDP_ERR_BAD_GSO;
	r->kind = VDP_OL_TSO;
	r->mss = hdr->gso_size;
	r->nsegs = (uint16_t)((pay + r->mss - 1) / r->mss);
	r->csum_start = (uint16_t)(r->h.l2_len + r->h.l3_len);
	r->csum_offset = VDP_TCP_CSUM_OFF;
	return VDP_ERR_NONE;
}

/* ---- checksums ---- */

static inline uint64_t
fold16(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static inline uint64_t
swap16(uint64_t s)
{
	return ((s & 0xff) << 8) | (s >> 8);
}

void
vdp_csum_feed(struct vdp_csum *c, const void *buf, uint32_t len)
{
	const uint8_t *b = buf;
	uint64_t s = 0;
	uint32_t i = 0;

	/* little-endian words; swapped to network order once, at the end */
	for (; i + 8 <= len; i += 8) {
		uint32_t x, y;

		memcpy(&x, b + i, 4);
		memcpy(&y, b + i + 4, 4);
		s += (uint64_t)x + y;
	}
	for (; i + 2 <= len; i += 2) {
		uint16_t w;

		memcpy(&w, b + i, 2);
		s += w;
	}
	if (i < len)
		s += b[i];
	s = fold16(s);
	/* a piece starting at an odd offset has its bytes in the other lanes */
	if (c->off & 1)
		s = swap16(s);
	c->sum += s;
	c->off += len;
}

void
vdp_csum_feed_iov(struct vdp_csum *c, const struct vdp_iov *iov, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		vdp_csum_feed(c, iov[i].base, iov[i].len);
}

uint16_t
vdp_csum_fold(const struct vdp_csum *c)
{
	return (uint16_t)swap16(fold16(c->sum));
}

void
vdp_csum_pseudo(struct vdp_csum *c, const uint8_t *l3, uint8_t ipv, uint8_t proto,
		uint32_t l4len)
{
	struct vdp_csum ph;
	uint8_t b[40];

	vdp_csum_init(&ph);
	if (ipv == 4) {
		memcpy(b, l3 + 12, 8);
		b[8] = 0;
		b[9] = proto;
		vdp_put_be16(b + 10, (uint16_t)l4len);
		vdp_csum_feed(&ph, b, 12);
	} else {
		memcpy(b, l3 + 8, 32);
		put_be32(b + 32, l4len);
		b[36] = b[37] = b[38] = 0;
		b[39] = proto;
		vdp_csum_feed(&ph, b, 40);
	}
	/* aligned on its own: does not shift what the caller feeds next */
	c->sum += ph.sum;
}

void
vdp_ipv4_hdr_csum(uint8_t *ip)
{
	uint32_t ihl = (ip[0] & 15u) * 4;
	struct vdp_csum c;

	ip[10] = ip[11] = 0;
	vdp_csum_init(&c);
	vdp_csum_feed(&c, ip, ihl);
	vdp_put_be16(ip + 10, (uint16_t)~vdp_csum_fold(&c));
}

void
vdp_ol_l4_csum(uint8_t *hb, const struct vdp_ol_hdrs *h, uint32_t hb_l4,
	       const struct vdp_iov *pay, uint32_t npay, uint32_t l4_total, bool partial)
{
	uint8_t *l3 = hb + h->l2_len, *l4 = l3 + h->l3_len;
	uint32_t off = h->l4_proto == VDP_IPPROTO_TCP ? VDP_TCP_CSUM_OFF : VDP_UDP_CSUM_OFF;
	struct vdp_csum c;
	uint16_t v;

	l4[off] = l4[off + 1] = 0;
	vdp_csum_init(&c);
	vdp_csum_pseudo(&c, l3, h->ipv, h->l4_proto, l4_total);
	if (partial) {
		vdp_put_be16(l4 + off, vdp_csum_fold(&c));
		return;
	}
	vdp_csum_feed(&c, l4, hb_l4);
	vdp_csum_feed_iov(&c, pay, npay);
	v = (uint16_t)~vdp_csum_fold(&c);
	if (v == 0 && h->l4_proto == VDP_IPPROTO_UDP)
		v = 0xffff;  /* 0 would mean "no checksum" */
	vdp_put_be16(l4 + off, v);
}

/* ---- software TCP segmentation ---- */

void
vdp_ol_tso_hdr(const uint8_t *hb, const struct vdp_ol_hdrs *h, uint32_t idx,
	       uint32_t off, uint32_t len, bool last, uint8_t *out)
{
	uint32_t hl = (uint32_t)h->l2_len + h->l3_len + h->l4_len;
	uint8_t *ip = out + h->l2_len, *tcp = ip + h->l3_len;
	uint8_t fl;

	memcpy(out, hb, hl);
	if (h->ipv == 4) {
		vdp_put_be16(ip + 2, (uint16_t)(h->l3_len + h->l4_len + len));
		vdp_put_be16(ip + 4, (uint16_t)(vdp_get_be16(ip + 4) + idx));
		vdp_ipv4_hdr_csum(ip);
	} else {
		vdp_put_be16(ip + 4, (uint16_t)(h->l4_len + len));
	}
	put_be32(tcp + 4, get_be32(tcp + 4) + off);
	fl = tcp[13];
	if (!last)
		fl &= (uint8_t)~(VDP_TCP_F_FIN | VDP_TCP_F_PSH);
	if (idx != 0)
		fl &= (uint8_t)~VDP_TCP_F_CWR;
	tcp[13] = fl;
	tcp[16] = tcp[17] = 0;
}

/* ---- gather lists ---- */

int
vdp_iov_slice(const struct vdp_iov *src, uint32_t nsrc, uint32_t off, uint32_t len,
	      struct vdp_iov *out, uint32_t max)
{
	uint32_t i = 0, n = 0;

	while (i < nsrc && off >= src[i].len) {
		off -= src[i].len;
		i++;
	}
	for (; len != 0; i++) {
		uint32_t take;

		if (i == nsrc || n == max)
			return -1;
		take = src[i].len - off;
		if (take > len)
			take = len;
		out[n].base = (const uint8_t *)src[i].base + off;
		out[n].len = take;
		n++;
		len -= take;
		off = 0;
	}
	return (int)n;
}

uint32_t
vdp_iov_copy(const struct vdp_iov *src, uint32_t nsrc, uint32_t off, void *dst,
	     uint32_t len)
{
	uint8_t *d = dst;
	uint32_t i = 0, done = 0;

	while (i < nsrc && off >= src[i].len) {
		off -= src[i].len;
		i++;
	}
	for (; i < nsrc && done < len; i++) {
		uint32_t n = src[i].len - off;

		if (n > len - done)
			n = len - done;
		memcpy(d + done, (const uint8_t *)src[i].base + off, n);
		done += n;
		off = 0;
	}
	return done;
}
