/* ctl.c: the control plane under /_emu/ (never part of the Mojo API) */
#include "emu.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[K_MAX] = {
	"tickets", "comments", "users", "ticket_queues", "groups",
};

void faults_init(struct faults *f)
{
	memset(f, 0, sizeof(*f));
	f->retry_after_s = 1;
	snprintf(f->retry_after_mode, sizeof(f->retry_after_mode), "mixed");
	f->fail_next_code = 503;
}

void faults_free(struct faults *f)
{
	for (int k = 0; k < K_MAX; k++) {
		idset_free(&f->malformed[k]);
		idset_free(&f->wrong_type[k]);
	}
}

int idset_parse_list(struct idset *s, const char *csv)
{
	const char *p = csv;

	idset_free(s);
	while (*p) {
		char *end;
		long long v = strtoll(p, &end, 10);
		if (end == p)
			return -1;
		s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
		s->v[s->n++] = v;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			return -1;
	}
	return 0;
}

static void idset_render(struct sbuf *sb, const struct idset *s)
{
	jw_arr(sb);
	for (size_t i = 0; i < s->n; i++)
		jw_int(sb, s->v[i]);
	jw_arr_end(sb);
}

static void idsets_render(struct sbuf *sb, const struct idset *sets)
{
	jw_obj(sb);
	for (int k = 0; k < K_MAX; k++) {
		jw_key(sb, kind_names[k]);
		idset_render(sb, &sets[k]);
	}
	jw_obj_end(sb);
}

void faults_render(struct emu *e, struct sbuf *sb)
{
	struct faults *f = &e->f;

	jw_obj(sb);
	jw_key(sb, "latency_ms");
	jw_int(sb, f->latency_ms);
	jw_key(sb, "latency_jitter_ms");
	jw_int(sb, f->latency_jitter_ms);
	jw_key(sb, "error_rate");
	sb_printf(sb, "%g,", f->error_rate);
	jw_key(sb, "rate_429");
	sb_printf(sb, "%g,", f->rate_429);
	jw_key(sb, "retry_after_s");
	jw_int(sb, f->retry_after_s);
	jw_key(sb, "retry_after_mode");
	jw_cstr(sb, f->retry_after_mode);
	jw_key(sb, "cut_rate");
	sb_printf(sb, "%g,", f->cut_rate);
	jw_key(sb, "fail_next");
	jw_int(sb, f->fail_next);
	jw_key(sb, "fail_next_code");
	jw_int(sb, f->fail_next_code);
	jw_key(sb, "throttle_next");
	jw_int(sb, f->throttle_next);
	jw_key(sb, "cut_next");
	jw_int(sb, f->cut_next);
	jw_key(sb, "malformed");
	idsets_render(sb, f->malformed);
	jw_key(sb, "wrong_type");
	idsets_render(sb, f->wrong_type);
	jw_key(sb, "search_lag_s");
	jw_int(sb, f->search_lag_s);
	jw_key(sb, "shift_pages");
	jw_bool(sb, f->shift_pages);
	jw_key(sb, "quiet_comment_delete");
	jw_bool(sb, f->quiet_comment_delete);
	jw_obj_end(sb);
}

static int get_nonneg_int(json_object *v, int *out, int max)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return -1;
	x = json_object_get_int64(v);
	if (x < 0 || x > max)
		return -1;
	*out = (int)x;
	return 0;
}

static int get_rate(json_object *v, double *out)
{
	double x;

	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
		return -1;
	x = json_object_get_double(v);
	if (!(x >= 0 && x <= 1))
		return -1;
	*out = x;
	return 0;
}

