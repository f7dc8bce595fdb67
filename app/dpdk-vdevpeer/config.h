/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration file (config.c).
 */
#ifndef APP_CONFIG_H
#define APP_CONFIG_H

struct app_params;

#define CONFIG_EAL_ARGS_LEN 256     /* librte_cfgfile's CFG_VALUE_LEN */
#define CONFIG_MAX_HUGEPAGES 1048576 /* 2 TiB of 2 MiB pages */

/* [eal]: what is needed before EAL starts. */
struct config_eal {
	char args[CONFIG_EAL_ARGS_LEN]; /* EAL options, "" when not given */
	unsigned int hugepages;         /* 2 MiB pages to have, 0: not asked */
};

/* Read [eal] of path (the whole file is checked for structure): 0, or
 * -EINVAL after one line naming file, line, section and key. */
int config_eal(const char *path, struct config_eal *out);

/* The --config FILE after "--" in a command line not yet given to EAL,
 * or NULL. */
const char *config_path_in_argv(int argc, char **argv);

/* Make sure the system has at least n 2 MiB hugepages (raises
 * nr_hugepages, never lowers it): 0, or -errno after a message. */
int config_reserve_hugepages(unsigned int n);

/* Load --config FILE into p (probing its ports): 0 or -EINVAL after one
 * line naming file, line, section and key. */
int config_load(const char *path, struct app_params *p);
int config_load_args(int argc, char **argv, struct app_params *p);

#endif /* APP_CONFIG_H */
