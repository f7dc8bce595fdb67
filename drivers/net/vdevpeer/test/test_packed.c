/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the packed-ring walker (vdp_packed.c) and of the frame
 * logic (vdp_net.c) on both layouts, without EAL: a guest-side packed
 * driver (guest_packed.c) writes real packed rings into memfd memory that
 * the device side sees at other addresses; the frame tests run the same
 * assertions over a split ring (guest_ring.c) and a packed one.
 *
 * One line per check, then "N passed, N failed"; exit status 1 on failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest_packed.h"
#include "guest_ring.h"
#include "vdp_offload.h"
#include "vdp_peer.h"
#include "vdp_ring.h"
#include "check.h"

/* ---- fixture: guest memory + one ring (packed, or split) + the device view ---- */

#define REGION1_MIN (8u << 20)
#define REGION2 (1u << 20)
#define GPA_BASE 0x40000000ull
#define MAX_IDS 1024u     /* ids (split: heads) of the frame tests' rings */

struct fx {
	bool split;
	struct guest_mem m;
	struct guest_packed g;    /* packed */
	struct guest_ring sg;     /* split */
	struct vdp_vring vr;
	uint64_t ids[VDP_PACKED_IDS_WORDS(VDP_RING_SIZE_MAX)]; /* the device's */
	uint64_t err0[VDP_ERR_MAX];
	unsigned int ncb;         /* on_err calls */
	enum vdp_err last_cb;
	/* packed, used_batch: what the guest could see after the last
	 * publish (fx_publish), and how often more showed up before the next */
	bool batch;
	uint64_t vis_at_pub;
	uint16_t used_at_pub;
	bool uwrap_at_pub;
	unsigned int early;
};

struct fx_opts {
	bool split;               /* default: packed */
	uint32_t size;
	uint16_t start;           /* packed: first slot; split: first index */
	bool phase0;              /* packed: start with wrap counters 0 (default 1) */
	bool indirect, event_idx, mrg;
	uint16_t hdr_len;
	bool batch;               /* packed: vr.used_batch (as the PMD sets it) */
};

static void
fx_on_err(void *ctx, enum vdp_err e, uint32_t a, uint32_t b)
{
	struct fx *f = ctx;

	(void)a;
	(void)b;
	f->ncb++;
	f->last_cb = e;
}

static void
fx_init(struct fx *f, const struct fx_opts *o)
{
	/* room for the ring, an indirect table of 64 per id, and buffers */
	size_t r1 = REGION1_MIN + (((size_t)o->size * (GUEST_INDIRECT_MAX + 1) * 16 +
				    (1u << 20) - 1) & ~(size_t)((1u << 20) - 1));
	int ret;

	memset(f, 0, sizeof(*f));
	f->split = o->split;
	ret = guest_mem_init(&f->m, GPA_BASE, r1, REGION2);
	if (ret == 0 && o->split)
		ret = guest_ring_init(&f->sg, &f->m, (uint16_t)o->size, o->start);
	else if (ret == 0)
		ret = guest_packed_init(&f->g, &f->m, o->size, o->start, !o->phase0);
	if (ret == 0)
		ret = o->split ? guest_ring_attach(&f->sg, &f->vr) :
				 guest_packed_attach(&f->g, &f->vr, f->ids);
	if (ret != 0) {
		fprintf(stderr, "fixture set-up failed: %s\n", strerror(-ret));
		exit(2);
	}
	f->vr.indirect = o->indirect;
	f->vr.event_idx = o->event_idx;
	f->vr.mrg_rxbuf = o->mrg;
	f->vr.hdr_len = o->hdr_len != 0 ? o->hdr_len : VDP_NET_HDR_LEN_MRG;
	f->vr.on_err = fx_on_err;
	f->vr.err_ctx = f;
	/* after init, as the PMD's ring load does */
	f->batch = o->batch && !o->split;
	f->vr.used_batch = f->batch;
	f->used_at_pub = f->vr.used_idx;
	f->uwrap_at_pub = f->vr.used_wrap;
}

static void
fx_fini(struct fx *f)
{
	if (f->split)
		guest_ring_fini(&f->sg);
	else
		guest_packed_fini(&f->g);
	guest_mem_fini(&f->m);
}

static const char *
fx_name(const struct fx *f)
{
	return f->split ? "split" : "packed";
}

static uint64_t
fx_mem_end(const struct fx *f)
{
	return f->m.gpa[1] + f->m.size[1];
}

#define fx_mark(f) guest_err_mark((f)->err0, &(f)->vr)
/* Exactly counter e moved, by 1 (e == VDP_ERR_MAX: none moved). */
#define fx_only_err(f, e) guest_err_only((f)->err0, &(f)->vr, (e))

/* Position on the circle of 2 * size (slot, wrap) positions. */
static uint32_t
ppos(uint32_t size, uint16_t slot, bool wrap)
{
	return slot + (wrap ? size : 0u);
}

static uint32_t
pdist(uint32_t size, uint32_t from, uint32_t to)
{
	return (to + 2u * size - from) % (2u * size);
}

/* Chains (split) or slots (packed) made available and not taken yet. */
static uint32_t
fx_left(const struct fx *f)
{
	if (f->split)
		return (uint16_t)(f->sg.avail_idx - f->vr.last_avail);
	return pdist(f->g.size, ppos(f->g.size, f->vr.last_avail, f->vr.avail_wrap),
		     ppos(f->g.size, f->g.avail_slot, f->g.avail_wrap));
}

/* The device's and the guest's positions agree (nothing in flight). */
static bool
fx_in_sync(const struct fx *f)
{
	if (f->split)
		return f->vr.last_avail == f->sg.avail_idx && f->vr.used_idx == f->sg.last_used;
	return f->vr.last_avail == f->g.avail_slot && f->vr.avail_wrap == f->g.avail_wrap &&
	       f->vr.used_idx == f->g.used_slot && f->vr.used_wrap == f->g.used_wrap;
}

/* No buffer id held by the device (packed; split holds none). */
static bool
fx_none_held(const struct fx *f)
{
	if (f->split)
		return true;
	for (uint32_t i = 0; i < VDP_PACKED_IDS_WORDS(f->vr.size); i++)
		if (f->ids[i] != 0)
			return false;
	return true;
}

static bool
fx_held(const struct fx *f, uint16_t id)
{
	return (f->ids[id / 64] >> (id % 64)) & 1;
}

static int
fx_post(struct fx *f, const struct guest_buf *b, uint32_t n, bool indirect)
{
	return f->split ? guest_ring_post(&f->sg, b, n, indirect, true) :
			  guest_packed_post(&f->g, b, n, indirect, true);
}

static int
fx_get_used(struct fx *f, uint32_t *id, uint32_t *len)
{
	return f->split ? guest_ring_get_used(&f->sg, id, len) :
			  guest_packed_get_used(&f->g, id, len);
}

static uint32_t
fx_used_pending(const struct fx *f)
{
	return f->split ? guest_ring_used_pending(&f->sg) : guest_packed_used_pending(&f->g);
}

/* Used elements the guest has read or could read now (packed). */
static uint64_t
fx_visible(const struct fx *f)
{
	return f->g.nused + guest_packed_used_pending(&f->g);
}

/*
 * vdp_vq_publish. Packed with used_batch: nothing may have become
 * visible to the guest since the previous publish, nor the used position
 * moved (counted in f->early; the callers' bursts keep under the shadow's
 * VDP_USED_BATCH_MAX elements).
 */
static bool
fx_publish(struct fx *f)
{
	bool call;

	if (f->batch && (fx_visible(f) != f->vis_at_pub || f->vr.used_idx != f->used_at_pub ||
			 f->vr.used_wrap != f->uwrap_at_pub))
		f->early++;
	call = vdp_vq_publish(&f->vr);
	if (f->batch) {
		f->vis_at_pub = fx_visible(f);
		f->used_at_pub = f->vr.used_idx;
		f->uwrap_at_pub = f->vr.used_wrap;
	}
	return call;
}

/* A used element: vdp_packed_used_put itself (visible at once), or with
 * used_batch through vdp_vq_used_put (kept back until the publish). */
static void
fx_put(struct fx *f, uint16_t id, uint16_t ndesc, uint32_t len)
{
	if (f->batch)
		vdp_vq_used_put(&f->vr, id, ndesc, len);
	else
		vdp_packed_used_put(&f->vr, id, ndesc, len);
}

/* One used element expected, with this id and len. */
static bool
guest_expect_used(struct fx *f, uint32_t id, uint32_t len)
{
	uint32_t gid, glen;

	if (fx_get_used(f, &gid, &glen) != 1)
		return false;
	return gid == id && glen == len;
}

static void
fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8));
}

static uint64_t
guest_tx_buf(struct fx *f, uint32_t len, uint32_t seed)
{
	uint64_t gpa = guest_alloc(&f->m, len, 64);

	fill_pattern(guest_ptr(&f->m, gpa), len, seed);
	return gpa;
}

/* Fetch one TX chain and compare its bytes. */
static bool
fetch_tx_and_compare(struct fx *f, const uint8_t *want, uint32_t len, struct vdp_chain *c)
{
	static uint8_t buf[1u << 17];

	if (vdp_vq_fetch(&f->vr, &f->m.mm, VDP_DIR_READ, c) != VDP_FETCH_OK)
		return false;
	if (c->len != len || len > sizeof(buf))
		return false;
	if (vdp_chain_read(c, 0, buf, sizeof(buf)) != len)
		return false;
	return memcmp(buf, want, len) == 0;
}

/* After a bad chain: the ring must still carry a normal TX frame. */
static bool
ring_still_works_tx(struct fx *f)
{
	uint8_t want[100];
	struct guest_buf b;
	struct vdp_chain c;
	int id;

	b = (struct guest_buf){ guest_tx_buf(f, sizeof(want), 99), sizeof(want), false };
	memcpy(want, guest_ptr(&f->m, b.gpa), sizeof(want));
	id = fx_post(f, &b, 1, false);
	if (id < 0 || f->vr.broken || vdp_vq_avail(&f->vr) == 0)
		return false;
	if (!fetch_tx_and_compare(f, want, sizeof(want), &c) || c.id != id)
		return false;
	vdp_vq_used_put(&f->vr, c.id, c.ndesc, 0);
	vdp_vq_publish(&f->vr);
	return guest_expect_used(f, (uint32_t)id, 0) && fx_in_sync(f) && fx_none_held(f);
}

static int
post_rx(struct fx *f, uint32_t len, uint64_t *gpa)
{
	struct guest_buf b = { guest_alloc(&f->m, len, 64), len, true };

	if (gpa != NULL)
		*gpa = b.gpa;
	memset(guest_ptr(&f->m, b.gpa), 0xee, len);
	return fx_post(f, &b, 1, false);
}

/* n raw descriptors of 64-byte buffers (NEXT on all but the last), id on each. */
static void
raw_descs(struct fx *f, struct vdp_pdesc *d, uint32_t n, uint16_t id, bool write)
{
	for (uint32_t i = 0; i < n; i++)
		d[i] = (struct vdp_pdesc){ guest_alloc(&f->m, 64, 8), 64, id,
					   (uint16_t)((i + 1 < n ? VDP_DESC_F_NEXT : 0) |
						      (write ? VDP_DESC_F_WRITE : 0)) };
}

/* A raw indirect table of n entries of 64-byte buffers; returns its gpa. */
static uint64_t
raw_table(struct fx *f, uint32_t n, struct vdp_pdesc **t)
{
	uint64_t gpa = guest_alloc(&f->m, (size_t)n * sizeof(struct vdp_pdesc), 16);
	uint64_t buf = guest_alloc(&f->m, 64, 8);

	*t = guest_ptr(&f->m, gpa);
	for (uint32_t i = 0; i < n; i++)
		(*t)[i] = (struct vdp_pdesc){ buf, 64, 0, 0 };
	return gpa;
}

/* Post d[0..n) as one chain under a fresh id of ours (set on each). */
static int
post_raw(struct fx *f, struct vdp_pdesc *d, uint32_t n)
{
	int id = guest_packed_alloc_id(&f->g);

	for (uint32_t i = 0; i < n; i++)
		d[i].id = (uint16_t)id;
	if (id < 0 || guest_packed_post_desc(&f->g, d, n, true) < 0)
		return -1;
	return id;
}

/* ---- set-up ---- */

static void
test_init(void)
{
	_Alignas(16) static struct vdp_pdesc ring[32768 + 1];
	_Alignas(4) static struct vdp_pevent ev[4];
	static uint64_t ids[VDP_PACKED_IDS_WORDS(32768)];
	struct vdp_vring vr;

	CHECK(vdp_packed_init(&vr, ring, &ev[0], &ev[1], 0, 0, true, 0, true, ids) == -EINVAL,
	      "init: size 0 refused");
	CHECK(vdp_packed_init(&vr, ring, &ev[0], &ev[1], 32769, 0, true, 0, true, ids) == -EINVAL,
	      "init: size 32769 refused");
	CHECK(vdp_packed_init(&vr, ring, &ev[0], &ev[1], 65536, 0, true, 0, true, ids) == -EINVAL,
	      "init: size 65536 refused");
	CHECK(vdp_packed_init(&vr, NULL, &ev[0], &ev[1], 256, 0, true, 0, true, ids) == -EINVAL &&
	      vdp_packed_init(&vr, ring, NULL, &ev[1], 256, 0, true, 0, true, ids) == -EINVAL &&
	      vdp_packed_init(&vr, ring, &ev[0], NULL, 256, 0, true, 0, true, ids) == -EINVAL &&
	      vdp_packed_init(&vr, ring, &ev[0], &ev[1], 256, 0, true, 0, true, NULL) == -EINVAL,
	      "init: NULL ring, event structure or ids storage refused");
	CHECK(vdp_packed_init(&vr, (uint8_t *)ring + 8, &ev[0], &ev[1], 256, 0, true, 0, true,
			      ids) == -EINVAL, "init: ring not 16-byte aligned refused");
	CHECK(vdp_packed_init(&vr, ring, (void *)((uint8_t *)&ev[0] + 2), &ev[1], 256, 0, true, 0,
			      true, ids) == -EINVAL, "init: driver event not 4-byte aligned refused");
	CHECK(vdp_packed_init(&vr, ring, &ev[0], (void *)((uint8_t *)&ev[1] + 2), 256, 0, true, 0,
			      true, ids) == -EINVAL, "init: device event not 4-byte aligned refused");
	CHECK(vdp_packed_init(&vr, ring, &ev[0], &ev[1], 256, 256, true, 0, true, ids) == -EINVAL &&
	      vdp_packed_init(&vr, ring, &ev[0], &ev[1], 256, 0, true, 256, true, ids) == -EINVAL &&
	      vdp_packed_init(&vr, ring, &ev[0], &ev[1], 1000, 0, true, 65535, true, ids) == -EINVAL,
	      "init: avail or used slot >= size refused");
	CHECK(vdp_packed_init(&vr, ring, &ev[0], &ev[1], 1, 0, false, 0, false, ids) == 0 &&
	      vr.size == 1 && vr.layout == VDP_LAYOUT_PACKED, "init: size 1 accepted");
	CHECK(vdp_packed_init(&vr, ring, &ev[0], &ev[1], 3, 2, true, 1, false, ids) == 0 &&
	      vr.size == 3 && vr.last_avail == 2 && vr.avail_wrap && vr.used_idx == 1 &&
	      !vr.used_wrap, "init: size 3 accepted, positions and wrap counters as given");
	vr.err[VDP_ERR_BAD_ID] = 5;
	vr.broken = true;
	vr.indirect = true;
	ids[0] = ~0ull;
	ids[VDP_PACKED_IDS_WORDS(32768) - 1] = ~0ull;
	CHECK(vdp_packed_init(&vr, ring, &ev[0], &ev[1], 32768, 32767, false, 7, true, ids) == 0 &&
	      vr.size == 32768 && vr.last_avail == 32767 && !vr.avail_wrap && vr.used_idx == 7 &&
	      vr.used_wrap && !vr.broken && vr.err[VDP_ERR_BAD_ID] == 0 && !vr.indirect &&
	      vr.on_err == NULL && vr.hdr_len == VDP_NET_HDR_LEN_MRG && vr.ids_held == ids &&
	      ids[0] == 0 && ids[VDP_PACKED_IDS_WORDS(32768) - 1] == 0 &&
	      vr.budget_desc == VDP_BURST_DESC_MAX,
	      "init: size 32768 accepted, state reset, ids held cleared");
	CHECK(vdp_packed_init(&vr, ring, &ev[0], &ev[1], 1000, 999, true, 999, true, ids) == 0,
	      "init: size 1000 (not a power of two) accepted");

	struct fx f;
	struct fx_opts o = { .size = 1000 };

	fx_init(&f, &o);
	CHECK(vdp_vring_in_map(&f.vr, &f.m.mm), "init: ring and event structures inside guest memory");
	struct vdp_vring out = f.vr;

	out.device_event = &ev[2];
	CHECK(!vdp_vring_in_map(&out, &f.m.mm), "init: device event outside guest memory detected");
	out = f.vr;
	out.pdesc = (struct vdp_pdesc *)(uintptr_t)(f.m.mm.r[1].hva + REGION2 - 16 * 999);
	CHECK(!vdp_vring_in_map(&out, &f.m.mm), "init: ring running past guest memory detected");
	fx_fini(&f);
}

/* ---- guest TX: chains ---- */

static void
test_tx_chains(void)
{
	static uint8_t want[1u << 16];
	struct fx_opts o = { .size = 256, .indirect = true };
	struct vdp_chain c;
	struct fx f;

	fx_init(&f, &o);
	fx_mark(&f);
	CHECK(vdp_packed_avail_count(&f.vr) == 0 &&
	      vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_EMPTY &&
	      fx_only_err(&f, VDP_ERR_MAX) && !f.vr.broken,
	      "tx: empty ring: nothing available, fetch says empty");

	for (int indirect = 0; indirect < 2; indirect++) {
		uint32_t nmax = indirect ? GUEST_INDIRECT_MAX : 100, bad = 0, where = 0;
		static struct guest_buf bb[100];

		for (uint32_t n = 1; n <= nmax; n++) {
			uint32_t tot = 0, before = ppos(256, f.vr.last_avail, f.vr.avail_wrap);
			uint32_t gid, glen;
			int id;

			for (uint32_t i = 0; i < n; i++) {
				uint32_t l = (i == 0 ? 12 : 0) + 1 + (i * 37 + n) % 300;

				bb[i] = (struct guest_buf){ guest_tx_buf(&f, l, n * 100 + i), l, false };
				memcpy(want + tot, guest_ptr(&f.m, bb[i].gpa), l);
				tot += l;
			}
			id = guest_packed_post(&f.g, bb, n, indirect, true);
			if (id < 0 || !fetch_tx_and_compare(&f, want, tot, &c) || c.id != id ||
			    c.ndesc != (indirect ? 1 : n) || c.nseg != n || !fx_held(&f, c.id) ||
			    pdist(256, before, ppos(256, f.vr.last_avail, f.vr.avail_wrap)) != c.ndesc) {
				bad++;
				where = n;
				break;
			}
			vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
			if (fx_held(&f, c.id) || guest_packed_get_used(&f.g, &gid, &glen) != 1 ||
			    gid != (uint32_t)id || glen != 0 || !fx_in_sync(&f)) {
				bad++;
				where = n;
				break;
			}
		}
		CHECK(bad == 0 && !f.vr.broken && fx_only_err(&f, VDP_ERR_MAX),
		      "tx: %s chains of 1..%u buffers read back, id held until used, used "
		      "element skips the chain's slots (first failure at %u)",
		      indirect ? "indirect" : "direct", nmax, where);
	}

	/* Every descriptor carries the id (as Linux writes them); only the
	 * last one's counts (2.7.6). */
	{
		struct guest_buf bb[3];
		int id;

		for (int i = 0; i < 3; i++)
			bb[i] = (struct guest_buf){ guest_tx_buf(&f, 20, 7 + i), 20, false };
		uint16_t s = f.g.avail_slot;

		id = guest_packed_post(&f.g, bb, 3, false, true);
		CHECK(f.g.ring[s].id == id && f.g.ring[(s + 1) % 256].id == id &&
		      f.g.ring[(s + 2) % 256].id == id, "tx: the guest writes the id into every descriptor");
		CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == id,
		      "tx: id read back");
		vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
		guest_packed_get_used(&f.g, (uint32_t[1]){ 0 }, (uint32_t[1]){ 0 });

		struct vdp_pdesc d[3];

		raw_descs(&f, d, 3, 0, false);
		id = guest_packed_alloc_id(&f.g);
		d[0].id = 200;
		d[1].id = 0xffff;
		d[2].id = (uint16_t)id;
		guest_packed_post_desc(&f.g, d, 3, true);
		fx_mark(&f);
		CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK &&
		      c.id == id && c.ndesc == 3 && fx_only_err(&f, VDP_ERR_MAX),
		      "tx: ids in the other descriptors of a chain ignored, the last one's taken");
		vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
		CHECK(guest_expect_used(&f, (uint32_t)id, 0) && fx_in_sync(&f), "tx: that chain returned");
	}

	/* The head is made available last: until then nothing is there. */
	{
		struct guest_buf bb[2];
		int id1, id2;

		for (int i = 0; i < 2; i++)
			bb[i] = (struct guest_buf){ guest_tx_buf(&f, 40, 9 + i), 40, false };
		id1 = guest_packed_post(&f.g, bb, 2, false, false);
		id2 = guest_packed_post(&f.g, bb, 1, false, false);
		CHECK(vdp_packed_avail_count(&f.vr) == 0 &&
		      vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_EMPTY,
		      "tx: chains written, heads not yet available: nothing taken");
		guest_packed_publish(&f.g);
		CHECK(vdp_packed_avail_count(&f.vr) == 1 &&
		      vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == id1 &&
		      c.nseg == 2 && (vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0), true) &&
		      vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == id2 &&
		      c.nseg == 1, "tx: heads made available: both chains taken, in ring order");
		vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
		CHECK(guest_expect_used(&f, (uint32_t)id1, 0) && guest_expect_used(&f, (uint32_t)id2, 0) &&
		      fx_in_sync(&f), "tx: both returned");
	}

	/* A buffer across the two regions: two segments. */
	{
		struct guest_buf bb = { f.m.gpa[1] - 100, 300, false };
		uint8_t w[300];

		fill_pattern(guest_ptr(&f.m, bb.gpa), 300, 11);
		memcpy(w, guest_ptr(&f.m, bb.gpa), 300);
		int id = fx_post(&f, &bb, 1, false);

		CHECK(fetch_tx_and_compare(&f, w, 300, &c) && c.id == id && c.nseg == 2 &&
		      c.seg[0].len == 100 && c.seg[1].len == 200,
		      "tx: buffer across two regions -> 2 segments, bytes match");
		vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
		guest_expect_used(&f, (uint32_t)id, 0);
	}
	CHECK(fx_none_held(&f) && f.g.nfree == 256 && f.g.nfree_ids == 256,
	      "tx: guest got every slot and id back");
	fx_fini(&f);
}

/* ---- guest RX on a packed ring ---- */

