/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Public API of the net_vdevpeer PMD, for applications that want to know
 * which ethdev ports are guests and what was negotiated with them.
 */
#ifndef RTE_PMD_VDEVPEER_H
#define RTE_PMD_VDEVPEER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#include <rte_compat.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every function here is experimental, as DPDK marks new API
 * (__rte_experimental): build with ALLOW_EXPERIMENTAL_API.
 *
 * The structs the driver fills (info, isolation, vring) start with their
 * size and only ever grow at their end. The getters are inline: they pass
 * the size of the struct the application was compiled with, and the driver
 * fills that much, whichever is older:
 * - an application built against an older header gets the fields it
 *   knows (the driver copies no more than its size);
 * - an application built against a newer header running on an older
 *   driver gets `struct_size` = what the driver filled; fields past it are
 *   zero. Test a field with RTE_PMD_VDEVPEER_HAS(s, field) before
 *   relying on it.
 */

/** True when the driver filled field of *s (a struct with a size first). */
#define RTE_PMD_VDEVPEER_HAS(s, field) \
	((s)->struct_size >= offsetof(__typeof__(*(s)), field) + sizeof((s)->field))

/** Virtqueues a port serves: 2 per queue pair. */
#define RTE_PMD_VDEVPEER_MAX_VRINGS 16

/** Name of the vdev driver, for --vdev net_vdevpeerN,... */
#define RTE_PMD_VDEVPEER_DRIVER_NAME "net_vdevpeer"

/** True when port_id is a net_vdevpeer port. */
__rte_experimental
bool rte_pmd_vdevpeer_is_vdevpeer(uint16_t port_id);

/** Bind name of a net_vdevpeer port (e.g. "vp0"), NULL for other ports. */
__rte_experimental
const char *rte_pmd_vdevpeer_bind_name(uint16_t port_id);

/** Find a net_vdevpeer port by bind name. 0 and *port_id set, or -ENODEV. */
__rte_experimental
int rte_pmd_vdevpeer_port_by_bind(const char *name, uint16_t *port_id);

/** Guest state as seen by the driver. */
struct rte_pmd_vdevpeer_info {
	uint32_t struct_size;    /**< bytes of this struct the driver filled */
	char bind[64];
	char peer[256];          /**< vhost-user socket path */
	bool server;             /**< we listen (1) or connect (0) */
	bool connected;          /**< a VMM is attached to the socket */
	bool running;            /**< guest driver ready: rings live */
	uint64_t peerfeats;      /**< features the host is willing to offer */
	uint64_t offered;        /**< peerfeats & implemented */
	uint64_t negotiated;     /**< what the guest acked */
	uint64_t active;         /**< negotiated minus features whose dependency
				  *   the guest did not ack: what the data path uses */
	bool csum;               /**< host-side checksum/segmentation offload on */
	uint16_t nb_queues;      /**< queue pairs configured */
	uint16_t ring_size[2];   /**< of queue pair 0: guest RX, guest TX */
	uint16_t hdr_len;        /**< virtio-net header length in use */
	uint8_t guest_mac[6];    /**< source MAC of the guest's latest frames */
	bool guest_mac_known;    /**< false until the guest sent a unicast-sourced frame */
	bool packed;             /**< ring layout: packed (1) or split (0) */
	uint16_t nb_vrings;      /**< virtqueues the guest set up */
	uint32_t vring_enabled;  /**< bit v: the guest enabled virtqueue v */
	uint32_t vring_polled;   /**< bit v: virtqueue v is being served now */
	/** per virtqueue (even: guest RX, odd: guest TX): size, 0 when not in use */
	uint16_t vring_size[RTE_PMD_VDEVPEER_MAX_VRINGS];
	bool zero_copy;          /**< zero-copy of guest buffers in use */
	uint32_t inflight;       /**< guest buffers held by the host (zero-copy) */
	uint8_t mac[6];          /**< the port's own MAC (devarg mac=) */
};

/**
 * Fill *info, size bytes of it (the caller's sizeof: use the inline
 * rte_pmd_vdevpeer_get_info). 0, -ENODEV for a port that is not ours,
 * -EINVAL for a NULL info or a size smaller than struct_size.
 */
__rte_experimental
int rte_pmd_vdevpeer_get_info_sized(uint16_t port_id, struct rte_pmd_vdevpeer_info *info, size_t size);

