/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpdk-vdevpeer application: private declarations shared by its files.
 *
 * Who runs what, and at the same time as what:
 *   - main lcore: EAL init, params and config file, port set-up and
 *     teardown, the stats loop, signal handling, the console and every
 *     run-time change (main.c, params.c, config.c, ports.c, control.c,
 *     stats.c, console.c, cmd_*.c). A change that touches ports or streams
 *     first stops the workers (control.c), so workers never see it;
 *   - worker lcores: fwd_lcore_loop() and the engines' stream functions only
 *     (fwd.c, fwd_<mode>.c). Each stream belongs to exactly one worker, which
 *     is the only writer of its counters; the main lcore reads them with
 *     relaxed atomic loads while workers run;
 *   - EAL interrupt thread: the LSC callback in ports.c (logs only);
 *   - telemetry thread: the bridge's /vdevpeer/bridge/stats and /macs callbacks
 *     (fwd_bridge.c), which read counters and the MAC table lock-free.
 */
#ifndef VDEVPEER_APP_H
#define VDEVPEER_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_dev.h>
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

#define APP_MAX_BRIDGE_MACS 256

/* No tx port: the stream only receives (rxonly). */
#define APP_NO_PORT UINT16_MAX

/* ---- forwarding ------------------------------------------------------- */

struct app_params;
struct app_ports;

struct fwd_stream {
	uint16_t rx_port;
	uint16_t rx_queue;
	uint16_t tx_port;        /* APP_NO_PORT when the engine does not send */
	uint16_t tx_queue;
	uint16_t burst;
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
 * it in fwd_engines[] (fwd.c).
 */
struct fwd_engine {
	const char *name;
	const char *help;
	bool needs_pairs;        /* streams go from one port to its peer */
	bool tx_only;            /* streams only send (rx_port APP_NO_PORT) */
	void (*stream_fwd)(struct fwd_stream *fs);
	/* Optional, main lcore. init: after ports_select(), before the
	 * streams and ports are set up (may raise p->nb_txq); 0 or -errno
	 * after a message. tick: every ~100 ms while forwarding. stats: in
	 * the periodic table and at exit. fini: after the workers stopped. */
	int (*init)(struct app_params *p, const struct app_ports *ap);
	void (*tick)(void);
	void (*stats)(bool final);
	void (*fini)(void);
};

extern const struct fwd_engine fwd_io_engine;
extern const struct fwd_engine fwd_bridge_engine;
extern const struct fwd_engine fwd_macswap_engine;
extern const struct fwd_engine fwd_rxonly_engine;
extern const struct fwd_engine fwd_txonly_engine;
extern const struct fwd_engine *const fwd_engines[];

const struct fwd_engine *fwd_engine_find(const char *name);
/* "io, macswap, rxonly or txonly": for error messages. */
const char *fwd_engine_names(char *buf, size_t len);

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
	/* Host interfaces, uplinks and the bridge: pointers into argv,
	 * resolved to ports once EAL is up (hostif.c, ports.c, fwd_bridge.c). */
	const char *hostifs[RTE_MAX_ETHPORTS];  /* "vp0", "vp0=NAME" or "all" */
	unsigned int nb_hostifs;
	const char *uplinks[RTE_MAX_ETHPORTS];
	unsigned int nb_uplinks;
	const char *bridge_macs[APP_MAX_BRIDGE_MACS];   /* "MAC@PORT" */
	unsigned int nb_bridge_macs;
	unsigned int bridge_aging;   /* seconds, 0 = never */
	unsigned int bridge_entries;
	bool interactive;            /* -i: console on stdin */
	const char *cmdline_file;    /* --cmdline-file: commands run at start */
	const char *config_file;     /* --config */
	unsigned int wait_links;     /* seconds to wait for links before start */
	bool lcore_set;              /* fwd_lcores given (--fwd-lcores / config) */
	bool fwd_lcores[RTE_MAX_LCORE]; /* worker lcores that may forward */
	bool stats_period_set;       /* given on the command line */
	uint16_t mtu[RTE_MAX_ETHPORTS]; /* from the config file; 0 = default */
};

