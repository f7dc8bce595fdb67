/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vdevpeer: the host side of a VM's virtio-net device, as a DPDK
 * ethdev. This file: ethdev ops, probe/remove, registration, public API.
 * vhost-user session: vdevpeer_vhost.c; data path: vdevpeer_rxtx.c and
 * the EAL-free ring walkers in vdp_split.c.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <rte_malloc.h>
#include <rte_vhost.h>

#include "rte_pmd_vdevpeer.h"
#include "vdevpeer.h"
#include "vdevpeer_args.h"
#include "vdevpeer_call.h"
#include "vdevpeer_gmem.h"
#include "vdevpeer_intr.h"
#include "vdevpeer_port.h"
#include "vdevpeer_rxtx.h"
#include "vdevpeer_vhost.h"
#include "vdevpeer_xstats.h"
#include "vdevpeer_zcopy.h"

RTE_LOG_REGISTER(vdp_logtype_ctrl, pmd.net.vdevpeer.ctrl, INFO);
RTE_LOG_REGISTER(vdp_logtype_data, pmd.net.vdevpeer.data, NOTICE);

/* Frames we accept from a guest, hence the largest MTU. */
#define VDP_MAX_RX_PKTLEN VDP_TX_FRAME_MAX
#define VDP_MIN_MTU 68
#define VDP_MAX_MTU (UINT16_MAX - RTE_ETHER_HDR_LEN - 2 * 4)

static const struct eth_dev_ops vdp_ops;

/* ---- ethdev ops ---- */
static void fold_reset(struct vdp_port *p);

static int
eth_vdevpeer_configure(struct rte_eth_dev *dev)
{
	struct vdp_port *p = dev->data->dev_private;

	if (dev->data->nb_rx_queues > p->args.queues ||
	    dev->data->nb_tx_queues > p->args.queues) {
		VDP_LOG(ERR, p, "%u rx / %u tx queues asked, the port has queues=%u",
			dev->data->nb_rx_queues, dev->data->nb_tx_queues, p->args.queues);
		return -EINVAL;
	}
	/* What the application takes from us on RX: partial checksums and
	 * GSO frames as mbuf offload flags; otherwise we complete them. */
	p->rx_ol_csum = (dev->data->dev_conf.rxmode.offloads &
			 (RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM)) ==
			(RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
	p->rx_ol_lro = (dev->data->dev_conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO) != 0;
	fold_reset(p);   /* another rx queue count folds guest pairs anew */
	if (vdp_intr_configure(dev) != 0) {
		VDP_LOG(ERR, p, "cannot set up rx interrupts");
		return -ENOMEM;
	}
	return 0;
}

/*
 * Offload capabilities from the virtio features: those the guest
 * negotiated while it is up, those we offer before. Nothing with the
 * port's host-side offload switched off (csum=0).
 */
static void
vdp_offload_capa(const struct vdp_port *p, uint64_t *rx, uint64_t *tx)
{
	uint64_t f = p->running ? p->feat : p->offered & ~vdp_features_unmet(p->offered);

	*rx = RTE_ETH_RX_OFFLOAD_SCATTER;
	*tx = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (!__atomic_load_n(&p->csum_on, __ATOMIC_RELAXED))
		return;
	if (f & VDP_BIT(VDP_F_CSUM))
		*rx |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	if (f & (VDP_BIT(VDP_F_HOST_TSO4) | VDP_BIT(VDP_F_HOST_TSO6)))
		*rx |= RTE_ETH_RX_OFFLOAD_TCP_LRO;
	if (f & VDP_BIT(VDP_F_GUEST_CSUM))
		*tx |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
		       RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	if (f & (VDP_BIT(VDP_F_GUEST_TSO4) | VDP_BIT(VDP_F_GUEST_TSO6)))
		*tx |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
}

static int
eth_vdevpeer_infos_get(struct rte_eth_dev *dev, struct rte_eth_dev_info *info)
{
	struct vdp_port *p = dev->data->dev_private;

	info->driver_name = RTE_PMD_VDEVPEER_DRIVER_NAME;
	info->if_index = 0;
	info->max_mac_addrs = 1;
	info->max_rx_pktlen = VDP_MAX_RX_PKTLEN;
	info->min_mtu = VDP_MIN_MTU;
	info->max_mtu = VDP_MAX_MTU;
	info->max_rx_queues = p->args.queues;
	info->max_tx_queues = p->args.queues;
	info->min_rx_bufsize = 0;
	vdp_offload_capa(p, &info->rx_offload_capa, &info->tx_offload_capa);
	info->max_lro_pkt_size = VDP_MAX_RX_PKTLEN;
	info->rx_desc_lim.nb_max = UINT16_MAX;
	info->tx_desc_lim.nb_max = UINT16_MAX;
	info->speed_capa = RTE_ETH_LINK_SPEED_10G;
	return 0;
}

static void
set_queue_states(struct rte_eth_dev *dev, uint8_t state)
{
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++)
		dev->data->rx_queue_state[i] = state;
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++)
		dev->data->tx_queue_state[i] = state;
}