static inline int
rte_pmd_vdevpeer_get_info(uint16_t port_id, struct rte_pmd_vdevpeer_info *info)
{
	return rte_pmd_vdevpeer_get_info_sized(port_id, info, sizeof(*info));
}

/**
 * Isolation state of a port: what its guest or VMM broke, and what the
 * driver did about it (docs/security.md). A struct of its own, so that
 * applications built with an older struct rte_pmd_vdevpeer_info keep
 * working.
 */
struct rte_pmd_vdevpeer_isolation {
	uint32_t struct_size;    /**< bytes of this struct the driver filled */
	bool failed;             /**< a bound was broken: link down until the
				  *   VMM starts a new session */
	char fail_reason[128];   /**< why, when failed */
	uint32_t vring_stuck;    /**< bit v: virtqueue v's lcore did not leave a
				  *   burst in time (frozen until it does) */
	uint64_t msg_refused;    /**< vhost-user messages refused */
	uint64_t pause_timeouts; /**< queues that got stuck */
	uint64_t failures;       /**< times the port was failed */
	uint64_t sigbus_contained; /**< accesses past a shrunk guest memory file */
	uint32_t guest_maps;     /**< guest memory maps of ours alive */
	uint32_t guest_maps_zc;  /**< ... registered for zero-copy */
};

/** Fill *iso, size bytes of it, as rte_pmd_vdevpeer_get_info_sized. */
__rte_experimental
int rte_pmd_vdevpeer_get_isolation_sized(uint16_t port_id, struct rte_pmd_vdevpeer_isolation *iso, size_t size);

static inline int
rte_pmd_vdevpeer_get_isolation(uint16_t port_id, struct rte_pmd_vdevpeer_isolation *iso)
{
	return rte_pmd_vdevpeer_get_isolation_sized(port_id, iso, sizeof(*iso));
}

/**
 * Write the names of the feature bits set in features to buf
 * ("MRG_RXBUF VERSION_1 ..."). Returns the length as snprintf does.
 */
__rte_experimental
int rte_pmd_vdevpeer_features_str(uint64_t features, char *buf, size_t len);

/**
 * Turn host-side checksum and segmentation offload of a port on or off
 * (devarg csum=0|1 at start; QNX's ifconfig vp0 -tcp4csum). Off: frames
 * to the guest carry complete checksums and are segmented in software
 * even if the guest negotiated GUEST_CSUM/GUEST_TSO; frames from the
 * guest leave the port complete (partial checksums completed, GSO frames
 * segmented). Never breaks traffic: it only moves work to software.
 * Takes effect at the next frame. 0, or -ENODEV.
 */
__rte_experimental
int rte_pmd_vdevpeer_set_csum(uint16_t port_id, bool on);

/** 1 when host-side offload is on, 0 when off, -ENODEV. */
__rte_experimental
int rte_pmd_vdevpeer_get_csum(uint16_t port_id);

/**
 * Strict NUMA placement, for every port: a queue polled by an lcore on
 * another NUMA node than the guest ring it serves stays idle (logged as
 * an error; frames given to such a tx queue are dropped and counted as
 * paused) instead of working across nodes with a warning. Takes effect
 * when a ring is next loaded.
 */
__rte_experimental
void rte_pmd_vdevpeer_set_numa_strict(bool on);

/** Per virtqueue state (rte_pmd_vdevpeer_get_vring). */
struct rte_pmd_vdevpeer_vring {
	uint32_t struct_size;    /**< bytes of this struct the driver filled */
	uint16_t size;           /**< ring size, 0 when not loaded */
	bool ready;              /**< set up and enabled by the guest */
	bool served;             /**< a queue of ours runs it now */
	bool packed;             /**< packed layout (positions carry a wrap bit 15) */
	int16_t queue;           /**< our queue serving it (rx for odd rings,
				  *   tx for even ones), -1: none */
	bool folded;             /**< a guest pair beyond the port's rx queues,
				  *   read through rx queue `queue` */
	uint16_t avail;          /**< next available entry we take */
	uint16_t used;           /**< next used entry we write */
	int numa_node;           /**< node of the ring's memory, -1 unknown */
	int lcore;               /**< lcore that polled it last, -1 none yet */
	int lcore_node;          /**< that lcore's node, -1 unknown */
};

/**
 * Fill *vr for virtqueue v of a port, size bytes of it (as
 * rte_pmd_vdevpeer_get_info_sized). 0, -ENODEV, or -EINVAL (v too big).
 */
