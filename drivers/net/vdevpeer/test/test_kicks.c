/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kicks around a sleep (rx interrupt mode, vdp_vq_enable_kicks /
 * vdp_vq_disable_kicks), against guest drivers that decide to kick the
 * way virtio drivers do (guest_ring_need_kick, guest_packed_kick_prepare),
 * on both layouts, with and without EVENT_IDX, over many laps:
 *  - polling (kicks off): the guest does not kick (split with EVENT_IDX:
 *    at most once per 65536 chains; here: not after the first);
 *  - asleep (kicks asked for): the guest kicks for the next chain it
 *    posts - the wake-up is never lost;
 *  - a chain posted before the device asked (the race the re-check
 *    closes): enable says "work there" and the device does not sleep;
 *  - what the device writes while asleep, and back to polling.
 */
#include <string.h>

#include "check.h"
#include "guest_packed.h"
#include "guest_ring.h"
#include "vdp_ring.h"

#define GPA_BASE 0x40000000ull
#define RING 64
#define LAPS 5

struct kt {
	bool packed, eidx;
	struct guest_mem m;
	struct guest_ring gs;
	struct guest_packed gp;
	struct vdp_vring vr;
	uint64_t ids[VDP_PACKED_IDS_WORDS(RING)];
	uint64_t buf;
	uint16_t old;    /* split: avail idx at the last kick check */
};

static const char *
kname(const struct kt *k)
{
	return k->packed ? (k->eidx ? "packed, EVENT_IDX" : "packed") :
			   (k->eidx ? "split, EVENT_IDX" : "split");
}

