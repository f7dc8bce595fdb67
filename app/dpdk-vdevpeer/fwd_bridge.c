/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bridge: an L2 learning switch over every port (guests, host interfaces,
 * uplinks). Per frame: drop a bad or one of our own source MACs, learn the
 * source, then forward to the port where the destination was seen, or
 * flood (broadcast, multicast, unknown unicast) to every other member
 * whose link is up. Flood copies are rte_pktmbuf_clone()s: an indirect
 * mbuf per extra egress port on the same data, each freed by the port
 * that sends it. Never back out of the ingress port.
 *
 * Who runs what:
 *   - workers: bridge_stream_fwd() only. Each worker has its own context
 *     (struct bridge_lcore): its own tx queue on every port (queue = the
 *     worker's index), tx buffers and counters, written by it alone;
 *   - main lcore: init, tick (clock, link states, aging), stats, fini;
 *   - telemetry thread: /vdevpeer/bridge/{stats,macs}, read-only.
 * The MAC table is shared by all of them; see bridge.h for why its
 * lookups need no lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pmd_vdevpeer.h>
#include <rte_telemetry.h>

#include "bridge.h"
#include "app_params.h"
#include "fwd.h"
#include "fwd_bridge.h"
#include "ports.h"
#include "vdevpeer_app.h"

/* Frames buffered per egress port before a tx_burst (one burst's worth). */
#define BRIDGE_TXBUF 64
/* Segments of one frame segmented in software: as many as net_vdevpeer
 * lets a guest's GSO frame make (its RX drops frames of more). */
#define BRIDGE_SW_SEGS_MAX 1024

#define BRIDGE_TX_OL (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK | \
		      RTE_MBUF_F_TX_TCP_SEG)

/*
 * The bridge's counters, per port, declared once: (enum suffix, name in
 * `show bridge stats` and telemetry /vdevpeer/bridge/stats, meaning).
 * Ingress ones count frames that arrived on the port, egress ones frames
 * sent to it.
 */
#define BC_LIST(_) \
	_(RX, "rx", "frames received") \
	_(LEARNED, "learned", "source MACs learned") \
	_(MOVED, "moved", "source MACs moved here from another port") \
	_(FORWARDED, "forwarded", "known unicast, sent to one port") \
	_(FLOODED, "flooded", "broadcast, multicast or unknown unicast: sent to every member") \
	_(STATIC_KEPT, "static_kept", "source is static on another port: not moved") \
	_(LEARN_FULL, "learn_full", "source not learned: table full") \
	_(DROP_OWN_SRC, "drop_own_src", "source MAC is one of our ports' (loop or spoof)") \
	_(DROP_BAD_SRC, "drop_bad_src", "multicast or all-zero source MAC") \
	_(DROP_SAME_PORT, "drop_same_port", "destination is on the ingress port") \
	_(DROP_RUNT, "drop_runt", "shorter than an Ethernet header") \
	_(DROP_NO_MEMBER, "drop_no_member", "nowhere to flood to (every other port down)") \
	_(TX, "tx", "frames sent (egress)") \
	_(TX_DROP, "tx_drop", "not taken by the port's tx_burst (egress)") \
	_(TX_NO_CLONE, "tx_no_clone", "clone pool empty: a flood copy dropped (egress)") \
	_(SW_CSUM, "sw_csum", "frames whose checksums were completed in software, " \
	  "not segmented (egress)") \
	_(SW_GSO, "sw_gso", "TCP frames segmented in software, IPv4 or IPv6; their " \
	  "segments leave with complete checksums (egress)") \
	_(DROP_OFFLOAD, "drop_offload", \
	  "an offload the egress lacks that software could not do: offload fields " \
	  "that do not fit the frame, or no mbufs (egress)")

enum bridge_counter {
#define BC_X_(e, name, desc) BC_##e,
	BC_LIST(BC_X_)
#undef BC_X_
	BC_NB
};

static const char *const bc_names[BC_NB] = {
#define BC_X_(e, name, desc) name,
	BC_LIST(BC_X_)
#undef BC_X_
};

struct bridge_counters {
	uint64_t v[BC_NB];
};

struct bridge_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[BRIDGE_TXBUF];
};