static void
test_rx_packed(void)
{
	struct vdp_net_hdr hdr = { .flags = 1, .hdr_len = 14, .csum_start = 34,
				   .csum_offset = 16, .num_buffers = 77 };
	struct fx_opts o = { .size = 64, .start = 62, .indirect = true };
	uint8_t frame[1500], seen[3000];
	struct vdp_iov iov = { frame, 100 };
	struct guest_buf b[3];
	struct vdp_chain c;
	uint32_t gid, glen;
	uint64_t gpa;
	struct fx f;
	int id;

	fill_pattern(frame, sizeof(frame), 42);
	fx_init(&f, &o);
	id = post_rx(&f, 2048, &gpa);
	CHECK(vdp_packed_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == 0,
	      "rx: frame into one buffer");
	CHECK(guest_packed_get_used(&f.g, &gid, &glen) == 1 && gid == (uint32_t)id &&
	      (f.g.last_used_flags & VDP_DESC_F_WRITE) && glen == 112,
	      "rx: used element with WRITE set and len = header + frame (2.7.3, 2.7.4)");
	struct vdp_net_hdr got;

	memcpy(&got, guest_ptr(&f.m, gpa), 12);
	CHECK(got.flags == 1 && got.csum_start == 34 && got.num_buffers == 1 &&
	      memcmp((uint8_t *)guest_ptr(&f.m, gpa) + 12, frame, 100) == 0 &&
	      *((uint8_t *)guest_ptr(&f.m, gpa) + 112) == 0xee,
	      "rx: header (num_buffers 1) and payload written, nothing past them");

	/* A buffer of 3 descriptors across the wrap (slots 63, 0, 1), then
	 * the same as an indirect table. */
	for (int indirect = 0; indirect < 2; indirect++) {
		for (int i = 0; i < 3; i++) {
			b[i] = (struct guest_buf){ guest_alloc(&f.m, 500, 8), 500, true };
			memset(guest_ptr(&f.m, b[i].gpa), 0xee, 500);
		}
		id = guest_packed_post(&f.g, b, 3, indirect, true);
		iov.len = 1000;
		CHECK(vdp_packed_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == 0 &&
		      guest_packed_get_used(&f.g, &gid, &glen) == 1 && gid == (uint32_t)id &&
		      glen == 1012 && fx_in_sync(&f),
		      "rx: frame over a %s buffer of 3, used element skips %d slot(s)",
		      indirect ? "indirect" : "direct", indirect ? 1 : 3);
		for (int i = 0; i < 3; i++)
			memcpy(seen + 500 * i, guest_ptr(&f.m, b[i].gpa), 500);
		CHECK(memcmp(seen + 12, frame, 1000) == 0 && seen[1012] == 0xee,
		      "rx: bytes spread over the 3 descriptors match");
	}

	/* TX elements and refused chains come back without WRITE. */
	b[0] = (struct guest_buf){ guest_tx_buf(&f, 64, 1), 64, false };
	id = fx_post(&f, b, 1, false);
	vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c);
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	CHECK(guest_packed_get_used(&f.g, &gid, &glen) == 1 && gid == (uint32_t)id &&
	      !(f.g.last_used_flags & VDP_DESC_F_WRITE), "rx: TX element (len 0) has no WRITE");
	id = post_rx(&f, 0, NULL);
	iov.len = 10;
	post_rx(&f, 256, NULL);
	CHECK(vdp_packed_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == 0 &&
	      guest_packed_get_used(&f.g, &gid, &glen) == 1 && gid == (uint32_t)id && glen == 0 &&
	      !(f.g.last_used_flags & VDP_DESC_F_WRITE) &&
	      guest_packed_get_used(&f.g, &gid, &glen) == 1 && glen == 22,
	      "rx: refused zero-length buffer comes back without WRITE, frame in the next");

	/* Too small: given back (unfetch), taken again for a smaller frame. */
	uint32_t before = ppos(64, f.vr.last_avail, f.vr.avail_wrap);

	id = guest_packed_post(&f.g, b, 0, false, true); /* n = 0: refused */
	CHECK(id == -1, "rx: guest refuses an empty chain");
	b[0] = (struct guest_buf){ guest_alloc(&f.m, 64, 8), 64, true };
	b[1] = (struct guest_buf){ guest_alloc(&f.m, 16, 8), 16, true };
	id = guest_packed_post(&f.g, b, 2, false, true);
	iov.len = 100;
	fx_mark(&f);
	CHECK(vdp_packed_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == VDP_ERR_RX_TOO_SMALL &&
	      fx_only_err(&f, VDP_ERR_RX_TOO_SMALL) &&
	      ppos(64, f.vr.last_avail, f.vr.avail_wrap) == before && !fx_held(&f, (uint16_t)id) &&
	      !guest_packed_used_ready(&f.g), "rx: 2-slot buffer too small -> not consumed, id not held");
	iov.len = 60;
	CHECK(vdp_packed_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == 0 &&
	      guest_packed_get_used(&f.g, &gid, &glen) == 1 && gid == (uint32_t)id && glen == 72 &&
	      fx_in_sync(&f), "rx: smaller frame then fits the same buffer");

	/* Mergeable over 2-slot buffers: every used element skips 2. */
	f.vr.mrg_rxbuf = true;
	static uint64_t head_gpa[64];

	for (int i = 0; i < 5; i++) {
		b[0] = (struct guest_buf){ guest_alloc(&f.m, 256, 64), 128, true };
		b[1] = (struct guest_buf){ b[0].gpa + 128, 128, true };
		id = guest_packed_post(&f.g, b, 2, false, true);
		head_gpa[id] = b[0].gpa;
	}
	iov.len = 1000;
	CHECK(vdp_packed_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == 0 &&
	      guest_packed_used_pending(&f.g) == 4, "rx: mergeable 1000-byte frame over 2-slot 256-byte buffers: 4 used elements");
	uint32_t tot = 0, nb = 0;

	for (int i = 0; i < 4; i++) {
		if (guest_packed_get_used(&f.g, &gid, &glen) != 1)
			break;
		if (i == 0) {
			memcpy(&got, guest_ptr(&f.m, head_gpa[gid]), 12);
			nb = got.num_buffers;
		}
		memcpy(seen + tot, guest_ptr(&f.m, head_gpa[gid]), glen);
		tot += glen;
	}
	CHECK(nb == 4 && tot == 1012 && memcmp(seen + 12, frame, 1000) == 0 &&
	      fx_left(&f) == 2 && !f.vr.broken,
	      "rx: num_buffers 4, contents match, one 2-slot buffer left");
	fx_fini(&f);
}

/* ---- wrap-around ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	/* xorshift64*: reproducible, no libc state */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

#define WRAP_SEGS 8u

/* TX through rings of many sizes, from just before the end of the ring
 * (or mid-ring, wrap counters 0), chains of 1..8 slots or indirect,
 * completed in order or not, over at least six laps. */
static void
test_wrap_tx(bool batch)
{
	static const uint32_t sizes[] = { 1, 2, 3, 256, 1000, 32768 };

	for (unsigned si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		const uint32_t size = sizes[si];
		struct fx_opts o = { .size = size, .indirect = true, .phase0 = si % 2 == 1,
				     .start = (uint16_t)(si % 2 == 1 ? size / 2 : size - 1),
				     .batch = batch };
		static struct vdp_chain cs[64];
		static uint32_t seq_of[VDP_RING_SIZE_MAX], nbuf_of[VDP_RING_SIZE_MAX];
		static uint8_t back[VDP_RING_SIZE_MAX];
		uint64_t total_slots = 0, target = 6ull * size + 100, laps;
		/* position on the circle of 2 x size (slot, wrap) positions */
		uint32_t bad = 0, seq = 0, chains = 0;
		uint32_t start = ppos(size, o.start, !o.phase0);
		struct fx f;
		uint64_t pool;

		fx_init(&f, &o);
		pool = guest_alloc(&f.m, (size_t)size * WRAP_SEGS * 16, 64);
		while (total_slots < target && bad == 0) {
			uint32_t nposted = 0, ntaken = 0;

			/* guest: as many chains as fit, up to 32 */
			while (nposted < 32) {
				uint32_t maxn = size < WRAP_SEGS ? size : WRAP_SEGS;
				uint32_t n = 1 + rnd() % maxn;
				bool ind = rnd() % 4 == 0;
				struct guest_buf b[WRAP_SEGS];
				int id;

				if ((ind ? 1 : n) > f.g.nfree || f.g.nfree_ids == 0)
					break;
				/* the id is the guest's next free one: buffers by id */
				uint16_t next_id = f.g.free_ids[f.g.nfree_ids - 1];

				for (uint32_t i = 0; i < n; i++) {
					uint64_t gpa = pool + ((uint64_t)next_id * WRAP_SEGS + i) * 16;
					uint8_t *p = guest_ptr(&f.m, gpa);

					memcpy(p, &seq, 4);
					memcpy(p + 4, &i, 4);
					b[i] = (struct guest_buf){ gpa, 16, false };
				}
				id = guest_packed_post(&f.g, b, n, ind, true);
				if (id != next_id)
					bad++;
				seq_of[next_id] = seq++;
				nbuf_of[next_id] = n;
				back[next_id] = 0;
				nposted++;
			}
			/* device: one burst */
			vdp_vring_burst_begin(&f.vr);
			while (ntaken < 64 &&
			       vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &cs[ntaken]) == VDP_FETCH_OK) {
				struct vdp_chain *c = &cs[ntaken++];

				if (c->id >= size || c->nseg != nbuf_of[c->id] || c->len != 16 * c->nseg) {
					bad++;
					continue;
				}
				for (uint32_t i = 0; i < c->nseg; i++) {
					uint32_t s, k;

					vdp_chain_read(c, 16 * i, &s, 4);
					vdp_chain_read(c, 16 * i + 4, &k, 4);
					if (s != seq_of[c->id] || k != i)
						bad++;
				}
				total_slots += c->ndesc;
			}
			if (ntaken != nposted)
				bad++;
			/* completion: in order, reversed, or shuffled */
			switch (rnd() % 3) {
			case 1:
				for (uint32_t i = 0; i < ntaken / 2; i++) {
					struct vdp_chain t = cs[i];

					cs[i] = cs[ntaken - 1 - i];
					cs[ntaken - 1 - i] = t;
				}
				break;
			case 2:
				for (uint32_t i = ntaken; i > 1; i--) {
					uint32_t j = rnd() % i;
					struct vdp_chain t = cs[i - 1];

					cs[i - 1] = cs[j];
					cs[j] = t;
				}
				break;
			}
			for (uint32_t i = 0; i < ntaken; i++)
				fx_put(&f, cs[i].id, cs[i].ndesc, 0);
			/* used_batch: kept back, their ids still ours (the
			 * guest has none of them back yet) */
			for (uint32_t i = 0; batch && i < ntaken; i++)
				if (!fx_held(&f, cs[i].id) || f.vr.nshadow != ntaken)
					bad++;
			if (!fx_publish(&f) && ntaken != 0)
				bad++;  /* ENABLE: every publish calls */
			/* guest: every id back exactly once, in completion order */
			for (uint32_t i = 0; i < ntaken; i++) {
				uint32_t id, len;

				if (guest_packed_get_used(&f.g, &id, &len) != 1 || id != cs[i].id ||
				    back[id]++ != 0)
					bad++;
			}
			if (guest_packed_used_ready(&f.g) || !fx_in_sync(&f))
				bad++;
			chains += ntaken;
		}
		laps = (o.start + total_slots) / size;  /* ends of the ring passed */
		CHECK(bad == 0 && f.early == 0 && !f.vr.broken && fx_only_err(&f, VDP_ERR_MAX) &&
		      fx_none_held(&f) &&
		      ppos(size, f.vr.last_avail, f.vr.avail_wrap) ==
		      (start + total_slots) % (2u * size) && f.g.nfree == size,
		      "wrap%s: TX ring of %u from slot %u wrap %d: %u chains, %" PRIu64
		      " slots, wrap counters flipped %" PRIu64 " times, every id back once%s",
		      batch ? " (used_batch)" : "", size, o.start, !o.phase0, chains, total_slots,
		      laps, batch ? ", none seen before its burst's publish" : "");
		fx_fini(&f);
	}
}

/* Mergeable RX over rings of many sizes, buffers of 1 or 2 slots. */
static void
test_wrap_rx(bool batch)
{
	static const uint32_t sizes[] = { 1, 2, 3, 256, 1000 };
	static uint8_t frame[4096], seen[8192];

	fill_pattern(frame, sizeof(frame), 3);
	for (unsigned si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		for (int mrg = 0; mrg < 2; mrg++) {
			const uint32_t size = sizes[si];
			struct fx_opts o = { .size = size, .mrg = mrg, .phase0 = mrg,
					     .start = (uint16_t)(size - 1), .batch = batch };
			uint32_t bad = 0, frames = 0, target = 6 * size + 200;
			const uint32_t bufsz = mrg ? 128 : 512;
			struct fx f;
			uint64_t pool;

			fx_init(&f, &o);
			pool = guest_alloc(&f.m, (size_t)size * bufsz, 64);
			/* used elements, a slot or two each: six laps at least */
			while (f.g.nused < target && bad == 0) {
				uint32_t cap = 0;
				struct vdp_net_hdr hdr = { .gso_size = 3 }, h;

				/* the guest fills every free slot */
				for (;;) {
					bool two = size > 1 && rnd() % 2 == 0 && f.g.nfree >= 2;
					uint16_t id;
					struct guest_buf b[2];

					if (f.g.nfree == 0 || f.g.nfree_ids == 0)
						break;
					id = f.g.free_ids[f.g.nfree_ids - 1];
					b[0] = (struct guest_buf){ pool + (uint64_t)id * bufsz,
								   two ? bufsz / 2 : bufsz, true };
					b[1] = (struct guest_buf){ b[0].gpa + bufsz / 2, bufsz / 2, true };
					if (guest_packed_post(&f.g, b, two ? 2 : 1, false, true) != id)
						bad++;
					cap += bufsz;
				}
				if (cap == 0)
					cap = bufsz;  /* nothing freed: the next frame finds nothing */
				uint32_t room = mrg ? cap - 12 : bufsz - 12;
				uint32_t plen = 1 + rnd() % (room < sizeof(frame) ? room : sizeof(frame));
				struct vdp_iov iov = { frame + frames % 64, plen };

				vdp_vring_burst_begin(&f.vr);
				if (vdp_packed_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) != 0) {
					bad++;
					break;
				}
				fx_publish(&f);
				uint32_t tot = 0, nb = 1, n = 0, id, len;

				while (n < nb) {
					if (guest_packed_get_used(&f.g, &id, &len) != 1) {
						bad++;
						break;
					}
					if (n == 0) {
						memcpy(&h, guest_ptr(&f.m, pool + (uint64_t)id * bufsz), 12);
						nb = h.num_buffers;
						/* a multi-buffer frame is visible whole */
						if (guest_packed_used_pending(&f.g) != nb - 1)
							bad++;
					}
					memcpy(seen + tot, guest_ptr(&f.m, pool + (uint64_t)id * bufsz), len);
					tot += len;
					n++;
				}
				/* a buffer holds bufsz bytes, in 1 slot or 2 */
				if (tot != plen + 12 || h.gso_size != 3 ||
				    memcmp(seen + 12, frame + frames % 64, plen) != 0 ||
				    nb != (mrg ? (tot + bufsz - 1) / bufsz : 1))
					bad++;
				frames++;
			}
			CHECK(bad == 0 && f.early == 0 && !f.vr.broken &&
			      fx_only_err(&f, VDP_ERR_MAX) && fx_none_held(&f),
			      "wrap%s: %s RX ring of %u from slot %u wrap %d: %u frames, %" PRIu64
			      " used elements", batch ? " (used_batch)" : "",
			      mrg ? "mergeable" : "one-buffer", size, o.start, !mrg, frames, f.g.nused);
			fx_fini(&f);
		}
	}
}

/* ---- out-of-order completion ---- */

static void
test_out_of_order(bool batch)
{
	const char *B = batch ? " (used_batch)" : "";
	struct fx_opts o = { .size = 16, .start = 14, .batch = batch };
	struct guest_buf b[3];
	struct vdp_chain c[3];
	uint32_t id, len;
	struct fx f;
	int ids[3];

	fx_init(&f, &o);
	for (int i = 0; i < 3; i++)
		b[i] = (struct guest_buf){ guest_tx_buf(&f, 64, (uint32_t)i), 64, false };
	ids[0] = guest_packed_post(&f.g, b, 2, false, true);   /* slots 14, 15 */
	ids[1] = guest_packed_post(&f.g, b, 1, false, true);   /* slot 0 (wrap 0) */
	ids[2] = guest_packed_post(&f.g, b, 3, false, true);   /* slots 1..3 */
	for (int i = 0; i < 3; i++)
		vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[i]);
	CHECK(c[0].id == ids[0] && c[0].ndesc == 2 && c[1].id == ids[1] && c[1].ndesc == 1 &&
	      c[2].id == ids[2] && c[2].ndesc == 3 && f.vr.last_avail == 4 && !f.vr.avail_wrap,
	      "ooo%s: 3 chains of 2, 1, 3 slots taken across the wrap", B);
	fx_put(&f, c[2].id, c[2].ndesc, 0);
	fx_put(&f, c[0].id, c[0].ndesc, 0);
	fx_put(&f, c[1].id, c[1].ndesc, 0);
	if (batch) {
		CHECK(!guest_packed_used_ready(&f.g) && f.vr.used_idx == 14 && f.vr.used_wrap &&
		      f.vr.nshadow == 3 && f.vr.used_pending == 3 && fx_held(&f, c[0].id) &&
		      fx_held(&f, c[1].id) && fx_held(&f, c[2].id),
		      "ooo%s: the 3 kept back: nothing used in the ring, the used position where "
		      "it was, their ids still held", B);
		CHECK(fx_publish(&f), "ooo%s: publish hands them over (ENABLE: a call)", B);
	}
	bool ok = true;
	const int order[3] = { 2, 0, 1 };

	for (int i = 0; i < 3; i++)
		ok = ok && guest_packed_get_used(&f.g, &id, &len) == 1 && id == (uint32_t)ids[order[i]];
	CHECK(ok && !guest_packed_used_ready(&f.g) && fx_in_sync(&f) && f.g.nfree == 16 &&
	      fx_none_held(&f), "ooo%s: used in order 3, 1, 2: the guest gets 3, 1, 2, each once, "
	      "slots skipped right", B);
	CHECK(ring_still_works_tx(&f), "ooo%s: ring still works", B);

	/* Random orders over many laps of an odd ring, one chain now and
	 * then held across several rounds (zero-copy in flight). */
	static uint32_t posted[7], returned[7];
	struct vdp_chain held = { 0 }, cs[7];
	uint32_t bad = 0, rounds, hold_for = 0, chains = 0;
	bool holding = false;

	fx_fini(&f);
	o = (struct fx_opts){ .size = 7, .start = 5, .phase0 = true, .batch = batch };
	fx_init(&f, &o);
	uint64_t buf = guest_tx_buf(&f, 64, 5);

	for (rounds = 0; rounds < 20000 && bad == 0; rounds++) {
		uint32_t n = 0;

		for (;;) {
			struct guest_buf bb[3] = { { buf, 20, false }, { buf, 20, false },
						   { buf, 20, false } };
			uint32_t k = 1 + rnd() % 3;
			int i;

			if (k > f.g.nfree)
				break;
			i = guest_packed_post(&f.g, bb, k, false, true);
			if (i < 0) {
				bad++;
				break;
			}
			posted[i]++;
		}
		vdp_vring_burst_begin(&f.vr);
		while (vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &cs[n]) == VDP_FETCH_OK)
			n++;
		if (fx_left(&f) != 0)
			bad++;   /* not all taken */
		if (!holding && n > 0 && rnd() % 4 == 0) {
			held = cs[--n];
			holding = true;
			hold_for = 1 + rnd() % 5;
		}
		for (uint32_t i = n; i > 1; i--) {
			uint32_t j = rnd() % i;
			struct vdp_chain t = cs[i - 1];

			cs[i - 1] = cs[j];
			cs[j] = t;
		}
		for (uint32_t i = 0; i < n; i++)
			fx_put(&f, cs[i].id, cs[i].ndesc, 0);
		if (holding && hold_for-- == 0) {
			fx_put(&f, held.id, held.ndesc, 0);
			holding = false;
			n++;
		}
		chains += n;
		uint32_t id2, len2;

		if (batch)
			fx_publish(&f);

		while (guest_packed_get_used(&f.g, &id2, &len2) == 1)
			returned[id2]++;
		if (guest_packed_used_ready(&f.g))
			bad++;   /* an element the guest could not account for */
	}
	if (holding) {
		fx_put(&f, held.id, held.ndesc, 0);
		if (batch)
			fx_publish(&f);
		while (guest_packed_get_used(&f.g, &id, &len) == 1)
			returned[id]++;
	}
	for (int i = 0; i < 7; i++)
		if (posted[i] != returned[i])
			bad++;
	CHECK(bad == 0 && f.early == 0 && fx_in_sync(&f) && f.g.nfree == 7 && fx_none_held(&f) &&
	      fx_only_err(&f, VDP_ERR_MAX),
	      "ooo%s: %u rounds on a ring of 7, random completion orders, a chain held across "
	      "rounds: %u chains, every id back exactly as often as posted", B, rounds, chains);
	fx_fini(&f);
}

/* ---- giving chains back: unfetch, mark / rewind / release ---- */

static void
test_unfetch(void)
{
	struct fx_opts o = { .size = 8, .start = 6, .mrg = true };
	struct guest_buf b[3];
	struct vdp_chain c, c2;
	struct fx f;
	int id, id2;

	fx_init(&f, &o);
	for (int i = 0; i < 3; i++)
		b[i] = (struct guest_buf){ guest_tx_buf(&f, 64, (uint32_t)i), 64, false };
	id = guest_packed_post(&f.g, b, 3, false, true);   /* slots 6, 7, 0 */
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == id &&
	      f.vr.last_avail == 1 && !f.vr.avail_wrap && fx_held(&f, (uint16_t)id),
	      "unfetch: chain across the wrap taken (position 1, wrap 0)");
	vdp_packed_unfetch(&f.vr, &c);
	CHECK(f.vr.last_avail == 6 && f.vr.avail_wrap && !fx_held(&f, (uint16_t)id),
	      "unfetch: back to slot 6, wrap 1, id no longer held");
	fx_mark(&f);
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c2) == VDP_FETCH_OK && c2.id == id &&
	      c2.ndesc == 3 && c2.nseg == 3 && c2.seg[0].hva == c.seg[0].hva &&
	      c2.seg[2].hva == c.seg[2].hva && fx_only_err(&f, VDP_ERR_MAX),
	      "unfetch: the same chain taken again (no bad_id)");
	vdp_vq_unfetch(&f.vr, &c2);
	CHECK(f.vr.last_avail == 6 && f.vr.avail_wrap && !fx_held(&f, (uint16_t)id),
	      "unfetch: through vdp_vq_unfetch too");
	vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c);
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	CHECK(guest_expect_used(&f, (uint32_t)id, 0) && fx_in_sync(&f), "unfetch: then used as usual");

	/* mark, two chains, release both, rewind: both stay with the guest */
	id = guest_packed_post(&f.g, b, 2, false, true);
	id2 = guest_packed_post(&f.g, b, 3, false, true);
	struct vdp_vq_mark m = vdp_vq_mark(&f.vr);

	vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c);
	vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c2);
	CHECK(c.id == id && c2.id == id2 && fx_held(&f, (uint16_t)id) && fx_held(&f, (uint16_t)id2) &&
	      f.vr.avail_wrap == false && f.vr.last_avail == 6,
	      "rewind: two chains taken (5 slots)");
	vdp_vq_release_l(&f.vr, c.id, VDP_LAYOUT_PACKED);
	vdp_vq_release_l(&f.vr, c2.id, VDP_LAYOUT_PACKED);
	vdp_vq_rewind_l(&f.vr, m, VDP_LAYOUT_PACKED);
	CHECK(f.vr.last_avail == m.avail && f.vr.avail_wrap == m.wrap && fx_none_held(&f) &&
	      !guest_packed_used_ready(&f.g), "rewind: position and ids back, nothing used");
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == id &&
	      vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c2) == VDP_FETCH_OK && c2.id == id2,
	      "rewind: taken again");
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	vdp_packed_used_put(&f.vr, c2.id, c2.ndesc, 0);
	CHECK(guest_expect_used(&f, (uint32_t)id, 0) && guest_expect_used(&f, (uint32_t)id2, 0) &&
	      fx_in_sync(&f), "rewind: then used as usual");
	fx_fini(&f);
}

/* ---- the frame logic (vdp_net.c) on both layouts ---- */

static uint64_t gpa_of[MAX_IDS];

static int
post_rx_map(struct fx *f, uint32_t len)
{
	uint64_t gpa;
	int id = post_rx(f, len, &gpa);

	if (id >= 0 && (uint32_t)id < MAX_IDS)
		gpa_of[id] = gpa;
	return id;
}

/* Collect a mergeable frame the guest way; return num_buffers or -1. */
static int
guest_read_mrg(struct fx *f, uint8_t *out, uint32_t *outlen)
{
	uint32_t id, len, n = 0, nb = 1;

	*outlen = 0;
	while (n < nb) {
		if (fx_get_used(f, &id, &len) != 1 || id >= MAX_IDS)
			return -1;
		const uint8_t *p = guest_ptr(&f->m, gpa_of[id]);

		if (n == 0) {
			struct vdp_net_hdr h;

			memcpy(&h, p, sizeof(h));
			nb = h.num_buffers;
		}
		memcpy(out + *outlen, p, len);
		*outlen += len;
		n++;
	}
	return (int)nb;
}

