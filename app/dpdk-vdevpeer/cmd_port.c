/* SPDX-License-Identifier: BSD-3-Clause */
/* Console topic "port": show, clear, configure, stop/start/close, attach/detach. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_pmd_vdevpeer.h>

#include "console.h"
#include "control.h"
#include "ports.h"
#include "stats.h"

/* Rates in `show port stats` are since the previous show of that port. */
static struct {
	uint64_t ipackets, opackets, ibytes, obytes, tsc;
} shown[RTE_MAX_ETHPORTS];

typedef void (*port_fn)(uint16_t port);

/* Run fn on one port, or on every port for "all". */
static void
for_ports(const char *word, port_fn fn)
{
	uint16_t port;

	if (strcmp(word, "all") == 0) {
		RTE_ETH_FOREACH_DEV(port)
			fn(port);
		return;
	}
	if (con_port(word, &port) == 0)
		fn(port);
}

static const char *
port_state(uint16_t port)
{
	if (!app.ports.used[port])
		return "not used (port start sets it up)";
	return app.ports.started[port] ? "started" : "stopped";
}

static void
show_info(uint16_t port)
{
	struct rte_eth_dev_info di;
	struct rte_eth_link link;
	struct rte_ether_addr mac;
	struct rte_pmd_vdevpeer_info vi;
	char name[RTE_ETH_NAME_MAX_LEN], label[RTE_ETH_NAME_MAX_LEN];
	char macs[RTE_ETHER_ADDR_FMT_SIZE], links[RTE_ETH_LINK_MAX_STR_LEN];
	uint16_t mtu = 0;

	memset(&di, 0, sizeof(di));
	memset(&link, 0, sizeof(link));
	if (rte_eth_dev_get_name_by_port(port, name) != 0)
		snprintf(name, sizeof(name), "?");
	rte_eth_dev_info_get(port, &di);
	rte_eth_link_get_nowait(port, &link);
	rte_eth_link_to_str(links, sizeof(links), &link);
	if (rte_eth_macaddr_get(port, &mac) == 0)
		rte_ether_format_addr(macs, sizeof(macs), &mac);
	else
		snprintf(macs, sizeof(macs), "?");
	rte_eth_dev_get_mtu(port, &mtu);
	printf("Port %u (%s)\n", port, port_label(port, label, sizeof(label)));
	printf("  name %s, driver %s, numa %d, %s\n", name,
	       di.driver_name != NULL ? di.driver_name : "?",
	       rte_eth_dev_socket_id(port), port_state(port));
	printf("  link %s\n", links);
	printf("  mac %s, mtu %u (%u..%u), promiscuous %s\n", macs, mtu, di.min_mtu,
	       di.max_mtu, rte_eth_promiscuous_get(port) == 1 ? "on" : "off");
	printf("  queues: %u rx / %u tx in use, at most %u / %u\n",
	       di.nb_rx_queues, di.nb_tx_queues, di.max_rx_queues, di.max_tx_queues);
	if (rte_pmd_vdevpeer_get_info(port, &vi) == 0)
		printf("  guest: socket %s (%s), %s (show peer %u for more)\n", vi.peer,
		       vi.server ? "server" : "client",
		       vi.running ? "running" : vi.connected ? "connected" : "waiting",
		       port);
}

static uint64_t
per_sec(uint64_t now, uint64_t then, uint64_t cycles)
{
	if (cycles == 0 || now < then)
		return 0;
	return (uint64_t)((double)(now - then) * rte_get_timer_hz() / cycles);
}

static void
show_stats(uint16_t port)
{
	struct rte_eth_stats st;
	char label[RTE_ETH_NAME_MAX_LEN];
	uint64_t now = rte_get_timer_cycles(), cycles;

	memset(&st, 0, sizeof(st));
	if (rte_eth_stats_get(port, &st) != 0) {
		con_err("port %u: no statistics", port);
		return;
	}
	cycles = shown[port].tsc != 0 ? now - shown[port].tsc : 0;
	printf("Port %u (%s)\n", port, port_label(port, label, sizeof(label)));
	printf("  rx: packets %" PRIu64 " bytes %" PRIu64 " missed %" PRIu64
	       " no-mbuf %" PRIu64 " errors %" PRIu64 "\n",
	       st.ipackets, st.ibytes, st.imissed, st.rx_nombuf, st.ierrors);
	printf("  tx: packets %" PRIu64 " bytes %" PRIu64 " errors %" PRIu64
	       " fwd-drops %" PRIu64 "\n", st.opackets, st.obytes, st.oerrors,
	       fwd_tx_drops(&app.fc, port));
	if (cycles != 0)
		printf("  since last show: rx %" PRIu64 " pps %" PRIu64 " bit/s, "
		       "tx %" PRIu64 " pps %" PRIu64 " bit/s\n",
		       per_sec(st.ipackets, shown[port].ipackets, cycles),
		       8 * per_sec(st.ibytes, shown[port].ibytes, cycles),
		       per_sec(st.opackets, shown[port].opackets, cycles),
		       8 * per_sec(st.obytes, shown[port].obytes, cycles));
	shown[port].ipackets = st.ipackets;
	shown[port].opackets = st.opackets;
	shown[port].ibytes = st.ibytes;
	shown[port].obytes = st.obytes;
	shown[port].tsc = now;
}