static int
eth_vdevpeer_start(struct rte_eth_dev *dev)
{
	struct vdp_port *p = dev->data->dev_private;

	pthread_mutex_lock(&p->lock);
	p->started = true;
	/* queues set up after the guest came up take their rings now (not
	 * while librte_vhost applies a message: its post handler does it) */
	for (uint16_t v = 0; p->running && !p->failed && p->msg_req == 0 &&
	     v < p->nb_vrings; v++) {
		struct vdp_queue *q = p->vring_enabled[v] ? vdp_port_queue_make(p, v) : NULL;

		if (q != NULL && !q->ring_ok && !q->stuck &&
		    vdp_load_ring(p, v, false) != 0)
			VDP_LOG(ERR, p, "vring %u refused: its queue stays stopped", v);
	}
	vdp_port_apply_queues(p);
	vdp_port_unlock(p);
	set_queue_states(dev, RTE_ETH_QUEUE_STATE_STARTED);
	return 0;
}

static int
eth_vdevpeer_stop(struct rte_eth_dev *dev)
{
	struct vdp_port *p = dev->data->dev_private;

	pthread_mutex_lock(&p->lock);
	p->started = false;
	vdp_port_apply_queues(p);
	/* zero-copy buffers still held go back to the guest as they come;
	 * those not back in time stay held across a restart */
	if (p->running && vdp_zc_quiesce(p, VDP_ZC_QUIESCE_MS) != 0)
		VDP_LOG(WARNING, p, "stopped with zero-copy buffers still held "
			"by the application");
	vdp_port_unlock(p);
	set_queue_states(dev, RTE_ETH_QUEUE_STATE_STOPPED);
	return 0;
}

/*
 * Drop the queue in *slot. Its ring indexes go back to librte_vhost first,
 * so a queue set up again later continues where this one stopped (not
 * while librte_vhost applies a message: it may be moving that very ring).
 * The slot is cleared under the port lock, before the queue is freed: the
 * vhost-user thread finds queues through it. A queue whose lcore is stuck
 * in a burst is freed by the watchdog once it left.
 */
/* Its ring's position back to librte_vhost, the rest forgotten. Caller
 * holds p->lock, the queue paused (not stuck). */
static void
queue_hand_back(struct vdp_port *p, struct vdp_queue *q)
{
	if (q->ring_ok && p->vid >= 0 && p->msg_req == 0)
		rte_vhost_set_vring_base(p->vid, q->vring_idx, vdp_vq_avail_base(&q->vr),
					 vdp_vq_used_base(&q->vr));
	q->ring_ok = false;
	vdp_zc_queue_orphan(q);
	vdp_queue_close_call(q);
	vdp_intr_ring_forget(q);
	vdp_gmap_use(q, NULL);
}

static void
queue_free(struct vdp_port *p, void **slot)
{
	struct vdp_queue *q;
	bool zombie;

	pthread_mutex_lock(&p->lock);
	q = *slot;
	if (q == NULL) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	vdp_queue_pause(q);
	*slot = NULL;
	zombie = q->stuck;
	if (zombie) {
		TAILQ_INSERT_TAIL(&p->zombies, q, zombie);
		VDP_LOG(WARNING, p, "%s queue %u released while its lcore is stuck in a "
			"burst: freed when it leaves", q->is_rx ? "rx" : "tx", q->qid);
	} else {
		queue_hand_back(p, q);
	}
	vdp_port_unlock(p);
	if (!zombie) {
		vdp_queue_pend_free(q);
		vdp_intr_queue_fini(q);
		rte_free(q);
	}
}

/*
 * The queues reading guest pairs beyond the port's rx queues hand their
 * rings back: they are read through rx queues that are being set up
 * again (another count, another mempool). Loaded again at the next start.
 * Freed only at close: an lcore may be reading fold_rx.
 */
static void
fold_reset(struct vdp_port *p)
{
	pthread_mutex_lock(&p->lock);
	for (uint16_t k = 0; k < VDP_MAX_QUEUES; k++) {
		struct vdp_queue *q = p->fold_rx[k];

		if (q != NULL && vdp_queue_pause(q) == 0)
			queue_hand_back(p, q);
	}
	vdp_port_unlock(p);
}

/* (Re)create queue qid of one direction; the guest sizes the rings. */
static int
queue_setup(struct rte_eth_dev *dev, uint16_t qid, bool is_rx, unsigned int socket,
	    struct rte_mempool *mp)
{
	struct vdp_port *p = dev->data->dev_private;
	void **slot = is_rx ? &dev->data->rx_queues[qid] : &dev->data->tx_queues[qid];
	struct vdp_queue *q;

	if (is_rx)
		fold_reset(p);
	queue_free(p, slot);
	if (is_rx)
		vdp_intr_queue_fd(dev, qid, -1);   /* closed with the queue */
	q = vdp_queue_new(p, qid, is_rx, (int)socket);
	if (q == NULL)
		return -ENOMEM;
	if (is_rx && vdp_intr_queue_init(q) != 0) {
		rte_free(q);
		return -ENOMEM;
	}
	q->mp = mp;
	pthread_mutex_lock(&p->lock);
	*slot = q;
	pthread_mutex_unlock(&p->lock);
	if (is_rx)
		vdp_intr_queue_fd(dev, qid, q->wake_ep);
	return 0;
}

