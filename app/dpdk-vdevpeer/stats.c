/* SPDX-License-Identifier: BSD-3-Clause */
/* Periodic per-port table and the final report. Main lcore only. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_telemetry.h>

#include "rte_pmd_vdevpeer.h"
#include "fwd.h"
#include "ports.h"
#include "stats.h"
#include "vdevpeer_app.h"

struct port_snap {
	uint64_t ipackets, opackets, ibytes, obytes;
	uint64_t tsc;
};

static struct port_snap prev_snap[RTE_MAX_ETHPORTS];
static struct fwd_cycles prev_cycles[RTE_MAX_LCORE];

/*
 * /vdevpeer/fwd/lcores: per worker lcore, TSC cycles since start (all and
 * in rounds that received frames), those frames, and the TSC rate. A
 * reader takes two samples and divides: perf/run-e2e.py does. And the rx
 * mode's: asleep cycles, sleeps, wake-ups (by a fd), safety timeouts,
 * late wake-ups (a timeout with frames waiting and no kick for them: a
 * missed kick), sleeps a port refused (work there), and from a wake-up
 * to its first frame.
 */
static int
tel_fwd_lcores(const char *cmd __rte_unused, const char *params __rte_unused,
	       struct rte_tel_data *d)
{
	struct rte_tel_data *one;
	struct fwd_cycles c;
	char name[16];
	unsigned int lcore;

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (fwd_lcore_cycles(lcore, &c) != 0)
			continue;
		one = rte_tel_data_alloc();
		if (one == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(one);
		rte_tel_data_add_dict_u64(one, "cycles", c.total);
		rte_tel_data_add_dict_u64(one, "busy_cycles", c.busy);
		rte_tel_data_add_dict_u64(one, "frames", c.frames);
		rte_tel_data_add_dict_u64(one, "busy_rounds", c.rounds_busy);
		rte_tel_data_add_dict_string(one, "rx_mode", fwd_rx_mode_names[c.mode]);
		rte_tel_data_add_dict_u64(one, "polls_anyway", c.polls_anyway);
		rte_tel_data_add_dict_u64(one, "asleep_cycles", c.asleep);
		rte_tel_data_add_dict_u64(one, "sleeps", c.sleeps);
		rte_tel_data_add_dict_u64(one, "wakeups", c.wakeups);
		rte_tel_data_add_dict_u64(one, "sleep_timeouts", c.timeouts);
		rte_tel_data_add_dict_u64(one, "late_wakeups", c.late);
		rte_tel_data_add_dict_u64(one, "sleeps_refused", c.refused);
		rte_tel_data_add_dict_u64(one, "wake_latency_cycles", c.wake_lat);
		rte_tel_data_add_dict_u64(one, "wake_latency_count", c.wake_lat_n);
		rte_tel_data_add_dict_u64(one, "wake_latency_max_cycles", c.wake_lat_max);
		snprintf(name, sizeof(name), "lcore%u", lcore);
		rte_tel_data_add_dict_container(d, name, one, 0);
	}
	return 0;
}

/* An array of u64 as a container of d, under name. */
static int
tel_add_u64s(struct rte_tel_data *d, const char *name, const uint64_t *v,
	     const uint64_t *keep, unsigned int n)
{
	struct rte_tel_data *a = rte_tel_data_alloc();

	if (a == NULL)
		return -ENOMEM;
	rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
	for (unsigned int i = 0; i < n; i++)
		if (keep[i] != 0)
			rte_tel_data_add_array_u64(a, v[i]);
	if (rte_tel_data_add_dict_container(d, name, a, 0) != 0) {
		rte_tel_data_free(a);
		return -ENOMEM;
	}
	return 0;
}

/*
 * /vdevpeer/fwd/fill: per worker lcore, its busy rounds by the frames
 * each received (fill; the last, FWD_FILL_MAX, counts that many or
 * more), as three arrays of the fills that occurred: fill, rounds,
 * cycles (TSC, at tsc_hz). A round's cost at each fill: what lets two
 * backends or two ring layouts be compared at the same fill when the
 * guests, not the worker, decide how full the rounds are (perf/run-e2e.py).
 */
