/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The console (console.c) and its command topics (cmd_<topic>.c).
 */
#ifndef APP_CONSOLE_H
#define APP_CONSOLE_H

#include <stdio.h>

#include <rte_common.h>

struct con_cmd {
	/*
	 * Words separated by one space: "show", "info|stats" (one of),
	 * "<port>" (port id or name, completed), "all|<port>", "<name>" (any
	 * word), "<devargs...>" (the rest of the line; last only).
	 */
	const char *syntax;
	const char *help;
	/* argv[0..argc-1]: the words as typed (alternatives resolved). */
	void (*fn)(int argc, char **argv);
};

struct con_topic {
	const char *name;
	const char *help;
	const struct con_cmd *cmds;   /* ends with syntax NULL */
};

/* One file per topic (cmd_<topic>.c); main.c lists them. */
extern const struct con_topic con_topic_port;
extern const struct con_topic con_topic_fwd;
extern const struct con_topic con_topic_peer;
extern const struct con_topic con_topic_system;
extern const struct con_topic con_topic_bridge;

/* The topics (NULL-terminated): before console_init and console_dump_markdown. */
void console_set_topics(const struct con_topic *const *topics);
int console_init(void);
void console_free(void);
/* Run the commands of path; stops at `quit`. 0, or -errno if unreadable. */
int console_run_file(const char *path);
/* Interactive console on stdin: returns when the app should stop. */
void console_interactive(void (*tick)(void));
/* The command reference in markdown (--dump-commands). */
void console_dump_markdown(FILE *f);
/* Print a one-line error for a command (no newline in fmt). */
void con_err(const char *fmt, ...) __rte_format_printf(1, 2);
/* Resolve a port word or print an error: 0 or -ENODEV. */
int con_port(const char *word, uint16_t *port);
/* Parse an unsigned number or print an error naming what: 0 or -EINVAL. */
int con_uint(const char *what, const char *word, unsigned long min,
	     unsigned long max, unsigned long *out);
/* `help [word]`: every command, or those of a topic or starting so. */
void con_print_help(const char *filter);
/* The console asked to quit. */
void con_quit(void);

#endif /* APP_CONSOLE_H */
