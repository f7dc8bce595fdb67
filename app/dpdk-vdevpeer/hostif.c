/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host interfaces (--host-if): a kernel-visible interface per guest port,
 * so that the host's own stack reaches the guest (`ip addr add
 * 192.168.1.1/24 dev vp0`), the counterpart of QNX's vp0 interface.
 *
 * Each is a DPDK net_tap port, probed at start with rte_dev_probe() under
 * the ethdev name net_tap_<bind> and the kernel name <bind> (or the NAME
 * of --host-if PORT=NAME). The kernel interface exists while the app
 * runs; closing the port at exit removes it. (virtio-user's vhost-net
 * backend would avoid the tap's syscall per frame, but needs
 * /dev/vhost-net, which not every host has.) Main lcore only.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_pmd_vdevpeer.h>

#include "app_params.h"
#include "hostif.h"
#include "ports.h"
#include "vdevpeer_app.h"

static bool
ifname_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
		      s[i] == '.'))
			return false;
	return true;
}

static int
hostif_one(struct app_ports *ap, const char *spec, uint16_t guest,
	   const char *ifname)
{
	char devargs[RTE_ETH_NAME_MAX_LEN + IFNAMSIZ + 16];
	char devname[RTE_ETH_NAME_MAX_LEN];
	const char *bind = rte_pmd_vdevpeer_bind_name(guest);
	uint16_t port;
	int ret;

	if (!ifname_ok(ifname)) {
		fprintf(stderr, "%s: --host-if %s: '%s' is not a usable interface "
			"name (1-%d of [A-Za-z0-9._-])\n", APP_NAME, spec, ifname,
			IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (ap->hostif_peer[guest] != APP_NO_PORT) {
		fprintf(stderr, "%s: --host-if %s: guest port %s has a host "
			"interface already\n", APP_NAME, spec, bind);
		return -EINVAL;
	}
	snprintf(devname, sizeof(devname), "net_tap_%s", bind);
	snprintf(devargs, sizeof(devargs), "%s,iface=%s", devname, ifname);
	ret = rte_dev_probe(devargs);
	if (ret == 0)
		ret = rte_eth_dev_get_port_by_name(devname, &port);
	if (ret != 0) {
		fprintf(stderr, "%s: --host-if %s: cannot create interface %s "
			"(%s): %s (is /dev/net/tun there, is the name free?)\n",
			APP_NAME, spec, ifname, devargs, strerror(-ret));
		return ret == -EINVAL || ret == -EEXIST ? -EINVAL : ret;
	}
	ap->role[port] = PORT_ROLE_HOSTIF;
	ap->hostif_peer[port] = guest;
	ap->hostif_peer[guest] = port;
	printf("Host interface %s: port %u (%s) for guest port %u (%s)\n",
	       ifname, port, devname, guest, bind);
	return 0;
}

int
hostif_create(const struct app_params *p, struct app_ports *ap)
{
	uint16_t guests[RTE_MAX_ETHPORTS];
	unsigned int i, nb = 0, j;
	uint16_t port;
	int ret;

	for (i = 0; i < RTE_MAX_ETHPORTS; i++)
		ap->hostif_peer[i] = APP_NO_PORT;
	/* Take the list first: probing adds ports. */
	RTE_ETH_FOREACH_DEV(port)
		if (rte_pmd_vdevpeer_is_vdevpeer(port))
			guests[nb++] = port;
	for (i = 0; i < p->nb_hostifs; i++) {
		const char *spec = p->hostifs[i];
		const char *eq = strchr(spec, '=');
		char name[RTE_ETH_NAME_MAX_LEN];
		uint16_t guest;

		if (strcmp(spec, "all") == 0) {
			for (j = 0; j < nb; j++) {
				if (ap->hostif_peer[guests[j]] != APP_NO_PORT)
					continue;
				ret = hostif_one(ap, spec, guests[j],
						 rte_pmd_vdevpeer_bind_name(guests[j]));
				if (ret != 0)
					return ret;
			}
			continue;
		}
		snprintf(name, sizeof(name), "%.*s",
			 (int)(eq != NULL ? (size_t)(eq - spec) : strlen(spec)), spec);
		if (ports_resolve(name, &guest) != 0 ||
		    !rte_pmd_vdevpeer_is_vdevpeer(guest)) {
			fprintf(stderr, "%s: --host-if %s: '%s' is not a net_vdevpeer "
				"port (give its bind name, e.g. vp0)\n", APP_NAME, spec, name);
			return -EINVAL;
		}
		ret = hostif_one(ap, spec, guest, eq != NULL ? eq + 1 :
				 rte_pmd_vdevpeer_bind_name(guest));
		if (ret != 0)
			return ret;
	}
	fflush(stdout);
	return 0;
}
