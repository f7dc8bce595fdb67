/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Copy or attach? The cost per frame of moving a frame from one guest's TX
 * buffer to another guest's RX buffer through host mbufs, both ways the
 * driver can do it, single thread, with EAL (no hugepages) for the mbufs:
 *
 *   BM_fwd_copy/<size>  copy mode: bulk-allocate mbufs, copy the frame
 *                       into them (2 KB mbufs, chained above that), copy
 *                       it out into the destination buffer, free.
 *   BM_fwd_zc/<size>    zero-copy: per frame one head mbuf holding a copy
 *                       of the first 128 bytes plus one mbuf attached to
 *                       the rest of the guest buffer (extbuf with a free
 *                       callback that sets a done flag); copy out into the
 *                       destination, free, then (per burst of 32) collect
 *                       the done flags as the driver does.
 *
 * Source and destination are rings of 256 buffers each (like guest rings
 * with their buffers), so larger frames do not stay in L1/L2. The
 * threshold VDP_ZC_THRESH_AUTO in drivers/net/vdevpeer/vdevpeer_zcopy.c
 * is where BM_fwd_zc becomes cheaper than BM_fwd_copy.
 */
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

namespace {

constexpr uint32_t kBufs = 256;
constexpr uint32_t kBurst = 32;
constexpr uint32_t kHdrCopy = 128;
constexpr uint32_t kMaxSize = 9216;

struct rte_mempool *g_pool;

struct Tok {
	struct rte_mbuf_ext_shared_info shinfo;
	uint8_t done;
};

void
tok_free_cb(void *addr, void *opaque)
{
	(void)addr;
	__atomic_store_n(&static_cast<Tok *>(opaque)->done, 1, __ATOMIC_RELEASE);
}

struct Bufs {
	std::vector<uint8_t> src, dst;
	Bufs() : src((size_t)kBufs * kMaxSize, 0x5a), dst((size_t)kBufs * kMaxSize, 0) {}
	uint8_t *s(uint32_t i) { return &src[(size_t)(i % kBufs) * kMaxSize]; }
	uint8_t *d(uint32_t i) { return &dst[(size_t)(i % kBufs) * kMaxSize]; }
};

/* what the egress (guest B's RX) does: gather the mbuf chain */
inline void
deliver(struct rte_mbuf *m, uint8_t *dst)
{
	for (; m != NULL; m = m->next) {
		std::memcpy(dst, rte_pktmbuf_mtod(m, void *), m->data_len);
		dst += m->data_len;
	}
}

void
BM_fwd_copy(benchmark::State &state)
{
	const uint32_t size = (uint32_t)state.range(0);
	const uint32_t room = 2048;
	const uint32_t nm = (size + room - 1) / room;
	Bufs b;
	struct rte_mbuf *ms[kBurst * 8];
	uint32_t k = 0;
	uint64_t frames = 0;

	for (auto _ : state) {
		if (rte_pktmbuf_alloc_bulk(g_pool, ms, kBurst * nm) != 0) {
			state.SkipWithError("pool empty");
			return;
		}
		for (uint32_t i = 0; i < kBurst; i++, k++) {
			struct rte_mbuf *h = ms[i * nm];
			const uint8_t *s = b.s(k);
			uint32_t done = 0;

			for (uint32_t j = 0; j < nm; j++) {
				struct rte_mbuf *m = ms[i * nm + j];
				uint32_t n = std::min(room, size - done);

				std::memcpy(rte_pktmbuf_mtod(m, void *), s + done, n);
				m->data_len = (uint16_t)n;
				if (j > 0)
					ms[i * nm + j - 1]->next = m;
				done += n;
			}
			h->nb_segs = (uint16_t)nm;
			h->pkt_len = size;
			deliver(h, b.d(k));
		}
		for (uint32_t i = 0; i < kBurst; i++)
			rte_pktmbuf_free(ms[i * nm]);
		frames += kBurst;
	}
	state.SetItemsProcessed((int64_t)frames);
	state.counters["time/frame"] = benchmark::Counter(
		(double)frames, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void
BM_fwd_zc(benchmark::State &state)
{
	const uint32_t size = (uint32_t)state.range(0);
	Bufs b;
	std::vector<Tok> toks(kBufs);
	struct rte_mbuf *ms[2 * kBurst];
	uint32_t k = 0, held[kBurst];
	uint64_t frames = 0, back = 0;

	for (auto &t : toks) {
		t.shinfo.free_cb = tok_free_cb;
		t.shinfo.fcb_opaque = &t;
	}
	for (auto _ : state) {
		if (rte_pktmbuf_alloc_bulk(g_pool, ms, 2 * kBurst) != 0) {
			state.SkipWithError("pool empty");
			return;
		}
		for (uint32_t i = 0; i < kBurst; i++, k++) {
			struct rte_mbuf *h = ms[2 * i], *x = ms[2 * i + 1];
			Tok *t = &toks[k % kBufs];
			uint8_t *s = b.s(k);

			std::memcpy(rte_pktmbuf_mtod(h, void *), s, kHdrCopy);
			h->data_len = kHdrCopy;
			rte_mbuf_ext_refcnt_set(&t->shinfo, 1);
			t->done = 0;
			rte_pktmbuf_attach_extbuf(x, s + kHdrCopy, (rte_iova_t)(uintptr_t)(s + kHdrCopy),
						  (uint16_t)(size - kHdrCopy), &t->shinfo);
			x->data_len = (uint16_t)(size - kHdrCopy);
			h->next = x;
			h->nb_segs = 2;
			h->pkt_len = size;
			held[i] = k % kBufs;
			deliver(h, b.d(k));
		}
		for (uint32_t i = 0; i < kBurst; i++)
			rte_pktmbuf_free(ms[2 * i]);
		for (uint32_t i = 0; i < kBurst; i++)
			back += __atomic_load_n(&toks[held[i]].done, __ATOMIC_ACQUIRE);
		frames += kBurst;
	}
	if (back != frames)
		state.SkipWithError("a buffer did not come back");
	state.SetItemsProcessed((int64_t)frames);
	state.counters["time/frame"] = benchmark::Counter(
		(double)frames, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void
sizes(benchmark::internal::Benchmark *b)
{
	b->ArgName("size");
	for (int64_t s : { 256, 512, 768, 1024, 1518, 4000, 9000 })
		b->Arg(s);
}

} /* namespace */

BENCHMARK(BM_fwd_copy)->Apply(sizes);
BENCHMARK(BM_fwd_zc)->Apply(sizes);

int
main(int argc, char **argv)
{
	/* no shared config, no telemetry socket: nothing left behind */
	std::string prefix = "bench-zcopy-" + std::to_string(getpid());
	const char *eal[] = { "bench_zcopy", "-l", "0", "--no-huge", "--no-pci", "-m", "256",
			      "--no-shconf", "--no-telemetry", "--log-level", "lib.eal:error",
			      "--file-prefix", prefix.c_str() };
	int n = (int)(sizeof(eal) / sizeof(eal[0]));

	if (rte_eal_init(n, const_cast<char **>(eal)) < 0) {
		std::fprintf(stderr, "bench_zcopy: EAL init failed\n");
		return 1;
	}
	g_pool = rte_pktmbuf_pool_create("bench", 8192, 256, 0, 2048 + RTE_PKTMBUF_HEADROOM,
					 (int)rte_socket_id());
	if (g_pool == NULL) {
		std::fprintf(stderr, "bench_zcopy: no mbuf pool\n");
		return 1;
	}
	benchmark::Initialize(&argc, argv);
	benchmark::RunSpecifiedBenchmarks();
	std::string rundir = rte_eal_get_runtime_dir();
	rte_eal_cleanup();
	rmdir(rundir.c_str());  /* empty with --no-shconf --no-telemetry */
	return 0;
}
