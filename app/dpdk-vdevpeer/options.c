/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The option table and what reads it: the value parsers shared by the
 * command line and the config file, --help and --dump-options.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "app_params.h"
#include "bridge.h"
#include "engines.h"
#include "fwd.h"
#include "options.h"
#include "vdevpeer_app.h"

#define F(x) offsetof(struct app_params, x), sizeof(((struct app_params *)0)->x)
#define NOF APP_OPT_NO_FIELD, 0
#define G(x) offsetof(struct app_params, x)
#define NOG APP_OPT_NO_FIELD

const struct app_option app_options[] = {
	{ "fwd", 0, "MODE", APP_OT_ENGINE, 0, 0, F(engine), NOG,
	  "forwarding", "mode", NULL,
	  "forwarding mode:",
	  "Forwarding mode.\n"
	  "`io`: frames go unchanged to the peer port.\n"
	  "`macswap`: source and destination MAC swapped, then to the peer port\n"
	  "(`--pair P:P` turns a port into a reflector).\n"
	  "`rxonly`: receive and free, counting; needs no pairs.\n"
	  "`bridge`: an L2 learning switch over every port (guests, host\n"
	  "interfaces, uplinks); see [topology-guest-to-world.md](topology-guest-to-world.md).\n"
	  "Needs no pairs; `--pair` is refused. Every worker gets its own tx queue\n"
	  "on every port (`--txq` is raised to the number of workers).\n"
	  "`txonly`: send 64-byte UDP/IPv4 frames (source: the port's MAC,\n"
	  "destination: broadcast, addresses in 198.18.0.0/15) on every port as\n"
	  "fast as they are taken; receive nothing." },
	{ "pair", 0, "A:B", APP_OT_PAIR, 0, 0, NOF, NOG,
	  "forwarding", "pairs", "ports paired in id order (0:1, 2:3)",
	  "forward between ports A and B, both ways;\n"
	  "repeatable. A port is a port id, the bind\n"
	  "name of a net_vdevpeer port (vp0) or an\n"
	  "ethdev name (net_vhost0). A:A loops a port\n"
	  "back to itself",
	  "Forward A→B and B→A. Repeatable. A and B are a port id (`0`), the bind\n"
	  "name of a net_vdevpeer port (`vp0`), or an ethdev name (`net_vhost0`,\n"
	  "`0000:00:08.0`; names holding `:` are split where both halves name a\n"
	  "port); in the config file also a `[port NAME]`, and `pairs` is a list\n"
	  "(`pairs = vm1:vm2 vm3:vm4`). `A:A` loops a port back to itself. A port\n"
	  "may appear in one pair only. Without pairs, ports are paired in id\n"
	  "order; an odd number of ports is then an error in `io` and `macswap`.\n"
	  "With pairs, only the ports named are configured and forwarded; in\n"
	  "`rxonly` they are the ports received from (default: all)." },
	{ "fwd-lcores", 0, "LIST", APP_OT_LCORES, 0, 0, F(fwd_lcores), G(lcore_set),
	  "forwarding", "lcores", "every worker lcore",
	  "worker lcores that forward, e.g. 1 or 1-3",
	  "Worker lcores that forward, e.g. `1` or `1,3-4`; each must be in `-l`\n"
	  "and not the main lcore." },
	{ "rxq", 0, "N", APP_OT_UINT, 1, APP_MAX_QUEUES, F(nb_rxq), NOG,
	  "forwarding", "rxq", NULL,
	  "rx queues per port",
	  "Rx queues per port (and at most what the device offers). Rx queue q\n"
	  "of a port is forwarded to tx queue `q % txq` of its peer." },
	{ "txq", 0, "N", APP_OT_UINT, 1, APP_MAX_QUEUES, F(nb_txq), NOG,
	  "forwarding", "txq", NULL,
	  "tx queues per port",
	  "Tx queues per port (and at most what the device offers). Streams that\n"
	  "share a tx queue run on the same worker (tx on one queue is not\n"
	  "thread-safe); otherwise streams are spread round-robin over the\n"
	  "workers." },
	{ "nb-desc", 0, "N", APP_OT_UINT, 1, 32768, F(nb_desc), NOG,
	  "forwarding", "nb_desc", NULL,
	  "descriptors per rx/tx ring",
	  "Ring size requested for every rx and tx queue (the device may round\n"
	  "it)." },
	{ "burst", 0, "N", APP_OT_UINT, 1, APP_MAX_BURST, F(burst), NOG,
	  "forwarding", "burst", NULL,
	  "packets per rx/tx burst",
	  "Packets per rx/tx burst." },
	{ "mbufs", 0, "N", APP_OT_UINT, 512, 1UL << 26, F(nb_mbufs), NOG,
	  "forwarding", "mbufs",
	  "enough for every ring and burst, at least " RTE_STR(APP_DEFAULT_MBUFS),
	  "mbufs per NUMA socket",
	  "Mbufs in the pool of each NUMA socket. The default is enough for all\n"
	  "rx and tx rings, in-flight bursts and per-lcore caches of the ports on\n"
	  "that socket. A smaller N is accepted with a warning. 8192 mbufs of\n"
	  "2176 bytes fit in `--no-huge -m 256`." },
	{ "wait-links", 0, "SEC", APP_OT_UINT, 0, 86400, F(wait_links), NOG,
	  "forwarding", "wait_links", NULL,
	  "before forwarding, wait up to SEC s for every\n"
	  "port's link, showing progress",
	  "Before forwarding starts, wait up to SEC seconds for every used port's\n"
	  "link, printing each second which ports are still down and why (e.g.\n"
	  "`vp1 waiting for a guest on /run/vdevpeer/vm2.sock`). Forwarding starts\n"
	  "anyway when the time is up. 0: no wait." },
	{ "rx-mode", 0, "MODE", APP_OT_RXMODE, 0, 0, F(rx_mode), NOG,
	  "forwarding", "rx_mode", NULL,
	  "poll: workers poll all the time; adaptive:\n"
	  "they sleep after --rx-idle-us without frames\n"
	  "until a guest kicks; interrupt: they sleep\n"
	  "whenever a poll finds nothing",
	  "How worker lcores wait for frames.\n"
	  "`poll`: they poll all the time (a whole CPU each, lowest latency).\n"
	  "`adaptive`: they poll while frames come; after `--rx-idle-us` without\n"
	  "any they ask their queues for interrupts (net_vdevpeer: the guests'\n"
	  "kicks, with the rings' notifications turned on only then; net_tap:\n"
	  "its fd), look at every ring once more, and sleep until one arrives;\n"
	  "the first frame turns polling back on.\n"
	  "`interrupt`: as adaptive with no quiet period: they sleep whenever a\n"
	  "round finds nothing.\n"
	  "A worker sleeps only if every port it polls sleeps: a port in `poll`,\n"
	  "a PMD without rx interrupts (af_packet, NICs here) or a `txonly`\n"
	  "stream keeps it polling (said once). Per port: `rx_mode` of a\n"
	  "`[port NAME]`; at run time: `set rx-mode`. Figures and when to choose\n"
	  "which: [performance.md](performance.md#rx-modes)." },
	{ "rx-idle-us", 0, "US", APP_OT_UINT, 0, 10000000, F(rx_idle_us), NOG,
	  "forwarding", "rx_idle_us", NULL,
	  "adaptive: quiet period before sleeping, in µs",
	  "`--rx-mode adaptive`: how long a worker must find no frame before it\n"
	  "sleeps, in microseconds." },
	{ "numa-strict", 0, NULL, APP_OT_FLAG, 0, 0, F(numa_strict), NOG,
	  NULL, NULL, NULL,
	  "a guest queue polled by an lcore of another\n"
	  "NUMA node than its ring stays idle",
	  "A net_vdevpeer queue polled by a worker lcore on another NUMA node than\n"
	  "the guest ring it serves stays idle, with an error naming the port,\n"
	  "queue, lcore and both nodes (frames sent to it count as `tx_drop_paused`);\n"
	  "without it the queue works across nodes and a warning says so once per\n"
	  "queue and lcore. The node of a guest's memory is found when it connects\n"
	  "(libnuma); the port's `socket_id` follows it." },
	{ "no-peer-path", 0, NULL, APP_OT_FLAG, 0, 0, F(no_peer_path), NOG,
	  NULL, NULL, NULL,
	  "io between two net_vdevpeer ports: always\n"
	  "through mbufs (rx_burst, tx_burst), not the\n"
	  "direct one-copy path",
	  "`io` streams between two net_vdevpeer ports move frames by the\n"
	  "direct guest-to-guest path (`rte_pmd_vdevpeer_peer_forward`: one\n"
	  "copy from the sending guest's buffer into the receiving guest's, no\n"
	  "mbuf; xstats `rx_peer_packets`, `tx_peer_packets`). It steps aside\n"
	  "by itself while a capture is attached to either port. With this\n"
	  "option they always use `rte_eth_rx_burst` and `rte_eth_tx_burst`\n"
	  "(for comparisons: [performance.md](performance.md))." },
	{ "auto-start", 0, NULL, APP_OT_FLAG, 0, 0, F(auto_start), NOG,
	  NULL, NULL, NULL,
	  "start forwarding at once (always the case\n"
	  "without an interactive console)",
	  "With `-i`, start forwarding at once instead of at `start`; without an\n"
	  "interactive console forwarding always starts at once." },
	{ "stats-period", 0, "SEC", APP_OT_UINT, 0, 86400, F(stats_period),
	  G(stats_period_set), "stats", "period", NULL,
	  "print a per-port table every SEC seconds;\n"
	  "0: only at exit",
	  "Every SEC seconds print one line per used port: rx and tx packets, rx and\n"
	  "tx rate in packets/s and bit/s (frame bytes × 8, no preamble or gap),\n"
	  "rx drops (`imissed` + `rx_nombuf`), tx drops (frames the port did not\n"
	  "accept and the app freed, + `oerrors`), link up/down; then one line per\n"
	  "worker lcore: `lcore 1: busy 63.2% of its cycles, 212 cycles per received\n"
	  "frame` (a polling round that received at least one frame counts as busy;\n"
	  "one rdtsc per round), in a sleeping rx mode followed by `adaptive: asleep\n"
	  "97.2%, 412 sleeps`. Busy well below ~90% under load means the traffic\n"
	  "source, not the worker, sets the rate. The final statistics repeat it\n"
	  "since start. stdout is flushed after each table. 0: no periodic table;\n"
	  "with `-i`, a period only from the command line or the config file." },
	{ "host-if", 0, "PORT[=NAME]", APP_OT_HOSTIF, 0, 0, NOF, NOG,
	  NULL, NULL, "none",
	  "give guest port PORT (bind name, e.g. vp0)\n"
	  "a kernel interface NAME (default: the bind\n"
	  "name) through net_tap; 'all': every guest\n"
	  "port. Repeatable. In io mode a guest is\n"
	  "paired with its interface; in bridge mode\n"
	  "the interface is a bridge member",
	  "Give guest port PORT (its bind name, e.g. `vp0`) a kernel-visible\n"
	  "interface NAME (default: the bind name) through DPDK's net_tap: the port\n"
	  "`net_tap_<bind>` is probed at start, the interface lives as long as the\n"
	  "app. `all`: every guest port. Repeatable. In `io` mode a guest is paired\n"
	  "with its host interface unless pairs are given; in `bridge` mode the\n"
	  "host interface is a member. In the config file: `host_if` of a\n"
	  "`[port NAME]`. See [topology-guest-to-host.md](topology-guest-to-host.md)." },
	{ "uplink", 0, "PORT", APP_OT_UPLINK, 0, 0, NOF, NOG,
	  NULL, NULL, "none",
	  "PORT (ethdev name, id) is an uplink to the\n"
	  "world (e.g. a NIC: -a 0000:02:00.0);\n"
	  "repeatable; shown in the port list",
	  "PORT (an ethdev name such as `0000:02:00.0` or `net_af_packet0`, or a\n"
	  "port id) is an uplink to the world; repeatable. A guest or host\n"
	  "interface cannot be one. In the config file: `role = uplink` of a\n"
	  "`[port NAME]`." },
	{ "bridge-aging", 0, "SEC", APP_OT_UINT, 0, 1000000, F(bridge_aging), NOG,
	  "bridge", "aging", NULL,
	  "bridge: forget MACs not seen for SEC\n"
	  "seconds; 0: never",
	  "Bridge: forget a learned MAC not seen for SEC seconds (0 = never)." },
	{ "bridge-entries", 0, "N", APP_OT_UINT, 16, 1UL << 24, F(bridge_entries), NOG,
	  "bridge", "entries", NULL,
	  "bridge: MAC table size",
	  "Bridge: MAC table size, rounded up to a power of two." },
	{ "bridge-mac", 0, "MAC@PORT", APP_OT_BRIDGE_MAC, 0, 0, NOF, NOG,
	  "bridge", "static", "none",
	  "bridge: static entry; repeatable",
	  "Bridge: a static entry (never ages, never moves); repeatable (in the\n"
	  "config file a list: `static = MAC@vm1 MAC@vm2`). Refused for a group\n"
	  "MAC, an unknown port, or one of the ports' own MACs." },
	{ "interactive", 'i', NULL, APP_OT_FLAG, 0, 0, F(interactive), NOG,
	  NULL, NULL, NULL,
	  "console on stdin (testpmd-like; `help` lists\n"
	  "the commands); forwarding starts with\n"
	  "`start` unless --auto-start",
	  "Console on stdin (librte_cmdline: completion with TAB, history, `help`).\n"
	  "Forwarding starts with `start`, or at once with `--auto-start`.\n"
	  "Periodic statistics only if a period is given. Commands:\n"
	  "[console.md](console.md)." },
	{ "cmdline-file", 0, "FILE", APP_OT_STR, 0, 0, F(cmdline_file), NOG,
	  NULL, NULL, NULL,
	  "run the console commands in FILE at start\n"
	  "(with or without -i)",
	  "Run the console commands in FILE after start-up (forwarding already\n"
	  "started unless `-i` without `--auto-start`), one per line, `#`\n"
	  "comments. A bad command prints one line naming FILE and the line, and\n"
	  "the rest runs. A `quit` in the file stops the app. Without `-i` the\n"
	  "app then carries on as a service. An unreadable FILE is a usage error." },
	{ "config", 0, "FILE", APP_OT_EARLY, 0, 0, NOF, NOG,
	  NULL, NULL, NULL,
	  "INI file: ports, forwarding, lcores, stats\n"
	  "(see config/); options given here override it",
	  "Read ports, forwarding, bridge and statistics settings from an INI file\n"
	  "(see [Configuration file](#configuration-file)); options given on the\n"
	  "command line override it." },
	{ "dump-commands", 0, NULL, APP_OT_EARLY, 0, 0, NOF, NOG,
	  NULL, NULL, NULL,
	  "print the console command reference\n"
	  "(markdown) and exit",
	  "Print the console's command reference in markdown and exit (no EAL, no\n"
	  "root); docs/console.md is generated from it." },
	{ "dump-xstats", 0, NULL, APP_OT_EARLY, 0, 0, NOF, NOG,
	  NULL, NULL, NULL,
	  "print what each net_vdevpeer xstat counts\n"
	  "(markdown) and exit",
	  "Print what each extended counter of a net_vdevpeer port counts, in\n"
	  "markdown, and exit (no EAL, no root); docs/xstats.md is generated from\n"
	  "it (`ci/gen-docs.sh`)." },
	{ "dump-options", 0, NULL, APP_OT_EARLY, 0, 0, NOF, NOG,
	  NULL, NULL, NULL,
	  "print this option reference (markdown)\n"
	  "and exit",
	  "Print this option reference in markdown and exit (no EAL, no root); the\n"
	  "OPTIONS section of docs/app.md is generated from it." },
	{ "help", 'h', NULL, APP_OT_HELP, 0, 0, NOF, NOG,
	  NULL, NULL, NULL,
	  "this text",
	  "Print the usage on stdout and exit 0 (EAL is not initialised; no root\n"
	  "needed)." },
	{ NULL, 0, NULL, 0, 0, 0, NOF, NOG, NULL, NULL, NULL, NULL, NULL },
};

