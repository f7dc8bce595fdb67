/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vdevpeer devargs, mirroring the QNX devnp-vdevpeer-net.so options:
 *   peer=PATH       vhost-user socket of the VM's virtio-net device (required)
 *   server=0|1      0: connect to the VMM's socket, reconnect (default)
 *                   1: listen on PATH
 *   bind=NAME       port name (default vpN, N from the vdev name)
 *   mac=MAC         aa:bb:cc:dd:ee:ff or aabbccddeeff, or "random"
 *   peerfeats=MASK  virtio-net feature bits the host is willing to offer
 *   queues=N        queue pairs (1..8)
 *   legacy=0|1      virtio-net header without num_buffers
 *   csum=0|1        host-side checksum/segmentation offload (QNX's
 *                   ifconfig -tcp4csum...): 0 completes everything in
 *                   software on this port, whatever the guest negotiated
 *   zerocopy=auto|on|off  guest TX buffers attached to mbufs instead of
 *                   copied: auto (default) for frames from a measured size
 *                   up, on for every frame longer than its headers, off
 *                   never; VIRTIO_F_IN_ORDER is offered with all three
 *   numa_node=N     the NUMA node the guest's memory is on (its socket_id
 *                   from the start; default: found when the guest connects)
 *   peer_hold_us=N  direct guest-to-guest path: how long this guest's
 *                   frames wait in its TX ring while the peer has no
 *                   receive buffer (0..1000000 us, default 10000; 0:
 *                   dropped at once, as a full NIC ring drops)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_kvargs.h>
#include <rte_random.h>

#include "vdevpeer.h"
#include "vdevpeer_args.h"

#define ARG_PEER "peer"
#define ARG_SERVER "server"
#define ARG_BIND "bind"
#define ARG_MAC "mac"
#define ARG_PEERFEATS "peerfeats"
#define ARG_QUEUES "queues"
#define ARG_LEGACY "legacy"
#define ARG_CSUM "csum"
#define ARG_ZEROCOPY "zerocopy"
#define ARG_NUMA_NODE "numa_node"
#define ARG_PEER_HOLD_US "peer_hold_us"

const char *const vdp_valid_args[] = {
	ARG_PEER, ARG_SERVER, ARG_BIND, ARG_MAC, ARG_PEERFEATS, ARG_QUEUES,
	ARG_LEGACY, ARG_CSUM, ARG_ZEROCOPY, ARG_NUMA_NODE, ARG_PEER_HOLD_US, NULL
};

