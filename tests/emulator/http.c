/* http.c: routing and the Mojo API handlers, both dialects */
#include "emu.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op {
	OP_NONE,
	OP_TICKETS_LIST, OP_TICKETS_CREATE, OP_TICKETS_SEARCH, OP_TICKETS_SHOW,
	OP_TICKETS_UPDATE, OP_TICKETS_DELETE, OP_COMMENTS_LIST,
	OP_COMMENTS_CREATE, OP_COMMENTS_SHOW, OP_COMMENTS_UPDATE,
	OP_COMMENTS_DELETE, OP_USERS_LIST, OP_USERS_CREATE, OP_USERS_TECHS,
	OP_USERS_BY_EMAIL, OP_USERS_SHOW, OP_USERS_UPDATE, OP_USERS_DELETE,
	OP_QUEUES_LIST, OP_QUEUES_CREATE, OP_QUEUES_SHOW, OP_QUEUES_UPDATE,
	OP_QUEUES_DELETE, OP_GROUPS_LIST, OP_GROUPS_CREATE, OP_GROUPS_SHOW,
	OP_GROUPS_UPDATE, OP_GROUPS_DELETE,
};

static const char *const op_class[] = {
	"unknown",
	"tickets.list", "tickets.create", "tickets.search", "tickets.show",
	"tickets.update", "tickets.delete", "comments.list", "comments.create",
	"comments.show", "comments.update", "comments.delete", "users.list",
	"users.create", "users.techs", "users.by_email", "users.show",
	"users.update", "users.delete", "ticket_queues.list",
	"ticket_queues.create", "ticket_queues.show", "ticket_queues.update",
	"ticket_queues.delete", "groups.list", "groups.create", "groups.show",
	"groups.update", "groups.delete",
};

struct route {
	enum op op;
	bool v1;
	int64_t id, id2;
	bool id_ok, id2_ok;
	bool write;
};

struct hctx {
	struct emu *e;
	struct evhttp_request *req;
	struct route rt;
	struct qparams qp;
	struct rctx rc;
	struct sbuf out;
	int code;
	json_object *body; /* writes: the fields (unwrapped) */
	json_object *body_root;
};

struct pending {
	struct emu *e;
	struct evhttp_request *req;
	struct event *ev;
	struct pending *next;
};

/* ---- replies ------------------------------------------------------------- */

void stat_count(struct emu *e, const char *cls, int code)
{
	for (size_t i = 0; i < e->nstats; i++) {
		if (e->stats[i].code == code && strcmp(e->stats[i].cls, cls) == 0) {
			e->stats[i].count++;
			return;
		}
	}
	if (e->nstats == e->capstats) {
		e->capstats = e->capstats ? e->capstats * 2 : 32;
		e->stats = xrealloc(e->stats, e->capstats * sizeof(*e->stats));
	}
	e->stats[e->nstats].cls = xstrdup(cls);
	e->stats[e->nstats].code = code;
	e->stats[e->nstats].count = 1;
	e->nstats++;
}

static void finish_json(struct sbuf *sb)
{
	if (sb->len && sb->p[sb->len - 1] == ',')
		sb->p[--sb->len] = '\0';
}

