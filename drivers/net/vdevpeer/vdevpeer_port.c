/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vdevpeer ports: the list of ports, their link, and the gate between
 * a queue's lcore and the threads that change its ring (pause, resume,
 * fail: the contract is in vdevpeer.h), and the watchdog's timer.
 *
 * Used by the ethdev ops, the vhost-user callbacks, the data path and
 * zero-copy; it calls none of them (only the guest interrupt writer, to
 * end a write an lcore it waits for is blocked in).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <numa.h>
#include <numaif.h>

#include <ethdev_driver.h>
#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "vdevpeer.h"
#include "vdevpeer_call.h"
#include "vdevpeer_port.h"

/* ---- port list ---- */

static TAILQ_HEAD(, vdp_port) vdp_ports = TAILQ_HEAD_INITIALIZER(vdp_ports);
static pthread_mutex_t vdp_ports_lock = PTHREAD_MUTEX_INITIALIZER;
/* our ethdev ops (the first port's): which ports are ours by port id */
static const struct eth_dev_ops *vdp_port_ops;

/* The port with that socket path, else that bind name, else that port
 * id. Caller holds vdp_ports_lock. */
static struct vdp_port *
find_locked(const char *peer, const char *bind, uint16_t port_id)
{
	struct vdp_port *p;

	TAILQ_FOREACH(p, &vdp_ports, next)
		if (peer != NULL ? strcmp(p->args.peer, peer) == 0 :
		    bind != NULL ? strcmp(p->args.bind, bind) == 0 :
		    p->port_id == port_id)
			break;
	return p;
}

/*
 * Add p (its args, eth_dev and port_id set) unless another port uses its
 * socket or bind name: 0, or -EEXIST and why in who.
 */
int
vdp_port_list_add(struct vdp_port *p, char *who, size_t len)
{
	struct vdp_port *o;

	pthread_mutex_lock(&vdp_ports_lock);
	TAILQ_FOREACH(o, &vdp_ports, next)
		if (strcmp(o->args.peer, p->args.peer) == 0 ||
		    strcmp(o->args.bind, p->args.bind) == 0)
			break;
	if (o != NULL) {
		snprintf(who, len, "%s already used by port %s",
			 strcmp(o->args.peer, p->args.peer) == 0 ? "peer socket" : "bind name",
			 o->args.bind);
	} else {
		if (vdp_port_ops == NULL)
			vdp_port_ops = p->eth_dev->dev_ops;
		TAILQ_INSERT_TAIL(&vdp_ports, p, next);
	}
	pthread_mutex_unlock(&vdp_ports_lock);
	return o != NULL ? -EEXIST : 0;
}

void
vdp_port_list_remove(struct vdp_port *p)
{
	pthread_mutex_lock(&vdp_ports_lock);
	TAILQ_REMOVE(&vdp_ports, p, next);
	pthread_mutex_unlock(&vdp_ports_lock);
}

/*
 * fn(port, arg) for the port of ours with that port id, or bind name when
 * name is not NULL, under the list lock: a port being closed on another
 * thread (telemetry runs on its own) is not touched. 0, or -ENODEV.
 */
int
vdp_port_with(uint16_t port_id, const char *name,
	      void (*fn)(struct vdp_port *p, void *arg), void *arg)
{
	struct vdp_port *p;

	pthread_mutex_lock(&vdp_ports_lock);
	p = find_locked(NULL, name, port_id);
	if (p != NULL)
		fn(p, arg);
	pthread_mutex_unlock(&vdp_ports_lock);
	return p != NULL ? 0 : -ENODEV;
}

struct vdp_port *
vdp_port_by_path(const char *path)
{
	struct vdp_port *p;

	pthread_mutex_lock(&vdp_ports_lock);
	p = find_locked(path, NULL, 0);
	pthread_mutex_unlock(&vdp_ports_lock);
	return p;
}

/* fn on every port, under the port list lock (the watchdog). */
void
vdp_ports_foreach(void (*fn)(struct vdp_port *p, void *arg), void *arg)
{
	struct vdp_port *p;

	pthread_mutex_lock(&vdp_ports_lock);
	TAILQ_FOREACH(p, &vdp_ports, next)
		fn(p, arg);
	pthread_mutex_unlock(&vdp_ports_lock);
}

