/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring state that outlives the process (vdevpeer_state.c): one file per
 * port, keyed by its vhost-user socket, so that after a crash the next
 * incarnation resumes every ring where it was (vdp_vq_resume).
 */
#ifndef VDEVPEER_STATE_H
#define VDEVPEER_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "vdevpeer.h"

/* Open (or take over) the port's state file; no state on failure (logged). */
void vdp_state_open(struct vdp_port *p);
/* Clean close: the file goes (nothing to resume). */
void vdp_state_close(struct vdp_port *p);
/*
 * Ring v was just loaded. A new ring (not a reload of the same one with
 * our own positions): resume it from what a crashed incarnation left for
 * it, if anything (once), then record it afresh. Either way q's ring
 * keeps its state there from now on. Port lock held, queue paused.
 */
void vdp_state_ring_loaded(struct vdp_port *p, struct vdp_queue *q, uint16_t v,
			   bool same_ring);

#endif /* VDEVPEER_STATE_H */