/* What test_ring.c checks of vdp_split_enqueue_frame, through
 * vdp_vq_enqueue_frame, the same assertions on either layout. */
static void
test_frames(bool split, bool batch)
{
	struct fx_opts o = { .split = split, .size = 256, .indirect = true, .event_idx = true,
			     .batch = batch };
	struct vdp_net_hdr hdr = { .flags = 1, .hdr_len = 14, .csum_start = 34,
				   .csum_offset = 16, .num_buffers = 77 };
	static uint8_t frame[9000], seen[20000];
	struct vdp_iov iov = { frame, 100 };
	uint32_t got, zid, zlen;
	const char *L;
	struct fx f;
	int h, hz, hs;

	fill_pattern(frame, sizeof(frame), 7);

	/* -- one buffer per frame -- */
	fx_init(&f, &o);
	L = batch ? "packed, used_batch" : fx_name(&f);
	fx_mark(&f);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == VDP_ERR_NO_RX_BUF &&
	      fx_only_err(&f, VDP_ERR_NO_RX_BUF), "frames[%s]: no buffers -> no_rx_buf counted", L);
	h = post_rx_map(&f, 2048);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == 0 && (fx_publish(&f), true) &&
	      guest_expect_used(&f, (uint32_t)h, 112), "frames[%s]: frame into one buffer, used len 112", L);
	struct vdp_net_hdr gh;

	memcpy(&gh, guest_ptr(&f.m, gpa_of[h]), 12);
	CHECK(gh.flags == 1 && gh.csum_start == 34 && gh.csum_offset == 16 && gh.num_buffers == 1 &&
	      memcmp((uint8_t *)guest_ptr(&f.m, gpa_of[h]) + 12, frame, 100) == 0,
	      "frames[%s]: header (num_buffers 1) and payload", L);

	/* legacy header, 3 source pieces, a buffer of 3 descriptors */
	f.vr.hdr_len = VDP_NET_HDR_LEN_LEGACY;
	struct guest_buf b[3];
	struct vdp_iov src3[3] = { { frame, 30 }, { frame + 30, 0 }, { frame + 30, 970 } };

	for (int i = 0; i < 3; i++) {
		b[i] = (struct guest_buf){ guest_alloc(&f.m, 500, 8), 500, true };
		memset(guest_ptr(&f.m, b[i].gpa), 0xee, 500);
	}
	h = fx_post(&f, b, 3, false);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, src3, 3) == 0 && (fx_publish(&f), true) &&
	      guest_expect_used(&f, (uint32_t)h, 1010), "frames[%s]: legacy header, 3 pieces, 3-descriptor buffer", L);
	for (int i = 0; i < 3; i++)
		memcpy(seen + 500 * i, guest_ptr(&f.m, b[i].gpa), 500);
	CHECK(seen[0] == 1 && memcmp(seen + 10, frame, 1000) == 0 && seen[1010] == 0xee,
	      "frames[%s]: bytes spread over the 3 descriptors", L);

	/* too small: not consumed; a smaller frame fits later */
	f.vr.hdr_len = VDP_NET_HDR_LEN_MRG;
	h = post_rx_map(&f, 64);
	fx_mark(&f);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == VDP_ERR_RX_TOO_SMALL &&
	      fx_only_err(&f, VDP_ERR_RX_TOO_SMALL) && (fx_publish(&f), true) &&
	      fx_used_pending(&f) == 0 && fx_left(&f) == 1 && fx_none_held(&f),
	      "frames[%s]: buffer too small -> rx_too_small, not consumed", L);
	iov.len = 40;
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == 0 && (fx_publish(&f), true) &&
	      guest_expect_used(&f, (uint32_t)h, 52), "frames[%s]: smaller frame then fits", L);

	/* a read-only chain on the RX ring: refused, skipped */
	struct guest_buf ro = { guest_alloc(&f.m, 256, 8), 256, false };
	int hbad = fx_post(&f, &ro, 1, false);

	h = post_rx_map(&f, 256);
	fx_mark(&f);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == 0 &&
	      fx_only_err(&f, VDP_ERR_BAD_DESC) && (fx_publish(&f), true) &&
	      guest_expect_used(&f, (uint32_t)hbad, 0) && guest_expect_used(&f, (uint32_t)h, 52),
	      "frames[%s]: read-only buffer refused (bad_desc) and returned, frame in the next", L);
	CHECK(fx_in_sync(&f) && fx_none_held(&f) && !f.vr.broken, "frames[%s]: nothing held, in sync", L);
	CHECK(f.early == 0, "frames[%s]: nothing the guest's before the publish (%u times)", L,
	      f.early);
	fx_fini(&f);

	/* -- mergeable -- */
	o.mrg = true;
	fx_init(&f, &o);
	hdr = (struct vdp_net_hdr){ .gso_type = 1, .gso_size = 1448 };
	for (int i = 0; i < 5; i++)
		post_rx_map(&f, 256);
	struct vdp_iov src[3] = { { frame, 14 }, { frame + 14, 486 }, { frame + 500, 500 } };

	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, src, 3) == 0 && (fx_publish(&f), true) &&
	      fx_used_pending(&f) == 4, "frames[%s]: mrg 1000-byte frame over 256-byte buffers: 4 used", L);
	CHECK(guest_read_mrg(&f, seen, &got) == 4 && got == 1012 && seen[1] == 1 &&
	      memcmp(seen + 12, frame, 1000) == 0 && fx_left(&f) == 1,
	      "frames[%s]: mrg num_buffers 4, contents match, 5th buffer left", L);

	src[0].len = 244;
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, src, 1) == 0 && (fx_publish(&f), true) &&
	      guest_read_mrg(&f, seen, &got) == 1 && got == 256 && memcmp(seen + 12, frame, 244) == 0,
	      "frames[%s]: mrg frame filling one buffer exactly: num_buffers 1", L);

	/* not enough: buffers stay with the guest */
	for (int i = 0; i < 2; i++)
		post_rx_map(&f, 256);
	struct vdp_iov big = { frame, 1000 };

	fx_mark(&f);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &big, 1) == VDP_ERR_NO_RX_BUF &&
	      fx_only_err(&f, VDP_ERR_NO_RX_BUF) && (fx_publish(&f), true) &&
	      fx_used_pending(&f) == 0 && fx_left(&f) == 2 && fx_none_held(&f),
	      "frames[%s]: mrg 2 buffers for 4 -> no_rx_buf, nothing consumed, no id held", L);
	for (int i = 0; i < 2; i++)
		post_rx_map(&f, 256);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &big, 1) == 0 && (fx_publish(&f), true) &&
	      guest_read_mrg(&f, seen, &got) == 4 && got == 1012 && memcmp(seen + 12, frame, 1000) == 0,
	      "frames[%s]: mrg fits once the guest posts more, taking the kept buffers again", L);

	/* a bad chain in the middle: returned empty before the frame */
	struct guest_buf zb = { guest_alloc(&f.m, 64, 8), 0, true };

	post_rx_map(&f, 256);
	hz = fx_post(&f, &zb, 1, false);
	for (int i = 0; i < 4; i++)
		post_rx_map(&f, 256);
	fx_mark(&f);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &big, 1) == 0 &&
	      fx_only_err(&f, VDP_ERR_ZERO_LEN) && (fx_publish(&f), true),
	      "frames[%s]: mrg zero-length buffer in the middle skipped", L);
	CHECK(fx_get_used(&f, &zid, &zlen) == 1 && zid == (uint32_t)hz && zlen == 0,
	      "frames[%s]: mrg bad buffer first in the used ring, len 0", L);
	CHECK(guest_read_mrg(&f, seen, &got) == 4 && got == 1012 && memcmp(seen + 12, frame, 1000) == 0 &&
	      fx_left(&f) == 1, "frames[%s]: mrg frame buffers contiguous after it, one left", L);

	/* out of buffers after a bad chain: what came before it comes back empty */
	hz = fx_post(&f, &zb, 1, false);
	post_rx_map(&f, 256);
	fx_mark(&f);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &big, 1) == VDP_ERR_NO_RX_BUF &&
	      f.vr.err[VDP_ERR_NO_RX_BUF] == f.err0[VDP_ERR_NO_RX_BUF] + 1 &&
	      f.vr.err[VDP_ERR_ZERO_LEN] == f.err0[VDP_ERR_ZERO_LEN] + 1,
	      "frames[%s]: mrg bad chain then out of buffers -> zero_len and no_rx_buf, once each", L);
	fx_publish(&f);
	CHECK(fx_used_pending(&f) == 2 && fx_left(&f) == 1 && fx_none_held(&f),
	      "frames[%s]: mrg buffer before the bad one returned empty, the one after it kept", L);
	bool all0 = true;

	while (fx_get_used(&f, &zid, &zlen) == 1)
		all0 = all0 && zlen == 0;
	CHECK(all0, "frames[%s]: mrg those returned with len 0", L);

	/* out of buffers right after a bad chain: it must not come back twice */
	hz = fx_post(&f, &zb, 1, false);
	fx_mark(&f);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &big, 1) == VDP_ERR_NO_RX_BUF &&
	      f.vr.err[VDP_ERR_ZERO_LEN] == f.err0[VDP_ERR_ZERO_LEN] + 1 && (fx_publish(&f), true) &&
	      fx_used_pending(&f) == 2 && fx_left(&f) == 0 && fx_none_held(&f),
	      "frames[%s]: mrg good buffer, bad chain, then empty: both returned once, none left", L);
	while (fx_get_used(&f, &zid, &zlen) == 1)
		;
	CHECK(fx_in_sync(&f), "frames[%s]: mrg positions in sync", L);

	/* first buffer shorter than the header */
	post_rx_map(&f, 256);
	hs = post_rx_map(&f, 8);
	for (int i = 0; i < 4; i++)
		post_rx_map(&f, 512);
	src[0].len = 10;
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, src, 1) == 0 && (fx_publish(&f), true) &&
	      guest_read_mrg(&f, seen, &got) == 1 && got == 22, "frames[%s]: mrg small frame, 22 bytes", L);
	fx_mark(&f);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &big, 1) == 0 &&
	      fx_only_err(&f, VDP_ERR_SHORT_CHAIN) && (fx_publish(&f), true) &&
	      fx_get_used(&f, &zid, &zlen) == 1 && zid == (uint32_t)hs && zlen == 0,
	      "frames[%s]: mrg first buffer shorter than the header refused (short_chain), returned empty", L);
	CHECK(guest_read_mrg(&f, seen, &got) == 2 && got == 1012 && memcmp(seen + 12, frame, 1000) == 0,
	      "frames[%s]: mrg frame over 2 x 512", L);

	/* jumbo frame, several source pieces */
	for (int i = 0; i < 40; i++)
		post_rx_map(&f, 256);
	struct vdp_iov jsrc[4] = { { frame, 1 }, { frame + 1, 4000 }, { frame + 4001, 2999 },
				   { frame + 7000, 2000 } };

	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, jsrc, 4) == 0 && (fx_publish(&f), true) &&
	      guest_read_mrg(&f, seen, &got) == 2 + 32 && got == 9012 && memcmp(seen + 12, frame, 9000) == 0,
	      "frames[%s]: mrg 9000-byte frame: num_buffers 34, contents match", L);

	/* more buffers than one frame may take */
	struct vdp_iov huge = { frame, 9000 };
	uint32_t before;

	for (int i = 0; i < VDP_MRG_MAX_BUFS; i++)
		post_rx_map(&f, 16);
	before = fx_left(&f);
	fx_mark(&f);
	CHECK(before == 8 + VDP_MRG_MAX_BUFS &&
	      vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &huge, 1) == VDP_ERR_RX_TOO_SMALL &&
	      fx_only_err(&f, VDP_ERR_RX_TOO_SMALL) && fx_left(&f) == before && fx_none_held(&f) &&
	      (fx_publish(&f), true) && fx_used_pending(&f) == 0,
	      "frames[%s]: mrg frame needing > %u buffers -> rx_too_small, nothing consumed", L,
	      VDP_MRG_MAX_BUFS);
	CHECK(!f.vr.broken, "frames[%s]: ring not broken", L);
	CHECK(f.early == 0, "frames[%s]: mrg: nothing the guest's before the publish (%u times)",
	      L, f.early);
	fx_fini(&f);

	/* -- the burst budget -- */
	struct vdp_net_hdr zh = { 0 };
	uint8_t small[64] = { 0 };
	struct vdp_iov siov = { small, sizeof(small) };
	int r = 0;

	fx_init(&f, &o);
	for (int i = 0; i < 200; i++) {
		struct guest_buf sb = { guest_alloc(&f.m, 16, 8), 1 + i % 11, true };

		fx_post(&f, &sb, 1, false);
	}
	post_rx_map(&f, 256);
	vdp_vring_burst_begin(&f.vr);
	r = vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &zh, &siov, 1);
	CHECK(r == VDP_ERR_BURST_BUDGET && f.vr.err[VDP_ERR_SHORT_CHAIN] == VDP_BURST_BAD_MAX &&
	      f.vr.budget_stops == 1 && !f.vr.broken,
	      "frames[%s]: budget: 200 short RX buffers -> %u refused in one burst, frame dropped", L,
	      VDP_BURST_BAD_MAX);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &zh, &siov, 1) == VDP_ERR_BURST_BUDGET &&
	      f.vr.err[VDP_ERR_SHORT_CHAIN] == VDP_BURST_BAD_MAX && f.vr.budget_stops == 1,
	      "frames[%s]: budget: the rest of that burst refuses nothing more, counted once", L);
	for (int i = 0; i < 3; i++) {
		vdp_vring_burst_begin(&f.vr);
		r = vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &zh, &siov, 1);
	}
	CHECK(r == 0 && f.vr.err[VDP_ERR_SHORT_CHAIN] == 200 && f.vr.err[VDP_ERR_BURST_BUDGET] == 4 &&
	      f.vr.budget_stops == 3, "frames[%s]: budget: the fourth burst delivers the frame past all 200", L);
	vdp_vq_publish(&f.vr);
	uint32_t nret = 0;

	while (fx_get_used(&f, &zid, &zlen) == 1)
		nret++;
	CHECK(nret == 201 && fx_in_sync(&f) && fx_none_held(&f),
	      "frames[%s]: budget: 200 returned empty and the frame, in sync", L);
	fx_fini(&f);

	/* 800 frames into 20-buffer indirect chains in one burst: the
	 * host's own work is not the guest's */
	struct fx_opts o2 = { .split = split, .size = 1024, .indirect = true };

	fx_init(&f, &o2);
	{
		uint64_t buf = guest_alloc(&f.m, 20 * 128, 64);
		uint32_t ok = 0;

		for (uint32_t c2 = 0; c2 < 800; c2++) {
			struct guest_buf bufs[20];

			for (int i = 0; i < 20; i++)
				bufs[i] = (struct guest_buf){ buf + (uint64_t)i * 128, 128, true };
			fx_post(&f, bufs, 20, true);
		}
		fx_mark(&f);
		vdp_vring_burst_begin(&f.vr);
		for (uint32_t i = 0; i < 800; i++)
			if (vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &zh, &siov, 1) == 0)
				ok++;
		CHECK(ok == 800 && fx_only_err(&f, VDP_ERR_MAX) && f.vr.budget_stops == 0,
		      "frames[%s]: budget: 800 frames into 20-buffer chains in one burst: %u delivered",
		      L, ok);
	}
	fx_fini(&f);
}

/* ---- the burst budget on a packed ring ---- */

/*
 * vdp_vq_put_plain, on either layout: plain frames in two passes land as
 * the frame function would have put them one by one (header with
 * num_buffers 1, bytes, used lengths, order), and it stops, counting
 * nothing and leaving the buffer where it was, before a frame whose
 * buffer is missing, too short or in several segments (the frame
 * function then counts it as before); a refused chain in the middle is
 * returned empty once; a broken ring or dirty logging: nothing taken.
 */
static void
test_plain(bool split, bool batch)
{
	struct fx_opts o = { .split = split, .size = 8, .indirect = true, .mrg = true,
			     .batch = batch };
	const struct vdp_net_hdr h0 = { .num_buffers = 9 };
	const struct vdp_net_hdr hdv = { .flags = VDP_HDR_F_DATA_VALID, .num_buffers = 9 };
	static uint8_t frame[4][300];
	struct vdp_plain pf[4];
	struct vdp_iov iov;
	const char *L;
	struct fx f;
	int id[4], ok;

	fx_init(&f, &o);
	L = batch ? "packed, used_batch" : fx_name(&f);
	for (int i = 0; i < 4; i++) {
		fill_pattern(frame[i], sizeof(frame[i]), (uint32_t)(50 + i));
		pf[i] = (struct vdp_plain){ i == 1 ? &hdv : &h0, frame[i], (uint32_t)(60 + 70 * i) };
	}
	/* no buffer: nothing taken, nothing counted */
	fx_mark(&f);
	CHECK(vdp_vq_put_plain(&f.vr, &f.m.mm, pf, 4) == 0 && fx_only_err(&f, VDP_ERR_MAX) &&
	      fx_in_sync(&f), "plain[%s]: no buffer -> none put, nothing counted", L);

	/* rounds over a ring of 8: three frames, then the fourth has none */
	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < 3; i++) {
			id[i] = post_rx_map(&f, 256);
			memset(guest_ptr(&f.m, gpa_of[id[i]]), 0xee, 256);
		}
		fx_mark(&f);
		ok = vdp_vq_put_plain(&f.vr, &f.m.mm, pf, 4) == 3 && fx_only_err(&f, VDP_ERR_MAX);
		fx_publish(&f);
		for (int i = 0; i < 3 && ok; i++) {
			const uint8_t *p = guest_ptr(&f.m, gpa_of[id[i]]);
			struct vdp_net_hdr gh;

			memcpy(&gh, p, sizeof(gh));
			ok = guest_expect_used(&f, (uint32_t)id[i], 12 + pf[i].len) &&
			     gh.num_buffers == 1 && gh.flags == pf[i].hdr->flags &&
			     memcmp(p + 12, frame[i], pf[i].len) == 0 && p[12 + pf[i].len] == 0xee;
		}
		CHECK(ok && fx_in_sync(&f) && fx_none_held(&f) && !f.vr.broken,
		      "plain[%s]: round %d: 3 of 4 frames put in order, headers, bytes, lengths", L,
		      round);
	}

	/* too short, then several segments: stops there, buffer left */
	id[0] = post_rx_map(&f, 256);
	id[1] = post_rx_map(&f, 64);
	fx_mark(&f);
	ok = vdp_vq_put_plain(&f.vr, &f.m.mm, pf, 4) == 1 && fx_only_err(&f, VDP_ERR_MAX) &&
	     fx_left(&f) == 1;
	fx_publish(&f);
	CHECK(ok && guest_expect_used(&f, (uint32_t)id[0], 72) && fx_used_pending(&f) == 0,
	      "plain[%s]: a buffer too short for the next frame: stops before it, left", L);
	iov = (struct vdp_iov){ frame[1], pf[1].len };
	fx_mark(&f);
	CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdv, &iov, 1) == VDP_ERR_NO_RX_BUF &&
	      fx_only_err(&f, VDP_ERR_NO_RX_BUF) && fx_left(&f) == 1,
	      "plain[%s]: the frame function then counts it (mergeable: no second buffer)", L);
	fx_fini(&f);

	/* several segments; a refused chain between two good ones */
	fx_init(&f, &o);
	{
		struct guest_buf b[2], ro;
		int hm, hbad, hg;

		for (int i = 0; i < 2; i++)
			b[i] = (struct guest_buf){ guest_alloc(&f.m, 200, 8), 200, true };
		hm = fx_post(&f, b, 2, false);
		fx_mark(&f);
		CHECK(vdp_vq_put_plain(&f.vr, &f.m.mm, pf, 1) == 0 && fx_only_err(&f, VDP_ERR_MAX) &&
		      fx_left(&f) == (split ? 1u : 2u),
		      "plain[%s]: a buffer of two segments: none put, left", L);
		iov = (struct vdp_iov){ frame[0], pf[0].len };
		CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &h0, &iov, 1) == 0 &&
		      (fx_publish(&f), true) && guest_expect_used(&f, (uint32_t)hm, 72),
		      "plain[%s]: the frame function takes it", L);
		id[0] = post_rx_map(&f, 256);
		ro = (struct guest_buf){ guest_alloc(&f.m, 256, 8), 256, false };
		hbad = fx_post(&f, &ro, 1, false);
		hg = post_rx_map(&f, 256);
		fx_mark(&f);
		ok = vdp_vq_put_plain(&f.vr, &f.m.mm, pf, 3) == 2 && fx_only_err(&f, VDP_ERR_BAD_DESC);
		fx_publish(&f);
		/* the refused one was given back when met, before ours */
		CHECK(ok && guest_expect_used(&f, (uint32_t)hbad, 0) &&
		      guest_expect_used(&f, (uint32_t)id[0], 72) &&
		      guest_expect_used(&f, (uint32_t)hg, 142) && fx_in_sync(&f) && !f.vr.broken,
		      "plain[%s]: a refused chain between two: returned empty once, both put", L);
	}
	/* longer than VDP_PLAIN_LEN_MAX: not even fetched */
	id[0] = post_rx_map(&f, 4096);
	id[1] = post_rx_map(&f, 4096);
	{
		static uint8_t big[VDP_PLAIN_LEN_MAX + 1];
		struct vdp_plain pb[2] = { pf[0], { &h0, big, sizeof(big) } };

		ok = vdp_vq_put_plain(&f.vr, &f.m.mm, pb, 2) == 1 && fx_left(&f) == 1;
		fx_publish(&f);
		CHECK(ok && guest_expect_used(&f, (uint32_t)id[0], 72) && fx_used_pending(&f) == 0,
		      "plain[%s]: a frame of %u bytes stops the run before its fetch (a buffer "
		      "that holds it left)", L, VDP_PLAIN_LEN_MAX + 1);
		iov = (struct vdp_iov){ big, sizeof(big) };
		CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &h0, &iov, 1) == 0 &&
		      (fx_publish(&f), true) && guest_expect_used(&f, (uint32_t)id[1], 12 + sizeof(big)),
		      "plain[%s]: the frame function puts it", L);
	}
	/* dirty logging, then a broken ring: nothing taken */
	id[0] = post_rx_map(&f, 256);
	f.vr.log = true;
	CHECK(vdp_vq_put_plain(&f.vr, &f.m.mm, pf, 1) == 0 && fx_left(&f) == 1,
	      "plain[%s]: dirty logging on: none put", L);
	f.vr.log = false;
	f.vr.broken = true;
	CHECK(vdp_vq_put_plain(&f.vr, &f.m.mm, pf, 1) == 0 && fx_left(&f) == 1,
	      "plain[%s]: broken ring: none put", L);
	f.vr.broken = false;
	CHECK(f.early == 0, "plain[%s]: nothing the guest's before the publish (%u times)", L,
	      f.early);
	fx_fini(&f);
}

/* ---- four chains taken at once ---- */

/* One raw one-slot chain at the guest's next slot (published). */
static int
post_one(struct fx *f, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
	const struct vdp_pdesc d = { addr, len, id, flags };

	return guest_packed_post_desc(&f->g, &d, 1, true);
}

/* n good one-slot TX chains, ids 0.., 100-byte buffers. */
static void
post_good(struct fx *f, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		post_one(f, guest_tx_buf(f, 100, i), 100, i, 0);
}

/* Four good one-slot TX chains (ids id0.., 100-byte buffers). */
static void
post_four(struct fx *f, uint16_t id0, uint64_t *gpa)
{
	for (uint16_t i = 0; i < 4; i++) {
		gpa[i] = guest_tx_buf(f, 100, i);
		post_one(f, gpa[i], 100, (uint16_t)(id0 + i), 0);
	}
}

/* take_n took nothing and changed nothing (position, ids, budget, no
 * last id: nothing was taken before in these cases). */
static bool
took_nothing(struct fx *f, uint16_t pos, uint32_t budget)
{
	return f->vr.last_avail == pos && f->vr.budget_desc == budget && fx_none_held(f) &&
	       !f->vr.broken && !f->vr.last_id_ok;
}

/*
 * vdp_packed_take_n: four one-slot chains taken at once exactly as four
 * single takes take them (ids held, position, budget, last_id); nothing
 * read but flags and nothing changed when the four are not all available
 * in our phase, not all one-slot buffers of the direction asked for,
 * would run past the ring's end, or the ring is stopped or short of
 * budget; taken up to the first it would not take (an id out of range or
 * taken in the same batch, a buffer outside memory, a length the single
 * take refuses), that one left to vdp_vq_fetch, which says what it is.
 * And vdp_vq_put_plain's use of it: a buffer too short for its frame in
 * the middle of four stops there, the budget as with single takes.
 */
