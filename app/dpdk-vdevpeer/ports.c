/* SPDX-License-Identifier: BSD-3-Clause */
/* Port selection, set-up, link-state logging and teardown. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pmd_vdevpeer.h>

#include "app_params.h"
#include "offload.h"
#include "ports.h"
#include "quit.h"
#include "vdevpeer_app.h"

/* Per-lcore mbuf cache of the pools; DPDK's usual choice. */
#define APP_MBUF_CACHE 256

/*
 * Tx offloads enabled on each port (offload.c picks them from what the
 * device has), so that frames carrying offload requests can go out as they
 * are; the bridge completes the rest in software per egress port
 * (fwd_bridge.c), the other engines in offload_tx_sw (offload.c).
 */
static uint64_t tx_offloads[RTE_MAX_ETHPORTS];

uint64_t
ports_tx_offloads(uint16_t port)
{
	return port < RTE_MAX_ETHPORTS ? tx_offloads[port] : 0;
}

const char *
port_label(uint16_t port, char *buf, size_t len)
{
	const char *bind = rte_pmd_vdevpeer_bind_name(port);

	if (bind != NULL)
		snprintf(buf, len, "%s", bind);
	else if (rte_eth_dev_get_name_by_port(port, buf) != 0)
		snprintf(buf, len, "port%u", port);
	return buf;
}

static void
print_vdevpeer_features(uint16_t port, const char *label)
{
	struct rte_pmd_vdevpeer_info info;
	char feats[512];

	if (rte_pmd_vdevpeer_get_info(port, &info) != 0 || !info.running)
		return;
	rte_pmd_vdevpeer_features_str(info.negotiated, feats, sizeof(feats));
	printf("Port %u (%s): negotiated 0x%" PRIx64 " %s\n",
	       port, label, info.negotiated, feats);
}

const char *
port_role_name(enum port_role r)
{
	switch (r) {
	case PORT_ROLE_GUEST:
		return "guest";
	case PORT_ROLE_UPLINK:
		return "uplink";
	case PORT_ROLE_HOSTIF:
		return "host interface";
	default:
		return "other";
	}
}

int
ports_assign_roles(const struct app_params *p, struct app_ports *ap)
{
	char label[RTE_ETH_NAME_MAX_LEN];
	unsigned int i;
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		if (ap->role[port] == PORT_ROLE_HOSTIF)
			continue;
		ap->role[port] = rte_pmd_vdevpeer_is_vdevpeer(port) ?
				 PORT_ROLE_GUEST : PORT_ROLE_OTHER;
	}
	for (i = 0; i < p->nb_uplinks; i++) {
		if (ports_resolve(p->uplinks[i], &port) != 0) {
			fprintf(stderr, "%s: --uplink %s: no such port (a port id or "
				"ethdev name, e.g. 0000:02:00.0 or net_af_packet0)\n",
				APP_NAME, p->uplinks[i]);
			return -EINVAL;
		}
		if (ap->role[port] != PORT_ROLE_OTHER &&
		    ap->role[port] != PORT_ROLE_UPLINK) {
			fprintf(stderr, "%s: --uplink %s: port %u (%s) is a %s, "
				"not an uplink\n", APP_NAME, p->uplinks[i], port,
				port_label(port, label, sizeof(label)),
				port_role_name(ap->role[port]));
			return -EINVAL;
		}
		ap->role[port] = PORT_ROLE_UPLINK;
	}
	return 0;
}

