/* render.c: records as JSON, in each dialect and view */
#include "emu.h"

#include <stdio.h>
#include <string.h>

static const char *role_name(int role)
{
	switch (role) {
	case 10: return "User";
	case 15: return "Restricted technician";
	case 20: return "Technician";
	case 30: return "Manager";
	case 35: return "Admin";
	case 40: return "Owner";
	default: return NULL;
	}
}

static const char *support_level_name(int64_t id)
{
	switch (id) {
	case 1: return "Basic";
	case 2: return "Premium";
	case 3: return "Platinum";
	default: return NULL;
	}
}

void render_wrap_begin(struct rctx *rc, struct sbuf *sb, const char *name)
{
	if (!rc->v1)
		return;
	jw_obj(sb);
	jw_key(sb, name);
}

void render_wrap_end(struct rctx *rc, struct sbuf *sb)
{
	if (rc->v1)
		jw_obj_end(sb);
}

static bool wrong_type(struct rctx *rc, enum kind k, int64_t id)
{
	return rc->faults && idset_has(&rc->e->f.wrong_type[k], id);
}

static bool malformed(struct rctx *rc, enum kind k, int64_t id)
{
	return rc->faults && idset_has(&rc->e->f.malformed[k], id);
}

static void key_ts(struct rctx *rc, struct sbuf *sb, const char *k, int64_t ts)
{
	jw_key(sb, k);
	jw_ts(sb, ts, rc->e->opt.millis);
}

static void key_id(struct sbuf *sb, const char *k, int64_t v)
{
	jw_key(sb, k);
	jw_idn(sb, v);
}

static void key_str(struct sbuf *sb, const char *k, const struct rstr *r)
{
	jw_key(sb, k);
	jw_rstr(sb, r);
}

static void cf_value(struct sbuf *sb, const struct cfval *v)
{
	switch (v->type) {
	case 1: jw_rstr(sb, v->s); break;
	case 2: jw_int(sb, v->i); break;
	case 3: jw_bool(sb, v->i != 0); break;
	default: jw_null(sb); break;
	}
}

static void cf_toplevel(struct sbuf *sb, const struct tdata *d)
{
	char key[128];

	for (int i = 0; i < NCF; i++) {
		snprintf(key, sizeof(key), "custom_field_%s", emu_cfdefs[i].name);
		jw_key(sb, key);
		cf_value(sb, &d->cf[i]);
	}
}

static void tags(struct sbuf *sb, const struct tdata *d, bool ids)
{
	jw_arr(sb);
	for (int i = 0; i < NTAGS; i++) {
		if (!(d->tags & (1u << i)))
			continue;
		if (ids) {
			jw_int(sb, emu_tags[i].id);
			continue;
		}
		jw_obj(sb);
		jw_key(sb, "id");
		jw_int(sb, emu_tags[i].id);
		jw_key(sb, "label");
		jw_cstr(sb, emu_tags[i].name);
		jw_key(sb, "color");
		jw_cstr(sb, emu_tags[i].color);
		jw_obj_end(sb);
	}
	jw_arr_end(sb);
}

static void named_obj(struct sbuf *sb, const struct named *tab, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++) {
		if (tab[i].id == id) {
			jw_obj(sb);
			jw_key(sb, "id");
			jw_int(sb, id);
			jw_key(sb, "name");
			jw_cstr(sb, tab[i].name);
			jw_obj_end(sb);
			return;
		}
	}
	jw_null(sb);
}

static void person(struct rctx *rc, struct sbuf *sb, int64_t id, bool email)
{
	struct user *u = id ? store_user(rc->e, id) : NULL;
	struct rstr *fn;

	if (u == NULL) {
		jw_null(sb);
		return;
	}
	fn = user_full_name(u);
	jw_obj(sb);
	jw_key(sb, "id");
	jw_int(sb, u->id);
	key_str(sb, "full_name", fn);
	if (email)
		key_str(sb, "email", u->email);
	jw_obj_end(sb);
	rstr_unref(fn);
}

