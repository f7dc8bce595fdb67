/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Streams (rx port/queue -> tx port/queue), their placement on worker
 * lcores, and the worker loop. The main lcore never polls.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <rte_pmd_vdevpeer.h>

#include "app_params.h"
#include "fwd.h"
#include "offload.h"
#include "ports.h"
#include "vdevpeer_app.h"

/* Set from signal handlers too: an atomic store of a lock-free int. */

/* What the workers do; written by the main lcore only. */
enum fwd_run_state {
	FWD_RUN,
	FWD_DRAIN,     /* keep forwarding, report when a round found nothing */
	FWD_STOP,
};
static int fwd_state;

struct fwd_lcore {
	struct fwd_stream **streams;
	unsigned int nb_streams;
	const struct fwd_engine *engine;
	int drained;               /* atomic: a drain round received nothing */
	uint64_t drain_rx;         /* frames received since draining began */
	/*
	 * Where the worker's time goes, in TSC cycles, since the app started
	 * (kept across stream rebuilds). A round (every stream polled once)
	 * that received at least one frame counts as busy. busy / frames is
	 * what the backends cost per frame whether or not the traffic
	 * source saturates the worker: perf/run-e2e.py compares it. One
	 * rdtsc per round; written by the worker, read by the main lcore.
	 */
	uint64_t cycles_total;
	uint64_t cycles_busy;
	uint64_t frames;           /* received in busy rounds */
	uint64_t rounds_busy;      /* busy rounds: frames / rounds_busy is the
				    * batch the streams actually get */
	/* busy rounds and their cycles by the frames they received (the
	 * last bucket: FWD_FILL_MAX or more): what a round costs at each
	 * fill, so that two backends, or two ring layouts, can be compared
	 * at the same fill when the guests set it (fwd_lcore_fill) */
	uint64_t fill_rounds[FWD_FILL_MAX + 1];
	uint64_t fill_cycles[FWD_FILL_MAX + 1];

	/* rx mode: written by the main lcore (fwd_rx_mode_apply) */
	int rx_mode;               /* atomic: enum fwd_rx_mode */
	uint64_t idle_cycles;      /* atomic: adaptive's quiet period */
	int wake_fd;               /* eventfd the main lcore writes; -1 none yet */
	/* the worker's own, for its current streams */
	int epfd;
	int polls_anyway;          /* atomic: a port of its streams cannot sleep */
	struct fwd_cycles sl;      /* sleep counters (asleep ... wake_lat_max) */
} __rte_cache_aligned;

/* epoll data of the wake eventfd (streams are 0..nb_streams-1) */
#define FWD_WAKE_TAG UINT32_MAX
/*
 * A sleep ends at the latest after this: a safety net, not the mechanism
 * (kicks and the wake eventfd are). A timeout after which frames were
 * waiting is counted (late): it would mean a missed wake-up.
 */
#define FWD_SLEEP_MAX_MS 200

static struct fwd_lcore fwd_lcores[RTE_MAX_LCORE];
static bool fwd_lcores_ready;   /* their fds set to -1 */

const char *const fwd_rx_mode_names[FWD_RXM_NB] = {
	[FWD_RXM_POLL] = "poll",
	[FWD_RXM_ADAPTIVE] = "adaptive",
	[FWD_RXM_INTERRUPT] = "interrupt",
};

int
fwd_rx_mode_parse(const char *s)
{
	for (int m = 0; m < FWD_RXM_NB; m++)
		if (strcmp(s, fwd_rx_mode_names[m]) == 0)
			return m;
	return -1;
}

enum fwd_rx_mode
fwd_port_rx_mode(const struct app_params *p, uint16_t port)
{
	if (port < RTE_MAX_ETHPORTS && p->port_rx_mode[port] != 0)
		return (enum fwd_rx_mode)(p->port_rx_mode[port] - 1);
	return (enum fwd_rx_mode)p->rx_mode;
}

static void
lcore_wake(struct fwd_lcore *fl)
{
	const uint64_t one = 1;

	if (fwd_lcores_ready && fl->wake_fd >= 0)
		(void)!write(fl->wake_fd, &one, sizeof(one));
}

