#include "ac-config.h"

#include "config.h"

#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEC  1000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)

#define KEY(sec, nm, ty, df, lo, hi, fl, field, hp) \
	{ sec, nm, ty, df, lo, hi, fl, offsetof(struct config, field), hp }

/* Every key of the file, once: name, type, default, bounds, reload, help. */
static const struct config_key keys[] = {
	KEY("helpdesk", "url", CONFIG_URL, NULL, 0, 0, CONFIG_REQUIRED | CONFIG_NO_RELOAD, url,
	    "the helpdesk, e.g. https://yourcompany.mojohelpdesk.com; the API lives under <url>/api/v2/ (v1: <url>/api/)"),
	KEY("helpdesk", "api", CONFIG_API, "v2", 0, 0, CONFIG_NO_RELOAD, api,
	    "API dialect: v2 (current) or v1 (the original)"),
	KEY("helpdesk", "access_key", CONFIG_SECRET, NULL, 0, 0, 0, access_key,
	    "the agent's API access key (or access_key_file; $MOJOSYNC_ACCESS_KEY and "
	    "$CREDENTIALS_DIRECTORY/access_key override both)"),
	KEY("helpdesk", "access_key_file", CONFIG_FILE, NULL, 0, 0, 0, access_key,
	    "a file whose content is the access key"),
	KEY("helpdesk", "allow_insecure_http", CONFIG_BOOL, "no", 0, 1, CONFIG_NO_RELOAD, allow_insecure_http,
	    "yes lets url be plain http:// to a host other than loopback (the key then travels in clear text)"),
	KEY("database", "conninfo", CONFIG_STRING, "", 0, 0, CONFIG_NO_RELOAD, conninfo,
	    "libpq connection string or URI; empty: libpq defaults (PG* variables)"),
	KEY("database", "schema", CONFIG_SCHEMA, "mojo", 0, 0, CONFIG_NO_RELOAD, schema,
	    "schema holding every table; one schema per helpdesk"),
	KEY("sync", "interval", CONFIG_DURATION, "60s", 1 * SEC, 7 * DAY, 0, interval_ms,
	    "time between incremental cycles"),
	KEY("sync", "overlap", CONFIG_DURATION, "5m", 0, 7 * DAY, 0, overlap_ms,
	    "how far behind its watermark each search starts again (search index lag)"),
	KEY("sync", "reconcile_interval", CONFIG_DURATION, "1d", 1 * MIN, 365 * DAY, 0, reconcile_interval_ms,
	    "time between full listings that detect deletions and sweep users"),
	KEY("sync", "concurrency", CONFIG_INT, "4", 1, 64, 0, concurrency,
	    "HTTP requests in flight at once"),
	KEY("sync", "max_rate", CONFIG_INT, "0", 0, 1000000, 0, max_rate,
	    "requests per minute at most; 0 = no limit of ours (429 is always honoured)"),
	KEY("sync", "timeout", CONFIG_DURATION, "30s", 1 * SEC, 1 * HOUR, 0, timeout_ms,
	    "time limit of one HTTP request"),
	KEY("metrics", "listen", CONFIG_LISTEN, "", 0, 0, CONFIG_NO_RELOAD, metrics_listen,
	    "host:port serving Prometheus text at /metrics; empty = off"),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const struct config_key *
config_keys(size_t *n)
{
	*n = NKEYS;
	return keys;
}

/* Parse state: the reader counts lines so that every message can name one. */
struct parse {
	const char *path;
	FILE *fp;
	struct config *cfg;
	int line;		/* line number of the text the parser holds */
	int seen[NKEYS];	/* line where each key was set; 0 = not set */
	char section[64];	/* section of the current line, per our reader */
	bool section_ok;
	int errors;
	bool max_line_hit;
};

static void
parse_error(struct parse *ps, int line, const char *key_section, const char *key, const char *fmt, ...)
	MOJO_PRINTF(5, 6);

static void
parse_error(struct parse *ps, int line, const char *key_section, const char *key, const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line > 0 && key != NULL)
		log_error("%s:%d: [%s] %s: %s", ps->path, line, key_section, key, what);
	else if (line > 0)
		log_error("%s:%d: %s", ps->path, line, what);
	else if (key != NULL)
		log_error("%s: [%s] %s: %s", ps->path, key_section, key, what);
	else
		log_error("%s: %s", ps->path, what);
	ps->errors++;
}