static int
eth_vdevpeer_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			    unsigned int socket, const struct rte_eth_rxconf *conf,
			    struct rte_mempool *mp)
{
	RTE_SET_USED(nb_desc);
	RTE_SET_USED(conf);
	return queue_setup(dev, qid, true, socket, mp);
}

static int
eth_vdevpeer_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			    unsigned int socket, const struct rte_eth_txconf *conf)
{
	RTE_SET_USED(nb_desc);
	RTE_SET_USED(conf);
	return queue_setup(dev, qid, false, socket, NULL);
}

static void
eth_vdevpeer_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	fold_reset(dev->data->dev_private);
	queue_free(dev->data->dev_private, &dev->data->rx_queues[qid]);
	vdp_intr_queue_fd(dev, qid, -1);
}

static void
eth_vdevpeer_tx_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	queue_free(dev->data->dev_private, &dev->data->tx_queues[qid]);
}

static int
eth_vdevpeer_link_update(struct rte_eth_dev *dev, int wait)
{
	struct vdp_port *p = dev->data->dev_private;
	bool up;

	RTE_SET_USED(wait);
	/* A secondary process (dpdk-dumpcap, dpdk-proc-info) reads the link
	 * the primary keeps in the shared port data; p->eth_dev is the
	 * primary's pointer. */
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	pthread_mutex_lock(&p->lock);
	up = p->running && !p->failed;
	vdp_port_link_set(p, up);   /* the op itself reports: no event */
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* A queue's drops of every reason but an empty mbuf pool (counted apart
 * as rx_nombuf): each counter read once. */
static uint64_t
queue_drops_but_nombuf(const struct vdp_queue *q)
{
	uint64_t d = VDP_CNT_GET(q->drop_paused);

	for (int e = VDP_ERR_FIRST; e < VDP_ERR_MAX; e++)
		if (e != VDP_ERR_NO_MBUF)
			d += vdp_queue_err(q, e);
	return d;
}

static int
eth_vdevpeer_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *st)
{
	/* a folded guest pair counts with the rx queue that reads it */
	for (uint16_t k = 0; k < VDP_MAX_QUEUES && dev->data->nb_rx_queues != 0; k++) {
		const struct vdp_queue *q = vdp_port_rxq(dev->data->dev_private, k);
		const uint16_t i = k % dev->data->nb_rx_queues;
		uint64_t pkts, bytes, drops, nombuf;

		if (q == NULL)
			continue;
		pkts = VDP_CNT_GET(q->pkts);
		bytes = VDP_CNT_GET(q->bytes);
		drops = queue_drops_but_nombuf(q);
		nombuf = vdp_queue_err(q, VDP_ERR_NO_MBUF);
		st->ipackets += pkts;
		st->ibytes += bytes;
		st->ierrors += drops;
		st->rx_nombuf += nombuf;
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			st->q_ipackets[i] += pkts;
			st->q_ibytes[i] += bytes;
			st->q_errors[i] += drops + nombuf;
		}
	}
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++) {
		const struct vdp_queue *q = dev->data->tx_queues[i];
		uint64_t pkts, bytes;

		if (q == NULL)
			continue;
		pkts = VDP_CNT_GET(q->pkts);
		bytes = VDP_CNT_GET(q->bytes);
		st->opackets += pkts;
		st->obytes += bytes;
		st->oerrors += queue_drops_but_nombuf(q) + vdp_queue_err(q, VDP_ERR_NO_MBUF);
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			st->q_opackets[i] = pkts;
			st->q_obytes[i] = bytes;
		}
	}
	return 0;
}

static void
queue_reset(struct vdp_queue *q)
{
	if (q == NULL)
		return;
	q->pkts = q->bytes = q->calls = q->drop_paused = q->peer = 0;
	q->peer_held = q->peer_hold_over = 0;
	memset(q->call_stat, 0, sizeof(q->call_stat));
	memset(q->zc.stat, 0, sizeof(q->zc.stat));
	memset(q->bins, 0, sizeof(q->bins));
	memset(q->ol, 0, sizeof(q->ol));
	memset(q->err_acc, 0, sizeof(q->err_acc));
	memset(q->vr.err, 0, sizeof(q->vr.err));
	q->budget_acc = q->vr.budget_stops = 0;
}

static int
eth_vdevpeer_stats_reset(struct rte_eth_dev *dev)
{
	struct vdp_port *p = dev->data->dev_private;

	pthread_mutex_lock(&p->lock);
	memset(p->stat, 0, sizeof(p->stat));
	pthread_mutex_unlock(&p->lock);
	for (uint16_t k = 0; k < VDP_MAX_QUEUES; k++)
		queue_reset(vdp_port_rxq(p, k));
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++)
		queue_reset(dev->data->tx_queues[i]);
	return 0;
}

static int
eth_vdevpeer_promisc(struct rte_eth_dev *dev)
{
	/* A guest port delivers every frame it is given: always promiscuous. */
	RTE_SET_USED(dev);
	return 0;
}

