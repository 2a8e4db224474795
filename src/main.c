/*
 * mojosync: mirrors a Mojo Helpdesk into PostgreSQL.
 * main: the command line, and the order of start-up and shut-down.
 */
#include "ac-config.h"

#include "config.h"
#include "daemon.h"
#include "http.h"
#include "log.h"
#include "mojo.h"
#include "store.h"
#include "sync.h"

#include <event2/event.h>
#include <signal.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_WORK   1	/* the work failed */
#define EXIT_CONFIG 2	/* usage or configuration error */

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: mojosync [-c FILE] [-v] COMMAND [OPTIONS]\n"
		"\n"
		"Mirrors a Mojo Helpdesk (tickets, comments, users, queues, companies) into PostgreSQL.\n"
		"\n"
		"commands:\n"
		"  run        the daemon: sync every resource now, then on timers, until SIGTERM\n"
		"  sync       one sync cycle of every resource, then exit\n"
		"               --full  also reconcile (deletions, full user sweep)\n"
		"  migrate    create or upgrade the database schema, then exit\n"
		"  status     print per-resource watermark, last success, last error, row counts\n"
		"  check      validate the configuration, reach the helpdesk and the database\n"
		"\n"
		"options:\n"
		"  -c FILE    configuration file (default: $MOJOSYNC_CONFIG, else " CONFIG_DEFAULT_PATH ")\n"
		"  -v         verbose: log debug lines too\n"
		"  --help     show this help\n"
		"  --list-keys  print the table of configuration keys\n"
		"  --version  show the version\n"
		"\n"
		"exit status: 0 success, 1 the work failed, 2 usage or configuration error\n");
}

/* The table of keys as Markdown: the README's table is this output. */
static void
list_keys(void)
{
	static const char *const types[] = { "string", "URL", "v2 or v1", "secret", "path", "schema name",
					     "duration", "integer", "host:port", "yes or no" };
	const struct config_key *k;
	char lo[32], hi[32];
	size_t n, i;

	k = config_keys(&n);
	printf("| key | type | default | bounds | reload | meaning |\n|---|---|---|---|---|---|\n");
	for (i = 0; i < n; i++) {
		lo[0] = hi[0] = '\0';
		if (k[i].type == CONFIG_DURATION) {
			config_format_duration(k[i].min, lo, sizeof(lo));
			config_format_duration(k[i].max, hi, sizeof(hi));
		} else if (k[i].type == CONFIG_INT) {
			snprintf(lo, sizeof(lo), "%lld", (long long)k[i].min);
			snprintf(hi, sizeof(hi), "%lld", (long long)k[i].max);
		}
		printf("| `[%s] %s` | %s | %s | %s%s%s | %s | %s |\n", k[i].section, k[i].name, types[k[i].type],
		       (k[i].flags & CONFIG_REQUIRED) ? "required" : k[i].def == NULL ? "none" : *k[i].def ? k[i].def : "empty",
		       lo, *lo ? " to " : "", hi, (k[i].flags & CONFIG_NO_RELOAD) ? "restart" : "yes", k[i].help);
	}
}

static struct config *
load_config(const char *path)
{
	struct config *cfg = config_load(path);

	if (cfg == NULL)
		log_error("configuration %s is not valid; nothing was done", path);
	return cfg;
}

/* Connects and, where need_schema, makes sure the schema is current. */
static struct store *
open_store(const struct config *cfg, bool migrate)
{
	struct store *st = store_connect(cfg);
	int applied;

	if (st == NULL)
		return NULL;
	if (migrate && store_migrate(st, &applied) != 0) {
		store_free(st);
		return NULL;
	}
	return st;
}

static int
cmd_migrate(const struct config *cfg)
{
	struct store *st;
	int applied, version;

	st = store_connect(cfg);
	if (st == NULL)
		return EXIT_WORK;
	if (store_migrate(st, &applied) != 0 || store_schema_version(st, &version) != 0) {
		store_free(st);
		return EXIT_WORK;
	}
	if (applied == 0)
		log_info("schema %s is up to date (version %d)", store_schema_ident(st), version);
	else
		log_info("schema %s migrated to version %d (%d migration%s applied)", store_schema_ident(st), version,
			 applied, applied == 1 ? "" : "s");
	store_free(st);
	return EXIT_SUCCESS;
}

