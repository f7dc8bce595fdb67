/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parallel test of the split-ring walkers (vdp_split.c, vdp_mem.c): a
 * guest thread and a device thread, each pinned to its own CPU, race over
 * the same ring memory with no lock between them. Only the ring protocol
 * synchronises them: avail and used indexes (release/acquire), used_event
 * / NO_INTERRUPT, and the full fences on both sides of a notification.
 *
 * The guest (test/guest_ring.c) sends numbered frames on its TX ring,
 * in random chain shapes (1..16 direct descriptors or an indirect table
 * of up to 64, cut at random points, the header split too), payload
 * 0..9000 bytes, buffers now and then straddling two memory regions.
 * The device does what the PMD does per burst (burst_begin, avail_count,
 * up to 32 fetches, used_put, used_flush, need_call), checks each frame
 * (content, and sequence numbers in order, none missing) and forwards it
 * into the guest's RX ring with vdp_split_enqueue_frame, from its own
 * copy or straight from the TX chain's segments. The guest keeps its RX
 * ring stocked with buffers of random sizes and shapes (mergeable: 96 to
 * 4096 bytes; without: each big enough for any frame), reassembles
 * frames with num_buffers and checks them again, end to end.
 *
 * Interrupts are simulated with counters: when the device's
 * vdp_split_need_call says so it bumps the ring's counter. A guest with
 * nothing to do goes to sleep as a driver does (used_event, or
 * NO_INTERRUPT cleared, then a full fence and a last look at the used
 * ring), then spins until the counter moves: it does not look at the used
 * ring meanwhile. Every few hundred spins, and after a bounded spin, it
 * checks for a missed notification: after each need_call the device also
 * publishes (release, after the counter) the used idx it decided on; once
 * that idx has gone past what the guest asked to be woken for and the
 * counter has not moved, the device has decided not to call for elements
 * the guest could not have seen: a failure, reported as such. Anything
 * else that stops progress (a lost frame, a device waiting for buffers
 * that never come) is caught by a watchdog: no progress for -t seconds
 * stops the run and fails it. Kicks are only counted: the device polls
 * and suppresses them, so a kick must be rare (EVENT_IDX: avail idx
 * crossing the avail_event the device never moves) or never happen.
 *
 * Configurations: mergeable x event_idx x indirect, one result line each,
 * then "N passed, N failed"; exit status 1 on failure.
 *
 * Built twice: plainly (guest memory mapped twice, the device sees other
 * addresses than the guest, guard pages between regions), and with
 * -fsanitize=thread and PARALLEL_ONE_VIEW=1: ThreadSanitizer tells
 * accesses apart by address, so there the device is given the guest's own
 * mapping (GUEST_MEM_ONE_VIEW) and any missing happens-before between the
 * guest's stores and the device's loads (or the other way round) becomes
 * a report.
 *
 * What it catches, tried on a copy of the walkers: without the fence in
 * vdp_split_need_call the plain build reported a missed notification
 * within 10^5 frames in two of the three configurations tried; with the
 * event comparison off by one, at once; with a relaxed store in
 * vdp_split_used_flush, the TSan build reported the race on the used ring
 * at once (and, as expected, not when built with two views).
 *
 * Usage: test_parallel [-s seed] [-t stall_seconds] [-c M,E,I] [-1|-2] [frames]
 *   frames  per configuration (default 10^7: the documented long run;
 *           meson passes a smaller count)
 *   -c      one configuration only (mergeable, event_idx, indirect: 0/1)
 *   -1, -2  one mapping (device sees the guest's addresses) or two
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest_ring.h"
#include "vdp_ring.h"
#include "check.h"

#ifndef PARALLEL_ONE_VIEW
#define PARALLEL_ONE_VIEW 0
#endif
#ifndef PARALLEL_STALL_S
#define PARALLEL_STALL_S 10
#endif


/* ---- sizes ---- */

#define RING_SIZE 256
#define HDR_LEN VDP_NET_HDR_LEN_MRG        /* virtio 1.x: always 12 */
#define PAYLOAD_MAX 9000u
#define FRAME_MAX (HDR_LEN + PAYLOAD_MAX)
#define TX_DIRECT_MAX 16                   /* descriptors of a direct chain */
#define RX_DIRECT_MAX 8
/* Mergeable buffers: a frame needs at most FRAME_MAX / RX_MRG_MIN = 94
 * of them, under VDP_MRG_MAX_BUFS (more would be a legitimate drop). */
#define RX_MRG_MIN 96u
#define RX_MRG_MAX 4096u
#define RX_BIG_SLACK 1024u                 /* non-mergeable: FRAME_MAX + 0..this */
#define BURST_MAX 32

/*
 * Guest memory: region 0 holds both rings and their indirect tables;
 * regions 1-3 are the TX buffers, 4-7 the RX buffers. Each buffer area is
 * contiguous in guest physical (and guest virtual) space, but the device
 * translates region by region: a buffer across a boundary becomes two
 * segments, at unrelated host addresses in the two-view build.
 */
#define NREGIONS 8
#define REGION0_SZ (1u << 20)
#define REGION_SZ (512u << 10)
#define TX_REGIONS 3
#define RX_REGIONS 4
#define GPA_BASE 0x100000000ull
#define STRADDLE_REACH (64u << 10)         /* see arena_alloc */

/* Both index spaces wrap early in the run. */
#define TX_START_IDX ((uint16_t)(0u - 200u))
#define RX_START_IDX ((uint16_t)(0u - 77u))

/* Guest sleep: re-check for a missed call every this many spins, and
 * look at the used rings after SPIN_BOUND spins (a few ms). */
#define SPIN_CHECK_MASK 255u
#define SPIN_BOUND (1u << 16)
/* The CPUs may be shared (CI): a thread that has waited this many spins
 * or idle polls yields now and then, so that a partner preempted on
 * the same CPU by something else gets it back sooner. Not a sleep: the
 * thread stays runnable and keeps polling. */
#define YIELD_MASK 4095u

enum { Q_RX = 0, Q_TX = 1, NQ };
static const char *const qname[NQ] = { "rx", "tx" };
enum { WHO_DEVICE = 0, WHO_GUEST = 1 };

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- random numbers: splitmix64, one state per thread ---- */

static inline uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t
rnd(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ull;
	return mix64(*s);
}

/* Uniform in [0, n), n > 0. */
static inline uint32_t
rnd_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((rnd(s) >> 32) * n) >> 32);
}

