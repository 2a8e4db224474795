#include "ac-config.h"

#include "daemon.h"

#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "mojo.h"
#include "notify.h"
#include "sched.h"
#include "store.h"
#include "sync.h"

#include <event2/event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STOP_GRACE_MS 10000	/* in-flight work gets this long after SIGTERM */

struct daemon {
	struct event_base *base;
	struct config *cfg;
	struct store *st;
	struct http *http;
	struct sync *sync;
	struct metrics *metrics;

	struct event *cycle_ev;		/* the next cycle */
	struct event *reconcile_ev;	/* makes the next cycle a full one */
	struct event *watchdog_ev;
	struct event *stop_ev;		/* the grace period after SIGTERM */
	struct event *sig_term, *sig_int, *sig_hup;

	bool ready;
	bool stopping;
	bool full_due;
	int db_failures;		/* consecutive: for the reconnect backoff */
	int exit_status;
	char last_error[256];
};

static void
add_ms(struct event *ev, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };

	evtimer_add(ev, &tv);
}

static struct http_options
http_options_of(const struct config *cfg)
{
	struct http_options o;

	http_options_init(&o, (int)cfg->concurrency, cfg->timeout_ms, cfg->max_rate);
	return o;
}

static void start_cycle(struct daemon *d);

/* After a cycle: metrics, STATUS=, and when the next one runs. */
static void
cycle_done_cb(struct sync *s, const struct sync_stats *stats, void *arg)
{
	struct daemon *d = arg;
	char labels[96], when[40];
	int64_t next, wm;
	time_t now = time(NULL);
	struct tm tm;
	int k;

	(void)s;
	sync_log_summary(stats);
	for (k = 0; k < MOJO_NKINDS; k++) {
		const char *r = mojo_kind_table((enum mojo_kind)k);
		snprintf(labels, sizeof(labels), "resource=\"%s\",op=\"inserted\"", r);
		metrics_add(d->metrics, "mojosync_rows_total", labels, (double)stats->kind[k].inserted);
		snprintf(labels, sizeof(labels), "resource=\"%s\",op=\"updated\"", r);
		metrics_add(d->metrics, "mojosync_rows_total", labels, (double)stats->kind[k].updated);
		snprintf(labels, sizeof(labels), "resource=\"%s\",op=\"deleted\"", r);
		metrics_add(d->metrics, "mojosync_rows_total", labels, (double)stats->kind[k].deleted);
		snprintf(labels, sizeof(labels), "resource=\"%s\"", r);
		metrics_add(d->metrics, "mojosync_records_failed_total", labels, (double)stats->kind[k].failed);
		if (stats->ok)
			metrics_set(d->metrics, "mojosync_last_success_timestamp_seconds", labels, (double)now);
	}
	if (store_get_watermark(d->st, "tickets", &wm) == 0 && wm != MOJO_NO_TIME)
		metrics_set(d->metrics, "mojosync_watermark_age_seconds", "resource=\"tickets\"",
			    (double)now - (double)wm / 1e6);
	metrics_set(d->metrics, "mojosync_cycle_duration_seconds", "", (double)stats->ms / 1000.0);
	metrics_add(d->metrics, "mojosync_cycle_seconds_total", "", (double)stats->ms / 1000.0);
	snprintf(labels, sizeof(labels), "outcome=\"%s\"", stats->ok ? "ok" : "failed");
	metrics_add(d->metrics, "mojosync_cycles_total", labels, 1);
	metrics_set(d->metrics, "mojosync_db_reconnects_total", "", (double)store_reconnects(d->st));
	if (!stats->ok)
		snprintf(d->last_error, sizeof(d->last_error), "%s", stats->error[0] ? stats->error : "records skipped");
	else
		d->last_error[0] = '\0';
	if (d->stopping) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	next = sched_jitter_ms(d->cfg->interval_ms, (uint32_t)random());
	add_ms(d->cycle_ev, next);
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	notify_send("STATUS=%s at %s: %ld rows written, %ld requests; next in %llds%s%s", stats->ok ? "synced" : "cycle failed",
		    when,
		    stats->kind[0].inserted + stats->kind[0].updated + stats->kind[1].inserted + stats->kind[1].updated +
			    stats->kind[2].inserted + stats->kind[2].updated + stats->kind[3].inserted +
			    stats->kind[3].updated + stats->kind[4].inserted + stats->kind[4].updated,
		    stats->requests, (long long)(next / 1000), d->last_error[0] ? "; last error: " : "", d->last_error);
}