#undef F
#undef NOF
#undef G
#undef NOG

bool
app_option_is_list(const struct app_option *o)
{
	return o->type == APP_OT_PAIR || o->type == APP_OT_BRIDGE_MAC ||
	       o->type == APP_OT_HOSTIF || o->type == APP_OT_UPLINK;
}

const struct app_option *
app_option_by_key(const char *section, const char *key)
{
	const struct app_option *o;

	for (o = app_options; o->name != NULL; o++)
		if (o->section != NULL && strcmp(o->section, section) == 0 &&
		    strcmp(o->key, key) == 0)
			return o;
	return NULL;
}

const char *
app_option_keys(const char *section, char *buf, size_t len)
{
	const struct app_option *o;
	size_t used = 0;

	buf[0] = '\0';
	for (o = app_options; o->name != NULL && used < len; o++)
		if (o->section != NULL && strcmp(o->section, section) == 0)
			used += snprintf(buf + used, len - used, "%s%s",
					 used != 0 ? " " : "", o->key);
	return buf;
}

static void *
field_of(const struct app_option *o, struct app_params *p)
{
	return (char *)p + o->field;
}

/* digits only: strtoul would take "-1", " 7" and "+7" */
static int
set_uint(const struct app_option *o, const char *val, struct app_params *p,
	 char *buf, size_t len, const char **why)
{
	char *end = NULL;
	unsigned long v = 0;

	if (val[0] >= '0' && val[0] <= '9') {
		errno = 0;
		v = strtoul(val, &end, 10);
		if (*end == '\0' && errno == 0 && v >= o->min && v <= o->max) {
			if (o->size == sizeof(uint16_t))
				*(uint16_t *)field_of(o, p) = (uint16_t)v;
			else
				*(unsigned int *)field_of(o, p) = (unsigned int)v;
			return 0;
		}
	}
	snprintf(buf, len, "expected an integer in %lu..%lu", o->min, o->max);
	*why = buf;
	return -EINVAL;
}

