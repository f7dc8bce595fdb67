/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpdk-vdevpeer: EAL set-up, signals and the main lcore's run loop.
 * This is the only file that may call rte_exit().
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "vdevpeer_app.h"

/* The main lcore sleeps this long between checks of the quit flag. */
#define MAIN_TICK_US (100 * 1000)

static volatile sig_atomic_t quit_signal;

static void
on_signal(int sig)
{
	quit_signal = sig;
	fwd_request_quit();
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

static void
run_main_loop(const struct app_params *p, const struct app_ports *ap,
	      const struct fwd_config *fc)
{
	uint64_t hz = rte_get_timer_hz();
	uint64_t period = (uint64_t)p->stats_period * hz;
	uint64_t next = rte_get_timer_cycles() + period;

	while (!fwd_quit_requested()) {
		rte_delay_us_sleep(MAIN_TICK_US);
		if (p->engine->tick != NULL)
			p->engine->tick();
		if (period != 0 && rte_get_timer_cycles() >= next) {
			stats_print_period(ap, fc);
			if (p->engine->stats != NULL)
				p->engine->stats(false);
			next += period;
		}
	}
}

int
main(int argc, char **argv)
{
	struct app_params params;
	struct app_ports ports;
	struct fwd_config fc;
	char **eal_argv;
	int ret;

	/* --help needs neither EAL nor root. */
	if (app_args_want_help(argc, argv)) {
		app_usage(argv[0]);
		return 0;
	}
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

	memset(&ports, 0, sizeof(ports));
	memset(&fc, 0, sizeof(fc));
	ret = app_parse_args(argc, argv, &params);
	if (ret == 1) {
		rte_eal_cleanup();
		return 0;
	}
	if (ret < 0)
		exit_usage();

	ret = hostif_create(&params, &ports);
	if (ret == 0)
		ret = ports_assign_roles(&params, &ports);
	if (ret != 0) {
		ports_teardown(&ports);
		if (ret == -EINVAL)
			exit_usage();
		rte_exit(EXIT_FAILURE, "cannot create host interfaces\n");
	}
	ports_describe(&ports);
	if (ports_select(&params, &ports) != 0)
		exit_usage();
	if (params.engine->init != NULL) {
		ret = params.engine->init(&params, &ports);
		if (ret == -EINVAL) {
			ports_teardown(&ports);
			exit_usage();
		}
		if (ret != 0)
			rte_exit(EXIT_FAILURE, "cannot set up --fwd %s\n",
				 params.engine->name);
	}
	ret = fwd_build_streams(&params, &ports, &fc);
	if (ret == -EINVAL)
		exit_usage();
	if (ret != 0)
		rte_exit(EXIT_FAILURE, "cannot build streams\n");

	printf("Forwarding mode %s: %u streams, burst %u, %u rxq / %u txq of "
	       "%u descriptors per port, stats every %u s%s\n",
	       params.engine->name, fc.nb_streams, params.burst, params.nb_rxq,
	       params.nb_txq, params.nb_desc, params.stats_period,
	       params.stats_period == 0 ? " (off)" : "");
	ret = ports_setup(&params, &ports);
	if (ret != 0) {
		ports_teardown(&ports);
		if (ret == -EINVAL)
			exit_usage();
		rte_exit(EXIT_FAILURE, "port set-up failed\n");
	}
	fwd_print_layout(&fc);
	stats_init(&ports);
	if (params.engine->tick != NULL)
		params.engine->tick();

	ret = fwd_launch(&params, &fc);
	if (ret != 0) {
		ports_teardown(&ports);
		rte_exit(EXIT_FAILURE, "cannot start forwarding\n");
	}
	printf("Forwarding started (SIGINT or SIGTERM stops)\n");
	fflush(stdout);

	run_main_loop(&params, &ports, &fc);

	printf("\nSignal %d received: stopping\n", (int)quit_signal);
	fwd_stop_and_wait();
	stats_print_final(&ports, &fc);
	if (params.engine->stats != NULL)
		params.engine->stats(true);
	ports_teardown(&ports);
	if (params.engine->fini != NULL)
		params.engine->fini();
	fwd_free(&fc);
	rte_eal_cleanup();
	printf("Bye\n");
	return 0;
}
