/* Unit tests of config: good files, each error message, durations, overrides. */
#include "ac-config.h"

#include "config.h"
#include "log.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/mojosync-test-config-XXXXXX";
static char errors[8192];

/* Writes text to dir/name; returns the path (static). */
static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	static char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
	return path;
}

/* Loads path with stderr captured into errors[]. */
static struct config *
load(const char *path)
{
	struct tap_capture c;
	struct config *cfg;

	tap_capture_begin(&c);
	cfg = config_load(path);
	tap_capture_end(&c, errors, sizeof(errors));
	return cfg;
}

/* A file that must be refused with a message containing want. */
static void
refused(const char *text, const char *want, const char *what)
{
	const char *path = write_file("bad.conf", text, 0600);
	struct config *cfg = load(path);

	tap_ok(cfg == NULL, "refused: %s", what);
	if (!tap_ok(strstr(errors, want) != NULL, "message for %s names it: %s", what, want))
		printf("#   got: %s", errors);
	config_free(cfg);
}

#define BASE "[helpdesk]\nurl = https://example.mojohelpdesk.com\naccess_key = k3y-0123456789\n"

int
main(void)
{
	struct config *cfg;
	const char *path, *why;
	char buf[64];
	int64_t ms;

	if (mkdtemp(dir) == NULL)
		return 1;
	log_init(0);
	unsetenv("MOJOSYNC_ACCESS_KEY");
	unsetenv("CREDENTIALS_DIRECTORY");

	/* Durations. */
	tap_ok(config_parse_duration("90", &ms, &why) == 0 && ms == 90000, "a bare number is seconds");
	tap_ok(config_parse_duration("90s", &ms, &why) == 0 && ms == 90000, "s");
	tap_ok(config_parse_duration("5m", &ms, &why) == 0 && ms == 300000, "m");
	tap_ok(config_parse_duration("2h", &ms, &why) == 0 && ms == 7200000, "h");
	tap_ok(config_parse_duration("1d", &ms, &why) == 0 && ms == 86400000, "d");
	tap_ok(config_parse_duration("250ms", &ms, &why) == 0 && ms == 250, "ms");
	tap_ok(config_parse_duration("10x", &ms, &why) == -1 && strcmp(why, "has an unknown unit") == 0, "bad unit");
	tap_ok(config_parse_duration("-5s", &ms, &why) == -1, "negative duration refused");
	tap_ok(config_parse_duration("", &ms, &why) == -1, "empty duration refused");
	tap_ok(config_parse_duration("99999999999999999999d", &ms, &why) == -1, "overflow refused");
	tap_ok(config_parse_duration("5 m", &ms, &why) == -1, "space inside refused");
	config_format_duration(300000, buf, sizeof(buf));
	tap_is_str(buf, "5m", "format 5m");
	config_format_duration(1500, buf, sizeof(buf));
	tap_is_str(buf, "1500ms", "format 1500ms");

	/* A minimal file: every default. */
	cfg = load(write_file("min.conf", BASE, 0600));
	tap_ok(cfg != NULL, "minimal file loads");
	if (cfg != NULL) {
		tap_is_str(cfg->url, "https://example.mojohelpdesk.com", "url");
		tap_is_int(cfg->api, CONFIG_API_V2, "api defaults to v2");
		tap_is_str(cfg->access_key, "k3y-0123456789", "access_key");
		tap_is_str(cfg->conninfo, "", "conninfo defaults to empty");
		tap_is_str(cfg->schema, "mojo", "schema defaults to mojo");
		tap_is_int(cfg->interval_ms, 60000, "interval defaults to 60s");
		tap_is_int(cfg->overlap_ms, 300000, "overlap defaults to 5m");
		tap_is_int(cfg->reconcile_interval_ms, 86400000, "reconcile_interval defaults to 1d");
		tap_is_int(cfg->concurrency, 4, "concurrency defaults to 4");
		tap_is_int(cfg->max_rate, 0, "max_rate defaults to 0");
		tap_is_int(cfg->timeout_ms, 30000, "timeout defaults to 30s");
		tap_is_str(cfg->metrics_listen, "", "metrics off by default");
	}
	config_free(cfg);

	/* The full example of interface.md, comments and all. */
	cfg = load(write_file("full.conf",
			      "; a comment\n# another\n"
			      "[helpdesk]\n"
			      "url = https://app.mojohelpdesk.com/   ; required\n"
			      "api = v1                             ; v2 (default) or v1\n"
			      "access_key = 0123abcd                ; or access_key_file\n"
			      "\n[database]\n"
			      "conninfo = postgresql:///helpdesk    ; libpq\n"
			      "schema = help \"desk\"\n"
			      "[sync]\n"
			      "interval = 2m\noverlap = 10m\nreconcile_interval = 12h\nconcurrency = 8\n"
			      "max_rate = 600\ntimeout = 45\n"
			      "[metrics]\nlisten = 127.0.0.1:9187\n",
			      0600));
	tap_ok(cfg != NULL, "full file loads");
	if (cfg != NULL) {
		tap_is_str(cfg->url, "https://app.mojohelpdesk.com", "trailing slash and inline comment dropped");
		tap_is_int(cfg->api, CONFIG_API_V1, "api v1");
		tap_is_str(cfg->access_key, "0123abcd", "access key without its comment");
		tap_is_str(cfg->access_key_origin, "[helpdesk] access_key", "key origin named");
		tap_is_str(cfg->conninfo, "postgresql:///helpdesk", "conninfo");
		tap_is_str(cfg->schema, "help \"desk\"", "schema with space and quote kept literally");
		tap_is_int(cfg->interval_ms, 120000, "interval 2m");
		tap_is_int(cfg->overlap_ms, 600000, "overlap 10m");
		tap_is_int(cfg->reconcile_interval_ms, 43200000, "reconcile 12h");
		tap_is_int(cfg->concurrency, 8, "concurrency 8");
		tap_is_int(cfg->max_rate, 600, "max_rate 600");
		tap_is_int(cfg->timeout_ms, 45000, "bare timeout is seconds");
		tap_is_str(cfg->metrics_listen, "127.0.0.1:9187", "listen");
	}
	config_free(cfg);

	/* Errors: each its own clear message, naming file, line and key. */
	refused(BASE "[sync]\ninterval = 10x\n", "bad.conf:5: [sync] interval: \"10x\" has an unknown unit",
		"bad unit");
	refused(BASE "[sync]\ninterval = soon\n", "bad.conf:5: [sync] interval: \"soon\" is not a number", "bad duration");
	refused(BASE "[sync]\ninterval = 0\n", "[sync] interval: \"0\" is out of range; use from 1s to 7d",
		"duration out of range");
	refused(BASE "[sync]\nconcurrency = many\n", "bad.conf:5: [sync] concurrency: \"many\" is not a whole number",
		"bad number");
	refused(BASE "[sync]\nconcurrency = 1000\n", "[sync] concurrency: 1000 is out of range; use one from 1 to 64",
		"number out of range");
	refused(BASE "[sync]\nconcurrency = 4x\n", "[sync] concurrency: \"4x\" is not a whole number", "trailing junk");
	refused(BASE "[sync]\nspeed = 4\n", "bad.conf:5: [sync] speed: unknown key; the keys of [sync] are interval",
		"unknown key");
	refused(BASE "[extras]\nfoo = 1\n", "bad.conf:4: unknown section [extras]; the sections are", "unknown section");
	refused("[helpdesk]\naccess_key = k3y-0123456789\n", "bad.conf: [helpdesk] url: is required", "missing url");
	refused("[helpdesk]\nurl = ftp://x\naccess_key = k3y-0123456789\n",
		"bad.conf:2: [helpdesk] url: \"ftp://x\" is not an http(s) URL", "url not http(s)");
	refused("[helpdesk]\nurl = https://u:p@x\naccess_key = k3y-0123456789\n", "must not carry credentials", "url with credentials");
	refused("[helpdesk]\nurl = https://x/?a=b\naccess_key = k3y-0123456789\n", "plain base URL", "url with query");
	refused("[helpdesk]\nurl = https://x\naccess_key_file = /nonexistent/key\n",
		"bad.conf:3: [helpdesk] access_key_file: cannot read /nonexistent/key: No such file or directory",
		"unreadable access_key_file");
	refused("[helpdesk]\nurl = https://x\n", "no access key", "no access key at all");
	refused("[helpdesk]\nurl = https://x\naccess_key = abc12\n", "bad.conf:3: [helpdesk] access_key: the value is too short",
		"a key too short to redact");
	refused(BASE "api = v3\n", "bad.conf:4: [helpdesk] api: \"v3\" is not an API dialect; use v2 or v1", "bad api");
	refused(BASE "url = https://y\n", "bad.conf:4: [helpdesk] url: given twice (first at line 2)", "duplicate key");
	refused("url = https://x\n" BASE, "bad.conf:1: key \"url\" is outside any section", "key outside a section");
	refused(BASE "this is not ini\n", "bad.conf:4: not an INI line", "syntax error");
	refused(BASE "[database\n", "bad.conf:4: section header without ']'", "broken section header");
	refused("[helpdesk]\nurl = http://helpdesk.example.com\naccess_key = k3y-0123456789\n",
		"bad.conf:2: [helpdesk] url: plain http:// would send the access key in clear text", "plain http to a remote host");
	cfg = load(write_file("insecure.conf",
			      "[helpdesk]\nurl = http://helpdesk.example.com\nallow_insecure_http = yes\naccess_key = k3y-0123456789\n",
			      0600));
	tap_ok(cfg != NULL && strstr(errors, "travels in clear text") != NULL, "allow_insecure_http = yes: accepted, with a warning");
	config_free(cfg);
	cfg = load(write_file("loop.conf", "[helpdesk]\nurl = http://127.0.0.1:8080\naccess_key = k3y-0123456789\n", 0600));
	tap_ok(cfg != NULL && errors[0] == '\0', "plain http to loopback: accepted silently");
	config_free(cfg);
	refused(BASE "allow_insecure_http = maybe\n", "[helpdesk] allow_insecure_http: \"maybe\" is not yes or no", "bad boolean");
	refused(BASE "[metrics]\nlisten = 9187\n", "[metrics] listen: \"9187\" is not host:port", "listen without host");
	refused(BASE "[metrics]\nlisten = host:99999\n", "port \"99999\" is not a number from 1 to 65535", "bad port");
	refused(BASE "[database]\nschema = \n", "[database] schema: \"\" is not a schema name", "empty schema");
	refused(BASE "[database]\nschema = a_schema_name_that_is_far_too_long_for_postgresql_identifiers_xx\n",
		"is not a schema name", "schema too long");
	refused(BASE "[sync]\ninterval = 1m\n  overlap = 1m\n", "bad.conf:6: indented line", "continuation line");
	{
		char longline[600];
		char text[800];
		memset(longline, 'a', sizeof(longline) - 1);
		longline[sizeof(longline) - 1] = '\0';
		snprintf(text, sizeof(text), BASE "[database]\nconninfo = %s\n", longline);
		path = write_file("long.conf", text, 0600);
		cfg = load(path);
		if (cfg != NULL) {
			tap_is_int(strlen(cfg->conninfo), 599, "a long line is either read whole");
		} else {
			tap_ok(strstr(errors, "long.conf:5: line is longer than") != NULL, "or refused with its line");
		}
		config_free(cfg);
	}
	/* Several errors at once: all reported, nothing applied. */
	refused(BASE "[sync]\ninterval = x\nconcurrency = 0\n", "bad.conf:6: [sync] concurrency", "second error reported too");
	tap_ok(strstr(errors, "bad.conf:5: [sync] interval") != NULL, "first error reported too");
	/* The access key never appears in a message. */
	refused("[helpdesk]\nurl = https://x\naccess_key = SUPERSECRET\n[sync]\ntimeout = SUPERSECRET\n", "timeout",
		"error in a line that holds the key's value");
	tap_ok(strstr(errors, "SUPERSECRET") == NULL, "the access key is redacted from configuration errors");
	log_forget_secrets();

	refused("", "url: is required", "empty file");
	{
		struct config *c2;
		char missing[600];
		snprintf(missing, sizeof(missing), "%s/does-not-exist.conf", dir);
		c2 = load(missing);
		tap_ok(c2 == NULL && strstr(errors, "cannot read configuration file") != NULL &&
			       strstr(errors, "No such file") != NULL,
		       "missing file: named with the reason");
		c2 = load(dir);
		tap_ok(c2 == NULL && strstr(errors, "is a directory") != NULL, "a directory is refused");
	}

	/* access_key_file, and the overrides. */
	path = write_file("key", "filek3y-0123456789\n", 0600);
	{
		char text[1024];
		snprintf(text, sizeof(text), "[helpdesk]\nurl = http://127.0.0.1:1\naccess_key_file = %s\n", path);
		path = write_file("keyfile.conf", text, 0600);
	}
	char keyconf[600];
	snprintf(keyconf, sizeof(keyconf), "%s", path);
	cfg = load(keyconf);
	tap_ok(cfg != NULL && strcmp(cfg->access_key, "filek3y-0123456789") == 0, "access_key_file read, newline trimmed");
	tap_ok(cfg != NULL && strstr(cfg->access_key_origin, "access_key_file ") == cfg->access_key_origin,
	       "origin names the key file");
	config_free(cfg);
	write_file("empty-key", "\n", 0600);
	{
		char text[1024];
		snprintf(text, sizeof(text), "[helpdesk]\nurl = http://x\naccess_key_file = %s/empty-key\n", dir);
		refused(text, "empty-key is empty", "empty key file");
		snprintf(text, sizeof(text), "[helpdesk]\nurl = http://x\naccess_key = abcdefghij\naccess_key_file = %s/key\n", dir);
		refused(text, "both access_key (line 3) and access_key_file are set", "both key keys");
	}
	setenv("MOJOSYNC_ACCESS_KEY", "envk3y-0123456789", 1);
	cfg = load(keyconf);
	tap_ok(cfg != NULL && strcmp(cfg->access_key, "envk3y-0123456789") == 0, "$MOJOSYNC_ACCESS_KEY overrides access_key_file");
	config_free(cfg);
	cfg = load(write_file("min2.conf", BASE, 0600));
	tap_ok(cfg != NULL && strcmp(cfg->access_key, "envk3y-0123456789") == 0, "$MOJOSYNC_ACCESS_KEY overrides access_key");
	config_free(cfg);
	write_file("access_key", "credk3y-0123456789\n", 0600);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	cfg = load(write_file("min3.conf", BASE, 0600));
	tap_ok(cfg != NULL && strcmp(cfg->access_key, "envk3y-0123456789") == 0, "$MOJOSYNC_ACCESS_KEY wins over the credential");
	config_free(cfg);
	unsetenv("MOJOSYNC_ACCESS_KEY");
	cfg = load(write_file("min4.conf", BASE, 0600));
	tap_ok(cfg != NULL && strcmp(cfg->access_key, "credk3y-0123456789") == 0,
	       "$CREDENTIALS_DIRECTORY/access_key overrides the file");
	tap_ok(cfg != NULL && strcmp(cfg->access_key_origin, "$CREDENTIALS_DIRECTORY/access_key") == 0,
	       "origin names the credential");
	config_free(cfg);
	setenv("CREDENTIALS_DIRECTORY", "/nonexistent-dir", 1);
	cfg = load(write_file("min5.conf", BASE, 0600));
	tap_ok(cfg != NULL && strcmp(cfg->access_key, "k3y-0123456789") == 0, "a credentials directory without the key is ignored");
	config_free(cfg);
	unsetenv("CREDENTIALS_DIRECTORY");

	/* A key in a world-readable file draws a warning. */
	cfg = load(write_file("world.conf", BASE, 0644));
	tap_ok(cfg != NULL && strstr(errors, "readable by every user") != NULL,
	       "world-readable file with a key: warning");
	config_free(cfg);

	/* Reload: keys that cannot change say so. */
	{
		struct config *a = load(write_file("r1.conf", BASE "[sync]\ninterval = 1m\n", 0600));
		struct config *b = load(write_file("r2.conf", BASE "[sync]\ninterval = 2m\n", 0600));
		struct config *c = load(write_file("r3.conf", BASE "[database]\nschema = other\n", 0600));
		struct tap_capture cap;
		int n1, n2;

		tap_capture_begin(&cap);
		n1 = config_reload_conflicts(a, b);
		n2 = config_reload_conflicts(a, c);
		tap_capture_end(&cap, errors, sizeof(errors));
		tap_is_int(n1, 0, "interval may change on reload");
		tap_is_int(n2, 1, "schema may not change on reload");
		tap_ok(strstr(errors, "[database] schema cannot change on reload") != NULL, "and says so");
		tap_is_str(c->schema, "mojo", "and the running schema is kept");
		tap_is_int(b->interval_ms, 120000, "while a key that may change does");
		config_free(a);
		config_free(b);
		config_free(c);
	}
	tap_ok(config_url_is_loopback("http://127.0.0.1:8080"), "127.0.0.1 is loopback");
	tap_ok(config_url_is_loopback("http://localhost/x"), "localhost is loopback");
	tap_ok(config_url_is_loopback("http://[::1]:80"), "::1 is loopback");
	tap_ok(!config_url_is_loopback("https://app.mojohelpdesk.com"), "a real host is not");

	/* Every key has help and a valid default. */
	{
		size_t n, i;
		const struct config_key *k = config_keys(&n);
		int ok = 1;
		for (i = 0; i < n; i++)
			if (k[i].help == NULL || *k[i].help == '\0')
				ok = 0;
		tap_ok(ok && n == 14, "14 keys, each with help");
	}

	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return tap_done();
}
