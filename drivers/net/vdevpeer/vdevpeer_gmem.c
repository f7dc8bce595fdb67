/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vdevpeer: guest memory, mapped by us.
 *
 * librte_vhost maps a guest's memory table for its own use and unmaps it
 * when the VMM sends a new table or goes away, on its own thread. Our data
 * path never uses that mapping: every memory table is mapped again here
 * (same files, same offsets) into a struct vdp_gmap, and the rings and
 * buffers are reached through it. So
 *  - what librte_vhost unmaps can never be under a burst: a queue whose
 *    lcore did not leave its burst in time keeps its map until it leaves;
 *  - zero-copy buffers handed to the application keep their map until
 *    the last of them is freed (vdevpeer_zcopy.c);
 *  - how many maps a port has is bounded, counted, and each is unmapped as
 *    soon as nothing points into it.
 * A map is never changed once queues use it; a new table gives a new map
 * and the old one is retired.
 *
 * A VMM can still shrink a memory file after the table was accepted
 * (ftruncate); touching a mapped page past the new end is a SIGBUS, for us
 * and for librte_vhost. Files whose owner sealed them against shrinking
 * (F_SEAL_SHRINK, QEMU's memfd backend does by default) cannot do that;
 * for the others a SIGBUS handler contains the fault: when the faulting
 * address lies in a mapping of a file some VMM gave us as guest memory,
 * the page is replaced by a private zero page (the access then goes on),
 * the file is marked and the watchdog fails the ports using it. Anything
 * else is left to the handler that was there before (or the default: the
 * process dies, as it would have without us).
 *
 * Concurrency: vdp_gmem_lock protects the map list, maps' reference
 * counts and the guest file registry; the SIGBUS handler reads the
 * registry without it (entries are published with release stores, and a
 * stale read only means a fault is not contained).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_memory.h>
#include <rte_vhost.h>
#include <ethdev_driver.h>

#include "vdevpeer.h"
#include "vdevpeer_gmem.h"
#include "vdevpeer_port.h"
#include "vdp_sigbus.h"

pthread_mutex_t vdp_gmem_lock = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, vdp_gmap) gmaps = TAILQ_HEAD_INITIALIZER(gmaps);
static uint64_t gmap_next_id = 1;

/* ---- guest files, and the SIGBUS handler ---- */

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

/* (dev, ino) of the files behind this process's own DPDK memory. */
struct own_files {
	const struct vdp_gfile_id *id;
	int last_fd;
	bool found;
};

static int
own_memseg(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	struct own_files *o = arg;
	struct stat st;
	int fd;

	if (msl->external)
		return 0;
	fd = rte_memseg_get_fd_thread_unsafe(ms);
	if (fd < 0 || fd == o->last_fd)   /* single-file segments: once per list */
		return 0;
	o->last_fd = fd;
	if (fstat(fd, &st) == 0 && st.st_dev == o->id->dev && st.st_ino == o->id->ino) {
		o->found = true;
		return 1;
	}
	return 0;
}

/*
 * What a file a VMM gave us is: its identity and size (fstat), the file
 * system it is on (tmpfs, which memfds are on, and hugetlbfs are guest
 * memory; anything else - a disk file, a device's resource file in sysfs -
 * is not), its page size (the huge page size on hugetlbfs, else the
 * system's: st_blksize is an I/O size, not a page size), and whether it is
 * this process's own memory (a VMM able to open our hugepage files would
 * hand us our own heap as "guest memory").
 */
int
vdp_gfile_id(int fd, struct vdp_gfile_id *id)
{
	struct own_files own;
	struct statfs sf;
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (fstat(fd, &st) != 0)
		return -errno;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = (uint64_t)st.st_size;
	id->regular = S_ISREG(st.st_mode);
	id->pgsz = (uint32_t)sysconf(_SC_PAGESIZE);
	id->fs = VDP_GFILE_OTHER;
	if (!id->regular || fstatfs(fd, &sf) != 0)
		return 0;
	if ((unsigned long)sf.f_type == TMPFS_MAGIC) {
		id->fs = VDP_GFILE_TMPFS;
	} else if ((unsigned long)sf.f_type == HUGETLBFS_MAGIC) {
		id->fs = VDP_GFILE_HUGETLBFS;
		id->pgsz = (uint32_t)sf.f_bsize;
	}
	/*
	 * Our own memory is anonymous (--no-huge) or in hugetlbfs files
	 * (DPDK's hugepage files, its --in-memory memfds): only a hugetlbfs
	 * file can be ours. Not walked for the others: with --no-huge -m 1024
	 * the walk visits 262144 segments (~30 ms), at every ring-changing
	 * message.
	 */
	if (id->fs != VDP_GFILE_HUGETLBFS)
		return 0;
	own = (struct own_files){ .id = id, .last_fd = -1 };
	rte_memseg_walk(own_memseg, &own);
	id->own = own.found;
	return 0;
}

