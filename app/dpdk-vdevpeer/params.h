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

void app_usage(const char *prgname);
bool app_args_want_help(int argc, char **argv);
/* --dump-commands after "--": print the console reference and exit. */
bool app_args_want_dump(int argc, char **argv);
/* --dump-xstats after "--": print the xstats reference and exit. */
bool app_args_want_dump_xstats(int argc, char **argv);
/* --dump-options after "--": print the option reference and exit. */
bool app_args_want_dump_options(int argc, char **argv);
/*
 * The command line over p (its defaults and the config file's values set
 * before: app_params_defaults, config_load_args). 0; 1 when --help was
 * given (usage printed); or -EINVAL after one error line on stderr. Needs
 * EAL (port names).
 */
int app_parse_args(int argc, char **argv, struct app_params *p);

#endif /* APP_PARAMS_H */