/* "peer, server, ..." */
static const char *
valid_list(void)
{
	static char buf[160];
	size_t off = 0;

	if (buf[0] != '\0')
		return buf;
	for (const char *const *k = vdp_valid_args; *k && off < sizeof(buf); k++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s", off ? ", " : "", *k);
	return buf;
}

struct arg_ctx {
	const char *dev;
	struct vdp_args *a;
};

static int
bad(const struct arg_ctx *c, const char *key, const char *val, const char *accepted)
{
	VDP_LOG_NOPORT(ERR, "%s: bad value '%s' for devarg '%s': accepted: %s",
		       c->dev, val, key, accepted);
	return -EINVAL;
}

static int
parse_bool(const struct arg_ctx *c, const char *key, const char *val, bool *out)
{
	if (strcmp(val, "0") == 0) {
		*out = false;
		return 0;
	}
	if (strcmp(val, "1") == 0) {
		*out = true;
		return 0;
	}
	return bad(c, key, val, "0 or 1");
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* aa:bb:cc:dd:ee:ff (also with '-') or QNX's aabbccddeeff */
static int
parse_mac(const char *s, struct rte_ether_addr *mac)
{
	size_t n = strlen(s);
	int i;

	if (n == 12) {
		for (i = 0; i < 6; i++) {
			int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);

			if (h < 0 || l < 0)
				return -1;
			mac->addr_bytes[i] = (uint8_t)(h << 4 | l);
		}
		return 0;
	}
	if (n == 17) {
		for (i = 0; i < 6; i++) {
			int h = hexval(s[3 * i]), l = hexval(s[3 * i + 1]);

			if (h < 0 || l < 0)
				return -1;
			if (i < 5 && s[3 * i + 2] != ':' && s[3 * i + 2] != '-')
				return -1;
			mac->addr_bytes[i] = (uint8_t)(h << 4 | l);
		}
		return 0;
	}
	return -1;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s == '\0' || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return -1;
	return 0;
}

static int
handle_arg(const char *key, const char *val, void *opaque)
{
	struct arg_ctx *c = opaque;
	struct vdp_args *a = c->a;
	uint64_t v;

	if (val == NULL)
		val = "";
	if (strcmp(key, ARG_PEER) == 0) {
		if (val[0] == '\0' || strlen(val) >= sizeof(a->peer))
			return bad(c, key, val, "a socket path of 1..255 characters");
		strcpy(a->peer, val);
	} else if (strcmp(key, ARG_SERVER) == 0) {
		return parse_bool(c, key, val, &a->server);
	} else if (strcmp(key, ARG_LEGACY) == 0) {
		return parse_bool(c, key, val, &a->legacy);
	} else if (strcmp(key, ARG_CSUM) == 0) {
		return parse_bool(c, key, val, &a->csum);
	} else if (strcmp(key, ARG_ZEROCOPY) == 0) {
		if (strcmp(val, "auto") == 0)
			a->zerocopy = VDP_ZC_AUTO;
		else if (strcmp(val, "on") == 0)
			a->zerocopy = VDP_ZC_ON;
		else if (strcmp(val, "off") == 0)
			a->zerocopy = VDP_ZC_OFF;
		else
			return bad(c, key, val, "auto, on or off");
	} else if (strcmp(key, ARG_BIND) == 0) {
		/* QNX gives a path (/dev/vdevpeers/vp0): the port is its basename */
		const char *base = strrchr(val, '/');

		base = base != NULL ? base + 1 : val;
		if (base[0] == '\0' || strlen(base) >= sizeof(a->bind))
			return bad(c, key, val, "a name of 1..63 characters");
		for (const char *p = base; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
				return bad(c, key, val, "letters, digits, '_', '-', '.'");
		strcpy(a->bind, base);
	} else if (strcmp(key, ARG_MAC) == 0) {
		if (strcmp(val, "random") == 0) {
			a->mac_random = true;
			a->mac_given = false;
			return 0;
		}
		if (parse_mac(val, &a->mac) != 0)
			return bad(c, key, val, "aa:bb:cc:dd:ee:ff, aabbccddeeff or random");
		if (rte_is_multicast_ether_addr(&a->mac))
			return bad(c, key, val, "a unicast MAC (multicast bit clear)");
		if (rte_is_zero_ether_addr(&a->mac))
			return bad(c, key, val, "a non-zero MAC");
		a->mac_given = true;
	} else if (strcmp(key, ARG_PEERFEATS) == 0) {
		if (parse_u64(val, &v) != 0)
			return bad(c, key, val, "a number, e.g. 0x3 or 0x19c3");
		a->peerfeats = v;
	} else if (strcmp(key, ARG_QUEUES) == 0) {
		if (parse_u64(val, &v) != 0 || v < 1 || v > VDP_MAX_QUEUES)
			return bad(c, key, val, "1..8");
		a->queues = (uint16_t)v;
	} else if (strcmp(key, ARG_NUMA_NODE) == 0) {
		if (parse_u64(val, &v) != 0 || v >= RTE_MAX_NUMA_NODES)
			return bad(c, key, val, "a NUMA node number below "
				   RTE_STR(RTE_MAX_NUMA_NODES));
		a->numa_node = (int)v;
	} else if (strcmp(key, ARG_PEER_HOLD_US) == 0) {
		if (parse_u64(val, &v) != 0 || v > VDP_PEER_HOLD_US_MAX)
			return bad(c, key, val, "0.." RTE_STR(VDP_PEER_HOLD_US_MAX) " (microseconds)");
		a->peer_hold_us = (uint32_t)v;
	} else {
		return bad(c, key, val, "a known devarg");
	}
	return 0;
}

/* FNV-1a of the bind name: the same MAC for the same name at every start. */
void
vdp_mac_from_name(const char *bind, struct rte_ether_addr *mac)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *p = bind; *p; p++) {
		h ^= (uint8_t)*p;
		h *= 0x100000001b3ULL;
	}
	for (int i = 0; i < 6; i++)
		mac->addr_bytes[i] = (uint8_t)(h >> (8 * i));
	mac->addr_bytes[0] &= (uint8_t)~RTE_ETHER_GROUP_ADDR;  /* unicast */
	mac->addr_bytes[0] |= RTE_ETHER_LOCAL_ADMIN_ADDR;      /* locally administered */
}

