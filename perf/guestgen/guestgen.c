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
 *                 [--tso MSS] [--queues N] [--ping N [--gap-us US]]
 *
 * With --queues N both ports have N queue pairs: bursts are sent on the
 * tx queues in turn, every rx queue is polled each loop. Each tx queue
 * numbers its frames on its own (the queue in the top byte of the
 * sequence number), so --check verifies the order per queue: a backend
 * forwarding queue q to queue q keeps it.
 *
 * Frame layout (S bytes, Ethernet without FCS, as ethdev counts bytes):
 *   0..13   Ethernet header, ethertype 0x88b5 (IEEE local experimental)
 *   14..21  sequence number, little endian, +1 per frame sent (bits
 *           56..63: the tx queue)
 *   22..S-1 fixed pattern: byte at frame offset i is pattern_byte(i)
 *
 * With --tso MSS the frame is a TCP/IPv4 segment of up to 64 KiB that the
 * guest hands to its virtio-net device for segmentation (TSO, VIRTIO_NET_F
 * _HOST_TSO4), the way a Linux guest sends bulk TCP: Ethernet, IPv4 (20),
 * TCP (20), then the sequence number and the pattern from offset 54. The
 * receiving port asks for LRO (VIRTIO_NET_F_GUEST_TSO4/6), so a backend
 * that passes GSO frames through delivers one frame per frame sent; one
 * that segments delivers ceil(payload / MSS) frames, and the generator
 * then counts TCP payload bytes, not frames (rx_payload_bps).
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
#include <netinet/in.h>
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
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#define GG_NAME "vdp-guestgen"
#define GG_EXIT_USAGE 2

#define GG_ETHERTYPE 0x88b5
#define GG_L3_OFF RTE_ETHER_HDR_LEN
#define GG_TCP_HDRS (RTE_ETHER_HDR_LEN + 20 + 20)	/* Ethernet, IPv4, TCP */
#define GG_MIN_SIZE 60		/* shortest Ethernet frame without FCS */
#define GG_MAX_SIZE 9600
/* --tso: IPv4 total length fits 16 bits; the tx mbuf's buf_len too */
#define GG_TSO_MAX_SIZE (RTE_ETHER_HDR_LEN + 65535 - RTE_PKTMBUF_HEADROOM)
/*
 * --tso's default window: 1 MiB, 16 frames of 64 KiB. The receiving
 * guest's ring (1024 buffers of 2 KiB, 32 per 64 KiB frame) holds 32 such
 * frames: a window of twice that would overrun it whatever the backend.
 */
#define GG_TSO_WINDOW (1024u * 1024)
#define GG_TX_CACHE 32		/* tx pool's lcore cache with --window */
#define GG_TX_LAG 64		/* sent mbufs the tx ring holds, with --window */
#define GG_MAX_BURST 512
#define GG_MAX_QUEUES 8
#define GG_SEQ_QSHIFT 56
#define GG_MAX_PERIODS 100000
#define GG_MAX_PINGS 1000000
#define GG_PING_TIMEOUT_MS 1000
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
	uint32_t tso_mss;	/* 0: raw frames; else TCP/IPv4 with TSO */
	uint64_t window_bytes;	/* 0: send at will; else see tx_window() */
	uint32_t seq_off;	/* where the sequence number is */
	uint32_t queues;	/* queue pairs per port */
	uint32_t ping;		/* --ping N: N single frames, one at a time */
	uint32_t gap_us;	/* ... this long apart */
};

