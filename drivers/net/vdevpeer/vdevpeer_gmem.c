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
#include <sys/sysmacros.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_memory.h>
#include <rte_vhost.h>
#include <ethdev_driver.h>

#include "vdevpeer.h"

pthread_mutex_t vdp_gmem_lock = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, vdp_gmap) gmaps = TAILQ_HEAD_INITIALIZER(gmaps);
static uint64_t gmap_next_id = 1;

/* ---- guest files, and the SIGBUS handler ---- */

/* Files some VMM gave us as guest memory (ours and librte_vhost's
 * mappings of them). 8 regions x (2 tables per session + maps alive) per
 * port fit many ports; when full, new files are not covered (logged). */
#define VDP_GFILES 512

struct vdp_gfile {
	uint64_t dev, ino;   /* written before refs goes non-zero (release) */
	uint32_t pgsz;
	uint32_t refs;       /* 0: free slot */
	uint32_t faults;     /* atomic: faults contained on this file */
	uint32_t faults_seen;/* ... already acted on by the watchdog */
};

static struct vdp_gfile gfiles[VDP_GFILES];
static struct sigaction old_sigbus;
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;
static bool sigbus_installed;
uint64_t vdp_sigbus_contained;   /* atomic */

int
vdp_gfile_id(int fd, struct vdp_gfile_id *id)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -errno;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = (uint64_t)st.st_size;
	id->pgsz = (uint32_t)st.st_blksize;
	id->regular = S_ISREG(st.st_mode);
	return 0;
}

/* Caller holds vdp_gmem_lock. */
void
vdp_gfile_ref(const struct vdp_gfile_id *id)
{
	struct vdp_gfile *free_slot = NULL;

	for (int i = 0; i < VDP_GFILES; i++) {
		struct vdp_gfile *g = &gfiles[i];

		if (g->refs != 0 && g->dev == id->dev && g->ino == id->ino) {
			g->refs++;
			return;
		}
		if (g->refs == 0 && free_slot == NULL)
			free_slot = g;
	}
	if (free_slot == NULL) {
		VDP_LOG_NOPORT(WARNING, "more than %u guest memory files: a shrunk one "
			       "past that is not contained (SIGBUS)", VDP_GFILES);
		return;
	}
	free_slot->dev = id->dev;
	free_slot->ino = id->ino;
	free_slot->pgsz = id->pgsz;
	__atomic_store_n(&free_slot->faults, 0, __ATOMIC_RELAXED);
	free_slot->faults_seen = 0;
	__atomic_store_n(&free_slot->refs, 1, __ATOMIC_RELEASE);
}

/* Caller holds vdp_gmem_lock. */
void
vdp_gfile_unref(const struct vdp_gfile_id *id)
{
	for (int i = 0; i < VDP_GFILES; i++) {
		struct vdp_gfile *g = &gfiles[i];

		if (g->refs != 0 && g->dev == id->dev && g->ino == id->ino) {
			__atomic_store_n(&g->refs, g->refs - 1, __ATOMIC_RELEASE);
			return;
		}
	}
}

/*
 * Faults contained on the file since the last call (caller holds
 * vdp_gmem_lock): the watchdog fails the ports that use it.
 */
uint32_t
vdp_gfile_new_faults(const struct vdp_gfile_id *id)
{
	for (int i = 0; i < VDP_GFILES; i++) {
		struct vdp_gfile *g = &gfiles[i];

		if (g->refs != 0 && g->dev == id->dev && g->ino == id->ino) {
			uint32_t f = __atomic_load_n(&g->faults, __ATOMIC_RELAXED);
			uint32_t n = f - g->faults_seen;

			g->faults_seen = f;
			return n;
		}
	}
	return 0;
}

/* -- in the signal handler: async-signal-safe code only -- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse a hex number at *s, advance past it. */
static uint64_t
parse_hex(const char **s, const char *end)
{
	uint64_t v = 0;
	int d;

	while (*s < end && (d = hexval(**s)) >= 0) {
		v = v << 4 | (uint64_t)d;
		(*s)++;
	}
	return v;
}

static uint64_t
parse_dec(const char **s, const char *end)
{
	uint64_t v = 0;

	while (*s < end && **s >= '0' && **s <= '9') {
		v = v * 10 + (uint64_t)(**s - '0');
		(*s)++;
	}
	return v;
}

/*
 * One line of /proc/self/maps: "start-end perms offset maj:min inode path".
 * True when it covers addr; then *dev and *ino are its file's.
 */
static bool
maps_line_covers(const char *s, const char *end, uint64_t addr, uint64_t *dev, uint64_t *ino)
{
	uint64_t start, stop, maj, min;

	start = parse_hex(&s, end);
	if (s == end || *s++ != '-')
		return false;
	stop = parse_hex(&s, end);
	if (addr < start || addr >= stop)
		return false;
	for (int field = 0; field < 2; field++) {   /* perms, offset */
		while (s < end && *s == ' ')
			s++;
		while (s < end && *s != ' ')
			s++;
	}
	while (s < end && *s == ' ')
		s++;
	maj = parse_hex(&s, end);
	if (s == end || *s++ != ':')
		return false;
	min = parse_hex(&s, end);
	while (s < end && *s == ' ')
		s++;
	*ino = parse_dec(&s, end);
	*dev = makedev(maj, min);
	return true;
}

