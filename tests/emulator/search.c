/* search.c: the Elasticsearch query-string subset that Mojo's search takes */
#include "emu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ftype { F_INT, F_DATE, F_TEXT, F_KEYWORD, F_TAGS, F_CFANY };

enum fid {
	X_ID, X_STATUS, X_PRIORITY, X_QUEUE, X_TYPE, X_FORM, X_COMPANY,
	X_ASSIGNEE_ID, X_CREATOR_ID, X_RATING, X_CREATED, X_UPDATED, X_DUE,
	X_RATED, X_SCHEDULED, X_SOLVED, X_STATUS_CHANGED, X_CLOSED,
	X_ASSIGNED, X_FIRST_ASSIGNED, X_TITLE, X_DESCRIPTION, X_COMMENTS,
	X_CREATOR_NAME, X_CREATOR_EMAIL, X_ASSIGNEE_EMAIL, X_TAGS, X_CF,
	X_ASSET_TAG,
};

struct field {
	const char *name;
	enum ftype type;
	enum fid id;
	int dialect; /* 0 both, 1 v1 only, 2 v2 only */
};

static const struct field fields[] = {
	{ "id", F_INT, X_ID, 0 },
	{ "status.id", F_INT, X_STATUS, 0 },
	{ "priority.id", F_INT, X_PRIORITY, 0 },
	{ "ticket_queue.id", F_INT, X_QUEUE, 2 },
	{ "queue.id", F_INT, X_QUEUE, 1 },
	{ "ticket_type.id", F_INT, X_TYPE, 2 },
	{ "type.id", F_INT, X_TYPE, 1 },
	{ "ticket_form.id", F_INT, X_FORM, 2 },
	{ "company.id", F_INT, X_COMPANY, 0 },
	{ "assignee.id", F_INT, X_ASSIGNEE_ID, 0 },
	{ "created_by.id", F_INT, X_CREATOR_ID, 0 },
	{ "rating", F_INT, X_RATING, 0 },
	{ "created_on", F_DATE, X_CREATED, 0 },
	{ "updated_on", F_DATE, X_UPDATED, 0 },
	{ "due_on", F_DATE, X_DUE, 0 },
	{ "rated_on", F_DATE, X_RATED, 0 },
	{ "scheduled_on", F_DATE, X_SCHEDULED, 0 },
	{ "solved_on", F_DATE, X_SOLVED, 0 },
	{ "status_changed_on", F_DATE, X_STATUS_CHANGED, 0 },
	{ "closed_on", F_DATE, X_CLOSED, 0 },
	{ "assigned_on", F_DATE, X_ASSIGNED, 0 },
	{ "first_assigned_on", F_DATE, X_FIRST_ASSIGNED, 0 },
	{ "title", F_TEXT, X_TITLE, 0 },
	{ "description", F_TEXT, X_DESCRIPTION, 0 },
	{ "comments.body", F_TEXT, X_COMMENTS, 0 },
	{ "created_by.name", F_TEXT, X_CREATOR_NAME, 0 },
	{ "created_by.email", F_KEYWORD, X_CREATOR_EMAIL, 0 },
	{ "assignee.email", F_KEYWORD, X_ASSIGNEE_EMAIL, 0 },
	{ "tags.id", F_TAGS, X_TAGS, 2 },
	{ "custom_fields", F_CFANY, X_CF, 0 },
	{ "asset_tag", F_KEYWORD, X_ASSET_TAG, 0 },
};

enum ntype { N_AND, N_OR, N_NOT, N_ALL, N_NONE, N_EXISTS, N_TEXT, N_RANGE };

struct node {
	enum ntype t;
	struct node *a, *b;
	const struct field *f; /* NULL: the default fields (title, description) */
	char *text;
	size_t tlen;
	bool phrase, glob;
	int64_t lo, hi; /* N_RANGE, inclusive; INT64_MIN / INT64_MAX open */
};

struct sq {
	struct node *root;
	bool v1;
};

struct parser {
	const char *s;
	size_t i, n;
	bool v1;
	char err[128];
};

static struct node *node_new(enum ntype t)
{
	struct node *nd = xcalloc(1, sizeof(*nd));

