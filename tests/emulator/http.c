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

#include "api.h"

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

void reply(struct hctx *h, int code)
{
	h->code = code;
}

void err_message(struct hctx *h, int code, const char *msg, bool messages)
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

void err_error(struct hctx *h, int code, const char *msg)
{
	sb_free(&h->out);
	jw_obj(&h->out);
	jw_key(&h->out, "error");
	jw_cstr(&h->out, msg);
	jw_obj_end(&h->out);
	reply(h, code);
}

void not_found(struct hctx *h)
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

void item_begin(struct hctx *h, const char *wrap)
{
	render_wrap_begin(&h->rc, &h->out, wrap);
}

void item_end(struct hctx *h)
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
	/*
	 * A change lands before this page is served: a row of the result set
	 * (one already served, past the first page; else one of this page)
	 * moves.  Clients paging by number then skip a row; clients paging by
	 * keyset see it again later.
	 */
	if (h->e->f.shift_pages) {
		search_run(h->e, sq, as_of, sf, desc, 0, off > 0 ? off : per, &res, &n);
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

struct ticket *route_ticket(struct hctx *h)
{
	return h->rt.id_ok ? store_ticket(h->e, h->rt.id) : NULL;
}

void show_ticket(struct hctx *h, struct ticket *t, int code)
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

void emit_user_related(struct hctx *h, void *p)
{
	item_begin(h, "user");
	render_user(&h->rc, &h->out, p, true);
	item_end(h);
}

void emit_queue(struct hctx *h, void *p)
{
	item_begin(h, "ticket_queue");
	render_queue(&h->rc, &h->out, p);
	item_end(h);
}

void emit_group(struct hctx *h, void *p)
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
