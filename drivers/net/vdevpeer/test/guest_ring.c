/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest-side split-ring driver for tests and benchmarks: see guest_ring.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_ring.h"

static size_t
page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

int
guest_mem_init(struct guest_mem *m, uint64_t base, size_t size1, size_t size2)
{
	size_t sizes[2] = { size1, size2 };

	return guest_mem_init_regions(m, base, sizes, size2 != 0 ? 2 : 1, 0);
}

int
guest_mem_init_regions(struct guest_mem *m, uint64_t base, const size_t *sizes,
		       uint32_t n, unsigned int flags)
{
	const bool one_view = (flags & GUEST_MEM_ONE_VIEW) != 0;
	size_t pg = page_size();
	size_t off_g = 0, off_h = pg;
	int err;

	memset(m, 0, sizeof(*m));
	for (uint32_t i = 0; i < GUEST_MAX_REGIONS; i++)
		m->fd[i] = -1;
	if (n == 0 || n > GUEST_MAX_REGIONS || base % pg != 0 ||
	    (flags & ~GUEST_MEM_ONE_VIEW) != 0)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		if (sizes[i] == 0 || sizes[i] % pg != 0)
			return -EINVAL;
		m->gva_len += sizes[i];
	}
	m->nregions = n;
	/* Host view: guard, region 1, guard, region 2, guard, ... */
	m->host_len = one_view ? 0 : pg + m->gva_len + n * pg;

	m->gva = mmap(NULL, m->gva_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->gva == MAP_FAILED)
		goto fail_errno;
	if (!one_view) {
		m->host_base = mmap(NULL, m->host_len, PROT_NONE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m->host_base == MAP_FAILED) {
			m->host_base = NULL;
			goto fail_errno;
		}
	}

	for (uint32_t i = 0; i < n; i++) {
		static const char *const names[] = {
			"guest-ram0", "guest-ram1", "guest-ram2", "guest-ram3",
			"guest-ram4", "guest-ram5", "guest-ram6", "guest-ram7",
		};
		_Static_assert(sizeof(names) / sizeof(names[0]) == GUEST_MAX_REGIONS,
			       "one memfd name per region");
		uint8_t *hva;
		void *p;

		m->fd[i] = memfd_create(names[i], MFD_CLOEXEC);
		if (m->fd[i] < 0)
			goto fail_errno;
		if (ftruncate(m->fd[i], (off_t)sizes[i]) != 0)
			goto fail_errno;
		p = mmap(m->gva + off_g, sizes[i], PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, m->fd[i], 0);
		if (p == MAP_FAILED)
			goto fail_errno;
		if (one_view) {
			hva = m->gva + off_g;
		} else {
			hva = m->host_base + off_h;
			p = mmap(hva, sizes[i], PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, m->fd[i], 0);
			if (p == MAP_FAILED)
				goto fail_errno;
		}
		m->gpa[i] = base + off_g;
		m->size[i] = sizes[i];
		m->mm.r[i].gpa = m->gpa[i];
		m->mm.r[i].size = sizes[i];
		m->mm.r[i].hva = (uint64_t)(uintptr_t)hva;
		off_g += sizes[i];
		off_h += sizes[i] + pg;
	}
	m->mm.nregions = m->nregions;
	m->brk = base;
	return 0;

fail_errno:
	err = -errno;
	guest_mem_fini(m);
	return err;
}

void
guest_mem_fini(struct guest_mem *m)
{
	for (uint32_t i = 0; i < GUEST_MAX_REGIONS; i++)
		if (m->fd[i] >= 0)
			close(m->fd[i]);
	if (m->gva != NULL && m->gva != MAP_FAILED)
		munmap(m->gva, m->gva_len);
	if (m->host_base != NULL)
		munmap(m->host_base, m->host_len);
	memset(m, 0, sizeof(*m));
	for (uint32_t i = 0; i < GUEST_MAX_REGIONS; i++)
		m->fd[i] = -1;
}

void *
guest_ptr(const struct guest_mem *m, uint64_t gpa)
{
	if (gpa < m->gpa[0] || gpa - m->gpa[0] >= m->gva_len)
		return NULL;
	return m->gva + (gpa - m->gpa[0]);
}

void *
guest_host_ptr(const struct guest_mem *m, uint64_t gpa)
{
	uint64_t len = 1;

	return vdp_gpa_to_hva(&m->mm, gpa, &len);
}

