#include "ac-config.h"

#include "mojo.h"

#include "config.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JSON_MAX_DEPTH 64

static const char *const tables[MOJO_NKINDS] = { "tickets", "comments", "users", "ticket_queues", "companies" };
static const char *const singulars[MOJO_NKINDS] = { "ticket", "comment", "user", "ticket_queue", "company" };

static const struct mojo_column ticket_cols[] = {
	{ "title", MOJO_COL_TEXT },
	{ "description", MOJO_COL_TEXT },
	{ "status_id", MOJO_COL_BIGINT },
	{ "priority_id", MOJO_COL_BIGINT },
	{ "ticket_queue_id", MOJO_COL_BIGINT },
	{ "ticket_type_id", MOJO_COL_BIGINT },
	{ "ticket_form_id", MOJO_COL_BIGINT },
	{ "user_id", MOJO_COL_BIGINT },
	{ "assigned_to_id", MOJO_COL_BIGINT },
	{ "company_id", MOJO_COL_BIGINT },
	{ "rating", MOJO_COL_BIGINT },
	{ "rating_comment", MOJO_COL_TEXT },
	{ "rated_on", MOJO_COL_TIME },
	{ "created_on", MOJO_COL_TIME },
	{ "updated_on", MOJO_COL_TIME },
	{ "status_changed_on", MOJO_COL_TIME },
	{ "solved_on", MOJO_COL_TIME },
	{ "assigned_on", MOJO_COL_TIME },
	{ "first_assigned_on", MOJO_COL_TIME },
	{ "due_on", MOJO_COL_TIME },
	{ "scheduled_on", MOJO_COL_TIME },
	{ "resolution_id", MOJO_COL_BIGINT },
	{ "created_from", MOJO_COL_BIGINT },
	{ "cc", MOJO_COL_TEXT },
};

static const struct mojo_column comment_cols[] = {
	{ "ticket_id", MOJO_COL_BIGINT },
	{ "user_id", MOJO_COL_BIGINT },
	{ "body", MOJO_COL_TEXT },
	{ "is_private", MOJO_COL_BOOL },
	{ "time_spent", MOJO_COL_BIGINT },
	{ "created_on", MOJO_COL_TIME },
	{ "updated_on", MOJO_COL_TIME },
};

static const struct mojo_column user_cols[] = {
	{ "email", MOJO_COL_TEXT },
	{ "first_name", MOJO_COL_TEXT },
	{ "middle_name", MOJO_COL_TEXT },
	{ "last_name", MOJO_COL_TEXT },
	{ "full_name", MOJO_COL_TEXT },
	{ "work_phone", MOJO_COL_TEXT },
	{ "cell_phone", MOJO_COL_TEXT },
	{ "home_phone", MOJO_COL_TEXT },
	{ "user_notes", MOJO_COL_TEXT },
	{ "company_id", MOJO_COL_BIGINT },
	{ "role_id", MOJO_COL_BIGINT },
	{ "is_active", MOJO_COL_BOOL },
	{ "last_login_on", MOJO_COL_TIME },
	{ "created_on", MOJO_COL_TIME },
	{ "updated_on", MOJO_COL_TIME },
};

static const struct mojo_column queue_cols[] = {
	{ "name", MOJO_COL_TEXT },
	{ "email_alias", MOJO_COL_TEXT },
	{ "email_forward", MOJO_COL_TEXT },
	{ "email_ticket_form_id", MOJO_COL_BIGINT },
};

static const struct mojo_column group_cols[] = {
	{ "name", MOJO_COL_TEXT },
	{ "primary_contact_id", MOJO_COL_BIGINT },
	{ "billing_contact_id", MOJO_COL_BIGINT },
	{ "support_level_id", MOJO_COL_BIGINT },
	{ "support_status_id", MOJO_COL_BIGINT },
	{ "support_start_date", MOJO_COL_DATE },
	{ "support_end_date", MOJO_COL_DATE },
	{ "support_info_url", MOJO_COL_TEXT },
	{ "address", MOJO_COL_TEXT },
	{ "address2", MOJO_COL_TEXT },
	{ "city", MOJO_COL_TEXT },
	{ "state", MOJO_COL_TEXT },
	{ "zip", MOJO_COL_TEXT },
	{ "country", MOJO_COL_TEXT },
	{ "website_url", MOJO_COL_TEXT },
	{ "notes", MOJO_COL_TEXT },
};

