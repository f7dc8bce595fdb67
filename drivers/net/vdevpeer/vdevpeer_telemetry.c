/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vdevpeer telemetry endpoints, registered by the driver itself so that
 * every DPDK application that has the PMD (dpdk-vdevpeer, testpmd -d ...)
 * answers them on its telemetry socket (dpdk-telemetry.py):
 *
 *   /vdevpeer/ports          {"<bind>": <port id>, ...}
 *   /vdevpeer/peer,<port>    the guest behind a port (id or bind name):
 *                            the facts of dpdk-vdevpeer's `show peer`,
 *                            and its isolation state (failed, counters).
 *   /vdevpeer/mem            guest memory mapped by the driver, process
 *                            wide: maps, regions, bytes, external memory
 *                            registrations, memseg lists in use, guest
 *                            files watched, SIGBUS faults contained.
 *
 * Runs on the telemetry thread; everything it reads comes from
 * rte_pmd_vdevpeer_get_info(), which takes the driver's locks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_telemetry.h>

#include "rte_pmd_vdevpeer.h"
#include "vdevpeer.h"
#include "vdevpeer_gmem.h"

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_pmd_vdevpeer_info info;
	uint16_t port;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_dict(d);
	RTE_ETH_FOREACH_DEV(port) {
		if (rte_pmd_vdevpeer_get_info(port, &info) == 0)
			rte_tel_data_add_dict_int(d, info.bind, port);
	}
	return 0;
}

static int
tel_port_param(const char *params, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	if (params[0] >= '0' && params[0] <= '9') {
		v = strtoul(params, &end, 10);
		if (*end != '\0' || v >= RTE_MAX_ETHPORTS)
			return -EINVAL;
		*port = (uint16_t)v;
		return 0;
	}
	return rte_pmd_vdevpeer_port_by_bind(params, port);
}

static void
tel_hex(struct rte_tel_data *d, const char *name, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	rte_tel_data_add_dict_string(d, name, buf);
}

/* Feature names as an array: a joined string would pass the 128-byte
 * limit of a telemetry string. */
static void
tel_features(struct rte_tel_data *d, const char *name, uint64_t f)
{
	struct rte_tel_data *a = rte_tel_data_alloc();

	if (a == NULL)
		return;
	rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
	for (unsigned int b = 0; b < 64; b++) {
		char tmp[VDP_FEATURE_LABEL_MAX];

		if (f & VDP_BIT(b))
			rte_tel_data_add_array_string(a, vdp_feature_label(b, tmp));
	}
	if (rte_tel_data_add_dict_container(d, name, a, 0) != 0)
		rte_tel_data_free(a);
}

static void
tel_mac(struct rte_tel_data *d, const char *name, const uint8_t *b, bool known)
{
	char buf[RTE_ETHER_ADDR_FMT_SIZE];
	struct rte_ether_addr mac;

	if (!known) {
		rte_tel_data_add_dict_string(d, name, "unknown");
		return;
	}
	memcpy(mac.addr_bytes, b, RTE_ETHER_ADDR_LEN);
	rte_ether_format_addr(buf, sizeof(buf), &mac);
	rte_tel_data_add_dict_string(d, name, buf);
}

/* Per virtqueue: [size, ready, served, queue, avail, used, numa_node,
 * lcore], e.g. "vring1_guest_tx0": [256, 1, 1, 0, 17, 17, 0, 1]. */
static void
tel_vrings(struct rte_tel_data *d, uint16_t port, const struct rte_pmd_vdevpeer_info *info)
{
	for (unsigned int v = 0; v < info->nb_vrings && v < RTE_PMD_VDEVPEER_MAX_VRINGS; v++) {
		struct rte_pmd_vdevpeer_vring r;
		struct rte_tel_data *a;
		char name[32];

		if (rte_pmd_vdevpeer_get_vring(port, (uint16_t)v, &r) != 0)
			continue;
		a = rte_tel_data_alloc();
		if (a == NULL)
			return;
		/* virtqueue 2q is the guest's RX of pair q, 2q+1 its TX */
		snprintf(name, sizeof(name), "vring%u_guest_%s%u", v,
			 v & 1 ? "tx" : "rx", v / 2);
		rte_tel_data_start_array(a, RTE_TEL_INT_VAL);
		rte_tel_data_add_array_int(a, r.size);
		rte_tel_data_add_array_int(a, r.ready);
		rte_tel_data_add_array_int(a, r.served);
		rte_tel_data_add_array_int(a, r.queue);
		rte_tel_data_add_array_int(a, r.avail);
		rte_tel_data_add_array_int(a, r.used);
		rte_tel_data_add_array_int(a, r.numa_node);
		rte_tel_data_add_array_int(a, r.lcore);
		if (rte_tel_data_add_dict_container(d, name, a, 0) != 0)
			rte_tel_data_free(a);
	}
}