void
fwd_rx_mode_apply(const struct app_params *p)
{
	const uint64_t idle = rte_get_tsc_hz() / 1000000 * p->rx_idle_us;

	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		struct fwd_lcore *fl = &fwd_lcores[l];
		int mode = FWD_RXM_INTERRUPT;

		/* the most polling mode of its ports; an lcore that sends
		 * frames of its own (txonly) polls */
		for (unsigned int i = 0; i < fl->nb_streams; i++) {
			const struct fwd_stream *fs = fl->streams[i];
			int m = fs->rx_port == APP_NO_PORT ? FWD_RXM_POLL :
				(int)fwd_port_rx_mode(p, fs->rx_port);

			if (m < mode)
				mode = m;
		}
		if (fl->nb_streams == 0)
			mode = FWD_RXM_POLL;
		__atomic_store_n(&fl->idle_cycles, idle, __ATOMIC_RELAXED);
		if (mode != FWD_RXM_POLL && mode != fl->rx_mode && fl->nb_streams != 0 &&
		    __atomic_load_n(&fl->polls_anyway, __ATOMIC_RELAXED))
			printf("lcore %u keeps polling (rx mode %s): a port of its "
			       "streams cannot sleep\n", l, fwd_rx_mode_names[mode]);
		__atomic_store_n(&fl->rx_mode, mode, __ATOMIC_RELEASE);
		lcore_wake(fl);
	}
}

/*
 * The worker's epoll: its wake eventfd and the rx interrupt fd of each
 * stream's rx queue. A queue without one (a PMD without rx interrupts, a
 * txonly stream) keeps the worker polling, said once. Worker lcore.
 */