void send_json(struct evhttp_request *req, int code, struct sbuf *sb)
{
	struct evbuffer *buf = evbuffer_new();

	finish_json(sb);
	evbuffer_add(buf, sb->p ? sb->p : "", sb->len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json; charset=utf-8");
	evhttp_send_reply(req, code, NULL, buf);
	evbuffer_free(buf);
}

void send_text(struct evhttp_request *req, int code, const char *body)
{
	struct evbuffer *buf = evbuffer_new();

	evbuffer_add(buf, body, strlen(body));
	evhttp_send_reply(req, code, NULL, buf);
	evbuffer_free(buf);
}

static void reply(struct hctx *h, int code)
{
	h->code = code;
}

static void err_message(struct hctx *h, int code, const char *msg, bool messages)
{
	sb_free(&h->out);
	jw_obj(&h->out);
	jw_key(&h->out, "message");
	jw_cstr(&h->out, msg);
	if (messages) {
		jw_key(&h->out, "messages");
		jw_arr(&h->out);
		jw_cstr(&h->out, msg);
		jw_arr_end(&h->out);
	}
	jw_obj_end(&h->out);
	reply(h, code);
}

static void err_error(struct hctx *h, int code, const char *msg)
{
	sb_free(&h->out);
	jw_obj(&h->out);
	jw_key(&h->out, "error");
	jw_cstr(&h->out, msg);
	jw_obj_end(&h->out);
	reply(h, code);
}

static void not_found(struct hctx *h)
{
	err_message(h, 404, "Record not found", false);
}

/* ---- paging ------------------------------------------------------------- */

static size_t param_per_page(struct hctx *h, size_t def, size_t min)
{
	const char *s = qp_get(&h->qp, "per_page");
	int64_t v;

	if (s == NULL || parse_int64(s, &v) < 0 || v <= 0)
		v = (int64_t)def;
	if (v > 100)
		v = 100;
	if (v < (int64_t)min)
		v = (int64_t)min;
	return (size_t)v;
}

static size_t param_page(struct hctx *h)
{
	const char *s = qp_get(&h->qp, "page");
	int64_t v;

	if (s == NULL || parse_int64(s, &v) < 0 || v < 1)
		v = 1;
	if (v > 100000000)
		v = 100000000;
	return (size_t)v;
}

static void item_begin(struct hctx *h, const char *wrap)
{
	render_wrap_begin(&h->rc, &h->out, wrap);
}

static void item_end(struct hctx *h)
{
	render_wrap_end(&h->rc, &h->out);
}

/* ---- warts that live in the handlers ----------------------------------- */

static void shift_touch(struct emu *e, struct ticket *t)
{
	struct tver *v = ticket_begin(e, t);

	gen_ticket_edit(e, &v->d);
	ticket_commit(e, t, v);
	e->shifts++;
}

static void shift_new(struct emu *e)
{
	struct tdata d;

	gen_ticket_new(e, &d);
	ticket_create(e, &d);
	e->shifts++;
}

/* ---- tickets ------------------------------------------------------------- */

static void h_tickets_list(struct hctx *h)
{
	const char *sb = qp_get(&h->qp, "sort_by"), *so = qp_get(&h->qp, "sort_order");
	int field = sb ? sort_field_index(sb) : 0;
	bool asc = so && strcmp(so, "asc") == 0;
	size_t per = param_per_page(h, 10, 1), page = param_page(h);
	size_t off = (page - 1) * per;
	const struct tsort *ts;

	if (field < 0)
		field = 0;
	if (h->e->f.shift_pages && page > 1) {
		ts = store_sorted_tickets(h->e, field);
		if (field == 0 && !asc)
			shift_new(h->e);
		else if (ts->n)
			shift_touch(h->e, ts->v[asc ? rng_below(&h->e->frng, off < ts->n ? off : ts->n)
					     : ts->n - 1 - rng_below(&h->e->frng, off < ts->n ? off : ts->n)]);
	}
	ts = store_sorted_tickets(h->e, field);
	jw_arr(&h->out);
	for (size_t k = off; k < ts->n && k < off + per; k++) {
		struct ticket *t = ts->v[asc ? k : ts->n - 1 - k];
		item_begin(h, "ticket");
		render_ticket(&h->rc, &h->out, t, &t->cur->d, TV_LIST);
		item_end(h);
	}
	jw_arr_end(&h->out);
	reply(h, 200);
}

static void h_tickets_search(struct hctx *h)
{
	const char *q = qp_get(&h->qp, "query"), *sf = qp_get(&h->qp, "sf");
	const char *r = qp_get(&h->qp, "r");
	bool desc = r && strcmp(r, "1") == 0;
	size_t per = param_per_page(h, 10, 10), page = param_page(h);
	size_t off = (page - 1) * per, n;
	struct tver **res;
	struct sq *sq;
	char err[160];
	int64_t as_of = emu_now(h->e) - (int64_t)h->e->f.search_lag_s * 1000;

	if (sf && *sf == '\0')
		sf = NULL;
	if (sf && !search_sf_valid(sf)) {
		err_error(h, 400, "bad request");
		return;
	}
	sq = search_parse(q, h->rt.v1, err, sizeof(err));
	if (sq == NULL) {
		err_error(h, 400, "bad request");
		return;
	}
	if (h->e->f.shift_pages && page > 1 && off > 0) {
		search_run(h->e, sq, as_of, sf, desc, 0, off, &res, &n);
		if (n)
			shift_touch(h->e, res[rng_below(&h->e->frng, n)]->t);
		free(res);
		as_of = emu_now(h->e) - (int64_t)h->e->f.search_lag_s * 1000;
	}
	search_run(h->e, sq, as_of, sf, desc, off, per, &res, &n);
	jw_arr(&h->out);
	for (size_t k = 0; k < n; k++) {
		item_begin(h, "ticket");
		render_ticket(&h->rc, &h->out, res[k]->t, &res[k]->d, TV_SEARCH);
		item_end(h);
	}
	jw_arr_end(&h->out);
	free(res);
	search_free(sq);
	reply(h, 200);
}

static struct ticket *route_ticket(struct hctx *h)
{
	return h->rt.id_ok ? store_ticket(h->e, h->rt.id) : NULL;
}

static void show_ticket(struct hctx *h, struct ticket *t, int code)
{
	item_begin(h, "ticket");
	render_ticket(&h->rc, &h->out, t, &t->cur->d, TV_SHOW);
	item_end(h);
	if (h->rc.faults && idset_has(&h->e->f.malformed[K_TICKET], t->id)) {
		/* a body that is not JSON at all: cut and garbled */
		h->out.len = h->out.len * 2 / 3;
		sb_puts(&h->out, "\",\"oops\":}");
	}
	reply(h, code);
}

static void h_tickets_show(struct hctx *h)
{
	struct ticket *t = route_ticket(h);

	if (t == NULL)
		return not_found(h);
	show_ticket(h, t, 200);
}

static void h_comments_list(struct hctx *h)
{
	struct ticket *t = route_ticket(h);
	size_t per = param_per_page(h, 10, 1), page = param_page(h);
	size_t off = (page - 1) * per, seen = 0, done = 0;

	if (t == NULL)
		return not_found(h);
	jw_arr(&h->out);
	for (size_t i = 0; i < t->ncomments && done < per; i++) {
		struct comment *c = t->comments[i];
		if (c->deleted || seen++ < off)
			continue;
		item_begin(h, "comment");
		render_comment(&h->rc, &h->out, c, false);
		item_end(h);
		done++;
	}
	jw_arr_end(&h->out);
	reply(h, 200);
}

static void h_comments_show(struct hctx *h)
{
	struct ticket *t = route_ticket(h);
	struct comment *c = h->rt.id2_ok ? store_comment(h->e, h->rt.id2) : NULL;

	if (t == NULL || c == NULL || c->ticket_id != t->id)
		return not_found(h);
	item_begin(h, "comment");
	render_comment(&h->rc, &h->out, c, false);
	item_end(h);
	reply(h, 200);
}

/* ---- users, queues, groups (small: linear work is fine) -------------------- */

static int ucmp(const void *pa, const void *pb, void *arg)
{
	const struct user *a = *(struct user *const *)pa, *b = *(struct user *const *)pb;
	int f = *(int *)arg;
	int64_t x = 0, y = 0;

	if (f == 1) {
		x = a->created_on;
		y = b->created_on;
	} else if (f == 2) {
		x = a->updated_on;
		y = b->updated_on;
	} else if (f == 3) {
		int c = strcmp(a->email ? a->email->s : "", b->email ? b->email->s : "");
		if (c)
			return c;
	}
	if (x != y)
		return x < y ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static void list_page(struct hctx *h, const struct vec *vv, size_t per_def,
		      void (*emit)(struct hctx *, void *))
{
	size_t per = param_per_page(h, per_def, 1), page = param_page(h);
	size_t off = (page - 1) * per;
	const char *so = qp_get(&h->qp, "sort_order");
	bool desc = so && strcmp(so, "desc") == 0;

	jw_arr(&h->out);
	for (size_t k = off; k < vv->n && k < off + per; k++)
		emit(h, vv->v[desc ? vv->n - 1 - k : k]);
	jw_arr_end(&h->out);
	reply(h, 200);
}

static void emit_user(struct hctx *h, void *p)
{
	item_begin(h, "user");
	render_user(&h->rc, &h->out, p, false);
	item_end(h);
}

static void emit_user_related(struct hctx *h, void *p)
{
	item_begin(h, "user");
	render_user(&h->rc, &h->out, p, true);
	item_end(h);
}

static void emit_queue(struct hctx *h, void *p)
{
	item_begin(h, "ticket_queue");
	render_queue(&h->rc, &h->out, p);
	item_end(h);
}

static void emit_group(struct hctx *h, void *p)
{
	item_begin(h, h->rt.v1 ? "company" : "group");
	render_group(&h->rc, &h->out, p);
	item_end(h);
}

static void h_users_list(struct hctx *h)
{
	const char *sb = qp_get(&h->qp, "sort_by");
	int f = 0;

	if (sb && strcmp(sb, "created_on") == 0)
		f = 1;
	else if (sb && strcmp(sb, "updated_on") == 0)
		f = 2;
	else if (sb && strcmp(sb, "email") == 0)
		f = 3;
	if (f == 0) {
		list_page(h, &h->e->st.live[K_USER], 30, emit_user);
		return;
	}
	struct vec tmp = h->e->st.live[K_USER];
	tmp.v = xmalloc((tmp.n ? tmp.n : 1) * sizeof(void *));
	memcpy(tmp.v, h->e->st.live[K_USER].v, tmp.n * sizeof(void *));
	qsort_r(tmp.v, tmp.n, sizeof(void *), ucmp, &f);
	list_page(h, &tmp, 30, emit_user);
	free(tmp.v);
}

static void h_users_techs(struct hctx *h)
{
	const struct vec *vv = &h->e->st.live[K_USER];

	jw_arr(&h->out);
	for (size_t i = 0; i < vv->n; i++) {
		struct user *u = vv->v[i];
		if (u->role_id > 10)
			emit_user_related(h, u);
	}
	jw_arr_end(&h->out);
	reply(h, 200);
}

static void h_users_show(struct hctx *h)
{
	struct user *u = h->rt.id_ok ? store_user(h->e, h->rt.id) : NULL;

	if (u == NULL)
		return err_error(h, 400, "Invalid user id");
	emit_user_related(h, u);
	reply(h, 200);
}

static void h_users_by_email(struct hctx *h)
{
	const char *em = qp_get(&h->qp, "email");
	struct user *u = em ? store_user_by_email(h->e, em) : NULL;

	if (u == NULL)
		return err_error(h, 400, "Invalid user email");
	emit_user_related(h, u);
	reply(h, 200);
}

static void h_queues_show(struct hctx *h)
{
	struct queue *q = h->rt.id_ok ? store_queue(h->e, h->rt.id) : NULL;

	if (q == NULL)
		return err_error(h, 400, "Invalid ticket queue id");
	emit_queue(h, q);
	reply(h, 200);
}

static void h_groups_show(struct hctx *h)
{
	struct group *g = h->rt.id_ok ? store_group(h->e, h->rt.id) : NULL;

	if (g == NULL)
		return err_error(h, 400, "Invalid group id");
	emit_group(h, g);
	reply(h, 200);
}

/* ---- writes ----------------------------------------------------------------- */

static json_object *field(struct hctx *h, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(h->body, k, &v) ? v : NULL;
}

static bool has(struct hctx *h, const char *k)
{
	return json_object_object_get_ex(h->body, k, NULL);
}

/* integer or numeric string; -1 invalid, 0 absent/null, 1 ok */
static int get_int(struct hctx *h, const char *k, int64_t *out)
{
	json_object *v = field(h, k);

	if (!has(h, k))
		return 0;
	if (v == NULL)
		return 2; /* explicit null */
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return 1;
	}
	if (json_object_is_type(v, json_type_string) &&
	    parse_int64(json_object_get_string(v), out) == 0)
		return 1;
	return -1;
}

static struct rstr *get_str(struct hctx *h, const char *k, bool *present)
{
	json_object *v = field(h, k);

	*present = has(h, k);
	if (v == NULL)
		return NULL;
	if (json_object_is_type(v, json_type_string))
		return rstr_new(json_object_get_string(v), (size_t)json_object_get_string_len(v));
	return rstr_from(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

static void set_str(struct hctx *h, const char *k, struct rstr **dst)
{
	bool present;
	struct rstr *r = get_str(h, k, &present);

	if (!present)
		return;
	rstr_unref(*dst);
	*dst = r;
}

static int set_ts(struct hctx *h, const char *k, int64_t *dst)
{
	json_object *v = field(h, k);
	int64_t ts;

	if (!has(h, k))
		return 0;
	if (v == NULL) {
		*dst = TS_NULL;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    parse_ts(json_object_get_string(v), (size_t)json_object_get_string_len(v), &ts) < 0)
		return -1;
	if (!h->e->opt.millis)
		ts -= ((ts % 1000) + 1000) % 1000;
	*dst = ts;
	return 0;
}

static bool in_enum(int64_t v, const int *vals, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (vals[i] == v)
			return true;
	return false;
}

/* Applies ticket fields from the body; returns an error message or NULL. */
static const char *apply_ticket(struct hctx *h, struct tdata *d, int64_t now)
{
	static const int statuses[] = { 10, 20, 30, 40, 50, 60 };
	static const int prios[] = { 10, 20, 30, 40 };
	int64_t v;
	int r;
	char key[128];

	set_str(h, "title", &d->title);
	set_str(h, "description", &d->description);
	set_str(h, "cc", &d->cc);
	set_str(h, "asset_tag", &d->asset_tag);
	if ((r = get_int(h, "ticket_queue_id", &v)) < 0 || (r == 1 && !store_queue(h->e, v)))
		return "Ticket queue is invalid";
	if (r == 1)
		d->ticket_queue_id = v;
	if ((r = get_int(h, "priority_id", &v)) < 0 || (r == 1 && !in_enum(v, prios, 4)))
		return "Priority is not included in the list";
	if (r == 1)
		d->priority_id = (int)v;
	if ((r = get_int(h, "status_id", &v)) < 0 || (r == 1 && !in_enum(v, statuses, 6)))
		return "Status is not included in the list";
	if (r == 1 && v != d->status_id) {
		d->status_id = (int)v;
		d->status_changed_on = now;
		d->solved_on = v >= 50 ? (d->solved_on == TS_NULL ? now : d->solved_on) : TS_NULL;
		d->closed_on = v == 60 ? now : TS_NULL;
	}
	if ((r = get_int(h, "ticket_type_id", &v)) < 0)
		return "Ticket type is invalid";
	if (r)
		d->ticket_type_id = r == 1 ? v : 0;
	if ((r = get_int(h, "ticket_form_id", &v)) < 0)
		return "Ticket form is invalid";
	if (r == 1)
		d->ticket_form_id = v;
	if ((r = get_int(h, "resolution_id", &v)) < 0)
		return "Resolution is invalid";
	if (r)
		d->resolution_id = r == 1 ? v : 0;
	if ((r = get_int(h, "assigned_to_id", &v)) < 0 || (r == 1 && !store_user(h->e, v)))
		return "Assigned to is invalid";
	if (r && (r == 1 ? v : 0) != d->assigned_to_id) {
		d->assigned_to_id = r == 1 ? v : 0;
		d->assigned_on = d->assigned_to_id ? now : TS_NULL;
		if (d->assigned_to_id && d->first_assigned_on == TS_NULL)
			d->first_assigned_on = now;
	}
	if ((r = get_int(h, "user_id", &v)) < 0 || (r == 1 && !store_user(h->e, v)))
		return "User is invalid";
	if (r == 1) {
		d->user_id = v;
		d->company_id = store_user(h->e, v)->company_id;
	}
	if (set_ts(h, "due_on", &d->due_on) < 0 || set_ts(h, "scheduled_on", &d->scheduled_on) < 0)
		return "Date is invalid";
	for (int i = 0; i < NCF; i++) {
		json_object *cv;
		snprintf(key, sizeof(key), "custom_field_%s", emu_cfdefs[i].name);
		if (!has(h, key))
			continue;
		cv = field(h, key);
		rstr_unref(d->cf[i].s);
		d->cf[i].s = NULL;
		d->cf[i].type = 0;
		if (cv == NULL)
			continue;
		if (json_object_is_type(cv, json_type_int)) {
			d->cf[i].type = 2;
			d->cf[i].i = json_object_get_int64(cv);
		} else if (json_object_is_type(cv, json_type_boolean)) {
			d->cf[i].type = 3;
			d->cf[i].i = json_object_get_boolean(cv);
		} else {
			d->cf[i].type = 1;
			d->cf[i].s = rstr_from(json_object_is_type(cv, json_type_string)
					       ? json_object_get_string(cv)
					       : json_object_to_json_string_ext(cv, JSON_C_TO_STRING_PLAIN));
		}
	}
	return NULL;
}

static int64_t caller_id(struct hctx *h)
{
	const struct vec *vv = &h->e->st.live[K_USER];

	for (size_t i = 0; i < vv->n; i++)
		if (((struct user *)vv->v[i])->role_id >= 35)
			return ((struct user *)vv->v[i])->id;
	return vv->n ? ((struct user *)vv->v[0])->id : 0;
}

static void h_tickets_create(struct hctx *h)
{
	struct tdata d;
	const char *err;
	json_object *uo;
	int64_t now = emu_stamp(h->e, TS_NULL);

	gen_ticket_new(h->e, &d);
	/* the API creates what it is told, nothing random */
	rstr_unref(d.title);
	rstr_unref(d.description);
	rstr_unref(d.cc);
	rstr_unref(d.asset_tag);
	d.title = d.description = d.cc = d.asset_tag = NULL;
	for (int i = 0; i < NCF; i++) {
		rstr_unref(d.cf[i].s);
		d.cf[i].s = NULL;
		d.cf[i].type = 0;
	}
	d.tags = 0;
	d.assigned_to_id = 0;
	d.assigned_on = d.first_assigned_on = d.due_on = d.scheduled_on = TS_NULL;
	d.ticket_type_id = 0;
	d.priority_id = 30;
	d.ticket_form_id = emu_forms[0].id;
	d.is_attention_required = false;
	d.user_attention_id = d.parent_ticket_id = d.legacy_id = 0;
	d.user_id = caller_id(h);
	d.company_id = 0;
	d.ticket_queue_id = 0;
	if ((err = apply_ticket(h, &d, now)) == NULL) {
		if (d.title == NULL || d.title->len == 0)
			err = "Title can't be blank";
		else if (d.ticket_queue_id == 0)
			err = "Ticket queue can't be blank";
	}
	if (err == NULL && !has(h, "user_id") &&
	    json_object_object_get_ex(h->body, "user", &uo) && json_object_is_type(uo, json_type_object)) {
		json_object *em;
		if (json_object_object_get_ex(uo, "email", &em) && json_object_is_type(em, json_type_string)) {
			struct user *u = store_user_by_email(h->e, json_object_get_string(em));
			if (u == NULL) {
				u = user_create(h->e);
				rstr_unref(u->email);
				u->email = rstr_from(json_object_get_string(em));
			}
			d.user_id = u->id;
			d.company_id = u->company_id;
		}
	}
	if (err) {
		tdata_clear(&d);
		return err_message(h, 422, err, true);
	}
	struct ticket *t = ticket_create(h->e, &d);
	show_ticket(h, t, 201);
}

static void h_tickets_update(struct hctx *h)
{
	struct ticket *t = route_ticket(h);
	struct tver *v;
	const char *err;

	if (t == NULL)
		return not_found(h);
	v = ticket_begin(h->e, t);
	err = apply_ticket(h, &v->d, emu_stamp(h->e, TS_NULL));
	if (err == NULL && v->d.title && v->d.title->len == 0)
		err = "Title can't be blank";
	if (err) {
		ticket_abort(v);
		return err_message(h, 422, err, true);
	}
	ticket_commit(h->e, t, v);
	show_ticket(h, t, 200);
}

static void h_tickets_delete(struct hctx *h)
{
	struct ticket *t = route_ticket(h);

	if (t == NULL)
		return not_found(h);
	ticket_delete(h->e, t);
	reply(h, 200);
}

static void h_comments_create(struct hctx *h)
{
	struct ticket *t = route_ticket(h);
	struct rstr *body;
	bool present;
	int64_t uid = 0, ts = -1;
	json_object *p;
	struct comment *c;

	if (t == NULL)
		return err_error(h, 400, "Invalid ticket id");
	body = get_str(h, "body", &present);
	if (body == NULL || body->len == 0) {
		rstr_unref(body);
		return err_error(h, 400, "Body can't be blank");
	}
	if (get_int(h, "user_id", &uid) != 1 || store_user(h->e, uid) == NULL)
		uid = caller_id(h);
	if (get_int(h, "time_spent", &ts) != 1 || ts < 0)
		ts = -1;
	p = field(h, "is_private");
	c = comment_create(h->e, t, uid, body, p && json_object_get_boolean(p), (int)ts);
	item_begin(h, "comment");
	render_comment(&h->rc, &h->out, c, false);
	item_end(h);
	reply(h, 201);
}

static void h_comments_update(struct hctx *h)
{
	struct ticket *t = route_ticket(h);
	struct comment *c = h->rt.id2_ok ? store_comment(h->e, h->rt.id2) : NULL;
	int64_t ts;
	json_object *p;

	if (t == NULL || c == NULL || c->ticket_id != t->id)
		return not_found(h);
	if (has(h, "body")) {
		bool present;
		struct rstr *b = get_str(h, "body", &present);
		if (b == NULL || b->len == 0) {
			rstr_unref(b);
			return err_error(h, 400, "Body can't be blank");
		}
		rstr_unref(c->body);
		c->body = b;
	}
	if (get_int(h, "time_spent", &ts) == 1)
		c->time_spent = ts < 0 ? -1 : (int)ts;
	if ((p = field(h, "is_private")) != NULL)
		c->is_private = json_object_get_boolean(p);
	comment_touch(h->e, c);
	item_begin(h, "comment");
	render_comment(&h->rc, &h->out, c, false);
	item_end(h);
	reply(h, 200);
}

static void h_comments_delete(struct hctx *h)
{
	struct ticket *t = route_ticket(h);
	struct comment *c = h->rt.id2_ok ? store_comment(h->e, h->rt.id2) : NULL;

	if (t == NULL || c == NULL || c->ticket_id != t->id)
		return not_found(h);
	comment_delete(h->e, c);
	reply(h, 200);
}

static const char *apply_user(struct hctx *h, struct user *u, bool create)
{
	static const int roles[] = { 10, 15, 20, 30, 35, 40 };
	static const struct {
		const char *key, *label;
		size_t max;
	} strs[] = {
		{ "first_name", "First name", 45 }, { "last_name", "Last name", 45 },
		{ "middle_name", "Middle name", 45 }, { "work_phone", "Work phone", 30 },
		{ "cell_phone", "Cell phone", 30 }, { "home_phone", "Home phone", 30 },
		{ "user_notes", NULL, 0 },
	};
	static char msg[128];
	struct rstr **dst[] = { &u->first_name, &u->last_name, &u->middle_name,
				&u->work_phone, &u->cell_phone, &u->home_phone,
				&u->user_notes };
	int64_t v;
	int r;
	json_object *b;

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		bool present;
		struct rstr *s = get_str(h, strs[i].key, &present);
		if (s && strs[i].max && s->len > strs[i].max) {
			rstr_unref(s);
			snprintf(msg, sizeof(msg), "%s is too long (maximum is %zu characters)",
				 strs[i].label, strs[i].max);
			return msg;
		}
		if (!present)
			continue;
		rstr_unref(*dst[i]);
		*dst[i] = s;
	}
	if ((r = get_int(h, "role_id", &v)) < 0)
		return "Invalid role id";
	if (r == 1 && v > 40)
		return "You are not allowed to set a super admin role.";
	if (r == 1 && !in_enum(v, roles, 6))
		return "Invalid role id";
	if (r == 1)
		u->role_id = (int)v;
	if ((r = get_int(h, "company_id", &v)) < 0 || (r == 1 && !store_group(h->e, v)))
		return "Invalid company id";
	if (r)
		u->company_id = r == 1 ? v : 0;
	if ((b = field(h, "is_active")) != NULL)
		u->is_active = json_object_get_boolean(b);
	(void)create;
	return NULL;
}

static void h_users_create(struct hctx *h)
{
	bool present;
	struct rstr *email = get_str(h, "email", &present);
	struct user *u;
	const char *err;
	static char msg[300];

	if (email == NULL || email->len < 6 || email->len > 255 || !strchr(email->s, '@')) {
		rstr_unref(email);
		return err_error(h, 400, "Email is invalid");
	}
	if ((u = store_user_by_email(h->e, email->s)) != NULL) {
		snprintf(msg, sizeof(msg), "The user with email %s already exists as a User.", email->s);
		rstr_unref(email);
		return err_error(h, 400, msg);
	}
	u = user_alloc(h->e);
	/* only what was asked for */
	rstr_unref(u->email);
	u->email = email;
	struct rstr **clear[] = { &u->middle_name, &u->work_phone, &u->cell_phone,
				  &u->home_phone, &u->fax_phone, &u->address,
				  &u->user_notes, &u->helpdesk_notes, &u->im_screen_name,
				  &u->picture_url };
	for (size_t i = 0; i < sizeof(clear) / sizeof(clear[0]); i++) {
		rstr_unref(*clear[i]);
		*clear[i] = NULL;
	}
	u->role_id = 10;
	u->company_id = 0;
	u->is_active = true;
	u->unassigned_tickets_count = -1;
	if ((err = apply_user(h, u, true)) != NULL) {
		user_discard(u); /* never visible */
		return err_error(h, 400, err);
	}
	user_insert(h->e, u);
	emit_user_related(h, u);
	reply(h, 201);
}

static void h_users_update(struct hctx *h)
{
	struct user *u = h->rt.id_ok ? store_user(h->e, h->rt.id) : NULL;
	const char *err;

	if (u == NULL)
		return err_error(h, 400, "Invalid user id");
	if ((err = apply_user(h, u, false)) != NULL)
		return err_error(h, 400, err);
	user_touch(h->e, u);
	emit_user_related(h, u);
	reply(h, 200);
}

static void h_users_delete(struct hctx *h)
{
	struct user *u = h->rt.id_ok ? store_user(h->e, h->rt.id) : NULL;

	if (u == NULL)
		return err_message(h, 404, "Record not found", true);
	if (u->role_id == 40)
		return err_message(h, 422, "The account owner cannot be deleted.", true);
	user_delete(h->e, u);
	reply(h, 200);
}

static const char *apply_queue(struct hctx *h, struct queue *q)
{
	int64_t v;
	int r;

	set_str(h, "name", &q->name);
	set_str(h, "email_alias", &q->email_alias);
	set_str(h, "email_forward", &q->email_forward);
	if ((r = get_int(h, "email_ticket_form_id", &v)) < 0)
		return "Email ticket form is invalid";
	if (r)
		q->email_ticket_form_id = r == 1 ? v : 0;
	if (q->name == NULL || q->name->len == 0)
		return "Name can't be blank";
	return NULL;
}

static void h_queues_write(struct hctx *h)
{
	struct queue *q;
	const char *err;

	if (h->rt.op == OP_QUEUES_CREATE) {
		bool present;
		struct rstr *name = get_str(h, "name", &present);
		if (name == NULL || name->len == 0) {
			rstr_unref(name);
			return err_error(h, 400, "Name can't be blank");
		}
		rstr_unref(name);
		q = queue_create(h->e);
		rstr_unref(q->email_alias);
		rstr_unref(q->email_forward);
		q->email_alias = q->email_forward = NULL;
		q->email_ticket_form_id = 0;
		apply_queue(h, q);
		emit_queue(h, q);
		return reply(h, 201);
	}
	q = h->rt.id_ok ? store_queue(h->e, h->rt.id) : NULL;
	if (q == NULL)
		return err_error(h, 400, "Invalid ticket queue id");
	if (h->rt.op == OP_QUEUES_DELETE) {
		queue_delete(h->e, q);
		return reply(h, 200);
	}
	struct rstr *old = rstr_ref(q->name);
	if ((err = apply_queue(h, q)) != NULL) {
		rstr_unref(q->name);
		q->name = old;
		return err_error(h, 400, err);
	}
	rstr_unref(old);
	touched(h->e, K_QUEUE);
	emit_queue(h, q);
	reply(h, 200);
}

static const char *apply_group(struct hctx *h, struct group *g)
{
	static const struct {
		const char *key;
		size_t off;
	} strs[] = {
		{ "name", offsetof(struct group, name) },
		{ "support_info_url", offsetof(struct group, support_info_url) },
		{ "address", offsetof(struct group, address) },
		{ "address2", offsetof(struct group, address2) },
		{ "city", offsetof(struct group, city) },
		{ "state", offsetof(struct group, state) },
		{ "zip", offsetof(struct group, zip) },
		{ "country", offsetof(struct group, country) },
		{ "website_url", offsetof(struct group, website_url) },
		{ "notes", offsetof(struct group, notes) },
	};
	int64_t v;
	int r;

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		set_str(h, strs[i].key, (struct rstr **)(void *)((char *)g + strs[i].off));
	if ((r = get_int(h, "primary_contact_id", &v)) < 0 || (r == 1 && !store_user(h->e, v)))
		return "Primary contact is invalid";
	if (r)
		g->primary_contact_id = r == 1 ? v : 0;
	if ((r = get_int(h, "billing_contact_id", &v)) < 0 || (r == 1 && !store_user(h->e, v)))
		return "Billing contact is invalid";
	if (r)
		g->billing_contact_id = r == 1 ? v : 0;
	if ((r = get_int(h, "support_level_id", &v)) < 0)
		return "Support level is invalid";
	if (r)
		g->support_level_id = r == 1 ? v : 0;
	if ((r = get_int(h, "support_status_id", &v)) < 0 || (r == 1 && v != 0 && v != 1))
		return "Support status is invalid";
	if (r)
		g->support_status_id = r == 1 ? (int)v : -1;
	if (set_ts(h, "support_start_date", &g->support_start_date) < 0 ||
	    set_ts(h, "support_end_date", &g->support_end_date) < 0)
		return "Support date is invalid";
	if (g->support_start_date != TS_NULL)
		g->support_start_date -= ((g->support_start_date % 86400000) + 86400000) % 86400000;
	if (g->support_end_date != TS_NULL)
		g->support_end_date -= ((g->support_end_date % 86400000) + 86400000) % 86400000;
	if (g->name == NULL || g->name->len == 0)
		return "Name can't be blank";
	return NULL;
}

static void h_groups_write(struct hctx *h)
{
	struct group *g;
	const char *err;

	if (h->rt.op == OP_GROUPS_CREATE) {
		bool present;
		struct rstr *name = get_str(h, "name", &present);
		if (name == NULL || name->len == 0) {
			rstr_unref(name);
			return err_error(h, 400, "Name can't be blank");
		}
		rstr_unref(name);
		g = group_alloc(h->e);
		struct rstr **clear[] = { &g->support_info_url, &g->address, &g->address2,
					  &g->city, &g->state, &g->zip, &g->country,
					  &g->website_url, &g->notes };
		for (size_t i = 0; i < sizeof(clear) / sizeof(clear[0]); i++) {
			rstr_unref(*clear[i]);
			*clear[i] = NULL;
		}
		g->primary_contact_id = g->billing_contact_id = g->support_level_id = 0;
		g->support_status_id = 0;
		g->support_start_date = g->support_end_date = TS_NULL;
		if ((err = apply_group(h, g)) != NULL) {
			group_discard(g);
			return err_error(h, 400, err);
		}
		group_insert(h->e, g);
		emit_group(h, g);
		return reply(h, 201);
	}
	g = h->rt.id_ok ? store_group(h->e, h->rt.id) : NULL;
	if (g == NULL)
		return err_error(h, 400, "Invalid group id");
	if (h->rt.op == OP_GROUPS_DELETE) {
		group_delete(h->e, g);
		return reply(h, 200);
	}
	if ((err = apply_group(h, g)) != NULL)
		return err_error(h, 400, err);
	touched(h->e, K_GROUP);
	emit_group(h, g);
	reply(h, 200);
}

/* ---- routing --------------------------------------------------------------- */

static bool parse_id(const char *s, size_t n, int64_t *out)
{
	char buf[32];

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return false;
	return parse_int64(buf, out) == 0;
}

static bool seg_is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Returns 0, or 404 / 405 / 406 for the caller to answer. */
static int route_parse(const char *path, enum evhttp_cmd_type method, struct route *rt)
{
	const char *seg[6];
	size_t len[6], ns = 0;
	const char *p;
	bool get = method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD;
	bool post = method == EVHTTP_REQ_POST;
	bool put = method == EVHTTP_REQ_PUT || method == EVHTTP_REQ_PATCH;
	bool del = method == EVHTTP_REQ_DELETE;

	memset(rt, 0, sizeof(*rt));
	if (strncmp(path, "/api/v2/", 8) == 0) {
		p = path + 8;
	} else if (strncmp(path, "/api/", 5) == 0) {
		p = path + 5;
		rt->v1 = true;
	} else {
		return 404;
	}
	while (*p && ns < 6) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		seg[ns] = p;
		len[ns++] = n;
		p += n;
		if (*p == '/')
			p++;
	}
	if (*p || ns == 0)
		return 404;
	if (rt->v1) {
		size_t *l = &len[ns - 1];
		if (*l > 5 && memcmp(seg[ns - 1] + *l - 5, ".json", 5) == 0)
			*l -= 5;
		else if (*l > 4 && memcmp(seg[ns - 1] + *l - 4, ".xml", 4) == 0)
			return 406;
	}
	rt->id_ok = ns >= 2 && parse_id(seg[1], len[1], &rt->id);
	rt->id2_ok = ns >= 4 && parse_id(seg[3], len[3], &rt->id2);
	rt->write = post || put || del;

	if (seg_is(seg[0], len[0], "tickets")) {
		if (ns == 1)
			rt->op = get ? OP_TICKETS_LIST : post ? OP_TICKETS_CREATE : OP_NONE;
		else if (ns == 2 && seg_is(seg[1], len[1], "search"))
			rt->op = get ? OP_TICKETS_SEARCH : OP_NONE;
		else if (ns == 2)
			rt->op = get ? OP_TICKETS_SHOW : put ? OP_TICKETS_UPDATE
				 : del ? OP_TICKETS_DELETE : OP_NONE;
		else if (ns == 3 && seg_is(seg[2], len[2], "comments"))
			rt->op = get ? OP_COMMENTS_LIST : post ? OP_COMMENTS_CREATE : OP_NONE;
		else if (ns == 4 && seg_is(seg[2], len[2], "comments"))
			rt->op = get ? OP_COMMENTS_SHOW : put ? OP_COMMENTS_UPDATE
				 : del ? OP_COMMENTS_DELETE : OP_NONE;
		else
			return 404;
	} else if (seg_is(seg[0], len[0], "users")) {
		if (ns == 1)
			rt->op = get ? OP_USERS_LIST : post ? OP_USERS_CREATE : OP_NONE;
		else if (ns == 2 && seg_is(seg[1], len[1], "techs"))
			rt->op = get ? OP_USERS_TECHS : OP_NONE;
		else if (ns == 2 && seg_is(seg[1], len[1], "get_by_email"))
			rt->op = get ? OP_USERS_BY_EMAIL : OP_NONE;
		else if (ns == 2)
			rt->op = get ? OP_USERS_SHOW : put ? OP_USERS_UPDATE
				 : del ? OP_USERS_DELETE : OP_NONE;
		else
			return 404;
	} else if (seg_is(seg[0], len[0], "ticket_queues")) {
		if (ns == 1)
			rt->op = get ? OP_QUEUES_LIST : post ? OP_QUEUES_CREATE : OP_NONE;
		else if (ns == 2)
			rt->op = get ? OP_QUEUES_SHOW : put ? OP_QUEUES_UPDATE
				 : del ? OP_QUEUES_DELETE : OP_NONE;
		else
			return 404;
	} else if (seg_is(seg[0], len[0], rt->v1 ? "companies" : "groups")) {
		if (ns == 1)
			rt->op = get ? OP_GROUPS_LIST : post ? OP_GROUPS_CREATE : OP_NONE;
		else if (ns == 2)
			rt->op = get ? OP_GROUPS_SHOW : put ? OP_GROUPS_UPDATE
				 : del ? OP_GROUPS_DELETE : OP_NONE;
		else
			return 404;
	} else {
		return 404;
	}
	return rt->op == OP_NONE ? 405 : 0;
}

static int parse_body(struct hctx *h)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(h->req);
	size_t n = evbuffer_get_length(in);
	char *s;
	enum json_tokener_error jerr;
	json_object *inner;
	const char *wrap;

	if (n == 0) {
		h->body_root = json_object_new_object();
		h->body = h->body_root;
		return 0;
	}
	s = xmalloc(n + 1);
	evbuffer_copyout(in, s, n);
	s[n] = '\0';
	h->body_root = json_tokener_parse_verbose(s, &jerr);
	free(s);
	if (h->body_root == NULL || !json_object_is_type(h->body_root, json_type_object)) {
		json_object_put(h->body_root);
		h->body_root = NULL;
		return -1;
	}
	h->body = h->body_root;
	/* Rails wraps parameters: accept {"ticket": {...}} as well */
	switch (h->rt.op) {
	case OP_TICKETS_CREATE: case OP_TICKETS_UPDATE: wrap = "ticket"; break;
	case OP_COMMENTS_CREATE: case OP_COMMENTS_UPDATE: wrap = "comment"; break;
	case OP_USERS_CREATE: case OP_USERS_UPDATE: wrap = "user"; break;
	case OP_QUEUES_CREATE: case OP_QUEUES_UPDATE: wrap = "ticket_queue"; break;
	default: wrap = h->rt.v1 ? "company" : "group"; break;
	}
	if (json_object_object_get_ex(h->body_root, wrap, &inner) &&
	    json_object_is_type(inner, json_type_object))
		h->body = inner;
	return 0;
}