struct bridge_lcore {
	uint16_t txq;
	struct bridge_counters c[RTE_MAX_ETHPORTS];
	struct bridge_txbuf tx[RTE_MAX_ETHPORTS];
	struct rte_mbuf *sw[BRIDGE_SW_SEGS_MAX];  /* tx_add_sw's output */
} __rte_cache_aligned;

static struct {
	struct bridge_table *table;
	struct rte_mempool *clone_pool;
	struct rte_mempool *pool;
	uint64_t hz;
	uint32_t now;                        /* seconds; written by main */
	uint32_t last_aging;
	uint64_t aged;                       /* main lcore only */
	bool member[RTE_MAX_ETHPORTS];
	bool up[RTE_MAX_ETHPORTS];           /* written by main (tick) */
	enum port_role role[RTE_MAX_ETHPORTS];
	uint64_t own_mac[RTE_MAX_ETHPORTS];  /* each member's own MAC */
	uint64_t tx_capa[RTE_MAX_ETHPORTS];  /* RTE_ETH_TX_OFFLOAD_* enabled */
	uint16_t members[RTE_MAX_ETHPORTS];
	unsigned int nb_members;
	uint16_t flood[RTE_MAX_ETHPORTS][RTE_MAX_ETHPORTS];
	unsigned int nb_flood[RTE_MAX_ETHPORTS];
	struct bridge_lcore *lcore[RTE_MAX_LCORE];
	bool running;
} br;

static inline void
bc_inc(struct bridge_lcore *lc, uint16_t port, enum bridge_counter c)
{
	fwd_counter_add(&lc->c[port].v[c], 1);
}

static uint64_t
bc_sum(uint16_t port, enum bridge_counter c)
{
	uint64_t n = 0;
	unsigned int l;

	for (l = 0; l < RTE_MAX_LCORE; l++)
		if (br.lcore[l] != NULL)
			n += fwd_counter_read(&br.lcore[l]->c[port].v[c]);
	return n;
}

/* ---- data path (workers) ------------------------------------------------- */

static void
tx_flush(struct bridge_lcore *lc, uint16_t out)
{
	struct bridge_txbuf *b = &lc->tx[out];
	uint16_t sent;

	sent = rte_eth_tx_burst(out, lc->txq, b->pkts, b->n);
	if (sent != 0)
		fwd_counter_add(&lc->c[out].v[BC_TX], sent);
	if (unlikely(sent < b->n)) {
		fwd_counter_add(&lc->c[out].v[BC_TX_DROP], b->n - sent);
		rte_pktmbuf_free_bulk(&b->pkts[sent], b->n - sent);
	}
	b->n = 0;
}

static inline void
tx_add(struct bridge_lcore *lc, uint16_t out, struct rte_mbuf *m)
{
	struct bridge_txbuf *b = &lc->tx[out];

	b->pkts[b->n++] = m;
	if (b->n == BRIDGE_TXBUF)
		tx_flush(lc, out);
}

/*
 * Can port out take frame flags ol as they are? A TCP segmentation request
 * needs TCP_TSO only (a port that segments fills the checksums of its
 * segments); the rest, each checksum asked for. The same rules as the
 * PMD's software fallback (rte_pmd_vdevpeer_tx_sw_offload), so that what
 * is not ok here is exactly what it does in software.
 */
static inline bool
offload_ok(uint16_t out, uint64_t ol)
{
	uint64_t capa = br.tx_capa[out];
	uint64_t l4 = ol & RTE_MBUF_F_TX_L4_MASK;

	if (ol & RTE_MBUF_F_TX_TCP_SEG)
		return capa & RTE_ETH_TX_OFFLOAD_TCP_TSO;
	if ((ol & RTE_MBUF_F_TX_IP_CKSUM) && !(capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM))
		return false;
	if (l4 == RTE_MBUF_F_TX_TCP_CKSUM)
		return capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	if (l4 == RTE_MBUF_F_TX_UDP_CKSUM)
		return capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	return l4 == 0;
}

/*
 * What frame m asks of port out that the port lacks, in software, by the
 * PMD's helper (the io engines use it too, offload.c): TCP segmentation
 * over IPv4 or IPv6 into new mbufs with complete checksums, or the
 * checksums completed in place (on a private copy when m is a flood clone
 * sharing its data, or its headers lie in a guest's memory). Flags the
 * port handles stay set. Counted once per frame: sw_gso, sw_csum, or
 * drop_offload when it cannot be done (m is freed then).
 */
