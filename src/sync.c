#include "ac-config.h"

#include "sync.h"

#include "config.h"
#include "http.h"
#include "ids.h"
#include "log.h"
#include "metrics.h"
#include "mojo.h"
#include "sched.h"
#include "store.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SIZE	100	/* the server's cap */
#define MAX_ATTEMPTS	6	/* per request */
#define RETRY_BUDGET	1000	/* per cycle */

/* ---- small helpers --------------------------------------------------------------- */

/* A growing JSON array of records: "[rec,rec,...]". */
struct page_json {
	char *buf;
	size_t len, cap;
	size_t count;
};

static int
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

static void
page_free(struct page_json *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the engine ------------------------------------------------------------------- */

struct fetch;
typedef void (*fetch_cb)(struct sync *s, struct json_object *root, long status, const char *error, void *arg);

struct sync {
	struct event_base *base;
	const struct config *cfg;
	struct store *st;
	struct http *http;
	struct metrics *metrics;

	bool running, full, stopping, auth_failed;
	int parts;		/* parts of the current phase still running */
	int phase;
	int retry_budget;
	struct fetch *fetches;	/* every fetch not yet completed */
	struct sync_stats stats;
	int64_t started_ms;
	int64_t kind_first_ms[MOJO_NKINDS], kind_last_ms[MOJO_NKINDS];
	char kind_error[MOJO_NKINDS][256];
	sync_done_cb cb;
	void *cb_arg;
	struct event *finish_ev;

	bool progress;		/* a terminal: show progress of the initial sync */
	long progress_pages, progress_records;

	struct ids refreshed;	/* tickets whose comments were listed whole this cycle */
	struct ids shown;	/* tickets whose full object was fetched this cycle */
	struct ids dirty[MOJO_NKINDS]; /* users, queues, companies that changed: tickets embed them */
	struct ids listed;	/* ids of a reconciliation listing */
};

/* ---- outcomes ---- */

static void
fail_kind(struct sync *s, enum mojo_kind kind, const char *fmt, ...) MOJO_PRINTF(3, 4);

/* Records that a resource could not complete this cycle, and logs it once. */
static void
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
static void
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

static void
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
		fetch_end(f, root, 200, NULL);
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
static void
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

/* ---- cycle phases ---- */

static void phase_next(struct sync *s);

static void
part_begin(struct sync *s)
{
	s->parts++;
}

static void
part_end(struct sync *s)
{
	if (--s->parts == 0)
		phase_next(s);
}

static void
progress(struct sync *s, long records)
{
	s->progress_pages++;
	s->progress_records += records;
	if (s->progress)
		fprintf(stderr, "\rmojosync: initial sync: %ld pages, %ld records ", s->progress_pages,
			s->progress_records);
}

/* ---- simple kinds: users, queues, companies by id ---- */

struct sitem;

struct sbatch {
	struct sync *s;
	struct sitem *refs;		/* one per id: the argument of its fetch */
	enum mojo_kind kind;
	struct ids ids;
	struct json_object **objs;	/* owned references */
	long *status;
	char **errors;
	int outstanding;
	bool confirm;			/* deletion candidates: 400/404 marks deleted */
	void (*done)(struct sync *s, void *arg);
	void *arg;
};

struct sitem {
	struct sbatch *b;
	size_t i;
};

static void
sbatch_free(struct sbatch *b)
{
	size_t i;

	for (i = 0; i < b->ids.n; i++) {
		json_object_put(b->objs[i]);
		free(b->errors[i]);
	}
	free(b->objs);
	free(b->status);
	free(b->errors);
	free(b->refs);
	ids_free(&b->ids);
	free(b);
}

/* Stores what a show batch fetched, in one transaction. */
static void
sbatch_commit(struct sbatch *b)
{
	struct sync *s = b->s;
	struct store_counts c = { 0, 0, 0 };
	struct page_json page = { NULL, 0, 0, 0 };
	struct ids gone = IDS_INIT, ok = IDS_INIT;
	struct mojo_record rec;
	char why[256];
	size_t i;

	if (s->stopping)
		return;
	if (store_begin(s->st) != 0)
		goto dberr;
	for (i = 0; i < b->ids.n; i++) {
		if (b->objs[i] != NULL) {
			if (mojo_record_make(&rec, b->kind, b->objs[i], 0, why, sizeof(why)) != 0) {
				bad_record(s, b->kind, b->ids.v[i], why);
				continue;
			}
			if (rec.id != b->ids.v[i]) {
				snprintf(why, sizeof(why), "show answered with id %lld", (long long)rec.id);
				bad_record(s, b->kind, b->ids.v[i], why);
			} else if (page_add(&page, rec.json) != 0 || ids_add(&ok, rec.id) != 0) {
				mojo_record_clear(&rec);
				goto dberr;
			}
			mojo_record_clear(&rec);
		} else if (b->status[i] == 404 || b->status[i] == 400) {
			if (b->confirm && ids_add(&gone, b->ids.v[i]) != 0)
				goto dberr;
			if (ids_add(&ok, b->ids.v[i]) != 0)
				goto dberr;
		} else if (!s->stopping && !s->auth_failed) {
			bad_record(s, b->kind, b->ids.v[i], b->errors[i] ? b->errors[i] : "request failed");
		}
	}
	if ((page.count > 0 && store_upsert(s->st, b->kind, page.buf, &c, &s->dirty[b->kind]) != 0) ||
	    store_mark_deleted(s->st, b->kind, gone.v, gone.n, &c) != 0 ||
	    store_failure_clear(s->st, mojo_kind_table(b->kind), ok.v, ok.n) != 0 || store_commit(s->st) != 0)
		goto dberr;
	s->stats.kind[b->kind].inserted += c.inserted;
	s->stats.kind[b->kind].updated += c.updated;
	s->stats.kind[b->kind].deleted += c.deleted;
	/* Records that embed a deleted one changed with it. */
	for (i = 0; i < gone.n; i++)
		ids_add(&s->dirty[b->kind], gone.v[i]);
	goto out;
dberr:
	store_rollback(s->st);
	fail_kind(s, b->kind, "could not store %zu %s", b->ids.n, mojo_kind_table(b->kind));
out:
	page_free(&page);
	ids_free(&gone);
	ids_free(&ok);
}

static void
sitem_cb(struct sync *s, struct json_object *root, long status, const char *error, void *arg)
{
	struct sitem *it = arg;
	struct sbatch *b = it->b;
	char err[256];
	size_t i = it->i;

	b->status[i] = status;
	if (root != NULL) {
		struct json_object *obj = mojo_show_object(root, b->kind, err, sizeof(err));
		if (obj != NULL)
			b->objs[i] = json_object_get(obj);
		else
			b->errors[i] = strdup(err);
	} else if (error != NULL && status != 404 && status != 400) {
		b->errors[i] = strdup(error);
	}
	if (--b->outstanding == 0) {
		void (*done)(struct sync *, void *) = b->done;
		void *darg = b->arg;
		sbatch_commit(b);
		sbatch_free(b);
		done(s, darg);
	}
}

/* Fetches each id of kind by show and stores the answers; done runs afterwards. Takes ids. */
static void
sbatch_run(struct sync *s, enum mojo_kind kind, struct ids *ids, bool confirm, void (*done)(struct sync *, void *),
	   void *arg)
{
	struct sbatch *b;
	char path[64];
	size_t i, n;

	ids_sort(ids);
	n = ids->n;
	if (n == 0 || s->stopping) {
		ids_free(ids);
		done(s, arg);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL || (b->objs = calloc(n, sizeof(*b->objs))) == NULL ||
	    (b->status = calloc(n, sizeof(*b->status))) == NULL || (b->errors = calloc(n, sizeof(*b->errors))) == NULL ||
	    (b->refs = calloc(n, sizeof(*b->refs))) == NULL) {
		if (b != NULL) {
			free(b->objs);
			free(b->status);
			free(b->errors);
			free(b);
		}
		ids_free(ids);
		fail_kind(s, kind, "out of memory");
		done(s, arg);
		return;
	}
	b->s = s;
	b->kind = kind;
	b->ids = *ids;
	memset(ids, 0, sizeof(*ids));
	b->confirm = confirm;
	b->done = done;
	b->arg = arg;
	b->outstanding = (int)n;
	for (i = 0; i < n; i++) {
		struct sitem *it = &b->refs[i];
		it->b = b;
		it->i = i;
		snprintf(path, sizeof(path), "%s/%lld", kind == MOJO_GROUPS ? "groups" : mojo_kind_table(kind),
			 (long long)b->ids.v[i]);
		fetch_start(s, kind, path, NULL, sitem_cb, it);
	}
}

/* The stored live ids of kind that are not in seen (sorted): what a listing did not show. */
static int
live_not_in(struct sync *s, enum mojo_kind kind, const struct ids *seen, struct ids *out)
{
	struct ids live = IDS_INIT;
	size_t i;
	int rc = 0;

	if (store_live_ids(s->st, kind, &live) != 0) {
		fail_kind(s, kind, "cannot read stored ids");
		return -1;
	}
	for (i = 0; i < live.n && rc == 0; i++)
		if (!ids_has(seen, live.v[i]))
			rc = ids_add(out, live.v[i]);
	ids_free(&live);
	return rc;
}

/* ---- listings: every page of a list endpoint ---- */

struct lister {
	struct sync *s;
	enum mojo_kind kind;
	const char *path;
	const char *extra;	/* extra query, e.g. sort */
	int page;
	bool complete;		/* reached the last page with every page fetched */
	bool collect;		/* list items are short: collect ids, fetch the changed by show */
	struct ids seen;	/* ids listed (valid or not) */
	struct ids changed;	/* collect: ids new or newer than stored */
	/* per page: tickets collect ids; other kinds store the page */
	void (*done)(struct lister *l);
};

static void lister_next(struct lister *l);

/* Stores one listed page of a simple kind (users, queues, companies). */
static int
lister_store_page(struct lister *l, struct json_object *root, int n)
{
	struct sync *s = l->s;
	struct store_counts c = { 0, 0, 0 };
	struct page_json page = { NULL, 0, 0, 0 };
	struct ids ok = IDS_INIT;
	struct mojo_record rec;
	char why[256];
	int i, rc = -1;

	if (store_begin(s->st) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct json_object *obj = mojo_list_item(root, i, l->kind);
		int64_t id = obj ? mojo_object_id(obj) : -1;
		if (id > 0)
			ids_add(&l->seen, id);
		if (obj == NULL) {
			bad_record(s, l->kind, -1, "list item is not an object");
			continue;
		}
		if (mojo_record_make(&rec, l->kind, obj, 0, why, sizeof(why)) != 0) {
			bad_record(s, l->kind, id, why);
			continue;
		}
		if (page_add(&page, rec.json) != 0 || ids_add(&ok, rec.id) != 0) {
			mojo_record_clear(&rec);
			goto out;
		}
		mojo_record_clear(&rec);
	}
	if ((page.count > 0 && store_upsert(s->st, l->kind, page.buf, &c, &s->dirty[l->kind]) != 0) ||
	    store_failure_clear(s->st, mojo_kind_table(l->kind), ok.v, ok.n) != 0 || store_commit(s->st) != 0)
		goto out;
	s->stats.kind[l->kind].inserted += c.inserted;
	s->stats.kind[l->kind].updated += c.updated;
	rc = 0;
out:
	if (rc != 0)
		store_rollback(s->st);
	page_free(&page);
	ids_free(&ok);
	return rc;
}

/*
 * A listing of list items shorter than the show objects we store (tickets,
 * users): remember ids, and which are new or newer than stored.
 */
static int
lister_collect_page(struct lister *l, struct json_object *root, int n)
{
	struct sync *s = l->s;
	int64_t *ids = calloc((size_t)n + 1, sizeof(*ids)), *upd = calloc((size_t)n + 1, sizeof(*upd));
	bool *changed = calloc((size_t)n + 1, sizeof(*changed));
	int i, m = 0, rc = -1;

	if (ids == NULL || upd == NULL || changed == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		struct json_object *obj = mojo_list_item(root, i, l->kind);
		int64_t id = obj ? mojo_object_id(obj) : -1;
		if (id <= 0) {
			bad_record(s, l->kind, -1, "listed item without a usable id");
			continue;
		}
		ids_add(&l->seen, id);
		ids[m] = id;
		upd[m++] = mojo_object_time(obj, "updated_on");
	}
	if (store_changed(s->st, l->kind, ids, upd, (size_t)m, changed) != 0)
		goto out;
	for (i = 0; i < m; i++)
		if (changed[i] && ids_add(&l->changed, ids[i]) != 0)
			goto out;
	rc = 0;
out:
	free(ids);
	free(upd);
	free(changed);
	return rc;
}

static void
lister_cb(struct sync *s, struct json_object *root, long status, const char *error, void *arg)
{
	struct lister *l = arg;
	int n;

	if (root == NULL) {
		fail_kind(s, l->kind, "listing page %d failed: %s", l->page, error ? error : "no answer");
		(void)status;
		l->done(l);
		return;
	}
	n = mojo_list_length(root);
	if (n < 0) {
		fail_kind(s, l->kind, "listing page %d is not a JSON array", l->page);
		l->done(l);
		return;
	}
	if (n > 0) {
		int rc = l->collect ? lister_collect_page(l, root, n) : lister_store_page(l, root, n);
		if (rc != 0) {
			fail_kind(s, l->kind, "could not store listing page %d", l->page);
			l->done(l);
			return;
		}
		progress(s, n);
	}
	if (n < PAGE_SIZE) {
		l->complete = true;
		l->done(l);
		return;
	}
	l->page++;
	lister_next(l);
}

static void
lister_next(struct lister *l)
{
	char query[256];

	snprintf(query, sizeof(query), "per_page=%d&page=%d%s%s", PAGE_SIZE, l->page, l->extra ? "&" : "",
		 l->extra ? l->extra : "");
	fetch_start(l->s, l->kind, l->path, query, lister_cb, l);
}

static struct lister *
lister_new(struct sync *s, enum mojo_kind kind, const char *path, const char *extra, void (*done)(struct lister *))
{
	struct lister *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->s = s;
	l->kind = kind;
	l->path = path;
	l->extra = extra;
	l->page = 1;
	l->done = done;
	l->collect = kind == MOJO_TICKETS || kind == MOJO_USERS;
	return l;
}

static void
lister_free(struct lister *l)
{
	ids_free(&l->seen);
	ids_free(&l->changed);
	free(l);
}

/* After a complete listing of a simple kind: stored live ids not listed are confirmed by show. */
static void
confirm_done_cb(struct sync *s, void *arg)
{
	(void)arg;
	part_end(s);
}

static void
simple_listing_done(struct lister *l)
{
	struct sync *s = l->s;
	struct ids cand = IDS_INIT;
	enum mojo_kind kind = l->kind;

	ids_sort(&l->seen);
	if (!l->complete || s->stopping || live_not_in(s, kind, &l->seen, &cand) != 0) {
		ids_free(&cand);
		lister_free(l);
		part_end(s);
		return;
	}
	lister_free(l);
	/* A listing can skip a row that moved while it paged: only a show's 400/404 proves a deletion. */
	sbatch_run(s, kind, &cand, true, confirm_done_cb, NULL);
}

/* The users sweep lists /users, then /users/techs, fetches the changed, then confirms the missing. */
static void
users_changed_done(struct sync *s, void *arg)
{
	struct lister *l = arg;

	(void)s;
	simple_listing_done(l);
}

static void
users_techs_done(struct lister *l)
{
	struct sync *s = l->s;
	struct ids changed = l->changed;

	if (!l->complete || s->stopping) {
		lister_free(l);
		part_end(s);
		return;
	}
	memset(&l->changed, 0, sizeof(l->changed));
	if (changed.n > 0)
		log_info("users: the listing found %zu new or newer than stored", changed.n);
	sbatch_run(s, MOJO_USERS, &changed, false, users_changed_done, l);
}

static void
users_listing_done(struct lister *l)
{
	struct sync *s = l->s;
	struct lister *t;

	if (!l->complete || s->stopping) {
		lister_free(l);
		part_end(s);
		return;
	}
	/* Technicians may be missing from /users: list them too, into the same set. */
	t = lister_new(s, MOJO_USERS, "users/techs", NULL, users_techs_done);
	if (t == NULL) {
		lister_free(l);
		part_end(s);
		return;
	}
	t->seen = l->seen;
	t->changed = l->changed;
	memset(&l->seen, 0, sizeof(l->seen));
	memset(&l->changed, 0, sizeof(l->changed));
	lister_free(l);
	lister_next(t);
}

static void
start_listing(struct sync *s, enum mojo_kind kind, const char *path, const char *extra, void (*done)(struct lister *))
{
	struct lister *l = lister_new(s, kind, path, extra, done);

	part_begin(s);
	if (l == NULL) {
		fail_kind(s, kind, "out of memory");
		part_end(s);
		return;
	}
	lister_next(l);
}

/* ---- tickets: a batch of tickets with their comments ---- */

struct tbatch;

struct tref {
	struct tbatch *b;
	size_t i;
};

struct titem {
	struct tref ref;		/* the argument of its fetches */
	int64_t id;
	struct json_object *show;	/* owned */
	struct json_object *comments;	/* owned array of comment objects */
	int cpage;
	bool comments_done;		/* listed whole */
	bool gone;			/* 404 */
	char *error;
};

struct tbatch {
	struct sync *s;
	size_t n;
	struct titem *items;
	int outstanding;
	bool fetch_show;		/* false: comments only (the comment sweep) */
	bool confirm;			/* a 404 marks the ticket deleted */
	int64_t watermark;		/* committed with the page; MOJO_NO_TIME: none */
	long listed;			/* search items behind this batch, for progress */
	void (*done)(struct tbatch *b, int rc);
	void *arg;
};

static void tbatch_fetched(struct tbatch *b);

static void
tbatch_free(struct tbatch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		json_object_put(b->items[i].show);
		json_object_put(b->items[i].comments);
		free(b->items[i].error);
	}
	free(b->items);
	free(b);
}