static int
set_bridge_mac(const char *val, const struct app_opt_src *src,
	       struct app_params *p, const char **why)
{
	const char *at = strrchr(val, '@');
	char m[32], spec[64];
	uint64_t mac;
	uint16_t port;

	if (at == NULL || at[1] == '\0') {
		*why = "expected MAC@PORT";
		return -EINVAL;
	}
	snprintf(m, sizeof(m), "%.*s", (int)(at - val), val);
	if (bridge_mac_parse(m, &mac) != 0 || mac == 0 || bridge_mac_is_group(mac)) {
		*why = "expected a unicast MAC aa:bb:cc:dd:ee:ff before @";
		return -EINVAL;
	}
	if (p->nb_bridge_macs == RTE_DIM(p->bridge_macs)) {
		*why = "too many static entries";
		return -EINVAL;
	}
	/* The command line's ports are checked once the host interfaces
	 * exist (fwd_bridge.c); a config file's [port NAME] only means
	 * something now. */
	if (!src->config) {
		p->bridge_macs[p->nb_bridge_macs++] = val;
		return 0;
	}
	if (src->resolve(src->ctx, at + 1, &port) != 0) {
		*why = src->unknown_port;
		return -EINVAL;
	}
	snprintf(spec, sizeof(spec), "%s@%u", m, port);
	p->bridge_macs[p->nb_bridge_macs++] = strdup(spec);
	return 0;
}