	nd->t = t;
	nd->lo = INT64_MIN;
	nd->hi = INT64_MAX;
	return nd;
}

static void node_free(struct node *nd)
{
	if (nd == NULL)
		return;
	node_free(nd->a);
	node_free(nd->b);
	free(nd->text);
	free(nd);
}

static struct node *node_bin(enum ntype t, struct node *a, struct node *b)
{
	struct node *nd = node_new(t);

	nd->a = a;
	nd->b = b;
	return nd;
}

static void fail(struct parser *p, const char *msg)
{
	if (p->err[0] == '\0')
		snprintf(p->err, sizeof(p->err), "%s at offset %zu", msg, p->i);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct parser *p)
{
	while (p->i < p->n && is_ws(p->s[p->i]))
		p->i++;
}

static bool at_end(struct parser *p)
{
	return p->i >= p->n;
}

static char cur(struct parser *p)
{
	return p->i < p->n ? p->s[p->i] : '\0';
}

/* A keyword (AND, OR, NOT, TO) followed by a delimiter. */
static bool peek_kw(struct parser *p, const char *kw)
{
	size_t k = strlen(kw);

	if (p->i + k > p->n || memcmp(p->s + p->i, kw, k) != 0)
		return false;
	if (kw[0] == '&' || kw[0] == '|' || kw[0] == '!')
		return true;
	return p->i + k == p->n || is_ws(p->s[p->i + k]) || p->s[p->i + k] == '(' ||
	       p->s[p->i + k] == ')';
}

/* Reads a bare word up to whitespace or one of stop; backslash escapes. */
static char *read_word(struct parser *p, const char *stop, size_t *len)
{
	struct sbuf sb;

	sb_init(&sb);
	while (p->i < p->n) {
		char c = p->s[p->i];
		if (c == '\\' && p->i + 1 < p->n) {
			sb_putc(&sb, p->s[p->i + 1]);
			p->i += 2;
			continue;
		}
		if (is_ws(c) || strchr(stop, c))
			break;
		sb_putc(&sb, c);
		p->i++;
	}
	*len = sb.len;
	if (sb.p == NULL)
		sb_putc(&sb, '\0');
	return sb.p;
}

static char *read_phrase(struct parser *p, size_t *len)
{
	struct sbuf sb;

	sb_init(&sb);
	sb_putc(&sb, '\0');
	sb.len = 0;
	p->i++; /* the opening quote */
	while (p->i < p->n && p->s[p->i] != '"') {
		if (p->s[p->i] == '\\' && p->i + 1 < p->n)
			p->i++;
		sb_putc(&sb, p->s[p->i++]);
	}
	if (p->i >= p->n) {
		fail(p, "unterminated phrase");
		sb_free(&sb);
		return NULL;
	}
	p->i++;
	*len = sb.len;
	return sb.p;
}

static const struct field *find_field(struct parser *p, const char *name)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct field *f = &fields[i];
		if (strcmp(f->name, name) != 0)
			continue;
		if (f->dialect == 0 || f->dialect == (p->v1 ? 1 : 2))
			return f;
	}
	return NULL;
}

/* Converts a value for a field into a node (exact match). */
static struct node *value_node(struct parser *p, const struct field *f, char *v,
			       size_t len, bool phrase)
{
	struct node *nd;
	int64_t x;

	if (f == NULL || f->type == F_TEXT || f->type == F_KEYWORD || f->type == F_CFANY) {
		if (!phrase && len == 1 && v[0] == '*') {
			free(v);
			return node_new(f ? N_EXISTS : N_ALL);
		}
		nd = node_new(N_TEXT);
		nd->f = f;
		nd->text = v;
		nd->tlen = len;
		nd->phrase = phrase;
		nd->glob = !phrase && (memchr(v, '*', len) || memchr(v, '?', len));
		return nd;
	}
	if (!phrase && len == 1 && v[0] == '*') {
		free(v);
		nd = node_new(N_EXISTS);
		nd->f = f;
		return nd;
	}
	if (f->type == F_DATE) {
		if (parse_ts(v, len, &x) < 0) {
			fail(p, "failed to parse date");
			free(v);
			return NULL;
		}
	} else if (parse_int64(v, &x) < 0) {
		fail(p, "number format exception");
		free(v);
		return NULL;
	}
	free(v);
	nd = node_new(N_RANGE);
	nd->f = f;
	nd->lo = nd->hi = x;
	return nd;
}

