/*
 * mojo-emulator: a fault-injecting stand-in for the Mojo Helpdesk API.
 *
 * One context (struct emu) is passed everywhere; there is no global state
 * except the signal plumbing in emu.c.  Records live in struct store; every
 * record struct starts with its int64_t id so that the generic vectors can
 * binary-search them.
 */
#ifndef MOJO_EMU_H
#define MOJO_EMU_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evhttp_request;
struct event_base;
struct evhttp;
struct json_object;
struct pending;

#define TS_NULL INT64_MIN  /* a null timestamp */
#define TS_INF INT64_MAX   /* "never" for visibility windows */

/* ---- util.c: strings, buffers, JSON writer, PRNG, dates, query strings -- */

/* Immutable reference-counted string; NULL stands for JSON null. */
struct rstr {
	unsigned refs;
	size_t len;
	char s[];
};
struct rstr *rstr_new(const char *s, size_t len);
struct rstr *rstr_from(const char *s); /* NULL in, NULL out */
struct rstr *rstr_ref(struct rstr *r);  /* NULL-safe */
void rstr_unref(struct rstr *r);        /* NULL-safe */

struct sbuf {
	char *p;
	size_t len, cap;
};
void sb_init(struct sbuf *sb);
void sb_free(struct sbuf *sb);
void sb_reserve(struct sbuf *sb, size_t more);
void sb_put(struct sbuf *sb, const char *s, size_t n);
void sb_puts(struct sbuf *sb, const char *s);
void sb_putc(struct sbuf *sb, char c);
void sb_printf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* JSON writer: values append a trailing comma, *_end() removes it. */
void jw_obj(struct sbuf *sb);
void jw_obj_end(struct sbuf *sb);
void jw_arr(struct sbuf *sb);
void jw_arr_end(struct sbuf *sb);
void jw_key(struct sbuf *sb, const char *k);
void jw_str_raw(struct sbuf *sb, const char *s, size_t n); /* quoted, escaped */
void jw_cstr(struct sbuf *sb, const char *s);    /* value; NULL -> null */
void jw_rstr(struct sbuf *sb, const struct rstr *r); /* value; NULL -> null */
void jw_int(struct sbuf *sb, int64_t v);
void jw_idn(struct sbuf *sb, int64_t v);          /* 0 -> null */
void jw_intn(struct sbuf *sb, int64_t v);         /* <0 -> null */
void jw_bool(struct sbuf *sb, bool v);
void jw_booln(struct sbuf *sb, int v);            /* <0 -> null */
void jw_null(struct sbuf *sb);
void jw_ts(struct sbuf *sb, int64_t ts, bool millis);
void jw_date(struct sbuf *sb, int64_t ts); /* plain date or null */
void jw_comma(struct sbuf *sb);

/* xoshiro256** seeded with splitmix64 */
struct rng {
	uint64_t s[4];
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n); /* [0, n) ; n == 0 -> 0 */
int64_t rng_range(struct rng *r, int64_t lo, int64_t hi); /* [lo, hi] */
bool rng_chance(struct rng *r, double p);
double rng_unit(struct rng *r);

int64_t host_now_ms(void);
/* "2013-11-11T21:37:02Z" (+".123" when millis); buf >= 32 bytes */
void fmt_ts(char *buf, size_t n, int64_t ts, bool millis);
/* Accepts date-time with optional fraction and Z / +hh:mm / -hhmm, or a
 * plain date.  Returns 0 and ms since the epoch, or -1. */
int parse_ts(const char *s, size_t n, int64_t *out);
void fmt_http_date(char *buf, size_t n, int64_t ts);

/* Query strings (a=b&c=d, '+' is a space, %XX decoded). */
struct qparam {
	char *key, *val;
};
struct qparams {
	struct qparam *v;
	size_t n;
};
void qp_parse(struct qparams *qp, const char *query);
void qp_free(struct qparams *qp);
const char *qp_get(const struct qparams *qp, const char *key);
char *url_decode(const char *s, size_t n, bool plus); /* malloc'd */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
bool str_icontains(const char *hay, size_t hn, const char *needle, size_t nn);
bool glob_imatch(const char *pat, size_t pn, const char *s, size_t sn);
bool str_iequal(const char *a, size_t an, const char *b, size_t bn);
int parse_int64(const char *s, int64_t *out); /* 0 ok, -1 not an integer */

