/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest-side packed-ring driver for tests: see guest_packed.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest_packed.h"

int
guest_packed_init(struct guest_packed *g, struct guest_mem *m, uint32_t size,
		  uint16_t start_slot, bool start_wrap)
{
	memset(g, 0, sizeof(*g));
	if (size == 0 || size > VDP_RING_SIZE_MAX || start_slot >= size)
		return -EINVAL;
	g->m = m;
	g->size = (uint16_t)size;
	g->ring_gpa = guest_alloc(m, sizeof(struct vdp_pdesc) * size, 16);
	g->driver_event_gpa = guest_alloc(m, sizeof(struct vdp_pevent), 4);
	g->device_event_gpa = guest_alloc(m, sizeof(struct vdp_pevent), 4);
	g->indirect_gpa = guest_alloc(m, (size_t)size * GUEST_INDIRECT_MAX *
				      sizeof(struct vdp_pdesc), 16);
	if (g->ring_gpa == 0 || g->driver_event_gpa == 0 || g->device_event_gpa == 0 ||
	    g->indirect_gpa == 0)
		return -ENOMEM;
	g->ring = guest_ptr(m, g->ring_gpa);
	g->driver_event = guest_ptr(m, g->driver_event_gpa);
	g->device_event = guest_ptr(m, g->device_event_gpa);

	g->free_ids = calloc(size, sizeof(uint16_t));
	g->id_slots = calloc(size, sizeof(uint16_t));
	g->pending_slot = calloc(size, sizeof(uint16_t));
	g->pending_flags = calloc(size, sizeof(uint16_t));
	g->slot_id = calloc(size, sizeof(uint16_t));
	g->freed = calloc(size, sizeof(uint16_t));
	if (g->freed == NULL ||
	    g->free_ids == NULL || g->id_slots == NULL || g->pending_slot == NULL ||
	    g->pending_flags == NULL || g->slot_id == NULL) {
		guest_packed_fini(g);
		return -ENOMEM;
	}
	/* Hand out low ids first. */
	for (uint32_t i = 0; i < size; i++)
		g->free_ids[i] = (uint16_t)(size - 1 - i);
	g->nfree_ids = (uint16_t)size;
	g->nfree = (uint16_t)size;

	/* As a ring used in order up to here: this lap's used descriptors
	 * before start_slot, the previous lap's after. */
	for (uint32_t i = 0; i < size; i++)
		g->ring[i].flags = guest_packed_used_bits(i < start_slot ? start_wrap :
							  !start_wrap);
	g->avail_slot = g->used_slot = g->kick_slot = start_slot;
	g->avail_wrap = g->used_wrap = g->kick_wrap = start_wrap;
	return 0;
}

void
guest_packed_fini(struct guest_packed *g)
{
	free(g->free_ids);
	free(g->id_slots);
	free(g->pending_slot);
	free(g->slot_id);
	free(g->freed);
	free(g->pending_flags);
	memset(g, 0, sizeof(*g));
}

int
guest_packed_attach(const struct guest_packed *g, struct vdp_vring *vr,
		    uint64_t *ids_held)
{
	return vdp_packed_init(vr, guest_host_ptr(g->m, g->ring_gpa),
			       guest_host_ptr(g->m, g->driver_event_gpa),
			       guest_host_ptr(g->m, g->device_event_gpa),
			       g->size, g->avail_slot, g->avail_wrap,
			       g->used_slot, g->used_wrap, ids_held);
}

uint16_t
guest_packed_slot_add(const struct guest_packed *g, uint16_t s, bool *wrap, uint32_t n)
{
	uint32_t p = (uint32_t)s + n % (2u * g->size) + (*wrap ? g->size : 0u);

	p %= 2u * g->size;
	*wrap = p >= g->size;
	return (uint16_t)(p % g->size);
}