static int range_bound(struct parser *p, const struct field *f, char *v,
		       size_t len, int64_t *out)
{
	int rc = 0;

	if (len == 1 && v[0] == '*') {
		free(v);
		return 1; /* open */
	}
	if (f == NULL || f->type == F_TEXT || f->type == F_KEYWORD || f->type == F_CFANY) {
		free(v);
		return 2; /* ranges over text: unsupported, matches nothing */
	}
	if (f->type == F_DATE ? parse_ts(v, len, out) < 0 : parse_int64(v, out) < 0) {
		fail(p, f->type == F_DATE ? "failed to parse date" : "number format exception");
		rc = -1;
	}
	free(v);
	return rc;
}

static struct node *parse_or(struct parser *p, const struct field *f, bool infield);

static struct node *parse_range(struct parser *p, const struct field *f)
{
	bool lo_incl = cur(p) == '[', hi_incl;
	size_t len;
	char *v;
	int64_t lo = 0, hi = 0;
	int rlo, rhi;

	p->i++;
	skip_ws(p);
	v = read_word(p, "]}", &len);
	if (len == 0) {
		free(v);
		fail(p, "missing range start");
		return NULL;
	}
	rlo = range_bound(p, f, v, len, &lo);
	skip_ws(p);
	if (!peek_kw(p, "TO")) {
		fail(p, "expected TO");
		return NULL;
	}
	p->i += 2;
	skip_ws(p);
	v = read_word(p, "]}", &len);
	if (len == 0) {
		free(v);
		fail(p, "missing range end");
		return NULL;
	}
	rhi = range_bound(p, f, v, len, &hi);
	skip_ws(p);
	if (cur(p) != ']' && cur(p) != '}') {
		fail(p, "unterminated range");
		return NULL;
	}
	hi_incl = cur(p) == ']';
	p->i++;
	if (rlo < 0 || rhi < 0)
		return NULL;
	if (f == NULL || rlo == 2 || rhi == 2)
		return node_new(N_NONE);
	struct node *nd = node_new(N_RANGE);
	nd->f = f;
	if (rlo == 0) {
		if (!lo_incl && lo == INT64_MAX)
			return nd->t = N_NONE, nd;
		nd->lo = lo_incl ? lo : lo + 1;
	}
	if (rhi == 0) {
		if (!hi_incl && hi == INT64_MIN)
			return nd->t = N_NONE, nd;
		nd->hi = hi_incl ? hi : hi - 1;
	}
	return nd;
}

static struct node *parse_cmp(struct parser *p, const struct field *f)
{
	bool lt = cur(p) == '<', eq = false;
	size_t len;
	char *v;
	int64_t x = 0;
	int r;

	p->i++;
	if (cur(p) == '=') {
		eq = true;
		p->i++;
	}
	v = read_word(p, "()[]{}\"", &len);
	if (len == 0) {
		free(v);
		fail(p, "missing value after comparison");
		return NULL;
	}
	r = range_bound(p, f, v, len, &x);
	if (r < 0)
		return NULL;
	if (f == NULL || r == 2)
		return node_new(N_NONE);
	struct node *nd = node_new(r == 1 ? N_ALL : N_RANGE);
	nd->f = f;
	if (r == 0) {
		if (lt)
			nd->hi = eq ? x : x - 1;
		else
			nd->lo = eq ? x : x + 1;
	}
	return nd;
}

/* A value after "field:" (or a term inside field:( ... )). */
static struct node *parse_value(struct parser *p, const struct field *f, bool known)
{
	struct node *nd;
	size_t len;
	char *v;

