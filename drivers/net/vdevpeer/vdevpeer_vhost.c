/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vdevpeer control plane: the vhost-user session through librte_vhost's
 * external-backend API. librte_vhost parses the VMM's messages; we check
 * each one before it does (vdp_vumsg.c), take what it hands us (memory
 * table, ring addresses, indexes, eventfds), validate it again, and drive
 * our own data path (vdp_ring.h) over our own mapping of guest memory
 * (vdevpeer_gmem.c).
 *
 * All callbacks here run on librte_vhost's event thread, which every
 * guest's session shares: nothing here waits without a bound (see
 * vdevpeer.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_version.h>
#include <rte_vhost.h>
#include <ethdev_driver.h>

#include "vdevpeer.h"
#include "vdevpeer_call.h"
#include "vdevpeer_intr.h"
#include "vdevpeer_gmem.h"
#include "vdevpeer_port.h"
#include "vdevpeer_rxtx.h"
#include "vdevpeer_state.h"
#include "vdevpeer_vhost.h"
#include "vdevpeer_zcopy.h"
#include "vdp_vumsg.h"

/*
 * Protocol features we let a VMM negotiate: multi-queue, reply-ack,
 * MTU, device status, the shared dirty log and RARP announces (live
 * migration: docs/migration.md). Not: backend requests and fds (IOTLB,
 * host notifiers), postcopy (userfaultfd), crypto, inflight tracking,
 * memory slots (their messages are refused).
 */
#define VDP_PROTOCOL_FEATURES ((1ULL << VDP_VU_PF_MQ) | (1ULL << VDP_VU_PF_REPLY_ACK) | \
			       (1ULL << VDP_VU_PF_NET_MTU) | (1ULL << VDP_VU_PF_STATUS) | \
			       (1ULL << VDP_VU_PF_LOG_SHMFD) | (1ULL << VDP_VU_PF_RARP))
/* librte_vhost's own limit of vrings per device (VHOST_MAX_VRING) */
#define VDP_LIB_MAX_VRINGS 256u

/*
 * The message as librte_vhost hands it to the pre/post handlers: its
 * struct vhu_msg_context, whose layout external handlers rely on (its own
 * header says so): header, a payload union of VDP_VU_PAYLOAD_MAX bytes,
 * then the fds that came with it. Checked against the DPDK release at
 * registration (vdp_vhost_register).
 */
struct vdp_vu_ctx {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	uint8_t payload[VDP_VU_PAYLOAD_MAX];
	int fds[VDP_VU_MAX_REGIONS];
	int fd_num;
} __attribute__((packed));

/* DPDK releases whose struct vhu_msg_context is the one above */
static bool vu_ctx_known;

/* A new session may start on the port: not while a queue is stuck. */
static bool
port_recover(struct vdp_port *p)
{
	for (uint16_t v = 0; v < VDP_MAX_VRINGS; v++) {
		struct vdp_queue *q = vdp_port_queue(p, v);

		if (q != NULL && q->stuck)
			return false;
	}
	if (p->failed)
		VDP_LOG(INFO, p, "port recovered (was failed: %s)", p->fail_why);
	p->failed = false;
	return true;
}

/* ---- guest memory ---- */

static int
numa_addr_node(const void *addr, void *ctx)
{
	RTE_SET_USED(ctx);
	return vdp_numa_addr_node(addr);
}

/*
 * Where the guest's memory is (pages sampled where we have them mapped,
 * else where its rings are): the port's socket_id follows it (the
 * application puts the mbufs of a port's queues there). After the rings
 * were loaded. Caller holds p->lock.
 */
static void
mem_node(struct vdp_port *p)
{
	const struct vdp_numa_topo topo = { .addr_node = numa_addr_node };
	int node = p->gmap != NULL ?
		   vdp_numa_mem_node(&p->gmap->mm, (uint64_t)sysconf(_SC_PAGESIZE), &topo) :
		   VDP_NUMA_UNKNOWN;
	unsigned int votes[VDP_NUMA_MAX_NODES] = { 0 };
	int rings = VDP_NUMA_UNKNOWN;

	for (uint16_t v = 0; node < 0 && v < VDP_MAX_VRINGS; v++) {
		const struct vdp_queue *q = vdp_port_queue(p, v);
		int n = q != NULL && q->ring_ok ? q->numa.ring_node : VDP_NUMA_UNKNOWN;

		if (n < 0 || n >= VDP_NUMA_MAX_NODES)
			continue;
		if (++votes[n] > (rings < 0 ? 0 : votes[rings]))
			rings = n;
	}
	if (node < 0)
		node = rings;
	if (node == p->mem_node)
		return;
	p->mem_node = node;
	if (node < 0) {
		VDP_LOG(INFO, p, "NUMA node of the guest's memory unknown");
		return;
	}
	if (p->args.numa_node < 0) {
		VDP_LOG(INFO, p, "guest memory on NUMA node %d: the port's socket_id", node);
		p->eth_dev->data->numa_node = node;
	} else if (node != p->args.numa_node) {
		VDP_LOG(WARNING, p, "guest memory on NUMA node %d, not on numa_node=%d: "
			"the port's queues and mbufs are on node %d, every frame crosses "
			"nodes", node, p->args.numa_node, p->args.numa_node);
	} else {
		VDP_LOG(INFO, p, "guest memory on NUMA node %d, as declared", node);
	}
}

