/* data.c: the records, their deterministic generation, and the store */
#include "emu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cfdef emu_cfdefs[NCF] = {
	{ "asset serial", CF_TEXT, 1, "Text" },
	{ "Kunden-Nr.", CF_TEXT, 1, "Text" },
	{ "v1.2.build", CF_NUMBER, 2, "Number" },
	{ "優先度", CF_TEXT, 4, "Dropdown" },
	{ "is_vip", CF_BOOL, 5, "Checkbox" },
	{ "due date (legacy)", CF_DATE, 3, "Date" },
};

const struct named emu_tags[NTAGS] = {
	{ 1, "Bug", "#ff0000" },	  { 2, "VIP", "#ffd700" },
	{ 3, "billing", "#00aa00" },	  { 4, "привет", "#123456" },
	{ 5, "🔥 hot", "#ff4500" },	  { 6, "needs-review", "#888888" },
	{ 7, "客户", "#0000ff" },	  { 8, "O'Reilly", "#abcdef" },
	{ 9, "a \"quoted\" tag", "#000000" }, { 10, "  spaced  ", "#ffffff" },
	{ 11, "'; DROP TABLE tags;--", "#111111" }, { 12, "עברית", "#222222" },
};

const struct named emu_types[NTYPES] = {
	{ 1, "Question", NULL },	{ 2, "Incident", NULL },
	{ 3, "Problem", NULL },		{ 4, "Feature Request", NULL },
	{ 5, "Störung ⚠", NULL },
};

const struct named emu_resolutions[NRESOLUTIONS] = {
	{ 1, "Fixed", NULL },
	{ 2, "Won't fix", NULL },
	{ 3, "Duplicate", NULL },
	{ 4, "Works for me", NULL },
};