static int get_idsets(json_object *v, struct idset *sets)
{
	struct idset tmp[K_MAX];
	int rc = 0;

	if (!json_object_is_type(v, json_type_object))
		return -1;
	memset(tmp, 0, sizeof(tmp));
	json_object_object_foreach(v, key, val) {
		int k;
		for (k = 0; k < K_MAX; k++)
			if (strcmp(key, kind_names[k]) == 0)
				break;
		if (k == K_MAX || !json_object_is_type(val, json_type_array)) {
			rc = -1;
			break;
		}
		for (size_t i = 0; i < json_object_array_length(val); i++) {
			json_object *x = json_object_array_get_idx(val, i);
			if (!json_object_is_type(x, json_type_int)) {
				rc = -1;
				break;
			}
			tmp[k].v = xrealloc(tmp[k].v, (tmp[k].n + 1) * sizeof(int64_t));
			tmp[k].v[tmp[k].n++] = json_object_get_int64(x);
		}
		if (rc)
			break;
	}
	if (rc == 0) {
		/* kinds named in the object are replaced, others kept */
		json_object_object_foreach(v, key2, val2) {
			(void)val2;
			for (int k = 0; k < K_MAX; k++) {
				if (strcmp(key2, kind_names[k]) == 0) {
					idset_free(&sets[k]);
					sets[k] = tmp[k];
					tmp[k].v = NULL;
					tmp[k].n = 0;
				}
			}
		}
	}
	for (int k = 0; k < K_MAX; k++)
		idset_free(&tmp[k]);
	return rc;
}

int faults_apply_json(struct emu *e, json_object *o, char *err, size_t errlen)
{
	struct faults *f = &e->f;
	json_object *v;

	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "the body must be a JSON object");
		return -1;
	}
	if (json_object_object_get_ex(o, "reset", &v) && json_object_get_boolean(v)) {
		faults_free(f);
		faults_init(f);
	}
	json_object_object_foreach(o, key, val) {
		int rc = 0;
		if (strcmp(key, "reset") == 0)
			continue;
		else if (strcmp(key, "latency_ms") == 0)
			rc = get_nonneg_int(val, &f->latency_ms, 600000);
		else if (strcmp(key, "latency_jitter_ms") == 0)
			rc = get_nonneg_int(val, &f->latency_jitter_ms, 600000);
		else if (strcmp(key, "error_rate") == 0)
			rc = get_rate(val, &f->error_rate);
		else if (strcmp(key, "rate_429") == 0)
			rc = get_rate(val, &f->rate_429);
		else if (strcmp(key, "cut_rate") == 0)
			rc = get_rate(val, &f->cut_rate);
		else if (strcmp(key, "retry_after_s") == 0)
			rc = get_nonneg_int(val, &f->retry_after_s, 86400);
		else if (strcmp(key, "retry_after_mode") == 0) {
			const char *m = json_object_get_string(val);
			if (!json_object_is_type(val, json_type_string) ||
			    (strcmp(m, "mixed") && strcmp(m, "seconds") && strcmp(m, "date") && strcmp(m, "none")))
				rc = -1;
			else
				snprintf(f->retry_after_mode, sizeof(f->retry_after_mode), "%s", m);
		} else if (strcmp(key, "fail_next") == 0)
			rc = get_nonneg_int(val, &f->fail_next, 1000000);
		else if (strcmp(key, "fail_next_code") == 0) {
			rc = get_nonneg_int(val, &f->fail_next_code, 599);
			if (rc == 0 && f->fail_next_code < 500)
				rc = -1, f->fail_next_code = 503;
		} else if (strcmp(key, "throttle_next") == 0)
			rc = get_nonneg_int(val, &f->throttle_next, 1000000);
		else if (strcmp(key, "cut_next") == 0)
			rc = get_nonneg_int(val, &f->cut_next, 1000000);
		else if (strcmp(key, "malformed") == 0)
			rc = get_idsets(val, f->malformed);
		else if (strcmp(key, "wrong_type") == 0)
			rc = get_idsets(val, f->wrong_type);
		else if (strcmp(key, "search_lag_s") == 0)
			rc = get_nonneg_int(val, &f->search_lag_s, 86400 * 30);
		else if (strcmp(key, "shift_pages") == 0)
			f->shift_pages = json_object_get_boolean(val);
		else if (strcmp(key, "quiet_comment_delete") == 0)
			f->quiet_comment_delete = json_object_get_boolean(val);
		else {
			snprintf(err, errlen, "unknown fault setting: %s", key);
			return -1;
		}
		if (rc) {
			snprintf(err, errlen, "bad value for %s", key);
			return -1;
		}
	}
	return 0;
}

/* ---- handlers ------------------------------------------------------------ */

static void ctl_error(struct evhttp_request *req, int code, const char *msg)
{
	struct sbuf sb;

	sb_init(&sb);
	jw_obj(&sb);
	jw_key(&sb, "error");
	jw_cstr(&sb, msg);
	jw_obj_end(&sb);
	send_json(req, code, &sb);
	sb_free(&sb);
}