static bool authorized(struct hctx *h)
{
	const char *key = qp_get(&h->qp, "access_key");
	const struct opts *o = &h->e->opt;

	if (key == NULL)
		return false;
	if (o->access_key && strcmp(key, o->access_key) == 0)
		return true;
	if (o->read_only_key && strcmp(key, o->read_only_key) == 0 && !h->rt.write)
		return true;
	return false;
}

static void dispatch(struct hctx *h)
{
	switch (h->rt.op) {
	case OP_TICKETS_LIST: h_tickets_list(h); break;
	case OP_TICKETS_CREATE: h_tickets_create(h); break;
	case OP_TICKETS_SEARCH: h_tickets_search(h); break;
	case OP_TICKETS_SHOW: h_tickets_show(h); break;
	case OP_TICKETS_UPDATE: h_tickets_update(h); break;
	case OP_TICKETS_DELETE: h_tickets_delete(h); break;
	case OP_COMMENTS_LIST: h_comments_list(h); break;
	case OP_COMMENTS_CREATE: h_comments_create(h); break;
	case OP_COMMENTS_SHOW: h_comments_show(h); break;
	case OP_COMMENTS_UPDATE: h_comments_update(h); break;
	case OP_COMMENTS_DELETE: h_comments_delete(h); break;
	case OP_USERS_LIST: h_users_list(h); break;
	case OP_USERS_CREATE: h_users_create(h); break;
	case OP_USERS_TECHS: h_users_techs(h); break;
	case OP_USERS_BY_EMAIL: h_users_by_email(h); break;
	case OP_USERS_SHOW: h_users_show(h); break;
	case OP_USERS_UPDATE: h_users_update(h); break;
	case OP_USERS_DELETE: h_users_delete(h); break;
	case OP_QUEUES_LIST: list_page(h, &h->e->st.live[K_QUEUE], 30, emit_queue); break;
	case OP_QUEUES_SHOW: h_queues_show(h); break;
	case OP_QUEUES_CREATE: case OP_QUEUES_UPDATE: case OP_QUEUES_DELETE:
		h_queues_write(h);
		break;
	case OP_GROUPS_LIST: list_page(h, &h->e->st.live[K_GROUP], 30, emit_group); break;
	case OP_GROUPS_SHOW: h_groups_show(h); break;
	case OP_GROUPS_CREATE: case OP_GROUPS_UPDATE: case OP_GROUPS_DELETE:
		h_groups_write(h);
		break;
	case OP_NONE: break;
	}
}