static void
test_take_n(void)
{
	struct fx_opts o = { .size = 16 };
	struct vdp_take t[VDP_TAKE_N];
	struct vdp_chain c;
	uint64_t gpa[4];
	uint32_t b0;
	struct fx f;
	bool ok;

	/* four good ones */
	fx_init(&f, &o);
	post_four(&f, 3, gpa);
	b0 = f.vr.budget_desc;
	ok = vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 4;
	for (uint16_t i = 0; i < 4 && ok; i++) {
		uint64_t l = 100;   /* the device's mapping of the buffer */

		ok = t[i].id == 3 + i && t[i].ndesc == 1 && t[i].len == 100 &&
		     t[i].hva == vdp_gpa_to_hva(&f.m.mm, gpa[i], &l) &&
		     fx_held(&f, (uint16_t)(3 + i));
	}
	CHECK(ok && f.vr.last_avail == 4 && f.vr.avail_wrap && f.vr.budget_desc == b0 - 4 &&
	      f.vr.last_id_ok && f.vr.last_id == 6 && fx_left(&f) == 0,
	      "take_n: four one-slot chains: ids, buffers, held, position, budget, last id");
	for (uint16_t i = 0; i < 4; i++)
		vdp_vq_used_put(&f.vr, t[i].id, 1, 0);
	fx_publish(&f);
	ok = true;
	for (uint16_t i = 0; i < 4 && ok; i++)
		ok = guest_expect_used(&f, 3u + i, 0);
	CHECK(ok && fx_in_sync(&f) && fx_none_held(&f), "take_n: given back, in order");
	fx_fini(&f);

	/* three available: nothing; the fourth a chain of two: nothing */
	fx_init(&f, &o);
	post_good(&f, 3);
	b0 = f.vr.budget_desc;
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 0 && took_nothing(&f, 0, b0),
	      "take_n: three of four available: none taken");
	{
		struct vdp_pdesc d[2];

		raw_descs(&f, d, 2, 9, false);
		d[0].len = d[1].len = 64;
		guest_packed_post_desc(&f.g, d, 2, true);
	}
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 0 && took_nothing(&f, 0, b0),
	      "take_n: the fourth with NEXT: none taken");
	ok = true;
	for (int i = 0; i < 4 && ok; i++)
		ok = vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK;
	CHECK(ok && c.id == 9 && c.ndesc == 2 && fx_left(&f) == 0,
	      "take_n: the single takes take them");
	fx_fini(&f);

	/* the direction, the phase */
	fx_init(&f, &o);
	for (uint16_t i = 0; i < 4; i++)
		post_one(&f, guest_tx_buf(&f, 100, i), 100, i, i == 2 ? VDP_DESC_F_WRITE : 0);
	b0 = f.vr.budget_desc;
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 0 && took_nothing(&f, 0, b0),
	      "take_n: a device-writable buffer among TX ones: none taken");
	fx_fini(&f);
	fx_init(&f, &o);
	for (uint16_t i = 0; i < 4; i++)
		post_one(&f, guest_tx_buf(&f, 100, i), 100, i, VDP_DESC_F_WRITE);
	b0 = f.vr.budget_desc;
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 0 && took_nothing(&f, 0, b0) &&
	      vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_WRITE, t) == 4,
	      "take_n: RX buffers: not for a TX take, all four for an RX one");
	fx_fini(&f);
	fx_init(&f, &o);
	post_good(&f, 3);
	guest_packed_set_desc(&f.g, 3, guest_tx_buf(&f, 100, 3), 100, 3,
			      guest_packed_avail_bits(!f.g.avail_wrap));
	b0 = f.vr.budget_desc;
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 0 && took_nothing(&f, 0, b0),
	      "take_n: the fourth available in the other phase: none taken");
	fx_fini(&f);
	/* phase 0: a slot the device used in the lap before (AVAIL and USED
	 * both set) is not available: both bits are tested, not USED alone */
	o.phase0 = true;
	fx_init(&f, &o);
	post_good(&f, 3);
	guest_packed_set_desc(&f.g, 3, guest_tx_buf(&f, 100, 3), 100, 3,
			      guest_packed_used_bits(true));
	b0 = f.vr.budget_desc;
	CHECK(!f.vr.avail_wrap && vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 0 &&
	      took_nothing(&f, 0, b0),
	      "take_n: phase 0, the fourth a used slot of the lap before: none taken");
	fx_fini(&f);
	o.phase0 = false;

	/* past the ring's end: nothing; the single takes go round */
	o.start = 14;
	fx_init(&f, &o);
	post_four(&f, 0, gpa);
	b0 = f.vr.budget_desc;
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 0 && took_nothing(&f, 14, b0),
	      "take_n: four slots across the ring's end: none taken");
	ok = true;
	for (int i = 0; i < 4 && ok; i++)
		ok = vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == i;
	CHECK(ok && f.vr.last_avail == 2 && !f.vr.avail_wrap, "take_n: the single takes wrap");
	fx_fini(&f);
	/* up to the ring's end exactly: taken, the wrap counter flips */
	o.start = 12;
	fx_init(&f, &o);
	post_four(&f, 0, gpa);
	ok = vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 4 && f.vr.last_avail == 0 &&
	     !f.vr.avail_wrap && f.vr.last_id == 3 && f.vr.last_id_ok;
	for (uint16_t i = 0; i < 4; i++)
		vdp_vq_used_put(&f.vr, t[i].id, 1, 0);
	fx_publish(&f);
	for (uint16_t i = 0; i < 4 && ok; i++)
		ok = guest_expect_used(&f, i, 0);
	CHECK(ok && fx_in_sync(&f) && fx_none_held(&f),
	      "take_n: slots 12-15 of 16: taken, position 0 of the next lap, given back");
	fx_fini(&f);
	o.start = 0;
	/* rings of 4 (the whole ring at once) and of 2 (never) */
	o.size = 4;
	fx_init(&f, &o);
	post_four(&f, 0, gpa);
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 4 && f.vr.last_avail == 0 &&
	      !f.vr.avail_wrap && fx_held(&f, 3), "take_n: a ring of 4: all of it");
	fx_fini(&f);
	o.size = 2;
	fx_init(&f, &o);
	post_good(&f, 2);
	b0 = f.vr.budget_desc;
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 0 && took_nothing(&f, 0, b0),
	      "take_n: a ring of 2: none taken (nothing read past its end)");
	fx_fini(&f);
	o.size = 16;

	/* stopped, short of budget */
	fx_init(&f, &o);
	post_four(&f, 0, gpa);
	f.vr.budget_desc = 3;
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 0 && took_nothing(&f, 0, 3),
	      "take_n: a budget of 3 descriptors: none taken");
	vdp_vring_burst_begin(&f.vr);
	f.vr.budget_bad = 0;
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 0 &&
	      took_nothing(&f, 0, VDP_BURST_DESC_MAX),
	      "take_n: no refusal left in the budget: none taken");
	vdp_vring_burst_begin(&f.vr);
	f.vr.broken = true;
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 0 &&
	      f.vr.last_avail == 0 && fx_none_held(&f), "take_n: a broken ring: none taken");
	fx_fini(&f);

	/* an id out of range third: two taken, the single take breaks the ring */
	fx_init(&f, &o);
	for (uint16_t i = 0; i < 4; i++)
		post_one(&f, guest_tx_buf(&f, 100, i), 100, i == 2 ? 16 : i, 0);
	fx_mark(&f);
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 2 && f.vr.last_avail == 2 &&
	      f.vr.last_id == 1 && f.vr.last_id_ok && fx_only_err(&f, VDP_ERR_MAX) &&
	      vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_BROKEN &&
	      fx_only_err(&f, VDP_ERR_BAD_ID),
	      "take_n: id 16 of a ring of 16 third: two taken, then the ring breaks on it");
	fx_fini(&f);

	/* an id taken in the same batch */
	fx_init(&f, &o);
	for (uint16_t i = 0; i < 4; i++)
		post_one(&f, guest_tx_buf(&f, 100, i), 100, (const uint16_t[]){ 5, 6, 5, 7 }[i], 0);
	fx_mark(&f);
	CHECK(vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 2 &&
	      fx_only_err(&f, VDP_ERR_MAX) &&
	      vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_BROKEN &&
	      fx_only_err(&f, VDP_ERR_BAD_ID) && fx_held(&f, 5) && fx_held(&f, 6) &&
	      !fx_held(&f, 7),
	      "take_n: ids 5 6 5 7: two taken, the ring breaks on the second 5");
	fx_fini(&f);

	/* outside memory second: one taken, a bad chain, given back */
	fx_init(&f, &o);
	post_one(&f, guest_tx_buf(&f, 100, 0), 100, 0, 0);
	post_one(&f, fx_mem_end(&f), 100, 1, 0);
	post_one(&f, guest_tx_buf(&f, 100, 2), 100, 2, 0);
	post_one(&f, guest_tx_buf(&f, 100, 3), 100, 3, 0);
	fx_mark(&f);
	ok = vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 1 && t[0].id == 0 &&
	     fx_only_err(&f, VDP_ERR_MAX) &&
	     vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_BAD &&
	     fx_only_err(&f, VDP_ERR_BAD_ADDR) && !f.vr.broken;
	CHECK(ok, "take_n: a buffer outside memory second: one taken, the single take refuses it");
	fx_fini(&f);
	/* too short for the header third (4 bytes under 12) */
	fx_init(&f, &o);
	for (uint16_t i = 0; i < 4; i++)
		post_one(&f, guest_tx_buf(&f, 100, i), i == 2 ? 4 : 100, i, 0);
	fx_mark(&f);
	ok = vdp_packed_take_n(&f.vr, &f.m.mm, VDP_DIR_READ, t) == 2 && f.vr.last_id == 1 &&
	     f.vr.last_id_ok && fx_only_err(&f, VDP_ERR_MAX) &&
	     vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_BAD &&
	     fx_only_err(&f, VDP_ERR_SHORT_CHAIN) && !f.vr.broken &&
	     vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == 3;
	CHECK(ok, "take_n: a 4-byte TX buffer third: two taken, the single take refuses it");
	fx_fini(&f);

	/* vdp_vq_put_plain: the third of four buffers too short */
	fx_init(&f, &o);
	{
		static uint8_t frame[200];
		const struct vdp_net_hdr h0 = { 0 };
		struct vdp_plain pf[4];
		int id[4];

		for (int i = 0; i < 4; i++) {
			pf[i] = (struct vdp_plain){ &h0, frame, sizeof(frame) };
			id[i] = post_rx_map(&f, i == 2 ? 64 : 256);
		}
		vdp_vring_burst_begin(&f.vr);
		b0 = f.vr.budget_desc;
		fx_mark(&f);
		ok = vdp_vq_put_plain(&f.vr, &f.m.mm, pf, 4) == 2 && fx_only_err(&f, VDP_ERR_MAX) &&
		     fx_left(&f) == 2 && f.vr.grant_held &&
		     f.vr.budget_desc == b0 + 2 * (VDP_FRAME_DESC_GRANT - 1) + VDP_FRAME_DESC_GRANT;
		fx_publish(&f);
		CHECK(ok && guest_expect_used(&f, (uint32_t)id[0], 212) &&
		      guest_expect_used(&f, (uint32_t)id[1], 212) && fx_used_pending(&f) == 0 &&
		      !fx_held(&f, (uint16_t)id[2]) && !fx_held(&f, (uint16_t)id[3]),
		      "take_n: put_plain, the third buffer too short: two put, two left, the "
		      "budget as with single takes (%u over %u)", f.vr.budget_desc, b0);
	}
	fx_fini(&f);
}

/* The direct path's loop (vdp_peer_frames_l) on two packed rings: the
 * owner's answers and what it was told. */
static struct {
	unsigned int noffload, nmoved, ndropped, nhold, nhold_tried;
	uint16_t offload_id;
	bool hold;   /* hold()'s answer */
	bool copy;   /* offload()'s answer: COPY (else DROP) */
} peer_t;

static enum vdp_peer_how
peer_t_offload(void *ctx, const struct vdp_chain *c, const struct vdp_net_hdr *vh,
	       uint32_t len, struct vdp_net_hdr *oh, uint8_t *hb, uint32_t *pre)
{
	(void)ctx;
	(void)vh;
	(void)len;
	(void)oh;
	(void)hb;
	(void)pre;
	peer_t.noffload++;
	peer_t.offload_id = c->id;
	if (!peer_t.copy)
		return VDP_PEER_DROP;
	*oh = *vh;   /* the request passed on as it came */
	return VDP_PEER_COPY;
}

static int
peer_t_slow(void *ctx, const struct vdp_chain *c, const struct vdp_net_hdr *vh, uint32_t len)
{
	(void)ctx;
	(void)c;
	(void)vh;
	(void)len;
	return -1;
}

static void
peer_t_learn(void *ctx, const uint8_t *eth)
{
	(void)ctx;
	(void)eth;
}

static void
peer_t_moved(void *ctx, uint32_t len, int ret)
{
	(void)ctx;
	(void)len;
	if (ret == 0)
		peer_t.nmoved++;
	else if (ret > 0)
		peer_t.ndropped++;
}

static bool
peer_t_hold(void *ctx, bool tried)
{
	(void)ctx;
	peer_t.nhold++;
	peer_t.nhold_tried += tried;
	return peer_t.hold;
}

static void
peer_t_none(void *ctx)
{
	(void)ctx;
}

static const struct vdp_peer_ops peer_t_ops = {
	.offload = peer_t_offload, .slow = peer_t_slow, .learn = peer_t_learn,
	.moved = peer_t_moved, .seen = peer_t_none, .no_slow = peer_t_none,
	.hold = peer_t_hold,
};

/*
 * The direct path's first pass with the take of four, a chain asking for
 * offload work third of eight: the two before it delivered, it moved on
 * its own (dropped by the owner here), the five after it delivered, all
 * in order, byte for byte; every chain of the sender given back once, in
 * order; the sender's budget charged exactly as single takes charge it
 * (the third chain read twice: given back when met after kept ones,
 * taken again on its own; those the four took after it not charged).
 */
static void
test_peer_take_n(void)
{
	const struct fx_opts oa = { .size = 16 }, ob = { .size = 16, .mrg = true };
	static uint8_t frames[8][60];
	struct vdp_chain *c = malloc(sizeof(*c));
	struct fx fa, fb;
	int rid[8], nb;
	bool ok = true;

	if (c == NULL)
		exit(2);
	fx_init(&fa, &oa);
	for (uint16_t i = 0; i < 8; i++) {
		const struct vdp_net_hdr h = { .flags = i == 2 ? VDP_HDR_F_NEEDS_CSUM : 0 };
		uint64_t gpa = guest_tx_buf(&fa, 12 + sizeof(frames[i]), 40u + i);

		memcpy(guest_ptr(&fa.m, gpa), &h, 12);
		memcpy(frames[i], (uint8_t *)guest_ptr(&fa.m, gpa) + 12, sizeof(frames[i]));
		post_one(&fa, gpa, 12 + sizeof(frames[i]), i, 0);
	}
	fx_init(&fb, &ob);
	for (int i = 0; i < 8; i++)
		rid[i] = post_rx_map(&fb, 256);
	memset(&peer_t, 0, sizeof(peer_t));
	vdp_vring_burst_begin(&fa.vr);
	vdp_vring_burst_begin(&fb.vr);
	nb = vdp_peer_frames_l(&fa.vr, &fa.m.mm, c, &fb.vr, &fb.m.mm, vdp_vq_frame_fn(&fb.vr), 16,
			       VDP_LAYOUT_PACKED, &peer_t_ops, NULL);
	CHECK(nb == 7 && peer_t.noffload == 1 && peer_t.offload_id == 2 && peer_t.nmoved == 7 &&
	      fa.vr.budget_desc == VDP_BURST_DESC_MAX - 9 && !fa.vr.broken && !fb.vr.broken,
	      "peer take_n: 7 frames delivered, chain 2 to the owner once, the sender charged "
	      "9 descriptors (%u)", VDP_BURST_DESC_MAX - fa.vr.budget_desc);
	fx_publish(&fa);
	fx_publish(&fb);
	for (uint32_t i = 0; i < 8 && ok; i++)
		ok = guest_expect_used(&fa, i, 0);
	CHECK(ok && fx_in_sync(&fa) && fx_none_held(&fa),
	      "peer take_n: the sender's chains given back once, in order");
	for (int i = 0, j = 0; i < 8 && ok; i++) {
		const uint8_t *p;

		if (i == 2)
			continue;
		p = guest_ptr(&fb.m, gpa_of[rid[j]]);
		ok = guest_expect_used(&fb, (uint32_t)rid[j], 12 + sizeof(frames[i])) &&
		     memcmp(p + 12, frames[i], sizeof(frames[i])) == 0;
		j++;
	}
	CHECK(ok && fx_used_pending(&fb) == 0 && fx_held(&fb, (uint16_t)rid[7]) == false,
	      "peer take_n: the receiver got frames 0 1 3 4 5 6 7 in order, byte for byte");
	fx_fini(&fb);
	fx_fini(&fa);
	free(c);
}

/* One burst of the direct path from fa to fb (max 16 chains). */
static int
peer_t_burst(struct fx *fa, struct fx *fb, struct vdp_chain *c)
{
	const enum vdp_layout l = fa->split ? VDP_LAYOUT_SPLIT : VDP_LAYOUT_PACKED;
	int nb;

	vdp_vring_burst_begin(&fa->vr);
	vdp_vring_burst_begin(&fb->vr);
	nb = l == VDP_LAYOUT_PACKED ?
	     vdp_peer_frames_l(&fa->vr, &fa->m.mm, c, &fb->vr, &fb->m.mm, vdp_vq_frame_fn(&fb->vr),
			       16, VDP_LAYOUT_PACKED, &peer_t_ops, NULL) :
	     vdp_peer_frames_l(&fa->vr, &fa->m.mm, c, &fb->vr, &fb->m.mm, vdp_vq_frame_fn(&fb->vr),
			       16, VDP_LAYOUT_SPLIT, &peer_t_ops, NULL);
	fx_publish(fa);
	fx_publish(fb);
	return nb;
}

/* A TX frame of len bytes (virtio-net header h, then a pattern) posted on
 * f, or a chain outside guest memory when bad; its gpa. */
static uint64_t
peer_t_post_tx(struct fx *f, uint32_t len, const struct vdp_net_hdr *h, uint32_t seed, bool bad)
{
	struct guest_buf gb = { bad ? 0x7fff00000000ull : guest_tx_buf(f, len, seed), len, false };

	if (!bad)
		memcpy(guest_ptr(&f->m, gb.gpa), h, 12);
	fx_post(f, &gb, 1, false);
	return gb.gpa;
}

/* The receiver fb (ob) set up with nbufs 256-byte buffers (their ids in
 * rid[], when given), the owner's answers set (hold(), offload() COPY or
 * DROP) and its counts reset, one burst from fa. */
static int
peer_t_first(struct fx *fa, struct fx *fb, const struct fx_opts *ob, int nbufs, int *rid,
	     bool hold, bool copy, struct vdp_chain *c)
{
	fx_init(fb, ob);
	for (int i = 0; i < nbufs; i++) {
		int id = post_rx_map(fb, 256);

		if (rid != NULL)
			rid[i] = id;
	}
	memset(&peer_t, 0, sizeof(peer_t));
	peer_t.hold = hold;
	peer_t.copy = copy;
	return peer_t_burst(fa, fb, c);
}

/*
 * The direct path at a receiver without buffers, each layout to each. The
 * sender has 8 plain frames (the second pass of four takes on packed),
 * the receiver 3 buffers. hold() says yes: 3 delivered, the 5 others
 * given back to the sender's ring untouched (its take position after the
 * third, no id held), and once the receiver posts 5 more they arrive, in
 * order, byte for byte; nothing dropped. hold() says no: the 5 are
 * dropped (counted by the receiver's frame function), the sender gets
 * all 8 back. A chain asking for offload work (moved on its own) is held
 * likewise before the owner is asked about it. hold() is asked only when
 * the receiver shows nothing. A chain the walker refuses in the pass
 * (given back at once) splits it: only the chains after it go back to the
 * ring, the one before it that found no buffer is dropped, counted.
 * A frame that needs more mergeable buffers than the receiver has (not
 * empty) waits likewise, plain or asking for offload work (then hold()
 * is told so); told no, it is dropped and counted once.
 */
