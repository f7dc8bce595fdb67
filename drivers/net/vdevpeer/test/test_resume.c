/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the resume after a crash of the backend (vdp_resume.c),
 * without EAL. The crash is simulated as the PMD lives it: a device-side
 * struct vdp_vring whose state (vr.state) is a struct vdp_ring_state
 * standing for the shared file; traffic as the PMD's bursts make it
 * (guest TX ring: zero-copy give-backs, fetches, chains held or copied
 * and used, publish, the take position stored at the burst's end; guest
 * RX ring: frames enqueued, publish); then at a chosen point the process
 * "dies" (that vring is no longer touched), a new one initialises a
 * fresh vring over the same guest memory with the VMM's positions (QEMU
 * for packed: where the ring started; librte_vhost for split: the
 * guest's used index), calls vdp_vq_resume with a copy of the file, and
 * loads the ring as the PMD does (state reset, kick suppression,
 * publish). The guest-side drivers (guest_ring.c, guest_packed.c) keep
 * posting and reading throughout: every chain must come back exactly
 * once, every frame reach the other side at most once (exactly once
 * unless the design gives it up), and the ring must go on for several
 * laps. Hostile cases: a state that does not fit the ring, a guest that
 * set its ring up afresh, a guest that scribbled over its ring.
 *
 * One line per check, then "N passed, N failed"; exit status 1 on failure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_packed.h"
#include "guest_ring.h"
#include "vdp_ring.h"
#include "check.h"

#define GPA_BASE 0x40000000ull
#define REGION1 (8u << 20)
#define REGION2 (1u << 20)
#define MAXR 512u            /* largest ring of these tests */
#define MAXSEQ 8192u         /* frames per ring under test */
#define HDR VDP_NET_HDR_LEN_MRG
#define TXB 256u             /* a guest TX frame's buffer */
#define PAY_MAX 220u         /* payload bytes of a frame, at most */
#define NONE UINT32_MAX
#define MAXCUT 128u          /* chains or frames of one burst, at most */

/* ---- frames: a sequence number and a pattern ---- */

static uint32_t
flen(uint32_t seq)
{
	return 4u + (seq * 53u + 7u) % (PAY_MAX - 4u);
}

static void
frame_fill(uint8_t *p, uint32_t seq, uint32_t len)
{
	memcpy(p, &seq, 4);
	for (uint32_t i = 4; i < len; i++)
		p[i] = (uint8_t)(seq * 7u + i * 13u);
}

/* The frame's sequence number, or NONE when p is not an intact frame. */
static uint32_t
frame_check(const uint8_t *p, uint32_t len)
{
	uint32_t seq;

	if (len < 4)
		return NONE;
	memcpy(&seq, p, 4);
	if (seq >= MAXSEQ || len != flen(seq))
		return NONE;
	for (uint32_t i = 4; i < len; i++)
		if (p[i] != (uint8_t)(seq * 7u + i * 13u))
			return NONE;
	return seq;
}

/* ---- one ring under test: guest, device (the live process), state file ---- */

struct hold {
	uint16_t id, ndesc;
	uint32_t seq, free_at;
};

struct cfg {
	bool split;
	bool txq;              /* a guest TX ring (the device reads: dev_reads) */
	bool mrg;              /* guest RX: mergeable buffers */
	uint32_t size;
	uint16_t start_slot;   /* packed: where the ring starts ... */
	bool start_phase0;     /* ... and in which phase (default 1) */
	uint32_t hold_every;   /* guest TX: zero-copy holds frames seq % n == 1 */
	uint32_t hold_bursts;  /* ... for that many bursts */
	bool one_slot;         /* chains of one descriptor only */
	uint32_t rxb;          /* guest RX buffer size (default 512) */
	bool batch;            /* packed: used_batch (as the PMD's ring load sets it) */
	bool in_order;         /* packed: IN_ORDER (a burst's TX chains one used
				* element), the guest an in-order driver */
	uint32_t burst;        /* crash sweeps: chains or frames per burst (default 3) */
	uint32_t points;       /* crash sweeps: crash points (default 80) ... */
	uint32_t stride;       /* ... one every stride steps (default 1) */
};

struct rt {
	struct cfg c;
	uint32_t size;
	struct guest_mem m;
	struct guest_ring sg;
	struct guest_packed g;
	uint64_t desc_gpa, driver_gpa, device_gpa;

	/* the device: the live process */
	struct vdp_vring vr;
	uint64_t ids[VDP_PACKED_IDS_WORDS(MAXR)];
	struct vdp_ring_state *st;   /* the file */
	struct vdp_ring_state *old;  /* what the next process found in it */
	uint32_t burst;
	struct hold held[MAXR];      /* zero-copy: chains held, oldest first */
	uint32_t nheld;
	uint32_t step, crash_at;     /* crash right after step crash_at (0: never) */
	bool crashed;
	/* the burst a crash cut */
	uint32_t cut[MAXCUT], ncut;
	bool cut_published;          /* its publish was done */
	bool cut_used;               /* a chain of it was used (copied) */
	uint16_t cut_used0;          /* the used position when it began */

	/* the guest */
	uint32_t next_seq;           /* TX: next frame posted; RX: next frame sent */
	uint32_t chain_seq[MAXR];    /* per id / head in flight: TX its frame, RX 0; NONE */
	uint32_t chain_buf[MAXR];
	uint32_t nout;               /* chains in flight */
	uint32_t nposted;
	uint32_t buf_free[2 * MAXR], nbuf_free;
	uint64_t buf_gpa;
	uint32_t bufsz;
	uint8_t completed[MAXSEQ];   /* TX: the chain came back */
	uint8_t seen[MAXSEQ];        /* TX: the application got it; RX: the guest did */
	uint8_t lost_ok[MAXSEQ];     /* may be lost (given up by design); RX: or received */
	uint8_t lost_must[MAXSEQ];   /* RX: lost (never made visible) */
	uint8_t asm_buf[8192];
	uint32_t asm_len, asm_left;
	bool stuck;                  /* the guest met a completion it cannot take */
	unsigned int bad;
	char why[200];
};