static int
eth_vdevpeer_mac_set(struct rte_eth_dev *dev, struct rte_ether_addr *mac)
{
	struct vdp_port *p = dev->data->dev_private;

	if (rte_is_multicast_ether_addr(mac) || rte_is_zero_ether_addr(mac)) {
		VDP_LOG(ERR, p, "MAC " RTE_ETHER_ADDR_PRT_FMT " refused: unicast, "
			"non-zero expected", RTE_ETHER_ADDR_BYTES(mac));
		return -EINVAL;
	}
	if (!(mac->addr_bytes[0] & RTE_ETHER_LOCAL_ADMIN_ADDR))
		VDP_LOG(WARNING, p, "MAC " RTE_ETHER_ADDR_PRT_FMT " is not locally "
			"administered", RTE_ETHER_ADDR_BYTES(mac));
	p->args.mac = *mac;
	return 0;
}

static int
eth_vdevpeer_mtu_set(struct rte_eth_dev *dev, uint16_t mtu)
{
	/* The checks against min/max_mtu are ethdev's; the guest's own MTU is
	 * the VMM's business (QEMU host_mtu=). Nothing else to do here. */
	RTE_SET_USED(dev);
	RTE_SET_USED(mtu);
	return 0;
}

static int eth_vdevpeer_close(struct rte_eth_dev *dev);

static const struct eth_dev_ops vdp_ops = {
	.dev_configure = eth_vdevpeer_configure,
	.dev_infos_get = eth_vdevpeer_infos_get,
	.dev_start = eth_vdevpeer_start,
	.dev_stop = eth_vdevpeer_stop,
	.dev_close = eth_vdevpeer_close,
	.rx_queue_setup = eth_vdevpeer_rx_queue_setup,
	.tx_queue_setup = eth_vdevpeer_tx_queue_setup,
	.rx_queue_release = eth_vdevpeer_rx_queue_release,
	.tx_queue_release = eth_vdevpeer_tx_queue_release,
	.link_update = eth_vdevpeer_link_update,
	.stats_get = eth_vdevpeer_stats_get,
	.stats_reset = eth_vdevpeer_stats_reset,
	.xstats_get = vdp_xstats_get,
	.xstats_get_names = vdp_xstats_get_names,
	.xstats_reset = eth_vdevpeer_stats_reset,
	.promiscuous_enable = eth_vdevpeer_promisc,
	.promiscuous_disable = eth_vdevpeer_promisc,
	.allmulticast_enable = eth_vdevpeer_promisc,
	.allmulticast_disable = eth_vdevpeer_promisc,
	.mac_addr_set = eth_vdevpeer_mac_set,
	.mtu_set = eth_vdevpeer_mtu_set,
	.rx_queue_intr_enable = vdp_intr_rx_enable,
	.rx_queue_intr_disable = vdp_intr_rx_disable,
};

static int
eth_vdevpeer_close(struct rte_eth_dev *dev)
{
	struct vdp_port *p = dev->data->dev_private;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	/* the vhost thread may call us back while we unregister: no lock held */
	vdp_vhost_unregister(p);
	/* Off the list before the queues go: rte_pmd_vdevpeer_get_info (on
	 * the telemetry thread) only looks at ports on the list. */
	vdp_port_list_remove(p);
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++)
		eth_vdevpeer_rx_queue_release(dev, i);
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++)
		eth_vdevpeer_tx_queue_release(dev, i);
	for (uint16_t k = 0; k < VDP_MAX_QUEUES; k++)
		queue_free(p, &p->fold_rx[k]);
	__atomic_and_fetch(&p->rx_extra, ~VDP_RX_FOLDED, __ATOMIC_RELEASE);
	pthread_mutex_lock(&p->lock);
	vdp_gmap_port_gone(p);
	vdp_zc_port_gone(p);
	if (!TAILQ_EMPTY(&p->zombies))
		VDP_LOG(ERR, p, "closed with queues whose lcore is still stuck in a "
			"burst: their memory is leaked");
	pthread_mutex_unlock(&p->lock);
	vdp_intr_close(dev);
	VDP_LOG(INFO, p, "closed");
	pthread_mutex_destroy(&p->lock);
	return 0;
}

/* ---- probe / remove ---- */
static void
log_offer(struct vdp_port *p)
{
	char buf[512];
	uint64_t ufo = p->args.peerfeats & VDP_FEATURES_UFO;
	uint64_t unimpl = p->args.peerfeats & ~VDP_FEATURES_IMPLEMENTED & ~ufo;

	vdp_features_str(p->offered, buf, sizeof(buf));
	VDP_LOG(INFO, p, "offering 0x%" PRIx64 " (%s)", p->offered, buf);
	if (ufo) {
		vdp_features_str(ufo, buf, sizeof(buf));
		VDP_LOG(NOTICE, p, "peerfeats 0x%" PRIx64 ": %s dropped, not offered: "
			"UDP fragmentation offload is deprecated by virtio and Linux "
			"and not implemented (UDP checksum offload still is)",
			p->args.peerfeats, buf);
	}
	if (unimpl) {
		vdp_features_str(unimpl, buf, sizeof(buf));
		VDP_LOG(NOTICE, p, "peerfeats 0x%" PRIx64 ": not implemented, not "
			"offered: %s", p->args.peerfeats, buf);
	}
}