static void
test_peer_hold(void)
{
	static uint8_t frames[8][60];
	struct vdp_chain *c = malloc(sizeof(*c));

	if (c == NULL)
		exit(2);
	static const char *const lns[4] = {
		"split to split", "packed to split", "split to packed", "packed to packed"
	};

	for (int layout = 0; layout < 4; layout++) {
		/* the sender's layout and the receiver's */
		const bool split = !(layout & 1), bsplit = !(layout & 2);
		const char *ln = lns[layout];

		for (int yes = 0; yes < 2; yes++) {
			const struct fx_opts oa = { .split = split, .size = 16 },
					     ob = { .split = bsplit, .size = 16, .mrg = true };
			struct fx fa, fb;
			int rid[8], nb;
			bool ok = true;

			fx_init(&fa, &oa);
			for (uint32_t i = 0; i < 8; i++) {
				const struct vdp_net_hdr h = { 0 };
				const uint64_t gpa = peer_t_post_tx(&fa, 12 + sizeof(frames[i]), &h,
								    60u + i, false);

				memcpy(frames[i], (uint8_t *)guest_ptr(&fa.m, gpa) + 12,
				       sizeof(frames[i]));
			}
			nb = peer_t_first(&fa, &fb, &ob, 3, rid, yes, false, c);
			if (yes) {
				CHECK(nb == 3 && peer_t.nmoved == 3 && peer_t.ndropped == 0 &&
				      peer_t.nhold == 1 && fx_left(&fa) == 5 && fx_none_held(&fa) &&
				      !fa.vr.broken && !fb.vr.broken,
				      "peer hold (%s): 3 delivered, 5 left in the sender's ring "
				      "(nb %d, left %u, asked %u)", ln, nb, fx_left(&fa), peer_t.nhold);
				/* nothing posted yet: held again, nothing taken */
				nb = peer_t_burst(&fa, &fb, c);
				CHECK(nb == 0 && peer_t.nhold == 2 && fx_left(&fa) == 5,
				      "peer hold (%s): still no buffer: nothing taken", ln);
				for (int i = 3; i < 8; i++)
					rid[i] = post_rx_map(&fb, 256);
				nb = peer_t_burst(&fa, &fb, c);
				CHECK(nb == 5 && peer_t.nmoved == 8 && peer_t.nhold == 2 &&
				      fx_left(&fa) == 0,
				      "peer hold (%s): the 5 delivered once buffers came (nb %d)",
				      ln, nb);
			} else {
				/* asked when the pass came up short, then for each
				 * frame that found no buffer */
				CHECK(nb == 8 && peer_t.nmoved == 3 && peer_t.ndropped == 5 &&
				      peer_t.nhold == 6 && fx_left(&fa) == 0 &&
				      fb.vr.err[VDP_ERR_NO_RX_BUF] == 5,
				      "peer hold (%s), told no: 3 delivered, 5 dropped and counted "
				      "(nb %d, dropped %u)", ln, nb, peer_t.ndropped);
			}
			for (uint32_t i = 0; i < 8 && ok; i++)
				ok = guest_expect_used(&fa, i, 0);
			CHECK(ok && fx_in_sync(&fa) && fx_none_held(&fa),
			      "peer hold (%s, %s): the sender's chains given back once, in order",
			      ln, yes ? "yes" : "no");
			for (int i = 0; i < (yes ? 8 : 3) && ok; i++) {
				const uint8_t *p = guest_ptr(&fb.m, gpa_of[rid[i]]);

				ok = guest_expect_used(&fb, (uint32_t)rid[i], 12 + sizeof(frames[i])) &&
				     memcmp(p + 12, frames[i], sizeof(frames[i])) == 0;
			}
			CHECK(ok && fx_used_pending(&fb) == 0,
			      "peer hold (%s, %s): the receiver got its frames in order, byte for "
			      "byte", ln, yes ? "yes" : "no");
			fx_fini(&fb);
			fx_fini(&fa);
		}

		/* the chain moved on its own: a plain frame, then one asking
		 * for a checksum, one receive buffer */
		{
			const struct fx_opts oa = { .split = split, .size = 16 },
					     ob = { .split = bsplit, .size = 16, .mrg = true };
			struct fx fa, fb;
			int nb;

			fx_init(&fa, &oa);
			for (uint32_t i = 0; i < 2; i++) {
				const struct vdp_net_hdr h = { .flags = i == 1 ? VDP_HDR_F_NEEDS_CSUM : 0,
							       .csum_offset = 16 };

				peer_t_post_tx(&fa, 72, &h, 80u + i, false);
			}
			nb = peer_t_first(&fa, &fb, &ob, 1, NULL, true, false, c);
			CHECK(nb == 1 && peer_t.nmoved == 1 && peer_t.noffload == 0 &&
			      peer_t.nhold == 1 && fx_left(&fa) == 1 && fx_none_held(&fa) &&
			      guest_expect_used(&fa, 0, 0),
			      "peer hold (%s): the odd chain left in the sender's ring, the owner "
			      "not asked about it (nb %d, offload %u)", ln, nb, peer_t.noffload);
			post_rx_map(&fb, 256);
			nb = peer_t_burst(&fa, &fb, c);
			/* the owner drops it (not counted as handed on) */
			CHECK(nb == 0 && peer_t.noffload == 1 && fx_left(&fa) == 0 &&
			      guest_expect_used(&fa, 1, 0) && fx_in_sync(&fa),
			      "peer hold (%s): the odd chain taken once a buffer came", ln);
			fx_fini(&fb);
			fx_fini(&fa);
		}

		/* t0 t1 BAD t2 t3, one receive buffer: t0 delivered, t1
		 * dropped, t2 t3 back in the ring (the refused chain between
		 * them was given back at once: those before it cannot follow) */
		{
			const struct fx_opts oa = { .split = split, .size = 16 },
					     ob = { .split = bsplit, .size = 16, .mrg = true };
			uint32_t seen = 0, id, len, got = 0;
			struct fx fa, fb;
			int nb;

			fx_init(&fa, &oa);
			for (uint32_t i = 0; i < 5; i++) {
				const struct vdp_net_hdr h = { 0 };

				/* the third outside guest memory */
				peer_t_post_tx(&fa, 72, &h, 90u + i, i == 2);
			}
			nb = peer_t_first(&fa, &fb, &ob, 1, NULL, true, false, c);
			CHECK(nb == 2 && peer_t.nmoved == 1 && peer_t.ndropped == 1 &&
			      peer_t.nhold == 1 && fx_left(&fa) == 2 && fx_none_held(&fa) &&
			      fa.vr.err[VDP_ERR_BAD_ADDR] == 1 && fb.vr.err[VDP_ERR_NO_RX_BUF] == 1,
			      "peer hold (%s): a refused chain in the pass: t0 delivered, t1 dropped, "
			      "t2 t3 left (nb %d, left %u)", ln, nb, fx_left(&fa));
			post_rx_map(&fb, 256);
			post_rx_map(&fb, 256);
			nb = peer_t_burst(&fa, &fb, c);
			while (fx_get_used(&fa, &id, &len) == 1 && got < 8) {
				seen |= 1u << (id % 32);
				got++;
			}
			CHECK(nb == 2 && peer_t.nmoved == 3 && fx_left(&fa) == 0 && fx_in_sync(&fa) &&
			      fx_none_held(&fa) && got == 5 && seen == 0x1f,
			      "peer hold (%s): then t2 t3 delivered; the sender's 5 chains each given "
			      "back once (%u used, ids 0x%x)", ln, got, seen);
			fx_fini(&fb);
			fx_fini(&fa);
		}

		/* a 60-byte frame, then a 600-byte one (plain, or asking for a
		 * checksum: offload() says COPY), two 256-byte buffers: the
		 * second needs three */
		for (int v = 0; v < 3; v++) {
			const bool csum = v == 1, yes = v != 2;
			const struct fx_opts oa = { .split = split, .size = 16 },
					     ob = { .split = bsplit, .size = 16, .mrg = true };
			static uint8_t big[600];
			uint32_t glen = 0;
			struct fx fa, fb;
			int nb;

			fx_init(&fa, &oa);
			for (uint32_t i = 0; i < 2; i++) {
				const struct vdp_net_hdr h = {
					.flags = i == 1 && csum ? VDP_HDR_F_NEEDS_CSUM : 0,
					.csum_start = 14, .csum_offset = 16 };
				const uint64_t gpa = peer_t_post_tx(&fa, i == 0 ? 72 : 12 + sizeof(big),
								    &h, 100u + i, false);

				if (i == 1)
					memcpy(big, (uint8_t *)guest_ptr(&fa.m, gpa) + 12, sizeof(big));
			}
			nb = peer_t_first(&fa, &fb, &ob, 2, NULL, yes, true, c);
			if (!yes) {
				CHECK(nb == 2 && peer_t.nmoved == 1 && peer_t.ndropped == 1 &&
				      peer_t.nhold == 1 && fx_left(&fa) == 0 &&
				      fb.vr.err[VDP_ERR_NO_RX_BUF] == 1,
				      "peer hold (%s), told no: the frame too big for what the "
				      "receiver has dropped, counted once", ln);
				fx_fini(&fb);
				fx_fini(&fa);
				continue;
			}
			CHECK(nb == 1 && peer_t.nmoved == 1 && peer_t.nhold == 1 &&
			      peer_t.nhold_tried == 1 &&
			      peer_t.noffload == (csum ? 1u : 0u) && fx_left(&fa) == 1 &&
			      fx_none_held(&fa) && fb.vr.err[VDP_ERR_NO_RX_BUF] == 0 &&
			      fx_left(&fb) == 1 && fx_none_held(&fb) && fx_used_pending(&fb) == 1,
			      "peer hold (%s%s): a frame needing 3 buffers of the 1 left waits, "
			      "uncounted (nb %d, asked %u)", ln, csum ? ", checksum" : "", nb,
			      peer_t.nhold);
			for (int i = 0; i < 3; i++)
				post_rx_map(&fb, 256);
			nb = peer_t_burst(&fa, &fb, c);
			{
				static uint8_t out[2048];
				struct vdp_net_hdr gh;

				const bool u0 = guest_expect_used(&fb, 0, 72);
				const int nbu = guest_read_mrg(&fb, out, &glen);
				const bool back = guest_expect_used(&fa, 0, 0) &&
						  guest_expect_used(&fa, 1, 0);

				CHECK(nb == 1 && peer_t.nmoved == 2 && fx_left(&fa) == 0 && back &&
				      fx_in_sync(&fa) && fx_none_held(&fa) &&
				      peer_t.noffload == (csum ? 2u : 0u) &&
				      u0 && nbu == 3 &&
				      glen == 12 + sizeof(big) && memcmp(out + 12, big, sizeof(big)) == 0,
				      "peer hold (%s%s): then delivered in 3 buffers, byte for byte "
				      "(%u bytes)", ln, csum ? ", checksum" : "", glen);
				memcpy(&gh, out, sizeof(gh) < 12 ? sizeof(gh) : 12);
				CHECK(!csum || gh.flags == VDP_HDR_F_NEEDS_CSUM,
				      "peer hold (%s): the checksum request passed on", ln);
				CHECK(fx_left(&fb) == 1 && fx_none_held(&fb) && fx_used_pending(&fb) == 0 &&
				      fb.vr.err[VDP_ERR_NO_RX_BUF] == 0,
				      "peer hold (%s): the receiver's ring exact: 4 buffers used, 1 left, "
				      "none held, nothing counted dropped", ln);
			}
			fx_fini(&fb);
			fx_fini(&fa);
		}
	}
	free(c);
}

static void
test_budget(void)
{
	struct fx_opts o = { .size = 256, .indirect = true };
	static struct vdp_pdesc d[VDP_RING_SIZE_MAX];
	struct guest_buf bufs[100];
	struct vdp_chain c;
	uint32_t bad, reads;
	struct fx f;
	int id, r = 0;

	/* not taken in part: a 100-slot chain with 99 descriptors left */
	fx_init(&f, &o);
	for (int i = 0; i < 100; i++)
		bufs[i] = (struct guest_buf){ guest_alloc(&f.m, 64, 8), 64, false };
	id = guest_packed_post(&f.g, bufs, 100, false, true);
	vdp_vring_burst_begin(&f.vr);
	f.vr.budget_desc = 99;
	fx_mark(&f);
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_LIMIT &&
	      f.vr.last_avail == 0 && f.vr.budget_stops == 1 && fx_only_err(&f, VDP_ERR_MAX) &&
	      fx_none_held(&f) && f.vr.budget_desc == 0,
	      "budget: a 100-slot chain with 99 left -> limit, nothing consumed or counted");
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_LIMIT &&
	      f.vr.budget_stops == 1, "budget: limit again in that burst, counted once");
	vdp_vring_burst_begin(&f.vr);
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == id &&
	      c.nseg == 100 && f.vr.budget_desc == VDP_BURST_DESC_MAX - 100,
	      "budget: next burst takes it whole, 100 descriptors charged");
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	guest_packed_get_used(&f.g, (uint32_t[1]){ 0 }, (uint32_t[1]){ 0 });

	/* refused chains: at most VDP_BURST_BAD_MAX per burst */
	for (int i = 0; i < 70; i++) {
		raw_descs(&f, d, 1, 0, false);
		d[0].len = 0;
		post_raw(&f, d, 1);
	}
	bufs[0] = (struct guest_buf){ guest_tx_buf(&f, 64, 1), 64, false };
	id = fx_post(&f, bufs, 1, false);
	vdp_vring_burst_begin(&f.vr);
	bad = 0;
	while ((r = (int)vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c)) == VDP_FETCH_BAD)
		bad++;
	CHECK(r == VDP_FETCH_LIMIT && bad == VDP_BURST_BAD_MAX && f.vr.budget_stops == 2 &&
	      f.vr.err[VDP_ERR_ZERO_LEN] == VDP_BURST_BAD_MAX && !f.vr.broken,
	      "budget: 70 zero-length chains -> %u refused in one burst, then limit", bad);
	vdp_vring_burst_begin(&f.vr);
	bad = 0;
	while ((r = (int)vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c)) == VDP_FETCH_BAD)
		bad++;
	CHECK(r == VDP_FETCH_OK && bad == 6 && c.id == id,
	      "budget: the next burst refuses the other 6 and takes the good chain");
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	uint32_t gid, glen, n = 0;

	while (guest_packed_get_used(&f.g, &gid, &glen) == 1)
		n++;
	CHECK(n == 71 && fx_in_sync(&f), "budget: all 71 returned, in sync");
	fx_fini(&f);

	/* a ring of 32768 full of 200-slot chains (too long: refused) */
	o.size = 32768;
	fx_init(&f, &o);
	{
		uint64_t buf = guest_alloc(&f.m, 64, 8);
		uint32_t nchains = 0;

		for (;;) {
			for (uint32_t i = 0; i < 200; i++)
				d[i] = (struct vdp_pdesc){ buf, 64, 0,
							   (uint16_t)(i + 1 < 200 ? VDP_DESC_F_NEXT : 0) };
			if (f.g.nfree < 200 || post_raw(&f, d, 200) < 0)
				break;
			nchains++;
		}
		fx_mark(&f);
		vdp_vring_burst_begin(&f.vr);
		bad = 0;
		while ((r = (int)vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c)) == VDP_FETCH_BAD)
			bad++;
		reads = VDP_BURST_DESC_MAX - f.vr.budget_desc;
		CHECK(r == VDP_FETCH_LIMIT && bad == f.vr.err[VDP_ERR_CHAIN_TOO_LONG] &&
		      bad == VDP_BURST_DESC_MAX / 200 && reads <= VDP_BURST_DESC_MAX && !f.vr.broken,
		      "budget: %u chains of 200 slots in a 32768 ring, one burst: %u refused, "
		      "%u descriptors read (bound %u)", nchains, bad, reads, VDP_BURST_DESC_MAX);
		vdp_vring_burst_begin(&f.vr);
		CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_BAD,
		      "budget: the next burst goes on where that one stopped");
	}
	fx_fini(&f);

	/* every slot of a 1024 ring: one indirect descriptor to a table of
	 * 32768 entries: each walk stops at the segment limit */
	o.size = 1024;
	fx_init(&f, &o);
	{
		uint64_t buf = guest_alloc(&f.m, 64, 8);
		uint64_t tgpa = guest_alloc(&f.m, 32768 * sizeof(struct vdp_pdesc), 16);
		struct vdp_pdesc *t = guest_ptr(&f.m, tgpa);

		for (uint32_t i = 0; i < 32768; i++)
			t[i] = (struct vdp_pdesc){ buf, 64, 0, 0 };
		for (uint32_t i = 0; i < 1024; i++) {
			d[0] = (struct vdp_pdesc){ tgpa, 32768 * 16, 0, VDP_DESC_F_INDIRECT };
			post_raw(&f, d, 1);
		}
		vdp_vring_burst_begin(&f.vr);
		bad = 0;
		while ((r = (int)vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c)) == VDP_FETCH_BAD)
			bad++;
		reads = VDP_BURST_DESC_MAX - f.vr.budget_desc;
		CHECK(r == VDP_FETCH_LIMIT && bad == f.vr.err[VDP_ERR_CHAIN_TOO_LONG] &&
		      bad <= VDP_BURST_BAD_MAX && reads <= (bad + 1) * (VDP_CHAIN_MAX_SEGS + 2) &&
		      !f.vr.broken,
		      "budget: indirect tables of 32768 entries in a 1024 ring, one burst: %u refused, "
		      "%u descriptors read", bad, reads);
	}
	fx_fini(&f);

	/* A chain longer than a whole burst may read: its end can never be
	 * found within a burst. Not a stall (limit, burst after burst): the
	 * ring breaks, as for a chain longer than the ring. */
	o.size = 32768;
	fx_init(&f, &o);
	{
		uint64_t buf = guest_alloc(&f.m, 64, 8);

		for (uint32_t i = 0; i < 10000; i++)
			d[i] = (struct vdp_pdesc){ buf, 64, 0,
						   (uint16_t)(i + 1 < 10000 ? VDP_DESC_F_NEXT : 0) };
		post_raw(&f, d, 10000);
		fx_mark(&f);
		vdp_vring_burst_begin(&f.vr);
		r = (int)vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c);
		reads = VDP_BURST_DESC_MAX - f.vr.budget_desc;
		CHECK(r == VDP_FETCH_BROKEN && f.vr.broken && fx_only_err(&f, VDP_ERR_CHAIN_TOO_LONG) &&
		      reads <= VDP_BURST_DESC_MAX,
		      "budget: a 10000-slot chain (more than a burst reads) -> ring broken, "
		      "chain_too_long, %u descriptors read", reads);
	}
	fx_fini(&f);
	/* ... but one that only does not fit what is left waits, and the
	 * next burst refuses it as too long and goes on. */
	fx_init(&f, &o);
	{
		uint64_t buf = guest_alloc(&f.m, 64, 8);

		for (uint32_t i = 0; i < 6000; i++)
			d[i] = (struct vdp_pdesc){ buf, 64, 0,
						   (uint16_t)(i + 1 < 6000 ? VDP_DESC_F_NEXT : 0) };
		id = post_raw(&f, d, 6000);
		fx_mark(&f);
		vdp_vring_burst_begin(&f.vr);
		f.vr.budget_desc = 5000;
		r = (int)vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c);
		CHECK(r == VDP_FETCH_LIMIT && !f.vr.broken && fx_only_err(&f, VDP_ERR_MAX),
		      "budget: a 6000-slot chain with 5000 left -> limit, not broken");
		vdp_vring_burst_begin(&f.vr);
		r = (int)vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c);
		CHECK(r == VDP_FETCH_BAD && !f.vr.broken && fx_only_err(&f, VDP_ERR_CHAIN_TOO_LONG) &&
		      guest_expect_used(&f, (uint32_t)id, 0) && fx_in_sync(&f),
		      "budget: next burst: refused as too long, returned, skipping its 6000 slots");
		CHECK(ring_still_works_tx(&f), "budget: ring still works");
	}
	fx_fini(&f);
}

/* ---- notifications ---- */

/* Put k used slots (elements of up to size slots each). */
static void
put_slots(struct vdp_vring *vr, uint32_t k)
{
	while (k > 0) {
		uint32_t n = k < vr->size ? k : vr->size;

		vdp_packed_used_put(vr, 0, (uint16_t)n, 0);
		k -= n;
	}
}

static void
test_notify(void)
{
	_Alignas(16) static struct vdp_pdesc ring[8];
	_Alignas(4) static struct vdp_pevent ev[2];
	static uint64_t ids[1];
	static const uint32_t sizes[] = { 1, 2, 3, 5 };
	uint32_t cases = 0, bad = 0, bad_lap = 0;
	struct vdp_vring vr;

	/* Every start, event position and step on small rings: a call
	 * exactly when the used position steps over (or onto) off_wrap,
	 * wrap counters included; a step of a whole lap or more crosses
	 * every position. */
	for (unsigned si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		const uint32_t size = sizes[si], circle = 2 * size;

		for (uint32_t start = 0; start < circle; start++) {
			for (uint32_t e = 0; e < circle; e++) {
				for (uint32_t k = 1; k <= circle + 3; k++) {
					bool want, got;

					vdp_packed_init(&vr, ring, &ev[0], &ev[1], size,
							(uint16_t)(start % size), start >= size,
							(uint16_t)(start % size), start >= size, ids);
					vr.event_idx = true;
					ev[0] = (struct vdp_pevent){ 0, VDP_PEVENT_ENABLE };
					vdp_packed_need_call(&vr);  /* where we start from */
					ev[0] = (struct vdp_pevent){
						(uint16_t)((e % size) | (e >= size ? 0x8000u : 0u)),
						VDP_PEVENT_DESC };
					put_slots(&vr, k);
					want = k >= circle || pdist(size, start, e) < k;
					got = vdp_packed_need_call(&vr);
					cases++;
					if (got != want) {
						if (k >= circle)
							bad_lap++;
						else
							bad++;
					}
				}
			}
		}
	}
	CHECK(bad == 0, "notify: DESC: call exactly when the used position steps over off_wrap, "
	      "every start, event and step < 2 x size on rings of 1, 2, 3, 5 (%u cases, %u wrong)",
	      cases, bad);
	CHECK(bad_lap == 0, "notify: DESC: a step of a whole lap (2 x size slots) or more between "
	      "two checks calls whatever off_wrap says (%u wrong)", bad_lap);

	/* The other flags, and the first check after init. */
	struct fx_opts o = { .size = 16, .start = 13, .event_idx = true };
	struct fx f;

	fx_init(&f, &o);
	CHECK(!vdp_vq_publish(&f.vr), "notify: nothing put: publish says no call");
	guest_packed_set_event(&f.g, VDP_PEVENT_DESC, 0, false);  /* far ahead */
	put_slots(&f.vr, 1);
	CHECK(vdp_vq_publish(&f.vr), "notify: DESC: first publish after init calls (unknown past)");
	put_slots(&f.vr, 1);
	CHECK(!vdp_vq_publish(&f.vr), "notify: DESC: event ahead -> no call");
	guest_packed_set_event(&f.g, VDP_PEVENT_ENABLE, 0, false);
	put_slots(&f.vr, 1);
	CHECK(vdp_vq_publish(&f.vr), "notify: ENABLE -> call");
	put_slots(&f.vr, 2);
	CHECK(vdp_vq_publish(&f.vr) && !vdp_vq_publish(&f.vr),
	      "notify: ENABLE -> call for each publish, none when nothing new");
	guest_packed_set_event(&f.g, VDP_PEVENT_DISABLE, f.vr.used_idx, f.vr.used_wrap);
	put_slots(&f.vr, 3);
	CHECK(!vdp_vq_publish(&f.vr), "notify: DISABLE -> no call (even over off_wrap)");
	f.vr.event_idx = false;
	guest_packed_set_event(&f.g, VDP_PEVENT_DESC, 0, false);
	put_slots(&f.vr, 1);
	CHECK(vdp_vq_publish(&f.vr), "notify: DESC without EVENT_IDX -> call (as ENABLE)");
	f.vr.event_idx = true;
	guest_packed_set_event(&f.g, VDP_PEVENT_DESC, 16, false);
	put_slots(&f.vr, 1);
	CHECK(vdp_vq_publish(&f.vr), "notify: DESC with an offset >= size -> call");
	guest_packed_set_event(&f.g, 3, 0, false);
	put_slots(&f.vr, 1);
	CHECK(vdp_vq_publish(&f.vr), "notify: reserved flags value 3 -> call");
	fx_fini(&f);

	/* As a driver does it, across the wrap: ring of 16 from slot 13. */
	fx_init(&f, &o);
	vdp_packed_need_call(&f.vr);   /* a first check: the past is known */
	uint64_t buf = guest_tx_buf(&f, 64, 1);
	struct guest_buf b = { buf, 64, false };
	struct vdp_chain c;
	uint32_t id, len, calls = 0, steps = 0;

	CHECK(guest_packed_enable_cb(&f.g, true, 0) && f.g.driver_event->flags == VDP_PEVENT_DESC &&
	      f.g.driver_event->off_wrap == (13 | 0x8000), "notify: guest asks for DESC at its used position (13, wrap 1)");
	for (int i = 0; i < 1; i++) {
		fx_post(&f, &b, 1, false);
		vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c);
		vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	}
	CHECK(vdp_vq_publish(&f.vr), "notify: the element it waits for -> call");
	guest_packed_get_used(&f.g, &id, &len);
	/* wait 4 slots on: (14, 1) + 4 = (2, 0), across the wrap */
	CHECK(guest_packed_enable_cb(&f.g, true, 4) && f.g.driver_event->off_wrap == 2,
	      "notify: guest asks for DESC 4 slots on: (2, wrap 0)");
	for (int i = 0; i < 6; i++) {
		fx_post(&f, &b, 1, false);
		vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c);
		vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
		steps++;
		if (vdp_vq_publish(&f.vr)) {
			calls++;
			if (steps != 5)
				calls += 100;
		}
	}
	CHECK(calls == 1, "notify: across the wrap, one call, at the 5th element (the one at (2, wrap 0))");
	guest_packed_disable_cb(&f.g);
	fx_post(&f, &b, 1, false);
	vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c);
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	CHECK(!vdp_vq_publish(&f.vr), "notify: guest polls (DISABLE) -> no call");
	while (guest_packed_get_used(&f.g, &id, &len) == 1)
		;
	/* A driver about to sleep sees elements already there: no sleep. */
	fx_post(&f, &b, 1, false);
	vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c);
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	CHECK(!guest_packed_enable_cb(&f.g, true, 0), "notify: guest enabling finds an element: does not sleep");
	fx_fini(&f);

	/* Kicks: the device polls, the guest must not kick. */
	o.event_idx = false;
	fx_init(&f, &o);
	fx_post(&f, &b, 1, false);
	CHECK(guest_packed_kick_prepare(&f.g, false), "kicks: device event ENABLE (as zeroed): guest kicks");
	vdp_vq_suppress_kicks(&f.vr);
	fx_post(&f, &b, 1, false);
	CHECK(f.g.device_event->flags == VDP_PEVENT_DISABLE && !guest_packed_kick_prepare(&f.g, false),
	      "kicks: suppress_kicks writes DISABLE into the device event: no kick");
	fx_fini(&f);
	o.event_idx = true;
	fx_init(&f, &o);
	f.g.device_event->off_wrap = 0x1234;
	vdp_packed_suppress_kicks(&f.vr);
	fx_post(&f, &b, 1, false);
	CHECK(f.g.device_event->flags == VDP_PEVENT_DISABLE && f.g.device_event->off_wrap == 0x1234 &&
	      !guest_packed_kick_prepare(&f.g, true),
	      "kicks: with EVENT_IDX too: DISABLE, off_wrap left alone, no kick");
	fx_fini(&f);
}

/* ---- hostile guests ---- */

enum expect { BAD_CHAIN, BROKEN };

/*
 * Fetch once and check the outcome: exactly err counted once; a bad
 * chain comes back to the guest with len 0, the used element skipping
 * the chain's slots, and the ring goes on; a broken ring refuses
 * everything afterwards.
 */