static void __attribute__((format(printf, 2, 3)))
rt_fail(struct rt *r, const char *fmt, ...)
{
	va_list ap;

	if (r->bad++ != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

static void
vr_setup(struct rt *r)
{
	r->vr.mrg_rxbuf = r->c.mrg;
	r->vr.hdr_len = HDR;
	r->vr.used_batch = r->c.batch;
	r->vr.in_order = r->c.in_order;
}

/* The VMM's positions, a fresh vring over the same memory. */
static void
attach_vmm(struct rt *r)
{
	int ret;

	if (r->c.split) {
		uint16_t u = __atomic_load_n(&r->sg.used->idx, __ATOMIC_ACQUIRE);

		ret = vdp_vring_init(&r->vr, guest_host_ptr(&r->m, r->sg.desc_gpa),
				     guest_host_ptr(&r->m, r->sg.avail_gpa),
				     guest_host_ptr(&r->m, r->sg.used_gpa), r->size, u, u);
	} else {
		ret = vdp_packed_init(&r->vr, guest_host_ptr(&r->m, r->g.ring_gpa),
				      guest_host_ptr(&r->m, r->g.driver_event_gpa),
				      guest_host_ptr(&r->m, r->g.device_event_gpa), r->size,
				      r->c.start_slot, !r->c.start_phase0, r->c.start_slot,
				      !r->c.start_phase0, r->ids);
	}
	if (ret != 0) {
		fprintf(stderr, "vring init failed\n");
		exit(2);
	}
	vr_setup(r);
}

/* The rest of a ring load, as vdp_load_ring does it after vdp_vq_resume. */
static void
load_finish(struct rt *r)
{
	vdp_ring_state_reset(r->st, &r->vr, r->desc_gpa, r->driver_gpa, r->device_gpa);
	vdp_ring_state_attach(&r->vr, r->st);
	vdp_vq_suppress_kicks(&r->vr);
	vdp_vq_publish(&r->vr);
}

static struct rt *
rt_new(const struct cfg *c)
{
	struct rt *r = calloc(1, sizeof(*r));
	int ret;

	if (r == NULL)
		exit(2);
	r->c = *c;
	if (r->c.rxb == 0)
		r->c.rxb = 512;
	r->size = c->size;
	r->st = calloc(1, sizeof(*r->st));
	r->old = calloc(1, sizeof(*r->old));
	if (r->st == NULL || r->old == NULL)
		exit(2);
	ret = guest_mem_init(&r->m, GPA_BASE, REGION1, REGION2);
	if (ret == 0 && c->split)
		ret = guest_ring_init(&r->sg, &r->m, (uint16_t)c->size, 0xfff0);
	else if (ret == 0)
		ret = guest_packed_init(&r->g, &r->m, c->size, c->start_slot, !c->start_phase0);
	if (ret == 0 && !c->split)
		r->g.in_order = c->in_order;
	r->bufsz = c->txq ? TXB : r->c.rxb;
	r->buf_gpa = ret == 0 ? guest_alloc(&r->m, (size_t)2 * MAXR * r->bufsz, 64) : 0;
	if (ret != 0 || r->buf_gpa == 0) {
		fprintf(stderr, "fixture set-up failed\n");
		exit(2);
	}
	for (uint32_t i = 0; i < 2 * MAXR; i++)
		r->buf_free[r->nbuf_free++] = 2 * MAXR - 1 - i;
	for (uint32_t i = 0; i < MAXR; i++)
		r->chain_seq[i] = NONE;
	if (c->split) {
		r->desc_gpa = r->sg.desc_gpa;
		r->driver_gpa = r->sg.avail_gpa;
		r->device_gpa = r->sg.used_gpa;
	} else {
		r->desc_gpa = r->g.ring_gpa;
		r->driver_gpa = r->g.driver_event_gpa;
		r->device_gpa = r->g.device_event_gpa;
	}
	/* the first process: the VMM's positions are the ring's start */
	attach_vmm(r);
	load_finish(r);
	return r;
}

static void
rt_free(struct rt *r)
{
	if (r->c.split)
		guest_ring_fini(&r->sg);
	else
		guest_packed_fini(&r->g);
	guest_mem_fini(&r->m);
	free(r->st);
	free(r->old);
	free(r);
}

static const char *
lname(const struct rt *r)
{
	return r->c.split ? "split" : "packed";
}

static const char *
qname(const struct rt *r)
{
	return r->c.txq ? "guest TX" : "guest RX";
}

/* ---- the guest ---- */

static int
used_get(struct rt *r, uint32_t *id, uint32_t *len)
{
	return r->c.split ? guest_ring_get_used(&r->sg, id, len) :
			    guest_packed_get_used(&r->g, id, len);
}

static int
post(struct rt *r, const struct guest_buf *b, uint32_t n)
{
	return r->c.split ? guest_ring_post(&r->sg, b, n, false, true) :
			    guest_packed_post(&r->g, b, n, false, true);
}

static uint32_t
buf_take(struct rt *r, uint64_t *gpa)
{
	uint32_t b = r->buf_free[--r->nbuf_free];

	*gpa = r->buf_gpa + (uint64_t)b * r->bufsz;
	return b;
}

/* Guest TX: post the next frame (one or two descriptors). */
static bool
gtx_post(struct rt *r)
{
	uint32_t seq = r->next_seq, len = flen(seq), nb, b;
	struct guest_buf gb[2];
	uint64_t gpa;
	uint8_t *p;
	int id;

	if (seq >= MAXSEQ || r->nbuf_free == 0)
		return false;
	nb = !r->c.one_slot && seq % 3 == 2 ? 2 : 1;
	b = buf_take(r, &gpa);
	p = guest_ptr(&r->m, gpa);
	memset(p, 0, HDR);
	frame_fill(p + HDR, seq, len);
	gb[0] = (struct guest_buf){ gpa, nb == 2 ? HDR : HDR + len, false };
	gb[1] = (struct guest_buf){ gpa + HDR, len, false };
	id = post(r, gb, nb);
	if (id < 0) {
		r->buf_free[r->nbuf_free++] = b;
		return false;
	}
	if (r->chain_seq[id] != NONE)
		rt_fail(r, "guest driver reused id %d in flight", id);
	r->chain_seq[id] = seq;
	r->chain_buf[id] = b;
	r->nout++;
	r->next_seq++;
	return true;
}

static void
gtx_post_all(struct rt *r, uint32_t upto)
{
	while (r->next_seq < upto && gtx_post(r))
		;
}

/* Guest TX: take back the chains the device used. */
static void
gtx_reap(struct rt *r)
{
	uint32_t id, len;
	int got;

	while (!r->stuck && (got = used_get(r, &id, &len)) != 0) {
		/* in order: one element may give back several chains */
		const uint32_t n = got > 0 && !r->c.split ? r->g.nfreed : 1;

		for (uint32_t k = 0; k < n; k++) {
			if (n > 1)
				id = r->g.freed[k];
			if (got < 0 || id >= r->size || r->chain_seq[id] == NONE) {
				rt_fail(r, "%s: id %u used but not in flight (a duplicate)",
					lname(r), id);
				if (got < 0)
					r->stuck = true;
				continue;
			}
			r->completed[r->chain_seq[id]]++;
			r->buf_free[r->nbuf_free++] = r->chain_buf[id];
			r->chain_seq[id] = NONE;
			r->nout--;
		}
	}
}

/* Guest RX: post buffers (mergeable: one descriptor; otherwise one or two). */
static void
grx_post_all(struct rt *r)
{
	while (r->nbuf_free != 0) {
		uint32_t nb = !r->c.mrg && !r->c.one_slot && r->nposted % 3 == 2 ? 2 : 1;
		struct guest_buf gb[2];
		uint64_t gpa;
		uint32_t b = buf_take(r, &gpa);
		int id;

		gb[0] = (struct guest_buf){ gpa, nb == 2 ? HDR : r->c.rxb, true };
		gb[1] = (struct guest_buf){ gpa + HDR, r->c.rxb - HDR, true };
		id = post(r, gb, nb);
		if (id < 0) {
			r->buf_free[r->nbuf_free++] = b;
			return;
		}
		if (r->chain_seq[id] != NONE)
			rt_fail(r, "guest driver reused id %d in flight", id);
		r->chain_seq[id] = 0;
		r->chain_buf[id] = b;
		r->nout++;
		r->nposted++;
	}
}

/* Guest RX: read frames (num_buffers buffers each with MRG_RXBUF). */
static void
grx_reap(struct rt *r)
{
	uint32_t id, len;
	int got;

	while (!r->stuck && (got = used_get(r, &id, &len)) != 0) {
		const uint8_t *p;

		if (got < 0 || id >= r->size || r->chain_seq[id] == NONE) {
			rt_fail(r, "%s: id %u used but not in flight (a duplicate)", lname(r), id);
			if (got < 0)
				r->stuck = true;
			continue;
		}
		p = guest_ptr(&r->m, r->buf_gpa + (uint64_t)r->chain_buf[id] * r->bufsz);
		r->buf_free[r->nbuf_free++] = r->chain_buf[id];
		r->chain_seq[id] = NONE;
		r->nout--;
		if (len > r->c.rxb) {
			rt_fail(r, "%s: used length %u > buffer", lname(r), len);
			continue;
		}
		if (r->asm_left == 0) {
			struct vdp_net_hdr h;

			if (len < HDR)
				continue;    /* given back empty: the driver drops it */
			memcpy(&h, p, sizeof(h));
			r->asm_left = r->c.mrg ? h.num_buffers : 1;
			if (r->asm_left == 0 || r->asm_left > 32) {
				rt_fail(r, "%s: num_buffers %u", lname(r), h.num_buffers);
				r->asm_left = 0;
				continue;
			}
			r->asm_len = 0;
			p += HDR;
			len -= HDR;
		}
		memcpy(r->asm_buf + r->asm_len, p, len);
		r->asm_len += len;
		if (--r->asm_left == 0) {
			uint32_t seq = frame_check(r->asm_buf, r->asm_len);

			if (seq == NONE || seq >= r->next_seq)
				rt_fail(r, "%s: a corrupt frame of %u bytes", lname(r), r->asm_len);
			else
				r->seen[seq]++;
		}
	}
}

/* ---- the device: the PMD's bursts, a crash point after each step ---- */

#define STEP(r) do { \
	if (++(r)->step == (r)->crash_at) { \
		(r)->crashed = true; \
		return false; \
	} \
} while (0)

/* As vdp_rx_burst_l (guest TX ring, zero-copy or not). false: crashed. */
static bool
dev_rx_burst(struct rt *r, uint32_t n)
{
	static struct vdp_chain c;
	static uint8_t pay[VDP_TX_FRAME_MAX];
	struct vdp_vring *vr = &r->vr;
	uint32_t got[MAXCUT], ngot = 0;

	r->burst++;
	r->ncut = 0;
	r->cut_published = false;
	r->cut_used = false;
	r->cut_used0 = vdp_vq_used_base(vr);
	vdp_vring_burst_begin(vr);
	/* zero-copy: give back the chains the application freed (FIFO); a
	 * packed ring's held entry is cleared by the core when the element
	 * is handed over (vdevpeer_zcopy.c) */
	while (r->nheld != 0 && r->held[0].free_at <= r->burst) {
		struct hold h = r->held[0];

		vdp_vq_used_put(vr, h.id, h.ndesc, 0);
		STEP(r);
		if (r->c.split) {
			vdp_ring_state_held(vr, h.id, 0);
			STEP(r);
		}
		memmove(&r->held[0], &r->held[1], --r->nheld * sizeof(r->held[0]));
	}
	for (uint32_t i = 0; i < n && i < MAXCUT; i++) {
		enum vdp_fetch f = vdp_vq_fetch(vr, &r->m.mm, VDP_DIR_READ, &c);
		uint32_t seq, len;

		if (f == VDP_FETCH_BAD)
			continue;    /* given back empty by the fetch */
		if (f != VDP_FETCH_OK) {
			if (f != VDP_FETCH_EMPTY)
				rt_fail(r, "%s: fetch returned %d", lname(r), (int)f);
			break;
		}
		len = c.len - HDR;
		vdp_chain_read(&c, HDR, pay, len);
		seq = frame_check(pay, len);
		if (seq == NONE) {
			rt_fail(r, "%s: the device read a corrupt frame (id %u)", lname(r), c.id);
			seq = 0;
		}
		r->cut[r->ncut++] = seq;
		STEP(r);
		if (r->c.hold_every != 0 && seq % r->c.hold_every == 1 && r->nheld < MAXR) {
			/* vdp_zc_try: the chain is held, in the file at once */
			vdp_ring_state_held(vr, c.id, c.ndesc);
			r->held[r->nheld++] = (struct hold){ c.id, c.ndesc, seq,
							     r->burst + r->c.hold_bursts };
			STEP(r);
		} else {
			vdp_vq_used_put(vr, c.id, c.ndesc, 0);
			r->cut_used = true;
			STEP(r);
		}
		got[ngot++] = seq;
	}
	vdp_vq_publish(vr);
	r->cut_published = true;
	STEP(r);
	/* the frames leave the driver now */
	vdp_ring_state_avail(vr);
	STEP(r);
	for (uint32_t i = 0; i < ngot; i++)
		r->seen[got[i]]++;
	r->ncut = 0;
	return true;
}

/* As eth_vdevpeer_tx (guest RX ring). false: crashed. */
static bool
dev_tx_burst(struct rt *r, uint32_t n)
{
	static struct vdp_chain c;
	static uint8_t pay[PAY_MAX];
	const struct vdp_net_hdr h0 = { 0 };
	struct vdp_vring *vr = &r->vr;

	r->burst++;
	r->ncut = 0;
	r->cut_published = false;
	r->cut_used0 = vdp_vq_used_base(vr);
	vdp_vring_burst_begin(vr);
	for (uint32_t i = 0; i < n && i < MAXCUT && r->next_seq < MAXSEQ; i++) {
		uint32_t seq = r->next_seq, len = flen(seq);
		struct vdp_iov iov = { pay, len };

		/* a crash inside the enqueue: a buffer taken, nothing written */
		if (vdp_vq_fetch(vr, &r->m.mm, VDP_DIR_WRITE, &c) == VDP_FETCH_OK) {
			STEP(r);
			vdp_vq_unfetch(vr, &c);
		}
		frame_fill(pay, seq, len);
		if (vdp_vq_enqueue_frame(vr, &r->m.mm, &h0, &iov, 1) != 0)
			break;       /* no room: the host tries again later */
		r->cut[r->ncut++] = seq;
		r->next_seq++;
		STEP(r);
	}
	vdp_vq_publish(vr);
	r->cut_published = true;
	STEP(r);
	r->ncut = 0;
	return true;
}

/*
 * Traffic: the guest posts (TX: frames up to upto; RX: buffers), the
 * device runs bursts of n. drain: until nothing is in flight (TX) or
 * every frame up to upto was sent (RX). false: the device crashed.
 */
static bool
run(struct rt *r, uint32_t upto, uint32_t n, bool drain)
{
	for (uint32_t iter = 0; iter < 100000 && !r->stuck; iter++) {
		if (r->c.txq) {
			gtx_reap(r);
			gtx_post_all(r, upto);
			if (!dev_rx_burst(r, n))
				return false;
			gtx_reap(r);
			if (r->next_seq >= upto &&
			    (!drain || (r->nout == 0 && r->nheld == 0)))
				return true;
		} else {
			grx_post_all(r);
			if (!dev_tx_burst(r, n))
				return false;
			grx_reap(r);
			if (r->next_seq >= upto)
				return true;
		}
	}
	if (!r->stuck)
		rt_fail(r, "%s %s: no progress (next %u, in flight %u, held %u)", lname(r),
			qname(r), r->next_seq, r->nout, r->nheld);
	return true;
}

/* What the guest may lose of the burst the crash cut (by design). */
static void
note_cut(struct rt *r)
{
	/* used_batch: the guest saw elements of that burst (the shadow
	 * filled up, or its publish was done) */
	const bool handed = r->c.batch && vdp_vq_used_base(&r->vr) != r->cut_used0;

	for (uint32_t i = 0; i < r->ncut; i++) {
		uint32_t seq = r->cut[i];

		if (r->c.txq) {
			/* chains the guest saw used in a burst whose end was
			 * not reached cannot be taken again: that burst is
			 * finished at the resume, its frames lost */
			if (r->c.split ? r->cut_published && r->cut_used :
			    r->c.batch ? handed : r->cut_used)
				r->lost_ok[seq] = 1;
		} else if (r->c.split && !r->cut_published) {
			r->lost_must[seq] = 1;   /* never published */
		} else if (r->c.batch && !r->cut_published) {
			/* kept back, never handed over; or some were, when
			 * the shadow filled up */
			if (handed)
				r->lost_ok[seq] = 1;
			else
				r->lost_must[seq] = 1;
		}
	}
	r->ncut = 0;
}

/* The process dies (nothing more touches r->vr); the next one loads the
 * ring: VMM positions, then vdp_vq_resume with what it found in the file. */
static void
restart(struct rt *r, struct vdp_resume *out)
{
	/* the hand-overs skip the held entries unless the ring knows it
	 * may hold one: every entry set must have told it */
	for (uint32_t id = 0; r->vr.state == r->st && !r->vr.state_holds && id < r->c.size; id++)
		if (r->st->held[id] != 0)
			rt_fail(r, "held entry of id %u set, the ring does not know", id);
	memcpy(r->old, r->st, sizeof(*r->st));
	memset(r->st, 0, sizeof(*r->st));   /* the new process's file */
	attach_vmm(r);
	vdp_vq_resume(&r->vr, r->old, r->c.txq, out);
	load_finish(r);
	r->nheld = 0;
	r->crashed = false;
	r->crash_at = 0;
}

static void
crash_restart(struct rt *r, struct vdp_resume *out)
{
	note_cut(r);
	restart(r, out);
}

/* Everything came back exactly once; frames as the design says. */
static bool
verify(struct rt *r, char *msg, size_t len)
{
	if (r->bad != 0) {
		snprintf(msg, len, "%s", r->why);
		return false;
	}
	for (uint32_t s = 0; s < r->next_seq; s++) {
		if (r->c.txq) {
			if (r->completed[s] != 1) {
				snprintf(msg, len, "frame %u: its chain came back %u times", s,
					 r->completed[s]);
				return false;
			}
			if (r->seen[s] > 1 || (r->seen[s] == 0 && !r->lost_ok[s])) {
				snprintf(msg, len, "frame %u delivered %u times", s, r->seen[s]);
				return false;
			}
		} else if (r->lost_ok[s] ? r->seen[s] > 1 :
			   r->seen[s] != (r->lost_must[s] ? 0 : 1)) {
			snprintf(msg, len, "frame %u received %u times (expected %u)", s,
				 r->seen[s], r->lost_must[s] ? 0 : 1);
			return false;
		}
	}
	if (r->c.txq && (r->nout != 0 || r->nheld != 0)) {
		snprintf(msg, len, "%u chains still in flight, %u held", r->nout, r->nheld);
		return false;
	}
	/* guest RX: every buffer the device took came back (none lost), the
	 * guest read everything */
	if (!r->c.txq && (r->vr.last_avail != r->vr.used_idx ||
			  r->vr.avail_wrap != r->vr.used_wrap ||
			  (r->c.split ? r->sg.last_used != r->vr.used_idx :
			   r->g.used_slot != r->vr.used_idx || r->g.used_wrap != r->vr.used_wrap))) {
		snprintf(msg, len, "buffers taken and not given back (device avail %u used %u)",
			 r->vr.last_avail, r->vr.used_idx);
		return false;
	}
	snprintf(msg, len, "ok");
	return true;
}

/* Several laps more after a resume, then everything checked. */
static bool
go_on_and_verify(struct rt *r, char *msg, size_t len)
{
	run(r, r->next_seq + 5 * r->size + 3, 3, true);
	if (!r->c.txq)
		grx_reap(r);
	return verify(r, msg, len);
}

/* Positions on the circle of 2 * size (packed: slot | wrap << 15). */
static uint32_t
pcirc(uint16_t base, uint32_t size)
{
	return (base & 0x7fffu) + (base >> 15 ? size : 0u);
}

static uint16_t
pbase_add(uint16_t base, uint32_t n, uint32_t size)
{
	uint32_t p = (pcirc(base, size) + n) % (2u * size);

	return (uint16_t)(p % size | (p >= size ? 0x8000u : 0u));
}

/* Slots the device holds (zero-copy): packed slots, split heads. */
static uint32_t
held_slots(const struct rt *r)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->nheld; i++)
		n += r->c.split ? 1u : r->held[i].ndesc;
	return n;
}