static void
lcore_sleep_setup(struct fwd_lcore *fl, unsigned int lcore)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char why[128] = "";
	unsigned int i;

	fl->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.u32 = FWD_WAKE_TAG;
	if (fl->epfd < 0 || fl->wake_fd < 0 ||
	    epoll_ctl(fl->epfd, EPOLL_CTL_ADD, fl->wake_fd, &ev) != 0)
		snprintf(why, sizeof(why), "no epoll (%s)", strerror(errno));
	for (i = 0; i < fl->nb_streams && why[0] == '\0'; i++) {
		const struct fwd_stream *fs = fl->streams[i];
		char name[RTE_ETH_NAME_MAX_LEN];
		int fd = -1;

		if (fs->rx_port == APP_NO_PORT) {
			snprintf(why, sizeof(why), "it sends frames of its own (%s)",
				 fl->engine->name);
			break;
		}
		if (ports_rx_intr(fs->rx_port))
			fd = rte_eth_dev_rx_intr_ctl_q_get_fd(fs->rx_port, fs->rx_queue);
		ev.data.u32 = i;
		if (fd < 0 || epoll_ctl(fl->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
			snprintf(why, sizeof(why), "port %s has no rx interrupts",
				 port_label(fs->rx_port, name, sizeof(name)));
	}
	__atomic_store_n(&fl->polls_anyway, why[0] != '\0', __ATOMIC_RELAXED);
	if (why[0] != '\0' && __atomic_load_n(&fl->rx_mode, __ATOMIC_ACQUIRE) != FWD_RXM_POLL) {
		printf("lcore %u keeps polling (rx mode %s): %s\n", lcore,
		       fwd_rx_mode_names[fl->rx_mode], why);
		fflush(stdout);
	}
}

enum fwd_sleep {
	FWD_SLEEP_REFUSED,    /* a queue had work: not asleep at all */
	FWD_SLEEP_WOKEN,      /* a fd woke us */
	FWD_SLEEP_TIMEOUT,    /* FWD_SLEEP_MAX_MS passed (or a signal) */
};

/* The first n streams' queues back to polling (no interrupts asked for). */
static void
lcore_disarm(struct fwd_lcore *fl, unsigned int n)
{
	for (unsigned int i = 0; i < n && i < fl->nb_streams; i++)
		rte_eth_dev_rx_intr_disable(fl->streams[i]->rx_port, fl->streams[i]->rx_queue);
}

/*
 * Sleep until a queue has something, the main lcore wakes us, or
 * FWD_SLEEP_MAX_MS: every queue asks for an interrupt first (the PMD
 * looks at its rings once more after asking: -EAGAIN, work is there, and
 * we do not sleep). *cycles: the time it took, asleep or not. After a
 * timeout the interrupts stay asked for (*armed: of how many streams)
 * until the caller has run one round: a frame that comes in between is
 * then kicked for, and a kick waiting after that round tells a frame
 * that came after the timeout from one whose kick was missed.
 */
static enum fwd_sleep
lcore_sleep(struct fwd_lcore *fl, uint64_t *cycles, unsigned int *armed)
{
	struct epoll_event ev[16];
	enum fwd_sleep how = FWD_SLEEP_REFUSED;
	unsigned int i, n_on;
	uint64_t t0 = rte_rdtsc(), t1, v;
	int n, r;

	for (n_on = 0; n_on < fl->nb_streams; n_on++) {
		const struct fwd_stream *fs = fl->streams[n_on];

		r = rte_eth_dev_rx_intr_enable(fs->rx_port, fs->rx_queue);
		if (r != 0 && r != -ENOTSUP)   /* -ENOTSUP: nothing to arm (net_tap) */
			break;
	}
	if (n_on == fl->nb_streams &&
	    __atomic_load_n(&fwd_state, __ATOMIC_ACQUIRE) == FWD_RUN) {
		fwd_counter_add(&fl->sl.sleeps, 1);
		n = epoll_wait(fl->epfd, ev, RTE_DIM(ev), FWD_SLEEP_MAX_MS);
		for (i = 0; i < (unsigned int)RTE_MAX(n, 0); i++)
			if (ev[i].data.u32 == FWD_WAKE_TAG)
				(void)!read(fl->wake_fd, &v, sizeof(v));
		how = n > 0 ? FWD_SLEEP_WOKEN : FWD_SLEEP_TIMEOUT;
		fwd_counter_add(how == FWD_SLEEP_WOKEN ? &fl->sl.wakeups : &fl->sl.timeouts, 1);
	} else {
		fwd_counter_add(&fl->sl.refused, 1);
	}
	*armed = 0;
	if (how == FWD_SLEEP_TIMEOUT)
		*armed = n_on;
	else
		lcore_disarm(fl, n_on);
	t1 = rte_rdtsc();
	*cycles = t1 - t0;
	if (how != FWD_SLEEP_REFUSED)
		fwd_counter_add(&fl->sl.asleep, t1 - t0);
	return how;
}

static void
stream_init(struct fwd_stream *fs, const struct app_params *p,
	    const struct app_ports *ap, uint16_t rx_port, uint16_t q,
	    uint16_t tx_port)
{
	fs->pool = ports_pool(ap, tx_port != APP_NO_PORT ? tx_port : rx_port);
	fs->rx_port = rx_port;
	fs->rx_queue = q;
	fs->tx_port = tx_port;
	/* More rx than tx queues: several streams share a tx queue. */
	fs->tx_queue = tx_port == APP_NO_PORT ? 0 : q % p->nb_txq;
	fs->burst = p->burst;
	/* chosen here, not per burst: the streams are rebuilt whenever a
	 * port is set up again (control.c) */
	fs->tx_sw = tx_port != APP_NO_PORT && app_tx_sw_offload[tx_port];
	fs->peer = p->engine->peer_path && !p->no_peer_path &&
		   rx_port != APP_NO_PORT && tx_port != APP_NO_PORT &&
		   rte_pmd_vdevpeer_is_vdevpeer(rx_port) &&
		   rte_pmd_vdevpeer_is_vdevpeer(tx_port);
}

/*
 * Round-robin over the workers, except that streams sending on the same
 * tx port/queue stay on one lcore: tx_burst on one queue is not
 * thread-safe.
 */
static int
fwd_place_streams(const struct app_params *p, struct fwd_config *fc)
{
	unsigned int workers[RTE_MAX_LCORE];
	unsigned int nb_workers = 0, next = 0, i, j, lcore;

	RTE_LCORE_FOREACH_WORKER(lcore)
		if (!p->lcore_set || p->fwd_lcores[lcore])
			workers[nb_workers++] = lcore;
	if (nb_workers == 0) {
		fprintf(stderr, "%s: no worker lcore: give at least 2 lcores "
			"in -l (the main lcore does not forward), e.g. -l 0,1\n",
			APP_NAME);
		return -EINVAL;
	}
	for (i = 0; i < fc->nb_streams; i++) {
		struct fwd_stream *fs = &fc->streams[i];

		fs->lcore = RTE_MAX_LCORE;
		for (j = 0; j < i && fs->tx_port != APP_NO_PORT; j++) {
			if (fc->streams[j].tx_port == fs->tx_port &&
			    fc->streams[j].tx_queue == fs->tx_queue) {
				fs->lcore = fc->streams[j].lcore;
				break;
			}
		}
		if (fs->lcore == RTE_MAX_LCORE) {
			fs->lcore = workers[next];
			next = (next + 1) % nb_workers;
		}
	}
	return 0;
}

/* Streams only between ports that are ours and started. */
static bool
port_live(const struct app_ports *ap, uint16_t port)
{
	return port < RTE_MAX_ETHPORTS && ap->used[port] && ap->started[port] &&
	       rte_eth_dev_is_valid_port(port);
}

int
fwd_build_streams(const struct app_params *p, const struct app_ports *ap,
		  struct fwd_config *fc)
{
	unsigned int n = 0, i, max;
	uint16_t port, q;

	fc->engine = p->engine;
	max = (p->nb_pairs * 2 + RTE_MAX_ETHPORTS) * RTE_MAX(p->nb_rxq, p->nb_txq);
	fc->streams = rte_zmalloc("fwd_streams", max * sizeof(*fc->streams),
				  RTE_CACHE_LINE_SIZE);
	if (fc->streams == NULL) {
		fprintf(stderr, "%s: cannot allocate %u streams\n", APP_NAME, max);
		return -ENOMEM;
	}
	if (p->engine->tx_only) {
		RTE_ETH_FOREACH_DEV(port) {
			if (!port_live(ap, port))
				continue;
			for (q = 0; q < p->nb_txq; q++)
				stream_init(&fc->streams[n++], p, ap, APP_NO_PORT, q, port);
		}
	} else if (p->engine->needs_pairs) {
		for (i = 0; i < p->nb_pairs; i++) {
			const struct app_pair *pr = &p->pairs[i];

			if (!port_live(ap, pr->a) || !port_live(ap, pr->b))
				continue;
			for (q = 0; q < p->nb_rxq; q++) {
				stream_init(&fc->streams[n++], p, ap, pr->a, q, pr->b);
				if (pr->a != pr->b)
					stream_init(&fc->streams[n++], p, ap, pr->b, q, pr->a);
			}
		}
	} else {
		RTE_ETH_FOREACH_DEV(port) {
			if (!port_live(ap, port))
				continue;
			for (q = 0; q < p->nb_rxq; q++)
				stream_init(&fc->streams[n++], p, ap, port, q, APP_NO_PORT);
		}
	}
	fc->nb_streams = n;
	return fwd_place_streams(p, fc);
}

void
fwd_print_layout(const struct fwd_config *fc)
{
	char rx[RTE_ETH_NAME_MAX_LEN + 16], tx[RTE_ETH_NAME_MAX_LEN + 16];
	unsigned int i;

	printf("Streams (%u):\n", fc->nb_streams);
	for (i = 0; i < fc->nb_streams; i++) {
		const struct fwd_stream *fs = &fc->streams[i];

		if (fs->rx_port == APP_NO_PORT) {
			printf("  lcore %u: (generate) -> tx port %u (%s) queue %u\n",
			       fs->lcore, fs->tx_port,
			       port_label(fs->tx_port, tx, sizeof(tx)), fs->tx_queue);
			continue;
		}
		port_label(fs->rx_port, rx, sizeof(rx));
		if (fs->tx_port == APP_NO_PORT)
			printf("  lcore %u: rx port %u (%s) queue %u -> (%s)\n",
			       fs->lcore, fs->rx_port, rx, fs->rx_queue,
			       fc->engine->rx_sink != NULL ? fc->engine->rx_sink : "drop");
		else
			printf("  lcore %u: rx port %u (%s) queue %u -> "
			       "tx port %u (%s) queue %u%s\n",
			       fs->lcore, fs->rx_port, rx, fs->rx_queue,
			       fs->tx_port, port_label(fs->tx_port, tx, sizeof(tx)),
			       fs->tx_queue, fs->peer ? ", direct path" : "");
	}
	fflush(stdout);
}

static uint64_t
lcore_rx_sum(const struct fwd_lcore *fl)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < fl->nb_streams; i++)
		n += fl->streams[i]->rx_pkts;
	return n;
}

