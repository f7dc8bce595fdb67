/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Public API of the net_vdevpeer PMD, for applications that want to know
 * which ethdev ports are guests and what was negotiated with them.
 */
#ifndef RTE_PMD_VDEVPEER_H
#define RTE_PMD_VDEVPEER_H

#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Name of the vdev driver, for --vdev net_vdevpeerN,... */
#define RTE_PMD_VDEVPEER_DRIVER_NAME "net_vdevpeer"

/** True when port_id is a net_vdevpeer port. */
bool rte_pmd_vdevpeer_is_vdevpeer(uint16_t port_id);

/** Bind name of a net_vdevpeer port (e.g. "vp0"), NULL for other ports. */
const char *rte_pmd_vdevpeer_bind_name(uint16_t port_id);

/** Find a net_vdevpeer port by bind name. 0 and *port_id set, or -ENODEV. */
int rte_pmd_vdevpeer_port_by_bind(const char *name, uint16_t *port_id);

/** Guest state as seen by the driver. */
struct rte_pmd_vdevpeer_info {
	char bind[64];
	char peer[256];          /**< vhost-user socket path */
	bool server;             /**< we listen (1) or connect (0) */
	bool connected;          /**< a VMM is attached to the socket */
	bool running;            /**< guest driver ready: rings live */
	uint64_t peerfeats;      /**< features the host is willing to offer */
	uint64_t offered;        /**< peerfeats & implemented */
	uint64_t negotiated;     /**< what the guest acked */
	uint16_t nb_queues;      /**< queue pairs configured */
	uint16_t ring_size[2];   /**< of queue pair 0: guest RX, guest TX */
	uint16_t hdr_len;        /**< virtio-net header length in use */
};

/** Fill *info. 0, or -ENODEV for a port that is not ours. */
int rte_pmd_vdevpeer_get_info(uint16_t port_id, struct rte_pmd_vdevpeer_info *info);

/**
 * Write the names of the feature bits set in features to buf
 * ("MRG_RXBUF VERSION_1 ..."). Returns the length as snprintf does.
 */
int rte_pmd_vdevpeer_features_str(uint64_t features, char *buf, size_t len);

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
int rte_pmd_vdevpeer_zc_egress(uint16_t port_id, uint16_t rx_queue,
			       uint16_t egress_port, uint16_t egress_queue);

#ifdef __cplusplus
}
#endif

#endif /* RTE_PMD_VDEVPEER_H */