/* ---- a burst cut by hand ---- */

static void
cut_begin(struct rt *r)
{
	r->burst++;
	r->ncut = 0;
	r->cut_published = false;
	r->cut_used = false;
	r->cut_used0 = vdp_vq_used_base(&r->vr);
	vdp_vring_burst_begin(&r->vr);
}

/* Guest TX: take the next chain, as the burst does. */
static bool
dev_take(struct rt *r, struct vdp_chain *c)
{
	static uint8_t pay[VDP_TX_FRAME_MAX];
	uint32_t seq;

	if (vdp_vq_fetch(&r->vr, &r->m.mm, VDP_DIR_READ, c) != VDP_FETCH_OK)
		return false;
	vdp_chain_read(c, HDR, pay, c->len - HDR);
	seq = frame_check(pay, c->len - HDR);
	r->cut[r->ncut++] = seq == NONE ? 0 : seq;
	return true;
}

/* Guest RX: the next frame into the ring (not published). */
static bool
dev_put_frame(struct rt *r)
{
	static uint8_t pay[PAY_MAX];
	const struct vdp_net_hdr h0 = { 0 };
	uint32_t seq = r->next_seq;
	struct vdp_iov iov = { pay, flen(seq) };

	frame_fill(pay, seq, iov.len);
	if (vdp_vq_enqueue_frame(&r->vr, &r->m.mm, &h0, &iov, 1) != 0)
		return false;
	r->cut[r->ncut++] = seq;
	r->next_seq++;
	return true;
}

/* The guest's view of packed slot s. */
static struct vdp_pdesc *
gslot(struct rt *r, uint32_t s)
{
	return &r->g.ring[s % r->size];
}

/* ---- tests ---- */

/* Crash between two bursts: the state is what the ring is. */
static void
test_between_bursts(void)
{
	for (int v = 0; v < 8; v++) {
		/* bit 2: guest TX with zero-copy, guest RX mergeable */
		const bool x = (v >> 2) & 1, txq = (v >> 1) & 1;
		const struct cfg c = { .split = v & 1, .txq = txq, .size = v & 1 ? 16 : 13,
				       .mrg = !txq && x, .rxb = !txq && x ? 64 : 512,
				       .hold_every = txq && x ? 3 : 0, .hold_bursts = 2 };
		struct rt *r;
		struct vdp_resume out;
		uint16_t a0, u0, uwant;
		uint32_t nh;
		char msg[200];

		r = rt_new(&c);
		run(r, 3 * c.size + 5, 3, false);
		a0 = vdp_vq_avail_base(&r->vr);
		u0 = vdp_vq_used_base(&r->vr);
		nh = r->nheld;
		uwant = c.split ? (uint16_t)(u0 + nh) : pbase_add(u0, held_slots(r), c.size);
		restart(r, &out);
		CHECK(out.resumed && out.why == NULL,
		      "%s %s%s: crash between bursts: resumed (%s)", lname(r), qname(r),
		      nh ? " (chains held)" : "", out.why ? out.why : "-");
		CHECK(out.avail == a0 && out.avail == vdp_vq_avail_base(&r->vr),
		      "%s %s: take position where it was (0x%04x, was 0x%04x)", lname(r),
		      qname(r), out.avail, a0);
		CHECK(out.completed == nh, "%s %s: %u held chains given back (%u)", lname(r),
		      qname(r), nh, out.completed);
		CHECK(out.used == uwant && out.used == vdp_vq_used_base(&r->vr),
		      "%s %s: used position where it was, past the chains given back "
		      "(0x%04x, was 0x%04x)", lname(r), qname(r), out.used, u0);
		CHECK(!c.txq || out.used == out.avail,
		      "%s %s: nothing left in flight (avail 0x%04x used 0x%04x)", lname(r),
		      qname(r), out.avail, out.used);
		CHECK(go_on_and_verify(r, msg, sizeof(msg)),
		      "%s %s: every chain back once, nothing re-sent, 5 laps more: %s",
		      lname(r), qname(r), msg);
		rt_free(r);
	}
}

/*
 * Packed: the record of the used element about to be written, stored
 * before it. Not written: the resume does not skip it; written: it does,
 * also when the guest has already posted that slot again for the next
 * lap. On both kinds of rings.
 */
