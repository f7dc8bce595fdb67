/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vdp-guestgen: a traffic-generating "guest" for end-to-end throughput runs.
 *
 * Two ethdev ports (normally net_virtio_user guests on the two vhost-user
 * sockets of a backend under test). One lcore does all the work: each loop
 * sends a burst of frames on the tx port and receives a burst on the rx
 * port. Nothing else polls, so the generator occupies exactly one CPU.
 *
 *   vdp-guestgen [EAL] -- --size S [--burst N] [--period SEC]
 *                 [--periods N | --duration SEC] [--warmup N] [--check]
 *
 * Frame layout (S bytes, Ethernet without FCS, as ethdev counts bytes):
 *   0..13   Ethernet header, ethertype 0x88b5 (IEEE local experimental)
 *   14..21  sequence number, little endian, +1 per frame sent
 *   22..S-1 fixed pattern: byte at frame offset i is pattern_byte(i)
 *
 * The tx pool's buffers are filled with header and pattern once, at pool
 * creation, so each send only writes the sequence number and the lengths:
 * the generator's cost per frame does not grow with S. A tx frame is one
 * segment (the tx pool's data room holds S); the receive side gets chains
 * of 2048-byte mbufs (mergeable rx buffers) for frames above ~2 KB, and
 * --check walks those chains.
 *
 * Output: one line per period ("period N: ..."), then one line starting
 * with "SUMMARY " followed by a JSON object. Exit status 0 on success,
 * 2 on bad arguments, 1 on other failures.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#define GG_NAME "vdp-guestgen"
#define GG_EXIT_USAGE 2

#define GG_ETHERTYPE 0x88b5
#define GG_SEQ_OFF RTE_ETHER_HDR_LEN
#define GG_PAYLOAD_OFF (GG_SEQ_OFF + 8)
#define GG_MIN_SIZE 60		/* shortest Ethernet frame without FCS */
#define GG_MAX_SIZE 9600
#define GG_MAX_BURST 512
#define GG_MAX_PERIODS 100000
#define GG_RX_DATA_ROOM RTE_MBUF_DEFAULT_BUF_SIZE	/* 2048 + headroom */
#define GG_NB_DESC 1024		/* virtio_user uses its queue_size devarg */

struct gg_params {
	uint16_t tx_port, rx_port;
	uint32_t size;
	uint32_t burst;
	double period_s;
	uint32_t periods;	/* measured periods, warm-up excluded */
	uint32_t warmup;	/* periods printed but not summarised */
	double link_timeout_s;
	bool check;
	uint32_t grow_mb;	/* allocate this much after the first period */
};

struct gg_counts {
	uint64_t tx_pkts, tx_bytes;
	uint64_t rx_pkts, rx_bytes;
	uint64_t bad_pattern, out_of_order, seq_gaps;
};

static volatile sig_atomic_t gg_quit;

static void
on_signal(int sig)
{
	gg_quit = sig;
}

static inline uint8_t
pattern_byte(uint32_t off)
{
	return (uint8_t)(off * 7u + 0x5au);
}

static void
usage(const char *prg)
{
	printf("Usage: %s [EAL options] -- [options]\n"
	       "\n"
	       "Sends frames on one port and receives them on another, on one\n"
	       "lcore (the main lcore). Meant for two net_virtio_user guests on\n"
	       "a vhost-user backend that forwards between them.\n"
	       "\n"
	       "Options:\n"
	       "  --size S            frame size in bytes without FCS, %u..%u\n"
	       "                      (required)\n"
	       "  --tx-port P         port to send on (default 0)\n"
	       "  --rx-port P         port to receive on (default 1)\n"
	       "  --burst N           frames per tx/rx burst, 1..%u (default 32)\n"
	       "  --period SEC        seconds per report line (default 1)\n"
	       "  --periods N         measured periods (default 5)\n"
	       "  --duration SEC      alternative to --periods: run this long\n"
	       "  --warmup N          extra periods first, printed but left out\n"
	       "                      of the summary (default 0)\n"
	       "  --check             verify pattern and sequence order of every\n"
	       "                      received frame\n"
	       "  --link-timeout SEC  wait this long for both links (default 20)\n"
	       "  --grow-mem MB       after the first period, allocate MB of memory\n"
	       "                      (with hugepages, EAL maps new pages and\n"
	       "                      virtio_user sends the backend a new memory\n"
	       "                      table while frames are in flight)\n"
	       "  --help              this text\n",
	       prg, GG_MIN_SIZE, GG_MAX_SIZE, GG_MAX_BURST);
}

static int
bad_value(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "%s: --%s: bad value '%s': %s\n", GG_NAME, opt, val, why);
	return -EINVAL;
}