/* ---- frames ---- */

/*
 * Frame seq: a virtio-net header with the sequence number in csum_start /
 * csum_offset, the payload length in hdr_len and a tag in gso_size, then
 * a payload of frame_plen(seq) bytes: seq and a marker in the first 8
 * (truncated when shorter), then 8-byte words derived from seq and their
 * position. Both threads know frame_plen(), so a frame of the wrong
 * length, or a short payload from another frame, is caught as well.
 */
#define FRAME_MARK 0x5eb1u

static uint32_t
frame_plen(uint64_t seed, uint32_t seq)
{
	uint64_t h = mix64(seed ^ ((uint64_t)seq * 0x9e3779b97f4a7c15ull));
	uint32_t r = (uint32_t)(h >> 8);

	switch (h & 3) {
	case 0:
		return r % 65;                                /* 0..64 */
	case 3:
		return 1515 + r % (PAYLOAD_MAX - 1514);       /* 1515..9000 */
	default:
		return 65 + r % 1450;                         /* 65..1514 */
	}
}

static void
frame_build(uint8_t *p, uint32_t seq, uint32_t plen, uint16_t num_buffers)
{
	struct vdp_net_hdr h = {
		.hdr_len = (uint16_t)plen,
		.gso_size = (uint16_t)(seq * 40503u ^ FRAME_MARK),
		.csum_start = (uint16_t)seq,
		.csum_offset = (uint16_t)(seq >> 16),
		.num_buffers = num_buffers,
	};
	uint64_t w = seq | (uint64_t)FRAME_MARK << 32;
	uint8_t *pl = p + HDR_LEN;

	memcpy(p, &h, HDR_LEN);
	memcpy(pl, &w, plen < 8 ? plen : 8);
	for (uint32_t off = 8; off < plen; off += 8) {
		w = ((uint64_t)seq + 1) * 0x9e3779b97f4a7c15ull ^
		    (uint64_t)off * 0xd6e8feb86659fd93ull;
		memcpy(pl + off, &w, plen - off < 8 ? plen - off : 8);
	}
}

/*
 * Is [p, len) frame seq with this num_buffers? NULL, or why not (in
 * why). want is scratch of FRAME_MAX bytes.
 */
static const char *
frame_check(const uint8_t *p, uint32_t len, uint32_t seq, uint32_t plen,
	    uint16_t num_buffers, uint8_t *want, char *why, size_t whylen)
{
	struct vdp_net_hdr h = { 0 };
	uint32_t got = 0;

	if (len >= HDR_LEN) {
		memcpy(&h, p, HDR_LEN);
		got = h.csum_start | (uint32_t)h.csum_offset << 16;
	}
	if (len != HDR_LEN + plen) {
		snprintf(why, whylen, "frame %u: %u bytes, want %u (header says seq %u)",
			 seq, len, HDR_LEN + plen, got);
		return why;
	}
	frame_build(want, seq, plen, num_buffers);
	if (memcmp(p, want, len) == 0)
		return NULL;
	for (uint32_t i = 0; i < len; i++) {
		if (p[i] != want[i]) {
			snprintf(why, whylen,
				 "frame %u (%u bytes): byte %u is 0x%02x, want 0x%02x "
				 "(header says seq %u, num_buffers %u, want %u)",
				 seq, len, i, p[i], want[i], got, h.num_buffers,
				 num_buffers);
			break;
		}
	}
	return why;
}

/* ---- shared state: what the two threads and the watchdog see ---- */

struct run {
	/* configuration, set before the threads start */
	bool mrg, event_idx, indirect;
	uint32_t nframes;
	uint64_t seed;
	struct guest_mem m;

	/* device -> guest: simulated interrupts, per ring. irq counts calls;
	 * checked is the used idx of the device's latest need_call, stored
	 * (release) after irq. Each on its own line: the guest spins on it. */
	struct {
		uint64_t irq;
		uint16_t checked;
	} __attribute__((aligned(64))) notify[NQ];

	/* progress, for the watchdog */
	uint32_t dev_fwd __attribute__((aligned(64)));
	uint32_t guest_rx __attribute__((aligned(64)));
	int sleeping;          /* guest in its sleep loop */
	int stop;              /* anyone: give up now */
	int done[2];           /* thread returned */
	int failed[2];
	char why[2][320];      /* first failure of each thread */
};

static bool
stopped(const struct run *run)
{
	return __atomic_load_n(&run->stop, __ATOMIC_RELAXED) != 0;
}

static void __attribute__((format(printf, 3, 4)))
fail(struct run *run, int who, const char *fmt, ...)
{
	va_list ap;

	if (!run->failed[who]) {
		va_start(ap, fmt);
		vsnprintf(run->why[who], sizeof(run->why[who]), fmt, ap);
		va_end(ap);
		run->failed[who] = 1;
	}
	__atomic_store_n(&run->stop, 1, __ATOMIC_RELAXED);
}

static int cpu_of[2] = { -1, -1 };     /* device, guest */

