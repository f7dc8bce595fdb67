/* SPDX-License-Identifier: BSD-3-Clause */
/* The vhost-user session (vdevpeer_vhost.c). */
#ifndef VDEVPEER_VHOST_H
#define VDEVPEER_VHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "vdevpeer.h"

/* register the port's socket with librte_vhost (and its callbacks) */
int vdp_vhost_register(struct vdp_port *p);
void vdp_vhost_unregister(struct vdp_port *p);
/* (re)load vring v of the port's device for its queue. Port lock held. */
int vdp_load_ring(struct vdp_port *p, uint16_t v, bool keep_idx);

#endif /* VDEVPEER_VHOST_H */
