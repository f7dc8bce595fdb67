/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The console on librte_cmdline. Commands are declared once, as a syntax
 * string and a help line in a table per topic (cmd_<topic>.c); this file
 * turns each syntax into cmdline tokens at start-up, so the parser, the
 * completion (TAB), the `help` command and the markdown reference
 * (--dump-commands, docs/console.md) all come from the same table.
 *
 * Syntax words: "show" (a literal), "info|stats" (one of), "<port>" (a port
 * id or name, TAB lists them), "all|<port>" (the same or "all"), "<name>"
 * (any one word), "<devargs...>" (the rest of the line, last word only).
 *
 * To add a topic: write cmd_<topic>.c exporting a struct con_topic and list
 * it in app_con_topics[] (main.c). This file does not know the topics
 * (they call its helpers): main gives them.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_string.h>
#include <cmdline_socket.h>
#include <rte_ethdev.h>
#include <rte_pmd_vdevpeer.h>

#include "console.h"
#include "engines.h"
#include "ports.h"
#include "quit.h"
#include "vdevpeer_app.h"

#define CON_PROMPT "vdevpeer> "
#define CON_MAX_WORDS 8

static const struct con_topic *const con_no_topics[] = { NULL };

/* the topics, in the order help shows them (console_set_topics) */
static const struct con_topic *const *con_topics = con_no_topics;

void
console_set_topics(const struct con_topic *const *topics)
{
	con_topics = topics;
}

/* Where the parsed words land (cmdline's result buffer is 8 KB). */
struct con_result {
	cmdline_fixed_string_t w[CON_MAX_WORDS];
	cmdline_multi_string_t rest;
};

enum con_word_kind { W_LITERAL, W_PORT, W_PORT_ALL, W_ANY, W_REST };

/* A port token: like cmdline's unspecified string, plus completion. */
struct con_token_port {
	struct cmdline_token_hdr hdr;
	bool allow_all;
};

/* A command with its syntax expanded (<fwd-mode> -> io|macswap|...). */
struct con_entry {
	const struct con_cmd *cmd;
	char *syntax;
};

static cmdline_parse_ctx_t *con_ctx;
static struct cmdline *con_cl;    /* the interactive console, if any */
static bool con_quit_flag;
/* the terminal as it was before cmdline made it raw (con_term_saved) */
static struct termios con_term;
static bool con_term_saved;

/* ---- port token ---------------------------------------------------------- */

static int
port_tok_parse(cmdline_parse_token_hdr_t *tk, const char *buf, void *res,
	       unsigned int ressize)
{
	unsigned int len = 0;

	RTE_SET_USED(tk);
	if (buf == NULL || cmdline_isendoftoken(*buf))
		return -1;
	while (!cmdline_isendoftoken(buf[len]))
		len++;
	if (len >= STR_TOKEN_SIZE)
		return -1;
	if (res != NULL) {
		if (ressize < STR_TOKEN_SIZE)
			return -1;
		memcpy(res, buf, len);
		((char *)res)[len] = '\0';
	}
	return (int)len;
}

/* Completion list: "all" if allowed, then per port its id and its name. */
static int
port_tok_complete_nb(cmdline_parse_token_hdr_t *tk)
{
	const struct con_token_port *t = (const struct con_token_port *)tk;

	return (t->allow_all ? 1 : 0) + 2 * rte_eth_dev_count_avail();
}

static int
port_tok_complete_elt(cmdline_parse_token_hdr_t *tk, int idx, char *dst,
		      unsigned int size)
{
	const struct con_token_port *t = (const struct con_token_port *)tk;
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t port;
	int i = 0;

	if (t->allow_all) {
		if (idx == 0) {
			snprintf(dst, size, "all");
			return 0;
		}
		idx--;
	}
	RTE_ETH_FOREACH_DEV(port) {
		if (i == idx / 2) {
			if (idx % 2 == 0)
				snprintf(dst, size, "%u", port);
			else
				snprintf(dst, size, "%s", port_label(port, name, sizeof(name)));
			return 0;
		}
		i++;
	}
	return -1;
}

static int
port_tok_help(cmdline_parse_token_hdr_t *tk, char *dst, unsigned int size)
{
	const struct con_token_port *t = (const struct con_token_port *)tk;

	snprintf(dst, size, "%sport id or name", t->allow_all ? "all, or a " : "");
	return 0;
}

static struct cmdline_token_ops port_tok_ops = {
	.parse = port_tok_parse,
	.complete_get_nb = port_tok_complete_nb,
	.complete_get_elt = port_tok_complete_elt,
	.get_help = port_tok_help,
};

