/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Run-time changes, main lcore only: start and stop forwarding, change the
 * mode, stop/start/close/attach/detach a port. Whatever changes ports or
 * streams stops the workers first, changes, rebuilds the streams and
 * restarts them, so a worker never polls a port being changed; the other
 * ports only pause for that moment (their frames wait in the guests'
 * rings). The console commands (cmd_*.c) are thin wrappers over these.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "app_params.h"
#include "console.h"
#include "control.h"
#include "fwd.h"
#include "ports.h"
#include "stats.h"
#include "vdevpeer_app.h"

struct app_state app;

static const char *
label(uint16_t port)
{
	static char buf[RTE_ETH_NAME_MAX_LEN];

	return port_label(port, buf, sizeof(buf));
}

static int
streams_launch(const char *what)
{
	int ret;

	fwd_free(&app.fc);
	ret = fwd_build_streams(&app.params, &app.ports, &app.fc);
	if (ret != 0)
		return ret;
	ret = fwd_launch(&app.params, &app.fc);
	if (ret != 0)
		return ret;
	app.fwd_running = true;
	printf("Forwarding %s: mode %s, %u stream(s)%s\n", what,
	       app.params.engine->name, app.fc.nb_streams,
	       app.fc.nb_streams == 0 ? " (no started port to forward)" : "");
	fwd_print_layout(&app.fc);
	return 0;
}

int
ctl_fwd_start(void)
{
	if (app.fwd_running) {
		con_err("forwarding is already started");
		return -EALREADY;
	}
	return streams_launch("started");
}

int
ctl_fwd_stop(void)
{
	if (!app.fwd_running) {
		con_err("forwarding is not started");
		return -EALREADY;
	}
	fwd_stop_and_wait(APP_DRAIN_MS);
	app.fwd_running = false;
	printf("Forwarding stopped\n");
	stats_print_streams(&app.fc);
	return 0;
}

int
ctl_with_fwd_paused(int (*fn)(void *), void *arg)
{
	bool was = app.fwd_running;
	int ret, ret2;

	if (was) {
		fwd_stop_and_wait(0);
		app.fwd_running = false;
	}
	ret = fn(arg);
	if (was) {
		ret2 = streams_launch("restarted");
		if (ret == 0)
			ret = ret2;
	}
	fflush(stdout);
	return ret;
}

static bool
port_paired(uint16_t port)
{
	for (unsigned int i = 0; i < app.params.nb_pairs; i++)
		if (app.params.pairs[i].a == port || app.params.pairs[i].b == port)
			return true;
	return false;
}

/* Pair the used ports that are in no pair, in id order. */
static void
pairs_fill(void)
{
	uint16_t port, prev = APP_NO_PORT;

	if (!app.params.engine->needs_pairs)
		return;
	RTE_ETH_FOREACH_DEV(port) {
		if (!app.ports.used[port] || port_paired(port))
			continue;
		if (prev == APP_NO_PORT) {
			prev = port;
			continue;
		}
		app.params.pairs[app.params.nb_pairs].a = prev;
		app.params.pairs[app.params.nb_pairs].b = port;
		app.params.nb_pairs++;
		printf("Ports %u (%s) and %u", prev, label(prev), port);
		printf(" (%s) paired\n", label(port));
		prev = APP_NO_PORT;
	}
	if (prev != APP_NO_PORT)
		printf("Port %u (%s) has no peer port yet: not forwarded in mode %s\n",
		       prev, label(prev), app.params.engine->name);
}

static void
pairs_drop(uint16_t port)
{
	unsigned int i, j = 0;

	for (i = 0; i < app.params.nb_pairs; i++) {
		const struct app_pair *pr = &app.params.pairs[i];

		if (pr->a == port || pr->b == port) {
			if (pr->a != pr->b)
				printf("Pair %u:%u removed\n", pr->a, pr->b);
			continue;
		}
		app.params.pairs[j++] = *pr;
	}
	app.params.nb_pairs = j;
}

/* Engines with state (bridge) are set up and torn down around a switch. */
static int
do_set_fwd(void *arg)
{
	const struct fwd_engine *old = app.params.engine, *e = arg;
	uint16_t txq = app.params.nb_txq;
	int ret = 0;

	if (old->fini != NULL)
		old->fini();
	app.params.engine = e;
	if (e->init != NULL) {
		ret = e->init(&app.params, &app.ports);
		if (ret == 0 && app.params.nb_txq > txq) {
			con_err("fwd %s needs %u tx queues per port, the ports have %u: "
				"start the app with --fwd %s", e->name,
				app.params.nb_txq, txq, e->name);
			ret = -EINVAL;
		}
		if (ret != 0) {
			if (e->fini != NULL)
				e->fini();
			app.params.nb_txq = txq;
			app.params.engine = old;
			if (old->init != NULL && old->init(&app.params, &app.ports) != 0)
				con_err("fwd %s could not be restored", old->name);
			return ret;
		}
		if (e->tick != NULL)
			e->tick();
	}
	pairs_fill();
	return 0;
}

int
ctl_set_fwd(const struct fwd_engine *e)
{
	int ret = ctl_with_fwd_paused(do_set_fwd, (void *)(uintptr_t)e);

	if (ret == 0)
		printf("Forwarding mode: %s\n", e->name);
	return ret;
}

static int
do_port_stop(void *arg)
{
	uint16_t port = (uint16_t)(uintptr_t)arg;
	int ret;

	if (!app.ports.started[port]) {
		con_err("port %u (%s) is already stopped", port, label(port));
		return -EALREADY;
	}
	ret = rte_eth_dev_stop(port);
	if (ret != 0) {
		con_err("port %u (%s): stop failed: %s", port, label(port), strerror(-ret));
		return ret;
	}
	app.ports.started[port] = false;
	printf("Port %u (%s): stopped\n", port, label(port));
	return 0;
}

