/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the split-ring walkers (vdp_split.c, vdp_mem.c) driven
 * as the PMD drives them, over a ring and a guest memory map that the
 * input describes: bursts of avail_count, fetches in both directions,
 * reads/writes of the chains, frames enqueued (mergeable or not), used
 * flush, need_call, suppress_kicks.
 *
 * Two kinds of checks, both abort() (that is what makes a finding):
 *  - invariants that hold whatever the guest wrote (every segment of a
 *    chain inside one region, segment count and length sums, the burst
 *    budget, one used element per chain consumed, a broken ring stays
 *    broken and touches nothing);
 *  - a model: the ring rules of vdp_ring.h written out a second time in
 *    plain code (struct fz_model), run side by side with the library on a
 *    shadow copy of guest memory. After every call the ring state, the
 *    used ring and guest memory must match the model byte for byte, so a
 *    chain wrongly accepted or refused, a descriptor not charged to the
 *    budget, a frame written to the wrong place or a buffer lost all show.
 *
 * Memory: the descriptor table, the avail ring and the used ring each end
 * at a PROT_NONE page, and so does guest memory (its regions are laid out
 * with gaps in between); everything around them is poisoned for ASan.
 * The rings are not in guest memory: guest buffers cannot alias them,
 * which keeps the model simple (aliasing between guest buffers, indirect
 * tables included, is allowed and modelled). Guest memory does not change
 * during a library call: this is single-threaded (the concurrent case is
 * the unit tests' racing guest).
 *
 * One departure from "every buffer taken is given back" is by design and
 * allowed (corpus/split/regress-mrg-break-broken-ring): see the enqueue
 * check. VDP_FUZZ_STRICT=1 in the environment makes it abort too.
 *
 * Input layout (little-endian; missing bytes read as zero):
 *   0  u8   ring size: 1 << (v % 9)  (1..256 entries)
 *   1  u8   features: 1 INDIRECT_DESC, 2 EVENT_IDX, 4 MRG_RXBUF,
 *           8 header length 12 (else 10)
 *   2  u8   operations: 1 avail_count at burst start, 2 fetches for guest
 *           TX (VDP_DIR_READ), 4 fetches for guest RX (VDP_DIR_WRITE),
 *           8 enqueue frames, 16 give the first TX chain of the first
 *           burst back (unfetch, as on mbuf exhaustion), 32 suppress_kicks,
 *           64 need_call after the flush, 128 kicks asked for and the
 *           ring looked at again, then off (rx interrupt mode)
 *   3  u8   bursts: 1 + v % 4
 *   4  u8   TX fetches per burst: v % 33
 *   5  u8   RX fetches per burst: v % 33
 *   6  u16  initial last_avail (the VMM's hand-over)
 *   8  u16  initial used idx
 *  10  u16  avail idx step: the guest posts that many more between bursts
 *  12  u8   regions: 1 + v % 3
 *  13  u8   frames per burst: v % 4
 *  14  u16  frame payload lengths [3] (see fz_frame_len)
 *  20  u8   frame cuts [3]: pieces 1 + (v >> 6) % 3, first piece
 *           len * (v & 63) / 63, the rest halved
 *  23  u8   TX chain partial read: offset selector
 *  24  u16  RX chain write offset
 *  26  u16  RX chain write length (% 4096)
 *  28  u8   probe selector for vdp_gpa_to_hva / vdp_hva_in_map
 *  29  u8   [3] reserved
 *  32  12   virtio-net header handed to vdp_split_enqueue_frame
 *  44       descriptor table: 16 bytes per entry, size entries
 *  ..       avail ring: flags, idx, ring[size], used_event
 *  ..       memory map: 3 x (u64 gpa, u32 size: 1 + v % 16384,
 *           u16 offset of the region's bytes in the blob, u16 reserved)
 *  ..       blob: guest memory bytes (region i from its offset; zero
 *           past the end of the input)
 *
 * fuzz-args: -max_len=8192
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include "vdp_ring.h"

#define FZ_NAME "fuzz_split"
#include "fuzz_check.h"

#define FZ_HDR_LEN 44u
#define FZ_RING_MAX 256u
#define FZ_NREG 3u
#define FZ_REGION_MAX 16384u
/* Each region sits at the end of a slot of its own, 64-byte aligned, so
 * that regions contiguous in gpa are not contiguous in host memory (a
 * walker that runs from one into the next shows) and the last one ends
 * within 64 bytes of a PROT_NONE page. */
#define FZ_SLOT (FZ_REGION_MAX + 128u)
#define FZ_ARENA (FZ_NREG * FZ_SLOT)
#define FZ_FRAMES 3u
#define FZ_PIECES 3u
#define FZ_FRAME_MAX 65535u
#define FZ_BURSTS_MAX 4u
#define FZ_FETCH_MAX 32u

#define OP_COUNT   0x01
#define OP_TX      0x02
#define OP_RX      0x04
#define OP_FRAMES  0x08
#define OP_UNFETCH 0x10
#define OP_SUPPRESS 0x20
#define OP_CALL    0x40
#define OP_KICKS   0x80


/* ---- input reader: fuzz_check.h ---- */


/* ---- the harness's memory: fixed, allocated once ---- */

struct fz_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;      /* what the library is given */
	uint8_t *shadow;   /* the model's copy */
};

/* What the model believes the device state is (mirrors struct vdp_vring). */
struct fz_model {
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t avail_cache;
	uint16_t signalled_used;
	bool signalled_valid;
	bool broken;
	bool budget_hit;
	uint32_t budget_desc;
	uint32_t budget_bad;
	uint32_t granted;      /* allowances of the frames enqueued this burst */
	uint32_t reads;        /* descriptors loaded this burst, as walked here */
	uint64_t budget_stops;
	uint64_t err[VDP_ERR_MAX];
	uint16_t used_flags;   /* used->flags and used->idx as published */
	uint16_t avail_event;  /* after the used ring (EVENT_IDX kicks) */
	uint16_t used_pub;
	struct vdp_used_elem ring[FZ_RING_MAX];
};

static struct {
	size_t page;
	uint8_t *desc_page, *avail_page, *used_page; /* one page each */
	uint8_t *arena;                              /* guest memory */
	uint8_t shadow[FZ_ARENA];                    /* the model's copy */
	uint8_t pattern[FZ_FRAME_MAX + 256];         /* frame payload bytes */
	uint8_t stream[VDP_NET_HDR_LEN_MRG + FZ_FRAME_MAX];
	uint8_t scratch[VDP_NET_HDR_LEN_MRG + VDP_TX_FRAME_MAX];

	/* per input */
	uint16_t size;
	uint16_t hdr_len;
	bool indirect, event_idx, mrg;
	struct vdp_desc *desc;
	struct vdp_avail *avail;
	struct vdp_used *used;
	uint32_t nreg;
	struct fz_region reg[FZ_NREG];
	struct vdp_memmap mm;
	struct vdp_vring vr;
	struct fz_model m;
	uint64_t ncb;          /* on_err calls */
	bool strict;           /* VDP_FUZZ_STRICT=1: the allowed loss aborts too */
	uint16_t la0, ui0;     /* initial last_avail / used idx */
} fz;

static uint8_t *
fz_guarded(size_t len)
{
	size_t n = (len + fz.page - 1) & ~(fz.page - 1);
	uint8_t *p = mmap(NULL, n + 2 * fz.page, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + fz.page, n, PROT_READ | PROT_WRITE) != 0) {
		perror("fuzz_split: mmap");
		abort();
	}
	return p + fz.page;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz.page = (size_t)sysconf(_SC_PAGESIZE);
	fz.strict = getenv("VDP_FUZZ_STRICT") != NULL &&
		    strcmp(getenv("VDP_FUZZ_STRICT"), "1") == 0;
	if (fz.page < 4096 || FZ_RING_MAX * sizeof(struct vdp_desc) > fz.page)
		abort();
	fz.desc_page = fz_guarded(fz.page);
	fz.avail_page = fz_guarded(fz.page);
	fz.used_page = fz_guarded(fz.page);
	fz.arena = fz_guarded(FZ_ARENA);
	/* Not a multiple of anything the ring uses: misplaced bytes show. */
	for (uint32_t i = 0; i < sizeof(fz.pattern); i++)
		fz.pattern[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + 1);
	return 0;
}

/* ---- reference translation and chain walk (the model's own) ---- */

/* gpa -> (region, offset, contiguous length), first region that holds gpa,
 * as vdp_gpa_to_hva is specified. */
static bool
ref_xlate(uint64_t gpa, uint64_t want, uint32_t *reg, uint64_t *off, uint64_t *len)
{
	if (want > UINT64_MAX - gpa)
		return false;
	for (uint32_t i = 0; i < fz.nreg; i++) {
		const struct fz_region *r = &fz.reg[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			*reg = i;
			*off = gpa - r->gpa;
			*len = want < r->size - *off ? want : r->size - *off;
			return true;
		}
	}
	return false;
}

struct ref_seg {
	uint32_t reg;
	uint32_t off;
	uint32_t len;
};

struct ref_chain {
	uint16_t head;
	uint32_t nseg;
	uint64_t total;
	struct ref_seg seg[VDP_CHAIN_MAX_SEGS];
};

enum ref_verdict { REF_OK, REF_BAD, REF_FATAL };

struct ref_walk {
	enum ref_verdict v;
	enum vdp_err err;
	uint32_t reads;   /* descriptors loaded before the verdict */
};

static enum ref_verdict
ref_fail(struct ref_walk *w, enum vdp_err e, bool fatal)
{
	w->v = fatal ? REF_FATAL : REF_BAD;
	w->err = e;
	return w->v;
}

/*
 * Walk the chain at head as vdp_ring.h and virtio 1.1 2.6.5 say: buffers
 * of the right direction, non-empty, inside guest memory (split at region
 * ends), at most VDP_CHAIN_MAX_SEGS segments; one level of indirection
 * (negotiated, no NEXT, a whole number of descriptors, one region, 8-byte
 * aligned); a chain longer than its table is a loop. Index errors and
 * loops in the main table break the ring. Indirect tables are read from
 * the shadow (the model's guest memory).
 */
static enum ref_verdict
ref_walk(enum vdp_dir dir, uint16_t head, struct ref_chain *c, struct ref_walk *w)
{
	const uint16_t want = dir == VDP_DIR_WRITE ? VDP_DESC_F_WRITE : 0;
	const uint8_t *tbl = (const uint8_t *)fz.desc;
	uint32_t tsize = fz.size, idx = head, walked = 0;
	bool in_ind = false;

	w->reads = 0;
	c->head = head;
	c->nseg = 0;
	c->total = 0;
	for (;;) {
		struct vdp_desc d;

		if (idx >= tsize)
			return ref_fail(w, VDP_ERR_BAD_DESC, !in_ind);
		if (++walked > tsize)
			return ref_fail(w, VDP_ERR_LOOP, !in_ind);
		memcpy(&d, tbl + (size_t)idx * sizeof(d), sizeof(d));
		w->reads++;
		if (d.flags & VDP_DESC_F_INDIRECT) {
			uint64_t off, len;
			uint32_t reg;

			if (in_ind)
				return ref_fail(w, VDP_ERR_NESTED_INDIRECT, false);
			if (!fz.indirect)
				return ref_fail(w, VDP_ERR_BAD_DESC, false);
			if (d.flags & VDP_DESC_F_NEXT)
				return ref_fail(w, VDP_ERR_BAD_INDIRECT, false);
			if (d.len == 0 || d.len % sizeof(d) != 0 ||
			    d.len / sizeof(d) > VDP_RING_SIZE_MAX)
				return ref_fail(w, VDP_ERR_BAD_INDIRECT, false);
			if (!ref_xlate(d.addr, d.len, &reg, &off, &len) || len != d.len)
				return ref_fail(w, VDP_ERR_BAD_ADDR, false);
			if (((uintptr_t)fz.reg[reg].hva + off) % 8 != 0)
				return ref_fail(w, VDP_ERR_BAD_INDIRECT, false);
			tbl = fz.reg[reg].shadow + off;
			tsize = d.len / sizeof(d);
			idx = 0;
			walked = 0;
			in_ind = true;
			continue;
		}
		if ((d.flags & VDP_DESC_F_WRITE) != want)
			return ref_fail(w, VDP_ERR_BAD_DESC, false);
		if (d.len == 0)
			return ref_fail(w, VDP_ERR_ZERO_LEN, false);
		for (uint64_t gpa = d.addr, rem = d.len; rem != 0;) {
			uint64_t off, len;
			uint32_t reg;

			if (!ref_xlate(gpa, rem, &reg, &off, &len))
				return ref_fail(w, VDP_ERR_BAD_ADDR, false);
			if (c->nseg == VDP_CHAIN_MAX_SEGS)
				return ref_fail(w, VDP_ERR_CHAIN_TOO_LONG, false);
			c->seg[c->nseg++] = (struct ref_seg){
				.reg = reg, .off = (uint32_t)off, .len = (uint32_t)len,
			};
			gpa += len;
			rem -= len;
		}
		c->total += d.len;
		if (!(d.flags & VDP_DESC_F_NEXT))
			break;
		idx = d.next;
	}
	if (c->total > UINT32_MAX)
		return ref_fail(w, VDP_ERR_TOO_BIG, false);
	if (dir == VDP_DIR_READ) {
		if (c->total > (uint64_t)fz.hdr_len + VDP_TX_FRAME_MAX)
			return ref_fail(w, VDP_ERR_TOO_BIG, false);
		if (c->total < fz.hdr_len)
			return ref_fail(w, VDP_ERR_SHORT_CHAIN, false);
	}
	w->v = REF_OK;
	w->err = VDP_ERR_NONE;
	return w->v;
}

/* ---- the model's ring operations ---- */

static void
model_err(enum vdp_err e)
{
	fz.m.err[e]++;
}

static void
model_break(enum vdp_err e)
{
	if (fz.m.broken)
		return;
	fz.m.broken = true;
	model_err(e);
}

static void
model_put(uint16_t head, uint32_t len)
{
	fz.m.ring[fz.m.used_idx & (fz.size - 1)] = (struct vdp_used_elem){
		.id = head, .len = len,
	};
	fz.m.used_idx++;
}

static uint16_t
avail_idx_now(void)
{
	uint16_t v;

	memcpy(&v, &fz.avail->idx, sizeof(v));
	return v;
}

static uint16_t
model_avail_count(void)
{
	uint16_t idx = avail_idx_now(), n;

	if (fz.m.broken)
		return 0;
	n = (uint16_t)(idx - fz.m.last_avail);
	if (n > fz.size) {
		model_break(VDP_ERR_AVAIL_JUMP);
		return 0;
	}
	fz.m.avail_cache = idx;
	return n;
}

static enum vdp_fetch
model_limit(void)
{
	if (!fz.m.budget_hit) {
		fz.m.budget_hit = true;
		fz.m.budget_stops++;
	}
	return VDP_FETCH_LIMIT;
}

/*
 * One fetch: nothing when broken or out of budget or empty; a head out of
 * range breaks the ring; a walk that needs more descriptors than the
 * budget has left consumes nothing and ends the burst's walking.
 */
static enum vdp_fetch
model_fetch(enum vdp_dir dir, struct ref_chain *c)
{
	struct ref_walk w;
	uint16_t head;

	if (fz.m.broken)
		return VDP_FETCH_BROKEN;
	if (fz.m.budget_desc == 0 || fz.m.budget_bad == 0)
		return model_limit();
	if (fz.m.last_avail == fz.m.avail_cache && model_avail_count() == 0)
		return fz.m.broken ? VDP_FETCH_BROKEN : VDP_FETCH_EMPTY;
	memcpy(&head, &fz.avail->ring[fz.m.last_avail & (fz.size - 1)], sizeof(head));
	if (head >= fz.size) {
		model_break(VDP_ERR_BAD_DESC);
		return VDP_FETCH_BROKEN;
	}
	ref_walk(dir, head, c, &w);
	if (w.reads > fz.m.budget_desc) {
		/* the library loads what the budget allows, then stops */
		fz.m.reads += fz.m.budget_desc;
		fz.m.budget_desc = 0;
		return model_limit();
	}
	fz.m.reads += w.reads;
	fz.m.budget_desc -= w.reads;
	switch (w.v) {
	case REF_OK:
		fz.m.last_avail++;
		return VDP_FETCH_OK;
	case REF_FATAL:
		model_break(w.err);
		return VDP_FETCH_BROKEN;
	case REF_BAD:
		break;
	}
	model_err(w.err);
	model_put(head, 0);
	fz.m.last_avail++;
	fz.m.budget_bad--;
	return VDP_FETCH_BAD;
}

/* Write bytes [0, len) of src into chain c from byte off, in the shadow. */
static uint32_t
model_chain_write(const struct ref_chain *c, uint64_t off, const uint8_t *src, uint64_t len)
{
	uint32_t done = 0;

	for (uint32_t i = 0; i < c->nseg && done < len; i++) {
		const struct ref_seg *s = &c->seg[i];
		uint64_t n;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off;
		if (n > len - done)
			n = len - done;
		memmove(fz.reg[s->reg].shadow + s->off + off, src + done, n);
		done += (uint32_t)n;
		off = 0;
	}
	return done;
}

static enum vdp_fetch
model_fetch_rx(struct ref_chain *c, uint32_t *nbad)
{
	enum vdp_fetch r;

	while ((r = model_fetch(VDP_DIR_WRITE, c)) == VDP_FETCH_BAD)
		++*nbad;
	return r;
}

static enum vdp_err
model_miss(enum vdp_fetch r)
{
	return r == VDP_FETCH_LIMIT ? VDP_ERR_BURST_BUDGET : VDP_ERR_NO_RX_BUF;
}

/*
 * vdp_split_enqueue_frame as vdp_ring.h describes it; the frame is
 * fz.stream[0..needed) (header already in front). Returns what the
 * library must return.
 */
static int
model_enqueue(uint32_t needed)
{
	static struct ref_chain first, more;
	struct {
		uint16_t head;
		uint32_t len;
	} bufs[VDP_MRG_MAX_BUFS];
	uint32_t nbufs = 0, nbad = 0, keep_from = 0, pos = 0;
	uint16_t rewind_to;
	enum vdp_fetch r;
	enum vdp_err err;

	if (fz.m.broken)
		return -1;
	/* each frame brings its own allowance (vdp_ring.h) */
	if (fz.m.budget_desc <= UINT32_MAX - VDP_FRAME_DESC_GRANT) {
		fz.m.budget_desc += VDP_FRAME_DESC_GRANT;
		fz.m.granted += VDP_FRAME_DESC_GRANT;
	}
	if (!fz.mrg) {
		r = model_fetch_rx(&first, &nbad);
		if (r == VDP_FETCH_BROKEN)
			return -1;
		if (r != VDP_FETCH_OK) {
			model_err(model_miss(r));
			return model_miss(r);
		}
		if (first.total < needed) {
			/* the guest keeps it: it may post a bigger one */
			fz.m.last_avail--;
			model_err(VDP_ERR_RX_TOO_SMALL);
			return VDP_ERR_RX_TOO_SMALL;
		}
		model_chain_write(&first, 0, fz.stream, needed);
		model_put(first.head, needed);
		return 0;
	}

	rewind_to = fz.m.last_avail;
	for (;;) {
		struct ref_chain *c = nbufs == 0 ? &first : &more;
		uint32_t w;

		if (nbufs == VDP_MRG_MAX_BUFS) {
			err = VDP_ERR_RX_TOO_SMALL;
			goto fail;
		}
		r = model_fetch_rx(c, &nbad);
		if (r == VDP_FETCH_BROKEN)
			return -1;
		if (r != VDP_FETCH_OK) {
			err = model_miss(r);
			goto fail;
		}
		if (nbufs == 0 && c->total < fz.hdr_len) {
			/* refused like a bad chain, charged like one */
			model_err(VDP_ERR_SHORT_CHAIN);
			model_put(c->head, 0);
			fz.m.budget_bad--;
			rewind_to = fz.m.last_avail;
			continue;
		}
		if (nbad != 0) {
			/* buffers taken before a refused chain cannot be
			 * handed back by moving last_avail back */
			keep_from = nbufs;
			rewind_to = (uint16_t)(fz.m.last_avail - 1);
			nbad = 0;
		}
		w = model_chain_write(c, 0, fz.stream + pos, needed - pos);
		pos += w;
		bufs[nbufs].head = c->head;
		bufs[nbufs].len = w;
		nbufs++;
		if (pos == needed)
			break;
	}
	if (fz.hdr_len == VDP_NET_HDR_LEN_MRG) {
		uint16_t nb = (uint16_t)nbufs;

		model_chain_write(&first, offsetof(struct vdp_net_hdr, num_buffers),
				  (const uint8_t *)&nb, sizeof(nb));
	}
	for (uint32_t i = 0; i < nbufs; i++)
		model_put(bufs[i].head, bufs[i].len);
	return 0;

fail:
	if (nbad != 0) {
		keep_from = nbufs;
		rewind_to = fz.m.last_avail;
	}
	for (uint32_t i = 0; i < keep_from; i++)
		model_put(bufs[i].head, 0);
	fz.m.last_avail = rewind_to;
	model_err(err);
	return err;
}

/* ---- comparisons between library and model, and the invariants ---- */

static void
check_memory(const char *what)
{
	for (uint32_t i = 0; i < fz.nreg; i++) {
		const struct fz_region *r = &fz.reg[i];

		if (memcmp(r->hva, r->shadow, r->size) == 0)
			continue;
		for (uint64_t k = 0; k < r->size; k++)
			FZ_CHECK(r->hva[k] == r->shadow[k],
				 "%s: guest memory region %u offset %llu is 0x%02x, "
				 "model says 0x%02x", what, i, (unsigned long long)k,
				 r->hva[k], r->shadow[k]);
	}
}

static void
check_state(const char *what)
{
	const struct vdp_vring *vr = &fz.vr;
	const struct fz_model *m = &fz.m;
	uint64_t nerr = 0;

	FZ_CHECK(vr->broken == m->broken, "%s: broken %d, model %d", what,
		 vr->broken, m->broken);
	FZ_CHECK(vr->last_avail == m->last_avail, "%s: last_avail %u, model %u",
		 what, vr->last_avail, m->last_avail);
	FZ_CHECK(vr->used_idx == m->used_idx, "%s: used_idx %u, model %u", what,
		 vr->used_idx, m->used_idx);
	FZ_CHECK(vr->avail_cache == m->avail_cache, "%s: avail_cache %u, model %u",
		 what, vr->avail_cache, m->avail_cache);
	FZ_CHECK(vr->budget_desc == m->budget_desc,
		 "%s: descriptor budget left %u, model %u (charged differently)",
		 what, vr->budget_desc, m->budget_desc);
	FZ_CHECK(vr->budget_bad == m->budget_bad, "%s: refusal budget left %u, model %u",
		 what, vr->budget_bad, m->budget_bad);
	FZ_CHECK(vr->budget_hit == m->budget_hit && vr->budget_stops == m->budget_stops,
		 "%s: budget stops %llu, model %llu", what,
		 (unsigned long long)vr->budget_stops, (unsigned long long)m->budget_stops);
	FZ_CHECK(vr->signalled_used == m->signalled_used &&
		 vr->signalled_valid == m->signalled_valid,
		 "%s: signalled_used %u/%d, model %u/%d", what, vr->signalled_used,
		 vr->signalled_valid, m->signalled_used, m->signalled_valid);
	for (int e = 0; e < VDP_ERR_MAX; e++) {
		FZ_CHECK(vr->err[e] == m->err[e], "%s: err[%s] %llu, model %llu", what,
			 vdp_err_names[e], (unsigned long long)vr->err[e],
			 (unsigned long long)m->err[e]);
		nerr += vr->err[e];
	}
	/* every counted error told the owner, once */
	FZ_CHECK(fz.ncb == nerr, "%s: on_err called %llu times for %llu errors", what,
		 (unsigned long long)fz.ncb, (unsigned long long)nerr);
	/* the budget never goes below zero (an unsigned wrap would lift it) */
	FZ_CHECK(vr->budget_desc <= VDP_BURST_DESC_MAX + fz.m.granted &&
		 vr->budget_bad <= VDP_BURST_BAD_MAX,
		 "%s: budget out of range: %u descriptors, %u refusals", what,
		 vr->budget_desc, vr->budget_bad);
	/* each chain consumed is returned exactly once, none invented */
	FZ_CHECK((uint16_t)(vr->used_idx - fz.ui0) == (uint16_t)(vr->last_avail - fz.la0),
		 "%s: %u chains consumed but %u used elements written", what,
		 (uint16_t)(vr->last_avail - fz.la0), (uint16_t)(vr->used_idx - fz.ui0));
	FZ_CHECK(memcmp(fz.used->ring, m->ring, fz.size * sizeof(m->ring[0])) == 0,
		 "%s: used ring differs from the model", what);
	FZ_CHECK(fz.used->flags == m->used_flags && fz.used->idx == m->used_pub,
		 "%s: used flags/idx %u/%u, model %u/%u", what, fz.used->flags,
		 fz.used->idx, m->used_flags, m->used_pub);
	FZ_CHECK(*(const uint16_t *)&fz.used->ring[fz.size] == m->avail_event,
		 "%s: avail_event %u, model %u", what,
		 *(const uint16_t *)&fz.used->ring[fz.size], m->avail_event);
}

/* True when [p, p + len) is inside one region, by our own bounds. */
static bool
in_one_region(const uint8_t *p, uint64_t len)
{
	for (uint32_t i = 0; i < fz.nreg; i++) {
		const struct fz_region *r = &fz.reg[i];

		if (p >= r->hva && p < r->hva + r->size && len <= (uint64_t)(r->hva + r->size - p))
			return true;
	}
	return false;
}

/* A chain the library accepted: the invariants, then the model's view. */
static void
check_chain(enum vdp_dir dir, const struct vdp_chain *c, const struct ref_chain *rc)
{
	uint16_t head;
	uint64_t sum = 0;

	FZ_CHECK(c->nseg >= 1 && c->nseg <= VDP_CHAIN_MAX_SEGS, "chain with %u segments",
		 c->nseg);
	for (uint32_t i = 0; i < c->nseg; i++) {
		const struct vdp_seg *s = &c->seg[i];

		FZ_CHECK(s->len != 0, "segment %u of chain %u is empty", i, c->id);
		FZ_CHECK(in_one_region(s->hva, s->len) && vdp_hva_in_map(&fz.mm, s->hva, s->len),
			 "segment %u (%p, %u) of chain %u is outside guest memory",
			 i, (void *)s->hva, s->len, c->id);
		sum += s->len;
	}
	FZ_CHECK(sum == c->len, "chain %u: len %u but segments add up to %llu", c->id,
		 c->len, (unsigned long long)sum);
	if (dir == VDP_DIR_READ)
		FZ_CHECK(c->len >= fz.hdr_len && c->len <= fz.hdr_len + VDP_TX_FRAME_MAX,
			 "TX chain %u of %u bytes accepted", c->id, c->len);
	memcpy(&head, &fz.avail->ring[(uint16_t)(fz.vr.last_avail - 1) & (fz.size - 1)],
	       sizeof(head));
	FZ_CHECK(c->id == head, "chain head %u, avail ring says %u", c->id, head);

	FZ_CHECK(c->nseg == rc->nseg && c->len == rc->total,
		 "chain %u: %u segments / %u bytes, model %u / %llu", c->id, c->nseg,
		 c->len, rc->nseg, (unsigned long long)rc->total);
	for (uint32_t i = 0; i < c->nseg; i++)
		FZ_CHECK(c->seg[i].hva == fz.reg[rc->seg[i].reg].hva + rc->seg[i].off &&
			 c->seg[i].len == rc->seg[i].len,
			 "chain %u segment %u differs from the model", c->id, i);
}

/* Fetch with the library and with the model; they must agree. */
static enum vdp_fetch
fz_fetch(enum vdp_dir dir, struct vdp_chain *c, struct ref_chain *rc)
{
	const bool was_broken = fz.vr.broken;
	enum vdp_fetch r = vdp_split_fetch(&fz.vr, &fz.mm, dir, c);
	enum vdp_fetch mr = model_fetch(dir, rc);

	FZ_CHECK(r == mr, "fetch(%s) returned %d, model %d",
		 dir == VDP_DIR_READ ? "read" : "write", r, mr);
	FZ_CHECK(!was_broken || r == VDP_FETCH_BROKEN, "broken ring fetched %d", r);
	if (r == VDP_FETCH_OK)
		check_chain(dir, c, rc);
	if (r == VDP_FETCH_LIMIT)
		FZ_CHECK(fz.vr.budget_desc == 0 || fz.vr.budget_bad == 0,
			 "fetch stopped by a budget that is not spent");
	return r;
}

/* Chain bytes through vdp_chain_read: the header as the PMD reads it, the
 * whole frame, and a part from a chosen offset. */
static void
check_chain_read(const struct vdp_chain *c, const struct ref_chain *rc, uint8_t sel)
{
	uint8_t *buf = fz.scratch;
	uint32_t n, pos = 0, off, want;

	n = vdp_chain_read(c, 0, buf, c->len);
	FZ_CHECK(n == c->len, "chain_read of %u bytes returned %u", c->len, n);
	for (uint32_t i = 0; i < rc->nseg; i++) {
		const struct ref_seg *s = &rc->seg[i];

		FZ_CHECK(memcmp(buf + pos, fz.reg[s->reg].shadow + s->off, s->len) == 0,
			 "chain_read: segment %u bytes differ", i);
		pos += s->len;
	}
	off = (uint32_t)(((uint64_t)c->len + 8) * sel / 255);
	want = (uint32_t)sel * 97u;
	memset(buf, 0, want);
	n = vdp_chain_read(c, off, buf, want);
	FZ_CHECK(n == (off < c->len ? (want < c->len - off ? want : c->len - off) : 0),
		 "chain_read(off %u, len %u) of a %u-byte chain returned %u", off, want,
		 c->len, n);
	for (uint32_t i = 0, skip = off, done = 0; i < rc->nseg && done < n; i++) {
		const struct ref_seg *s = &rc->seg[i];
		uint32_t k;

		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		k = s->len - skip < n - done ? s->len - skip : n - done;
		FZ_CHECK(memcmp(buf + done, fz.reg[s->reg].shadow + s->off + skip, k) == 0,
			 "chain_read(off %u): bytes of segment %u differ", off, i);
		done += k;
		skip = 0;
	}
}

/* ---- set-up from the input ---- */

static void
fz_on_err(void *ctx, enum vdp_err e, uint32_t a, uint32_t b)
{
	(void)ctx;
	(void)a;
	(void)b;
	FZ_CHECK(e > VDP_ERR_NONE && e < VDP_ERR_MAX, "on_err with reason %d", e);
	fz.ncb++;
}

static void
fz_setup_memory(struct fz_in *in, uint32_t nreg)
{
	struct {
		uint64_t gpa;
		uint32_t size;
		uint16_t doff;
	} map[FZ_NREG];
	const uint8_t *blob;
	size_t blob_len;

	for (uint32_t i = 0; i < FZ_NREG; i++) {
		map[i].gpa = in_u64(in);
		map[i].size = 1 + in_u32(in) % FZ_REGION_MAX;
		map[i].doff = in_u16(in);
		(void)in_u16(in);
	}
	blob = in->off < in->n ? in->p + in->off : NULL;
	blob_len = in->off < in->n ? in->n - in->off : 0;

	ASAN_POISON_MEMORY_REGION(fz.arena, FZ_ARENA);
	memset(&fz.mm, 0, sizeof(fz.mm));
	fz.nreg = nreg;
	for (uint32_t i = 0; i < nreg; i++) {
		struct fz_region *r = &fz.reg[i];
		uintptr_t end = (uintptr_t)fz.arena + (i + 1) * FZ_SLOT;
		size_t have = 0;

		r->size = map[i].size;
		/* the VMM's table is checked for wrap-around (vdevpeer_vhost.c) */
		r->gpa = map[i].gpa <= UINT64_MAX - r->size ? map[i].gpa : UINT64_MAX - r->size;
		r->hva = (uint8_t *)((end - r->size) & ~(uintptr_t)63);
		r->shadow = fz.shadow + (r->hva - fz.arena);
		ASAN_UNPOISON_MEMORY_REGION(r->hva, r->size);
		if (map[i].doff < blob_len)
			have = blob_len - map[i].doff;
		if (have > r->size)
			have = r->size;
		if (have != 0)
			memcpy(r->hva, blob + map[i].doff, have);
		memset(r->hva + have, 0, r->size - have);
		memcpy(r->shadow, r->hva, r->size);
		fz.mm.r[i].gpa = r->gpa;
		fz.mm.r[i].size = r->size;
		fz.mm.r[i].hva = (uint64_t)(uintptr_t)r->hva;
	}
	fz.mm.nregions = nreg;
}

/* The rings: each ends at its page's end, next to a PROT_NONE page. */
static void
fz_setup_rings(struct fz_in *in, uint16_t used_idx)
{
	const size_t pg = fz.page;
	const size_t dlen = (size_t)fz.size * sizeof(struct vdp_desc);
	const size_t alen = sizeof(struct vdp_avail) + ((size_t)fz.size + 1) * 2;
	const size_t ulen = sizeof(struct vdp_used) +
		(size_t)fz.size * sizeof(struct vdp_used_elem) + 2;

	fz.desc = (struct vdp_desc *)(fz.desc_page + pg - dlen);
	fz.avail = (struct vdp_avail *)(fz.avail_page + pg - alen);
	/* used: 4-byte aligned, so 2 bytes of slack after avail_event */
	fz.used = (struct vdp_used *)(fz.used_page + pg - ulen - 2);
	ASAN_POISON_MEMORY_REGION(fz.desc_page, pg);
	ASAN_POISON_MEMORY_REGION(fz.avail_page, pg);
	ASAN_POISON_MEMORY_REGION(fz.used_page, pg);
	ASAN_UNPOISON_MEMORY_REGION(fz.desc, dlen);
	ASAN_UNPOISON_MEMORY_REGION(fz.avail, alen);
	ASAN_UNPOISON_MEMORY_REGION(fz.used, ulen);

	in_bytes(in, fz.desc, dlen);
	in_bytes(in, fz.avail, alen);
	memset(fz.used, 0, ulen);
	fz.used->idx = used_idx;
}

/* Frame payload length from its u16: mostly small, sometimes up to 64 KiB. */
static uint32_t
fz_frame_len(uint16_t v)
{
	switch (v >> 14) {
	case 0:
	case 1:
		return v & 0x0fff;
	case 2:
		return v & 0x3fff;
	default:
		return v;
	}
}

/* One frame: pieces in heap buffers of their exact size (ASan sees any
 * read past them), the model's flat copy in fz.stream. */
static void
fz_frame(const struct vdp_net_hdr *hdr, uint32_t len, uint8_t cut, uint32_t seed)
{
	struct vdp_iov iov[FZ_PIECES];
	uint8_t *piece[FZ_PIECES];
	uint32_t npieces = 1 + (uint32_t)(cut >> 6) % 3, plen[FZ_PIECES];
	const uint32_t needed = fz.hdr_len + len;
	const uint8_t *payload = fz.pattern + seed * 101u % 251u;
	const bool was_broken = fz.vr.broken;
	const uint16_t used_before = fz.vr.used_idx;
	struct vdp_net_hdr h = *hdr;
	uint32_t pos = 0;
	int ret, mret;

	plen[0] = npieces == 1 ? len : len * (cut & 63u) / 63u;
	if (npieces == 2)
		plen[1] = len - plen[0];
	if (npieces == 3) {
		plen[1] = (len - plen[0]) / 2;
		plen[2] = len - plen[0] - plen[1];
	}
	for (uint32_t i = 0; i < npieces; i++) {
		piece[i] = malloc(plen[i] != 0 ? plen[i] : 1);
		if (piece[i] == NULL)
			abort();
		memcpy(piece[i], payload + pos, plen[i]);
		iov[i].base = piece[i];
		iov[i].len = plen[i];
		pos += plen[i];
	}

	/* The stream the device writes: header (num_buffers 1 unless
	 * mergeable, where it is filled in at the end), then the payload. */
	if (!fz.mrg)
		h.num_buffers = 1;
	memcpy(fz.stream, &h, fz.hdr_len);
	memcpy(fz.stream + fz.hdr_len, payload, len);

	/* a frame in one piece: also through vdp_vq_put_plain first, then
	 * (as its callers do) the frame function when it stopped before it:
	 * the same model either way */
	if (npieces == 1 && (seed & 1)) {
		const struct vdp_plain pf = { hdr, iov[0].base, iov[0].len };

		ret = vdp_vq_put_plain(&fz.vr, &fz.mm, &pf, 1) == 1 ? 0 :
		      vdp_split_enqueue_frame(&fz.vr, &fz.mm, hdr, iov, npieces);
	} else {
		ret = vdp_split_enqueue_frame(&fz.vr, &fz.mm, hdr, iov, npieces);
	}
	mret = model_enqueue(needed);
	for (uint32_t i = 0; i < npieces; i++)
		free(piece[i]);

	FZ_CHECK(ret == mret, "enqueue of %u bytes (%s) returned %d, model %d", needed,
		 fz.mrg ? "mergeable" : "one chain", ret, mret);
	/*
	 * By design: when the ring breaks while a mergeable frame is being
	 * gathered, the buffers already taken are not put in the used ring
	 * (last_avail stays past them). A broken ring is not used again until
	 * the VMM loads it anew with a position of its choice (the virtio
	 * device needs a reset), so only the guest that broke it is affected.
	 */
	if (!fz.strict && ret == -1 && !was_broken && fz.mrg) {
		uint16_t lost = (uint16_t)((uint16_t)(fz.vr.last_avail - fz.la0) -
					   (uint16_t)(fz.vr.used_idx - fz.ui0));

		if (lost <= VDP_MRG_MAX_BUFS)
			fz.la0 = (uint16_t)(fz.la0 + lost);
	}
	FZ_CHECK(ret == 0 || ret == -1 || ret == VDP_ERR_NO_RX_BUF ||
		 ret == VDP_ERR_RX_TOO_SMALL || ret == VDP_ERR_BURST_BUDGET,
		 "enqueue returned %d", ret);
	FZ_CHECK(ret != -1 || fz.vr.broken, "enqueue returned -1 on a working ring");
	FZ_CHECK(!was_broken || (ret == -1 && fz.vr.used_idx == used_before),
		 "broken ring took a frame");
	/* Used elements of this call: refused chains (len 0) first, then the
	 * frame's buffers, contiguous, adding up to the frame; a dropped
	 * frame leaves only len 0 elements. */
	{
		uint16_t n = (uint16_t)(fz.vr.used_idx - used_before), k = n;
		uint64_t sum = 0;

		while (k > 0 && fz.used->ring[(uint16_t)(used_before + k - 1) &
					      (fz.size - 1)].len != 0) {
			sum += fz.used->ring[(uint16_t)(used_before + k - 1) &
					     (fz.size - 1)].len;
			k--;
		}
		if (ret == 0) {
			FZ_CHECK(sum == needed, "frame of %u bytes given %llu in the used ring",
				 needed, (unsigned long long)sum);
			FZ_CHECK(fz.mrg ? n - k <= VDP_MRG_MAX_BUFS : n - k == 1,
				 "frame in %u buffers", n - k);
		} else {
			FZ_CHECK(k == n, "dropped frame left %u used elements with data", n - k);
		}
	}
	check_state("enqueue");
	check_memory("enqueue");
}

/* ---- translation probes: vdp_gpa_to_hva / vdp_hva_in_map at the edges ---- */

static void
fz_probe(uint8_t sel)
{
	for (uint32_t i = 0; i < fz.nreg; i++) {
		const struct fz_region *r = &fz.reg[i];
		const uint64_t gpas[] = { r->gpa - 1, r->gpa, r->gpa + r->size - 1,
					  r->gpa + r->size, r->gpa + sel };
		const uint64_t lens[] = { 1, r->size, r->size + 1, UINT64_MAX,
					  (uint64_t)sel * 64 + 1 };

		for (uint32_t g = 0; g < sizeof(gpas) / sizeof(gpas[0]); g++) {
			for (uint32_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
				uint64_t len = lens[l], off, rlen;
				uint32_t reg;
				void *p = vdp_gpa_to_hva(&fz.mm, gpas[g], &len);
				bool ok = ref_xlate(gpas[g], lens[l], &reg, &off, &rlen);

				FZ_CHECK(ok == (p != NULL) &&
					 (!ok || (p == fz.reg[reg].hva + off && len == rlen)),
					 "gpa_to_hva(0x%llx, %llu) disagrees",
					 (unsigned long long)gpas[g],
					 (unsigned long long)lens[l]);
			}
		}
		/* host ranges at and just past each region's ends */
		FZ_CHECK(vdp_hva_in_map(&fz.mm, r->hva, r->size), "region %u not in map", i);
		FZ_CHECK(!vdp_hva_in_map(&fz.mm, r->hva, r->size + 1),
			 "region %u + 1 byte in map", i);
		FZ_CHECK(!vdp_hva_in_map(&fz.mm, r->hva - 1, 1), "byte before region %u in map", i);
		FZ_CHECK(vdp_hva_in_map(&fz.mm, r->hva + r->size - 1, 1),
			 "last byte of region %u not in map", i);
		FZ_CHECK(!vdp_hva_in_map(&fz.mm, r->hva + r->size, 1) &&
			 !vdp_hva_in_map(&fz.mm, r->hva + r->size + 1 + sel % 8, 1),
			 "byte after region %u in map", i);
		FZ_CHECK(!vdp_hva_in_map(&fz.mm, r->hva + sel % r->size, UINT64_MAX),
			 "huge range in region %u in map", i);
	}
}

/* ---- ring set-up checks: vdp_vring_init, vdp_vring_in_map ---- */

static void
fz_check_init(void)
{
	const size_t dlen = (size_t)fz.size * sizeof(struct vdp_desc);
	const size_t alen = sizeof(struct vdp_avail) + ((size_t)fz.size + 1) * 2;
	const size_t ulen = sizeof(struct vdp_used) +
		(size_t)fz.size * sizeof(struct vdp_used_elem) + 2;
	struct vdp_memmap rm = { .nregions = 3 };
	struct vdp_vring t;

	/* the VMM's numbers are checked before anything uses them */
	FZ_CHECK(vdp_vring_init(&t, fz.desc, fz.avail, fz.used, 0, 0, 0) != 0 &&
		 vdp_vring_init(&t, fz.desc, fz.avail, fz.used, fz.size + 1u + (fz.size == 1),
				0, 0) != 0 &&
		 vdp_vring_init(&t, fz.desc, fz.avail, fz.used, 65536, 0, 0) != 0 &&
		 vdp_vring_init(&t, (uint8_t *)fz.desc + 8, fz.avail, fz.used, fz.size, 0,
				0) != 0 &&
		 vdp_vring_init(&t, fz.desc, (uint8_t *)fz.avail + 1, fz.used, fz.size, 0,
				0) != 0 &&
		 vdp_vring_init(&t, fz.desc, fz.avail, (uint8_t *)fz.used + 2, fz.size, 0,
				0) != 0 &&
		 vdp_vring_init(&t, NULL, fz.avail, fz.used, fz.size, 0, 0) != 0,
		 "vring_init accepted a bad layout");
	/* a map made of exactly the three tables holds the ring; one byte
	 * short at the end of any of them does not */
	rm.r[0] = (struct vdp_mem_region){ .gpa = 0, .size = dlen,
					   .hva = (uintptr_t)fz.desc };
	rm.r[1] = (struct vdp_mem_region){ .gpa = 1ull << 40, .size = alen,
					   .hva = (uintptr_t)fz.avail };
	rm.r[2] = (struct vdp_mem_region){ .gpa = 2ull << 40, .size = ulen,
					   .hva = (uintptr_t)fz.used };
	FZ_CHECK(vdp_vring_in_map(&fz.vr, &rm), "ring not found in a map of its tables");
	for (uint32_t i = 0; i < 3; i++) {
		rm.r[i].size--;
		FZ_CHECK(!vdp_vring_in_map(&fz.vr, &rm), "ring table %u one byte short in map", i);
		rm.r[i].size++;
	}
}

/* ---- one input ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vdp_chain c;
	static struct ref_chain rc;
	struct fz_in in = { .p = data, .n = size, .off = 0 };
	struct vdp_net_hdr nh;
	uint8_t feat, ops, bursts, nread, nwrite, nframes, cut[FZ_FRAMES], rd_sel, probe;
	uint16_t avail_step, flen[FZ_FRAMES], wr_off, wr_len;
	uint32_t nreg;

	fz.size = (uint16_t)(1u << (in_u8(&in) % 9));
	feat = in_u8(&in);
	ops = in_u8(&in);
	bursts = 1 + in_u8(&in) % FZ_BURSTS_MAX;
	nread = in_u8(&in) % (FZ_FETCH_MAX + 1);
	nwrite = in_u8(&in) % (FZ_FETCH_MAX + 1);
	fz.la0 = in_u16(&in);
	fz.ui0 = in_u16(&in);
	avail_step = in_u16(&in);
	nreg = 1 + in_u8(&in) % FZ_NREG;
	nframes = in_u8(&in) % (FZ_FRAMES + 1);
	for (uint32_t i = 0; i < FZ_FRAMES; i++)
		flen[i] = in_u16(&in);
	for (uint32_t i = 0; i < FZ_FRAMES; i++)
		cut[i] = in_u8(&in);
	rd_sel = in_u8(&in);
	wr_off = in_u16(&in);
	wr_len = in_u16(&in) % 4096;
	probe = in_u8(&in);
	in.off += 3;
	in_bytes(&in, &nh, sizeof(nh));

	fz.indirect = feat & 1;
	fz.event_idx = feat & 2;
	fz.mrg = feat & 4;
	fz.hdr_len = feat & 8 ? VDP_NET_HDR_LEN_MRG : VDP_NET_HDR_LEN_LEGACY;

	fz_setup_rings(&in, fz.ui0);
	fz_setup_memory(&in, nreg);
	fz_probe(probe);

	FZ_CHECK(vdp_vring_init(&fz.vr, fz.desc, fz.avail, fz.used, fz.size, fz.la0,
				fz.ui0) == 0, "vring_init refused a valid ring");
	fz.vr.indirect = fz.indirect;
	fz.vr.event_idx = fz.event_idx;
	fz.vr.mrg_rxbuf = fz.mrg;
	fz.vr.hdr_len = fz.hdr_len;
	fz.vr.on_err = fz_on_err;
	fz.ncb = 0;
	FZ_CHECK(!vdp_vring_in_map(&fz.vr, &fz.mm), "rings outside guest memory found in it");
	fz_check_init();

	memset(&fz.m, 0, sizeof(fz.m));
	fz.m.last_avail = fz.la0;
	fz.m.avail_cache = fz.la0;
	fz.m.used_idx = fz.ui0;
	fz.m.signalled_used = fz.ui0;
	fz.m.used_pub = fz.ui0;
	fz.m.used_flags = fz.used->flags;
	fz.m.avail_event = *(const uint16_t *)&fz.used->ring[fz.size];
	fz.m.budget_desc = VDP_BURST_DESC_MAX;
	fz.m.budget_bad = VDP_BURST_BAD_MAX;

	for (uint32_t b = 0; b < bursts; b++) {
		uint64_t refused0 = 0, refused = 0;
		const bool broken0 = fz.vr.broken;
		const uint16_t la_b = fz.vr.last_avail, ui_b = fz.vr.used_idx;

		for (int e = VDP_ERR_BAD_DESC; e <= VDP_ERR_TOO_BIG; e++)
			refused0 += fz.vr.err[e];
		vdp_vring_burst_begin(&fz.vr);
		fz.m.budget_desc = VDP_BURST_DESC_MAX;
		fz.m.budget_bad = VDP_BURST_BAD_MAX;
		fz.m.budget_hit = false;
		fz.m.granted = 0;
		fz.m.reads = 0;

		if (ops & OP_COUNT) {
			uint16_t want = (uint16_t)(avail_idx_now() - fz.vr.last_avail);
			uint16_t n = vdp_split_avail_count(&fz.vr);

			FZ_CHECK(n == model_avail_count(), "avail_count %u", n);
			FZ_CHECK(broken0 ? n == 0 :
				 (want > fz.size ? n == 0 && fz.vr.broken : n == want),
				 "avail_count %u with %u posted (ring of %u)", n, want, fz.size);
			check_state("avail_count");
		}
		for (uint32_t i = 0; (ops & OP_TX) && i < nread; i++) {
			enum vdp_fetch r = fz_fetch(VDP_DIR_READ, &c, &rc);

			if (r == VDP_FETCH_OK) {
				check_chain_read(&c, &rc, rd_sel);
				if ((ops & OP_UNFETCH) && i == 0 && b == 0) {
					/* as on mbuf exhaustion: retried next burst */
					vdp_split_unfetch(&fz.vr, 1);
					fz.m.last_avail--;
					check_state("unfetch");
					break;
				}
				vdp_split_used_put(&fz.vr, c.id, 0);
				model_put(rc.head, 0);
			}
			check_state("fetch read");
			if (r != VDP_FETCH_OK && r != VDP_FETCH_BAD)
				break;
		}
		for (uint32_t i = 0; (ops & OP_RX) && i < nwrite; i++) {
			enum vdp_fetch r = fz_fetch(VDP_DIR_WRITE, &c, &rc);

			if (r == VDP_FETCH_OK) {
				const uint8_t *src = fz.pattern + i * 31u;
				uint32_t w = vdp_chain_write(&c, wr_off, src, wr_len);
				uint32_t mw = model_chain_write(&rc, wr_off, src, wr_len);

				FZ_CHECK(w == mw, "chain_write(off %u, len %u) of %u bytes "
					 "wrote %u, model %u", wr_off, wr_len, c.len, w, mw);
				vdp_split_used_put(&fz.vr, c.id, w);
				model_put(rc.head, mw);
				check_memory("chain_write");
			}
			check_state("fetch write");
			if (r != VDP_FETCH_OK && r != VDP_FETCH_BAD)
				break;
		}
		for (uint32_t i = 0; (ops & OP_FRAMES) && i < nframes; i++)
			fz_frame(&nh, fz_frame_len(flen[i]), cut[i], b * FZ_FRAMES + i);

		vdp_split_used_flush(&fz.vr);
		fz.m.used_pub = fz.m.used_idx;
		check_state("flush");
		if (ops & OP_CALL) {
			bool call = vdp_split_need_call(&fz.vr), mcall = false;
			uint16_t old = fz.m.signalled_used, new = fz.m.used_idx;

			if (new != old) {
				uint16_t ev;

				memcpy(&ev, &fz.avail->ring[fz.size], sizeof(ev));
				if (!fz.event_idx)
					mcall = !(fz.avail->flags & VDP_AVAIL_F_NO_INTERRUPT);
				else if (!fz.m.signalled_valid)
					mcall = true;
				else /* used_event among the indexes just published */
					mcall = (uint16_t)(ev - old) < (uint16_t)(new - old);
				fz.m.signalled_used = new;
				fz.m.signalled_valid = true;
			}
			FZ_CHECK(call == mcall, "need_call %d, model %d", call, mcall);
			check_state("need_call");
		}
		if (ops & OP_SUPPRESS) {
			vdp_split_suppress_kicks(&fz.vr);
			if (!fz.event_idx)
				fz.m.used_flags = VDP_USED_F_NO_NOTIFY;
			check_state("suppress_kicks");
		}
		if (ops & OP_KICKS) {
			/* rx interrupt mode: going to sleep, kicks asked for and
			 * the ring looked at again; then back to polling. A
			 * broken ring is neither written nor waited on. */
			const bool was_broken = fz.vr.broken;
			const bool more = vdp_vq_enable_kicks(&fz.vr);

			if (!was_broken) {
				if (fz.event_idx)
					fz.m.avail_event = fz.m.last_avail;
				else
					fz.m.used_flags = 0;
			}
			FZ_CHECK(more == (!was_broken && model_avail_count() != 0),
				 "enable_kicks says %d", more);
			check_state("enable_kicks");
			vdp_vq_disable_kicks(&fz.vr);
			if (!fz.vr.broken && !fz.event_idx)
				fz.m.used_flags = VDP_USED_F_NO_NOTIFY;
			check_state("disable_kicks");
		}

		/* The burst's bounds, counted from the error counters rather
		 * than from the budget fields (a refusal not charged to the
		 * budget shows here). A ring breaking counts one more. */
		for (int e = VDP_ERR_BAD_DESC; e <= VDP_ERR_TOO_BIG; e++)
			refused += fz.vr.err[e];
		refused -= refused0;
		FZ_CHECK(refused <= VDP_BURST_BAD_MAX + (fz.vr.broken && !broken0 ? 1 : 0),
			 "%llu chains refused in one burst", (unsigned long long)refused);
		/* descriptors read, counted by the model's own walks: within
		 * the bound, and exactly what the budget was charged */
		FZ_CHECK(fz.m.reads <= VDP_BURST_DESC_MAX + fz.m.granted &&
			 fz.m.reads == VDP_BURST_DESC_MAX + fz.m.granted - fz.vr.budget_desc,
			 "%u descriptors read in one burst, %u charged", fz.m.reads,
			 VDP_BURST_DESC_MAX + fz.m.granted - fz.vr.budget_desc);
		/* a broken ring consumes and returns nothing any more */
		FZ_CHECK(!broken0 || (fz.vr.broken && fz.vr.last_avail == la_b &&
				      fz.vr.used_idx == ui_b), "broken ring moved");
		check_memory("burst");

#ifdef FZ_TRACE
		/* cc -DFZ_TRACE: what each burst did, to see what an input covers */
		fprintf(stderr, "burst %u: last_avail %u used %u broken %d budget %u/%u "
			"stops %llu:", b, fz.vr.last_avail, fz.vr.used_idx, fz.vr.broken,
			fz.vr.budget_desc, fz.vr.budget_bad,
			(unsigned long long)fz.vr.budget_stops);
		for (int e = VDP_ERR_FIRST; e < VDP_ERR_MAX; e++)
			if (fz.vr.err[e] != 0)
				fprintf(stderr, " %s=%llu", vdp_err_names[e],
					(unsigned long long)fz.vr.err[e]);
		fputc('\n', stderr);
#endif
		/* the guest posts more (or jumps, which must break the ring) */
		{
			uint16_t idx = (uint16_t)(avail_idx_now() + avail_step);

			memcpy(&fz.avail->idx, &idx, sizeof(idx));
		}
	}
	return 0;
}
