/* tap.h: the Test Anything Protocol for the unit tests, header-only. */
#ifndef MOJOSYNC_TAP_H
#define MOJOSYNC_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* Captures what is written to stderr between begin and end into buf. */
struct tap_capture {
	FILE *tmp;
	int saved;
};

static void
tap_capture_begin(struct tap_capture *c)
{
	fflush(stderr);
	c->tmp = tmpfile();
	c->saved = dup(2);
	dup2(fileno(c->tmp), 2);
}

static void
tap_capture_end(struct tap_capture *c, char *buf, size_t len)
{
	long n;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	rewind(c->tmp);
	n = (long)fread(buf, 1, len - 1, c->tmp);
	buf[n > 0 ? n : 0] = '\0';
	fclose(c->tmp);
}

static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return 0;	/* failures are counted by the TAP driver from the "not ok" lines */
}

#endif
