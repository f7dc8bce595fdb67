/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dirty-page logging of the ring core (live migration): with vr.log on,
 * every byte the device side writes into guest memory - RX buffers with
 * their virtio-net header and num_buffers, used elements and indexes,
 * packed descriptors - lies in a page the log function was told about,
 * and nothing outside guest memory is ever logged. Checked against a
 * bitmap by comparing all of guest memory before and after, on both
 * layouts, with and without mergeable buffers, with buffers that straddle
 * two memory regions. Without logging, the same writes leave the bitmap
 * empty (the comparison finds them: the check can fail).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "guest_packed.h"
#include "guest_ring.h"
#include "vdp_ring.h"

#define PAGE 4096u
#define REGION1 (8u << 20)
#define REGION2 (1u << 20)
#define GPA_BASE 0x40000000ull
#define RING 256

struct logbits {
	uint64_t base, len;
	uint8_t *page;          /* one byte per page: logged */
	unsigned int calls, outside;
};

static void
log_fn(void *ctx, uint64_t gpa, uint64_t len)
{
	struct logbits *l = ctx;

	l->calls++;
	if (len == 0)
		return;
	if (gpa < l->base || gpa + len < gpa || gpa + len > l->base + l->len) {
		l->outside++;
		return;
	}
	for (uint64_t p = (gpa - l->base) / PAGE; p <= (gpa + len - 1 - l->base) / PAGE; p++)
		l->page[p] = 1;
}

/* Pages of guest memory that changed since snap and were not logged. */
static unsigned int
unlogged(const struct guest_mem *m, const uint8_t *snap, const struct logbits *l,
	 unsigned int *changed)
{
	unsigned int miss = 0;

	*changed = 0;
	for (size_t p = 0; p < m->gva_len / PAGE; p++) {
		if (memcmp(m->gva + p * PAGE, snap + p * PAGE, PAGE) == 0)
			continue;
		(*changed)++;
		if (!l->page[p])
			miss++;
	}
	return miss;
}

struct case_opts {
	bool packed, mrg, log;
};

static void
run_case(const struct case_opts *o)
{
	const char *name = o->packed ? (o->mrg ? "packed mrg" : "packed") :
			   (o->mrg ? "split mrg" : "split");
	static uint64_t ids[VDP_PACKED_IDS_WORDS(RING)];
	struct guest_packed gp;
	struct guest_ring gs;
	struct guest_mem m;
	struct vdp_vring vr;
	struct logbits l = { .base = GPA_BASE, .len = REGION1 + REGION2 };
	struct vdp_net_hdr hdr = { .flags = 0, .num_buffers = 0 };
	static uint8_t frame[9000];
	const uint32_t sizes[] = { 60, 1514, 3000, 9000, 200, 1514 };
	unsigned int changed = 0, ok = 0, miss;
	uint8_t *snap;
	vdp_frame_fn put;

	memset(&vr, 0, sizeof(vr));
	if (guest_mem_init(&m, GPA_BASE, REGION1, REGION2) != 0) {
		CHECK(false, "%s: guest memory", name);
		return;
	}
	if (o->packed) {
		guest_packed_init(&gp, &m, RING, 0, true);
		guest_packed_attach(&gp, &vr, ids);
	} else {
		guest_ring_init(&gs, &m, RING, 0);
		guest_ring_attach(&gs, &vr);
	}
	vr.mrg_rxbuf = o->mrg;
	vr.hdr_len = o->mrg ? VDP_NET_HDR_LEN_MRG : VDP_NET_HDR_LEN_LEGACY;
	vr.used_batch = o->packed;
	vr.log = o->log;
	vr.log_fn = log_fn;
	vr.log_ctx = &l;
	vr.log_mm = &m.mm;
	l.page = calloc(l.len / PAGE, 1);
	snap = malloc(m.gva_len);
	for (uint32_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7 + 3);

	/* RX buffers: 2 KiB each (mergeable) or 9 KiB, the last one
	 * straddling the two regions */
	for (int i = 0; i < 40; i++) {
		uint32_t len = o->mrg ? 2048 : 9100;
		struct guest_buf b = { .len = len, .write = true };

		b.gpa = i == 39 ? GPA_BASE + REGION1 - 1000 : guest_alloc(&m, len, 64);
		if (o->packed)
			guest_packed_post(&gp, &b, 1, false, true);
		else
			guest_ring_post(&gs, &b, 1, false, true);
	}
	memcpy(snap, m.gva, m.gva_len);
	put = vdp_vq_frame_fn(&vr);
	vdp_vring_burst_begin(&vr);
	for (int round = 0; round < 7; round++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct vdp_iov iov = { frame, sizes[i] };

			ok += put(&vr, &m.mm, &hdr, &iov, 1) == 0;
		}
	vdp_vq_publish(&vr);
	miss = unlogged(&m, snap, &l, &changed);
	CHECK(ok > 20 && changed > 10, "%s%s: %u frames written, %u pages changed", name,
	      o->log ? "" : " (log off)", ok, changed);
	if (o->log) {
		CHECK(miss == 0, "%s: every changed page logged (%u not)", name, miss);
		CHECK(l.outside == 0, "%s: nothing outside guest memory logged (%u)", name,
		      l.outside);
	} else {
		CHECK(l.calls == 0 && miss == changed,
		      "%s: log off: nothing logged, every change found unlogged", name);
	}
	free(snap);
	free(l.page);
	if (o->packed)
		guest_packed_fini(&gp);
	else
		guest_ring_fini(&gs);
	guest_mem_fini(&m);
}

int
main(void)
{
	for (int packed = 0; packed < 2; packed++)
		for (int mrg = 0; mrg < 2; mrg++)
			for (int log = 1; log >= 0; log--) {
				struct case_opts o = { packed, mrg, log };

				run_case(&o);
			}
	return check_summary();
}