uint64_t
guest_alloc(struct guest_mem *m, size_t len, size_t align)
{
	for (uint32_t i = 0; i < m->nregions; i++) {
		uint64_t end = m->gpa[i] + m->size[i];
		uint64_t at = m->brk < m->gpa[i] ? m->gpa[i] : m->brk;

		at = (at + align - 1) & ~(uint64_t)(align - 1);
		/* Never straddle regions: the device needs tables whole. */
		if (at >= end || len > end - at)
			continue;
		m->brk = at + len;
		memset(guest_ptr(m, at), 0, len);
		return at;
	}
	return 0;
}

int
guest_ring_init(struct guest_ring *g, struct guest_mem *m, uint16_t size,
		uint16_t start_idx)
{
	memset(g, 0, sizeof(*g));
	if (size == 0 || (size & (size - 1)) != 0)
		return -EINVAL;
	g->m = m;
	g->size = size;
	g->desc_gpa = guest_alloc(m, sizeof(struct vdp_desc) * size, 16);
	g->avail_gpa = guest_alloc(m, sizeof(struct vdp_avail) + 2u * (size + 1u), 2);
	g->used_gpa = guest_alloc(m, sizeof(struct vdp_used) +
				  sizeof(struct vdp_used_elem) * size + 2u, 4);
	g->indirect_gpa = guest_alloc(m, (size_t)size * GUEST_INDIRECT_MAX *
				      sizeof(struct vdp_desc), 16);
	if (g->desc_gpa == 0 || g->avail_gpa == 0 || g->used_gpa == 0 ||
	    g->indirect_gpa == 0)
		return -ENOMEM;
	g->desc = guest_ptr(m, g->desc_gpa);
	g->avail = guest_ptr(m, g->avail_gpa);
	g->used = guest_ptr(m, g->used_gpa);

	g->free_stack = calloc(size, sizeof(uint16_t));
	g->chain_next = calloc(size, sizeof(uint16_t));
	g->chain_ndesc = calloc(size, sizeof(uint16_t));
	if (g->free_stack == NULL || g->chain_next == NULL || g->chain_ndesc == NULL) {
		guest_ring_fini(g);
		return -ENOMEM;
	}
	/* Hand out low indexes first. */
	for (uint32_t i = 0; i < size; i++)
		g->free_stack[i] = (uint16_t)(size - 1 - i);
	g->nfree = size;

	g->avail_idx = start_idx;
	g->last_used = start_idx;
	g->avail->idx = start_idx;
	g->used->idx = start_idx;
	return 0;
}

void
guest_ring_fini(struct guest_ring *g)
{
	free(g->free_stack);
	free(g->chain_next);
	free(g->chain_ndesc);
	memset(g, 0, sizeof(*g));
}

int
guest_ring_attach(const struct guest_ring *g, struct vdp_vring *vr)
{
	return vdp_vring_init(vr, guest_host_ptr(g->m, g->desc_gpa),
			      guest_host_ptr(g->m, g->avail_gpa),
			      guest_host_ptr(g->m, g->used_gpa),
			      g->size, g->avail_idx, g->last_used);
}

int
guest_desc_alloc(struct guest_ring *g, uint32_t n, uint16_t *idx)
{
	if (n == 0 || n > g->nfree)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		idx[i] = g->free_stack[--g->nfree];
	for (uint32_t i = 0; i < n; i++) {
		struct vdp_desc *d = &g->desc[idx[i]];

		memset(d, 0, sizeof(*d));
		if (i + 1 < n) {
			d->flags = VDP_DESC_F_NEXT;
			d->next = idx[i + 1];
			g->chain_next[idx[i]] = idx[i + 1];
		}
	}
	g->chain_ndesc[idx[0]] = (uint16_t)n;
	return idx[0];
}

void
guest_ring_publish(struct guest_ring *g)
{
	/* Descriptors and ring entries before the index (virtio 1.1 2.6.13). */
	__atomic_store_n(&g->avail->idx, g->avail_idx, __ATOMIC_RELEASE);
}

void
guest_ring_push_head(struct guest_ring *g, uint16_t head, bool publish)
{
	g->avail->ring[g->avail_idx & (g->size - 1)] = head;
	g->avail_idx++;
	if (publish)
		guest_ring_publish(g);
}