static int
cmd_status(const struct config *cfg)
{
	struct store *st = open_store(cfg, false);
	int rc;

	if (st == NULL)
		return EXIT_WORK;
	rc = store_print_status(st) == 0 ? EXIT_SUCCESS : EXIT_WORK;
	store_free(st);
	return rc;
}

struct probe {
	long status;
	char detail[512];
	int64_t elapsed_ms;
	bool done;
};

static void
probe_done_cb(const struct http_response *resp, void *arg)
{
	struct probe *p = arg;

	p->done = true;
	p->status = resp->status;
	p->elapsed_ms = resp->elapsed_ms;
	if (resp->error != NULL)
		snprintf(p->detail, sizeof(p->detail), "%s", resp->error);
	else
		mojo_error_text(resp->body, resp->len, p->detail, sizeof(p->detail));
}

/* One authenticated request; returns 0 when the helpdesk answered 200. */
static int
check_helpdesk(const struct config *cfg)
{
	struct http_options opt;
	struct event_base *base = event_base_new();
	struct http *h = NULL;
	struct probe p;
	char *url = NULL;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	http_options_init(&opt, 1, cfg->timeout_ms, 0);
	if (base == NULL || (h = http_new(base, &opt)) == NULL)
		goto done;
	url = mojo_url(cfg, "ticket_queues", "per_page=1");
	if (url == NULL || http_get(h, url, probe_done_cb, &p) != 0)
		goto done;
	while (!p.done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	if (!p.done) {
		log_error("helpdesk %s: the request did not complete", cfg->url);
	} else if (p.status == 200) {
		log_out("helpdesk: %s (api %s) answered in %lld ms; access key accepted (from %s)\n", cfg->url,
			cfg->api == CONFIG_API_V1 ? "v1" : "v2", (long long)p.elapsed_ms, cfg->access_key_origin);
		rc = 0;
	} else if (p.status == 401) {
		log_error("helpdesk %s: access key rejected (HTTP 401: %s); check the key from %s", cfg->url, p.detail,
			  cfg->access_key_origin);
	} else if (p.status == 0) {
		log_error("helpdesk %s: unreachable: %s; check [helpdesk] url and the network", cfg->url, p.detail);
	} else {
		log_error("helpdesk %s: HTTP %ld: %s", cfg->url, p.status, p.detail);
	}
done:
	mojo_url_free(url);
	http_free(h);
	if (base != NULL)
		event_base_free(base);
	return rc;
}

struct oneshot {
	struct event_base *base;
	bool done;
	bool ok;
	int signals;
	struct sync *sync;
};

static void
oneshot_done_cb(struct sync *s, const struct sync_stats *stats, void *arg)
{
	struct oneshot *o = arg;

	(void)s;
	sync_log_summary(stats);
	o->done = true;
	o->ok = stats->ok;
	event_base_loopexit(o->base, NULL);
}

static void
oneshot_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct oneshot *o = arg;

	(void)what;
	if (o->signals++ == 0) {
		log_warn("%s: stopping; pages not yet committed are dropped and fetched again next time",
			 strsignal((int)sig));
		sync_stop(o->sync);
	} else {
		log_warn("%s again: exiting now", strsignal((int)sig));
		event_base_loopbreak(o->base);
	}
}

