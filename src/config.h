/*
 * config: the configuration file (INI), described once by a table of keys.
 *
 * config_load() parses a whole file into a fresh struct config and either
 * returns it complete and valid or returns NULL having logged every error
 * (file:line, [section] key, what is wrong, what would be right): nothing
 * is ever half-applied, which is what SIGHUP relies on.
 */
#ifndef MOJOSYNC_CONFIG_H
#define MOJOSYNC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH "/etc/mojosync/mojosync.conf"

enum config_api {
	CONFIG_API_V2 = 0,
	CONFIG_API_V1 = 1,
};

struct config {
	char *path;		/* the file it came from */

	/* [helpdesk] */
	char *url;		/* http(s)://host[:port][/path], no trailing slash */
	int api;		/* enum config_api */
	char *access_key;	/* secret: never logged; wiped by config_free() */
	char *access_key_origin; /* where the key came from, for messages */
	int64_t allow_insecure_http; /* 1: plain http to a host other than loopback is accepted */

	/* [database] */
	char *conninfo;		/* may be "" (libpq defaults) */
	char *schema;

	/* [sync]: durations in milliseconds */
	int64_t interval_ms;
	int64_t overlap_ms;
	int64_t reconcile_interval_ms;
	int64_t concurrency;
	int64_t max_rate;	/* requests per minute; 0 = none */
	int64_t timeout_ms;

	/* [metrics] */
	char *metrics_listen;	/* "" = off, else host:port */
};

enum config_type {
	CONFIG_STRING,
	CONFIG_URL,
	CONFIG_API,
	CONFIG_SECRET,
	CONFIG_FILE,
	CONFIG_SCHEMA,
	CONFIG_DURATION,
	CONFIG_INT,
	CONFIG_LISTEN,
	CONFIG_BOOL,
};

#define CONFIG_REQUIRED	 0x01
#define CONFIG_NO_RELOAD 0x02

/* One row of the table of keys: the single description of a key. */
struct config_key {
	const char *section;
	const char *name;
	enum config_type type;
	const char *def;	/* default as written in a file; NULL = none */
	int64_t min, max;	/* bounds: milliseconds for durations */
	int flags;
	size_t offset;		/* of the field in struct config */
	const char *help;
};

/* The table; *n receives its length. */
const struct config_key *config_keys(size_t *n);

/* Parses path; returns a new config (free with config_free) or NULL after logging. */
struct config *config_load(const char *path);

/* NULL-safe; wipes the access key. */
void config_free(struct config *cfg);

/*
 * Parses "90", "90s", "5m", "2h", "1d", "250ms" into milliseconds.
 * Returns 0, or -1 with *why set to a static explanation.
 */
int config_parse_duration(const char *s, int64_t *ms, const char **why);

/* Formats a duration in milliseconds as the shortest exact "5m"/"90s"/"250ms". */
void config_format_duration(int64_t ms, char *buf, size_t len);

/*
 * For a SIGHUP: each key that differs between old and new_cfg but may not
 * change on reload is logged and set back to its running (old) value in
 * new_cfg.  Returns how many there were.
 */
int config_reload_conflicts(const struct config *old, struct config *new_cfg);

/* True when the host of url is a loopback address or "localhost". */
bool config_url_is_loopback(const char *url);

#endif