static void
expect_fetch(struct fx *f, enum vdp_dir dir, int id, enum vdp_err err, enum expect ex,
	     const char *what)
{
	struct vdp_chain c;
	enum vdp_fetch r;
	unsigned int ncb = f->ncb;

	fx_mark(f);
	r = vdp_packed_fetch(&f->vr, &f->m.mm, dir, &c);
	if (ex == BAD_CHAIN) {
		CHECK(r == VDP_FETCH_BAD && fx_only_err(f, err) && !f->vr.broken &&
		      f->ncb == ncb + 1 && f->last_cb == err,
		      "hostile: %s -> bad chain, %s counted once", what, vdp_err_names[err]);
		CHECK(guest_expect_used(f, (uint32_t)id, 0) && fx_in_sync(f) && fx_none_held(f),
		      "hostile: %s: chain returned with len 0, its slots skipped", what);
		CHECK(ring_still_works_tx(f), "hostile: %s: ring still works", what);
	} else {
		CHECK(r == VDP_FETCH_BROKEN && fx_only_err(f, err) && f->vr.broken,
		      "hostile: %s -> ring broken, %s counted once", what, vdp_err_names[err]);
		fx_mark(f);
		CHECK(vdp_packed_avail_count(&f->vr) == 0 &&
		      vdp_packed_fetch(&f->vr, &f->m.mm, dir, &c) == VDP_FETCH_BROKEN &&
		      fx_only_err(f, VDP_ERR_MAX) && !guest_packed_used_ready(&f->g),
		      "hostile: %s: nothing more taken, nothing counted twice", what);
	}
}

static const struct fx_opts opts_h = { .size = 256, .indirect = true };

/* Flip the AVAIL and USED bits of slot s: available in the other phase. */
static void
flip_phase(struct fx *f, uint16_t s)
{
	f->g.ring[s].flags ^= VDP_PDESC_F_AVAIL | VDP_PDESC_F_USED;
}

static void
test_hostile_phase(void)
{
	struct vdp_pdesc d[3];
	struct vdp_chain c;
	struct fx f;
	int id, head;

	/* The head in the wrong phase: nothing is available. */
	fx_init(&f, &opts_h);
	raw_descs(&f, d, 1, 0, false);
	id = guest_packed_alloc_id(&f.g);
	d[0].id = (uint16_t)id;
	head = guest_packed_post_desc(&f.g, d, 1, true);
	flip_phase(&f, (uint16_t)head);
	fx_mark(&f);
	CHECK(vdp_packed_avail_count(&f.vr) == 0 &&
	      vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_EMPTY &&
	      fx_only_err(&f, VDP_ERR_MAX) && !f.vr.broken,
	      "hostile: head available in the wrong phase -> nothing available, nothing counted");
	f.g.ring[head].flags = guest_packed_used_bits(true);
	CHECK(vdp_packed_avail_count(&f.vr) == 0 && !f.vr.broken,
	      "hostile: head looking used (AVAIL == USED) -> nothing available");
	f.g.ring[head].flags = guest_packed_avail_bits(true);
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == id,
	      "hostile: made available in the right phase -> taken");
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	guest_expect_used(&f, (uint32_t)id, 0);
	fx_fini(&f);

	/* In the middle of a chain: its end cannot be found. */
	fx_init(&f, &opts_h);
	raw_descs(&f, d, 3, 0, false);
	id = guest_packed_alloc_id(&f.g);
	for (int i = 0; i < 3; i++)
		d[i].id = (uint16_t)id;
	head = guest_packed_post_desc(&f.g, d, 3, false);
	flip_phase(&f, (uint16_t)(head + 1));
	guest_packed_publish(&f.g);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_DESC, BROKEN,
		     "second slot of a chain in the wrong phase");
	fx_fini(&f);
	fx_init(&f, &opts_h);
	raw_descs(&f, d, 3, 0, false);
	id = post_raw(&f, d, 3);
	f.g.ring[2].flags = (uint16_t)(VDP_DESC_F_NEXT | guest_packed_used_bits(true));
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_DESC, BROKEN,
		     "last slot of a chain looking used");
	fx_fini(&f);
	/* ... across the wrap too: the slot after the end must be in the
	 * other phase; one left in the old phase breaks the ring. */
	struct fx_opts o = opts_h;

	o.start = 255;
	fx_init(&f, &o);
	raw_descs(&f, d, 2, 0, false);
	id = post_raw(&f, d, 2);     /* slots 255 (wrap 1), 0 (wrap 0) */
	flip_phase(&f, 0);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_DESC, BROKEN,
		     "slot after the ring's end left in the old phase");
	fx_fini(&f);
}

static void
test_hostile_ids(void)
{
	static struct vdp_pdesc d[300];
	struct vdp_chain c, c2;
	struct fx f;
	int id;

	static const struct { uint16_t id; const char *what; } bad_ids[] = {
		{ 256, "buffer id = ring size" },
		{ 1000, "buffer id 1000 on a ring of 256" },
		{ 0xffff, "buffer id 0xffff" },
	};
	for (unsigned i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		fx_init(&f, &opts_h);
		raw_descs(&f, d, 2, bad_ids[i].id, false);
		guest_packed_post_desc(&f.g, d, 2, true);
		expect_fetch(&f, VDP_DIR_READ, bad_ids[i].id, VDP_ERR_BAD_ID, BROKEN, bad_ids[i].what);
		fx_fini(&f);
	}
	/* Out of range in a chain that is bad anyway: still a broken ring
	 * (its used element could not be written). */
	fx_init(&f, &opts_h);
	raw_descs(&f, d, 2, 300, false);
	d[1].len = 0;
	guest_packed_post_desc(&f.g, d, 2, true);
	expect_fetch(&f, VDP_DIR_READ, 300, VDP_ERR_BAD_ID, BROKEN, "bad chain with an id out of range");
	fx_fini(&f);

	/* Reused while we hold it (taken, not completed). */
	fx_init(&f, &opts_h);
	raw_descs(&f, d, 2, 0, false);
	id = post_raw(&f, d, 2);
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == id &&
	      fx_held(&f, (uint16_t)id), "hostile: chain taken, its id held");
	raw_descs(&f, d, 1, (uint16_t)id, false);
	guest_packed_post_desc(&f.g, d, 1, true);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_ID, BROKEN, "id reused while the device holds it");
	fx_fini(&f);

	/* Reused after the same ring was loaded again (a new memory table)
	 * while we hold it: still refused; a fresh load forgets it. */
	for (int same = 1; same >= 0; same--) {
		struct vdp_vring old;

		fx_init(&f, &opts_h);
		raw_descs(&f, d, 1, 0, false);
		id = post_raw(&f, d, 1);
		CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK &&
		      fx_held(&f, (uint16_t)id), "reload: chain taken (held, as for zero-copy)");
		old = f.vr;
		CHECK((same ? vdp_packed_init_same : vdp_packed_init)(
			      &f.vr, old.pdesc, old.driver_event, old.device_event, old.size,
			      old.last_avail, old.avail_wrap, old.used_idx, old.used_wrap,
			      f.ids) == 0 &&
		      fx_held(&f, (uint16_t)id) == (same == 1),
		      "reload: %s keeps the held id %s", same ? "the same ring" : "a fresh load",
		      same ? "held" : "no longer");
		f.vr.indirect = old.indirect;
		f.vr.hdr_len = old.hdr_len;
		f.vr.on_err = old.on_err;
		f.vr.err_ctx = old.err_ctx;
		raw_descs(&f, d, 1, (uint16_t)id, false);
		guest_packed_post_desc(&f.g, d, 1, true);
		if (same) {
			expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_ID, BROKEN,
				     "id reused after the same ring was loaded again");
		} else {
			fx_mark(&f);
			CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c2) == VDP_FETCH_OK &&
			      c2.id == id && fx_only_err(&f, VDP_ERR_MAX),
			      "reload: after a fresh load the id is the guest's");
		}
		fx_fini(&f);
	}
	/* Not the same ring (another size): as a fresh load. */
	{
		struct vdp_vring old;

		fx_init(&f, &opts_h);
		raw_descs(&f, d, 1, 0, false);
		id = post_raw(&f, d, 1);
		vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c);
		old = f.vr;
		CHECK(vdp_packed_init_same(&f.vr, old.pdesc, old.driver_event, old.device_event,
					   old.size / 2, 0, true, 0, true, f.ids) == 0 &&
		      !fx_held(&f, (uint16_t)id) && f.vr.size == old.size / 2,
		      "reload: a ring of another size forgets the held ids");
		fx_fini(&f);
	}

	/* Reused after its completion: fine. */
	fx_init(&f, &opts_h);
	raw_descs(&f, d, 1, 0, false);
	id = post_raw(&f, d, 1);
	vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c);
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	guest_expect_used(&f, (uint32_t)id, 0);
	raw_descs(&f, d, 1, (uint16_t)id, false);
	guest_packed_post_desc(&f.g, d, 1, true);
	fx_mark(&f);
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c2) == VDP_FETCH_OK && c2.id == id &&
	      fx_only_err(&f, VDP_ERR_MAX), "hostile: id reused after it came back used -> fine");
	fx_fini(&f);
}

static void
test_hostile_extent(void)
{
	static struct vdp_pdesc d[300];
	struct fx_opts o = opts_h;
	struct vdp_chain c;
	struct fx f;
	int id;

	/* NEXT on every slot: a chain longer than the ring. */
	static const uint32_t sizes[] = { 1, 3, 8, 64 };

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char what[80];

		o.size = sizes[i];
		o.start = (uint16_t)(sizes[i] / 2);
		fx_init(&f, &o);
		raw_descs(&f, d, sizes[i], 0, false);
		d[sizes[i] - 1].flags = VDP_DESC_F_NEXT;
		id = post_raw(&f, d, sizes[i]);
		snprintf(what, sizeof(what), "NEXT on every slot of a ring of %u", sizes[i]);
		expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_LOOP, BROKEN, what);
		fx_fini(&f);
	}
	/* A chain of exactly the ring's size is fine. */
	o.size = 8;
	o.start = 5;
	fx_init(&f, &o);
	raw_descs(&f, d, 8, 0, false);
	id = post_raw(&f, d, 8);
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == id &&
	      c.ndesc == 8 && f.vr.last_avail == 5 && !f.vr.avail_wrap,
	      "hostile: a chain of all 8 slots of a ring of 8 -> taken, wrap counter flipped");
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	CHECK(guest_expect_used(&f, (uint32_t)id, 0) && fx_in_sync(&f), "hostile: and returned");
	fx_fini(&f);

	/* Longer than we carry, shorter than the ring: a bad chain. */
	fx_init(&f, &opts_h);
	raw_descs(&f, d, VDP_CHAIN_MAX_SEGS + 2, 0, false);
	id = post_raw(&f, d, VDP_CHAIN_MAX_SEGS + 2);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_CHAIN_TOO_LONG, BAD_CHAIN, "chain of 130 slots in a ring of 256");
	raw_descs(&f, d, VDP_CHAIN_MAX_SEGS, 0, false);
	id = post_raw(&f, d, VDP_CHAIN_MAX_SEGS);
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK &&
	      c.nseg == VDP_CHAIN_MAX_SEGS && c.ndesc == VDP_CHAIN_MAX_SEGS,
	      "hostile: chain of exactly %u slots accepted", VDP_CHAIN_MAX_SEGS);
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	guest_expect_used(&f, (uint32_t)id, 0);
	/* 128 buffers, one across the regions: 129 segments */
	raw_descs(&f, d, VDP_CHAIN_MAX_SEGS, 0, false);
	d[0].addr = f.m.gpa[1] - 8;
	d[0].len = 16;
	id = post_raw(&f, d, VDP_CHAIN_MAX_SEGS);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_CHAIN_TOO_LONG, BAD_CHAIN,
		     "128 slots, one buffer across regions (129 segments)");
	CHECK(f.g.nfree == 256 && f.g.nfree_ids == 256, "hostile: guest got every slot and id back");
	fx_fini(&f);

	/* Met while enqueueing a mergeable frame: NEXT on every slot as the
	 * first chain; and, after a good first buffer, a run of NEXT over the
	 * 63 other slots into that buffer's slot (not available in the next
	 * phase): both leave no way to find where a chain ends. */
	struct vdp_net_hdr hdr = { 0 };
	uint8_t frame[64] = { 0 };
	struct vdp_iov iov = { frame, 64 };

	for (int first_good = 0; first_good < 2; first_good++) {
		o = opts_h;
		o.size = 64;
		o.mrg = true;
		fx_init(&f, &o);
		if (first_good)
			post_rx(&f, 64, NULL);
		raw_descs(&f, d, 64 - first_good, 0, true);
		d[63 - first_good].flags |= VDP_DESC_F_NEXT;
		post_raw(&f, d, 64 - first_good);
		fx_mark(&f);
		CHECK(vdp_packed_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == -1 && f.vr.broken &&
		      fx_only_err(&f, first_good ? VDP_ERR_BAD_DESC : VDP_ERR_LOOP),
		      "hostile: mergeable RX meets %s -> -1, ring broken (%s)",
		      first_good ? "63 slots of NEXT after its first buffer" : "NEXT on all 64 slots",
		      first_good ? "bad_desc" : "loop");
		fx_mark(&f);
		CHECK(vdp_packed_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == -1 &&
		      fx_only_err(&f, VDP_ERR_MAX) && !guest_packed_used_ready(&f.g),
		      "hostile: and the next frame too, nothing counted, nothing used");
		fx_fini(&f);
	}
}

static void
test_hostile_indirect(void)
{
	struct vdp_pdesc d[2], *t;
	uint64_t inner, tgpa;
	struct vdp_chain c;
	struct fx f;
	int id;

	fx_init(&f, &opts_h);
	/* nested */
	inner = raw_table(&f, 2, &t);
	tgpa = raw_table(&f, 2, &t);
	t[1] = (struct vdp_pdesc){ inner, 32, 0, VDP_DESC_F_INDIRECT };
	d[0] = (struct vdp_pdesc){ tgpa, 32, 0, VDP_DESC_F_INDIRECT };
	id = post_raw(&f, d, 1);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_NESTED_INDIRECT, BAD_CHAIN, "indirect inside indirect");

	/* with NEXT */
	raw_descs(&f, d, 2, 0, false);
	d[0] = (struct vdp_pdesc){ raw_table(&f, 2, &t), 32, 0, VDP_DESC_F_INDIRECT | VDP_DESC_F_NEXT };
	id = post_raw(&f, d, 2);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_INDIRECT, BAD_CHAIN, "indirect with NEXT");

	/* not alone: after a direct descriptor */
	raw_descs(&f, d, 2, 0, false);
	d[1] = (struct vdp_pdesc){ raw_table(&f, 2, &t), 32, 0, VDP_DESC_F_INDIRECT };
	id = post_raw(&f, d, 2);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_INDIRECT, BAD_CHAIN,
		     "indirect after a direct descriptor in one chain");

	/* table lengths */
	static const struct { uint32_t len; const char *what; } bad_len[] = {
		{ 40, "indirect len not a multiple of 16" },
		{ 0, "indirect len 0" },
		{ (32768u + 1) * 16, "indirect table above 32768 entries" },
	};
	for (unsigned i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++) {
		d[0] = (struct vdp_pdesc){ raw_table(&f, 3, &t), bad_len[i].len, 0, VDP_DESC_F_INDIRECT };
		id = post_raw(&f, d, 1);
		expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_INDIRECT, BAD_CHAIN, bad_len[i].what);
	}
	/* place */
	d[0] = (struct vdp_pdesc){ fx_mem_end(&f) - 32, 64, 0, VDP_DESC_F_INDIRECT };
	id = post_raw(&f, d, 1);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_ADDR, BAD_CHAIN, "indirect table running past memory");
	d[0] = (struct vdp_pdesc){ f.m.gpa[1] - 16, 32, 0, VDP_DESC_F_INDIRECT };
	id = post_raw(&f, d, 1);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_ADDR, BAD_CHAIN, "indirect table across two regions");
	d[0] = (struct vdp_pdesc){ 0x1000, 32, 0, VDP_DESC_F_INDIRECT };
	id = post_raw(&f, d, 1);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_ADDR, BAD_CHAIN, "indirect table below memory");
	d[0] = (struct vdp_pdesc){ raw_table(&f, 3, &t) + 4, 32, 0, VDP_DESC_F_INDIRECT };
	id = post_raw(&f, d, 1);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_INDIRECT, BAD_CHAIN, "misaligned indirect table");

	/* the entries */
	d[0] = (struct vdp_pdesc){ raw_table(&f, 3, &t), 48, 0, VDP_DESC_F_INDIRECT };
	t[1].len = 0;
	id = post_raw(&f, d, 1);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_ZERO_LEN, BAD_CHAIN, "zero-length entry in an indirect table");
	d[0] = (struct vdp_pdesc){ raw_table(&f, 3, &t), 48, 0, VDP_DESC_F_INDIRECT };
	t[2].addr = fx_mem_end(&f) - 10;
	id = post_raw(&f, d, 1);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_ADDR, BAD_CHAIN, "indirect entry partly outside memory");
	d[0] = (struct vdp_pdesc){ raw_table(&f, 3, &t), 48, 0, VDP_DESC_F_INDIRECT };
	t[1].flags = VDP_DESC_F_WRITE;
	id = post_raw(&f, d, 1);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_DESC, BAD_CHAIN, "writable entry in a TX indirect table");
	d[0] = (struct vdp_pdesc){ raw_table(&f, 200, &t), 200 * 16, 0, VDP_DESC_F_INDIRECT };
	id = post_raw(&f, d, 1);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_CHAIN_TOO_LONG, BAD_CHAIN, "indirect table of 200 entries");

	/* reserved flags in table entries (NEXT, AVAIL, USED) and ids are
	 * ignored (2.7.7): the table's length is the chain's */
	d[0] = (struct vdp_pdesc){ raw_table(&f, 3, &t), 48, 0, VDP_DESC_F_INDIRECT };
	t[0].flags = VDP_DESC_F_NEXT;
	t[1].flags = VDP_PDESC_F_AVAIL | VDP_PDESC_F_USED;
	t[2].id = 0xffff;
	id = post_raw(&f, d, 1);
	fx_mark(&f);
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == id &&
	      c.nseg == 3 && c.len == 192 && fx_only_err(&f, VDP_ERR_MAX),
	      "hostile: NEXT, AVAIL/USED and ids in table entries ignored: 3 entries taken");
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	guest_expect_used(&f, (uint32_t)id, 0);
	CHECK(f.g.nfree == 256 && f.g.nfree_ids == 256, "hostile: guest got every slot and id back");
	fx_fini(&f);

	/* not negotiated */
	struct fx_opts o = opts_h;

	o.indirect = false;
	fx_init(&f, &o);
	d[0] = (struct vdp_pdesc){ raw_table(&f, 2, &t), 32, 0, VDP_DESC_F_INDIRECT };
	id = post_raw(&f, d, 1);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_DESC, BAD_CHAIN, "indirect without the feature");
	fx_fini(&f);
}

static void
test_hostile_buffers(void)
{
	struct vdp_pdesc d[3];
	struct vdp_chain c;
	struct fx f;
	int id;

	fx_init(&f, &opts_h);
	const uint64_t end = fx_mem_end(&f);

	raw_descs(&f, d, 2, 0, false);
	d[1].len = 0;
	id = post_raw(&f, d, 2);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_ZERO_LEN, BAD_CHAIN, "zero-length descriptor");

	const struct { uint64_t addr; uint32_t len; const char *what; } bad_addr[] = {
		{ 0x1000, 64, "address below guest memory" },
		{ end, 64, "address just past guest memory" },
		{ 0x7fff00000000ull, 64, "address far outside memory" },
		{ UINT64_MAX - 10, 100, "address + len wrapping 2^64" },
		{ UINT64_MAX, 1, "address 2^64 - 1" },
		{ end - 10, 100, "buffer straddling the end of memory" },
		{ GPA_BASE, 0xffffffffu, "4 GiB buffer from the start of memory" },
	};
	for (unsigned i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++) {
		raw_descs(&f, d, 2, 0, false);
		d[1].addr = bad_addr[i].addr;
		d[1].len = bad_addr[i].len;
		id = post_raw(&f, d, 2);
		expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_ADDR, BAD_CHAIN, bad_addr[i].what);
	}

	raw_descs(&f, d, 1, 0, false);
	d[0].len = 8;
	id = post_raw(&f, d, 1);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_SHORT_CHAIN, BAD_CHAIN, "TX chain shorter than the header");
	raw_descs(&f, d, 2, 0, false);
	d[1].flags |= VDP_DESC_F_WRITE;
	id = post_raw(&f, d, 2);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_BAD_DESC, BAD_CHAIN, "writable descriptor in a TX chain");
	raw_descs(&f, d, 2, 0, true);
	d[0].flags &= (uint16_t)~VDP_DESC_F_WRITE;
	id = post_raw(&f, d, 2);
	expect_fetch(&f, VDP_DIR_WRITE, id, VDP_ERR_BAD_DESC, BAD_CHAIN, "read-only descriptor in an RX chain");
	raw_descs(&f, d, 2, 0, false);
	for (int i = 0; i < 2; i++) {
		d[i].addr = guest_alloc(&f.m, 40000, 8);
		d[i].len = 40000;
	}
	id = post_raw(&f, d, 2);
	expect_fetch(&f, VDP_DIR_READ, id, VDP_ERR_TOO_BIG, BAD_CHAIN, "TX frame of 80000 bytes");
	raw_descs(&f, d, 2, 0, false);
	d[0].len = 12;
	d[1].addr = guest_alloc(&f.m, VDP_TX_FRAME_MAX, 8);
	d[1].len = VDP_TX_FRAME_MAX;
	id = post_raw(&f, d, 2);
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK &&
	      c.len == 12 + VDP_TX_FRAME_MAX, "hostile: TX frame of exactly the maximum accepted");
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	guest_expect_used(&f, (uint32_t)id, 0);
	CHECK(f.g.nfree == 256 && f.g.nfree_ids == 256 && fx_in_sync(&f),
	      "hostile: guest got every slot and id back");
	fx_fini(&f);
}

/*
 * Chains of one slot: vdp_packed_fetch takes the good ones without the
 * walk (vdp_packed_take1) and leaves everything else to it. Each defect
 * the short path looks for, on a one-slot chain, must still be refused
 * as the walk refuses it, and each edge it accepts must come out as the
 * walk would return it.
 */