/*
 * Link is up exactly while the guest driver is ready (and the port not
 * failed). Setting it runs no callback (any thread, any lock); true when
 * the application wants link events.
 */
bool
vdp_port_link_set(struct vdp_port *p, bool up)
{
	struct rte_eth_dev *dev = p->eth_dev;
	struct rte_eth_link link = {
		.link_speed = RTE_ETH_SPEED_NUM_10G,
		.link_duplex = RTE_ETH_LINK_FULL_DUPLEX,
		.link_autoneg = RTE_ETH_LINK_FIXED,
		.link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN,
	};

	return rte_eth_linkstatus_set(dev, &link) == 0 && dev->data->dev_conf.intr_conf.lsc;
}

/* The application's link event callbacks: run with none of our locks. */
void
vdp_port_lsc_notify(uint16_t port_id)
{
	struct rte_eth_dev *dev;

	if (!rte_eth_dev_is_valid_port(port_id))
		return;
	dev = &rte_eth_devices[port_id];   /* static array: valid after close too */
	if (dev->dev_ops != NULL && dev->dev_ops == vdp_port_ops &&
	    dev->data->dev_conf.intr_conf.lsc)
		rte_eth_dev_callback_process(dev, RTE_ETH_EVENT_INTR_LSC, NULL);
}

void
vdp_port_link_update(struct vdp_port *p, bool up)
{
	if (vdp_port_link_set(p, up))
		rte_eth_dev_callback_process(p->eth_dev, RTE_ETH_EVENT_INTR_LSC, NULL);
}

/* ---- queue gating: pause / resume ---- */

/*
 * Stop the lcores touching the queues' rings and wait until they left,
 * at most VDP_PAUSE_MAX_MS for all of them together. A queue whose lcore
 * is still inside then is stuck: its ring, map and call fd stay as they
 * are until the lcore leaves (the watchdog looks). Returns 0, or
 * -ETIMEDOUT when some queue got stuck. Caller holds p->lock.
 */
static int
pause_queues(struct vdp_port *p, struct vdp_queue **qs, uint32_t n)
{
	const uint64_t hz = rte_get_timer_hz();
	uint64_t start = rte_get_timer_cycles();
	uint64_t deadline = start + hz * VDP_PAUSE_MAX_MS / 1000;
	uint64_t last_watch = start;
	uint32_t busy;

	for (uint32_t i = 0; i < n; i++)
		__atomic_store_n(&qs[i]->allow, 0, __ATOMIC_SEQ_CST);
	for (;;) {
		uint64_t now = rte_get_timer_cycles();

		busy = 0;
		for (uint32_t i = 0; i < n; i++)
			if (!qs[i]->stuck && __atomic_load_n(&qs[i]->busy, __ATOMIC_SEQ_CST))
				busy++;
		if (busy == 0) {
			/* calls the lcores left for their next burst: the
			 * rings may change before it comes */
			for (uint32_t i = 0; i < n; i++)
				if (!qs[i]->stuck)
					vdp_queue_call_due_shared(qs[i]);
			return 0;
		}
		if (now > deadline)
			break;
		/* an lcore blocked on a VMM's call fd gets out */
		if (now - last_watch > hz / 1000) {
			vdp_call_watch(now);
			last_watch = now;
		}
		rte_pause();
	}
	for (uint32_t i = 0; i < n; i++) {
		struct vdp_queue *q = qs[i];

		if (q->stuck || !__atomic_load_n(&q->busy, __ATOMIC_SEQ_CST))
			continue;
		q->stuck = true;
		q->stuck_tsc = start;
		p->stat[VDP_PS_PAUSE_TIMEOUTS]++;
		VDP_LOG(ERR, p, "%s queue %u (vring %u): its lcore did not leave a burst "
			"within %u ms: queue stuck, port failed", q->is_rx ? "rx" : "tx",
			q->qid, q->vring_idx, VDP_PAUSE_MAX_MS);
	}
	vdp_port_fail(p, "a queue's lcore did not leave its burst within %u ms",
		      VDP_PAUSE_MAX_MS);
	return -ETIMEDOUT;
}