struct gg_counts {
	uint64_t tx_pkts, tx_bytes;
	uint64_t rx_pkts, rx_bytes;
	uint64_t rx_payload;	/* bytes after the sequence number's offset */
	uint64_t rx_gso;	/* frames the device said are GSO (RX_LRO) */
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
	       "                      (required; with --tso up to %u)\n"
	       "  --tso MSS           send TCP/IPv4 frames of --size bytes for the\n"
	       "                      device to segment at MSS (536..9000); the rx\n"
	       "                      port asks for LRO. Both ports must offer it.\n"
	       "  --window KIB        at most KIB of payload sent and not yet\n"
	       "                      received, like a TCP window (0: no limit;\n"
	       "                      default 0, with --tso %u)\n"
	       "  --queues N          queue pairs per port, 1..%u: bursts go to\n"
	       "                      the tx queues in turn, all rx queues are\n"
	       "                      polled (default 1)\n"
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
	       "  --ping N            latency instead of throughput: N frames, one\n"
	       "                      at a time, each sent when the one before it\n"
	       "                      arrived (or was lost after 1 s), --gap-us\n"
	       "                      apart; the summary has the one-way latency\n"
	       "                      (median, p99, max in us) and the frames lost\n"
	       "  --gap-us US         idle time between --ping frames (default\n"
	       "                      2000: longer than a backend's quiet period)\n"
	       "  --grow-mem MB       after the first period, allocate MB of memory\n"
	       "                      (with hugepages, EAL maps new pages and\n"
	       "                      virtio_user sends the backend a new memory\n"
	       "                      table while frames are in flight)\n"
	       "  --help              this text\n",
	       prg, GG_MIN_SIZE, GG_MAX_SIZE, (unsigned int)GG_TSO_MAX_SIZE,
	       GG_TSO_WINDOW / 1024, GG_MAX_QUEUES, GG_MAX_BURST);
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
	OPT_TSO, OPT_WINDOW, OPT_QUEUES, OPT_PING, OPT_GAP, OPT_HELP,
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
	{ "tso",          required_argument, NULL, OPT_TSO },
	{ "window",       required_argument, NULL, OPT_WINDOW },
	{ "queues",       required_argument, NULL, OPT_QUEUES },
	{ "ping",         required_argument, NULL, OPT_PING },
	{ "gap-us",       required_argument, NULL, OPT_GAP },
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
	bool have_periods = false, have_window = false;
	int opt, ret = 0;

	memset(p, 0, sizeof(*p));
	p->tx_port = 0;
	p->rx_port = 1;
	p->burst = 32;
	p->period_s = 1.0;
	p->periods = 5;
	p->link_timeout_s = 20.0;
	p->queues = 1;
	p->gap_us = 2000;

	optind = 1;
	opterr = 0;
	while (ret == 0 &&
	       (opt = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SIZE:
			ret = parse_u32("size", optarg, GG_MIN_SIZE, GG_TSO_MAX_SIZE,
					&p->size);
			break;
		case OPT_TSO:
			ret = parse_u32("tso", optarg, 536, 9000, &p->tso_mss);
			break;
		case OPT_WINDOW:
			ret = parse_u32("window", optarg, 0, 1024 * 1024, &v);
			p->window_bytes = (uint64_t)v * 1024;
			have_window = true;
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
		case OPT_QUEUES:
			ret = parse_u32("queues", optarg, 1, GG_MAX_QUEUES, &p->queues);
			break;
		case OPT_PING:
			ret = parse_u32("ping", optarg, 1, GG_MAX_PINGS, &p->ping);
			break;
		case OPT_GAP:
			ret = parse_u32("gap-us", optarg, 0, 10 * 1000 * 1000, &p->gap_us);
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
	if (p->size > GG_MAX_SIZE && p->tso_mss == 0) {
		fprintf(stderr, "%s: --size %u: frames above %u bytes need --tso "
			"(a device segments them)\n", GG_NAME, p->size, GG_MAX_SIZE);
		return -EINVAL;
	}
	if (p->tso_mss != 0 && p->size <= GG_TCP_HDRS + p->tso_mss) {
		fprintf(stderr, "%s: --tso %u: --size %u leaves no more than one "
			"segment of payload; give at least %u\n", GG_NAME,
			p->tso_mss, p->size, GG_TCP_HDRS + p->tso_mss + 1);
		return -EINVAL;
	}
	p->seq_off = p->tso_mss != 0 ? GG_TCP_HDRS : RTE_ETHER_HDR_LEN;
	if (!have_window && p->tso_mss != 0)
		p->window_bytes = GG_TSO_WINDOW;
	if (p->window_bytes != 0 && p->window_bytes < p->size - p->seq_off) {
		fprintf(stderr, "%s: --window %" PRIu64 " KiB is less than one "
			"frame's payload (%u bytes)\n", GG_NAME, p->window_bytes / 1024,
			p->size - p->seq_off);
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
	if (p->tso_mss != 0) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + GG_L3_OFF);
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		memset(ip, 0, sizeof(*ip) + sizeof(*th));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(p->size - GG_L3_OFF));
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_TCP;
		ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 1));
		ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 2));
		th->src_port = rte_cpu_to_be_16(5001);
		th->dst_port = rte_cpu_to_be_16(5002);
		th->data_off = 5 << 4;
		th->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
		th->rx_win = rte_cpu_to_be_16(65535);
	}
	memset(d + p->seq_off, 0, 8);
	for (i = p->seq_off + 8; i < p->size; i++)
		d[i] = pattern_byte(i);
}

