/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What one burst costs when the guest is hostile: the worst a guest can
 * make the device side of one ring do in one burst, against the budget of
 * vdp_ring.h (VDP_BURST_DESC_MAX descriptors, VDP_BURST_BAD_MAX refused
 * chains, VDP_CHAIN_MAX_SEGS buffers per chain). Single thread, no EAL:
 * the EAL-free walkers over memfd memory mapped twice (test/guest_ring.c),
 * as in bench_ring. The guest re-posts the same hostile heads before each
 * burst (a few ns, included).
 *
 * One iteration is one burst of 32 on a 1024-entry ring, the way the PMD
 * runs it (eth_vdevpeer_rx: fetch up to 32 chains; eth_vdevpeer_tx: 32
 * frames of 1518 bytes, 9000 for rx_tiny_bufs, into the guest's RX ring).
 * Read time/burst; desc/burst is what the walkers read, errors/burst the
 * chains refused and frames dropped.
 *
 *   BM_hostile/tx_long_indirect  every slot: a chain through the whole
 *                                table ending in a 32768-entry indirect
 *                                table (issue 10: 0.27 s per frame before)
 *   BM_hostile/tx_too_long       every slot: 129 descriptors (refused)
 *   BM_hostile/tx_max_frames     every slot: 128 x 512-byte buffers, a
 *                                valid 64 KiB frame (copied: the most a
 *                                well-formed guest costs)
 *   BM_hostile/rx_short_first    mergeable RX, every buffer 1..11 bytes
 *   BM_hostile/rx_tiny_bufs      mergeable RX of 9000-byte frames into
 *                                16-byte buffers: every frame fills 128
 *                                of them, is dropped (rx_too_small) and
 *                                they are rewound for the next
 *   BM_hostile/rx_long_loop      RX chains looping through the table
 *
 *   build/perf/bench_hostile --benchmark_repetitions=5
 */
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "guest_ring.h"
#include "vdp_ring.h"

namespace {

constexpr uint16_t kRing = 1024;
constexpr uint32_t kBurst = 32;
constexpr uint64_t kGpaBase = 0x40000000ull;

enum Pattern {
	TX_LONG_INDIRECT, TX_TOO_LONG, TX_MAX_FRAMES,
	RX_SHORT_FIRST, RX_TINY_BUFS, RX_LONG_LOOP,
};

const char *const kNames[] = {
	"tx_long_indirect", "tx_too_long", "tx_max_frames",
	"rx_short_first", "rx_tiny_bufs", "rx_long_loop",
};

struct Hostile {
	guest_mem m;
	guest_ring g;
	vdp_vring vr;
	std::vector<uint16_t> heads;   /* what the guest posts, in turn */
	uint32_t next = 0;
	bool rx;

	explicit Hostile(Pattern p)
	{
		if (guest_mem_init(&m, kGpaBase, 96u << 20, 0) != 0 ||
		    guest_ring_init(&g, &m, kRing, 0) != 0 ||
		    guest_ring_attach(&g, &vr) != 0) {
			std::fprintf(stderr, "bench_hostile: set-up failed\n");
			std::exit(2);
		}
		vr.event_idx = true;
		vr.indirect = true;
		vr.hdr_len = VDP_NET_HDR_LEN_MRG;
		rx = p >= RX_SHORT_FIRST;
		vr.mrg_rxbuf = rx;
		const uint16_t w = rx ? VDP_DESC_F_WRITE : 0;
		uint64_t buf = guest_alloc(&m, 512, 64);

		switch (p) {
		case TX_LONG_INDIRECT: {
			uint64_t t = guest_alloc(&m, 32768 * sizeof(vdp_desc), 16);
			vdp_desc *tab = (vdp_desc *)guest_ptr(&m, t);

			for (uint32_t i = 0; i < 32768; i++)
				tab[i] = { buf, 64, (uint16_t)(i + 1 < 32768 ? VDP_DESC_F_NEXT : 0),
					   (uint16_t)(i + 1) };
			for (uint32_t i = 0; i < kRing; i++)
				g.desc[i] = { buf, 64, VDP_DESC_F_NEXT, (uint16_t)(i + 1) };
			g.desc[kRing - 1] = { t, 32768 * 16, VDP_DESC_F_INDIRECT, 0 };
			heads.assign(1, 0);
			break;
		}
		case TX_TOO_LONG:
		case TX_MAX_FRAMES: {
			/* 7 chains of 129 (or 128) descriptors, round robin */
			uint32_t n = p == TX_TOO_LONG ? VDP_CHAIN_MAX_SEGS + 1 : VDP_CHAIN_MAX_SEGS;

			for (uint32_t c = 0; c * n + n <= kRing; c++) {
				for (uint32_t i = 0; i < n; i++) {
					uint32_t d = c * n + i;
					uint64_t b = guest_alloc(&m, 512, 64);

					g.desc[d] = { b, 512, (uint16_t)(i + 1 < n ? VDP_DESC_F_NEXT : 0),
						      (uint16_t)(d + 1) };
				}
				heads.push_back((uint16_t)(c * n));
			}
			break;
		}
		case RX_SHORT_FIRST:
			for (uint32_t i = 0; i < kRing; i++) {
				g.desc[i] = { buf, 1 + i % 11, w, 0 };
				heads.push_back((uint16_t)i);
			}
			break;
		case RX_TINY_BUFS:
			for (uint32_t i = 0; i < kRing; i++) {
				g.desc[i] = { guest_alloc(&m, 16, 16), 16, w, 0 };
				heads.push_back((uint16_t)i);
			}
			break;
		case RX_LONG_LOOP:
			for (uint32_t i = 0; i < kRing; i++)
				g.desc[i] = { buf, 64, (uint16_t)(w | VDP_DESC_F_NEXT),
					      (uint16_t)((i + 1) % kRing) };
			for (uint32_t i = 0; i < kRing; i++)
				heads.push_back((uint16_t)i);
			break;
		}
	}
	~Hostile()
	{
		guest_ring_fini(&g);
		guest_mem_fini(&m);
	}

	/* Guest: keep the ring full of hostile chains. */
	void refill()
	{
		uint32_t id, len;

		while (guest_ring_pop_used(&g, &id, &len) == 1)
			;
		while ((uint16_t)(g.avail_idx - vr.last_avail) < kRing) {
			guest_ring_push_head(&g, heads[next], false);
			next = (next + 1) % heads.size();
		}
		guest_ring_publish(&g);
	}
};

void
BM_hostile(benchmark::State &state)
{
	const Pattern p = (Pattern)state.range(0);
	Hostile h(p);
	std::vector<uint8_t> host(64 * 1024 + 512), frame(p == RX_TINY_BUFS ? 9000 : 1518, 0xa5);
	vdp_net_hdr hdr = {};
	vdp_iov iov = { frame.data(), (uint32_t)frame.size() };
	vdp_chain c;
	uint64_t bursts = 0, reads = 0, errors = 0;

	state.SetLabel(kNames[p]);
	for (auto _ : state) {
		uint64_t granted = 0;

		h.refill();
		vdp_vring_burst_begin(&h.vr);
		if (!h.rx) {
			uint16_t n = vdp_split_avail_count(&h.vr);

			for (uint16_t i = 0; i < n && i < kBurst; i++) {
				enum vdp_fetch r = vdp_split_fetch(&h.vr, &h.m.mm, VDP_DIR_READ, &c);

				if (r == VDP_FETCH_BAD)
					continue;
				if (r != VDP_FETCH_OK)
					break;
				vdp_chain_read(&c, VDP_NET_HDR_LEN_MRG, host.data(),
					       c.len - VDP_NET_HDR_LEN_MRG);
				vdp_split_used_put(&h.vr, c.id, 0);
			}
		} else {
			for (uint32_t i = 0; i < kBurst; i++) {
				granted += VDP_FRAME_DESC_GRANT;   /* each frame's allowance */
				if (vdp_split_enqueue_frame(&h.vr, &h.m.mm, &hdr, &iov, 1) < 0)
					break;
			}
		}
		vdp_split_used_flush(&h.vr);
		reads += VDP_BURST_DESC_MAX + granted - h.vr.budget_desc;
		bursts++;
		if (h.vr.broken) {
			state.SkipWithError("ring broke: the pattern is not what it claims");
			return;
		}
	}
	for (int e = VDP_ERR_FIRST; e < VDP_ERR_MAX; e++)
		errors += h.vr.err[e];
	state.counters["time/burst"] = benchmark::Counter(
		(double)bursts, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
	state.counters["desc/burst"] = (double)reads / (double)bursts;
	state.counters["errors/burst"] = (double)errors / (double)bursts;
}

} /* namespace */

BENCHMARK(BM_hostile)->DenseRange(TX_LONG_INDIRECT, RX_LONG_LOOP)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