void
ports_describe(const struct app_ports *ap)
{
	struct rte_eth_dev_info dev_info;
	struct rte_pmd_vdevpeer_info info;
	struct rte_ether_addr mac;
	char name[RTE_ETH_NAME_MAX_LEN];
	char macs[RTE_ETHER_ADDR_FMT_SIZE];
	uint16_t port;

	printf("Ports (%u):\n", rte_eth_dev_count_avail());
	RTE_ETH_FOREACH_DEV(port) {
		if (rte_eth_dev_get_name_by_port(port, name) != 0)
			snprintf(name, sizeof(name), "?");
		if (rte_eth_macaddr_get(port, &mac) == 0)
			rte_ether_format_addr(macs, sizeof(macs), &mac);
		else
			snprintf(macs, sizeof(macs), "?");
		if (rte_pmd_vdevpeer_get_info(port, &info) == 0) {
			printf("  port %u: %s: %s, vdevpeer bind %s, socket %s "
			       "(%s), mac %s, %s\n",
			       port, name, port_role_name(ap->role[port]),
			       info.bind, info.peer,
			       info.server ? "server" : "client", macs,
			       info.connected ? "connected" : "not connected");
			continue;
		}
		if (rte_eth_dev_info_get(port, &dev_info) != 0)
			dev_info.driver_name = "?";
		printf("  port %u: %s: %s, driver %s, mac %s, numa %d\n",
		       port, name, port_role_name(ap->role[port]),
		       dev_info.driver_name, macs,
		       rte_eth_dev_socket_id(port));
	}
	fflush(stdout);
}

/*
 * EAL logs a --vdev that fails to probe and carries on without it; a
 * service must not come up short of a port it was given. Ethdev vdevs are
 * the ones named net_* (or the older eth_*), and their port has the
 * device's name.
 */
int
ports_check_vdevs(int argc, char **argv)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	const char *val;
	uint16_t port;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--vdev") == 0 && i + 1 < argc)
			val = argv[++i];
		else if (strncmp(argv[i], "--vdev=", 7) == 0)
			val = argv[i] + 7;
		else
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(val, ","), val);
		if (strncmp(name, "net_", 4) != 0 && strncmp(name, "eth_", 4) != 0)
			continue;
		if (rte_eth_dev_get_port_by_name(name, &port) != 0) {
			fprintf(stderr, "%s: --vdev %s: the device did not come up "
				"(see the driver's message above)\n", APP_NAME, val);
			return -EINVAL;
		}
	}
	return 0;
}

static int
lsc_event(uint16_t port, enum rte_eth_event_type type, void *cb_arg,
	  void *ret_param)
{
	struct rte_eth_link link;
	char label[RTE_ETH_NAME_MAX_LEN];
	char link_str[RTE_ETH_LINK_MAX_STR_LEN];

	RTE_SET_USED(type);
	RTE_SET_USED(cb_arg);
	RTE_SET_USED(ret_param);
	port_label(port, label, sizeof(label));
	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(port, &link) != 0)
		snprintf(link_str, sizeof(link_str), "link state unknown");
	else
		rte_eth_link_to_str(link_str, sizeof(link_str), &link);
	printf("Port %u (%s): %s\n", port, label, link_str);
	if (link.link_status == RTE_ETH_LINK_UP)
		print_vdevpeer_features(port, label);
	fflush(stdout);
	return 0;
}

/* What the rings, the in-flight bursts and the lcore caches can hold. */

/* The PMD of port has rx interrupts the app can sleep on (fwd.c). */
bool
ports_rx_intr(uint16_t port)
{
	struct rte_eth_dev_info info;

	if (rte_pmd_vdevpeer_is_vdevpeer(port))
		return true;
	return rte_eth_dev_info_get(port, &info) == 0 && info.driver_name != NULL &&
	       strcmp(info.driver_name, "net_tap") == 0;
}


static unsigned int
mbufs_needed(const struct app_params *p, unsigned int nb_ports)
{
	return nb_ports * (p->nb_rxq + p->nb_txq) * (p->nb_desc + p->burst) +
	       rte_lcore_count() * (APP_MBUF_CACHE + APP_MAX_BURST);
}

