/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the packed-ring walker (vdp_packed.c) and the frame
 * logic instantiated for it (vdp_packed_enqueue_frame, vdp_net.c), driven
 * by a sequence of operations over a packed ring of any size (1..32768,
 * not only powers of two) and a guest memory map that the input
 * describes. Between the device's operations the guest acts: a small
 * driver posts chains in its own phase (and indirect tables), rewrites
 * its event suppression structure, and, being hostile, rewrites any
 * descriptor raw or flips flag bits of one (a wrong phase mid-chain, an
 * id out of range or still held, a chain with no end, ...).
 *
 * Two kinds of checks, both abort() (that is what makes a finding):
 *  - a reference model of the device side, written from virtio 1.1 2.7
 *    and the contract of vdp_ring.h, not from vdp_packed.c (struct
 *    fz_model, the ref_ and model_ functions): which slots are available
 *    (2.7.1, 2.7.2), a chain's extent and its buffer id in its last
 *    descriptor (2.7.6, 2.7.7), indirect tables (2.7.8), used
 *    descriptors (one per chain, at the used position, flags AVAIL =
 *    USED = the device's wrap counter, the position skipping the chain's
 *    slots: 2.7.2, 2.7.7), event suppression (2.7.10, 2.7.21), and the
 *    driver's own rules from vdp_ring.h: what is a bad chain (given back
 *    with len 0) and what breaks the ring, the first error found, the
 *    burst budget, held ids, mergeable RX frames, and with used_batch the
 *    used elements kept back (in the order put, at most
 *    VDP_USED_BATCH_MAX: one more hands those over first; a frame's
 *    buffers that do not fit the rest are handed over after them, a
 *    frame of more buffers directly; all at PUBLISH; their ids held until
 *    then; with IN_ORDER as well, kept elements that all have len 0 go
 *    as one: the last one's id, skipping the slots of them all). The model keeps its
 *    own copy of the ring and of guest memory. After every operation the
 *    ring (every byte of it), guest memory, the device event structure,
 *    positions and wrap counters, held ids, error counters, the budget
 *    and the used elements pending must match the model;
 *  - invariants that need no model: a chain returned is inside guest
 *    memory, of 1..VDP_CHAIN_MAX_SEGS segments adding up to its length,
 *    its id in range and not held by us already (the harness keeps the
 *    chains it holds), its slot count 1..size; slots taken equal slots
 *    returned plus the slots of the chains held; a broken ring stays
 *    broken and changes nothing; the guest's event structure is never
 *    written; a fetch stopped by the budget only when it is spent.
 *
 * Memory: the ring, the two event structures and the held-id bitmap each
 * end at a PROT_NONE page, and so does guest memory (three regions, apart
 * in host memory even when contiguous in gpa); everything around them is
 * poisoned for ASan. The ring is not in guest memory (buffers cannot
 * alias it); buffers and indirect tables may alias each other. Frame
 * pieces end at a PROT_NONE page too, poisoned before. Single-threaded: guest
 * memory does not change during a library call.
 *
 * The harness does not put used elements into a broken ring (a broken
 * ring is not used again until the VMM loads it anew), and unfetches only
 * the chain the operation before fetched. When the ring breaks while a
 * mergeable frame is being gathered, the buffers already taken stay
 * taken, by design (vdp_ring.h, corpus/split/regress-mrg-break-broken-
 * ring): the model does the same.
 *
 * Input layout (little-endian; missing bytes read as zero):
 *   0  u16  ring size: v >> 14 == 0: 1 + (v & 63); 1: 1 + (v & 1023);
 *           2: 1 + (v & 4095); 3: 1 + (v & 32767)
 *   2  u8   features: 1 INDIRECT_DESC, 2 RING_EVENT_IDX, 4 MRG_RXBUF,
 *           8 header length 12 (else 10), 16 used_batch (used elements
 *           kept back until PUBLISH, as the PMD loads its rings), 32
 *           IN_ORDER (vr.in_order), 64 the crash state attached (as the
 *           PMD's rings have it; no zero-copy here, so the ring's
 *           behaviour is the same, but the hand-over may then release
 *           the held ids by clearing the whole bitmap)
 *   3  u8   wrap counters handed over: 1 avail (where we take), 2 used
 *   4  u16  avail slot (% size), also where the guest's driver starts
 *   6  u16  used slot (% size)
 *   8  u8   regions: 1 + v % 3
 *   9  u8   reserved
 *  10  u16  driver event off_wrap, 12 u16 its flags (the guest's)
 *  14  u16  length of the operation area
 *  16  12   virtio-net header handed to vdp_packed_enqueue_frame
 *  28  u32  reserved
 *  32       memory map: 3 x (u64 gpa, u32 size: 1 + v % 16384, u16
 *           offset of the region's bytes in the blob, u16 reserved); a
 *           region overlapping an earlier one is moved to its end in gpa
 *  80       operations, each an opcode byte (% OP_NUM) and its arguments:
 *     FETCH_READ  u8 a        vdp_vq_fetch(READ); a chain taken is read
 *                             (vdp_chain_read), then held, or with a & 1
 *                             put at once with len 0
 *     FETCH_WRITE u8 a, u16 n vdp_vq_fetch(WRITE); n % 4096 bytes written
 *                             from offset a * 5 (vdp_chain_write), the
 *                             chain held with that len, or put at once
 *                             with a & 1
 *     ENQUEUE     u16 len, u8 cut   one frame (payload length as
 *                             fz_frame_len, pieces as fuzz_split's cut):
 *                             vdp_packed_enqueue_frame,
 *                             vdp_vq_enqueue_frame and the function
 *                             vdp_vq_frame_fn picked at ring load, in turn
 *     PUT         u8 k        put held chain k % held (any order)
 *     UNFETCH                 give back the chain fetched just before
 *     PUBLISH                 vdp_vq_publish: the need_call decision
 *     BURST                   vdp_vring_burst_begin; opcode byte >= 128:
 *                             RELOAD, the ring loaded again as the same
 *                             ring at its own positions (the PMD's
 *                             vdp_load_ring with keep_idx, e.g. after a
 *                             new memory table): what is pending
 *                             published first (as at a burst's end),
 *                             vdp_packed_init_same, the ring's settings
 *                             and crash state again; the held chains
 *                             stay out, their ids held
 *     SUPPRESS                vdp_vq_suppress_kicks; opcode byte >= 128:
 *                             vdp_vq_enable_kicks, then _disable_kicks
 *     COUNT                   vdp_vq_avail
 *     POST  u16 n, u8 kind, u16 id, u8 breg, u16 boff, u16 blen,
 *           u16 stride, u8 treg, u16 toff
 *                             the guest posts a chain at its position:
 *                             n = 1 + v % 32768 buffers (at most size +
 *                             1 are written) at gpa (region
 *                             breg % regions) + boff + i * stride of blen
 *                             bytes each, id in the last slot; kind: 1
 *                             WRITE, 2 one INDIRECT slot whose table of n
 *                             entries is written at treg/toff first, 4
 *                             NEXT on the last too (no end), 8 the table's
 *                             last entry INDIRECT (nested), 16 the id in
 *                             every slot (else the others hold garbage),
 *                             32 NEXT on table entries (ignored by the
 *                             device, 2.7.8)
 *     SLOT  u16 s, u64 addr, u32 len, u16 id, u16 flags
 *                             the guest rewrites slot s % size raw
 *     FLIP  u16 s, u16 x      slot s % size: flags ^= x
 *     EVENT u16 off_wrap, u16 flags     the guest's event structure
 *     TABLE u8 treg, u16 toff, u16 n, u8 kind, u8 breg, u16 boff, u16 blen,
 *           u16 stride        a table written (n = 1 + v % 2048), no post
 *     SEEK  u16 s, u8 w       the guest's driver moves to slot s % size,
 *                             wrap counter w & 1
 *  80 + length of the operation area: blob (guest memory bytes, region i
 *           from its offset; zero past the end of the input)
 *
 * fuzz-args: -max_len=8192
 * fuzz-smoke-runs: 100000
 *   (an input does about 8 times the work of a fuzz_split one: walks of
 *   whole bursts' budgets, rings of up to 32768 slots)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include "vdp_ring.h"

#define FZ_NAME "fuzz_packed"
#include "fuzz_check.h"

#define FZ_HDR_LEN 80u
#define FZ_RING_MAX VDP_RING_SIZE_MAX
#define FZ_IDS_WORDS VDP_PACKED_IDS_WORDS(FZ_RING_MAX)
#define FZ_NREG 3u
#define FZ_REGION_MAX 16384u
/* Each region at the end of a slot of its own, 64-byte aligned (as
 * fuzz_split): regions contiguous in gpa are not in host memory, and the
 * last one ends within 64 bytes of a PROT_NONE page. */
#define FZ_SLOT (FZ_REGION_MAX + 128u)
#define FZ_ARENA (FZ_NREG * FZ_SLOT)
#define FZ_PIECES 3u
#define FZ_FRAME_MAX 65535u
#define FZ_OPS_MAX 512u
#define FZ_HELD_MAX 256u   /* a chain that fills the list is put at once */
#define FZ_TABLE_MAX 2048u
/* Rings up to this size are compared whole after every operation; larger
 * ones at the slots the model wrote (and whole at the end of the input,
 * or after every operation with VDP_FUZZ_FULL=1 in the environment). */
#define FZ_FULL_CMP 64u
#define FZ_DIRTY_MAX 1024u

enum {
	OP_FETCH_READ,
	OP_FETCH_WRITE,
	OP_ENQUEUE,
	OP_PUT,
	OP_UNFETCH,
	OP_PUBLISH,
	OP_BURST,
	OP_SUPPRESS,
	OP_COUNT,
	OP_POST,
	OP_SLOT,
	OP_FLIP,
	OP_EVENT,
	OP_TABLE,
	OP_SEEK,
	OP_NUM
};

/* POST / TABLE kind bits */
#define K_WRITE    0x01
#define K_INDIRECT 0x02
#define K_NOEND    0x04
#define K_NESTED   0x08
#define K_IDALL    0x10
#define K_TNEXT    0x20

/* ---- input reader: fuzz_check.h ---- */


/* ---- the harness's memory: fixed, allocated once ---- */

struct fz_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;      /* what the library is given */
	uint8_t *shadow;   /* the model's copy */
};

/* A chain the harness holds (taken, not yet put). */
struct fz_held {
	uint16_t id;
	uint16_t ndesc;
	uint32_t len;      /* what its used element will say */
};

/*
 * What the model believes the device side is. Positions are a slot and a
 * wrap counter (2.7.1); taken/returned count slots without wrapping.
 */
struct fz_model {
	uint16_t avail;          /* next slot we take from */
	bool avail_wrap;
	uint16_t used;           /* next slot a used descriptor goes to */
	bool used_wrap;
	bool broken;
	uint32_t budget_desc;
	uint32_t budget_bad;
	bool budget_hit;
	uint64_t budget_stops;
	uint32_t granted;        /* frame allowances of this burst */
	uint64_t err[VDP_ERR_MAX];
	uint16_t pending;        /* used descriptors not yet published */
	uint16_t sig;            /* used position at the last call decision */
	bool sig_wrap;
	bool sig_valid;
	uint64_t moved;          /* used slots passed since that decision */
	uint64_t taken, returned;
	uint16_t last_id;        /* the chain taken last (IN_ORDER: the one used */
	bool last_id_ok;         /* element's id), not unfetched/rewound since */
	uint32_t nkept;          /* used_batch: used elements kept back ... */
	uint32_t kept_slots;     /* ... and the slots they skip */
	struct fz_used {
		uint16_t id;
		uint16_t nslots;
		uint32_t len;
	} kept[VDP_USED_BATCH_MAX];
	uint64_t ids[FZ_IDS_WORDS];
	uint32_t ndirty;         /* slots written since the last ring check */
	uint16_t dirty[FZ_DIRTY_MAX];
	struct vdp_pevent dev_event;
	struct vdp_pdesc ring[FZ_RING_MAX];
};

static struct {
	size_t page;
	uint8_t *ring_area;                /* FZ_RING_MAX descriptors */
	uint8_t *drv_page, *dev_page, *ids_page;
	uint8_t *arena;                    /* guest memory */
	uint8_t *pieces[FZ_PIECES];        /* frame pieces: FZ_FRAME_MAX each */
	uint8_t shadow[FZ_ARENA];          /* the model's copy */
	uint8_t pattern[FZ_FRAME_MAX + 256];
	uint8_t stream[VDP_NET_HDR_LEN_MRG + FZ_FRAME_MAX];
	uint8_t scratch[VDP_NET_HDR_LEN_MRG + VDP_TX_FRAME_MAX + 64];

	/* per input */
	uint16_t size;
	uint16_t hdr_len;
	bool indirect, event_idx, mrg, batch, in_order;
	struct vdp_pdesc *ring;
	struct vdp_pevent *drv_event, *dev_event;
	struct vdp_pevent drv_written;     /* what the guest last wrote there */
	uint64_t *ids;
	uint32_t nreg;
	struct fz_region reg[FZ_NREG];
	struct vdp_memmap mm;
	struct vdp_vring vr;
	struct fz_model m;
	uint64_t ncb;                      /* on_err calls */
	struct vdp_net_hdr nh;
	/* the guest's driver */
	uint16_t dpos;
	bool dwrap;
	/* chains the harness holds */
	struct fz_held held[FZ_HELD_MAX];
	uint32_t nheld;
	bool unfetch_ok;                   /* held[nheld - 1] fetched by the last op */
	uint32_t op;                       /* operation number, for messages */
	bool full_cmp;                     /* VDP_FUZZ_FULL=1 */
	vdp_frame_fn frame;                /* picked at ring load */
	struct vdp_ring_state *st;         /* the crash state (feature 64) */
	bool broken_seen;                  /* the ring compared whole since it broke */
} fz;

static uint8_t *
fz_guarded(size_t len)
{
	size_t n = (len + fz.page - 1) & ~(fz.page - 1);
	uint8_t *p = mmap(NULL, n + 2 * fz.page, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + fz.page, n, PROT_READ | PROT_WRITE) != 0) {
		perror("fuzz_packed: mmap");
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
	fz.full_cmp = getenv("VDP_FUZZ_FULL") != NULL &&
		      strcmp(getenv("VDP_FUZZ_FULL"), "1") == 0;
	if (fz.page < 4096 || FZ_IDS_WORDS * sizeof(uint64_t) > fz.page ||
	    (FZ_RING_MAX * sizeof(struct vdp_pdesc)) % fz.page != 0)
		abort();
	fz.ring_area = fz_guarded(FZ_RING_MAX * sizeof(struct vdp_pdesc));
	fz.drv_page = fz_guarded(fz.page);
	fz.dev_page = fz_guarded(fz.page);
	fz.ids_page = fz_guarded(fz.page);
	fz.arena = fz_guarded(FZ_ARENA);
	for (uint32_t i = 0; i < FZ_PIECES; i++)
		fz.pieces[i] = fz_guarded(FZ_FRAME_MAX);
	for (uint32_t i = 0; i < sizeof(fz.pattern); i++)
		fz.pattern[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + 1);
	return 0;
}

/* ---- the model: guest memory ---- */

/* gpa -> (region, offset, bytes contiguous from there, <= want). The
 * regions do not overlap (fz_setup_memory), so at most one holds gpa. */
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

/* The guest writes bytes at gpa (both copies); what is outside its
 * memory is not written. */
static void
guest_mem_write(uint64_t gpa, const void *src, uint32_t len)
{
	const uint8_t *s = src;

	while (len != 0) {
		const struct fz_region *in = NULL;
		uint64_t next = UINT64_MAX, n, skip;

		for (uint32_t i = 0; i < fz.nreg; i++) {
			const struct fz_region *r = &fz.reg[i];

			if (gpa >= r->gpa && gpa - r->gpa < r->size)
				in = r;
			else if (r->gpa > gpa && r->gpa < next)
				next = r->gpa;
		}
		if (in != NULL) {
			n = in->size - (gpa - in->gpa);
			if (n > len)
				n = len;
			memcpy(in->hva + (gpa - in->gpa), s, n);
			memcpy(in->shadow + (gpa - in->gpa), s, n);
		} else {
			/* outside memory: on to the next region above gpa (a
			 * table may start outside memory and run into it) */
			skip = next - gpa;
			if (next == UINT64_MAX || skip >= len)
				return;
			n = skip;
		}
		if (n >= UINT64_MAX - gpa)
			return;   /* the top of the address space */
		gpa += n;
		s += n;
		len -= (uint32_t)n;
	}
}

/* ---- the model: the ring ---- */

#define PF_AVAIL VDP_PDESC_F_AVAIL
#define PF_USED  VDP_PDESC_F_USED

/* 2.7.1/2.7.2: a descriptor is available in phase w (the wrap counter of
 * its slot as seen by the reader) when AVAIL is w and USED is not. */
static bool
ref_avail(uint16_t flags, bool w)
{
	return ((flags & PF_AVAIL) != 0) == w && ((flags & PF_USED) != 0) != w;
}

/* Position p on the circle of 2 * size (slot, wrap counter) pairs. */
static uint32_t
ref_pos(uint16_t slot, bool w)
{
	return slot + (w ? fz.size : 0u);
}

static void
ref_advance(uint16_t *slot, bool *w, uint32_t n)
{
	uint32_t s = *slot + n % fz.size;

	if (n / fz.size % 2 != 0)
		*w = !*w;
	if (s >= fz.size) {
		s -= fz.size;
		*w = !*w;
	}
	*slot = (uint16_t)s;
}

static void
ref_retreat(uint16_t *slot, bool *w, uint32_t n)
{
	/* n <= size: one step back over the ring's start at most */
	if (n > *slot) {
		*slot = (uint16_t)(*slot + fz.size - n);
		*w = !*w;
	} else {
		*slot = (uint16_t)(*slot - n);
	}
}

static bool
model_held(uint16_t id)
{
	return id < fz.size && (fz.m.ids[id / 64] >> (id % 64) & 1);
}

static void
model_hold(uint16_t id, bool on)
{
	if (id >= fz.size)
		return;
	if (on)
		fz.m.ids[id / 64] |= 1ull << (id % 64);
	else
		fz.m.ids[id / 64] &= ~(1ull << (id % 64));
}

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

static enum vdp_fetch
model_limit(void)
{
	if (!fz.m.budget_hit) {
		fz.m.budget_hit = true;
		fz.m.budget_stops++;
	}
	return VDP_FETCH_LIMIT;
}

/* 2.7.2, 2.7.7: one used descriptor for a chain of ndesc slots: id and
 * len, flags AVAIL and USED both the device's wrap counter, and WRITE
 * when the device wrote into the buffer (2.7.4; len is ignored without
 * it, 2.7.5): len != 0. The next one goes ndesc slots further. The
 * buffer id is ours no more. */
static void
model_write(uint16_t id, uint16_t ndesc, uint32_t len)
{
	struct vdp_pdesc *d = &fz.m.ring[fz.m.used];

	d->id = id;
	d->len = len;
	d->flags = (fz.m.used_wrap ? PF_AVAIL | PF_USED : 0) |
		   (len != 0 ? VDP_DESC_F_WRITE : 0);
	if (fz.m.ndirty < FZ_DIRTY_MAX)
		fz.m.dirty[fz.m.ndirty] = fz.m.used;
	fz.m.ndirty++;
	model_hold(id, false);
	ref_advance(&fz.m.used, &fz.m.used_wrap, ndesc);
	fz.m.moved += ndesc;
	fz.m.returned += ndesc;
}

/* used_batch: the kept elements handed over, in the order put; with
 * IN_ORDER, two or more that are every chain taken and not given back,
 * all with len 0 (nothing written: guest TX), the chain taken last among
 * them, as one element: that one's id, over all their slots (2.7.18). */
static void
model_flush(void)
{
	/* the slots from the used position to the take position (the ring
	 * may start with slots in between that are not ours) */
	const uint32_t circle = 2u * fz.size;
	const uint32_t apos = fz.m.avail + (fz.m.avail_wrap ? fz.size : 0u);
	const uint32_t upos = fz.m.used + (fz.m.used_wrap ? fz.size : 0u);
	bool one = fz.in_order && fz.m.nkept >= 2 && fz.m.last_id_ok &&
		   (apos + circle - upos) % circle == fz.m.kept_slots;
	bool last = false;

	for (uint32_t i = 0; one && i < fz.m.nkept; i++) {
		one = fz.m.kept[i].len == 0;
		last = last || fz.m.kept[i].id == fz.m.last_id;
	}
	if (one && last) {
		for (uint32_t i = 0; i < fz.m.nkept; i++)
			if (fz.m.kept[i].id != fz.m.last_id)
				model_hold(fz.m.kept[i].id, false);
		model_write(fz.m.last_id, (uint16_t)fz.m.kept_slots, 0);
		fz.m.nkept = 0;
		fz.m.kept_slots = 0;
		return;
	}
	for (uint32_t i = 0; i < fz.m.nkept; i++)
		model_write(fz.m.kept[i].id, fz.m.kept[i].nslots, fz.m.kept[i].len);
	fz.m.nkept = 0;
	fz.m.kept_slots = 0;
}

/* Kept back: at most VDP_USED_BATCH_MAX elements, and never more slots
 * than the ring has (a hostile guest can have us take more than a ring's
 * worth before any is given back: one group must not land on itself). */
static void
model_keep(uint16_t id, uint16_t ndesc, uint32_t len)
{
	if (fz.m.nkept == VDP_USED_BATCH_MAX || fz.m.kept_slots + ndesc > fz.size)
		model_flush();
	fz.m.kept[fz.m.nkept++] = (struct fz_used){ .id = id, .nslots = ndesc, .len = len };
	fz.m.kept_slots += ndesc;
}

/* A used element (vdp_vq_used_put): the guest's at once, or with
 * used_batch kept back; to be published either way. */
static void
model_put(uint16_t id, uint16_t ndesc, uint32_t len)
{
	fz.m.pending++;
	if (fz.batch)
		model_keep(id, ndesc, len);
	else
		model_write(id, ndesc, len);
}

/* The used elements of one frame, together (2.7.9): with used_batch kept
 * whole (after handing over the kept ones they do not fit beside), or,
 * more than the shadow holds, handed over directly after the kept ones. */
static void
model_group(const struct fz_used *e, uint32_t n)
{
	uint64_t slots = 0;

	for (uint32_t i = 0; i < n; i++)
		slots += e[i].nslots;
	fz.m.pending = (uint16_t)(fz.m.pending + n);
	if (fz.batch && n <= VDP_USED_BATCH_MAX && slots <= fz.size) {
		if (fz.m.nkept + n > VDP_USED_BATCH_MAX || fz.m.kept_slots + slots > fz.size)
			model_flush();
		for (uint32_t i = 0; i < n; i++)
			model_keep(e[i].id, e[i].nslots, e[i].len);
		return;
	}
	model_flush();
	for (uint32_t i = 0; i < n; i++)
		model_write(e[i].id, e[i].nslots, e[i].len);
}

struct ref_seg {
	uint32_t reg;
	uint32_t off;
	uint32_t len;
};

struct ref_chain {
	uint16_t id;
	uint16_t nslots;
	uint32_t nseg;
	uint64_t total;
	struct ref_seg seg[VDP_CHAIN_MAX_SEGS];
};

enum ref_verdict { REF_OK, REF_BAD, REF_FATAL, REF_LIMIT };

struct ref_walk {
	enum ref_verdict v;
	enum vdp_err err;
	uint32_t loads;    /* descriptors loaded: charged to the budget */
};

/* The verdict of one buffer (or table) of a chain: an error, REF_NONE,
 * or REF_STOP when the budget does not allow reading on. */
#define REF_NONE VDP_ERR_NONE
#define REF_STOP VDP_ERR_MAX

/* Buffer [gpa, gpa + len) into c: a segment per region it touches. */
static enum vdp_err
ref_add(struct ref_chain *c, uint64_t gpa, uint32_t len)
{
	for (uint64_t rem = len; rem != 0;) {
		uint64_t off, n;
		uint32_t reg;

		if (!ref_xlate(gpa, rem, &reg, &off, &n))
			return VDP_ERR_BAD_ADDR;
		if (c->nseg == VDP_CHAIN_MAX_SEGS)
			return VDP_ERR_CHAIN_TOO_LONG;
		c->seg[c->nseg++] = (struct ref_seg){
			.reg = reg, .off = (uint32_t)off, .len = (uint32_t)n,
		};
		gpa += n;
		rem -= n;
	}
	c->total += len;
	return REF_NONE;
}

/*
 * An indirect table (2.7.8): the descriptors one after the other, as
 * many as its length says (NEXT and the buffer id reserved: ignored),
 * WRITE the one flag that counts; INDIRECT in it is refused (a driver
 * must not, and vdp_ring.h counts it as nested). The table must be a
 * whole, non-zero number of descriptors (at most VDP_RING_SIZE_MAX),
 * inside one region and 8-byte aligned (vdp_ring.h). Reading an entry
 * takes budget; the table is read up to its first bad entry.
 */
static enum vdp_err
ref_table(enum vdp_dir dir, const struct vdp_pdesc *d, struct ref_chain *c,
	  struct ref_walk *w, uint32_t budget)
{
	const uint16_t want = dir == VDP_DIR_WRITE ? VDP_DESC_F_WRITE : 0;
	const uint8_t *t;
	uint64_t off, len;
	uint32_t reg, n;

	if (d->len == 0 || d->len % sizeof(*d) != 0 ||
	    d->len / sizeof(*d) > VDP_RING_SIZE_MAX)
		return VDP_ERR_BAD_INDIRECT;
	if (!ref_xlate(d->addr, d->len, &reg, &off, &len) || len != d->len)
		return VDP_ERR_BAD_ADDR;
	if (((uintptr_t)fz.reg[reg].hva + off) % 8 != 0)
		return VDP_ERR_BAD_INDIRECT;
	t = fz.reg[reg].shadow + off;
	n = d->len / sizeof(*d);
	for (uint32_t i = 0; i < n; i++) {
		struct vdp_pdesc e;
		enum vdp_err err;

		if (w->loads == budget)
			return REF_STOP;
		memcpy(&e, t + (size_t)i * sizeof(e), sizeof(e));
		w->loads++;
		if (e.flags & VDP_DESC_F_INDIRECT)
			return VDP_ERR_NESTED_INDIRECT;
		if ((e.flags & VDP_DESC_F_WRITE) != want)
			return VDP_ERR_BAD_DESC;
		if (e.len == 0)
			return VDP_ERR_ZERO_LEN;
		err = ref_add(c, e.addr, e.len);
		if (err != REF_NONE)
			return err;
	}
	return REF_NONE;
}

/* One descriptor of the chain in the ring (its nslots-th). */
static enum vdp_err
ref_slot(enum vdp_dir dir, const struct vdp_pdesc *d, struct ref_chain *c,
	 struct ref_walk *w, uint32_t budget)
{
	const uint16_t want = dir == VDP_DIR_WRITE ? VDP_DESC_F_WRITE : 0;

	if (d->flags & VDP_DESC_F_INDIRECT) {
		/* 2.7.8: only when negotiated; never with NEXT nor inside a
		 * list linked by NEXT; WRITE on it is reserved, ignored */
		if (!fz.indirect)
			return VDP_ERR_BAD_DESC;
		if ((d->flags & VDP_DESC_F_NEXT) || c->nslots != 1)
			return VDP_ERR_BAD_INDIRECT;
		return ref_table(dir, d, c, w, budget);
	}
	if ((d->flags & VDP_DESC_F_WRITE) != want)
		return VDP_ERR_BAD_DESC;
	if (d->len == 0)
		return VDP_ERR_ZERO_LEN;
	return ref_add(c, d->addr, d->len);
}

static enum ref_verdict
ref_end(struct ref_walk *w, enum ref_verdict v, enum vdp_err e)
{
	w->v = v;
	w->err = e;
	return v;
}

/*
 * The chain at our position (its head available: the caller looked).
 * 2.7.7: the list is the slots from the head linked by NEXT, every one
 * of them available in its own slot's phase (the head is made available
 * last, so the rest must be by then); the buffer id is in the last one.
 * The device must find where the chain ends to go on: a slot that is not
 * available, or a list longer than the ring, leaves it nowhere to go on
 * from, and an id out of range or one we hold makes our used elements
 * ambiguous: those break the ring (vdp_ring.h), whatever else is wrong.
 * Otherwise the first bad buffer (in chain order) makes a bad chain, and
 * so does a length check. Every descriptor looked at needs a unit of the
 * burst's budget: a walk that cannot reach its verdict within what is
 * left stops (REF_LIMIT, nothing consumed). Descriptors loaded are
 * charged, a slot found not available is not (only its flags were). A
 * walk that a whole burst's budget cannot finish never will: model_fetch
 * breaks the ring then (vdp_ring.h).
 */
static enum ref_verdict
ref_walk(enum vdp_dir dir, struct ref_chain *c, struct ref_walk *w)
{
	const uint32_t budget = fz.m.budget_desc;
	uint16_t slot = fz.m.avail;
	bool wrap = fz.m.avail_wrap, more = true;
	enum vdp_err first = REF_NONE;

	w->loads = 0;
	c->nseg = 0;
	c->total = 0;
	c->nslots = 0;
	c->id = 0;
	while (more) {
		struct vdp_pdesc d;

		if (c->nslots == fz.size)
			return ref_end(w, REF_FATAL, VDP_ERR_LOOP);
		if (w->loads == budget)
			return ref_end(w, REF_LIMIT, REF_NONE);
		d = fz.m.ring[slot];
		if (!ref_avail(d.flags, wrap))
			return ref_end(w, REF_FATAL, VDP_ERR_BAD_DESC);
		w->loads++;
		c->nslots++;
		c->id = d.id;
		more = (d.flags & VDP_DESC_F_NEXT) != 0;
		if (first == REF_NONE) {
			first = ref_slot(dir, &d, c, w, budget);
			if (first == REF_STOP)
				return ref_end(w, REF_LIMIT, REF_NONE);
		}
		ref_advance(&slot, &wrap, 1);
	}
	if (c->id >= fz.size || model_held(c->id))
		return ref_end(w, REF_FATAL, VDP_ERR_BAD_ID);
	if (first != REF_NONE)
		return ref_end(w, REF_BAD, first);
	if (c->total > UINT32_MAX)
		return ref_end(w, REF_BAD, VDP_ERR_TOO_BIG);
	if (dir == VDP_DIR_READ) {
		if (c->total > (uint64_t)fz.hdr_len + VDP_TX_FRAME_MAX)
			return ref_end(w, REF_BAD, VDP_ERR_TOO_BIG);
		if (c->total < fz.hdr_len)
			return ref_end(w, REF_BAD, VDP_ERR_SHORT_CHAIN);
	}
	return ref_end(w, REF_OK, REF_NONE);
}

/*
 * One fetch (vdp_ring.h): nothing from a broken ring or with a spent
 * budget, EMPTY when the slot at our position is not available; a good
 * chain is taken (its id held, the position past its slots); a bad one
 * is counted and given back at once with len 0; a fatal one breaks.
 */
static enum vdp_fetch
model_fetch(enum vdp_dir dir, struct ref_chain *c)
{
	struct ref_walk w;

	if (fz.m.broken)
		return VDP_FETCH_BROKEN;
	if (fz.m.budget_desc == 0 || fz.m.budget_bad == 0)
		return model_limit();
	if (!ref_avail(fz.m.ring[fz.m.avail].flags, fz.m.avail_wrap))
		return VDP_FETCH_EMPTY;
	ref_walk(dir, c, &w);
	if (w.v == REF_LIMIT) {
		const bool whole = fz.m.budget_desc >= VDP_BURST_DESC_MAX;

		fz.m.budget_desc = 0;
		if (whole) {
			/* longer than any burst may read: it would stall the
			 * queue for ever */
			model_break(VDP_ERR_CHAIN_TOO_LONG);
			return VDP_FETCH_BROKEN;
		}
		return model_limit();
	}
	fz.m.budget_desc -= w.loads;
	if (w.v == REF_FATAL) {
		model_break(w.err);
		return VDP_FETCH_BROKEN;
	}
	ref_advance(&fz.m.avail, &fz.m.avail_wrap, c->nslots);
	fz.m.taken += c->nslots;
	fz.m.last_id = c->id;
	fz.m.last_id_ok = true;
	if (w.v == REF_OK) {
		model_hold(c->id, true);
		return VDP_FETCH_OK;
	}
	model_err(w.err);
	if (fz.batch)
		model_hold(c->id, true);   /* ours until its element is handed over */
	model_put(c->id, c->nslots, 0);
	fz.m.budget_bad--;
	return VDP_FETCH_BAD;
}

/* Give back the chain taken last: position and id. */
static void
model_unfetch(uint16_t id, uint16_t nslots)
{
	ref_retreat(&fz.m.avail, &fz.m.avail_wrap, nslots);
	fz.m.taken -= nslots;
	fz.m.last_id_ok = false;
	model_hold(id, false);
}

/* Bytes [0, len) of src into chain c from byte off, in the shadow. */
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

/* Writable chains, the bad ones met on the way skipped (and counted). */
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
 * One frame into the guest's receive ring, as vdp_ring.h describes
 * vdp_vq_enqueue_frame (and virtio 1.1 5.1.6.3, 5.1.6.4): the frame is
 * fz.stream[0..needed) (the header in front). Without MRG_RXBUF one chain
 * holds it all, or the chain stays with the guest (RX_TOO_SMALL); with
 * it, buffers one after the other (at most VDP_MRG_MAX_BUFS), the header
 * in the first (a first buffer shorter than it is refused like a bad
 * chain), num_buffers written at the end; a frame that does not fit
 * leaves its buffers with the guest, except those taken before a bad
 * chain: those come back with len 0. The used elements of a frame are
 * contiguous. Returns what the library must return.
 */
static int
model_enqueue(uint32_t needed)
{
	static struct ref_chain first, more;
	struct fz_used bufs[VDP_MRG_MAX_BUFS];
	uint32_t nbufs = 0, nbad = 0, keep = 0, pos = 0;
	uint16_t back;          /* where the buffers given back start */
	bool back_wrap;
	uint64_t back_taken;
	enum vdp_fetch r;
	enum vdp_err err;

	if (fz.m.broken)
		return -1;
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
			model_unfetch(first.id, first.nslots);
			model_err(VDP_ERR_RX_TOO_SMALL);
			return VDP_ERR_RX_TOO_SMALL;
		}
		model_chain_write(&first, 0, fz.stream, needed);
		model_put(first.id, first.nslots, needed);
		return 0;
	}

	back = fz.m.avail;
	back_wrap = fz.m.avail_wrap;
	back_taken = fz.m.taken;
	for (;;) {
		struct ref_chain *c = nbufs == 0 ? &first : &more;
		uint16_t at = fz.m.avail;
		bool at_wrap = fz.m.avail_wrap;
		uint64_t at_taken = fz.m.taken;
		uint32_t bad0 = nbad, w;

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
			/* no room for the header: refused, charged as bad */
			model_err(VDP_ERR_SHORT_CHAIN);
			model_put(c->id, c->nslots, 0);
			fz.m.budget_bad--;
			back = fz.m.avail;
			back_wrap = fz.m.avail_wrap;
			back_taken = fz.m.taken;
			continue;
		}
		if (nbad != 0) {
			/* bad chains lie between what we took before and this
			 * one: those cannot be given back by moving back */
			keep = nbufs;
			if (nbad != bad0) {
				/* this chain starts after the bad ones */
				at = fz.m.avail;
				at_wrap = fz.m.avail_wrap;
				at_taken = fz.m.taken;
				ref_retreat(&at, &at_wrap, c->nslots);
				at_taken -= c->nslots;
			}
			back = at;
			back_wrap = at_wrap;
			back_taken = at_taken;
			nbad = 0;
		}
		w = model_chain_write(c, 0, fz.stream + pos, needed - pos);
		pos += w;
		bufs[nbufs].id = c->id;
		bufs[nbufs].nslots = c->nslots;
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
	model_group(bufs, nbufs);
	return 0;

fail:
	if (nbad != 0) {
		keep = nbufs;
		back = fz.m.avail;
		back_wrap = fz.m.avail_wrap;
		back_taken = fz.m.taken;
	}
	for (uint32_t i = 0; i < keep; i++)
		model_put(bufs[i].id, bufs[i].nslots, 0);
	for (uint32_t i = keep; i < nbufs; i++)
		model_hold(bufs[i].id, false);
	fz.m.avail = back;
	fz.m.avail_wrap = back_wrap;
	fz.m.taken = back_taken;
	fz.m.last_id_ok = false;
	model_err(err);
	return err;
}

/*
 * The call decision after used descriptors (2.7.10, 2.7.21): the guest's
 * flags ENABLE: a call is due; DISABLE: none; DESC (with RING_EVENT_IDX
 * only): due when the used position passed the guest's (offset, wrap)
 * since the last decision, which two laps (2 x size positions) or more
 * always did, though the positions alone no longer show it. What the
 * spec leaves open may go either way: reserved flag bits or value 3,
 * DESC without the feature or with an offset past the ring, and a DESC
 * position not passed at the first decision after a ring load (the
 * device does not know what the guest waited for).
 */
enum { CALL_NO, CALL_YES, CALL_ANY };

static int
model_need_call(void)
{
	const uint32_t laps = 2u * fz.size;
	const uint16_t flags = fz.drv_written.flags, ow = fz.drv_written.off_wrap;
	const uint32_t old = ref_pos(fz.m.sig, fz.m.sig_wrap);
	const uint64_t moved = fz.m.moved;
	const bool valid = fz.m.sig_valid;
	uint32_t ev;

	fz.m.sig = fz.m.used;
	fz.m.sig_wrap = fz.m.used_wrap;
	fz.m.sig_valid = true;
	fz.m.moved = 0;
	if (flags > VDP_PEVENT_DESC)
		return CALL_ANY;
	if (flags == VDP_PEVENT_ENABLE)
		return CALL_YES;
	if (flags == VDP_PEVENT_DISABLE)
		return CALL_NO;
	if (!fz.event_idx || (ow & 0x7fff) >= fz.size)
		return CALL_ANY;
	if (moved >= laps)
		return CALL_YES;   /* every position passed, the guest's too */
	ev = ref_pos(ow & 0x7fff, ow >> 15);
	if ((ev + laps - old) % laps < moved)
		return CALL_YES;
	return valid ? CALL_NO : CALL_ANY;
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
				 "op %u %s: guest memory region %u offset %llu is 0x%02x, "
				 "model says 0x%02x", fz.op, what, i, (unsigned long long)k,
				 r->hva[k], r->shadow[k]);
	}
}

static void
check_ring(const char *what, bool full)
{
	const uint32_t nd = fz.m.ndirty;

	fz.m.ndirty = 0;
	if (!full && !fz.full_cmp && fz.size > FZ_FULL_CMP && nd <= FZ_DIRTY_MAX) {
		for (uint32_t i = 0; i < nd; i++) {
			const uint16_t s = fz.m.dirty[i];

			FZ_CHECK(memcmp(&fz.ring[s], &fz.m.ring[s], sizeof(fz.ring[s])) == 0,
				 "op %u %s: ring slot %u is id %u len %u flags 0x%04x, model "
				 "says id %u len %u flags 0x%04x", fz.op, what, s, fz.ring[s].id,
				 fz.ring[s].len, fz.ring[s].flags, fz.m.ring[s].id,
				 fz.m.ring[s].len, fz.m.ring[s].flags);
		}
		return;
	}
	if (memcmp(fz.ring, fz.m.ring, (size_t)fz.size * sizeof(fz.ring[0])) == 0)
		return;
	for (uint32_t s = 0; s < fz.size; s++) {
		const struct vdp_pdesc *a = &fz.ring[s], *b = &fz.m.ring[s];

		FZ_CHECK(memcmp(a, b, sizeof(*a)) == 0,
			 "op %u %s: ring slot %u is addr 0x%llx len %u id %u flags 0x%04x, "
			 "model says addr 0x%llx len %u id %u flags 0x%04x", fz.op, what, s,
			 (unsigned long long)a->addr, a->len, a->id, a->flags,
			 (unsigned long long)b->addr, b->len, b->id, b->flags);
	}
}

static void
check_state(const char *what)
{
	const struct vdp_vring *vr = &fz.vr;
	const struct fz_model *m = &fz.m;
	uint64_t nerr = 0, held_slots = 0;

	FZ_CHECK(vr->layout == VDP_LAYOUT_PACKED && vr->size == fz.size &&
		 vr->pdesc == fz.ring && vr->ids_held == fz.ids,
		 "op %u %s: ring set-up changed", fz.op, what);
	FZ_CHECK(vr->broken == m->broken, "op %u %s: broken %d, model %d", fz.op, what,
		 vr->broken, m->broken);
	FZ_CHECK(vr->last_avail == m->avail && vr->avail_wrap == m->avail_wrap,
		 "op %u %s: avail position %u wrap %d, model %u wrap %d", fz.op, what,
		 vr->last_avail, vr->avail_wrap, m->avail, m->avail_wrap);
	FZ_CHECK(vr->used_idx == m->used && vr->used_wrap == m->used_wrap,
		 "op %u %s: used position %u wrap %d, model %u wrap %d", fz.op, what,
		 vr->used_idx, vr->used_wrap, m->used, m->used_wrap);
	FZ_CHECK(vr->last_avail < fz.size && vr->used_idx < fz.size,
		 "op %u %s: position past the ring", fz.op, what);
	FZ_CHECK(vr->budget_desc == m->budget_desc,
		 "op %u %s: descriptor budget left %u, model %u (charged differently)",
		 fz.op, what, vr->budget_desc, m->budget_desc);
	FZ_CHECK(vr->budget_bad == m->budget_bad, "op %u %s: refusal budget left %u, model %u",
		 fz.op, what, vr->budget_bad, m->budget_bad);
	FZ_CHECK(vr->budget_hit == m->budget_hit && vr->budget_stops == m->budget_stops,
		 "op %u %s: budget stops %llu, model %llu", fz.op, what,
		 (unsigned long long)vr->budget_stops, (unsigned long long)m->budget_stops);
	FZ_CHECK(vr->budget_desc <= VDP_BURST_DESC_MAX + m->granted &&
		 vr->budget_bad <= VDP_BURST_BAD_MAX,
		 "op %u %s: budget out of range: %u descriptors, %u refusals", fz.op, what,
		 vr->budget_desc, vr->budget_bad);
	FZ_CHECK(vr->used_pending == m->pending, "op %u %s: %u used pending, model %u",
		 fz.op, what, vr->used_pending, m->pending);
	FZ_CHECK(vr->last_id_ok == m->last_id_ok && (!m->last_id_ok || vr->last_id == m->last_id),
		 "op %u %s: last chain taken %u (%s), model %u (%s)", fz.op, what, vr->last_id,
		 vr->last_id_ok ? "known" : "not known", m->last_id,
		 m->last_id_ok ? "known" : "not known");
	FZ_CHECK(vr->used_batch == fz.batch && vr->nshadow == m->nkept &&
		 vr->shadow_slots == m->kept_slots,
		 "op %u %s: %u used elements kept back, model %u", fz.op, what, vr->nshadow,
		 m->nkept);
	for (uint32_t i = 0; i < m->nkept; i++)
		FZ_CHECK(vr->shadow[i].id == m->kept[i].id &&
			 vr->shadow[i].ndesc == m->kept[i].nslots &&
			 vr->shadow[i].len == m->kept[i].len,
			 "op %u %s: kept element %u is id %u of %u slots len %u, model id %u "
			 "of %u len %u", fz.op, what, i, vr->shadow[i].id, vr->shadow[i].ndesc,
			 vr->shadow[i].len, m->kept[i].id, m->kept[i].nslots, m->kept[i].len);
	/* where the last call decision was; the library may forget it (two
	 * laps since: the positions tell nothing more), never invent it */
	FZ_CHECK(vr->signalled_used == m->sig && vr->signalled_wrap == m->sig_wrap &&
		 (!vr->signalled_valid || m->sig_valid),
		 "op %u %s: last call decision at %u/%d/%d, model %u/%d/%d", fz.op, what,
		 vr->signalled_used, vr->signalled_wrap, vr->signalled_valid, m->sig,
		 m->sig_wrap, m->sig_valid);
	for (int e = 0; e < VDP_ERR_MAX; e++) {
		FZ_CHECK(vr->err[e] == m->err[e], "op %u %s: err[%s] %llu, model %llu", fz.op,
			 what, vdp_err_names[e], (unsigned long long)vr->err[e],
			 (unsigned long long)m->err[e]);
		nerr += vr->err[e];
	}
	FZ_CHECK(fz.ncb == nerr, "op %u %s: on_err called %llu times for %llu errors", fz.op,
		 what, (unsigned long long)fz.ncb, (unsigned long long)nerr);
	FZ_CHECK(memcmp(fz.ids, m->ids, VDP_PACKED_IDS_WORDS(fz.size) * sizeof(uint64_t)) == 0,
		 "op %u %s: held ids differ from the model", fz.op, what);
	FZ_CHECK(memcmp(fz.dev_event, &m->dev_event, sizeof(m->dev_event)) == 0,
		 "op %u %s: device event %u/%u, model %u/%u", fz.op, what,
		 fz.dev_event->off_wrap, fz.dev_event->flags, m->dev_event.off_wrap,
		 m->dev_event.flags);
	FZ_CHECK(memcmp(fz.drv_event, &fz.drv_written, sizeof(fz.drv_written)) == 0,
		 "op %u %s: the driver's event structure was written", fz.op, what);
	/* every slot taken is given back, kept back (used_batch) or held: by
	 * the harness, or (a ring broken while gathering a mergeable frame)
	 * lost with the ring */
	for (uint32_t i = 0; i < m->nkept; i++) {
		held_slots += m->kept[i].nslots;
		FZ_CHECK(model_held(m->kept[i].id), "op %u %s: id %u kept back but not held",
			 fz.op, what, m->kept[i].id);
	}
	for (uint32_t i = 0; i < fz.nheld; i++) {
		held_slots += fz.held[i].ndesc;
		FZ_CHECK(model_held(fz.held[i].id), "op %u %s: chain %u held but its id not",
			 fz.op, what, fz.held[i].id);
	}
	FZ_CHECK(m->broken || m->taken == m->returned + held_slots,
		 "op %u %s: %llu slots taken, %llu returned, %llu held", fz.op, what,
		 (unsigned long long)m->taken, (unsigned long long)m->returned,
		 (unsigned long long)held_slots);
	/* whole when the ring has just broken (again at the end: nothing
	 * may change after) */
	check_ring(what, fz.m.broken && !fz.broken_seen);
	fz.broken_seen = fz.m.broken;
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
	uint64_t sum = 0;

	FZ_CHECK(c->nseg >= 1 && c->nseg <= VDP_CHAIN_MAX_SEGS, "op %u: chain with %u segments",
		 fz.op, c->nseg);
	FZ_CHECK(c->ndesc >= 1 && c->ndesc <= fz.size, "op %u: chain of %u slots in a ring of %u",
		 fz.op, c->ndesc, fz.size);
	FZ_CHECK(c->id < fz.size, "op %u: chain id %u in a ring of %u", fz.op, c->id, fz.size);
	for (uint32_t i = 0; i < fz.nheld; i++)
		FZ_CHECK(fz.held[i].id != c->id, "op %u: id %u handed out while held",
			 fz.op, c->id);
	for (uint32_t i = 0; i < c->nseg; i++) {
		const struct vdp_seg *s = &c->seg[i];

		FZ_CHECK(s->len != 0, "op %u: segment %u of chain %u is empty", fz.op, i, c->id);
		FZ_CHECK(in_one_region(s->hva, s->len) && vdp_hva_in_map(&fz.mm, s->hva, s->len),
			 "op %u: segment %u (%p, %u) of chain %u is outside guest memory",
			 fz.op, i, (void *)s->hva, s->len, c->id);
		sum += s->len;
	}
	FZ_CHECK(sum == c->len, "op %u: chain %u: len %u but segments add up to %llu", fz.op,
		 c->id, c->len, (unsigned long long)sum);
	if (dir == VDP_DIR_READ)
		FZ_CHECK(c->len >= fz.hdr_len && c->len <= fz.hdr_len + VDP_TX_FRAME_MAX,
			 "op %u: TX chain %u of %u bytes accepted", fz.op, c->id, c->len);

	FZ_CHECK(c->id == rc->id && c->ndesc == rc->nslots,
		 "op %u: chain id %u of %u slots, model id %u of %u", fz.op, c->id, c->ndesc,
		 rc->id, rc->nslots);
	FZ_CHECK(c->nseg == rc->nseg && c->len == rc->total,
		 "op %u: chain %u: %u segments / %u bytes, model %u / %llu", fz.op, c->id,
		 c->nseg, c->len, rc->nseg, (unsigned long long)rc->total);
	for (uint32_t i = 0; i < c->nseg; i++)
		FZ_CHECK(c->seg[i].hva == fz.reg[rc->seg[i].reg].hva + rc->seg[i].off &&
			 c->seg[i].len == rc->seg[i].len,
			 "op %u: chain %u segment %u differs from the model", fz.op, c->id, i);
}

static const char *const fetch_names[] = {
	"ok", "empty", "bad", "broken", "limit",
};

/* Fetch with the library and with the model; they must agree. */
static enum vdp_fetch
fz_fetch(enum vdp_dir dir, struct vdp_chain *c, struct ref_chain *rc)
{
	const bool was_broken = fz.vr.broken;
	enum vdp_fetch r = vdp_vq_fetch(&fz.vr, &fz.mm, dir, c);
	enum vdp_fetch mr = model_fetch(dir, rc);

	FZ_CHECK(r == mr, "op %u: fetch(%s) returned %s, model %s", fz.op,
		 dir == VDP_DIR_READ ? "read" : "write", fetch_names[r % 5], fetch_names[mr]);
	FZ_CHECK(!was_broken || r == VDP_FETCH_BROKEN, "op %u: broken ring fetched %d",
		 fz.op, r);
	if (r == VDP_FETCH_OK)
		check_chain(dir, c, rc);
	if (r == VDP_FETCH_LIMIT)
		FZ_CHECK(fz.vr.budget_desc == 0 || fz.vr.budget_bad == 0,
			 "op %u: fetch stopped by a budget that is not spent", fz.op);
	return r;
}

/* A chain's bytes through vdp_chain_read, against the model's segments. */
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
	n = vdp_chain_read(c, off, buf, want);
	FZ_CHECK(n == (off < c->len ? (want < c->len - off ? want : c->len - off) : 0),
		 "chain_read(off %u, len %u) of a %u-byte chain returned %u", off, want,
		 c->len, n);
}