static int
parse_u32(const char *opt, const char *val, uint32_t min, uint32_t max,
	  uint32_t *out)
{
	char why[64];
	char *end = NULL;
	unsigned long v = 0;
	bool ok = false;

	if (val[0] >= '0' && val[0] <= '9') {
		errno = 0;
		v = strtoul(val, &end, 10);
		ok = *end == '\0' && errno == 0 && v >= min && v <= max;
	}
	if (!ok) {
		snprintf(why, sizeof(why), "expected an integer in %u..%u", min, max);
		return bad_value(opt, val, why);
	}
	*out = (uint32_t)v;
	return 0;
}

static int
parse_seconds(const char *opt, const char *val, double min, double max,
	      double *out)
{
	char why[64];
	char *end = NULL;
	double v = 0;
	bool ok = false;

	if ((val[0] >= '0' && val[0] <= '9') || val[0] == '.') {
		errno = 0;
		v = strtod(val, &end);
		ok = *end == '\0' && errno == 0 && v >= min && v <= max;
	}
	if (!ok) {
		snprintf(why, sizeof(why), "expected seconds in %g..%g", min, max);
		return bad_value(opt, val, why);
	}
	*out = v;
	return 0;
}

enum {
	OPT_SIZE = 256, OPT_TX_PORT, OPT_RX_PORT, OPT_BURST, OPT_PERIOD,
	OPT_PERIODS, OPT_DURATION, OPT_WARMUP, OPT_CHECK, OPT_LINK_TIMEOUT, OPT_GROW_MEM,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "size",         required_argument, NULL, OPT_SIZE },
	{ "tx-port",      required_argument, NULL, OPT_TX_PORT },
	{ "rx-port",      required_argument, NULL, OPT_RX_PORT },
	{ "burst",        required_argument, NULL, OPT_BURST },
	{ "period",       required_argument, NULL, OPT_PERIOD },
	{ "periods",      required_argument, NULL, OPT_PERIODS },
	{ "duration",     required_argument, NULL, OPT_DURATION },
	{ "warmup",       required_argument, NULL, OPT_WARMUP },
	{ "check",        no_argument,       NULL, OPT_CHECK },
	{ "grow-mem",     required_argument, NULL, OPT_GROW_MEM },
	{ "link-timeout", required_argument, NULL, OPT_LINK_TIMEOUT },
	{ "help",         no_argument,       NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* 0 on success, 1 for --help, -EINVAL with a line on stderr otherwise. */
static int
parse_args(int argc, char **argv, struct gg_params *p)
{
	double duration = 0;
	uint32_t v;
	bool have_periods = false;
	int opt, ret = 0;

	memset(p, 0, sizeof(*p));
	p->tx_port = 0;
	p->rx_port = 1;
	p->burst = 32;
	p->period_s = 1.0;
	p->periods = 5;
	p->link_timeout_s = 20.0;

	optind = 1;
	opterr = 0;
	while (ret == 0 &&
	       (opt = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SIZE:
			ret = parse_u32("size", optarg, GG_MIN_SIZE, GG_MAX_SIZE,
					&p->size);
			break;
		case OPT_TX_PORT:
			ret = parse_u32("tx-port", optarg, 0, RTE_MAX_ETHPORTS - 1, &v);
			p->tx_port = v;
			break;
		case OPT_RX_PORT:
			ret = parse_u32("rx-port", optarg, 0, RTE_MAX_ETHPORTS - 1, &v);
			p->rx_port = v;
			break;
		case OPT_BURST:
			ret = parse_u32("burst", optarg, 1, GG_MAX_BURST, &p->burst);
			break;
		case OPT_PERIOD:
			ret = parse_seconds("period", optarg, 0.1, 3600, &p->period_s);
			break;
		case OPT_PERIODS:
			ret = parse_u32("periods", optarg, 1, GG_MAX_PERIODS, &p->periods);
			have_periods = true;
			break;
		case OPT_DURATION:
			ret = parse_seconds("duration", optarg, 0.1, 86400, &duration);
			break;
		case OPT_WARMUP:
			ret = parse_u32("warmup", optarg, 0, 1000, &p->warmup);
			break;
		case OPT_GROW_MEM:
			ret = parse_u32("grow-mem", optarg, 1, 4096, &p->grow_mb);
			break;
		case OPT_CHECK:
			p->check = true;
			break;
		case OPT_LINK_TIMEOUT:
			ret = parse_seconds("link-timeout", optarg, 0.1, 3600,
					    &p->link_timeout_s);
			break;
		case 'h':
		case OPT_HELP:
			usage(argv[0]);
			return 1;
		case ':':
			fprintf(stderr, "%s: %s: missing value\n", GG_NAME,
				argv[optind - 1]);
			ret = -EINVAL;
			break;
		default:
			fprintf(stderr, "%s: %s: unknown option (see --help)\n",
				GG_NAME, argv[optind - 1]);
			ret = -EINVAL;
			break;
		}
	}
	if (ret != 0)
		return ret;
	if (optind < argc) {
		fprintf(stderr, "%s: %s: unexpected argument (see --help)\n",
			GG_NAME, argv[optind]);
		return -EINVAL;
	}
	if (p->size == 0) {
		fprintf(stderr, "%s: --size is required (frame bytes without FCS, "
			"%u..%u)\n", GG_NAME, GG_MIN_SIZE, GG_MAX_SIZE);
		return -EINVAL;
	}
	if (duration > 0 && have_periods) {
		fprintf(stderr, "%s: give --periods or --duration, not both\n",
			GG_NAME);
		return -EINVAL;
	}
	if (duration > 0) {
		double n = duration / p->period_s;

		if (n < 1 || n > GG_MAX_PERIODS) {
			fprintf(stderr, "%s: --duration %g with --period %g gives "
				"%.0f periods; expected 1..%u\n", GG_NAME, duration,
				p->period_s, n, GG_MAX_PERIODS);
			return -EINVAL;
		}
		p->periods = (uint32_t)(n + 0.5);
	}
	if (p->tx_port == p->rx_port) {
		fprintf(stderr, "%s: --tx-port and --rx-port are both %u: the "
			"generator needs two ports\n", GG_NAME, p->tx_port);
		return -EINVAL;
	}
	return 0;
}

static bool
want_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			break;
	for (i++; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* Mempool iterator: write header and pattern into a tx buffer once. */
static void
tx_buf_fill(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	const struct gg_params *p = arg;
	struct rte_mbuf *m = obj;
	uint8_t *d = (uint8_t *)m->buf_addr + RTE_PKTMBUF_HEADROOM;
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)d;
	uint32_t i;

	RTE_SET_USED(mp);
	RTE_SET_USED(idx);
	/* Locally administered unicast addresses, fixed: no learning involved. */
	memcpy(eh->dst_addr.addr_bytes, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(eh->src_addr.addr_bytes, "\x02\x00\x00\x00\x00\x01", 6);
	eh->ether_type = rte_cpu_to_be_16(GG_ETHERTYPE);
	memset(d + GG_SEQ_OFF, 0, 8);
	for (i = GG_PAYLOAD_OFF; i < p->size; i++)
		d[i] = pattern_byte(i);
}

static int
port_setup(uint16_t port, struct rte_mempool *rx_pool, uint32_t size)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN] = "?";
	uint32_t mtu = size > RTE_ETHER_MAX_LEN - RTE_ETHER_CRC_LEN ?
		size - RTE_ETHER_HDR_LEN : RTE_ETHER_MTU;
	int ret;

	rte_eth_dev_get_name_by_port(port, name);
	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0) {
		fprintf(stderr, "%s: port %u (%s): no device info: %s\n", GG_NAME,
			port, name, rte_strerror(-ret));
		return ret;
	}
	if (mtu > info.max_mtu) {
		fprintf(stderr, "%s: port %u (%s): --size %u needs MTU %u, the "
			"port allows at most %u\n", GG_NAME, port, name, size, mtu,
			info.max_mtu);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = mtu;
	if (size + RTE_PKTMBUF_HEADROOM > GG_RX_DATA_ROOM &&
	    (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER))
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, GG_NB_DESC,
					     rte_eth_dev_socket_id(port), NULL, rx_pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, GG_NB_DESC,
					     rte_eth_dev_socket_id(port), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret != 0) {
		fprintf(stderr, "%s: port %u (%s): set-up failed: %s\n", GG_NAME,
			port, name, rte_strerror(-ret));
		return ret;
	}
	return 0;
}

