/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application's options, declared once (options.c): one table drives
 * the command line (getopt, params.c), the config file's keys (config.c),
 * --help and the option reference of docs/app.md (--dump-options). A
 * range, a default or a key name is written in one place.
 */
#ifndef APP_OPTIONS_H
#define APP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "app_params.h"

enum app_opt_type {
	APP_OT_FLAG,       /* bool field set to true */
	APP_OT_UINT,       /* an integer in min..max; uint16_t or unsigned int */
	APP_OT_STR,        /* const char * field */
	APP_OT_ENGINE,     /* a forwarding mode's name */
	APP_OT_LCORES,     /* a list of worker lcores */
	APP_OT_RXMODE,     /* poll|adaptive|interrupt (unsigned int field) */
	APP_OT_PAIR,       /* A:B; repeatable (a list in the config file) */
	APP_OT_HOSTIF,     /* PORT[=NAME] or all; repeatable */
	APP_OT_UPLINK,     /* PORT; repeatable */
	APP_OT_BRIDGE_MAC, /* MAC@PORT; repeatable (a list in the config file) */
	APP_OT_HELP,       /* --help */
	APP_OT_EARLY,      /* handled before the other options (--config,
			    * --dump-*): nothing to do when parsing */
};

#define APP_OPT_NO_FIELD SIZE_MAX

struct app_option {
	const char *name;       /* long option, without "--" */
	char short_name;        /* 0: none */
	const char *arg;        /* the value's placeholder; NULL: no value */
	enum app_opt_type type;
	unsigned long min, max; /* APP_OT_UINT */
	size_t field;           /* offsetof(struct app_params, ...) */
	size_t size;            /* sizeof that field (APP_OT_UINT) */
	size_t given;           /* offset of a bool set when given, or NO_FIELD */
	const char *section;    /* config file [section] key; NULL: none */
	const char *key;
	const char *dflt;       /* the default in words, when it is not the
				 * field's value after app_params_defaults */
	const char *help;       /* --help: lines of at most 54 characters */
	const char *doc;        /* docs/app.md: lines of at most 72 */
};

/* Every option, NULL-name terminated. */
extern const struct app_option app_options[];

/* How a value's port names are resolved and its errors reported. */
struct app_opt_src {
	/* A port name: a config file's [port NAME], then ports_resolve. */
	int (*resolve)(const void *ctx, const char *name, uint16_t *port);
	const void *ctx;
	bool config;            /* from the config file: strings copied,
				 * bridge ports resolved at once */
	const char *unknown_port; /* the error for a name that is no port */
};

/* Values shared by the command line, the config file and the console. */
/* Defaults of every parameter. */
void app_params_defaults(struct app_params *p);
/* Parse "1,2,4-5" into lcores[]: 0 or -EINVAL (why set). */
int app_parse_lcores(const char *val, bool *lcores, const char **why);
/*
 * "A:B" into a pair of ports named as resolve() knows them. Names may hold
 * ':' (PCI addresses): every ':' is tried, exactly one split must resolve.
 * 0; -ENOENT when no split names two ports; -EINVAL (why set).
 */
int app_parse_pair(const char *val,
		   int (*resolve)(const void *ctx, const char *name, uint16_t *port),
		   const void *ctx, struct app_pair *pr, const char **why);
/* Add pr to p's pairs unless a port is already paired: 0 or -EINVAL. */
int app_add_pair(struct app_params *p, const struct app_pair *pr, const char **why);

/* Whether type takes several values: repeated on the command line, a
 * list separated by blanks or commas in the config file. */
bool app_option_is_list(const struct app_option *o);

/*
 * Apply one value of o to p. 0; 1 for --help; -EINVAL with *why set (a
 * static string or buf) when the value is bad.
 */
int app_option_set(const struct app_option *o, const char *val,
		   const struct app_opt_src *src, struct app_params *p,
		   char *buf, size_t len, const char **why);

/* The option of a config file key; NULL when there is none. */
const struct app_option *app_option_by_key(const char *section, const char *key);
/* "mode pairs lcores ...": the keys of section, for error messages. */
const char *app_option_keys(const char *section, char *buf, size_t len);

/* --help and --dump-options (markdown for docs/app.md). */
void app_options_usage(FILE *f);
void app_options_markdown(FILE *f);

#endif /* APP_OPTIONS_H */
