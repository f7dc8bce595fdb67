/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vdevpeer control plane: the vhost-user session through librte_vhost's
 * external-backend API. librte_vhost parses the VMM's messages; we take
 * what it hands us (memory table, ring addresses, indexes, eventfds),
 * validate it again, and drive our own data path (vdp_ring.h).
 *
 * All callbacks here run on librte_vhost's event thread (see vdevpeer.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_vhost.h>
#include <ethdev_driver.h>

#include "vdevpeer.h"

/* vhost-user master request numbers (vhost-user protocol spec) */
enum {
	VU_SET_FEATURES = 2,
	VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5,
	VU_SET_LOG_BASE = 6,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
};

/* ---- queue pause / resume ---- */

/* Stop the lcore from touching the queue's ring and wait until it left. */
void
vdp_queue_pause(struct vdp_queue *q)
{
	uint64_t deadline;

	__atomic_store_n(&q->allow, 0, __ATOMIC_SEQ_CST);
	deadline = rte_get_timer_cycles() + 2 * rte_get_timer_hz();
	while (__atomic_load_n(&q->busy, __ATOMIC_SEQ_CST)) {
		if (rte_get_timer_cycles() > deadline) {
			/* A burst never takes seconds; say so, keep waiting. */
			VDP_LOG(WARNING, q->port, "queue %u (vring %u) still busy "
				"after 2 s, waiting", q->qid, q->vring_idx);
			deadline = rte_get_timer_cycles() + 2 * rte_get_timer_hz();
		}
		rte_pause();
	}
}

static void
pause_all(struct vdp_port *p)
{
	struct rte_eth_dev_data *d = p->eth_dev->data;

	for (uint16_t i = 0; i < d->nb_rx_queues; i++)
		if (d->rx_queues[i] != NULL)
			vdp_queue_pause(d->rx_queues[i]);
	for (uint16_t i = 0; i < d->nb_tx_queues; i++)
		if (d->tx_queues[i] != NULL)
			vdp_queue_pause(d->tx_queues[i]);
}

struct vdp_queue *
vdp_port_queue(struct vdp_port *p, uint16_t vring_idx)
{
	struct rte_eth_dev_data *d = p->eth_dev->data;
	uint16_t qid = vring_idx / 2;

	/* even vrings are the guest's RX: our TX queues, odd ones our RX */
	if (vring_idx & 1)
		return qid < d->nb_rx_queues ? d->rx_queues[qid] : NULL;
	return qid < d->nb_tx_queues ? d->tx_queues[qid] : NULL;
}

/*
 * Let each queue run iff the port is started, the device live, its vring
 * enabled by the guest and its ring sound. Caller holds p->lock.
 */
void
vdp_port_apply_queues(struct vdp_port *p)
{
	for (uint16_t v = 0; v < VDP_MAX_VRINGS; v++) {
		struct vdp_queue *q = vdp_port_queue(p, v);
		bool run;

		if (q == NULL)
			continue;
		run = p->started && p->running && !p->reconf && q->ring_ok &&
		      v < p->nb_vrings && p->vring_enabled[v] && !q->vr.broken;
		if (run)
			__atomic_store_n(&q->allow, 1, __ATOMIC_SEQ_CST);
		else
			vdp_queue_pause(q);
	}
}

/* ---- guest memory ---- */

/*
 * Build our memory map from librte_vhost's table, refusing regions whose
 * mapping is not backed by their file (touching past EOF is a SIGBUS) or
 * whose numbers do not add up.
 */
