/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpdk-vdevpeer application: private declarations shared by its files.
 *
 * Who runs what, and at the same time as what:
 *   - main lcore: EAL init, params, port set-up and teardown, the stats loop,
 *     signal handling (main.c, params.c, ports.c, stats.c);
 *   - worker lcores: fwd_lcore_loop() and the engines' stream functions only
 *     (fwd.c, fwd_<mode>.c). Each stream belongs to exactly one worker, which
 *     is the only writer of its counters; the main lcore reads them with
 *     relaxed atomic loads while workers run;
 *   - EAL interrupt thread: the LSC callback in ports.c (logs only).
 */
#ifndef VDEVPEER_APP_H
#define VDEVPEER_APP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define APP_NAME "dpdk-vdevpeer"

/* Exit code for bad command-line options or values. */
#define APP_EXIT_USAGE 2

#define APP_MAX_BURST 512
#define APP_DEFAULT_BURST 32
#define APP_DEFAULT_NB_DESC 1024
#define APP_DEFAULT_MBUFS 8192
#define APP_MAX_QUEUES 64
#define APP_MAX_STREAMS (RTE_MAX_ETHPORTS * APP_MAX_QUEUES)

/* No tx port: the stream only receives (rxonly). */
#define APP_NO_PORT UINT16_MAX

/* ---- forwarding ------------------------------------------------------- */

struct fwd_stream {
	uint16_t rx_port;
	uint16_t rx_queue;
	uint16_t tx_port;        /* APP_NO_PORT when the engine does not send */
	uint16_t tx_queue;
	uint16_t burst;
	unsigned int lcore;
	/* Written by the owning worker only; read by the main lcore. */
	uint64_t rx_pkts;
	uint64_t tx_pkts;
	uint64_t tx_drops;       /* not accepted by tx_burst, freed */
} __rte_cache_aligned;

/*
 * A forwarding mode. stream_fwd polls one stream once: it receives at
 * most fs->burst packets and sends or frees every one of them. To add a
 * mode (bridge, txonly), write fwd_<mode>.c exporting one of these and list
 * it in fwd_engines[] (fwd.c).
 */
struct fwd_engine {
	const char *name;
	const char *help;
	bool needs_pairs;        /* streams go from one port to its peer */
	void (*stream_fwd)(struct fwd_stream *fs);
};

extern const struct fwd_engine fwd_io_engine;
extern const struct fwd_engine fwd_macswap_engine;
extern const struct fwd_engine fwd_rxonly_engine;
extern const struct fwd_engine *const fwd_engines[];

const struct fwd_engine *fwd_engine_find(const char *name);

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

/* ---- offload (offload.c) ---- */

/* The port is not net_vdevpeer: offload flags need fwd_stream_tx_sw. */
extern bool app_tx_sw_offload[RTE_MAX_ETHPORTS];
/* Ask the port for the checksum/TSO/LRO offloads it advertises. */
void offload_port_conf(uint16_t port, const struct rte_eth_dev_info *info,
		       struct rte_eth_conf *conf, struct rte_mempool *pool);
/* fwd_stream_tx for such ports: software for what the port lacks. */
void fwd_stream_tx_sw(struct fwd_stream *fs, struct rte_mbuf **pkts, uint16_t nb);

/* Send pkts[0..nb-1]; what the port does not take is freed and counted. */
static inline void
fwd_stream_tx(struct fwd_stream *fs, struct rte_mbuf **pkts, uint16_t nb)
{
	uint16_t sent;

	if (unlikely(app_tx_sw_offload[fs->tx_port])) {
		fwd_stream_tx_sw(fs, pkts, nb);
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

/* ---- parameters -------------------------------------------------------- */

struct app_pair {
	uint16_t a;
	uint16_t b;
};

struct app_params {
	const struct fwd_engine *engine;
	struct app_pair pairs[RTE_MAX_ETHPORTS];
	unsigned int nb_pairs;
	uint16_t nb_rxq;
	uint16_t nb_txq;
	uint16_t nb_desc;
	uint16_t burst;
	bool auto_start;
	unsigned int stats_period;   /* seconds, 0 = off */
	unsigned int nb_mbufs;       /* 0 = computed */
};

void app_usage(const char *prgname);
bool app_args_want_help(int argc, char **argv);
/*
 * 0; 1 when --help was given (usage printed); or -EINVAL after one error
 * line on stderr. Needs EAL (port names).
 */
int app_parse_args(int argc, char **argv, struct app_params *p);

/* ---- ports ------------------------------------------------------------- */

struct app_ports {
	bool used[RTE_MAX_ETHPORTS];     /* configured and started by us */
	bool started[RTE_MAX_ETHPORTS];
	bool lsc_cb[RTE_MAX_ETHPORTS];
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES];
};

void ports_describe(void);
/* Every ethdev --vdev in the EAL arguments made a port: 0 or -EINVAL. */
int ports_check_vdevs(int argc, char **argv);
/*
 * Mark the ports the streams will use and, for engines that need pairs and
 * got no --pair, pair the ports 0-1, 2-3, ... 0 or -EINVAL (message printed).
 */
int ports_select(struct app_params *p, struct app_ports *ap);
int ports_setup(const struct app_params *p, struct app_ports *ap);
void ports_teardown(struct app_ports *ap);
const char *port_label(uint16_t port, char *buf, size_t len);

/* ---- streams and lcores ----------------------------------------------- */

struct fwd_config {
	struct fwd_stream *streams;
	unsigned int nb_streams;
};

/* 0, or -EINVAL / -ENOMEM with a message printed. */
int fwd_build_streams(const struct app_params *p, const struct app_ports *ap,
		      struct fwd_config *fc);
void fwd_print_layout(const struct fwd_config *fc);
int fwd_launch(const struct app_params *p, struct fwd_config *fc);
void fwd_stop_and_wait(void);
void fwd_free(struct fwd_config *fc);
bool fwd_quit_requested(void);
void fwd_request_quit(void);

/* ---- statistics --------------------------------------------------------- */

void stats_init(const struct app_ports *ap);
void stats_print_period(const struct app_ports *ap, const struct fwd_config *fc);
void stats_print_final(const struct app_ports *ap, const struct fwd_config *fc);

#endif /* VDEVPEER_APP_H */