int
vdp_queue_pause(struct vdp_queue *q)
{
	if (q->stuck)
		return -ETIMEDOUT;
	return pause_queues(q->port, &q, 1);
}

int
vdp_queues_pause(struct vdp_port *p)
{
	struct rte_eth_dev_data *d = p->eth_dev->data;
	struct vdp_queue *qs[2 * RTE_MAX_QUEUES_PER_PORT];
	uint32_t n = 0;
	int ret;

	for (uint16_t k = 0; k < VDP_MAX_QUEUES; k++)
		if (vdp_port_rxq(p, k) != NULL)
			qs[n++] = vdp_port_rxq(p, k);
	for (uint16_t i = 0; i < d->nb_tx_queues; i++)
		if (d->tx_queues[i] != NULL)
			qs[n++] = d->tx_queues[i];
	ret = pause_queues(p, qs, n);
	for (uint32_t i = 0; i < n; i++)
		if (qs[i]->stuck)
			ret = -ETIMEDOUT;
	return ret;
}

struct vdp_queue *
vdp_queue_new(struct vdp_port *p, uint16_t qid, bool is_rx, int socket)
{
	struct vdp_queue *q;

	q = rte_zmalloc_socket("vdp_queue", sizeof(*q), RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL)
		return NULL;
	q->port = p;
	q->qid = qid;
	q->is_rx = is_rx;
	q->put_frame = vdp_split_enqueue_frame;  /* until a ring is loaded */
	q->vring_idx = (uint16_t)(2 * qid + (is_rx ? 1 : 0));
	q->callfd = -1;
	q->kickfd = q->kick_ep = q->wake_ep = q->wake_ev = -1;
	return q;
}

void
vdp_queue_wake(struct vdp_port *p, struct vdp_queue *q)
{
	const struct rte_eth_dev_data *d = p->eth_dev->data;
	struct vdp_queue *o = q;
	const uint64_t one = 1;

	/* a folded ring's sleeper is the rx queue that reads it */
	if (d->nb_rx_queues != 0 && q->qid >= d->nb_rx_queues)
		o = d->rx_queues[q->qid % d->nb_rx_queues];
	if (o != NULL && o->wake_ev >= 0)
		(void)!write(o->wake_ev, &one, sizeof(one));
}

struct vdp_queue *
vdp_port_rxq(const struct vdp_port *p, uint16_t pair)
{
	const struct rte_eth_dev_data *d = p->eth_dev->data;

	if (pair < d->nb_rx_queues)
		return d->rx_queues[pair];
	return pair < VDP_MAX_QUEUES ? p->fold_rx[pair] : NULL;
}

struct vdp_queue *
vdp_port_queue(struct vdp_port *p, uint16_t vring_idx)
{
	struct rte_eth_dev_data *d = p->eth_dev->data;
	uint16_t qid = vring_idx / 2;

	/* even vrings are the guest's RX: our TX queues, odd ones our RX */
	if (vring_idx & 1)
		return vdp_port_rxq(p, qid);
	return qid < d->nb_tx_queues ? d->tx_queues[qid] : NULL;
}

/*
 * As vdp_port_queue, and for the TX ring of a guest pair beyond the
 * port's rx queues, a queue of its own (made now if need be) that rx
 * queue pair % nb_rx_queues reads in its bursts: a guest with more pairs
 * than the port has queues loses nothing it sends. Nothing is sent to
 * those pairs (tx queue k serves pair k). Caller holds p->lock.
 */