int
ctl_port_stop(uint16_t port)
{
	return ctl_with_fwd_paused(do_port_stop, (void *)(uintptr_t)port);
}

static int
do_port_start(void *arg)
{
	uint16_t port = (uint16_t)(uintptr_t)arg;
	int ret;

	if (app.ports.started[port]) {
		con_err("port %u (%s) is already started", port, label(port));
		return -EALREADY;
	}
	if (!app.ports.configured[port]) {
		app.ports.used[port] = true;
		ret = port_setup(&app.params, &app.ports, port);
		if (ret != 0)
			return ret;
		pairs_fill();
	} else {
		ret = rte_eth_dev_start(port);
		if (ret != 0) {
			con_err("port %u (%s): start failed: %s", port, label(port),
				strerror(-ret));
			return ret;
		}
		app.ports.started[port] = true;
		printf("Port %u (%s): started\n", port, label(port));
	}
	stats_snap_port(port);
	return 0;
}

int
ctl_port_start(uint16_t port)
{
	return ctl_with_fwd_paused(do_port_start, (void *)(uintptr_t)port);
}

/* Stop and close; remember the device so that `port detach` can remove it. */
static int
port_close(uint16_t port)
{
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN];
	int ret;

	port_label(port, name, sizeof(name));
	if (app.ports.started[port]) {
		ret = rte_eth_dev_stop(port);
		if (ret != 0)
			printf("Port %u (%s): stop failed: %s\n", port, name, strerror(-ret));
		app.ports.started[port] = false;
	}
	memset(&info, 0, sizeof(info));
	app.ports.closed_dev[port][0] = '\0';
	if (rte_eth_dev_info_get(port, &info) == 0 && info.device != NULL) {
		snprintf(app.ports.closed_dev[port], sizeof(app.ports.closed_dev[port]),
			 "%s", rte_dev_name(info.device));
		snprintf(app.ports.closed_bus[port], sizeof(app.ports.closed_bus[port]),
			 "%s", rte_bus_name(rte_dev_bus(info.device)));
	}
	ret = rte_eth_dev_close(port);
	if (ret != 0) {
		con_err("port %u (%s): close failed: %s", port, name, strerror(-ret));
		return ret;
	}
	app.ports.used[port] = false;
	app.ports.configured[port] = false;
	app.ports.lsc_cb[port] = false;  /* close drops the callbacks */
	pairs_drop(port);
	printf("Port %u (%s): closed\n", port, name);
	return 0;
}

static int
do_port_close(void *arg)
{
	return port_close((uint16_t)(uintptr_t)arg);
}

int
ctl_port_close(uint16_t port)
{
	return ctl_with_fwd_paused(do_port_close, (void *)(uintptr_t)port);
}

static int
do_port_detach(void *arg)
{
	uint16_t port = (uint16_t)(uintptr_t)arg;
	char dev[RTE_DEV_NAME_MAX_LEN];
	int ret;

	if (rte_eth_dev_is_valid_port(port)) {
		ret = port_close(port);
		if (ret != 0)
			return ret;
	}
	if (app.ports.closed_dev[port][0] == '\0') {
		con_err("port %u: no such port", port);
		return -ENODEV;
	}
	snprintf(dev, sizeof(dev), "%s", app.ports.closed_dev[port]);
	ret = rte_eal_hotplug_remove(app.ports.closed_bus[port], dev);
	if (ret != 0) {
		con_err("port %u: cannot remove device %s: %s", port, dev, strerror(-ret));
		return ret;
	}
	app.ports.closed_dev[port][0] = '\0';
	printf("Port %u: device %s detached\n", port, dev);
	return 0;
}

int
ctl_port_detach(uint16_t port)
{
	if (!rte_eth_dev_is_valid_port(port) &&
	    (port >= RTE_MAX_ETHPORTS || app.ports.closed_dev[port][0] == '\0')) {
		con_err("port %u: no such port", port);
		return -ENODEV;
	}
	return ctl_with_fwd_paused(do_port_detach, (void *)(uintptr_t)port);
}

static int
do_streams_only(void *arg)
{
	RTE_SET_USED(arg);
	pairs_fill();
	return 0;
}

int
ctl_port_attach(const char *devargs)
{
	bool before[RTE_MAX_ETHPORTS] = { false };
	uint16_t port, added = 0;
	int ret;

	RTE_ETH_FOREACH_DEV(port)
		before[port] = true;
	ret = rte_dev_probe(devargs);
	if (ret != 0) {
		con_err("port attach %s: %s (see the driver's message above)",
			devargs, strerror(-ret));
		return ret;
	}
	/* Set the new port(s) up while the others keep forwarding: no
	 * worker polls them yet. */
	RTE_ETH_FOREACH_DEV(port) {
		if (before[port])
			continue;
		added++;
		app.ports.closed_dev[port][0] = '\0';
		app.ports.used[port] = true;
		printf("Port %u (%s): attached\n", port, label(port));
		ret = port_setup(&app.params, &app.ports, port);
		if (ret != 0)
			return ret;
		stats_snap_port(port);
	}
	if (added == 0) {
		con_err("port attach %s: the device made no new port", devargs);
		return -ENODEV;
	}
	return ctl_with_fwd_paused(do_streams_only, NULL);
}

int
ctl_port_mtu(uint16_t port, uint16_t mtu)
{
	int ret = rte_eth_dev_set_mtu(port, mtu);

	if (ret != 0) {
		con_err("port %u (%s): mtu %u: %s", port, label(port), mtu, strerror(-ret));
		return ret;
	}
	printf("Port %u (%s): mtu %u\n", port, label(port), mtu);
	return 0;
}