int
guest_ring_post(struct guest_ring *g, const struct guest_buf *b, uint32_t n,
		bool indirect, bool publish)
{
	uint16_t idx[VDP_RING_SIZE_MAX > 256 ? 256 : VDP_RING_SIZE_MAX];
	int head;

	if (n == 0)
		return -1;
	if (indirect) {
		struct vdp_desc *t;
		uint64_t tgpa;

		if (n > GUEST_INDIRECT_MAX)
			return -1;
		head = guest_desc_alloc(g, 1, idx);
		if (head < 0)
			return -1;
		tgpa = g->indirect_gpa +
		       (uint64_t)head * GUEST_INDIRECT_MAX * sizeof(struct vdp_desc);
		t = guest_ptr(g->m, tgpa);
		for (uint32_t i = 0; i < n; i++) {
			t[i].addr = b[i].gpa;
			t[i].len = b[i].len;
			t[i].flags = (uint16_t)((b[i].write ? VDP_DESC_F_WRITE : 0) |
						(i + 1 < n ? VDP_DESC_F_NEXT : 0));
			t[i].next = (uint16_t)(i + 1 < n ? i + 1 : 0);
		}
		g->desc[head].addr = tgpa;
		g->desc[head].len = n * (uint32_t)sizeof(struct vdp_desc);
		g->desc[head].flags = VDP_DESC_F_INDIRECT;
	} else {
		if (n > sizeof(idx) / sizeof(idx[0]))
			return -1;
		head = guest_desc_alloc(g, n, idx);
		if (head < 0)
			return -1;
		for (uint32_t i = 0; i < n; i++) {
			g->desc[idx[i]].addr = b[i].gpa;
			g->desc[idx[i]].len = b[i].len;
			g->desc[idx[i]].flags |= b[i].write ? VDP_DESC_F_WRITE : 0;
		}
	}
	guest_ring_push_head(g, (uint16_t)head, publish);
	return head;
}

uint16_t
guest_ring_used_pending(const struct guest_ring *g)
{
	return (uint16_t)(__atomic_load_n(&g->used->idx, __ATOMIC_ACQUIRE) -
			  g->last_used);
}

int
guest_ring_get_used(struct guest_ring *g, uint32_t *id, uint32_t *len)
{
	struct vdp_used_elem *e;

	if (guest_ring_used_pending(g) == 0)
		return 0;
	e = &g->used->ring[g->last_used & (g->size - 1)];
	*id = e->id;
	*len = e->len;
	g->last_used++;
	if (*id < g->size && g->chain_ndesc[*id] != 0) {
		uint16_t d = (uint16_t)*id;

		for (uint32_t i = g->chain_ndesc[*id]; i > 0; i--) {
			g->free_stack[g->nfree++] = d;
			d = g->chain_next[d];
		}
		g->chain_ndesc[*id] = 0;
	}
	return 1;
}

int
guest_ring_pop_used(struct guest_ring *g, uint32_t *id, uint32_t *len)
{
	struct vdp_used_elem *e;

	if (guest_ring_used_pending(g) == 0)
		return 0;
	e = &g->used->ring[g->last_used & (g->size - 1)];
	*id = e->id;
	*len = e->len;
	g->last_used++;
	return 1;
}

void
guest_ring_set_used_event(struct guest_ring *g, uint16_t v)
{
	__atomic_store_n(&g->avail->ring[g->size], v, __ATOMIC_RELAXED);
}

void
guest_ring_set_no_interrupt(struct guest_ring *g, bool on)
{
	__atomic_store_n(&g->avail->flags, on ? VDP_AVAIL_F_NO_INTERRUPT : 0,
			 __ATOMIC_RELAXED);
}

uint16_t
guest_ring_used_flags(const struct guest_ring *g)
{
	return __atomic_load_n(&g->used->flags, __ATOMIC_RELAXED);
}

/* avail_event sits right after the used ring's size elements. */
static uint16_t *
guest_ring_avail_event_ptr(const struct guest_ring *g)
{
	return (uint16_t *)(void *)((uint8_t *)g->used + offsetof(struct vdp_used, ring) +
				    (size_t)g->size * sizeof(struct vdp_used_elem));
}

uint16_t
guest_ring_avail_event(const struct guest_ring *g)
{
	return __atomic_load_n(guest_ring_avail_event_ptr(g), __ATOMIC_RELAXED);
}