void
guest_packed_set_desc(struct guest_packed *g, uint16_t slot, uint64_t addr,
		      uint32_t len, uint16_t id, uint16_t flags)
{
	struct vdp_pdesc *d = &g->ring[slot];

	/* Atomic stores: a test thread may rewrite a slot while the device
	 * reads it. */
	__atomic_store_n(&d->addr, addr, __ATOMIC_RELAXED);
	__atomic_store_n(&d->len, len, __ATOMIC_RELAXED);
	__atomic_store_n(&d->id, id, __ATOMIC_RELAXED);
	__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
}

int
guest_packed_alloc_id(struct guest_packed *g)
{
	if (g->nfree_ids == 0)
		return -1;
	return g->free_ids[--g->nfree_ids];
}

uint64_t
guest_packed_table_gpa(const struct guest_packed *g, uint16_t id)
{
	return g->indirect_gpa + (uint64_t)id * GUEST_INDIRECT_MAX * sizeof(struct vdp_pdesc);
}

/* Take id off the free list if it is there (a raw post chose it). */
static void
guest_packed_claim_id(struct guest_packed *g, uint16_t id)
{
	for (uint32_t i = 0; i < g->nfree_ids; i++) {
		if (g->free_ids[i] != id)
			continue;
		memmove(&g->free_ids[i], &g->free_ids[i + 1],
			(g->nfree_ids - i - 1u) * sizeof(g->free_ids[0]));
		g->nfree_ids--;
		return;
	}
}

void
guest_packed_publish(struct guest_packed *g)
{
	/* Release (in guest_packed_set_desc's flags store): everything
	 * written before, the chain's other slots included (2.7.21). */
	while (g->npending > 0) {
		uint16_t i = --g->npending;

		__atomic_store_n(&g->ring[g->pending_slot[i]].flags, g->pending_flags[i],
				 __ATOMIC_RELEASE);
	}
}

/*
 * Write n descriptors at our avail position, the head's flags kept back
 * (pending); every descriptor gets its slot's AVAIL/USED bits. Returns
 * the head slot.
 */
static int
guest_packed_write_chain(struct guest_packed *g, const struct vdp_pdesc *d, uint32_t n)
{
	uint16_t head = g->avail_slot, slot = head;
	bool wrap = g->avail_wrap;

	for (uint32_t i = 0; i < n; i++) {
		uint16_t flags = (uint16_t)((d[i].flags & ~(VDP_PDESC_F_AVAIL | VDP_PDESC_F_USED)) |
					    guest_packed_avail_bits(wrap));

		if (i == 0) {
			/* Everything but the flags now; they make it available. */
			struct vdp_pdesc *h = &g->ring[slot];

			__atomic_store_n(&h->addr, d[i].addr, __ATOMIC_RELAXED);
			__atomic_store_n(&h->len, d[i].len, __ATOMIC_RELAXED);
			__atomic_store_n(&h->id, d[i].id, __ATOMIC_RELAXED);
			g->pending_slot[g->npending] = slot;
			g->pending_flags[g->npending] = flags;
			g->npending++;
		} else {
			guest_packed_set_desc(g, slot, d[i].addr, d[i].len, d[i].id, flags);
		}
		slot = guest_packed_slot_add(g, slot, &wrap, 1);
	}
	g->avail_slot = slot;
	g->avail_wrap = wrap;
	g->nfree = (uint16_t)(g->nfree - n);
	return head;
}

int
guest_packed_post_desc(struct guest_packed *g, const struct vdp_pdesc *d, uint32_t n,
		       bool publish)
{
	uint16_t id;
	int head;

	if (n == 0 || n > g->nfree || g->npending == g->size)
		return -1;
	id = d[n - 1].id;
	head = guest_packed_write_chain(g, d, n);
	g->slot_id[head] = id;
	if (id < g->size) {
		guest_packed_claim_id(g, id);
		g->id_slots[id] = (uint16_t)n;
	}
	if (publish)
		guest_packed_publish(g);
	return head;
}

