/* SPDX-License-Identifier: BSD-3-Clause */
/* Console topic "bridge": the MAC table of the running --fwd bridge. */
#include <errno.h>
#include <stdio.h>

#include "bridge.h"
#include "console.h"
#include "control.h"
#include "fwd_bridge.h"
#include "ports.h"

/* The table, or NULL with an error printed when the bridge is not running. */
static struct bridge_table *
table(void)
{
	struct bridge_table *t = fwd_bridge_table();

	if (t == NULL)
		con_err("the bridge is not running (set fwd bridge, or start with --fwd bridge)");
	return t;
}

static int
parse_mac(const char *word, uint64_t *mac)
{
	if (bridge_mac_parse(word, mac) != 0) {
		con_err("bad MAC '%s': aa:bb:cc:dd:ee:ff expected", word);
		return -EINVAL;
	}
	return 0;
}

static void
cmd_show_macs(int argc, char **argv)
{
	struct bridge_table *t = table();
	struct bridge_entry e[256];
	char mac[32], label[RTE_ETH_NAME_MAX_LEN];
	unsigned int n, i;

	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	if (t == NULL)
		return;
	n = bridge_mac_dump(t, fwd_bridge_now(), e, RTE_DIM(e));
	printf("Bridge MAC table: %u entries (of %u), aging %u s\n", n,
	       bridge_table_capacity(t), bridge_get_aging(t));
	for (i = 0; i < n && i < RTE_DIM(e); i++) {
		bridge_mac_format(e[i].mac, mac, sizeof(mac));
		printf("  %s  port %u (%s)  %s  age %u s\n", mac, e[i].port,
		       port_label(e[i].port, label, sizeof(label)),
		       e[i].is_static ? "static " : "learned", e[i].age);
	}
	if (n > RTE_DIM(e))
		printf("  ... %u more\n", n - (unsigned int)RTE_DIM(e));
}

static void
cmd_mac_add(int argc, char **argv)
{
	struct bridge_table *t;
	uint64_t mac;
	uint16_t port;
	int ret;

	RTE_SET_USED(argc);
	if (parse_mac(argv[3], &mac) != 0 || con_port(argv[4], &port) != 0)
		return;
	t = table();
	if (t == NULL)
		return;
	if (!app.ports.used[port]) {
		con_err("port %u is not a bridge member", port);
		return;
	}
	ret = bridge_mac_add(t, mac, port, true, fwd_bridge_now());
	if (ret == -EINVAL)
		con_err("%s: a group or zero MAC cannot be a static entry", argv[3]);
	else if (ret != 0)
		con_err("%s: the table has no room for it", argv[3]);
	else
		printf("Static entry %s -> port %u\n", argv[3], port);
}

static void
cmd_mac_del(int argc, char **argv)
{
	struct bridge_table *t;
	uint64_t mac;

	RTE_SET_USED(argc);
	if (parse_mac(argv[3], &mac) != 0)
		return;
	t = table();
	if (t == NULL)
		return;
	if (bridge_mac_del(t, mac) != 0)
		con_err("%s is not in the table", argv[3]);
	else
		printf("Entry %s removed\n", argv[3]);
}

static void
cmd_flush(int argc, char **argv)
{
	struct bridge_table *t = table();

	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	if (t != NULL)
		printf("Flushed %u learned entries\n",
		       bridge_mac_flush(t, BRIDGE_NO_PORT, false));
}

static void
cmd_aging(int argc, char **argv)
{
	struct bridge_table *t;
	unsigned long v;

	if (con_uint("aging", argv[argc - 1], 0, 1000000, &v) != 0)
		return;
	t = table();
	if (t == NULL)
		return;
	bridge_set_aging(t, (uint32_t)v);
	app.params.bridge_aging = (unsigned int)v;
	printf("Bridge aging: %lu s%s\n", v, v == 0 ? " (never)" : "");
}

static const struct con_cmd cmds[] = {
	{ "show bridge macs", "the bridge's MAC table: MAC, port, static or "
	  "learned, age", cmd_show_macs },
	{ "bridge mac add <name> <port>", "add a static entry: frames to MAC go "
	  "to port (never ages, never moves)", cmd_mac_add },
	{ "bridge mac del <name>", "remove the entry of MAC (static or learned)",
	  cmd_mac_del },
	{ "bridge flush", "forget every learned MAC (static entries stay)", cmd_flush },
	{ "set bridge aging <name>", "forget learned MACs not seen for N seconds "
	  "(0: never)", cmd_aging },
	{ NULL, NULL, NULL },
};

const struct con_topic con_topic_bridge = {
	.name = "bridge",
	.help = "The L2 bridge (--fwd bridge)",
	.cmds = cmds,
};
