/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application's parameters and its command line (params.c).
 */
#ifndef APP_PARAMS_H
#define APP_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "app_params.h"

/* Defaults of every parameter. */
void app_params_defaults(struct app_params *p);
/* Parse "1,2,4-5" into lcores[]: 0 or -EINVAL (why set). */
int app_parse_lcores(const char *val, bool *lcores, const char **why);
/* "A:B" into a pair of existing ports: 0 or -EINVAL (why set). */
int app_parse_pair(const char *val, struct app_pair *pr, const char **why);
/* Add pr to p's pairs unless a port is already paired: 0 or -EINVAL. */
int app_add_pair(struct app_params *p, const struct app_pair *pr, const char **why);

void app_usage(const char *prgname);
bool app_args_want_help(int argc, char **argv);
/* --dump-commands after "--": print the console reference and exit. */
bool app_args_want_dump(int argc, char **argv);
/* --dump-xstats after "--": print the xstats reference and exit. */
bool app_args_want_dump_xstats(int argc, char **argv);
/*
 * The command line over p (its defaults and the config file's values set
 * before: app_params_defaults, config_load_args). 0; 1 when --help was
 * given (usage printed); or -EINVAL after one error line on stderr. Needs
 * EAL (port names).
 */
int app_parse_args(int argc, char **argv, struct app_params *p);

#endif /* APP_PARAMS_H */