static int
pools_create(const struct app_params *p, struct app_ports *ap)
{
	unsigned int per_socket[RTE_MAX_NUMA_NODES] = { 0 };
	unsigned int s, n, need;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t port;
	int socket;

	RTE_ETH_FOREACH_DEV(port) {
		if (!ap->used[port])
			continue;
		socket = rte_eth_dev_socket_id(port);
		per_socket[socket < 0 ? 0 : socket]++;
	}
	for (s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		if (per_socket[s] == 0)
			continue;
		need = mbufs_needed(p, per_socket[s]);
		if (p->nb_mbufs != 0) {
			n = p->nb_mbufs;
			if (n < need)
				printf("Warning: --mbufs %u is below the %u that the "
				       "rings of socket %u can hold\n", n, need, s);
		} else {
			n = RTE_MAX(need, (unsigned int)APP_DEFAULT_MBUFS);
		}
		snprintf(name, sizeof(name), "vdp_mbuf_s%u", s);
		ap->pools[s] = rte_pktmbuf_pool_create(name, n,
				RTE_MIN((unsigned int)APP_MBUF_CACHE, n * 2 / 3),
				0, RTE_MBUF_DEFAULT_BUF_SIZE, s);
		if (ap->pools[s] == NULL) {
			fprintf(stderr, "%s: cannot create a pool of %u mbufs on "
				"socket %u: %s (try --mbufs or more -m memory)\n",
				APP_NAME, n, s, rte_strerror(rte_errno));
			return -ENOMEM;
		}
		printf("Mbuf pool %s: %u mbufs of %u bytes, %u in use\n", name, n,
		       (unsigned int)RTE_MBUF_DEFAULT_BUF_SIZE,
		       rte_mempool_in_use_count(ap->pools[s]));
	}
	return 0;
}

struct rte_mempool *
ports_pool(const struct app_ports *ap, uint16_t port)
{
	int socket;

	if (port >= RTE_MAX_ETHPORTS)
		return NULL;
	if (ap->port_pool[port] != NULL)
		return ap->port_pool[port];
	socket = rte_eth_dev_socket_id(port);
	return ap->pools[socket < 0 ? 0 : socket];
}

