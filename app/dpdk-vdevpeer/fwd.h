/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding: streams, engines, worker lcores (fwd.c, fwd_<mode>.c).
 */
#ifndef APP_FWD_H
#define APP_FWD_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "offload.h"
#include "vdevpeer_app.h"

struct app_params;
struct app_ports;

struct fwd_stream {
	uint16_t rx_port;
	uint16_t rx_queue;
	uint16_t tx_port;        /* APP_NO_PORT when the engine does not send */
	uint16_t tx_queue;
	uint16_t burst;
	bool tx_sw;              /* the tx port is not net_vdevpeer: offload_tx_sw */
	bool peer;               /* both ports net_vdevpeer: the direct path (io) */
	unsigned int lcore;
	struct rte_mempool *pool;  /* of the tx port: for engines that make frames */
	/* Written by the owning worker only; read by the main lcore. */
	uint64_t rx_pkts;
	uint64_t tx_pkts;
	uint64_t tx_drops;       /* not accepted by tx_burst, freed */
} __rte_cache_aligned;

/*
 * A forwarding mode. stream_fwd polls one stream once: it receives at
 * most fs->burst packets and sends or frees every one of them. To add a
 * mode (bridge, txonly), write fwd_<mode>.c exporting one of these and list
 * it in fwd_engines[] (engines.c).
 */
struct fwd_engine {
	const char *name;
	const char *help;
	bool needs_pairs;        /* streams go from one port to its peer */
	bool tx_only;            /* streams only send (rx_port APP_NO_PORT) */
	bool no_pairs;           /* every port is a member: --pair refused */
	/* between two net_vdevpeer ports its streams may use the direct
	 * path (rte_pmd_vdevpeer_peer_forward): it sends every frame it
	 * receives unchanged (io) */
	bool peer_path;
	/* where received frames go when a stream has no tx port ("bridge");
	 * NULL: they are dropped */
	const char *rx_sink;
	void (*stream_fwd)(struct fwd_stream *fs);
	/* Optional, main lcore. init: after fwd_select_ports(), before the
	 * streams and ports are set up (may raise p->nb_txq); 0 or -errno
	 * after a message. tick: every ~100 ms while forwarding. stats: in
	 * the periodic table and at exit. fini: after the workers stopped. */
	int (*init)(struct app_params *p, const struct app_ports *ap);
	void (*tick)(void);
	void (*stats)(bool final);
	void (*fini)(void);
};