static bool
section_known(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, name) == 0)
			return true;
	return false;
}

static const char *
section_list(void)
{
	return "[helpdesk], [database], [sync], [metrics]";
}

/*
 * ini_reader: fgets that counts lines and looks at each one before inih
 * does, for what inih would accept silently: over-long lines, unknown
 * sections, continuation lines.
 */
static char *
reader(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	char *p, *end;
	size_t len;

	if (fgets(str, num, ps->fp) == NULL)
		return NULL;
	ps->line++;
	len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(ps->fp)) {
		int c;
		parse_error(ps, ps->line, NULL, NULL, "line is longer than %d characters; shorten it", num - 2);
		while ((c = fgetc(ps->fp)) != EOF && c != '\n')
			;
		str[0] = '\0';	/* hand inih an empty line instead */
		return str;
	}
	p = str;
	if (ps->line == 1 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
	    (unsigned char)p[2] == 0xBF)
		p += 3;
	if ((*p == ' ' || *p == '\t') && p[strspn(p, " \t\r\n")] != '\0' &&
	    p[strspn(p, " \t")] != ';' && p[strspn(p, " \t")] != '#' && ps->section_ok) {
		parse_error(ps, ps->line, NULL, NULL,
			    "indented line: continuation lines are not supported; write the key and its value on one line");
		str[0] = '\0';
		return str;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '[') {
		end = strchr(p, ']');
		if (end == NULL) {
			parse_error(ps, ps->line, NULL, NULL, "section header without ']'; write it as [name]");
			str[0] = '\0';
			ps->section_ok = false;
			return str;
		}
		len = (size_t)(end - p - 1);
		if (len >= sizeof(ps->section))
			len = sizeof(ps->section) - 1;
		memcpy(ps->section, p + 1, len);
		ps->section[len] = '\0';
		ps->section_ok = section_known(ps->section);
		if (!ps->section_ok)
			parse_error(ps, ps->line, NULL, NULL, "unknown section [%s]; the sections are %s",
				    ps->section, section_list());
	}
	return str;
}

static bool
contains_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int
config_parse_duration(const char *s, int64_t *ms, const char **why)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = { { "", SEC }, { "ms", 1 }, { "s", SEC }, { "m", MIN }, { "h", HOUR }, { "d", DAY } };
	unsigned long long n;
	char *end;
	size_t i;

	if (s == NULL || *s == '\0') {
		*why = "is empty";
		return -1;
	}
	if (!isdigit((unsigned char)*s)) {
		*why = "is not a number";
		return -1;
	}
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno == ERANGE) {
		*why = "is too large";
		return -1;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			if (n > (unsigned long long)(INT64_MAX / units[i].ms)) {
				*why = "is too large";
				return -1;
			}
			*ms = (int64_t)n * units[i].ms;
			return 0;
		}
	}
	*why = "has an unknown unit";
	return -1;
}

void
config_format_duration(int64_t ms, char *buf, size_t len)
{
	if (ms != 0 && ms % DAY == 0)
		snprintf(buf, len, "%lldd", (long long)(ms / DAY));
	else if (ms != 0 && ms % HOUR == 0)
		snprintf(buf, len, "%lldh", (long long)(ms / HOUR));
	else if (ms != 0 && ms % MIN == 0)
		snprintf(buf, len, "%lldm", (long long)(ms / MIN));
	else if (ms % SEC == 0)
		snprintf(buf, len, "%llds", (long long)(ms / SEC));
	else
		snprintf(buf, len, "%lldms", (long long)ms);
}

/* Splits scheme://host[:port][/path]; returns 0 when it is an http(s) URL. */
static int
url_host(const char *url, char *host, size_t hostlen)
{
	const char *p, *h, *e;
	size_t n;

	if (strncasecmp(url, "https://", 8) == 0)
		p = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return -1;
	h = p;
	if (*h == '[') {
		e = strchr(h, ']');
		if (e == NULL)
			return -1;
		h++;
		n = (size_t)(e - h);
	} else {
		n = strcspn(h, ":/?#");
	}
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	return 0;
}

