/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application's parameters: what the command line (params.c) and the
 * config file (config.c) fill in and every other module reads. Types
 * only: a module that reads parameters does not depend on their parsers.
 */
#ifndef APP_APP_PARAMS_H
#define APP_APP_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "vdevpeer_app.h"

struct fwd_engine;

struct app_pair {
	uint16_t a;
	uint16_t b;
};

struct app_params {
	const struct fwd_engine *engine;
	struct app_pair pairs[RTE_MAX_ETHPORTS];
	unsigned int nb_pairs;
	uint16_t nb_rxq;
	uint16_t nb_txq;
	uint16_t nb_desc;
	uint16_t burst;
	bool auto_start;
	bool numa_strict;            /* --numa-strict */
	bool no_peer_path;           /* --no-peer-path */
	unsigned int stats_period;   /* seconds, 0 = off */
	unsigned int nb_mbufs;       /* 0 = computed */
	/* Host interfaces, uplinks and the bridge: pointers into argv,
	 * resolved to ports once EAL is up (hostif.c, ports.c, fwd_bridge.c). */
	const char *hostifs[RTE_MAX_ETHPORTS];  /* "vp0", "vp0=NAME" or "all" */
	unsigned int nb_hostifs;
	const char *uplinks[RTE_MAX_ETHPORTS];
	unsigned int nb_uplinks;
	const char *bridge_macs[APP_MAX_BRIDGE_MACS];   /* "MAC@PORT" */
	unsigned int nb_bridge_macs;
	unsigned int bridge_aging;   /* seconds, 0 = never */
	unsigned int bridge_entries;
	bool interactive;            /* -i: console on stdin */
	const char *cmdline_file;    /* --cmdline-file: commands run at start */
	const char *config_file;     /* --config */
	unsigned int wait_links;     /* seconds to wait for links before start */
	bool lcore_set;              /* fwd_lcores given (--fwd-lcores / config) */
	bool fwd_lcores[RTE_MAX_LCORE]; /* worker lcores that may forward */
	bool stats_period_set;       /* given on the command line */
	uint16_t mtu[RTE_MAX_ETHPORTS]; /* from the config file; 0 = default */
	/* --rx-mode (enum fwd_rx_mode), per port: 0 = that, else mode + 1 */
	unsigned int rx_mode;
	uint8_t port_rx_mode[RTE_MAX_ETHPORTS];
	unsigned int rx_idle_us;     /* adaptive: quiet this long, then sleep */
};

#endif /* APP_APP_PARAMS_H */