static void
titem_error(struct titem *it, const char *what, const char *error)
{
	char msg[512];

	if (it->error != NULL)
		return;
	snprintf(msg, sizeof(msg), "%s: %s", what, error ? error : "failed");
	it->error = strdup(msg);
}

static void
tref_done(struct tbatch *b)
{
	if (--b->outstanding == 0)
		tbatch_fetched(b);
}

static void
show_cb(struct sync *s, struct json_object *root, long status, const char *error, void *arg)
{
	struct tref *r = arg;
	struct tbatch *b = r->b;
	struct titem *it = &b->items[r->i];
	char err[256];

	(void)s;
	if (root != NULL) {
		struct json_object *obj = mojo_show_object(root, MOJO_TICKETS, err, sizeof(err));
		if (obj != NULL)
			it->show = json_object_get(obj);
		else
			titem_error(it, "show", err);
	} else if (status == 404) {
		it->gone = true;
	} else {
		titem_error(it, "show", error);
	}
	tref_done(b);
}

static void comments_fetch(struct tbatch *b, size_t i);

static void
comments_cb(struct sync *s, struct json_object *root, long status, const char *error, void *arg)
{
	struct tref *r = arg;
	struct tbatch *b = r->b;
	size_t i = r->i;
	struct titem *it = &b->items[i];
	int n, k;

	(void)s;
	if (root == NULL) {
		if (status == 404)
			it->gone = true;
		else
			titem_error(it, "comments", error);
		tref_done(b);
		return;
	}
	n = mojo_list_length(root);
	if (n < 0) {
		titem_error(it, "comments", "not a JSON array");
		tref_done(b);
		return;
	}
	if (it->comments == NULL)
		it->comments = json_object_new_array();
	for (k = 0; k < n && it->comments != NULL; k++)
		json_object_array_add(it->comments, json_object_get(json_object_array_get_idx(root, (size_t)k)));
	if (n == PAGE_SIZE) {
		it->cpage++;
		comments_fetch(b, i);
	} else {
		it->comments_done = true;
	}
	tref_done(b);
}

