/*
 * sync: the engine.  One cycle brings every resource up to date:
 *   - ticket queues and companies: full listings (small), every cycle;
 *   - tickets: an updated_on search from the watermark minus overlap, paged
 *     by keyset (each page starts at the newest updated_on of the last one),
 *     each changed ticket's full object and all its comments fetched, the
 *     users they refer to fetched when missing, then the page's rows and the
 *     watermark committed in one transaction;
 *   - records that failed before are retried first (sync_failures);
 *   - with reconciliation (--full): full listings of tickets and users, every
 *     ticket's comments, and deletions confirmed by a show request.
 * Everything runs on the caller's libevent loop; nothing here blocks but
 * libpq, whose calls are bounded by timeouts.
 */
#ifndef MOJOSYNC_SYNC_H
#define MOJOSYNC_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "mojo.h"

struct config;
struct event_base;
struct http;
struct store;
struct sync;

/* What a cycle did, per kind. */
struct sync_kind_stats {
	long inserted, updated, deleted;
	long requests, retries, failed;
	int64_t ms;
};

struct sync_stats {
	struct sync_kind_stats kind[MOJO_NKINDS];
	long requests, retries, failed_records;
	int64_t ms;
	bool ok;		/* every resource completed and no record failed */
	char error[256];	/* the first error, "" when none */
};

typedef void (*sync_done_cb)(struct sync *s, const struct sync_stats *stats, void *arg);

/* cfg, st and h are borrowed and must outlive the sync. Returns NULL after logging. */
struct sync *sync_new(struct event_base *base, const struct config *cfg, struct store *st, struct http *h);
void sync_free(struct sync *s);

/*
 * Starts one cycle (full: with reconciliation); cb runs once when it ends.
 * -1 when one is running, -2 when the database cannot be reached (logged).
 */
int sync_start(struct sync *s, bool full, sync_done_cb cb, void *arg);
bool sync_running(const struct sync *s);

/* Stops starting new work; the cycle ends (without committing partial pages) as in-flight requests return. */
void sync_stop(struct sync *s);

/* Counts requests and retries by endpoint class into m (borrowed; NULL: none). */
struct metrics;
void sync_set_metrics(struct sync *s, struct metrics *m);

/* Replaces the configuration (a reload); takes effect at the next request. */
void sync_set_config(struct sync *s, const struct config *cfg);

/* Logs the summary line of a cycle: info when it went well, error when not. */
void sync_log_summary(const struct sync_stats *stats);

#endif