static void render_ticket_show_tail(struct rctx *rc, struct sbuf *sb,
				    const struct ticket *t, const struct tdata *d)
{
	struct queue *q = d->ticket_queue_id ? store_queue(rc->e, d->ticket_queue_id) : NULL;
	struct group *g = d->company_id ? store_group(rc->e, d->company_id) : NULL;

	jw_key(sb, "resolution");
	named_obj(sb, emu_resolutions, NRESOLUTIONS, d->resolution_id);
	jw_key(sb, "ticket_type");
	named_obj(sb, emu_types, NTYPES, d->ticket_type_id);
	jw_key(sb, "ticket_queue");
	if (q)
		render_queue(rc, sb, q);
	else
		jw_null(sb);
	jw_key(sb, "tags");
	tags(sb, d, false);
	if (rc->v1) {
		cf_toplevel(sb, d);
	} else {
		char key[128];
		jw_key(sb, "custom_field_values");
		jw_arr(sb);
		for (int i = 0; i < NCF; i++) {
			snprintf(key, sizeof(key), "custom_field_%s", emu_cfdefs[i].name);
			jw_obj(sb);
			jw_key(sb, "name");
			jw_cstr(sb, key);
			jw_key(sb, "value");
			cf_value(sb, &d->cf[i]);
			jw_obj_end(sb);
		}
		jw_arr_end(sb);
	}
	jw_key(sb, "tasks");
	sb_puts(sb, "[],");
	jw_key(sb, "all_comments");
	jw_arr(sb);
	for (size_t i = 0; i < t->ncomments; i++)
		if (!t->comments[i]->deleted)
			render_comment(rc, sb, t->comments[i], true);
	jw_arr_end(sb);
	jw_key(sb, "staff_notes");
	sb_puts(sb, "[],");
	jw_key(sb, "attachments");
	sb_puts(sb, "[],");
	jw_key(sb, "staff_only_attachments");
	sb_puts(sb, "[],");
	jw_key(sb, "potential_assignees");
	jw_arr(sb);
	if (d->assigned_to_id) {
		struct user *a = store_user(rc->e, d->assigned_to_id);
		if (a) {
			struct rstr *fn = user_full_name(a);
			jw_obj(sb);
			jw_key(sb, "id");
			jw_int(sb, a->id);
			key_str(sb, "name", fn);
			jw_obj_end(sb);
			rstr_unref(fn);
		}
	}
	jw_arr_end(sb);
	jw_key(sb, "custom_field_types");
	jw_arr(sb);
	for (int i = 0; i < NCF; i++) {
		char key[128];
		snprintf(key, sizeof(key), "custom_field_%s", emu_cfdefs[i].name);
		jw_obj(sb);
		jw_key(sb, "name");
		jw_cstr(sb, key);
		jw_key(sb, "type");
		jw_int(sb, emu_cfdefs[i].type);
		jw_key(sb, "type_name");
		jw_cstr(sb, emu_cfdefs[i].type_name);
		jw_obj_end(sb);
	}
	jw_arr_end(sb);
	jw_key(sb, "time_tracking_unit");
	sb_puts(sb, "{\"id\":1,\"name\":\"Minutes\"},");
	jw_key(sb, "related_data");
	jw_obj(sb);
	jw_key(sb, "ticket_queue");
	if (q) {
		jw_obj(sb);
		jw_key(sb, "id");
		jw_int(sb, q->id);
		key_str(sb, "name", q->name);
		jw_obj_end(sb);
	} else {
		jw_null(sb);
	}
	jw_key(sb, "user");
	person(rc, sb, d->user_id, true);
	jw_key(sb, "assignee");
	person(rc, sb, d->assigned_to_id, true);
	jw_key(sb, "company");
	if (g) {
		jw_obj(sb);
		jw_key(sb, "id");
		jw_int(sb, g->id);
		key_str(sb, "name", g->name);
		jw_obj_end(sb);
	} else {
		jw_null(sb);
	}
	jw_obj_end(sb);
}