static int
load_memmap(struct vdp_port *p)
{
	struct rte_vhost_memory *mem = NULL;
	struct vdp_memmap mm;

	if (rte_vhost_get_mem_table(p->vid, &mem) != 0 || mem == NULL) {
		VDP_LOG(ERR, p, "no guest memory table");
		return -EINVAL;
	}
	if (mem->nregions == 0 || mem->nregions > VDP_MAX_REGIONS) {
		VDP_LOG(ERR, p, "guest memory table has %u regions (1..%u accepted)",
			mem->nregions, VDP_MAX_REGIONS);
		goto fail;
	}
	memset(&mm, 0, sizeof(mm));
	for (uint32_t i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *r = &mem->regions[i];
		uint64_t off = r->host_user_addr - (uint64_t)(uintptr_t)r->mmap_addr;
		struct stat st;

		if (r->size == 0 || r->host_user_addr < (uint64_t)(uintptr_t)r->mmap_addr ||
		    off > r->mmap_size || r->size > r->mmap_size - off ||
		    r->guest_phys_addr + r->size < r->guest_phys_addr) {
			VDP_LOG(ERR, p, "guest memory region %u inconsistent "
				"(gpa 0x%" PRIx64 " size 0x%" PRIx64 ")", i,
				r->guest_phys_addr, r->size);
			goto fail;
		}
		/* the region is mapped from file offset 0: it ends at off + size */
		if (r->fd >= 0 && fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    (uint64_t)st.st_size < off + r->size) {
			VDP_LOG(ERR, p, "guest memory region %u ends at file offset 0x%"
				PRIx64 ", past the end of its file (0x%" PRIx64
				" bytes)", i, off + r->size, (uint64_t)st.st_size);
			goto fail;
		}
		mm.r[i].gpa = r->guest_phys_addr;
		mm.r[i].size = r->size;
		mm.r[i].hva = r->host_user_addr;
	}
	mm.nregions = mem->nregions;
	/* zero-copy: our own mapping, which outlives librte_vhost's */
	p->zc_live = false;
	if (p->args.zerocopy != VDP_ZC_OFF &&
	    !(p->negotiated & VDP_BIT(VDP_F_IN_ORDER))) {
		if (vdp_zc_map_load(p, mem, &mm) == 0)
			p->zc_live = true;
		else
			vdp_zc_map_retire(p);
	}
	free(p->vmem);
	p->vmem = mem;
	p->mm = mm;
	return 0;
fail:
	free(mem);
	return -EINVAL;
}

/* ---- rings ---- */

/*
 * (Re)load vring v from librte_vhost into its queue. keep_idx: continue
 * from our own indexes (the ring moved) rather than the VMM's base.
 * Caller holds p->lock with the queue paused.
 */
int
vdp_load_ring(struct vdp_port *p, uint16_t v, bool keep_idx)
{
	struct vdp_queue *q = vdp_port_queue(p, v);
	struct rte_vhost_vring vring;
	uint16_t last_avail, last_used;
	struct vdp_vring *vr;
	bool same_ring;

	if (q == NULL)
		return 0;  /* the application did not set this queue up (yet) */
	vr = &q->vr;
	same_ring = keep_idx && q->ring_ok;
	if (same_ring) {
		last_avail = vr->last_avail;
		last_used = vr->used_idx;
	} else if (rte_vhost_get_vring_base(p->vid, v, &last_avail, &last_used) != 0) {
		VDP_LOG(ERR, p, "vring %u: no ring base", v);
		return -EINVAL;
	}
	q->ring_ok = false;
	if (rte_vhost_get_vhost_vring(p->vid, v, &vring) != 0) {
		VDP_LOG(ERR, p, "vring %u: not available", v);
		return -EINVAL;
	}
	for (int e = 0; e < VDP_ERR_MAX; e++)
		q->err_acc[e] += vr->err[e];
	q->budget_acc += vr->budget_stops;
	if (vdp_vring_init(vr, vdp_zc_xlate(p, vring.desc), vdp_zc_xlate(p, vring.avail),
			   vdp_zc_xlate(p, vring.used), vring.size, last_avail,
			   last_used) != 0) {
		VDP_LOG(ERR, p, "vring %u: size %u refused (a power of two "
			"up to %u expected)", v, vring.size, VDP_RING_SIZE_MAX);
		return -EINVAL;
	}
	vr->on_err = vdp_ring_err_log;
	vr->err_ctx = q;
	if (!vdp_vring_in_map(vr, &p->mm)) {
		VDP_LOG(ERR, p, "vring %u: ring tables outside guest memory", v);
		return -EINVAL;
	}
	vr->event_idx = !!(p->negotiated & VDP_BIT(VDP_F_EVENT_IDX));
	vr->indirect = !!(p->negotiated & VDP_BIT(VDP_F_INDIRECT_DESC));
	vr->mrg_rxbuf = !!(p->negotiated & VDP_BIT(VDP_F_MRG_RXBUF));
	vr->hdr_len = p->hdr_len;
	q->callfd = vring.callfd;
	vdp_split_suppress_kicks(vr);
	q->ring_ok = true;
	vdp_zc_queue_ring(q, same_ring);  /* on failure it copies: not fatal */
	return 0;
}