static void
comments_fetch(struct tbatch *b, size_t i)
{
	struct tref *r = &b->items[i].ref;
	char path[64], query[64];

	b->outstanding++;
	snprintf(path, sizeof(path), "tickets/%lld/comments", (long long)b->items[i].id);
	snprintf(query, sizeof(query), "per_page=%d&page=%d", PAGE_SIZE, b->items[i].cpage);
	fetch_start(b->s, MOJO_COMMENTS, path, query, comments_cb, r);
}

/* Runs a batch of ticket ids (taken); done(b, rc) runs once, then the batch is freed by the caller. */
static void
tbatch_run(struct sync *s, const int64_t *ids, size_t n, bool fetch_show, bool confirm, int64_t watermark, long listed,
	   void (*done)(struct tbatch *, int), void *arg)
{
	struct tbatch *b = calloc(1, sizeof(*b));
	size_t i;

	if (b == NULL || (b->items = calloc(n + 1, sizeof(*b->items))) == NULL) {
		free(b);
		fail_kind(s, MOJO_TICKETS, "out of memory");
		return;
	}
	b->s = s;
	b->n = n;
	b->fetch_show = fetch_show;
	b->confirm = confirm;
	b->watermark = watermark;
	b->listed = listed;
	b->done = done;
	b->arg = arg;
	b->outstanding = 1;	/* held until every request is issued */
	for (i = 0; i < n; i++) {
		b->items[i].id = ids[i];
		b->items[i].cpage = 1;
		b->items[i].ref.b = b;
		b->items[i].ref.i = i;
		if (fetch_show) {
			char path[64];
			b->outstanding++;
			snprintf(path, sizeof(path), "tickets/%lld", (long long)ids[i]);
			fetch_start(s, MOJO_TICKETS, path, NULL, show_cb, &b->items[i].ref);
		}
		comments_fetch(b, i);
	}
	tref_done(b);
}