/* The guest posts one chain (a TX buffer); does it kick? */
static bool
post(struct kt *k)
{
	const struct guest_buf b = { .gpa = k->buf, .len = 64, .write = false };
	uint16_t old;

	if (k->packed) {
		guest_packed_post(&k->gp, &b, 1, false, true);
		return guest_packed_kick_prepare(&k->gp, k->eidx);
	}
	old = k->old;
	guest_ring_post(&k->gs, &b, 1, false, true);
	k->old = (uint16_t)(old + 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return guest_ring_need_kick(&k->gs, old, k->eidx);
}

/* The device takes every chain there and gives it back; the guest reaps. */
static unsigned int
consume(struct kt *k)
{
	struct vdp_chain c;
	unsigned int n = 0;
	uint32_t id, len;

	vdp_vring_burst_begin(&k->vr);
	while (vdp_vq_avail(&k->vr) != 0 &&
	       vdp_vq_fetch(&k->vr, &k->m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK) {
		vdp_vq_used_put(&k->vr, c.id, c.ndesc, 0);
		n++;
	}
	vdp_vq_publish(&k->vr);
	if (k->packed)
		while (guest_packed_get_used(&k->gp, &id, &len) == 1)
			;
	else
		while (guest_ring_get_used(&k->gs, &id, &len) == 1)
			;
	return n;
}

static int
kt_init(struct kt *k, bool packed, bool eidx)
{
	memset(k, 0, sizeof(*k));
	k->packed = packed;
	k->eidx = eidx;
	if (guest_mem_init(&k->m, GPA_BASE, 4u << 20, 0) != 0)
		return -1;
	if (packed) {
		if (guest_packed_init(&k->gp, &k->m, RING, 0, true) != 0 ||
		    guest_packed_attach(&k->gp, &k->vr, k->ids) != 0)
			return -1;
	} else if (guest_ring_init(&k->gs, &k->m, RING, 0) != 0 ||
		   guest_ring_attach(&k->gs, &k->vr) != 0) {
		return -1;
	}
	k->vr.event_idx = eidx;
	k->vr.hdr_len = 12;
	k->buf = guest_alloc(&k->m, 4096, 64);
	vdp_vq_suppress_kicks(&k->vr);   /* as a ring load does */
	return 0;
}

static void
kt_fini(struct kt *k)
{
	if (k->packed)
		guest_packed_fini(&k->gp);
	else
		guest_ring_fini(&k->gs);
	guest_mem_fini(&k->m);
}

static void
test_layout(bool packed, bool eidx)
{
	struct kt k;
	unsigned int kicks_polling = 0, missed = 0, raced = 0, n;

	if (kt_init(&k, packed, eidx) != 0) {
		CHECK(false, "%s: guest memory and ring", packed ? "packed" : "split");
		return;
	}
	/* a spurious first kick is allowed (split EVENT_IDX: avail_event 0) */
	post(&k);
	consume(&k);
	for (unsigned int i = 0; i < LAPS * RING; i++) {
		/* polling: bursts of chains, no kick wanted */
		for (n = 0; n < 3; n++)
			kicks_polling += post(&k);
		consume(&k);
		/* going to sleep with nothing there: the next chain kicks */
		if (vdp_vq_enable_kicks(&k.vr))
			missed += 1000;   /* nothing was there: must say so */
		if (!post(&k))
			missed++;
		/* woken: back to polling, take it */
		vdp_vq_disable_kicks(&k.vr);
		consume(&k);
		/* the race: a chain posted just before the device asks */
		post(&k);
		if (vdp_vq_enable_kicks(&k.vr))
			raced++;
		vdp_vq_disable_kicks(&k.vr);
		consume(&k);
	}
	CHECK(missed == 0, "%s: asleep, every first chain kicks (%u missed)", kname(&k), missed);
	CHECK(raced == LAPS * RING, "%s: a chain posted before the device asked for kicks: "
	      "found by the re-check, no sleep (%u of %u)", kname(&k), raced, LAPS * RING);
	/* split with EVENT_IDX: the chain after a sleep steps over the stale
	 * avail_event once per sleep; otherwise none */
	CHECK(kicks_polling <= (eidx && !packed ? 2u * LAPS * RING : 0u),
	      "%s: polling, kicks off: %u kicks in %u chains", kname(&k), kicks_polling,
	      3 * LAPS * RING);
	if (packed)
		CHECK(k.gp.device_event->flags == VDP_PEVENT_DISABLE,
		      "%s: polling again: DISABLE", kname(&k));
	else if (!eidx)
		CHECK(guest_ring_used_flags(&k.gs) & VDP_USED_F_NO_NOTIFY,
		      "%s: polling again: NO_NOTIFY", kname(&k));
	/* asleep: what the device left for the guest */
	vdp_vq_enable_kicks(&k.vr);
	if (packed && eidx)
		CHECK(k.gp.device_event->flags == VDP_PEVENT_DESC &&
		      k.gp.device_event->off_wrap == vdp_vq_avail_base(&k.vr),
		      "%s: asleep: DESC at the next slot to take (0x%04x)", kname(&k),
		      k.gp.device_event->off_wrap);
	else if (packed)
		CHECK(k.gp.device_event->flags == VDP_PEVENT_ENABLE &&
		      k.gp.device_event->off_wrap == VDP_PEVENT_OURS,
		      "%s: asleep: ENABLE, our marker in off_wrap (never all zero)", kname(&k));
	else if (eidx)
		CHECK(guest_ring_avail_event(&k.gs) == k.vr.last_avail,
		      "%s: asleep: avail_event = the next chain to take (%u)", kname(&k),
		      guest_ring_avail_event(&k.gs));
	else
		CHECK(!(guest_ring_used_flags(&k.gs) & VDP_USED_F_NO_NOTIFY),
		      "%s: asleep: NO_NOTIFY clear", kname(&k));
	/* a broken ring is not waited on and not written */
	k.vr.broken = true;
	CHECK(!vdp_vq_enable_kicks(&k.vr), "%s: a broken ring: nothing to wait for", kname(&k));
	kt_fini(&k);
}

int
main(void)
{
	for (int v = 0; v < 4; v++)
		test_layout(v & 1, v >> 1);
	return check_summary();
}
