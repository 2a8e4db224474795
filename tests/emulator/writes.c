/* writes.c: POST, PUT and DELETE on tickets, comments, users, queues, groups */
#include "api.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

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

void h_tickets_create(struct hctx *h)
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

void h_tickets_update(struct hctx *h)
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

void h_tickets_delete(struct hctx *h)
{
	struct ticket *t = route_ticket(h);

	if (t == NULL)
		return not_found(h);
	ticket_delete(h->e, t);
	reply(h, 200);
}

void h_comments_create(struct hctx *h)
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

void h_comments_update(struct hctx *h)
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

void h_comments_delete(struct hctx *h)
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

void h_users_create(struct hctx *h)
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

void h_users_update(struct hctx *h)
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

void h_users_delete(struct hctx *h)
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

void h_queues_write(struct hctx *h)
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

void h_groups_write(struct hctx *h)
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