struct vdp_queue *
vdp_port_queue_make(struct vdp_port *p, uint16_t vring_idx)
{
	const struct rte_eth_dev_data *d = p->eth_dev->data;
	struct vdp_queue *q = vdp_port_queue(p, vring_idx);
	const struct vdp_queue *first;
	uint16_t pair = vring_idx / 2;

	if (q != NULL || !(vring_idx & 1) || pair >= VDP_MAX_QUEUES || d->nb_rx_queues == 0)
		return q;
	first = d->rx_queues[pair % d->nb_rx_queues];
	if (first == NULL)
		return NULL;
	q = vdp_queue_new(p, pair, true, first->mp != NULL ? first->mp->socket_id : SOCKET_ID_ANY);
	if (q == NULL) {
		VDP_LOG(ERR, p, "guest queue pair %u: no memory for its queue: not read", pair);
		return NULL;
	}
	q->mp = first->mp;
	q->zc.eport = first->zc.eport;
	q->zc.equeue = first->zc.equeue;
	q->zc.egress = first->zc.egress;
	q->zc.egress_vdp = first->zc.egress_vdp;
	__atomic_store_n(&p->fold_rx[pair], q, __ATOMIC_RELEASE);
	__atomic_or_fetch(&p->rx_extra, VDP_RX_FOLDED, __ATOMIC_RELEASE);
	VDP_LOG(INFO, p, "guest queue pair %u: what it sends is read by rx queue %u "
		"(the port has %u)", pair, pair % d->nb_rx_queues, d->nb_rx_queues);
	return q;
}

/*
 * Let each queue run iff the port is started, the device live and not
 * failed, no message is being applied, its vring enabled by the guest and
 * its ring sound. Caller holds p->lock.
 */
void
vdp_port_apply_queues(struct vdp_port *p)
{
	struct vdp_queue *stop[VDP_MAX_VRINGS];
	uint32_t n = 0;

	for (uint16_t v = 0; v < VDP_MAX_VRINGS; v++) {
		struct vdp_queue *q = vdp_port_queue(p, v);
		bool run;

		if (q == NULL || q->stuck)
			continue;
		run = p->started && p->running && !p->failed && p->msg_req == 0 &&
		      q->ring_ok && v < p->nb_vrings && p->vring_enabled[v] &&
		      !q->vr.broken;
		if (run) {
			/* a ring back in service: its lcore may sleep */
			if (!__atomic_exchange_n(&q->allow, 1, __ATOMIC_SEQ_CST) && q->is_rx)
				vdp_queue_wake(p, q);
		} else
			stop[n++] = q;
	}
	pause_queues(p, stop, n);
	/*
	 * A ring out of service is not waited on: its kick fd leaves the
	 * sleeper's epoll (a kick left pending there - a hostile guest's,
	 * or one while polling - would make it return at once, forever).
	 * The next sleep registers it again once the ring runs.
	 */
	for (uint32_t i = 0; i < n; i++) {
		struct vdp_queue *q = stop[i];

		if (q->is_rx && !q->stuck)
			vdp_queue_kick_unregister(q);
	}
}

/*
 * A bound was broken (a queue stuck, a guest memory file shrunk): the port
 * goes down until the next session; the process and every other port carry
 * on. Caller holds p->lock; vdp_port_unlock() then brings the link down
 * (vdp_port_link_update runs application callbacks: not under our lock).
 */
void
vdp_port_fail(struct vdp_port *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	p->link_down_pending = true;
	p->stat[VDP_PS_FAILED]++;
	va_start(ap, fmt);
	vsnprintf(p->fail_why, sizeof(p->fail_why), fmt, ap);
	va_end(ap);
	VDP_LOG(ERR, p, "port failed: %s: link down until the VMM starts a new "
		"session", p->fail_why);
	for (uint16_t v = 0; v < VDP_MAX_VRINGS; v++) {
		struct vdp_queue *q = vdp_port_queue(p, v);

		if (q != NULL)
			__atomic_store_n(&q->allow, 0, __ATOMIC_SEQ_CST);
	}
}

void
vdp_port_unlock(struct vdp_port *p)
{
	bool down = p->link_down_pending;

	p->link_down_pending = false;
	pthread_mutex_unlock(&p->lock);
	if (down)
		vdp_port_link_update(p, false);
}

/* ---- the watchdog's timer ---- */

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t wd_users;     /* ports registered */
static bool wd_armed;
static vdp_watchdog_round_t wd_round;

static void wd_alarm(void *arg);

