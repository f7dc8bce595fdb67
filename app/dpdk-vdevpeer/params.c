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
#include <rte_lcore.h>
#include <rte_pmd_vdevpeer.h>

#include "bridge.h"
#include "app_params.h"
#include "engines.h"
#include "params.h"
#include "ports.h"
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
	OPT_INTERACTIVE,
	OPT_CMDLINE_FILE,
	OPT_CONFIG,
	OPT_WAIT_LINKS,
	OPT_FWD_LCORES,
	OPT_DUMP_COMMANDS,
	OPT_DUMP_XSTATS,
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
	{ "interactive",  no_argument,       NULL, OPT_INTERACTIVE },
	{ "cmdline-file", required_argument, NULL, OPT_CMDLINE_FILE },
	{ "config",       required_argument, NULL, OPT_CONFIG },
	{ "wait-links",   required_argument, NULL, OPT_WAIT_LINKS },
	{ "fwd-lcores",   required_argument, NULL, OPT_FWD_LCORES },
	{ "dump-commands", no_argument,      NULL, OPT_DUMP_COMMANDS },
	{ "dump-xstats",   no_argument,      NULL, OPT_DUMP_XSTATS },
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
	       "statistics. Stops cleanly on SIGINT/SIGTERM. Without -i it never\n"
	       "reads stdin.\n"
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
	       "  -i, --interactive   console on stdin (testpmd-like; `help` lists\n"
	       "                      the commands); forwarding starts with\n"
	       "                      `start` unless --auto-start\n"
	       "  --cmdline-file FILE run the console commands in FILE at start\n"
	       "                      (with or without -i)\n"
	       "  --config FILE       INI file: ports, forwarding, lcores, stats\n"
	       "                      (see config/); options given here override it\n"
	       "  --wait-links SEC    before forwarding, wait up to SEC s for every\n"
	       "                      port's link, showing progress (default 0)\n"
	       "  --fwd-lcores LIST   worker lcores that forward, e.g. 1 or 1-3\n"
	       "                      (default: every worker lcore)\n"
	       "  --dump-commands     print the console command reference\n"
	       "                      (markdown) and exit\n"
	       "  --dump-xstats       print what each net_vdevpeer xstat counts\n"
	       "                      (markdown) and exit\n"
	       "  --help              this text\n",
	       APP_MAX_QUEUES, APP_MAX_QUEUES, APP_DEFAULT_NB_DESC,
	       APP_DEFAULT_BURST, APP_MAX_BURST, APP_DEFAULT_MBUFS,
	       BRIDGE_DEFAULT_AGING, BRIDGE_DEFAULT_ENTRIES);
}

static bool
app_args_have(int argc, char **argv, const char *a, const char *b)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			break;
	for (i++; i < argc; i++)
		if (strcmp(argv[i], a) == 0 || (b != NULL && strcmp(argv[i], b) == 0))
			return true;
	return false;
}

bool
app_args_want_help(int argc, char **argv)
{
	return app_args_have(argc, argv, "--help", "-h");
}

bool
app_args_want_dump(int argc, char **argv)
{
	return app_args_have(argc, argv, "--dump-commands", NULL);
}

bool
app_args_want_dump_xstats(int argc, char **argv)
{
	return app_args_have(argc, argv, "--dump-xstats", NULL);
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

/*
 * Ethdev names may hold ':' themselves (PCI addresses), so try every ':'
 * as the separator and accept exactly one split whose halves both resolve.
 */
int
app_parse_pair(const char *val, struct app_pair *pr, const char **why)
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
		if (ports_resolve(buf, &a) != 0 || ports_resolve(colon + 1, &b) != 0)
			continue;
		found.a = a;
		found.b = b;
		nb_found++;
	}
	if (nb_found == 0)
		*why = "unknown port (not a port id, bind name or ethdev name)";
	else if (nb_found > 1)
		*why = "ambiguous: more than one way to split at ':'";
	if (*why != NULL)
		return -EINVAL;
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

static int
add_pair(struct app_params *p, const char *val)
{
	struct app_pair pr;
	const char *why;

	if (app_parse_pair(val, &pr, &why) != 0 || app_add_pair(p, &pr, &why) != 0)
		return bad_value("pair", val, why);
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
}

int
app_parse_args(int argc, char **argv, struct app_params *p)
{
	unsigned long v;
	int opt, ret = 0;

	char names[64];
	const char *why;

	optind = 1;
	opterr = 0;
	while (ret == 0 &&
	       (opt = getopt_long(argc, argv, ":hi", app_long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_FWD:
			p->engine = fwd_engine_find(optarg);
			if (p->engine == NULL)
				ret = bad_value("fwd", optarg,
						fwd_engine_names(names, sizeof(names)));
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
			p->stats_period_set = true;
			break;
		case 'i':
		case OPT_INTERACTIVE:
			p->interactive = true;
			break;
		case OPT_CMDLINE_FILE:
			p->cmdline_file = optarg;
			break;
		case OPT_CONFIG:
			break;  /* loaded first */
		case OPT_DUMP_COMMANDS:
		case OPT_DUMP_XSTATS:
			break;  /* handled before EAL init */
		case OPT_WAIT_LINKS:
			ret = parse_uint("wait-links", optarg, 0, 86400, &v);
			p->wait_links = v;
			break;
		case OPT_FWD_LCORES:
			if (app_parse_lcores(optarg, p->fwd_lcores, &why) != 0)
				ret = bad_value("fwd-lcores", optarg, why);
			p->lcore_set = true;
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
	if (ret == 0 && p->engine->no_pairs && p->nb_pairs != 0) {
		fprintf(stderr, "%s: --pair: not used by --fwd %s (every port "
			"is a member)\n", APP_NAME, p->engine->name);
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