int
app_option_set(const struct app_option *o, const char *val,
	       const struct app_opt_src *src, struct app_params *p,
	       char *buf, size_t len, const char **why)
{
	struct app_pair pr;
	int ret = 0;

	*why = NULL;
	switch (o->type) {
	case APP_OT_FLAG:
		*(bool *)field_of(o, p) = true;
		break;
	case APP_OT_UINT:
		ret = set_uint(o, val, p, buf, len, why);
		break;
	case APP_OT_STR:
		*(const char **)field_of(o, p) = src->config ? strdup(val) : val;
		break;
	case APP_OT_ENGINE:
		p->engine = fwd_engine_find(val);
		if (p->engine == NULL) {
			*why = fwd_engine_names(buf, len);
			ret = -EINVAL;
		}
		break;
	case APP_OT_LCORES:
		ret = app_parse_lcores(val, p->fwd_lcores, why);
		break;
	case APP_OT_RXMODE:
		ret = fwd_rx_mode_parse(val);
		if (ret < 0)
			*why = "expected poll, adaptive or interrupt";
		else
			*(unsigned int *)field_of(o, p) = (unsigned int)ret;
		ret = ret < 0 ? -EINVAL : 0;
		break;
	case APP_OT_PAIR:
		ret = app_parse_pair(val, src->resolve, src->ctx, &pr, why);
		if (ret == -ENOENT)
			*why = src->unknown_port;
		if (ret == 0)
			ret = app_add_pair(p, &pr, why);
		break;
	case APP_OT_HOSTIF:
		/* the port is resolved when the interfaces are made (hostif.c) */
		if (val[0] == '\0' || val[0] == '=')
			*why = "expected PORT, PORT=NAME or all";
		else if (p->nb_hostifs == RTE_DIM(p->hostifs))
			*why = "too many";
		else
			p->hostifs[p->nb_hostifs++] = val;
		break;
	case APP_OT_UPLINK:
		/* resolved with the roles (ports.c) */
		if (p->nb_uplinks == RTE_DIM(p->uplinks))
			*why = "too many";
		else
			p->uplinks[p->nb_uplinks++] = val;
		break;
	case APP_OT_BRIDGE_MAC:
		ret = set_bridge_mac(val, src, p, why);
		break;
	case APP_OT_HELP:
		return 1;
	case APP_OT_EARLY:
		break;
	}
	if (ret == 0 && *why != NULL)
		ret = -EINVAL;
	if (ret == 0 && o->given != APP_OPT_NO_FIELD)
		*(bool *)((char *)p + o->given) = true;
	return ret < 0 ? -EINVAL : ret;
}

