/* SPDX-License-Identifier: BSD-3-Clause */
/* io: forward every received frame unchanged to the peer port. */
#include "fwd.h"
#include "vdevpeer_app.h"

static void
io_stream_fwd(struct fwd_stream *fs)
{
	struct rte_mbuf *pkts[APP_MAX_BURST];
	uint16_t nb = fwd_stream_rx(fs, pkts);

	if (nb != 0)
		fwd_stream_tx(fs, pkts, nb);
}

const struct fwd_engine fwd_io_engine = {
	.name = "io",
	.help = "forward frames unchanged to the peer port (cross-connect)",
	.needs_pairs = true,
	.stream_fwd = io_stream_fwd,
};