static void tbatch_commit(struct tbatch *b);

static void
tbatch_users_done(struct sync *s, void *arg)
{
	(void)s;
	tbatch_commit(arg);
}

/* Every request of the batch answered: fetch the users it refers to that are missing. */
static void
tbatch_fetched(struct tbatch *b)
{
	struct sync *s = b->s;
	struct ids refs = IDS_INIT, missing = IDS_INIT;
	bool *absent = NULL;
	size_t i, k;

	if (s->stopping) {
		tbatch_commit(b);
		return;
	}
	for (i = 0; i < b->n; i++) {
		struct titem *it = &b->items[i];
		if (it->show != NULL && mojo_object_id(it->show) > 0) {
			struct json_object *v;
			if (json_object_object_get_ex(it->show, "user_id", &v) && json_object_is_type(v, json_type_int))
				ids_add(&refs, json_object_get_int64(v));
			if (json_object_object_get_ex(it->show, "assigned_to_id", &v) &&
			    json_object_is_type(v, json_type_int))
				ids_add(&refs, json_object_get_int64(v));
		}
		for (k = 0; it->comments != NULL && k < json_object_array_length(it->comments); k++) {
			struct json_object *c = mojo_list_item(it->comments, (int)k, MOJO_COMMENTS), *v;
			if (c != NULL && json_object_object_get_ex(c, "user_id", &v) && json_object_is_type(v, json_type_int))
				ids_add(&refs, json_object_get_int64(v));
		}
	}
	ids_sort(&refs);
	while (refs.n > 0 && refs.v[0] <= 0) {
		memmove(refs.v, refs.v + 1, (refs.n - 1) * sizeof(*refs.v));
		refs.n--;
	}
	if (refs.n > 0) {
		absent = calloc(refs.n, sizeof(*absent));
		if (absent == NULL || store_changed(s->st, MOJO_USERS, refs.v, NULL, refs.n, absent) != 0) {
			fail_kind(s, MOJO_USERS, "cannot look up referenced users");
		} else {
			for (i = 0; i < refs.n; i++)
				if (absent[i])
					ids_add(&missing, refs.v[i]);
		}
	}
	free(absent);
	ids_free(&refs);
	/* Users first, in their own transaction: the page's tickets then never point at a user we lack. */
	sbatch_run(s, MOJO_USERS, &missing, false, tbatch_users_done, b);
}

