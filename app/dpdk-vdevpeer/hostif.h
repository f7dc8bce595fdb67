/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host interfaces: a net_tap per guest port asked for (hostif.c).
 */
#ifndef APP_HOSTIF_H
#define APP_HOSTIF_H

struct app_params;
struct app_ports;

/* Create the --host-if interfaces (net_tap, one per guest port asked
 * for): 0 or -EINVAL/-errno after a message. */
int hostif_create(const struct app_params *p, struct app_ports *ap);

#endif /* APP_HOSTIF_H */
