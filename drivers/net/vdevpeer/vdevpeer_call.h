/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest interrupts (vdevpeer_call.c). */
#ifndef VDEVPEER_CALL_H
#define VDEVPEER_CALL_H

#include <stdint.h>

struct vdp_queue;

/* Once per process, before any write: the signal that ends blocked writes. */
void vdp_call_unblock_init(void);
/* Interrupt the guest: 0, or -EAGAIN (counter full), -EINTR (the write
 * blocked and was ended), -errno. Any thread. */
int vdp_call_write(int fd);
/* End the writes that have blocked for VDP_CALL_BLOCK_MS. Any thread. */
void vdp_call_watch(uint64_t now);
/* Interrupt q's guest (its call fd open and not turned off), counted in
 * q->calls / q->call_stat; a write that blocked turns the fd off. */
void vdp_queue_call(struct vdp_queue *q);
/*
 * Publish the used elements put since the last time and interrupt the
 * guest if it asked for them: the one way used elements reach a guest.
 * shared: called from a thread that serves every guest (the control
 * thread, queue paused): a call fd the VMM made blocking again is turned
 * off instead of written (an lcore's write would be ended by the
 * watchdog; this thread would hold every session meanwhile).
 */
void vdp_queue_publish_shared(struct vdp_queue *q);

/*
 * The guest TX ring's call that q's lcore left for its next burst
 * (q->call_due, vdevpeer_rxtx.c), decided now by the control thread, the
 * queue paused: that burst may never come on this ring (it is about to
 * be loaded again, given back to the VMM or freed). vdp_queue_pause
 * does it for every queue it pauses.
 */
void vdp_queue_call_due_shared(struct vdp_queue *q);

/* Close our copy of q's call fd. */
void vdp_queue_close_call(struct vdp_queue *q);

#endif /* VDEVPEER_CALL_H */