static void
show_xstats(uint16_t port)
{
	char label[RTE_ETH_NAME_MAX_LEN];

	printf("Port %u (%s)\n", port, port_label(port, label, sizeof(label)));
	stats_print_xstats(port, true);
}

static void
cmd_show_port(int argc, char **argv)
{
	const char *what = argv[2];

	RTE_SET_USED(argc);
	if (strcmp(what, "info") == 0)
		for_ports(argv[3], show_info);
	else if (strcmp(what, "stats") == 0)
		for_ports(argv[3], show_stats);
	else
		for_ports(argv[3], show_xstats);
}

static void
clear_stats(uint16_t port)
{
	char label[RTE_ETH_NAME_MAX_LEN];
	int ret = rte_eth_stats_reset(port);

	if (ret == 0)
		rte_eth_xstats_reset(port);
	if (ret != 0) {
		con_err("port %u: cannot clear statistics: %s", port, strerror(-ret));
		return;
	}
	memset(&shown[port], 0, sizeof(shown[port]));
	stats_snap_port(port);
	printf("Port %u (%s): statistics cleared\n", port,
	       port_label(port, label, sizeof(label)));
}

static void
cmd_clear_port_stats(int argc, char **argv)
{
	for_ports(argv[argc - 1], clear_stats);
}

static void
cmd_port_mtu(int argc, char **argv)
{
	unsigned long mtu;
	uint16_t port;

	RTE_SET_USED(argc);
	if (con_port(argv[2], &port) != 0 ||
	    con_uint("mtu", argv[4], RTE_ETHER_MIN_MTU, UINT16_MAX, &mtu) != 0)
		return;
	ctl_port_mtu(port, (uint16_t)mtu);
}

static void
cmd_port_csum(int argc, char **argv)
{
	char label[RTE_ETH_NAME_MAX_LEN];
	bool on = strcmp(argv[argc - 1], "on") == 0;
	uint16_t port;
	int ret;

	if (con_port(argv[2], &port) != 0)
		return;
	port_label(port, label, sizeof(label));
	ret = rte_pmd_vdevpeer_set_csum(port, on);
	if (ret == -ENODEV)
		con_err("port %u (%s): csum: not a net_vdevpeer port", port, label);
	else if (ret == -ENOTSUP)
		con_err("port %u (%s): csum: not supported yet by this driver build",
			port, label);
	else if (ret != 0)
		con_err("port %u (%s): csum %s: %s", port, label, on ? "on" : "off",
			strerror(-ret));
	else
		printf("Port %u (%s): checksum offload %s\n", port, label,
		       on ? "on" : "off");
}

static void
cmd_port_ctl(int argc, char **argv)
{
	uint16_t port;

	RTE_SET_USED(argc);
	if (con_port(argv[2], &port) != 0)
		return;
	if (strcmp(argv[1], "start") == 0)
		ctl_port_start(port);
	else if (strcmp(argv[1], "stop") == 0)
		ctl_port_stop(port);
	else
		ctl_port_close(port);
}

static void
cmd_port_attach(int argc, char **argv)
{
	ctl_port_attach(argv[argc - 1]);
}

static void
cmd_port_detach(int argc, char **argv)
{
	const char *w = argv[argc - 1];
	unsigned long id;
	char *end;
	uint16_t port;

	/* a closed port has no name any more: its id still detaches it */
	if (ports_resolve(w, &port) != 0) {
		id = strtoul(w, &end, 10);
		if (w[0] < '0' || w[0] > '9' || *end != '\0' || id >= RTE_MAX_ETHPORTS) {
			con_port(w, &port);  /* prints the error */
			return;
		}
		port = (uint16_t)id;
	}
	ctl_port_detach(port);
}

static const struct con_cmd cmds[] = {
	{ "show port info|stats|xstats all|<port>",
	  "port facts (driver, state, link, MAC, MTU, queues); counters (with "
	  "rates since the previous show); every extended counter", cmd_show_port },
	{ "clear port stats all|<port>", "zero the port's counters and extended "
	  "counters", cmd_clear_port_stats },
	{ "port config <port> mtu <mtu>", "set the MTU", cmd_port_mtu },
	{ "port config <port> csum on|off", "checksum offload towards the guest "
	  "(QNX ifconfig -tcp4csum); net_vdevpeer ports only", cmd_port_csum },
	{ "port start|stop|close <port>", "start (setting it up if needed), stop "
	  "or close a port; forwarding of the others pauses only for the change",
	  cmd_port_ctl },
	{ "port attach <devargs...>", "add a port at run time, e.g. "
	  "net_vdevpeer2,peer=/run/vm3.sock,server=1,bind=vp2; it is set up, "
	  "paired with another unpaired port and forwarded", cmd_port_attach },
	{ "port detach <port>", "stop, close and remove a port (also one closed "
	  "before); the socket is released", cmd_port_detach },
	{ NULL, NULL, NULL },
};

const struct con_topic con_topic_port = {
	.name = "port",
	.help = "Ports",
	.cmds = cmds,
};