bool
config_url_is_loopback(const char *url)
{
	char host[256];

	if (url_host(url, host, sizeof(host)) != 0)
		return false;
	return strcasecmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

static int
set_url(struct parse *ps, const struct config_key *k, const char *v, char **dst)
{
	char host[256];
	const char *rest;
	size_t len;

	if (url_host(v, host, sizeof(host)) != 0) {
		parse_error(ps, ps->line, k->section, k->name,
			    "\"%s\" is not an http(s) URL; write it as https://yourcompany.mojohelpdesk.com", v);
		return -1;
	}
	rest = strstr(v, "://") + 3;
	if (strchr(rest, '@') != NULL) {
		parse_error(ps, ps->line, k->section, k->name,
			    "the URL must not carry credentials (user@host); put the key in access_key or access_key_file");
		return -1;
	}
	if (strpbrk(rest, "?#") != NULL || strpbrk(v, " \t") != NULL || contains_control(v)) {
		parse_error(ps, ps->line, k->section, k->name,
			    "\"%s\" must be a plain base URL without query, fragment or spaces, e.g. https://yourcompany.mojohelpdesk.com",
			    v);
		return -1;
	}
	free(*dst);
	*dst = strdup(v);
	if (*dst == NULL)
		return -1;
	len = strlen(*dst);
	while (len > 0 && (*dst)[len - 1] == '/')
		(*dst)[--len] = '\0';
	return 0;
}

static int
set_listen(struct parse *ps, const struct config_key *k, const char *v, char **dst)
{
	const char *colon;
	char *end;
	long port;

	if (*v != '\0') {
		colon = strrchr(v, ':');
		if (colon == NULL || colon == v || (v[0] == '[' && colon[-1] != ']')) {
			parse_error(ps, ps->line, k->section, k->name,
				    "\"%s\" is not host:port; write it as 127.0.0.1:9187 (or leave it empty for no metrics)",
				    v);
			return -1;
		}
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (*end != '\0' || colon[1] == '\0' || errno != 0 || port < 1 || port > 65535) {
			parse_error(ps, ps->line, k->section, k->name,
				    "port \"%s\" is not a number from 1 to 65535", colon + 1);
			return -1;
		}
	}
	free(*dst);
	*dst = strdup(v);
	return *dst == NULL ? -1 : 0;
}

/*
 * A key must be one word of at least KEY_MIN_LEN characters: redaction
 * masks every occurrence of the key in every output, which is only
 * meaningful for a key that cannot occur by chance (Mojo's are 40 hex digits).
 */
#define KEY_MIN_LEN 8

static const char *
key_problem(const char *key)
{
	if (*key == '\0')
		return "is empty";
	if (contains_control(key) || strchr(key, ' ') != NULL)
		return "is not one word";
	if (strlen(key) < KEY_MIN_LEN)
		return "is too short to be an access key (Mojo's keys are 40 characters)";
	return NULL;
}

/* Reads a key file: its content up to trailing whitespace. Logs nothing. */
static char *
read_key_file(const char *path, const char **why, int *err)
{
	char buf[4097];
	ssize_t n;
	size_t len;
	char *key;
	int fd;

	*err = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		*why = NULL;
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	*err = errno;
	close(fd);
	if (n < 0) {
		*why = NULL;
		return NULL;
	}
	if ((size_t)n == sizeof(buf) - 1) {
		explicit_bzero(buf, sizeof(buf));
		*why = "is longer than 4096 bytes; it should hold the access key only";
		return NULL;
	}
	buf[n] = '\0';
	len = (size_t)n;
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	if (len == 0) {
		*why = "is empty; it should hold the access key";
		return NULL;
	}
	if (key_problem(buf) != NULL) {
		*why = strlen(buf) < KEY_MIN_LEN && !contains_control(buf) && strchr(buf, ' ') == NULL
			       ? "holds a value too short to be an access key (Mojo's keys are 40 characters)"
			       : "holds more than one word; it should hold the access key only";
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	key = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return key;
}

static void
set_secret(char **dst, char *key)
{
	if (*dst != NULL) {
		explicit_bzero(*dst, strlen(*dst));
		free(*dst);
	}
	*dst = key;
}

/* Applies value v to key k. */
static int
set_value(struct parse *ps, const struct config_key *k, const char *v)
{
	void *field = (char *)ps->cfg + k->offset;
	char **sp = field;
	int64_t *ip = field;
	const char *why;
	char lo[32], hi[32];
	char *end;
	long long n;

	switch (k->type) {
	case CONFIG_STRING:
		if (contains_control(v)) {
			parse_error(ps, ps->line, k->section, k->name, "contains control characters");
			return -1;
		}
		free(*sp);
		*sp = strdup(v);
		return *sp == NULL ? -1 : 0;
	case CONFIG_SECRET:
		if ((why = key_problem(v)) != NULL) {
			log_add_secret(v);
			parse_error(ps, ps->line, k->section, k->name,
				    "the value %s; give the access key from the agent's profile page in the helpdesk", why);
			return -1;
		}
		set_secret(sp, strdup(v));
		free(ps->cfg->access_key_origin);
		ps->cfg->access_key_origin = strdup("[helpdesk] access_key");
		log_add_secret(v);
		return 0;
	case CONFIG_FILE: {
		char *key;
		int err;
		char origin[PATH_MAX + 64];

		if (*v == '\0') {
			parse_error(ps, ps->line, k->section, k->name, "is empty; give the path of a file holding the key");
			return -1;
		}
		key = read_key_file(v, &why, &err);
		if (key == NULL) {
			if (why != NULL)
				parse_error(ps, ps->line, k->section, k->name, "%s %s", v, why);
			else
				parse_error(ps, ps->line, k->section, k->name,
					    "cannot read %s: %s; make it readable by the user mojosync runs as",
					    v, strerror(err));
			return -1;
		}
		log_add_secret(key);
		set_secret(sp, key);
		snprintf(origin, sizeof(origin), "access_key_file %s", v);
		free(ps->cfg->access_key_origin);
		ps->cfg->access_key_origin = strdup(origin);
		return 0;
	}
	case CONFIG_URL:
		return set_url(ps, k, v, sp);
	case CONFIG_API:
		if (strcmp(v, "v2") == 0)
			ps->cfg->api = CONFIG_API_V2;
		else if (strcmp(v, "v1") == 0)
			ps->cfg->api = CONFIG_API_V1;
		else {
			parse_error(ps, ps->line, k->section, k->name, "\"%s\" is not an API dialect; use v2 or v1", v);
			return -1;
		}
		return 0;
	case CONFIG_SCHEMA:
		if (*v == '\0' || strlen(v) > 63 || contains_control(v)) {
			parse_error(ps, ps->line, k->section, k->name,
				    "\"%s\" is not a schema name; use 1 to 63 bytes without control characters, e.g. mojo",
				    v);
			return -1;
		}
		free(*sp);
		*sp = strdup(v);
		return *sp == NULL ? -1 : 0;
	case CONFIG_DURATION:
		config_format_duration(k->min, lo, sizeof(lo));
		config_format_duration(k->max, hi, sizeof(hi));
		if (config_parse_duration(v, ip, &why) != 0) {
			parse_error(ps, ps->line, k->section, k->name,
				    "\"%s\" %s; use a number with a unit s, m, h or d (a bare number is seconds), from %s to %s",
				    v, why, lo, hi);
			return -1;
		}
		if (*ip < k->min || *ip > k->max) {
			parse_error(ps, ps->line, k->section, k->name, "\"%s\" is out of range; use from %s to %s", v,
				    lo, hi);
			return -1;
		}
		return 0;
	case CONFIG_INT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (*v == '\0' || *end != '\0' || errno != 0) {
			parse_error(ps, ps->line, k->section, k->name, "\"%s\" is not a whole number; use one from %lld to %lld",
				    v, (long long)k->min, (long long)k->max);
			return -1;
		}
		if (n < k->min || n > k->max) {
			parse_error(ps, ps->line, k->section, k->name, "%lld is out of range; use one from %lld to %lld", n,
				    (long long)k->min, (long long)k->max);
			return -1;
		}
		*ip = n;
		return 0;
	case CONFIG_LISTEN:
		return set_listen(ps, k, v, sp);
	case CONFIG_BOOL:
		if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 ||
		    strcmp(v, "1") == 0)
			*ip = 1;
		else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0 ||
			 strcmp(v, "0") == 0)
			*ip = 0;
		else {
			parse_error(ps, ps->line, k->section, k->name, "\"%s\" is not yes or no", v);
			return -1;
		}
		return 0;
	}
	return -1;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *ps = user;
	size_t i;

	if (!ps->section_ok)
		return 1;	/* the reader reported the section already */
	if (*section == '\0') {
		parse_error(ps, ps->line, NULL, NULL, "key \"%s\" is outside any section; put it under one of %s", name,
			    section_list());
		return 1;
	}
	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			break;
	if (i == NKEYS) {
		char known[512] = "";
		size_t j;
		for (j = 0; j < NKEYS; j++) {
			if (strcmp(keys[j].section, section) != 0)
				continue;
			if (*known)
				strncat(known, ", ", sizeof(known) - strlen(known) - 1);
			strncat(known, keys[j].name, sizeof(known) - strlen(known) - 1);
		}
		parse_error(ps, ps->line, section, name, "unknown key; the keys of [%s] are %s", section, known);
		return 1;
	}
	if (ps->seen[i]) {
		parse_error(ps, ps->line, section, name, "given twice (first at line %d); keep one", ps->seen[i]);
		return 1;
	}
	ps->seen[i] = ps->line;
	set_value(ps, &keys[i], value);
	return 1;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->url);
	set_secret(&cfg->access_key, NULL);
	free(cfg->access_key_origin);
	free(cfg->conninfo);
	free(cfg->schema);
	free(cfg->metrics_listen);
	free(cfg);
}

