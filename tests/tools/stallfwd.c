/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vdp-stallfwd: a middle box whose egress port stalls, for the zero-copy
 * tests. It receives on port 0 and, instead of transmitting on port 1,
 * keeps the frames (up to --hold N, more are dropped as a full NIC TX ring
 * would), the way a stalled NIC keeps the mbufs it was given. SIGUSR1 ends
 * the stall: the held frames go out on port 1 in order, and from then on
 * it forwards port 0 to port 1 like io forwarding.
 *
 *   vdp-stallfwd [EAL] -- [--hold N] [--egress-vdp]
 *
 * --egress-vdp: tell net_vdevpeer port 0 that its frames go out on port 1
 * (rte_pmd_vdevpeer_zc_egress, looked up in the driver loaded with -d), so
 * that an IN_ORDER ring attaches them, as it does towards a guest.
 *
 * At SIGINT/SIGTERM it stops the worker, reads every byte of the frames
 * still held (a frame pointing into unmapped guest memory crashes here),
 * frees them, and prints "mbufs in use: N" before and after closing the
 * ports. Main lcore: signals and that; one worker lcore: the data path.
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#define BURST 32
#define NB_MBUFS 16384
#define MAX_HOLD 8192

static volatile sig_atomic_t quit, release;
static uint16_t nb_ports;
static struct rte_mbuf *held[MAX_HOLD];
static unsigned int nb_held, hold_max = 4096;
static bool egress_vdp;
static uint64_t dropped;

static void
on_quit(int sig)
{
	(void)sig;
	quit = 1;
}

static void
on_release(int sig)
{
	(void)sig;
	release = 1;
}

static void
send_or_free(struct rte_mbuf **m, unsigned int n)
{
	unsigned int sent = 0;

	while (sent < n) {
		uint16_t k = (uint16_t)RTE_MIN(n - sent, 512u);
		uint16_t s = rte_eth_tx_burst(1, 0, m + sent, k);

		if (s < k)
			rte_pktmbuf_free_bulk(m + sent + s, k - s);
		sent += k;
	}
}

static int
worker(void *arg)
{
	struct rte_mbuf *pkts[BURST];
	bool released = false;

	(void)arg;
	while (!quit) {
		uint16_t n = rte_eth_rx_burst(0, 0, pkts, BURST), i;

		if (!released && release) {
			send_or_free(held, nb_held);
			printf("released %u held frames\n", nb_held);
			fflush(stdout);
			nb_held = 0;
			released = true;
		}
		if (released) {
			send_or_free(pkts, n);
		} else {
			for (i = 0; i < n; i++) {
				if (nb_held < hold_max) {
					held[nb_held++] = pkts[i];
				} else {
					rte_pktmbuf_free(pkts[i]);
					dropped++;
				}
			}
		}
		n = rte_eth_rx_burst(1, 0, pkts, BURST);
		if (n != 0)
			rte_pktmbuf_free_bulk(pkts, n);
		for (uint16_t p = 2; p < nb_ports; p++) {
			uint16_t s;

			n = rte_eth_rx_burst(p, 0, pkts, BURST);
			s = n != 0 ? rte_eth_tx_burst(p ^ 1, 0, pkts, n) : 0;
			if (s < n)
				rte_pktmbuf_free_bulk(pkts + s, n - s);
		}
	}
	return 0;
}

static int
port_init(uint16_t port, struct rte_mempool *mp)
{
	struct rte_eth_conf conf;

	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 1024, rte_eth_dev_socket_id(port), NULL, mp) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 1024, rte_eth_dev_socket_id(port), NULL) != 0 ||
	    rte_eth_dev_start(port) != 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct rte_mempool *mp;
	unsigned int lcore;
	uint64_t sum = 0, bytes = 0;
	int ret = rte_eal_init(argc, argv);

	if (ret < 0) {
		fprintf(stderr, "vdp-stallfwd: EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc)
			hold_max = RTE_MIN((unsigned int)atoi(argv[++i]), (unsigned int)MAX_HOLD);
		else if (strcmp(argv[i], "--egress-vdp") == 0)
			egress_vdp = true;
	}
	signal(SIGINT, on_quit);
	signal(SIGTERM, on_quit);
	signal(SIGUSR1, on_release);
	nb_ports = (uint16_t)rte_eth_dev_count_avail();
	if (nb_ports != 2 && nb_ports != 4) {
		fprintf(stderr, "vdp-stallfwd: two or four ports needed\n");
		return 1;
	}
	mp = rte_pktmbuf_pool_create("stall", NB_MBUFS, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	for (uint16_t port = 0; port < nb_ports; port++) {
		if (mp == NULL || port_init(port, mp) != 0) {
			fprintf(stderr, "vdp-stallfwd: port set-up failed\n");
			return 1;
		}
	}
	if (egress_vdp) {
		void *h = dlopen("librte_net_vdevpeer.so.0", RTLD_LAZY | RTLD_NOLOAD);
		int (*eg)(uint16_t, uint16_t, uint16_t, uint16_t) =
			h != NULL ? (int (*)(uint16_t, uint16_t, uint16_t, uint16_t))
				    dlsym(h, "rte_pmd_vdevpeer_zc_egress") : NULL;

		if (eg == NULL || eg(0, 0, 1, 0) != 0) {
			fprintf(stderr, "vdp-stallfwd: --egress-vdp: no net_vdevpeer egress\n");
			return 1;
		}
	}
	lcore = rte_get_next_lcore(-1, 1, 0);
	if (lcore >= RTE_MAX_LCORE) {
		fprintf(stderr, "vdp-stallfwd: a worker lcore is needed\n");
		return 1;
	}
	printf("forwarding: hold %u\n", hold_max);
	fflush(stdout);
	rte_eal_remote_launch(worker, NULL, lcore);
	while (!quit)
		usleep(20000);
	rte_eal_mp_wait_lcore();

	/* what a late transmit would do: read every byte */
	for (unsigned int i = 0; i < nb_held; i++) {
		for (struct rte_mbuf *m = held[i]; m != NULL; m = m->next) {
			const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

			for (uint16_t k = 0; k < m->data_len; k++)
				sum += p[k];
			bytes += m->data_len;
		}
		rte_pktmbuf_free(held[i]);
	}
	printf("held at exit: %u frames, %" PRIu64 " bytes read (sum %" PRIu64
	       "), dropped %" PRIu64 "\n", nb_held, bytes, sum, dropped);
	printf("mbufs in use: %u\n", rte_mempool_in_use_count(mp));
	for (uint16_t port = 0; port < nb_ports; port++) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	printf("mbufs in use after close: %u\n", rte_mempool_in_use_count(mp));
	fflush(stdout);
	rte_eal_cleanup();
	return 0;
}