static json_object *read_body(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	json_object *o;
	char *s;

	if (n == 0)
		return json_object_new_object();
	s = xmalloc(n + 1);
	evbuffer_copyout(in, s, n);
	s[n] = '\0';
	o = json_tokener_parse(s);
	free(s);
	return o;
}

static void key_now(struct emu *e, struct sbuf *sb)
{
	jw_key(sb, "now");
	jw_ts(sb, emu_now(e), e->opt.millis);
}

static void ctl_truth(struct emu *e, struct evhttp_request *req)
{
	struct rctx rc = { .e = e, .v1 = false, .faults = false };
	struct store *st = &e->st;
	struct sbuf sb;

	sb_init(&sb);
	jw_obj(&sb);
	key_now(e, &sb);
	jw_key(&sb, "tickets");
	jw_arr(&sb);
	for (size_t i = 0; i < st->live[K_TICKET].n; i++) {
		struct ticket *t = st->live[K_TICKET].v[i];
		render_ticket(&rc, &sb, t, &t->cur->d, TV_SHOW);
	}
	jw_arr_end(&sb);
	jw_key(&sb, "comments");
	jw_arr(&sb);
	for (size_t i = 0; i < st->live[K_COMMENT].n; i++)
		render_comment(&rc, &sb, st->live[K_COMMENT].v[i], false);
	jw_arr_end(&sb);
	jw_key(&sb, "users");
	jw_arr(&sb);
	for (size_t i = 0; i < st->live[K_USER].n; i++)
		render_user(&rc, &sb, st->live[K_USER].v[i], true);
	jw_arr_end(&sb);
	jw_key(&sb, "ticket_queues");
	jw_arr(&sb);
	for (size_t i = 0; i < st->live[K_QUEUE].n; i++)
		render_queue(&rc, &sb, st->live[K_QUEUE].v[i]);
	jw_arr_end(&sb);
	jw_key(&sb, "groups");
	jw_arr(&sb);
	for (size_t i = 0; i < st->live[K_GROUP].n; i++)
		render_group(&rc, &sb, st->live[K_GROUP].v[i]);
	jw_arr_end(&sb);
	jw_key(&sb, "deleted");
	jw_obj(&sb);
	for (int k = 0; k < K_MAX; k++) {
		const struct vec *all = &st->all[k];
		jw_key(&sb, kind_names[k]);
		jw_arr(&sb);
		for (size_t i = 0; i < all->n; i++) {
			bool del = false;
			switch (k) {
			case K_TICKET: del = ((struct ticket *)all->v[i])->deleted; break;
			case K_COMMENT: del = ((struct comment *)all->v[i])->deleted; break;
			case K_USER: del = ((struct user *)all->v[i])->deleted; break;
			case K_QUEUE: del = ((struct queue *)all->v[i])->deleted; break;
			default: del = ((struct group *)all->v[i])->deleted; break;
			}
			if (del)
				jw_int(&sb, *(int64_t *)all->v[i]);
		}
		jw_arr_end(&sb);
	}
	jw_obj_end(&sb);
	jw_obj_end(&sb);
	send_json(req, 200, &sb);
	sb_free(&sb);
}

static int count_of(json_object *o, const char *key, int *out)
{
	json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
	    json_object_get_int64(v) > 1000000)
		return -1;
	*out = (int)json_object_get_int64(v);
	return 0;
}

static const char *const mutate_keys[] = {
	"new_tickets", "tickets", "delete_tickets", "comments", "edit_comments",
	"delete_comments", "new_users", "users", "delete_users", "new_queues",
	"queues", "delete_queues", "new_groups", "groups", "delete_groups", NULL,
};

