/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration file (config.c).
 */
#ifndef APP_CONFIG_H
#define APP_CONFIG_H

struct app_params;

/* Load --config FILE into p (probing its ports): 0 or -EINVAL after one
 * line naming file, line, section and key. */
int config_load(const char *path, struct app_params *p);
int config_load_args(int argc, char **argv, struct app_params *p);

#endif /* APP_CONFIG_H */