bool
guest_ring_enable_cb(struct guest_ring *g, bool event_idx, uint16_t delay)
{
	if (event_idx)
		guest_ring_set_used_event(g, (uint16_t)(g->last_used + delay));
	else
		guest_ring_set_no_interrupt(g, false);
	/*
	 * Our used_event / flags store before our used idx load, as the
	 * device orders its used idx store before its used_event / flags
	 * load: one of the two sides sees the other's store, so either we
	 * see the new elements here or the device sees our request and calls.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return guest_ring_used_pending(g) <= (event_idx ? delay : 0);
}

void
guest_ring_disable_cb(struct guest_ring *g, bool event_idx)
{
	if (event_idx)
		guest_ring_set_used_event(g, (uint16_t)(g->last_used + 0x8000u));
	else
		guest_ring_set_no_interrupt(g, true);
}

bool
guest_ring_need_kick(const struct guest_ring *g, uint16_t old, bool event_idx)
{
	uint16_t new = g->avail_idx;

	/* Our avail idx store before the avail_event / flags load: the same
	 * pairing as enable_cb, the other way round. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (event_idx) {
		uint16_t ev = guest_ring_avail_event(g);

		return (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
	}
	return !(guest_ring_used_flags(g) & VDP_USED_F_NO_NOTIFY);
}

const struct guest_one_buf guest_one_buf_good[GUEST_ONE_BUF_GOOD] = {
	{ 12, VDP_DIR_READ, false, "TX buffer of exactly the header" },
	{ 12 + VDP_TX_FRAME_MAX, VDP_DIR_READ, false, "TX buffer of the largest frame" },
	{ 1, VDP_DIR_WRITE, false, "RX buffer of 1 byte" },
	{ 300, VDP_DIR_READ, true, "TX buffer across two regions" },
	{ 300, VDP_DIR_WRITE, true, "RX buffer across two regions" },
};

const struct guest_one_bad guest_one_buf_bad[GUEST_ONE_BUF_BAD] = {
	{ GUEST_AT_FRESH, 0, 0, 0, VDP_DIR_READ, VDP_ERR_ZERO_LEN, "buffer of length 0" },
	{ GUEST_AT_FRESH, 0, 64, VDP_DESC_F_WRITE, VDP_DIR_READ, VDP_ERR_BAD_DESC,
	  "writable buffer as a TX chain" },
	{ GUEST_AT_FRESH, 0, 64, 0, VDP_DIR_WRITE, VDP_ERR_BAD_DESC,
	  "read-only buffer as an RX chain" },
	{ GUEST_AT_FRESH, 0, 11, 0, VDP_DIR_READ, VDP_ERR_SHORT_CHAIN,
	  "TX buffer of 11 bytes (header 12)" },
	{ GUEST_AT_FRESH, 0, 12 + VDP_TX_FRAME_MAX + 1, 0, VDP_DIR_READ, VDP_ERR_TOO_BIG,
	  "TX buffer one byte over the largest frame" },
	{ GUEST_AT_ABS, 0x1000, 64, 0, VDP_DIR_READ, VDP_ERR_BAD_ADDR, "buffer below guest memory" },
	{ GUEST_AT_END, 0, 64, 0, VDP_DIR_READ, VDP_ERR_BAD_ADDR, "buffer just past guest memory" },
	{ GUEST_AT_END, 10, 100, 0, VDP_DIR_READ, VDP_ERR_BAD_ADDR,
	  "buffer straddling the end of memory" },
	{ GUEST_AT_ABS, UINT64_MAX - 10, 100, 0, VDP_DIR_READ, VDP_ERR_BAD_ADDR,
	  "TX buffer wrapping 2^64" },
	{ GUEST_AT_ABS, UINT64_MAX - 10, 100, VDP_DESC_F_WRITE, VDP_DIR_WRITE, VDP_ERR_BAD_ADDR,
	  "RX buffer wrapping 2^64" },
};

uint64_t
guest_one_bad_gpa(struct guest_mem *m, const struct guest_one_bad *b)
{
	const uint32_t last = m->nregions - 1;

	if (b->at == GUEST_AT_FRESH)
		return guest_alloc(m, b->len != 0 ? b->len : 64, 8);
	if (b->at == GUEST_AT_END)
		return m->gpa[last] + m->size[last] - b->addr;
	return b->addr;
}
