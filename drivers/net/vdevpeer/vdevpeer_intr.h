/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rx interrupts: an lcore that found nothing to do may sleep until a guest
 * kicks one of its rings (the application's --rx-mode adaptive|interrupt).
 *
 * Each ethdev rx queue has one fd to wait on (rte_eth_dev_rx_intr_ctl_q_get_fd,
 * or rte_eth_dev_rx_intr_ctl_q with DPDK's epoll): an epoll instance of our
 * own holding our dup of the guest's kick eventfd for every ring the queue
 * reads (its own and the guest pairs folded onto it) and a wake eventfd
 * the control thread writes whenever one of those rings comes (back) into
 * service. The fd never changes while the queue exists, whatever the VMM
 * does with its kick fds. Nothing is read by DPDK (handle type EXT): the
 * enable op drains what it registered.
 *
 * rx_queue_intr_enable asks the guest for kicks on each ring, then looks at
 * the rings again (the lost wake-up: a chain posted between the last empty
 * poll and the request): -EAGAIN when something is there, or when the
 * queue may not sleep now (zero-copy buffers held, segments pending): the
 * caller polls on. rx_queue_intr_disable turns kicks off again; kicks that
 * arrive while polling are left unread until the next enable.
 */
#ifndef VDEVPEER_INTR_H
#define VDEVPEER_INTR_H

#include <ethdev_driver.h>

#include "vdevpeer.h"

/* An ethdev rx queue's fds (its epoll, the wake eventfd). 0 or -errno. */
int vdp_intr_queue_init(struct vdp_queue *q);
/* Close what vdp_intr_queue_init and vdp_intr_ring_kick made. */
void vdp_intr_queue_fini(struct vdp_queue *q);
/* A guest TX ring was loaded: keep a dup of its kick eventfd (-1: none,
 * that ring cannot wake a sleeper). Control thread, queue paused. */
void vdp_intr_ring_kick(struct vdp_queue *q, int kickfd);
/* ... and forgotten: the dup closed. */
void vdp_intr_ring_forget(struct vdp_queue *q);

/* The port's interrupt handle for nb_rx_queues (dev_configure) and the
 * fd of rx queue qid in it (rx_queue_setup). 0 or -errno. */
int vdp_intr_configure(struct rte_eth_dev *dev);
void vdp_intr_queue_fd(struct rte_eth_dev *dev, uint16_t qid, int fd);
void vdp_intr_close(struct rte_eth_dev *dev);

int vdp_intr_rx_enable(struct rte_eth_dev *dev, uint16_t qid);
int vdp_intr_rx_disable(struct rte_eth_dev *dev, uint16_t qid);

#endif /* VDEVPEER_INTR_H */
