/*
 * store: everything that talks to PostgreSQL through libpq: connecting
 * with bounded timeouts, schema migrations, sync state and, with the sync
 * engine, batched upserts.  Every statement takes its values as parameters
 * and the schema name is always quoted as an identifier.
 */
#ifndef MOJOSYNC_STORE_H
#define MOJOSYNC_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>

struct config;
struct store;

/* Connects; returns NULL after logging what failed and what to do. */
struct store *store_connect(const struct config *cfg);

/* NULL-safe. */
void store_free(struct store *st);

/*
 * Makes sure the connection works, reconnecting (bounded by connect_timeout)
 * when PostgreSQL went away.  Returns 0, or -1 after logging.
 */
int store_ensure(struct store *st);

/* How many times store_ensure() reconnected. */
long store_reconnects(const struct store *st);

/* The connection (borrowed) and the quoted schema name (borrowed). */
PGconn *store_conn(struct store *st);
const char *store_schema_ident(const struct store *st);

/* "15.18" style server version, into buf. */
void store_server_version(struct store *st, char *buf, size_t len);

/*
 * Applies every embedded migration the schema lacks, each in its own
 * transaction, under an advisory lock.  *applied receives how many were
 * applied (may be NULL).  Returns 0 or -1 after logging.
 */
int store_migrate(struct store *st, int *applied);

/*
 * The schema's migration state: *version the highest applied (0 when the
 * schema or its table is missing).  Returns 0 or -1 after logging.
 */
int store_schema_version(struct store *st, int *version);

/* The highest version this binary knows. */
int store_latest_version(void);

/* Prints the per-resource sync state table (the `status` command). */
int store_print_status(struct store *st);



/* ---- the sync engine's statements ---- */

#include <stddef.h>
#include <stdint.h>

#include "ids.h"
#include "mojo.h"

struct store_counts {
	long inserted;
	long updated;
	long deleted;
};

int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/*
 * Upserts a page: json is a JSON array of mojo_record.json elements.  One
 * statement; a row is written only when its raw differs or it was marked
 * deleted, and never with an older updated_on than it has.  Adds to *c,
 * and the ids of rows that existed and changed to *updated (when not NULL).
 */
int store_upsert(struct store *st, enum mojo_kind kind, const char *json, struct store_counts *c,
		 struct ids *updated);

/*
 * For each id: changed[i] = true when the table lacks it, holds it as
 * deleted, or holds an older updated_on than updated[i] (or updated[i] is
 * MOJO_NO_TIME: unknown, so changed).  With updated NULL, only "lacks it
 * or holds it as deleted" counts.  One query.
 */
int store_changed(struct store *st, enum mojo_kind kind, const int64_t *ids, const int64_t *updated, size_t n,
		  bool *changed);

/* Appends the live (not deleted) ids of a table, ascending, to *out. */
int store_live_ids(struct store *st, enum mojo_kind kind, struct ids *out);

/* Marks ids deleted (deleted_at = now()) where not already; adds to c->deleted. */
int store_mark_deleted(struct store *st, enum mojo_kind kind, const int64_t *ids, size_t n, struct store_counts *c);

/* Marks deleted the live comments of tickets[] whose ids are not in keep[]. */
int store_mark_comments_gone(struct store *st, const int64_t *tickets, size_t nt, const int64_t *keep, size_t nk,
			     struct store_counts *c);

/*
 * Live tickets whose stored objects embed one of these users (requester,
 * assignee, comment author), queues or companies: their related_data went
 * stale when those changed.  Appends to *out.
 */
int store_tickets_embedding(struct store *st, const struct ids *users, const struct ids *queues,
			    const struct ids *companies, struct ids *out);

/* Live users whose stored objects embed one of these companies or queues (an agent's accessible_queues). */
int store_users_embedding(struct store *st, const struct ids *companies, const struct ids *queues, struct ids *out);

/* The oldest last_reconcile over all resources: MOJO_NO_TIME when one never reconciled. */
int store_last_reconcile(struct store *st, int64_t *us);

/* Watermark of a resource: MOJO_NO_TIME when none. */
int store_get_watermark(struct store *st, const char *resource, int64_t *us);
/* Moves the watermark forward (never back) within the current transaction. */
int store_set_watermark(struct store *st, const char *resource, int64_t us);
/*
 * Records a cycle's outcome: error NULL = success (last_success, and
 * last_reconcile when the cycle reconciled), else last_error.
 */
int store_finish_resource(struct store *st, const char *resource, const char *error, bool reconciled);

/*
 * Tells listeners what a batch changed, inside its transaction (so only if
 * it commits): NOTIFY on the channel named as the schema, payload
 * {"resource":…,"inserted":…,"updated":…,"deleted":…}.  Nothing when c is all 0.
 */
int store_notify(struct store *st, const char *resource, const struct store_counts *c);

/* One row of the run log (sync_runs). */
struct store_run {
	const char *resource;
	int64_t started_us, finished_us;	/* Unix microseconds */
	bool full;
	long requests, retries, inserted, updated, deleted, failed;
	const char *outcome;			/* ok, failed, stopped */
	const char *error;			/* NULL when none */
};

/* Appends the rows of one cycle to sync_runs, in one statement. */
int store_log_runs(struct store *st, const struct store_run *runs, size_t n);

/* The retry list (sync_failures). */
int store_failure_add(struct store *st, const char *resource, int64_t id, const char *reason);
int store_failure_clear(struct store *st, const char *resource, const int64_t *ids, size_t n);
int store_failure_ids(struct store *st, const char *resource, struct ids *out);
#endif
