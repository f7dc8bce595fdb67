/* SPDX-License-Identifier: BSD-3-Clause */
/* io: forward every received frame unchanged to the peer port. */
#include <rte_pmd_vdevpeer.h>

#include "fwd.h"
#include "vdevpeer_app.h"

static void
io_stream_fwd(struct fwd_stream *fs)
{
	struct rte_mbuf *pkts[APP_MAX_BURST];
	uint16_t nb;

	/* guest to guest: one copy, no mbuf, unless the PMD says not now */
	if (likely(fs->peer)) {
		int n = rte_pmd_vdevpeer_peer_forward(fs->rx_port, fs->rx_queue,
						      fs->tx_port, fs->tx_queue, fs->burst);

		if (likely(n >= 0)) {
			if (n != 0) {
				fwd_counter_add(&fs->rx_pkts, (uint64_t)n);
				fwd_counter_add(&fs->tx_pkts, (uint64_t)n);
			}
			return;
		}
	}
	nb = fwd_stream_rx(fs, pkts);

	if (nb != 0)
		fwd_stream_tx(fs, pkts, nb);
}

const struct fwd_engine fwd_io_engine = {
	.name = "io",
	.help = "forward frames unchanged to the peer port (cross-connect)",
	.needs_pairs = true,
	.peer_path = true,
	.stream_fwd = io_stream_fwd,
};
