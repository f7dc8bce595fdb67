/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Micro-benchmarks of the split-ring walkers (vdp_split.c), single thread,
 * no EAL: the guest side is played in-process by test/guest_ring.c over
 * memfd memory mapped twice, as in the unit tests.
 *
 * The guest's work is deliberately small and included in the timings: its
 * descriptors are written once at set-up, and per frame it only pushes a
 * head into the avail ring and pops a used element (a few ns), much like a
 * DPDK virtio guest with pre-filled rings. Read the figures as "device
 * side plus a minimal guest", for comparison between versions.
 *
 *   BM_dequeue/<size>          guest TX: avail_count, then per frame fetch
 *                              + chain_read into a host buffer + used_put;
 *                              one flush + need_call per burst of 32.
 *   BM_enqueue/<size>/<mrg>    guest RX: vdp_split_enqueue_frame per frame,
 *                              one flush + need_call per burst of 32;
 *                              RX buffers of 2048 bytes with mrg=1, of one
 *                              frame (header included) with mrg=0.
 *
 *   BM_peer/<size>/<direct>    guest TX ring to another guest's RX ring
 *                              (mergeable 2048-byte buffers), per frame:
 *                              fetch, header read, then direct=1: one copy
 *                              (vdp_chain_iov + enqueue: the direct path,
 *                              rte_pmd_vdevpeer_peer_forward) or direct=0:
 *                              two (into a host buffer standing for the
 *                              mbuf, then enqueued: the ethdev path without
 *                              the mbuf's own costs); flush both rings.
 *
 * Counters: items_per_second (frames/s) and time/frame (CPU time).
 */
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "guest_ring.h"
#include "vdp_ring.h"

namespace {

constexpr uint16_t kRingSize = 256;
constexpr uint32_t kBurst = 32;
constexpr uint64_t kGpaBase = 0x40000000ull;

/* One ring, its guest memory and a FIFO of the guest's free heads. */
struct Rig {
	guest_mem m;
	guest_ring g;
	vdp_vring vr;
	std::vector<uint16_t> free_heads;  /* FIFO, kRingSize entries */
	uint32_t fh_first = 0, fh_count = 0;

	Rig(size_t mem_bytes, bool mrg)
	{
		if (guest_mem_init(&m, kGpaBase, mem_bytes, 0) != 0 ||
		    guest_ring_init(&g, &m, kRingSize, 0) != 0 ||
		    guest_ring_attach(&g, &vr) != 0) {
			std::fprintf(stderr, "bench_ring: set-up failed\n");
			std::exit(2);
		}
		vr.event_idx = true;
		vr.indirect = true;
		vr.mrg_rxbuf = mrg;
		vr.hdr_len = VDP_NET_HDR_LEN_MRG;
		free_heads.resize(kRingSize);
	}
	~Rig()
	{
		guest_ring_fini(&g);
		guest_mem_fini(&m);
	}

	/* Guest: one descriptor per buffer, written once. */
	void add_buffers(uint32_t n, uint32_t len, bool write)
	{
		for (uint32_t i = 0; i < n; i++) {
			uint16_t idx;
			int h = guest_desc_alloc(&g, 1, &idx);
			uint64_t gpa = guest_alloc(&m, len, 64);

			if (h < 0 || gpa == 0) {
				std::fprintf(stderr, "bench_ring: out of guest memory\n");
				std::exit(2);
			}
			g.desc[h].addr = gpa;
			g.desc[h].len = len;
			g.desc[h].flags = write ? VDP_DESC_F_WRITE : 0;
			std::memset(guest_ptr(&m, gpa), 0x5a, len);
			free_heads[(fh_first + fh_count++) % kRingSize] = (uint16_t)h;
		}
	}

	/* Guest: make up to n free buffers available. */
	void post(uint32_t n)
	{
		for (; n > 0 && fh_count > 0; n--) {
			guest_ring_push_head(&g, free_heads[fh_first], false);
			fh_first = (fh_first + 1) % kRingSize;
			fh_count--;
		}
		guest_ring_publish(&g);
	}

	/* Guest: take back what the device used. */
	uint32_t reap()
	{
		uint32_t id, len, n = 0;

		while (guest_ring_pop_used(&g, &id, &len) == 1) {
			free_heads[(fh_first + fh_count++) % kRingSize] = (uint16_t)id;
			n++;
		}
		return n;
	}
};

void
set_counters(benchmark::State &state, uint64_t frames)
{
	state.SetItemsProcessed((int64_t)frames);
	/* CPU seconds per frame, printed with an SI prefix ("15.2ns"). */
	state.counters["time/frame"] = benchmark::Counter(
		(double)frames,
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void
BM_dequeue(benchmark::State &state)
{
	const uint32_t size = (uint32_t)state.range(0);
	const uint32_t buf_len = VDP_NET_HDR_LEN_MRG + size;
	const uint32_t nbufs = 128;
	Rig rig((size_t)nbufs * ((buf_len + 63) & ~63u) + (4u << 20), false);
	std::vector<uint8_t> host((size_t)kBurst * buf_len);  /* "mbufs" */
	vdp_chain c;
	uint64_t frames = 0, bytes = 0;

	rig.add_buffers(nbufs, buf_len, false);
	for (auto _ : state) {
		rig.post(kBurst);
		vdp_vring_burst_begin(&rig.vr);
		uint16_t n = vdp_split_avail_count(&rig.vr);

		for (uint16_t i = 0; i < n; i++) {
			if (vdp_split_fetch(&rig.vr, &rig.m.mm, VDP_DIR_READ, &c) != VDP_FETCH_OK) {
				state.SkipWithError("fetch failed");
				return;
			}
			bytes += vdp_chain_read(&c, VDP_NET_HDR_LEN_MRG,
						&host[(size_t)i * buf_len],
						c.len - VDP_NET_HDR_LEN_MRG);
			vdp_split_used_put(&rig.vr, c.id, 0);
		}
		vdp_split_used_flush(&rig.vr);
		benchmark::DoNotOptimize(vdp_split_need_call(&rig.vr));
		frames += rig.reap();
	}
	benchmark::DoNotOptimize(bytes);
	set_counters(state, frames);
}

void
BM_enqueue(benchmark::State &state)
{
	const uint32_t size = (uint32_t)state.range(0);
	const bool mrg = state.range(1) != 0;
	const uint32_t buf_len = mrg ? 2048 : VDP_NET_HDR_LEN_MRG + size;
	const uint32_t nbufs = kRingSize;
	Rig rig((size_t)nbufs * ((buf_len + 63) & ~63u) + (4u << 20), mrg);
	std::vector<uint8_t> frame(size, 0xa5);
	vdp_net_hdr hdr = {};
	vdp_iov iov = { frame.data(), size };
	uint64_t frames = 0;

	rig.add_buffers(nbufs, buf_len, true);
	for (auto _ : state) {
		rig.post(kRingSize);
		vdp_vring_burst_begin(&rig.vr);
		for (uint32_t i = 0; i < kBurst; i++) {
			int r = vdp_split_enqueue_frame(&rig.vr, &rig.m.mm, &hdr, &iov, 1);

			if (r != 0) {
				state.SkipWithError("enqueue failed");
				return;
			}
		}
		vdp_split_used_flush(&rig.vr);
		benchmark::DoNotOptimize(vdp_split_need_call(&rig.vr));
		rig.reap();
		frames += kBurst;
	}
	set_counters(state, frames);
}

void
BM_peer(benchmark::State &state)
{
	const uint32_t size = (uint32_t)state.range(0);
	const bool direct = state.range(1) != 0;
	const uint32_t tx_len = VDP_NET_HDR_LEN_MRG + size;
	Rig tx((size_t)128 * ((tx_len + 63) & ~63u) + (4u << 20), false);
	Rig rx((size_t)kRingSize * 2048 + (4u << 20), true);
	std::vector<uint8_t> host((size_t)kBurst * tx_len);  /* "mbufs" */
	vdp_chain c;
	vdp_iov fi[VDP_CHAIN_MAX_SEGS];
	uint64_t frames = 0;

	tx.add_buffers(128, tx_len, false);
	rx.add_buffers(kRingSize, 2048, true);
	for (auto _ : state) {
		tx.post(kBurst);
		rx.post(kRingSize);
		vdp_vring_burst_begin(&tx.vr);
		vdp_vring_burst_begin(&rx.vr);
		uint16_t n = vdp_split_avail_count(&tx.vr);

		for (uint16_t i = 0; i < n; i++) {
			vdp_net_hdr vh = {};
			uint32_t nf;

			if (vdp_split_fetch(&tx.vr, &tx.m.mm, VDP_DIR_READ, &c) != VDP_FETCH_OK) {
				state.SkipWithError("fetch failed");
				return;
			}
			vdp_chain_read(&c, 0, &vh, VDP_NET_HDR_LEN_MRG);
			if (direct) {
				nf = vdp_chain_iov(&c, VDP_NET_HDR_LEN_MRG, fi);
			} else {
				uint8_t *h = &host[(size_t)i * tx_len];

				fi[0].len = vdp_chain_read(&c, VDP_NET_HDR_LEN_MRG, h,
							   c.len - VDP_NET_HDR_LEN_MRG);
				fi[0].base = h;
				nf = 1;
			}
			vh = vdp_net_hdr{};
			if (vdp_split_enqueue_frame(&rx.vr, &rx.m.mm, &vh, fi, nf) != 0) {
				state.SkipWithError("enqueue failed");
				return;
			}
			vdp_split_used_put(&tx.vr, c.id, 0);
		}
		vdp_split_used_flush(&rx.vr);
		benchmark::DoNotOptimize(vdp_split_need_call(&rx.vr));
		vdp_split_used_flush(&tx.vr);
		benchmark::DoNotOptimize(vdp_split_need_call(&tx.vr));
		frames += tx.reap();
		rx.reap();
	}
	set_counters(state, frames);
}

const int64_t kSizes[] = { 64, 256, 512, 1518, 9000 };

void
dequeue_args(benchmark::internal::Benchmark *b)
{
	b->ArgName("size");
	for (int64_t s : kSizes)
		b->Arg(s);
}

void
enqueue_args(benchmark::internal::Benchmark *b)
{
	b->ArgNames({ "size", "mrg" });
	for (int64_t m : { 0, 1 })
		for (int64_t s : kSizes)
			b->Args({ s, m });
}

void
peer_args(benchmark::internal::Benchmark *b)
{
	b->ArgNames({ "size", "direct" });
	for (int64_t s : kSizes)
		for (int64_t d : { 0, 1 })
			b->Args({ s, d });
}

} /* namespace */

BENCHMARK(BM_dequeue)->Apply(dequeue_args);
BENCHMARK(BM_enqueue)->Apply(enqueue_args);
BENCHMARK(BM_peer)->Apply(peer_args);

BENCHMARK_MAIN();