static void
test_packed_record(void)
{
	for (int txq = 0; txq < 2; txq++) {
		const struct cfg c = { .txq = txq, .size = 8, .one_slot = true };
		struct vdp_resume out;
		struct vdp_chain ch;
		char msg[200];
		struct rt *r;
		uint16_t b;

		/* (a) the record stored, the element not written; fill: its id
		 * and length stored too, not its flags (the driver now stores
		 * the three at once: a torn write, kept as a robustness case) */
		for (int fill = 0; fill < 2; fill++) {
			r = rt_new(&c);
			run(r, 2 * c.size + 3, 3, false);
			cut_begin(r);
			b = vdp_vq_used_base(&r->vr);
			if (txq) {
				dev_take(r, &ch);
				/* vdp_packed_used_put's first store, then the crash */
				__atomic_store_n(&r->vr.state->used,
						 VDP_STATE_USED(b, ch.ndesc, ch.id), __ATOMIC_RELAXED);
				if (fill) {
					gslot(r, b & 0x7fff)->id = ch.id;
					gslot(r, b & 0x7fff)->len = 0;
					/* the chain's length is gone: given back
					 * empty, its frame lost */
					r->lost_ok[r->cut[0]] = 1;
				}
			} else {
				struct vdp_pdesc d0;

				grx_post_all(r);
				d0 = *gslot(r, b & 0x7fff);
				dev_put_frame(r);
				/* the frame and the record written; id and
				 * length or not, never the flags */
				if (fill)
					gslot(r, b & 0x7fff)->flags = d0.flags;
				else
					*gslot(r, b & 0x7fff) = d0;
				r->lost_must[r->cut[0]] = 1;
			}
			crash_restart(r, &out);
			if (txq) {
				CHECK(out.resumed && out.used == b && out.avail == b,
				      "packed guest TX: record stored, element not written%s: "
				      "resumed at it, not past it, the chain taken again (avail "
				      "0x%04x used 0x%04x, record at 0x%04x)",
				      fill ? " (id, length stored)" : "", out.avail, out.used, b);
			} else {
				uint16_t f = gslot(r, b & 0x7fff)->flags;

				CHECK(out.resumed && out.used == pbase_add(b, 1, c.size) &&
				      out.avail == out.used &&
				      f == guest_packed_used_bits(b >> 15),
				      "packed guest RX: record stored, element not written%s: not "
				      "skipped, the buffer given back empty (its length may be "
				      "the frame's now: avail 0x%04x used 0x%04x, record at 0x%04x, "
				      "flags 0x%04x)", fill ? " (id, length stored)" : "",
				      out.avail, out.used, b, f);
			}
			CHECK(go_on_and_verify(r, msg, sizeof(msg)),
			      "packed %s%s: %s, 5 laps more: %s", qname(r), fill ? " (filled)" : "",
			      txq ? (fill ? "the chain back once, empty" :
				     "the chain taken again, its frame sent once") :
				    "the frame lost, its buffer back once", msg);
			rt_free(r);
		}

		/* (b) the element written */
		r = rt_new(&c);
		run(r, 2 * c.size + 3, 3, false);
		cut_begin(r);
		b = vdp_vq_used_base(&r->vr);
		if (txq) {
			dev_take(r, &ch);
			vdp_vq_used_put(&r->vr, ch.id, ch.ndesc, 0);
			r->cut_used = true;
		} else {
			grx_post_all(r);
			dev_put_frame(r);
		}
		crash_restart(r, &out);
		CHECK(out.resumed && out.used == pbase_add(b, 1, c.size) && out.avail == out.used,
		      "packed %s: element written: resumed past it (avail 0x%04x used 0x%04x, "
		      "record at 0x%04x)", qname(r), out.avail, out.used, b);
		CHECK(go_on_and_verify(r, msg, sizeof(msg)), "packed %s: %s, 5 laps more: %s",
		      qname(r), txq ? "its chain back once" : "the frame received once", msg);
		rt_free(r);

		/* (c) written, and the guest took it and posted that slot for
		 * the next lap already: AVAIL flipped, USED still ours */
		r = rt_new(&c);
		run(r, 2 * c.size + 3, 3, false);
		if (txq) {
			gtx_reap(r);
			gtx_post_all(r, MAXSEQ);        /* the ring full */
		} else {
			grx_reap(r);
			grx_post_all(r);
		}
		cut_begin(r);
		b = vdp_vq_used_base(&r->vr);
		if (txq) {
			dev_take(r, &ch);
			vdp_vq_used_put(&r->vr, ch.id, ch.ndesc, 0);
			r->cut_used = true;
			gtx_reap(r);
			gtx_post_all(r, MAXSEQ);
		} else {
			dev_put_frame(r);
			grx_reap(r);
			grx_post_all(r);
		}
		{
			struct vdp_pdesc *d = gslot(r, b & 0x7fff);
			uint16_t f = d->flags, id = d->id;
			bool w = b >> 15;

			CHECK(!!(f & VDP_PDESC_F_AVAIL) != w && !!(f & VDP_PDESC_F_USED) == w,
			      "packed %s: the guest posted the slot of the record for the next "
			      "lap (flags 0x%04x)", qname(r), f);
			/* under another buffer id (the guest's choice: ours
			 * reuses the one it got back) */
			d->id = (uint16_t)((id + 1) % c.size);
			crash_restart(r, &out);
			d->id = id;
		}
		CHECK(out.resumed && out.used == pbase_add(b, 1, c.size) && out.avail == out.used,
		      "packed %s: element written, slot posted again: still counted as "
		      "written (avail 0x%04x used 0x%04x, record at 0x%04x)", qname(r),
		      out.avail, out.used, b);
		CHECK(go_on_and_verify(r, msg, sizeof(msg)), "packed %s: 5 laps more: %s",
		      qname(r), msg);
		rt_free(r);
	}
}

/*
 * Packed: the slot under a record of an element not written shows a
 * used element of this lap, but not under the record's id (a guest's
 * scribble, or the record of another ring): not counted as written.
 */
static void
test_packed_record_id(void)
{
	for (int txq = 0; txq < 2; txq++) {
		const struct cfg c = { .txq = txq, .size = 8, .one_slot = true };
		struct rt *r = rt_new(&c);
		struct vdp_resume out;
		struct vdp_pdesc *d;
		uint16_t b;

		run(r, 2 * c.size + 3, 3, false);
		if (!txq)
			grx_post_all(r);
		b = vdp_vq_used_base(&r->vr);
		d = gslot(r, b & 0x7fff);
		r->st->used = VDP_STATE_USED(b, 1, (d->id + 1) % c.size);
		d->flags = guest_packed_used_bits(b >> 15);
		memcpy(r->old, r->st, sizeof(*r->st));
		attach_vmm(r);
		vdp_vq_resume(&r->vr, r->old, txq, &out);
		CHECK(out.resumed && out.used == b,
		      "packed %s: a used element of this lap under another id than the "
		      "record's: not counted as written (used 0x%04x, record at 0x%04x)",
		      qname(r), out.used, b);
		rt_free(r);
	}
}

/*
 * Packed guest RX, mergeable: a frame over four buffers (a group: the
 * first element's flags stored last), cut after the flags of some of the
 * others (or none): the guest saw nothing of it. Resume at the group's
 * start, the frame lost; its buffers are taken again for the next frames
 * and each comes back once.
 */
static void
test_packed_group(void)
{
	for (uint32_t j = 0; j < 4; j++) {
		const struct cfg c = { .size = 16, .mrg = true, .rxb = 64 };
		struct rt *r = rt_new(&c);
		struct vdp_pdesc snap[16];
		struct vdp_resume out;
		uint32_t seq, nbuf, s0;
		char msg[200];
		uint16_t b;

		run(r, 2 * c.size + 1, 3, false);
		grx_post_all(r);
		/* a frame that takes four buffers (the frames skipped are
		 * never sent) */
		for (seq = r->next_seq; (HDR + flen(seq) + c.rxb - 1) / c.rxb != 4; seq++)
			r->lost_must[seq] = 1;
		r->next_seq = seq;
		cut_begin(r);
		b = vdp_vq_used_base(&r->vr);
		s0 = pcirc(b, c.size);
		memcpy(snap, r->g.ring, sizeof(snap));
		dev_put_frame(r);
		nbuf = 4;
		CHECK(r->vr.state->used == VDP_STATE_USED(b, nbuf, snap[b & 0x7fff].id),
		      "packed mergeable: one record for the group (4 slots)");
		/* the crash: element 0's flags not stored, elements j+1.. not
		 * written at all */
		gslot(r, s0)->flags = snap[s0 % c.size].flags;
		for (uint32_t i = j + 1; i < nbuf; i++)
			*gslot(r, s0 + i) = snap[(s0 + i) % c.size];
		r->lost_must[seq] = 1;
		crash_restart(r, &out);
		CHECK(out.resumed && out.used == b && out.avail == b,
		      "packed mergeable: group cut after %u of its other elements: resumed at "
		      "its start (avail 0x%04x used 0x%04x, group at 0x%04x)", j, out.avail,
		      out.used, b);
		CHECK(go_on_and_verify(r, msg, sizeof(msg)),
		      "packed mergeable: group cut after %u: the frame lost, its buffers "
		      "taken again, every later frame whole, 5 laps more: %s", j, msg);
		rt_free(r);
	}
	/* a record of a group of more slots than a frame's buffers may take
	 * (a state not of this ring, or scribbled): its slots are left as
	 * they are (ASan: resume-asan) */
	{
		const struct cfg c = { .size = 300, .mrg = true, .rxb = 64 };
		struct rt *r = rt_new(&c);
		struct vdp_resume out;
		char msg[200];
		uint16_t b;
		uint32_t s0;

		run(r, c.size + 7, 3, false);
		grx_post_all(r);
		b = vdp_vq_used_base(&r->vr);
		s0 = pcirc(b, c.size);
		r->st->used = VDP_STATE_USED(b, 200, (gslot(r, s0)->id + 1) % c.size);
		memcpy(r->old, r->st, sizeof(*r->st));
		attach_vmm(r);
		vdp_vq_resume(&r->vr, r->old, false, &out);
		load_finish(r);
		CHECK(out.resumed && out.used == b && out.avail == b,
		      "packed mergeable: a record of a 200-slot group, not written: resumed at "
		      "it (0x%04x 0x%04x)", out.avail, out.used);
		CHECK(go_on_and_verify(r, msg, sizeof(msg)),
		      "packed mergeable: 300 slots, 5 laps more: %s", msg);
		rt_free(r);
	}
}