static void handle_api(struct emu *e, struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = evhttp_uri_get_path(uri);
	struct hctx h;
	int rc;

	memset(&h, 0, sizeof(h));
	h.e = e;
	h.req = req;
	sb_init(&h.out);
	qp_parse(&h.qp, evhttp_uri_get_query(uri));
	rc = route_parse(path ? path : "/", evhttp_request_get_command(req), &h.rt);
	if (h.rt.v1)
		e->req_v1++;
	else
		e->req_v2++;
	h.rc.e = e;
	h.rc.v1 = h.rt.v1;
	h.rc.faults = true;
	faults_date_header(e, req);
	if (rc) {
		stat_count(e, "unknown", rc);
		if (rc == 404)
			err_error(&h, 404, "Not found");
		else if (rc == 405)
			err_error(&h, 405, "Method not allowed");
		else
			err_error(&h, 406, "Not acceptable");
		send_json(req, h.code, &h.out);
		goto done;
	}
	if (faults_intercept(e, req, op_class[h.rt.op]))
		goto done;
	if (!authorized(&h)) {
		err_message(&h, 401, "You are not authorized for that action.", true);
	} else if (h.rt.write && evhttp_request_get_command(req) != EVHTTP_REQ_DELETE &&
		   parse_body(&h) < 0) {
		err_error(&h, 400, "bad request");
	} else {
		if (h.body_root == NULL) {
			h.body_root = json_object_new_object();
			h.body = h.body_root;
		}
		dispatch(&h);
	}
	stat_count(e, op_class[h.rt.op], h.code);
	if (h.code == 200 && h.out.len == 0 && h.rt.write) {
		/* DELETE: 200 with an empty body */
		send_text(req, 200, "");
	} else {
		faults_send(e, req, h.code, &h.out);
	}
done:
	json_object_put(h.body_root);
	qp_free(&h.qp);
	sb_free(&h.out);
}

