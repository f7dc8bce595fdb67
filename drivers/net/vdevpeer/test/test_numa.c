/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA placement (vdp_numa.c) on a fake two-node machine: guest memory
 * whose pages lie on node 0 below a boundary and on node 1 above it (and
 * unknown in a hole), lcores 0-3 on node 0 and 4-7 on node 1.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "vdp_numa.h"

#define PAGE 4096ull
#define GB (1ull << 30)

struct fake {
	uint64_t boundary;          /* node 0 below, node 1 from here */
	uint64_t hole_lo, hole_hi;  /* pages here: unknown (not faulted in) */
	unsigned int calls;
};

static int
fake_node(const void *addr, void *ctx)
{
	struct fake *f = ctx;
	uint64_t a = (uint64_t)(uintptr_t)addr;

	f->calls++;
	if (a >= f->hole_lo && a < f->hole_hi)
		return VDP_NUMA_UNKNOWN;
	return a < f->boundary ? 0 : 1;
}

static int
lcore_node(uint32_t lcore)
{
	return lcore < 4 ? 0 : 1;
}

static void
test_regions(void)
{
	struct fake f = { .boundary = 8 * GB };
	struct vdp_numa_topo t = { .addr_node = fake_node, .ctx = &f };
	struct vdp_mem_region r = { .gpa = 0, .size = 2 * GB, .hva = 10 * GB };
	struct vdp_memmap mm;

	CHECK(vdp_numa_region_node(&r, PAGE, &t) == 1, "a region above the boundary is on node 1");
	CHECK(f.calls <= VDP_NUMA_SAMPLES, "at most %u pages looked at (%u)", VDP_NUMA_SAMPLES,
	      f.calls);
	r.hva = 1 * GB;
	CHECK(vdp_numa_region_node(&r, PAGE, &t) == 0, "a region below it is on node 0");
	r.hva = 8 * GB - GB / 2;   /* a quarter on node 0, three quarters on node 1 */
	CHECK(vdp_numa_region_node(&r, PAGE, &t) == 1, "a region mostly on node 1: node 1");
	r.hva = 8 * GB - 3 * GB / 2;
	CHECK(vdp_numa_region_node(&r, PAGE, &t) == 0, "a region mostly on node 0: node 0");
	f.hole_lo = 20 * GB;
	f.hole_hi = 30 * GB;
	r.hva = 21 * GB;
	CHECK(vdp_numa_region_node(&r, PAGE, &t) == VDP_NUMA_UNKNOWN,
	      "no page known: unknown");
	f.hole_hi = 22 * GB;   /* half known, on node 1 */
	CHECK(vdp_numa_region_node(&r, PAGE, &t) == 1, "the pages known decide");
	r.size = 0;
	CHECK(vdp_numa_region_node(&r, PAGE, &t) == VDP_NUMA_UNKNOWN, "empty region: unknown");
	r.size = 100;          /* less than a page: its one page */
	r.hva = 9 * GB;
	f.calls = 0;
	CHECK(vdp_numa_region_node(&r, PAGE, &t) == 1 && f.calls == 1,
	      "a region smaller than a page: one page looked at");
	t.addr_node = NULL;
	CHECK(vdp_numa_region_node(&r, PAGE, &t) == VDP_NUMA_UNKNOWN, "no topology: unknown");
	t.addr_node = fake_node;

	/* the port's node: the one holding the most bytes */
	memset(&mm, 0, sizeof(mm));
	mm.nregions = 3;
	mm.r[0] = (struct vdp_mem_region){ .gpa = 0, .size = GB / 4, .hva = 1 * GB };
	mm.r[1] = (struct vdp_mem_region){ .gpa = GB, .size = 1 * GB, .hva = 9 * GB };
	mm.r[2] = (struct vdp_mem_region){ .gpa = 4 * GB, .size = GB / 2, .hva = 2 * GB };
	CHECK(vdp_numa_mem_node(&mm, PAGE, &t) == 1,
	      "1 GiB on node 1 beats 3/4 GiB on node 0");
	mm.r[2].size = 2 * GB;
	CHECK(vdp_numa_mem_node(&mm, PAGE, &t) == 0, "2.25 GiB on node 0 beats 1 GiB on node 1");
	mm.r[0].hva = mm.r[2].hva = 21 * GB;   /* node 0's regions unknown */
	f.hole_hi = 30 * GB;
	CHECK(vdp_numa_mem_node(&mm, PAGE, &t) == 1, "regions of unknown node do not count");
	mm.nregions = 0;
	CHECK(vdp_numa_mem_node(&mm, PAGE, &t) == VDP_NUMA_UNKNOWN, "no memory: unknown");
}

static void
test_polling(void)
{
	struct vdp_numa_poll np;

	vdp_numa_poll_init(&np, 1, false);
	CHECK(np.lcore == UINT32_MAX, "no lcore seen at first");
	CHECK(vdp_numa_poll(&np, 5, lcore_node(5)) == VDP_NUMA_OK && !np.refused,
	      "ring on node 1, lcore 5 on node 1: fine");
	CHECK(vdp_numa_poll(&np, 2, lcore_node(2)) == VDP_NUMA_REMOTE_WARN && !np.refused,
	      "lcore 2 on node 0: warned, still polled");
	CHECK(np.lcore == 2, "the lcore is remembered");
	CHECK(vdp_numa_poll(&np, 6, lcore_node(6)) == VDP_NUMA_OK, "back on node 1: fine");
	CHECK(vdp_numa_poll(&np, 2, lcore_node(2)) == VDP_NUMA_REMOTE,
	      "lcore 2 again: remote, not said twice");
	CHECK(vdp_numa_poll(&np, 3, lcore_node(3)) == VDP_NUMA_REMOTE_WARN,
	      "lcore 3, another remote lcore: said");
	CHECK(vdp_numa_poll(&np, 300, 0) == VDP_NUMA_REMOTE_WARN &&
	      vdp_numa_poll(&np, 300, 0) == VDP_NUMA_REMOTE_WARN,
	      "an lcore beyond what is remembered: said at each change");
	CHECK(vdp_numa_poll(&np, 7, VDP_NUMA_UNKNOWN) == VDP_NUMA_OK,
	      "lcore of unknown node (a non-EAL thread): fine");

	vdp_numa_poll_init(&np, VDP_NUMA_UNKNOWN, true);
	CHECK(vdp_numa_poll(&np, 2, lcore_node(2)) == VDP_NUMA_OK && !np.refused,
	      "ring of unknown node: fine even when strict");

	vdp_numa_poll_init(&np, 0, true);
	CHECK(vdp_numa_poll(&np, 1, lcore_node(1)) == VDP_NUMA_OK && !np.refused,
	      "strict, same node: polled");
	CHECK(vdp_numa_poll(&np, 4, lcore_node(4)) == VDP_NUMA_REFUSE && np.refused,
	      "strict, lcore 4 on node 1 for a ring on node 0: refused");
	CHECK(vdp_numa_poll(&np, 0, lcore_node(0)) == VDP_NUMA_OK && !np.refused,
	      "strict, the queue moved to lcore 0 on node 0: polled again");

	/* a ring reloaded (the guest moved it to node 1): checks start over */
	vdp_numa_poll_init(&np, 1, false);
	CHECK(vdp_numa_poll(&np, 0, lcore_node(0)) == VDP_NUMA_REMOTE_WARN,
	      "ring reloaded on node 1, lcore 0 on node 0: said again");
}

int
main(void)
{
	test_regions();
	test_polling();
	return check_summary();
}