static int
fwd_lcore_loop(void *arg)
{
	struct fwd_lcore *fl = arg;
	void (*stream_fwd)(struct fwd_stream *) = fl->engine->stream_fwd;
	uint64_t rx_before = 0, rx_drain_start = 0, now;
	uint64_t rx_seen = lcore_rx_sum(fl), tsc_prev = rte_rdtsc(), tsc, rx;
	uint64_t idle_since = tsc_prev, woke_at = 0, slept;
	bool drain_begun = false, was_timeout = false;
	struct epoll_event kick;
	enum fwd_sleep how;
	unsigned int i, armed = 0, fill;
	int state, mode;

	lcore_sleep_setup(fl, rte_lcore_id());
	for (;;) {
		for (i = 0; i < fl->nb_streams; i++)
			stream_fwd(fl->streams[i]);
		tsc = rte_rdtsc();
		rx = lcore_rx_sum(fl);
		fwd_counter_add(&fl->cycles_total, tsc - tsc_prev);
		if (unlikely(armed != 0)) {
			/* the round after a timeout, interrupts still asked
			 * for: frames it found whose kick is waiting came
			 * after the timeout (or with it), in time */
			if (rx != rx_seen && epoll_wait(fl->epfd, &kick, 1, 0) > 0)
				was_timeout = false;
			lcore_disarm(fl, armed);
			armed = 0;
		}
		if (rx != rx_seen) {
			fwd_counter_add(&fl->cycles_busy, tsc - tsc_prev);
			fwd_counter_add(&fl->frames, rx - rx_seen);
			fwd_counter_add(&fl->rounds_busy, 1);
			fill = rx - rx_seen < FWD_FILL_MAX ? (unsigned int)(rx - rx_seen) : FWD_FILL_MAX;
			fwd_counter_add(&fl->fill_rounds[fill], 1);
			fwd_counter_add(&fl->fill_cycles[fill], tsc - tsc_prev);
			rx_seen = rx;
			idle_since = tsc;
			if (unlikely(woke_at != 0)) {
				/* the first frame after a wake-up */
				fwd_counter_add(&fl->sl.wake_lat, tsc - woke_at);
				fwd_counter_add(&fl->sl.wake_lat_n, 1);
				if (tsc - woke_at > fl->sl.wake_lat_max)
					fwd_counter_add(&fl->sl.wake_lat_max,
							tsc - woke_at - fl->sl.wake_lat_max);
				if (was_timeout)
					fwd_counter_add(&fl->sl.late, 1);
				woke_at = 0;
			}
		}
		tsc_prev = tsc;
		state = __atomic_load_n(&fwd_state, __ATOMIC_ACQUIRE);
		mode = __atomic_load_n(&fl->rx_mode, __ATOMIC_RELAXED);
		if (unlikely(mode != FWD_RXM_POLL) && state == FWD_RUN &&
		    !fl->polls_anyway && tsc != idle_since &&
		    (mode == FWD_RXM_INTERRUPT ||
		     tsc - idle_since >= __atomic_load_n(&fl->idle_cycles, __ATOMIC_RELAXED))) {
			/* a round without frames, quiet long enough */
			how = lcore_sleep(fl, &slept, &armed);
			fwd_counter_add(&fl->cycles_total, slept);
			tsc_prev = idle_since = rte_rdtsc();
			if (how != FWD_SLEEP_REFUSED) {
				woke_at = tsc_prev;
				was_timeout = how == FWD_SLEEP_TIMEOUT;
			}
			continue;
		}
		if (likely(state == FWD_RUN))
			continue;
		if (state == FWD_STOP)
			break;
		/* FWD_DRAIN: drained once a whole round received nothing */
		now = lcore_rx_sum(fl);
		if (!drain_begun) {
			drain_begun = true;
			rx_before = rx_drain_start = now;
			continue;
		}
		__atomic_store_n(&fl->drain_rx, now - rx_drain_start, __ATOMIC_RELAXED);
		if (now == rx_before)
			__atomic_store_n(&fl->drained, 1, __ATOMIC_RELEASE);
		rx_before = now;
	}
	if (fl->epfd >= 0)
		close(fl->epfd);
	fl->epfd = -1;
	return 0;
}