/* Watch the file for SIGBUS containment (vdp_sigbus.c); id->reg says
 * whether it is covered (the table has room). */
void
vdp_gfile_ref(struct vdp_gfile_id *id)
{
	id->reg = vdp_sigbus_watch(id->dev, id->ino, id->pgsz);
	if (!id->reg)
		VDP_LOG_NOPORT(WARNING, "more than %u guest memory files: a shrunk one "
			       "past that is not contained (SIGBUS)", VDP_SIGBUS_FILES);
}

/* Only what vdp_gfile_ref covered. */
void
vdp_gfile_unref(struct vdp_gfile_id *id)
{
	if (id->reg)
		vdp_sigbus_unwatch(id->dev, id->ino);
	id->reg = false;
}

bool
vdp_sigbus_guard(void)
{
	static bool said;
	int ret = vdp_sigbus_install();

	if (ret != 0 && !said) {
		said = true;
		VDP_LOG_NOPORT(WARNING, "cannot install the SIGBUS handler (%s): a "
			       "VMM shrinking a memory file can crash the process",
			       strerror(-ret));
	}
	return ret == 0;
}

/* ---- maps ---- */

/* Unmap from the DMA devices, unregister, unmap. Caller: no lock needed. */
static void
gmap_unmap(struct vdp_gmap *m)
{
	for (uint16_t d = 0; d < m->ndev; d++) {
		uint16_t port = m->dev[d].port;

		/* the device may have gone: unmap only from the one we mapped */
		if (!rte_eth_dev_is_valid_port(port) ||
		    rte_eth_devices[port].device != m->dev[d].dev)
			continue;
		for (uint32_t i = 0; i < m->nregions; i++)
			if (m->dev[d].regions & (1u << i))
				rte_dev_dma_unmap(m->dev[d].dev, m->r[i].base,
						  (uint64_t)(uintptr_t)m->r[i].base,
						  m->r[i].len);
	}
	for (uint32_t i = 0; i < m->nregions; i++) {
		if (m->r[i].extmem)
			rte_extmem_unregister(m->r[i].base, m->r[i].len);
		if (m->r[i].base != NULL)
			munmap(m->r[i].base, m->r[i].len);
	}
}

/* Caller holds vdp_gmem_lock; m is off the list. */
static void
gmap_free_locked(struct vdp_gmap *m)
{
	for (uint32_t i = 0; i < m->nregions; i++)
		if (m->r[i].base != NULL)
			vdp_gfile_unref(&m->r[i].id);
	if (m->port != NULL) {
		m->port->nb_gmaps--;
		if (m->zc)
			m->port->nb_gmaps_zc--;
	}
}

static void
gmap_free(struct vdp_gmap *m)
{
	gmap_unmap(m);
	VDP_LOG_NOPORT(INFO, "%s: guest memory mapping %" PRIu64 " unmapped (nothing "
		       "points into it any more)", m->name, m->id);
	free(m);
}

/* zero-copy's "buffers still point into m" (vdp_gmem_set_holder) */
static bool (*gmem_holds)(const struct vdp_gmap *m);

void
vdp_gmem_set_holder(bool (*holds)(const struct vdp_gmap *m))
{
	pthread_mutex_lock(&vdp_gmem_lock);
	gmem_holds = holds;
	pthread_mutex_unlock(&vdp_gmem_lock);
}

/* Can m go? Caller holds vdp_gmem_lock. */
static bool
gmap_unused(const struct vdp_gmap *m)
{
	return !m->current && m->qrefs == 0 && m->pins == 0 &&
	       (gmem_holds == NULL || !gmem_holds(m));
}

/* Off the list when nothing uses it any more: true, and the caller
 * unmaps it (gmap_free) after dropping vdp_gmem_lock. */
static bool
gmap_drop_locked(struct vdp_gmap *m)
{
	if (!gmap_unused(m))
		return false;
	TAILQ_REMOVE(&gmaps, m, next);
	gmap_free_locked(m);
	return true;
}