static void
start_cycle(struct daemon *d)
{
	bool full = d->full_due;
	int rc;

	if (d->stopping || sync_running(d->sync))
		return;	/* one cycle at a time; the running one schedules the next */
	rc = sync_start(d->sync, full, cycle_done_cb, d);
	if (rc == -2) {
		/* The database is away: try again soon, backing off, and keep running. */
		int64_t wait = sched_reconnect_ms(++d->db_failures, (uint32_t)random());
		if (wait > d->cfg->interval_ms)
			wait = d->cfg->interval_ms;
		snprintf(d->last_error, sizeof(d->last_error), "database unreachable");
		notify_send("STATUS=database unreachable; retrying in %llds", (long long)(wait / 1000));
		add_ms(d->cycle_ev, wait);
		return;
	}
	d->db_failures = 0;
	if (rc == 0 && full) {
		d->full_due = false;
		add_ms(d->reconcile_ev, sched_jitter_ms(d->cfg->reconcile_interval_ms, (uint32_t)random()));
	}
}

static void
cycle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_cycle(arg);
}

static void
reconcile_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	d->full_due = true;
	if (!sync_running(d->sync)) {
		evtimer_del(d->cycle_ev);
		start_cycle(d);
	}
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify_send("WATCHDOG=1");
}

static void
stop_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	log_warn("in-flight work did not finish within %d s; exiting without it (nothing partial was committed)",
		 STOP_GRACE_MS / 1000);
	event_base_loopbreak(d->base);
}

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (d->stopping) {
		log_warn("%s again: exiting now", strsignal((int)sig));
		event_base_loopbreak(d->base);
		return;
	}
	d->stopping = true;
	notify_send("STOPPING=1");
	log_info("%s: stopping; no new work, in-flight requests finish or are dropped uncommitted", strsignal((int)sig));
	evtimer_del(d->cycle_ev);
	evtimer_del(d->reconcile_ev);
	if (!sync_running(d->sync)) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	sync_stop(d->sync);
	add_ms(d->stop_ev, STOP_GRACE_MS);
}

static void
reload_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct config *cfg;
	struct http_options ho;
	int64_t old_interval;

	(void)sig;
	(void)what;
	notify_send("RELOADING=1");
	log_info("SIGHUP: reloading %s", d->cfg->path);
	cfg = config_load(d->cfg->path);
	if (cfg == NULL) {
		log_error("reload: %s is not valid; still running with the configuration loaded before", d->cfg->path);
		notify_send("READY=1\nSTATUS=reload failed: %s is not valid; running with the previous configuration",
			    d->cfg->path);
		return;
	}
	config_reload_conflicts(d->cfg, cfg);	/* keys that cannot change keep their running values */
	old_interval = d->cfg->interval_ms;
	sync_set_config(d->sync, cfg);
	ho = http_options_of(cfg);
	http_set_options(d->http, &ho);
	config_free(d->cfg);
	d->cfg = cfg;
	if (cfg->interval_ms != old_interval && !sync_running(d->sync) && evtimer_pending(d->cycle_ev, NULL)) {
		int64_t next = sched_jitter_ms(cfg->interval_ms, (uint32_t)random());
		evtimer_del(d->cycle_ev);
		add_ms(d->cycle_ev, next);
		log_info("reload: configuration applied; next cycle in %llds", (long long)(next / 1000));
		notify_send("READY=1\nSTATUS=configuration reloaded; next cycle in %llds", (long long)(next / 1000));
		return;
	}
	log_info("reload: configuration applied");
	notify_send("READY=1\nSTATUS=configuration reloaded");
}

/* Connects and migrates, retrying while PostgreSQL is not there yet; stops on a signal. */
static int
connect_store(struct daemon *d)
{
	int failures = 0, applied;

	for (;;) {
		d->st = store_connect(d->cfg);
		if (d->st != NULL && store_migrate(d->st, &applied) == 0)
			return 0;
		store_free(d->st);
		d->st = NULL;
		if (++failures >= 1) {
			int64_t wait = sched_reconnect_ms(failures, (uint32_t)random());
			struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000) };
			notify_send("STATUS=waiting for the database (attempt %d)", failures);
			log_info("database: retrying in %lld ms", (long long)wait);
			event_base_loopexit(d->base, &tv);
			event_base_dispatch(d->base);	/* signals are handled meanwhile */
			if (d->stopping)
				return -1;
		}
	}
}