int
guest_packed_post(struct guest_packed *g, const struct guest_buf *b, uint32_t n,
		  bool indirect, bool publish)
{
	static struct vdp_pdesc d[VDP_RING_SIZE_MAX];  /* 512 KiB: not on the stack */
	uint32_t nslots = indirect ? 1 : n;
	int id;

	if (n == 0 || nslots > g->nfree || g->npending == g->size ||
	    (indirect && n > GUEST_INDIRECT_MAX))
		return -1;
	id = guest_packed_alloc_id(g);
	if (id < 0)
		return -1;
	if (indirect) {
		uint64_t tgpa = guest_packed_table_gpa(g, (uint16_t)id);
		struct vdp_pdesc *t = guest_ptr(g->m, tgpa);

		/* In a table only WRITE counts; the id is reserved (2.7.7). */
		for (uint32_t i = 0; i < n; i++)
			t[i] = (struct vdp_pdesc){ b[i].gpa, b[i].len, 0,
						   (uint16_t)(b[i].write ? VDP_DESC_F_WRITE : 0) };
		d[0] = (struct vdp_pdesc){ tgpa, n * (uint32_t)sizeof(struct vdp_pdesc),
					   (uint16_t)id, VDP_DESC_F_INDIRECT };
	} else {
		for (uint32_t i = 0; i < n; i++)
			d[i] = (struct vdp_pdesc){ b[i].gpa, b[i].len, (uint16_t)id,
						   (uint16_t)((b[i].write ? VDP_DESC_F_WRITE : 0) |
							      (i + 1 < n ? VDP_DESC_F_NEXT : 0)) };
	}
	g->slot_id[guest_packed_write_chain(g, d, nslots)] = (uint16_t)id;
	g->id_slots[id] = (uint16_t)nslots;
	if (publish)
		guest_packed_publish(g);
	return id;
}

/* Is slot s a used descriptor of phase wrap? (acquire: its id and len) */
static bool
guest_packed_is_used(const struct guest_packed *g, uint16_t s, bool wrap, uint16_t *flags)
{
	uint16_t f = __atomic_load_n(&g->ring[s].flags, __ATOMIC_ACQUIRE);

	if (flags != NULL)
		*flags = f;
	return !!(f & VDP_PDESC_F_AVAIL) == wrap && !!(f & VDP_PDESC_F_USED) == wrap;
}

bool
guest_packed_used_ready(const struct guest_packed *g)
{
	return guest_packed_is_used(g, g->used_slot, g->used_wrap, NULL);
}

/*
 * In order: the slots of the chains from slot s (in phase wrap) up to and
 * including the one of id, as posted; *nchains how many. 0 when id is not
 * among the chains out.
 */
static uint32_t
guest_packed_inorder_slots(const struct guest_packed *g, uint16_t s, bool wrap, uint16_t id,
			   uint32_t *nchains)
{
	uint32_t slots = 0;

	*nchains = 0;
	while (slots < g->size) {
		uint16_t h = g->slot_id[s];

		if (h >= g->size || g->id_slots[h] == 0)
			return 0;
		slots += g->id_slots[h];
		++*nchains;
		if (h == id)
			return slots;
		s = guest_packed_slot_add(g, s, &wrap, g->id_slots[h]);
	}
	return 0;
}

/* Chain h is ours again: its id free, its slots past our used position. */
static void
guest_packed_free_chain(struct guest_packed *g, uint16_t h)
{
	uint16_t n = g->id_slots[h];

	g->freed[g->nfreed++] = h;
	g->id_slots[h] = 0;
	g->free_ids[g->nfree_ids++] = h;
	g->nfree = (uint16_t)(g->nfree + n);
	g->used_slot = guest_packed_slot_add(g, g->used_slot, &g->used_wrap, n);
	g->nused++;
}