	switch (cur(p)) {
	case '(':
		p->i++;
		nd = parse_or(p, f, true);
		if (nd == NULL)
			return NULL;
		skip_ws(p);
		if (cur(p) != ')') {
			node_free(nd);
			fail(p, "expected )");
			return NULL;
		}
		p->i++;
		break;
	case '[':
	case '{':
		nd = parse_range(p, f);
		break;
	case '"':
		v = read_phrase(p, &len);
		if (v == NULL)
			return NULL;
		nd = value_node(p, f, v, len, true);
		break;
	case '<':
	case '>':
		nd = parse_cmp(p, f);
		break;
	default:
		v = read_word(p, "()[]{}\"", &len);
		if (len == 0) {
			free(v);
			fail(p, "missing value");
			return NULL;
		}
		if ((len == 3 && memcmp(v, "AND", 3) == 0) || (len == 2 && memcmp(v, "OR", 2) == 0)) {
			free(v);
			fail(p, "missing value");
			return NULL;
		}
		nd = value_node(p, f, v, len, false);
		break;
	}
	if (nd && !known) {
		node_free(nd);
		return node_new(N_NONE);
	}
	return nd;
}

static struct node *parse_primary(struct parser *p, const struct field *f, bool infield)
{
	struct node *nd;
	size_t len;
	char *w;

	skip_ws(p);
	if (at_end(p) || cur(p) == ')') {
		fail(p, "unexpected end of query");
		return NULL;
	}
	if (infield)
		return parse_value(p, f, true);
	if (cur(p) == '(') {
		p->i++;
		nd = parse_or(p, NULL, false);
		if (nd == NULL)
			return NULL;
		skip_ws(p);
		if (cur(p) != ')') {
			node_free(nd);
			fail(p, "expected )");
			return NULL;
		}
		p->i++;
		return nd;
	}
	if (cur(p) == '"') {
		w = read_phrase(p, &len);
		return w ? value_node(p, NULL, w, len, true) : NULL;
	}
	if (strchr("[]{}:<>", cur(p))) {
		fail(p, "unexpected character");
		return NULL;
	}
	if (peek_kw(p, "AND") || peek_kw(p, "OR") || peek_kw(p, "&&") || peek_kw(p, "||")) {
		fail(p, "operator without operand");
		return NULL;
	}
	w = read_word(p, "()[]{}\":", &len);
	if (cur(p) == ':') {
		const struct field *fld;
		p->i++;
		skip_ws(p);
		if (len == 0) {
			free(w);
			fail(p, "empty field name");
			return NULL;
		}
		if (strcmp(w, "_exists_") == 0) {
			char *name;
			size_t nlen;
			free(w);
			name = read_word(p, "()[]{}\":", &nlen);
			if (nlen == 0) {
				free(name);
				fail(p, "_exists_ needs a field");
				return NULL;
			}
			fld = find_field(p, name);
			free(name);
			nd = node_new(fld ? N_EXISTS : N_NONE);
			nd->f = fld;
			return nd;
		}
		fld = find_field(p, w);
		free(w);
		if (at_end(p)) {
			fail(p, "missing value");
			return NULL;
		}
		return parse_value(p, fld, fld != NULL);
	}
	if (len == 0) {
		free(w);
		fail(p, "unexpected character");
		return NULL;
	}
	return value_node(p, NULL, w, len, false);
}

static struct node *parse_unary(struct parser *p, const struct field *f, bool infield)
{
	skip_ws(p);
	if (peek_kw(p, "NOT") || cur(p) == '!' || cur(p) == '-') {
		p->i += peek_kw(p, "NOT") ? 3 : 1;
		struct node *a = parse_unary(p, f, infield);
		return a ? node_bin(N_NOT, a, NULL) : NULL;
	}
	if (cur(p) == '+')
		p->i++;
	return parse_primary(p, f, infield);
}

static struct node *parse_and(struct parser *p, const struct field *f, bool infield)
{
	struct node *left = parse_unary(p, f, infield), *right;