/*
 * Zero-copy: chains held at the crash are given back empty exactly once
 * (out.completed), the others go on; a chain held in the burst the crash
 * cut is taken again, not given back; a chain given back whose held
 * entry the process did not live to clear is not given back twice; a
 * split chain given back but not published yet is published.
 */
static void
test_held(void)
{
	for (int split = 0; split < 2; split++) {
		const struct cfg c = { .split = split, .txq = true, .size = split ? 16 : 15,
				       .hold_every = 2, .hold_bursts = 4 };
		struct vdp_resume out;
		struct vdp_chain ch;
		struct rt *r;
		char msg[200];
		uint32_t nh;
		const char *ln = split ? "split" : "packed";

		/* between bursts */
		r = rt_new(&c);
		run(r, 3 * c.size, 3, false);
		nh = r->nheld;
		crash_restart(r, &out);
		CHECK(out.resumed && nh >= 3 && out.completed == nh,
		      "%s zero-copy: %u chains held at the crash, %u given back", ln, nh,
		      out.completed);
		CHECK(go_on_and_verify(r, msg, sizeof(msg)),
		      "%s zero-copy: each back once, the rest go on, 5 laps more: %s", ln, msg);
		rt_free(r);

		/* a chain held in the burst the crash cut */
		r = rt_new(&c);
		run(r, 3 * c.size, 3, false);
		gtx_post_all(r, MAXSEQ);
		nh = r->nheld;
		cut_begin(r);
		dev_take(r, &ch);
		vdp_ring_state_held(&r->vr, ch.id, ch.ndesc);
		crash_restart(r, &out);
		CHECK(out.resumed && out.completed == nh && out.used == out.avail,
		      "%s zero-copy: a chain held in the burst the crash cut is not given "
		      "back (%u of %u)", ln, out.completed, nh + 1);
		CHECK(go_on_and_verify(r, msg, sizeof(msg)),
		      "%s zero-copy: it is taken again, its frame sent once: %s", ln, msg);
		rt_free(r);

		/* a chain given back (used element written), its held entry
		 * not cleared yet */
		r = rt_new(&c);
		run(r, 3 * c.size, 3, false);
		nh = r->nheld;
		cut_begin(r);
		vdp_vq_used_put(&r->vr, r->held[0].id, r->held[0].ndesc, 0);
		crash_restart(r, &out);
		CHECK(out.resumed && out.completed == nh - (split ? 0 : 1),
		      "%s zero-copy: a chain given back, the process killed before its held "
		      "entry was cleared: %u of %u given back", ln, out.completed, nh);
		CHECK(go_on_and_verify(r, msg, sizeof(msg)),
		      "%s zero-copy: that chain back once: %s", ln, msg);
		rt_free(r);

		/* all given back, held entries cleared, not published yet
		 * (split): published by the load itself */
		r = rt_new(&c);
		run(r, 3 * c.size, 3, false);
		nh = r->nheld;
		cut_begin(r);
		for (uint32_t i = 0; i < nh; i++) {
			vdp_vq_used_put(&r->vr, r->held[i].id, r->held[i].ndesc, 0);
			vdp_ring_state_held(&r->vr, r->held[i].id, 0);
		}
		r->nheld = 0;
		crash_restart(r, &out);
		CHECK(out.resumed && out.completed == 0 && nh != 0 &&
		      (split ? r->sg.used->idx : vdp_vq_used_base(&r->vr)) == out.used,
		      "%s zero-copy: all %u held chains given back, entries cleared, %s: "
		      "the guest sees them at the load (used 0x%04x)", ln, nh,
		      split ? "not published" : "visible", out.used);
		CHECK(go_on_and_verify(r, msg, sizeof(msg)),
		      "%s zero-copy: those chains back once: %s", ln, msg);
		rt_free(r);

		/* given back, held entry cleared, not published yet (split) */
		r = rt_new(&c);
		run(r, 3 * c.size, 3, false);
		nh = r->nheld;
		cut_begin(r);
		vdp_vq_used_put(&r->vr, r->held[0].id, r->held[0].ndesc, 0);
		vdp_ring_state_held(&r->vr, r->held[0].id, 0);
		crash_restart(r, &out);
		CHECK(out.resumed && out.completed == nh - 1,
		      "%s zero-copy: a chain given back, its held entry cleared, %s: "
		      "%u of %u given back at the resume", ln,
		      split ? "not published" : "visible", out.completed, nh);
		CHECK(go_on_and_verify(r, msg, sizeof(msg)),
		      "%s zero-copy: that chain back once: %s", ln, msg);
		rt_free(r);
	}
}

/*
 * Split guest TX: the used index published but the burst's end (the take
 * position in the file) not reached: the guest saw those chains used, the
 * resume takes the used index (plus what is held).
 */
static void
test_split_used_ahead(void)
{
	for (int zc = 0; zc < 2; zc++) {
		const struct cfg c = { .split = true, .txq = true, .size = 16,
				       .hold_every = zc ? 2 : 0, .hold_bursts = 4 };
		struct rt *r = rt_new(&c);
		struct vdp_resume out;
		struct vdp_chain ch;
		uint16_t g;
		uint32_t nh;
		char msg[200];

		run(r, 3 * c.size, 3, false);
		gtx_post_all(r, MAXSEQ);
		nh = r->nheld;
		cut_begin(r);
		for (int i = 0; i < 3; i++) {
			dev_take(r, &ch);
			vdp_vq_used_put(&r->vr, ch.id, ch.ndesc, 0);
		}
		vdp_vq_publish(&r->vr);
		r->cut_used = r->cut_published = true;
		g = r->sg.used->idx;
		CHECK((uint16_t)(g + nh - r->st->avail) == 3,
		      "split%s: guest used index%s ahead of the take position in the file",
		      zc ? " zero-copy" : "", zc ? " plus the chains held" : "");
		crash_restart(r, &out);
		CHECK(out.resumed && out.avail == (uint16_t)(g + nh) && out.used == out.avail &&
		      out.completed == nh,
		      "split%s: used index published, burst end not reached: resumed at the "
		      "used index + %u held (avail 0x%04x used 0x%04x, used index 0x%04x)",
		      zc ? " zero-copy" : "", nh, out.avail, out.used, g);
		CHECK(go_on_and_verify(r, msg, sizeof(msg)),
		      "split%s: nothing taken twice, 5 laps more: %s", zc ? " zero-copy" : "",
		      msg);
		rt_free(r);
	}
}

/* ---- states that do not fit the ring: refused, nothing changes ---- */

typedef void (*mutate_fn)(struct vdp_ring_state *st, const struct rt *r);

static bool
refused_unchanged(struct rt *r, const char *what, mutate_fn mut)
{
	static uint8_t mem[1u << 20];
	const size_t len = (size_t)(r->buf_gpa - GPA_BASE);
	uint64_t ids0[VDP_PACKED_IDS_WORDS(MAXR)];
	struct vdp_vring before;
	struct vdp_resume out;
	uint16_t a0, u0;
	bool ok;

	memcpy(r->old, r->st, sizeof(*r->st));
	mut(r->old, r);
	attach_vmm(r);
	before = r->vr;
	memcpy(ids0, r->ids, sizeof(ids0));
	a0 = vdp_vq_avail_base(&r->vr);
	u0 = vdp_vq_used_base(&r->vr);
	if (len > sizeof(mem))
		exit(2);
	memcpy(mem, guest_ptr(&r->m, GPA_BASE), len);
	vdp_vq_resume(&r->vr, r->old, r->c.txq, &out);
	ok = !out.resumed && out.why != NULL && out.completed == 0 &&
	     out.avail == a0 && out.used == u0 &&
	     memcmp(&before, &r->vr, sizeof(before)) == 0 &&
	     memcmp(ids0, r->ids, sizeof(ids0)) == 0 &&
	     memcmp(mem, guest_ptr(&r->m, GPA_BASE), len) == 0;
	CHECK(ok, "%s %s: %s: refused (%s), nothing changed", lname(r), qname(r), what,
	      out.why ? out.why : "resumed!");
	return ok;
}

static void mut_rec_slot(struct vdp_ring_state *st, const struct rt *r)
{ st->used = VDP_STATE_USED(r->size | 0x8000u, 1, 0); }
static void mut_rec_slot_max(struct vdp_ring_state *st, const struct rt *r)
{ (void)r; st->used = VDP_STATE_USED(0x7fffu, 1, 0); }
static void mut_rec_n0(struct vdp_ring_state *st, const struct rt *r)
{ (void)r; st->used = VDP_STATE_USED((uint16_t)st->used, 0, 0); }
static void mut_rec_nbig(struct vdp_ring_state *st, const struct rt *r)
{ st->used = VDP_STATE_USED((uint16_t)st->used, r->size + 1, 0); }
static void mut_rec_id(struct vdp_ring_state *st, const struct rt *r)
{ st->used = VDP_STATE_USED((uint16_t)st->used, 1, r->size); }
static void mut_rec_junk(struct vdp_ring_state *st, const struct rt *r)
{ (void)r; st->used |= 1ull << 50; }
static void mut_avail_slot(struct vdp_ring_state *st, const struct rt *r)
{ st->avail = r->size; }
static void mut_avail_high(struct vdp_ring_state *st, const struct rt *r)
{ (void)r; st->avail |= 0x10000u; }
static void mut_no_avail(struct vdp_ring_state *st, const struct rt *r)
{ (void)r; st->avail_valid = 0; }
static void mut_held_sum(struct vdp_ring_state *st, const struct rt *r)
{ st->held[0] = (uint16_t)r->size; st->held[r->size - 1] = 1; }
/* two rings' worth: on the circle of 2 * size it would look like none */
static void mut_held_2ring(struct vdp_ring_state *st, const struct rt *r)
{ st->held[0] = (uint16_t)r->size; st->held[1] = (uint16_t)r->size; }
static void mut_held_big(struct vdp_ring_state *st, const struct rt *r)
{ st->held[r->size / 2] = 0xffff; }
static void mut_layout(struct vdp_ring_state *st, const struct rt *r)
{ st->layout = r->c.split ? VDP_LAYOUT_PACKED : VDP_LAYOUT_SPLIT; }
static void mut_size(struct vdp_ring_state *st, const struct rt *r)
{ st->size = r->size * 2; }
/* split: the take position more than a ring past the guest's used index */
static void mut_split_apart(struct vdp_ring_state *st, const struct rt *r)
{ st->avail = (uint16_t)(r->sg.used->idx + r->size + 1); }
static void mut_split_apart_held(struct vdp_ring_state *st, const struct rt *r)
{ st->avail = (uint16_t)(r->sg.used->idx + r->size + 1); st->held[0] = 1; }
static void mut_split_behind(struct vdp_ring_state *st, const struct rt *r)
{ st->avail = (uint16_t)(r->sg.used->idx - r->size - 1); }
/* packed: the take position past what was taken (used + held): more
 * than a ring behind it on the circle */