#define COLS(a) { a, sizeof(a) / sizeof(a[0]) }
static const struct {
	const struct mojo_column *cols;
	size_t n;
} columns[MOJO_NKINDS] = { COLS(ticket_cols), COLS(comment_cols), COLS(user_cols), COLS(queue_cols), COLS(group_cols) };

const char *
mojo_kind_table(enum mojo_kind kind)
{
	return tables[kind];
}

const char *
mojo_kind_singular(enum mojo_kind kind)
{
	return singulars[kind];
}

const struct mojo_column *
mojo_columns(enum mojo_kind kind, size_t *n)
{
	*n = columns[kind].n;
	return columns[kind].cols;
}

char *
mojo_url(const struct config *cfg, const char *path, const char *query)
{
	const char *base = cfg->api == CONFIG_API_V1 ? "/api/" : "/api/v2/";
	char *key, *url;
	const char *rest = path;
	const char *name = "";
	size_t len;

	if (cfg->api == CONFIG_API_V1 && strncmp(path, "groups", 6) == 0) {
		name = "companies";
		rest = path + 6;
	}
	key = curl_easy_escape(NULL, cfg->access_key, 0);
	if (key == NULL)
		return NULL;
	len = strlen(cfg->url) + strlen(base) + strlen(name) + strlen(rest) + strlen(key) +
	      (query ? strlen(query) : 0) + 32;
	url = malloc(len);
	if (url != NULL)
		snprintf(url, len, "%s%s%s%s?access_key=%s%s%s", cfg->url, base, name, rest, key,
			 query && *query ? "&" : "", query ? query : "");
	explicit_bzero(key, strlen(key));
	curl_free(key);
	return url;
}

void
mojo_url_free(char *url)
{
	if (url == NULL)
		return;
	explicit_bzero(url, strlen(url));
	free(url);
}

void
mojo_endpoint_class(const char *path, char *buf, size_t len)
{
	size_t n = strcspn(path, "/");
	const char *rest = path[n] == '/' ? path + n + 1 : NULL;
	const char *what;

	if (rest == NULL)
		what = "list";
	else if (strchr(rest, '/') != NULL && strcmp(strchr(rest, '/'), "/comments") == 0) {
		snprintf(buf, len, "comments.list");
		return;
	} else if (strspn(rest, "0123456789") == strlen(rest) && *rest != '\0')
		what = "show";
	else
		what = rest;
	snprintf(buf, len, "%.*s.%s", (int)n, path, what);
}

void
mojo_error_text(const char *body, size_t len, char *buf, size_t buflen)
{
	struct json_object *obj, *m;
	const char *text = NULL;
	char err[128];
	size_t i;

	obj = mojo_parse_body(body, len > 65536 ? 65536 : len, err, sizeof(err));
	if (obj != NULL && json_object_is_type(obj, json_type_object)) {
		if (json_object_object_get_ex(obj, "message", &m) && json_object_is_type(m, json_type_string))
			text = json_object_get_string(m);
		else if (json_object_object_get_ex(obj, "error", &m) && json_object_is_type(m, json_type_string))
			text = json_object_get_string(m);
	}
	if (text != NULL)
		snprintf(buf, buflen, "%s", text);
	else	/* not a known error body: its start */
		snprintf(buf, buflen, "%.*s", (int)(len > 120 ? 120 : len), body);
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20)
			buf[i] = ' ';
	json_object_put(obj);
}