	while (left) {
		skip_ws(p);
		if (at_end(p) || cur(p) == ')' || peek_kw(p, "OR") || peek_kw(p, "||"))
			return left;
		if (peek_kw(p, "AND") || peek_kw(p, "&&")) {
			p->i += cur(p) == '&' ? 2 : 3;
			right = parse_unary(p, f, infield);
			if (right == NULL) {
				node_free(left);
				return NULL;
			}
			left = node_bin(N_AND, left, right);
		} else {
			/* default operator: OR */
			right = parse_unary(p, f, infield);
			if (right == NULL) {
				node_free(left);
				return NULL;
			}
			left = node_bin(N_OR, left, right);
		}
	}
	return left;
}

static struct node *parse_or(struct parser *p, const struct field *f, bool infield)
{
	struct node *left = parse_and(p, f, infield), *right;

	while (left) {
		skip_ws(p);
		if (!(peek_kw(p, "OR") || peek_kw(p, "||")))
			return left;
		p->i += 2;
		right = parse_and(p, f, infield);
		if (right == NULL) {
			node_free(left);
			return NULL;
		}
		left = node_bin(N_OR, left, right);
	}
	return left;
}

struct sq *search_parse(const char *q, bool v1, char *err, size_t errlen)
{
	struct parser p = { .s = q ? q : "", .v1 = v1 };
	struct sq *res;
	struct node *root;

	p.n = strlen(p.s);
	skip_ws(&p);
	if (at_end(&p)) {
		root = node_new(N_ALL);
	} else {
		root = parse_or(&p, NULL, false);
		skip_ws(&p);
		if (root && !at_end(&p)) {
			fail(&p, "unexpected input");
			node_free(root);
			root = NULL;
		}
	}
	if (root == NULL) {
		snprintf(err, errlen, "%s", p.err[0] ? p.err : "bad request");
		return NULL;
	}
	res = xcalloc(1, sizeof(*res));
	res->root = root;
	res->v1 = v1;
	return res;
}

void search_free(struct sq *q)
{
	if (q == NULL)
		return;
	node_free(q->root);
	free(q);
}

/* ---- evaluation ------------------------------------------------------------ */

static bool int_value(struct emu *e, const struct tdata *d, enum fid id, int64_t *v)
{
	struct user *u;

	switch (id) {
	case X_ID: *v = d->id; return true;
	case X_STATUS: *v = d->status_id; return true;
	case X_PRIORITY: *v = d->priority_id; return true;
	case X_QUEUE: *v = d->ticket_queue_id; return d->ticket_queue_id != 0;
	case X_TYPE: *v = d->ticket_type_id; return d->ticket_type_id != 0;
	case X_FORM: *v = d->ticket_form_id; return d->ticket_form_id != 0;
	case X_COMPANY: *v = d->company_id; return d->company_id != 0;
	case X_ASSIGNEE_ID: *v = d->assigned_to_id; return d->assigned_to_id != 0;
	case X_CREATOR_ID:
		u = store_user(e, d->user_id);
		*v = d->user_id;
		return u != NULL;
	case X_RATING: *v = d->rating; return d->rating >= 0;
	case X_CREATED: *v = d->created_on; break;
	case X_UPDATED: *v = d->updated_on; break;
	case X_DUE: *v = d->due_on; break;
	case X_RATED: *v = d->rated_on; break;
	case X_SCHEDULED: *v = d->scheduled_on; break;
	case X_SOLVED: *v = d->solved_on; break;
	case X_STATUS_CHANGED: *v = d->status_changed_on; break;
	case X_CLOSED: *v = d->closed_on; break;
	case X_ASSIGNED: *v = d->assigned_on; break;
	case X_FIRST_ASSIGNED: *v = d->first_assigned_on; break;
	default: return false;
	}
	return *v != TS_NULL;
}

static bool text_match(const struct node *nd, const char *s, size_t n, bool keyword)
{
	if (nd->glob)
		return glob_imatch(nd->text, nd->tlen, s, n);
	if (keyword)
		return str_iequal(nd->text, nd->tlen, s, n);
	return str_icontains(s, n, nd->text, nd->tlen);
}

static bool text_field(struct emu *e, const struct node *nd, const struct tver *v,
		       enum fid id, bool exists_only)
{
	const struct tdata *d = &v->d;
	const struct rstr *r = NULL;
	struct user *u;
	bool keyword = false, res;

