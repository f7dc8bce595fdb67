/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Statistics tables and the xstats reference (stats.c).
 */
#ifndef APP_STATS_H
#define APP_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct app_ports;
struct fwd_config;

void stats_init(const struct app_ports *ap);
void stats_snap_port(uint16_t port);
/* Frames the app freed because the tx port did not take them. */
uint64_t fwd_tx_drops(const struct fwd_config *fc, uint16_t port);
void stats_print_streams(const struct fwd_config *fc);
void stats_print_xstats(uint16_t port, bool all);
void stats_print_period(const struct app_ports *ap, const struct fwd_config *fc);
void stats_print_final(const struct app_ports *ap, const struct fwd_config *fc);

/* The net_vdevpeer xstats reference in markdown (--dump-xstats). */
void stats_dump_xstats_markdown(FILE *f);

#endif /* APP_STATS_H */