/* Caller holds wd_lock. */
static void
wd_arm_force(void)
{
	if (!wd_armed && rte_eal_alarm_set(VDP_WATCHDOG_MS * 1000, wd_alarm, NULL) == 0)
		wd_armed = true;
}

static void
wd_alarm(void *arg)
{
	vdp_watchdog_round_t round;
	uint32_t left = 0;

	RTE_SET_USED(arg);
	pthread_mutex_lock(&wd_lock);
	wd_armed = false;
	round = wd_round;
	pthread_mutex_unlock(&wd_lock);
	if (round != NULL)
		left = round();
	pthread_mutex_lock(&wd_lock);
	/* after the last port, on until what it left is gone */
	if (wd_users != 0 || left != 0)
		wd_arm_force();
	pthread_mutex_unlock(&wd_lock);
}

/* Run the round soon (something is left to reap). */
void
vdp_watchdog_poke(void)
{
	pthread_mutex_lock(&wd_lock);
	wd_arm_force();
	pthread_mutex_unlock(&wd_lock);
}

/* A port was registered: run round every VDP_WATCHDOG_MS while any is. */
void
vdp_watchdog_start(vdp_watchdog_round_t round)
{
	pthread_mutex_lock(&wd_lock);
	wd_round = round;
	wd_users++;
	wd_arm_force();
	pthread_mutex_unlock(&wd_lock);
}

void
vdp_watchdog_stop(void)
{
	pthread_mutex_lock(&wd_lock);
	if (wd_users > 0)
		wd_users--;
	pthread_mutex_unlock(&wd_lock);
	/* last port: let it run out; once more reaps what the port left */
}

/* ---- NUMA placement ---- */

static bool numa_strict;

void
vdp_numa_set_strict(bool on)
{
	__atomic_store_n(&numa_strict, on, __ATOMIC_RELAXED);
}

bool
vdp_numa_strict(void)
{
	return __atomic_load_n(&numa_strict, __ATOMIC_RELAXED);
}

/* move_pages without moving: where the page is, without faulting it in. */
int
vdp_numa_addr_node(const void *addr)
{
	static int have = -2;
	const long page = sysconf(_SC_PAGESIZE);
	void *pg = (void *)((uintptr_t)addr & ~((uintptr_t)page - 1));
	int status = -1;

	if (have == -2)
		have = numa_available();
	if (have < 0 || addr == NULL)
		return VDP_NUMA_UNKNOWN;
	if (move_pages(0, 1, &pg, NULL, &status, 0) != 0 || status < 0)
		return VDP_NUMA_UNKNOWN;
	return status;
}

void
vdp_queue_numa_ring(struct vdp_queue *q, const void *ring)
{
	vdp_numa_poll_init(&q->numa, vdp_numa_addr_node(ring), vdp_numa_strict());
}

bool
vdp_queue_numa(struct vdp_queue *q)
{
	const unsigned int lcore = rte_lcore_id();
	const int node = lcore < RTE_MAX_LCORE ? (int)rte_lcore_to_socket_id(lcore) :
			 VDP_NUMA_UNKNOWN;
	struct vdp_port *p = q->port;

	if (q->numa.lcore == lcore)
		return q->numa.refused;
	switch (vdp_numa_poll(&q->numa, lcore, node)) {
	case VDP_NUMA_REMOTE_WARN:
		VDP_LOG(WARNING, p, "%s queue %u (guest ring %u, NUMA node %d) polled by "
			"lcore %u on node %d: every frame crosses nodes (place the "
			"lcore on node %d, or the guest's memory on node %d)",
			q->is_rx ? "rx" : "tx", q->qid, q->vring_idx, q->numa.ring_node,
			lcore, node, q->numa.ring_node, node);
		break;
	case VDP_NUMA_REFUSE:
		VDP_LOG(ERR, p, "%s queue %u (guest ring %u, NUMA node %d) polled by "
			"lcore %u on node %d: refused (NUMA placement is strict), the "
			"queue stays idle on that lcore", q->is_rx ? "rx" : "tx", q->qid,
			q->vring_idx, q->numa.ring_node, lcore, node);
		break;
	default:
		break;
	}
	return q->numa.refused;
}