static int
load_rings(struct vdp_port *p, bool keep_idx)
{
	uint16_t nr = rte_vhost_get_vring_num(p->vid);

	if (nr > VDP_MAX_VRINGS)
		nr = VDP_MAX_VRINGS;
	p->nb_vrings = nr;
	p->hdr_len = (p->negotiated & (VDP_BIT(VDP_F_MRG_RXBUF) | VDP_BIT(VDP_F_VERSION_1))) ?
		     VDP_NET_HDR_LEN_MRG : VDP_NET_HDR_LEN_LEGACY;
	for (uint16_t v = 0; v < nr; v++) {
		int ret = vdp_load_ring(p, v, keep_idx);

		if (ret != 0)
			return ret;
	}
	return 0;
}

/* Hand our ring indexes back to librte_vhost: the VMM reads them next. */
static void
save_ring_bases(struct vdp_port *p)
{
	for (uint16_t v = 0; v < p->nb_vrings; v++) {
		struct vdp_queue *q = vdp_port_queue(p, v);

		if (q == NULL || !q->ring_ok)
			continue;
		rte_vhost_set_vring_base(p->vid, v, q->vr.last_avail, q->vr.used_idx);
		q->ring_ok = false;
	}
}

/* ---- vhost-user message hooks ---- */

static bool
changes_rings(uint32_t req)
{
	switch (req) {
	case VU_SET_FEATURES:
	case VU_RESET_OWNER:
	case VU_SET_MEM_TABLE:
	case VU_SET_LOG_BASE:
	case VU_SET_VRING_NUM:
	case VU_SET_VRING_ADDR:
	case VU_SET_VRING_BASE:
	case VU_SET_VRING_KICK:
	case VU_SET_VRING_CALL:
	case VU_SET_VRING_ERR:
		return true;
	default:
		return false;
	}
}

static struct vdp_port *
port_of_vid(int vid)
{
	char path[VDP_PATH_MAX];

	if (rte_vhost_get_ifname(vid, path, sizeof(path)) != 0)
		return NULL;
	return vdp_port_by_path(path);
}

/*
 * Before librte_vhost applies a message that remaps memory, moves a ring
 * or swaps an eventfd under a live device, stop our lcores touching them.
 */