/* A port that came after start-up (attach) gets a pool of its own. */
static int
port_pool_create(const struct app_params *p, struct app_ports *ap, uint16_t port)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int n = RTE_MAX(mbufs_needed(p, 1), (unsigned int)APP_DEFAULT_MBUFS / 2);
	int socket = rte_eth_dev_socket_id(port);
	static unsigned int seq;

	/* names must be unique for the process's life: pools are kept */
	snprintf(name, sizeof(name), "vdp_mbuf_p%u_%u", port, seq++);
	ap->port_pool[port] = rte_pktmbuf_pool_create(name, n,
			RTE_MIN((unsigned int)APP_MBUF_CACHE, n * 2 / 3), 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, socket < 0 ? 0 : socket);
	if (ap->port_pool[port] == NULL) {
		fprintf(stderr, "%s: port %u: cannot create a pool of %u mbufs: %s\n",
			APP_NAME, port, n, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	printf("Mbuf pool %s: %u mbufs for port %u\n", name, n, port);
	return 0;
}

int
port_setup(const struct app_params *p, struct app_ports *ap, uint16_t port)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info dev_info;
	struct rte_mempool *pool;
	char label[RTE_ETH_NAME_MAX_LEN];
	uint16_t nb_rxd = p->nb_desc, nb_txd = p->nb_desc, q;
	int socket = rte_eth_dev_socket_id(port);
	int ret;

	port_label(port, label, sizeof(label));
	pool = ports_pool(ap, port);
	if (pool == NULL) {
		ret = port_pool_create(p, ap, port);
		if (ret != 0)
			return ret;
		pool = ap->port_pool[port];
	}
	ret = rte_eth_dev_info_get(port, &dev_info);
	if (ret != 0) {
		fprintf(stderr, "%s: port %u (%s): no device info: %s\n",
			APP_NAME, port, label, strerror(-ret));
		return ret;
	}
	if (p->nb_rxq > dev_info.max_rx_queues || p->nb_txq > dev_info.max_tx_queues) {
		fprintf(stderr, "%s: --rxq %u / --txq %u: port %u (%s) has at most "
			"%u rx and %u tx queues\n", APP_NAME, p->nb_rxq, p->nb_txq,
			port, label, dev_info.max_rx_queues, dev_info.max_tx_queues);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	if (dev_info.dev_flags != NULL && (*dev_info.dev_flags & RTE_ETH_DEV_INTR_LSC))
		conf.intr_conf.lsc = 1;
	/* rx interrupts where the PMD has them, whatever the rx mode now:
	 * `set rx-mode` changes it while forwarding (fwd.c) */
	if (ports_rx_intr(port))
		conf.intr_conf.rxq = 1;
	offload_port_conf(port, &dev_info, &conf, pool);
	tx_offloads[port] = conf.txmode.offloads;
	ret = rte_eth_dev_configure(port, p->nb_rxq, p->nb_txq, &conf);
	if (ret != 0)
		goto fail;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (ret != 0)
		goto fail;
	for (q = 0; q < p->nb_rxq; q++) {
		ret = rte_eth_rx_queue_setup(port, q, nb_rxd, socket, NULL, pool);
		if (ret != 0)
			goto fail;
	}
	for (q = 0; q < p->nb_txq; q++) {
		ret = rte_eth_tx_queue_setup(port, q, nb_txd, socket, NULL);
		if (ret != 0)
			goto fail;
	}
	if (conf.intr_conf.lsc && !ap->lsc_cb[port]) {
		ret = rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_LSC,
						    lsc_event, NULL);
		if (ret != 0)
			goto fail;
		ap->lsc_cb[port] = true;
	}
	/* Forwarding must see frames for any MAC; not every PMD can filter. */
	ret = rte_eth_promiscuous_enable(port);
	if (ret != 0 && ret != -ENOTSUP)
		printf("Port %u (%s): promiscuous mode not set: %s\n",
		       port, label, strerror(-ret));
	if (p->mtu[port] != 0) {
		ret = rte_eth_dev_set_mtu(port, p->mtu[port]);
		if (ret != 0)
			goto fail;
	}
	ap->configured[port] = true;
	ret = rte_eth_dev_start(port);
	if (ret != 0)
		goto fail;
	ap->started[port] = true;
	printf("Port %u (%s): started, %u rxq x %u desc, %u txq x %u desc%s%s, "
	       "offloads rx 0x%" PRIx64 " tx 0x%" PRIx64 "\n",
	       port, label, p->nb_rxq, nb_rxd, p->nb_txq, nb_txd,
	       conf.intr_conf.lsc ? ", link events on" : "",
	       conf.intr_conf.rxq ? ", rx interrupts" : "",
	       conf.rxmode.offloads, conf.txmode.offloads);
	return 0;
fail:
	fprintf(stderr, "%s: port %u (%s): set-up failed: %s\n",
		APP_NAME, port, label, strerror(-ret));
	return ret;
}

int
ports_setup(const struct app_params *p, struct app_ports *ap)
{
	uint16_t port;
	int ret;

	rte_pmd_vdevpeer_set_numa_strict(p->numa_strict);
	ret = pools_create(p, ap);
	if (ret != 0)
		return ret;
	RTE_ETH_FOREACH_DEV(port) {
		if (!ap->used[port])
			continue;
		ret = port_setup(p, ap, port);
		if (ret != 0)
			return ret;
	}
	fflush(stdout);
	return 0;
}

