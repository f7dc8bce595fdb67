/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rx interrupts of net_vdevpeer (vdevpeer_intr.h): sleeping until a guest
 * kicks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_interrupts.h>

#include "vdevpeer.h"
#include "vdevpeer_intr.h"
#include "vdevpeer_port.h"
#include "vdevpeer_rxtx.h"

/* Empty an eventfd (non-blocking): at most one read. */
static void
drain(int fd)
{
	uint64_t v;

	if (fd >= 0)
		(void)!read(fd, &v, sizeof(v));
}

/* Generations of the queues' epoll instances (control thread). */
static uint64_t vdp_intr_gen;

int
vdp_intr_queue_init(struct vdp_queue *q)
{
	struct epoll_event ev = { .events = EPOLLIN };

	q->wake_ep = epoll_create1(EPOLL_CLOEXEC);
	q->wake_ev = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->wake_ep < 0 || q->wake_ev < 0)
		goto fail;
	ev.data.fd = q->wake_ev;
	if (epoll_ctl(q->wake_ep, EPOLL_CTL_ADD, q->wake_ev, &ev) != 0)
		goto fail;
	q->wake_gen = __atomic_add_fetch(&vdp_intr_gen, 1, __ATOMIC_RELAXED);
	return 0;
fail:
	vdp_intr_queue_fini(q);
	return -ENOMEM;
}

void
vdp_intr_queue_fini(struct vdp_queue *q)
{
	vdp_intr_ring_forget(q);
	if (q->wake_ep >= 0)
		close(q->wake_ep);
	if (q->wake_ev >= 0)
		close(q->wake_ev);
	q->wake_ep = q->wake_ev = -1;
}

void
vdp_intr_ring_kick(struct vdp_queue *q, int kickfd)
{
	int fl;

	vdp_intr_ring_forget(q);
	if (kickfd < 0)
		return;
	q->kickfd = fcntl(kickfd, F_DUPFD_CLOEXEC, 3);
	if (q->kickfd < 0)
		return;
	/* reads must never block (the VMM's eventfd is usually non-blocking
	 * already; writers do not care) */
	fl = fcntl(q->kickfd, F_GETFL);
	if (fl < 0 || fcntl(q->kickfd, F_SETFL, fl | O_NONBLOCK) != 0) {
		close(q->kickfd);
		q->kickfd = -1;
	}
}

void
vdp_intr_ring_forget(struct vdp_queue *q)
{
	if (q->kickfd < 0)
		return;
	/* our dup shares the file with librte_vhost's fd: closing ours does
	 * not take it out of an epoll set */
	vdp_queue_kick_unregister(q);
	close(q->kickfd);
	q->kickfd = -1;
}

/*
 * Ask ring r (read by rx queue o) for a kick, on o's lcore. 0: it may
 * sleep; -EAGAIN: chains are there already, or it cannot be woken now.
 * A ring not in service is fine: the control thread wakes o when it is.
 */
static int
arm_ring(struct vdp_queue *o, struct vdp_queue *r)
{
	int ret = 0;

	if (!vdp_queue_enter_lcore(r))
		return 0;
	/* no call left for later while we sleep */
	vdp_queue_call_check(r);
	if (r->kickfd < 0 || r->zc.inflight != 0 || r->pend_n != 0) {
		/* no kick fd (the VMM polls for us), buffers the guest waits
		 * for, frames to hand out: poll on */
		ret = -EAGAIN;
		goto out;
	}
	drain(r->kickfd);
	if (r->kick_ep != o->wake_ep || r->kick_gen != o->wake_gen) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = r->kickfd };

		vdp_queue_kick_unregister(r);
		if (epoll_ctl(o->wake_ep, EPOLL_CTL_ADD, r->kickfd, &ev) != 0 &&
		    errno != EEXIST) {
			ret = -EAGAIN;
			goto out;
		}
		r->kick_ep = o->wake_ep;
		r->kick_gen = o->wake_gen;
	}
	if (vdp_vq_enable_kicks(&r->vr))
		ret = -EAGAIN;