void render_ticket(struct rctx *rc, struct sbuf *sb, const struct ticket *t,
		   const struct tdata *d, enum tview view)
{
	bool wt = wrong_type(rc, K_TICKET, d->id);
	bool show = view == TV_SHOW;

	jw_obj(sb);
	jw_key(sb, "id");
	jw_int(sb, d->id);
	jw_key(sb, "title");
	if (view != TV_SHOW && malformed(rc, K_TICKET, d->id)) {
		/* invalid UTF-8 inside an otherwise well-formed document */
		sb_puts(sb, "\"broken \xff\xfe\xc3 title\",");
	} else {
		jw_rstr(sb, d->title);
	}
	key_str(sb, "description", d->description);
	jw_key(sb, "status_id");
	if (wt)
		sb_printf(sb, "\"%d\",", d->status_id);
	else
		jw_int(sb, d->status_id);
	jw_key(sb, "ticket_queue_id");
	if (wt)
		sb_printf(sb, "\"%lld\",", (long long)d->ticket_queue_id);
	else
		jw_idn(sb, d->ticket_queue_id);
	key_id(sb, "ticket_form_id", d->ticket_form_id);
	key_id(sb, "ticket_type_id", d->ticket_type_id);
	jw_key(sb, "priority_id");
	if (wt)
		jw_cstr(sb, "Normal");
	else
		jw_int(sb, d->priority_id);
	key_id(sb, "user_id", d->user_id);
	key_id(sb, "assigned_to_id", d->assigned_to_id);
	key_id(sb, "company_id", d->company_id);
	jw_key(sb, "rating");
	jw_intn(sb, d->rating);
	key_ts(rc, sb, "rated_on", d->rated_on);
	key_str(sb, "rating_comment", d->rating_comment);
	key_ts(rc, sb, "created_on", d->created_on);
	if (wt) {
		jw_key(sb, "updated_on");
		jw_int(sb, d->updated_on / 1000);
	} else {
		key_ts(rc, sb, "updated_on", d->updated_on);
	}
	key_ts(rc, sb, "status_changed_on", d->status_changed_on);
	key_ts(rc, sb, "solved_on", d->solved_on);
	if (show)
		key_ts(rc, sb, "assigned_on", d->assigned_on);
	key_ts(rc, sb, "first_assigned_on", d->first_assigned_on);
	key_ts(rc, sb, "due_on", d->due_on);
	key_ts(rc, sb, "scheduled_on", d->scheduled_on);
	if (view == TV_SEARCH) {
		key_ts(rc, sb, "closed_on", d->closed_on);
		jw_key(sb, "deleted_at");
		jw_null(sb);
	}
	if (show) {
		jw_key(sb, "created_from");
		jw_int(sb, d->created_from);
		key_id(sb, "resolution_id", d->resolution_id);
		key_id(sb, "parent_ticket_id", d->parent_ticket_id);
		key_id(sb, "legacy_id", d->legacy_id);
		jw_key(sb, "is_attention_required");
		jw_bool(sb, d->is_attention_required);
		key_id(sb, "user_attention_id", d->user_attention_id);
		key_str(sb, "cc", d->cc);
		jw_key(sb, "time_to_first_comment");
		jw_intn(sb, d->time_to_first_comment);
		key_ts(rc, sb, "first_commented_on", d->first_commented_on);
		render_ticket_show_tail(rc, sb, t, d);
	} else {
		key_id(sb, "resolution_id", d->resolution_id);
		jw_key(sb, "created_from");
		jw_int(sb, d->created_from);
		jw_key(sb, "tag_ids");
		tags(sb, d, true);
		jw_key(sb, "tags");
		tags(sb, d, false);
		if (rc->v1)
			cf_toplevel(sb, d);
	}
	key_str(sb, "asset_tag", d->asset_tag);
	jw_obj_end(sb);
}

void render_comment(struct rctx *rc, struct sbuf *sb, const struct comment *c,
		    bool related)
{
	bool wt = wrong_type(rc, K_COMMENT, c->id);

	jw_obj(sb);
	jw_key(sb, "id");
	jw_int(sb, c->id);
	jw_key(sb, "body");
	if (!related && malformed(rc, K_COMMENT, c->id))
		sb_puts(sb, "\"broken \xff\xfe\xc3 body\",");
	else
		jw_rstr(sb, c->body);
	key_id(sb, "user_id", c->user_id);
	key_id(sb, "ticket_id", c->ticket_id);
	jw_key(sb, "is_private");
	if (wt)
		jw_cstr(sb, c->is_private ? "yes" : "no");
	else
		jw_bool(sb, c->is_private);
	jw_key(sb, "time_spent");
	jw_intn(sb, c->time_spent);
	key_ts(rc, sb, "created_on", c->created_on);
	if (wt) {
		jw_key(sb, "updated_on");
		jw_int(sb, c->updated_on / 1000);
	} else {
		key_ts(rc, sb, "updated_on", c->updated_on);
	}
	if (related) {
		jw_key(sb, "related_data");
		jw_obj(sb);
		jw_key(sb, "user");
		person(rc, sb, c->user_id, false);
		jw_obj_end(sb);
	}
	jw_obj_end(sb);
}