static void mut_packed_apart(struct vdp_ring_state *st, const struct rt *r)
{
	/* between bursts, nothing held: the used position is the take one */
	st->avail = pbase_add(vdp_vq_used_base(&r->vr), 2, r->size);
}

/* Packed: a record near the end of the circle, of an element written,
 * and a take position more than a ring before where it ends: the used
 * position must be reduced to the circle before comparing (a ring whose
 * size is not a power of two). */
static void mut_packed_wrapped(struct vdp_ring_state *st, const struct rt *r)
{
	const uint32_t n = r->size - 1;
	uint16_t b = (uint16_t)((r->size - 1) | 0x8000u);
	uint16_t end = pbase_add(b, n, r->size);

	st->used = VDP_STATE_USED(b, n, 3);
	st->avail = pbase_add(end, 1, r->size);
	memset(st->held, 0, sizeof(st->held));
}

static void
test_refused(void)
{
	static const struct {
		const char *what;
		mutate_fn fn;
		bool packed_only, split_only, txq_only;
	} m[] = {
		{ "used record slot >= size", mut_rec_slot, true, false, false },
		{ "used record slot 0x7fff", mut_rec_slot_max, true, false, false },
		{ "used record of 0 slots", mut_rec_n0, true, false, false },
		{ "used record of more slots than the ring", mut_rec_nbig, true, false, false },
		{ "used record id >= size", mut_rec_id, true, false, false },
		{ "used record with junk bits", mut_rec_junk, true, false, false },
		{ "take position slot >= size", mut_avail_slot, true, false, true },
		{ "take position wider than 16 bits", mut_avail_high, false, false, true },
		{ "no take position", mut_no_avail, false, false, true },
		{ "held chains of more slots than the ring", mut_held_sum, false, false, true },
		{ "held chain of 65535 slots", mut_held_big, false, false, true },
		{ "held chains of two rings' slots", mut_held_2ring, false, false, true },
		{ "another layout", mut_layout, false, false, false },
		{ "another size", mut_size, false, false, false },
		{ "take position a ring and more past the used index", mut_split_apart, false,
		  true, true },
		{ "take position a ring and more past the used index, a chain held",
		  mut_split_apart_held, false, true, true },
		{ "take position a ring and more behind the used index", mut_split_behind,
		  false, true, true },
		{ "take position past the used one plus what is held", mut_packed_apart, true,
		  false, true },
	};

	for (int v = 0; v < 4; v++) {
		const struct cfg c = { .split = v & 1, .txq = v >> 1, .size = v & 1 ? 16 : 12 };
		struct rt *r = rt_new(&c);
		char msg[200];

		run(r, 3 * c.size + 1, 3, false);
		for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			if ((m[i].packed_only && c.split) || (m[i].split_only && !c.split) ||
			    (m[i].txq_only && !c.txq))
				continue;
			refused_unchanged(r, m[i].what, m[i].fn);
		}
		/* the file unchanged: the ring goes on from it */
		{
			struct vdp_resume out;

			restart(r, &out);
			CHECK(out.resumed && go_on_and_verify(r, msg, sizeof(msg)),
			      "%s %s: the state itself still resumes: %s", lname(r), qname(r),
			      out.resumed ? msg : out.why);
		}
		rt_free(r);
	}
	/* the used position reduced to the circle (packed, size not a power
	 * of two), guest TX */
	{
		const struct cfg c = { .txq = true, .size = 5, .one_slot = true };
		struct rt *r = rt_new(&c);
		struct vdp_pdesc *d = gslot(r, c.size - 1);

		run(r, 2 * c.size + 1, 3, false);
		/* the slot under the record shows it written */
		d->id = 3;
		d->flags = VDP_PDESC_F_AVAIL | VDP_PDESC_F_USED;
		refused_unchanged(r, "record at the circle's end, take position a ring and "
				  "more behind where it ends", mut_packed_wrapped);
		rt_free(r);
	}
}

/*
 * A packed ring the guest set up afresh while the backend was down (the
 * device event area cleared): the VMM's positions stand. vdp_vq_resume
 * runs before this load's own kick suppression (which writes DISABLE).
 */
static void
test_fresh_ring(void)
{
	for (int txq = 0; txq < 2; txq++) {
		const struct cfg c = { .txq = txq, .size = 8, .hold_every = 2,
				       .hold_bursts = 3 };
		struct rt *r = rt_new(&c);
		struct vdp_resume out;

		run(r, 2 * c.size + 3, 3, false);
		CHECK(r->g.device_event->flags == VDP_PEVENT_DISABLE,
		      "packed %s: the load left DISABLE in the device event area", qname(r));
		/* the guest's reset: a fresh ring, positions at the start */
		memset(r->g.ring, 0, sizeof(r->g.ring[0]) * c.size);
		r->g.device_event->flags = 0;
		r->g.device_event->off_wrap = 0;
		memcpy(r->old, r->st, sizeof(*r->st));
		attach_vmm(r);
		vdp_vq_resume(&r->vr, r->old, txq, &out);
		CHECK(!out.resumed && out.why != NULL && out.completed == 0 &&
		      out.avail == (uint16_t)(c.start_slot | 0x8000u) && out.used == out.avail,
		      "packed %s: the guest set the ring up afresh: refused (%s), the VMM's "
		      "positions stand (0x%04x 0x%04x)", qname(r), out.why ? out.why : "-",
		      out.avail, out.used);
		rt_free(r);
	}
}

/*
 * A crash while the worker slept (rx interrupt mode): the device event area
 * holds ENABLE (with our marker: no EVENT_IDX) or DESC (EVENT_IDX), not
 * DISABLE, and is still ours - the ring resumes as after any crash, it is
 * not taken for a ring set up afresh.
 */
static void
test_asleep_ring(void)
{
	for (int v = 0; v < 4; v++) {
		const struct cfg c = { .txq = v & 1, .size = 8, .hold_every = v & 1 ? 2 : 0,
				       .hold_bursts = 3 };
		const bool eidx = v >> 1;
		struct rt *r = rt_new(&c);
		struct vdp_resume out;
		uint16_t a0;

		run(r, 2 * c.size + 3, 3, false);
		a0 = vdp_vq_avail_base(&r->vr);
		r->vr.event_idx = eidx;
		/* a guest RX ring has buffers posted: "work there" is right */
		CHECK(vdp_vq_enable_kicks(&r->vr) == !c.txq &&
		      r->g.device_event->flags == (eidx ? VDP_PEVENT_DESC : VDP_PEVENT_ENABLE),
		      "packed %s: asleep, kicks asked for (%s)", qname(r), eidx ? "DESC" : "ENABLE");
		restart(r, &out);
		CHECK(out.resumed && out.why == NULL && out.avail == a0,
		      "packed %s: a crash while asleep (%s): resumed, not a fresh ring (%s)",
		      qname(r), eidx ? "DESC" : "ENABLE", out.why ? out.why : "-");
		rt_free(r);
	}
}

/*
 * A second crash before the ring wrote anything after the first resume:
 * the ring resumes where the first resume left it (the VMM still hands
 * the positions it knew before both).
 */
static void
test_crash_twice(void)
{
	for (int v = 0; v < 4; v++) {
		const struct cfg c = { .split = v & 1, .txq = v >> 1, .size = 8,
				       .hold_every = v >> 1 ? 3 : 0, .hold_bursts = 3 };
		struct rt *r = rt_new(&c);
		struct vdp_resume out1, out2;
		char msg[200];

		run(r, 2 * c.size + 3, 3, false);
		restart(r, &out1);
		restart(r, &out2);
		CHECK(out1.resumed && out2.resumed && out2.avail == out1.avail &&
		      out2.used == out1.used && out2.completed == 0,
		      "%s %s: crashed again before any traffic: resumed where the first "
		      "resume left it (0x%04x 0x%04x, then 0x%04x 0x%04x: %s)", lname(r), qname(r),
		      out1.avail, out1.used, out2.avail, out2.used, out2.why ? out2.why : "-");
		CHECK(go_on_and_verify(r, msg, sizeof(msg)), "%s %s: 5 laps more: %s", lname(r),
		      qname(r), msg);
		rt_free(r);
	}
}

/*
 * used_batch: the used elements of a burst kept back until its publish.
 * A crash before it: the guest saw none of them, as if the burst were
 * cut (guest TX: taken again, frames sent once; guest RX: the frames
 * lost, the buffers taken again). Zero-copy chains given back but kept:
 * still held in the state, given back once by the resume.
 */
