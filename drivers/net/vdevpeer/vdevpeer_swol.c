/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software offload for ports that are not net_vdevpeer
 * (rte_pmd_vdevpeer_tx_sw_offload): a frame from a guest with TX offload
 * flags is completed (checksums) or segmented (TSO) in software for what
 * the egress port cannot do itself.
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "rte_pmd_vdevpeer.h"
#include "vdevpeer_mbuf.h"

static int
sw_offload(struct rte_mbuf *m, uint64_t capa, struct rte_mempool *mp,
	       struct rte_mbuf **out, uint16_t max)
{
	const uint64_t ol = m->ol_flags, l4 = ol & RTE_MBUF_F_TX_L4_MASK;
	const bool tso = (ol & RTE_MBUF_F_TX_TCP_SEG) != 0;
	const bool need_seg = tso && !(capa & RTE_ETH_TX_OFFLOAD_TCP_TSO);
	const bool need_l4 = !tso &&
		((l4 == RTE_MBUF_F_TX_TCP_CKSUM && !(capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)) ||
		 (l4 == RTE_MBUF_F_TX_UDP_CKSUM && !(capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM)));
	const bool need_ip = (ol & RTE_MBUF_F_TX_IP_CKSUM) && !tso &&
		!(capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);
	struct vdp_iov iov[VDP_CHAIN_MAX_SEGS], fi[VDP_CHAIN_MAX_SEGS + 1];
	uint8_t hb[VDP_OL_HDR_MAX], sh[VDP_OL_HDR_MAX];
	struct vdp_ol_hdrs h;
	uint32_t n, l4_total, hl, pay, i, nsegs, mss;
	int np;

	if (max == 0)
		goto drop;
	if (!need_seg && !need_l4 && !need_ip) {
		out[0] = m;
		return 1;
	}
	if (!mbuf_to_iov(m, iov, &n) || !vdp_tx_hdrs(m, iov, n, &h, hb, &l4_total))
		goto drop;
	hl = (uint32_t)h.l2_len + h.l3_len + h.l4_len;
	pay = m->pkt_len - hl;
	if (need_seg) {
		mss = RTE_MIN((uint32_t)m->tso_segsz, RTE_MAX(pay, 1u));
		nsegs = pay == 0 ? 1 : (pay + mss - 1) / mss;
		if (nsegs > max)
			goto drop;
		for (i = 0; i < nsegs; i++) {
			uint32_t off = i * mss, sl = RTE_MIN(mss, pay - off);
			struct rte_mbuf *s;

			np = vdp_iov_slice(iov, n, hl + off, sl, fi + 1, VDP_CHAIN_MAX_SEGS);
			if (np < 0)
				goto drop_segs;
			vdp_ol_tso_hdr(hb, &h, i, off, sl, i + 1 == nsegs, sh);
			vdp_ol_l4_csum(sh, &h, h.l4_len, fi + 1, (uint32_t)np, h.l4_len + sl, false);
			fi[0].base = sh;
			fi[0].len = hl;
			s = vdp_iov_to_mbuf(mp, m->port, fi, (uint32_t)np + 1, hl + sl);
			if (s == NULL)
				goto drop_segs;
			out[i] = s;
		}
		rte_pktmbuf_free(m);
		return (int)nsegs;
drop_segs:
		while (i-- > 0)
			rte_pktmbuf_free(out[i]);
		goto drop;
	}
	/* in place, on our own copy when the headers are shared or in
	 * memory we do not own (a zero-copy frame's guest buffer) */
	if (!mbuf_prefix_private(m, hl)) {
		struct rte_mbuf *c = rte_pktmbuf_copy(m, mp, 0, UINT32_MAX);

		if (c == NULL)
			goto drop;
		rte_pktmbuf_free(m);
		m = c;
		if (!mbuf_to_iov(m, iov, &n))
			goto drop;
	}
	if (need_ip && h.ipv == 4) {
		vdp_ipv4_hdr_csum(hb + h.l2_len);
		m->ol_flags &= ~RTE_MBUF_F_TX_IP_CKSUM;
	}
	if (need_l4) {
		struct vdp_iov sl[VDP_CHAIN_MAX_SEGS];

		np = vdp_iov_slice(iov, n, hl, l4_total - h.l4_len, sl, VDP_CHAIN_MAX_SEGS);
		if (np < 0)
			goto drop;
		vdp_ol_l4_csum(hb, &h, h.l4_len, sl, (uint32_t)np, l4_total, false);
		m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
	}
	vdp_mbuf_write(m, 0, hb, hl);
	out[0] = m;
	return 1;
drop:
	rte_pktmbuf_free(m);
	return 0;
}

uint16_t
rte_pmd_vdevpeer_tx_sw_offload(struct rte_mbuf *m, uint64_t tx_capa,
			       struct rte_mempool *mp, struct rte_mbuf **out, uint16_t max)
{
	int n = sw_offload(m, tx_capa, mp, out, max);

	return n < 0 ? 0 : (uint16_t)n;
}