static void user_related(struct rctx *rc, struct sbuf *sb, const struct user *u,
			 const struct rstr *fn)
{
	struct group *g = u->company_id ? store_group(rc->e, u->company_id) : NULL;
	const struct rstr *phone = u->work_phone ? u->work_phone
				   : u->cell_phone ? u->cell_phone : u->home_phone;
	bool agent = u->role_id > 10;

	jw_obj(sb);
	key_str(sb, "full_name", fn);
	jw_key(sb, "role_name");
	jw_cstr(sb, role_name(u->role_id));
	key_str(sb, "address", u->address);
	key_str(sb, "phone", phone);
	jw_key(sb, "company");
	if (g) {
		jw_obj(sb);
		jw_key(sb, "id");
		jw_int(sb, g->id);
		key_str(sb, "name", g->name);
		jw_key(sb, "is_delinquent");
		jw_bool(sb, g->support_status_id == 1);
		jw_key(sb, "support_status");
		jw_cstr(sb, g->support_status_id == 1 ? "Delinquent"
			    : g->support_status_id == 0 ? "Active" : NULL);
		jw_key(sb, "support_level");
		jw_cstr(sb, support_level_name(g->support_level_id) ? support_level_name(g->support_level_id) : "");
		key_ts(rc, sb, "support_start_date", g->support_start_date);
		key_ts(rc, sb, "support_end_date", g->support_end_date);
		jw_obj_end(sb);
	} else {
		jw_null(sb);
	}
	if (!agent && u->can_access_company_tickets) {
		jw_key(sb, "company_tickets_access");
		jw_cstr(sb, u->id % 2 ? "Full" : "Comment only");
	}
	jw_key(sb, "teams");
	if (agent)
		sb_printf(sb, "[{\"id\":%d,\"name\":\"%s\"}],", 4349 + (int)(u->id % 3),
			  u->id % 3 == 0 ? "IT-Support_Team" : u->id % 3 == 1 ? "Travel Tech" : "Équipe Nord");
	else
		sb_puts(sb, "[],");
	jw_key(sb, "accessible_queues");
	jw_arr(sb);
	if (agent && u->role_id < 30) {
		const struct vec *qs = &rc->e->st.live[K_QUEUE];
		for (size_t i = 0; i < qs->n; i++) {
			const struct queue *q = qs->v[i];
			if ((q->id + u->id) % 2)
				continue;
			jw_obj(sb);
			jw_key(sb, "id");
			jw_int(sb, q->id);
			key_str(sb, "name", q->name);
			jw_key(sb, "notify");
			jw_bool(sb, true);
			jw_obj_end(sb);
		}
	}
	jw_arr_end(sb);
	jw_key(sb, "can_access_all_queues");
	jw_bool(sb, u->role_id >= 30);
	jw_key(sb, "wants_to_be_notified_by_all_queues");
	jw_bool(sb, u->role_id >= 35);
	jw_key(sb, "email_forward_helpdesk_url");
	jw_null(sb);
	jw_obj_end(sb);
}