static void
pin_self(int who)
{
	cpu_set_t set;

	if (cpu_of[who] < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu_of[who], &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		fprintf(stderr, "warning: cannot pin to cpu %d\n", cpu_of[who]);
}

/* ---- guest buffer arenas ---- */

/*
 * Buffers of one ring: a FIFO of bytes over [base, base + size) of guest
 * physical space, allocated at head, given back at tail in allocation
 * order (a block whose chain came back early waits for those before it).
 * Region boundaries lie inside. Left to itself a block straddles one only
 * when the head passes it; arena_alloc also aims a block at a boundary on
 * purpose now and then, so that straddling buffers are common.
 */
#define ARENA_Q 1024u

struct arena {
	uint64_t base, size;
	uint64_t head, tail;             /* byte counters, head - tail <= size */
	uint64_t bound[NREGIONS];        /* region boundaries, offsets inside */
	uint32_t nbound;
	uint64_t qend[ARENA_Q];          /* end (counter) of each live block */
	bool qdone[ARENA_Q];
	uint32_t qhead, qtail;
};

static void
arena_init(struct arena *a, uint64_t base, uint32_t nregions)
{
	memset(a, 0, sizeof(*a));
	a->base = base;
	a->size = (uint64_t)nregions * REGION_SZ;
	for (uint32_t i = 1; i < nregions; i++)
		a->bound[a->nbound++] = (uint64_t)i * REGION_SZ;
}

/* Does [off, off + len) cross a region boundary? */
static bool
arena_straddles(const struct arena *a, uint64_t off, uint32_t len)
{
	for (uint32_t i = 0; i < a->nbound; i++)
		if (a->bound[i] > off && a->bound[i] < off + len)
			return true;
	return false;
}

/* len bytes; returns the gpa (0 when full) and the block's FIFO slot. */
static uint64_t
arena_alloc(struct arena *a, uint32_t len, uint64_t *rng, uint32_t *slot,
	    bool *straddle)
{
	uint64_t at = a->head, off = at % a->size;

	if (a->qhead - a->qtail == ARENA_Q)
		return 0;
	if (off + len > a->size) {          /* no wrap inside a block */
		at += a->size - off;
		off = 0;
	}
	if (len >= 2 && rnd_below(rng, 4) == 0) {
		/* Aim at the next boundary if it is near: pad up to it so
		 * that 1..len-1 bytes fall before it. The padding is freed
		 * with the block. */
		for (uint32_t i = 0; i < a->nbound; i++) {
			uint64_t b = a->bound[i], room, cut;

			if (b <= off || b - off > STRADDLE_REACH)
				continue;
			room = b - off;
			cut = 1 + rnd_below(rng, (uint32_t)(room < len - 1 ? room : len - 1));
			if (b - cut + len <= a->size) {
				at += b - cut - off;
				off = b - cut;
			}
			break;
		}
	}
	if (at + len - a->tail > a->size)
		return 0;
	a->head = at + len;
	*slot = a->qhead;
	a->qend[a->qhead % ARENA_Q] = a->head;
	a->qdone[a->qhead % ARENA_Q] = false;
	a->qhead++;
	*straddle = arena_straddles(a, off, len);
	return a->base + off;
}

static void
arena_free(struct arena *a, uint32_t slot)
{
	a->qdone[slot % ARENA_Q] = true;
	while (a->qtail != a->qhead && a->qdone[a->qtail % ARENA_Q]) {
		a->tail = a->qend[a->qtail % ARENA_Q];
		a->qtail++;
	}
}

/* ---- the guest ---- */

struct gchain {
	uint64_t gpa;          /* the chain's bytes, contiguous in guest memory */
	uint32_t len;
	uint32_t slot;         /* arena block */
	bool live;
};

struct gq {
	struct guest_ring g;
	struct arena a;
	struct gchain ch[RING_SIZE];  /* per head */
	/* while asleep */
	bool want;
	uint16_t event;        /* wake me once used idx passes this */
	uint64_t irq_snap;
	/* counters */
	uint64_t posted, kicks, straddles, calls_seen;
};

struct guest {
	struct run *run;
	struct gq q[NQ];
	uint64_t rng;
	uint32_t seq_tx;       /* next frame to send */
	uint32_t seq_rx;       /* next frame expected back */
	bool tx_blocked;       /* out of descriptors or buffer space */
	uint8_t rbuf[FRAME_MAX + RX_MRG_MAX];
	uint8_t want[FRAME_MAX];
	char why[256];
	uint64_t sleeps, sleep_aborts, irq_wakes, timeouts, idle_timeouts;
};

/* Cut len bytes at gpa into n pieces of at least one byte, at random. */
static uint32_t
cut_chain(uint64_t *rng, uint64_t gpa, uint32_t len, uint32_t n, bool write,
	  bool hdr_apart, struct guest_buf *b)
{
	uint32_t cuts[GUEST_INDIRECT_MAX + 1];
	uint32_t nc = 0, k = 0;

	if (n > len)
		n = len;
	if (hdr_apart && n >= 2 && len > HDR_LEN)
		cuts[nc++] = HDR_LEN;      /* the header in its own descriptor */
	while (nc < n - 1)
		cuts[nc++] = 1 + rnd_below(rng, len - 1);
	/* sort (n <= 65), then drop duplicates */
	for (uint32_t i = 1; i < nc; i++)
		for (uint32_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
			uint32_t t = cuts[j];

			cuts[j] = cuts[j - 1];
			cuts[j - 1] = t;
		}
	cuts[nc] = len;
	for (uint32_t i = 0, from = 0; i <= nc; i++) {
		if (cuts[i] == from)
			continue;
		b[k].gpa = gpa + from;
		b[k].len = cuts[i] - from;
		b[k].write = write;
		k++;
		from = cuts[i];
	}
	return k;
}

/* Post one chain of len bytes cut in n pieces; false when out of room. */
static bool
guest_post_chain(struct guest *gs, struct gq *q, uint32_t len, uint32_t n,
		 bool indirect, bool write, bool hdr_apart, uint32_t seq)
{
	struct guest_buf b[GUEST_INDIRECT_MAX];
	uint32_t slot;
	bool straddle;
	uint64_t gpa;
	int head;

	if (q->g.nfree < (indirect ? 1 : n))
		return false;
	gpa = arena_alloc(&q->a, len, &gs->rng, &slot, &straddle);
	if (gpa == 0)
		return false;
	if (!write)
		frame_build(guest_ptr(&gs->run->m, gpa), seq, len - HDR_LEN, 0);
	n = cut_chain(&gs->rng, gpa, len, n, write, hdr_apart, b);
	head = guest_ring_post(&q->g, b, n, indirect, false);
	if (head < 0 || q->ch[head].live) {
		fail(gs->run, WHO_GUEST, "harness: post of %u buffers gave head %d", n, head);
		return false;
	}
	q->ch[head] = (struct gchain){ .gpa = gpa, .len = len, .slot = slot, .live = true };
	q->posted++;
	q->straddles += straddle;
	return true;
}

static void
guest_publish(struct guest *gs, struct gq *q, uint16_t old)
{
	guest_ring_publish(&q->g);
	if (guest_ring_need_kick(&q->g, old, gs->run->event_idx))
		q->kicks++;
}

/* Send up to a small random batch of frames. */
static bool
guest_post_tx(struct guest *gs)
{
	struct run *run = gs->run;
	struct gq *q = &gs->q[Q_TX];
	uint16_t old = q->g.avail_idx;
	uint32_t batch = 1 + rnd_below(&gs->rng, 8), n = 0;

	while (n < batch && gs->seq_tx < run->nframes) {
		uint32_t len = HDR_LEN + frame_plen(run->seed, gs->seq_tx);
		uint32_t shape = rnd_below(&gs->rng, 8);
		bool ind = run->indirect && (shape & 1);
		uint32_t max = ind ? GUEST_INDIRECT_MAX : TX_DIRECT_MAX;
		uint32_t nd = shape < 2 ? 1 : 1 + rnd_below(&gs->rng, max);

		if (!guest_post_chain(gs, q, len, nd, ind, false, shape == 2 || shape == 3,
				      gs->seq_tx)) {
			gs->tx_blocked = true;
			break;
		}
		gs->seq_tx++;
		n++;
	}
	if (n != 0)
		guest_publish(gs, q, old);
	return n != 0;
}

/* Keep the RX ring stocked: post while there is room, in batches. */
static bool
guest_post_rx(struct guest *gs)
{
	struct run *run = gs->run;
	struct gq *q = &gs->q[Q_RX];
	bool any = false, room = true;

	while (room) {
		uint16_t old = q->g.avail_idx;
		uint32_t batch = 1 + rnd_below(&gs->rng, 32), n = 0;

		for (; n < batch; n++) {
			uint32_t shape = rnd_below(&gs->rng, 8), len, nd;
			bool ind = run->indirect && shape == 0;

			if (run->mrg) {
				len = shape < 3 ? RX_MRG_MIN + rnd_below(&gs->rng, 161) :
				      256 + rnd_below(&gs->rng, RX_MRG_MAX - 256 + 1);
				/* several descriptors only for big buffers: the
				 * ring's descriptors must hold a frame's worth */
				nd = len >= 1024 && shape >= 6 ? 2 + rnd_below(&gs->rng, 3) : 1;
				if (ind)
					nd = 1 + rnd_below(&gs->rng, 4);
			} else {
				len = FRAME_MAX + rnd_below(&gs->rng, RX_BIG_SLACK + 1);
				nd = ind ? 1 + rnd_below(&gs->rng, GUEST_INDIRECT_MAX) :
				     1 + rnd_below(&gs->rng, RX_DIRECT_MAX);
			}
			if (!guest_post_chain(gs, q, len, nd, ind, true, shape == 1, 0)) {
				room = false;
				break;
			}
		}
		if (n != 0) {
			guest_publish(gs, q, old);
			any = true;
		}
	}
	return any;
}

/* A used element of ring q: the chain it names, or NULL (failed). */
static struct gchain *
guest_used_chain(struct guest *gs, struct gq *q, uint32_t id, uint32_t len)
{
	if (id >= RING_SIZE || !q->ch[id].live) {
		fail(gs->run, WHO_GUEST, "%s used ring: id %u is not a chain we posted",
		     q == &gs->q[Q_TX] ? "tx" : "rx", id);
		return NULL;
	}
	if (len > q->ch[id].len) {
		fail(gs->run, WHO_GUEST, "%s used ring: len %u for a chain of %u bytes",
		     q == &gs->q[Q_TX] ? "tx" : "rx", len, q->ch[id].len);
		return NULL;
	}
	return &q->ch[id];
}

static void
guest_chain_done(struct gq *q, struct gchain *c)
{
	c->live = false;
	arena_free(&q->a, c->slot);
}

static bool
guest_reap_tx(struct guest *gs)
{
	struct gq *q = &gs->q[Q_TX];
	uint32_t id, len;
	bool any = false;

	while (guest_ring_get_used(&q->g, &id, &len) == 1) {
		struct gchain *c = guest_used_chain(gs, q, id, len);

		if (c == NULL)
			return false;
		if (len != 0) {
			fail(gs->run, WHO_GUEST, "tx used ring: len %u, the device writes 0", len);
			return false;
		}
		guest_chain_done(q, c);
		any = true;
	}
	return any;
}

/* Take one used RX element and append its bytes at rbuf + *total. */
static bool
guest_rx_take(struct guest *gs, uint32_t *total)
{
	struct gq *q = &gs->q[Q_RX];
	struct gchain *c;
	uint32_t id, len;

	if (guest_ring_get_used(&q->g, &id, &len) != 1)
		return false;
	c = guest_used_chain(gs, q, id, len);
	if (c == NULL)
		return false;
	if (*total + len > sizeof(gs->rbuf)) {
		fail(gs->run, WHO_GUEST, "rx frame %u: more than %zu bytes", gs->seq_rx,
		     sizeof(gs->rbuf));
		return false;
	}
	/* The device filled the chain's pieces in order: contiguous here. */
	memcpy(gs->rbuf + *total, guest_ptr(&gs->run->m, c->gpa), len);
	*total += len;
	guest_chain_done(q, c);
	return true;
}

static bool
guest_reap_rx(struct guest *gs)
{
	struct run *run = gs->run;
	struct gq *q = &gs->q[Q_RX];
	bool any = false;

	while (guest_ring_used_pending(&q->g) != 0 && !stopped(run)) {
		uint32_t total = 0, seq = gs->seq_rx;
		uint16_t nb;

		if (seq == run->nframes) {
			fail(run, WHO_GUEST, "rx: a frame after the last one (%u)", seq);
			return false;
		}
		if (!guest_rx_take(gs, &total))
			return false;
		if (total < HDR_LEN) {
			fail(run, WHO_GUEST, "rx frame %u: first buffer holds %u bytes, "
			     "less than the header", seq, total);
			return false;
		}
		memcpy(&nb, gs->rbuf + offsetof(struct vdp_net_hdr, num_buffers), sizeof(nb));
		if (nb == 0 || nb > VDP_MRG_MAX_BUFS || (!run->mrg && nb != 1)) {
			fail(run, WHO_GUEST, "rx frame %u: num_buffers %u", seq, nb);
			return false;
		}
		/* The device publishes a frame's elements in one flush. */
		for (uint32_t i = 1; i < nb; i++) {
			if (guest_ring_used_pending(&q->g) == 0) {
				fail(run, WHO_GUEST, "rx frame %u: num_buffers %u but %u "
				     "published", seq, nb, i);
				return false;
			}
			if (!guest_rx_take(gs, &total))
				return false;
		}
		if (frame_check(gs->rbuf, total, seq, frame_plen(run->seed, seq), nb,
				gs->want, gs->why, sizeof(gs->why)) != NULL) {
			fail(run, WHO_GUEST, "rx (end to end): %s", gs->why);
			return false;
		}
		gs->seq_rx++;
		__atomic_store_n(&run->guest_rx, gs->seq_rx, __ATOMIC_RELAXED);
		any = true;
	}
	return any;
}

/*
 * The device has decided on used idx past what q asked to be woken for
 * and did not call: a missed notification. Only reads what the device
 * published: its decision (checked, acquire) and, after it, the counter.
 */
static bool
guest_missed(struct guest *gs, int qi)
{
	struct run *run = gs->run;
	struct gq *q = &gs->q[qi];
	uint16_t chk = __atomic_load_n(&run->notify[qi].checked, __ATOMIC_ACQUIRE);
	uint64_t irq = __atomic_load_n(&run->notify[qi].irq, __ATOMIC_RELAXED);
	uint16_t last = q->g.last_used;
	uint16_t ahead = (uint16_t)(chk - last);

	if (irq != q->irq_snap || ahead == 0 || ahead > RING_SIZE)
		return false;
	if ((uint16_t)(chk - q->event - 1) >= ahead)
		return false;   /* not past the event yet */
	fail(run, WHO_GUEST, "missed notification on the %s ring: asleep since used idx %u "
	     "(%s %u), the device published and checked up to %u, no call "
	     "(used flags 0x%x)", qname[qi], last,
	     run->event_idx ? "used_event" : "NO_INTERRUPT clear, event", q->event, chk,
	     guest_ring_used_flags(&q->g));
	return true;
}

/* Has the device published used elements past q's event? */
static bool
guest_past_event(const struct gq *q, uint16_t *used)
{
	uint16_t u = __atomic_load_n(&q->g.used->idx, __ATOMIC_ACQUIRE);
	uint16_t ahead = (uint16_t)(u - q->g.last_used);

	*used = u;
	return (uint16_t)(u - q->event - 1) < ahead;
}

/*
 * Nothing to do: sleep like a driver until an interrupt. The rings we
 * wait on: RX always (frames are due), TX when we are blocked on it.
 */
static void
guest_sleep(struct guest *gs)
{
	struct run *run = gs->run;
	struct gq *tx = &gs->q[Q_TX];
	uint32_t spins = 0;
	int qi;

	gs->q[Q_RX].want = true;
	tx->want = gs->tx_blocked && tx->g.avail_idx != tx->g.last_used;
	for (qi = 0; qi < NQ; qi++) {
		struct gq *q = &gs->q[qi];

		if (!q->want)
			continue;
		/* before asking: a call from now on wakes us */
		q->irq_snap = __atomic_load_n(&run->notify[qi].irq, __ATOMIC_ACQUIRE);
	}
	for (qi = 0; qi < NQ; qi++) {
		struct gq *q = &gs->q[qi];
		uint16_t delay = 0;

		if (!q->want)
			continue;
		if (run->event_idx && qi == Q_TX) {
			/* like a TX ring waiting for room: wake me when up to
			 * 3/4 of what is in flight has come back */
			uint16_t out = (uint16_t)(q->g.avail_idx - q->g.last_used);

			delay = (uint16_t)rnd_below(&gs->rng, out * 3u / 4u + 1u);
		}
		q->event = (uint16_t)(q->g.last_used + delay);
		if (!guest_ring_enable_cb(&q->g, run->event_idx, delay)) {
			gs->sleep_aborts++;
			goto awake;
		}
	}

	gs->sleeps++;
	__atomic_store_n(&run->sleeping, 1, __ATOMIC_RELAXED);
	for (;;) {
		for (qi = 0; qi < NQ; qi++) {
			struct gq *q = &gs->q[qi];

			if (q->want && __atomic_load_n(&run->notify[qi].irq, __ATOMIC_ACQUIRE) !=
				       q->irq_snap) {
				q->calls_seen++;
				gs->irq_wakes++;
				goto woken;
			}
		}
		if (stopped(run))
			return;  /* as we were, for dump_state */
		spins++;
		if ((spins & SPIN_CHECK_MASK) == 0)
			for (qi = 0; qi < NQ; qi++)
				if (gs->q[qi].want && guest_missed(gs, qi))
					return;  /* failed: as we were */
		if (spins < SPIN_BOUND) {
			if ((spins & YIELD_MASK) == 0)
				sched_yield();
			else
				cpu_relax();
			continue;
		}
		/* Bounded spin over: look at the used rings. Elements past
		 * the event: the device's call must be on its way. Wait for
		 * its decision on them, then judge. */
		spins = 0;
		gs->timeouts++;
		for (qi = 0; qi < NQ; qi++) {
			struct gq *q = &gs->q[qi];
			uint16_t used;

			if (!q->want || !guest_past_event(q, &used))
				continue;
			while (!stopped(run) &&
			       __atomic_load_n(&run->notify[qi].irq, __ATOMIC_ACQUIRE) ==
			       q->irq_snap &&
			       (uint16_t)(__atomic_load_n(&run->notify[qi].checked,
							  __ATOMIC_ACQUIRE) - q->g.last_used) <
			       (uint16_t)(used - q->g.last_used))
				cpu_relax();
			if (guest_missed(gs, qi))
				return;
			goto woken;
		}
		gs->idle_timeouts++;
	}
woken:
	__atomic_store_n(&run->sleeping, 0, __ATOMIC_RELAXED);
awake:
	/* Polling again: interrupts off. With EVENT_IDX, half the time
	 * leave used_event where it is (the device may call once more). */
	for (qi = 0; qi < NQ; qi++) {
		struct gq *q = &gs->q[qi];

		if (q->want && (!run->event_idx || rnd_below(&gs->rng, 2) == 0))
			guest_ring_disable_cb(&q->g, run->event_idx);
		q->want = false;
	}
	gs->tx_blocked = false;
}

static void *
guest_run(void *arg)
{
	struct guest *gs = arg;
	struct run *run = gs->run;

	pin_self(WHO_GUEST);
	while (!stopped(run)) {
		bool busy = guest_reap_tx(gs);

		busy |= guest_reap_rx(gs);
		if (gs->seq_rx == run->nframes)
			break;
		busy |= guest_post_rx(gs);
		busy |= guest_post_tx(gs);
		if (!busy && !stopped(run))
			guest_sleep(gs);
	}
	__atomic_store_n(&run->done[WHO_GUEST], 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- the device ---- */

struct device {
	struct run *run;
	struct vdp_vring vr[NQ];
	uint64_t rng;
	uint32_t seq;          /* next frame expected on TX */
	struct vdp_chain c;
	uint8_t buf[HDR_LEN + VDP_TX_FRAME_MAX];
	uint8_t want[FRAME_MAX];
	char why[256];
	uint64_t bursts, idle, calls[NQ], rx_waits;
};

/* Publish what this burst put in ring qi's used ring, call if asked. */
static void
device_complete(struct device *d, int qi, uint16_t used_before)
{
	struct vdp_vring *vr = &d->vr[qi];

	if (vr->used_idx == used_before)
		return;
	vdp_split_used_flush(vr);
	if (vdp_split_need_call(vr)) {
		d->calls[qi]++;
		__atomic_fetch_add(&d->run->notify[qi].irq, 1, __ATOMIC_RELEASE);
	}
	/* after the call: a guest that sees this sees the call too */
	__atomic_store_n(&d->run->notify[qi].checked, vr->used_idx, __ATOMIC_RELEASE);
}

/* Forward the fetched TX chain into the guest's RX ring. */
static int
device_forward(struct device *d, uint32_t len)
{
	struct vdp_iov iov[VDP_CHAIN_MAX_SEGS];
	struct vdp_net_hdr h;
	uint32_t n = 0, way = rnd_below(&d->rng, 4);

	memcpy(&h, d->buf, HDR_LEN);
	if (way == 0) {
		/* straight from the guest's TX buffers, header skipped */
		uint32_t skip = HDR_LEN;

		for (uint32_t i = 0; i < d->c.nseg; i++) {
			const struct vdp_seg *s = &d->c.seg[i];

			if (skip >= s->len) {
				skip -= s->len;
				continue;
			}
			iov[n].base = s->hva + skip;
			iov[n].len = s->len - skip;
			n++;
			skip = 0;
		}
	} else {
		/* from our copy, as one piece or a few (an mbuf chain) */
		uint32_t pl = len - HDR_LEN, off = 0, pieces = way == 1 ? 1 + rnd_below(&d->rng, 4) : 1;

		for (uint32_t i = 0; i < pieces; i++) {
			uint32_t l = i + 1 == pieces ? pl - off : rnd_below(&d->rng, pl - off + 1);

			iov[n].base = d->buf + HDR_LEN + off;
			iov[n].len = l;
			n++;
			off += l;
		}
	}
	return vdp_split_enqueue_frame(&d->vr[Q_RX], &d->run->m.mm, &h, iov, n);
}

static void *
device_run(void *arg)
{
	struct device *d = arg;
	struct run *run = d->run;
	struct vdp_vring *tx = &d->vr[Q_TX], *rx = &d->vr[Q_RX];
	const struct vdp_memmap *mm = &run->m.mm;

	pin_self(WHO_DEVICE);
	while (d->seq < run->nframes && !stopped(run)) {
		uint16_t tx_used = tx->used_idx, rx_used = rx->used_idx;
		uint16_t n, max = (uint16_t)(1 + rnd_below(&d->rng, BURST_MAX));
		bool wait_rx = false;

		vdp_vring_burst_begin(tx);
		vdp_vring_burst_begin(rx);
		n = vdp_split_avail_count(tx);
		if (tx->broken) {
			fail(run, WHO_DEVICE, "tx ring broken (avail idx jump)");
			break;
		}
		if (n == 0) {
			if ((++d->idle & YIELD_MASK) == 0)
				sched_yield();
			else
				cpu_relax();
			continue;
		}
		d->bursts++;
		if (n > max)
			n = max;
		for (uint16_t i = 0; i < n; i++) {
			uint32_t seq = d->seq, plen = frame_plen(run->seed, seq);
			enum vdp_fetch r = vdp_split_fetch(tx, mm, VDP_DIR_READ, &d->c);
			int e;

			if (r != VDP_FETCH_OK) {
				fail(run, WHO_DEVICE, "tx fetch of frame %u: %d (budget stops %" PRIu64
				     ", broken %d)", seq, (int)r, tx->budget_stops, tx->broken);
				break;
			}
			if (d->c.len > sizeof(d->buf) ||
			    vdp_chain_read(&d->c, 0, d->buf, d->c.len) != d->c.len) {
				fail(run, WHO_DEVICE, "tx frame %u: chain of %u bytes unreadable",
				     seq, d->c.len);
				break;
			}
			if (frame_check(d->buf, d->c.len, seq, plen, 0, d->want, d->why,
					sizeof(d->why)) != NULL) {
				fail(run, WHO_DEVICE, "tx: %s", d->why);
				break;
			}
			e = device_forward(d, d->c.len);
			if (e == VDP_ERR_NO_RX_BUF) {
				/* back to the guest's ring: resent when it has
				 * posted more RX buffers */
				vdp_split_unfetch(tx, 1);
				d->rx_waits++;
				wait_rx = true;
				break;
			}
			if (e != 0) {
				fail(run, WHO_DEVICE, "rx enqueue of frame %u (%u bytes): %d (%s)",
				     seq, d->c.len, e,
				     e > 0 && e < VDP_ERR_MAX ? vdp_err_names[e] : "ring broken");
				break;
			}
			vdp_split_used_put(tx, d->c.id, 0);
			d->seq++;
			__atomic_store_n(&run->dev_fwd, d->seq, __ATOMIC_RELAXED);
		}
		device_complete(d, Q_RX, rx_used);
		device_complete(d, Q_TX, tx_used);
		if (wait_rx) {
			/* a device out of buffers waits for the guest's next:
			 * counted from the avail idx the failed enqueue saw
			 * (avail_cache), not from a fresh look, which would
			 * take buffers posted since for old ones and wait for
			 * more that a guest with all its buffers posted and
			 * asleep for frames never sends (a stall seen once
			 * under TSan, mrg=0 event_idx=1 indirect=1) */
			uint16_t had = (uint16_t)(rx->avail_cache - rx->last_avail);

			for (uint32_t spins = 1; !stopped(run) && !rx->broken &&
			     vdp_split_avail_count(rx) == had; spins++)
				if ((spins & YIELD_MASK) == 0)
					sched_yield();
				else
					cpu_relax();
		}
	}
	__atomic_store_n(&run->done[WHO_DEVICE], 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- one configuration ---- */

struct opts {
	uint32_t nframes;
	uint64_t seed;
	double stall_s;
	bool one_view;
};

static bool
setup(struct run *run, struct guest *gs, struct device *d, const struct opts *o)
{
	size_t sizes[NREGIONS];
	struct guest_mem *m = &run->m;
	int qi;

	sizes[0] = REGION0_SZ;
	for (int i = 1; i < NREGIONS; i++)
		sizes[i] = REGION_SZ;
	if (guest_mem_init_regions(m, GPA_BASE, sizes, NREGIONS,
				   o->one_view ? GUEST_MEM_ONE_VIEW : 0) != 0)
		return false;
	if (guest_ring_init(&gs->q[Q_TX].g, m, RING_SIZE, TX_START_IDX) != 0 ||
	    guest_ring_init(&gs->q[Q_RX].g, m, RING_SIZE, RX_START_IDX) != 0)
		return false;
	/* rings and indirect tables must all be in region 0 */
	if (m->brk > GPA_BASE + REGION0_SZ)
		return false;
	arena_init(&gs->q[Q_TX].a, GPA_BASE + REGION0_SZ, TX_REGIONS);
	arena_init(&gs->q[Q_RX].a, GPA_BASE + REGION0_SZ + TX_REGIONS * REGION_SZ,
		   RX_REGIONS);

	for (qi = 0; qi < NQ; qi++) {
		struct vdp_vring *vr = &d->vr[qi];

		if (guest_ring_attach(&gs->q[qi].g, vr) != 0)
			return false;
		vr->event_idx = run->event_idx;
		vr->indirect = run->indirect;
		vr->mrg_rxbuf = run->mrg;
		vr->hdr_len = HDR_LEN;
		/* nothing decided yet: "checked" starts where used idx does */
		run->notify[qi].checked = vr->used_idx;
		/* the device polls: no kicks, please */
		vdp_split_suppress_kicks(vr);
		/* the guest starts polling: no interrupts either */
		guest_ring_disable_cb(&gs->q[qi].g, run->event_idx);
	}
	gs->run = run;
	d->run = run;
	gs->rng = mix64(o->seed ^ 0x6775657374ull);
	d->rng = mix64(o->seed ^ 0x646576ull);
	return true;
}

/* Wait for both threads, or stop them when nothing moved for stall_s. */
static void
watchdog(struct run *run, const struct opts *o)
{
	uint64_t last = UINT64_MAX;
	double t_last = now_s(), t_stop = 0;
	const struct timespec tick = { 0, 20 * 1000 * 1000 };

	for (;;) {
		uint64_t p;
		double t;

		if (__atomic_load_n(&run->done[0], __ATOMIC_ACQUIRE) &&
		    __atomic_load_n(&run->done[1], __ATOMIC_ACQUIRE))
			return;
		nanosleep(&tick, NULL);
		t = now_s();
		if (t_stop != 0) {
			if (t - t_stop > 5) {
				printf("FAIL threads did not stop 5 s after a stall: giving up\n");
				fflush(stdout);
				_exit(1);
			}
			continue;
		}
		p = (uint64_t)__atomic_load_n(&run->dev_fwd, __ATOMIC_RELAXED) << 32 |
		    __atomic_load_n(&run->guest_rx, __ATOMIC_RELAXED);
		if (p != last) {
			last = p;
			t_last = t;
		} else if (t - t_last > o->stall_s) {
			/* the watchdog's own report: its slot is the guest's if free */
			printf("# stall: no progress for %.0f s: device forwarded %u, guest "
			       "received %u of %u, guest %s\n", o->stall_s,
			       __atomic_load_n(&run->dev_fwd, __ATOMIC_RELAXED),
			       __atomic_load_n(&run->guest_rx, __ATOMIC_RELAXED), run->nframes,
			       __atomic_load_n(&run->sleeping, __ATOMIC_RELAXED) ?
			       "asleep (waiting for a call)" : "awake");
			__atomic_store_n(&run->stop, 2, __ATOMIC_RELAXED);
			t_stop = t;
		}
	}
}

/* Where each side stood (after the threads are joined). */
static void
dump_state(const struct guest *gs, const struct device *d)
{
	for (int qi = 0; qi < NQ; qi++) {
		const struct gq *q = &gs->q[qi];
		const struct vdp_vring *vr = &d->vr[qi];

		printf("# %s ring: guest avail idx %u, last used %u, %s, used_event %u, "
		       "flags 0x%x; device last_avail %u, used idx %u (published %u), "
		       "signalled %u; calls %" PRIu64 ", guest saw %" PRIu64 "\n",
		       qname[qi], q->g.avail_idx, q->g.last_used,
		       q->want ? "waiting for a call" : "not waiting",
		       q->g.avail->ring[RING_SIZE], q->g.avail->flags, vr->last_avail,
		       vr->used_idx, q->g.used->idx, vr->signalled_used, d->calls[qi],
		       q->calls_seen);
	}
}

static uint64_t
errs_except(const struct vdp_vring *vr, enum vdp_err ok)
{
	uint64_t n = 0;

	for (int e = VDP_ERR_FIRST; e < VDP_ERR_MAX; e++)
		if (e != (int)ok)
			n += vr->err[e];
	return n;
}

static void
run_config(const struct opts *o, bool mrg, bool event_idx, bool indirect)
{
	struct run *run = aligned_alloc(64, (sizeof(struct run) + 63) & ~(size_t)63);
	struct guest *gs = calloc(1, sizeof(*gs));
	struct device *d = calloc(1, sizeof(*d));
	pthread_t th[2];
	double t0, dt;
	bool ok;

	if (run == NULL || gs == NULL || d == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memset(run, 0, sizeof(*run));
	run->mrg = mrg;
	run->event_idx = event_idx;
	run->indirect = indirect;
	run->nframes = o->nframes;
	run->seed = o->seed;
	if (!setup(run, gs, d, o)) {
		fprintf(stderr, "set-up failed: %s\n", strerror(errno));
		exit(2);
	}

	t0 = now_s();
	if (pthread_create(&th[WHO_DEVICE], NULL, device_run, d) != 0 ||
	    pthread_create(&th[WHO_GUEST], NULL, guest_run, gs) != 0) {
		fprintf(stderr, "pthread_create failed\n");
		exit(2);
	}
	watchdog(run, o);
	pthread_join(th[WHO_DEVICE], NULL);
	pthread_join(th[WHO_GUEST], NULL);
	dt = now_s() - t0;

	for (int who = 0; who < 2; who++)
		if (run->failed[who])
			printf("# %s: %s\n", who == WHO_DEVICE ? "device" : "guest", run->why[who]);
	if (run->stop == 2)
		printf("# stopped by the watchdog: device at frame %u, guest at %u\n",
		       d->seq, gs->seq_rx);
	if (run->stop != 0)
		dump_state(gs, d);

	/*
	 * Kicks: the device suppressed them before the start. Without
	 * EVENT_IDX none may come; with it, one each time avail idx steps
	 * over the avail_event the device never moves: once per 65536.
	 */
	uint64_t kick_max[NQ];

	for (int qi = 0; qi < NQ; qi++)
		kick_max[qi] = event_idx ? gs->q[qi].posted / 65536 + 1 : 0;

	ok = !run->failed[0] && !run->failed[1] && run->stop == 0 &&
	     gs->seq_rx == o->nframes && d->seq == o->nframes &&
	     !d->vr[Q_TX].broken && !d->vr[Q_RX].broken &&
	     errs_except(&d->vr[Q_TX], VDP_ERR_MAX) == 0 &&
	     errs_except(&d->vr[Q_RX], VDP_ERR_NO_RX_BUF) == 0 &&
	     d->vr[Q_RX].err[VDP_ERR_NO_RX_BUF] == d->rx_waits &&
	     d->vr[Q_TX].budget_stops == 0 && d->vr[Q_RX].budget_stops == 0 &&
	     gs->q[Q_TX].kicks <= kick_max[Q_TX] && gs->q[Q_RX].kicks <= kick_max[Q_RX];
	if (!ok)
		printf("# errors: tx %" PRIu64 ", rx %" PRIu64 " (no_rx_buf %" PRIu64
		       " for %" PRIu64 " waits), budget stops %" PRIu64 "/%" PRIu64
		       ", kicks %" PRIu64 "/%" PRIu64 " (at most %" PRIu64 "/%" PRIu64 ")\n",
		       errs_except(&d->vr[Q_TX], VDP_ERR_MAX),
		       errs_except(&d->vr[Q_RX], VDP_ERR_NO_RX_BUF),
		       d->vr[Q_RX].err[VDP_ERR_NO_RX_BUF], d->rx_waits,
		       d->vr[Q_TX].budget_stops, d->vr[Q_RX].budget_stops,
		       gs->q[Q_TX].kicks, gs->q[Q_RX].kicks, kick_max[Q_TX], kick_max[Q_RX]);
	CHECK(ok, "parallel mrg=%d event_idx=%d indirect=%d: %u/%u frames in order, "
	      "%.2f s, %.0f frames/s; guest slept %" PRIu64 " (woken by a call %" PRIu64
	      ", re-looked after a bounded spin %" PRIu64 ", did not sleep %" PRIu64
	      "), calls rx %" PRIu64 " tx %" PRIu64 ", kicks %" PRIu64 "; straddling "
	      "chains tx %" PRIu64 " rx %" PRIu64 "; device bursts %" PRIu64
	      ", waits for rx buffers %" PRIu64,
	      mrg, event_idx, indirect, gs->seq_rx, o->nframes, dt,
	      dt > 0 ? gs->seq_rx / dt : 0.0, gs->sleeps, gs->irq_wakes, gs->timeouts,
	      gs->sleep_aborts, d->calls[Q_RX], d->calls[Q_TX],
	      gs->q[Q_TX].kicks + gs->q[Q_RX].kicks, gs->q[Q_TX].straddles,
	      gs->q[Q_RX].straddles, d->bursts, d->rx_waits);

	guest_ring_fini(&gs->q[Q_TX].g);
	guest_ring_fini(&gs->q[Q_RX].g);
	guest_mem_fini(&run->m);
	free(d);
	free(gs);
	free(run);
}

/* The first two CPUs we may run on: device, guest. */
static void
choose_cpus(void)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpu_of[n++] = c;
	if (n < 2)
		cpu_of[0] = cpu_of[1] = -1;   /* one CPU: let them share it */
}

static void
usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-s seed] [-t stall_seconds] [-c M,E,I] [-1|-2] [frames]\n"
		"  frames  per configuration (default 10000000)\n"
		"  -c      one configuration: mergeable,event_idx,indirect as 0/1\n"
		"  -1, -2  device sees the guest's mapping / a second one\n", argv0);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct opts o = {
		.nframes = 10000000,
		.seed = 1,
		.stall_s = PARALLEL_STALL_S,
		.one_view = PARALLEL_ONE_VIEW,
	};
	int only = -1, c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt(argc, argv, "s:t:c:12h")) != -1) {
		switch (c) {
		case 's':
			o.seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			o.stall_s = strtod(optarg, NULL);
			if (o.stall_s <= 0)
				usage(argv[0]);
			break;
		case 'c': {
			int mg, ev, in;

			if (sscanf(optarg, "%d,%d,%d", &mg, &ev, &in) != 3 ||
			    (mg | ev | in) & ~1)
				usage(argv[0]);
			only = mg << 2 | ev << 1 | in;
			break;
		}
		case '1':
			o.one_view = true;
			break;
		case '2':
			o.one_view = false;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind < argc) {
		char *end;
		unsigned long n = strtoul(argv[optind], &end, 0);

		if (*end != '\0' || n == 0 || n > UINT32_MAX)
			usage(argv[0]);
		o.nframes = (uint32_t)n;
	}
	choose_cpus();
	printf("# %u frames per configuration, seed %" PRIu64 ", %s, device on cpu %d, "
	       "guest on cpu %d\n", o.nframes, o.seed,
	       o.one_view ? "one mapping (device sees the guest's addresses)" :
			    "two mappings (guest view, host view)",
	       cpu_of[WHO_DEVICE], cpu_of[WHO_GUEST]);

	for (int cfg = 0; cfg < 8; cfg++)
		if (only < 0 || only == cfg)
			run_config(&o, cfg & 4, cfg & 2, cfg & 1);

	return check_summary();
}
