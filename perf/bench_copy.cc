/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The copy limit: what moving one frame from one guest's buffer into
 * another guest's buffer costs on this machine, whatever the backend. No
 * ring, no descriptor, no mbuf: only the bytes. perf/run-e2e.py reports
 * every backend's worker cost per frame next to it (the share of the limit
 * reached).
 *
 *   BM_copy_cold/<size>        memcpy of a frame whose source and
 *                              destination are cache-cold: frames taken
 *                              in turn from two 256 MiB areas (far beyond
 *                              the last-level cache), as a guest's buffers
 *                              are when the backend has not touched them.
 *   BM_copy_crosscore/<size>   the guest-to-guest case the data path sees:
 *                              a sender thread on another CPU writes each
 *                              frame (it is in that core's cache), the
 *                              benchmark thread waits for a burst of 32 of
 *                              them (the data path's burst), copies each
 *                              into a receiver buffer of its own ring of
 *                              1024 and hands the 32 slots back: the cache
 *                              lines of the frames and of the flag words
 *                              move between the two cores, as in the real
 *                              path (where ring indexes and descriptors
 *                              move too: this is the floor), and a burst's
 *                              line transfers may overlap, as the data
 *                              path's do.
 *   BM_copy_handoff/<size>     the same, one frame at a time (wait, copy,
 *                              hand back): each frame's transfers wait for
 *                              the one before; with the host in its slow
 *                              state a latency, not a limit (the data path
 *                              needs less per frame). Not used by
 *                              run-e2e.py.
 *
 * Sizes: 64, 256, 1518, 9000 (the frame sizes of docs/benchmarks.md).
 * Counters: items_per_second (frames/s), bytes_per_second, and time per
 * frame (the figure run-e2e.py takes: real time / iterations).
 *
 *   build/perf/bench_copy [--benchmark_filter=crosscore]
 *   VDP_BENCH_CPUS=0,1 (sender CPU, copier CPU; default: the first two
 *   CPUs this process may run on)
 */
#include <benchmark/benchmark.h>

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

constexpr size_t kColdArea = 256u << 20;
constexpr unsigned kSlots = 1024;      /* per ring, a power of two */
constexpr size_t kSlotBytes = 9216;    /* the largest frame, cache-line multiple */
int cpu_sender, cpu_copier;

void *
area(size_t bytes)
{
	void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED) {
		std::perror("bench_copy: mmap");
		std::exit(2);
	}
	std::memset(p, 0x5a, bytes);  /* faulted in: no page faults timed */
	return p;
}

/* The two CPUs: VDP_BENCH_CPUS=a,b or the first two allowed. */
void
cpus(int *sender, int *copier)
{
	const char *env = std::getenv("VDP_BENCH_CPUS");
	cpu_set_t set;
	int found = 0;

	if (env != nullptr && std::sscanf(env, "%d,%d", sender, copier) == 2)
		return;
	*sender = *copier = 0;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
		if (CPU_ISSET(c, &set))
			*(found++ == 0 ? sender : copier) = c;
}

void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void
BM_copy_cold(benchmark::State &state)
{
	const size_t size = static_cast<size_t>(state.range(0));
	const size_t stride = (size + 63) & ~size_t(63);
	const size_t n = kColdArea / stride;
	static uint8_t *src, *dst;
	size_t i = 0;

	if (src == nullptr) {
		src = static_cast<uint8_t *>(area(kColdArea));
		dst = static_cast<uint8_t *>(area(kColdArea));
	}
	for (auto _ : state) {
		std::memcpy(dst + i * stride, src + i * stride, size);
		benchmark::ClobberMemory();
		if (++i == n)
			i = 0;
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
}

/* One sender slot: the flag on its own line, then the frame. */
struct alignas(64) Slot {
	std::atomic<uint32_t> seq;   /* sender: frame n written; copier: n + 1 taken */
	uint8_t pad[60];
	uint8_t data[kSlotBytes];
};

/* The sender and the copier over the ring, the copier taking burst frames
 * at a time (a divisor of kSlots). */
void
crosscore(benchmark::State &state, unsigned burst)
{
	const size_t size = static_cast<size_t>(state.range(0));
	static Slot *ring;
	static uint8_t *dst;
	std::atomic<bool> stop{false};
	int cpu_s, cpu_c;
	uint32_t n = 0;

	/* once: the benchmark thread is pinned afterwards */
	static const bool picked = (cpus(&cpu_sender, &cpu_copier), true);

	(void)picked;
	cpu_s = cpu_sender;
	cpu_c = cpu_copier;
	if (ring == nullptr) {
		ring = static_cast<Slot *>(area(sizeof(Slot) * kSlots));
		dst = static_cast<uint8_t *>(area(kSlotBytes * kSlots));
	}
	for (unsigned s = 0; s < kSlots; s++)
		ring[s].seq.store(0, std::memory_order_relaxed);
	pin(cpu_c);
	/* the sender writes frame k into slot k % kSlots once the copier has
	 * taken frame k - kSlots from it (seq == k), then publishes k + 1 */
	std::thread sender([&] {
		pin(cpu_s);
		for (uint32_t k = 0; !stop.load(std::memory_order_relaxed); k++) {
			Slot &sl = ring[k % kSlots];
			uint32_t want = k / kSlots * 2;

			while (sl.seq.load(std::memory_order_acquire) != want)
				if (stop.load(std::memory_order_relaxed))
					return;
			std::memset(sl.data, static_cast<int>(k), size);
			sl.seq.store(want + 1, std::memory_order_release);
		}
	});
	for (auto _ : state) {
		const unsigned s = n % kSlots, first = s - s % burst;
		const uint32_t ready = n / kSlots * 2 + 1;

		/* a burst's last frame written: all of it is (the sender
		 * writes the slots in order, each published with release) */
		if (s == first)
			while (ring[first + burst - 1].seq.load(std::memory_order_acquire) != ready)
				;
		std::memcpy(dst + s * kSlotBytes, ring[s].data, size);
		benchmark::ClobberMemory();
		if (s == first + burst - 1)
			for (unsigned j = first; j <= s; j++)
				ring[j].seq.store(ready + 1, std::memory_order_release);
		n++;
	}
	stop.store(true, std::memory_order_relaxed);
	sender.join();
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
	state.counters["sender_cpu"] = cpu_s;
	state.counters["copier_cpu"] = cpu_c;
}

void
BM_copy_crosscore(benchmark::State &state)
{
	crosscore(state, 32);
}

void
BM_copy_handoff(benchmark::State &state)
{
	crosscore(state, 1);
}

}  // namespace

BENCHMARK(BM_copy_cold)->Arg(64)->Arg(256)->Arg(1518)->Arg(9000);
BENCHMARK(BM_copy_crosscore)->Arg(64)->Arg(256)->Arg(1518)->Arg(9000)->UseRealTime();
BENCHMARK(BM_copy_handoff)->Arg(64)->Arg(256)->Arg(1518)->Arg(9000)->UseRealTime();

BENCHMARK_MAIN();
