/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest memory mapped by us (vdevpeer_gmem.c); the types are in vdevpeer.h. */
#ifndef VDEVPEER_GMEM_H
#define VDEVPEER_GMEM_H

#include <stdbool.h>
#include <stdint.h>

#include <pthread.h>
#include "vdevpeer.h"

extern pthread_mutex_t vdp_gmem_lock;
int vdp_gfile_id(int fd, struct vdp_gfile_id *id);
void vdp_gfile_ref(struct vdp_gfile_id *id);
void vdp_gfile_unref(struct vdp_gfile_id *id);
bool vdp_sigbus_guard(void);
struct rte_vhost_memory;
int vdp_gmap_load(struct vdp_port *p, const struct rte_vhost_memory *mem, bool zc);
void vdp_gmap_retire(struct vdp_port *p);
void vdp_gmap_use(struct vdp_queue *q, struct vdp_gmap *m);
void *vdp_gmap_xlate(const struct vdp_gmap *m, void *lib_addr);
uint32_t vdp_gmap_reap(void);
void vdp_gmap_port_gone(struct vdp_port *p);
void vdp_gmap_unpin(struct vdp_gmap *m);
uint32_t vdp_gmap_faults(const struct vdp_gmap *m);
void vdp_gmem_stats(struct vdp_gmem_stats *st);
/* Who says whether zero-copy buffers still point into a map (called with
 * vdp_gmem_lock held): zero-copy registers itself, so that this file
 * needs nothing of it. */
void vdp_gmem_set_holder(bool (*holds)(const struct vdp_gmap *m));

#endif /* VDEVPEER_GMEM_H */
