/*
 * sync_int.h: what the parts of the sync engine share (sync.c: the cycle and
 * the tickets; sync_fetch.c: requests with retries and outcomes;
 * sync_lists.c: listings and show batches of users, queues and companies).
 * Not a public API: only the engine's own files include it.
 */
#ifndef MOJOSYNC_SYNC_INT_H
#define MOJOSYNC_SYNC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ids.h"
#include "log.h"
#include "mojo.h"
#include "sync.h"

#define PAGE_SIZE	100	/* the server's cap */
#define MAX_ATTEMPTS	6	/* per request */
#define RETRY_BUDGET	1000	/* per cycle */

struct json_object;

/* A growing JSON array of records: "[rec,rec,...]". */
struct page_json {
	char *buf;
	size_t len, cap;
	size_t count;
};

int page_add(struct page_json *p, const char *json);
void page_free(struct page_json *p);
int64_t now_ms(void);	/* monotonic */
int64_t wall_us(void);	/* Unix time */

struct fetch;
typedef void (*fetch_cb)(struct sync *s, struct json_object *root, long status, const char *error, void *arg);

struct sync {
	struct event_base *base;
	const struct config *cfg;
	struct store *st;
	struct http *http;
	struct metrics *metrics;

	bool running, full, stopping, auth_failed;
	int parts;		/* parts of the current phase still running */
	int phase;
	int retry_budget;
	struct fetch *fetches;	/* every fetch not yet completed */
	int64_t answer_date;	/* during a fetch callback: the answer's Date (server's clock, s), 0 if none */
	struct sync_stats stats;
	int64_t started_ms;
	int64_t started_wall_us;
	int64_t kind_first_ms[MOJO_NKINDS], kind_last_ms[MOJO_NKINDS];
	char kind_error[MOJO_NKINDS][256];
	sync_done_cb cb;
	void *cb_arg;
	struct event *finish_ev;

	bool progress;		/* a terminal: show progress of the initial sync */
	long progress_pages, progress_records;

	struct ids refreshed;	/* tickets whose comments were listed whole this cycle */
	struct ids shown;	/* tickets whose full object was fetched this cycle */
	struct ids dirty[MOJO_NKINDS]; /* users, queues, companies that changed: tickets embed them */
	struct ids listed;	/* ids of a reconciliation listing */
};

/* Records that a resource could not complete this cycle, and logs it once. */
void fail_kind(struct sync *s, enum mojo_kind kind, const char *fmt, ...) MOJO_PRINTF(3, 4);
/* A record that could not be fetched, parsed or stored: reported, and retried next cycle. */
void bad_record(struct sync *s, enum mojo_kind kind, int64_t id, const char *reason);

/* GET path?query with retries; cb runs exactly once, from the event loop, never inside this call. */
void fetch_start(struct sync *s, enum mojo_kind kind, const char *path, const char *query, fetch_cb cb, void *arg);
/* Drops a fetch without calling it back (the cycle is abandoned). */
void fetch_unlink(struct fetch *f);
/* When stopping: fetches waiting to retry end now, with an error. */
void fetch_end_waiting(struct sync *s);

/* The parts of a phase: the phase ends when its last part does. */
void part_begin(struct sync *s);
void part_end(struct sync *s);
void progress(struct sync *s, long records);

/* Fetches each id of kind by show and stores the answers; done runs afterwards. Takes ids. */
void sbatch_run(struct sync *s, enum mojo_kind kind, struct ids *ids, bool confirm, void (*done)(struct sync *, void *),
		void *arg);

/*
 * The items of a list page shorter than the show objects we store (search
 * results, ticket and user listings): appends their ids to *seen (when not
 * NULL) and those new or newer than stored to *changed; *max is the newest
 * updated_on among them.  An item without a usable id is reported.
 */
int list_changed(struct sync *s, enum mojo_kind kind, struct json_object *root, int n, struct ids *seen,
		 struct ids *changed, int64_t *max);

/* The stored live ids of kind that are not in seen (sorted): what a listing did not show. */
int live_not_in(struct sync *s, enum mojo_kind kind, const struct ids *seen, struct ids *out);

/* Every page of a list endpoint. */
struct lister {
	struct sync *s;
	enum mojo_kind kind;
	const char *path;
	const char *extra;	/* extra query, e.g. sort */
	int page;
	bool complete;		/* reached the last page with every page fetched */
	bool collect;		/* list items are short: collect ids, fetch the changed by show */
	struct ids seen;	/* ids listed (valid or not) */
	struct ids changed;	/* collect: ids new or newer than stored */
	void (*done)(struct lister *l);
};

void start_listing(struct sync *s, enum mojo_kind kind, const char *path, const char *extra,
		   void (*done)(struct lister *));
void lister_free(struct lister *l);
/* Listing ends: queues and companies (confirm the missing), users (then techs, show the changed). */
void simple_listing_done(struct lister *l);
void users_listing_done(struct lister *l);

#endif