/* Reads exactly n digits; returns the value or -1. */
static int
digits(const char **p, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* YYYY-MM-DD: days since the epoch, or -1 on error (with *p after it). */
static int
parse_date(const char **p, int64_t *days)
{
	int y, mo, d;

	y = digits(p, 4);
	if (y < 1 || **p != '-')
		return -1;
	(*p)++;
	mo = digits(p, 2);
	if (mo < 1 || mo > 12 || **p != '-')
		return -1;
	(*p)++;
	d = digits(p, 2);
	if (d < 1 || d > days_in_month(y, mo))
		return -1;
	*days = days_from_civil(y, mo, d);
	return 0;
}

int
mojo_parse_time(const char *s, int64_t *us)
{
	const char *p = s;
	int64_t days, frac = 0;
	int h, mi, sec, n = 0, oh = 0, om = 0, sign = 0;

	if (parse_date(&p, &days) != 0 || (*p != 'T' && *p != ' '))
		return -1;
	p++;
	h = digits(&p, 2);
	if (h < 0 || h > 23 || *p++ != ':')
		return -1;
	mi = digits(&p, 2);
	if (mi < 0 || mi > 59 || *p++ != ':')
		return -1;
	sec = digits(&p, 2);
	if (sec < 0 || sec > 60)
		return -1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p)) {
			if (n < 6) {
				frac = frac * 10 + (*p - '0');
				n++;
			}
			p++;
		}
		while (n++ < 6)
			frac *= 10;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		oh = digits(&p, 2);
		if (oh < 0 || oh > 15)
			return -1;
		if (*p == ':')
			p++;
		if (*p != '\0') {
			om = digits(&p, 2);
			if (om < 0 || om > 59)
				return -1;
		}
	}
	if (*p != '\0')
		return -1;
	*us = (((days * 24 + h) * 60 + mi) * 60 + sec) * 1000000 + frac - (int64_t)sign * (oh * 60 + om) * 60 * 1000000;
	return 0;
}

void
mojo_format_time(int64_t us, bool with_fraction, char *buf, size_t len)
{
	int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
	int64_t frac = us - secs * 1000000;
	time_t t = (time_t)secs;
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_fraction)
		snprintf(buf, len, "%s.%06" PRId64 "Z", base, frac);
	else
		snprintf(buf, len, "%sZ", base);
}

struct json_object *
mojo_parse_body(const char *body, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t off;

	if (len > INT32_MAX) {
		snprintf(err, errlen, "body too large to parse");
		return NULL;
	}
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (tok == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (obj != NULL && jerr == json_tokener_success) {
		/* Trailing garbage after a complete value is malformed too. */
		while (off < len && isspace((unsigned char)body[off]))
			off++;
		if (off < len) {
			snprintf(err, errlen, "malformed JSON: unexpected data at byte %zu", off);
			json_object_put(obj);
			obj = NULL;
		}
	} else if (jerr == json_tokener_continue) {
		snprintf(err, errlen, "truncated JSON (%zu bytes)", len);
	} else {
		snprintf(err, errlen, "malformed JSON at byte %zu: %s", off, json_tokener_error_desc(jerr));
	}
	json_tokener_free(tok);
	return obj;
}

/* {"ticket":{…}} → the inner object; anything else as it is. */
static struct json_object *
unwrap(struct json_object *obj, enum mojo_kind kind)
{
	struct json_object *inner;

	if (json_object_is_type(obj, json_type_object) && json_object_object_length(obj) == 1 &&
	    json_object_object_get_ex(obj, singulars[kind], &inner) && json_object_is_type(inner, json_type_object))
		return inner;
	return obj;
}

struct json_object *
mojo_show_object(struct json_object *root, enum mojo_kind kind, char *err, size_t errlen)
{
	struct json_object *obj = unwrap(root, kind);

	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "expected a JSON object, got %s", json_type_to_name(json_object_get_type(obj)));
		return NULL;
	}
	return obj;
}

int
mojo_list_length(struct json_object *root)
{
	if (!json_object_is_type(root, json_type_array))
		return -1;
	return (int)json_object_array_length(root);
}

struct json_object *
mojo_list_item(struct json_object *root, int i, enum mojo_kind kind)
{
	struct json_object *obj = unwrap(json_object_array_get_idx(root, (size_t)i), kind);

	return json_object_is_type(obj, json_type_object) ? obj : NULL;
}

int64_t
mojo_object_id(struct json_object *obj)
{
	struct json_object *v;
	int64_t id;

	if (!json_object_object_get_ex(obj, "id", &v) || !json_object_is_type(v, json_type_int))
		return -1;
	errno = 0;
	id = json_object_get_int64(v);
	if (errno != 0 || id <= 0 || id == INT64_MAX)
		return -1;
	return id;
}