int
guest_packed_get_used(struct guest_packed *g, uint32_t *id, uint32_t *len)
{
	const struct vdp_pdesc *d = &g->ring[g->used_slot];
	uint16_t flags, i;

	if (!guest_packed_is_used(g, g->used_slot, g->used_wrap, &flags))
		return 0;
	i = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
	*id = i;
	*len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	if (i >= g->size || g->id_slots[i] == 0)
		return -1;
	/* len is reserved without WRITE (2.7.4): a driver does not read it. */
	if (!(flags & VDP_DESC_F_WRITE))
		*len = 0;
	g->nfreed = 0;
	if (g->in_order) {
		uint32_t nch, k;

		if (guest_packed_inorder_slots(g, g->used_slot, g->used_wrap, i, &nch) == 0)
			return -1;
		/* the chains before it are given back with it, each */
		for (k = 0; k + 1 < nch; k++)
			guest_packed_free_chain(g, g->slot_id[g->used_slot]);
	}
	guest_packed_free_chain(g, i);
	g->last_used_flags = flags;
	return 1;
}

uint32_t
guest_packed_used_pending(const struct guest_packed *g)
{
	uint16_t s = g->used_slot;
	bool wrap = g->used_wrap;
	uint32_t n = 0;

	while (n < g->size && guest_packed_is_used(g, s, wrap, NULL)) {
		uint16_t id = __atomic_load_n(&g->ring[s].id, __ATOMIC_RELAXED);

		if (id >= g->size || g->id_slots[id] == 0)
			break;
		if (g->in_order) {
			uint32_t nch, k = guest_packed_inorder_slots(g, s, wrap, id, &nch);

			if (k == 0)
				break;
			s = guest_packed_slot_add(g, s, &wrap, (uint16_t)k);
			n += nch;
			continue;
		}
		s = guest_packed_slot_add(g, s, &wrap, g->id_slots[id]);
		n++;
	}
	return n;
}

void
guest_packed_set_event(struct guest_packed *g, uint16_t flags, uint16_t off, bool wrap)
{
	__atomic_store_n(&g->driver_event->off_wrap, (uint16_t)(off | (wrap ? 0x8000u : 0u)),
			 __ATOMIC_RELAXED);
	/* off_wrap before flags: a device that sees DESC sees where. */
	__atomic_store_n(&g->driver_event->flags, flags, __ATOMIC_RELEASE);
}

bool
guest_packed_enable_cb(struct guest_packed *g, bool event_idx, uint16_t delay)
{
	uint16_t s = g->used_slot;
	bool wrap = g->used_wrap;

	if (event_idx) {
		s = guest_packed_slot_add(g, s, &wrap, delay);
		guest_packed_set_event(g, VDP_PEVENT_DESC, s, wrap);
	} else {
		s = g->used_slot;
		wrap = g->used_wrap;
		__atomic_store_n(&g->driver_event->flags, VDP_PEVENT_ENABLE, __ATOMIC_RELEASE);
	}
	/* Our event store before our look at the ring, as the device orders
	 * its used flags store before its event load: one side sees the
	 * other's store. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !guest_packed_is_used(g, s, wrap, NULL);
}

void
guest_packed_disable_cb(struct guest_packed *g)
{
	__atomic_store_n(&g->driver_event->flags, VDP_PEVENT_DISABLE, __ATOMIC_RELAXED);
}

bool
guest_packed_kick_prepare(struct guest_packed *g, bool event_idx)
{
	const uint32_t circle = 2u * g->size;
	uint32_t old = g->kick_slot + (g->kick_wrap ? g->size : 0u);
	uint32_t new = g->avail_slot + (g->avail_wrap ? g->size : 0u);
	uint16_t flags, off_wrap;
	uint32_t ev;

	g->kick_slot = g->avail_slot;
	g->kick_wrap = g->avail_wrap;
	/* Our flags stores before the device's event structure load. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&g->device_event->flags, __ATOMIC_ACQUIRE);
	if (flags == VDP_PEVENT_DISABLE)
		return false;
	if (flags != VDP_PEVENT_DESC || !event_idx)
		return true;
	off_wrap = __atomic_load_n(&g->device_event->off_wrap, __ATOMIC_RELAXED);
	ev = (off_wrap & 0x7fffu) + ((off_wrap & 0x8000u) ? g->size : 0u);
	/* ev in [old, new) on the circle of 2 * size positions */
	return (new + circle - ev - 1u) % circle < (new + circle - old) % circle;
}