static void
tx_add_sw(struct bridge_lcore *lc, uint16_t out, struct rte_mbuf *m)
{
	const uint64_t ol = m->ol_flags, l4 = ol & RTE_MBUF_F_TX_L4_MASK;
	const bool seg = (ol & RTE_MBUF_F_TX_TCP_SEG) != 0;
	uint16_t n, i;

	/* SCTP: never asked for by net_vdevpeer, not done in software */
	if (!seg && l4 != 0 && l4 != RTE_MBUF_F_TX_TCP_CKSUM &&
	    l4 != RTE_MBUF_F_TX_UDP_CKSUM) {
		rte_pktmbuf_free(m);
		bc_inc(lc, out, BC_DROP_OFFLOAD);
		return;
	}
	if (unlikely(br.pool == NULL)) {     /* no pool for segments, copies */
		rte_pktmbuf_free(m);
		bc_inc(lc, out, BC_DROP_OFFLOAD);
		return;
	}
	n = rte_pmd_vdevpeer_tx_sw_offload(m, br.tx_capa[out], br.pool, lc->sw,
					   RTE_DIM(lc->sw));
	if (n == 0) {
		bc_inc(lc, out, BC_DROP_OFFLOAD);
		return;
	}
	bc_inc(lc, out, seg ? BC_SW_GSO : BC_SW_CSUM);
	for (i = 0; i < n; i++)
		tx_add(lc, out, lc->sw[i]);
}

static inline void
egress(struct bridge_lcore *lc, uint16_t out, struct rte_mbuf *m)
{
	uint64_t ol = m->ol_flags & BRIDGE_TX_OL;

	if (likely(ol == 0) || offload_ok(out, ol))
		tx_add(lc, out, m);
	else
		tx_add_sw(lc, out, m);
}

static void
flood(struct bridge_lcore *lc, uint16_t in, struct rte_mbuf *m)
{
	const uint16_t *list = br.flood[in];
	uint16_t outs[RTE_MAX_ETHPORTS];
	unsigned int n = br.nb_flood[in], k = 0, j;

	for (j = 0; j < n; j++)
		if (__atomic_load_n(&br.up[list[j]], __ATOMIC_RELAXED))
			outs[k++] = list[j];
	if (k == 0) {
		bc_inc(lc, in, BC_DROP_NO_MEMBER);
		rte_pktmbuf_free(m);
		return;
	}
	bc_inc(lc, in, BC_FLOODED);
	for (j = 0; j + 1 < k; j++) {
		struct rte_mbuf *c = rte_pktmbuf_clone(m, br.clone_pool);

		if (unlikely(c == NULL)) {
			bc_inc(lc, outs[j], BC_TX_NO_CLONE);
			continue;
		}
		egress(lc, outs[j], c);
	}
	egress(lc, outs[k - 1], m);
}

static inline bool
is_own_mac(uint64_t mac)
{
	unsigned int i;

	for (i = 0; i < br.nb_members; i++)
		if (br.own_mac[br.members[i]] == mac)
			return true;
	return false;
}