/* ---- syntax -> tokens ------------------------------------------------------ */

static enum con_word_kind
word_kind(const char *w, size_t len)
{
	if (len >= 8 && strncmp(w, "all|<", 5) == 0)
		return W_PORT_ALL;
	if (len == 6 && strncmp(w, "<port>", 6) == 0)
		return W_PORT;
	if (len > 5 && strncmp(w + len - 4, "...>", 4) == 0)
		return W_REST;
	if (w[0] == '<')
		return W_ANY;
	return W_LITERAL;
}

static cmdline_parse_token_hdr_t *
make_token(const char *w, size_t len, unsigned int idx)
{
	enum con_word_kind k = word_kind(w, len);
	cmdline_parse_token_string_t *st;
	struct con_token_port *pt;
	char *str;

	if (k == W_PORT || k == W_PORT_ALL) {
		pt = calloc(1, sizeof(*pt));
		if (pt == NULL)
			return NULL;
		pt->hdr.ops = &port_tok_ops;
		pt->hdr.offset = offsetof(struct con_result, w) + idx * STR_TOKEN_SIZE;
		pt->allow_all = k == W_PORT_ALL;
		return &pt->hdr;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->hdr.ops = &cmdline_token_string_ops;
	if (k == W_REST) {
		st->hdr.offset = offsetof(struct con_result, rest);
		st->string_data.str = TOKEN_STRING_MULTI;
	} else {
		st->hdr.offset = offsetof(struct con_result, w) + idx * STR_TOKEN_SIZE;
		st->string_data.str = NULL;
		if (k == W_LITERAL) {
			/* cmdline separates alternatives with '#' */
			str = strndup(w, len);
			if (str == NULL) {
				free(st);
				return NULL;
			}
			for (char *c = str; *c != '\0'; c++)
				if (*c == '|')
					*c = '#';
			st->string_data.str = str;
		}
	}
	return &st->hdr;
}

static unsigned int
syntax_words(const char *syntax)
{
	unsigned int n = 0;

	for (const char *s = syntax; *s != '\0'; s++)
		if (*s != ' ' && (s == syntax || s[-1] == ' '))
			n++;
	return n;
}

/* "<fwd-mode>" stands for the list of forwarding engines. */
static char *
syntax_expand(const char *syntax)
{
	const char *key = "<fwd-mode>", *at = strstr(syntax, key);
	char modes[256];
	size_t used = 0;
	char *out;

	if (at == NULL)
		return strdup(syntax);
	modes[0] = '\0';
	for (unsigned int i = 0; fwd_engines[i] != NULL && used < sizeof(modes); i++)
		used += snprintf(modes + used, sizeof(modes) - used, "%s%s",
				 i ? "|" : "", fwd_engines[i]->name);
	if (asprintf(&out, "%.*s%s%s", (int)(at - syntax), syntax, modes,
		     at + strlen(key)) < 0)
		return NULL;
	return out;
}

static void
con_dispatch(void *parsed, struct cmdline *cl, void *data)
{
	const struct con_entry *e = data;
	const struct con_cmd *cmd = e->cmd;
	struct con_result *res = parsed;
	char *argv[CON_MAX_WORDS];
	int argc = (int)syntax_words(e->syntax), i;
	const char *last = strrchr(e->syntax, ' ');

	RTE_SET_USED(cl);
	for (i = 0; i < argc; i++)
		argv[i] = res->w[i];
	if (last != NULL && word_kind(last + 1, strlen(last + 1)) == W_REST) {
		/* multi-string tokens keep trailing blanks */
		size_t len = strlen(res->rest);

		while (len > 0 && (res->rest[len - 1] == ' ' || res->rest[len - 1] == '\t'))
			res->rest[--len] = '\0';
		argv[argc - 1] = res->rest;
	}
	cmd->fn(argc, argv);
	fflush(stdout);
}

static cmdline_parse_inst_t *
make_inst(const struct con_cmd *cmd)
{
	struct con_entry *e = calloc(1, sizeof(*e));
	unsigned int n, i = 0;
	cmdline_parse_inst_t *inst;
	const char *w;
	char *help;

	if (e == NULL)
		return NULL;
	e->cmd = cmd;
	e->syntax = syntax_expand(cmd->syntax);
	if (e->syntax == NULL)
		return NULL;
	w = e->syntax;
	n = syntax_words(w);
	if (n == 0 || n > CON_MAX_WORDS)
		return NULL;
	inst = calloc(1, sizeof(*inst) + (n + 1) * sizeof(inst->tokens[0]));
	if (inst == NULL)
		return NULL;
	while (*w != '\0') {
		size_t len = strcspn(w, " ");

		inst->tokens[i] = make_token(w, len, i);
		if (inst->tokens[i] == NULL)
			return NULL;
		i++;
		w += len;
		while (*w == ' ')
			w++;
	}
	inst->tokens[i] = NULL;
	/* shown after each choice when TAB lists them: keep it short */
	help = strdup(cmd->help);
	if (help == NULL)
		return NULL;
	inst->help_str = help;
	inst->f = con_dispatch;
	inst->data = e;
	return inst;
}

int
console_init(void)
{
	unsigned int n = 0, i = 0, t;
	const struct con_cmd *c;

	for (t = 0; con_topics[t] != NULL; t++)
		for (c = con_topics[t]->cmds; c->syntax != NULL; c++)
			n++;
	con_ctx = calloc(n + 1, sizeof(*con_ctx));
	if (con_ctx == NULL)
		return -ENOMEM;
	for (t = 0; con_topics[t] != NULL; t++) {
		for (c = con_topics[t]->cmds; c->syntax != NULL; c++) {
			con_ctx[i] = make_inst(c);
			if (con_ctx[i] == NULL) {
				fprintf(stderr, "%s: console: bad command syntax '%s'\n",
					APP_NAME, c->syntax);
				return -EINVAL;
			}
			i++;
		}
	}
	con_ctx[i] = NULL;
	return 0;
}

/* Allocations live as long as the process; the table is built once.
 * Gives the terminal back as it was (cmdline_stdin_exit restores it). */
void
console_free(void)
{
	if (con_cl != NULL) {
		cmdline_stdin_exit(con_cl);
		con_cl = NULL;
		con_term_saved = false;
	}
}

/* An exit() while the console is open (rte_exit in a command): the
 * terminal must not stay raw. */
static void
console_atexit(void)
{
	if (con_cl != NULL && con_term_saved)
		tcsetattr(0, TCSANOW, &con_term);
}

/* ---- helpers for the commands ------------------------------------------- */

void
con_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	printf("Error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int
con_port(const char *word, uint16_t *port)
{
	if (ports_resolve(word, port) != 0) {
		con_err("'%s': no such port (a port id, bind name or ethdev name; "
			"TAB lists them)", word);
		return -ENODEV;
	}
	return 0;
}

int
con_uint(const char *what, const char *word, unsigned long min,
	 unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (word[0] >= '0' && word[0] <= '9') {
		errno = 0;
		v = strtoul(word, &end, 10);
		if (*end == '\0' && errno == 0 && v >= min && v <= max) {
			*out = v;
			return 0;
		}
	}
	con_err("%s: bad value '%s': expected an integer in %lu..%lu",
		what, word, min, max);
	return -EINVAL;
}

void
con_quit(void)
{
	con_quit_flag = true;
	app_request_quit();
	if (con_cl != NULL)
		cmdline_quit(con_cl);
}

/* ---- running commands --------------------------------------------------- */

static const char *
parse_error(int ret)
{
	switch (ret) {
	case CMDLINE_PARSE_AMBIGUOUS:
		return "ambiguous command";
	case CMDLINE_PARSE_BAD_ARGS:
		return "bad arguments";
	default:
		return "unknown command";
	}
}

int
console_run_file(const char *path)
{
	struct cmdline *cl;
	char line[4096];
	unsigned int lineno = 0;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (f == NULL) {
		ret = -errno;
		fprintf(stderr, "%s: --cmdline-file %s: %s\n", APP_NAME, path,
			strerror(errno));
		return ret;
	}
	/* No input or output fd: we feed lines and print errors ourselves,
	 * with the file's line number. */
	cl = cmdline_new(con_ctx, CON_PROMPT, -1, -1);
	if (cl == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	printf("Running commands from %s\n", path);
	while (!con_quit_flag && !app_quit_requested() &&
	       fgets(line, sizeof(line) - 1, f) != NULL) {
		size_t len = strlen(line);
		const char *s = line;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		printf(CON_PROMPT "%s\n", s);
		fflush(stdout);
		/* cmdline parses complete lines only */
		line[len] = '\n';
		line[len + 1] = '\0';
		/* success is the parsed length; errors are CMDLINE_PARSE_* < 0 */
		ret = cmdline_parse(cl, s);
		line[len] = '\0';
		if (ret < 0)
			con_err("%s:%u: %s: %s (help lists the commands)", path, lineno,
				parse_error(ret), s);
	}
	cmdline_free(cl);
	fclose(f);
	fflush(stdout);
	return 0;
}

/* Main lcore: the console and tick() (statistics) share it; poll stdin
 * with a short timeout so that tick() and the quit flag are served. */
#define CON_POLL_MS 100

/*
 * Ctrl-C. cmdline puts the terminal in raw mode, ISIG off: the kernel
 * sends no SIGINT, the key arrives as this byte (cmdline itself would
 * only clear the line). It stops the app as SIGINT does. Read here rather
 * than by turning ISIG back on: that would also make Ctrl-\ (SIGQUIT: a
 * core dump, the ports left open) and Ctrl-Z (stopping a polling app)
 * live, and send the SIGINT to every process of a pipeline (`| tee log`).
 */
#define CON_CTRL_C 0x03

void
console_interactive(void (*tick)(void))
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	static bool atexit_done;
	char buf[256];
	const char *cc;
	ssize_t n;

	con_term_saved = tcgetattr(0, &con_term) == 0;
	if (!atexit_done)
		atexit_done = atexit(console_atexit) == 0;
	con_cl = cmdline_stdin_new(con_ctx, CON_PROMPT);
	if (con_cl == NULL) {
		fprintf(stderr, "%s: cannot start the console\n", APP_NAME);
		app_request_quit();
		return;
	}
	while (!con_quit_flag && !app_quit_requested()) {
		if (poll(&pfd, 1, CON_POLL_MS) > 0) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				printf("\nConsole input closed: stopping\n");
				break;
			}
			cc = memchr(buf, CON_CTRL_C, (size_t)n);
			if (cc != NULL) {
				/* keys typed before it count (a line ended by
				 * Enter runs); a line not ended is dropped */
				if (cc > buf && cmdline_in(con_cl, buf, (int)(cc - buf)) < 0)
					break;
				printf("^C\nCtrl-C: stopping\n");
				break;
			}
			if (cmdline_in(con_cl, buf, (int)n) < 0)
				break;  /* quit, or Ctrl-D on an empty line */
		}
		if (tick != NULL)
			tick();
	}
	app_request_quit();
	printf("\n");
	console_free();
}

