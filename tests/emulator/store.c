/* store.c: sorted views of the live tickets, and freeing the store */
#include "emu.h"

#include <stdlib.h>
#include <string.h>

/* ---- sorted views of live tickets ----------------------------------------- */

const char *const emu_sort_fields[] = {
	"id", "title", "description", "user_id", "assigned_to_id", "status_id",
	"ticket_form_id", "priority_id", "ticket_queue_id", "company_id",
	"rating", "rated_on", "created_on", "updated_on", "status_changed_on",
	"solved_on", "assigned_on", "ticket_type_id", "due_on", "scheduled_on",
	NULL,
};
#define NSORT 20

int sort_field_index(const char *name)
{
	for (int i = 0; emu_sort_fields[i]; i++)
		if (strcmp(emu_sort_fields[i], name) == 0)
			return i;
	return -1;
}

/* null sorts first ascending (MySQL) */
static int cmp_i64n(int64_t a, int64_t b, int64_t nullv)
{
	if (a == b)
		return 0;
	if (a == nullv)
		return -1;
	if (b == nullv)
		return 1;
	return a < b ? -1 : 1;
}

static int cmp_rstr(const struct rstr *a, const struct rstr *b)
{
	if (a == b)
		return 0;
	if (a == NULL)
		return -1;
	if (b == NULL)
		return 1;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->s, b->s, n);
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

static int tcmp(const void *pa, const void *pb, void *arg)
{
	const struct tdata *a = &(*(struct ticket *const *)pa)->cur->d;
	const struct tdata *b = &(*(struct ticket *const *)pb)->cur->d;
	int f = *(int *)arg, c = 0;

	switch (f) {
	case 1: c = cmp_rstr(a->title, b->title); break;
	case 2: c = cmp_rstr(a->description, b->description); break;
	case 3: c = cmp_i64n(a->user_id, b->user_id, 0); break;
	case 4: c = cmp_i64n(a->assigned_to_id, b->assigned_to_id, 0); break;
	case 5: c = cmp_i64n(a->status_id, b->status_id, -1); break;
	case 6: c = cmp_i64n(a->ticket_form_id, b->ticket_form_id, 0); break;
	case 7: c = cmp_i64n(a->priority_id, b->priority_id, -1); break;
	case 8: c = cmp_i64n(a->ticket_queue_id, b->ticket_queue_id, 0); break;
	case 9: c = cmp_i64n(a->company_id, b->company_id, 0); break;
	case 10: c = cmp_i64n(a->rating, b->rating, -1); break;
	case 11: c = cmp_i64n(a->rated_on, b->rated_on, TS_NULL); break;
	case 12: c = cmp_i64n(a->created_on, b->created_on, TS_NULL); break;
	case 13: c = cmp_i64n(a->updated_on, b->updated_on, TS_NULL); break;
	case 14: c = cmp_i64n(a->status_changed_on, b->status_changed_on, TS_NULL); break;
	case 15: c = cmp_i64n(a->solved_on, b->solved_on, TS_NULL); break;
	case 16: c = cmp_i64n(a->assigned_on, b->assigned_on, TS_NULL); break;
	case 17: c = cmp_i64n(a->ticket_type_id, b->ticket_type_id, 0); break;
	case 18: c = cmp_i64n(a->due_on, b->due_on, TS_NULL); break;
	case 19: c = cmp_i64n(a->scheduled_on, b->scheduled_on, TS_NULL); break;
	default: break;
	}
	if (c)
		return c;
	return a->id < b->id ? -1 : a->id > b->id ? 1 : 0;
}

const struct tsort *store_sorted_tickets(struct emu *e, int field)
{
	struct store *st = &e->st;
	struct tsort *ts;
	const struct vec *live = &st->live[K_TICKET];

	if (st->tsort == NULL)
		st->tsort = xcalloc(NSORT, sizeof(*st->tsort));
	if (field < 0 || field >= NSORT)
		field = 0;
	ts = &st->tsort[field];
	if (ts->gen == st->gen[K_TICKET] && ts->v)
		return ts;
	free(ts->v);
	ts->v = xmalloc((live->n ? live->n : 1) * sizeof(*ts->v));
	memcpy(ts->v, live->v, live->n * sizeof(*ts->v));
	ts->n = live->n;
	if (field != 0)
		qsort_r(ts->v, ts->n, sizeof(*ts->v), tcmp, &field);
	ts->gen = st->gen[K_TICKET];
	return ts;
}

/* ---- teardown ------------------------------------------------------------------ */



void store_free(struct store *st)
{
	for (size_t i = 0; i < st->all[K_TICKET].n; i++) {
		struct ticket *t = st->all[K_TICKET].v[i];
		struct tver *v = t->cur;
		while (v) {
			struct tver *p = v->prev;
			tdata_clear(&v->d);
			free(v);
			v = p;
		}
		free(t->comments);
		free(t);
	}
	for (size_t i = 0; i < st->all[K_COMMENT].n; i++) {
		struct comment *c = st->all[K_COMMENT].v[i];
		rstr_unref(c->body);
		free(c);
	}
	for (size_t i = 0; i < st->all[K_USER].n; i++)
		user_discard(st->all[K_USER].v[i]);
	for (size_t i = 0; i < st->all[K_QUEUE].n; i++) {
		struct queue *q = st->all[K_QUEUE].v[i];
		rstr_unref(q->name);
		rstr_unref(q->email_alias);
		rstr_unref(q->email_forward);
		free(q);
	}
	for (size_t i = 0; i < st->all[K_GROUP].n; i++)
		group_discard(st->all[K_GROUP].v[i]);
	for (int k = 0; k < K_MAX; k++) {
		free(st->all[k].v);
		free(st->live[k].v);
	}
	if (st->tsort)
		for (int i = 0; i < NSORT; i++)
			free(st->tsort[i].v);
	free(st->tsort);
	free(st->idx);
	memset(st, 0, sizeof(*st));
}