static int
port_setup(uint16_t port, struct rte_mempool *rx_pool, const struct gg_params *p)
{
	const uint32_t size = p->size;
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN] = "?";
	uint32_t mtu = size > RTE_ETHER_MAX_LEN - RTE_ETHER_CRC_LEN ?
		size - RTE_ETHER_HDR_LEN : RTE_ETHER_MTU;
	struct rte_eth_txconf txconf;
	const uint64_t tso_tx = RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	const uint64_t tso_rx = RTE_ETH_RX_OFFLOAD_TCP_LRO | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	int ret;

	if (p->tso_mss != 0)   /* the segments' MTU; the frames are bigger */
		mtu = RTE_MAX((uint32_t)RTE_ETHER_MTU, p->tso_mss + 40);

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
	if (p->tso_mss != 0 && port == p->tx_port) {
		if ((info.tx_offload_capa & tso_tx) != tso_tx) {
			fprintf(stderr, "%s: port %u (%s): --tso: no TCP segmentation "
				"offload (the backend did not offer VIRTIO_NET_F_CSUM "
				"and HOST_TSO4)\n", GG_NAME, port, name);
			return -ENOTSUP;
		}
		conf.txmode.offloads |= tso_tx;
	}
	if (p->tso_mss != 0 && port == p->rx_port) {
		if ((info.rx_offload_capa & tso_rx) != tso_rx) {
			fprintf(stderr, "%s: port %u (%s): --tso: no LRO (the backend "
				"did not offer VIRTIO_NET_F_GUEST_CSUM and GUEST_TSO4/6)\n",
				GG_NAME, port, name);
			return -ENOTSUP;
		}
		conf.rxmode.offloads |= tso_rx;
		conf.rxmode.max_lro_pkt_size = info.max_lro_pkt_size;
	}
	if (p->queues > info.max_rx_queues || p->queues > info.max_tx_queues) {
		fprintf(stderr, "%s: port %u (%s): --queues %u: the port has at most "
			"%u rx / %u tx queues (virtio_user: queues=%u)\n", GG_NAME, port,
			name, p->queues, info.max_rx_queues, info.max_tx_queues, p->queues);
		return -EINVAL;
	}
	ret = rte_eth_dev_configure(port, p->queues, p->queues, &conf);
	for (uint16_t q = 0; ret == 0 && q < p->queues; q++)
		ret = rte_eth_rx_queue_setup(port, q, GG_NB_DESC,
					     rte_eth_dev_socket_id(port), NULL, rx_pool);
	/* With a window, the tx pool is small: have the driver free sent
	 * mbufs once GG_TX_LAG are done, not when its ring is nearly full. */
	txconf = info.default_txconf;
	txconf.offloads = conf.txmode.offloads;
	if (p->window_bytes != 0)
		txconf.tx_free_thresh = GG_NB_DESC - GG_TX_LAG;
	for (uint16_t q = 0; ret == 0 && q < p->queues; q++)
		ret = rte_eth_tx_queue_setup(port, q, GG_NB_DESC,
					     rte_eth_dev_socket_id(port), &txconf);
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
check_frame(const struct rte_mbuf *m, const struct gg_params *p, uint64_t *next_seq,
	    struct gg_counts *c)
{
	const struct rte_mbuf *seg;
	uint64_t seq;
	uint32_t off = 0, i;
	bool bad = m->pkt_len != p->size;