/*
 * Parse params of vdev name into *a. Returns 0 or -EINVAL after logging
 * which argument was wrong and what is accepted.
 */
int
vdp_args_parse(const char *name, const char *params, struct vdp_args *a)
{
	struct arg_ctx c = { .dev = name, .a = a };
	struct rte_kvargs *kv;
	int ret;

	memset(a, 0, sizeof(*a));
	a->queues = 1;
	a->numa_node = -1;
	a->peer_hold_us = VDP_PEER_HOLD_US_DEFAULT;
	a->csum = true;
	a->peerfeats = VDP_FEATURES_IMPLEMENTED;

	if (params == NULL || params[0] == '\0') {
		VDP_LOG_NOPORT(ERR, "%s: devarg 'peer' is required: peer=PATH of "
			       "the guest's vhost-user socket", name);
		return -EINVAL;
	}
	kv = rte_kvargs_parse(params, NULL);
	if (kv == NULL) {
		VDP_LOG_NOPORT(ERR, "%s: cannot parse devargs '%s': expected "
			       "key=value[,key=value...] with keys %s", name, params, valid_list());
		return -EINVAL;
	}
	for (unsigned int i = 0; i < kv->count; i++) {
		const char *key = kv->pairs[i].key;
		int known = 0;

		for (const char *const *k = vdp_valid_args; *k; k++)
			known |= strcmp(*k, key) == 0;
		if (!known) {
			VDP_LOG_NOPORT(ERR, "%s: unknown devarg '%s': accepted: %s",
				       name, key, valid_list());
			ret = -EINVAL;
			goto out;
		}
		if (rte_kvargs_count(kv, key) > 1) {
			VDP_LOG_NOPORT(ERR, "%s: devarg '%s' given more than once", name, key);
			ret = -EINVAL;
			goto out;
		}
	}
	ret = rte_kvargs_process(kv, NULL, handle_arg, &c);
	if (ret != 0)
		goto out;
	if (a->peer[0] == '\0') {
		VDP_LOG_NOPORT(ERR, "%s: devarg 'peer' is required: peer=PATH of "
			       "the guest's vhost-user socket", name);
		ret = -EINVAL;
		goto out;
	}
	if (a->bind[0] == '\0') {
		/* vpN, N the trailing number of the vdev name */
		const char *d = name + strlen(name);

		while (d > name && isdigit((unsigned char)d[-1]))
			d--;
		snprintf(a->bind, sizeof(a->bind), "vp%s", *d ? d : "0");
	}
	if (a->mac_random) {
		rte_eth_random_addr(a->mac.addr_bytes);
	} else if (!a->mac_given) {
		vdp_mac_from_name(a->bind, &a->mac);
	} else if (!(a->mac.addr_bytes[0] & RTE_ETHER_LOCAL_ADMIN_ADDR)) {
		VDP_LOG_NOPORT(WARNING, "%s: mac " RTE_ETHER_ADDR_PRT_FMT " does not "
			       "have the locally administered bit set; MACs must be "
			       "unique in their Ethernet segment", name,
			       RTE_ETHER_ADDR_BYTES(&a->mac));
	}
	ret = 0;
out:
	rte_kvargs_free(kv);
	return ret;
}