static int
wait_links(const struct gg_params *p)
{
	uint64_t hz = rte_get_timer_hz();
	uint64_t deadline = rte_get_timer_cycles() +
		(uint64_t)(p->link_timeout_s * hz);
	uint16_t ports[2] = { p->tx_port, p->rx_port };
	bool up[2] = { false, false };
	struct rte_eth_link link;
	char str[RTE_ETH_LINK_MAX_STR_LEN];
	int i;

	while (!gg_quit) {
		for (i = 0; i < 2; i++) {
			if (up[i])
				continue;
			memset(&link, 0, sizeof(link));
			if (rte_eth_link_get_nowait(ports[i], &link) == 0 &&
			    link.link_status == RTE_ETH_LINK_UP) {
				up[i] = true;
				rte_eth_link_to_str(str, sizeof(str), &link);
				printf("port %u: %s\n", ports[i], str);
				fflush(stdout);
			}
		}
		if (up[0] && up[1])
			return 0;
		if (rte_get_timer_cycles() > deadline) {
			fprintf(stderr, "%s: link still down after %g s on port%s%s%s "
				"(is the backend listening on the socket?)\n", GG_NAME,
				p->link_timeout_s, up[0] ? "" : " tx",
				up[0] || up[1] ? "" : " and", up[1] ? "" : " rx");
			return -ETIMEDOUT;
		}
		rte_delay_us_sleep(10 * 1000);
	}
	return -EINTR;
}