int64_t
mojo_object_time(struct json_object *obj, const char *field)
{
	struct json_object *v;
	int64_t us;

	if (!json_object_object_get_ex(obj, field, &v) || !json_object_is_type(v, json_type_string) ||
	    mojo_parse_time(json_object_get_string(v), &us) != 0)
		return MOJO_NO_TIME;
	return us;
}

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF). */
static bool
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, k, n;
	uint32_t cp;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* The first string (or key) below obj that is not UTF-8, or NULL. */
static const char *
find_bad_utf8(struct json_object *obj)
{
	size_t i, n;
	const char *bad;

	switch (json_object_get_type(obj)) {
	case json_type_string:
		return utf8_valid((const unsigned char *)json_object_get_string(obj),
				  (size_t)json_object_get_string_len(obj))
			       ? NULL
			       : "a string";
	case json_type_array:
		n = json_object_array_length(obj);
		for (i = 0; i < n; i++)
			if ((bad = find_bad_utf8(json_object_array_get_idx(obj, i))) != NULL)
				return bad;
		return NULL;
	case json_type_object: {
		json_object_object_foreach(obj, key, val)
		{
			if (!utf8_valid((const unsigned char *)key, strlen(key)))
				return "a key";
			if ((bad = find_bad_utf8(val)) != NULL)
				return key;
		}
		return NULL;
	}
	default:
		return NULL;
	}
}

/* Replaces U+0000 in every string below obj with U+FFFD; jsonb cannot hold U+0000. */
static void
scrub_nul(struct json_object *obj)
{
	size_t i, n;

	switch (json_object_get_type(obj)) {
	case json_type_string: {
		const char *s = json_object_get_string(obj);
		size_t len = (size_t)json_object_get_string_len(obj), nul = 0, j, k;
		char *out;

		for (j = 0; j < len; j++)
			nul += s[j] == '\0';
		if (nul == 0)
			return;
		out = malloc(len + 2 * nul + 1);
		if (out == NULL)
			return;
		for (j = k = 0; j < len; j++) {
			if (s[j] == '\0') {
				memcpy(out + k, "\xef\xbf\xbd", 3);
				k += 3;
			} else {
				out[k++] = s[j];
			}
		}
		out[k] = '\0';
		json_object_set_string_len(obj, out, (int)k);
		free(out);
		return;
	}
	case json_type_array:
		n = json_object_array_length(obj);
		for (i = 0; i < n; i++)
			scrub_nul(json_object_array_get_idx(obj, i));
		return;
	case json_type_object: {
		json_object_object_foreach(obj, key, val)
		{
			(void)key;
			scrub_nul(val);
		}
		return;
	}
	default:
		return;
	}
}

struct json_object *
mojo_custom_fields(struct json_object *ticket)
{
	static const char prefix[] = "custom_field_";
	const size_t plen = sizeof(prefix) - 1;
	struct json_object *cf = json_object_new_object(), *values, *item, *name, *value;
	size_t i, n;

	if (cf == NULL)
		return NULL;
	/* v2 show: custom_field_values: [{"name":"custom_field_<name>","value":…}]. */
	if (!json_object_object_get_ex(ticket, "custom_field_values", &values) ||
	    !json_object_is_type(values, json_type_array)) {
		/* v1: top-level custom_field_<name> keys. */
		json_object_object_foreach(ticket, key, val)
		{
			if (strncmp(key, prefix, plen) == 0 && key[plen] != '\0' &&
			    strcmp(key, "custom_field_types") != 0)
				json_object_object_add(cf, key + plen, json_object_get(val));
		}
	} else {
		n = json_object_array_length(values);
		for (i = 0; i < n; i++) {
			const char *nm;
			item = json_object_array_get_idx(values, i);
			if (!json_object_is_type(item, json_type_object) ||
			    !json_object_object_get_ex(item, "name", &name) || !json_object_is_type(name, json_type_string))
				continue;
			nm = json_object_get_string(name);
			if (strncmp(nm, prefix, plen) == 0 && nm[plen] != '\0')
				nm += plen;
			if (!json_object_object_get_ex(item, "value", &value))
				value = NULL;
			json_object_object_add(cf, nm, json_object_get(value));
		}
	}
	return cf;
}