/* Stores a batch: tickets, comments, deletions, failures and the watermark in one transaction. */
static void
tbatch_commit(struct tbatch *b)
{
	struct sync *s = b->s;
	struct store_counts ct = { 0, 0, 0 }, cc = { 0, 0, 0 };
	struct page_json tickets = { NULL, 0, 0, 0 }, comments = { NULL, 0, 0, 0 };
	struct ids ok = IDS_INIT, gone = IDS_INIT, whole = IDS_INIT, keep = IDS_INIT;
	struct mojo_record rec;
	char why[256];
	size_t i, k;
	int rc = -1;

	if (s->stopping) {
		/* Nothing partial is committed: the next cycle starts from the last committed page. */
		b->done(b, -1);
		return;
	}
	if (store_begin(s->st) != 0)
		goto out;
	for (i = 0; i < b->n; i++) {
		struct titem *it = &b->items[i];
		bool bad = false;

		if (it->gone) {
			if (b->confirm)
				ids_add(&gone, it->id);
			ids_add(&ok, it->id);
			continue;
		}
		if (it->error != NULL) {
			bad_record(s, MOJO_TICKETS, it->id, it->error);
			continue;
		}
		if (b->fetch_show) {
			if (mojo_record_make(&rec, MOJO_TICKETS, it->show, 0, why, sizeof(why)) != 0) {
				bad_record(s, MOJO_TICKETS, it->id, why);
				continue;
			}
			if (rec.id != it->id) {
				mojo_record_clear(&rec);
				bad_record(s, MOJO_TICKETS, it->id, "show answered with another id");
				continue;
			}
			if (page_add(&tickets, rec.json) != 0) {
				mojo_record_clear(&rec);
				goto out;
			}
			mojo_record_clear(&rec);
		}
		for (k = 0; it->comments != NULL && k < json_object_array_length(it->comments); k++) {
			struct json_object *c = mojo_list_item(it->comments, (int)k, MOJO_COMMENTS);
			if (c == NULL || mojo_record_make(&rec, MOJO_COMMENTS, c, it->id, why, sizeof(why)) != 0) {
				char r[400];
				snprintf(r, sizeof(r), "comment %lld: %s", c ? (long long)mojo_object_id(c) : -1LL,
					 c ? why : "not an object");
				/* The ticket is retried as a whole, which lists its comments again. */
				bad_record(s, MOJO_TICKETS, it->id, r);
				bad = true;
				if (c != NULL && mojo_object_id(c) > 0)
					ids_add(&keep, mojo_object_id(c));
				continue;
			}
			ids_add(&keep, rec.id);
			if (page_add(&comments, rec.json) != 0) {
				mojo_record_clear(&rec);
				goto out;
			}
			mojo_record_clear(&rec);
		}
		if (it->comments_done)
			ids_add(&whole, it->id);
		if (!bad)
			ids_add(&ok, it->id);
	}
	if ((tickets.count > 0 && store_upsert(s->st, MOJO_TICKETS, tickets.buf, &ct, NULL) != 0) ||
	    (comments.count > 0 && store_upsert(s->st, MOJO_COMMENTS, comments.buf, &cc, NULL) != 0) ||
	    store_mark_comments_gone(s->st, whole.v, whole.n, keep.v, keep.n, &cc) != 0 ||
	    store_mark_deleted(s->st, MOJO_TICKETS, gone.v, gone.n, &ct) != 0)
		goto out;
	/* A deleted ticket's comments are gone with it. */
	if (gone.n > 0 && store_mark_comments_gone(s->st, gone.v, gone.n, NULL, 0, &cc) != 0)
		goto out;
	if (store_failure_clear(s->st, "tickets", ok.v, ok.n) != 0)
		goto out;
	if (b->watermark != MOJO_NO_TIME && store_set_watermark(s->st, "tickets", b->watermark) != 0)
		goto out;
	if (store_commit(s->st) != 0)
		goto out;
	for (i = 0; i < whole.n; i++)
		ids_add(&s->refreshed, whole.v[i]);
	for (i = 0; b->fetch_show && i < b->n; i++)
		ids_add(&s->shown, b->items[i].id);
	s->stats.kind[MOJO_TICKETS].inserted += ct.inserted;
	s->stats.kind[MOJO_TICKETS].updated += ct.updated;
	s->stats.kind[MOJO_TICKETS].deleted += ct.deleted;
	s->stats.kind[MOJO_COMMENTS].inserted += cc.inserted;
	s->stats.kind[MOJO_COMMENTS].updated += cc.updated;
	s->stats.kind[MOJO_COMMENTS].deleted += cc.deleted;
	progress(s, b->listed);
	rc = 0;
out:
	if (rc != 0) {
		store_rollback(s->st);
		fail_kind(s, MOJO_TICKETS, "could not store a page of %zu tickets; nothing of it was committed", b->n);
	}
	page_free(&tickets);
	page_free(&comments);
	ids_free(&ok);
	ids_free(&gone);
	ids_free(&whole);
	ids_free(&keep);
	b->done(b, rc);
}

/* ---- tickets: incremental search ---- */

struct tsearch {
	struct sync *s;
	int64_t lower;		/* MOJO_NO_TIME: from the beginning */
	int page;
};

static void tsearch_next(struct tsearch *t);

static void
tsearch_batch_done(struct tbatch *b, int rc)
{
	struct tsearch *t = b->arg;
	struct sync *s = t->s;
	long listed = b->listed;
	int64_t max = b->watermark;

	tbatch_free(b);
	if (rc != 0 || s->stopping) {
		free(t);
		part_end(s);
		return;
	}
	if (listed < PAGE_SIZE) {
		free(t);
		part_end(s);
		return;
	}
	/*
	 * Keyset paging: the next page starts at the newest updated_on of this one
	 * (inclusive), so a row that moves while we page cannot shift another past
	 * us.  Only when a whole page shares one updated_on do we page by number.
	 */
	if (max != MOJO_NO_TIME && (t->lower == MOJO_NO_TIME || max / 1000000 > t->lower / 1000000)) {
		t->lower = max;
		t->page = 1;
	} else {
		t->page++;
	}
	tsearch_next(t);
}

