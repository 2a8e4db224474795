/*
 * mojo: the Mojo Helpdesk API without I/O: URLs of both dialects, times,
 * and JSON bodies to records ready for the store.
 */
#ifndef MOJOSYNC_MOJO_H
#define MOJOSYNC_MOJO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct json_object;

/* The mirrored kinds, in the order of their tables. */
enum mojo_kind {
	MOJO_TICKETS,
	MOJO_COMMENTS,
	MOJO_USERS,
	MOJO_QUEUES,
	MOJO_GROUPS,
	MOJO_NKINDS
};

/* Table and sync_state name: tickets, comments, users, ticket_queues, companies. */
const char *mojo_kind_table(enum mojo_kind kind);
/* Singular for messages and v1 wrappers: ticket, comment, user, ticket_queue, company. */
const char *mojo_kind_singular(enum mojo_kind kind);

/* Typed columns of a table, beside id, raw, synced_at, deleted_at. */
enum mojo_col_type {
	MOJO_COL_TEXT,
	MOJO_COL_BIGINT,
	MOJO_COL_BOOL,
	MOJO_COL_TIME,
	MOJO_COL_DATE,
};

struct mojo_column {
	const char *name;	/* the API's field name and the column's */
	enum mojo_col_type type;
};

/* The typed columns of kind; *n receives how many. */
const struct mojo_column *mojo_columns(enum mojo_kind kind, size_t *n);

/*
 * Builds <url>/api/v2/<path>?access_key=KEY[&query] (v1: <url>/api/<path>).
 * In v1, a path starting with "groups" becomes "companies".  query is
 * appended as given (already escaped).  Returns a new string, or NULL.
 * The result holds the key: free it with mojo_url_free().
 */
char *mojo_url(const struct config *cfg, const char *path, const char *query);
void mojo_url_free(char *url);

/*
 * The endpoint class of an API path (as given to mojo_url), for metrics
 * and logs: tickets.search, tickets.show, tickets.list, comments.list,
 * users.list, users.techs, users.show, ticket_queues.list, groups.show, ...
 */
void mojo_endpoint_class(const char *path, char *buf, size_t len);

/* A one-line description of an error body ({"message":…} or {"error":…}), into buf. */
void mojo_error_text(const char *body, size_t len, char *buf, size_t buflen);

/* Times on the helpdesk's clock, in microseconds since the epoch. */
#define MOJO_NO_TIME INT64_MIN

/*
 * Parses an ISO 8601 time: YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|+HH[:MM]|-HH[:MM]]
 * (no zone means UTC).  Returns 0, or -1 when it is not one.
 */
int mojo_parse_time(const char *s, int64_t *us);

/* Formats as 2024-01-02T03:04:05.123456Z (with_fraction) or, floored, 2024-01-02T03:04:05Z. */
void mojo_format_time(int64_t us, bool with_fraction, char *buf, size_t len);

/*
 * Parses a response body.  Returns a new json_object (put it), or NULL
 * with a reason in err ("truncated JSON", "malformed JSON at byte 12: …").
 */
struct json_object *mojo_parse_body(const char *body, size_t len, char *err, size_t errlen);

/*
 * The object a show answered, unwrapped in v1 ({"ticket":{…}}); borrowed
 * from root.  NULL with a reason when root is not an object.
 */
struct json_object *mojo_show_object(struct json_object *root, enum mojo_kind kind, char *err, size_t errlen);

/*
 * The i-th item of a list body, unwrapped in v1; borrowed.  Returns NULL
 * when the item is not an object.  mojo_list_length() is -1 when root is
 * not an array.
 */
int mojo_list_length(struct json_object *root);
struct json_object *mojo_list_item(struct json_object *root, int i, enum mojo_kind kind);

/* The id of an object: > 0, or -1 when missing or not a positive integer. */
int64_t mojo_object_id(struct json_object *obj);

/* The updated_on of an object, or MOJO_NO_TIME when missing/null/bad. */
int64_t mojo_object_time(struct json_object *obj, const char *field);

/* A record ready for the store. */
struct mojo_record {
	enum mojo_kind kind;
	int64_t id;
	int64_t updated_on;	/* MOJO_NO_TIME when the record has none */
	int64_t users[2];	/* users it refers to (0 = none): requester, assignee, or author */
	char *json;		/* {"raw":…,"custom_fields":…,"ticket_id":…}: one element of a page */
};

/*
 * Checks obj against the columns of kind (every typed field absent, null
 * or of its type; id a positive integer) and serializes it.  Strings
 * holding U+0000, which PostgreSQL cannot store, get U+FFFD instead.
 * parent_id is the ticket a comment was listed under (0 otherwise).
 * Returns 0, or -1 with the reason in why.
 */
int mojo_record_make(struct mojo_record *rec, enum mojo_kind kind, struct json_object *obj, int64_t parent_id,
		     char *why, size_t whylen);
void mojo_record_clear(struct mojo_record *rec);

/* The custom fields of a ticket as one object by name, from either dialect's form; a new object. */
struct json_object *mojo_custom_fields(struct json_object *ticket);

#endif