static int
load_memmap(struct vdp_port *p)
{
	struct rte_vhost_memory *mem = NULL;
	bool zc = p->args.zerocopy != VDP_ZC_OFF && rte_eal_iova_mode() == RTE_IOVA_VA;
	int ret;

	if (rte_vhost_get_mem_table(p->vid, &mem) != 0 || mem == NULL) {
		VDP_LOG(ERR, p, "no guest memory table");
		return -EINVAL;
	}
	if (p->args.zerocopy != VDP_ZC_OFF && rte_eal_iova_mode() != RTE_IOVA_VA)
		VDP_LOG(NOTICE, p, "zero-copy off: IOVA mode is not VA "
			"(use vfio with an IOMMU, or --iova-mode=va)");
	ret = vdp_gmap_load(p, mem, zc);
	free(mem);
	p->zc_live = ret == 0 && p->gmap->zc;
	if (ret == 0) {
		/* faults already contained on these files are not this map's */
		pthread_mutex_lock(&vdp_gmem_lock);
		p->gmap_faults = vdp_gmap_faults(p->gmap);
		pthread_mutex_unlock(&vdp_gmem_lock);
	}
	return ret;
}

/*
 * The files librte_vhost has mapped, for SIGBUS containment of its own
 * mapping: registered before it maps them (pre hook), the ones it did not
 * keep released after (it keeps its old mapping when a new table has the
 * same layout, whatever its files). At most two tables' worth while a
 * message is applied. Caller holds p->lock.
 */
static void
lib_files_add(struct vdp_port *p, const struct vdp_gfile_id *ids, uint32_t n)
{
	pthread_mutex_lock(&vdp_gmem_lock);
	for (uint32_t i = 0; i < n && p->nb_lib_files < VDP_LIB_FILES; i++) {
		p->lib_files[p->nb_lib_files] = ids[i];
		vdp_gfile_ref(&p->lib_files[p->nb_lib_files]);
		p->nb_lib_files++;
	}
	pthread_mutex_unlock(&vdp_gmem_lock);
	if (n != 0)
		vdp_sigbus_guard();
}

/* Exactly the files of librte_vhost's table now (none without a device). */
static void
lib_files_sync(struct vdp_port *p)
{
	struct vdp_gfile_id ids[VDP_MAX_REGIONS], old[VDP_LIB_FILES];
	struct rte_vhost_memory *mem = NULL;
	uint32_t n = 0, nold;

	if (p->vid >= 0 && rte_vhost_get_mem_table(p->vid, &mem) == 0 && mem != NULL) {
		for (uint32_t i = 0; i < mem->nregions && n < VDP_MAX_REGIONS; i++)
			if (mem->regions[i].fd >= 0 && vdp_gfile_id(mem->regions[i].fd, &ids[n]) == 0)
				n++;
		free(mem);
	}
	pthread_mutex_lock(&vdp_gmem_lock);
	nold = p->nb_lib_files;
	memcpy(old, p->lib_files, nold * sizeof(old[0]));
	for (uint32_t i = 0; i < n; i++) {   /* new refs before old ones go */
		p->lib_files[i] = ids[i];
		vdp_gfile_ref(&p->lib_files[i]);
	}
	p->nb_lib_files = n;
	for (uint32_t i = 0; i < nold; i++)
		vdp_gfile_unref(&old[i]);
	pthread_mutex_unlock(&vdp_gmem_lock);
}

/* ---- rings ---- */

/*
 * Our own copy of a call fd: an eventfd, never blocking. O_NONBLOCK is a
 * flag of the open file, which the VMM shares: VMMs create their call
 * eventfds non-blocking anyway (QEMU, DPDK's virtio-user); one that clears
 * it again gets its write interrupted by the watchdog (vdevpeer_call.c).
 */
static int
dup_callfd(struct vdp_port *p, uint16_t v, int fd)
{
	char path[64], link[64];
	ssize_t n;
	int flags, nfd;

	if (fd < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0 || (link[n] = '\0', strcmp(link, "anon_inode:[eventfd]") != 0)) {
		VDP_LOG(ERR, p, "vring %u: call fd is not an eventfd: guest interrupts off", v);
		return -1;
	}
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0) {
		VDP_LOG(ERR, p, "vring %u: cannot duplicate the call fd: %s", v, strerror(errno));
		return -1;
	}
	flags = fcntl(nfd, F_GETFL);
	if (flags >= 0 && !(flags & O_NONBLOCK))
		fcntl(nfd, F_SETFL, flags | O_NONBLOCK);
	return nfd;
}

/* Dirty-page logging of a queue's writes (lcore or control thread):
 * librte_vhost marks the pages in the VMM's log. */
static void
queue_log(void *ctx, uint64_t gpa, uint64_t len)
{
	const struct vdp_queue *q = ctx;

	rte_vhost_log_write(q->port->vid, gpa, len);
}

/*
 * (Re)load vring v from librte_vhost into its queue. keep_idx: continue
 * from our own indexes (the ring moved) rather than the VMM's base.
 * Caller holds p->lock with the queue paused (not stuck).
 */