static int
tel_fwd_fill(const char *cmd __rte_unused, const char *params __rte_unused,
	     struct rte_tel_data *d)
{
	uint64_t rounds[FWD_FILL_MAX + 1], cycles[FWD_FILL_MAX + 1], fill[FWD_FILL_MAX + 1];
	struct rte_tel_data *one;
	char name[16];
	unsigned int lcore;

	for (unsigned int n = 0; n <= FWD_FILL_MAX; n++)
		fill[n] = n;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	rte_tel_data_add_dict_u64(d, "fill_max", FWD_FILL_MAX);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (fwd_lcore_fill(lcore, rounds, cycles) != 0)
			continue;
		one = rte_tel_data_alloc();
		if (one == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(one);
		if (tel_add_u64s(one, "fill", fill, rounds, FWD_FILL_MAX + 1) != 0 ||
		    tel_add_u64s(one, "rounds", rounds, rounds, FWD_FILL_MAX + 1) != 0 ||
		    tel_add_u64s(one, "cycles", cycles, rounds, FWD_FILL_MAX + 1) != 0) {
			rte_tel_data_free(one);
			return -ENOMEM;
		}
		snprintf(name, sizeof(name), "lcore%u", lcore);
		rte_tel_data_add_dict_container(d, name, one, 0);
	}
	return 0;
}

static void
tel_pool(struct rte_mempool *mp, void *arg)
{
	rte_tel_data_add_dict_int(arg, mp->name, (int)rte_mempool_in_use_count(mp));
}

/*
 * /vdevpeer/pools: objects out of each mempool of the process (lcore
 * caches count as available): mbufs held by ports, rings and the
 * application. What leak checks compare.
 */
static int
tel_pools(const char *cmd __rte_unused, const char *params __rte_unused,
	  struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_mempool_walk(tel_pool, d);
	return 0;
}

/* "lcore 1: busy 63.2% 210 cycles/frame" for each worker, since the last call. */
static void
print_lcore_cycles(bool since_start)
{
	struct fwd_cycles c, *p;
	unsigned int lcore;
	uint64_t total, busy, frames, rounds, p_asleep, p_sleeps;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (fwd_lcore_cycles(lcore, &c) != 0)
			continue;
		p = &prev_cycles[lcore];
		p_asleep = p->asleep;
		p_sleeps = p->sleeps;
		total = since_start ? c.total : c.total - p->total;
		busy = since_start ? c.busy : c.busy - p->busy;
		frames = since_start ? c.frames : c.frames - p->frames;
		rounds = since_start ? c.rounds_busy : c.rounds_busy - p->rounds_busy;
		if (!since_start)
			*p = c;
		if (total == 0)
			continue;
		printf("lcore %u: busy %.1f%% of its cycles", lcore,
		       100.0 * (double)busy / (double)total);
		if (frames != 0)
			printf(", %.0f cycles per received frame, %.1f frames per busy round",
			       (double)busy / (double)frames,
			       (double)frames / (double)(rounds != 0 ? rounds : 1));
		if (c.mode != FWD_RXM_POLL) {
			uint64_t asleep = since_start ? c.asleep : c.asleep - p_asleep;
			uint64_t sleeps = since_start ? c.sleeps : c.sleeps - p_sleeps;

			printf(", %s: asleep %.1f%%, %" PRIu64 " sleeps%s", fwd_rx_mode_names[c.mode],
			       100.0 * (double)asleep / (double)total, sleeps,
			       c.polls_anyway ? " (polls: a port cannot sleep)" : "");
		}
		printf("\n");
	}
}

uint64_t
fwd_tx_drops(const struct fwd_config *fc, uint16_t port)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < fc->nb_streams; i++)
		if (fc->streams[i].tx_port == port)
			n += fwd_counter_read(&fc->streams[i].tx_drops);
	return n;
}

void
stats_snap_port(uint16_t port)
{
	struct rte_eth_stats st;

	memset(&st, 0, sizeof(st));
	rte_eth_stats_get(port, &st);
	prev_snap[port] = (struct port_snap){
		st.ipackets, st.opackets, st.ibytes, st.obytes,
		rte_get_timer_cycles()
	};
}

