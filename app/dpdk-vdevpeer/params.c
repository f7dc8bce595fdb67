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

#include "app_params.h"
#include "engines.h"
#include "options.h"
#include "params.h"
#include "ports.h"
#include "vdevpeer_app.h"

/* getopt's table is built from app_options: at most this many */
#define APP_MAX_OPTIONS 64

void
app_usage(const char *prgname)
{
	printf("Usage: %s [EAL options] -- [options]\n"
	       "\n"
	       "Forwards frames between ethdev ports (net_vdevpeer guests, or any\n"
	       "other DPDK port) on the worker lcores; the main lcore prints\n"
	       "statistics. Stops cleanly on SIGINT/SIGTERM. Without -i it never\n"
	       "reads stdin. Most options can also be set in a --config file.\n"
	       "\n"
	       "Options:\n", prgname);
	app_options_usage(stdout);
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

bool
app_args_want_dump_options(int argc, char **argv)
{
	return app_args_have(argc, argv, "--dump-options", NULL);
}

static int
bad_value(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "%s: --%s: bad value '%s': %s\n", APP_NAME, opt, val, why);
	return -EINVAL;
}

static int
resolve_port(const void *ctx, const char *name, uint16_t *port)
{
	RTE_SET_USED(ctx);
	return ports_resolve(name, port);
}

int
app_parse_args(int argc, char **argv, struct app_params *p)
{
	static const struct app_opt_src cmdline = {
		.resolve = resolve_port,
		.unknown_port = "unknown port (not a port id, bind name or ethdev name)",
	};
	struct option longopts[APP_MAX_OPTIONS + 1];
	char shortopts[32] = ":";
	const struct app_option *o;
	unsigned int n = 0;
	size_t ns = 1;
	char buf[128];
	const char *why;
	int opt, ret = 0;

	/* getopt's tables from ours: val is the option's index + 256 */
	for (o = app_options; o->name != NULL; o++, n++) {
		RTE_VERIFY(n < APP_MAX_OPTIONS);
		longopts[n] = (struct option){ o->name,
			o->arg != NULL ? required_argument : no_argument, NULL, 256 + (int)n };
		if (o->short_name != 0 && ns + 2 < sizeof(shortopts)) {
			shortopts[ns++] = o->short_name;
			if (o->arg != NULL)
				shortopts[ns++] = ':';
		}
	}
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[ns] = '\0';

	optind = 1;
	opterr = 0;
	while (ret == 0 &&
	       (opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (opt == ':') {
			fprintf(stderr, "%s: %s: missing value\n", APP_NAME,
				argv[optind - 1]);
			ret = -EINVAL;
			break;
		}
		o = NULL;
		if (opt >= 256 && opt < 256 + (int)n)
			o = &app_options[opt - 256];
		for (const struct app_option *s = app_options; o == NULL && s->name != NULL; s++)
			if (s->short_name != 0 && s->short_name == opt)
				o = s;
		if (o == NULL) {
			fprintf(stderr, "%s: %s: unknown option (see --help)\n",
				APP_NAME, argv[optind - 1]);
			ret = -EINVAL;
			break;
		}
		ret = app_option_set(o, optarg, &cmdline, p, buf, sizeof(buf), &why);
		if (ret == 1) {
			/* Normally caught before EAL init by app_args_want_help(). */
			app_usage(argv[0]);
			return 1;
		}
		if (ret != 0)
			bad_value(o->name, optarg, why);
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
