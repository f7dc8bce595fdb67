/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA placement decisions (vdp_numa.h): which node guest memory and a
 * ring lie on, and what to do when an lcore of another node polls it.
 */
#include <string.h>

#include "vdp_numa.h"

int
vdp_numa_region_node(const struct vdp_mem_region *r, uint64_t page,
		     const struct vdp_numa_topo *t)
{
	unsigned int votes[VDP_NUMA_MAX_NODES] = { 0 };
	uint64_t pages, step;
	int best = VDP_NUMA_UNKNOWN;

	if (r->size == 0 || page == 0 || t == NULL || t->addr_node == NULL)
		return VDP_NUMA_UNKNOWN;
	pages = r->size / page;
	if (pages == 0)
		pages = 1;
	step = pages > VDP_NUMA_SAMPLES ? pages / VDP_NUMA_SAMPLES : 1;
	for (uint64_t i = 0, n = 0; i < pages && n < VDP_NUMA_SAMPLES; i += step, n++) {
		int node = t->addr_node((const void *)(uintptr_t)(r->hva + i * page), t->ctx);

		if (node < 0 || node >= VDP_NUMA_MAX_NODES)
			continue;
		votes[node]++;
		if (best < 0 || votes[node] > votes[best])
			best = node;
	}
	return best;
}

int
vdp_numa_mem_node(const struct vdp_memmap *mm, uint64_t page, const struct vdp_numa_topo *t)
{
	uint64_t bytes[VDP_NUMA_MAX_NODES] = { 0 };
	int best = VDP_NUMA_UNKNOWN;

	for (uint32_t i = 0; i < mm->nregions && i < VDP_MAX_REGIONS; i++) {
		int node = vdp_numa_region_node(&mm->r[i], page, t);

		if (node < 0)
			continue;
		bytes[node] += mm->r[i].size;
		if (best < 0 || bytes[node] > bytes[best])
			best = node;
	}
	return best;
}

void
vdp_numa_poll_init(struct vdp_numa_poll *np, int ring_node, bool strict)
{
	memset(np, 0, sizeof(*np));
	np->ring_node = ring_node;
	np->lcore = UINT32_MAX;
	np->strict = strict;
}

enum vdp_numa_verdict
vdp_numa_poll(struct vdp_numa_poll *np, uint32_t lcore, int lcore_node)
{
	const uint32_t bits = 8 * sizeof(np->warned[0]);
	bool seen;

	np->lcore = lcore;
	np->refused = false;
	if (np->ring_node < 0 || lcore_node < 0 || np->ring_node == lcore_node)
		return VDP_NUMA_OK;
	if (np->strict) {
		np->refused = true;
		return VDP_NUMA_REFUSE;
	}
	if (lcore >= bits * (sizeof(np->warned) / sizeof(np->warned[0])))
		return VDP_NUMA_REMOTE_WARN;   /* beyond what we remember: said at each change */
	seen = (np->warned[lcore / bits] >> (lcore % bits)) & 1;
	np->warned[lcore / bits] |= 1ULL << (lcore % bits);
	return seen ? VDP_NUMA_REMOTE : VDP_NUMA_REMOTE_WARN;
}