static void
test_batch_kept(void)
{
	for (int v = 0; v < 4; v++) {
		const bool txq = v & 1, x = v >> 1;
		const struct cfg c = { .txq = txq, .size = 16, .batch = true,
				       .mrg = !txq && x, .rxb = !txq && x ? 64 : 512,
				       .hold_every = txq && x ? 2 : 0, .hold_bursts = 3 };
		const char *what = txq ? (x ? "guest TX, zero-copy" : "guest TX") :
				   (x ? "guest RX, mergeable" : "guest RX");
		struct rt *r = rt_new(&c);
		struct vdp_pdesc snap[16];
		struct vdp_chain ch;
		struct vdp_resume out;
		uint64_t rec0;
		uint16_t a0, u0;
		uint32_t nh, hs, kept = 0;
		bool held_ok = true;
		char msg[200];

		run(r, 3 * c.size + 1, 3, false);
		if (txq) {
			gtx_reap(r);
			gtx_post_all(r, MAXSEQ);
		} else {
			grx_reap(r);
			grx_post_all(r);
		}
		nh = r->nheld;
		hs = held_slots(r);
		a0 = vdp_vq_avail_base(&r->vr);
		u0 = vdp_vq_used_base(&r->vr);
		rec0 = r->st->used;
		memcpy(snap, r->g.ring, sizeof(snap));
		cut_begin(r);
		if (txq) {
			/* the held chains given back (kept), then chains taken
			 * and used (kept) */
			for (uint32_t i = 0; i < nh; i++) {
				vdp_vq_used_put(&r->vr, r->held[i].id, r->held[i].ndesc, 0);
				held_ok = held_ok && r->st->held[r->held[i].id] == r->held[i].ndesc;
				kept++;
			}
			for (int i = 0; i < 3 && dev_take(r, &ch); i++) {
				vdp_vq_used_put(&r->vr, ch.id, ch.ndesc, 0);
				kept++;
			}
		} else {
			for (int i = 0; i < 3 && dev_put_frame(r); i++)
				;
			kept = r->vr.nshadow;
		}
		CHECK(kept >= 3 && r->vr.nshadow == kept && vdp_vq_used_base(&r->vr) == u0 &&
		      r->st->used == rec0 && held_ok && memcmp(snap, r->g.ring, sizeof(snap)) == 0,
		      "packed %s, used_batch: %u elements kept: nothing written into the ring, "
		      "the used position and its record where they were%s", what, kept,
		      nh ? ", the chains given back still held in the state" : "");
		crash_restart(r, &out);
		/* the held chains given back by the resume: the used position
		 * past them (then the take position: nothing in flight) */
		CHECK(out.resumed && out.used == pbase_add(u0, hs, c.size) &&
		      (txq ? out.avail == a0 : out.avail == u0) && out.completed == nh,
		      "packed %s, used_batch: crash before the publish: resumed as if the burst "
		      "were cut (avail 0x%04x used 0x%04x, was 0x%04x 0x%04x), %u held chains "
		      "given back once (%u)", what, out.avail, out.used, a0, u0, nh, out.completed);
		CHECK(go_on_and_verify(r, msg, sizeof(msg)),
		      "packed %s, used_batch: %s, every chain back once, 5 laps more: %s", what,
		      txq ? "the chains taken again, their frames sent once" :
			    "the frames lost, their buffers taken again", msg);
		rt_free(r);
	}
}

/*
 * used_batch: a crash in the middle of the hand-over of the kept
 * elements (one group: the record, the other elements, the first one's
 * flags last, then the held entries cleared). j: how many of the other
 * elements were written (-1: only the record, not even the first's id and
 * length); first: the first element's flags stored too (the guest's), the
 * held entries not cleared yet.
 */
static void
batch_handover_cut(bool txq, bool zc, bool mrg, int j, bool first)
{
	const struct cfg c = { .txq = txq, .size = 16, .batch = true, .mrg = mrg,
			       .rxb = mrg ? 64 : 512, .hold_every = zc ? 2 : 0,
			       .hold_bursts = 2, .one_slot = !mrg };
	const char *what = txq ? (zc ? "guest TX, zero-copy" : "guest TX") :
			   (mrg ? "guest RX, mergeable" : "guest RX");
	struct rt *r = rt_new(&c);
	static struct vdp_ring_state st0;
	struct vdp_pdesc snap[16];
	struct vdp_chain ch;
	struct vdp_resume out;
	uint32_t nh, n, nslots = 0, s0;
	uint16_t b, id0;
	char msg[200];

	run(r, 3 * c.size + 1, 3, false);
	if (txq) {
		gtx_reap(r);
		gtx_post_all(r, MAXSEQ);
	} else {
		grx_reap(r);
		grx_post_all(r);
	}
	nh = r->nheld;
	cut_begin(r);
	if (txq) {
		for (uint32_t i = 0; i < nh; i++)
			vdp_vq_used_put(&r->vr, r->held[i].id, r->held[i].ndesc, 0);
		for (int i = 0; i < 4 && dev_take(r, &ch); i++)
			vdp_vq_used_put(&r->vr, ch.id, ch.ndesc, 0);
	} else {
		for (int i = 0; i < 4 && dev_put_frame(r); i++)
			;
	}
	n = r->vr.nshadow;
	for (uint32_t i = 0; i < n; i++)
		nslots += r->vr.shadow[i].ndesc;
	b = vdp_vq_used_base(&r->vr);
	s0 = pcirc(b, c.size);
	id0 = r->vr.shadow[0].id;
	memcpy(snap, r->g.ring, sizeof(snap));
	memcpy(&st0, r->st, sizeof(st0));
	vdp_vq_publish(&r->vr);
	r->cut_published = true;
	CHECK(n >= 2 && r->st->used == VDP_STATE_USED(b, nslots, id0),
	      "packed %s, used_batch: one record for the %u kept elements (%u slots)", what, n,
	      nslots);
	CHECK(r->st->group == 0 && r->st->ngroup == n,
	      "packed %s, used_batch: the state holds the group while it is handed over, "
	      "marked done after", what);
	/* the crash: back to what the ring and the file held then */
	if (!first) {
		uint32_t s = s0;

		gslot(r, s0)->flags = snap[s0 % c.size].flags;
		if (j < 0)
			*gslot(r, s0) = snap[s0 % c.size];
		for (uint32_t i = 0; i < n; i++) {
			if ((int)i > j && i > 0)
				for (uint32_t k = 0; k < r->st->group_ent[i].ndesc; k++)
					*gslot(r, s + k) = snap[(s + k) % c.size];
			s += r->st->group_ent[i].ndesc;
		}
	}
	memcpy(r->st->held, st0.held, sizeof(st0.held));
	r->st->group = r->st->used;
	/* guest TX: the chains taken in that burst come back, their frames
	 * died with the process (note_cut); guest RX: every frame whole */
	crash_restart(r, &out);
	CHECK(out.resumed && out.used == pbase_add(b, nslots, c.size) &&
	      out.avail == out.used && out.completed == 0,
	      "packed %s, used_batch: hand-over cut %s: %s (used 0x%04x, group at 0x%04x, "
	      "%u slots; %u held chains given back)", what,
	      first ? "after the first element's flags, before the held entries were cleared" :
	      j < 0 ? "right after the record" : "before the first element's flags",
	      first ? "the group is the guest's" : "finished by the resume",
	      out.used, b, nslots, out.completed);
	CHECK(go_on_and_verify(r, msg, sizeof(msg)),
	      "packed %s, used_batch: cut %s%d: %s, 5 laps more: %s", what,
	      first ? "after the flags, " : "after other elements ", j,
	      txq ? "every chain back once (the held ones too)" : "every frame received once",
	      msg);
	rt_free(r);
}

static void
test_batch_handover(void)
{
	for (int j = -1; j < 4; j++) {
		batch_handover_cut(false, false, false, j, false);
		batch_handover_cut(false, false, true, j, false);
		batch_handover_cut(true, false, false, j, false);
		batch_handover_cut(true, true, false, j, false);
	}
	batch_handover_cut(true, true, false, 0, true);
	batch_handover_cut(false, false, true, 0, true);
}

/*
 * used_batch, zero-copy, a burst of more used elements than the shadow
 * holds: 64 handed over mid-burst, then a chain kept, then one held (the
 * kept one is handed over first: vdp_ring_state_held), then one kept, and
 * the crash. The resume finishes the burst from the used position plus
 * what is held: the last chain taken again, nothing lost or twice.
 */