static int
vdp_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct rte_eth_dev *dev;
	struct vdp_port *p;
	struct vdp_args args;
	char who[VDP_NAME_MAX + 40];
	int ret;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		dev = rte_eth_dev_attach_secondary(name);
		if (dev == NULL) {
			VDP_LOG_NOPORT(ERR, "%s: cannot attach in secondary process", name);
			return -ENODEV;
		}
		dev->dev_ops = &vdp_ops;
		dev->device = &vdev->device;
		/* the rings belong to the primary: no data path here */
		dev->rx_pkt_burst = rte_eth_pkt_burst_dummy;
		dev->tx_pkt_burst = rte_eth_pkt_burst_dummy;
		rte_eth_dev_probing_finish(dev);
		return 0;
	}

	ret = vdp_args_parse(name, rte_vdev_device_args(vdev), &args);
	if (ret != 0)
		return ret;

	dev = rte_eth_vdev_allocate(vdev, sizeof(*p));
	if (dev == NULL) {
		VDP_LOG_NOPORT(ERR, "%s: cannot allocate ethdev", name);
		return -ENOMEM;
	}
	p = dev->data->dev_private;
	p->args = args;
	p->eth_dev = dev;
	p->port_id = dev->data->port_id;
	p->vid = -1;
	p->mem_node = VDP_NUMA_UNKNOWN;
	if (args.numa_node >= 0)   /* where the application puts its queues */
		dev->data->numa_node = args.numa_node;
	p->csum_on = args.csum;
	p->hold_cycles = (uint64_t)args.peer_hold_us * rte_get_tsc_hz() / 1000000u;
	pthread_mutex_init(&p->lock, NULL);
	TAILQ_INIT(&p->zombies);

	p->offered = args.peerfeats & VDP_FEATURES_IMPLEMENTED;
	if (args.legacy)
		p->offered &= ~(VDP_BIT(VDP_F_VERSION_1) | VDP_BIT(VDP_F_MRG_RXBUF));
	if (args.queues == 1)
		p->offered &= ~VDP_BIT(VDP_F_MQ);

	dev->data->mac_addrs = rte_zmalloc_socket(name, sizeof(struct rte_ether_addr), 0,
						  vdev->device.numa_node);
	if (dev->data->mac_addrs == NULL) {
		ret = -ENOMEM;
		goto fail_release;
	}
	p->eth_dev->data->mac_addrs[0] = args.mac;
	dev->data->dev_flags |= RTE_ETH_DEV_INTR_LSC;
	dev->data->promiscuous = 1;
	dev->data->all_multicast = 1;
	dev->dev_ops = &vdp_ops;
	dev->rx_pkt_burst = eth_vdevpeer_rx;
	dev->tx_pkt_burst = eth_vdevpeer_tx;

	ret = vdp_port_list_add(p, who, sizeof(who));
	if (ret != 0) {
		VDP_LOG_NOPORT(ERR, "%s: %s", name, who);
		goto fail_release;
	}

	log_offer(p);
	ret = vdp_vhost_register(p);
	if (ret != 0)
		goto fail_list;

	VDP_LOG(INFO, p, "port %u, mac " RTE_ETHER_ADDR_PRT_FMT ", %u queue pair(s)%s, "
		"zero-copy %s%s", p->port_id, RTE_ETHER_ADDR_BYTES(&args.mac), args.queues,
		args.legacy ? ", legacy header" : "",
		args.zerocopy == VDP_ZC_OFF ? "off" : args.zerocopy == VDP_ZC_ON ? "on" : "auto",
		args.csum ? "" : ", host-side offload off (csum=0): checksums and "
		"segmentation in software");
	rte_eth_dev_probing_finish(dev);
	return 0;

fail_list:
	vdp_port_list_remove(p);
fail_release:
	pthread_mutex_destroy(&p->lock);
	rte_eth_dev_release_port(dev);
	return ret;
}

static int
vdp_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *dev = rte_eth_dev_allocated(rte_vdev_device_name(vdev));

	if (dev == NULL)
		return 0; /* already closed */
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return rte_eth_dev_release_port(dev);
	rte_eth_dev_close(dev->data->port_id);
	return 0;
}

static struct rte_vdev_driver vdp_driver = {
	.probe = vdp_probe,
	.remove = vdp_remove,
};

/*
 * Two copies of this driver can end up in one process: the one an
 * application links (the build tree's) and the installed one EAL loads
 * from its driver directory, or a -d of the same driver. Both would
 * register net_vdevpeer and the /vdevpeer telemetry commands, and ports
 * probed by one would be unknown to the other's API. The copy loaded
 * second finds the first among the loaded objects (by one of our public
 * symbols resolving to another address) and stays unregistered.
 */
#define VDP_COPY_MAX 64

struct copy_scan {
	void *self_base;
	unsigned int n;
	char names[VDP_COPY_MAX][PATH_MAX];
};

static int
copy_scan_cb(struct dl_phdr_info *info, size_t size __rte_unused, void *arg)
{
	struct copy_scan *cs = arg;

	if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0' ||
	    (void *)info->dlpi_addr == cs->self_base || cs->n == VDP_COPY_MAX)
		return 0;
	if (strstr(info->dlpi_name, "vdevpeer") != NULL)
		snprintf(cs->names[cs->n++], PATH_MAX, "%s", info->dlpi_name);
	return 0;
}