static void ctl_mutate(struct emu *e, struct evhttp_request *req)
{
	json_object *o = read_body(req);
	int n[16];
	struct sbuf sb;

	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return ctl_error(req, 400, "the body must be a JSON object of counts");
	}
	json_object_object_foreach(o, key, val) {
		int i;
		(void)val;
		for (i = 0; mutate_keys[i]; i++)
			if (strcmp(mutate_keys[i], key) == 0)
				break;
		if (mutate_keys[i] == NULL) {
			json_object_put(o);
			return ctl_error(req, 400, "unknown mutation kind");
		}
	}
	for (int i = 0; mutate_keys[i]; i++) {
		if (count_of(o, mutate_keys[i], &n[i]) < 0) {
			json_object_put(o);
			return ctl_error(req, 400, "counts must be non-negative integers");
		}
	}
	json_object_put(o);

	sb_init(&sb);
	jw_obj(&sb);
	for (int i = 0; mutate_keys[i]; i++) {
		const char *k = mutate_keys[i];
		jw_key(&sb, k);
		jw_arr(&sb);
		for (int j = 0; j < n[i]; j++) {
			int64_t id = 0;
			if (strcmp(k, "new_tickets") == 0) {
				struct tdata d;
				gen_ticket_new(e, &d);
				id = ticket_create(e, &d)->id;
			} else if (strcmp(k, "tickets") == 0) {
				struct ticket *t = store_ticket(e, random_live_id(e, K_TICKET));
				if (t) {
					struct tver *v = ticket_begin(e, t);
					gen_ticket_edit(e, &v->d);
					ticket_commit(e, t, v);
					id = t->id;
				}
			} else if (strcmp(k, "delete_tickets") == 0) {
				struct ticket *t = store_ticket(e, random_live_id(e, K_TICKET));
				if (t) {
					ticket_delete(e, t);
					id = t->id;
				}
			} else if (strcmp(k, "comments") == 0) {
				struct ticket *t = store_ticket(e, random_live_id(e, K_TICKET));
				if (t) {
					int64_t uid = rng_chance(&e->rng, 0.5) ? t->cur->d.user_id
									       : random_live_id(e, K_USER);
					if (store_user(e, uid) == NULL)
						uid = random_live_id(e, K_USER);
					id = comment_create(e, t, uid, gen_comment_body(e),
							    rng_chance(&e->rng, 0.2),
							    rng_chance(&e->rng, 0.5) ? -1
							    : (int)rng_range(&e->rng, 1, 90))->id;
				}
			} else if (strcmp(k, "edit_comments") == 0) {
				struct comment *c = store_comment(e, random_live_id(e, K_COMMENT));
				if (c) {
					rstr_unref(c->body);
					c->body = gen_comment_body(e);
					comment_touch(e, c);
					id = c->id;
				}
			} else if (strcmp(k, "delete_comments") == 0) {
				struct comment *c = store_comment(e, random_live_id(e, K_COMMENT));
				if (c) {
					comment_delete(e, c);
					id = c->id;
				}
			} else if (strcmp(k, "new_users") == 0) {
				id = user_create(e)->id;
			} else if (strcmp(k, "users") == 0) {
				struct user *u = store_user(e, random_live_id(e, K_USER));
				if (u) {
					gen_user_edit(e, u);
					id = u->id;
				}
			} else if (strcmp(k, "delete_users") == 0) {
				struct user *u = NULL;
				for (int tries = 0; tries < 32; tries++) {
					u = store_user(e, random_live_id(e, K_USER));
					if (u && u->role_id != 40)
						break;
					u = NULL;
				}
				if (u) {
					user_delete(e, u);
					id = u->id;
				}
			} else if (strcmp(k, "new_queues") == 0) {
				id = queue_create(e)->id;
			} else if (strcmp(k, "queues") == 0) {
				struct queue *q = store_queue(e, random_live_id(e, K_QUEUE));
				if (q) {
					gen_queue_edit(e, q);
					id = q->id;
				}
			} else if (strcmp(k, "delete_queues") == 0) {
				struct queue *q = store_queue(e, random_live_id(e, K_QUEUE));
				if (q) {
					queue_delete(e, q);
					id = q->id;
				}
			} else if (strcmp(k, "new_groups") == 0) {
				id = group_create(e)->id;
			} else if (strcmp(k, "groups") == 0) {
				struct group *g = store_group(e, random_live_id(e, K_GROUP));
				if (g) {
					gen_group_edit(e, g);
					id = g->id;
				}
			} else if (strcmp(k, "delete_groups") == 0) {
				struct group *g = store_group(e, random_live_id(e, K_GROUP));
				if (g) {
					group_delete(e, g);
					id = g->id;
				}
			}
			if (id)
				jw_int(&sb, id);
		}
		jw_arr_end(&sb);
	}
	key_now(e, &sb);
	jw_obj_end(&sb);
	send_json(req, 200, &sb);
	sb_free(&sb);
}