	if (m->data_len < p->seq_off + 8) {
		c->bad_pattern++;
		return;
	}
	memcpy(&seq, rte_pktmbuf_mtod_offset(m, const uint8_t *, p->seq_off), 8);
	seq = rte_le_to_cpu_64(seq);
	for (seg = m; seg != NULL && !bad; seg = seg->next) {
		const uint8_t *d = rte_pktmbuf_mtod(seg, const uint8_t *);

		for (i = 0; i < seg->data_len; i++, off++)
			if (off >= p->seq_off + 8 && d[i] != pattern_byte(off)) {
				bad = true;
				break;
			}
	}
	if (bad)
		c->bad_pattern++;
	if ((seq >> GG_SEQ_QSHIFT) >= p->queues) {
		c->bad_pattern++;
		return;
	}
	next_seq += seq >> GG_SEQ_QSHIFT;   /* each tx queue numbers its own */
	if (seq < *next_seq) {
		c->out_of_order++;
		return;
	}
	if (seq > *next_seq)
		c->seq_gaps += seq - *next_seq;
	*next_seq = seq + 1;
}

/* Count (and with --check, verify) received frames, then free them. */
static void
rx_account(const struct gg_params *p, struct rte_mbuf **rx, uint16_t nb,
	   uint64_t *next_seq, struct gg_counts *c)
{
	uint16_t i;

	for (i = 0; i < nb; i++) {
		c->rx_bytes += rx[i]->pkt_len;
		if (rx[i]->ol_flags & RTE_MBUF_F_RX_LRO)
			c->rx_gso++;
		if (rx[i]->pkt_len > p->seq_off)
			c->rx_payload += rx[i]->pkt_len - p->seq_off;
		if (p->check)
			check_frame(rx[i], p, next_seq, c);
	}
	c->rx_pkts += nb;
	if (nb != 0)
		rte_pktmbuf_free_bulk(rx, nb);
}

/*
 * --window: like a TCP sender, keep at most p->window_bytes of payload
 * sent but not yet received. When nothing arrives for GG_WINDOW_RTO_US
 * with the window full, what is outstanding counts as lost and the window
 * opens again (the backend dropped it; "lost" in the summary says so).
 * Returns the frames to send now (at most the burst).
 */
#define GG_WINDOW_RTO_US 5000

struct gg_window {
	uint64_t lost_bytes;	/* payload written off as lost */
	uint64_t last_rx;	/* rx_payload at the last progress */
	uint64_t stall_since;	/* timer cycles; 0: not stalled */
	uint64_t timeouts;
};

static uint16_t
tx_window(const struct gg_params *p, const struct gg_counts *c, struct gg_window *w)
{
	uint64_t frame = p->size - p->seq_off, sent, out, now;

	if (p->window_bytes == 0)
		return (uint16_t)p->burst;
	sent = c->tx_pkts * frame;
	out = sent - c->rx_payload - w->lost_bytes;
	if (sent < c->rx_payload + w->lost_bytes)   /* segments of a lost frame came late */
		out = 0;
	if (out + frame <= p->window_bytes) {
		w->stall_since = 0;
		return (uint16_t)RTE_MIN((uint64_t)p->burst,
					 (p->window_bytes - out) / frame);
	}
	now = rte_get_timer_cycles();
	if (c->rx_payload != w->last_rx || w->stall_since == 0) {
		w->last_rx = c->rx_payload;
		w->stall_since = now;
	} else if (now - w->stall_since > rte_get_timer_hz() / 1000000 * GG_WINDOW_RTO_US) {
		w->lost_bytes += out;
		w->timeouts++;
		w->stall_since = 0;
	}
	return 0;
}