/* ---- data.c: records and the store ------------------------------------ */

enum cf_kind { CF_TEXT, CF_NUMBER, CF_BOOL, CF_DATE };
struct cfdef {
	const char *name;      /* without the custom_field_ prefix */
	enum cf_kind kind;
	int type;
	const char *type_name;
};
#define NCF 6
extern const struct cfdef emu_cfdefs[NCF];

struct cfval {
	int type; /* 0 null, 1 string, 2 integer, 3 boolean */
	int64_t i;
	struct rstr *s;
};

struct named {
	int64_t id;
	const char *name;
	const char *color;
};
#define NTAGS 12
extern const struct named emu_tags[NTAGS];
#define NTYPES 5
extern const struct named emu_types[NTYPES];
#define NRESOLUTIONS 4
extern const struct named emu_resolutions[NRESOLUTIONS];
#define NFORMS 3
extern const struct named emu_forms[NFORMS];

/* The fields of a ticket.  Ids: 0 is null.  Small ints: -1 is null. */
struct tdata {
	int64_t id;
	struct rstr *title, *description, *rating_comment, *cc, *asset_tag;
	int status_id, priority_id, created_from, rating, time_to_first_comment;
	bool is_attention_required;
	int64_t ticket_queue_id, ticket_form_id, ticket_type_id, user_id,
		assigned_to_id, company_id, resolution_id, parent_ticket_id,
		legacy_id, user_attention_id;
	int64_t rated_on, created_on, updated_on, status_changed_on, solved_on,
		assigned_on, first_assigned_on, due_on, scheduled_on, closed_on,
		first_commented_on;
	uint32_t tags; /* bit i: emu_tags[i] */
	struct cfval cf[NCF];
};

struct ticket;
/* One version of a ticket, as the search index sees it during
 * [vis_from, vis_to) on the emulator's clock. */
struct tver {
	struct tdata d;
	int64_t vis_from, vis_to;
	struct ticket *t;
	struct tver *prev;
};

struct comment;
struct ticket {
	int64_t id;
	struct tver *cur;
	bool deleted;
	struct comment **comments; /* by id, including deleted ones */
	size_t ncomments, capcomments;
};

struct comment {
	int64_t id;
	int64_t ticket_id, user_id;
	struct rstr *body;
	bool is_private, deleted;
	int time_spent;
	int64_t created_on, updated_on;
};

struct user {
	int64_t id;
	struct rstr *email, *first_name, *middle_name, *last_name, *work_phone,
		*cell_phone, *home_phone, *fax_phone, *address, *user_notes,
		*helpdesk_notes, *im_screen_name, *time_zone, *picture_url;
	int64_t company_id;
	int role_id, unassigned_tickets_count;
	bool is_active, can_access_company_tickets, deleted;
	int8_t is_on_vacation, default_private_messages, do_not_email_ever,
		timer_auto_start, is_alpha_tester, is_beta_tester,
		is_asset_manager; /* -1 null */
	int64_t last_login_on, created_on, updated_on, last_active_on;
};

struct queue {
	int64_t id;
	struct rstr *name, *email_alias, *email_forward;
	int64_t email_ticket_form_id;
	bool deleted;
};

struct group {
	int64_t id;
	struct rstr *name, *support_info_url, *address, *address2, *city,
		*state, *zip, *country, *website_url, *notes;
	int64_t primary_contact_id, billing_contact_id, support_level_id;
	int support_status_id;
	int64_t support_start_date, support_end_date;
	bool deleted;
};

/* A vector of records sorted by id (each record begins with int64_t id). */
struct vec {
	void **v;
	size_t n, cap;
};
void vec_push(struct vec *vv, void *p);
void *vec_find(const struct vec *vv, int64_t id);
size_t vec_lower(const struct vec *vv, int64_t id);
void vec_remove(struct vec *vv, int64_t id);

