/* SPDX-License-Identifier: BSD-3-Clause */
/* Devargs of net_vdevpeer (vdevpeer_args.c). */
#ifndef VDEVPEER_ARGS_H
#define VDEVPEER_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "vdevpeer.h"

int vdp_args_parse(const char *name, const char *params, struct vdp_args *a);
void vdp_mac_from_name(const char *bind, struct rte_ether_addr *mac);
extern const char *const vdp_valid_args[];

#endif /* VDEVPEER_ARGS_H */
