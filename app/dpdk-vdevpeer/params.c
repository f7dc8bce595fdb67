/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Application options (the part of argv after EAL's "--"). Every error is
 * one line on stderr that names the option and the value.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_pmd_vdevpeer.h>

#include "bridge.h"
#include "vdevpeer_app.h"

enum {
	OPT_FWD = 256,
	OPT_PAIR,
	OPT_RXQ,
	OPT_TXQ,
	OPT_NB_DESC,
	OPT_BURST,
	OPT_AUTO_START,
	OPT_STATS_PERIOD,
	OPT_MBUFS,
	OPT_HELP,
	/* host interfaces, uplinks, bridge */
	OPT_HOST_IF,
	OPT_UPLINK,
	OPT_BRIDGE_AGING,
	OPT_BRIDGE_MAC,
	OPT_BRIDGE_ENTRIES,
};

static const struct option app_long_opts[] = {
	{ "fwd",          required_argument, NULL, OPT_FWD },
	{ "pair",         required_argument, NULL, OPT_PAIR },
	{ "rxq",          required_argument, NULL, OPT_RXQ },
	{ "txq",          required_argument, NULL, OPT_TXQ },
	{ "nb-desc",      required_argument, NULL, OPT_NB_DESC },
	{ "burst",        required_argument, NULL, OPT_BURST },
	{ "auto-start",   no_argument,       NULL, OPT_AUTO_START },
	{ "stats-period", required_argument, NULL, OPT_STATS_PERIOD },
	{ "mbufs",        required_argument, NULL, OPT_MBUFS },
	{ "help",         no_argument,       NULL, OPT_HELP },
	{ "host-if",        required_argument, NULL, OPT_HOST_IF },
	{ "uplink",         required_argument, NULL, OPT_UPLINK },
	{ "bridge-aging",   required_argument, NULL, OPT_BRIDGE_AGING },
	{ "bridge-mac",     required_argument, NULL, OPT_BRIDGE_MAC },
	{ "bridge-entries", required_argument, NULL, OPT_BRIDGE_ENTRIES },
	{ NULL, 0, NULL, 0 },
};

void
app_usage(const char *prgname)
{
	unsigned int i;

	printf("Usage: %s [EAL options] -- [options]\n"
	       "\n"
	       "Forwards frames between ethdev ports (net_vdevpeer guests, or any\n"
	       "other DPDK port) on the worker lcores; the main lcore prints\n"
	       "statistics. Stops cleanly on SIGINT/SIGTERM; never reads stdin.\n"
	       "\n"
	       "Options:\n"
	       "  --fwd MODE          forwarding mode (default io):\n",
	       prgname);
	for (i = 0; fwd_engines[i] != NULL; i++)
		printf("                        %-8s %s\n",
		       fwd_engines[i]->name, fwd_engines[i]->help);
	printf("  --pair A:B          forward between ports A and B, both ways;\n"
	       "                      repeatable. A port is a port id, the bind\n"
	       "                      name of a net_vdevpeer port (vp0) or an\n"
	       "                      ethdev name (net_vhost0). A:A loops a port\n"
	       "                      back to itself. Default: 0:1, 2:3, ...\n"
	       "  --rxq N             rx queues per port (default 1, max %u)\n"
	       "  --txq N             tx queues per port (default 1, max %u)\n"
	       "  --nb-desc N         descriptors per rx/tx ring (default %u)\n"
	       "  --burst N           packets per rx/tx burst (default %u, max %u)\n"
	       "  --auto-start        start forwarding at once (always the case\n"
	       "                      without an interactive console)\n"
	       "  --stats-period SEC  print a per-port table every SEC seconds\n"
	       "                      (default 0: only at exit)\n"
	       "  --mbufs N           mbufs per NUMA socket (default: enough for\n"
	       "                      all rings and bursts, at least %u)\n"
	       "  --host-if PORT[=NAME]  give guest port PORT (bind name, e.g.\n"
	       "                      vp0) a kernel interface NAME (default: the\n"
	       "                      bind name) through net_tap; 'all': every\n"
	       "                      guest port. Repeatable. In io mode a guest\n"
	       "                      is paired with its interface; in bridge\n"
	       "                      mode the interface is a bridge member\n"
	       "  --uplink PORT       PORT (ethdev name, id) is an uplink to the\n"
	       "                      world (e.g. a NIC: -a 0000:02:00.0);\n"
	       "                      repeatable; shown in the port list\n"
	       "  --bridge-aging SEC  bridge: forget MACs not seen for SEC seconds\n"
	       "                      (default %u, 0 = never)\n"
	       "  --bridge-mac MAC@PORT  bridge: static entry; repeatable\n"
	       "  --bridge-entries N  bridge: MAC table size (default %u)\n"
	       "  --help              this text\n",
	       APP_MAX_QUEUES, APP_MAX_QUEUES, APP_DEFAULT_NB_DESC,
	       APP_DEFAULT_BURST, APP_MAX_BURST, APP_DEFAULT_MBUFS,
	       BRIDGE_DEFAULT_AGING, BRIDGE_DEFAULT_ENTRIES);
}

bool
app_args_want_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			break;
	for (i++; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

static int
bad_value(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "%s: --%s: bad value '%s': %s\n", APP_NAME, opt, val, why);
	return -EINVAL;
}

static int
parse_uint(const char *opt, const char *val, unsigned long min,
	   unsigned long max, unsigned long *out)
{
	char why[64];
	char *end = NULL;
	unsigned long v = 0;
	bool ok = false;

	/* strtoul would take "-1", " 7" and "+7": digits only. */
	if (val[0] >= '0' && val[0] <= '9') {
		errno = 0;
		v = strtoul(val, &end, 10);
		ok = *end == '\0' && errno == 0 && v >= min && v <= max;
	}
	if (!ok) {
		snprintf(why, sizeof(why), "expected an integer in %lu..%lu",
			 min, max);
		return bad_value(opt, val, why);
	}
	*out = v;
	return 0;
}

/* A port id, a net_vdevpeer bind name, or an ethdev name. */
int
app_resolve_port(const char *tok, uint16_t *port)
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

/*
 * Ethdev names may hold ':' themselves (PCI addresses), so try every ':'
 * as the separator and accept exactly one split whose halves both resolve.
 */
static int
parse_pair(const char *val, struct app_pair *pr)
{
	char buf[2 * RTE_ETH_NAME_MAX_LEN + 2];
	char *colon;
	struct app_pair found = { 0, 0 };
	unsigned int nb_found = 0;
	uint16_t a, b;

	if (strlen(val) >= sizeof(buf))
		return bad_value("pair", val, "too long");
	if (strchr(val, ':') == NULL)
		return bad_value("pair", val, "expected A:B");
	for (colon = strchr(val, ':'); colon != NULL; colon = strchr(colon + 1, ':')) {
		size_t alen = colon - val;

		memcpy(buf, val, alen);
		buf[alen] = '\0';
		if (app_resolve_port(buf, &a) != 0 || app_resolve_port(colon + 1, &b) != 0)
			continue;
		found.a = a;
		found.b = b;
		nb_found++;
	}
	if (nb_found == 0)
		return bad_value("pair", val,
				 "unknown port (not a port id, bind name or ethdev name)");
	if (nb_found > 1)
		return bad_value("pair", val, "ambiguous: more than one way to split at ':'");
	*pr = found;
	return 0;
}

static int
add_pair(struct app_params *p, const char *val)
{
	struct app_pair pr;
	unsigned int i;
	int ret;

	ret = parse_pair(val, &pr);
	if (ret != 0)
		return ret;
	for (i = 0; i < p->nb_pairs; i++) {
		const struct app_pair *o = &p->pairs[i];

		if (o->a == pr.a || o->b == pr.a || o->a == pr.b || o->b == pr.b)
			return bad_value("pair", val, "a port is already in another pair");
	}
	if (p->nb_pairs == RTE_DIM(p->pairs))
		return bad_value("pair", val, "too many pairs");
	p->pairs[p->nb_pairs++] = pr;
	return 0;
}

/*
 * Host interfaces, uplinks and the bridge. Port names are checked later,
 * once the host interfaces exist (hostif.c, ports.c, fwd_bridge.c).
 */
static int
parse_bridge_opt(struct app_params *p, int opt, const char *val)
{
	unsigned long v;
	uint64_t mac;
	const char *at;
	int ret;

	switch (opt) {
	case OPT_HOST_IF:
		if (val[0] == '\0' || val[0] == '=')
			return bad_value("host-if", val, "expected PORT, PORT=NAME or all");
		if (p->nb_hostifs == RTE_DIM(p->hostifs))
			return bad_value("host-if", val, "too many");
		p->hostifs[p->nb_hostifs++] = val;
		return 0;
	case OPT_UPLINK:
		if (p->nb_uplinks == RTE_DIM(p->uplinks))
			return bad_value("uplink", val, "too many");
		p->uplinks[p->nb_uplinks++] = val;
		return 0;
	case OPT_BRIDGE_MAC:
		at = strrchr(val, '@');
		if (at == NULL || at[1] == '\0')
			return bad_value("bridge-mac", val, "expected MAC@PORT");
		{
			char m[32];

			snprintf(m, sizeof(m), "%.*s", (int)(at - val), val);
			if (bridge_mac_parse(m, &mac) != 0 || mac == 0 ||
			    bridge_mac_is_group(mac))
				return bad_value("bridge-mac", val,
						 "expected a unicast MAC aa:bb:cc:dd:ee:ff");
		}
		if (p->nb_bridge_macs == RTE_DIM(p->bridge_macs))
			return bad_value("bridge-mac", val, "too many");
		p->bridge_macs[p->nb_bridge_macs++] = val;
		return 0;
	case OPT_BRIDGE_AGING:
		ret = parse_uint("bridge-aging", val, 0, 1000000, &v);
		p->bridge_aging = v;
		return ret;
	case OPT_BRIDGE_ENTRIES:
		ret = parse_uint("bridge-entries", val, 16, 1UL << 24, &v);
		p->bridge_entries = v;
		return ret;
	}
	return -EINVAL;
}

int
app_parse_args(int argc, char **argv, struct app_params *p)
{
	unsigned long v;
	int opt, ret = 0;

	memset(p, 0, sizeof(*p));
	p->engine = &fwd_io_engine;
	p->nb_rxq = 1;
	p->nb_txq = 1;
	p->nb_desc = APP_DEFAULT_NB_DESC;
	p->burst = APP_DEFAULT_BURST;
	p->bridge_aging = BRIDGE_DEFAULT_AGING;
	p->bridge_entries = BRIDGE_DEFAULT_ENTRIES;

	optind = 1;
	opterr = 0;
	while (ret == 0 &&
	       (opt = getopt_long(argc, argv, ":h", app_long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_FWD:
			p->engine = fwd_engine_find(optarg);
			if (p->engine == NULL)
				ret = bad_value("fwd", optarg,
						"expected io, macswap, rxonly or bridge");
			break;
		case OPT_PAIR:
			ret = add_pair(p, optarg);
			break;
		case OPT_RXQ:
			ret = parse_uint("rxq", optarg, 1, APP_MAX_QUEUES, &v);
			p->nb_rxq = v;
			break;
		case OPT_TXQ:
			ret = parse_uint("txq", optarg, 1, APP_MAX_QUEUES, &v);
			p->nb_txq = v;
			break;
		case OPT_NB_DESC:
			ret = parse_uint("nb-desc", optarg, 1, 32768, &v);
			p->nb_desc = v;
			break;
		case OPT_BURST:
			ret = parse_uint("burst", optarg, 1, APP_MAX_BURST, &v);
			p->burst = v;
			break;
		case OPT_AUTO_START:
			p->auto_start = true;
			break;
		case OPT_STATS_PERIOD:
			ret = parse_uint("stats-period", optarg, 0, 86400, &v);
			p->stats_period = v;
			break;
		case OPT_MBUFS:
			ret = parse_uint("mbufs", optarg, 512, 1UL << 26, &v);
			p->nb_mbufs = v;
			break;
		case OPT_HOST_IF:
		case OPT_UPLINK:
		case OPT_BRIDGE_MAC:
		case OPT_BRIDGE_AGING:
		case OPT_BRIDGE_ENTRIES:
			ret = parse_bridge_opt(p, opt, optarg);
			break;
		case 'h':
		case OPT_HELP:
			/* Normally caught before EAL init by app_args_want_help(). */
			app_usage(argv[0]);
			return 1;
		case ':':
			fprintf(stderr, "%s: %s: missing value\n", APP_NAME,
				argv[optind - 1]);
			ret = -EINVAL;
			break;
		default:
			fprintf(stderr, "%s: %s: unknown option (see --help)\n",
				APP_NAME, argv[optind - 1]);
			ret = -EINVAL;
			break;
		}
	}
	if (ret == 0 && p->engine == &fwd_bridge_engine && p->nb_pairs != 0) {
		fprintf(stderr, "%s: --pair: not used by --fwd bridge (every port "
			"is a bridge member)\n", APP_NAME);
		ret = -EINVAL;
	}
	if (ret == 0 && optind < argc) {
		fprintf(stderr, "%s: %s: unexpected argument (see --help)\n",
			APP_NAME, argv[optind]);
		ret = -EINVAL;
	}
	optind = 1;
	return ret;
}