enum kind { K_TICKET, K_COMMENT, K_USER, K_QUEUE, K_GROUP, K_MAX };

struct store {
	struct vec all[K_MAX];  /* every record ever, by id */
	struct vec live[K_MAX]; /* live records, by id */
	int64_t next_id[K_MAX];
	/* search index: every ticket version, by (updated_on, id, vis_from) */
	struct tver **idx;
	size_t nidx, capidx;
	uint64_t gen[K_MAX]; /* bumped on every change of that kind */
	/* sorted views of live tickets, one per sort field, ascending */
	struct tsort {
		uint64_t gen;
		struct ticket **v;
		size_t n;
	} *tsort;
};

/* ---- the context ------------------------------------------------------- */

struct idset {
	int64_t *v;
	size_t n;
};
bool idset_has(const struct idset *s, int64_t id);
void idset_free(struct idset *s);

struct faults {
	int latency_ms, latency_jitter_ms;
	double error_rate;      /* 500/502/503 */
	double rate_429;
	int retry_after_s;
	char retry_after_mode[16]; /* mixed, seconds, date, none */
	double cut_rate;
	int fail_next, fail_next_code, throttle_next, cut_next;
	struct idset malformed[K_MAX], wrong_type[K_MAX];
	int search_lag_s;
	bool shift_pages;
	bool quiet_comment_delete;
};

struct stat_ent {
	char *cls;
	int code;
	uint64_t count;
};

struct opts {
	int port;
	char *access_key, *read_only_key;
	uint64_t seed;
	int tickets, comments_per_ticket, users, queues, groups;
	bool millis;
	int64_t clock_offset_ms;
	int64_t base_time_ms; /* TS_NULL: the clock at start */
	bool quiet;
};

struct emu {
	struct event_base *base;
	struct evhttp *http;
	struct opts opt;
	struct store st;
	struct faults f;
	struct rng rng;       /* data generation and mutations */
	struct rng frng;      /* fault decisions */
	int64_t clock_adv_ms, last_now;
	struct stat_ent *stats;
	size_t nstats, capstats;
	uint64_t req_total, req_v1, req_v2, req_ctl, shifts, cuts, injected;
	struct pending *pending; /* delayed requests in flight */
};

/* data.c */
int64_t emu_now(struct emu *e);
int64_t emu_stamp(struct emu *e, int64_t prev);
void store_generate(struct emu *e);
void store_free(struct store *st);
struct ticket *store_ticket(struct emu *e, int64_t id);   /* live or NULL */
struct comment *store_comment(struct emu *e, int64_t id); /* live or NULL */
struct user *store_user(struct emu *e, int64_t id);
struct queue *store_queue(struct emu *e, int64_t id);
struct group *store_group(struct emu *e, int64_t id);
struct user *store_user_by_email(struct emu *e, const char *email);
void tdata_copy(struct tdata *dst, const struct tdata *src);
void tdata_clear(struct tdata *d);
struct tver *ticket_begin(struct emu *e, struct ticket *t); /* draft */
void ticket_commit(struct emu *e, struct ticket *t, struct tver *draft);
void ticket_abort(struct tver *draft);
struct ticket *ticket_create(struct emu *e, struct tdata *d); /* takes d */
void ticket_delete(struct emu *e, struct ticket *t);
struct comment *comment_create(struct emu *e, struct ticket *t,
			       int64_t user_id, struct rstr *body,
			       bool is_private, int time_spent);