static enum rte_vhost_msg_result
pre_msg(int vid, void *msg)
{
	struct vdp_port *p = port_of_vid(vid);
	uint32_t req;

	memcpy(&req, msg, sizeof(req)); /* request is the message's first field */
	if (p == NULL || !changes_rings(req))
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	pthread_mutex_lock(&p->lock);
	if (p->running && !p->reconf) {
		p->reconf = true;
		pause_all(p);
		/*
		 * Held zero-copy buffers need no wait here: they point into
		 * our own mapping of guest memory, which stays until the last
		 * of them is freed, whatever librte_vhost unmaps now. Give
		 * back what is done already.
		 */
		vdp_zc_quiesce(p, 0);
	}
	pthread_mutex_unlock(&p->lock);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static enum rte_vhost_msg_result
post_msg(int vid, void *msg)
{
	struct vdp_port *p = port_of_vid(vid);
	uint32_t req;

	memcpy(&req, msg, sizeof(req));
	if (p == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	pthread_mutex_lock(&p->lock);
	if (p->reconf) {
		p->reconf = false;
		if (p->running) {
			int ret = load_memmap(p);

			if (ret == 0)
				ret = load_rings(p, req != VU_SET_VRING_BASE);
			if (ret != 0) {
				VDP_LOG(ERR, p, "guest reconfiguration (request %u) "
					"refused: port down until the guest resets", req);
				p->running = false;
				vdp_port_link_update(p, false);
			}
		}
		vdp_port_apply_queues(p);
	}
	pthread_mutex_unlock(&p->lock);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops vdp_extern_ops = {
	.pre_msg_handle = pre_msg,
	.post_msg_handle = post_msg,
};

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
	p->nb_vrings = 0;
	memset(p->vring_enabled, 0, sizeof(p->vring_enabled));
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
		p->connected = false;
		p->vid = -1;
	}
	pthread_mutex_unlock(&p->lock);
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
	ret = load_memmap(p);
	if (ret == 0)
		ret = load_rings(p, false);
	if (ret != 0) {
		VDP_LOG(ERR, p, "device refused: link stays down");
		goto out;
	}
	p->running = true;
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
out:
	pthread_mutex_unlock(&p->lock);
	if (ret == 0)
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

		p->running = false;
		pause_all(p);
		/* held buffers back to the guest before the ring indexes go */
		left = vdp_zc_quiesce(p, VDP_ZC_QUIESCE_MS);
		save_ring_bases(p);
		VDP_LOG(INFO, p, "guest stopped: rings handed back%s",
			left != 0 ? " (some zero-copy buffers still held)" : "");
	}
	for (uint16_t i = 0; i < p->eth_dev->data->nb_rx_queues; i++)
		if (p->eth_dev->data->rx_queues[i] != NULL)
			vdp_zc_queue_orphan(p->eth_dev->data->rx_queues[i]);
	vdp_zc_map_retire(p);
	p->reconf = false;
	free(p->vmem);
	p->vmem = NULL;
	memset(&p->mm, 0, sizeof(p->mm));
	pthread_mutex_unlock(&p->lock);
	vdp_port_link_update(p, false);
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
	if (p->running)
		vdp_port_apply_queues(p);
	pthread_mutex_unlock(&p->lock);
	VDP_LOG(DEBUG, p, "vring %u %s", vring, enable ? "enabled" : "disabled");
	return 0;
}

static const struct rte_vhost_device_ops vdp_vhost_ops = {
	.new_device = new_device,
	.destroy_device = destroy_device,
	.vring_state_changed = vring_state_changed,
	.new_connection = new_connection,
	.destroy_connection = destroy_connection,
};

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

int
vdp_vhost_register(struct vdp_port *p)
{
	uint64_t flags = 0;
	int ret;

	if (p->args.server) {
		ret = claim_server_path(p);
		if (ret != 0)
			return ret;
	} else {
		flags |= RTE_VHOST_USER_CLIENT; /* reconnects by default */
	}
	if (rte_vhost_driver_register(p->args.peer, flags) != 0) {
		VDP_LOG(ERR, p, "cannot register the vhost-user socket");
		return -EIO;
	}
	p->registered = true;
	ret = -EIO;
	if (rte_vhost_driver_set_features(p->args.peer,
					  p->offered | VDP_FEATURES_TRANSPORT) != 0) {
		VDP_LOG(ERR, p, "cannot set features");
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
	VDP_LOG(INFO, p, "%s", p->args.server ? "listening" :
		"connecting (reconnects when the VMM goes away)");
	return 0;
fail:
	rte_vhost_driver_unregister(p->args.peer);
	p->registered = false;
	return ret;
}

void
vdp_vhost_unregister(struct vdp_port *p)
{
	if (!p->registered)
		return;
	/* destroys a live device through destroy_device first */
	rte_vhost_driver_unregister(p->args.peer);
	p->registered = false;
}