/*
 * Map the regions for DMA into every ethdev device on a bus that does DMA
 * (virtual devices do not: skipped).
 */
static int
gmap_dma(struct vdp_port *p, struct vdp_gmap *m)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		struct rte_device *dev = rte_eth_devices[port].device;
		uint16_t d;

		if (dev == NULL || strcmp(rte_bus_name(rte_dev_bus(dev)), "vdev") == 0)
			continue;
		for (d = 0; d < m->ndev; d++)
			if (m->dev[d].dev == dev)
				break;
		if (d < m->ndev)
			continue;
		if (m->ndev == VDP_GMAP_MAX_DMA_DEVS) {
			VDP_LOG(ERR, p, "more than %u DMA devices", VDP_GMAP_MAX_DMA_DEVS);
			return -ENOSPC;
		}
		m->dev[d].port = port;
		m->dev[d].dev = dev;
		m->ndev++;
		for (uint32_t i = 0; i < m->nregions; i++) {
			if (rte_dev_dma_map(dev, m->r[i].base,
					    (uint64_t)(uintptr_t)m->r[i].base,
					    m->r[i].len) == 0) {
				m->dev[d].regions |= 1u << i;
			} else if (rte_errno != ENOTSUP) {
				/* a device that DMAs but cannot reach guest
				 * memory: zero-copy would make it fault */
				VDP_LOG(ERR, p, "cannot map guest memory for DMA "
					"into %s: %s", rte_dev_name(dev),
					rte_strerror(rte_errno));
				return -rte_errno;
			}
		}
	}
	return 0;
}

/*
 * May one more of the port's maps be registered for zero-copy? At most
 * VDP_GMAP_ZC_MAX are (the current one and those older ones zero-copy
 * buffers still point into): a guest flipping its memory table while
 * buffers are held cannot use up the process's memseg lists.
 */
static bool
gmap_zc_room(struct vdp_port *p)
{
	uint32_t n;

	pthread_mutex_lock(&vdp_gmem_lock);
	n = p->nb_gmaps_zc;
	pthread_mutex_unlock(&vdp_gmem_lock);
	if (n < VDP_GMAP_ZC_MAX)
		return true;
	VDP_LOG(WARNING, p, "%u guest memory maps still hold zero-copy buffers: "
		"zero-copy off for this memory table until they are back", n);
	p->stat[VDP_PS_ZC_MAP_REFUSED]++;
	return false;
}

/* Register the regions for zero-copy (extmem + DMA). 0 or -errno. */
static int
gmap_zc_register(struct vdp_port *p, struct vdp_gmap *m)
{
	for (uint32_t i = 0; i < m->nregions; i++) {
		struct vdp_gmap_region *r = &m->r[i];

		if (rte_extmem_register(r->base, r->len, NULL, 0, r->id.pgsz) != 0) {
			VDP_LOG(WARNING, p, "cannot register guest memory region %u "
				"(%zu bytes, pages of %u) as external memory: %s: "
				"zero-copy off for this memory table", i, r->len,
				r->id.pgsz, rte_strerror(rte_errno));
			return -rte_errno;
		}
		r->extmem = true;
	}
	return gmap_dma(p, m);
}

static bool
gmap_same(const struct vdp_gmap *m, const struct rte_vhost_memory *mem,
	  const struct vdp_gfile_id *ids)
{
	if (m == NULL || m->nregions != mem->nregions)
		return false;
	for (uint32_t i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *r = &mem->regions[i];
		const struct vdp_gmap_region *g = &m->r[i];

		if (g->id.dev != ids[i].dev || g->id.ino != ids[i].ino ||
		    g->lib_hua != r->host_user_addr || g->gpa != r->guest_phys_addr ||
		    g->size != r->size ||
		    g->off != r->host_user_addr - (uint64_t)(uintptr_t)r->mmap_addr ||
		    g->len != r->mmap_size)
			return false;
	}
	return true;
}

/*
 * Map librte_vhost's memory table ourselves, checking again that every
 * region is backed by its file, and make it the port's current map.
 * zc: also register it for zero-copy (when the port's bound allows).
 * The current map is kept when the table did not change. Port lock held.
 */