/*
 * Ethdev names may hold ':' themselves (PCI addresses), so try every ':'
 * as the separator and accept exactly one split whose halves both resolve.
 */
int
app_parse_pair(const char *val,
	       int (*resolve)(const void *ctx, const char *name, uint16_t *port),
	       const void *ctx, struct app_pair *pr, const char **why)
{
	char buf[2 * RTE_ETH_NAME_MAX_LEN + 2];
	const char *colon;
	struct app_pair found = { 0, 0 };
	unsigned int nb_found = 0;
	uint16_t a, b;

	*why = NULL;
	if (strlen(val) >= sizeof(buf))
		*why = "too long";
	else if (strchr(val, ':') == NULL)
		*why = "expected A:B";
	if (*why != NULL)
		return -EINVAL;
	for (colon = strchr(val, ':'); colon != NULL; colon = strchr(colon + 1, ':')) {
		size_t alen = colon - val;

		memcpy(buf, val, alen);
		buf[alen] = '\0';
		if (resolve(ctx, buf, &a) != 0 || resolve(ctx, colon + 1, &b) != 0)
			continue;
		found.a = a;
		found.b = b;
		nb_found++;
	}
	if (nb_found == 0)
		return -ENOENT;
	if (nb_found > 1) {
		*why = "ambiguous: more than one way to split at ':'";
		return -EINVAL;
	}
	*pr = found;
	return 0;
}