void render_user(struct rctx *rc, struct sbuf *sb, const struct user *u, bool related)
{
	bool wt = wrong_type(rc, K_USER, u->id);
	struct rstr *fn = user_full_name(u);

	jw_obj(sb);
	jw_key(sb, "id");
	jw_int(sb, u->id);
	jw_key(sb, "email");
	if (malformed(rc, K_USER, u->id))
		sb_puts(sb, "\"broken\xff\xfe\xc3@example.com\",");
	else
		jw_rstr(sb, u->email);
	key_str(sb, "first_name", u->first_name);
	key_str(sb, "middle_name", u->middle_name);
	key_str(sb, "last_name", u->last_name);
	key_str(sb, "full_name", fn);
	key_str(sb, "work_phone", u->work_phone);
	key_str(sb, "cell_phone", u->cell_phone);
	key_str(sb, "home_phone", u->home_phone);
	key_str(sb, "fax_phone", u->fax_phone);
	key_str(sb, "address", u->address);
	key_str(sb, "user_notes", u->user_notes);
	key_str(sb, "helpdesk_notes", u->helpdesk_notes);
	key_id(sb, "company_id", u->company_id);
	jw_key(sb, "role_id");
	if (wt)
		jw_cstr(sb, role_name(u->role_id));
	else
		jw_int(sb, u->role_id);
	jw_key(sb, "is_active");
	if (wt)
		jw_int(sb, u->is_active);
	else
		jw_bool(sb, u->is_active);
	jw_key(sb, "can_access_company_tickets");
	jw_bool(sb, u->can_access_company_tickets);
	key_str(sb, "im_screen_name", u->im_screen_name);
	key_ts(rc, sb, "last_login_on", u->last_login_on);
	key_ts(rc, sb, "created_on", u->created_on);
	if (wt) {
		jw_key(sb, "updated_on");
		jw_cstr(sb, "yesterday");
	} else {
		key_ts(rc, sb, "updated_on", u->updated_on);
	}
	key_ts(rc, sb, "last_active_on", u->last_active_on);
	jw_key(sb, "helpdesk_name");
	jw_cstr(sb, "acme-support");
	jw_key(sb, "organization_name");
	jw_cstr(sb, "Acme Support Desk");
	jw_key(sb, "unassigned_tickets_count");
	jw_intn(sb, u->unassigned_tickets_count);
	jw_key(sb, "default_private_messages");
	jw_booln(sb, u->default_private_messages);
	jw_key(sb, "do_not_email_ever");
	jw_booln(sb, u->do_not_email_ever);
	jw_key(sb, "timer_auto_start");
	jw_booln(sb, u->timer_auto_start);
	jw_key(sb, "is_alpha_tester");
	jw_booln(sb, u->is_alpha_tester);
	jw_key(sb, "is_beta_tester");
	jw_booln(sb, u->is_beta_tester);
	key_str(sb, "time_zone", u->time_zone);
	key_str(sb, "picture_url", u->picture_url);
	jw_key(sb, "access_key");
	jw_null(sb);
	jw_key(sb, "is_on_vacation");
	jw_booln(sb, u->is_on_vacation);
	jw_key(sb, "is_asset_manager");
	jw_booln(sb, u->is_asset_manager);
	if (related) {
		jw_key(sb, "related_data");
		user_related(rc, sb, u, fn);
	}
	jw_obj_end(sb);
	rstr_unref(fn);
}

void render_queue(struct rctx *rc, struct sbuf *sb, const struct queue *q)
{
	jw_obj(sb);
	jw_key(sb, "id");
	jw_int(sb, q->id);
	jw_key(sb, "name");
	if (wrong_type(rc, K_QUEUE, q->id))
		jw_int(sb, 42);
	else
		jw_rstr(sb, q->name);
	key_str(sb, "email_alias", q->email_alias);
	key_str(sb, "email_forward", q->email_forward);
	key_id(sb, "email_ticket_form_id", q->email_ticket_form_id);
	jw_obj_end(sb);
}

void render_group(struct rctx *rc, struct sbuf *sb, const struct group *g)
{
	jw_obj(sb);
	jw_key(sb, "id");
	jw_int(sb, g->id);
	key_str(sb, "name", g->name);
	key_id(sb, "primary_contact_id", g->primary_contact_id);
	key_id(sb, "billing_contact_id", g->billing_contact_id);
	key_id(sb, "support_level_id", g->support_level_id);
	jw_key(sb, "support_status_id");
	if (wrong_type(rc, K_GROUP, g->id))
		jw_cstr(sb, "active");
	else
		jw_intn(sb, g->support_status_id);
	jw_key(sb, "support_start_date");
	jw_date(sb, g->support_start_date);
	jw_key(sb, "support_end_date");
	jw_date(sb, g->support_end_date);
	key_str(sb, "support_info_url", g->support_info_url);
	key_str(sb, "address", g->address);
	key_str(sb, "address2", g->address2);
	key_str(sb, "city", g->city);
	key_str(sb, "state", g->state);
	key_str(sb, "zip", g->zip);
	key_str(sb, "country", g->country);
	key_str(sb, "website_url", g->website_url);
	key_str(sb, "notes", g->notes);
	jw_obj_end(sb);
}
