#include "ac-config.h"

#include "sync_int.h"

#include "config.h"
#include "http.h"
#include "metrics.h"
#include "sched.h"
#include "store.h"

#include <event2/event.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* sync_fetch: requests with retries and backoff, and the outcomes of a cycle (errors, bad records). */

/* ---- small helpers --------------------------------------------------------------- */


int
page_add(struct page_json *p, const char *json)
{
	size_t n = strlen(json);

	if (p->len + n + 3 > p->cap) {
		size_t cap = p->cap ? p->cap : 65536;
		char *b;
		while (cap < p->len + n + 3)
			cap *= 2;
		b = realloc(p->buf, cap);
		if (b == NULL)
			return -1;
		p->buf = b;
		p->cap = cap;
	}
	p->buf[p->len++] = p->count ? ',' : '[';
	memcpy(p->buf + p->len, json, n);
	p->len += n;
	p->buf[p->len] = ']';
	p->buf[p->len + 1] = '\0';
	p->count++;
	return 0;
}

void
page_free(struct page_json *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

int64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- outcomes ---- */


/* Records that a resource could not complete this cycle, and logs it once. */
void
fail_kind(struct sync *s, enum mojo_kind kind, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_redact(msg);
	if (s->kind_error[kind][0] == '\0')
		snprintf(s->kind_error[kind], sizeof(s->kind_error[kind]), "%s", msg);
	if (s->stats.error[0] == '\0')
		snprintf(s->stats.error, sizeof(s->stats.error), "%s: %.200s", mojo_kind_table(kind), msg);
	if (!s->stopping)
		log_error("%s: %.200s", mojo_kind_table(kind), msg);
}

/* A record that could not be fetched, parsed or stored: reported, and retried next cycle. */
void
bad_record(struct sync *s, enum mojo_kind kind, int64_t id, const char *reason)
{
	char r[512];

	snprintf(r, sizeof(r), "%s", reason);
	log_redact(r);
	s->stats.kind[kind].failed++;
	s->stats.failed_records++;
	if (id > 0) {
		log_error("%s %lld skipped: %s (retried next cycle)", mojo_kind_singular(kind), (long long)id, r);
		if (store_failure_add(s->st, mojo_kind_table(kind), id, r) != 0)
			fail_kind(s, kind, "cannot record failed %s %lld", mojo_kind_singular(kind), (long long)id);
	} else {
		log_error("%s without a usable id skipped: %s", mojo_kind_singular(kind), r);
	}
}

static void
touch_kind(struct sync *s, enum mojo_kind kind)
{
	int64_t t = now_ms();

	if (s->kind_first_ms[kind] == 0)
		s->kind_first_ms[kind] = t;
	s->kind_last_ms[kind] = t;
}

/* ---- requests with retries ---- */

struct fetch {
	struct sync *s;
	enum mojo_kind kind;
	char *path, *query;
	char what[192];
	char labels[64];	/* endpoint="tickets.show" */
	int attempt;
	struct event *timer;
	const char *fail;	/* set: end with this error when the timer fires */
	fetch_cb cb;
	void *arg;
	struct fetch *prev, *next;
};

static void fetch_issue(struct fetch *f);
static void fetch_fail_later(struct fetch *f, const char *error);

void
fetch_unlink(struct fetch *f)
{
	struct sync *s = f->s;

	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		s->fetches = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	if (f->timer != NULL)
		event_free(f->timer);
	free(f->path);
	free(f->query);
	free(f);
}

/* Ends a fetch: the callback, then the fetch is gone. root is borrowed by the callback. */
static void
fetch_end(struct fetch *f, struct json_object *root, long status, const char *error)
{
	fetch_cb cb = f->cb;
	void *arg = f->arg;
	struct sync *s = f->s;

	touch_kind(s, f->kind);
	fetch_unlink(f);
	cb(s, root, status, error, arg);
}

static void
retry_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;

	(void)fd;
	(void)what;
	if (f->fail != NULL) {
		fetch_end(f, NULL, 0, f->fail);
		return;
	}
	if (f->s->stopping) {
		fetch_end(f, NULL, 0, "stopping");
		return;
	}
	fetch_issue(f);
}

/* Ends the fetch from the event loop, never from inside the caller's call. */
static void
fetch_fail_later(struct fetch *f, const char *error)
{
	f->fail = error;
	if (f->timer == NULL)
		f->timer = evtimer_new(f->s->base, retry_timer_cb, f);
	if (f->timer == NULL) {
		log_error("out of memory: abandoning %s", f->what);
		return;
	}
	event_active(f->timer, EV_TIMEOUT, 0);
}

