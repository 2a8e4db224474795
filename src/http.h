/*
 * http: HTTP GETs through libcurl's multi interface, driven by libevent
 * (the hiperfifo shape): no call here blocks.  At most `concurrency`
 * transfers run at once; the rest wait in a FIFO of ours, so that a
 * request's timeout counts from its start, not from its queueing.
 */
#ifndef MOJOSYNC_HTTP_H
#define MOJOSYNC_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct http;

struct http_options {
	int concurrency;	/* transfers in flight at once, >= 1 */
	int64_t timeout_ms;	/* whole transfer */
	size_t max_body;	/* bytes; a longer body fails the request */
	int64_t max_rate;	/* request starts per minute; 0 = no limit */
};

/* What a finished request gives its callback; valid during the callback only. */
struct http_response {
	const char *url;	/* as requested: may hold the key, never log it unredacted */
	long status;		/* HTTP status, 0 when no response arrived */
	const char *body;	/* NUL-terminated; "" when none */
	size_t len;
	const char *error;	/* transport error, NULL when a response arrived whole */
	int64_t retry_after_ms; /* from Retry-After (seconds or HTTP date), -1 when absent */
	int64_t server_date;	/* the Date header, Unix seconds on the server's clock; 0 when absent */
	int64_t elapsed_ms;
};

typedef void (*http_done_cb)(const struct http_response *resp, void *arg);

/*
 * Fills o; the body cap is 256 MiB, or $MOJOSYNC_MAX_BODY bytes when set (a
 * knob for tests and for helpdesks with giant records).
 */
void http_options_init(struct http_options *o, int concurrency, int64_t timeout_ms, int64_t max_rate);

/* Returns NULL after logging. */
struct http *http_new(struct event_base *base, const struct http_options *opt);

/* Cancels everything in flight without calling callbacks. NULL-safe. */
void http_free(struct http *h);

/* Queues a GET of url (copied); cb runs exactly once, from the event loop. */
int http_get(struct http *h, const char *url, http_done_cb cb, void *arg);

/* New limits (a reload): they apply to requests started from now on. */
void http_set_options(struct http *h, const struct http_options *opt);

/* Requests queued or in flight. */
size_t http_pending(const struct http *h);

/* Parses a Retry-After value relative to now (epoch seconds): ms, or -1. */
int64_t http_parse_retry_after(const char *value, int64_t now);

#endif
