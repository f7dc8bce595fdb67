/* SPDX-License-Identifier: BSD-3-Clause */
/* Asking the process to quit (quit.c). */
#ifndef APP_QUIT_H
#define APP_QUIT_H

#include <stdbool.h>

bool app_quit_requested(void);
void app_request_quit(void);

#endif /* APP_QUIT_H */