/* Schedules another attempt, or ends the fetch with error when none is left. */
static void
fetch_retry(struct fetch *f, int64_t retry_after_ms, const char *error)
{
	struct sync *s = f->s;
	struct timeval tv;
	int64_t delay;

	if (s->stopping || f->attempt >= MAX_ATTEMPTS || s->retry_budget <= 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s (after %d attempt%s)", error, f->attempt, f->attempt == 1 ? "" : "s");
		fetch_end(f, NULL, 0, s->stopping ? "stopping" : msg);
		return;
	}
	s->retry_budget--;
	metrics_add(s->metrics, "mojosync_http_retries_total", f->labels, 1);
	s->stats.kind[f->kind].retries++;
	s->stats.retries++;
	delay = sched_backoff_ms(f->attempt, retry_after_ms, (uint32_t)random());
	log_warn("%s: %s; retrying in %lld ms (attempt %d of %d)", f->what, error, (long long)delay, f->attempt + 1,
		 MAX_ATTEMPTS);
	if (f->timer == NULL)
		f->timer = evtimer_new(s->base, retry_timer_cb, f);
	if (f->timer == NULL) {
		fetch_end(f, NULL, 0, "out of memory");	/* from a response callback: not the caller's call */
		return;
	}
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(f->timer, &tv);
}

static void
fetch_done_cb(const struct http_response *resp, void *arg)
{
	struct fetch *f = arg;
	struct sync *s = f->s;
	struct json_object *root;
	char err[512], detail[256], labels[96];

	snprintf(labels, sizeof(labels), "%s,code=\"%ld\"", f->labels, resp->status);
	metrics_add(s->metrics, "mojosync_http_requests_total", labels, 1);

	if (resp->error != NULL) {
		fetch_retry(f, -1, resp->error);
		return;
	}
	if (resp->status == 200) {
		root = mojo_parse_body(resp->body, resp->len, err, sizeof(err));
		if (root == NULL) {
			fetch_retry(f, -1, err);
			return;
		}
		s->answer_date = resp->server_date;
		fetch_end(f, root, 200, NULL);
		s->answer_date = 0;
		json_object_put(root);
		return;
	}
	mojo_error_text(resp->body, resp->len, detail, sizeof(detail));
	snprintf(err, sizeof(err), "HTTP %ld: %s", resp->status, detail);
	if (resp->status == 429 || resp->status == 408 || resp->status >= 500) {
		fetch_retry(f, resp->retry_after_ms, err);
		return;
	}
	if (resp->status == 401 || resp->status == 403) {
		if (!s->auth_failed)
			log_error("helpdesk %s: access key rejected (%s); check the key from %s", s->cfg->url, err,
				  s->cfg->access_key_origin);
		s->auth_failed = true;
		s->stopping = true;
		fetch_end(f, NULL, resp->status, "access key rejected");
		return;
	}
	/* 400 and 404 mean "no such record" to the callers that ask; anything else is an error. */
	fetch_end(f, NULL, resp->status, err);
}

static void
fetch_issue(struct fetch *f)
{
	struct sync *s = f->s;
	char *url;

	f->attempt++;
	s->stats.kind[f->kind].requests++;
	s->stats.requests++;
	touch_kind(s, f->kind);
	url = mojo_url(s->cfg, f->path, f->query);
	if (url == NULL || http_get(s->http, url, fetch_done_cb, f) != 0) {
		mojo_url_free(url);
		fetch_fail_later(f, "out of memory");
		return;
	}
	mojo_url_free(url);
}

/* GET path?query with retries; cb runs exactly once (possibly later, never from inside this call). */
void
fetch_start(struct sync *s, enum mojo_kind kind, const char *path, const char *query, fetch_cb cb, void *arg)
{
	struct fetch *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		log_error("out of memory: abandoning GET %s", path);
		abort();	/* the callback contract cannot be kept */
	}
	f->s = s;
	f->kind = kind;
	f->cb = cb;
	f->arg = arg;
	f->path = strdup(path);
	f->query = strdup(query ? query : "");
	{
		char cls[48];
		mojo_endpoint_class(path, cls, sizeof(cls));
		snprintf(f->labels, sizeof(f->labels), "endpoint=\"%s\"", cls);
	}
	snprintf(f->what, sizeof(f->what), "GET %s%s%s", path, query && *query ? "?" : "", query ? query : "");
	f->next = s->fetches;
	if (s->fetches != NULL)
		s->fetches->prev = f;
	s->fetches = f;
	if (f->path == NULL || f->query == NULL) {
		fetch_fail_later(f, "out of memory");
		return;
	}
	if (s->stopping) {
		fetch_fail_later(f, "stopping");
		return;
	}
	fetch_issue(f);
}


void
fetch_end_waiting(struct sync *s)
{
	struct fetch *f;

	/* Requests waiting to retry end now; those in flight end when they answer or time out. */
	for (f = s->fetches; f != NULL; f = f->next)
		if (f->timer != NULL && evtimer_pending(f->timer, NULL))
			event_active(f->timer, EV_TIMEOUT, 0);
}