int
fwd_launch(const struct app_params *p, struct fwd_config *fc)
{
	unsigned int i, lcore;
	int ret;

	__atomic_store_n(&fwd_state, FWD_RUN, __ATOMIC_RELEASE);
	for (i = 0; i < RTE_MAX_LCORE; i++) {
		fwd_lcores[i].nb_streams = 0;
		fwd_lcores[i].drained = 0;
		fwd_lcores[i].drain_rx = 0;
	}
	for (i = 0; i < fc->nb_streams; i++) {
		struct fwd_stream *fs = &fc->streams[i];
		struct fwd_lcore *fl = &fwd_lcores[fs->lcore];

		/* run to completion: a guest port holding too many zero-copy
		 * buffers may ask the egress to clean up (same lcore); a stream
		 * without one egress (bridge, rebuilt streams) forgets an old one */
		if (fs->rx_port != APP_NO_PORT && rte_pmd_vdevpeer_is_vdevpeer(fs->rx_port))
			rte_pmd_vdevpeer_zc_egress(fs->rx_port, fs->rx_queue, fs->tx_port,
						   fs->tx_port == APP_NO_PORT ? 0 : fs->tx_queue);

		if (fl->streams == NULL) {
			fl->streams = calloc(APP_MAX_STREAMS, sizeof(*fl->streams));
			if (fl->streams == NULL)
				return -ENOMEM;
		}
		fl->streams[fl->nb_streams++] = &fc->streams[i];
		fl->engine = p->engine;
	}
	if (!fwd_lcores_ready) {
		for (i = 0; i < RTE_MAX_LCORE; i++)
			fwd_lcores[i].wake_fd = fwd_lcores[i].epfd = -1;
		fwd_lcores_ready = true;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct fwd_lcore *fl = &fwd_lcores[lcore];

		if (fl->wake_fd < 0)   /* made once, kept for the process */
			fl->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		(void)!read(fl->wake_fd, &(uint64_t){0}, sizeof(uint64_t));
		fl->epfd = -1;
	}
	fwd_rx_mode_apply(p);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (fwd_lcores[lcore].nb_streams == 0)
			continue;
		ret = rte_eal_remote_launch(fwd_lcore_loop, &fwd_lcores[lcore], lcore);
		if (ret != 0) {
			fprintf(stderr, "%s: cannot launch lcore %u: %s\n",
				APP_NAME, lcore, strerror(-ret));
			fwd_stop_and_wait(0);
			return ret;
		}
	}
	return 0;
}

