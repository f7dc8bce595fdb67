/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest physical to host virtual translation for the ring walkers.
 *
 * The region table comes from the VMM (through librte_vhost) and has been
 * validated by the control plane; the addresses and lengths looked up here
 * come from the guest and are hostile. All arithmetic is done on offsets
 * inside a region so that no sum of guest values can wrap.
 */
#include <stdint.h>

#include "vdp_ring.h"

static inline uint32_t
vdp_mem_nregions(const struct vdp_memmap *mm)
{
	return mm->nregions < VDP_MAX_REGIONS ? mm->nregions : VDP_MAX_REGIONS;
}

bool
vdp_hva_in_map(const struct vdp_memmap *mm, const void *hva, uint64_t len)
{
	uint32_t n = vdp_mem_nregions(mm);
	uint64_t h = (uint64_t)(uintptr_t)hva;

	for (uint32_t i = 0; i < n; i++) {
		const struct vdp_mem_region *r = &mm->r[i];
		uint64_t off;

		if (h < r->hva)
			continue;
		off = h - r->hva;
		if (off > r->size)
			continue;
		if (len <= r->size - off)
			return true;
	}
	return false;
}

void
vdp_log_hva(const struct vdp_vring *vr, const void *hva, uint64_t len)
{
	const struct vdp_memmap *mm = vr->log_mm;
	uint64_t h = (uint64_t)(uintptr_t)hva;

	if (mm == NULL || vr->log_fn == NULL)
		return;
	while (len != 0) {
		uint32_t n = vdp_mem_nregions(mm), i;
		uint64_t off = 0, k = 0;

		for (i = 0; i < n; i++) {
			const struct vdp_mem_region *r = &mm->r[i];

			if (h >= r->hva && h - r->hva < r->size) {
				off = h - r->hva;
				k = r->size - off < len ? r->size - off : len;
				break;
			}
		}
		if (i == n)
			return;   /* not guest memory: nothing of the guest's to log */
		vr->log_fn(vr->log_ctx, mm->r[i].gpa + off, k);
		h += k;
		len -= k;
	}
}