static inline void
bridge_one(struct bridge_lcore *lc, uint16_t in, struct rte_mbuf *m, uint32_t now)
{
	const struct rte_ether_hdr *eth;
	uint64_t src, dst;
	uint16_t out;

	if (unlikely(rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN)) {
		bc_inc(lc, in, BC_DROP_RUNT);
		rte_pktmbuf_free(m);
		return;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	src = bridge_mac64(eth->src_addr.addr_bytes);
	dst = bridge_mac64(eth->dst_addr.addr_bytes);
	if (unlikely(src == 0 || bridge_mac_is_group(src))) {
		bc_inc(lc, in, BC_DROP_BAD_SRC);
		rte_pktmbuf_free(m);
		return;
	}
	/* Our own MAC coming in is a loop or a spoof, except from a host
	 * interface: there the kernel sends with its (= the port's) MAC. */
	if (unlikely(is_own_mac(src)) &&
	    !(br.role[in] == PORT_ROLE_HOSTIF && src == br.own_mac[in])) {
		bc_inc(lc, in, BC_DROP_OWN_SRC);
		rte_pktmbuf_free(m);
		return;
	}
	switch (bridge_mac_learn(br.table, src, in, now)) {
	case BRIDGE_LEARN_NEW:
		bc_inc(lc, in, BC_LEARNED);
		break;
	case BRIDGE_LEARN_MOVED:
		bc_inc(lc, in, BC_MOVED);
		break;
	case BRIDGE_LEARN_STATIC:
		bc_inc(lc, in, BC_STATIC_KEPT);
		break;
	case BRIDGE_LEARN_FULL:
		bc_inc(lc, in, BC_LEARN_FULL);
		break;
	default:
		break;
	}
	if (bridge_mac_is_group(dst)) {
		flood(lc, in, m);
		return;
	}
	out = bridge_mac_lookup(br.table, dst);
	if (out == BRIDGE_NO_PORT || out >= RTE_MAX_ETHPORTS || !br.member[out]) {
		flood(lc, in, m);
		return;
	}
	if (out == in) {
		bc_inc(lc, in, BC_DROP_SAME_PORT);
		rte_pktmbuf_free(m);
		return;
	}
	bc_inc(lc, in, BC_FORWARDED);
	egress(lc, out, m);
}

static void
bridge_stream_fwd(struct fwd_stream *fs)
{
	struct rte_mbuf *pkts[APP_MAX_BURST];
	struct bridge_lcore *lc = br.lcore[rte_lcore_id()];
	uint32_t now = __atomic_load_n(&br.now, __ATOMIC_RELAXED);
	uint16_t nb, i;
	unsigned int j;

	nb = fwd_stream_rx(fs, pkts);
	if (nb == 0)
		return;
	fwd_counter_add(&lc->c[fs->rx_port].v[BC_RX], nb);
	for (i = 0; i < nb; i++) {
		if (i + 1 < nb)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		bridge_one(lc, fs->rx_port, pkts[i], now);
	}
	for (j = 0; j < br.nb_members; j++)
		if (lc->tx[br.members[j]].n != 0)
			tx_flush(lc, br.members[j]);
}

/* ---- control (main lcore) ------------------------------------------------ */

struct bridge_table *
fwd_bridge_table(void)
{
	return __atomic_load_n(&br.running, __ATOMIC_ACQUIRE) ? br.table : NULL;
}

uint32_t
fwd_bridge_now(void)
{
	return __atomic_load_n(&br.now, __ATOMIC_RELAXED);
}

static uint32_t
clock_s(void)
{
	return (uint32_t)(rte_get_timer_cycles() / br.hz);
}

static int
check_macs(const struct app_ports *ap)
{
	char la[RTE_ETH_NAME_MAX_LEN], lb[RTE_ETH_NAME_MAX_LEN], macs[32];
	unsigned int i, j;

	for (i = 0; i < br.nb_members; i++) {
		uint16_t a = br.members[i];

		for (j = i + 1; j < br.nb_members; j++) {
			uint16_t b = br.members[j];

			if (br.own_mac[a] != br.own_mac[b])
				continue;
			bridge_mac_format(br.own_mac[a], macs, sizeof(macs));
			fprintf(stderr, "%s: --fwd bridge: ports %u (%s) and %u (%s) "
				"have the same MAC %s; MACs must be unique in a "
				"bridge segment (set mac= on the net_vdevpeer devargs)\n",
				APP_NAME, a, port_label(a, la, sizeof(la)), b,
				port_label(b, lb, sizeof(lb)), macs);
			return -EINVAL;
		}
		/* Guests: the PMD warns already. Host interfaces are ours too. */
		if (ap->role[a] == PORT_ROLE_HOSTIF &&
		    !((br.own_mac[a] >> 40) & 0x02)) {
			bridge_mac_format(br.own_mac[a], macs, sizeof(macs));
			printf("Warning: port %u (%s): MAC %s is not locally "
			       "administered\n", a, port_label(a, la, sizeof(la)), macs);
		}
	}
	return 0;
}

static int
add_static(const struct app_params *p)
{
	char name[RTE_ETH_NAME_MAX_LEN], m[32];
	unsigned int i;
	uint64_t mac;
	uint16_t port;
	int ret;

	for (i = 0; i < p->nb_bridge_macs; i++) {
		const char *spec = p->bridge_macs[i];
		const char *at = strrchr(spec, '@');

		snprintf(m, sizeof(m), "%.*s", (int)(at - spec), spec);
		snprintf(name, sizeof(name), "%s", at + 1);
		if (bridge_mac_parse(m, &mac) != 0)
			return -EINVAL;   /* checked by params.c */
		if (ports_resolve(name, &port) != 0 || !br.member[port]) {
			fprintf(stderr, "%s: --bridge-mac %s: '%s' is not a bridge "
				"port\n", APP_NAME, spec, name);
			return -EINVAL;
		}
		if (is_own_mac(mac)) {
			fprintf(stderr, "%s: --bridge-mac %s: %s is the MAC of one of "
				"the bridge's own ports\n", APP_NAME, spec, m);
			return -EINVAL;
		}
		ret = bridge_mac_add(br.table, mac, port, true, clock_s());
		if (ret != 0) {
			fprintf(stderr, "%s: --bridge-mac %s: %s\n", APP_NAME, spec,
				ret == -ENOSPC ? "MAC table full (--bridge-entries)" :
				strerror(-ret));
			return ret == -ENOSPC ? -EINVAL : ret;
		}
	}
	return 0;
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d);
static int tel_macs(const char *cmd, const char *params, struct rte_tel_data *d);

static int
bridge_init(struct app_params *p, const struct app_ports *ap)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_ether_addr mac;
	unsigned int nb_workers = 0, lcore, i, j, n;
	int socket, ret;
	uint16_t port;

	/* A previous run's leftovers (see bridge_fini) go now. */
	for (i = 0; i < RTE_MAX_LCORE; i++)
		rte_free(br.lcore[i]);
	bridge_table_free(br.table);
	memset(&br, 0, sizeof(br));
	br.hz = rte_get_timer_hz();
	RTE_ETH_FOREACH_DEV(port) {
		if (!ap->used[port])
			continue;
		br.member[port] = true;
		br.up[port] = true;
		br.role[port] = ap->role[port];
		br.members[br.nb_members++] = port;
		if (rte_eth_macaddr_get(port, &mac) == 0)
			br.own_mac[port] = bridge_mac64(mac.addr_bytes);
	}
	ret = check_macs(ap);
	if (ret != 0)
		return ret;
	for (i = 0; i < br.nb_members; i++)
		for (j = 0; j < br.nb_members; j++)
			if (i != j)
				br.flood[br.members[i]][br.nb_flood[br.members[i]]++] =
					br.members[j];
	br.table = bridge_table_create(p->bridge_entries);
	if (br.table == NULL) {
		fprintf(stderr, "%s: cannot allocate a MAC table of %u entries\n",
			APP_NAME, p->bridge_entries);
		return -ENOMEM;
	}
	bridge_set_aging(br.table, p->bridge_aging);
	ret = add_static(p);
	if (ret != 0)
		goto fail;
	/* Every worker sends on every port: one tx queue each. */
	RTE_LCORE_FOREACH_WORKER(lcore) {
		br.lcore[lcore] = rte_zmalloc_socket("bridge_lcore", sizeof(struct bridge_lcore),
						     RTE_CACHE_LINE_SIZE,
						     rte_lcore_to_socket_id(lcore));
		if (br.lcore[lcore] == NULL) {
			ret = -ENOMEM;
			fprintf(stderr, "%s: bridge: out of memory\n", APP_NAME);
			goto fail;
		}
		br.lcore[lcore]->txq = nb_workers++;
	}
	if (p->nb_txq < nb_workers) {
		printf("Bridge: %u tx queues per port (one per worker lcore)\n",
		       nb_workers);
		p->nb_txq = nb_workers;
	}
	/* Clones in flight: every tx ring full of them, plus the bursts. */
	n = br.nb_members * p->nb_txq * p->nb_desc +
	    nb_workers * (APP_MAX_BURST + BRIDGE_TXBUF) * br.nb_members + 1024;
	socket = rte_socket_id();
	snprintf(name, sizeof(name), "vdp_clone_s%d", socket);
	br.clone_pool = rte_mempool_lookup(name);       /* from a previous run */
	if (br.clone_pool == NULL)
		br.clone_pool = rte_pktmbuf_pool_create(name, n, 256, 0, 0, socket);
	if (br.clone_pool == NULL) {
		fprintf(stderr, "%s: bridge: cannot create a pool of %u clone "
			"mbufs: %s\n", APP_NAME, n, rte_strerror(rte_errno));
		ret = -ENOMEM;
		goto fail;
	}
	br.now = clock_s();
	br.last_aging = br.now;
	__atomic_store_n(&br.running, true, __ATOMIC_RELEASE);
	{
		static bool tel_done;

		if (!tel_done) {
			rte_telemetry_register_cmd("/vdevpeer/bridge/stats", tel_stats,
				"Bridge counters per port. No parameters");
			rte_telemetry_register_cmd("/vdevpeer/bridge/macs", tel_macs,
				"Bridge MAC table (first 200). No parameters");
			tel_done = true;
		}
	}
	printf("Bridge: %u members, MAC table of %u entries, aging %u s%s, "
	       "%u static\n", br.nb_members, bridge_table_capacity(br.table),
	       p->bridge_aging, p->bridge_aging == 0 ? " (never)" : "",
	       p->nb_bridge_macs);
	return 0;
fail:
	bridge_table_free(br.table);
	br.table = NULL;
	return ret;
}

