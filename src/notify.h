/*
 * notify: the systemd notification protocol (sd_notify), and the watchdog
 * interval.  Without systemd support, or outside systemd, every call is a
 * harmless no-op.
 */
#ifndef MOJOSYNC_NOTIFY_H
#define MOJOSYNC_NOTIFY_H

#include <stdint.h>

/* Sends one state string such as "READY=1" or "STATUS=...". Redacted. */
void notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog period systemd asked for, in microseconds; 0 when none. */
uint64_t notify_watchdog_usec(void);

#endif