static const char *
type_name(enum mojo_col_type t)
{
	switch (t) {
	case MOJO_COL_BIGINT:
		return "an integer";
	case MOJO_COL_BOOL:
		return "true or false";
	case MOJO_COL_TIME:
		return "a time such as 2024-01-02T03:04:05Z";
	case MOJO_COL_DATE:
		return "a date such as 2024-01-02";
	default:
		return "text";
	}
}

/* True when v (not null) fits a column of type t. */
static bool
fits(struct json_object *v, enum mojo_col_type t)
{
	const char *s;
	int64_t us, days;

	switch (t) {
	case MOJO_COL_TEXT:
		return true;
	case MOJO_COL_BIGINT:
		if (!json_object_is_type(v, json_type_int))
			return false;
		errno = 0;
		us = json_object_get_int64(v);
		return errno == 0 && us != INT64_MAX && us != INT64_MIN;
	case MOJO_COL_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case MOJO_COL_TIME:
		return json_object_is_type(v, json_type_string) && mojo_parse_time(json_object_get_string(v), &us) == 0;
	case MOJO_COL_DATE:
		if (!json_object_is_type(v, json_type_string))
			return false;
		s = json_object_get_string(v);
		if (mojo_parse_time(s, &us) == 0)
			return true;
		return parse_date(&s, &days) == 0 && *s == '\0';
	}
	return false;
}

int
mojo_record_make(struct mojo_record *rec, enum mojo_kind kind, struct json_object *obj, int64_t parent_id,
		 char *why, size_t whylen)
{
	const struct mojo_column *cols = columns[kind].cols;
	struct json_object *v, *cf = NULL;
	const char *raw, *cft = "{}", *bad;
	size_t i, len;

	memset(rec, 0, sizeof(*rec));
	rec->kind = kind;
	rec->updated_on = MOJO_NO_TIME;
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(why, whylen, "not a JSON object");
		return -1;
	}
	rec->id = mojo_object_id(obj);
	if (rec->id < 0) {
		snprintf(why, whylen, "no id, or an id that is not a positive integer");
		return -1;
	}
	for (i = 0; i < columns[kind].n; i++) {
		if (!json_object_object_get_ex(obj, cols[i].name, &v) || v == NULL)
			continue;
		if (!fits(v, cols[i].type)) {
			const char *shown = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
			snprintf(why, whylen, "field %s is %.60s%s, expected %s", cols[i].name, shown,
				 strlen(shown) > 60 ? "…" : "", type_name(cols[i].type));
			return -1;
		}
	}
	if ((bad = find_bad_utf8(obj)) != NULL) {
		snprintf(why, whylen, "field %.60s holds text that is not UTF-8", bad);
		return -1;
	}
	rec->updated_on = mojo_object_time(obj, "updated_on");
	if (kind == MOJO_TICKETS) {
		rec->users[0] = json_object_object_get_ex(obj, "user_id", &v) && v ? json_object_get_int64(v) : 0;
		rec->users[1] = json_object_object_get_ex(obj, "assigned_to_id", &v) && v ? json_object_get_int64(v) : 0;
	} else if (kind == MOJO_COMMENTS) {
		rec->users[0] = json_object_object_get_ex(obj, "user_id", &v) && v ? json_object_get_int64(v) : 0;
	}
	scrub_nul(obj);
	raw = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(raw);
	if (kind == MOJO_TICKETS) {
		cf = mojo_custom_fields(obj);
		if (cf == NULL) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		cft = json_object_to_json_string_ext(cf, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	}
	len += strlen(cft) + 80;
	rec->json = malloc(len);
	if (rec->json == NULL) {
		json_object_put(cf);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	snprintf(rec->json, len, "{\"raw\":%s,\"custom_fields\":%s,\"parent_id\":%" PRId64 "}", raw, cft, parent_id);
	json_object_put(cf);
	return 0;
}

void
mojo_record_clear(struct mojo_record *rec)
{
	if (rec == NULL)
		return;
	free(rec->json);
	rec->json = NULL;
}
