/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ports: roles, set-up, pools, links (ports.c).
 */
#ifndef APP_PORTS_H
#define APP_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "vdevpeer_app.h"

struct app_params;

enum port_role {
	PORT_ROLE_OTHER,       /* any other ethdev */
	PORT_ROLE_GUEST,       /* net_vdevpeer */
	PORT_ROLE_UPLINK,      /* named by --uplink */
	PORT_ROLE_HOSTIF,      /* net_tap created by --host-if */
};

struct app_ports {
	enum port_role role[RTE_MAX_ETHPORTS];
	/* hostif: its guest; guest: its host interface; else APP_NO_PORT */
	uint16_t hostif_peer[RTE_MAX_ETHPORTS];
	bool used[RTE_MAX_ETHPORTS];     /* ours to configure and forward */
	bool configured[RTE_MAX_ETHPORTS]; /* queues set up by us */
	bool started[RTE_MAX_ETHPORTS];
	bool lsc_cb[RTE_MAX_ETHPORTS];
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES];
	/* pools of ports attached at run time, freed at exit only: their
	 * mbufs may still sit in another port's ring after a detach */
	struct rte_mempool *port_pool[RTE_MAX_ETHPORTS];
	/* rte_device names of closed ports, for a later `port detach` */
	char closed_dev[RTE_MAX_ETHPORTS][RTE_DEV_NAME_MAX_LEN];
	char closed_bus[RTE_MAX_ETHPORTS][32];
};

/* Record every port's role (--uplink): 0 or -EINVAL after a message. */
int ports_assign_roles(const struct app_params *p, struct app_ports *ap);
const char *port_role_name(enum port_role r);
/* Tx offloads enabled on a started port (RTE_ETH_TX_OFFLOAD_*). */
uint64_t ports_tx_offloads(uint16_t port);

void ports_describe(const struct app_ports *ap);
/* Every ethdev --vdev in the EAL arguments made a port: 0 or -EINVAL. */
int ports_check_vdevs(int argc, char **argv);
int ports_setup(const struct app_params *p, struct app_ports *ap);
/* Configure and start one port (attached at run time: own pool). */
int port_setup(const struct app_params *p, struct app_ports *ap, uint16_t port);
struct rte_mempool *ports_pool(const struct app_ports *ap, uint16_t port);
void ports_teardown(struct app_ports *ap);
const char *port_label(uint16_t port, char *buf, size_t len);
/* Wait up to timeout_s for the links of the used ports, printing progress
 * every second; 0 when all are up, -ETIMEDOUT. */
int ports_wait_links(const struct app_ports *ap, unsigned int timeout_s);

/* A port id, a net_vdevpeer bind name, or an ethdev name: 0 or -ENODEV. */
int ports_resolve(const char *tok, uint16_t *port);
/* The PMD of port has rx interrupts the workers can sleep on (net_vdevpeer,
 * net_tap): the port is configured with them. */
bool ports_rx_intr(uint16_t port);

#endif /* APP_PORTS_H */