/* Progress lines while draining, this often. */
#define DRAIN_REPORT_MS 250

void
fwd_stop_and_wait(unsigned int drain_ms)
{
	uint64_t hz = rte_get_timer_hz(), start = rte_get_timer_cycles();
	uint64_t next_report = start + hz * DRAIN_REPORT_MS / 1000;
	unsigned int lcore, busy;
	uint64_t frames;
	bool reported = false;

	__atomic_store_n(&fwd_state, FWD_DRAIN, __ATOMIC_RELEASE);
	RTE_LCORE_FOREACH_WORKER(lcore)
		lcore_wake(&fwd_lcores[lcore]);   /* a sleeper drains too */
	while (drain_ms != 0) {
		busy = 0;
		frames = 0;
		RTE_LCORE_FOREACH_WORKER(lcore) {
			if (rte_eal_get_lcore_state(lcore) != RUNNING)
				continue;
			frames += __atomic_load_n(&fwd_lcores[lcore].drain_rx, __ATOMIC_RELAXED);
			if (!__atomic_load_n(&fwd_lcores[lcore].drained, __ATOMIC_ACQUIRE))
				busy++;
		}
		if (busy == 0)
			break;
		if (rte_get_timer_cycles() - start >= hz * drain_ms / 1000) {
			printf("Draining: %u lcore(s) still receiving after %u ms "
			       "(%" PRIu64 " frames since stop): stopping anyway\n",
			       busy, drain_ms, frames);
			reported = true;
			break;
		}
		if (rte_get_timer_cycles() >= next_report) {
			printf("Draining: %u lcore(s) busy, %" PRIu64 " frames "
			       "forwarded since stop...\n", busy, frames);
			fflush(stdout);
			reported = true;
			next_report += hz * DRAIN_REPORT_MS / 1000;
		}
		rte_delay_us_sleep(1000);
	}
	if (reported && frames != 0)
		printf("Draining done: %" PRIu64 " frames forwarded since stop\n", frames);
	__atomic_store_n(&fwd_state, FWD_STOP, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	fflush(stdout);
}

int
fwd_lcore_cycles(unsigned int lcore, struct fwd_cycles *c)
{
	const struct fwd_lcore *fl;

	if (lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore) ||
	    lcore == rte_get_main_lcore())
		return -EINVAL;
	fl = &fwd_lcores[lcore];
	*c = fl->sl;   /* sleep counters: single writer, torn reads harmless */
	c->total = fwd_counter_read(&fl->cycles_total);
	c->busy = fwd_counter_read(&fl->cycles_busy);
	c->frames = fwd_counter_read(&fl->frames);
	c->rounds_busy = fwd_counter_read(&fl->rounds_busy);
	c->mode = (enum fwd_rx_mode)__atomic_load_n(&fl->rx_mode, __ATOMIC_ACQUIRE);
	c->polls_anyway = __atomic_load_n(&fl->polls_anyway, __ATOMIC_RELAXED);
	return 0;
}