/* Local: its address is in this copy (a public function's address may be
 * the other copy's, which interposes it). */
static void
copy_anchor(void)
{
}

const char *
vdp_other_copy(void)
{
	static int checked;
	static char other[PATH_MAX];
	static struct copy_scan cs; /* PATH_MAX names: not on the stack */
	void *mine = (void *)(uintptr_t)copy_anchor;
	Dl_info self, theirs;

	if (checked)
		return other[0] != '\0' ? other : NULL;
	checked = 1;
	if (dladdr(mine, &self) == 0)
		return NULL;
	cs.self_base = self.dli_fbase;
	cs.n = 0;
	dl_iterate_phdr(copy_scan_cb, &cs);
	for (unsigned int i = 0; i < cs.n; i++) {
		void *h = dlopen(cs.names[i], RTLD_LAZY | RTLD_NOLOAD);
		void *sym;

		if (h == NULL)
			continue;
		sym = dlsym(h, "rte_pmd_vdevpeer_xstat_doc");
		dlclose(h);
		if (sym != NULL && dladdr(sym, &theirs) != 0 &&
		    theirs.dli_fbase != self.dli_fbase) {
			snprintf(other, sizeof(other), "%s", theirs.dli_fname);
			RTE_LOG(INFO, PMD, "net_vdevpeer: %s is loaded already: this copy "
				"(%s) stays unregistered\n", other, self.dli_fname);
			return other;
		}
	}
	return NULL;
}

/* RTE_PMD_REGISTER_VDEV, unless another copy registered the driver. */
RTE_INIT(vdp_driver_register)
{
	if (vdp_other_copy() != NULL)
		return;
	vdp_driver.driver.name = RTE_STR(net_vdevpeer);
	rte_vdev_register(&vdp_driver);
}
RTE_PMD_EXPORT_NAME(net_vdevpeer, __COUNTER__);
RTE_PMD_REGISTER_PARAM_STRING(net_vdevpeer,
	"peer=<path> server=<0|1> bind=<name> mac=<aa:bb:cc:dd:ee:ff|aabbccddeeff|random> "
	"peerfeats=<mask> queues=<1..8> legacy=<0|1> csum=<0|1> zerocopy=<auto|on|off> "
	"numa_node=<node> peer_hold_us=<0..1000000>");

/* ---- public API (rte_pmd_vdevpeer.h) ---- */
static struct vdp_port *
port_of(uint16_t port_id)
{
	struct rte_eth_dev *dev;

	if (!rte_eth_dev_is_valid_port(port_id))
		return NULL;
	dev = &rte_eth_devices[port_id];
	if (dev->dev_ops != &vdp_ops || rte_eal_process_type() != RTE_PROC_PRIMARY)
		return NULL;
	return dev->data->dev_private;
}

bool
rte_pmd_vdevpeer_is_vdevpeer(uint16_t port_id)
{
	return port_of(port_id) != NULL;
}

const char *
rte_pmd_vdevpeer_bind_name(uint16_t port_id)
{
	struct vdp_port *p = port_of(port_id);

	return p != NULL ? p->args.bind : NULL;
}

static void
port_id_fill(struct vdp_port *p, void *out)
{
	*(uint16_t *)out = p->port_id;
}

int
rte_pmd_vdevpeer_port_by_bind(const char *name, uint16_t *port_id)
{
	return vdp_port_with(0, name, port_id_fill, port_id);
}

/* Under the port list lock (vdp_port_with): the port cannot be closed meanwhile. */
static void
port_info_fill(struct vdp_port *p, void *out)
{
	struct rte_pmd_vdevpeer_info *info = out;
	struct vdp_queue *q;

	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&p->lock);
	snprintf(info->bind, sizeof(info->bind), "%s", p->args.bind);
	snprintf(info->peer, sizeof(info->peer), "%s", p->args.peer);
	info->server = p->args.server;
	info->connected = p->connected;
	info->running = p->running;
	info->peerfeats = p->args.peerfeats;
	info->offered = p->offered;
	info->negotiated = p->running ? p->negotiated : 0;
	info->active = p->running ? p->feat : 0;
	info->csum = __atomic_load_n(&p->csum_on, __ATOMIC_RELAXED) != 0;
	info->nb_queues = p->args.queues;
	info->hdr_len = p->running ? p->hdr_len : 0;
	info->packed = (info->negotiated & VDP_BIT(VDP_F_RING_PACKED)) != 0;
	info->nb_vrings = p->running ? p->nb_vrings : 0;
	info->zero_copy = p->running && p->zc_live;
	memcpy(info->mac, p->args.mac.addr_bytes, sizeof(info->mac));
	RTE_BUILD_BUG_ON(VDP_MAX_VRINGS > RTE_PMD_VDEVPEER_MAX_VRINGS);
	for (uint16_t v = 0; v < VDP_MAX_VRINGS; v++) {
		q = vdp_port_queue(p, v);
		if (p->running && v < p->nb_vrings && p->vring_enabled[v])
			info->vring_enabled |= 1u << v;
		if (q == NULL)
			continue;
		if (q->ring_ok)
			info->vring_size[v] = q->vr.size;
		if (__atomic_load_n(&q->allow, __ATOMIC_RELAXED))
			info->vring_polled |= 1u << v;
		if (q->is_rx)
			info->inflight += __atomic_load_n(&q->zc.inflight, __ATOMIC_RELAXED);
		if (q->is_rx && !info->guest_mac_known) {
			uint64_t mac = __atomic_load_n(&q->guest_mac, __ATOMIC_RELAXED);

			if (mac & VDP_MAC_KNOWN) {
				for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
					info->guest_mac[i] = (uint8_t)(mac >> (8 * i));
				info->guest_mac_known = true;
			}
		}
	}
	if (info->vring_size[0] != 0 || info->vring_size[1] != 0) {
		info->ring_size[0] = info->vring_size[0];
		info->ring_size[1] = info->vring_size[1];
	}
	pthread_mutex_unlock(&p->lock);
}