/* After ports_setup: the pools exist and tx offloads are known. Lazily,
 * on the first tick (before it, no frame asks for software offload). */
static void
bridge_late_init(void)
{
	unsigned int i;
	uint16_t port;

	for (i = 0; i < br.nb_members; i++) {
		port = br.members[i];
		br.tx_capa[port] = ports_tx_offloads(port);
	}
	if (br.pool == NULL) {
		char name[RTE_MEMPOOL_NAMESIZE];
		unsigned int s;

		/* ports.c's pool of the main lcore's socket, else any of its
		 * pools (the ports may all be on another socket) */
		snprintf(name, sizeof(name), "vdp_mbuf_s%u", rte_socket_id());
		br.pool = rte_mempool_lookup(name);
		for (s = 0; br.pool == NULL && s < RTE_MAX_NUMA_NODES; s++) {
			snprintf(name, sizeof(name), "vdp_mbuf_s%u", s);
			br.pool = rte_mempool_lookup(name);
		}
	}
}

static void
bridge_tick(void)
{
	struct rte_eth_link link;
	uint32_t now = clock_s();
	unsigned int i;

	if (br.pool == NULL)
		bridge_late_init();
	__atomic_store_n(&br.now, now, __ATOMIC_RELAXED);
	for (i = 0; i < br.nb_members; i++) {
		uint16_t port = br.members[i];
		bool up = true;

		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(port, &link) == 0)
			up = link.link_status == RTE_ETH_LINK_UP;
		__atomic_store_n(&br.up[port], up, __ATOMIC_RELAXED);
	}
	if (now != br.last_aging) {
		br.last_aging = now;
		__atomic_store_n(&br.aged, br.aged + bridge_age(br.table, now),
				 __ATOMIC_RELAXED);
	}
}