/* Defaults of every parameter. */
void app_params_defaults(struct app_params *p);
/* Parse "1,2,4-5" into lcores[]: 0 or -EINVAL (why set). */
int app_parse_lcores(const char *val, bool *lcores, const char **why);
/* A port id, a net_vdevpeer bind name, or an ethdev name: 0 or -ENODEV. */
int app_resolve_port(const char *tok, uint16_t *port);
/* "A:B" into a pair of existing ports: 0 or -EINVAL (why set). */
int app_parse_pair(const char *val, struct app_pair *pr, const char **why);
/* Add pr to p's pairs unless a port is already paired: 0 or -EINVAL. */
int app_add_pair(struct app_params *p, const struct app_pair *pr, const char **why);

void app_usage(const char *prgname);
bool app_args_want_help(int argc, char **argv);
/* --dump-commands after "--": print the console reference and exit. */
bool app_args_want_dump(int argc, char **argv);
/* --dump-xstats after "--": print the xstats reference and exit. */
bool app_args_want_dump_xstats(int argc, char **argv);
/*
 * 0; 1 when --help was given (usage printed); or -EINVAL after one error
 * line on stderr. Needs EAL (port names).
 */
int app_parse_args(int argc, char **argv, struct app_params *p);

/* ---- ports ------------------------------------------------------------- */

enum port_role {
	PORT_ROLE_OTHER,       /* any other ethdev */
	PORT_ROLE_GUEST,       /* net_vdevpeer */
	PORT_ROLE_UPLINK,      /* named by --uplink */
	PORT_ROLE_HOSTIF,      /* net_tap created by --host-if */
};

struct app_ports {
	enum port_role role[RTE_MAX_ETHPORTS];
	/* hostif: its guest; guest: its host interface; else APP_NO_PORT */
	uint16_t hostif_peer[RTE_MAX_ETHPORTS];
	bool used[RTE_MAX_ETHPORTS];     /* ours to configure and forward */
	bool configured[RTE_MAX_ETHPORTS]; /* queues set up by us */
	bool started[RTE_MAX_ETHPORTS];
	bool lsc_cb[RTE_MAX_ETHPORTS];
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES];
	/* pools of ports attached at run time, freed at exit only: their
	 * mbufs may still sit in another port's ring after a detach */
	struct rte_mempool *port_pool[RTE_MAX_ETHPORTS];
	/* rte_device names of closed ports, for a later `port detach` */
	char closed_dev[RTE_MAX_ETHPORTS][RTE_DEV_NAME_MAX_LEN];
	char closed_bus[RTE_MAX_ETHPORTS][32];
};

/*
 * Create the --host-if interfaces (net_tap, one per guest port asked
 * for), then record every port's role (--uplink). 0 or -EINVAL/-errno
 * after a message (hostif.c, ports.c).
 */
int hostif_create(const struct app_params *p, struct app_ports *ap);
int ports_assign_roles(const struct app_params *p, struct app_ports *ap);
const char *port_role_name(enum port_role r);
/* Tx offloads enabled on a started port (RTE_ETH_TX_OFFLOAD_*). */
uint64_t ports_tx_offloads(uint16_t port);

void ports_describe(const struct app_ports *ap);
/* Every ethdev --vdev in the EAL arguments made a port: 0 or -EINVAL. */
int ports_check_vdevs(int argc, char **argv);
/*
 * Mark the ports the streams will use and, for engines that need pairs and
 * got no --pair, pair the ports 0-1, 2-3, ... 0 or -EINVAL (message printed).
 */
int ports_select(struct app_params *p, struct app_ports *ap);
int ports_setup(const struct app_params *p, struct app_ports *ap);
/* Configure and start one port (attached at run time: own pool). */
int port_setup(const struct app_params *p, struct app_ports *ap, uint16_t port);
struct rte_mempool *ports_pool(const struct app_ports *ap, uint16_t port);
void ports_teardown(struct app_ports *ap);
const char *port_label(uint16_t port, char *buf, size_t len);
/* Wait up to timeout_s for the links of the used ports, printing progress
 * every second; 0 when all are up, -ETIMEDOUT. */
int ports_wait_links(const struct app_ports *ap, unsigned int timeout_s);

/* ---- streams and lcores ----------------------------------------------- */

struct fwd_config {
	const struct fwd_engine *engine;
	struct fwd_stream *streams;
	unsigned int nb_streams;
};

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

/* A worker's TSC cycles since start: all, in rounds that received frames,
 * and the frames received in those rounds (fwd.c). -EINVAL: not a worker. */
struct fwd_cycles {
	uint64_t total;
	uint64_t busy;
	uint64_t frames;
};
int fwd_lcore_cycles(unsigned int lcore, struct fwd_cycles *c);
/* The app should stop (signal, `quit`). Safe in signal handlers. */
bool fwd_quit_requested(void);
void fwd_request_quit(void);

