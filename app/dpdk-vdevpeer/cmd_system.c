/* SPDX-License-Identifier: BSD-3-Clause */
/* Console topic "system": log levels, help, quit. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_log.h>

#include "console.h"

static const char *const level_names[] = {
	[RTE_LOG_EMERG] = "emerg", [RTE_LOG_ALERT] = "alert",
	[RTE_LOG_CRIT] = "crit", [RTE_LOG_ERR] = "err",
	[RTE_LOG_WARNING] = "warning", [RTE_LOG_NOTICE] = "notice",
	[RTE_LOG_INFO] = "info", [RTE_LOG_DEBUG] = "debug",
};

static void
cmd_set_log_level(int argc, char **argv)
{
	const char *type = argv[argc - 2], *name = argv[argc - 1];
	unsigned int level;
	int ret;

	for (level = RTE_LOG_EMERG; level <= RTE_LOG_DEBUG; level++)
		if (strcasecmp(level_names[level], name) == 0)
			break;
	if (level > RTE_LOG_DEBUG) {
		con_err("set log level %s %s: unknown level", type, name);
		return;
	}
	/* A glob ("pmd.net.vdevpeer.*") or a log type name; "global" is
	 * the level below which nothing is logged at all. */
	if (strcmp(type, "global") == 0) {
		rte_log_set_global_level(level);
		ret = 0;
	} else {
		ret = rte_log_set_level_pattern(type, level);
	}
	if (ret != 0) {
		con_err("set log level %s %s: failed", type, name);
		return;
	}
	printf("Log level of %s: %s\n", type, name);
}

static void
cmd_help(int argc, char **argv)
{
	con_print_help(argc > 1 ? argv[1] : NULL);
}

static void
cmd_quit(int argc, char **argv)
{
	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	printf("Quitting\n");
	con_quit();
}

static const struct con_cmd cmds[] = {
	{ "set log level <type> emerg|alert|crit|err|warning|notice|info|debug",
	  "log level of a log type, a glob of them (pmd.net.vdevpeer.*) or "
	  "global", cmd_set_log_level },
	{ "help", "list the commands", cmd_help },
	{ "help <topic-or-word>", "the commands of a topic (fwd, port, peer, "
	  "system) or starting with a word", cmd_help },
	{ "quit", "stop forwarding, close the ports and exit (as SIGTERM does)",
	  cmd_quit },
	{ NULL, NULL, NULL },
};

const struct con_topic con_topic_system = {
	.name = "system",
	.help = "System",
	.cmds = cmds,
};