static void ctl_faults(struct emu *e, struct evhttp_request *req, bool post)
{
	struct sbuf sb;
	char err[160];

	if (post) {
		json_object *o = read_body(req);
		if (o == NULL || faults_apply_json(e, o, err, sizeof(err)) < 0) {
			json_object_put(o);
			return ctl_error(req, 400, o ? err : "the body must be a JSON object");
		}
		json_object_put(o);
	}
	sb_init(&sb);
	faults_render(e, &sb);
	send_json(req, 200, &sb);
	sb_free(&sb);
}

static void ctl_stats(struct emu *e, struct evhttp_request *req)
{
	struct sbuf sb;
	bool *done = xcalloc(e->nstats + 1, sizeof(bool));

	sb_init(&sb);
	jw_obj(&sb);
	jw_key(&sb, "total");
	jw_int(&sb, (int64_t)e->req_total);
	jw_key(&sb, "api");
	jw_obj(&sb);
	jw_key(&sb, "v1");
	jw_int(&sb, (int64_t)e->req_v1);
	jw_key(&sb, "v2");
	jw_int(&sb, (int64_t)e->req_v2);
	jw_obj_end(&sb);
	jw_key(&sb, "control");
	jw_int(&sb, (int64_t)e->req_ctl);
	jw_key(&sb, "injected");
	jw_int(&sb, (int64_t)e->injected);
	jw_key(&sb, "cuts");
	jw_int(&sb, (int64_t)e->cuts);
	jw_key(&sb, "shifts");
	jw_int(&sb, (int64_t)e->shifts);
	jw_key(&sb, "requests");
	jw_obj(&sb);
	for (size_t i = 0; i < e->nstats; i++) {
		if (done[i])
			continue;
		jw_key(&sb, e->stats[i].cls);
		jw_obj(&sb);
		for (size_t j = i; j < e->nstats; j++) {
			char code[16];
			if (done[j] || strcmp(e->stats[j].cls, e->stats[i].cls) != 0)
				continue;
			done[j] = true;
			snprintf(code, sizeof(code), "%d", e->stats[j].code);
			jw_key(&sb, code);
			jw_int(&sb, (int64_t)e->stats[j].count);
		}
		jw_obj_end(&sb);
	}
	jw_obj_end(&sb);
	jw_obj_end(&sb);
	free(done);
	send_json(req, 200, &sb);
	sb_free(&sb);
}

static void stats_reset(struct emu *e)
{
	for (size_t i = 0; i < e->nstats; i++)
		free(e->stats[i].cls);
	e->nstats = 0;
	e->req_total = e->req_v1 = e->req_v2 = e->req_ctl = 0;
	e->injected = e->cuts = e->shifts = 0;
}

static void ctl_clock(struct emu *e, struct evhttp_request *req, bool post)
{
	struct sbuf sb;

	if (post) {
		json_object *o = read_body(req), *v;
		int64_t adv;
		if (o == NULL || !json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, "advance", &v) ||
		    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) ||
		    (adv = (int64_t)(json_object_get_double(v) * 1000)) < 0) {
			json_object_put(o);
			return ctl_error(req, 400, "expected {\"advance\": SECONDS} (not negative)");
		}
		json_object_put(o);
		e->clock_adv_ms += adv;
	}
	sb_init(&sb);
	jw_obj(&sb);
	key_now(e, &sb);
	jw_obj_end(&sb);
	send_json(req, 200, &sb);
	sb_free(&sb);
}

void ctl_handle(struct emu *e, struct evhttp_request *req, const char *path)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	bool get = m == EVHTTP_REQ_GET, post = m == EVHTTP_REQ_POST;

	faults_date_header(e, req);
	if (strcmp(path, "/_emu/truth") == 0 && get)
		ctl_truth(e, req);
	else if (strcmp(path, "/_emu/mutate") == 0 && post)
		ctl_mutate(e, req);
	else if (strcmp(path, "/_emu/faults") == 0 && (get || post))
		ctl_faults(e, req, post);
	else if (strcmp(path, "/_emu/stats") == 0 && get)
		ctl_stats(e, req);
	else if (strcmp(path, "/_emu/stats/reset") == 0 && post) {
		stats_reset(e);
		ctl_stats(e, req);
	} else if (strcmp(path, "/_emu/clock") == 0 && (get || post))
		ctl_clock(e, req, post);
	else
		ctl_error(req, 404, "no such control endpoint");
}

void stats_free(struct emu *e)
{
	stats_reset(e);
	free(e->stats);
	e->stats = NULL;
	e->capstats = 0;
}