/* ---- bridge (fwd_bridge.c) ----------------------------------------------- */

/*
 * The running bridge's MAC table (NULL when --fwd is not bridge), for a
 * console: bridge_mac_add/del/flush/dump, bridge_set_aging (bridge.h)
 * with fwd_bridge_now() as the clock. Safe while the workers forward.
 */
struct bridge_table *fwd_bridge_table(void);
uint32_t fwd_bridge_now(void);
/* ---- the running app and its run-time changes (control.c) ------------- */

struct app_state {
	struct app_params params;
	struct app_ports ports;
	struct fwd_config fc;
	bool fwd_running;
};

extern struct app_state app;

/* Drain time on stop/quit: enough for a guest ring of frames. */
#define APP_DRAIN_MS 1000

/* 0; -EALREADY; or an error with a message printed. */
int ctl_fwd_start(void);
int ctl_fwd_stop(void);
/* Change the forwarding mode; running forwarding is restarted. */
int ctl_set_fwd(const struct fwd_engine *e);
int ctl_port_stop(uint16_t port);
int ctl_port_start(uint16_t port);
int ctl_port_close(uint16_t port);
int ctl_port_detach(uint16_t port);
/* Probe devargs, set the new port(s) up and forward them: 0 or error. */
int ctl_port_attach(const char *devargs);
int ctl_port_mtu(uint16_t port, uint16_t mtu);
/* Forwarding stopped around fn(arg) if it was running. */
int ctl_with_fwd_paused(int (*fn)(void *), void *arg);

/* ---- configuration file (config.c) -------------------------------------- */

/* Load --config FILE into p (probing its ports): 0 or -EINVAL after one
 * line naming file, line, section and key. */
int config_load(const char *path, struct app_params *p);

/* ---- console (console.c, cmd_*.c) ------------------------------------- */

struct con_cmd {
	/*
	 * Words separated by one space: "show", "info|stats" (one of),
	 * "<port>" (port id or name, completed), "all|<port>", "<name>" (any
	 * word), "<devargs...>" (the rest of the line; last only).
	 */
	const char *syntax;
	const char *help;
	/* argv[0..argc-1]: the words as typed (alternatives resolved). */
	void (*fn)(int argc, char **argv);
};

struct con_topic {
	const char *name;
	const char *help;
	const struct con_cmd *cmds;   /* ends with syntax NULL */
};

/* One file per topic; console.c lists them in con_topics[]. */
extern const struct con_topic con_topic_port;
extern const struct con_topic con_topic_fwd;
extern const struct con_topic con_topic_peer;
extern const struct con_topic con_topic_system;
extern const struct con_topic con_topic_bridge;

int console_init(void);
void console_free(void);
/* Run the commands of path; stops at `quit`. 0, or -errno if unreadable. */
int console_run_file(const char *path);
/* Interactive console on stdin: returns when the app should stop. */
void console_interactive(void (*tick)(void));
/* The net_vdevpeer xstats reference in markdown (--dump-xstats). */
void stats_dump_xstats_markdown(FILE *f);
/* The command reference in markdown (--dump-commands). */
void console_dump_markdown(FILE *f);
/* Print a one-line error for a command (no newline in fmt). */
void con_err(const char *fmt, ...) __rte_format_printf(1, 2);
/* Resolve a port word or print an error: 0 or -ENODEV. */
int con_port(const char *word, uint16_t *port);
/* Parse an unsigned number or print an error naming what: 0 or -EINVAL. */
int con_uint(const char *what, const char *word, unsigned long min,
	     unsigned long max, unsigned long *out);
/* `help [word]`: every command, or those of a topic or starting so. */
void con_print_help(const char *filter);
/* The console asked to quit. */
void con_quit(void);

/* ---- statistics --------------------------------------------------------- */

void stats_init(const struct app_ports *ap);
void stats_snap_port(uint16_t port);
/* Frames the app freed because the tx port did not take them. */
uint64_t fwd_tx_drops(const struct fwd_config *fc, uint16_t port);
void stats_print_streams(const struct fwd_config *fc);
void stats_print_xstats(uint16_t port, bool all);
void stats_print_period(const struct app_ports *ap, const struct fwd_config *fc);
void stats_print_final(const struct app_ports *ap, const struct fwd_config *fc);

#endif /* VDEVPEER_APP_H */
