/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring state that outlives the process. When dpdk-vdevpeer is killed, the
 * VMM cannot ask it where its rings were (GET_VRING_BASE): QEMU falls back
 * to the used index of a split ring (re-sending the frames we still held)
 * and has nothing to fall back on for a packed ring (the guest's network
 * never comes back). So each port keeps its rings' positions in a file of
 * its own, which the next incarnation serving the same socket reads once
 * before the VMM's positions are trusted.
 *
 *   <DPDK runtime base>/vdevpeer-state/<socket path, '/' as %2F>.state
 *   (/var/run/dpdk/vdevpeer-state/... as root)
 *
 * The file is mapped shared; each ring's lcore stores into its part (a
 * few relaxed stores per burst, one more per used element on a packed
 * ring: vdp_ring.h), so whatever the process had done when it died is in
 * the page. A clean close removes the file; a crash leaves it, and the
 * next open takes a copy of what it held before starting its own.
 *
 * Which state is used: the ring the VMM loads must be the same ring
 * (layout, size, the guest physical addresses of its three tables) and
 * its numbers must fit it (vdp_vq_resume checks them against the ring as
 * the guest left it); otherwise the VMM's positions stand
 * (vmm_resume_refused). A stale file (a guest that reset its device while
 * we were down and put its new ring at the same addresses) is the case
 * this cannot tell apart: docs/user-guide.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>

#include "vdevpeer.h"
#include "vdevpeer_state.h"

#define VDP_STATE_MAGIC 0x6574617473706476ull   /* "vdpstate" */
#define VDP_STATE_VERSION 1u
#define VDP_STATE_DIR "vdevpeer-state"
#define VDP_STATE_PEER_MAX sizeof(((struct vdp_args *)0)->peer)

/* The file. */
struct vdp_state_map {
	uint64_t magic;
	uint32_t version;
	uint32_t nvrings;
	uint64_t ring_bytes;       /* sizeof(struct vdp_ring_state) */
	char peer[VDP_STATE_PEER_MAX];
	uint32_t valid[VDP_MAX_VRINGS]; /* ring[v] describes a ring */
	struct vdp_ring_state ring[VDP_MAX_VRINGS];
};

/* The process's handle. */
struct vdp_state {
	char path[PATH_MAX];
	struct vdp_state_map *map;
	struct vdp_ring_state *old[VDP_MAX_VRINGS]; /* a crashed one's, unused yet */
};

/* The socket path as one file name: '%' and '/' escaped. */
static int
state_name(const char *peer, char *buf, size_t len)
{
	size_t n = 0;

	for (const char *c = peer; *c != '\0'; c++) {
		int w = *c == '/' ? snprintf(buf + n, len - n, "%%2F") :
			*c == '%' ? snprintf(buf + n, len - n, "%%25") :
				    snprintf(buf + n, len - n, "%c", *c);

		if (w < 0 || (size_t)w >= len - n)
			return -ENAMETOOLONG;
		n += (size_t)w;
	}
	return snprintf(buf + n, len - n, ".state") < (int)(len - n) ? 0 : -ENAMETOOLONG;
}

