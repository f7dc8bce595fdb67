/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA placement of guest rings and the lcores that poll them (no EAL, no
 * libnuma: the node of an address and of an lcore are asked through the
 * functions of a struct vdp_numa_topo, libnuma's in the PMD, a fake
 * two-node machine in the unit tests).
 */
#ifndef VDP_NUMA_H
#define VDP_NUMA_H

#include <stdbool.h>
#include <stdint.h>

#include "vdp_ring.h"

#define VDP_NUMA_UNKNOWN (-1)
/* pages looked at per guest memory region */
#define VDP_NUMA_SAMPLES 8
#define VDP_NUMA_MAX_NODES 64

struct vdp_numa_topo {
	/* node of the page holding addr, VDP_NUMA_UNKNOWN if not known
	 * (not faulted in, no NUMA support) */
	int (*addr_node)(const void *addr, void *ctx);
	void *ctx;
};

/* The node most of region r lies on (VDP_NUMA_SAMPLES pages looked at,
 * evenly spread), or VDP_NUMA_UNKNOWN when none of them is known. */
int vdp_numa_region_node(const struct vdp_mem_region *r, uint64_t page,
			 const struct vdp_numa_topo *t);

/* The node holding the most bytes of guest memory (each region counted
 * whole on its own node), or VDP_NUMA_UNKNOWN. */
int vdp_numa_mem_node(const struct vdp_memmap *mm, uint64_t page,
		      const struct vdp_numa_topo *t);

/*
 * Which lcores poll a queue, and whether that was said: one per queue,
 * written by the lcore in vdp_numa_poll (its first burst on the queue, or
 * the first after another lcore polled it).
 */
struct vdp_numa_poll {
	int ring_node;              /* where the ring lies (set at ring load) */
	uint32_t lcore;             /* the lcore seen last, UINT32_MAX: none */
	uint64_t warned[4];         /* lcores already reported remote (256) */
	bool strict;                /* a remote lcore is refused */
	bool refused;               /* ... and this one was */
};

enum vdp_numa_verdict {
	VDP_NUMA_OK,                /* same node, or a node unknown */
	VDP_NUMA_REMOTE_WARN,       /* remote: say so (first time for this lcore) */
	VDP_NUMA_REMOTE,            /* remote, already said */
	VDP_NUMA_REFUSE,            /* remote under strict placement: do not poll */
};

void vdp_numa_poll_init(struct vdp_numa_poll *np, int ring_node, bool strict);

/* A burst on the queue from `lcore` on `lcore_node` (only when it differs
 * from the lcore seen last): what to do. Sets np->refused accordingly. */
enum vdp_numa_verdict vdp_numa_poll(struct vdp_numa_poll *np, uint32_t lcore,
				    int lcore_node);

#endif /* VDP_NUMA_H */