static void
tsearch_cb(struct sync *s, struct json_object *root, long status, const char *error, void *arg)
{
	struct tsearch *t = arg;
	int64_t *ids = NULL, *upd = NULL, *changed_ids = NULL, max = MOJO_NO_TIME;
	bool *changed = NULL;
	int n, i, m = 0, nc = 0;

	(void)status;
	if (root == NULL) {
		fail_kind(s, MOJO_TICKETS, "search failed: %s", error ? error : "no answer");
		goto end;
	}
	n = mojo_list_length(root);
	if (n < 0) {
		fail_kind(s, MOJO_TICKETS, "search answer is not a JSON array");
		goto end;
	}
	if (n == 0)
		goto end;
	ids = calloc((size_t)n, sizeof(*ids));
	upd = calloc((size_t)n, sizeof(*upd));
	changed = calloc((size_t)n, sizeof(*changed));
	changed_ids = calloc((size_t)n, sizeof(*changed_ids));
	if (ids == NULL || upd == NULL || changed == NULL || changed_ids == NULL) {
		fail_kind(s, MOJO_TICKETS, "out of memory");
		goto end;
	}
	for (i = 0; i < n; i++) {
		struct json_object *obj = mojo_list_item(root, i, MOJO_TICKETS);
		int64_t id = obj ? mojo_object_id(obj) : -1, u;
		if (id <= 0) {
			bad_record(s, MOJO_TICKETS, -1, "search item without a usable id");
			continue;
		}
		u = mojo_object_time(obj, "updated_on");
		if (u != MOJO_NO_TIME && (max == MOJO_NO_TIME || u > max))
			max = u;
		ids[m] = id;
		upd[m++] = u;
	}
	if (store_changed(s->st, MOJO_TICKETS, ids, upd, (size_t)m, changed) != 0) {
		fail_kind(s, MOJO_TICKETS, "cannot compare with stored tickets");
		goto end;
	}
	for (i = 0; i < m; i++)
		if (changed[i])
			changed_ids[nc++] = ids[i];
	free(ids);
	free(upd);
	free(changed);
	/* The watermark is the newest updated_on the search showed: the helpdesk's clock, never ours. */
	tbatch_run(s, changed_ids, (size_t)nc, true, false, max, n, tsearch_batch_done, t);
	free(changed_ids);
	return;
end:
	free(ids);
	free(upd);
	free(changed);
	free(changed_ids);
	free(t);
	part_end(s);
}

static void
tsearch_next(struct tsearch *t)
{
	char from[40], q[96], query[256];
	char *enc;

	if (t->lower == MOJO_NO_TIME)
		snprintf(from, sizeof(from), "*");
	else
		mojo_format_time(t->lower, false, from, sizeof(from));
	snprintf(q, sizeof(q), "updated_on:[%s TO *]", from);
	enc = curl_easy_escape(NULL, q, 0);
	if (enc == NULL) {
		struct sync *s = t->s;
		fail_kind(s, MOJO_TICKETS, "out of memory");
		free(t);
		part_end(s);
		return;
	}
	snprintf(query, sizeof(query), "query=%s&sf=updated_on&r=0&per_page=%d&page=%d", enc, PAGE_SIZE, t->page);
	curl_free(enc);
	fetch_start(t->s, MOJO_TICKETS, "tickets/search", query, tsearch_cb, t);
}

/* Failed tickets are retried first; then the search. */
static void
retry_batch_done(struct tbatch *b, int rc)
{
	struct tsearch *t = b->arg;
	struct sync *s = b->s;

	tbatch_free(b);
	(void)rc;
	if (s->stopping) {
		free(t);
		part_end(s);
		return;
	}
	tsearch_next(t);
}

static void
start_tickets(struct sync *s)
{
	struct tsearch *t = calloc(1, sizeof(*t));
	struct ids failed = IDS_INIT;
	int64_t wm;

	part_begin(s);
	if (t == NULL || store_get_watermark(s->st, "tickets", &wm) != 0 ||
	    store_failure_ids(s->st, "tickets", &failed) != 0) {
		free(t);
		ids_free(&failed);
		fail_kind(s, MOJO_TICKETS, "cannot read the sync state");
		part_end(s);
		return;
	}
	t->s = s;
	t->page = 1;
	t->lower = wm == MOJO_NO_TIME ? MOJO_NO_TIME : wm - s->cfg->overlap_ms * 1000;
	s->progress = wm == MOJO_NO_TIME && isatty(STDERR_FILENO);
	if (wm == MOJO_NO_TIME && !s->full) {
		/* The first cycle is a full load: users nothing refers to come with the sweep. */
		log_info("first sync of this schema: reconciling too");
		s->full = true;
	}
	log_debug("tickets: searching from %s", wm == MOJO_NO_TIME ? "the beginning" : "the watermark minus overlap");
	if (failed.n > 0) {
		log_info("tickets: retrying %zu that failed before", failed.n);
		tbatch_run(s, failed.v, failed.n, true, false, MOJO_NO_TIME, 0, retry_batch_done, t);
		ids_free(&failed);
		return;
	}
	ids_free(&failed);
	tsearch_next(t);
}

static void
users_retry_done(struct sync *s, void *arg)
{
	(void)arg;
	part_end(s);
}

static void
start_users_retry(struct sync *s)
{
	struct ids ids = IDS_INIT;

	part_begin(s);
	if (store_failure_ids(s->st, "users", &ids) != 0) {
		ids_free(&ids);
		fail_kind(s, MOJO_USERS, "cannot read the sync state");
		part_end(s);
		return;
	}
	sbatch_run(s, MOJO_USERS, &ids, false, users_retry_done, NULL);
}

/* ---- reconciliation of tickets and comments ---- */

struct chunker {
	struct sync *s;
	struct ids ids;
	size_t next;
	bool fetch_show, confirm;
	void (*after)(struct sync *s);
};