int
vdp_gmap_load(struct vdp_port *p, const struct rte_vhost_memory *mem, bool zc)
{
	struct vdp_gfile_id ids[VDP_MAX_REGIONS];
	struct vdp_gmap *m;
	int ret;

	if (mem->nregions == 0 || mem->nregions > VDP_MAX_REGIONS) {
		VDP_LOG(ERR, p, "guest memory table has %u regions (1..%u accepted)",
			mem->nregions, VDP_MAX_REGIONS);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *r = &mem->regions[i];
		uint64_t off = r->host_user_addr - (uint64_t)(uintptr_t)r->mmap_addr;

		if (r->fd < 0 || vdp_gfile_id(r->fd, &ids[i]) != 0 || !ids[i].regular ||
		    ids[i].fs == VDP_GFILE_OTHER || ids[i].own) {
			VDP_LOG(ERR, p, "guest memory region %u: no memfd, tmpfs or hugetlbfs "
				"file behind it", i);
			return -EBADF;
		}
		if (r->size == 0 || r->host_user_addr < (uint64_t)(uintptr_t)r->mmap_addr ||
		    off > r->mmap_size || r->size > r->mmap_size - off ||
		    r->guest_phys_addr + r->size < r->guest_phys_addr) {
			VDP_LOG(ERR, p, "guest memory region %u inconsistent (gpa 0x%" PRIx64
				" size 0x%" PRIx64 ")", i, r->guest_phys_addr, r->size);
			return -EINVAL;
		}
		/* mapped from file offset 0: the region ends at off + size */
		if (ids[i].size < off + r->size) {
			VDP_LOG(ERR, p, "guest memory region %u ends at file offset 0x%"
				PRIx64 ", past the end of its file (0x%" PRIx64 " bytes)",
				i, off + r->size, ids[i].size);
			return -EINVAL;
		}
	}
	if (gmap_same(p->gmap, mem, ids)) {
		if (zc && !p->gmap->zc && gmap_zc_room(p) &&
		    gmap_zc_register(p, p->gmap) == 0) {
			pthread_mutex_lock(&vdp_gmem_lock);
			p->gmap->zc = true;
			p->nb_gmaps_zc++;
			pthread_mutex_unlock(&vdp_gmem_lock);
		}
		return 0;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	snprintf(m->name, sizeof(m->name), "%s", p->args.bind);
	for (uint32_t i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *r = &mem->regions[i];
		struct vdp_gmap_region *g = &m->r[i];
		void *base;

		g->lib_hua = r->host_user_addr;
		g->gpa = r->guest_phys_addr;
		g->size = r->size;
		g->off = r->host_user_addr - (uint64_t)(uintptr_t)r->mmap_addr;
		g->len = r->mmap_size;
		g->id = ids[i];
		base = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
		if (base == MAP_FAILED) {
			ret = -errno;
			VDP_LOG(ERR, p, "cannot map guest memory region %u: %s",
				i, strerror(errno));
			goto fail;
		}
		g->base = base;
		m->nregions = i + 1;
		m->mm.r[i].gpa = g->gpa;
		m->mm.r[i].size = g->size;
		m->mm.r[i].hva = (uint64_t)(uintptr_t)(g->base + g->off);
	}
	m->mm.nregions = m->nregions;
	vdp_sigbus_guard();

	if (zc && gmap_zc_room(p) && gmap_zc_register(p, m) == 0)
		m->zc = true;

	pthread_mutex_lock(&vdp_gmem_lock);
	m->id = gmap_next_id++;
	m->port = p;
	for (uint32_t i = 0; i < m->nregions; i++)
		vdp_gfile_ref(&m->r[i].id);
	p->nb_gmaps++;
	if (m->zc)
		p->nb_gmaps_zc++;
	m->current = true;
	TAILQ_INSERT_TAIL(&gmaps, m, next);
	pthread_mutex_unlock(&vdp_gmem_lock);
	vdp_gmap_retire(p);
	p->gmap = m;
	VDP_LOG(INFO, p, "guest memory mapped: %u region(s), map %" PRIu64 "%s",
		m->nregions, m->id, m->zc ? ", registered for zero-copy" : "");
	return 0;
fail:
	gmap_unmap(m);
	free(m);
	return ret;
}

/* The port's current map is no longer current (new table, device gone):
 * unmapped now if nothing uses it, else when the last user goes. Port lock
 * held. */
void
vdp_gmap_retire(struct vdp_port *p)
{
	struct vdp_gmap *m = p->gmap;
	bool gone = false;

	if (m == NULL)
		return;
	p->gmap = NULL;
	pthread_mutex_lock(&vdp_gmem_lock);
	m->current = false;
	gone = gmap_drop_locked(m);
	pthread_mutex_unlock(&vdp_gmem_lock);
	if (gone)
		gmap_free(m);
	else
		vdp_watchdog_poke();
}

/* A pin (vdp_gmem_lock held to take it) keeps m whatever else lets go;
 * the last unpin of an unused map unmaps it. */
void
vdp_gmap_unpin(struct vdp_gmap *m)
{
	bool gone = false;

	pthread_mutex_lock(&vdp_gmem_lock);
	m->pins--;
	gone = gmap_drop_locked(m);
	pthread_mutex_unlock(&vdp_gmem_lock);
	if (gone)
		gmap_free(m);
}

/* A queue's ring now uses m (or nothing): references follow. */
void
vdp_gmap_use(struct vdp_queue *q, struct vdp_gmap *m)
{
	struct vdp_gmap *old = q->gmap;
	bool gone = false;

	if (old == m)
		return;
	pthread_mutex_lock(&vdp_gmem_lock);
	if (m != NULL)
		m->qrefs++;
	q->gmap = m;
	q->mm = m != NULL ? &m->mm : NULL;
	if (old != NULL) {
		old->qrefs--;
		gone = gmap_drop_locked(old);
	}
	pthread_mutex_unlock(&vdp_gmem_lock);
	if (gone)
		gmap_free(old);
}

/* Unmap what nobody uses any more (watchdog, and after zero-copy
 * buffers came back). Returns how many retired maps are left. */
uint32_t
vdp_gmap_reap(void)
{
	TAILQ_HEAD(, vdp_gmap) dead = TAILQ_HEAD_INITIALIZER(dead);
	struct vdp_gmap *m, *mn;
	uint32_t left = 0;

	pthread_mutex_lock(&vdp_gmem_lock);
	for (m = TAILQ_FIRST(&gmaps); m != NULL; m = mn) {
		mn = TAILQ_NEXT(m, next);
		if (m->current)
			continue;
		if (gmap_drop_locked(m))
			TAILQ_INSERT_TAIL(&dead, m, next);
		else
			left++;
	}
	pthread_mutex_unlock(&vdp_gmem_lock);
	while ((m = TAILQ_FIRST(&dead)) != NULL) {
		TAILQ_REMOVE(&dead, m, next);
		gmap_free(m);
	}
	return left;
}

/* The port goes away: its retired maps stay until unused, nameless. */
void
vdp_gmap_port_gone(struct vdp_port *p)
{
	struct vdp_gmap *m;

	vdp_gmap_retire(p);
	pthread_mutex_lock(&vdp_gmem_lock);
	TAILQ_FOREACH(m, &gmaps, next)
		if (m->port == p)
			m->port = NULL;
	pthread_mutex_unlock(&vdp_gmem_lock);
}

/* librte_vhost's address of guest memory -> ours (rings). */
void *
vdp_gmap_xlate(const struct vdp_gmap *m, void *lib_addr)
{
	uint64_t a = (uint64_t)(uintptr_t)lib_addr;

	for (uint32_t i = 0; i < m->nregions; i++) {
		const struct vdp_gmap_region *r = &m->r[i];

		if (a >= r->lib_hua && a - r->lib_hua < r->size)
			return r->base + r->off + (a - r->lib_hua);
	}
	return NULL;
}

/* Faults contained so far on the files of m. */
uint32_t
vdp_gmap_faults(const struct vdp_gmap *m)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->nregions; i++)
		n += vdp_sigbus_faults(m->r[i].id.dev, m->r[i].id.ino);
	return n;
}

/* Process-wide figures for telemetry. */
static int
count_msl(const struct rte_memseg_list *msl, void *arg)
{
	RTE_SET_USED(msl);
	(*(uint32_t *)arg)++;
	return 0;
}

void
vdp_gmem_stats(struct vdp_gmem_stats *st)
{
	const struct vdp_gmap *m;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&vdp_gmem_lock);
	TAILQ_FOREACH(m, &gmaps, next) {
		st->maps++;
		if (!m->current)
			st->retired++;
		for (uint32_t i = 0; i < m->nregions; i++) {
			st->regions++;
			st->bytes += m->r[i].len;
			if (m->r[i].extmem)
				st->extmem++;
		}
	}
	pthread_mutex_unlock(&vdp_gmem_lock);
	st->files = vdp_sigbus_files();
	rte_memseg_list_walk(count_msl, &st->memseg_lists);
	st->sigbus_contained = vdp_sigbus_contained();
}