void
stats_init(const struct app_ports *ap)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		if (ap->used[port])
			stats_snap_port(port);
	}
	rte_telemetry_register_cmd("/vdevpeer/fwd/lcores", tel_fwd_lcores,
				   "Worker lcores: TSC cycles (all, busy), frames. No parameters");
	rte_telemetry_register_cmd("/vdevpeer/fwd/fill", tel_fwd_fill,
				   "Worker lcores: busy rounds and their TSC cycles by frames received. "
				   "No parameters");
	rte_telemetry_register_cmd("/vdevpeer/pools", tel_pools,
				   "Objects in use per mempool (lcore caches count as free). "
				   "No parameters");
}

static uint64_t
rate(uint64_t now, uint64_t then, uint64_t cycles)
{
	if (cycles == 0 || now < then)
		return 0;
	return (uint64_t)((double)(now - then) * rte_get_timer_hz() / cycles);
}

void
stats_print_period(const struct app_ports *ap, const struct fwd_config *fc)
{
	struct rte_eth_stats st;
	struct rte_eth_link link;
	struct port_snap now, *prev;
	char label[RTE_ETH_NAME_MAX_LEN];
	uint64_t cycles;
	uint16_t port;

	printf("%-4s %-16s %-4s %14s %12s %14s %14s %12s %14s %12s %12s\n",
	       "port", "name", "link", "rx-pkts", "rx-pps", "rx-bit/s",
	       "tx-pkts", "tx-pps", "tx-bit/s", "rx-drops", "tx-drops");
	RTE_ETH_FOREACH_DEV(port) {
		if (!ap->used[port])
			continue;
		memset(&st, 0, sizeof(st));
		memset(&link, 0, sizeof(link));
		rte_eth_stats_get(port, &st);
		rte_eth_link_get_nowait(port, &link);
		now = (struct port_snap){
			st.ipackets, st.opackets, st.ibytes, st.obytes,
			rte_get_timer_cycles()
		};
		prev = &prev_snap[port];
		cycles = now.tsc - prev->tsc;
		printf("%-4u %-16.16s %-4s %14" PRIu64 " %12" PRIu64 " %14" PRIu64
		       " %14" PRIu64 " %12" PRIu64 " %14" PRIu64
		       " %12" PRIu64 " %12" PRIu64 "\n",
		       port, port_label(port, label, sizeof(label)),
		       link.link_status == RTE_ETH_LINK_UP ? "up" : "down",
		       st.ipackets, rate(now.ipackets, prev->ipackets, cycles),
		       8 * rate(now.ibytes, prev->ibytes, cycles),
		       st.opackets, rate(now.opackets, prev->opackets, cycles),
		       8 * rate(now.obytes, prev->obytes, cycles),
		       st.imissed + st.rx_nombuf,
		       fwd_tx_drops(fc, port) + st.oerrors);
		*prev = now;
	}
	print_lcore_cycles(false);
	printf("\n");
	fflush(stdout);
}

void
stats_print_xstats(uint16_t port, bool all)
{
	struct rte_eth_xstat_name *names = NULL;
	struct rte_eth_xstat *vals = NULL;
	int n, i, shown = 0;

	n = rte_eth_xstats_get_names(port, NULL, 0);
	if (n < 0)
		printf("  xstats: not available (%s)\n", strerror(-n));
	if (n <= 0)
		return;
	names = calloc(n, sizeof(*names));
	vals = calloc(n, sizeof(*vals));
	if (names == NULL || vals == NULL)
		goto out;
	if (rte_eth_xstats_get_names(port, names, n) != n ||
	    rte_eth_xstats_get(port, vals, n) != n)
		goto out;
	for (i = 0; i < n; i++) {
		if ((!all && vals[i].value == 0) || vals[i].id >= (uint64_t)n)
			continue;
		if (shown++ == 0)
			printf("  xstats%s:\n", all ? "" : " (non-zero)");
		printf("    %-40s %" PRIu64 "\n", names[vals[i].id].name, vals[i].value);
	}
out:
	free(names);
	free(vals);
}