/* --tso: ask the device to segment this TCP/IPv4 frame at mss. */
static inline void
tso_request(struct rte_mbuf *m, uint32_t mss)
{
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
		       RTE_MBUF_F_TX_TCP_CKSUM;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = 20;
	m->l4_len = 20;
	m->tso_segsz = (uint16_t)mss;
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

static double
pctile(const double *sorted, uint32_t n, double q)
{
	uint32_t i = (uint32_t)(q * (n - 1) + 0.5);

	return n == 0 ? 0 : sorted[i < n ? i : n - 1];
}

/*
 * --ping: one frame at a time through the backend, numbered; each waits
 * for the previous one to arrive (or GG_PING_TIMEOUT_MS: lost) and for
 * --gap-us of silence. What a backend that sleeps when idle costs the
 * first frame after a quiet period: the latency of each, tx to rx.
 */
static int
run_ping(const struct gg_params *p, struct rte_mempool *tx_pool)
{
	struct rte_mbuf *m, *rx[GG_MAX_BURST];
	const uint64_t hz = rte_get_timer_hz();
	uint64_t next_seq[GG_MAX_QUEUES] = { 0 }, lost = 0, late = 0, t0, now;
	struct gg_counts c;
	double *lat = calloc(p->ping, sizeof(double)), sum = 0;
	uint32_t n = 0, i;

	if (lat == NULL)
		return -ENOMEM;
	memset(&c, 0, sizeof(c));
	for (i = 0; i < p->ping && !gg_quit; i++) {
		uint64_t s = rte_cpu_to_le_64(i);
		bool got = false;

		m = rte_pktmbuf_alloc(tx_pool);
		if (m == NULL) {
			free(lat);
			return -ENOMEM;
		}
		m->data_len = m->pkt_len = p->size;
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, p->seq_off), &s, 8);
		t0 = rte_get_timer_cycles();
		while (rte_eth_tx_burst(p->tx_port, 0, &m, 1) == 0 && !gg_quit)
			;
		c.tx_pkts++;
		do {
			uint16_t nb = 0;

			for (uint16_t q = 0; q < p->queues; q++)
				nb += rte_eth_rx_burst(p->rx_port, q, rx + nb,
						       (uint16_t)(GG_MAX_BURST / p->queues));
			now = rte_get_timer_cycles();
			for (uint16_t k = 0; k < nb; k++) {
				uint64_t seq;

				memcpy(&seq, rte_pktmbuf_mtod_offset(rx[k], const uint8_t *,
								     p->seq_off), 8);
				seq = rte_le_to_cpu_64(seq);
				if (seq == i) {
					got = true;
					lat[n++] = (double)(now - t0) * 1e6 / (double)hz;
				} else {
					late++;   /* an earlier frame, counted lost already */
				}
			}
			rx_account(p, rx, nb, next_seq, &c);
		} while (!got && !gg_quit && now - t0 < hz / 1000 * GG_PING_TIMEOUT_MS);
		if (!got)
			lost++;
		if (p->gap_us != 0)
			rte_delay_us_sleep(p->gap_us);
	}
	for (i = 0; i < n; i++)
		sum += lat[i];
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("SUMMARY {\"mode\": \"ping\", \"size\": %u, \"gap_us\": %u, "
	       "\"sent\": %" PRIu64 ", \"received\": %u, \"lost\": %" PRIu64 ", "
	       "\"late\": %" PRIu64 ", \"lat_us_mean\": %.2f, \"lat_us_p50\": %.2f, "
	       "\"lat_us_p90\": %.2f, \"lat_us_p99\": %.2f, \"lat_us_max\": %.2f, "
	       "\"bad_pattern\": %" PRIu64 ", \"out_of_order\": %" PRIu64 "}\n",
	       p->size, p->gap_us, c.tx_pkts, n, lost, late, n ? sum / n : 0.0,
	       pctile(lat, n, 0.5), pctile(lat, n, 0.9), pctile(lat, n, 0.99),
	       pctile(lat, n, 1.0), c.bad_pattern, c.out_of_order);
	fflush(stdout);
	free(lat);
	if (p->check && (c.bad_pattern != 0 || c.out_of_order != 0))
		return -EIO;
	return lost != 0 ? -EIO : 0;
}

