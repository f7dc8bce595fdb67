/* SPDX-License-Identifier: BSD-3-Clause */
/* net_vdevpeer ports: list, link, queue gating, watchdog timer
 * (vdevpeer_port.c). The gating contract is in vdevpeer.h. */
#ifndef VDEVPEER_PORT_H
#define VDEVPEER_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_lcore.h>

#include "vdevpeer.h"

/* ---- the list of ports ---- */
int vdp_port_list_add(struct vdp_port *p, char *who, size_t len);
void vdp_port_list_remove(struct vdp_port *p);
int vdp_port_with(uint16_t port_id, const char *name,
		  void (*fn)(struct vdp_port *p, void *arg), void *arg);
struct vdp_port *vdp_port_by_path(const char *path);
void vdp_ports_foreach(void (*fn)(struct vdp_port *p, void *arg), void *arg);

/* ---- link ---- */
bool vdp_port_link_set(struct vdp_port *p, bool up);
void vdp_port_link_update(struct vdp_port *p, bool up);
void vdp_port_lsc_notify(uint16_t port_id);

/* ---- queue gating ---- */
struct vdp_queue *vdp_queue_new(struct vdp_port *p, uint16_t qid, bool is_rx, int socket);
/* the queue of vring v (even: tx queue v/2; odd: the rx queue reading the
 * guest's pair v/2, folded ones included), or NULL */
struct vdp_queue *vdp_port_queue(struct vdp_port *p, uint16_t vring_idx);
struct vdp_queue *vdp_port_queue_make(struct vdp_port *p, uint16_t vring_idx);
/* the rx queue reading guest pair k: rx queue k, or a folded one */
struct vdp_queue *vdp_port_rxq(const struct vdp_port *p, uint16_t pair);
/* Wake the lcore sleeping on the rx queue that reads guest TX ring q
 * (vdevpeer_intr.h): q came into service. */
void vdp_queue_wake(struct vdp_port *p, struct vdp_queue *q);
int vdp_queue_pause(struct vdp_queue *q);
int vdp_queues_pause(struct vdp_port *p);
void vdp_port_apply_queues(struct vdp_port *p);
void vdp_port_fail(struct vdp_port *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vdp_port_unlock(struct vdp_port *p);

/*
 * Enter the ring for one burst, or return false when the queue is paused.
 * See the handshake in vdevpeer.h.
 */
static inline bool
vdp_queue_enter(struct vdp_queue *q)
{
	if (!__atomic_load_n(&q->allow, __ATOMIC_RELAXED))
		return false;
	__atomic_store_n(&q->busy, 1, __ATOMIC_SEQ_CST);
	if (unlikely(!__atomic_load_n(&q->allow, __ATOMIC_SEQ_CST))) {
		__atomic_store_n(&q->busy, 0, __ATOMIC_RELEASE);
		return false;
	}
	return true;
}

static inline void
vdp_queue_leave(struct vdp_queue *q)
{
	__atomic_store_n(&q->busy, 0, __ATOMIC_RELEASE);
}

/* ---- NUMA placement ---- */
/* --numa-strict: a queue polled by an lcore of another node stays idle */
void vdp_numa_set_strict(bool on);
bool vdp_numa_strict(void);
/* the node of the page at addr (libnuma), VDP_NUMA_UNKNOWN if not known */
int vdp_numa_addr_node(const void *addr);
/* The node of the ring of q (just loaded): placement checks start again. */
void vdp_queue_numa_ring(struct vdp_queue *q, const void *ring);
/* The lcore polling q is not the one seen last: check it (and say so).
 * True when q must not be polled from this lcore (strict placement). */
bool vdp_queue_numa(struct vdp_queue *q);

/* vdp_queue_enter, plus the placement check when another lcore polls. */
static inline bool
vdp_queue_enter_lcore(struct vdp_queue *q)
{
	if (!vdp_queue_enter(q))
		return false;
	if (unlikely(q->numa.lcore != rte_lcore_id() || q->numa.refused) &&
	    vdp_queue_numa(q)) {
		vdp_queue_leave(q);
		return false;
	}
	return true;
}

/* ---- the watchdog's timer: runs round every VDP_WATCHDOG_MS on EAL's
 * alarm thread while a port is registered, and after the last one until
 * round says nothing is left ---- */
typedef uint32_t (*vdp_watchdog_round_t)(void);
void vdp_watchdog_start(vdp_watchdog_round_t round);
void vdp_watchdog_stop(void);
void vdp_watchdog_poke(void);

#endif /* VDEVPEER_PORT_H */
