/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Streams (rx port/queue -> tx port/queue), their placement on worker
 * lcores, and the worker loop. The main lcore never polls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <rte_pmd_vdevpeer.h>

#include "vdevpeer_app.h"

const struct fwd_engine *const fwd_engines[] = {
	&fwd_io_engine,
	&fwd_macswap_engine,
	&fwd_rxonly_engine,
	NULL,
};

/* Set from signal handlers too: an atomic store of a lock-free int. */
static int fwd_quit;

struct fwd_lcore {
	struct fwd_stream **streams;
	unsigned int nb_streams;
	const struct fwd_engine *engine;
};

static struct fwd_lcore fwd_lcores[RTE_MAX_LCORE];

const struct fwd_engine *
fwd_engine_find(const char *name)
{
	unsigned int i;

	for (i = 0; fwd_engines[i] != NULL; i++)
		if (strcmp(fwd_engines[i]->name, name) == 0)
			return fwd_engines[i];
	return NULL;
}

bool
fwd_quit_requested(void)
{
	return __atomic_load_n(&fwd_quit, __ATOMIC_RELAXED) != 0;
}

void
fwd_request_quit(void)
{
	__atomic_store_n(&fwd_quit, 1, __ATOMIC_RELEASE);
}

static void
stream_init(struct fwd_stream *fs, const struct app_params *p,
	    uint16_t rx_port, uint16_t q, uint16_t tx_port)
{
	fs->rx_port = rx_port;
	fs->rx_queue = q;
	fs->tx_port = tx_port;
	/* More rx than tx queues: several streams share a tx queue. */
	fs->tx_queue = tx_port == APP_NO_PORT ? 0 : q % p->nb_txq;
	fs->burst = p->burst;
}

/*
 * Round-robin over the workers, except that streams sending on the same
 * tx port/queue stay on one lcore: tx_burst on one queue is not
 * thread-safe.
 */
static int
fwd_place_streams(struct fwd_config *fc)
{
	unsigned int workers[RTE_MAX_LCORE];
	unsigned int nb_workers = 0, next = 0, i, j, lcore;

	RTE_LCORE_FOREACH_WORKER(lcore)
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

int
fwd_build_streams(const struct app_params *p, const struct app_ports *ap,
		  struct fwd_config *fc)
{
	unsigned int n = 0, i, max;
	uint16_t port, q;

	max = (p->nb_pairs * 2 + RTE_MAX_ETHPORTS) * p->nb_rxq;
	fc->streams = rte_zmalloc("fwd_streams", max * sizeof(*fc->streams),
				  RTE_CACHE_LINE_SIZE);
	if (fc->streams == NULL) {
		fprintf(stderr, "%s: cannot allocate %u streams\n", APP_NAME, max);
		return -ENOMEM;
	}
	if (p->engine->needs_pairs) {
		for (i = 0; i < p->nb_pairs; i++) {
			const struct app_pair *pr = &p->pairs[i];

			for (q = 0; q < p->nb_rxq; q++) {
				stream_init(&fc->streams[n++], p, pr->a, q, pr->b);
				if (pr->a != pr->b)
					stream_init(&fc->streams[n++], p, pr->b, q, pr->a);
			}
		}
	} else {
		RTE_ETH_FOREACH_DEV(port) {
			if (!ap->used[port])
				continue;
			for (q = 0; q < p->nb_rxq; q++)
				stream_init(&fc->streams[n++], p, port, q, APP_NO_PORT);
		}
	}
	fc->nb_streams = n;
	return fwd_place_streams(fc);
}

void
fwd_print_layout(const struct fwd_config *fc)
{
	char rx[RTE_ETH_NAME_MAX_LEN + 16], tx[RTE_ETH_NAME_MAX_LEN + 16];
	unsigned int i;

	printf("Streams (%u):\n", fc->nb_streams);
	for (i = 0; i < fc->nb_streams; i++) {
		const struct fwd_stream *fs = &fc->streams[i];

		port_label(fs->rx_port, rx, sizeof(rx));
		if (fs->tx_port == APP_NO_PORT)
			printf("  lcore %u: rx port %u (%s) queue %u -> (drop)\n",
			       fs->lcore, fs->rx_port, rx, fs->rx_queue);
		else
			printf("  lcore %u: rx port %u (%s) queue %u -> "
			       "tx port %u (%s) queue %u\n",
			       fs->lcore, fs->rx_port, rx, fs->rx_queue,
			       fs->tx_port, port_label(fs->tx_port, tx, sizeof(tx)),
			       fs->tx_queue);
	}
	fflush(stdout);
}

static int
fwd_lcore_loop(void *arg)
{
	const struct fwd_lcore *fl = arg;
	void (*stream_fwd)(struct fwd_stream *) = fl->engine->stream_fwd;
	unsigned int i;

	while (!fwd_quit_requested())
		for (i = 0; i < fl->nb_streams; i++)
			stream_fwd(fl->streams[i]);
	return 0;
}

int
fwd_launch(const struct app_params *p, struct fwd_config *fc)
{
	unsigned int i, lcore;
	int ret;

	for (i = 0; i < fc->nb_streams; i++) {
		struct fwd_stream *fs = &fc->streams[i];
		struct fwd_lcore *fl = &fwd_lcores[fs->lcore];

		/* run to completion: a guest port holding too many zero-copy
		 * buffers may ask the egress to clean up (same lcore) */
		if (fs->tx_port != APP_NO_PORT && rte_pmd_vdevpeer_is_vdevpeer(fs->rx_port))
			rte_pmd_vdevpeer_zc_egress(fs->rx_port, fs->rx_queue, fs->tx_port,
						   fs->tx_queue);

		if (fl->streams == NULL) {
			fl->streams = calloc(fc->nb_streams, sizeof(*fl->streams));
			if (fl->streams == NULL)
				return -ENOMEM;
		}
		fl->streams[fl->nb_streams++] = &fc->streams[i];
		fl->engine = p->engine;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (fwd_lcores[lcore].nb_streams == 0)
			continue;
		ret = rte_eal_remote_launch(fwd_lcore_loop, &fwd_lcores[lcore], lcore);
		if (ret != 0) {
			fprintf(stderr, "%s: cannot launch lcore %u: %s\n",
				APP_NAME, lcore, strerror(-ret));
			fwd_stop_and_wait();
			return ret;
		}
	}
	return 0;
}

void
fwd_stop_and_wait(void)
{
	fwd_request_quit();
	rte_eal_mp_wait_lcore();
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