/* One cycle of every resource (with reconciliation when full). */
static int
cmd_sync(const struct config *cfg, bool full)
{
	struct http_options opt;
	struct event *sigint = NULL, *sigterm = NULL;
	struct oneshot o;
	struct store *st;
	struct http *h = NULL;
	int rc = EXIT_WORK;

	memset(&o, 0, sizeof(o));
	http_options_init(&opt, (int)cfg->concurrency, cfg->timeout_ms, cfg->max_rate);
	st = open_store(cfg, true);
	if (st == NULL)
		return EXIT_WORK;
	o.base = event_base_new();
	if (o.base == NULL || (h = http_new(o.base, &opt)) == NULL ||
	    (o.sync = sync_new(o.base, cfg, st, h)) == NULL) {
		log_error("cannot set up the event loop");
		goto done;
	}
	sigint = evsignal_new(o.base, SIGINT, oneshot_signal_cb, &o);
	sigterm = evsignal_new(o.base, SIGTERM, oneshot_signal_cb, &o);
	if (sigint == NULL || sigterm == NULL || evsignal_add(sigint, NULL) != 0 || evsignal_add(sigterm, NULL) != 0) {
		log_error("cannot set up signal handling");
		goto done;
	}
	if (sync_start(o.sync, full, oneshot_done_cb, &o) != 0)
		goto done;
	event_base_dispatch(o.base);
	if (o.done && o.ok)
		rc = EXIT_SUCCESS;
done:
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	sync_free(o.sync);
	http_free(h);
	if (o.base != NULL)
		event_base_free(o.base);
	store_free(st);
	return rc;
}

static int
cmd_check(const struct config *cfg)
{
	struct store *st;
	char version[64];
	int schema_version, rc = EXIT_SUCCESS;

	log_out("configuration: %s is valid\n", cfg->path);
	st = store_connect(cfg);
	if (st == NULL) {
		rc = EXIT_WORK;
	} else {
		store_server_version(st, version, sizeof(version));
		if (store_schema_version(st, &schema_version) != 0) {
			rc = EXIT_WORK;
		} else {
			log_out("database: PostgreSQL %s, schema %s at version %d of %d%s\n", version,
				store_schema_ident(st), schema_version, store_latest_version(),
				schema_version < store_latest_version() ? " (mojosync migrate will upgrade it)" : "");
		}
		store_free(st);
	}
	if (check_helpdesk(cfg) != 0)
		rc = EXIT_WORK;
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "list-keys", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option syncopts[] = {
		{ "full", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *cmd;
	struct config *cfg;
	bool full = false;
	int verbose = 0, c, rc;

	log_init(0);
	while ((c = getopt_long(argc, argv, "+c:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("mojosync %s\n", PACKAGE_VERSION);
			return EXIT_SUCCESS;
		case 'K':
			list_keys();
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	log_init(verbose);
	if (optind >= argc) {
		log_error("no command given; say one of run, sync, migrate, status, check (see mojosync --help)");
		return EXIT_CONFIG;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;
	if (strcmp(cmd, "run") != 0 && strcmp(cmd, "sync") != 0 && strcmp(cmd, "migrate") != 0 &&
	    strcmp(cmd, "status") != 0 && strcmp(cmd, "check") != 0) {
		log_error("unknown command \"%s\"; say one of run, sync, migrate, status, check (see mojosync --help)",
			  cmd);
		return EXIT_CONFIG;
	}
	while ((c = getopt_long(argc, argv, "+h", syncopts, NULL)) != -1) {
		if (c == 'f' && strcmp(cmd, "sync") == 0) {
			full = true;
		} else if (c == 'h') {
			usage(stdout);
			return EXIT_SUCCESS;
		} else {
			log_error("%s: unexpected option %s (see mojosync --help)", cmd, argv[optind - 1]);
			return EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		log_error("%s: unexpected argument \"%s\" (see mojosync --help)", cmd, argv[optind]);
		return EXIT_CONFIG;
	}
	if (path == NULL)
		path = getenv("MOJOSYNC_CONFIG");
	if (path == NULL || *path == '\0')
		path = CONFIG_DEFAULT_PATH;
	cfg = load_config(path);
	if (cfg == NULL)
		return EXIT_CONFIG;

	if (strcmp(cmd, "migrate") == 0)
		rc = cmd_migrate(cfg);
	else if (strcmp(cmd, "status") == 0)
		rc = cmd_status(cfg);
	else if (strcmp(cmd, "check") == 0)
		rc = cmd_check(cfg);
	else if (strcmp(cmd, "sync") == 0)
		rc = cmd_sync(cfg, full);
	else {
		rc = daemon_run(cfg);	/* takes cfg */
		cfg = NULL;
	}
	config_free(cfg);
	log_forget_secrets();
	return rc;
}