/* ---- the harness's chains ---- */

static void
held_add(const struct vdp_chain *c, uint32_t len)
{
	fz.held[fz.nheld++] = (struct fz_held){ .id = c->id, .ndesc = c->ndesc, .len = len };
	fz.unfetch_ok = true;
}

/* Put the k-th chain held: library and model. */
static void
held_put(uint32_t k)
{
	struct fz_held h = fz.held[k];

	memmove(&fz.held[k], &fz.held[k + 1], (fz.nheld - k - 1) * sizeof(fz.held[0]));
	fz.nheld--;
	vdp_vq_used_put(&fz.vr, h.id, h.ndesc, h.len);
	model_put(h.id, h.ndesc, h.len);
	check_state("put");
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

static bool
overlaps(uint64_t gpa, uint64_t size, uint32_t upto, uint32_t *which)
{
	for (uint32_t j = 0; j < upto; j++) {
		const struct fz_region *r = &fz.reg[j];

		if (gpa < r->gpa + r->size && r->gpa < gpa + size) {
			*which = j;
			return true;
		}
	}
	return false;
}

static void
fz_setup_memory(struct fz_in *hdr, const uint8_t *blob, size_t blob_len, uint32_t nreg)
{
	struct {
		uint64_t gpa;
		uint32_t size;
		uint16_t doff;
	} map[FZ_NREG];

	for (uint32_t i = 0; i < FZ_NREG; i++) {
		map[i].gpa = in_u64(hdr);
		map[i].size = 1 + in_u32(hdr) % FZ_REGION_MAX;
		map[i].doff = in_u16(hdr);
		(void)in_u16(hdr);
	}
	ASAN_POISON_MEMORY_REGION(fz.arena, FZ_ARENA);
	memset(&fz.mm, 0, sizeof(fz.mm));
	fz.nreg = 0;
	for (uint32_t i = 0; i < nreg; i++) {
		struct fz_region *r = &fz.reg[i];
		uintptr_t end = (uintptr_t)fz.arena + (i + 1) * FZ_SLOT;
		uint64_t gpa = map[i].gpa;
		uint32_t j, tries = 0;
		size_t have = 0;

		r->size = map[i].size;
		/* the VMM's table is checked for wrap-around and overlap
		 * (vdevpeer_vhost.c, vdp_vumsg.c): move an overlapping one
		 * to the end of what it overlaps */
		if (gpa > UINT64_MAX - r->size)
			gpa = UINT64_MAX - r->size;
		while (overlaps(gpa, r->size, i, &j) && tries++ < FZ_NREG) {
			gpa = fz.reg[j].gpa + fz.reg[j].size;
			if (gpa > UINT64_MAX - r->size)
				break;
		}
		if (gpa > UINT64_MAX - r->size || overlaps(gpa, r->size, i, &j))
			break;
		r->gpa = gpa;
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
		fz.nreg = i + 1;
	}
	fz.mm.nregions = fz.nreg;
}

/* The ring, the event structures and the id bitmap: each ends at its
 * mapping's end, next to a PROT_NONE page; the rest is poisoned. */
static void
fz_setup_ring(void)
{
	const size_t pg = fz.page, rmax = FZ_RING_MAX * sizeof(struct vdp_pdesc);
	const size_t rlen = (size_t)fz.size * sizeof(struct vdp_pdesc);
	const size_t ilen = VDP_PACKED_IDS_WORDS(fz.size) * sizeof(uint64_t);

	fz.ring = (struct vdp_pdesc *)(fz.ring_area + rmax - rlen);
	fz.drv_event = (struct vdp_pevent *)(fz.drv_page + pg - sizeof(struct vdp_pevent));
	fz.dev_event = (struct vdp_pevent *)(fz.dev_page + pg - sizeof(struct vdp_pevent));
	fz.ids = (uint64_t *)(fz.ids_page + pg - ilen);
	ASAN_POISON_MEMORY_REGION(fz.ring_area, rmax);
	ASAN_POISON_MEMORY_REGION(fz.drv_page, pg);
	ASAN_POISON_MEMORY_REGION(fz.dev_page, pg);
	ASAN_POISON_MEMORY_REGION(fz.ids_page, pg);
	ASAN_UNPOISON_MEMORY_REGION(fz.ring, rlen);
	ASAN_UNPOISON_MEMORY_REGION(fz.drv_event, sizeof(struct vdp_pevent));
	ASAN_UNPOISON_MEMORY_REGION(fz.dev_event, sizeof(struct vdp_pevent));
	ASAN_UNPOISON_MEMORY_REGION(fz.ids, ilen);
	/* all zero: no slot available in either phase */
	memset(fz.ring, 0, rlen);
	memset(fz.m.ring, 0, rlen);
	memset(fz.dev_event, 0, sizeof(*fz.dev_event));
	memset(fz.ids, 0xa5, ilen);   /* vdp_packed_init must clear it */
	*fz.drv_event = fz.drv_written;
}

/* ring size from its u16: mostly small, any size possible */
static uint16_t
fz_ring_size(uint16_t v)
{
	switch (v >> 14) {
	case 0:
		return 1 + (v & 63);
	case 1:
		return 1 + (v & 1023);
	case 2:
		return 1 + (v & 4095);
	default:
		return 1 + (v & 32767);
	}
}

/* The ring set-up checks: vdp_packed_init refusals, vdp_vring_in_map. */
static void
fz_check_init(void)
{
	const size_t rlen = (size_t)fz.size * sizeof(struct vdp_pdesc);
	struct vdp_memmap rm = { .nregions = 3 };
	struct vdp_vring t;
	void *r = fz.ring, *dr = fz.drv_event, *dv = fz.dev_event;
	uint64_t *ids = fz.ids;

	FZ_CHECK(vdp_packed_init(&t, r, dr, dv, 0, 0, 1, 0, 1, ids) != 0 &&
		 vdp_packed_init(&t, r, dr, dv, VDP_RING_SIZE_MAX + 1, 0, 1, 0, 1, ids) != 0 &&
		 vdp_packed_init(&t, r, dr, dv, fz.size, fz.size, 1, 0, 1, ids) != 0 &&
		 vdp_packed_init(&t, r, dr, dv, fz.size, 0, 1, fz.size, 1, ids) != 0 &&
		 vdp_packed_init(&t, (uint8_t *)r + 8, dr, dv, fz.size, 0, 1, 0, 1, ids) != 0 &&
		 vdp_packed_init(&t, r, (uint8_t *)dr - 2, dv, fz.size, 0, 1, 0, 1, ids) != 0 &&
		 vdp_packed_init(&t, r, dr, (uint8_t *)dv - 2, fz.size, 0, 1, 0, 1, ids) != 0 &&
		 vdp_packed_init(&t, NULL, dr, dv, fz.size, 0, 1, 0, 1, ids) != 0 &&
		 vdp_packed_init(&t, r, dr, dv, fz.size, 0, 1, 0, 1, NULL) != 0,
		 "packed_init accepted a bad layout");
	/* a map of exactly the three structures holds the ring; one byte
	 * short at the end of any does not */
	rm.r[0] = (struct vdp_mem_region){ .gpa = 0, .size = rlen, .hva = (uintptr_t)r };
	rm.r[1] = (struct vdp_mem_region){ .gpa = 1ull << 40, .size = sizeof(struct vdp_pevent),
					   .hva = (uintptr_t)dr };
	rm.r[2] = (struct vdp_mem_region){ .gpa = 2ull << 40, .size = sizeof(struct vdp_pevent),
					   .hva = (uintptr_t)dv };
	FZ_CHECK(vdp_vring_in_map(&fz.vr, &rm), "packed ring not found in a map of its tables");
	for (uint32_t i = 0; i < 3; i++) {
		rm.r[i].size--;
		FZ_CHECK(!vdp_vring_in_map(&fz.vr, &rm), "packed table %u one byte short in map",
			 i);
		rm.r[i].size++;
	}
	FZ_CHECK(!vdp_vring_in_map(&fz.vr, &fz.mm), "ring outside guest memory found in it");
}

/* ---- the guest's side ---- */

static void
guest_slot(uint16_t s, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
	struct vdp_pdesc d = { .addr = addr, .len = len, .id = id, .flags = flags };

	fz.ring[s] = d;
	fz.m.ring[s] = d;
}

/* The phase bits a driver with wrap counter w writes (2.7.2). */
static uint16_t
guest_phase(bool w)
{
	return w ? PF_AVAIL : PF_USED;
}

static uint64_t
guest_gpa(uint8_t reg, uint16_t off)
{
	return fz.reg[reg % fz.nreg].gpa + off;
}

/* A table of n entries at tgpa (as much of it as is in guest memory). */
static void
guest_table(uint64_t tgpa, uint32_t n, uint8_t kind, uint64_t bgpa, uint16_t blen,
	    uint16_t stride)
{
	for (uint32_t i = 0; i < n; i++) {
		struct vdp_pdesc e = {
			.addr = bgpa + (uint64_t)i * stride,
			.len = blen,
			.id = (uint16_t)(i * 3 + 1),
			.flags = (kind & K_WRITE ? VDP_DESC_F_WRITE : 0) |
				 (kind & K_TNEXT && i + 1 < n ? VDP_DESC_F_NEXT : 0) |
				 (kind & K_NESTED && i + 1 == n ? VDP_DESC_F_INDIRECT : 0),
		};

		guest_mem_write(tgpa + (uint64_t)i * sizeof(e), &e, sizeof(e));
	}
}

/* The guest's driver posts a chain at its position, head last. */
static void
guest_post(struct fz_in *in)
{
	uint32_t n = 1 + in_u16(in) % VDP_RING_SIZE_MAX;   /* at most size + 1 */
	uint8_t kind = in_u8(in);
	uint16_t id = in_u16(in);
	uint8_t breg = in_u8(in);
	uint16_t boff = in_u16(in), blen = in_u16(in), stride = in_u16(in);
	uint8_t treg = in_u8(in);
	uint16_t toff = in_u16(in);
	const uint64_t bgpa = guest_gpa(breg, boff);
	const uint16_t dir = kind & K_WRITE ? VDP_DESC_F_WRITE : 0;
	uint16_t head = fz.dpos, s;
	bool head_wrap = fz.dwrap, w;

	if (kind & K_INDIRECT) {
		uint64_t tgpa = guest_gpa(treg, toff);

		if (n > FZ_TABLE_MAX)
			n = FZ_TABLE_MAX;
		guest_table(tgpa, n, kind, bgpa, blen, stride);
		guest_slot(head, tgpa, n * (uint32_t)sizeof(struct vdp_pdesc), id,
			   VDP_DESC_F_INDIRECT | dir | guest_phase(head_wrap) |
			   (kind & K_NOEND ? VDP_DESC_F_NEXT : 0));
		ref_advance(&fz.dpos, &fz.dwrap, 1);
		return;
	}
	if (n > fz.size + 1u)
		n = fz.size + 1u;   /* more slots would only overwrite these */
	s = head;
	w = head_wrap;
	ref_advance(&s, &w, 1);
	for (uint32_t i = 1; i <= n; i++) {
		const uint32_t k = i % n;   /* the head (k == 0) last */
		const bool last = k + 1 == n;
		uint16_t slot = k == 0 ? head : s;
		bool sw = k == 0 ? head_wrap : w;

		guest_slot(slot, bgpa + (uint64_t)k * stride, blen,
			   last || (kind & K_IDALL) ? id : (uint16_t)(id ^ 0x5a5a ^ k),
			   dir | guest_phase(sw) |
			   (!last || (kind & K_NOEND) ? VDP_DESC_F_NEXT : 0));
		if (k != 0)
			ref_advance(&s, &w, 1);
	}
	ref_advance(&fz.dpos, &fz.dwrap, n);
}

/* ---- frames ---- */

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

/* One frame: each piece ends where its guarded area ends (a PROT_NONE
 * page after it, poisoned bytes before it: any read past either end
 * shows), the model's flat copy in fz.stream. */
static void
fz_frame(uint32_t len, uint8_t cut, uint32_t seed)
{
	struct vdp_iov iov[FZ_PIECES];
	uint8_t *piece[FZ_PIECES];
	const uint32_t npieces = 1 + (uint32_t)(cut >> 6) % 3, needed = fz.hdr_len + len;
	const uint8_t *payload = fz.pattern + seed * 101u % 251u;
	const bool was_broken = fz.vr.broken;
	const uint16_t pend0 = fz.vr.used_pending;
	struct vdp_net_hdr h = fz.nh;
	uint32_t plen[FZ_PIECES], pos = 0;
	int ret, mret;

	plen[0] = npieces == 1 ? len : len * (cut & 63u) / 63u;
	if (npieces == 2)
		plen[1] = len - plen[0];
	if (npieces == 3) {
		plen[1] = (len - plen[0]) / 2;
		plen[2] = len - plen[0] - plen[1];
	}
	for (uint32_t i = 0; i < npieces; i++) {
		const size_t area = (FZ_FRAME_MAX + fz.page - 1) & ~(fz.page - 1);

		piece[i] = fz.pieces[i] + area - plen[i];
		ASAN_POISON_MEMORY_REGION(fz.pieces[i], area);
		ASAN_UNPOISON_MEMORY_REGION(piece[i], plen[i]);
		memcpy(piece[i], payload + pos, plen[i]);
		iov[i].base = piece[i];
		iov[i].len = plen[i];
		pos += plen[i];
	}
	/* 5.1.6.4: num_buffers 1 without MRG_RXBUF, filled in at the end
	 * with it */
	if (!fz.mrg)
		h.num_buffers = 1;
	memcpy(fz.stream, &h, fz.hdr_len);
	memcpy(fz.stream + fz.hdr_len, payload, len);

	/* the packed instance, the layout-agnostic entry point, and the
	 * function the PMD picks when it loads the ring, in turn */
	switch (seed % 3) {
	case 0:
		/* a frame in one piece, half the time: through
		 * vdp_vq_put_plain first, then (as its callers do) the
		 * frame function when it stopped before it */
		if (npieces == 1 && (seed / 3) % 2 == 1) {
			const struct vdp_plain pf = { &fz.nh, iov[0].base, iov[0].len };

			if (vdp_vq_put_plain(&fz.vr, &fz.mm, &pf, 1) == 1) {
				ret = 0;
				break;
			}
		}
		ret = vdp_packed_enqueue_frame(&fz.vr, &fz.mm, &fz.nh, iov, npieces);
		break;
	case 1:
		ret = vdp_vq_enqueue_frame(&fz.vr, &fz.mm, &fz.nh, iov, npieces);
		break;
	default:
		ret = fz.frame(&fz.vr, &fz.mm, &fz.nh, iov, npieces);
		break;
	}
	mret = model_enqueue(needed);

	FZ_CHECK(ret == mret, "op %u: enqueue of %u bytes (%s) returned %d, model %d", fz.op,
		 needed, fz.mrg ? "mergeable" : "one chain", ret, mret);
	FZ_CHECK(ret == 0 || ret == -1 || ret == VDP_ERR_NO_RX_BUF ||
		 ret == VDP_ERR_RX_TOO_SMALL || ret == VDP_ERR_BURST_BUDGET,
		 "op %u: enqueue returned %d", fz.op, ret);
	FZ_CHECK(ret != -1 || fz.vr.broken, "op %u: enqueue returned -1 on a working ring",
		 fz.op);
	FZ_CHECK(!was_broken || (ret == -1 && fz.vr.used_pending == pend0),
		 "op %u: broken ring took a frame", fz.op);
	check_state("enqueue");
	check_memory("enqueue");
}

/* ---- one input ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A burst begun (vdp_vring_burst_begin): the model's budgets anew. */
static void
model_burst_begin(void)
{
	fz.m.budget_desc = VDP_BURST_DESC_MAX;
	fz.m.budget_bad = VDP_BURST_BAD_MAX;
	fz.m.budget_hit = false;
	fz.m.granted = 0;
}

/* The ring's settings after vdp_packed_init, as the PMD's ring load sets
 * them, and its frame function picked. */
static void
fz_ring_settings(void)
{
	fz.vr.indirect = fz.indirect;
	fz.vr.event_idx = fz.event_idx;
	fz.vr.mrg_rxbuf = fz.mrg;
	fz.vr.hdr_len = fz.hdr_len;
	fz.vr.on_err = fz_on_err;
	fz.vr.used_batch = fz.batch;   /* after init, as the PMD's ring load */
	fz.vr.in_order = fz.in_order;
	if (fz.st != NULL)
		vdp_ring_state_attach(&fz.vr, fz.st);
	fz.frame = vdp_vq_frame_fn(&fz.vr);
	FZ_CHECK(fz.frame != NULL, "no frame function for a packed ring");
}

/* vdp_vq_publish: the kept elements handed over, the call decision. */
static void
fz_publish(void)
{
	const uint16_t pend = fz.m.pending;
	int want = CALL_NO;
	bool call;

	call = vdp_vq_publish(&fz.vr);
	if (pend != 0) {
		model_flush();
		fz.m.pending = 0;
		want = model_need_call();
	}
	FZ_CHECK(want == CALL_ANY || call == (want == CALL_YES),
		 "op %u: need_call %d after %u used (flags %u off_wrap 0x%04x, "
		 "event_idx %d), model %s", fz.op, call, pend, fz.drv_written.flags,
		 fz.drv_written.off_wrap, fz.event_idx, want == CALL_YES ? "call" : "no call");
	check_state("publish");
}

/*
 * RELOAD: the PMD's vdp_load_ring with keep_idx (a new memory table: the
 * same ring, its positions ours). It runs between bursts, so what is
 * pending is published first; vdp_packed_init_same then starts the ring
 * again at its own positions and must keep the ids of the chains still
 * out (the harness's held ones, as zero-copy's): a guest reposting one is
 * refused after the reload as before it. The ring's counters start from
 * zero (the PMD adds them to its queue's first), its budgets and call
 * decision anew; a broken ring is whole again (the slots it lost, a
 * mergeable frame's, are forgotten with it: their ids stay held).
 */
static void
fz_reload(void)
{
	const uint16_t slot_mask = (uint16_t)~(1u << VDP_PACKED_WRAP_BIT);
	uint64_t held_slots = 0;
	uint16_t ab, ub;

	fz_publish();   /* at a burst's end, broken or not */
	ab = vdp_vq_avail_base(&fz.vr);
	ub = vdp_vq_used_base(&fz.vr);
	FZ_CHECK(vdp_packed_init_same(&fz.vr, fz.ring, fz.drv_event, fz.dev_event, fz.size,
				      ab & slot_mask, ab >> VDP_PACKED_WRAP_BIT, ub & slot_mask,
				      ub >> VDP_PACKED_WRAP_BIT, fz.ids) == 0,
		 "op %u: the same ring refused at its own positions %u/%u", fz.op, ab, ub);
	fz_ring_settings();

	fz.m.broken = false;
	fz.broken_seen = false;
	model_burst_begin();   /* vdp_packed_init begins a burst */
	fz.m.budget_stops = 0;
	memset(fz.m.err, 0, sizeof(fz.m.err));
	fz.ncb = 0;
	fz.m.sig = fz.m.used;
	fz.m.sig_wrap = fz.m.used_wrap;
	fz.m.sig_valid = false;
	fz.m.moved = 0;
	fz.m.last_id_ok = false;
	fz.m.pending = 0;
	fz.m.nkept = 0;
	fz.m.kept_slots = 0;
	for (uint32_t i = 0; i < fz.nheld; i++)
		held_slots += fz.held[i].ndesc;
	fz.m.taken = fz.m.returned + held_slots;
	check_state("reload");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vdp_chain c;
	static struct ref_chain rc;
	struct fz_in hdr = { .p = data, .n = size < FZ_HDR_LEN ? size : FZ_HDR_LEN, .off = 0 };
	struct fz_in ops;
	uint8_t feat, wraps;
	uint16_t avail_slot, used_slot, ops_len;
	uint32_t nreg, nframes = 0;
	const uint8_t *blob = NULL;
	size_t blob_len = 0;

	fz.size = fz_ring_size(in_u16(&hdr));
	feat = in_u8(&hdr);
	wraps = in_u8(&hdr);
	avail_slot = in_u16(&hdr) % fz.size;
	used_slot = in_u16(&hdr) % fz.size;
	nreg = 1 + in_u8(&hdr) % FZ_NREG;
	(void)in_u8(&hdr);
	fz.drv_written.off_wrap = in_u16(&hdr);
	fz.drv_written.flags = in_u16(&hdr);
	ops_len = in_u16(&hdr);
	in_bytes(&hdr, &fz.nh, sizeof(fz.nh));
	(void)in_u32(&hdr);

	ops.p = data + (size < FZ_HDR_LEN ? size : FZ_HDR_LEN);
	ops.n = size > FZ_HDR_LEN ? size - FZ_HDR_LEN : 0;
	if (ops.n > ops_len)
		ops.n = ops_len;
	ops.off = 0;
	if (size > FZ_HDR_LEN + (size_t)ops_len) {
		blob = data + FZ_HDR_LEN + ops_len;
		blob_len = size - FZ_HDR_LEN - ops_len;
	}

	fz.indirect = feat & 1;
	fz.event_idx = feat & 2;
	fz.mrg = feat & 4;
	fz.hdr_len = feat & 8 ? VDP_NET_HDR_LEN_MRG : VDP_NET_HDR_LEN_LEGACY;
	fz.batch = feat & 16;
	fz.in_order = feat & 32;

	memset(&fz.m, 0, offsetof(struct fz_model, ring));
	fz_setup_memory(&hdr, blob, blob_len, nreg);
	fz_setup_ring();

	FZ_CHECK(vdp_packed_init(&fz.vr, fz.ring, fz.drv_event, fz.dev_event, fz.size,
				 avail_slot, wraps & 1, used_slot, wraps & 2, fz.ids) == 0,
		 "packed_init refused a valid ring of %u", fz.size);
	fz.st = NULL;
	if (feat & 64) {
		static struct vdp_ring_state st;

		vdp_ring_state_reset(&st, &fz.vr, 0, 0, 0);
		fz.st = &st;
	}
	fz_ring_settings();
	fz.ncb = 0;
	fz_check_init();

	fz.m.avail = avail_slot;
	fz.m.avail_wrap = wraps & 1;
	fz.m.used = used_slot;
	fz.m.used_wrap = wraps & 2;
	fz.m.sig = used_slot;
	fz.m.sig_wrap = wraps & 2;
	model_burst_begin();
	fz.dpos = avail_slot;
	fz.dwrap = wraps & 1;
	fz.nheld = 0;
	fz.unfetch_ok = false;
	fz.broken_seen = false;
	fz.op = 0;
	check_state("init");

	while (ops.off < ops.n && fz.op < FZ_OPS_MAX) {
		const uint8_t raw = in_u8(&ops), op = raw % OP_NUM;
		bool unfetch_ok = false;

		fz.op++;
		switch (op) {
		case OP_FETCH_READ: {
			const uint8_t a = in_u8(&ops);
			enum vdp_fetch r = fz_fetch(VDP_DIR_READ, &c, &rc);

			if (r == VDP_FETCH_OK) {
				check_chain_read(&c, &rc, a);
				held_add(&c, 0);
				unfetch_ok = true;
			}
			check_state("fetch read");
			if (r == VDP_FETCH_OK && ((a & 1) || fz.nheld == FZ_HELD_MAX)) {
				held_put(fz.nheld - 1);
				unfetch_ok = false;
			}
			break;
		}
		case OP_FETCH_WRITE: {
			const uint8_t a = in_u8(&ops);
			const uint16_t wlen = in_u16(&ops) % 4096;
			enum vdp_fetch r = fz_fetch(VDP_DIR_WRITE, &c, &rc);
			const uint8_t *src = fz.pattern + a;
			uint32_t wr, mwr;

			if (r == VDP_FETCH_OK) {
				wr = vdp_chain_write(&c, a * 5u, src, wlen);
				mwr = model_chain_write(&rc, a * 5u, src, wlen);
				FZ_CHECK(wr == mwr, "op %u: chain_write(off %u, len %u) of %u "
					 "bytes wrote %u, model %u", fz.op, a * 5u, wlen, c.len,
					 wr, mwr);
				check_memory("chain_write");
				held_add(&c, wr);
				unfetch_ok = true;
			}
			check_state("fetch write");
			if (r == VDP_FETCH_OK && ((a & 1) || fz.nheld == FZ_HELD_MAX)) {
				held_put(fz.nheld - 1);
				unfetch_ok = false;
			}
			break;
		}
		case OP_ENQUEUE: {
			const uint16_t flen = in_u16(&ops);
			const uint8_t cut = in_u8(&ops);

			fz_frame(fz_frame_len(flen), cut, nframes++);
			break;
		}
		case OP_PUT: {
			const uint8_t k = in_u8(&ops);

			if (fz.nheld != 0 && !fz.vr.broken)
				held_put(k % fz.nheld);
			break;
		}
		case OP_UNFETCH:
			if (fz.unfetch_ok && !fz.vr.broken) {
				const struct fz_held h = fz.held[--fz.nheld];
				struct vdp_chain u = { .id = h.id, .ndesc = h.ndesc };

				vdp_vq_unfetch(&fz.vr, &u);
				model_unfetch(h.id, h.ndesc);
				check_state("unfetch");
			}
			break;
		case OP_PUBLISH:
			fz_publish();
			break;
		case OP_BURST:
			if (raw & 0x80) {
				fz_reload();
				break;
			}
			vdp_vring_burst_begin(&fz.vr);
			model_burst_begin();
			check_state("burst");
			break;
		case OP_SUPPRESS:
			if (raw & 0x80) {
				/* rx interrupt mode: kicks asked for, the ring
				 * looked at again; a broken ring is neither
				 * written nor waited on */
				const bool was_broken = fz.m.broken;
				const bool more = vdp_vq_enable_kicks(&fz.vr);

				if (!was_broken) {
					fz.m.dev_event.flags = fz.event_idx ? VDP_PEVENT_DESC :
							       VDP_PEVENT_ENABLE;
					fz.m.dev_event.off_wrap = fz.event_idx ?
						(uint16_t)(fz.m.avail | (fz.m.avail_wrap ? 0x8000u : 0)) :
						VDP_PEVENT_OURS;
				}
				FZ_CHECK(more == (!was_broken &&
						  ref_avail(fz.m.ring[fz.m.avail].flags, fz.m.avail_wrap)),
					 "op %u: enable_kicks says %d", fz.op, more);
				check_state("enable_kicks");
				vdp_vq_disable_kicks(&fz.vr);
				if (!fz.m.broken)
					fz.m.dev_event.flags = VDP_PEVENT_DISABLE;
				check_state("disable_kicks");
				break;
			}
			vdp_vq_suppress_kicks(&fz.vr);
			fz.m.dev_event.flags = VDP_PEVENT_DISABLE;
			check_state("suppress");
			break;
		case OP_COUNT: {
			uint16_t n = vdp_vq_avail(&fz.vr);
			uint16_t mn = !fz.m.broken &&
				      ref_avail(fz.m.ring[fz.m.avail].flags, fz.m.avail_wrap);

			FZ_CHECK(n == mn, "op %u: avail_count %u, model %u", fz.op, n, mn);
			check_state("avail_count");
			break;
		}
		case OP_POST:
			guest_post(&ops);
			break;
		case OP_SLOT: {
			const uint16_t s = in_u16(&ops) % fz.size;
			const uint64_t addr = in_u64(&ops);
			const uint32_t len = in_u32(&ops);
			const uint16_t id = in_u16(&ops), flags = in_u16(&ops);

			guest_slot(s, addr, len, id, flags);
			break;
		}
		case OP_FLIP: {
			const uint16_t s = in_u16(&ops) % fz.size, x = in_u16(&ops);

			fz.ring[s].flags ^= x;
			fz.m.ring[s].flags ^= x;
			break;
		}
		case OP_EVENT:
			fz.drv_written.off_wrap = in_u16(&ops);
			fz.drv_written.flags = in_u16(&ops);
			*fz.drv_event = fz.drv_written;
			break;
		case OP_TABLE: {
			const uint8_t treg = in_u8(&ops);
			const uint16_t toff = in_u16(&ops);
			const uint32_t n = 1 + in_u16(&ops) % FZ_TABLE_MAX;
			const uint8_t kind = in_u8(&ops), breg = in_u8(&ops);
			const uint16_t boff = in_u16(&ops), blen = in_u16(&ops);
			const uint16_t stride = in_u16(&ops);

			guest_table(guest_gpa(treg, toff), n, kind, guest_gpa(breg, boff), blen,
				    stride);
			break;
		}
		case OP_SEEK:
			fz.dpos = in_u16(&ops) % fz.size;
			fz.dwrap = in_u8(&ops) & 1;
			break;
		}
		/* guest operations leave the unfetch possible */
		if (op < OP_POST)
			fz.unfetch_ok = unfetch_ok;
#ifdef FZ_TRACE
		fprintf(stderr, "op %u (%u): avail %u/%d used %u/%d held %u broken %d "
			"budget %u/%u pending %u kept %u:", fz.op, op, fz.vr.last_avail,
			fz.vr.avail_wrap, fz.vr.used_idx, fz.vr.used_wrap, fz.nheld, fz.vr.broken,
			fz.vr.budget_desc, fz.vr.budget_bad, fz.vr.used_pending, fz.vr.nshadow);
		for (int e = VDP_ERR_FIRST; e < VDP_ERR_MAX; e++)
			if (fz.vr.err[e] != 0)
				fprintf(stderr, " %s=%llu", vdp_err_names[e],
					(unsigned long long)fz.vr.err[e]);
		fputc('\n', stderr);
#endif
	}
	FZ_CHECK(vdp_vq_frame_fn(&fz.vr) == fz.frame,
		 "the frame function of the ring changed without a ring load");
	check_state("end");
	check_ring("end", true);
	check_memory("end");
	return 0;
}