static void
bridge_stats(bool final)
{
	char label[RTE_ETH_NAME_MAX_LEN], macs[32];
	static const enum bridge_counter cols[] = {
		BC_RX, BC_LEARNED, BC_MOVED, BC_FORWARDED, BC_FLOODED, BC_TX,
		BC_TX_DROP, BC_DROP_OWN_SRC, BC_DROP_BAD_SRC, BC_DROP_SAME_PORT,
	};
	unsigned int i, j, n;

	printf("Bridge: %u MACs (of %u), aging %u s, aged %" PRIu64 "\n",
	       bridge_table_count(br.table), bridge_table_capacity(br.table),
	       bridge_get_aging(br.table), br.aged);
	printf("  %-4s %-16s %-7s", "port", "name", "role");
	for (j = 0; j < RTE_DIM(cols); j++)
		printf(" %14s", bc_names[cols[j]]);
	printf("\n");
	for (i = 0; i < br.nb_members; i++) {
		uint16_t port = br.members[i];

		printf("  %-4u %-16.16s %-7.7s", port,
		       port_label(port, label, sizeof(label)),
		       port_role_name(br.role[port]));
		for (j = 0; j < RTE_DIM(cols); j++)
			printf(" %14" PRIu64, bc_sum(port, cols[j]));
		printf("\n");
		if (!final)
			continue;
		for (j = 0; j < BC_NB; j++) {
			uint64_t v = bc_sum(port, j);

			if (v != 0)
				printf("      %-16s %" PRIu64 "\n", bc_names[j], v);
		}
	}
	if (final) {
		struct bridge_entry e[64];

		n = bridge_mac_dump(br.table, fwd_bridge_now(), e, RTE_DIM(e));
		printf("Bridge MAC table (%u):\n", n);
		for (i = 0; i < n && i < RTE_DIM(e); i++) {
			bridge_mac_format(e[i].mac, macs, sizeof(macs));
			printf("  %s port %u (%s)%s age %u s\n", macs, e[i].port,
			       port_label(e[i].port, label, sizeof(label)),
			       e[i].is_static ? " static" : "", e[i].age);
		}
	}
	fflush(stdout);
}

