/*
 * sdnotify.h - the sd_notify protocol (READY=1, STOPPING=1, WATCHDOG=1, STATUS=...)
 * without libsystemd: one datagram to $NOTIFY_SOCKET, silently nothing when unset.
 */
#ifndef TGM_SDNOTIFY_H
#define TGM_SDNOTIFY_H

#include <stdint.h>

/* tgm_sd_notify - send state (e.g. "READY=1\nSTATUS=up"); 1 sent, 0 no socket, -1 error */
int tgm_sd_notify(const char *state);
int tgm_sd_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* tgm_sd_watchdog_usec - $WATCHDOG_USEC when it is meant for this process, else 0 */
uint64_t tgm_sd_watchdog_usec(void);

#endif