static int
state_path(const struct vdp_port *p, char *path, size_t len)
{
	char rt[PATH_MAX], dir[PATH_MAX], name[NAME_MAX + 1];
	int n;

	/* the runtime directory's parent: the same for every --file-prefix
	 * (dirname works in place) */
	snprintf(rt, sizeof(rt), "%s", rte_eal_get_runtime_dir());
	if (state_name(p->args.peer, name, sizeof(name)) != 0)
		return -ENAMETOOLONG;
	n = snprintf(dir, sizeof(dir), "%s/" VDP_STATE_DIR, dirname(rt));
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	n = snprintf(path, len, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* What a crashed incarnation left in fd (read, not mapped: it is
 * rewritten at once), kept for the rings' first loads. */
static void
state_take_over(struct vdp_port *p, struct vdp_state *h, int fd)
{
	struct vdp_state_map *old;
	struct stat sb;
	unsigned int n = 0;

	if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size != sizeof(*old))
		return;
	old = mmap(NULL, sizeof(*old), PROT_READ, MAP_PRIVATE, fd, 0);
	if (old == MAP_FAILED)
		return;
	if (old->magic == VDP_STATE_MAGIC && old->version == VDP_STATE_VERSION &&
	    old->nvrings == VDP_MAX_VRINGS && old->ring_bytes == sizeof(old->ring[0]) &&
	    strncmp(old->peer, p->args.peer, sizeof(old->peer)) == 0) {
		for (unsigned int v = 0; v < VDP_MAX_VRINGS; v++) {
			if (!old->valid[v])
				continue;
			h->old[v] = malloc(sizeof(old->ring[v]));
			if (h->old[v] == NULL)
				continue;
			memcpy(h->old[v], &old->ring[v], sizeof(old->ring[v]));
			n++;
		}
	}
	munmap(old, sizeof(*old));
	if (n != 0)
		VDP_LOG(INFO, p, "ring state of an earlier process found for %u vring(s): "
			"the rings resume from it when the VMM loads them", n);
}

void
vdp_state_open(struct vdp_port *p)
{
	struct vdp_state *h;
	int fd, ret;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return;
	ret = state_path(p, h->path, sizeof(h->path));
	if (ret != 0) {
		VDP_LOG(WARNING, p, "no ring state kept (%s): a crash loses the "
			"rings' positions", strerror(-ret));
		free(h);
		return;
	}
	fd = open(h->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		VDP_LOG(WARNING, p, "no ring state kept (%s: %s)", h->path, strerror(errno));
		free(h);
		return;
	}
	state_take_over(p, h, fd);
	/* ours from here: a fresh file of the right size (sparse) */
	if (ftruncate(fd, 0) != 0 || ftruncate(fd, sizeof(*h->map)) != 0) {
		VDP_LOG(WARNING, p, "no ring state kept (%s: %s)", h->path, strerror(errno));
		goto fail;
	}
	h->map = mmap(NULL, sizeof(*h->map), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h->map == MAP_FAILED) {
		VDP_LOG(WARNING, p, "no ring state kept (mmap: %s)", strerror(errno));
		goto fail;
	}
	close(fd);
	snprintf(h->map->peer, sizeof(h->map->peer), "%s", p->args.peer);
	h->map->nvrings = VDP_MAX_VRINGS;
	h->map->ring_bytes = sizeof(h->map->ring[0]);
	h->map->version = VDP_STATE_VERSION;
	h->map->magic = VDP_STATE_MAGIC;
	p->state = h;
	return;
fail:
	close(fd);
	unlink(h->path);
	for (unsigned int v = 0; v < VDP_MAX_VRINGS; v++)
		free(h->old[v]);
	free(h);
}

void
vdp_state_close(struct vdp_port *p)
{
	struct vdp_state *h = p->state;

	if (h == NULL)
		return;
	p->state = NULL;
	munmap(h->map, sizeof(*h->map));
	unlink(h->path);
	for (unsigned int v = 0; v < VDP_MAX_VRINGS; v++)
		free(h->old[v]);
	free(h);
}

/* Resume q's new ring from a crashed incarnation's state for vring v. */
static void
state_resume(struct vdp_port *p, struct vdp_queue *q, uint16_t v,
	     const struct vdp_ring_state *old, uint64_t desc_gpa,
	     uint64_t driver_gpa, uint64_t device_gpa)
{
	const uint16_t vmm_avail = vdp_vq_avail_base(&q->vr);
	const uint16_t vmm_used = vdp_vq_used_base(&q->vr);
	struct vdp_resume r;

	if (old->desc_gpa != desc_gpa || old->driver_gpa != driver_gpa ||
	    old->device_gpa != device_gpa) {
		VDP_LOG(INFO, p, "vring %u: another ring than the earlier process's: "
			"the VMM's positions stand", v);
		return;
	}
	vdp_vq_resume(&q->vr, old, q->is_rx, &r);
	if (!r.resumed) {
		VDP_CNT_INC(p->stat[VDP_PS_RESUME_REFUSED]);
		VDP_LOG(WARNING, p, "vring %u: the earlier process's state does not fit "
			"the ring (%s): the VMM's positions stand", v, r.why);
		return;
	}
	VDP_CNT_INC(p->stat[VDP_PS_RESUMED]);
	VDP_CNT_ADD(p->stat[VDP_PS_RESUME_DROPPED], r.completed);
	VDP_LOG(INFO, p, "vring %u resumed where the earlier process left it: "
		"avail 0x%04x used 0x%04x (the VMM said 0x%04x 0x%04x), %u held "
		"frame(s) given back (saved: used 0x%" PRIx64 ", avail 0x%x)", v, r.avail, r.used, vmm_avail, vmm_used,
		r.completed, old->used, old->avail);
}

/* The guest physical address of one of our addresses into guest memory. */
static uint64_t
hva_to_gpa(const struct vdp_memmap *mm, const void *hva)
{
	const uint64_t a = (uint64_t)(uintptr_t)hva;

	for (uint32_t i = 0; i < mm->nregions && i < VDP_MAX_REGIONS; i++)
		if (a >= mm->r[i].hva && a - mm->r[i].hva < mm->r[i].size)
			return mm->r[i].gpa + (a - mm->r[i].hva);
	return UINT64_MAX;
}

void
vdp_state_ring_loaded(struct vdp_port *p, struct vdp_queue *q, uint16_t v,
		      bool same_ring)
{
	struct vdp_state *h = p->state;
	const struct vdp_vring *vr = &q->vr;
	const bool packed = vr->layout == VDP_LAYOUT_PACKED;
	struct vdp_ring_state *st;
	uint64_t desc_gpa, driver_gpa, device_gpa;

	if (h == NULL || v >= VDP_MAX_VRINGS || q->mm == NULL)
		return;
	/* which ring: its tables' guest physical addresses */
	desc_gpa = hva_to_gpa(q->mm, packed ? (void *)vr->pdesc : (void *)vr->desc);
	driver_gpa = hva_to_gpa(q->mm, packed ? (void *)vr->driver_event : (void *)vr->avail);
	device_gpa = hva_to_gpa(q->mm, packed ? (void *)vr->device_event : (void *)vr->used);
	st = &h->map->ring[v];
	if (!same_ring && h->old[v] != NULL) {
		state_resume(p, q, v, h->old[v], desc_gpa, driver_gpa, device_gpa);
		free(h->old[v]);
		h->old[v] = NULL;
	}
	if (same_ring && h->map->valid[v]) {
		/* the same ring, our positions: only its addresses moved */
		st->desc_gpa = desc_gpa;
		st->driver_gpa = driver_gpa;
		st->device_gpa = device_gpa;
	} else {
		__atomic_store_n(&h->map->valid[v], 0, __ATOMIC_RELEASE);
		vdp_ring_state_reset(st, &q->vr, desc_gpa, driver_gpa, device_gpa);
		__atomic_store_n(&h->map->valid[v], 1, __ATOMIC_RELEASE);
	}
	vdp_ring_state_attach(&q->vr, st);
}