/*
 * Stop answering telemetry and console calls. The per-lcore contexts and
 * the table stay allocated (a telemetry call may still be reading them);
 * the next init or the process's exit frees them. The clone pool stays
 * too: the ports' rings may hold clones until the ports are closed.
 */
static void
bridge_fini(void)
{
	__atomic_store_n(&br.running, false, __ATOMIC_RELEASE);
}

/* ---- telemetry (telemetry thread; reads only) ---------------------------- */

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char label[RTE_ETH_NAME_MAX_LEN];
	unsigned int i, j;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (!__atomic_load_n(&br.running, __ATOMIC_ACQUIRE))
		return -ENODEV;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "macs", bridge_table_count(br.table));
	rte_tel_data_add_dict_u64(d, "aging", bridge_get_aging(br.table));
	rte_tel_data_add_dict_u64(d, "aged", __atomic_load_n(&br.aged, __ATOMIC_RELAXED));
	for (i = 0; i < br.nb_members; i++) {
		uint16_t port = br.members[i];
		struct rte_tel_data *pd = rte_tel_data_alloc();

		if (pd == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(pd);
		rte_tel_data_add_dict_u64(pd, "port", port);
		for (j = 0; j < BC_NB; j++)
			rte_tel_data_add_dict_u64(pd, bc_names[j], bc_sum(port, j));
		rte_tel_data_add_dict_container(d, port_label(port, label, sizeof(label)),
						pd, 0);
	}
	return 0;
}

static int
tel_macs(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct bridge_entry e[200];
	char s[96], macs[32];
	unsigned int i, n;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (!__atomic_load_n(&br.running, __ATOMIC_ACQUIRE))
		return -ENODEV;
	n = bridge_mac_dump(br.table, fwd_bridge_now(), e, RTE_DIM(e));
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (i = 0; i < n && i < RTE_DIM(e); i++) {
		bridge_mac_format(e[i].mac, macs, sizeof(macs));
		snprintf(s, sizeof(s), "%s %u %s %u", macs, e[i].port,
			 e[i].is_static ? "static" : "dynamic", e[i].age);
		rte_tel_data_add_array_string(d, s);
	}
	return 0;
}

const struct fwd_engine fwd_bridge_engine = {
	.name = "bridge",
	.help = "L2 learning switch over all ports (guests, host interfaces, uplinks)",
	.needs_pairs = false,
	.no_pairs = true,
	.rx_sink = "bridge",
	.stream_fwd = bridge_stream_fwd,
	.init = bridge_init,
	.tick = bridge_tick,
	.stats = bridge_stats,
	.fini = bridge_fini,
};

void
fwd_bridge_counters_markdown(FILE *f)
{
	static const char *const descs[BC_NB] = {
#define BC_X_(e, name, desc) desc,
		BC_LIST(BC_X_)
#undef BC_X_
	};

	fprintf(f, "\n### Bridge counters (`--fwd bridge`)\n\n");
	fprintf(f, "Per port, in `show bridge stats` and telemetry "
		"`/vdevpeer/bridge/stats`.\n\n");
	fprintf(f, "| counter | what it counts |\n|---|---|\n");
	for (int i = 0; i < BC_NB; i++)
		fprintf(f, "| `%s` | %s |\n", bc_names[i], descs[i]);
}