int
fwd_lcore_fill(unsigned int lcore, uint64_t rounds[FWD_FILL_MAX + 1],
	       uint64_t cycles[FWD_FILL_MAX + 1])
{
	const struct fwd_lcore *fl;

	if (lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore) ||
	    lcore == rte_get_main_lcore())
		return -EINVAL;
	fl = &fwd_lcores[lcore];
	for (unsigned int n = 0; n <= FWD_FILL_MAX; n++) {
		rounds[n] = fwd_counter_read(&fl->fill_rounds[n]);
		cycles[n] = fwd_counter_read(&fl->fill_cycles[n]);
	}
	return 0;
}

void
fwd_free(struct fwd_config *fc)
{
	unsigned int i;

	for (i = 0; i < RTE_MAX_LCORE; i++) {
		free(fwd_lcores[i].streams);
		fwd_lcores[i].streams = NULL;
		fwd_lcores[i].nb_streams = 0;
	}
	rte_free(fc->streams);
	fc->streams = NULL;
	fc->nb_streams = 0;
}

/*
 * Mark the ports the streams will use and, for engines that need pairs and
 * got no --pair, pair the ports 0-1, 2-3, ... 0 or -EINVAL (message printed).
 */
int
fwd_select_ports(struct app_params *p, struct app_ports *ap)
{
	unsigned int nb_ports = rte_eth_dev_count_avail(), i;
	uint16_t port, prev = APP_NO_PORT;

	if (nb_ports == 0) {
		fprintf(stderr, "%s: no ports: add some with --vdev "
			"(e.g. --vdev net_vdevpeer0,peer=/path/sock) or -a <PCI>\n",
			APP_NAME);
		return -EINVAL;
	}
	if (p->nb_pairs != 0) {
		for (i = 0; i < p->nb_pairs; i++) {
			ap->used[p->pairs[i].a] = true;
			ap->used[p->pairs[i].b] = true;
		}
		return 0;
	}
	/* A guest and its host interface go together (guest to host). */
	RTE_ETH_FOREACH_DEV(port) {
		ap->used[port] = true;
		if (!p->engine->needs_pairs || ap->role[port] != PORT_ROLE_GUEST ||
		    ap->hostif_peer[port] == APP_NO_PORT)
			continue;
		p->pairs[p->nb_pairs].a = port;
		p->pairs[p->nb_pairs].b = ap->hostif_peer[port];
		p->nb_pairs++;
	}
	if (!p->engine->needs_pairs)
		return 0;
	nb_ports -= 2 * p->nb_pairs;
	if (nb_ports % 2 != 0) {
		fprintf(stderr, "%s: --fwd %s: %u ports cannot be paired 0:1, 2:3, "
			"...: give --pair A:B (or --pair P:P to loop a port back)\n",
			APP_NAME, p->engine->name, nb_ports);
		return -EINVAL;
	}
	RTE_ETH_FOREACH_DEV(port) {
		if (ap->hostif_peer[port] != APP_NO_PORT)
			continue;
		if (prev == APP_NO_PORT) {
			prev = port;
			continue;
		}
		p->pairs[p->nb_pairs].a = prev;
		p->pairs[p->nb_pairs].b = port;
		p->nb_pairs++;
		prev = APP_NO_PORT;
	}
	return 0;
}