static void pending_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending *pd = arg, **pp;
	struct emu *e = pd->e;

	(void)fd;
	(void)what;
	for (pp = &e->pending; *pp; pp = &(*pp)->next) {
		if (*pp == pd) {
			*pp = pd->next;
			break;
		}
	}
	handle_api(e, pd->req);
	event_free(pd->ev);
	free(pd);
}

void http_pending_free_all(struct emu *e)
{
	while (e->pending) {
		struct pending *pd = e->pending;
		e->pending = pd->next;
		event_free(pd->ev);
		free(pd);
	}
}

void http_api_cb(struct evhttp_request *req, void *arg)
{
	struct emu *e = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	int delay;

	e->req_total++;
	if (path && strncmp(path, "/_emu/", 6) == 0) {
		e->req_ctl++;
		ctl_handle(e, req, path);
		return;
	}
	delay = e->f.latency_ms;
	if (e->f.latency_jitter_ms > 0)
		delay += (int)rng_below(&e->frng, (uint64_t)e->f.latency_jitter_ms + 1);
	if (delay <= 0) {
		handle_api(e, req);
		return;
	}
	struct pending *pd = xcalloc(1, sizeof(*pd));
	struct timeval tv = { delay / 1000, (delay % 1000) * 1000 };
	pd->e = e;
	pd->req = req;
	pd->ev = evtimer_new(e->base, pending_cb, pd);
	pd->next = e->pending;
	e->pending = pd;
	evtimer_add(pd->ev, &tv);
}