__rte_experimental
int rte_pmd_vdevpeer_get_vring_sized(uint16_t port_id, uint16_t v,
				     struct rte_pmd_vdevpeer_vring *vr, size_t size);

static inline int
rte_pmd_vdevpeer_get_vring(uint16_t port_id, uint16_t v, struct rte_pmd_vdevpeer_vring *vr)
{
	return rte_pmd_vdevpeer_get_vring_sized(port_id, v, vr, sizeof(*vr));
}

struct rte_mbuf;
struct rte_mempool;

/**
 * Software fallback for sending an mbuf with TX offload flags (as our RX
 * produces them) to a port whose tx_capa lacks some of them: TCP
 * segmentation (without RTE_ETH_TX_OFFLOAD_TCP_TSO) into new mbufs from
 * mp with complete checksums, L4 checksums without TCP/UDP_CKSUM and the
 * IPv4 header checksum without IPV4_CKSUM completed in place (on a copy
 * when m is shared or its headers lie in guest memory a zero-copy RX
 * attached). Flags the port handles stay for rte_eth_tx_prepare.
 * Puts up to max mbufs in out and returns their number; m is consumed
 * (returned in out, or freed). 0: dropped (no mbufs, or inconsistent
 * offload fields).
 */
__rte_experimental
uint16_t rte_pmd_vdevpeer_tx_sw_offload(struct rte_mbuf *m, uint64_t tx_capa,
					struct rte_mempool *mp,
					struct rte_mbuf **out, uint16_t max);

/**
 * Zero-copy: tell rx queue rx_queue of port_id which tx queue its frames
 * go out on (egress_port = UINT16_MAX: none known). When the queue holds
 * its limit of guest buffers (a quarter of the guest's ring), its rx burst
 * calls rte_eth_tx_done_cleanup(egress_port, egress_queue, 0) to get some
 * back before it falls back to copying. Only valid when the application
 * calls tx_burst on that tx queue from the same lcore as rx_burst on this
 * rx queue (run to completion), and never from another lcore at the same
 * time. Call it before the queue is polled (e.g. before starting
 * forwarding). 0, -ENODEV (not our port) or -EINVAL.
 */
__rte_experimental
int rte_pmd_vdevpeer_zc_egress(uint16_t port_id, uint16_t rx_queue,
			       uint16_t egress_port, uint16_t egress_queue);

/**
 * The direct guest-to-guest path: take up to max frames the guest of
 * rx_port sent (its rx queue rx_queue) and copy each straight into the
 * receive ring of tx_port's guest (its tx queue tx_queue) - one copy, no
 * mbuf - as rte_eth_rx_burst() on the one followed by rte_eth_tx_burst()
 * of every frame on the other would, with the same frames, headers and
 * counters (xstats {rx,tx}_peer_packets count the frames moved this way).
 * Frames whose offload needs more than a copy (GSO; a partial checksum
 * the receiver cannot take as such) go through mbufs inside the call, in
 * their place.
 *
 * Returns the frames taken (what rte_eth_rx_burst() would have returned;
 * each was delivered or counted dropped on tx_port, as by
 * rte_eth_tx_burst() of a net_vdevpeer port; more than max when a GSO
 * frame was segmented in software, each segment counting), or:
 *  -ENOTSUP  a port is not a net_vdevpeer one: use the ethdev path;
 *  -EAGAIN   use the ethdev path this time: an rx or tx callback (a
 *            capture) is installed on either queue, zero-copy buffers
 *            taken by the ethdev path are still out, a RARP or folded
 *            queues are to be served, or tx_queue is not ready;
 *  -EINVAL   a queue id out of range or not set up.
 * Same threading rules as the two bursts: the calling lcore owns both
 * queues.
 */
__rte_experimental
int rte_pmd_vdevpeer_peer_forward(uint16_t rx_port, uint16_t rx_queue,
				  uint16_t tx_port, uint16_t tx_queue, uint16_t max);

/**
 * The extended statistics of a net_vdevpeer port, documented: entry i
 * (from 0) as its name and what it counts. A counter kept for both
 * directions is one entry named "{rx,tx}_<name>". Needs no port and no
 * EAL (dpdk-vdevpeer --dump-xstats prints the table). 0, -ENOENT past
 * the last entry, -EINVAL.
 */
__rte_experimental
int rte_pmd_vdevpeer_xstat_doc(unsigned int i, char *name, size_t len, const char **desc);

#ifdef __cplusplus
}
#endif

#endif /* RTE_PMD_VDEVPEER_H */