void
stats_print_final(const struct app_ports *ap, const struct fwd_config *fc)
{
	struct rte_eth_stats st;
	char rx[RTE_ETH_NAME_MAX_LEN];
	unsigned int i;
	uint16_t port;

	printf("\n==== Final statistics ====\n");
	RTE_ETH_FOREACH_DEV(port) {
		if (!ap->used[port])
			continue;
		memset(&st, 0, sizeof(st));
		rte_eth_stats_get(port, &st);
		printf("Port %u (%s):\n", port, port_label(port, rx, sizeof(rx)));
		printf("  rx: packets %" PRIu64 " bytes %" PRIu64
		       " | drops: missed %" PRIu64 " no-mbuf %" PRIu64
		       " errors %" PRIu64 "\n",
		       st.ipackets, st.ibytes, st.imissed, st.rx_nombuf, st.ierrors);
		printf("  tx: packets %" PRIu64 " bytes %" PRIu64
		       " | drops: fwd-tx %" PRIu64 " errors %" PRIu64 "\n",
		       st.opackets, st.obytes, fwd_tx_drops(fc, port), st.oerrors);
		stats_print_xstats(port, false);
	}
	/* Workers have stopped: every mbuf not in a port's ring is back
	 * (rte_mempool_in_use_count counts lcore caches as available). */
	for (i = 0; i < RTE_MAX_NUMA_NODES; i++)
		if (ap->pools[i] != NULL)
			printf("Mbuf pool %s: %u in use\n", ap->pools[i]->name,
			       rte_mempool_in_use_count(ap->pools[i]));
	stats_print_streams(fc);
	print_lcore_cycles(true);
	fflush(stdout);
}

void
stats_print_streams(const struct fwd_config *fc)
{
	char rx[RTE_ETH_NAME_MAX_LEN + 8], label[RTE_ETH_NAME_MAX_LEN];
	char tx[RTE_ETH_NAME_MAX_LEN + 8];
	uint64_t t_rx = 0, t_tx = 0, t_drop = 0;
	unsigned int i;

	printf("Streams:\n");
	for (i = 0; i < fc->nb_streams; i++) {
		const struct fwd_stream *fs = &fc->streams[i];

		if (fs->rx_port == APP_NO_PORT)
			snprintf(rx, sizeof(rx), "(generate)");
		else
			snprintf(rx, sizeof(rx), "%s/%u",
				 port_label(fs->rx_port, label, sizeof(label)), fs->rx_queue);
		if (fs->tx_port == APP_NO_PORT)
			snprintf(tx, sizeof(tx), "(%s)",
				 fc->engine->rx_sink != NULL ? fc->engine->rx_sink : "drop");
		else
			snprintf(tx, sizeof(tx), "%s/%u",
				 port_label(fs->tx_port, label, sizeof(label)),
				 fs->tx_queue);
		printf("  lcore %u: %s -> %s: rx %" PRIu64 " tx %" PRIu64
		       " fwd-tx-drops %" PRIu64 "\n",
		       fs->lcore, rx, tx,
		       fwd_counter_read(&fs->rx_pkts),
		       fwd_counter_read(&fs->tx_pkts),
		       fwd_counter_read(&fs->tx_drops));
		t_rx += fwd_counter_read(&fs->rx_pkts);
		t_tx += fwd_counter_read(&fs->tx_pkts);
		t_drop += fwd_counter_read(&fs->tx_drops);
	}
	printf("  total: rx %" PRIu64 " tx %" PRIu64 " fwd-tx-drops %" PRIu64 "\n",
	       t_rx, t_tx, t_drop);
	fflush(stdout);
}

void
stats_dump_xstats_markdown(FILE *f)
{
	const char *desc;
	char name[RTE_ETH_XSTATS_NAME_SIZE];

	fprintf(f, "<!-- generated by dpdk-vdevpeer --dump-xstats: do not edit; "
		"ci/gen-docs.sh -->\n");
	fprintf(f, "### Port xstats (net_vdevpeer)\n\n");
	fprintf(f, "| xstat | what it counts |\n|---|---|\n");
	for (unsigned int i = 0;
	     rte_pmd_vdevpeer_xstat_doc(i, name, sizeof(name), &desc) == 0; i++) {
		fprintf(f, "| `%s` | ", name);
		for (const char *s = desc; *s != '\0'; s++) {
			if (*s == '|')
				fputc('\\', f);
			fputc(*s, f);
		}
		fprintf(f, " |\n");
	}
}