static inline void
fwd_counter_add(uint64_t *c, uint64_t n)
{
	/* Single writer: a plain load/add/store, atomic only for the reader. */
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

static inline uint64_t
fwd_counter_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static inline uint16_t
fwd_stream_rx(struct fwd_stream *fs, struct rte_mbuf **pkts)
{
	uint16_t nb = rte_eth_rx_burst(fs->rx_port, fs->rx_queue, pkts, fs->burst);

	if (nb != 0)
		fwd_counter_add(&fs->rx_pkts, nb);
	return nb;
}


/* Send pkts[0..nb-1]; what the port does not take is freed and counted. */
static inline void
fwd_stream_tx(struct fwd_stream *fs, struct rte_mbuf **pkts, uint16_t nb)
{
	uint16_t sent;

	if (unlikely(fs->tx_sw)) {
		uint32_t dropped = 0, done;

		done = offload_tx_sw(fs->tx_port, fs->tx_queue, pkts, nb, &dropped);
		if (done != 0)
			fwd_counter_add(&fs->tx_pkts, done);
		if (dropped != 0)
			fwd_counter_add(&fs->tx_drops, dropped);
		return;
	}
	sent = rte_eth_tx_burst(fs->tx_port, fs->tx_queue, pkts, nb);
	if (sent != 0)
		fwd_counter_add(&fs->tx_pkts, sent);
	if (unlikely(sent < nb)) {
		fwd_counter_add(&fs->tx_drops, nb - sent);
		rte_pktmbuf_free_bulk(&pkts[sent], nb - sent);
	}
}



struct fwd_config {
	const struct fwd_engine *engine;
	struct fwd_stream *streams;
	unsigned int nb_streams;
};

/*
 * Mark the ports the streams will use and, for engines that need pairs and
 * got no --pair, pair the ports 0-1, 2-3, ... 0 or -EINVAL (message printed).
 */
int fwd_select_ports(struct app_params *p, struct app_ports *ap);
/* 0, or -EINVAL / -ENOMEM with a message printed. */
int fwd_build_streams(const struct app_params *p, const struct app_ports *ap,
		      struct fwd_config *fc);
void fwd_print_layout(const struct fwd_config *fc);
int fwd_launch(const struct app_params *p, struct fwd_config *fc);
/*
 * Stop the workers: first let them drain what the guests already queued
 * (up to drain_ms, progress printed), then stop and wait for them.
 */
void fwd_stop_and_wait(unsigned int drain_ms);
void fwd_free(struct fwd_config *fc);

/*
 * Rx modes (--rx-mode): poll always; adaptive: poll while frames come,
 * sleep after --rx-idle-us without any; interrupt: sleep whenever a
 * round found nothing. A worker sleeps (epoll on its rx queues' interrupt
 * fds and a wake eventfd of its own) only when every port it polls is in
 * a sleeping mode and has rx interrupts (net_vdevpeer, net_tap); its mode
 * is the most polling of its ports' modes.
 */
enum fwd_rx_mode {
	FWD_RXM_POLL,
	FWD_RXM_ADAPTIVE,
	FWD_RXM_INTERRUPT,
	FWD_RXM_NB,
};
extern const char *const fwd_rx_mode_names[FWD_RXM_NB];
/* The mode named s, or -1. */
int fwd_rx_mode_parse(const char *s);
/* The mode of port's rx queues under p. */
enum fwd_rx_mode fwd_port_rx_mode(const struct app_params *p, uint16_t port);
/* Main lcore: give each worker its mode from p (and wake it to take it). */
void fwd_rx_mode_apply(const struct app_params *p);

/* A worker's TSC cycles since start: all, in rounds that received frames,
 * and the frames received in those rounds; its rx mode and sleeps (fwd.c).
 * -EINVAL: not a worker. */
struct fwd_cycles {
	uint64_t total;
	uint64_t busy;
	uint64_t frames;
	uint64_t rounds_busy;     /* rounds that received a frame */
	uint64_t asleep;          /* cycles asleep (part of total) */
	uint64_t sleeps;          /* times it went to sleep */
	uint64_t wakeups;         /* ... woken by a kick, a frame or the app */
	uint64_t timeouts;        /* ... woken by the safety timeout */
	uint64_t late;            /* timeouts after which frames were there */
	uint64_t refused;         /* sleeps a port said no to (work there) */
	uint64_t wake_lat;        /* cycles from a wake-up to its first frame, summed */
	uint64_t wake_lat_n;      /* ... wake-ups that had one */
	uint64_t wake_lat_max;
	enum fwd_rx_mode mode;    /* asked for */
	bool polls_anyway;        /* a sleeping mode, but a port cannot sleep */
};
int fwd_lcore_cycles(unsigned int lcore, struct fwd_cycles *c);

/* A worker's busy rounds by the frames they received, n = 1 ..
 * FWD_FILL_MAX (the last: that many or more): rounds[n] of them, cycles[n]
 * their TSC cycles, since start (rounds[0], cycles[0]: 0). -EINVAL: not a
 * worker. */
#define FWD_FILL_MAX 128
int fwd_lcore_fill(unsigned int lcore, uint64_t rounds[FWD_FILL_MAX + 1],
		   uint64_t cycles[FWD_FILL_MAX + 1]);

#endif /* APP_FWD_H */