void
ports_teardown(struct app_ports *ap)
{
	uint16_t ports[RTE_MAX_ETHPORTS];
	char label[RTE_ETH_NAME_MAX_LEN];
	unsigned int nb = 0, i, s;
	uint16_t port;
	int ret;

	/* Closing releases the port: take the list first. */
	RTE_ETH_FOREACH_DEV(port)
		ports[nb++] = port;
	for (i = 0; i < nb; i++) {
		port = ports[i];
		port_label(port, label, sizeof(label));
		if (ap->started[port]) {
			ret = rte_eth_dev_stop(port);
			if (ret != 0)
				printf("Port %u (%s): stop failed: %s\n",
				       port, label, strerror(-ret));
			ap->started[port] = false;
		}
		if (ap->lsc_cb[port]) {
			rte_eth_dev_callback_unregister(port, RTE_ETH_EVENT_INTR_LSC,
							lsc_event, NULL);
			ap->lsc_cb[port] = false;
		}
		ret = rte_eth_dev_close(port);
		if (ret != 0)
			printf("Port %u (%s): close failed: %s\n",
			       port, label, strerror(-ret));
		else
			printf("Port %u (%s): closed\n", port, label);
	}
	for (s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		rte_mempool_free(ap->pools[s]);
		ap->pools[s] = NULL;
	}
	for (s = 0; s < RTE_MAX_ETHPORTS; s++) {
		rte_mempool_free(ap->port_pool[s]);
		ap->port_pool[s] = NULL;
	}
	fflush(stdout);
}

static const char *
link_wait_state(uint16_t port, char *buf, size_t len)
{
	struct rte_pmd_vdevpeer_info info;

	if (rte_pmd_vdevpeer_get_info(port, &info) != 0)
		snprintf(buf, len, "down");
	else if (info.connected)
		snprintf(buf, len, "guest connected, driver not ready");
	else
		snprintf(buf, len, "%s %s", info.server ? "waiting for a guest on" :
			 "connecting to", info.peer);
	return buf;
}

int
ports_wait_links(const struct app_ports *ap, unsigned int timeout_s)
{
	struct rte_eth_link link;
	char label[RTE_ETH_NAME_MAX_LEN], state[320];
	uint64_t hz = rte_get_timer_hz(), start = rte_get_timer_cycles();
	uint64_t next = start;
	unsigned int down, elapsed;
	uint16_t port;

	for (;;) {
		down = 0;
		RTE_ETH_FOREACH_DEV(port) {
			if (!ap->used[port] || !ap->started[port])
				continue;
			memset(&link, 0, sizeof(link));
			rte_eth_link_get_nowait(port, &link);
			if (link.link_status != RTE_ETH_LINK_UP)
				down++;
		}
		elapsed = (unsigned int)((rte_get_timer_cycles() - start) / hz);
		if (down == 0) {
			if (next != start)   /* we said we were waiting */
				printf("All links up after %u s\n", elapsed);
			return 0;
		}
		if (rte_get_timer_cycles() >= next || elapsed >= timeout_s) {
			printf("Waiting for links (%u/%u s):", elapsed, timeout_s);
			RTE_ETH_FOREACH_DEV(port) {
				if (!ap->used[port] || !ap->started[port])
					continue;
				memset(&link, 0, sizeof(link));
				rte_eth_link_get_nowait(port, &link);
				printf(" %s %s;", port_label(port, label, sizeof(label)),
				       link.link_status == RTE_ETH_LINK_UP ? "up" :
				       link_wait_state(port, state, sizeof(state)));
			}
			printf("\n");
			fflush(stdout);
			next += hz;
		}
		if (elapsed >= timeout_s || app_quit_requested()) {
			printf("Links: %u still down after %u s: forwarding anyway\n",
			       down, elapsed);
			return -ETIMEDOUT;
		}
		rte_delay_us_sleep(50 * 1000);
	}
}

/* A port id, a net_vdevpeer bind name, or an ethdev name. */
int
ports_resolve(const char *tok, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (tok[0] == '\0')
		return -ENODEV;
	if (tok[0] >= '0' && tok[0] <= '9') {
		errno = 0;
		v = strtoul(tok, &end, 10);
		if (*end == '\0' && errno == 0) {
			if (v >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(v))
				return -ENODEV;
			*port = v;
			return 0;
		}
	}
	if (rte_pmd_vdevpeer_port_by_bind(tok, port) == 0)
		return 0;
	if (rte_eth_dev_get_port_by_name(tok, port) == 0)
		return 0;
	return -ENODEV;
}