/* The file mapped at addr, read from /proc/self/maps with a stack buffer. */
static bool
mapped_file_of(uint64_t addr, uint64_t *dev, uint64_t *ino)
{
	char buf[4096];
	size_t have = 0;
	bool found = false;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		char *line = buf, *nl;

		if (n <= 0)
			break;
		have += (size_t)n;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf))) != NULL) {
			if (maps_line_covers(line, nl, addr, dev, ino)) {
				found = true;
				goto out;
			}
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == sizeof(buf))   /* a line longer than the buffer */
			have = 0;
	}
out:
	close(fd);
	return found;
}

static void
vdp_sigbus(int sig, siginfo_t *si, void *uctx)
{
	uint64_t addr = (uint64_t)(uintptr_t)si->si_addr, dev, ino;
	int saved_errno = errno;

	if (si->si_code == BUS_ADRERR && mapped_file_of(addr, &dev, &ino)) {
		for (int i = 0; i < VDP_GFILES; i++) {
			struct vdp_gfile *g = &gfiles[i];
			uint64_t page;
			void *p;

			if (__atomic_load_n(&g->refs, __ATOMIC_ACQUIRE) == 0 ||
			    g->dev != dev || g->ino != ino || g->pgsz == 0)
				continue;
			page = addr & ~((uint64_t)g->pgsz - 1);
			p = mmap((void *)(uintptr_t)page, g->pgsz, PROT_READ | PROT_WRITE,
				 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				break;
			__atomic_add_fetch(&g->faults, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&vdp_sigbus_contained, 1, __ATOMIC_RELAXED);
			errno = saved_errno;
			return;   /* the access is retried on the zero page */
		}
	}
	errno = saved_errno;
	/* Not ours: whoever had SIGBUS before decides. */
	if ((old_sigbus.sa_flags & SA_SIGINFO) && old_sigbus.sa_sigaction != NULL) {
		old_sigbus.sa_sigaction(sig, si, uctx);
	} else if (old_sigbus.sa_handler != SIG_IGN && old_sigbus.sa_handler != SIG_DFL) {
		old_sigbus.sa_handler(sig);
	} else {
		/* default action: put it back; returning faults again and dies */
		sigaction(SIGBUS, &old_sigbus, NULL);
	}
}

static void
sigbus_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = vdp_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old_sigbus) != 0) {
		VDP_LOG_NOPORT(WARNING, "cannot install the SIGBUS handler (%s): a "
			       "VMM shrinking a memory file can crash the process",
			       strerror(errno));
		return;
	}
	sigbus_installed = true;
}

bool
vdp_sigbus_guard(void)
{
	pthread_once(&sigbus_once, sigbus_install);
	return sigbus_installed;
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

/* Can m go? Caller holds vdp_gmem_lock. */
static bool
gmap_unused(const struct vdp_gmap *m)
{
	return !m->current && m->qrefs == 0 && !vdp_zc_holds(m);
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

/* Re-pin the DMA mappings of a map whose pages were replaced (zero-copy
 * snapshot): the IOMMU must see what the CPU sees. */
void
vdp_gmap_dma_refresh(struct vdp_gmap *m, uint32_t region)
{
	for (uint16_t d = 0; d < m->ndev; d++) {
		struct rte_device *dev = m->dev[d].dev;
		uint16_t port = m->dev[d].port;

		if (!(m->dev[d].regions & (1u << region)) || !rte_eth_dev_is_valid_port(port) ||
		    rte_eth_devices[port].device != dev)
			continue;
		rte_dev_dma_unmap(dev, m->r[region].base,
				  (uint64_t)(uintptr_t)m->r[region].base, m->r[region].len);
		if (rte_dev_dma_map(dev, m->r[region].base,
				    (uint64_t)(uintptr_t)m->r[region].base,
				    m->r[region].len) != 0)
			m->dev[d].regions &= ~(1u << region);
	}
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

		if (r->fd < 0 || vdp_gfile_id(r->fd, &ids[i]) != 0 || !ids[i].regular) {
			VDP_LOG(ERR, p, "guest memory region %u: no regular file behind it", i);
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
	if (gmap_unused(m)) {
		TAILQ_REMOVE(&gmaps, m, next);
		gmap_free_locked(m);
		gone = true;
	}
	pthread_mutex_unlock(&vdp_gmem_lock);
	if (gone)
		gmap_free(m);
	else
		vdp_watchdog_poke();
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
		if (gmap_unused(old)) {
			TAILQ_REMOVE(&gmaps, old, next);
			gmap_free_locked(old);
			gone = true;
		}
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
		if (gmap_unused(m)) {
			TAILQ_REMOVE(&gmaps, m, next);
			gmap_free_locked(m);
			TAILQ_INSERT_TAIL(&dead, m, next);
		} else {
			left++;
		}
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

/* Faults contained on any file of m since the last look. Caller holds
 * vdp_gmem_lock. */
uint32_t
vdp_gmap_new_faults(const struct vdp_gmap *m)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->nregions; i++)
		n += vdp_gfile_new_faults(&m->r[i].id);
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
	for (int i = 0; i < VDP_GFILES; i++)
		if (gfiles[i].refs != 0)
			st->files++;
	pthread_mutex_unlock(&vdp_gmem_lock);
	rte_memseg_list_walk(count_msl, &st->memseg_lists);
	st->sigbus_contained = __atomic_load_n(&vdp_sigbus_contained, __ATOMIC_RELAXED);
}
