/* SPDX-License-Identifier: BSD-3-Clause */
/* rxonly: receive and free; counts what arrives on every used port. */
#include "fwd.h"
#include "vdevpeer_app.h"

static void
rxonly_stream_fwd(struct fwd_stream *fs)
{
	struct rte_mbuf *pkts[APP_MAX_BURST];
	uint16_t nb = fwd_stream_rx(fs, pkts);

	if (nb != 0)
		rte_pktmbuf_free_bulk(pkts, nb);
}

const struct fwd_engine fwd_rxonly_engine = {
	.name = "rxonly",
	.help = "receive and drop (no pairs needed)",
	.needs_pairs = false,
	.stream_fwd = rxonly_stream_fwd,
};