static void chunker_step(struct chunker *c);

static void
chunker_batch_done(struct tbatch *b, int rc)
{
	struct chunker *c = b->arg;

	tbatch_free(b);
	(void)rc;
	chunker_step(c);
}

/* Runs ids in batches of PAGE_SIZE, one after another; then after(s). */
static void
chunker_step(struct chunker *c)
{
	struct sync *s = c->s;
	size_t n;

	if (c->next >= c->ids.n || s->stopping) {
		void (*after)(struct sync *) = c->after;
		ids_free(&c->ids);
		free(c);
		after(s);
		return;
	}
	n = c->ids.n - c->next < PAGE_SIZE ? c->ids.n - c->next : PAGE_SIZE;
	c->next += n;
	tbatch_run(s, c->ids.v + c->next - n, n, c->fetch_show, c->confirm, MOJO_NO_TIME, 0, chunker_batch_done, c);
}

static void
run_chunked(struct sync *s, struct ids *ids, bool fetch_show, bool confirm, void (*after)(struct sync *))
{
	struct chunker *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		ids_free(ids);
		fail_kind(s, MOJO_TICKETS, "out of memory");
		after(s);
		return;
	}
	c->s = s;
	c->ids = *ids;
	memset(ids, 0, sizeof(*ids));
	c->fetch_show = fetch_show;
	c->confirm = confirm;
	c->after = after;
	chunker_step(c);
}

static void
comment_sweep_done(struct sync *s)
{
	part_end(s);
}

/* Every live ticket whose comments were not listed whole this cycle has them listed now. */
static void
start_comment_sweep(struct sync *s)
{
	struct ids todo = IDS_INIT;

	ids_sort(&s->refreshed);
	if (live_not_in(s, MOJO_TICKETS, &s->refreshed, &todo) != 0) {
		ids_free(&todo);
		part_end(s);
		return;
	}
	log_debug("comments: listing the comments of %zu tickets", todo.n);
	run_chunked(s, &todo, false, false, comment_sweep_done);
}

static void
deletions_done(struct sync *s)
{
	start_comment_sweep(s);
}

static void
changed_done(struct sync *s)
{
	struct ids cand = IDS_INIT;

	if (s->stopping || live_not_in(s, MOJO_TICKETS, &s->listed, &cand) != 0) {
		ids_free(&cand);
		ids_free(&s->listed);
		part_end(s);
		return;
	}
	ids_free(&s->listed);
	if (cand.n > 0)
		log_info("tickets: confirming %zu that the listing no longer shows", cand.n);
	/* Deletion candidates are confirmed by show: 404 marks them, 200 stores them. */
	run_chunked(s, &cand, true, true, deletions_done);
}

static void
tickets_listing_done(struct lister *l)
{
	struct sync *s = l->s;
	struct ids changed;

	if (!l->complete || s->stopping) {
		/* An incomplete listing proves nothing: no deletion is marked. */
		lister_free(l);
		part_end(s);
		return;
	}
	ids_sort(&l->seen);
	s->listed = l->seen;
	memset(&l->seen, 0, sizeof(l->seen));
	changed = l->changed;
	memset(&l->changed, 0, sizeof(l->changed));
	lister_free(l);
	ids_sort(&changed);
	if (changed.n > 0)
		log_info("tickets: the listing found %zu new or newer than stored", changed.n);
	run_chunked(s, &changed, true, false, changed_done);
}

/* ---- embedded copies ---- */

static void run_chunked(struct sync *s, struct ids *ids, bool fetch_show, bool confirm, void (*after)(struct sync *));
static void start_refresh(struct sync *s);

static void
refresh_done(struct sync *s)
{
	part_end(s);
}

/*
 * A ticket's full object embeds its requester, assignee, queue, company and
 * comment authors (related_data), which change without its updated_on
 * moving.  Tickets embedding a user, queue or company that changed this
 * cycle are fetched again, unless this cycle fetched them already.
 */
static void
refresh_users_done(struct sync *s, void *arg)
{
	struct ids found = IDS_INIT, todo = IDS_INIT;
	size_t i;
	int k;

	(void)arg;
	for (k = 0; k < MOJO_NKINDS; k++)
		ids_sort(&s->dirty[k]);
	if (store_tickets_embedding(s->st, &s->dirty[MOJO_USERS], &s->dirty[MOJO_QUEUES], &s->dirty[MOJO_GROUPS],
				    &found) != 0)
		fail_kind(s, MOJO_TICKETS, "cannot find tickets that embed changed records");
	for (k = 0; k < MOJO_NKINDS; k++)
		ids_free(&s->dirty[k]);
	ids_sort(&found);
	ids_sort(&s->shown);
	for (i = 0; i < found.n; i++)
		if (!ids_has(&s->shown, found.v[i]))
			ids_add(&todo, found.v[i]);
	ids_free(&found);
	if (todo.n > 0)
		log_info("tickets: fetching %zu again whose embedded users, queues or companies changed", todo.n);
	run_chunked(s, &todo, true, false, refresh_done);
}

/*
 * A ticket's full object embeds its requester, assignee, queue, company and
 * comment authors (related_data), and a user's embeds its company: these
 * change without the embedding record's updated_on moving.  Records that
 * embed a user, queue or company that changed this cycle are fetched again
 * (tickets this cycle fetched already are not).
 */
static void
start_refresh(struct sync *s)
{
	struct ids users = IDS_INIT;

	part_begin(s);
	if (s->stopping) {
		part_end(s);
		return;
	}
	ids_sort(&s->dirty[MOJO_GROUPS]);
	ids_sort(&s->dirty[MOJO_QUEUES]);
	if (store_users_embedding(s->st, &s->dirty[MOJO_GROUPS], &s->dirty[MOJO_QUEUES], &users) != 0)
		fail_kind(s, MOJO_USERS, "cannot find users that embed changed companies");
	sbatch_run(s, MOJO_USERS, &users, false, refresh_users_done, NULL);
}

/* ---- the cycle ---- */