	switch (id) {
	case X_TITLE: r = d->title; break;
	case X_DESCRIPTION: r = d->description; break;
	case X_ASSET_TAG: r = d->asset_tag; keyword = true; break;
	case X_COMMENTS:
		for (size_t i = 0; i < v->t->ncomments; i++) {
			const struct comment *c = v->t->comments[i];
			if (c->deleted || c->body == NULL)
				continue;
			if (exists_only || text_match(nd, c->body->s, c->body->len, false))
				return true;
		}
		return false;
	case X_CREATOR_NAME: {
		struct rstr *fn;
		u = store_user(e, d->user_id);
		if (u == NULL || (fn = user_full_name(u)) == NULL)
			return false;
		res = exists_only || text_match(nd, fn->s, fn->len, false);
		rstr_unref(fn);
		return res;
	}
	case X_CREATOR_EMAIL:
	case X_ASSIGNEE_EMAIL:
		u = store_user(e, id == X_CREATOR_EMAIL ? d->user_id : d->assigned_to_id);
		r = u ? u->email : NULL;
		keyword = true;
		break;
	case X_CF:
		for (int i = 0; i < NCF; i++) {
			char buf[32];
			const struct cfval *cv = &d->cf[i];
			if (cv->type == 0)
				continue;
			if (exists_only)
				return true;
			if (cv->type == 1 && text_match(nd, cv->s->s, cv->s->len, false))
				return true;
			if (cv->type != 1) {
				int n = cv->type == 2 ? snprintf(buf, sizeof(buf), "%lld", (long long)cv->i)
						      : snprintf(buf, sizeof(buf), "%s", cv->i ? "true" : "false");
				if (text_match(nd, buf, (size_t)n, true))
					return true;
			}
		}
		return false;
	default:
		return false;
	}
	if (r == NULL)
		return false;
	return exists_only || text_match(nd, r->s, r->len, keyword);
}

static bool eval(struct emu *e, const struct node *nd, const struct tver *v)
{
	int64_t x;

	switch (nd->t) {
	case N_AND: return eval(e, nd->a, v) && eval(e, nd->b, v);
	case N_OR: return eval(e, nd->a, v) || eval(e, nd->b, v);
	case N_NOT: return !eval(e, nd->a, v);
	case N_ALL: return true;
	case N_NONE: return false;
	case N_EXISTS:
		switch (nd->f->type) {
		case F_INT:
		case F_DATE:
			return int_value(e, &v->d, nd->f->id, &x);
		case F_TAGS:
			return v->d.tags != 0;
		default:
			return text_field(e, nd, v, nd->f->id, true);
		}
	case N_TEXT:
		if (nd->f == NULL)
			return text_field(e, nd, v, X_TITLE, false) ||
			       text_field(e, nd, v, X_DESCRIPTION, false);
		return text_field(e, nd, v, nd->f->id, false);
	case N_RANGE:
		if (nd->f->type == F_TAGS) {
			for (int i = 0; i < NTAGS; i++)
				if ((v->d.tags & (1u << i)) && emu_tags[i].id >= nd->lo &&
				    emu_tags[i].id <= nd->hi)
					return true;
			return false;
		}
		if (!int_value(e, &v->d, nd->f->id, &x))
			return false;
		return x >= nd->lo && x <= nd->hi;
	}
	return false;
}

/* Bounds on updated_on implied by the whole query (to use the index). */
static void updated_bounds(const struct node *nd, int64_t *lo, int64_t *hi)
{
	if (nd->t == N_AND) {
		updated_bounds(nd->a, lo, hi);
		updated_bounds(nd->b, lo, hi);
	} else if (nd->t == N_RANGE && nd->f && nd->f->id == X_UPDATED) {
		if (nd->lo > *lo)
			*lo = nd->lo;
		if (nd->hi < *hi)
			*hi = nd->hi;
	}
}

static const char *const sort_fields[] = {
	"created_on", "updated_on", "due_on", "rated_on", "scheduled_on",
	"solved_on", "closed_on", "status_changed_on", "id", NULL,
};

