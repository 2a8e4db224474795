/* util.c: strings, buffers, the JSON writer, the PRNG, dates, query strings */
#include "emu.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "mojo-emulator: out of memory\n");
		abort();
	}
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (p == NULL) {
		fprintf(stderr, "mojo-emulator: out of memory\n");
		abort();
	}
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL) {
		fprintf(stderr, "mojo-emulator: out of memory\n");
		abort();
	}
	return q;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s);
	char *p = xmalloc(n + 1);

	memcpy(p, s, n + 1);
	return p;
}

/* ---- rstr -------------------------------------------------------------- */

struct rstr *rstr_new(const char *s, size_t len)
{
	struct rstr *r = xmalloc(sizeof(*r) + len + 1);

	r->refs = 1;
	r->len = len;
	memcpy(r->s, s, len);
	r->s[len] = '\0';
	return r;
}

struct rstr *rstr_from(const char *s)
{
	return s ? rstr_new(s, strlen(s)) : NULL;
}

struct rstr *rstr_ref(struct rstr *r)
{
	if (r)
		r->refs++;
	return r;
}

void rstr_unref(struct rstr *r)
{
	if (r && --r->refs == 0)
		free(r);
}

/* ---- sbuf -------------------------------------------------------------- */

void sb_init(struct sbuf *sb)
{
	sb->p = NULL;
	sb->len = sb->cap = 0;
}

void sb_free(struct sbuf *sb)
{
	free(sb->p);
	sb_init(sb);
}

void sb_reserve(struct sbuf *sb, size_t more)
{
	if (sb->len + more + 1 <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < sb->len + more + 1)
		cap *= 2;
	sb->p = xrealloc(sb->p, cap);
	sb->cap = cap;
}

