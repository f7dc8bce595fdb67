/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpdk-vdevpeer: EAL set-up, signals and the main lcore's run loop (a
 * service loop, or the interactive console). This is the only file that
 * may call rte_exit().
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_pdump.h>

#include "app_params.h"
#include "config.h"
#include "console.h"
#include "control.h"
#include "fwd.h"
#include "fwd_bridge.h"
#include "hostif.h"
#include "options.h"
#include "params.h"
#include "ports.h"
#include "quit.h"
#include "stats.h"
#include "vdevpeer_app.h"

/* The main lcore sleeps this long between checks of the quit flag. */
#define MAIN_TICK_US (100 * 1000)

/* The console's topics, in the order its help shows them. */
static const struct con_topic *const app_con_topics[] = {
	&con_topic_fwd,
	&con_topic_port,
	&con_topic_peer,
	&con_topic_system,
	&con_topic_bridge,
	NULL,
};

static volatile sig_atomic_t quit_signal;

static void
on_signal(int sig)
{
	quit_signal = sig;
	app_request_quit();
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed stdout pipe must not kill us with ports still open. */
	signal(SIGPIPE, SIG_IGN);
}

/* Bad options or configuration: the error line is already on stderr. */
static void __rte_noreturn
exit_usage(void)
{
	rte_eal_cleanup();
	exit(APP_EXIT_USAGE);
}

static uint64_t stats_next;

/* Periodic statistics, from the service loop or the console's poll loop. */
static void
stats_tick(void)
{
	uint64_t period = (uint64_t)app.params.stats_period * rte_get_timer_hz();
	const struct fwd_engine *e = app.params.engine;

	if (e->tick != NULL)
		e->tick();
	if (period == 0)
		return;
	if (stats_next == 0)
		stats_next = rte_get_timer_cycles() + period;
	if (rte_get_timer_cycles() >= stats_next) {
		stats_print_period(&app.ports, &app.fc);
		if (e->stats != NULL)
			e->stats(false);
		stats_next += period;
	}
}

static void
run_service_loop(void)
{
	while (!app_quit_requested()) {
		rte_delay_us_sleep(MAIN_TICK_US);
		stats_tick();
	}
}

/*
 * [eal] of --config FILE, before EAL starts: reserve the hugepages it asks
 * for, and take its EAL options when the command line has none (a service
 * runs `dpdk-vdevpeer -- --config FILE`). 0, or the exit code.
 */
static int
config_before_eal(int *argc, char ***argv)
{
	const char *path = config_path_in_argv(*argc, *argv);
	struct config_eal ce;
	char **nargv, *save = NULL, *tok;
	int n = 0;

	if (path == NULL)
		return 0;
	if (config_eal(path, &ce) != 0)
		return APP_EXIT_USAGE;
	if (ce.hugepages != 0 && config_reserve_hugepages(ce.hugepages) != 0)
		return EXIT_FAILURE;
	if (ce.args[0] == '\0')
		return 0;
	if (*argc < 2 || strcmp((*argv)[1], "--") != 0) {
		fprintf(stderr, "%s: EAL options both on the command line and in [eal] args "
			"of %s: give them in one place\n", APP_NAME, path);
		return APP_EXIT_USAGE;
	}
	/* argv[0], the file's options, then "--" and the application's:
	 * EAL keeps pointers into argv, so neither is ever freed. */
	nargv = calloc((size_t)*argc + sizeof(ce.args) / 2 + 2, sizeof(*nargv));
	tok = strdup(ce.args);
	if (nargv == NULL || tok == NULL) {
		free(nargv);
		free(tok);
		return EXIT_FAILURE;
	}
	nargv[n++] = (*argv)[0];
	for (tok = strtok_r(tok, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save))
		nargv[n++] = tok;
	printf("EAL options from %s: %s\n", path, ce.args);
	for (int i = 1; i < *argc; i++)
		nargv[n++] = (*argv)[i];
	*argc = n;
	*argv = nargv;
	return 0;
}

