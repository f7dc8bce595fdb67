/* SPDX-License-Identifier: BSD-3-Clause */
/* mbufs and gather lists: see vdevpeer_mbuf.h. */
#include <string.h>

#include <rte_mbuf.h>

#include "vdevpeer_mbuf.h"

struct iov_src {
	const struct vdp_iov *iov;
	uint32_t n;
};

static void
copy_from_iov(const void *src, uint32_t off, void *dst, uint32_t len)
{
	const struct iov_src *is = src;

	vdp_iov_copy(is->iov, is->n, off, dst, len);
}

/* Gather [iov] into new mbufs. */
struct rte_mbuf *
vdp_iov_to_mbuf(struct rte_mempool *mp, uint16_t port, const struct vdp_iov *iov, uint32_t n,
	    uint32_t len)
{
	const struct iov_src is = { .iov = iov, .n = n };

	return gather_to_mbuf(mp, port, copy_from_iov, &is, len);
}

/* Write len bytes at frame offset off of m (which must hold them). */
void
vdp_mbuf_write(struct rte_mbuf *m, uint32_t off, const void *src, uint32_t len)
{
	const uint8_t *s = src;

	for (; m != NULL && len != 0; m = m->next) {
		uint32_t k;

		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		k = RTE_MIN((uint32_t)m->data_len - off, len);
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, off), s, k);
		s += k;
		len -= k;
		off = 0;
	}
}

/*
 * Where the offload fields of a host mbuf say its headers are, checked
 * against the frame; the headers copied into hb. l4 checksum field's
 * header: TCP 20 bytes, UDP 8; TSO: the whole TCP header (l4_len).
 * *l4_total: L4 bytes as the IP header says (TSO: as the frame says).
 * Returns false when they do not fit the frame.
 */
bool
vdp_tx_hdrs(const struct rte_mbuf *m, const struct vdp_iov *iov, uint32_t n,
	    struct vdp_ol_hdrs *h, uint8_t *hb, uint32_t *l4_total)
{
	const uint64_t ol = m->ol_flags, l4 = ol & RTE_MBUF_F_TX_L4_MASK;
	const bool tso = (ol & RTE_MBUF_F_TX_TCP_SEG) != 0;
	uint32_t hl, len = m->pkt_len, iplen;
	const uint8_t *ip;

	memset(h, 0, sizeof(*h));
	h->l2_len = m->l2_len;
	h->l3_len = m->l3_len;
	if (tso) {
		h->l4_proto = VDP_IPPROTO_TCP;
		h->l4_len = m->l4_len;
	} else if (l4 == RTE_MBUF_F_TX_TCP_CKSUM) {
		h->l4_proto = VDP_IPPROTO_TCP;
		h->l4_len = 20;
	} else if (l4 == RTE_MBUF_F_TX_UDP_CKSUM) {
		h->l4_proto = VDP_IPPROTO_UDP;
		h->l4_len = 8;
	} else if (l4 != 0) {
		return false;  /* SCTP: never advertised */
	}
	hl = (uint32_t)h->l2_len + h->l3_len + h->l4_len;
	if (h->l2_len < 14 || hl > VDP_OL_HDR_MAX || hl > len)
		return false;
	if (vdp_iov_copy(iov, n, 0, hb, hl) != hl)
		return false;
	ip = hb + h->l2_len;
	h->ipv = (ol & RTE_MBUF_F_TX_IPV4) ? 4 : (ol & RTE_MBUF_F_TX_IPV6) ? 6 : ip[0] >> 4;
	if ((ip[0] >> 4) != h->ipv)
		return false;
	if (h->ipv == 4) {
		if (h->l3_len < 20 || h->l3_len != (ip[0] & 15u) * 4)
			return false;
		iplen = vdp_get_be16(ip + 2);
	} else if (h->ipv == 6) {
		if (h->l3_len < 40)
			return false;
		iplen = 40u + vdp_get_be16(ip + 4);
	} else {
		return false;
	}
	if (tso) {
		if (!vdp_tso_hdrs_ok(ip, h, m->tso_segsz))
			return false;
		*l4_total = len - h->l2_len - h->l3_len;
		return true;
	}
	if (h->l4_proto == 0) {
		*l4_total = 0;
		return true;
	}
	if (iplen < (uint32_t)h->l3_len + h->l4_len || h->l2_len + iplen > len)
		return false;
	*l4_total = iplen - h->l3_len;
	return true;
}