static int
tel_peer(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_pmd_vdevpeer_isolation iso;
	struct rte_pmd_vdevpeer_info info;
	uint16_t port;

	RTE_SET_USED(cmd);
	if (tel_port_param(params, &port) != 0 ||
	    rte_pmd_vdevpeer_get_info(port, &info) != 0 ||
	    rte_pmd_vdevpeer_get_isolation(port, &iso) != 0)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "port", port);
	rte_tel_data_add_dict_string(d, "bind", info.bind);
	rte_tel_data_add_dict_string(d, "socket", info.peer);
	rte_tel_data_add_dict_string(d, "role", info.server ? "server" : "client");
	rte_tel_data_add_dict_string(d, "state", info.running ? "running" :
				     info.connected ? "connected" : "waiting");
	rte_tel_data_add_dict_int(d, "connected", info.connected);
	rte_tel_data_add_dict_int(d, "running", info.running);
	tel_mac(d, "mac", info.mac, true);
	tel_mac(d, "guest_mac", info.guest_mac, info.guest_mac_known);
	tel_hex(d, "peerfeats", info.peerfeats);
	tel_hex(d, "offered", info.offered);
	tel_hex(d, "negotiated", info.negotiated);
	tel_features(d, "offered_names", info.offered);
	tel_features(d, "negotiated_names", info.negotiated);
	rte_tel_data_add_dict_string(d, "ring_layout", info.packed ? "packed" : "split");
	rte_tel_data_add_dict_int(d, "queue_pairs", info.nb_queues);
	rte_tel_data_add_dict_int(d, "vrings", info.nb_vrings);
	rte_tel_data_add_dict_int(d, "hdr_len", info.hdr_len);
	rte_tel_data_add_dict_int(d, "zero_copy", info.zero_copy);
	rte_tel_data_add_dict_int(d, "inflight", (int)info.inflight);
	rte_tel_data_add_dict_int(d, "failed", iso.failed);
	rte_tel_data_add_dict_int(d, "stuck_vrings", (int)iso.vring_stuck);
	rte_tel_data_add_dict_string(d, "fail_reason", iso.fail_reason);
	rte_tel_data_add_dict_u64(d, "messages_refused", iso.msg_refused);
	rte_tel_data_add_dict_u64(d, "pause_timeouts", iso.pause_timeouts);
	rte_tel_data_add_dict_u64(d, "port_failures", iso.failures);
	rte_tel_data_add_dict_u64(d, "sigbus_contained", iso.sigbus_contained);
	rte_tel_data_add_dict_int(d, "guest_memory_maps", iso.guest_maps);
	rte_tel_data_add_dict_int(d, "guest_memory_maps_zc", iso.guest_maps_zc);
	tel_vrings(d, port, &info);
	return 0;
}

static int
tel_mem(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vdp_gmem_stats st;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	vdp_gmem_stats(&st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "maps", st.maps);
	rte_tel_data_add_dict_int(d, "maps_retired", st.retired);
	rte_tel_data_add_dict_int(d, "regions", st.regions);
	rte_tel_data_add_dict_u64(d, "bytes", st.bytes);
	rte_tel_data_add_dict_int(d, "extmem_regions", st.extmem);
	rte_tel_data_add_dict_int(d, "memseg_lists", st.memseg_lists);
	rte_tel_data_add_dict_int(d, "guest_files", st.files);
	rte_tel_data_add_dict_u64(d, "sigbus_contained", st.sigbus_contained);
	return 0;
}

/* Help texts: shorter than RTE_TEL_MAX_STRING_LEN (128), or the command
 * is not registered at all. */
RTE_INIT(vdp_telemetry_init)
{
	if (vdp_other_copy() != NULL)
		return; /* that copy's commands know the ports */
	rte_telemetry_register_cmd("/vdevpeer/ports", tel_ports,
		"net_vdevpeer ports: {bind name: port id}. No parameters");
	rte_telemetry_register_cmd("/vdevpeer/peer", tel_peer,
		"The guest behind a net_vdevpeer port: socket, state, MACs, features, "
		"rings, isolation. Parameter: port id or bind name");
	rte_telemetry_register_cmd("/vdevpeer/mem", tel_mem,
		"Guest memory mapped by net_vdevpeer: maps, regions, extmem, "
		"memseg lists, SIGBUS faults contained. No parameters");
}
