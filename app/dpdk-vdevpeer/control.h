/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The running application and its run-time changes (control.c).
 */
#ifndef APP_CONTROL_H
#define APP_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "fwd.h"
#include "app_params.h"
#include "ports.h"

struct app_state {
	struct app_params params;
	struct app_ports ports;
	struct fwd_config fc;
	bool fwd_running;
};

extern struct app_state app;

/* Drain time on stop/quit: enough for a guest ring of frames. */
#define APP_DRAIN_MS 1000

/* 0; -EALREADY; or an error with a message printed. */
int ctl_fwd_start(void);
int ctl_fwd_stop(void);
/* Change the forwarding mode; running forwarding is restarted. */
int ctl_set_fwd(const struct fwd_engine *e);
int ctl_port_stop(uint16_t port);
int ctl_port_start(uint16_t port);
int ctl_port_close(uint16_t port);
int ctl_port_detach(uint16_t port);
/* Probe devargs, set the new port(s) up and forward them: 0 or error. */
int ctl_port_attach(const char *devargs);
int ctl_port_mtu(uint16_t port, uint16_t mtu);
/* Forwarding stopped around fn(arg) if it was running. */
int ctl_with_fwd_paused(int (*fn)(void *), void *arg);

#endif /* APP_CONTROL_H */