static int
find_key(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The environment overrides the file: $MOJOSYNC_ACCESS_KEY, then the systemd credential. */
static void
apply_key_overrides(struct parse *ps)
{
	const char *env = getenv("MOJOSYNC_ACCESS_KEY");
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	const char *why;
	char path[PATH_MAX];
	char *key;
	int err;

	if (env != NULL && *env != '\0') {
		if ((why = key_problem(env)) != NULL) {
			log_add_secret(env);
			parse_error(ps, 0, NULL, NULL, "$MOJOSYNC_ACCESS_KEY %s; it should hold the access key only", why);
			return;
		}
		log_add_secret(env);
		set_secret(&ps->cfg->access_key, strdup(env));
		free(ps->cfg->access_key_origin);
		ps->cfg->access_key_origin = strdup("$MOJOSYNC_ACCESS_KEY");
		return;
	}
	if (creds == NULL || *creds == '\0')
		return;
	snprintf(path, sizeof(path), "%s/access_key", creds);
	key = read_key_file(path, &why, &err);
	if (key == NULL) {
		if (why == NULL && err == ENOENT)
			return;	/* systemd passed other credentials, not this one */
		if (why != NULL)
			parse_error(ps, 0, NULL, NULL, "credential %s %s", path, why);
		else
			parse_error(ps, 0, NULL, NULL, "cannot read credential %s: %s", path, strerror(err));
		return;
	}
	log_add_secret(key);
	set_secret(&ps->cfg->access_key, key);
	free(ps->cfg->access_key_origin);
	ps->cfg->access_key_origin = strdup("$CREDENTIALS_DIRECTORY/access_key");
}

struct config *
config_load(const char *path)
{
	struct parse ps;
	struct stat st;
	size_t i;
	int rc, ki, kf;

	memset(&ps, 0, sizeof(ps));
	ps.path = path;
	ps.section_ok = true;	/* keys before any section are reported by the handler */
	ps.cfg = calloc(1, sizeof(*ps.cfg));
	if (ps.cfg == NULL) {
		log_error("out of memory");
		return NULL;
	}
	ps.cfg->path = strdup(path);
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].def == NULL)
			continue;
		if (set_value(&ps, &keys[i], keys[i].def) != 0) {
			log_error("built-in default of [%s] %s is invalid", keys[i].section, keys[i].name);
			goto fail;
		}
	}
	ps.fp = fopen(path, "re");
	if (ps.fp == NULL) {
		log_error("cannot read configuration file %s: %s; give another with -c FILE or $MOJOSYNC_CONFIG", path,
			  strerror(errno));
		goto fail;
	}
	if (fstat(fileno(ps.fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		log_error("configuration file %s is a directory; give a file with -c FILE", path);
		goto fail;
	}
	rc = ini_parse_stream(reader, &ps, handler, &ps);
	if (ferror(ps.fp)) {
		log_error("cannot read configuration file %s: %s", path, strerror(errno));
		goto fail;
	}
	if (rc > 0 && ps.errors == 0)
		parse_error(&ps, rc, NULL, NULL,
			    "not an INI line; write key = value, a [section] header, or a comment starting with ; or #");
	else if (rc < 0 && ps.errors == 0)
		parse_error(&ps, 0, NULL, NULL, "cannot parse the file (out of memory?)");

	for (i = 0; i < NKEYS; i++)
		if ((keys[i].flags & CONFIG_REQUIRED) && !ps.seen[i])
			parse_error(&ps, 0, keys[i].section, keys[i].name, "is required (%s)", keys[i].help);
	ki = find_key("helpdesk", "access_key");
	kf = find_key("helpdesk", "access_key_file");
	if (ps.seen[ki] && ps.seen[kf])
		parse_error(&ps, ps.seen[kf], "helpdesk", "access_key_file",
			    "both access_key (line %d) and access_key_file are set; keep one", ps.seen[ki]);
	apply_key_overrides(&ps);
	if (ps.cfg->access_key == NULL && ps.errors == 0)
		parse_error(&ps, 0, "helpdesk", "access_key",
			    "no access key: set access_key or access_key_file in [helpdesk], or $MOJOSYNC_ACCESS_KEY");
	if (ps.cfg->url != NULL && strncasecmp(ps.cfg->url, "http://", 7) == 0 && !config_url_is_loopback(ps.cfg->url)) {
		if (!ps.cfg->allow_insecure_http)
			parse_error(&ps, ps.seen[find_key("helpdesk", "url")], "helpdesk", "url",
				    "plain http:// would send the access key in clear text; use https://, or set "
				    "allow_insecure_http = yes to accept that");
		else if (ps.errors == 0)
			log_warn("%s: [helpdesk] url is plain http:// and allow_insecure_http = yes: the access key travels "
				 "in clear text",
				 path);
	}
	if (ps.errors > 0)
		goto fail;
	if (ps.seen[ki] && fstat(fileno(ps.fp), &st) == 0 && (st.st_mode & S_IROTH))
		log_warn("%s holds the access key and is readable by every user; chmod o-r %s, or use access_key_file",
			 path, path);
	fclose(ps.fp);
	return ps.cfg;
fail:
	if (ps.fp != NULL)
		fclose(ps.fp);
	config_free(ps.cfg);
	return NULL;
}

int
config_reload_conflicts(const struct config *old, struct config *new_cfg)
{
	size_t i;
	int n = 0;

	for (i = 0; i < NKEYS; i++) {
		const char *a = (const char *)old + keys[i].offset;
		char *b = (char *)new_cfg + keys[i].offset;
		bool differ;

		if (!(keys[i].flags & CONFIG_NO_RELOAD))
			continue;
		switch (keys[i].type) {
		case CONFIG_API:
			differ = *(const int *)(const void *)a != *(const int *)(const void *)b;
			break;
		case CONFIG_DURATION:
		case CONFIG_INT:
		case CONFIG_BOOL:
			differ = *(const int64_t *)(const void *)a != *(const int64_t *)(const void *)b;
			break;
		default: {
			const char *sa = *(char *const *)(const void *)a;
			const char *sb = *(char *const *)(const void *)b;
			differ = (sa == NULL) != (sb == NULL) || (sa != NULL && strcmp(sa, sb) != 0);
			break;
		}
		}
		if (!differ)
			continue;
		log_error("%s: [%s] %s cannot change on reload; keeping the running value; restart mojosync to apply it",
			  new_cfg->path, keys[i].section, keys[i].name);
		n++;
		/* The running value stays. */
		if (keys[i].type == CONFIG_API) {
			*(int *)(void *)b = *(const int *)(const void *)a;
		} else if (keys[i].type == CONFIG_DURATION || keys[i].type == CONFIG_INT || keys[i].type == CONFIG_BOOL) {
			*(int64_t *)(void *)b = *(const int64_t *)(const void *)a;
		} else {
			const char *sa = *(char *const *)(const void *)a;
			char *keep = sa != NULL ? strdup(sa) : NULL;
			if (sa == NULL || keep != NULL) {
				free(*(char **)(void *)b);
				*(char **)(void *)b = keep;
			}
		}
	}
	return n;
}
