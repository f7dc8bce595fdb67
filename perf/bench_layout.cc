/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split against packed on our side only: the direct guest-to-guest path
 * (layout_peer.c) in one thread, no guest process pacing it, so that the
 * layouts' costs can be compared without the host's noise and without
 * the guests' own ring code (which sets the pace of perf/run-e2e.py's
 * loop cells whenever it falls behind).
 *
 *   BM_peer_layout/<size>/<packed>/<state>
 *     size    frame bytes (64, 1518)
 *     packed  0: split rings, 1: packed rings (in_order, as run-e2e's)
 *     state   1: the rings keep their crash state, as the PMD's do;
 *             0: without it (what the state costs)
 *
 * Counters: time/frame (CPU time per frame received by B, the guests'
 * work included: the packed test driver's is the dearer); dev_tsc/frame
 * (TSC cycles of the device side alone per frame: one burst, both
 * rings' flushes and calls, read around it with rdtsc). Compare layouts
 * on dev_tsc/frame.
 */
#include <benchmark/benchmark.h>

#include "layout_peer.h"

namespace {

constexpr uint32_t kBurst = 32;

void
BM_peer_layout(benchmark::State &state)
{
	lp *p = lp_new(state.range(1) != 0, state.range(2) != 0, (uint32_t)state.range(0),
		       kBurst);
	uint64_t frames = 0, dev_tsc = 0;

	if (p == nullptr) {
		state.SkipWithError("set-up failed");
		return;
	}
	for (auto _ : state) {
		int64_t n = lp_round(p, &dev_tsc);

		if (n < 0) {
			state.SkipWithError("a burst did not move whole");
			break;
		}
		frames += (uint64_t)n;
	}
	lp_free(p);
	state.SetItemsProcessed((int64_t)frames);
	state.counters["time/frame"] = benchmark::Counter(
		(double)frames, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
	state.counters["dev_tsc/frame"] = frames != 0 ? (double)dev_tsc / (double)frames : 0.0;
}

void
layout_args(benchmark::internal::Benchmark *b)
{
	for (int64_t size : { 64, 1518 })
		for (int64_t packed : { 0, 1 })
			for (int64_t st : { 1, 0 })
				b->Args({ size, packed, st });
}

}  // namespace

BENCHMARK(BM_peer_layout)->Apply(layout_args);

BENCHMARK_MAIN();