int
vdp_load_ring(struct vdp_port *p, uint16_t v, bool keep_idx)
{
	struct vdp_queue *q = vdp_port_queue_make(p, v);
	struct rte_vhost_vring vring;
	uint16_t last_avail, last_used;
	struct vdp_vring *vr;
	bool same_ring;
	int ret;

	if (q == NULL)
		return 0;  /* the application did not set this queue up (yet) */
	if (q->stuck)
		return -EBUSY;
	vr = &q->vr;
	same_ring = keep_idx && q->ring_ok;
	if (same_ring) {
		last_avail = vdp_vq_avail_base(vr);
		last_used = vdp_vq_used_base(vr);
	} else if (rte_vhost_get_vring_base(p->vid, v, &last_avail, &last_used) != 0) {
		VDP_LOG(ERR, p, "vring %u: no ring base", v);
		return -EINVAL;
	}
	q->ring_ok = false;
	vdp_queue_close_call(q);
	vdp_intr_ring_forget(q);   /* a failed load leaves no kick fd behind */
	q->call_off = false;
	if (rte_vhost_get_vhost_vring(p->vid, v, &vring) != 0) {
		VDP_LOG(ERR, p, "vring %u: not available", v);
		return -EINVAL;
	}
	if (p->gmap == NULL) {
		VDP_LOG(ERR, p, "vring %u: no guest memory", v);
		return -EINVAL;
	}
	for (int e = 0; e < VDP_ERR_MAX; e++)
		VDP_CNT_ADD(q->err_acc[e], vr->err[e]);
	VDP_CNT_ADD(q->budget_acc, vr->budget_stops);
	if (p->negotiated & VDP_BIT(VDP_F_RING_PACKED))
		/* the same ring again: chains still out (zero-copy) keep
		 * their ids held */
		ret = (same_ring ? vdp_packed_init_same : vdp_packed_init)(vr,
				      vdp_gmap_xlate(p->gmap, vring.desc_packed),
				      vdp_gmap_xlate(p->gmap, vring.driver_event),
				      vdp_gmap_xlate(p->gmap, vring.device_event),
				      vring.size,
				      last_avail & ~(1u << VDP_PACKED_WRAP_BIT),
				      last_avail >> VDP_PACKED_WRAP_BIT,
				      last_used & ~(1u << VDP_PACKED_WRAP_BIT),
				      last_used >> VDP_PACKED_WRAP_BIT, q->ids_held);
	else
		ret = vdp_vring_init(vr, vdp_gmap_xlate(p->gmap, vring.desc),
				     vdp_gmap_xlate(p->gmap, vring.avail),
				     vdp_gmap_xlate(p->gmap, vring.used), vring.size,
				     last_avail, last_used);
	if (ret != 0) {
		VDP_LOG(ERR, p, "vring %u: size %u or base %u/%u refused (a power "
			"of two up to %u expected) or tables outside guest memory", v,
			vring.size, last_avail, last_used, VDP_RING_SIZE_MAX);
		return -EINVAL;
	}
	vr->on_err = vdp_ring_err_log;
	vr->err_ctx = q;
	/* migrating: every write into the guest logged (the frame variant
	 * with logging is chosen below) */
	vr->log = (p->negotiated & VDP_BIT(VDP_F_LOG_ALL)) != 0;
	vr->log_fn = queue_log;
	vr->log_ctx = q;
	vr->log_mm = &p->gmap->mm;
	if (!vdp_vring_in_map(vr, &p->gmap->mm)) {
		VDP_LOG(ERR, p, "vring %u: ring tables outside guest memory", v);
		return -EINVAL;
	}
	vr->event_idx = !!(p->negotiated & VDP_BIT(VDP_F_EVENT_IDX));
	vr->indirect = !!(p->negotiated & VDP_BIT(VDP_F_INDIRECT_DESC));
	vr->mrg_rxbuf = !!(p->negotiated & VDP_BIT(VDP_F_MRG_RXBUF));
	vr->hdr_len = p->hdr_len;
	/* guest TX headers can ask for nothing without CSUM (HOST_TSO
	 * needs it; vdp_features_unmet): not read at all, as net_vhost */
	vr->hdr_skip = !(p->feat & VDP_BIT(VDP_F_CSUM));
	/* packed: used elements handed over once per burst (vdp_ring.h) */
	vr->used_batch = true;
	vr->in_order = !!(p->negotiated & VDP_BIT(VDP_F_IN_ORDER));
	vdp_gmap_use(q, p->gmap);
	q->callfd = dup_callfd(p, v, vring.callfd);
	if (q->is_rx)
		vdp_intr_ring_kick(q, vring.kickfd);
	/* after a crash: where the earlier process left this ring (before
	 * our kick suppression writes into the ring) */
	vdp_state_ring_loaded(p, q, v, same_ring);
	vdp_vq_suppress_kicks(vr);
	/* the node of the page we just wrote (so it is in our page tables) */
	vdp_queue_numa_ring(q, vr->layout == VDP_LAYOUT_PACKED ? (const void *)vr->device_event :
			    (const void *)vr->used);
	if (vr->log)
		vdp_log_ring(vr);   /* what the load itself wrote */
	q->put_frame = vdp_vq_frame_fn(vr);  /* layout, mergeable, logging: once */
	vdp_queue_hold_clear(q);            /* no wait for a peer carried over */
	q->ring_ok = true;
	vdp_zc_queue_ring(q, same_ring);  /* on failure it copies: not fatal */
	vdp_queue_publish_shared(q);      /* what the resume gave back */
	return 0;
}

/* Forget vring v's ring (its queue paused, or stuck: that one keeps it
 * until its lcore leaves). Caller holds p->lock. */
static void
forget_ring(struct vdp_port *p, uint16_t v)
{
	struct vdp_queue *q = vdp_port_queue(p, v);

	if (q == NULL || q->stuck)
		return;
	q->ring_ok = false;
	vdp_queue_close_call(q);
	vdp_intr_ring_forget(q);
	if (q->is_rx)
		vdp_zc_queue_orphan(q);
	vdp_gmap_use(q, NULL);
}

/*
 * (Re)load the ready rings. reset: the vring whose position the VMM just
 * set (it takes librte_vhost's), UINT32_MAX for all of them, or
 * VDP_RELOAD_KEEP: every ring loaded before continues from our position.
 */
