/*
 * log: one line per event on stderr, with sd-daemon priority prefixes when
 * stderr is the journal.  Every line, and everything written through
 * log_out(), passes through redaction: registered secrets and the value of
 * any "access_key=" in a URL are replaced before a byte reaches a descriptor.
 */
#ifndef MOJOSYNC_LOG_H
#define MOJOSYNC_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_PRI_ERR	3
#define LOG_PRI_WARNING 4
#define LOG_PRI_INFO	6
#define LOG_PRI_DEBUG	7

#define MOJO_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Reads $JOURNAL_STREAM; verbose enables debug lines. */
void log_init(int verbose);
int log_verbose(void);

/*
 * Registers a secret to redact (copied).  Its URL-encoded form is
 * redacted too.  log_forget_secrets() wipes and forgets them all.
 */
void log_add_secret(const char *secret);
void log_forget_secrets(void);

void log_error(const char *fmt, ...) MOJO_PRINTF(1, 2);
void log_warn(const char *fmt, ...) MOJO_PRINTF(1, 2);
void log_info(const char *fmt, ...) MOJO_PRINTF(1, 2);
void log_debug(const char *fmt, ...) MOJO_PRINTF(1, 2);
void log_msg(int pri, const char *fmt, ...) MOJO_PRINTF(2, 3);
void log_vmsg(int pri, const char *fmt, va_list ap) MOJO_PRINTF(2, 0);

/*
 * A progress line on a terminal: rewritten in place with \r.  A log line
 * that comes while one is shown starts on a new line; log_progress_end()
 * closes it.
 */
void log_progress(const char *fmt, ...) MOJO_PRINTF(1, 2);
void log_progress_end(void);

/* Writes to stdout (command output such as `status`), redacted. */
void log_out(const char *fmt, ...) MOJO_PRINTF(1, 2);

/*
 * Redacts buf (NUL-terminated) in place: every secret and every
 * access_key=VALUE becomes "***".  The result is never longer.  Returns buf.
 */
char *log_redact(char *buf);

#endif