/* ---- help and the reference ------------------------------------------------ */

static bool
cmd_matches(const struct con_topic *t, const struct con_cmd *c, const char *filter)
{
	return filter == NULL || strcmp(t->name, filter) == 0 ||
	       strncmp(c->syntax, filter, strlen(filter)) == 0;
}

void
con_print_help(const char *filter)
{
	const struct con_cmd *c;
	unsigned int t, shown = 0;

	for (t = 0; con_topics[t] != NULL; t++) {
		bool head = false;

		for (c = con_topics[t]->cmds; c->syntax != NULL; c++) {
			if (!cmd_matches(con_topics[t], c, filter))
				continue;
			if (!head) {
				printf("%s%s:\n", shown ? "\n" : "", con_topics[t]->help);
				head = true;
			}
			char *syn = syntax_expand(c->syntax);

			printf("  %-44s %s\n", syn != NULL ? syn : c->syntax, c->help);
			free(syn);
			shown++;
		}
	}
	if (shown == 0)
		con_err("help %s: no such command or topic (topics: fwd, port, "
			"peer, system)", filter);
	else
		printf("\nTAB completes words and lists choices; ? shows the help of "
		       "the word under the cursor.\n");
}

static void
md_escape(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else
			fputc(*s, f);
	}
}

void
console_dump_markdown(FILE *f)
{
	const struct con_cmd *c;
	unsigned int t;

	fprintf(f, "<!-- generated by dpdk-vdevpeer --dump-commands: do not edit; "
		"ci/gen-docs.sh -->\n");
	fprintf(f, "## Commands\n\n");
	fprintf(f, "`<port>`: a port id, a net_vdevpeer bind name (`vp0`) or an "
		"ethdev name; TAB lists them. `a|b`: one of the words. "
		"`<...>`: a value.\n");
	for (t = 0; con_topics[t] != NULL; t++) {
		fprintf(f, "\n### %s\n\n", con_topics[t]->help);
		fprintf(f, "| Command | What it does |\n|---|---|\n");
		for (c = con_topics[t]->cmds; c->syntax != NULL; c++) {
			char *syn = syntax_expand(c->syntax);

			fprintf(f, "| `");
			md_escape(f, syn != NULL ? syn : c->syntax);
			free(syn);
			fprintf(f, "` | ");
			md_escape(f, c->help);
			fprintf(f, " |\n");
		}
	}
}