static void
test_hostile_one_slot(void)
{
	struct vdp_pdesc d[1];
	struct vdp_chain c;
	struct fx f;
	int id;

	for (unsigned i = 0; i < GUEST_ONE_BUF_BAD; i++) {
		const struct guest_one_bad *b = &guest_one_buf_bad[i];

		fx_init(&f, &opts_h);
		d[0] = (struct vdp_pdesc){ guest_one_bad_gpa(&f.m, b), b->len, 0, b->flags };
		id = post_raw(&f, d, 1);
		expect_fetch(&f, b->dir, id, b->err, BAD_CHAIN, b->what);
		fx_fini(&f);
	}
	/* an id the short path must not take: out of range breaks the ring */
	fx_init(&f, &opts_h);
	raw_descs(&f, d, 1, 256, false);
	guest_packed_post_desc(&f.g, d, 1, true);
	expect_fetch(&f, VDP_DIR_READ, 256, VDP_ERR_BAD_ID, BROKEN, "one slot with id = ring size");
	fx_fini(&f);

	/* the edges it takes, as the walk returns them */
	const struct guest_one_buf *good = guest_one_buf_good;

	for (unsigned i = 0; i < GUEST_ONE_BUF_GOOD; i++) {
		uint64_t gpa;

		fx_init(&f, &opts_h);
		gpa = good[i].span ? f.m.gpa[1] - 100 : guest_alloc(&f.m, good[i].len, 8);
		d[0] = (struct vdp_pdesc){ gpa, good[i].len, 0,
					   good[i].dir == VDP_DIR_WRITE ? VDP_DESC_F_WRITE : 0 };
		id = post_raw(&f, d, 1);
		fx_mark(&f);
		memset(&c, 0, sizeof(c));
		CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, good[i].dir, &c) == VDP_FETCH_OK &&
		      c.id == id && c.ndesc == 1 && c.len == good[i].len &&
		      c.nseg == (good[i].span ? 2 : 1) &&
		      c.seg[0].hva == guest_host_ptr(&f.m, gpa) &&
		      c.seg[0].len == (good[i].span ? 100 : good[i].len) &&
		      (!good[i].span || (c.seg[1].hva == guest_host_ptr(&f.m, f.m.gpa[1]) &&
					 c.seg[1].len == 200)) &&
		      fx_held(&f, (uint16_t)id) && fx_only_err(&f, VDP_ERR_MAX),
		      "one slot: %s -> taken, as the walk returns it", good[i].what);
		vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
		CHECK(guest_expect_used(&f, (uint32_t)id, 0) && fx_in_sync(&f) && fx_none_held(&f),
		      "one slot: %s: given back", good[i].what);
		fx_fini(&f);
	}

	/* a ring of one slot: taken, given back, taken again in the other
	 * phase (NEXT and INDIRECT on one slot: test_hostile_extent and
	 * test_hostile_indirect) */
	struct fx_opts o = opts_h;
	bool ok = true;

	o.size = 1;
	fx_init(&f, &o);
	for (int i = 0; i < 3; i++) {
		raw_descs(&f, d, 1, 0, false);
		id = post_raw(&f, d, 1);
		memset(&c, 0, sizeof(c));
		ok &= id == 0 && vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK &&
		      c.id == 0 && c.ndesc == 1 && c.nseg == 1 && f.vr.last_avail == 0 &&
		      f.vr.avail_wrap == (i % 2 == 1);
		if (!ok)
			break;
		vdp_packed_used_put(&f.vr, 0, 1, 0);
		ok &= guest_expect_used(&f, 0, 0) && fx_in_sync(&f) && fx_none_held(&f);
	}
	CHECK(ok, "one slot: a ring of one slot, taken and given back three times, the phase "
		  "flipping each time");
	fx_fini(&f);

	/* a run of one-slot chains, ids out of order, through the ring's end */
	const uint16_t ids[4] = { 7, 1, 200, 0 };
	uint64_t gpas[4];

	ok = true;
	o = opts_h;

	o.start = 254;
	fx_init(&f, &o);
	for (int i = 0; i < 4; i++) {
		gpas[i] = guest_alloc(&f.m, 64, 8);
		d[0] = (struct vdp_pdesc){ gpas[i], 64, ids[i], 0 };
		ok &= guest_packed_post_desc(&f.g, d, 1, true) >= 0;
	}
	f.vr.budget_desc = 3;   /* the fourth is past the burst's budget */
	fx_mark(&f);
	memset(&c, 0, sizeof(c));
	for (int i = 0; i < 3; i++)
		ok &= vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK &&
		      c.id == ids[i] && c.nseg == 1 &&
		      c.seg[0].hva == guest_host_ptr(&f.m, gpas[i]) &&
		      fx_held(&f, ids[i]);
	CHECK(ok && f.vr.last_avail == 1 && f.vr.avail_wrap == false && f.vr.budget_desc == 0 &&
	      f.vr.last_id == 200 && f.vr.last_id_ok,
	      "one slot: three chains taken across the ring's end, wrap flipped, budget spent");
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_LIMIT &&
	      f.vr.budget_stops == 1 && f.vr.last_avail == 1 && fx_only_err(&f, VDP_ERR_MAX),
	      "one slot: the fourth left for the next burst, the stop counted");
	/* the guest reuses a held id in the next slot: the ring breaks */
	vdp_vring_burst_begin(&f.vr);
	d[0] = (struct vdp_pdesc){ gpas[0], 64, 1, 0 };
	guest_packed_set_desc(&f.g, 2, d[0].addr, d[0].len, d[0].id, guest_packed_avail_bits(false));
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK && c.id == 0,
	      "one slot: the fourth taken in the next burst");
	fx_mark(&f);
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_BROKEN &&
	      f.vr.broken && fx_only_err(&f, VDP_ERR_BAD_ID),
	      "hostile: one slot reusing an id taken in the same run -> ring broken, bad_id once");
	fx_fini(&f);
}

/* ---- a guest rewriting descriptors it made available ---- */

struct rewriter {
	struct vdp_pdesc *slot;   /* guest view of the one slot */
	uint64_t addr[3];
	uint32_t len[3];
	int stop;
	uint64_t writes;
};

static void *
rewriter_run(void *arg)
{
	struct rewriter *rw = arg;
	uint32_t i = 0;

	while (!__atomic_load_n(&rw->stop, __ATOMIC_RELAXED)) {
		__atomic_store_n(&rw->slot->addr, rw->addr[i % 3], __ATOMIC_RELAXED);
		__atomic_store_n(&rw->slot->len, rw->len[(i / 3 + i) % 3], __ATOMIC_RELAXED);
		i++;
		__atomic_store_n(&rw->writes, rw->writes + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Flips the phase of a slot's flags while told to (go odd), says when
 * it has stopped (seen = go). */
struct flipper {
	uint16_t *flags;
	uint32_t go;
	uint32_t seen;
	uint64_t flips;
};

#define FLIP_EXIT UINT32_MAX

static void *
flipper_run(void *arg)
{
	struct flipper *fl = arg;

	for (;;) {
		uint32_t go = __atomic_load_n(&fl->go, __ATOMIC_ACQUIRE);

		if (go == FLIP_EXIT)
			break;
		if (go % 2 == 1) {
			uint16_t v = __atomic_load_n(fl->flags, __ATOMIC_RELAXED);

			__atomic_store_n(fl->flags, (uint16_t)(v ^ (VDP_PDESC_F_AVAIL | VDP_PDESC_F_USED)),
					 __ATOMIC_RELAXED);
			__atomic_store_n(&fl->flips, fl->flips + 1, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&fl->seen, go, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void
test_rewrite(void)
{
	struct fx_opts o = { .size = 16, .indirect = true };
	struct guest_buf b[3];
	struct vdp_chain c;
	uint8_t want[300], got[300];
	struct fx f;
	int id;

	/* Rewritten after the device took it: the device uses what it read. */
	fx_init(&f, &o);
	for (int i = 0; i < 3; i++)
		b[i] = (struct guest_buf){ guest_tx_buf(&f, 100, 50 + i), 100, false };
	for (int i = 0; i < 3; i++)
		memcpy(want + 100 * i, guest_ptr(&f.m, b[i].gpa), 100);
	uint16_t s = f.g.avail_slot;

	id = guest_packed_post(&f.g, b, 3, false, true);
	CHECK(vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c) == VDP_FETCH_OK, "rewrite: chain taken");
	uint64_t other = guest_tx_buf(&f, 4000, 1);

	for (int i = 0; i < 3; i++)
		guest_packed_set_desc(&f.g, (uint16_t)(s + i), other, 4000, 9,
				      (uint16_t)(VDP_DESC_F_WRITE | VDP_DESC_F_NEXT |
						 guest_packed_avail_bits(true)));
	bool same = c.id == id && c.nseg == 3 && c.len == 300 && c.ndesc == 3;

	for (int i = 0; i < 3 && same; i++)
		same = c.seg[i].hva == guest_host_ptr(&f.m, b[i].gpa) && c.seg[i].len == 100;
	CHECK(same && vdp_chain_read(&c, 0, got, 300) == 300 && memcmp(got, want, 300) == 0,
	      "rewrite: descriptors rewritten after the take: the chain's segments are those posted");
	vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
	CHECK(guest_expect_used(&f, (uint32_t)id, 0) && fx_in_sync(&f) && !f.vr.broken &&
	      vdp_packed_avail_count(&f.vr) == 0,
	      "rewrite: the used element carries the id read, the rewritten slots are not taken again");
	fx_fini(&f);

	/* A thread rewriting addr and len of the one slot of a ring of 1
	 * while the device takes it again and again: every chain taken is
	 * one consistent reading (a segment inside guest memory, of a length
	 * the guest wrote, never 0), every refusal one of the expected. */
	o.size = 1;
	fx_init(&f, &o);
	{
		struct rewriter rw = { .slot = &f.g.ring[0] };
		uint32_t rounds, bad = 0, ok = 0, refused = 0;
		pthread_t th;

		rw.addr[0] = guest_alloc(&f.m, 4096, 64);
		rw.addr[1] = guest_alloc(&f.m, 4096, 64);
		rw.addr[2] = fx_mem_end(&f) - 10;
		rw.len[0] = 64;
		rw.len[1] = 2000;
		rw.len[2] = 0;
		pthread_create(&th, NULL, rewriter_run, &rw);
		for (rounds = 0; rounds < 100000 && bad == 0; rounds++) {
			struct vdp_pdesc d = { rw.addr[0], 64, 0, VDP_DESC_F_WRITE };
			uint32_t gid, glen;
			enum vdp_fetch r;

			uint64_t w0;

			guest_packed_post_desc(&f.g, &d, 1, true);
			/* The post just wrote addr and len: let the thread rewrite
			 * them at least once (it may share a CPU with us). */
			w0 = __atomic_load_n(&rw.writes, __ATOMIC_ACQUIRE);
			for (int spin = 0; __atomic_load_n(&rw.writes, __ATOMIC_ACQUIRE) < w0 + 2; spin++)
				if (spin > 1000)
					sched_yield();
			fx_mark(&f);
			vdp_vring_burst_begin(&f.vr);
			r = vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_WRITE, &c);
			if (r == VDP_FETCH_OK) {
				ok++;
				if (c.id != 0 || c.nseg != 1 || c.len != c.seg[0].len ||
				    (c.len != 64 && c.len != 2000) ||
				    !vdp_hva_in_map(&f.m.mm, c.seg[0].hva, c.seg[0].len))
					bad++;
				vdp_packed_used_put(&f.vr, c.id, c.ndesc, 0);
			} else if (r == VDP_FETCH_BAD) {
				refused++;
				if (!fx_only_err(&f, VDP_ERR_ZERO_LEN) && !fx_only_err(&f, VDP_ERR_BAD_ADDR))
					bad++;
			} else {
				bad++;
			}
			if (guest_packed_get_used(&f.g, &gid, &glen) != 1 || gid != 0)
				bad++;
		}
		__atomic_store_n(&rw.stop, 1, __ATOMIC_RELAXED);
		pthread_join(th, NULL);
		CHECK(bad == 0 && !f.vr.broken && ok > 0 && refused > 0,
		      "rewrite: a thread rewriting addr/len while the device takes the slot %u times: "
		      "%u taken consistent, %u refused (zero_len / bad_addr), %" PRIu64 " rewrites",
		      rounds, ok, refused, rw.writes);
	}
	fx_fini(&f);

	/* A thread flipping the head's phase (available / available in the
	 * other phase) while the device looks: each look is one reading of
	 * the flags, so the chain is taken or found not there, and the ring
	 * never breaks over it. */
	fx_init(&f, &o);
	{
		struct flipper fl = { .flags = &f.g.ring[0].flags };
		uint32_t rounds, bad = 0, taken = 0, empty = 0;
		uint64_t buf = guest_alloc(&f.m, 64, 64);
		pthread_t th;

		pthread_create(&th, NULL, flipper_run, &fl);
		for (rounds = 0; rounds < 100000 && bad == 0; rounds++) {
			struct vdp_pdesc d = { buf, 64, 0, VDP_DESC_F_WRITE };
			const bool phase = f.g.avail_wrap;
			uint32_t gid, glen;
			enum vdp_fetch r;
			uint64_t n0;

			guest_packed_post_desc(&f.g, &d, 1, true);
			n0 = __atomic_load_n(&fl.flips, __ATOMIC_ACQUIRE);
			__atomic_store_n(&fl.go, 2 * rounds + 1, __ATOMIC_RELEASE);
			for (int spin = 0; __atomic_load_n(&fl.flips, __ATOMIC_ACQUIRE) < n0 + 2; spin++)
				if (spin > 1000)
					sched_yield();
			vdp_vring_burst_begin(&f.vr);
			r = vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_WRITE, &c);
			/* stop the thread before anything else is written there */
			__atomic_store_n(&fl.go, 2 * rounds + 2, __ATOMIC_RELEASE);
			for (int spin = 0; __atomic_load_n(&fl.seen, __ATOMIC_ACQUIRE) != 2 * rounds + 2; spin++)
				if (spin > 1000)
					sched_yield();
			if (r == VDP_FETCH_EMPTY) {
				empty++;
				/* the guest makes it available again, for good */
				__atomic_store_n(&f.g.ring[0].flags,
						 (uint16_t)(VDP_DESC_F_WRITE | guest_packed_avail_bits(phase)),
						 __ATOMIC_RELEASE);
				r = vdp_packed_fetch(&f.vr, &f.m.mm, VDP_DIR_WRITE, &c);
			} else {
				taken++;
			}
			if (r != VDP_FETCH_OK || c.id != 0 || c.len != 64)
				bad++;
			else
				vdp_packed_used_put(&f.vr, c.id, c.ndesc, 64);
			if (guest_packed_get_used(&f.g, &gid, &glen) != 1 || gid != 0 || glen != 64)
				bad++;
		}
		__atomic_store_n(&fl.go, FLIP_EXIT, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
		CHECK(bad == 0 && !f.vr.broken && fx_only_err(&f, VDP_ERR_MAX) && taken > 0 && empty > 0,
		      "rewrite: a thread flipping the head's phase while the device looks, %u times: "
		      "%u taken, %u found not available, never broken (%" PRIu64 " flips)",
		      rounds, taken, empty, fl.flips);
	}
	fx_fini(&f);
}

/* ---- used_batch: used elements kept back until the publish ---- */

/* Take k one-slot TX chains (posted first) and put them, through the
 * layout-agnostic call; ids[] gets their ids in that order. */
static uint32_t
ub_take_put(struct fx *f, uint32_t k, uint16_t *ids)
{
	struct guest_buf b = { guest_tx_buf(f, 64, 1), 64, false };
	struct vdp_chain c;
	uint32_t n = 0;

	for (uint32_t i = 0; i < k; i++)
		if (fx_post(f, &b, 1, false) < 0)
			return n;
	for (uint32_t i = 0; i < k; i++) {
		if (vdp_vq_fetch(&f->vr, &f->m.mm, VDP_DIR_READ, &c) != VDP_FETCH_OK)
			return n;
		vdp_vq_used_put(&f->vr, c.id, c.ndesc, 0);
		ids[n++] = c.id;
	}
	return n;
}

/* The guest reads k used elements: ids[0..k) in that order, len 0. */
static bool
ub_expect(struct fx *f, const uint16_t *ids, uint32_t k)
{
	for (uint32_t i = 0; i < k; i++)
		if (!guest_expect_used(f, ids[i], 0))
			return false;
	return true;
}

/*
 * vdp_packed_used_keep_n (through vdp_vq_used_put_n_l) against
 * vdp_packed_used_keep one at a time, on twin rings with the same chains
 * taken: after the publish the guest's ring, our positions and held ids
 * are the same, whatever the groups were. Cases: k that fit beside the
 * kept ones (1-3 slot chains across the wrap; 32 at once with no length,
 * a sender's); k that do not by count (40 kept, then 32), or by slots
 * (elements made up, not taken: an honest guest cannot have more slots
 * out than the ring has), the kept ones handed over first and the k
 * not; more than VDP_USED_BATCH_MAX at once (refused whole, kept one at
 * a time). The one-slot cases go through keep_n's ones path (slots not
 * counted chain by chain), the others through the counting one.
 */
static void
test_keep_n(void)
{
	static const struct {
		uint32_t size, first, then;   /* kept before, then at once */
		uint16_t slots;               /* per chain; 0: 1, 2, 3, ... */
		bool lens, made_up;
	} cs[] = {
		{ 16, 2, 4, 0, true, false },    /* 1 2 | 3 1 2 3: across the wrap */
		{ 256, 0, 32, 1, false, false }, /* a sender's (no length) */
		{ 256, 40, 32, 1, true, false }, /* 40 + 32 > VDP_USED_BATCH_MAX */
		{ 16, 4, 2, 3, true, true },     /* 12 + 6 slots > 16 */
		{ 256, 0, 70, 1, true, false },  /* more than VDP_USED_BATCH_MAX */
	};
	static struct vdp_pdesc ring[2][256];
	static struct vdp_take t[2][80];

	for (size_t ci = 0; ci < sizeof(cs) / sizeof(cs[0]); ci++) {
		const uint32_t size = cs[ci].size, first = cs[ci].first, then = cs[ci].then;
		const uint32_t nch = first + then;
		const bool group = then <= VDP_USED_BATCH_MAX;
		struct fx_opts o = { .size = size, .start = (uint16_t)(size - 3), .batch = true };
		uint32_t lor = 0;
		struct fx f[2];
		uint16_t pos[2], pend[2];
		bool ok = true, early, seen_early, kept_then;

		for (int w = 0; w < 2; w++) {
			fx_init(&f[w], &o);
			for (uint32_t i = 0; i < nch && ok; i++) {
				const uint32_t nb = cs[ci].slots != 0 ? cs[ci].slots : 1 + i % 3;
				const uint32_t len = cs[ci].lens ? 100 + i : 0;
				struct guest_buf b[3];
				struct vdp_chain c;

				if (cs[ci].made_up) {
					t[w][i] = (struct vdp_take){ NULL, len, (uint16_t)i,
								     (uint16_t)nb };
					continue;
				}
				for (uint32_t j = 0; j < nb; j++)
					b[j] = (struct guest_buf){ guest_tx_buf(&f[w], 64, i), 64,
								   false };
				ok = fx_post(&f[w], b, nb, false) >= 0 &&
				     vdp_vq_fetch(&f[w].vr, &f[w].m.mm, VDP_DIR_READ, &c) ==
					     VDP_FETCH_OK && c.ndesc == nb;
				t[w][i] = (struct vdp_take){ c.seg[0].hva, len, c.id, c.ndesc };
			}
		}
		/* the ones before handed over first: when with the k they
		 * would be more than a group (count; slots: made up) */
		early = !group || nch > VDP_USED_BATCH_MAX || cs[ci].made_up;
		for (uint32_t i = early ? first : 0; i < nch; i++)
			lor |= t[0][i].len;
		/* twin 0: first one at a time, then the rest in one call;
		 * twin 1: every one by vdp_packed_used_keep */
		for (uint32_t i = 0; i < first; i++)
			vdp_vq_used_put_n_l(&f[0].vr, &t[0][i], 1, cs[ci].lens, t[0][i].ndesc == 1,
					    VDP_LAYOUT_PACKED);
		vdp_vq_used_put_n_l(&f[0].vr, &t[0][first], then, cs[ci].lens, cs[ci].slots == 1,
				    VDP_LAYOUT_PACKED);
		kept_then = f[0].vr.nshadow == (!group ? nch % VDP_USED_BATCH_MAX :
						early ? then : nch) &&
			    (!group || f[0].vr.shadow_lens == lor);
		seen_early = f[0].vr.used_idx != o.start;
		for (uint32_t i = 0; i < nch; i++)
			vdp_packed_used_keep(&f[1].vr, t[1][i].id, t[1][i].ndesc, t[1][i].len);
		/* the same kept when neither handed any over early */
		kept_then = kept_then &&
			    (early || (f[0].vr.nshadow == f[1].vr.nshadow &&
				       f[0].vr.shadow_slots == f[1].vr.shadow_slots &&
				       memcmp(f[0].vr.shadow, f[1].vr.shadow,
					      f[0].vr.nshadow * sizeof(f[0].vr.shadow[0])) == 0));
		for (int w = 0; w < 2; w++) {
			pend[w] = f[w].vr.used_pending;
			vdp_vq_publish(&f[w].vr);
			memcpy(ring[w], f[w].g.ring, size * sizeof(ring[w][0]));
			pos[w] = f[w].vr.used_idx;
		}
		CHECK(ok && kept_then && seen_early == early && pend[0] == nch && pend[1] == nch,
		      "keep_n[%u: %u, then %u%s%s]: up to %u at once kept together, the ones before "
		      "handed over first only when they would not fit beside them; more: one at "
		      "a time; %u pending", size, first, then, cs[ci].lens ? "" : ", no length",
		      cs[ci].made_up ? ", made up" : "", VDP_USED_BATCH_MAX, nch);
		CHECK(memcmp(ring[0], ring[1], size * sizeof(ring[0][0])) == 0 &&
		      pos[0] == pos[1] && f[0].vr.used_wrap == f[1].vr.used_wrap &&
		      f[0].vr.used_pending == 0 && f[1].vr.used_pending == 0 &&
		      f[0].vr.nshadow == 0 && fx_none_held(&f[0]) && fx_none_held(&f[1]),
		      "keep_n[%u: %u, then %u]: after the publish the ring and positions are "
		      "those of one keep at a time, no id held", size, first, then);
		if (!cs[ci].made_up) {
			ok = true;
			for (uint32_t i = 0; i < nch; i++)
				ok = ok && guest_expect_used(&f[0], t[0][i].id, t[0][i].len);
			CHECK(ok && !guest_packed_used_ready(&f[0].g) && fx_in_sync(&f[0]),
			      "keep_n[%u: %u, then %u]: the guest gets each once, in order, its "
			      "length", size, first, then);
		}
		fx_fini(&f[0]);
		fx_fini(&f[1]);
	}
}

static void
test_used_batch(void)
{
	static struct vdp_pdesc snap[256];
	static uint8_t frame[4096], seen[8192];
	static uint16_t ids[80];
	struct vdp_net_hdr hdr = { 0 };
	struct fx_opts o = { .size = 16, .start = 10, .batch = true };
	struct guest_buf b[3];
	struct vdp_chain c[5];
	uint32_t id, len, got;
	struct fx f;
	int pid[5];
	bool ok;

	fill_pattern(frame, sizeof(frame), 11);

	/* kept, then handed over at the publish, in the order put */
	fx_init(&f, &o);
	for (int i = 0; i < 3; i++)
		b[i] = (struct guest_buf){ guest_tx_buf(&f, 64, (uint32_t)i), 64, false };
	for (int i = 0; i < 5; i++)
		pid[i] = fx_post(&f, b, 1 + (uint32_t)i % 3, false);   /* 1, 2, 3, 1, 2 slots */
	ok = true;
	for (int i = 0; i < 5; i++)
		ok = ok && vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[i]) == VDP_FETCH_OK &&
		     c[i].id == pid[i];
	memcpy(snap, f.g.ring, 16 * sizeof(snap[0]));
	{
		static const int order[5] = { 2, 0, 4, 1, 3 };

		for (int i = 0; i < 5; i++)
			vdp_vq_used_put(&f.vr, c[order[i]].id, c[order[i]].ndesc, 0);
		CHECK(ok && memcmp(snap, f.g.ring, 16 * sizeof(snap[0])) == 0 &&
		      !guest_packed_used_ready(&f.g) && f.vr.used_idx == 10 && f.vr.used_wrap &&
		      f.vr.nshadow == 5 && f.vr.used_pending == 5 && !fx_none_held(&f) &&
		      fx_held(&f, c[0].id) && fx_held(&f, c[4].id),
		      "batch: 5 chains (9 slots, across the wrap) put: not a byte of the ring "
		      "written, the used position where it was, their ids still held");
		CHECK(vdp_vq_publish(&f.vr) && f.vr.nshadow == 0 && f.vr.used_pending == 0 &&
		      f.vr.used_idx == 3 && !f.vr.used_wrap && fx_none_held(&f),
		      "batch: the publish hands them over: used position 9 slots on (3, wrap 0), "
		      "ids no longer held, a call (ENABLE)");
		ok = true;
		for (int i = 0; i < 5; i++)
			ok = ok && guest_expect_used(&f, (uint32_t)pid[order[i]], 0);
		CHECK(ok && !guest_packed_used_ready(&f.g) && fx_in_sync(&f) && f.g.nfree == 16,
		      "batch: the guest gets them in the order put (3, 1, 5, 2, 4), each once");
	}
	CHECK(!vdp_vq_publish(&f.vr), "batch: a publish with nothing kept: no call");
	fx_fini(&f);

	/* a bad chain met between kept elements: kept too, in ring order */
	fx_init(&f, &o);
	{
		struct guest_buf zb = { guest_alloc(&f.m, 64, 8), 0, false };
		int ga, gz, gc;
		enum vdp_fetch r;

		b[0] = (struct guest_buf){ guest_tx_buf(&f, 64, 1), 64, false };
		ga = fx_post(&f, b, 1, false);
		gz = fx_post(&f, &zb, 1, false);
		gc = fx_post(&f, b, 1, false);
		memcpy(snap, f.g.ring, 16 * sizeof(snap[0]));
		fx_mark(&f);
		vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[0]);
		vdp_vq_used_put(&f.vr, c[0].id, c[0].ndesc, 0);
		r = vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[1]);
		CHECK(r == VDP_FETCH_BAD && fx_only_err(&f, VDP_ERR_ZERO_LEN) &&
		      !guest_packed_used_ready(&f.g) && f.vr.nshadow == 2 &&
		      memcmp(snap, f.g.ring, 16 * sizeof(snap[0])) == 0,
		      "batch: a bad chain after a kept element: counted, kept after it (nothing "
		      "in the ring yet)");
		vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[2]);
		vdp_vq_used_put(&f.vr, c[2].id, c[2].ndesc, 0);
		vdp_vq_publish(&f.vr);
		CHECK(guest_expect_used(&f, (uint32_t)ga, 0) && guest_expect_used(&f, (uint32_t)gz, 0) &&
		      guest_expect_used(&f, (uint32_t)gc, 0) && fx_in_sync(&f) && fx_none_held(&f),
		      "batch: at the publish the guest gets them in ring order: good, bad (len 0), "
		      "good");
	}
	fx_fini(&f);

	/* a mergeable frame whose buffers do not fit the rest of the shadow:
	 * the kept elements are handed over first, the frame kept whole */
	o = (struct fx_opts){ .size = 256, .mrg = true, .batch = true };
	fx_init(&f, &o);
	for (int i = 0; i < 66; i++)
		post_rx_map(&f, 256);
	{
		struct vdp_iov one = { frame, 100 }, four = { frame, 1000 };
		uint32_t nf = 0;

		for (int i = 0; i < 62; i++)
			nf += vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &one, 1) == 0;
		CHECK(nf == 62 && !guest_packed_used_ready(&f.g) && f.vr.nshadow == 62,
		      "batch: 62 one-buffer frames kept");
		CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &four, 1) == 0 &&
		      guest_packed_used_pending(&f.g) == 62 && f.vr.nshadow == 4 &&
		      f.vr.used_pending == 66,
		      "batch: a 4-buffer frame with room for 2 left: the 62 handed over first (the "
		      "guest sees 62), the frame's 4 kept (%u seen, %u kept)",
		      guest_packed_used_pending(&f.g), f.vr.nshadow);
		ok = true;
		for (int i = 0; i < 62; i++)
			ok = ok && guest_read_mrg(&f, seen, &got) == 1 && got == 112 &&
			     memcmp(seen + 12, frame, 100) == 0;
		CHECK(ok && !guest_packed_used_ready(&f.g),
		      "batch: the 62 frames whole, nothing of the 4-buffer frame yet");
		fx_publish(&f);
		CHECK(guest_read_mrg(&f, seen, &got) == 4 && got == 1012 &&
		      memcmp(seen + 12, frame, 1000) == 0 && fx_in_sync(&f) && fx_none_held(&f),
		      "batch: at the publish the 4-buffer frame, whole");
	}
	fx_fini(&f);

	/* a frame of more buffers than the shadow holds: the kept elements
	 * handed over, then the frame directly, in ring order */
	fx_init(&f, &o);
	for (int i = 0; i < 3; i++)
		post_rx_map(&f, 256);
	for (int i = 0; i < 70; i++)
		post_rx_map(&f, 32);
	{
		struct vdp_iov one = { frame, 50 }, big = { frame, 70 * 32 - 12 };

		for (int i = 0; i < 3; i++)
			vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &one, 1);
		CHECK(!guest_packed_used_ready(&f.g) && f.vr.nshadow == 3,
		      "batch: 3 frames kept");
		CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &big, 1) == 0 &&
		      guest_packed_used_pending(&f.g) == 73 && f.vr.nshadow == 0 &&
		      f.vr.used_pending == 73,
		      "batch: a frame of 70 buffers (> %u): the 3 and the 70 handed over at once "
		      "(%u seen)", VDP_USED_BATCH_MAX, guest_packed_used_pending(&f.g));
		ok = true;
		for (int i = 0; i < 3; i++)
			ok = ok && guest_read_mrg(&f, seen, &got) == 1 && got == 62 &&
			     memcmp(seen + 12, frame, 50) == 0;
		CHECK(ok && guest_read_mrg(&f, seen, &got) == 70 && got == 70 * 32 &&
		      memcmp(seen + 12, frame, 70 * 32 - 12) == 0,
		      "batch: in ring order: the 3 frames, then the 70-buffer one whole");
		CHECK(vdp_vq_publish(&f.vr) && f.vr.used_pending == 0 && fx_in_sync(&f) &&
		      fx_none_held(&f), "batch: the publish after it: a call, nothing more");
	}
	fx_fini(&f);

	/* the shadow filling up in the middle of a burst */
	o = (struct fx_opts){ .size = 128, .start = 100, .batch = true };
	fx_init(&f, &o);
	ok = ub_take_put(&f, 64, ids) == 64;
	CHECK(ok && !guest_packed_used_ready(&f.g) && f.vr.nshadow == 64,
	      "batch: 64 put: all kept");
	ok = ub_take_put(&f, 6, ids + 64) == 6;
	CHECK(ok && guest_packed_used_pending(&f.g) == 64 && f.vr.nshadow == 6 &&
	      f.vr.used_pending == 70 && !fx_held(&f, ids[0]) && !fx_held(&f, ids[63]) &&
	      fx_held(&f, ids[64]) && fx_held(&f, ids[69]),
	      "batch: 70 put: the first 64 handed over when the 65th came (the guest sees "
	      "them, their ids free), 6 kept, 70 to publish (%u seen, %u kept, %u pending)",
	      guest_packed_used_pending(&f.g), f.vr.nshadow, f.vr.used_pending);
	ok = ub_expect(&f, ids, 64) && !guest_packed_used_ready(&f.g);
	CHECK(ok && vdp_vq_publish(&f.vr) && ub_expect(&f, ids + 64, 6) && fx_in_sync(&f) &&
	      fx_none_held(&f), "batch: in the order put, the last 6 at the publish");
	fx_fini(&f);

	/* the guest posts an id we keep (not yet handed over): refused */
	o = (struct fx_opts){ .size = 16, .batch = true };
	fx_init(&f, &o);
	{
		struct vdp_pdesc d;

		ub_take_put(&f, 1, ids);
		raw_descs(&f, &d, 1, ids[0], false);
		guest_packed_post_desc(&f.g, &d, 1, true);
		fx_mark(&f);
		CHECK(vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[0]) == VDP_FETCH_BROKEN &&
		      f.vr.broken && fx_only_err(&f, VDP_ERR_BAD_ID),
		      "batch: the guest posts id %u again while we keep its used element: bad_id, "
		      "ring broken", ids[0]);
		CHECK(!guest_packed_used_ready(&f.g) && vdp_vq_publish(&f.vr) &&
		      guest_expect_used(&f, ids[0], 0),
		      "batch: the kept element still handed over at the publish (once)");
	}
	fx_fini(&f);

	/* unfetch and rewind next to kept elements */
	o = (struct fx_opts){ .size = 16, .start = 14, .batch = true, .mrg = true };
	fx_init(&f, &o);
	{
		int ga, gb;

		b[0] = (struct guest_buf){ guest_tx_buf(&f, 64, 1), 64, false };
		ga = fx_post(&f, b, 2, false);                 /* slots 14, 15 */
		gb = fx_post(&f, b, 3, false);                 /* slots 0..2 */
		vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[0]);
		vdp_vq_used_put(&f.vr, c[0].id, c[0].ndesc, 0);
		vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[1]);
		vdp_vq_unfetch(&f.vr, &c[1]);
		CHECK(c[1].id == gb && f.vr.last_avail == 0 && !f.vr.avail_wrap &&
		      !fx_held(&f, (uint16_t)gb) && fx_held(&f, (uint16_t)ga) && f.vr.nshadow == 1,
		      "batch: unfetch after a kept element: back to slot 0, that id free, the kept "
		      "one still ours");
		CHECK(vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[1]) == VDP_FETCH_OK &&
		      c[1].id == gb, "batch: the chain taken again");
		vdp_vq_used_put(&f.vr, c[1].id, c[1].ndesc, 0);
		vdp_vq_publish(&f.vr);
		CHECK(guest_expect_used(&f, (uint32_t)ga, 0) && guest_expect_used(&f, (uint32_t)gb, 0) &&
		      fx_in_sync(&f) && fx_none_held(&f), "batch: both handed over in order");
	}
	fx_fini(&f);

	o = (struct fx_opts){ .size = 32, .mrg = true, .batch = true };
	fx_init(&f, &o);
	{
		struct vdp_iov one = { frame, 100 }, four = { frame, 1000 };
		struct guest_buf zb = { guest_alloc(&f.m, 64, 8), 0, true };
		int hz, hg;

		post_rx_map(&f, 256);
		vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &one, 1);
		post_rx_map(&f, 256);
		post_rx_map(&f, 256);
		fx_mark(&f);
		CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &four, 1) == VDP_ERR_NO_RX_BUF &&
		      fx_only_err(&f, VDP_ERR_NO_RX_BUF) && fx_left(&f) == 2 && f.vr.nshadow == 1 &&
		      f.vr.used_pending == 1,
		      "batch: a frame that does not fit after a kept one: its buffers rewound "
		      "(2 left), the kept one untouched");
		fx_publish(&f);
		CHECK(guest_read_mrg(&f, seen, &got) == 1 && got == 112 &&
		      !guest_packed_used_ready(&f.g),
		      "batch: the publish hands over the first frame only");
		post_rx_map(&f, 256);
		post_rx_map(&f, 256);
		CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &four, 1) == 0 &&
		      (fx_publish(&f), true) && guest_read_mrg(&f, seen, &got) == 4 && got == 1012 &&
		      memcmp(seen + 12, frame, 1000) == 0,
		      "batch: it fits once the guest posts more, the rewound buffers taken again");
		/* a good buffer, a bad chain, then none: the good one comes
		 * back empty after the bad one */
		hg = post_rx_map(&f, 256);
		hz = fx_post(&f, &zb, 1, false);
		fx_mark(&f);
		CHECK(vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &four, 1) == VDP_ERR_NO_RX_BUF &&
		      !guest_packed_used_ready(&f.g) && f.vr.nshadow == 2,
		      "batch: good buffer, bad chain, then none: both kept");
		fx_publish(&f);
		CHECK(fx_get_used(&f, &id, &len) == 1 && id == (uint32_t)hz && len == 0 &&
		      fx_get_used(&f, &id, &len) == 1 && id == (uint32_t)hg && len == 0 &&
		      fx_in_sync(&f) && fx_none_held(&f) && f.early == 0,
		      "batch: then the bad chain and the good buffer, both empty, in that order");
	}
	fx_fini(&f);

	/* a hostile guest has us take more than a ring's worth of slots
	 * before any is given back (it posts again into slots we took): the
	 * kept elements are handed over before one group would land on its
	 * own slots */
	o = (struct fx_opts){ .size = 4, .batch = true };
	fx_init(&f, &o);
	{
		uint64_t buf = guest_tx_buf(&f, 64, 3);
		int ga, gb;

		b[0] = b[1] = b[2] = (struct guest_buf){ buf, 64, false };
		ga = fx_post(&f, b, 3, false);                 /* slots 0..2 */
		gb = fx_post(&f, b, 1, false);                 /* slot 3 */
		vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[0]);
		vdp_vq_used_put(&f.vr, c[0].id, c[0].ndesc, 0);
		vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[1]);
		vdp_vq_used_put(&f.vr, c[1].id, c[1].ndesc, 0);
		/* slots 0 and 1 again, in the next lap, id 2 */
		guest_packed_set_desc(&f.g, 1, buf, 64, 2, guest_packed_avail_bits(false));
		guest_packed_set_desc(&f.g, 0, buf, 64, 2,
				      VDP_DESC_F_NEXT | guest_packed_avail_bits(false));
		CHECK(f.vr.nshadow == 2 && f.vr.shadow_slots == 4 && !guest_packed_used_ready(&f.g) &&
		      vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[2]) == VDP_FETCH_OK &&
		      c[2].id == 2 && c[2].ndesc == 2,
		      "batch: ring of 4: 4 slots kept, then a chain the guest posted over 2 of them");
		vdp_vq_used_put(&f.vr, c[2].id, c[2].ndesc, 0);
		CHECK(f.vr.nshadow == 1 && f.vr.shadow_slots == 2 && f.vr.used_idx == 0 &&
		      !f.vr.used_wrap && guest_expect_used(&f, (uint32_t)ga, 0) &&
		      guest_expect_used(&f, (uint32_t)gb, 0),
		      "batch: its element would lap the kept ones: those handed over first (the "
		      "guest has them, whole), it kept");
		fx_publish(&f);
		CHECK(f.g.ring[0].id == 2 && f.g.ring[0].flags == guest_packed_used_bits(false) &&
		      f.vr.used_idx == 2 && !f.vr.used_wrap,
		      "batch: then at the publish, in the next lap");
	}
	fx_fini(&f);

	/* the call decision covers every element handed over since the last
	 * one, those of a full shadow too */
	o = (struct fx_opts){ .size = 128, .event_idx = true, .batch = true };
	fx_init(&f, &o);
	vdp_packed_need_call(&f.vr);                        /* the past is known */
	guest_packed_set_event(&f.g, VDP_PEVENT_DESC, 3, true);
	ub_take_put(&f, 5, ids);
	CHECK(vdp_vq_publish(&f.vr), "batch: DESC at 3: 5 kept then handed over: a call");
	ub_expect(&f, ids, 5);
	guest_packed_set_event(&f.g, VDP_PEVENT_DESC, 20, true);
	ub_take_put(&f, 2, ids);
	CHECK(!vdp_vq_publish(&f.vr), "batch: DESC at 20, used position 7: no call");
	ub_expect(&f, ids, 2);
	guest_packed_set_event(&f.g, VDP_PEVENT_DESC, 12, true);   /* in the first 64 */
	ub_take_put(&f, 70, ids);
	CHECK(guest_packed_used_pending(&f.g) == 64 && vdp_vq_publish(&f.vr),
	      "batch: DESC at 12, 64 handed over mid-burst then 6 at the publish: a call");
	ub_expect(&f, ids, 70);
	/* used position 77 (wrap 1): the 64 reach 141, the 6 147 (slot 19,
	 * wrap 0); the event at 143 (slot 15, wrap 0) */
	guest_packed_set_event(&f.g, VDP_PEVENT_DESC, 15, false);
	ub_take_put(&f, 70, ids);
	CHECK(guest_packed_used_pending(&f.g) == 64 && vdp_vq_publish(&f.vr),
	      "batch: DESC at the 66th slot on: passed by the publish's 6, not by the 64: a "
	      "call");
	ub_expect(&f, ids, 70);
	guest_packed_set_event(&f.g, VDP_PEVENT_DESC, 119, true);   /* 147 + 100 */
	ub_take_put(&f, 70, ids);
	CHECK(!vdp_vq_publish(&f.vr), "batch: DESC 100 slots on, 70 handed over: no call");
	ub_expect(&f, ids, 70);
	guest_packed_disable_cb(&f.g);
	ub_take_put(&f, 70, ids);
	CHECK(!vdp_vq_publish(&f.vr) && ub_expect(&f, ids, 70) && fx_in_sync(&f),
	      "batch: DISABLE: no call, whatever was handed over");
	fx_fini(&f);
}