int
daemon_run(struct config *cfg)
{
	struct daemon d;
	struct http_options ho;
	uint64_t wd;
	int64_t last;

	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.exit_status = EXIT_FAILURE;
	srandom((unsigned)(time(NULL) ^ getpid()));
	d.base = event_base_new();
	d.metrics = metrics_new();
	if (d.base == NULL || d.metrics == NULL) {
		log_error("cannot set up the event loop");
		goto out;
	}
	d.sig_term = evsignal_new(d.base, SIGTERM, stop_cb, &d);
	d.sig_int = evsignal_new(d.base, SIGINT, stop_cb, &d);
	d.sig_hup = evsignal_new(d.base, SIGHUP, reload_cb, &d);
	d.cycle_ev = evtimer_new(d.base, cycle_cb, &d);
	d.reconcile_ev = evtimer_new(d.base, reconcile_cb, &d);
	d.watchdog_ev = event_new(d.base, -1, EV_PERSIST, watchdog_cb, &d);
	d.stop_ev = evtimer_new(d.base, stop_grace_cb, &d);
	if (d.sig_term == NULL || d.sig_int == NULL || d.sig_hup == NULL || d.cycle_ev == NULL ||
	    d.reconcile_ev == NULL || d.watchdog_ev == NULL || d.stop_ev == NULL || evsignal_add(d.sig_term, NULL) != 0 ||
	    evsignal_add(d.sig_int, NULL) != 0 || evsignal_add(d.sig_hup, NULL) != 0) {
		log_error("cannot set up timers and signals");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	/* The watchdog runs from the loop: if the loop stalls, systemd notices. */
	wd = notify_watchdog_usec();
	if (wd > 0) {
		struct timeval tv = { (time_t)(wd / 2 / 1000000), (suseconds_t)(wd / 2 % 1000000) };
		event_add(d.watchdog_ev, &tv);
		notify_send("WATCHDOG=1");
	}
	if (cfg->metrics_listen[0] != '\0' && metrics_listen(d.metrics, d.base, cfg->metrics_listen) != 0)
		goto out;
	metrics_set(d.metrics, "mojosync_up", "", 1);
	if (connect_store(&d) != 0) {
		d.exit_status = d.stopping ? EXIT_SUCCESS : EXIT_FAILURE;
		goto out;
	}
	ho = http_options_of(cfg);
	d.http = http_new(d.base, &ho);
	d.sync = d.http ? sync_new(d.base, cfg, d.st, d.http) : NULL;
	if (d.sync == NULL) {
		log_error("cannot set up the sync engine");
		goto out;
	}
	sync_set_metrics(d.sync, d.metrics);
	/* Reconciliation is due when it never ran or ran longer ago than reconcile_interval. */
	if (store_last_reconcile(d.st, &last) == 0) {
		int64_t age_ms = last == MOJO_NO_TIME ? INT64_MAX : ((int64_t)time(NULL) * 1000000 - last) / 1000;
		d.full_due = age_ms >= cfg->reconcile_interval_ms;
		if (!d.full_due)
			add_ms(d.reconcile_ev, cfg->reconcile_interval_ms - age_ms);
	}
	d.ready = true;
	notify_send("READY=1\nSTATUS=configuration loaded, database reached, schema migrated; first cycle starting");
	log_info("running: every %llds, reconciling every %llds, against %s (api %s)",
		 (long long)(cfg->interval_ms / 1000), (long long)(cfg->reconcile_interval_ms / 1000), cfg->url,
		 cfg->api == CONFIG_API_V1 ? "v1" : "v2");
	start_cycle(&d);
	event_base_dispatch(d.base);
	d.exit_status = EXIT_SUCCESS;
	log_info("stopped");
out:
	if (d.sync != NULL && sync_running(d.sync))
		log_warn("a cycle was interrupted; its uncommitted pages will be fetched again next time");
	sync_free(d.sync);
	http_free(d.http);
	store_free(d.st);
	metrics_free(d.metrics);
	if (d.sig_term != NULL)
		event_free(d.sig_term);
	if (d.sig_int != NULL)
		event_free(d.sig_int);
	if (d.sig_hup != NULL)
		event_free(d.sig_hup);
	if (d.cycle_ev != NULL)
		event_free(d.cycle_ev);
	if (d.reconcile_ev != NULL)
		event_free(d.reconcile_ev);
	if (d.watchdog_ev != NULL)
		event_free(d.watchdog_ev);
	if (d.stop_ev != NULL)
		event_free(d.stop_ev);
	if (d.base != NULL)
		event_base_free(d.base);
	config_free(d.cfg);
	return d.exit_status;
}