const struct named emu_forms[NFORMS] = {
	{ 1, "Default form", NULL },
	{ 2, "IT request", NULL },
	{ 3, "Onboarding", NULL },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const subjects[] = {
	"Printer is jammed",
	"Cannot log in to the VPN",
	"Password reset request",
	"Invoice #%d is wrong",
	"Laptop won't boot after update",
	"Email bounced: 550 5.1.1 user unknown",
	"Request: new monitor for desk %d",
	"Outlook keeps crashing",
	"WiFi drops every 5 minutes",
	"Access to shared drive \\\\fs01\\finance",
	"Re: Fwd: Re: order %d",
	"URGENT!!! server down",
	"打印机无法连接网络",
	"パスワードをリセットしてください",
	"Не работает принтер на 3 этаже",
	"الطابعة لا تعمل",
	"המדפסת לא עובדת",
	"Drucker druckt nur Müll – bitte prüfen",
	"Ça ne marche pas 😡",
	"🔥🔥 Production down 🔥🔥",
	"👍🏽 thanks, all good",
	"Flags 🇩🇪🇯🇵 and family 👨‍👩‍👧‍👦",
	"Z̷a̷l̷g̷o̷ text in subject",
	"Tab\there and a newline\nthere",
	"He said \"it's broken\"",
	"O'Brien's laptop",
	"'); DROP TABLE tickets; --",
	"Robert'); DROP TABLE students;--",
	"1' OR '1'='1",
	"<script>alert('xss')</script>",
	"{\"json\": \"in the title\"}",
	"NULL",
	"null",
	"   leading and trailing spaces   ",
	"$(rm -rf /) `id`",
	"%s%s%n%x",
	"zero\xe2\x80\x8bwidth space",
	"ANSI \x1b[31mred\x1b[0m escape",
	"C:\\Users\\admin\\Desktop\\new folder",
	"Ünïcödé ñame with combining e\xcc\x81",
};

static const char *const sentences[] = {
	"The printer on the second floor shows error E-42 again.",
	"I restarted the machine twice but nothing changed.",
	"Please see the attached screenshot.",
	"This started after Tuesday's update.",
	"Our whole team is blocked, please help ASAP!",
	"Can you reset my password? I forgot it after vacation.",
	"我们的系统从昨天开始无法登录。",
	"この問題は昨日から発生しています。",
	"Проблема повторяется каждый день после обеда.",
	"المشكلة مستمرة منذ يوم أمس.",
	"הבעיה חוזרת כל בוקר.",
	"Grüße aus München – die Ölheizung ist aus.",
	"Merci d'avance ! 🙏",
	"Thanks!! 😀😃😄 🎉",
	"SELECT * FROM users WHERE name = 'admin' --",
	"'); DROP TABLE tickets; --",
	"He wrote: \"don't touch the 'config' file\" and left.",
	"Path: C:\\Program Files\\App\\bin\\app.exe",
	"Error: {\"code\": 500, \"message\": \"internal\"}",
	"<b>bold</b> &amp; <i>italic</i> &lt;tag&gt;",
	"Line one\r\nLine two\r\nLine three",
	"\tIndented with a tab.",
	"Control chars: \x01\x02\x1f end.",
	"Price: 12,50 € / £10 / ¥1000",
	"Ticket mentioned in #%d and #%d.",
	"Sent from my iPhone",
	"",
};

struct pname {
	const char *disp, *ascii;
};
static const struct pname firsts[] = {
	{ "John", "john" },	 { "Maria", "maria" },	 { "José", "jose" },
	{ "Zoë", "zoe" },	 { "明", "ming" },	 { "محمد", "mohammed" },
	{ "Łukasz", "lukasz" },	 { "Anne-Marie", "annemarie" },
	{ "O'Neil", "oneil" },	 { "Ng", "ng" },	 { "Søren", "soren" },
	{ "Ýr", "yr" },		 { "Priya", "priya" },	 { "Chloé", "chloe" },
	{ "Дмитрий", "dmitry" }, { "Yosef", "yosef" },	 { "Kwame", "kwame" },
	{ "Emily", "emily" },
};
static const struct pname lasts[] = {
	{ "Smith", "smith" },	  { "Müller", "mueller" }, { "García", "garcia" },
	{ "O'Brien", "obrien" },  { "田中", "tanaka" },	   { "Nguyễn", "nguyen" },
	{ "Kowalski", "kowalski" }, { "van der Berg", "vanderberg" },
	{ "Ivanova", "ivanova" }, { "Cohen", "cohen" },	   { "Smith-Jones", "smithjones" },
	{ "López", "lopez" },	  { "Dubois", "dubois" },  { "Okafor", "okafor" },
};
static const char *const domains[] = {
	"example.com", "Example.COM", "mail.example.org", "xn--mller-kva.example",
	"sub.domain.example.net", "example.co.uk",
};
static const char *const zones[] = {
	"Eastern Time (US & Canada)", "Pacific Time (US & Canada)", "UTC",
	"Berlin", "Tokyo", "Jerusalem", "Kolkata", "Chatham Is.",
};
static const char *const queue_names[] = {
	"Support", "IT Helpdesk", "Billing & Accounts", "Ventas – España",
	"サポート", "Escalations 🔥", "Queue with \"quotes\"", "Legacy (do not use)",
	"Facilities", "HR / People",
};
static const char *const group_names[] = {
	"Acme Corp", "Müller & Söhne GmbH", "株式会社テスト", "O'Reilly Media",
	"شركة الأمل", "Robert'); DROP TABLE companies;--", "Globex",
	"Initech", "Umbrella \"Health\"", "Ümlaut Ølstue A/S", "",
};
static const char *const cities[] = {
	"Springfield", "München", "東京", "São Paulo", "Tel Aviv-Yafo",
	"Québec", "Zürich",
};

/* ---- clock ------------------------------------------------------------- */

int64_t emu_now(struct emu *e)
{
	int64_t t = host_now_ms() + e->opt.clock_offset_ms + e->clock_adv_ms;

	if (t < e->last_now)
		t = e->last_now;
	e->last_now = t;
	return t;
}

static int64_t align(struct emu *e, int64_t t)
{
	int64_t unit = e->opt.millis ? 1 : 1000;
	int64_t r = t % unit;

	if (r < 0)
		r += unit;
	return t - r;
}

int64_t emu_stamp(struct emu *e, int64_t prev)
{
	int64_t unit = e->opt.millis ? 1 : 1000;
	int64_t t = align(e, emu_now(e));

	if (prev != TS_NULL && t <= prev)
		t = prev + unit;
	return t;
}

/* ---- vectors ------------------------------------------------------------ */

static int64_t rec_id(const void *p)
{
	return *(const int64_t *)p;
}

void vec_push(struct vec *vv, void *p)
{
	if (vv->n == vv->cap) {
		vv->cap = vv->cap ? vv->cap * 2 : 64;
		vv->v = xrealloc(vv->v, vv->cap * sizeof(void *));
	}
	vv->v[vv->n++] = p;
}

size_t vec_lower(const struct vec *vv, int64_t id)
{
	size_t lo = 0, hi = vv->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rec_id(vv->v[mid]) < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *vec_find(const struct vec *vv, int64_t id)
{
	size_t i = vec_lower(vv, id);

	return (i < vv->n && rec_id(vv->v[i]) == id) ? vv->v[i] : NULL;
}

void vec_remove(struct vec *vv, int64_t id)
{
	size_t i = vec_lower(vv, id);

	if (i < vv->n && rec_id(vv->v[i]) == id) {
		memmove(vv->v + i, vv->v + i + 1, (vv->n - i - 1) * sizeof(void *));
		vv->n--;
	}
}

void touched(struct emu *e, enum kind k)
{
	e->st.gen[k]++;
}

struct ticket *store_ticket(struct emu *e, int64_t id)
{
	return vec_find(&e->st.live[K_TICKET], id);
}

struct comment *store_comment(struct emu *e, int64_t id)
{
	return vec_find(&e->st.live[K_COMMENT], id);
}

struct user *store_user(struct emu *e, int64_t id)
{
	return vec_find(&e->st.live[K_USER], id);
}

struct queue *store_queue(struct emu *e, int64_t id)
{
	return vec_find(&e->st.live[K_QUEUE], id);
}

struct group *store_group(struct emu *e, int64_t id)
{
	return vec_find(&e->st.live[K_GROUP], id);
}

struct user *store_user_by_email(struct emu *e, const char *email)
{
	const struct vec *vv = &e->st.live[K_USER];
	size_t n = strlen(email);

	for (size_t i = 0; i < vv->n; i++) {
		struct user *u = vv->v[i];
		if (u->email && str_iequal(u->email->s, u->email->len, email, n))
			return u;
	}
	return NULL;
}

int64_t random_live_id(struct emu *e, enum kind k)
{
	const struct vec *vv = &e->st.live[k];

	if (vv->n == 0)
		return 0;
	return rec_id(vv->v[rng_below(&e->rng, vv->n)]);
}

static int64_t new_id(struct emu *e, enum kind k)
{
	int64_t id = e->st.next_id[k];
	uint64_t r = rng_below(&e->rng, 100);

	e->st.next_id[k] = id + (r < 85 ? 1 : r < 95 ? 2 : (int64_t)rng_range(&e->rng, 3, 20));
	return id;
}

/* ---- text --------------------------------------------------------------- */

static const char *pick(struct emu *e, const char *const *pool, size_t n)
{
	return pool[rng_below(&e->rng, n)];
}

static void put_template(struct emu *e, struct sbuf *sb, const char *tpl)
{
	/* templates only ever contain %d */
	for (const char *p = tpl; *p; p++) {
		if (p[0] == '%' && p[1] == 'd') {
			sb_printf(sb, "%d", (int)rng_range(&e->rng, 1, 99999));
			p++;
		} else {
			sb_putc(sb, *p);
		}
	}
}

static struct rstr *sb_to_rstr(struct sbuf *sb)
{
	struct rstr *r = rstr_new(sb->p ? sb->p : "", sb->len);

	sb_free(sb);
	return r;
}

static struct rstr *gen_title(struct emu *e)
{
	struct sbuf sb;

	sb_init(&sb);
	if (rng_chance(&e->rng, 0.005))
		return rstr_from("");
	put_template(e, &sb, pick(e, subjects, N(subjects)));
	if (rng_chance(&e->rng, 0.2)) {
		sb_puts(&sb, " - ");
		put_template(e, &sb, pick(e, subjects, N(subjects)));
	}
	return sb_to_rstr(&sb);
}

static void gen_paragraph(struct emu *e, struct sbuf *sb, int nsent)
{
	for (int i = 0; i < nsent; i++) {
		if (i)
			sb_puts(sb, rng_chance(&e->rng, 0.3) ? "\n\n" : " ");
		put_template(e, sb, pick(e, sentences, N(sentences)));
	}
}

static struct rstr *gen_description(struct emu *e)
{
	struct sbuf sb;

	if (rng_chance(&e->rng, 0.05))
		return NULL;
	if (rng_chance(&e->rng, 0.03))
		return rstr_from("");
	sb_init(&sb);
	gen_paragraph(e, &sb, (int)rng_range(&e->rng, 1, 5));
	return sb_to_rstr(&sb);
}

static struct rstr *gen_long_text(struct emu *e)
{
	struct sbuf sb;
	size_t target = 100 * 1024 + (size_t)rng_below(&e->rng, 200 * 1024);
	int para = 0;

	sb_init(&sb);
	sb_reserve(&sb, target + 512);
	while (sb.len < target) {
		sb_printf(&sb, "--- Log excerpt %d ---\n", ++para);
		gen_paragraph(e, &sb, 12);
		sb_puts(&sb, "\n");
	}
	return sb_to_rstr(&sb);
}

struct rstr *gen_comment_body(struct emu *e)
{
	struct sbuf sb;

	if (rng_chance(&e->rng, 0.01))
		return rstr_from("");
	sb_init(&sb);
	gen_paragraph(e, &sb, (int)rng_range(&e->rng, 1, 3));
	if (rng_chance(&e->rng, 0.002)) {
		for (int i = 0; i < 60; i++)
			gen_paragraph(e, &sb, 5);
	}
	return sb_to_rstr(&sb);
}

static struct rstr *fmtr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct rstr *fmtr(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return rstr_from(buf);
}

static struct rstr *maybe(struct emu *e, double pnull, struct rstr *r)
{
	if (rng_chance(&e->rng, pnull)) {
		rstr_unref(r);
		return NULL;
	}
	return r;
}

static struct rstr *gen_phone(struct emu *e)
{
	int a = (int)rng_below(&e->rng, 1000), b = (int)rng_below(&e->rng, 10000);

	switch (rng_below(&e->rng, 4)) {
	case 0: return fmtr("+1-555-%03d-%04d", a, b);
	case 1: return fmtr("(555) %03d %04d", a, b);
	case 2: return fmtr("+49 89 %03d%04d", a, b);
	default: return fmtr("%03d.%04d ext. 12", a, b);
	}
}

/* ---- custom fields ------------------------------------------------------- */

static void cf_set_random(struct emu *e, struct cfval *v, int i)
{
	static const char *const dropdown[] = { "高", "中", "低", "" };
	static const char *const texts[] = { "SN-%d", "K-%d", "'%d'; --",
					     "naïve café %d", "" };
	struct sbuf sb;

	rstr_unref(v->s);
	v->s = NULL;
	v->type = 0;
	if (rng_chance(&e->rng, 0.4))
		return;
	switch (emu_cfdefs[i].kind) {
	case CF_TEXT:
		sb_init(&sb);
		if (i == 3)
			sb_puts(&sb, pick(e, dropdown, N(dropdown)));
		else
			put_template(e, &sb, pick(e, texts, N(texts)));
		v->s = sb_to_rstr(&sb);
		v->type = 1;
		break;
	case CF_NUMBER:
		v->type = 2;
		v->i = rng_range(&e->rng, -5, 100000);
		break;
	case CF_BOOL:
		v->type = 3;
		v->i = rng_chance(&e->rng, 0.5);
		break;
	case CF_DATE: {
		char b[40];
		fmt_ts(b, sizeof(b), rng_range(&e->rng, 1262304000, 1893456000) * 1000, false);
		b[10] = '\0';
		v->s = rstr_from(b);
		v->type = 1;
		break;
	}
	}
}

/* ---- tickets ------------------------------------------------------------- */

void tdata_copy(struct tdata *dst, const struct tdata *src)
{
	*dst = *src;
	rstr_ref(dst->title);
	rstr_ref(dst->description);
	rstr_ref(dst->rating_comment);
	rstr_ref(dst->cc);
	rstr_ref(dst->asset_tag);
	for (int i = 0; i < NCF; i++)
		rstr_ref(dst->cf[i].s);
}

void tdata_clear(struct tdata *d)
{
	rstr_unref(d->title);
	rstr_unref(d->description);
	rstr_unref(d->rating_comment);
	rstr_unref(d->cc);
	rstr_unref(d->asset_tag);
	for (int i = 0; i < NCF; i++)
		rstr_unref(d->cf[i].s);
	memset(d, 0, sizeof(*d));
}

static void tdata_init(struct tdata *d)
{
	memset(d, 0, sizeof(*d));
	d->rating = -1;
	d->time_to_first_comment = -1;
	d->rated_on = d->created_on = d->updated_on = d->status_changed_on =
		d->solved_on = d->assigned_on = d->first_assigned_on = d->due_on =
			d->scheduled_on = d->closed_on = d->first_commented_on = TS_NULL;
}

int tver_cmp_key(const struct tver *a, const struct tver *b)
{
	if (a->d.updated_on != b->d.updated_on)
		return a->d.updated_on < b->d.updated_on ? -1 : 1;
	if (a->d.id != b->d.id)
		return a->d.id < b->d.id ? -1 : 1;
	if (a->vis_from != b->vis_from)
		return a->vis_from < b->vis_from ? -1 : 1;
	return 0;
}

static int tver_qcmp(const void *a, const void *b)
{
	return tver_cmp_key(*(struct tver *const *)a, *(struct tver *const *)b);
}

void index_insert(struct store *st, struct tver *v)
{
	size_t lo = 0, hi = st->nidx;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tver_cmp_key(st->idx[mid], v) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (st->nidx == st->capidx) {
		st->capidx = st->capidx ? st->capidx * 2 : 1024;
		st->idx = xrealloc(st->idx, st->capidx * sizeof(*st->idx));
	}
	memmove(st->idx + lo + 1, st->idx + lo, (st->nidx - lo) * sizeof(*st->idx));
	st->idx[lo] = v;
	st->nidx++;
}

static void set_status(struct emu *e, struct tdata *d, int status, int64_t when)
{
	if (d->status_id == status)
		return;
	d->status_id = status;
	d->status_changed_on = when;
	if (status >= 50 && d->solved_on == TS_NULL)
		d->solved_on = when;
	if (status < 50)
		d->solved_on = TS_NULL;
	d->closed_on = status == 60 ? when : TS_NULL;
	if (status >= 50 && d->resolution_id == 0 && rng_chance(&e->rng, 0.6))
		d->resolution_id = emu_resolutions[rng_below(&e->rng, NRESOLUTIONS)].id;
	if (status < 50)
		d->resolution_id = 0;
}

static int64_t random_agent(struct emu *e)
{
	const struct vec *vv = &e->st.live[K_USER];

	for (int tries = 0; tries < 64 && vv->n; tries++) {
		struct user *u = vv->v[rng_below(&e->rng, vv->n)];
		if (u->role_id > 10)
			return u->id;
	}
	return 0;
}

static int64_t random_requester(struct emu *e)
{
	const struct vec *vv = &e->st.live[K_USER];

	for (int tries = 0; tries < 64 && vv->n; tries++) {
		struct user *u = vv->v[rng_below(&e->rng, vv->n)];
		if (u->role_id == 10)
			return u->id;
	}
	return random_live_id(e, K_USER);
}

static int pick_status(struct emu *e)
{
	static const int st[] = { 10, 20, 30, 40, 50, 60 };
	static const int w[] = { 15, 15, 8, 7, 20, 35 };
	int r = (int)rng_below(&e->rng, 100);

	for (int i = 0; i < 6; i++) {
		if (r < w[i])
			return st[i];
		r -= w[i];
	}
	return 60;
}

static int pick_priority(struct emu *e)
{
	int r = (int)rng_below(&e->rng, 100);

	return r < 5 ? 10 : r < 20 ? 20 : r < 80 ? 30 : 40;
}

/* Fills the fields of a ticket created at `created` and last changed at
 * `updated` (both aligned). */
static void gen_ticket_fields(struct emu *e, struct tdata *d, int64_t created,
			      int64_t updated)
{
	int64_t span = updated - created;
	struct user *u;

	d->title = gen_title(e);
	d->description = gen_description(e);
	d->priority_id = pick_priority(e);
	d->ticket_queue_id = random_live_id(e, K_QUEUE);
	d->ticket_form_id = emu_forms[rng_below(&e->rng, NFORMS)].id;
	d->ticket_type_id = rng_chance(&e->rng, 0.3) ? 0 : emu_types[rng_below(&e->rng, NTYPES)].id;
	d->user_id = random_requester(e);
	u = store_user(e, d->user_id);
	d->company_id = u ? u->company_id : 0;
	d->created_from = (int)rng_below(&e->rng, 6);
	d->created_on = created;
	d->updated_on = updated;
	d->status_id = 10;
	if (!rng_chance(&e->rng, 0.2)) {
		d->assigned_to_id = random_agent(e);
		if (d->assigned_to_id) {
			d->first_assigned_on = align(e, created + span / 10);
			d->assigned_on = rng_chance(&e->rng, 0.7) ? d->first_assigned_on
								  : align(e, created + span / 3);
		}
	}
	int status = pick_status(e);
	if (status != 10)
		set_status(e, d, status, align(e, created + span / 2 + (int64_t)rng_below(&e->rng, (uint64_t)(span / 2 + 1))));
	if (d->status_changed_on != TS_NULL && d->status_changed_on > updated)
		d->status_changed_on = updated;
	if (d->solved_on != TS_NULL && d->solved_on > updated)
		d->solved_on = updated;
	if (d->closed_on != TS_NULL && d->closed_on > updated)
		d->closed_on = updated;
	if (status >= 50 && rng_chance(&e->rng, 0.3)) {
		static const int ratings[] = { 100, 50, 0 };
		d->rating = ratings[rng_below(&e->rng, 3)];
		d->rated_on = d->solved_on != TS_NULL ? d->solved_on : updated;
		d->rating_comment = rng_chance(&e->rng, 0.5) ? NULL
				    : rng_chance(&e->rng, 0.2) ? rstr_from("")
				    : rstr_from("Fast and helpful, thank you! 🙏");
	}
	if (rng_chance(&e->rng, 0.25))
		d->due_on = align(e, created + (int64_t)rng_range(&e->rng, 1, 30) * 86400000);
	if (rng_chance(&e->rng, 0.05))
		d->scheduled_on = align(e, created + (int64_t)rng_range(&e->rng, 1, 10) * 86400000);
	if (rng_chance(&e->rng, 0.02) && e->st.live[K_TICKET].n)
		d->parent_ticket_id = random_live_id(e, K_TICKET);
	if (rng_chance(&e->rng, 0.03))
		d->legacy_id = rng_range(&e->rng, 1, 999999);
	if (rng_chance(&e->rng, 0.1)) {
		d->is_attention_required = true;
		d->user_attention_id = d->user_id;
	}
	if (rng_chance(&e->rng, 0.2))
		d->cc = rng_chance(&e->rng, 0.2) ? rstr_from("")
			: fmtr("manager%d@example.com, Boss.%d@Example.COM",
			       (int)rng_below(&e->rng, 100), (int)rng_below(&e->rng, 100));
	for (int i = 0; i < 3; i++)
		if (rng_chance(&e->rng, 0.25))
			d->tags |= 1u << rng_below(&e->rng, NTAGS);
	if (rng_chance(&e->rng, 0.1))
		d->asset_tag = rng_chance(&e->rng, 0.2) ? rstr_from("")
			       : fmtr("ASSET-%04d", (int)rng_below(&e->rng, 10000));
	for (int i = 0; i < NCF; i++)
		cf_set_random(e, &d->cf[i], i);
}

static struct ticket *ticket_insert(struct emu *e, struct tdata *d, int64_t vis_from)
{
	struct ticket *t = xcalloc(1, sizeof(*t));
	struct tver *v = xcalloc(1, sizeof(*v));

	t->id = d->id;
	v->d = *d; /* takes the references */
	memset(d, 0, sizeof(*d));
	v->t = t;
	v->vis_from = vis_from;
	v->vis_to = TS_INF;
	t->cur = v;
	vec_push(&e->st.all[K_TICKET], t);
	vec_push(&e->st.live[K_TICKET], t);
	return t;
}

struct ticket *ticket_create(struct emu *e, struct tdata *d)
{
	struct ticket *t;

	d->id = new_id(e, K_TICKET);
	t = ticket_insert(e, d, emu_now(e));
	index_insert(&e->st, t->cur);
	touched(e, K_TICKET);
	return t;
}

struct tver *ticket_begin(struct emu *e, struct ticket *t)
{
	struct tver *v = xcalloc(1, sizeof(*v));

	(void)e;
	tdata_copy(&v->d, &t->cur->d);
	v->t = t;
	return v;
}

void ticket_abort(struct tver *draft)
{
	tdata_clear(&draft->d);
	free(draft);
}

void ticket_commit(struct emu *e, struct ticket *t, struct tver *v)
{
	int64_t now = emu_now(e);

	v->d.updated_on = emu_stamp(e, t->cur->d.updated_on);
	v->vis_from = now;
	v->vis_to = TS_INF;
	t->cur->vis_to = now;
	v->prev = t->cur;
	t->cur = v;
	index_insert(&e->st, v);
	touched(e, K_TICKET);
}

void ticket_delete(struct emu *e, struct ticket *t)
{
	t->deleted = true;
	t->cur->vis_to = emu_now(e);
	vec_remove(&e->st.live[K_TICKET], t->id);
	for (size_t i = 0; i < t->ncomments; i++) {
		struct comment *c = t->comments[i];
		if (!c->deleted) {
			c->deleted = true;
			vec_remove(&e->st.live[K_COMMENT], c->id);
		}
	}
	touched(e, K_TICKET);
	touched(e, K_COMMENT);
}

void gen_ticket_new(struct emu *e, struct tdata *d)
{
	int64_t now = emu_stamp(e, TS_NULL);

	tdata_init(d);
	gen_ticket_fields(e, d, now, now);
	/* a brand-new ticket: fresh state, not solved yet */
	d->status_id = 10;
	d->status_changed_on = d->solved_on = d->closed_on = d->rated_on = TS_NULL;
	d->rating = -1;
	d->resolution_id = 0;
	rstr_unref(d->rating_comment);
	d->rating_comment = NULL;
	d->created_from = 3;
}

void gen_ticket_edit(struct emu *e, struct tdata *d)
{
	int64_t now = align(e, emu_now(e));
	int n = (int)rng_range(&e->rng, 1, 3);

	for (int i = 0; i < n; i++) {
		switch (rng_below(&e->rng, 8)) {
		case 0:
		case 1: {
			static const int st[] = { 10, 20, 30, 40, 50, 60 };
			set_status(e, d, st[rng_below(&e->rng, 6)], now);
			break;
		}
		case 2:
			d->priority_id = pick_priority(e);
			break;
		case 3: {
			int64_t a = rng_chance(&e->rng, 0.15) ? 0 : random_agent(e);
			if (a != d->assigned_to_id) {
				d->assigned_to_id = a;
				d->assigned_on = a ? now : TS_NULL;
				if (a && d->first_assigned_on == TS_NULL)
					d->first_assigned_on = now;
			}
			break;
		}
		case 4:
			rstr_unref(d->title);
			d->title = gen_title(e);
			break;
		case 5:
			cf_set_random(e, &d->cf[rng_below(&e->rng, NCF)], (int)rng_below(&e->rng, NCF));
			break;
		case 6:
			d->tags ^= 1u << rng_below(&e->rng, NTAGS);
			break;
		default:
			d->due_on = rng_chance(&e->rng, 0.3) ? TS_NULL
				    : align(e, now + (int64_t)rng_range(&e->rng, 1, 14) * 86400000);
			break;
		}
	}
}

/* ---- comments ------------------------------------------------------------ */

static void ticket_add_comment(struct ticket *t, struct comment *c)
{
	if (t->ncomments == t->capcomments) {
		t->capcomments = t->capcomments ? t->capcomments * 2 : 4;
		t->comments = xrealloc(t->comments, t->capcomments * sizeof(*t->comments));
	}
	t->comments[t->ncomments++] = c;
}

static void bump_for_comment(struct emu *e, struct ticket *t)
{
	struct tver *v = ticket_begin(e, t);
	int64_t now = align(e, emu_now(e));

	if (v->d.first_commented_on == TS_NULL) {
		v->d.first_commented_on = now;
		v->d.time_to_first_comment = (int)((now - v->d.created_on) / 1000);
	}
	ticket_commit(e, t, v);
}

struct comment *comment_create(struct emu *e, struct ticket *t, int64_t user_id,
			       struct rstr *body, bool is_private, int time_spent)
{
	struct comment *c = xcalloc(1, sizeof(*c));

	c->id = new_id(e, K_COMMENT);
	c->ticket_id = t->id;
	c->user_id = user_id;
	c->body = body;
	c->is_private = is_private;
	c->time_spent = time_spent;
	c->created_on = c->updated_on = emu_stamp(e, TS_NULL);
	ticket_add_comment(t, c);
	vec_push(&e->st.all[K_COMMENT], c);
	vec_push(&e->st.live[K_COMMENT], c);
	touched(e, K_COMMENT);
	bump_for_comment(e, t);
	return c;
}

void comment_touch(struct emu *e, struct comment *c)
{
	struct ticket *t = store_ticket(e, c->ticket_id);

	c->updated_on = emu_stamp(e, c->updated_on);
	touched(e, K_COMMENT);
	if (t)
		bump_for_comment(e, t);
}

void comment_delete(struct emu *e, struct comment *c)
{
	struct ticket *t = store_ticket(e, c->ticket_id);

	c->deleted = true;
	vec_remove(&e->st.live[K_COMMENT], c->id);
	touched(e, K_COMMENT);
	if (t && !e->f.quiet_comment_delete)
		bump_for_comment(e, t);
}

/* ---- users ---------------------------------------------------------------- */

struct rstr *user_full_name(const struct user *u)
{
	struct sbuf sb;

	if (u->first_name == NULL && u->last_name == NULL)
		return NULL;
	sb_init(&sb);
	if (u->first_name)
		sb_put(&sb, u->first_name->s, u->first_name->len);
	if (u->middle_name && u->middle_name->len) {
		sb_putc(&sb, ' ');
		sb_put(&sb, u->middle_name->s, u->middle_name->len);
	}
	if (u->last_name) {
		if (sb.len)
			sb_putc(&sb, ' ');
		sb_put(&sb, u->last_name->s, u->last_name->len);
	}
	return sb_to_rstr(&sb);
}

static int pick_role(struct emu *e, bool first)
{
	static const int roles[] = { 15, 20, 20, 20, 30, 35 };

	if (first)
		return 40;
	if (rng_chance(&e->rng, 0.85))
		return 10;
	return roles[rng_below(&e->rng, N(roles))];
}

static void gen_user_fields(struct emu *e, struct user *u, bool first,
			    int64_t created, int64_t updated)
{
	const struct pname *f = &firsts[rng_below(&e->rng, N(firsts))];
	const struct pname *l = &lasts[rng_below(&e->rng, N(lasts))];
	char email[256];

	snprintf(email, sizeof(email), "%s%s%s.%lld%s@%s", f->ascii,
		 rng_chance(&e->rng, 0.7) ? "." : "_", l->ascii, (long long)u->id,
		 rng_chance(&e->rng, 0.1) ? "+tag" : "",
		 domains[rng_below(&e->rng, N(domains))]);
	if (rng_chance(&e->rng, 0.1) && email[0] >= 'a' && email[0] <= 'z')
		email[0] = (char)(email[0] - 32);
	u->email = rstr_from(email);
	u->first_name = rng_chance(&e->rng, 0.03) ? NULL : rstr_from(f->disp);
	u->middle_name = rng_chance(&e->rng, 0.8) ? NULL : rng_chance(&e->rng, 0.3) ? rstr_from("") : rstr_from("Q.");
	u->last_name = rng_chance(&e->rng, 0.03) ? NULL : rstr_from(l->disp);
	u->work_phone = maybe(e, 0.4, gen_phone(e));
	u->cell_phone = maybe(e, 0.5, gen_phone(e));
	u->home_phone = maybe(e, 0.8, gen_phone(e));
	u->fax_phone = maybe(e, 0.95, gen_phone(e));
	u->address = maybe(e, 0.6, fmtr("%d Main St\n%s", (int)rng_range(&e->rng, 1, 999),
					 cities[rng_below(&e->rng, N(cities))]));
	u->user_notes = rng_chance(&e->rng, 0.7) ? NULL : rng_chance(&e->rng, 0.2) ? rstr_from("")
			: rstr_from(pick(e, sentences, N(sentences)));
	u->helpdesk_notes = maybe(e, 0.9, rstr_from("VIP – respond within 1 hour"));
	u->im_screen_name = maybe(e, 0.95, fmtr("im_%lld", (long long)u->id));
	u->time_zone = maybe(e, 0.2, rstr_from(zones[rng_below(&e->rng, N(zones))]));
	u->picture_url = maybe(e, 0.5, fmtr("https://cdn.example.com/avatars/%lld.png?v=%d",
					     (long long)u->id, (int)rng_below(&e->rng, 9)));
	u->company_id = rng_chance(&e->rng, 0.3) ? 0 : random_live_id(e, K_GROUP);
	u->role_id = pick_role(e, first);
	u->is_active = first || !rng_chance(&e->rng, 0.1);
	u->can_access_company_tickets = rng_chance(&e->rng, 0.3);
	u->unassigned_tickets_count = u->role_id > 10 ? (int)rng_below(&e->rng, 40) : -1;
	u->is_on_vacation = (int8_t)(rng_chance(&e->rng, 0.1) ? -1 : rng_chance(&e->rng, 0.05));
	u->default_private_messages = (int8_t)(u->role_id > 10 ? rng_chance(&e->rng, 0.3) : -1);
	u->do_not_email_ever = (int8_t)rng_chance(&e->rng, 0.02);
	u->timer_auto_start = (int8_t)(u->role_id > 10 ? rng_chance(&e->rng, 0.2) : -1);
	u->is_alpha_tester = 0;
	u->is_beta_tester = (int8_t)(rng_chance(&e->rng, 0.5) ? -1 : 0);
	u->is_asset_manager = (int8_t)(u->role_id > 10 ? rng_chance(&e->rng, 0.1) : -1);
	u->created_on = created;
	u->updated_on = updated;
	u->last_login_on = rng_chance(&e->rng, 0.3) ? TS_NULL : updated;
	u->last_active_on = u->last_login_on;
}

struct user *user_alloc(struct emu *e)
{
	struct user *u = xcalloc(1, sizeof(*u));
	int64_t now = emu_stamp(e, TS_NULL);

	u->id = new_id(e, K_USER);
	gen_user_fields(e, u, false, now, now);
	u->last_login_on = u->last_active_on = TS_NULL;
	return u;
}

void user_insert(struct emu *e, struct user *u)
{
	vec_push(&e->st.all[K_USER], u);
	vec_push(&e->st.live[K_USER], u);
	touched(e, K_USER);
}

struct user *user_create(struct emu *e)
{
	struct user *u = user_alloc(e);

	user_insert(e, u);
	return u;
}

void user_touch(struct emu *e, struct user *u)
{
	u->updated_on = emu_stamp(e, u->updated_on);
	touched(e, K_USER);
}

void gen_user_edit(struct emu *e, struct user *u)
{
	switch (rng_below(&e->rng, 5)) {
	case 0:
		rstr_unref(u->work_phone);
		u->work_phone = maybe(e, 0.2, gen_phone(e));
		break;
	case 1:
		rstr_unref(u->user_notes);
		u->user_notes = rstr_from(pick(e, sentences, N(sentences)));
		break;
	case 2:
		if (u->role_id != 40)
			u->is_active = !u->is_active;
		break;
	case 3:
		u->company_id = rng_chance(&e->rng, 0.2) ? 0 : random_live_id(e, K_GROUP);
		break;
	default:
		rstr_unref(u->last_name);
		u->last_name = rstr_from(lasts[rng_below(&e->rng, N(lasts))].disp);
		break;
	}
	u->last_active_on = align(e, emu_now(e));
	user_touch(e, u);
}

void user_delete(struct emu *e, struct user *u)
{
	u->deleted = true;
	vec_remove(&e->st.live[K_USER], u->id);
	touched(e, K_USER);
}

/* ---- queues and groups ------------------------------------------------------ */

static void gen_queue_fields(struct emu *e, struct queue *q)
{
	size_t i = (size_t)rng_below(&e->rng, N(queue_names));

	if (e->st.all[K_QUEUE].n < N(queue_names))
		i = e->st.all[K_QUEUE].n;
	q->name = e->st.all[K_QUEUE].n < N(queue_names) ? rstr_from(queue_names[i])
		  : fmtr("%s %lld", queue_names[i], (long long)q->id);
	q->email_alias = maybe(e, 0.2, fmtr("queue-%lld", (long long)q->id));
	q->email_forward = maybe(e, 0.5, fmtr("Queue.%lld@Example.COM", (long long)q->id));
	q->email_ticket_form_id = rng_chance(&e->rng, 0.5) ? 0 : emu_forms[rng_below(&e->rng, NFORMS)].id;
}

struct queue *queue_create(struct emu *e)
{
	struct queue *q = xcalloc(1, sizeof(*q));

	q->id = new_id(e, K_QUEUE);
	gen_queue_fields(e, q);
	vec_push(&e->st.all[K_QUEUE], q);
	vec_push(&e->st.live[K_QUEUE], q);
	touched(e, K_QUEUE);
	return q;
}

void gen_queue_edit(struct emu *e, struct queue *q)
{
	if (rng_chance(&e->rng, 0.5)) {
		struct rstr *n = fmtr("%s (renamed)", q->name ? q->name->s : "");
		rstr_unref(q->name);
		q->name = n;
	} else {
		rstr_unref(q->email_forward);
		q->email_forward = maybe(e, 0.3, fmtr("fwd%d@example.com", (int)rng_below(&e->rng, 1000)));
	}
	touched(e, K_QUEUE);
}

void queue_delete(struct emu *e, struct queue *q)
{
	q->deleted = true;
	vec_remove(&e->st.live[K_QUEUE], q->id);
	touched(e, K_QUEUE);
}

static void gen_group_fields(struct emu *e, struct group *g)
{
	size_t n = e->st.all[K_GROUP].n;
	const char *base = group_names[n < N(group_names) ? n : rng_below(&e->rng, N(group_names))];

	g->name = n < N(group_names) ? rstr_from(base) : fmtr("%s #%lld", base, (long long)g->id);
	g->primary_contact_id = 0;
	g->billing_contact_id = 0;
	g->support_level_id = rng_chance(&e->rng, 0.4) ? 0 : rng_range(&e->rng, 1, 3);
	g->support_status_id = rng_chance(&e->rng, 0.3) ? -1 : rng_chance(&e->rng, 0.2) ? 1 : 0;
	if (rng_chance(&e->rng, 0.6)) {
		int64_t day = rng_range(&e->rng, 17000, 20000);
		g->support_start_date = day * 86400000;
		g->support_end_date = rng_chance(&e->rng, 0.3) ? TS_NULL : (day + rng_range(&e->rng, 30, 1000)) * 86400000;
	} else {
		g->support_start_date = g->support_end_date = TS_NULL;
	}
	g->support_info_url = maybe(e, 0.6, fmtr("https://support.example.com/g/%lld", (long long)g->id));
	g->address = maybe(e, 0.4, fmtr("%d Industrial Way", (int)rng_range(&e->rng, 1, 500)));
	g->address2 = maybe(e, 0.8, rstr_from("Suite 100"));
	g->city = maybe(e, 0.4, rstr_from(cities[rng_below(&e->rng, N(cities))]));
	g->state = maybe(e, 0.6, rstr_from("NY"));
	g->zip = maybe(e, 0.5, fmtr("%05d", (int)rng_below(&e->rng, 100000)));
	g->country = maybe(e, 0.5, rstr_from(rng_chance(&e->rng, 0.5) ? "USA" : "Deutschland"));
	g->website_url = maybe(e, 0.5, rstr_from("www.example.com"));
	g->notes = rng_chance(&e->rng, 0.6) ? NULL : rng_chance(&e->rng, 0.3) ? rstr_from("")
		   : rstr_from(pick(e, sentences, N(sentences)));
}

struct group *group_alloc(struct emu *e)
{
	struct group *g = xcalloc(1, sizeof(*g));

	g->id = new_id(e, K_GROUP);
	gen_group_fields(e, g);
	g->primary_contact_id = rng_chance(&e->rng, 0.5) ? 0 : random_live_id(e, K_USER);
	return g;
}

void group_insert(struct emu *e, struct group *g)
{
	vec_push(&e->st.all[K_GROUP], g);
	vec_push(&e->st.live[K_GROUP], g);
	touched(e, K_GROUP);
}

struct group *group_create(struct emu *e)
{
	struct group *g = group_alloc(e);

	group_insert(e, g);
	return g;
}

void gen_group_edit(struct emu *e, struct group *g)
{
	switch (rng_below(&e->rng, 3)) {
	case 0:
		g->support_status_id = g->support_status_id == 1 ? 0 : 1;
		break;
	case 1:
		rstr_unref(g->notes);
		g->notes = rstr_from(pick(e, sentences, N(sentences)));
		break;
	default:
		g->primary_contact_id = random_live_id(e, K_USER);
		break;
	}
	touched(e, K_GROUP);
}

void group_delete(struct emu *e, struct group *g)
{
	g->deleted = true;
	vec_remove(&e->st.live[K_GROUP], g->id);
	touched(e, K_GROUP);
}

/* ---- generation ------------------------------------------------------------- */

void store_generate(struct emu *e)
{
	struct store *st = &e->st;
	int64_t base = e->opt.base_time_ms != TS_NULL ? e->opt.base_time_ms : emu_now(e);
	int64_t span = 3LL * 365 * 86400000;
	int64_t prev_updated = TS_NULL;
	int nt = e->opt.tickets, nlong;

	base = align(e, base);
	st->next_id[K_TICKET] = 1001;
	st->next_id[K_COMMENT] = 500001;
	st->next_id[K_USER] = 1;
	st->next_id[K_QUEUE] = 11;
	st->next_id[K_GROUP] = 101;

	for (int i = 0; i < e->opt.groups; i++) {
		struct group *g = xcalloc(1, sizeof(*g));
		g->id = new_id(e, K_GROUP);
		gen_group_fields(e, g);
		vec_push(&st->all[K_GROUP], g);
		vec_push(&st->live[K_GROUP], g);
	}
	for (int i = 0; i < e->opt.users; i++) {
		struct user *u = xcalloc(1, sizeof(*u));
		int64_t c = align(e, base - span - 86400000 + (int64_t)((double)span * i / (e->opt.users + 1)));
		int64_t up = align(e, c + (int64_t)(rng_unit(&e->rng) * (double)(base - c)));
		u->id = new_id(e, K_USER);
		gen_user_fields(e, u, i == 0, c, up);
		if (i > 0 && rng_chance(&e->rng, 0.01)) /* legacy imports */
			u->created_on = u->updated_on = TS_NULL;
		vec_push(&st->all[K_USER], u);
		vec_push(&st->live[K_USER], u);
	}
	for (size_t i = 0; i < st->live[K_GROUP].n; i++) {
		struct group *g = st->live[K_GROUP].v[i];
		if (rng_chance(&e->rng, 0.5))
			g->primary_contact_id = random_live_id(e, K_USER);
		if (rng_chance(&e->rng, 0.3))
			g->billing_contact_id = random_live_id(e, K_USER);
	}
	for (int i = 0; i < e->opt.queues; i++) {
		struct queue *q = xcalloc(1, sizeof(*q));
		q->id = new_id(e, K_QUEUE);
		gen_queue_fields(e, q);
		vec_push(&st->all[K_QUEUE], q);
		vec_push(&st->live[K_QUEUE], q);
	}

	nlong = nt >= 60000 ? nt / 20000 : nt >= 3 ? 3 : nt;
	for (int i = 0; i < nt; i++) {
		struct tdata d;
		int64_t created = align(e, base - span + (int64_t)((double)span * i / nt) +
					   (int64_t)rng_below(&e->rng, 3600000));
		double u = rng_unit(&e->rng);
		int64_t updated;
		struct ticket *t;
		int nc;

		if (created > base)
			created = base;
		updated = rng_chance(&e->rng, 0.1) ? created
			  : align(e, created + (int64_t)(u * u * (double)(base - created)));
		/* same-second updates happen: watermark traps */
		if (prev_updated != TS_NULL && rng_chance(&e->rng, 0.05) && prev_updated >= created)
			updated = prev_updated;
		tdata_init(&d);
		d.id = new_id(e, K_TICKET);
		gen_ticket_fields(e, &d, created, updated);
		/* a few long descriptions, spread out (not on the newest ticket) */
		if (nlong && (((int64_t)i * 2 * nlong + nt) / (2 * (int64_t)nt)) !=
			     (((int64_t)(i + 1) * 2 * nlong + nt) / (2 * (int64_t)nt))) {
			rstr_unref(d.description);
			d.description = gen_long_text(e);
		}
		t = ticket_insert(e, &d, INT64_MIN);
		prev_updated = t->cur->d.updated_on;

		nc = (int)rng_range(&e->rng, 0, 2 * (int64_t)e->opt.comments_per_ticket);
		for (int k = 0; k < nc; k++) {
			struct comment *c = xcalloc(1, sizeof(*c));
			int64_t life = t->cur->d.updated_on - created;
			c->id = new_id(e, K_COMMENT);
			c->ticket_id = t->id;
			c->user_id = rng_chance(&e->rng, 0.5) ? t->cur->d.user_id : random_agent(e);
			if (c->user_id == 0)
				c->user_id = t->cur->d.user_id;
			c->body = gen_comment_body(e);
			c->is_private = rng_chance(&e->rng, 0.2);
			c->time_spent = rng_chance(&e->rng, 0.6) ? -1 : (int)rng_range(&e->rng, 0, 120);
			c->created_on = align(e, created + life * (k + 1) / (nc + 1));
			c->updated_on = rng_chance(&e->rng, 0.1)
					? align(e, c->created_on + (t->cur->d.updated_on - c->created_on) / 2)
					: c->created_on;
			ticket_add_comment(t, c);
			vec_push(&st->all[K_COMMENT], c);
			vec_push(&st->live[K_COMMENT], c);
			if (k == 0) {
				t->cur->d.first_commented_on = c->created_on;
				t->cur->d.time_to_first_comment = (int)((c->created_on - created) / 1000);
			}
		}
	}
	/* the index in one go */
	st->capidx = st->live[K_TICKET].n + 1024;
	st->idx = xmalloc(st->capidx * sizeof(*st->idx));
	for (size_t i = 0; i < st->live[K_TICKET].n; i++)
		st->idx[st->nidx++] = ((struct ticket *)st->live[K_TICKET].v[i])->cur;
	qsort(st->idx, st->nidx, sizeof(*st->idx), tver_qcmp);
	for (int k = 0; k < K_MAX; k++)
		st->gen[k] = 1;
}

void user_discard(struct user *u)
{
	struct rstr **f[] = { &u->email, &u->first_name, &u->middle_name,
			      &u->last_name, &u->work_phone, &u->cell_phone,
			      &u->home_phone, &u->fax_phone, &u->address,
			      &u->user_notes, &u->helpdesk_notes,
			      &u->im_screen_name, &u->time_zone, &u->picture_url };

	for (size_t i = 0; i < N(f); i++)
		rstr_unref(*f[i]);
	free(u);
}

void group_discard(struct group *g)
{
	struct rstr **f[] = { &g->name, &g->support_info_url, &g->address,
			      &g->address2, &g->city, &g->state, &g->zip,
			      &g->country, &g->website_url, &g->notes };

	for (size_t i = 0; i < N(f); i++)
		rstr_unref(*f[i]);
	free(g);
}