/* ---- a mergeable frame is seen whole (2.7.9 Multi-buffer requests) ---- */

static void
segv_exit(int sig)
{
	(void)sig;
	_exit(3);
}

/*
 * The frame's first used element must be marked used only after the
 * others are written. Its second element goes to the first slot of a
 * page the device may not write: the device faults there, in a child
 * process; the parent, sharing the guest memory, then looks at the first
 * element: it must not be marked used yet.
 */
static void
test_mrg_visible(void)
{
	const long pg = sysconf(_SC_PAGESIZE);
	const uint32_t per_page = (uint32_t)pg / sizeof(struct vdp_pdesc);
	struct fx_opts o = { .size = 2 * per_page, .start = (uint16_t)(per_page - 1), .mrg = true };
	uint8_t frame[300];
	struct vdp_net_hdr hdr = { 0 };
	struct vdp_iov iov = { frame, sizeof(frame) };
	struct fx f;
	int status = 0;
	pid_t pid;

	if (o.size > VDP_RING_SIZE_MAX) {
		CHECK(1, "mrg-visible: skipped (pages of %ld bytes)", pg);
		return;
	}
	fill_pattern(frame, sizeof(frame), 5);
	fx_init(&f, &o);
	CHECK(f.g.ring_gpa % (uint64_t)pg == 0, "mrg-visible: ring page-aligned");
	post_rx(&f, 256, NULL);     /* slot per_page - 1 */
	post_rx(&f, 256, NULL);     /* slot per_page: the next page */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		uint8_t *second = (uint8_t *)guest_host_ptr(&f.m, f.g.ring_gpa) + pg;

		signal(SIGSEGV, segv_exit);
		if (mprotect(second, (size_t)pg, PROT_READ) != 0)
			_exit(4);
		vdp_packed_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	CHECK(pid > 0 && !(WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 4)),
	      "mrg-visible: the device faulted writing the second used element (status 0x%x)", status);
	CHECK(!guest_packed_used_ready(&f.g),
	      "mrg-visible: by then the first element was not marked used (the guest never sees part of a frame)");
	fx_fini(&f);

	/* and without the fault: both, whole */
	fx_init(&f, &o);
	post_rx(&f, 256, NULL);
	post_rx(&f, 256, NULL);
	CHECK(vdp_packed_enqueue_frame(&f.vr, &f.m.mm, &hdr, &iov, 1) == 0 &&
	      guest_packed_used_pending(&f.g) == 2, "mrg-visible: unhindered, the frame's 2 elements are there");
	fx_fini(&f);
}

/* ---- IN_ORDER with used_batch: a burst's TX chains as one used element ---- */
static void
test_used_batch_inorder(void)
{
	static struct vdp_pdesc snap[16];
	static uint8_t frame[256];
	static struct vdp_ring_state st;
	struct vdp_net_hdr hdr = { 0 };
	struct fx_opts o = { .size = 16, .start = 10, .batch = true };
	struct guest_buf b[3];
	struct vdp_chain c[5];
	struct vdp_iov one = { frame, 100 };
	uint32_t id, len, changed = 0;
	struct fx f;
	int pid[5];
	bool ok;

	/* five chains of 1, 2, 3, 1, 2 slots across the wrap, put in order:
	 * one element at the first slot, the last one's id, 9 slots on */
	fx_init(&f, &o);
	f.vr.in_order = true;
	f.g.in_order = true;
	for (int i = 0; i < 3; i++)
		b[i] = (struct guest_buf){ guest_tx_buf(&f, 64, (uint32_t)i), 64, false };
	for (int i = 0; i < 5; i++)
		pid[i] = fx_post(&f, b, 1 + (uint32_t)i % 3, false);
	ok = true;
	for (int i = 0; i < 5; i++)
		ok = ok && vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[i]) == VDP_FETCH_OK &&
		     c[i].id == pid[i];
	memcpy(snap, f.g.ring, sizeof(snap));
	for (int i = 0; i < 5; i++)
		vdp_vq_used_put(&f.vr, c[i].id, c[i].ndesc, 0);
	CHECK(ok && vdp_vq_publish(&f.vr) && f.vr.used_idx == 3 && !f.vr.used_wrap &&
	      f.vr.used_pending == 0 && fx_none_held(&f),
	      "in-order: 5 TX chains (9 slots) published: used position 9 slots on (3, wrap 0), "
	      "no id held");
	for (int s = 0; s < 16; s++)
		changed += memcmp(&snap[s], &f.g.ring[s], sizeof(snap[s])) != 0;
	CHECK(changed == 1 && f.g.ring[10].id == pid[4] &&
	      guest_packed_used_pending(&f.g) == 5,
	      "in-order: one descriptor of the ring written (%u), at slot 10, with the last "
	      "chain's id %d: the guest sees its 5 chains used", changed, pid[4]);
	CHECK(fx_get_used(&f, &id, &len) == 1 && id == (uint32_t)pid[4] && len == 0 &&
	      f.g.nused == 5 && f.g.nfree == 16 && fx_in_sync(&f) &&
	      fx_get_used(&f, &id, &len) == 0,
	      "in-order: an in-order driver reads the one element and has all 5 chains back");
	CHECK(ring_still_works_tx(&f), "in-order: the ring goes on (a chain of the next lap)");
	fx_fini(&f);

	/* one chain kept: its own element, as without IN_ORDER */
	fx_init(&f, &o);
	f.vr.in_order = true;
	f.g.in_order = true;
	for (int i = 0; i < 2; i++)
		b[i] = (struct guest_buf){ guest_tx_buf(&f, 64, 2), 64, false };
	pid[0] = fx_post(&f, b, 2, false);
	ok = vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[0]) == VDP_FETCH_OK;
	vdp_vq_used_put(&f.vr, c[0].id, c[0].ndesc, 0);
	vdp_vq_publish(&f.vr);
	CHECK(ok && guest_expect_used(&f, (uint32_t)pid[0], 0) && fx_in_sync(&f),
	      "in-order: a single chain gets its element");
	fx_fini(&f);

	/* guest RX (the device wrote: len != 0): every buffer its element */
	o = (struct fx_opts){ .size = 16, .mrg = true, .batch = true };
	fx_init(&f, &o);
	f.vr.in_order = true;
	f.g.in_order = true;
	fill_pattern(frame, sizeof(frame), 5);
	for (int i = 0; i < 3; i++)
		pid[i] = post_rx(&f, 256, NULL);
	ok = true;
	for (int i = 0; i < 3; i++)
		ok = ok && vdp_vq_enqueue_frame(&f.vr, &f.m.mm, &hdr, &one, 1) == 0;
	vdp_vq_publish(&f.vr);
	for (int i = 0; i < 3; i++)
		ok = ok && guest_expect_used(&f, (uint32_t)pid[i], 112);
	CHECK(ok && fx_in_sync(&f) && fx_none_held(&f),
	      "in-order: 3 received frames, 3 used elements each with its length");
	fx_fini(&f);

	/* a chain the state holds (zero-copy) among them: each its element
	 * (one element for all would let the state give the held one back
	 * again after a crash) */
	o = (struct fx_opts){ .size = 16, .start = 10, .batch = true };
	for (int how = 0; how < 2; how++) {
		fx_init(&f, &o);
		f.vr.in_order = true;
		f.g.in_order = true;
		memset(&st, 0, sizeof(st));
		vdp_ring_state_attach(&f.vr, &st);
		ok = !f.vr.state_holds;
		b[0] = (struct guest_buf){ guest_tx_buf(&f, 64, 3), 64, false };
		for (int i = 0; i < 3; i++)
			pid[i] = fx_post(&f, b, 1, false);
		for (int i = 0; i < 3; i++)
			ok = ok && vdp_vq_fetch(&f.vr, &f.m.mm, VDP_DIR_READ, &c[i]) ==
				   VDP_FETCH_OK;
		if (how == 0) {
			/* held the way zero-copy holds it */
			vdp_ring_state_held(&f.vr, c[1].id, c[1].ndesc);
		} else {
			/* held in the state when it was attached (a ring
			 * reloaded in place keeps its state) */
			st.held[c[1].id] = c[1].ndesc;
			vdp_ring_state_attach(&f.vr, &st);
		}
		ok = ok && f.vr.state_holds;
		for (int i = 0; i < 3; i++)
			vdp_vq_used_put(&f.vr, c[i].id, c[i].ndesc, 0);
		vdp_vq_publish(&f.vr);
		f.g.in_order = false;   /* read element by element */
		for (int i = 0; i < 3; i++)
			ok = ok && guest_expect_used(&f, (uint32_t)pid[i], 0);
		CHECK(ok && fx_in_sync(&f) && st.held[c[1].id] == 0,
		      "in-order: a chain held %s among them: 3 elements, its held entry cleared",
		      how == 0 ? "(vdp_ring_state_held)" : "(in the state attached)");
		fx_fini(&f);
	}
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_init();
	test_tx_chains();
	test_rx_packed();
	test_wrap_tx(false);
	test_wrap_tx(true);
	test_wrap_rx(false);
	test_wrap_rx(true);
	test_out_of_order(false);
	test_out_of_order(true);
	test_unfetch();
	test_frames(true, false);
	test_frames(false, false);
	test_frames(false, true);
	test_plain(true, false);
	test_plain(false, false);
	test_plain(false, true);
	test_take_n();
	test_peer_take_n();
	test_peer_hold();
	test_used_batch();
	test_keep_n();
	test_used_batch_inorder();
	test_budget();
	test_notify();
	test_hostile_phase();
	test_hostile_ids();
	test_hostile_extent();
	test_hostile_indirect();
	test_hostile_buffers();
	test_hostile_one_slot();
	test_rewrite();
	test_mrg_visible();
	return check_summary();
}