void sb_put(struct sbuf *sb, const char *s, size_t n)
{
	sb_reserve(sb, n);
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

void sb_puts(struct sbuf *sb, const char *s)
{
	sb_put(sb, s, strlen(s));
}

void sb_putc(struct sbuf *sb, char c)
{
	sb_reserve(sb, 1);
	sb->p[sb->len++] = c;
	sb->p[sb->len] = '\0';
}

void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	sb_reserve(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

/* ---- JSON writer ------------------------------------------------------- */

void jw_comma(struct sbuf *sb)
{
	sb_putc(sb, ',');
}

void jw_obj(struct sbuf *sb)
{
	sb_putc(sb, '{');
}

static void jw_close(struct sbuf *sb, char c)
{
	if (sb->len > 0 && sb->p[sb->len - 1] == ',')
		sb->p[sb->len - 1] = c;
	else
		sb_putc(sb, c);
	sb_putc(sb, ',');
}

void jw_obj_end(struct sbuf *sb)
{
	jw_close(sb, '}');
}

void jw_arr(struct sbuf *sb)
{
	sb_putc(sb, '[');
}

void jw_arr_end(struct sbuf *sb)
{
	jw_close(sb, ']');
}

void jw_str_raw(struct sbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;

	sb_reserve(sb, n + 2);
	sb_putc(sb, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sb_put(sb, s + start, i - start);
		start = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		sb_put(sb, esc, elen);
	}
	sb_put(sb, s + start, n - start);
	sb_putc(sb, '"');
}

void jw_key(struct sbuf *sb, const char *k)
{
	jw_str_raw(sb, k, strlen(k));
	sb_putc(sb, ':');
}

void jw_cstr(struct sbuf *sb, const char *s)
{
	if (s == NULL)
		sb_puts(sb, "null");
	else
		jw_str_raw(sb, s, strlen(s));
	sb_putc(sb, ',');
}

void jw_rstr(struct sbuf *sb, const struct rstr *r)
{
	if (r == NULL)
		sb_puts(sb, "null");
	else
		jw_str_raw(sb, r->s, r->len);
	sb_putc(sb, ',');
}

void jw_int(struct sbuf *sb, int64_t v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%lld,", (long long)v);

	sb_put(sb, b, (size_t)n);
}

void jw_idn(struct sbuf *sb, int64_t v)
{
	if (v == 0)
		jw_null(sb);
	else
		jw_int(sb, v);
}

void jw_intn(struct sbuf *sb, int64_t v)
{
	if (v < 0)
		jw_null(sb);
	else
		jw_int(sb, v);
}

void jw_bool(struct sbuf *sb, bool v)
{
	sb_puts(sb, v ? "true," : "false,");
}

void jw_booln(struct sbuf *sb, int v)
{
	if (v < 0)
		jw_null(sb);
	else
		jw_bool(sb, v != 0);
}

void jw_null(struct sbuf *sb)
{
	sb_puts(sb, "null,");
}

void jw_ts(struct sbuf *sb, int64_t ts, bool millis)
{
	char b[40];

	if (ts == TS_NULL) {
		jw_null(sb);
		return;
	}
	fmt_ts(b, sizeof(b), ts, millis);
	jw_cstr(sb, b);
}

void jw_date(struct sbuf *sb, int64_t ts)
{
	char b[40];

	if (ts == TS_NULL) {
		jw_null(sb);
		return;
	}
	fmt_ts(b, sizeof(b), ts, false);
	b[10] = '\0';
	jw_cstr(sb, b);
}

/* ---- PRNG -------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	if (n == 0)
		return 0;
	return rng_next(r) % n;
}

int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)rng_below(r, (uint64_t)(hi - lo) + 1);
}

double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

bool rng_chance(struct rng *r, double p)
{
	if (p <= 0)
		return false;
	return rng_unit(r) < p;
}

/* ---- dates ------------------------------------------------------------- */

int64_t host_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* days since 1970-01-01 <-> civil date (Howard Hinnant's algorithm) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = floordiv(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = floordiv(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void fmt_ts(char *buf, size_t n, int64_t ts, bool millis)
{
	int64_t days = floordiv(ts, 86400000);
	int64_t rem = ts - days * 86400000;
	int64_t y;
	int m, d;

	civil_from_days(days, &y, &m, &d);
	int hh = (int)(rem / 3600000), mm = (int)(rem / 60000 % 60),
	    ss = (int)(rem / 1000 % 60), ms = (int)(rem % 1000);
	if (millis)
		snprintf(buf, n, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 (long long)y, m, d, hh, mm, ss, ms);
	else
		snprintf(buf, n, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
			 (long long)y, m, d, hh, mm, ss);
}

void fmt_http_date(char *buf, size_t n, int64_t ts)
{
	static const char *const wd[] = { "Thu", "Fri", "Sat", "Sun",
					  "Mon", "Tue", "Wed" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr",
					   "May", "Jun", "Jul", "Aug",
					   "Sep", "Oct", "Nov", "Dec" };
	int64_t days = floordiv(ts, 86400000);
	int64_t rem = ts - days * 86400000;
	int64_t y;
	int m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(buf, n, "%s, %02d %s %04lld %02d:%02d:%02d GMT",
		 wd[((days % 7) + 7) % 7], d, mon[m - 1], (long long)y,
		 (int)(rem / 3600000), (int)(rem / 60000 % 60),
		 (int)(rem / 1000 % 60));
}

static int digits(const char *s, size_t n, size_t *pos, int count, int *out)
{
	int v = 0;

	for (int i = 0; i < count; i++) {
		if (*pos >= n || !isdigit((unsigned char)s[*pos]))
			return -1;
		v = v * 10 + (s[(*pos)++] - '0');
	}
	*out = v;
	return 0;
}

int parse_ts(const char *s, size_t n, int64_t *out)
{
	size_t p = 0;
	int y, mo, d, hh = 0, mi = 0, ss = 0, ms = 0;
	int64_t off = 0;

	if (digits(s, n, &p, 4, &y) || p >= n || s[p++] != '-' ||
	    digits(s, n, &p, 2, &mo) || p >= n || s[p++] != '-' ||
	    digits(s, n, &p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	if (p < n) {
		if (s[p] != 'T' && s[p] != 't' && s[p] != ' ')
			return -1;
		p++;
		if (digits(s, n, &p, 2, &hh) || p >= n || s[p++] != ':' ||
		    digits(s, n, &p, 2, &mi))
			return -1;
		if (p < n && s[p] == ':') {
			p++;
			if (digits(s, n, &p, 2, &ss))
				return -1;
		}
		if (p < n && s[p] == '.') {
			int scale = 100;
			p++;
			if (p >= n || !isdigit((unsigned char)s[p]))
				return -1;
			while (p < n && isdigit((unsigned char)s[p])) {
				ms += (s[p] - '0') * scale;
				scale /= 10;
				p++;
			}
		}
		if (hh > 23 || mi > 59 || ss > 60)
			return -1;
		if (p < n && (s[p] == 'Z' || s[p] == 'z')) {
			p++;
		} else if (p < n && (s[p] == '+' || s[p] == '-')) {
			int sign = s[p] == '-' ? -1 : 1, oh, om = 0;
			p++;
			if (digits(s, n, &p, 2, &oh))
				return -1;
			if (p < n && s[p] == ':')
				p++;
			if (p < n && digits(s, n, &p, 2, &om))
				return -1;
			off = sign * ((int64_t)oh * 3600000 + (int64_t)om * 60000);
		}
		if (p != n)
			return -1;
	}
	*out = days_from_civil(y, mo, d) * 86400000 + (int64_t)hh * 3600000 +
	       (int64_t)mi * 60000 + (int64_t)ss * 1000 + ms - off;
	return 0;
}

/* ---- query strings ----------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *url_decode(const char *s, size_t n, bool plus)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else if (plus && s[i] == '+') {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

void qp_parse(struct qparams *qp, const char *q)
{
	qp->v = NULL;
	qp->n = 0;
	if (q == NULL)
		return;
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);

		if (len > 0) {
			qp->v = xrealloc(qp->v, (qp->n + 1) * sizeof(*qp->v));
			if (eq) {
				qp->v[qp->n].key = url_decode(q, (size_t)(eq - q), true);
				qp->v[qp->n].val = url_decode(eq + 1, len - (size_t)(eq - q) - 1, true);
			} else {
				qp->v[qp->n].key = url_decode(q, len, true);
				qp->v[qp->n].val = xstrdup("");
			}
			qp->n++;
		}
		q += len;
		if (*q == '&')
			q++;
	}
}

void qp_free(struct qparams *qp)
{
	for (size_t i = 0; i < qp->n; i++) {
		free(qp->v[i].key);
		free(qp->v[i].val);
	}
	free(qp->v);
	qp->v = NULL;
	qp->n = 0;
}

const char *qp_get(const struct qparams *qp, const char *key)
{
	for (size_t i = 0; i < qp->n; i++)
		if (strcmp(qp->v[i].key, key) == 0)
			return qp->v[i].val;
	return NULL;
}

/* ---- matching ---------------------------------------------------------- */

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

bool str_iequal(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

bool str_icontains(const char *hay, size_t hn, const char *needle, size_t nn)
{
	if (nn == 0)
		return true;
	if (nn > hn)
		return false;
	int first = lower((unsigned char)needle[0]);
	for (size_t i = 0; i + nn <= hn; i++) {
		if (lower((unsigned char)hay[i]) != first)
			continue;
		size_t j = 1;
		while (j < nn && lower((unsigned char)hay[i + j]) ==
					 lower((unsigned char)needle[j]))
			j++;
		if (j == nn)
			return true;
	}
	return false;
}

/* '*' any run, '?' one byte; case-insensitive; iterative with backtrack */
bool glob_imatch(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

	while (si < sn) {
		if (pi < pn && (p[pi] == '?' ||
				lower((unsigned char)p[pi]) == lower((unsigned char)s[si]))) {
			pi++;
			si++;
		} else if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

int parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

bool idset_has(const struct idset *s, int64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return true;
	return false;
}

void idset_free(struct idset *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