out:
	vdp_queue_leave(r);
	return ret;
}

static void
disarm_ring(struct vdp_queue *r)
{
	if (!vdp_queue_enter_lcore(r))
		return;
	vdp_vq_disable_kicks(&r->vr);
	vdp_queue_leave(r);
}

/* Each ring rx queue qid reads: its own, then those folded onto it. */
#define FOREACH_RING(p, q, qid, r, k) \
	for (uint32_t k = (qid), step_ = (p)->eth_dev->data->nb_rx_queues; \
	     k < VDP_MAX_QUEUES && step_ != 0; k += step_) \
		if (((r) = k == (qid) ? (q) : \
		     __atomic_load_n(&(p)->fold_rx[k], __ATOMIC_ACQUIRE)) != NULL)

int
vdp_intr_rx_enable(struct rte_eth_dev *dev, uint16_t qid)
{
	struct vdp_port *p = dev->data->dev_private;
	struct vdp_queue *q = dev->data->rx_queues[qid], *r;
	int ret = 0;

	if (q == NULL || q->wake_ep < 0)
		return -EINVAL;
	drain(q->wake_ev);
	FOREACH_RING(p, q, qid, r, k) {
		if (arm_ring(q, r) != 0) {
			ret = -EAGAIN;
			break;
		}
	}
	/* a RARP to receive (vdp_rx_rarp) */
	if (__atomic_load_n(&p->rx_extra, __ATOMIC_ACQUIRE) & VDP_RX_RARP)
		ret = -EAGAIN;
	if (ret != 0)
		vdp_intr_rx_disable(dev, qid);
	return ret;
}

int
vdp_intr_rx_disable(struct rte_eth_dev *dev, uint16_t qid)
{
	struct vdp_port *p = dev->data->dev_private;
	struct vdp_queue *q = dev->data->rx_queues[qid], *r;

	if (q == NULL)
		return -EINVAL;
	FOREACH_RING(p, q, qid, r, k)
		disarm_ring(r);
	return 0;
}

int
vdp_intr_configure(struct rte_eth_dev *dev)
{
	struct rte_intr_handle *h = dev->intr_handle;
	uint16_t n = dev->data->nb_rx_queues;

	if (h == NULL) {
		h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
		if (h == NULL)
			return -ENOMEM;
		/* EXT: DPDK's epoll reads nothing from our fds (they are
		 * epoll instances; the enable op drains the eventfds) */
		if (rte_intr_type_set(h, RTE_INTR_HANDLE_EXT) != 0) {
			rte_intr_instance_free(h);
			return -EINVAL;
		}
		dev->intr_handle = h;
	}
	rte_intr_vec_list_free(h);
	if (n == 0)
		return 0;
	if (rte_intr_vec_list_alloc(h, NULL, n) != 0)
		return -ENOMEM;
	for (uint16_t i = 0; i < n; i++) {
		const struct vdp_queue *q = dev->data->rx_queues[i];

		if (rte_intr_vec_list_index_set(h, i, RTE_INTR_VEC_RXTX_OFFSET + i) != 0 ||
		    rte_intr_efds_index_set(h, i, q != NULL ? q->wake_ep : -1) != 0)
			return -EINVAL;
	}
	if (rte_intr_nb_efd_set(h, n) != 0 || rte_intr_max_intr_set(h, n + 1) != 0)
		return -EINVAL;
	return 0;
}

void
vdp_intr_queue_fd(struct rte_eth_dev *dev, uint16_t qid, int fd)
{
	if (dev->intr_handle != NULL && qid < dev->data->nb_rx_queues)
		rte_intr_efds_index_set(dev->intr_handle, qid, fd);
}

void
vdp_intr_close(struct rte_eth_dev *dev)
{
	if (dev->intr_handle == NULL)
		return;
	rte_intr_vec_list_free(dev->intr_handle);
	rte_intr_instance_free(dev->intr_handle);
	dev->intr_handle = NULL;
}