#define VDP_RELOAD_KEEP (UINT32_MAX - 1)
static int
load_rings(struct vdp_port *p, uint32_t reset)
{
	uint16_t nr = rte_vhost_get_vring_num(p->vid);

	if (nr > VDP_MAX_VRINGS)
		nr = VDP_MAX_VRINGS;
	p->nb_vrings = nr;
	p->hdr_len = (p->negotiated & (VDP_BIT(VDP_F_MRG_RXBUF) | VDP_BIT(VDP_F_VERSION_1))) ?
		     VDP_NET_HDR_LEN_MRG : VDP_NET_HDR_LEN_LEGACY;
	for (uint16_t v = 0; v < nr; v++) {
		const bool keep_idx = reset != UINT32_MAX && reset != v;
		int ret;

		if (!p->vring_enabled[v]) {
			/*
			 * Not ready (never set up, or disabled by the guest):
			 * loaded when librte_vhost says it is ready
			 * (vring_state_changed). One loaded before keeps our
			 * position unless the VMM set a new one.
			 */
			if (!keep_idx)
				forget_ring(p, v);
			continue;
		}
		ret = vdp_load_ring(p, v, keep_idx);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* The rings go back (device stopped): our indexes to librte_vhost, which
 * the VMM reads next; nothing of the guest's memory stays with us. */
static void
handback_rings(struct vdp_port *p)
{
	/* held zero-copy buffers must not point at pages the guest reuses */
	vdp_zc_port_handback(p);
	for (uint16_t v = 0; v < p->nb_vrings; v++) {
		struct vdp_queue *q = vdp_port_queue(p, v);

		if (q == NULL || q->stuck || !q->ring_ok)
			continue;
		rte_vhost_set_vring_base(p->vid, v, vdp_vq_avail_base(&q->vr),
					 vdp_vq_used_base(&q->vr));
		q->ring_ok = false;
	}
}

/* Forget the device's rings and memory (queues paused, or stuck: those
 * keep theirs until their lcore leaves). Caller holds p->lock. */
static void
drop_device_state(struct vdp_port *p)
{
	for (uint16_t v = 0; v < VDP_MAX_VRINGS; v++)
		forget_ring(p, v);
	/* held buffers of the rings dropped here (a refused reload, a reset
	 * without GET_VRING_BASE) must not point at pages the guest reuses */
	vdp_zc_port_handback(p);
	vdp_gmap_retire(p);
	p->zc_live = false;
	p->running = false;
}

/* The VMM's session is over: nothing of it stays. Caller holds p->lock. */
static void
forget_session(struct vdp_port *p)
{
	vdp_queues_pause(p);
	drop_device_state(p);
	p->connected = false;
	p->msg_req = 0;
	p->vid = -1;
	lib_files_sync(p);   /* no device: none */
}

/* ---- vhost-user message hooks ---- */

static struct vdp_port *
port_of_vid(int vid)
{
	char path[VDP_PATH_MAX];

	if (rte_vhost_get_ifname(vid, path, sizeof(path)) != 0)
		return NULL;
	return vdp_port_by_path(path);
}

/* What fstat (and /proc) say about each fd of the message. */
static void
fd_facts(const struct vdp_vu_ctx *c, struct vdp_vu_fd *f, struct vdp_gfile_id *ids,
	 uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		char path[64], link[64];
		ssize_t k;

		memset(&f[i], 0, sizeof(f[i]));
		memset(&ids[i], 0, sizeof(ids[i]));
		if (vdp_gfile_id(c->fds[i], &ids[i]) != 0) {
			f[i].kind = VDP_VU_FD_BAD;
			continue;
		}
		if (ids[i].regular) {
			f[i].kind = ids[i].own ? VDP_VU_FD_HOSTMEM :
				    ids[i].fs == VDP_GFILE_OTHER ? VDP_VU_FD_FILE :
				    VDP_VU_FD_REGULAR;
			f[i].size = ids[i].size;
			f[i].blksize = ids[i].pgsz;
			continue;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", c->fds[i]);
		k = readlink(path, link, sizeof(link) - 1);
		if (k > 0) {
			link[k] = '\0';
			f[i].kind = strcmp(link, "anon_inode:[eventfd]") == 0 ?
				    VDP_VU_FD_EVENTFD : VDP_VU_FD_OTHER;
		} else {
			f[i].kind = VDP_VU_FD_OTHER;
		}
	}
}

/* Re-read what librte_vhost has after a message, with the queues paused. */
static void
reload_device(struct vdp_port *p, uint32_t req)
{
	int ret;

	if (req == VDP_VU_SET_FEATURES) {
		uint64_t f;

		if (rte_vhost_get_negotiated_features(p->vid, &f) == 0) {
			const uint64_t log = VDP_BIT(VDP_F_LOG_ALL);

			if ((f ^ p->negotiated) & log) {
				VDP_LOG(NOTICE, p, "dirty-page logging %s (live migration %s)",
					(f & log) ? "on" : "off", (f & log) ? "under way" : "over");
				if (f & log)
					p->stat[VDP_PS_LOG_STARTS]++;
			}
			p->negotiated = f;
			p->feat = f & ~vdp_features_unmet(f);
		}
	}
	ret = load_memmap(p);
	if (ret == 0)
		ret = load_rings(p, req == VDP_VU_SET_VRING_BASE ? p->msg_vring : VDP_RELOAD_KEEP);
	if (ret != 0) {
		VDP_LOG(ERR, p, "guest reconfiguration (%s) refused: port down until "
			"the guest resets", vdp_vumsg_name(req) ? vdp_vumsg_name(req) : "?");
		drop_device_state(p);
	}
}

/* A ring-changing message whose post handler never came (librte_vhost
 * refused it with a reply-ack, the session went on): finish it now. */
static void
msg_done(struct vdp_port *p)
{
	uint32_t req = p->msg_req;

	p->msg_req = 0;
	if (req == VDP_VU_SET_MEM_TABLE)
		lib_files_sync(p);
	/* enabling or disabling a ring moves nothing: vring_state_changed
	 * loads or stops that ring alone */
	if (p->running && !p->failed && req != VDP_VU_SET_VRING_ENABLE)
		reload_device(p, req);
	vdp_port_apply_queues(p);
}

/*
 * SEND_RARP (checked: a unicast MAC): the VMM finished migrating a guest
 * without GUEST_ANNOUNCE here and wants the network told where it is now.
 * The next rx burst of the port receives a RARP from that MAC
 * (vdp_rx_rarp). librte_vhost records it too, for its own data path only.
 */
static void
rarp_asked(struct vdp_port *p, const uint8_t *payload)
{
	uint8_t mac[6];
	uint64_t v = 0;

	vdp_vumsg_mac(payload, mac);
	for (int i = 0; i < 6; i++)
		v |= (uint64_t)mac[i] << (8 * i);
	pthread_mutex_lock(&p->lock);
	p->stat[VDP_PS_RARP_ASKED]++;
	__atomic_store_n(&p->rarp, v | VDP_RARP_PENDING, __ATOMIC_RELEASE);
	__atomic_or_fetch(&p->rx_extra, VDP_RX_RARP, __ATOMIC_RELEASE);
	/* any rx queue receives it: wake every sleeper */
	for (uint16_t i = 0; i < p->eth_dev->data->nb_rx_queues; i++)
		if (p->eth_dev->data->rx_queues[i] != NULL)
			vdp_queue_wake(p, p->eth_dev->data->rx_queues[i]);
	pthread_mutex_unlock(&p->lock);
	VDP_LOG(INFO, p, "announcing %02x:%02x:%02x:%02x:%02x:%02x with a RARP "
		"(the VMM asked: migration done)", mac[0], mac[1], mac[2], mac[3],
		mac[4], mac[5]);
}

/*
 * Before librte_vhost applies a message: refuse what would hurt us, and
 * for anything that may remap memory, move a ring or swap an eventfd,
 * stop our lcores touching them (bounded: a stuck queue fails the port,
 * the message still goes on - our data path does not use what librte_vhost
 * changes).
 */
static enum rte_vhost_msg_result
pre_msg(int vid, void *msg)
{
	struct vdp_vu_ctx *c = msg;
	struct vdp_port *p = port_of_vid(vid);
	struct vdp_vu_fd fds[VDP_VU_MAX_REGIONS];
	struct vdp_gfile_id ids[VDP_VU_MAX_REGIONS];
	struct vdp_vu_policy pol;
	enum vdp_vu_verdict verdict;
	uint32_t nfds = 0, req = c->request;
	char why[192];

	if (p == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	if (vu_ctx_known) {
		nfds = c->fd_num >= 0 && c->fd_num <= (int)VDP_VU_MAX_REGIONS ?
		       (uint32_t)c->fd_num : 0;
		fd_facts(c, fds, ids, nfds);
	}
	pol.features = p->offered | VDP_FEATURES_TRANSPORT;
	pol.protocol_features = VDP_PROTOCOL_FEATURES;
	pol.max_vrings = VDP_LIB_MAX_VRINGS;
	verdict = vdp_vumsg_check(req, c->flags, c->size, c->payload,
				  RTE_MIN(c->size, VDP_VU_PAYLOAD_MAX), fds, nfds,
				  &pol, why, sizeof(why));
	if (!vu_ctx_known && verdict == VDP_VU_REFUSE && nfds == 0 &&
	    (req == VDP_VU_SET_MEM_TABLE || req == VDP_VU_SET_VRING_CALL ||
	     req == VDP_VU_SET_VRING_KICK || req == VDP_VU_SET_VRING_ERR))
		verdict = VDP_VU_RINGS;  /* fds unknown with this DPDK: not checked */
	if (verdict == VDP_VU_REFUSE) {
		const char *name = vdp_vumsg_name(req);

		for (uint32_t i = 0; i < nfds; i++)
			close(c->fds[i]);
		if (vu_ctx_known)
			c->fd_num = 0;
		pthread_mutex_lock(&p->lock);
		p->stat[VDP_PS_MSG_REFUSED]++;
		pthread_mutex_unlock(&p->lock);
		VDP_LOG(ERR, p, "vhost-user message %s (%u) refused: %s%s",
			name ? name : "?", req, why,
			(c->flags & VDP_VU_F_NEED_REPLY) ? " (error reply sent)" :
			" (session closed)");
		return RTE_VHOST_MSG_RESULT_ERR;
	}
	if (verdict == VDP_VU_PASS) {
		if (req == VDP_VU_SEND_RARP)
			rarp_asked(p, c->payload);
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	}

	pthread_mutex_lock(&p->lock);
	if (p->msg_req != 0)
		msg_done(p);
	if (req == VDP_VU_SET_MEM_TABLE && nfds != 0)
		lib_files_add(p, ids, nfds);
	p->msg_req = req;
	/* SET_VRING_BASE sets one ring's position: the others keep ours
	 * (unknown layout: all of them take librte_vhost's, as before) */
	p->msg_vring = UINT32_MAX;
	if (req == VDP_VU_SET_VRING_BASE && vu_ctx_known && c->size >= sizeof(uint32_t))
		memcpy(&p->msg_vring, c->payload, sizeof(uint32_t));
	vdp_queues_pause(p);   /* a stuck queue fails the port: the message goes on */
	/*
	 * Held zero-copy buffers need no wait here: they point into our own
	 * mapping of guest memory, which stays until the last of them is
	 * freed, whatever librte_vhost unmaps now. Give back what is done.
	 */
	if (p->running && !p->failed)
		vdp_zc_quiesce(p, 0);
	vdp_port_unlock(p);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static enum rte_vhost_msg_result
post_msg(int vid, void *msg)
{
	struct vdp_vu_ctx *c = msg;
	struct vdp_port *p = port_of_vid(vid);

	if (p == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	pthread_mutex_lock(&p->lock);
	if (p->msg_req == c->request) {
		bool was_running = p->running;

		msg_done(p);
		if (was_running && !p->running)
			p->link_down_pending = true;
	}
	vdp_port_unlock(p);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops vdp_extern_ops = {
	.pre_msg_handle = pre_msg,
	.post_msg_handle = post_msg,
};

/* "0-1,3" for the bits of m */
static void
pair_list(uint32_t m, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (uint32_t k = 0; k < 32 && off < len; k++) {
		uint32_t e = k;

		if (!(m & (1u << k)))
			continue;
		while (e + 1 < 32 && (m & (1u << (e + 1))))
			e++;
		off += snprintf(buf + off, len - off, e == k ? "%s%u" : "%s%u-%u",
				off ? "," : "", k, e);
		k = e;
	}
}

/* Say which queue pairs carry traffic, whenever that changes. A pair is in
 * use when the guest has both its rings ready; served when this port has
 * both queues for it. Caller holds p->lock. */
static void
log_pairs(struct vdp_port *p)
{
	const struct rte_eth_dev_data *d = p->eth_dev->data;
	uint32_t ready = 0, rx_only = 0, unread = 0;
	char in_use[64], some[64];

	for (uint16_t k = 0; 2 * k + 1 < p->nb_vrings; k++) {
		if (!p->vring_enabled[2 * k] || !p->vring_enabled[2 * k + 1])
			continue;
		ready |= 1u << k;
		if (vdp_port_queue(p, 2 * k + 1) == NULL)
			unread |= 1u << k;
		else if (vdp_port_queue(p, 2 * k) == NULL)
			rx_only |= 1u << k;
	}
	if (ready == p->pairs_logged)
		return;
	p->pairs_logged = ready;
	pair_list(ready, in_use, sizeof(in_use));
	VDP_LOG(INFO, p, "queue pairs in use: %s (the guest set up %u, the port "
		"polls %u rx / %u tx queues)", ready ? in_use : "none",
		p->nb_vrings / 2, d->nb_rx_queues, d->nb_tx_queues);
	if (rx_only) {
		pair_list(rx_only, some, sizeof(some));
		VDP_LOG(INFO, p, "guest queue pair(s) %s: read through the port's rx "
			"queues, nothing sent to them (tx queue k sends to pair k)", some);
	}
	if (unread) {
		pair_list(unread, some, sizeof(some));
		VDP_LOG(WARNING, p, "guest queue pair(s) %s: no rx queue reads them "
			"(none set up, or no memory): what the guest sends there waits", some);
	}
}

/* ---- device callbacks ---- */

static int
new_connection(int vid)
{
	struct vdp_port *p = port_of_vid(vid);

	if (p == NULL)
		return -1;
	pthread_mutex_lock(&p->lock);
	if (p->vid >= 0 && p->connected) {
		/* one guest per port: a second VMM on a server socket is refused */
		pthread_mutex_unlock(&p->lock);
		VDP_LOG(ERR, p, "second connection refused: a guest is attached");
		return -1;
	}
	p->vid = vid;
	p->connected = true;
	p->running = false;
	p->msg_req = 0;
	p->nb_vrings = 0;
	memset(p->vring_enabled, 0, sizeof(p->vring_enabled));
	p->pairs_logged = 0;
	port_recover(p);
	pthread_mutex_unlock(&p->lock);
	if (rte_vhost_extern_callback_register(vid, &vdp_extern_ops, p) != 0) {
		VDP_LOG(ERR, p, "cannot hook vhost-user messages");
		return -1;
	}
	VDP_LOG(INFO, p, "VMM connected (%s)", p->args.server ? "we listen" : "we connected");
	return 0;
}

static void
destroy_connection(int vid)
{
	struct vdp_port *p = port_of_vid(vid);

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->vid == vid) {
		/* a device that never ran (refused) leaves nothing behind either */
		forget_session(p);
		port_recover(p);
	}
	vdp_port_unlock(p);
	VDP_LOG(INFO, p, "VMM disconnected%s", p->args.server ? "" :
		", reconnecting");
}

static int
new_device(int vid)
{
	struct vdp_port *p = port_of_vid(vid);
	char feats[512];
	uint64_t unmet;
	int ret;

	if (p == NULL)
		return -1;
	pthread_mutex_lock(&p->lock);
	if (p->failed && !port_recover(p)) {
		VDP_LOG(ERR, p, "device refused: a queue is still stuck in a burst "
			"of the previous session");
		ret = -EBUSY;
		goto out;
	}
	if (rte_vhost_get_negotiated_features(vid, &p->negotiated) != 0) {
		VDP_LOG(ERR, p, "cannot read negotiated features");
		ret = -EINVAL;
		goto out;
	}
	if (p->negotiated & ~p->offered & ~VDP_FEATURES_TRANSPORT) {
		vdp_features_str(p->negotiated & ~p->offered, feats, sizeof(feats));
		VDP_LOG(ERR, p, "guest acked features we did not offer: %s", feats);
		ret = -EINVAL;
		goto out;
	}
	unmet = vdp_features_unmet(p->negotiated);
	p->feat = p->negotiated & ~unmet;
	ret = vdp_queues_pause(p);
	if (ret == 0)
		ret = load_memmap(p);
	if (ret == 0)
		ret = load_rings(p, UINT32_MAX);
	if (ret != 0) {
		VDP_LOG(ERR, p, "device refused: link stays down");
		drop_device_state(p);
		goto out;
	}
	p->running = true;
	mem_node(p);
	vdp_features_str(p->negotiated & ~VDP_FEATURES_TRANSPORT, feats, sizeof(feats));
	VDP_LOG(INFO, p, "guest ready: %u vrings, header %u bytes, negotiated 0x%"
		PRIx64 " (%s)", p->nb_vrings, p->hdr_len, p->negotiated, feats);
	if (unmet) {
		vdp_features_str(unmet, feats, sizeof(feats));
		VDP_LOG(WARNING, p, "guest acked %s without the features they depend "
			"on (GUEST_CSUM / CSUM, or a TSO bit for ECN): ignored, "
			"handled as not negotiated", feats);
	}
	vdp_features_str(p->feat & VDP_FEATURES_OFFLOAD, feats, sizeof(feats));
	VDP_LOG(INFO, p, "offloads in use: %s%s", feats,
		__atomic_load_n(&p->csum_on, __ATOMIC_RELAXED) ? "" :
		" (host side off: done in software on this port)");
	vdp_port_apply_queues(p);
	log_pairs(p);
out:
	vdp_port_unlock(p);
	if (ret == 0 && !p->failed)
		vdp_port_link_update(p, true);
	return ret;
}

static void
destroy_device(int vid)
{
	struct vdp_port *p = port_of_vid(vid);

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->vid == vid && p->running) {
		uint32_t left;

		vdp_queues_pause(p);
		/* buffers already freed go back to the guest; the others are
		 * not waited for: this thread serves every guest */
		left = vdp_zc_quiesce(p, 0);
		handback_rings(p);
		VDP_LOG(INFO, p, "guest stopped: rings handed back%s",
			left != 0 ? " (some zero-copy buffers still held)" : "");
	}
	drop_device_state(p);
	p->msg_req = 0;
	p->pairs_logged = 0;
	/* an announce not yet received belongs to that session */
	__atomic_and_fetch(&p->rx_extra, ~VDP_RX_RARP, __ATOMIC_RELEASE);
	__atomic_store_n(&p->rarp, 0, __ATOMIC_RELEASE);
	port_recover(p);
	p->link_down_pending = true;
	vdp_port_unlock(p);
}

static int
vring_state_changed(int vid, uint16_t vring, int enable)
{
	struct vdp_port *p = port_of_vid(vid);

	if (p == NULL)
		return -1;
	if (vring >= VDP_MAX_VRINGS) {
		VDP_LOG(WARNING, p, "vring %u beyond the %u queue pairs we serve: ignored",
			vring, VDP_MAX_QUEUES);
		return 0;
	}
	pthread_mutex_lock(&p->lock);
	p->vring_enabled[vring] = enable != 0;
	VDP_LOG(DEBUG, p, "vring %u %s", vring, enable ? "ready" : "not ready");
	if (p->running && !p->failed) {
		uint16_t nr = rte_vhost_get_vring_num(vid);

		p->nb_vrings = RTE_MAX(p->nb_vrings, RTE_MIN(nr, VDP_MAX_VRINGS));
		/* a ring the guest enabled after the device started (more
		 * queue pairs, or its call/kick fd replaced): take it now,
		 * from where we were if we had it. Its queue is stopped: it
		 * was not ready until now. */
		if (enable && p->msg_req == 0 && vring < p->nb_vrings) {
			struct vdp_queue *q = vdp_port_queue_make(p, vring);

			if (q != NULL && !q->stuck && vdp_load_ring(p, vring, true) != 0)
				VDP_LOG(ERR, p, "vring %u refused: its queue stays stopped",
					vring);
		}
		vdp_port_apply_queues(p);
		log_pairs(p);
	}
	vdp_port_unlock(p);
	return 0;
}

static const struct rte_vhost_device_ops vdp_vhost_ops = {
	.new_device = new_device,
	.destroy_device = destroy_device,
	.vring_state_changed = vring_state_changed,
	.new_connection = new_connection,
	.destroy_connection = destroy_connection,
};

/* ---- the watchdog's round ---- */

/* Ports the watchdog failed this round: their link callbacks run after
 * the port list is unlocked (an application's LSC callback may look
 * ports up). */
struct wd_round {
	uint16_t down[RTE_MAX_ETHPORTS];
	uint16_t ndown;
};

static void
wd_port(struct vdp_port *p, void *arg)
{
	const uint64_t now = rte_get_timer_cycles(), hz = rte_get_timer_hz();
	struct wd_round *round = arg;
	struct vdp_queue *z, *zn;
	uint32_t faults = 0;

	/* never wait here: a control thread pausing this port does our job */
	if (pthread_mutex_trylock(&p->lock) != 0)
		return;
	for (uint16_t v = 0; v < VDP_MAX_VRINGS; v++) {
		struct vdp_queue *q = vdp_port_queue(p, v);

		if (q == NULL)
			continue;
		if (q->stuck && !__atomic_load_n(&q->busy, __ATOMIC_SEQ_CST)) {
			q->stuck = false;
			VDP_LOG(NOTICE, p, "%s queue %u left its burst after %" PRIu64 " ms",
				q->is_rx ? "rx" : "tx", q->qid,
				(now - q->stuck_tsc) * 1000 / hz);
			if (!p->running) {
				/* its session is over: forget what it kept */
				q->ring_ok = false;
				vdp_queue_close_call(q);
				vdp_intr_ring_forget(q);
				if (q->is_rx) {
					vdp_zc_queue_orphan(q);
					vdp_zc_port_handback(p);
				}
				vdp_gmap_use(q, NULL);
			}
		}
		/* a ring out of service (a failed port's too: failing does not
		 * pause) keeps no kick registered: a kick pending there would
		 * wake its sleeper at once, forever. allow cannot turn 1 while
		 * we hold the lock; busy 0 after allow 0: its lcore is out. */
		if (q->is_rx && !q->stuck && q->kick_ep >= 0 &&
		    !__atomic_load_n(&q->allow, __ATOMIC_SEQ_CST) &&
		    !__atomic_load_n(&q->busy, __ATOMIC_SEQ_CST))
			vdp_queue_kick_unregister(q);
	}
	for (z = TAILQ_FIRST(&p->zombies); z != NULL; z = zn) {
		zn = TAILQ_NEXT(z, zombie);
		if (!__atomic_load_n(&z->busy, __ATOMIC_SEQ_CST)) {
			TAILQ_REMOVE(&p->zombies, z, zombie);
			vdp_queue_close_call(z);
			vdp_intr_ring_forget(z);
			vdp_intr_queue_fini(z);
			vdp_zc_queue_orphan(z);
			vdp_gmap_use(z, NULL);
			vdp_queue_pend_free(z);
			rte_free(z);
		}
	}
	if (p->gmap != NULL) {
		pthread_mutex_lock(&vdp_gmem_lock);
		faults = vdp_gmap_faults(p->gmap) - p->gmap_faults;
		p->gmap_faults += faults;
		pthread_mutex_unlock(&vdp_gmem_lock);
	}
	if (faults != 0) {
		p->stat[VDP_PS_SIGBUS] += faults;
		/* failing clears every queue's allow: no wait needed here */
		if (p->running)
			vdp_port_fail(p, "%u access(es) past the end of a guest memory file "
				      "(the VMM shrank it): contained", faults);
	}
	if (p->link_down_pending) {
		p->link_down_pending = false;
		vdp_port_link_set(p, false);
		round->down[round->ndown++] = p->port_id;
	}
	pthread_mutex_unlock(&p->lock);
}

/* One round of the watchdog (vdevpeer_port.c runs it every
 * VDP_WATCHDOG_MS): what is left to reap afterwards. */
static uint32_t
watchdog_round(void)
{
	struct wd_round round = { .ndown = 0 };

	vdp_call_watch(rte_get_timer_cycles());
	vdp_ports_foreach(wd_port, &round);
	for (uint16_t i = 0; i < round.ndown; i++)
		vdp_port_lsc_notify(round.down[i]);
	return vdp_zc_reap() + vdp_gmap_reap();
}

/* ---- socket ---- */

/*
 * server=1: a socket file left by a crashed run is replaced; one that
 * somebody still listens on is not stolen.
 */
static int
claim_server_path(struct vdp_port *p)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (strlen(p->args.peer) >= sizeof(un.sun_path)) {
		VDP_LOG(ERR, p, "socket path longer than %zu bytes", sizeof(un.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	if (lstat(p->args.peer, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		VDP_LOG(ERR, p, "exists and is not a socket: not replaced");
		return -EEXIST;
	}
	strcpy(un.sun_path, p->args.peer);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (struct sockaddr *)&un, sizeof(un));
	close(fd);
	if (ret == 0) {
		VDP_LOG(ERR, p, "another process is listening on this socket: "
			"refusing to take it over");
		return -EADDRINUSE;
	}
	if (errno != ECONNREFUSED) {
		VDP_LOG(ERR, p, "cannot probe existing socket: %s", strerror(errno));
		return -errno;
	}
	if (unlink(p->args.peer) != 0) {
		VDP_LOG(ERR, p, "cannot remove stale socket: %s", strerror(errno));
		return -errno;
	}
	VDP_LOG(INFO, p, "replaced a stale socket file left by an earlier run");
	return 0;
}

/* librte_vhost releases whose message context is struct vdp_vu_ctx. */
static void
check_ctx_layout(struct vdp_port *p)
{
	static bool said;

	vu_ctx_known = RTE_VER_YEAR == 22 && RTE_VER_MONTH == 11 &&
		       strncmp(rte_version(), "DPDK 22.11", 10) == 0;
	if (!vu_ctx_known && !said) {
		said = true;
		VDP_LOG(WARNING, p, "%s: the fds of vhost-user messages are not "
			"checked before librte_vhost takes them (message layout known "
			"for DPDK 22.11)", rte_version());
	}
}

/*
 * What the socket offers. Not rte_vhost_driver_set_features: that marks the
 * device as "not virtio-net" for librte_vhost, which then calls new_device
 * only once *every* vring the VMM mentioned is ready - a guest that enables
 * 2 of its 4 queue pairs (Linux with fewer vCPUs than queues) would never
 * start. As a virtio-net device it waits for the first pair only and
 * reports the others through vring_state_changed, as they come and go.
 * librte_vhost's virtio-net set is a superset of what we implement
 * (checked below); only its own data path, which we never call, depends on
 * the difference.
 */
static int
offer_features(struct vdp_port *p)
{
	const uint64_t want = p->offered | VDP_FEATURES_TRANSPORT;
	uint64_t have = 0;

	if (rte_vhost_driver_disable_features(p->args.peer, ~want) != 0 ||
	    rte_vhost_driver_get_features(p->args.peer, &have) != 0) {
		VDP_LOG(ERR, p, "cannot set features");
		return -EIO;
	}
	if (have != want) {
		char miss[512];

		vdp_features_str(want & ~have, miss, sizeof(miss));
		VDP_LOG(ERR, p, "librte_vhost cannot offer %s", miss);
		return -ENOTSUP;
	}
	return 0;
}

int
vdp_vhost_register(struct vdp_port *p)
{
	uint64_t flags = 0;
	int ret;

	check_ctx_layout(p);
	vdp_call_unblock_init();
	vdp_gmem_set_holder(vdp_zc_holds);
	if (p->args.server) {
		ret = claim_server_path(p);
		if (ret != 0)
			return ret;
	} else {
		flags |= RTE_VHOST_USER_CLIENT; /* reconnects by default */
	}
	vdp_state_open(p);
	if (rte_vhost_driver_register(p->args.peer, flags) != 0) {
		VDP_LOG(ERR, p, "cannot register the vhost-user socket");
		return -EIO;
	}
	p->registered = true;
	ret = -EIO;
	if (offer_features(p) != 0)
		goto fail;
	if (rte_vhost_driver_set_protocol_features(p->args.peer, VDP_PROTOCOL_FEATURES) != 0) {
		VDP_LOG(ERR, p, "cannot set protocol features");
		goto fail;
	}
	if (rte_vhost_driver_callback_register(p->args.peer, &vdp_vhost_ops) != 0) {
		VDP_LOG(ERR, p, "cannot register callbacks");
		goto fail;
	}
	if (rte_vhost_driver_start(p->args.peer) != 0) {
		VDP_LOG(ERR, p, "cannot start the vhost-user socket");
		goto fail;
	}
	vdp_watchdog_start(watchdog_round);
	VDP_LOG(INFO, p, "%s", p->args.server ? "listening" :
		"connecting (reconnects when the VMM goes away)");
	return 0;
fail:
	rte_vhost_driver_unregister(p->args.peer);
	p->registered = false;
	vdp_state_close(p);
	return ret;
}

void
vdp_vhost_unregister(struct vdp_port *p)
{
	if (!p->registered)
		return;
	/* destroys a live device through destroy_device first, but never
	 * calls destroy_connection: forget the session here */
	rte_vhost_driver_unregister(p->args.peer);
	p->registered = false;
	pthread_mutex_lock(&p->lock);
	forget_session(p);
	pthread_mutex_unlock(&p->lock);
	vdp_state_close(p);
	vdp_watchdog_stop();
}
