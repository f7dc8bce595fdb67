/* SPDX-License-Identifier: BSD-3-Clause */
/* Extended statistics of a net_vdevpeer port (vdevpeer_xstats.c). */
#ifndef VDEVPEER_XSTATS_H
#define VDEVPEER_XSTATS_H

#include <ethdev_driver.h>

#include "vdevpeer.h"

int vdp_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
			 unsigned int size);
int vdp_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xs, unsigned int n);

#endif /* VDEVPEER_XSTATS_H */
