#include "ac-config.h"

#include "sync.h"
#include "sync_int.h"

#include "config.h"
#include "http.h"
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

/*
 * sync: the cycle (phases and parts), the tickets (search, batches with
 * their comments and users, reconciliation, refreshes of embedded copies),
 * and the public API.
 */

/* ---- cycle phases ---- */

static void phase_next(struct sync *s);

void
part_begin(struct sync *s)
{
	s->parts++;
}

void
part_end(struct sync *s)
{
	if (--s->parts == 0)
		phase_next(s);
}

void
progress(struct sync *s, long records)
{
	s->progress_pages++;
	s->progress_records += records;
	if (s->progress)
		log_progress("initial sync: %ld pages, %ld records", s->progress_pages, s->progress_records);
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
	if (store_notify(s->st, "tickets", &ct) != 0 || store_notify(s->st, "comments", &cc) != 0)
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
	int64_t page_max;	/* the newest updated_on of the last page: where the next one starts */
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
	int64_t max = t->page_max;

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
	struct ids changed = IDS_INIT;
	int64_t max, wmark;
	int n;

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
	if (list_changed(s, MOJO_TICKETS, root, n, NULL, &changed, &max) != 0) {
		fail_kind(s, MOJO_TICKETS, "cannot compare with stored tickets");
		goto end;
	}
	/*
	 * The watermark is the newest updated_on the search showed: the helpdesk's
	 * clock, never ours.  A record stamped later than the helpdesk's own
	 * clock (its Date header) must not carry the watermark into the future,
	 * past changes still to come: the watermark stops at the answer's Date.
	 */
	t->page_max = max;
	if (max != MOJO_NO_TIME && s->answer_date > 0 && max > s->answer_date * 1000000) {
		log_debug("tickets: updated_on in the future of the helpdesk's own clock; the watermark stops at its Date");
		wmark = s->answer_date * 1000000;
	} else {
		wmark = max;
	}
	tbatch_run(s, changed.v, changed.n, true, false, wmark, n, tsearch_batch_done, t);
	ids_free(&changed);
	return;
end:
	ids_free(&changed);
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
	struct store_run runs[MOJO_NKINDS];
	char skipped[MOJO_NKINDS][64];
	int64_t finished_us = wall_us();
	int k;

	(void)fd;
	(void)what;
	s->stats.ms = now_ms() - s->started_ms;
	for (k = 0; k < MOJO_NKINDS; k++) {
		const struct sync_kind_stats *ks = &s->stats.kind[k];
		const char *error = s->kind_error[k][0] ? s->kind_error[k] : NULL;

		if (s->kind_first_ms[k] != 0)
			s->stats.kind[k].ms = s->kind_last_ms[k] - s->kind_first_ms[k];
		if (error == NULL && ks->failed > 0) {
			snprintf(skipped[k], sizeof(skipped[k]), "%ld records skipped; see sync_failures", ks->failed);
			error = skipped[k];
		}
		if (!s->stopping || error != NULL)
			if (store_finish_resource(s->st, mojo_kind_table((enum mojo_kind)k), error,
						  s->full && !s->stopping && error == NULL) != 0)
				s->stats.ok = false;
		if (s->kind_error[k][0] != '\0')
			s->stats.ok = false;
		runs[k].resource = mojo_kind_table((enum mojo_kind)k);
		runs[k].started_us = s->started_wall_us;
		runs[k].finished_us = finished_us;
		runs[k].full = s->full;
		runs[k].requests = ks->requests;
		runs[k].retries = ks->retries;
		runs[k].inserted = ks->inserted;
		runs[k].updated = ks->updated;
		runs[k].deleted = ks->deleted;
		runs[k].failed = ks->failed;
		runs[k].outcome = s->stopping ? "stopped" : error != NULL ? "failed" : "ok";
		runs[k].error = error;
	}
	if (store_log_runs(s->st, runs, MOJO_NKINDS) != 0)
		s->stats.ok = false;
	if (s->stats.failed_records > 0 || s->stopping)
		s->stats.ok = false;
	if (s->auth_failed && s->stats.error[0] == '\0')
		snprintf(s->stats.error, sizeof(s->stats.error), "access key rejected");
	if (s->progress)
		log_progress_end();
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
	s->started_wall_us = wall_us();
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
	if (!s->running || s->stopping)
		return;
	s->stopping = true;
	fetch_end_waiting(s);
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