/* fill(port, out) for a port of ours (vdp_port_with). 0, or -ENODEV. */
static int
port_fill(uint16_t port_id, void (*fill)(struct vdp_port *p, void *out), void *out)
{
	if (port_of(port_id) == NULL)
		return -ENODEV;
	return vdp_port_with(port_id, NULL, fill, out);
}

/*
 * The public structs start with a uint32_t struct_size and only grow at
 * their end: give the caller as much of ours as its struct holds, zero
 * what it has beyond ours, and say how much was filled.
 */
static void
sized_copy(void *dst, size_t size, const void *ours, size_t ours_size)
{
	size_t n = RTE_MIN(size, ours_size);
	uint32_t filled = (uint32_t)n;

	memcpy(dst, ours, n);
	if (size > n)
		memset((char *)dst + n, 0, size - n);
	memcpy(dst, &filled, sizeof(filled));
}

/* port_fill(port_id, fill, arg), fill writing the driver's struct full,
 * then as much of it as the caller's dst of size bytes holds. */
static int
port_fill_sized(uint16_t port_id, void (*fill)(struct vdp_port *p, void *out), void *arg,
		const void *full, size_t full_size, void *dst, size_t size)
{
	int ret;

	if (dst == NULL || size < sizeof(uint32_t))   /* struct_size */
		return -EINVAL;
	ret = port_fill(port_id, fill, arg);
	if (ret == 0)
		sized_copy(dst, size, full, full_size);
	return ret;
}

int
rte_pmd_vdevpeer_get_info_sized(uint16_t port_id, struct rte_pmd_vdevpeer_info *info,
				size_t size)
{
	struct rte_pmd_vdevpeer_info full;

	return port_fill_sized(port_id, port_info_fill, &full, &full, sizeof(full), info, size);
}

struct vring_req {
	uint16_t v;
	struct rte_pmd_vdevpeer_vring *out;
};

/* Under the port list lock (vdp_port_with). */
static void
port_vring_fill(struct vdp_port *p, void *arg)
{
	const struct vring_req *r = arg;
	struct rte_pmd_vdevpeer_vring *o = r->out;
	const struct rte_eth_dev_data *d = p->eth_dev->data;
	const struct vdp_queue *q;
	uint16_t v = r->v;

	memset(o, 0, sizeof(*o));
	o->queue = -1;
	o->numa_node = o->lcore = o->lcore_node = -1;
	pthread_mutex_lock(&p->lock);
	q = vdp_port_queue(p, v);
	o->ready = p->running && v < p->nb_vrings && p->vring_enabled[v];
	if (q != NULL) {
		o->folded = (v & 1) && v / 2 >= d->nb_rx_queues;
		o->queue = (int16_t)(o->folded ? v / 2 % d->nb_rx_queues : v / 2);
		o->served = __atomic_load_n(&q->allow, __ATOMIC_RELAXED) != 0;
	}
	if (q != NULL && q->ring_ok) {
		uint32_t lc = __atomic_load_n(&q->numa.lcore, __ATOMIC_RELAXED);

		o->size = q->vr.size;
		o->packed = q->vr.layout == VDP_LAYOUT_PACKED;
		o->avail = vdp_vq_avail_base(&q->vr);
		o->used = vdp_vq_used_base(&q->vr);
		o->numa_node = q->numa.ring_node;
		if (lc < RTE_MAX_LCORE) {
			o->lcore = (int)lc;
			o->lcore_node = (int)rte_lcore_to_socket_id(lc);
		}
	}
	pthread_mutex_unlock(&p->lock);
}

int
rte_pmd_vdevpeer_get_vring_sized(uint16_t port_id, uint16_t v,
				 struct rte_pmd_vdevpeer_vring *vr, size_t size)
{
	struct rte_pmd_vdevpeer_vring full;
	struct vring_req r = { .v = v, .out = &full };

	if (v >= VDP_MAX_VRINGS)
		return -EINVAL;
	return port_fill_sized(port_id, port_vring_fill, &r, &full, sizeof(full), vr, size);
}

void
rte_pmd_vdevpeer_set_numa_strict(bool on)
{
	vdp_numa_set_strict(on);
}