/* Sequence number and pattern of one received frame (maybe a chain). */
static void
check_frame(const struct rte_mbuf *m, uint32_t size, uint64_t *next_seq,
	    struct gg_counts *c)
{
	const struct rte_mbuf *seg;
	uint64_t seq;
	uint32_t off = 0, i;
	bool bad = m->pkt_len != size;

	if (m->data_len < GG_PAYLOAD_OFF) {
		c->bad_pattern++;
		return;
	}
	memcpy(&seq, rte_pktmbuf_mtod_offset(m, const uint8_t *, GG_SEQ_OFF), 8);
	seq = rte_le_to_cpu_64(seq);
	for (seg = m; seg != NULL && !bad; seg = seg->next) {
		const uint8_t *d = rte_pktmbuf_mtod(seg, const uint8_t *);

		for (i = 0; i < seg->data_len; i++, off++)
			if (off >= GG_PAYLOAD_OFF && d[i] != pattern_byte(off)) {
				bad = true;
				break;
			}
	}
	if (bad)
		c->bad_pattern++;
	if (seq < *next_seq) {
		c->out_of_order++;
		return;
	}
	if (seq > *next_seq)
		c->seq_gaps += seq - *next_seq;
	*next_seq = seq + 1;
}

static double
rate(uint64_t n, uint64_t cycles)
{
	return cycles == 0 ? 0 : (double)n * rte_get_timer_hz() / cycles;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, uint32_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
run(const struct gg_params *p, struct rte_mempool *tx_pool)
{
	struct rte_mbuf *tx[GG_MAX_BURST], *rx[GG_MAX_BURST];
	struct gg_counts tot, prev;
	uint64_t hz = rte_get_timer_hz();
	uint64_t period = (uint64_t)(p->period_s * hz);
	uint64_t start, next, last, now, tx_nomem = 0;
	uint64_t seq = 0, next_rx_seq = 0;
	uint32_t n_periods = p->warmup + p->periods, done = 0, measured = 0;
	double *rx_pps, *tx_pps, *rx_bps;
	uint16_t nb_tx, nb_rx, i;
	void *grown = NULL;

	rx_pps = calloc(p->periods, sizeof(double));
	tx_pps = calloc(p->periods, sizeof(double));
	rx_bps = calloc(p->periods, sizeof(double));
	if (rx_pps == NULL || tx_pps == NULL || rx_bps == NULL) {
		fprintf(stderr, "%s: out of memory\n", GG_NAME);
		free(rx_pps);
		free(tx_pps);
		free(rx_bps);
		return -ENOMEM;
	}
	memset(&tot, 0, sizeof(tot));
	prev = tot;
	start = last = rte_get_timer_cycles();
	next = start + period;

	while (!gg_quit && done < n_periods) {
		if (rte_pktmbuf_alloc_bulk(tx_pool, tx, p->burst) == 0) {
			for (i = 0; i < p->burst; i++) {
				uint64_t s = rte_cpu_to_le_64(seq + i);

				tx[i]->data_len = p->size;
				tx[i]->pkt_len = p->size;
				memcpy(rte_pktmbuf_mtod_offset(tx[i], uint8_t *,
							       GG_SEQ_OFF), &s, 8);
			}
			nb_tx = rte_eth_tx_burst(p->tx_port, 0, tx, p->burst);
			/* Unsent frames are the tail: their numbers are reused. */
			if (nb_tx < p->burst)
				rte_pktmbuf_free_bulk(tx + nb_tx, p->burst - nb_tx);
			seq += nb_tx;
			tot.tx_pkts += nb_tx;
			tot.tx_bytes += (uint64_t)nb_tx * p->size;
		} else {
			tx_nomem++;
		}

		nb_rx = rte_eth_rx_burst(p->rx_port, 0, rx, GG_MAX_BURST);
		for (i = 0; i < nb_rx; i++) {
			tot.rx_bytes += rx[i]->pkt_len;
			if (p->check)
				check_frame(rx[i], p->size, &next_rx_seq, &tot);
		}
		tot.rx_pkts += nb_rx;
		if (nb_rx != 0)
			rte_pktmbuf_free_bulk(rx, nb_rx);

		now = rte_get_timer_cycles();
		if (now < next)
			continue;
		{
			uint64_t cyc = now - last;
			double rpps = rate(tot.rx_pkts - prev.rx_pkts, cyc);
			double tpps = rate(tot.tx_pkts - prev.tx_pkts, cyc);
			double rbps = 8 * rate(tot.rx_bytes - prev.rx_bytes, cyc);
			bool warm = done < p->warmup;

			printf("period %u%s: rx %.0f pps %.3f Gbit/s | tx %.0f pps | "
			       "rx-total %" PRIu64 " tx-total %" PRIu64 "%s\n",
			       done + 1, warm ? " (warm-up)" : "", rpps, rbps / 1e9,
			       tpps, tot.rx_pkts, tot.tx_pkts,
			       p->check && (tot.bad_pattern || tot.out_of_order) ?
			       " CHECK-FAILED" : "");
			fflush(stdout);
			if (!warm) {
				rx_pps[measured] = rpps;
				tx_pps[measured] = tpps;
				rx_bps[measured] = rbps;
				measured++;
			}
			prev = tot;
			last = now;
			next += period;
			done++;
			if (p->grow_mb != 0 && done == 1) {
				grown = rte_malloc("gg_grow", (size_t)p->grow_mb << 20, 0);
				printf("grew memory by %u MB: %s\n", p->grow_mb,
				       grown != NULL ? "ok" : "failed");
				fflush(stdout);
			}
		}
	}

	/* Drain what is still in flight, so that "lost" means lost. */
	now = rte_get_timer_cycles();
	while (rte_get_timer_cycles() < now + hz / 5) {
		nb_rx = rte_eth_rx_burst(p->rx_port, 0, rx, GG_MAX_BURST);
		for (i = 0; i < nb_rx; i++) {
			tot.rx_bytes += rx[i]->pkt_len;
			if (p->check)
				check_frame(rx[i], p->size, &next_rx_seq, &tot);
		}
		tot.rx_pkts += nb_rx;
		if (nb_rx != 0)
			rte_pktmbuf_free_bulk(rx, nb_rx);
	}

	{
		double pps_sorted[measured ? measured : 1];
		double bps_sorted[measured ? measured : 1];
		double tx_sorted[measured ? measured : 1];
		double rmin = 0, rmax = 0;
		uint32_t k;

		memcpy(pps_sorted, rx_pps, measured * sizeof(double));
		memcpy(bps_sorted, rx_bps, measured * sizeof(double));
		memcpy(tx_sorted, tx_pps, measured * sizeof(double));
		printf("SUMMARY {\"size\": %u, \"burst\": %u, \"period_s\": %g, "
		       "\"warmup_periods\": %u, \"periods\": %u, \"interrupted\": %s, "
		       "\"rx_pps\": [", p->size, p->burst, p->period_s, p->warmup,
		       measured, gg_quit ? "true" : "false");
		for (k = 0; k < measured; k++)
			printf("%s%.0f", k ? ", " : "", rx_pps[k]);
		printf("], \"tx_pps\": [");
		for (k = 0; k < measured; k++)
			printf("%s%.0f", k ? ", " : "", tx_pps[k]);
		printf("], \"rx_bps\": [");
		for (k = 0; k < measured; k++)
			printf("%s%.0f", k ? ", " : "", rx_bps[k]);
		if (measured != 0) {
			rmin = rmax = rx_pps[0];
			for (k = 1; k < measured; k++) {
				rmin = RTE_MIN(rmin, rx_pps[k]);
				rmax = RTE_MAX(rmax, rx_pps[k]);
			}
		}
		printf("], \"rx_pps_median\": %.0f, \"rx_pps_min\": %.0f, "
		       "\"rx_pps_max\": %.0f, \"rx_bps_median\": %.0f, "
		       "\"tx_pps_median\": %.0f, ",
		       measured ? median(pps_sorted, measured) : 0, rmin, rmax,
		       measured ? median(bps_sorted, measured) : 0,
		       measured ? median(tx_sorted, measured) : 0);
		printf("\"tx_pkts\": %" PRIu64 ", \"rx_pkts\": %" PRIu64
		       ", \"tx_bytes\": %" PRIu64 ", \"rx_bytes\": %" PRIu64
		       ", \"lost\": %" PRId64 ", \"tx_nomem\": %" PRIu64
		       ", \"check\": %s, \"bad_pattern\": %" PRIu64
		       ", \"out_of_order\": %" PRIu64 ", \"seq_gaps\": %" PRIu64 "}\n",
		       tot.tx_pkts, tot.rx_pkts, tot.tx_bytes, tot.rx_bytes,
		       (int64_t)(tot.tx_pkts - tot.rx_pkts), tx_nomem,
		       p->check ? "true" : "false", tot.bad_pattern,
		       tot.out_of_order, tot.seq_gaps);
		fflush(stdout);
	}
	free(rx_pps);
	free(tx_pps);
	free(rx_bps);
	rte_free(grown);
	if (p->check && (tot.bad_pattern != 0 || tot.out_of_order != 0))
		return -EIO;
	return 0;
}

int
main(int argc, char **argv)
{
	struct gg_params p;
	struct rte_mempool *tx_pool = NULL, *rx_pool = NULL;
	uint32_t tx_room, nb_mbufs;
	int ret, status = EXIT_FAILURE;

	if (want_help(argc, argv)) {
		usage(argv[0]);
		return 0;
	}
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "%s: EAL initialisation failed: %s\n", GG_NAME,
			rte_strerror(rte_errno));
		return rte_errno == EINVAL ? GG_EXIT_USAGE : EXIT_FAILURE;
	}
	argc -= ret;
	argv += ret;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ret = parse_args(argc, argv, &p);
	if (ret != 0) {
		rte_eal_cleanup();
		return ret == 1 ? 0 : GG_EXIT_USAGE;
	}
	if (rte_lcore_count() != 1)
		printf("note: %u lcores given; only the main lcore (%u) works, the "
		       "others stay idle\n", rte_lcore_count(), rte_get_main_lcore());
	if (!rte_eth_dev_is_valid_port(p.tx_port) ||
	    !rte_eth_dev_is_valid_port(p.rx_port)) {
		fprintf(stderr, "%s: ports %u and %u must exist (%u ports found; "
			"add them with --vdev net_virtio_userN,path=SOCK)\n", GG_NAME,
			p.tx_port, p.rx_port, rte_eth_dev_count_avail());
		rte_eal_cleanup();
		return GG_EXIT_USAGE;
	}

	/*
	 * Enough for both rings full (virtio_user queue_size is at most 1024
	 * by default here), bursts in flight and the per-lcore cache.
	 */
	nb_mbufs = 4 * 1024 + 2 * GG_MAX_BURST + 512;
	tx_room = RTE_MAX((uint32_t)RTE_MBUF_DEFAULT_BUF_SIZE,
			  p.size + RTE_PKTMBUF_HEADROOM);
	tx_pool = rte_pktmbuf_pool_create("gg_tx", nb_mbufs, 256, 0, tx_room,
					  rte_socket_id());
	rx_pool = rte_pktmbuf_pool_create("gg_rx", 2 * nb_mbufs, 256, 0,
					  GG_RX_DATA_ROOM, rte_socket_id());
	if (tx_pool == NULL || rx_pool == NULL) {
		fprintf(stderr, "%s: cannot create mbuf pools: %s (try a larger "
			"-m)\n", GG_NAME, rte_strerror(rte_errno));
		goto out;
	}
	rte_mempool_obj_iter(tx_pool, tx_buf_fill, &p);

	if (port_setup(p.tx_port, rx_pool, p.size) != 0 ||
	    port_setup(p.rx_port, rx_pool, p.size) != 0)
		goto out;
	printf("size %u burst %u period %g s warm-up %u periods %u check %s "
	       "lcore %u\n", p.size, p.burst, p.period_s, p.warmup, p.periods,
	       p.check ? "on" : "off", rte_lcore_id());
	fflush(stdout);
	if (wait_links(&p) != 0)
		goto out;
	printf("links up: sending\n");
	fflush(stdout);
	ret = run(&p, tx_pool);
	status = ret == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
out:
	rte_eth_dev_stop(p.tx_port);
	rte_eth_dev_stop(p.rx_port);
	rte_eth_dev_close(p.tx_port);
	rte_eth_dev_close(p.rx_port);
	rte_mempool_free(tx_pool);
	rte_mempool_free(rx_pool);
	rte_eal_cleanup();
	return status;
}
