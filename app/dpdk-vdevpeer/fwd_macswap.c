/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * macswap: exchange the Ethernet source and destination addresses, then
 * forward to the peer port. With --pair P:P it reflects frames back to
 * their sender.
 */
#include <rte_ether.h>
#include <rte_prefetch.h>

#include "fwd.h"
#include "vdevpeer_app.h"

static inline void
macswap_one(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth;
	struct rte_ether_addr tmp;

	/* A runt frame has no addresses to swap: leave it as it is. */
	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*eth)))
		return;
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&eth->dst_addr, &tmp);
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&tmp, &eth->src_addr);
}

static void
macswap_stream_fwd(struct fwd_stream *fs)
{
	struct rte_mbuf *pkts[APP_MAX_BURST];
	uint16_t nb = fwd_stream_rx(fs, pkts);
	uint16_t i;

	if (nb == 0)
		return;
	for (i = 0; i < nb; i++) {
		if (i + 1 < nb)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		macswap_one(pkts[i]);
	}
	fwd_stream_tx(fs, pkts, nb);
}

const struct fwd_engine fwd_macswap_engine = {
	.name = "macswap",
	.help = "swap source and destination MAC, forward to the peer port",
	.needs_pairs = true,
	.stream_fwd = macswap_stream_fwd,
};