void comment_touch(struct emu *e, struct comment *c); /* after an edit */
void comment_delete(struct emu *e, struct comment *c);
struct user *user_create(struct emu *e);
struct user *user_alloc(struct emu *e);       /* not yet in the store */
void user_insert(struct emu *e, struct user *u);
void user_discard(struct user *u);
void user_touch(struct emu *e, struct user *u);
void user_delete(struct emu *e, struct user *u);
struct queue *queue_create(struct emu *e);
void queue_delete(struct emu *e, struct queue *q);
struct group *group_create(struct emu *e);
struct group *group_alloc(struct emu *e);
void group_insert(struct emu *e, struct group *g);
void group_discard(struct group *g);
void group_delete(struct emu *e, struct group *g);
void touched(struct emu *e, enum kind k);
/* random realistic edits */
void gen_ticket_edit(struct emu *e, struct tdata *d);
void gen_ticket_new(struct emu *e, struct tdata *d);
struct rstr *gen_comment_body(struct emu *e);
void gen_user_edit(struct emu *e, struct user *u);
void gen_queue_edit(struct emu *e, struct queue *q);
void gen_group_edit(struct emu *e, struct group *g);
int64_t random_live_id(struct emu *e, enum kind k); /* 0 if none */
struct rstr *user_full_name(const struct user *u);
/* ticket list sorted by field (index into emu_sort_fields), ascending */
extern const char *const emu_sort_fields[];
int sort_field_index(const char *name); /* -1 unknown */
const struct tsort *store_sorted_tickets(struct emu *e, int field);
void index_insert(struct store *st, struct tver *v);
int tver_cmp_key(const struct tver *a, const struct tver *b);

/* render.c */
enum tview { TV_LIST, TV_SEARCH, TV_SHOW };
struct rctx {
	struct emu *e;
	bool v1;
	bool faults; /* apply malformed / wrong-type warts (API answers only) */
};
void render_ticket(struct rctx *rc, struct sbuf *sb, const struct ticket *t,
		   const struct tdata *d, enum tview view);
void render_comment(struct rctx *rc, struct sbuf *sb, const struct comment *c,
		    bool related);
void render_user(struct rctx *rc, struct sbuf *sb, const struct user *u,
		 bool related);
void render_queue(struct rctx *rc, struct sbuf *sb, const struct queue *q);
void render_group(struct rctx *rc, struct sbuf *sb, const struct group *g);
/* wraps for v1: {"ticket":...} */
void render_wrap_begin(struct rctx *rc, struct sbuf *sb, const char *name);
void render_wrap_end(struct rctx *rc, struct sbuf *sb);

/* search.c */
struct sq;
/* Parses a query; NULL or "" matches everything.  Returns NULL on a syntax
 * error (400). */
struct sq *search_parse(const char *q, bool v1, char *err, size_t errlen);
void search_free(struct sq *q);
/* Runs the query as the index saw it at as_of; fills *out with matching
 * versions in sort order (sf may be NULL), returning page [off, off+lim). */
int search_run(struct emu *e, struct sq *q, int64_t as_of, const char *sf,
	       bool desc, size_t off, size_t lim, struct tver ***out,
	       size_t *nout);
bool search_sf_valid(const char *sf);

/* http.c */
void http_api_cb(struct evhttp_request *req, void *arg);
void http_pending_free_all(struct emu *e);
void send_json(struct evhttp_request *req, int code, struct sbuf *sb);
void send_text(struct evhttp_request *req, int code, const char *body);
void stat_count(struct emu *e, const char *cls, int code);

/* ctl.c */
void ctl_handle(struct emu *e, struct evhttp_request *req, const char *path);
int faults_apply_json(struct emu *e, struct json_object *o, char *err,
		      size_t errlen);
void faults_render(struct emu *e, struct sbuf *sb);
void faults_init(struct faults *f);
void stats_free(struct emu *e);
void faults_free(struct faults *f);
int idset_parse_list(struct idset *s, const char *csv);

/* faults.c */
/* Decides whether a proxy-level fault answers this request instead. Returns
 * true when it sent the answer. */
bool faults_intercept(struct emu *e, struct evhttp_request *req,
		      const char *cls);
/* Sends body, possibly cut in the middle (the cut wart). */
void faults_send(struct emu *e, struct evhttp_request *req, int code,
		 struct sbuf *sb);
void faults_date_header(struct emu *e, struct evhttp_request *req);

#endif