static int
run(const struct gg_params *p, struct rte_mempool *tx_pool)
{
	struct rte_mbuf *tx[GG_MAX_BURST], *rx[GG_MAX_BURST];
	struct gg_counts tot, prev;
	uint64_t hz = rte_get_timer_hz();
	uint64_t period = (uint64_t)(p->period_s * hz);
	uint64_t start, next, last, now, tx_nomem = 0;
	uint64_t seq[GG_MAX_QUEUES], next_rx_seq[GG_MAX_QUEUES];
	uint32_t txq = 0;
	struct gg_window win = { 0 };
	uint32_t n_periods = p->warmup + p->periods, done = 0, measured = 0;
	double *rx_pps, *tx_pps, *rx_bps, *rx_pay;
	uint16_t nb_tx, nb_rx, i;
	void *grown = NULL;

	rx_pps = calloc(p->periods, sizeof(double));
	tx_pps = calloc(p->periods, sizeof(double));
	rx_bps = calloc(p->periods, sizeof(double));
	rx_pay = calloc(p->periods, sizeof(double));
	if (rx_pps == NULL || tx_pps == NULL || rx_bps == NULL || rx_pay == NULL) {
		fprintf(stderr, "%s: out of memory\n", GG_NAME);
		free(rx_pps);
		free(tx_pps);
		free(rx_bps);
		free(rx_pay);
		return -ENOMEM;
	}
	memset(&tot, 0, sizeof(tot));
	prev = tot;
	for (i = 0; i < GG_MAX_QUEUES; i++)
		seq[i] = next_rx_seq[i] = (uint64_t)i << GG_SEQ_QSHIFT;
	start = last = rte_get_timer_cycles();
	next = start + period;

	while (!gg_quit && done < n_periods) {
		uint16_t want = tx_window(p, &tot, &win);

		if (want != 0 && rte_pktmbuf_alloc_bulk(tx_pool, tx, want) == 0) {
			for (i = 0; i < want; i++) {
				uint64_t s = rte_cpu_to_le_64(seq[txq] + i);

				tx[i]->data_len = p->size;
				tx[i]->pkt_len = p->size;
				memcpy(rte_pktmbuf_mtod_offset(tx[i], uint8_t *,
							       p->seq_off), &s, 8);
				if (p->tso_mss != 0)
					tso_request(tx[i], p->tso_mss);
			}
			nb_tx = want;
			/* the driver writes the pseudo-header checksum */
			if (p->tso_mss != 0)
				nb_tx = rte_eth_tx_prepare(p->tx_port, txq, tx, nb_tx);
			nb_tx = rte_eth_tx_burst(p->tx_port, txq, tx, nb_tx);
			/* Unsent frames are the tail: their numbers are reused. */
			if (nb_tx < want)
				rte_pktmbuf_free_bulk(tx + nb_tx, want - nb_tx);
			seq[txq] += nb_tx;
			txq = txq + 1 < p->queues ? txq + 1 : 0;
			tot.tx_pkts += nb_tx;
			tot.tx_bytes += (uint64_t)nb_tx * p->size;
		} else if (want != 0) {
			tx_nomem++;
		}

		for (uint16_t q = 0; q < p->queues; q++) {
			nb_rx = rte_eth_rx_burst(p->rx_port, q, rx, GG_MAX_BURST);
			rx_account(p, rx, nb_rx, next_rx_seq, &tot);
		}

		now = rte_get_timer_cycles();
		if (now < next)
			continue;
		{
			uint64_t cyc = now - last;
			double rpps = rate(tot.rx_pkts - prev.rx_pkts, cyc);
			double tpps = rate(tot.tx_pkts - prev.tx_pkts, cyc);
			double rbps = 8 * rate(tot.rx_bytes - prev.rx_bytes, cyc);
			double rpay = 8 * rate(tot.rx_payload - prev.rx_payload, cyc);
			bool warm = done < p->warmup;

			printf("period %u%s: rx %.0f pps %.3f Gbit/s | tx %.0f pps | "
			       "rx-total %" PRIu64 " tx-total %" PRIu64,
			       done + 1, warm ? " (warm-up)" : "", rpps, rbps / 1e9,
			       tpps, tot.rx_pkts, tot.tx_pkts);
			if (p->tso_mss != 0)
				printf(" | tcp payload %.3f Gbit/s", rpay / 1e9);
			printf("%s\n",
			       p->check && (tot.bad_pattern || tot.out_of_order) ?
			       " CHECK-FAILED" : "");
			fflush(stdout);
			if (!warm) {
				rx_pps[measured] = rpps;
				tx_pps[measured] = tpps;
				rx_bps[measured] = rbps;
				rx_pay[measured] = rpay;
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
		for (uint16_t q = 0; q < p->queues; q++) {
			nb_rx = rte_eth_rx_burst(p->rx_port, q, rx, GG_MAX_BURST);
			rx_account(p, rx, nb_rx, next_rx_seq, &tot);
		}
	}

	{
		double pps_sorted[measured ? measured : 1];
		double bps_sorted[measured ? measured : 1];
		double tx_sorted[measured ? measured : 1];
		double pay_sorted[measured ? measured : 1];
		double rmin = 0, rmax = 0;
		uint32_t k;

		memcpy(pps_sorted, rx_pps, measured * sizeof(double));
		memcpy(bps_sorted, rx_bps, measured * sizeof(double));
		memcpy(tx_sorted, tx_pps, measured * sizeof(double));
		memcpy(pay_sorted, rx_pay, measured * sizeof(double));
		printf("SUMMARY {\"size\": %u, \"burst\": %u, \"queues\": %u, "
		       "\"period_s\": %g, \"warmup_periods\": %u, \"periods\": %u, "
		       "\"interrupted\": %s, \"rx_pps\": [", p->size, p->burst, p->queues,
		       p->period_s, p->warmup, measured, gg_quit ? "true" : "false");
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
		       "\"tx_pps_median\": %.0f, \"tso_mss\": %u, "
		       "\"rx_payload_bps_median\": %.0f, ",
		       measured ? median(pps_sorted, measured) : 0, rmin, rmax,
		       measured ? median(bps_sorted, measured) : 0,
		       measured ? median(tx_sorted, measured) : 0, p->tso_mss,
		       measured ? median(pay_sorted, measured) : 0);
		printf("\"tx_pkts\": %" PRIu64 ", \"rx_pkts\": %" PRIu64
		       ", \"tx_bytes\": %" PRIu64 ", \"rx_bytes\": %" PRIu64
		       ", \"lost\": %" PRId64 ", \"tx_nomem\": %" PRIu64
		       ", \"check\": %s, \"bad_pattern\": %" PRIu64
		       ", \"out_of_order\": %" PRIu64 ", \"seq_gaps\": %" PRIu64
		       ", \"window_timeouts\": %" PRIu64 ", \"rx_gso\": %" PRIu64 "}\n",
		       tot.tx_pkts, tot.rx_pkts, tot.tx_bytes, tot.rx_bytes,
		       (int64_t)(tot.tx_pkts - tot.rx_pkts), tx_nomem,
		       p->check ? "true" : "false", tot.bad_pattern,
		       tot.out_of_order, tot.seq_gaps, win.timeouts, tot.rx_gso);
		fflush(stdout);
	}
	free(rx_pps);
	free(tx_pps);
	free(rx_bps);
	free(rx_pay);
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
	uint32_t tx_room, nb_mbufs, nb_tx_mbufs;
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
	nb_mbufs = 4 * 1024 * p.queues + 2 * GG_MAX_BURST + 512;
	tx_room = RTE_MAX((uint32_t)RTE_MBUF_DEFAULT_BUF_SIZE,
			  p.size + RTE_PKTMBUF_HEADROOM);
	/*
	 * A window bounds what is in flight: then the pool need not be bigger
	 * than a few windows. A TCP sender's data are in its socket buffer,
	 * recently written, not spread over a pool of hundreds of MB; a small
	 * pool keeps ours as warm (in the shared cache) as that.
	 */
	if (p.window_bytes != 0)
		nb_tx_mbufs = RTE_MIN(nb_mbufs, (uint32_t)(2 * (p.window_bytes /
				(p.size - p.seq_off) + 1) + GG_TX_LAG + 2 * p.burst +
				2 * GG_TX_CACHE));
	else
		nb_tx_mbufs = nb_mbufs;
	tx_pool = rte_pktmbuf_pool_create("gg_tx", nb_tx_mbufs,
					  p.window_bytes != 0 ? GG_TX_CACHE : 256, 0,
					  tx_room, rte_socket_id());
	rx_pool = rte_pktmbuf_pool_create("gg_rx", 2 * nb_mbufs, 256, 0,
					  GG_RX_DATA_ROOM, rte_socket_id());
	if (tx_pool == NULL || rx_pool == NULL) {
		fprintf(stderr, "%s: cannot create mbuf pools: %s (try a larger "
			"-m)\n", GG_NAME, rte_strerror(rte_errno));
		goto out;
	}
	rte_mempool_obj_iter(tx_pool, tx_buf_fill, &p);

	if (port_setup(p.tx_port, rx_pool, &p) != 0 ||
	    port_setup(p.rx_port, rx_pool, &p) != 0)
		goto out;
	printf("size %u burst %u period %g s warm-up %u periods %u check %s "
	       "tso %u lcore %u\n", p.size, p.burst, p.period_s, p.warmup,
	       p.periods, p.check ? "on" : "off", p.tso_mss, rte_lcore_id());
	fflush(stdout);
	if (wait_links(&p) != 0)
		goto out;
	printf("links up: sending\n");
	fflush(stdout);
	ret = p.ping != 0 ? run_ping(&p, tx_pool) : run(&p, tx_pool);
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