int
app_add_pair(struct app_params *p, const struct app_pair *pr, const char **why)
{
	unsigned int i;

	for (i = 0; i < p->nb_pairs; i++) {
		const struct app_pair *o = &p->pairs[i];

		if (o->a == pr->a || o->b == pr->a || o->a == pr->b || o->b == pr->b) {
			*why = "a port is already in another pair";
			return -EINVAL;
		}
	}
	if (p->nb_pairs == RTE_DIM(p->pairs)) {
		*why = "too many pairs";
		return -EINVAL;
	}
	p->pairs[p->nb_pairs++] = *pr;
	return 0;
}

int
app_parse_lcores(const char *val, bool *lcores, const char **why)
{
	const char *s = val;
	char *end;
	unsigned long a, b, i;

	memset(lcores, 0, RTE_MAX_LCORE * sizeof(*lcores));
	*why = "expected a list of worker lcores such as 1 or 1,3-4";
	do {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		a = strtoul(s, &end, 10);
		b = a;
		if (*end == '-') {
			s = end + 1;
			if (*s < '0' || *s > '9')
				return -EINVAL;
			b = strtoul(s, &end, 10);
		}
		if (a > b || b >= RTE_MAX_LCORE)
			return -EINVAL;
		for (i = a; i <= b; i++) {
			if (!rte_lcore_is_enabled(i) || i == rte_get_main_lcore()) {
				*why = "not a worker lcore of -l/--lcores (the main lcore does not forward)";
				return -EINVAL;
			}
			lcores[i] = true;
		}
		s = end;
	} while (*s++ == ',');
	if (s[-1] != '\0')
		return -EINVAL;
	*why = NULL;
	return 0;
}

void
app_params_defaults(struct app_params *p)
{
	memset(p, 0, sizeof(*p));
	p->engine = fwd_engines[0];
	p->nb_rxq = 1;
	p->nb_txq = 1;
	p->nb_desc = APP_DEFAULT_NB_DESC;
	p->burst = APP_DEFAULT_BURST;
	p->bridge_aging = BRIDGE_DEFAULT_AGING;
	p->bridge_entries = BRIDGE_DEFAULT_ENTRIES;
	p->rx_mode = FWD_RXM_ADAPTIVE;
	p->rx_idle_us = APP_DEFAULT_RX_IDLE_US;
}

