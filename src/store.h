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

#endif
