/* SPDX-License-Identifier: BSD-3-Clause */
/* Console topic "peer": the guest behind a net_vdevpeer port. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_pmd_vdevpeer.h>

#include "console.h"
#include "ports.h"

/* virtio-net offload feature bits (virtio 1.1, 5.1.3) */
#define F_OFFLOADS ((1ULL << 0) | (1ULL << 1) | (0x7fULL << 7))

static void
print_features(const char *what, uint64_t f)
{
	char names[1024];

	rte_pmd_vdevpeer_features_str(f, names, sizeof(names));
	printf("  %-11s 0x%016" PRIx64 " %s\n", what, f, names);
}

static void
print_mac(const char *what, const uint8_t *b, const char *note)
{
	struct rte_ether_addr mac;
	char s[RTE_ETHER_ADDR_FMT_SIZE];

	memcpy(mac.addr_bytes, b, RTE_ETHER_ADDR_LEN);
	rte_ether_format_addr(s, sizeof(s), &mac);
	printf("  %-11s %s%s\n", what, s, note);
}

/* One line per virtqueue: its state, who serves it, where it is. */
static void
vring_show(uint16_t port, unsigned int v)
{
	struct rte_pmd_vdevpeer_vring r;
	char who[64] = "not served", where[96] = "";

	if (rte_pmd_vdevpeer_get_vring(port, (uint16_t)v, &r) != 0)
		return;
	if (r.queue >= 0)
		snprintf(who, sizeof(who), "%s by %s queue %d%s",
			 r.served ? "served" : "not served", v & 1 ? "rx" : "tx", r.queue,
			 r.folded ? " (folded)" : "");
	if (r.size != 0)
		snprintf(where, sizeof(where), ", avail %u, used %u, node %d, lcore %d (node %d)",
			 r.avail, r.used, r.numa_node, r.lcore, r.lcore_node);
	printf("  vring %-5u guest %s %u: size %u, %s by the guest, %s%s\n", v,
	       v & 1 ? "tx" : "rx", v / 2, r.size, r.ready ? "enabled" : "disabled",
	       who, where);
}

static void
peer_show(uint16_t port)
{
	struct rte_pmd_vdevpeer_info vi;
	char label[RTE_ETH_NAME_MAX_LEN];
	uint64_t off;

	port_label(port, label, sizeof(label));
	if (rte_pmd_vdevpeer_get_info(port, &vi) != 0) {
		con_err("port %u (%s) is not a net_vdevpeer port", port, label);
		return;
	}
	printf("Peer of port %u (%s)\n", port, label);
	printf("  %-11s %s\n", "socket", vi.peer);
	printf("  %-11s %s\n", "role", vi.server ?
	       "server (we listen, the VMM connects)" :
	       "client (we connect to the VMM's socket)");
	printf("  %-11s %s\n", "state", vi.running ?
	       "running (guest driver ready, rings live)" : vi.connected ?
	       "connected (VMM attached, guest driver not ready)" :
	       "waiting (no VMM on the socket)");
	if (vi.guest_mac_known)
		print_mac("guest MAC", vi.guest_mac, " (learned from its traffic)");
	else
		printf("  %-11s unknown (no frame from the guest yet)\n", "guest MAC");
	print_mac("port MAC", vi.mac, "");
	print_features("peerfeats", vi.peerfeats);
	print_features("offered", vi.offered);
	print_features("negotiated", vi.negotiated);
	off = vi.negotiated & F_OFFLOADS;
	if (off != 0)
		print_features("offloads", off);
	else
		printf("  %-11s none negotiated\n", "offloads");
	printf("  %-11s %s, %u queue pair(s) configured, %u virtqueue(s) set up, "
	       "header %u bytes\n", "rings", vi.packed ? "packed" : "split",
	       vi.nb_queues, vi.nb_vrings, vi.hdr_len);
	printf("  %-11s %s, %u buffer(s) in flight\n", "zero-copy",
	       vi.zero_copy ? "on" : "off", vi.inflight);
	printf("  %-11s %d\n", "NUMA node", rte_eth_dev_socket_id(port));
	for (unsigned int v = 0; v < vi.nb_vrings && v < RTE_PMD_VDEVPEER_MAX_VRINGS; v++)
		vring_show(port, v);
}

static void
cmd_show_peer(int argc, char **argv)
{
	uint16_t port;

	if (con_port(argv[argc - 1], &port) == 0)
		peer_show(port);
}

static const struct con_cmd cmds[] = {
	{ "show peer <port>", "the guest behind a net_vdevpeer port: socket, "
	  "role, state, guest MAC, features offered and negotiated, rings, "
	  "per-queue state", cmd_show_peer },
	{ NULL, NULL, NULL },
};

const struct con_topic con_topic_peer = {
	.name = "peer",
	.help = "Guests (net_vdevpeer ports)",
	.cmds = cmds,
};
