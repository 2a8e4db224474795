#include "ac-config.h"

#include "sync_int.h"

#include "config.h"
#include "store.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sync_lists: show batches by id, and full listings, of users, queues and companies (and of tickets' ids). */

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
	    store_failure_clear(s->st, mojo_kind_table(b->kind), ok.v, ok.n) != 0 ||
	    store_notify(s->st, mojo_kind_table(b->kind), &c) != 0 || store_commit(s->st) != 0)
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
void
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
int
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
	    store_failure_clear(s->st, mojo_kind_table(l->kind), ok.v, ok.n) != 0 ||
	    store_notify(s->st, mojo_kind_table(l->kind), &c) != 0 || store_commit(s->st) != 0)
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

int
list_changed(struct sync *s, enum mojo_kind kind, struct json_object *root, int n, struct ids *seen,
	     struct ids *changed, int64_t *max)
{
	int64_t *ids = calloc((size_t)n + 1, sizeof(*ids)), *upd = calloc((size_t)n + 1, sizeof(*upd));
	bool *newer = calloc((size_t)n + 1, sizeof(*newer));
	int i, m = 0, rc = -1;

	*max = MOJO_NO_TIME;
	if (ids == NULL || upd == NULL || newer == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		struct json_object *obj = mojo_list_item(root, i, kind);
		int64_t id = obj ? mojo_object_id(obj) : -1;
		if (id <= 0) {
			bad_record(s, kind, -1, "list item without a usable id");
			continue;
		}
		if (seen != NULL && ids_add(seen, id) != 0)
			goto out;
		ids[m] = id;
		upd[m] = mojo_object_time(obj, "updated_on");
		if (upd[m] != MOJO_NO_TIME && (*max == MOJO_NO_TIME || upd[m] > *max))
			*max = upd[m];
		m++;
	}
	if (store_changed(s->st, kind, ids, upd, (size_t)m, newer) != 0)
		goto out;
	for (i = 0; i < m; i++)
		if (newer[i] && ids_add(changed, ids[i]) != 0)
			goto out;
	rc = 0;
out:
	free(ids);
	free(upd);
	free(newer);
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
		int64_t max;
		int rc = l->collect ? list_changed(s, l->kind, root, n, &l->seen, &l->changed, &max)
				    : lister_store_page(l, root, n);
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

void
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

void
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

void
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

void
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