int
main(int argc, char **argv)
{
	struct app_params *params = &app.params;
	char **eal_argv;
	int ret;

	/* --help and --dump-* need neither EAL nor root. */
	if (app_args_want_help(argc, argv)) {
		app_usage(argv[0]);
		return 0;
	}
	console_set_topics(app_con_topics);
	if (app_args_want_dump(argc, argv)) {
		console_dump_markdown(stdout);
		return 0;
	}
	if (app_args_want_dump_xstats(argc, argv)) {
		stats_dump_xstats_markdown(stdout);
		fwd_bridge_counters_markdown(stdout);
		return 0;
	}
	if (app_args_want_dump_options(argc, argv)) {
		app_options_markdown(stdout);
		return 0;
	}
	/* Logs go to files and pipes: a line at a time, as on a terminal. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = config_before_eal(&argc, &argv);
	if (ret != 0)
		return ret;
	/* EAL reorders argv; keep the original to check the --vdev list. */
	eal_argv = calloc(argc + 1, sizeof(*eal_argv));
	if (eal_argv == NULL)
		return EXIT_FAILURE;
	memcpy(eal_argv, argv, argc * sizeof(*eal_argv));
	rte_set_application_usage_hook(app_usage);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		/* EAL is not initialised: no rte_exit()/rte_eal_cleanup(). */
		fprintf(stderr, "%s: EAL initialisation failed: %s\n",
			APP_NAME, rte_strerror(rte_errno));
		free(eal_argv);
		return rte_errno == EINVAL ? APP_EXIT_USAGE : EXIT_FAILURE;
	}
	if (ports_check_vdevs(argc, eal_argv) != 0) {
		free(eal_argv);
		exit_usage();
	}
	free(eal_argv);
	argc -= ret;
	argv += ret;
	install_signals();

	app_params_defaults(params);
	ret = config_load_args(argc, argv, params);
	if (ret == 0)
		ret = app_parse_args(argc, argv, params);
	if (ret == 1) {
		rte_eal_cleanup();
		return 0;
	}
	if (ret < 0)
		exit_usage();
	if (params->cmdline_file != NULL && access(params->cmdline_file, R_OK) != 0) {
		fprintf(stderr, "%s: --cmdline-file %s: %s\n", APP_NAME,
			params->cmdline_file, strerror(errno));
		exit_usage();
	}
	/* In the console, periodic tables would bury the prompt: only when
	 * asked for on the command line. */
	if (params->interactive && !params->stats_period_set)
		params->stats_period = 0;
	/* dpdk-dumpcap / dpdk-pdump attach as secondary processes and ask
	 * us, through this, to copy the frames of a port to them. */
	ret = rte_pdump_init();
	if (ret != 0)
		printf("Packet capture unavailable: rte_pdump_init: %s\n",
		       rte_strerror(rte_errno));

	ret = hostif_create(params, &app.ports);
	if (ret == 0)
		ret = ports_assign_roles(params, &app.ports);
	if (ret != 0) {
		ports_teardown(&app.ports);
		if (ret == -EINVAL)
			exit_usage();
		rte_exit(EXIT_FAILURE, "cannot create host interfaces\n");
	}
	ports_describe(&app.ports);
	if (fwd_select_ports(params, &app.ports) != 0)
		exit_usage();
	if (params->engine->init != NULL) {
		ret = params->engine->init(params, &app.ports);
		if (ret == -EINVAL) {
			ports_teardown(&app.ports);
			exit_usage();
		}
		if (ret != 0)
			rte_exit(EXIT_FAILURE, "cannot set up --fwd %s\n",
				 params->engine->name);
	}
	printf("Forwarding mode %s: burst %u, %u rxq / %u txq of %u descriptors "
	       "per port, stats every %u s%s\n",
	       params->engine->name, params->burst, params->nb_rxq,
	       params->nb_txq, params->nb_desc, params->stats_period,
	       params->stats_period == 0 ? " (off)" : "");
	ret = ports_setup(params, &app.ports);
	if (ret != 0) {
		ports_teardown(&app.ports);
		if (ret == -EINVAL)
			exit_usage();
		rte_exit(EXIT_FAILURE, "port set-up failed\n");
	}
	stats_init(&app.ports);
	/* engines with a tick (bridge) finish their set-up on the first one */
	if (params->engine->tick != NULL)
		params->engine->tick();
	if (console_init() != 0) {
		ports_teardown(&app.ports);
		rte_exit(EXIT_FAILURE, "cannot build the console's commands\n");
	}
	if (params->wait_links != 0)
		ports_wait_links(&app.ports, params->wait_links);

	if (!params->interactive || params->auto_start) {
		ret = ctl_fwd_start();
		if (ret == -EINVAL) {
			ports_teardown(&app.ports);
			exit_usage();
		}
		if (ret != 0) {
			ports_teardown(&app.ports);
			rte_exit(EXIT_FAILURE, "cannot start forwarding\n");
		}
	}
	if (params->cmdline_file != NULL)
		console_run_file(params->cmdline_file);
	if (params->interactive) {
		printf("Interactive console: `help` lists the commands, TAB "
		       "completes, `quit` exits\n");
		console_interactive(stats_tick);
	} else if (!app_quit_requested()) {
		printf("Forwarding started (SIGINT or SIGTERM stops)\n");
		run_service_loop();
	}

	if (quit_signal != 0)
		printf("\nSignal %d received: stopping\n", (int)quit_signal);
	else
		printf("Stopping\n");
	if (app.fwd_running) {
		fwd_stop_and_wait(APP_DRAIN_MS);
		app.fwd_running = false;
	}
	stats_print_final(&app.ports, &app.fc);
	if (app.params.engine->stats != NULL)
		app.params.engine->stats(true);
	ports_teardown(&app.ports);
	if (app.params.engine->fini != NULL)
		app.params.engine->fini();
	fwd_free(&app.fc);
	rte_pdump_uninit();
	rte_eal_cleanup();
	printf("Bye\n");
	return 0;
}
