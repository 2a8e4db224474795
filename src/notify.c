#include "ac-config.h"

#include "notify.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

void
notify_send(const char *fmt, ...)
{
#ifdef HAVE_SYSTEMD
	char msg[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_redact(msg);
	r = sd_notify(0, msg);
	if (r < 0)
		log_debug("sd_notify(%s) failed: %d", msg, r);
#else
	(void)fmt;
#endif
}

uint64_t
notify_watchdog_usec(void)
{
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0)
		return usec;
#endif
	return 0;
}