static void
finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sync *s = arg;
	sync_done_cb cb = s->cb;
	int k;

	(void)fd;
	(void)what;
	s->stats.ms = now_ms() - s->started_ms;
	for (k = 0; k < MOJO_NKINDS; k++) {
		if (s->kind_first_ms[k] != 0)
			s->stats.kind[k].ms = s->kind_last_ms[k] - s->kind_first_ms[k];
		if (!s->stopping || s->kind_error[k][0] != '\0')
			if (store_finish_resource(s->st, mojo_kind_table((enum mojo_kind)k),
						  s->kind_error[k][0] ? s->kind_error[k] : NULL, s->full && !s->stopping) != 0)
				s->stats.ok = false;
		if (s->kind_error[k][0] != '\0')
			s->stats.ok = false;
	}
	if (s->stats.failed_records > 0 || s->stopping)
		s->stats.ok = false;
	if (s->auth_failed && s->stats.error[0] == '\0')
		snprintf(s->stats.error, sizeof(s->stats.error), "access key rejected");
	if (s->progress)
		fputc('\n', stderr);
	ids_free(&s->refreshed);
	ids_free(&s->shown);
	ids_free(&s->listed);
	for (k = 0; k < MOJO_NKINDS; k++)
		ids_free(&s->dirty[k]);
	s->running = false;
	cb(s, &s->stats, s->cb_arg);
}

static void
phase_next(struct sync *s)
{
	if (s->stopping)
		s->phase = 99;
	switch (s->phase++) {
	case 0:
		/* Incremental: small lists, retries of failed users, and the ticket search, side by side. */
		part_begin(s);	/* held while starting */
		start_listing(s, MOJO_QUEUES, "ticket_queues", NULL, simple_listing_done);
		start_listing(s, MOJO_GROUPS, "groups", NULL, simple_listing_done);
		start_users_retry(s);
		start_tickets(s);
		part_end(s);
		return;
	case 1:
	case 3:
		start_refresh(s);
		return;
	case 2:
		if (!s->full) {
			phase_next(s);
			return;
		}
		/* Reconciliation: full listings, then comments of every ticket, with deletions confirmed. */
		log_info("reconciling: full listings of tickets and users");
		part_begin(s);
		start_listing(s, MOJO_TICKETS, "tickets", "sort_by=id&sort_order=asc", tickets_listing_done);
		start_listing(s, MOJO_USERS, "users", NULL, users_listing_done);
		part_end(s);
		return;
	default:
		/* Deferred: the callback may free the sync, which must not happen under our callers. */
		event_active(s->finish_ev, 0, 0);
		return;
	}
}

struct sync *
sync_new(struct event_base *base, const struct config *cfg, struct store *st, struct http *h)
{
	struct sync *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->base = base;
	s->cfg = cfg;
	s->st = st;
	s->http = h;
	s->finish_ev = event_new(base, -1, 0, finish_cb, s);
	if (s->finish_ev == NULL) {
		free(s);
		return NULL;
	}
	srandom((unsigned)(time(NULL) ^ getpid()));
	return s;
}

void
sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	/* Fetches still pending belong to a cycle that is abandoned: drop them silently. */
	while (s->fetches != NULL)
		fetch_unlink(s->fetches);
	event_free(s->finish_ev);
	ids_free(&s->shown);
	for (int k = 0; k < MOJO_NKINDS; k++)
		ids_free(&s->dirty[k]);
	ids_free(&s->refreshed);
	ids_free(&s->listed);
	free(s);
}

int
sync_start(struct sync *s, bool full, sync_done_cb cb, void *arg)
{
	if (s->running)
		return -1;
	if (store_ensure(s->st) != 0)
		return -2;
	memset(&s->stats, 0, sizeof(s->stats));
	memset(s->kind_error, 0, sizeof(s->kind_error));
	memset(s->kind_first_ms, 0, sizeof(s->kind_first_ms));
	memset(s->kind_last_ms, 0, sizeof(s->kind_last_ms));
	s->stats.ok = true;
	s->running = true;
	s->full = full;
	s->stopping = false;
	s->auth_failed = false;
	s->phase = 0;
	s->parts = 0;
	s->retry_budget = RETRY_BUDGET;
	s->progress_pages = s->progress_records = 0;
	s->started_ms = now_ms();
	s->cb = cb;
	s->cb_arg = arg;
	phase_next(s);
	return 0;
}

bool
sync_running(const struct sync *s)
{
	return s->running;
}

void
sync_stop(struct sync *s)
{
	struct fetch *f;

	if (!s->running || s->stopping)
		return;
	s->stopping = true;
	/* Requests waiting to retry end now; those in flight end when they answer or time out. */
	for (f = s->fetches; f != NULL; f = f->next)
		if (f->timer != NULL && evtimer_pending(f->timer, NULL))
			event_active(f->timer, EV_TIMEOUT, 0);
}

void
sync_set_metrics(struct sync *s, struct metrics *m)
{
	s->metrics = m;
}

void
sync_set_config(struct sync *s, const struct config *cfg)
{
	s->cfg = cfg;
}

void
sync_log_summary(const struct sync_stats *st)
{
	char buf[2048];
	size_t used, len = sizeof(buf);
	int k;

	used = (size_t)snprintf(buf, len, "cycle %s in %.1f s, %ld requests, %ld retries",
				st->ok ? "done" : "FAILED", (double)st->ms / 1000.0, st->requests, st->retries);
	for (k = 0; k < MOJO_NKINDS && used < len; k++) {
		const struct sync_kind_stats *ks = &st->kind[k];
		used += (size_t)snprintf(buf + used, len - used,
					 "; %s: %ld inserted, %ld updated, %ld deleted, %ld requests, %ld retries, %.1f s%s",
					 mojo_kind_table((enum mojo_kind)k), ks->inserted, ks->updated, ks->deleted,
					 ks->requests, ks->retries, (double)ks->ms / 1000.0, ks->failed ? " (failed records)" : "");
	}
	if (st->failed_records > 0 && used < len)
		snprintf(buf + used, len - used, "; %ld records skipped", st->failed_records);
	log_msg(st->ok ? LOG_PRI_INFO : LOG_PRI_ERR, "%s", buf);
}