static void
test_batch_full_then_held(void)
{
	const struct cfg c = { .txq = true, .size = 200, .batch = true, .one_slot = true };
	struct rt *r = rt_new(&c);
	struct vdp_resume out;
	struct vdp_chain ch;
	uint32_t nkept;
	char msg[200];
	bool ok = true;

	run(r, 2 * c.size + 1, 3, false);
	gtx_reap(r);
	gtx_post_all(r, MAXSEQ);
	cut_begin(r);
	for (int i = 0; i < 65; i++) {
		ok = ok && dev_take(r, &ch);
		vdp_vq_used_put(&r->vr, ch.id, ch.ndesc, 0);
	}
	ok = ok && r->vr.nshadow == 1 && vdp_vq_used_base(&r->vr) != r->cut_used0;
	ok = ok && dev_take(r, &ch);
	vdp_ring_state_held(&r->vr, ch.id, ch.ndesc);
	r->held[r->nheld++] = (struct hold){ ch.id, ch.ndesc, r->cut[r->ncut - 1], r->burst };
	nkept = r->vr.nshadow;
	ok = ok && dev_take(r, &ch);
	vdp_vq_used_put(&r->vr, ch.id, ch.ndesc, 0);
	CHECK(ok && nkept == 0 && r->vr.nshadow == 1,
	      "packed guest TX, used_batch: 64 handed over mid-burst, a chain kept, then one "
	      "held: the kept one handed over first (%u kept then)", nkept);
	crash_restart(r, &out);
	CHECK(out.resumed && out.completed == 1 && out.used == out.avail,
	      "packed guest TX, used_batch: crash after it: the burst finished, the held chain "
	      "given back, the last one taken again (avail 0x%04x used 0x%04x)", out.avail,
	      out.used);
	CHECK(go_on_and_verify(r, msg, sizeof(msg)), "packed guest TX, used_batch: full "
	      "shadow then held: every chain back once, 5 laps more: %s", msg);
	rt_free(r);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Positions (and the vring) in range after whatever vdp_vq_resume did. */
static bool
positions_ok(const struct rt *r, const struct vdp_resume *out)
{
	if (r->c.split)
		return out->avail == r->vr.last_avail && out->used == r->vr.used_idx &&
		       (uint16_t)(r->vr.last_avail - r->vr.used_idx) <= r->size;
	return (out->avail & 0x7fff) < r->size && (out->used & 0x7fff) < r->size &&
	       r->vr.last_avail < r->size && r->vr.used_idx < r->size &&
	       out->avail == vdp_vq_avail_base(&r->vr) && out->used == vdp_vq_used_base(&r->vr);
}

/*
 * A guest that rewrote the slot under the used record (random flags and
 * id), or its whole ring, or its used index and avail ring (split), and
 * states of random numbers: never a crash (ASan: resume-asan), positions
 * always in range, and the ring still walks.
 */
static void
test_garbage(void)
{
	for (int v = 0; v < 8; v++) {
		/* small rings, and packed ones of more slots than a group of
		 * mergeable buffers may have */
		const bool big = v >= 4;
		const struct cfg c = { .split = !big && (v & 1), .txq = (v >> 1) & 1,
				       .size = big ? 300 : v & 1 ? 8 : 7,
				       .mrg = big && (v & 1), .rxb = big && (v & 1) ? 64 : 0,
				       .hold_every = 3, .hold_bursts = 3 };
		const int iters = big ? 600 : 3000;
		struct rt *r = rt_new(&c);
		static uint8_t mem[1u << 20];
		const size_t len = (size_t)(r->buf_gpa - GPA_BASE);
		struct vdp_ring_state *st0 = calloc(1, sizeof(*st0));
		unsigned int bad = 0, resumed = 0;

		if (st0 == NULL)
			exit(2);
		run(r, 2 * c.size + 2, 3, false);
		memcpy(st0, r->st, sizeof(*st0));
		memcpy(mem, guest_ptr(&r->m, GPA_BASE), len);
		for (int it = 0; it < iters; it++) {
			static struct vdp_chain ch;
			struct vdp_resume out;
			int kind = it % 4;

			memcpy(guest_ptr(&r->m, GPA_BASE), mem, len);
			memcpy(r->old, st0, sizeof(*st0));
			if (c.split) {
				if (kind >= 1)
					r->sg.used->idx = (uint16_t)rnd();
				if (kind >= 2)
					r->sg.avail->idx = (uint16_t)rnd();
				for (uint32_t i = 0; kind >= 2 && i < c.size; i++)
					r->sg.avail->ring[i] = (uint16_t)rnd();
			} else {
				uint16_t s = (uint16_t)r->old->used & 0x7fff;

				if (s >= c.size)
					s = 0;
				gslot(r, s)->flags = (uint16_t)rnd();
				gslot(r, s)->id = (uint16_t)(kind == 0 ? rnd() % c.size : rnd());
				for (uint32_t i = 0; kind >= 2 && i < c.size; i++) {
					gslot(r, i)->flags = (uint16_t)rnd();
					gslot(r, i)->id = (uint16_t)rnd();
				}
			}
			if (kind == 3) {
				/* the state of random numbers too */
				r->old->used = (uint64_t)rnd() << 32 | rnd();
				if (rnd() % 2)
					r->old->used = VDP_STATE_USED(
						rnd() % 4 ? rnd() % c.size | (rnd() & 0x8000u) :
							    rnd(),
						rnd() % (c.size + 1), rnd() % c.size);
				r->old->avail = rnd() % 3 ? rnd() & 0xffff : rnd();
				r->old->avail_valid = rnd() % 4 != 0;
				for (uint32_t i = 0; i < c.size; i++)
					r->old->held[i] = (uint16_t)(rnd() % 3 == 0 ? rnd() % 4 : 0);
				/* a hand-over under way: its elements, of random
				 * numbers too (finished when they fit the record) */
				if (rnd() % 2) {
					r->old->group = rnd() % 8 ? r->old->used : rnd();
					r->old->ngroup = rnd() % 8 ? rnd() % 6 : rnd();
					for (uint32_t i = 0; i < VDP_STATE_GROUP_MAX; i++)
						r->old->group_ent[i] = (struct vdp_used_ent){
							(uint16_t)(rnd() % 4 ? rnd() % c.size : rnd()),
							(uint16_t)(rnd() % 3), rnd() % 600 };
				}
			}
			if (!c.split)
				r->g.device_event->flags = VDP_PEVENT_DISABLE;
			attach_vmm(r);
			vdp_vq_resume(&r->vr, r->old, c.txq, &out);
			resumed += out.resumed;
			if (!positions_ok(r, &out) || (!out.resumed && out.why == NULL)) {
				if (bad++ == 0)
					CHECK(false, "%s %s: garbage %d: avail 0x%04x used 0x%04x (%s)",
					      lname(r), qname(r), it, out.avail, out.used,
					      out.why ? out.why : "resumed");
				continue;
			}
			/* the ring still walks, whatever it holds */
			vdp_vring_burst_begin(&r->vr);
			for (int k = 0; k < 4; k++) {
				enum vdp_fetch f = vdp_vq_fetch(&r->vr, &r->m.mm,
								c.txq ? VDP_DIR_READ : VDP_DIR_WRITE,
								&ch);

				if (f == VDP_FETCH_OK)
					vdp_vq_used_put(&r->vr, ch.id, ch.ndesc, 0);
				else if (f != VDP_FETCH_BAD)
					break;
			}
			vdp_vq_publish(&r->vr);
		}
		CHECK(bad == 0, "%s %s, %u slots: %d rings and states scribbled over: no "
		      "crash, positions in range (%u resumed)", lname(r), qname(r), c.size, iters,
		      resumed);
		free(st0);
		rt_free(r);
	}
}

/*
 * A crash after every step of a few bursts (each step: one store the PMD
 * makes into the ring or the file), on a ring in the middle of its
 * traffic: the resume must be accepted, the guest get every chain back
 * once and every frame at most once (exactly once unless the design
 * gives it up: note_cut), and the ring go on for five laps.
 */
static void
sweep(const char *name, const struct cfg *c)
{
	const uint32_t n = c->burst != 0 ? c->burst : 3;
	const uint32_t npoints = c->points != 0 ? c->points : 80;
	const uint32_t stride = c->stride != 0 ? c->stride : 1;
	unsigned int points = 0, failed = 0;

	for (uint32_t k = 1; k <= npoints * stride; k += stride) {
		struct rt *r = rt_new(c);
		struct vdp_resume out;
		char msg[200] = "";
		bool ok;

		run(r, 2 * c->size + 3, n, false);
		r->crash_at = r->step + k;
		run(r, r->next_seq + 4 * c->size, n, false);
		if (!r->crashed) {
			rt_free(r);
			break;
		}
		points++;
		crash_restart(r, &out);
		ok = out.resumed;
		if (!ok)
			snprintf(msg, sizeof(msg), "refused: %s", out.why);
		if (ok && c->txq && out.used != out.avail) {
			ok = false;
			snprintf(msg, sizeof(msg), "avail 0x%04x used 0x%04x after the resume",
				 out.avail, out.used);
		}
		if (ok)
			ok = go_on_and_verify(r, msg, sizeof(msg));
		if (!ok && ++failed <= 4)
			CHECK(false, "%s: crash after step %u: %s", name, k, msg);
		rt_free(r);
	}
	CHECK(failed == 0 && points >= 20, "%s: a crash after each of %u steps: resumed, "
	      "every chain back once, frames at most once, 5 laps more (%u failed)",
	      name, points, failed);
}

static void
test_crash_points(void)
{
	static const struct {
		const char *name;
		struct cfg c;
	} t[] = {
		{ "split guest TX", { .split = true, .txq = true, .size = 8 } },
		{ "split guest TX, zero-copy", { .split = true, .txq = true, .size = 8,
						 .hold_every = 3, .hold_bursts = 2 } },
		{ "packed guest TX", { .txq = true, .size = 8 } },
		{ "packed guest TX, zero-copy", { .txq = true, .size = 7, .hold_every = 3,
						  .hold_bursts = 2 } },
		{ "packed guest TX, zero-copy, phase 0", { .txq = true, .size = 9,
							   .start_slot = 4, .start_phase0 = true,
							   .hold_every = 2, .hold_bursts = 3 } },
		{ "split guest RX", { .split = true, .size = 8 } },
		{ "split guest RX, mergeable", { .split = true, .size = 16, .mrg = true,
						 .rxb = 64 } },
		{ "packed guest RX", { .size = 8 } },
		{ "packed guest RX, mergeable", { .size = 11, .mrg = true, .rxb = 64 } },
		/* used elements kept back until the publish */
		{ "packed guest TX, used_batch", { .txq = true, .size = 8, .batch = true } },
		{ "packed guest TX, used_batch, zero-copy", { .txq = true, .size = 7,
							      .hold_every = 3, .hold_bursts = 2,
							      .batch = true } },
		{ "packed guest TX, used_batch, zero-copy, phase 0",
		  { .txq = true, .size = 9, .start_slot = 4, .start_phase0 = true,
		    .hold_every = 2, .hold_bursts = 3, .batch = true } },
		{ "packed guest RX, used_batch", { .size = 8, .batch = true } },
		{ "packed guest RX, used_batch, mergeable", { .size = 11, .mrg = true, .rxb = 64,
							      .batch = true } },
		/* bursts of more used elements than the shadow holds: handed
		 * over in the middle of the burst, chains held after it */
		{ "packed guest TX, used_batch, zero-copy, bursts of 100",
		  { .txq = true, .size = 250, .hold_every = 3, .hold_bursts = 1, .batch = true,
		    .burst = 100, .points = 150, .stride = 3 } },
		{ "packed guest TX, used_batch, bursts of 100",
		  { .txq = true, .size = 230, .batch = true, .burst = 100, .points = 60,
		    .stride = 3 } },
		{ "packed guest RX, used_batch, mergeable, bursts of 40",
		  { .size = 200, .mrg = true, .rxb = 64, .batch = true, .burst = 40,
		    .points = 100, .stride = 1 } },
		/* IN_ORDER: a burst's chains given back as one used element
		 * (no zero-copy sweep: its chains held here come back out of
		 * order, which an IN_ORDER ring never sees: the PMD queues
		 * them, vdevpeer_zcopy.c) */
		{ "packed guest TX, used_batch, in order",
		  { .txq = true, .size = 8, .batch = true, .in_order = true } },
		{ "packed guest TX, used_batch, in order, phase 0",
		  { .txq = true, .size = 9, .start_slot = 4, .start_phase0 = true, .batch = true,
		    .in_order = true } },
		{ "packed guest TX, used_batch, in order, bursts of 100",
		  { .txq = true, .size = 230, .batch = true, .in_order = true, .burst = 100,
		    .points = 60, .stride = 3 } },
		{ "packed guest RX, used_batch, in order, mergeable",
		  { .size = 11, .mrg = true, .rxb = 64, .batch = true, .in_order = true } },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		sweep(t[i].name, &t[i].c);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_between_bursts();
	test_packed_record();
	test_packed_record_id();
	test_packed_group();
	test_held();
	test_split_used_ahead();
	test_refused();
	test_fresh_ring();
	test_asleep_ring();
	test_crash_twice();
	test_garbage();
	test_batch_kept();
	test_batch_handover();
	test_batch_full_then_held();
	test_crash_points();
	return check_summary();
}