/* Under the port list lock (vdp_port_with). */
static void
port_isolation_fill(struct vdp_port *p, void *out)
{
	struct rte_pmd_vdevpeer_isolation *iso = out;

	memset(iso, 0, sizeof(*iso));
	pthread_mutex_lock(&p->lock);
	iso->failed = p->failed;
	snprintf(iso->fail_reason, sizeof(iso->fail_reason), "%s", p->failed ? p->fail_why : "");
	for (uint16_t v = 0; v < VDP_MAX_VRINGS; v++) {
		struct vdp_queue *q = vdp_port_queue(p, v);

		if (q != NULL && q->stuck)
			iso->vring_stuck |= 1u << v;
	}
	iso->msg_refused = p->stat[VDP_PS_MSG_REFUSED];
	iso->pause_timeouts = p->stat[VDP_PS_PAUSE_TIMEOUTS];
	iso->failures = p->stat[VDP_PS_FAILED];
	iso->sigbus_contained = p->stat[VDP_PS_SIGBUS];
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_lock(&vdp_gmem_lock);
	iso->guest_maps = p->nb_gmaps;
	iso->guest_maps_zc = p->nb_gmaps_zc;
	pthread_mutex_unlock(&vdp_gmem_lock);
}

int
rte_pmd_vdevpeer_get_isolation_sized(uint16_t port_id, struct rte_pmd_vdevpeer_isolation *iso,
				     size_t size)
{
	struct rte_pmd_vdevpeer_isolation full;

	return port_fill_sized(port_id, port_isolation_fill, &full, &full, sizeof(full), iso, size);
}

int
rte_pmd_vdevpeer_features_str(uint64_t features, char *buf, size_t len)
{
	return vdp_features_str(features, buf, len);
}

int
rte_pmd_vdevpeer_set_csum(uint16_t port_id, bool on)
{
	struct vdp_port *p = port_of(port_id);

	if (p == NULL)
		return -ENODEV;
	/* read once per frame by the data path: takes effect at the next frame */
	__atomic_store_n(&p->csum_on, on ? 1 : 0, __ATOMIC_RELAXED);
	VDP_LOG(INFO, p, "host-side checksum/segmentation offload %s", on ? "on" :
		"off: checksums and segmentation in software");
	return 0;
}

int
rte_pmd_vdevpeer_get_csum(uint16_t port_id)
{
	struct vdp_port *p = port_of(port_id);

	if (p == NULL)
		return -ENODEV;
	return __atomic_load_n(&p->csum_on, __ATOMIC_RELAXED) ? 1 : 0;
}

int
rte_pmd_vdevpeer_peer_forward(uint16_t rx_port, uint16_t rx_queue, uint16_t tx_port,
			      uint16_t tx_queue, uint16_t max)
{
	const struct rte_eth_fp_ops *fa, *fb;
	struct vdp_port *pa = port_of(rx_port), *pb = port_of(tx_port);
	struct vdp_queue *a, *b;

	if (pa == NULL || pb == NULL)
		return -ENOTSUP;
	if (rx_queue >= pa->eth_dev->data->nb_rx_queues ||
	    tx_queue >= pb->eth_dev->data->nb_tx_queues)
		return -EINVAL;
	a = pa->eth_dev->data->rx_queues[rx_queue];
	b = pb->eth_dev->data->tx_queues[tx_queue];
	if (a == NULL || b == NULL)
		return -EINVAL;
	/* a callback (dpdk-dumpcap, rte_pdump) wants to see mbufs */
	fa = &rte_eth_fp_ops[rx_port];
	fb = &rte_eth_fp_ops[tx_port];
	if ((fa->rxq.clbk != NULL &&
	     __atomic_load_n(&fa->rxq.clbk[rx_queue], __ATOMIC_RELAXED) != NULL) ||
	    (fb->txq.clbk != NULL &&
	     __atomic_load_n(&fb->txq.clbk[tx_queue], __ATOMIC_RELAXED) != NULL))
		return -EAGAIN;
	return vdp_peer_forward(a, b, max);
}

int
rte_pmd_vdevpeer_zc_egress(uint16_t port_id, uint16_t rx_queue, uint16_t egress_port,
			   uint16_t egress_queue)
{
	struct vdp_port *p = port_of(port_id);
	struct vdp_queue *q;

	if (p == NULL)
		return -ENODEV;
	if (rx_queue >= p->eth_dev->data->nb_rx_queues)
		return -EINVAL;
	if (egress_port != UINT16_MAX && !rte_eth_dev_is_valid_port(egress_port))
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	q = p->eth_dev->data->rx_queues[rx_queue];
	/* and the guest pairs folded onto it */
	for (uint16_t k = rx_queue; q != NULL && k < VDP_MAX_QUEUES;
	     k += p->eth_dev->data->nb_rx_queues) {
		struct vdp_queue *f = vdp_port_rxq(p, k);

		if (f == NULL)
			continue;
		f->zc.eport = egress_port;
		f->zc.equeue = egress_queue;
		f->zc.egress = egress_port != UINT16_MAX;
		f->zc.egress_vdp = f->zc.egress && port_of(egress_port) != NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return q != NULL ? 0 : -EINVAL;
}