bool search_sf_valid(const char *sf)
{
	for (int i = 0; sort_fields[i]; i++)
		if (strcmp(sort_fields[i], sf) == 0)
			return true;
	return false;
}

static int64_t sort_key(const struct tdata *d, const char *sf)
{
	if (strcmp(sf, "created_on") == 0) return d->created_on;
	if (strcmp(sf, "updated_on") == 0) return d->updated_on;
	if (strcmp(sf, "due_on") == 0) return d->due_on;
	if (strcmp(sf, "rated_on") == 0) return d->rated_on;
	if (strcmp(sf, "scheduled_on") == 0) return d->scheduled_on;
	if (strcmp(sf, "solved_on") == 0) return d->solved_on;
	if (strcmp(sf, "closed_on") == 0) return d->closed_on;
	if (strcmp(sf, "status_changed_on") == 0) return d->status_changed_on;
	return d->id;
}

struct keyed {
	int64_t key, id;
	struct tver *v;
};

static int keyed_cmp(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;

	/* missing values sort last, in both directions (Elasticsearch) */
	if (a->key != b->key) {
		if (a->key == TS_NULL)
			return 1;
		if (b->key == TS_NULL)
			return -1;
		return a->key < b->key ? -1 : 1;
	}
	return a->id < b->id ? -1 : a->id > b->id ? 1 : 0;
}

static int keyed_cmp_desc(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;

	if (a->key != b->key) {
		if (a->key == TS_NULL)
			return 1;
		if (b->key == TS_NULL)
			return -1;
		return a->key > b->key ? -1 : 1;
	}
	return a->id > b->id ? -1 : a->id < b->id ? 1 : 0;
}

static bool visible(const struct tver *v, int64_t as_of)
{
	return v->vis_from <= as_of && as_of < v->vis_to;
}

int search_run(struct emu *e, struct sq *q, int64_t as_of, const char *sf,
	       bool desc, size_t off, size_t lim, struct tver ***out, size_t *nout)
{
	struct store *st = &e->st;
	int64_t lo = INT64_MIN, hi = INT64_MAX;
	size_t first = 0, last = st->nidx; /* [first, last) */
	struct tver **res = xmalloc((lim ? lim : 1) * sizeof(*res));
	size_t nres = 0;

	updated_bounds(q->root, &lo, &hi);
	if (lo > hi) {
		*out = res;
		*nout = 0;
		return 0;
	}
	if (lo != INT64_MIN) {
		size_t a = 0, b = st->nidx;
		while (a < b) {
			size_t m = a + (b - a) / 2;
			if (st->idx[m]->d.updated_on < lo)
				a = m + 1;
			else
				b = m;
		}
		first = a;
	}
	if (hi != INT64_MAX) {
		size_t a = first, b = st->nidx;
		while (a < b) {
			size_t m = a + (b - a) / 2;
			if (st->idx[m]->d.updated_on <= hi)
				a = m + 1;
			else
				b = m;
		}
		last = a;
	}

	if (sf && strcmp(sf, "updated_on") == 0) {
		/* the index order is the answer order: walk and count */
		size_t seen = 0;
		for (size_t k = 0; k < last - first && nres < lim; k++) {
			struct tver *v = st->idx[desc ? last - 1 - k : first + k];
			if (!visible(v, as_of) || !eval(e, q->root, v))
				continue;
			if (seen++ >= off)
				res[nres++] = v;
		}
	} else {
		struct keyed *all = NULL;
		size_t n = 0, cap = 0;
		for (size_t k = first; k < last; k++) {
			struct tver *v = st->idx[k];
			if (!visible(v, as_of) || !eval(e, q->root, v))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				all = xrealloc(all, cap * sizeof(*all));
			}
			all[n].key = sf ? sort_key(&v->d, sf) : v->d.id;
			all[n].id = v->d.id;
			all[n].v = v;
			n++;
		}
		if (n)
			qsort(all, n, sizeof(*all), desc ? keyed_cmp_desc : keyed_cmp);
		for (size_t k = off; k < n && nres < lim; k++)
			res[nres++] = all[k].v;
		free(all);
	}
	*out = res;
	*nout = nres;
	return 0;
}
