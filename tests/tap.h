/* tap.h: the Test Anything Protocol for the unit tests, header-only. */
#ifndef MOJOSYNC_TAP_H
#define MOJOSYNC_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static int
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

#define tap_is_str(got, want, ...)                                                           \
	do {                                                                                 \
		const char *g_ = (got), *w_ = (want);                                        \
		if (!tap_ok(g_ != NULL && w_ != NULL ? strcmp(g_, w_) == 0 : g_ == w_, __VA_ARGS__)) \
			printf("#   got:  '%s'\n#   want: '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

#define tap_is_int(got, want, ...)                                                         \
	do {                                                                               \
		long long g_ = (long long)(got), w_ = (long long)(want);                   \
		if (!tap_ok(g_ == w_, __VA_ARGS__))                                        \
			printf("#   got:  %lld\n#   want: %lld\n", g_, w_);                    \
	} while (0)

static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return 0;	/* failures are counted by the TAP driver from the "not ok" lines */
}

#endif
