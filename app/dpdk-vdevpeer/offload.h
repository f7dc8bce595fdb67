/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offload towards ports that are not net_vdevpeer (offload.c).
 */
#ifndef APP_OFFLOAD_H
#define APP_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

/* The port is not net_vdevpeer: offload flags need offload_tx_sw. */
extern bool app_tx_sw_offload[RTE_MAX_ETHPORTS];
/* Ask the port for the checksum/TSO/LRO offloads it advertises. */
void offload_port_conf(uint16_t port, const struct rte_eth_dev_info *info,
		       struct rte_eth_conf *conf, struct rte_mempool *pool);
/* Send pkts on such a port, in software what the port lacks: the frames
 * sent; those dropped (by the software offload or not taken by the port,
 * freed) are added to *dropped. */
uint32_t offload_tx_sw(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb,
		       uint32_t *dropped);

#endif /* APP_OFFLOAD_H */
