/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest interrupts: writes on a VMM's call eventfd that never block for
 * long, whoever makes them (an lcore at the end of a burst, the control
 * thread handing buffers back). Used by the data path, zero-copy and the
 * queue gating of vdevpeer_port.c (which ends a blocked write of an lcore
 * it waits for); uses nothing else of the driver.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_log.h>

#include "vdevpeer.h"
#include "vdevpeer_call.h"

/* ---- guest interrupts: a write on a VMM's eventfd, never blocked for long ----
 *
 * Call fds are eventfds (checked when the VMM sends them) made
 * non-blocking; a full counter gives EAGAIN (the guest has an interrupt
 * pending anyway: nothing lost, counted). But O_NONBLOCK belongs to the
 * open file, which the VMM shares and may clear again: then a write on a
 * full counter blocks until the VMM reads, perhaps never. So each thread
 * that writes says so in a slot (start time), and the watchdog - or a
 * control thread waiting for that lcore - sends a thread that has been in
 * its write for VDP_CALL_BLOCK_MS a signal whose handler does nothing and
 * is installed without SA_RESTART: the write returns EINTR, the queue
 * stops using that fd until its ring is loaded again, counted.
 */
#define VDP_CALL_SLOTS 256   /* threads that write call fds (lcores, control) */

struct vdp_call_slot {
	uint64_t tsc;        /* atomic: in a write since, 0: not */
	pthread_t th;
};

static struct vdp_call_slot call_slots[VDP_CALL_SLOTS];
static uint32_t call_nslots;  /* atomic */
static int call_sig;          /* 0: no signal of ours */
static __thread int call_slot = -1;
static pthread_once_t call_once = PTHREAD_ONCE_INIT;

static void
call_sig_handler(int sig)
{
	RTE_SET_USED(sig);   /* its only job: make the blocked write return */
}

/* A real-time signal nobody else handles (checked: the application's
 * handlers are left alone; none free: blocked writes are not ended). */
static void
call_sig_install(void)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = call_sig_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;     /* no SA_RESTART: the write must return */
	for (int s = SIGRTMAX - 1; s > SIGRTMIN + 4; s--) {
		if (sigaction(s, NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
		    (old.sa_flags & SA_SIGINFO))
			continue;
		if (sigaction(s, &sa, NULL) == 0) {
			call_sig = s;
			return;
		}
	}
	VDP_LOG_NOPORT(WARNING, "no free real-time signal: a VMM that makes its call "
		       "eventfd blocking can hold an lcore");
}

void
vdp_call_unblock_init(void)
{
	pthread_once(&call_once, call_sig_install);
}

/* This thread's slot (taken at its first write), VDP_CALL_SLOTS: none. */
static int
call_slot_get(void)
{
	if (unlikely(call_slot < 0)) {
		uint32_t i = __atomic_fetch_add(&call_nslots, 1, __ATOMIC_RELAXED);

		if (i < VDP_CALL_SLOTS && call_sig > 0) {
			sigset_t set;

			call_slots[i].th = pthread_self();
			sigemptyset(&set);
			sigaddset(&set, call_sig);
			pthread_sigmask(SIG_UNBLOCK, &set, NULL);
			call_slot = (int)i;
		} else {
			call_slot = VDP_CALL_SLOTS;
		}
	}
	return call_slot;
}

/* Interrupt the guest: 0, or -EAGAIN (counter full), -EINTR (the write
 * blocked and was ended), -errno. */
int
vdp_call_write(int fd)
{
	const uint64_t one = 1;
	int s = call_slot_get(), err = 0;
	ssize_t r;

	if (s < VDP_CALL_SLOTS)
		__atomic_store_n(&call_slots[s].tsc, rte_get_timer_cycles() | 1, __ATOMIC_RELEASE);
	r = write(fd, &one, sizeof(one));
	if (r != sizeof(one))
		err = r < 0 ? -errno : -EIO;
	if (s < VDP_CALL_SLOTS)
		__atomic_store_n(&call_slots[s].tsc, 0, __ATOMIC_RELEASE);
	return err;
}

/* End the writes that have blocked for VDP_CALL_BLOCK_MS. Any thread. */
void
vdp_call_watch(uint64_t now)
{
	const uint64_t limit = rte_get_timer_hz() * VDP_CALL_BLOCK_MS / 1000;
	uint32_t n = RTE_MIN(__atomic_load_n(&call_nslots, __ATOMIC_ACQUIRE),
			     (uint32_t)VDP_CALL_SLOTS);

	if (call_sig <= 0)
		return;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t tsc = __atomic_load_n(&call_slots[i].tsc, __ATOMIC_ACQUIRE);

		if (tsc != 0 && now > tsc && now - tsc > limit)
			pthread_kill(call_slots[i].th, call_sig);
	}
}

/* Interrupt the guest of q (its call fd open and in use), counted. */
void
vdp_queue_call(struct vdp_queue *q)
{
	int r = vdp_call_write(q->callfd);

	if (likely(r == 0)) {
		VDP_CNT_INC(q->calls);
	} else if (r == -EAGAIN) {
		VDP_CNT_INC(q->call_stat[VDP_CALL_EAGAIN]);
	} else if (r == -EINTR) {
		VDP_CNT_INC(q->call_stat[VDP_CALL_UNBLOCKED]);
		q->call_off = true;
		rte_log(RTE_LOG_ERR, vdp_logtype_data, "net_vdevpeer: %s (%s): %s queue %u: "
			"writing the guest's call eventfd blocked (the VMM made it "
			"blocking and let its counter fill): interrupts off until the "
			"ring is set up again\n", q->port->args.bind, q->port->args.peer,
			q->is_rx ? "rx" : "tx", q->qid);
	} else {
		VDP_CNT_INC(q->call_stat[VDP_CALL_ERRORS]);
	}
}

void
vdp_queue_close_call(struct vdp_queue *q)
{
	if (q->callfd >= 0)
		close(q->callfd);
	q->callfd = -1;
}

/* Call q's guest from the control thread (the decision made): never
 * through a call fd the VMM made blocking again. */
static void
call_shared(struct vdp_queue *q)
{
	int fl;

	if (q->callfd < 0 || q->call_off)
		return;
	fl = fcntl(q->callfd, F_GETFL);
	if (fl < 0 || !(fl & O_NONBLOCK)) {
		q->call_off = true;
		VDP_CNT_INC(q->call_stat[VDP_CALL_UNBLOCKED]);
		return;
	}
	vdp_queue_call(q);
}

void
vdp_queue_publish_shared(struct vdp_queue *q)
{
	if (q->ring_ok && vdp_vq_publish(&q->vr))
		call_shared(q);
}

void
vdp_queue_call_due_shared(struct vdp_queue *q)
{
	if (!q->call_due)
		return;
	q->call_due = false;
	if (q->ring_ok && vdp_vq_need_call_l(&q->vr, q->vr.layout))
		call_shared(q);
}
