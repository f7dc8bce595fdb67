/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpdk-vdevpeer application: the limits every module shares. Each
 * module has its own header (fwd.h, ports.h, params.h, control.h, ...).
 *
 * Who runs what, and at the same time as what:
 *   - main lcore: EAL init, params and config file, port set-up and
 *     teardown, the stats loop, signal handling, the console and every
 *     run-time change (main.c, params.c, config.c, ports.c, control.c,
 *     stats.c, console.c, cmd_*.c). A change that touches ports or streams
 *     first stops the workers (control.c), so workers never see it;
 *   - worker lcores: fwd_lcore_loop() and the engines' stream functions only
 *     (fwd.c, fwd_<mode>.c). Each stream belongs to exactly one worker, which
 *     is the only writer of its counters; the main lcore reads them with
 *     relaxed atomic loads while workers run;
 *   - EAL interrupt thread: the LSC callback in ports.c (logs only);
 *   - telemetry thread: the bridge's /vdevpeer/bridge/stats and /macs callbacks
 *     (fwd_bridge.c), which read counters and the MAC table lock-free.
 */
#ifndef VDEVPEER_APP_H
#define VDEVPEER_APP_H

#include <stdint.h>

#include <rte_ethdev.h>

#define APP_NAME "dpdk-vdevpeer"

/* Exit code for bad command-line options or values. */
#define APP_EXIT_USAGE 2

#define APP_MAX_BURST 512
#define APP_DEFAULT_BURST 32
/* --rx-idle-us: adaptive workers sleep after this long without a frame */
#define APP_DEFAULT_RX_IDLE_US 500
#define APP_DEFAULT_NB_DESC 1024
#define APP_DEFAULT_MBUFS 8192
#define APP_MAX_QUEUES 64
#define APP_MAX_STREAMS (RTE_MAX_ETHPORTS * APP_MAX_QUEUES)

#define APP_MAX_BRIDGE_MACS 256

/* No tx port: the stream only receives (rxonly). */
#define APP_NO_PORT UINT16_MAX

#endif /* VDEVPEER_APP_H */