/* The default in words: dflt, or the field's value after the defaults. */
static const char *
option_default(const struct app_option *o, const struct app_params *d,
	       char *buf, size_t len)
{
	if (o->dflt != NULL)
		return o->dflt;
	if (o->type == APP_OT_ENGINE)
		return d->engine->name;
	if (o->type == APP_OT_RXMODE)
		return fwd_rx_mode_names[d->rx_mode];
	if (o->type != APP_OT_UINT)
		return NULL;
	if (o->size == sizeof(uint16_t))
		snprintf(buf, len, "%u", *(const uint16_t *)((const char *)d + o->field));
	else
		snprintf(buf, len, "%u", *(const unsigned int *)((const char *)d + o->field));
	return buf;
}

/* "-i, --interactive" or "--nb-desc N" */
static const char *
option_synopsis(const struct app_option *o, char *buf, size_t len)
{
	if (o->short_name != 0)
		snprintf(buf, len, "-%c, --%s", o->short_name, o->name);
	else
		snprintf(buf, len, "--%s%s%s", o->name, o->arg != NULL ? " " : "",
			 o->arg != NULL ? o->arg : "");
	return buf;
}

/* text's lines, the first after what is printed already, the others
 * indented by indent */
static void
print_lines(FILE *f, const char *text, int indent)
{
	const char *nl;

	for (;;) {
		nl = strchr(text, '\n');
		if (nl == NULL) {
			fprintf(f, "%s\n", text);
			return;
		}
		fprintf(f, "%.*s\n%*s", (int)(nl - text), text, indent, "");
		text = nl + 1;
	}
}

#define USAGE_COL 22

void
app_options_usage(FILE *f)
{
	const struct app_option *o;
	struct app_params d;
	char syn[64], dflt[32];
	const char *s, *dv;
	unsigned int i;

	app_params_defaults(&d);
	for (o = app_options; o->name != NULL; o++) {
		s = option_synopsis(o, syn, sizeof(syn));
		fprintf(f, "  %s", s);
		if (strlen(s) + 3 > USAGE_COL)
			fprintf(f, "\n%*s", USAGE_COL, "");
		else
			fprintf(f, "%*s", (int)(USAGE_COL - 2 - strlen(s)), "");
		print_lines(f, o->help, USAGE_COL);
		if (o->type == APP_OT_ENGINE)
			for (i = 0; fwd_engines[i] != NULL; i++)
				fprintf(f, "%*s  %-8s %s\n", USAGE_COL, "",
					fwd_engines[i]->name, fwd_engines[i]->help);
		dv = option_default(o, &d, dflt, sizeof(dflt));
		if (o->type == APP_OT_UINT)
			fprintf(f, "%*s(%lu..%lu, default %s)\n", USAGE_COL, "",
				o->min, o->max, dv);
		else if (dv != NULL && !app_option_is_list(o))
			fprintf(f, "%*s(default %s)\n", USAGE_COL, "", dv);
	}
}

void
app_options_markdown(FILE *f)
{
	const struct app_option *o;
	struct app_params d;
	char syn[64], dflt[32];
	const char *dv;

	app_params_defaults(&d);
	for (o = app_options; o->name != NULL; o++) {
		if (o->short_name != 0)
			fprintf(f, "`-%c`, `--%s`\n", o->short_name, o->name);
		else
			fprintf(f, "`%s`\n", option_synopsis(o, syn, sizeof(syn)));
		fprintf(f, ": ");
		print_lines(f, o->doc, 2);
		dv = option_default(o, &d, dflt, sizeof(dflt));
		if (o->type == APP_OT_UINT)
			fprintf(f, "  Range %lu..%lu.", o->min, o->max);
		if (dv != NULL)
			fprintf(f, "%sDefault: %s.", o->type == APP_OT_UINT ? " " : "  ", dv);
		if (o->type == APP_OT_UINT || dv != NULL)
			fprintf(f, "\n");
		if (o->section != NULL)
			fprintf(f, "  Config file: `[%s] %s`.\n", o->section, o->key);
		else if (o->type == APP_OT_FLAG || o->type == APP_OT_STR)
			fprintf(f, "  Command line only.\n");
		if (o[1].name != NULL)
			fprintf(f, "\n");
	}
}
