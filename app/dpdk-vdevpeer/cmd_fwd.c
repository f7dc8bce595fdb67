/* SPDX-License-Identifier: BSD-3-Clause */
/* Console topic "fwd": start, stop, forwarding mode, streams and lcores. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "control.h"
#include "engines.h"
#include "fwd.h"
#include "ports.h"
#include "stats.h"

static void
cmd_start(int argc, char **argv)
{
	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	ctl_fwd_start();
}

static void
cmd_stop(int argc, char **argv)
{
	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	ctl_fwd_stop();
}

static void
cmd_set_fwd(int argc, char **argv)
{
	const struct fwd_engine *e = fwd_engine_find(argv[argc - 1]);

	if (e == NULL) {
		con_err("set fwd %s: unknown mode", argv[argc - 1]);
		return;
	}
	ctl_set_fwd(e);
}

static void
cmd_set_rx_mode(int argc, char **argv)
{
	int m = fwd_rx_mode_parse(argv[2]);
	char label[RTE_ETH_NAME_MAX_LEN];
	uint16_t port;

	if (m < 0) {
		con_err("set rx-mode %s: poll, adaptive or interrupt expected", argv[2]);
		return;
	}
	if (argc == 4) {
		if (con_port(argv[3], &port) != 0)
			return;
		app.params.port_rx_mode[port] = (uint8_t)(m + 1);
		printf("Port %u (%s): rx mode %s%s\n", port,
		       port_label(port, label, sizeof(label)), fwd_rx_mode_names[m],
		       ports_rx_intr(port) || m == FWD_RXM_POLL ? "" :
		       " (its PMD has no rx interrupts: its lcore keeps polling)");
	} else {
		/* every port, per-port settings included */
		app.params.rx_mode = (unsigned int)m;
		memset(app.params.port_rx_mode, 0, sizeof(app.params.port_rx_mode));
		printf("Rx mode %s on every port\n", fwd_rx_mode_names[m]);
	}
	fwd_rx_mode_apply(&app.params);
}

static void
cmd_show_config_fwd(int argc, char **argv)
{
	char a[RTE_ETH_NAME_MAX_LEN], b[RTE_ETH_NAME_MAX_LEN];
	unsigned int i, lcore;
	uint16_t port;

	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	printf("Forwarding mode %s (%s), %s\n", app.params.engine->name,
	       app.params.engine->help, app.fwd_running ? "running" : "stopped");
	printf("  burst %u, %u rxq / %u txq of %u descriptors per port\n",
	       app.params.burst, app.params.nb_rxq, app.params.nb_txq,
	       app.params.nb_desc);
	printf("  rx mode %s (adaptive sleeps after %u us without frames)",
	       fwd_rx_mode_names[app.params.rx_mode], app.params.rx_idle_us);
	RTE_ETH_FOREACH_DEV(port)
		if (app.params.port_rx_mode[port] != 0)
			printf(", %s %s", port_label(port, a, sizeof(a)),
			       fwd_rx_mode_names[fwd_port_rx_mode(&app.params, port)]);
	printf("\n");
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct fwd_cycles cy;

		if (fwd_lcore_cycles(lcore, &cy) != 0 || cy.mode == FWD_RXM_POLL)
			continue;
		printf("  lcore %u: %s%s, %" PRIu64 " sleeps, %" PRIu64 " wake-ups, "
		       "asleep %.1f%% of its time\n", lcore, fwd_rx_mode_names[cy.mode],
		       cy.polls_anyway ? " (polls: a port cannot sleep)" : "",
		       cy.sleeps, cy.wakeups,
		       cy.total != 0 ? 100.0 * (double)cy.asleep / (double)cy.total : 0.0);
	}
	printf("  forwarding lcores:");
	RTE_LCORE_FOREACH_WORKER(lcore)
		if (!app.params.lcore_set || app.params.fwd_lcores[lcore])
			printf(" %u", lcore);
	printf(" (main lcore %u runs the console and statistics)\n",
	       rte_get_main_lcore());
	if (app.params.engine->needs_pairs) {
		printf("  pairs:");
		for (i = 0; i < app.params.nb_pairs; i++)
			printf(" %s:%s", port_label(app.params.pairs[i].a, a, sizeof(a)),
			       port_label(app.params.pairs[i].b, b, sizeof(b)));
		printf("%s\n", app.params.nb_pairs == 0 ? " none" : "");
	}
	if (app.fc.streams == NULL)
		printf("No streams: forwarding was not started yet\n");
	else
		fwd_print_layout(&app.fc);
}

static void
cmd_show_fwd_stats(int argc, char **argv)
{
	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	printf("Forwarding %s, mode %s\n", app.fwd_running ? "running" : "stopped",
	       app.params.engine->name);
	stats_print_streams(&app.fc);
}

static const struct con_cmd cmds[] = {
	{ "start", "start forwarding on the worker lcores", cmd_start },
	{ "stop", "stop forwarding (drains what the guests queued first) and "
	  "show the stream counters", cmd_stop },
	{ "set fwd <fwd-mode>", "set the forwarding mode; running forwarding "
	  "restarts in the new mode", cmd_set_fwd },
	{ "set rx-mode poll|adaptive|interrupt", "how every port's worker lcores "
	  "wait for frames: poll, or sleep until a kick when idle (--rx-mode)",
	  cmd_set_rx_mode },
	{ "set rx-mode poll|adaptive|interrupt <port>", "the same for one port "
	  "(a worker sleeps only if all its ports do)", cmd_set_rx_mode },
	{ "show config fwd", "mode, pairs, rx modes, and which lcore polls which "
	  "port and queue", cmd_show_config_fwd },
	{ "show fwd stats", "per-stream counters: received, sent, dropped "
	  "because the tx port was full", cmd_show_fwd_stats },
	{ NULL, NULL, NULL },
};

const struct con_topic con_topic_fwd = {
	.name = "fwd",
	.help = "Forwarding",
	.cmds = cmds,
};
