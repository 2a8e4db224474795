#include "ac-config.h"

#include "store.h"

#include "config.h"
#include "log.h"
#include "migrations.h"

#include <json-c/json.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Advisory lock class for migrations: "mojo" in ASCII; the object is hashtext(schema). */
#define STORE_LOCK_CLASS 0x6d6f6a6f

struct store {
	PGconn *conn;
	long reconnects;
	bool down;		/* the last reconnect failed: logged once until it works again */
	char *schema;		/* as configured */
	char *ident;		/* quoted: "schema" */
};

/* The message of the last libpq error, without its trailing newline. */
static const char *
pq_message(PGconn *conn, const PGresult *res, char *buf, size_t len)
{
	const char *m = res != NULL ? PQresultErrorMessage(res) : NULL;
	size_t n;

	if (m == NULL || *m == '\0')
		m = PQerrorMessage(conn);
	snprintf(buf, len, "%s", m);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

/* Runs a command that returns no rows; logs and returns -1 on failure. */
static int
exec_command(struct store *st, const char *what, const char *sql, int nparams, const char *const *params)
{
	PGresult *res;
	char msg[1024];
	int rc = 0;

	res = nparams > 0 ? PQexecParams(st->conn, sql, nparams, NULL, params, NULL, NULL, 0)
			  : PQexec(st->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("database: %s failed: %s", what, pq_message(st->conn, res, msg, sizeof(msg)));
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/* Server notices ("schema already exists, skipping") are debug lines, not noise on stderr. */
static void
notice_cb(void *arg, const char *message)
{
	char line[1024];
	size_t n;

	(void)arg;
	snprintf(line, sizeof(line), "%s", message);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("database: %s", line);
}

/*
 * Session settings: timestamps travel as UTC text (nothing depends on the
 * server's TimeZone), and no statement can hold the event loop for long.
 */
static int
session_setup(struct store *st)
{
	char msg[1024];
	PGresult *res;

	res = PQexec(st->conn, "set timezone = 'UTC'; set statement_timeout = '20s'; "
			       "set lock_timeout = '10s'; set idle_in_transaction_session_timeout = '1min'");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_error("database: cannot set session parameters: %s", pq_message(st->conn, res, msg, sizeof(msg)));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

int
store_ensure(struct store *st)
{
	char msg[1024];

	if (PQstatus(st->conn) == CONNECTION_OK && PQtransactionStatus(st->conn) == PQTRANS_IDLE)
		return 0;
	if (PQstatus(st->conn) == CONNECTION_OK) {
		/* A transaction left open by a failure: roll it back. */
		PGresult *res = PQexec(st->conn, "rollback");
		PQclear(res);
		if (PQstatus(st->conn) == CONNECTION_OK && PQtransactionStatus(st->conn) == PQTRANS_IDLE)
			return 0;
	}
	PQreset(st->conn);
	if (PQstatus(st->conn) != CONNECTION_OK) {
		if (!st->down)
			log_error("database: connection lost and reconnecting failed: %s; retrying with backoff",
				  pq_message(st->conn, NULL, msg, sizeof(msg)));
		st->down = true;
		return -1;
	}
	PQsetNoticeProcessor(st->conn, notice_cb, NULL);
	if (session_setup(st) != 0)
		return -1;
	st->reconnects++;
	st->down = false;
	log_info("database: reconnected");
	return 0;
}

long
store_reconnects(const struct store *st)
{
	return st->reconnects;
}

struct store *
store_connect(const struct config *cfg)
{
	/* Our defaults come first: anything in conninfo overrides them. */
	const char *kw[] = { "connect_timeout", "application_name", "keepalives", "keepalives_idle",
			     "keepalives_interval", "keepalives_count", "dbname", NULL };
	const char *val[] = { "10", "mojosync", "1", "60", "10", "6", cfg->conninfo, NULL };
	struct store *st;
	char msg[1024];

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->conn = PQconnectdbParams(kw, val, 1);
	if (st->conn == NULL || PQstatus(st->conn) != CONNECTION_OK) {
		log_error("cannot connect to the database given by [database] conninfo in %s: %s; check that PostgreSQL "
			  "is running and that conninfo names the right host, database and user",
			  cfg->path, st->conn ? pq_message(st->conn, NULL, msg, sizeof(msg)) : "out of memory");
		goto fail;
	}
	PQsetNoticeProcessor(st->conn, notice_cb, NULL);
	st->schema = strdup(cfg->schema);
	st->ident = PQescapeIdentifier(st->conn, cfg->schema, strlen(cfg->schema));
	if (st->schema == NULL || st->ident == NULL) {
		log_error("database: cannot quote schema name: %s", pq_message(st->conn, NULL, msg, sizeof(msg)));
		goto fail;
	}
	if (session_setup(st) != 0)
		goto fail;
	return st;
fail:
	store_free(st);
	return NULL;
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	if (st->conn != NULL)
		PQfinish(st->conn);
	free(st->schema);
	if (st->ident != NULL)
		PQfreemem(st->ident);
	free(st);
}

PGconn *
store_conn(struct store *st)
{
	return st->conn;
}

const char *
store_schema_ident(const struct store *st)
{
	return st->ident;
}

void
store_server_version(struct store *st, char *buf, size_t len)
{
	const char *v = PQparameterStatus(st->conn, "server_version");

	snprintf(buf, len, "%s", v != NULL ? v : "unknown");
}

int
store_latest_version(void)
{
	return migrations_count > 0 ? migrations[migrations_count - 1].version : 0;
}

/* Builds "prefix<ident>suffix" into a fresh string. */
static char *
with_ident(const struct store *st, const char *prefix, const char *suffix)
{
	size_t n = strlen(prefix) + strlen(st->ident) + strlen(suffix) + 1;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s%s%s", prefix, st->ident, suffix);
	return s;
}

int
store_schema_version(struct store *st, int *version)
{
	const char *params[1] = { st->schema };
	char msg[1024];
	PGresult *res;
	char *sql;
	int rc = -1;

	*version = 0;
	res = PQexecParams(st->conn,
			   "select 1 from pg_catalog.pg_tables where schemaname = $1 and tablename = 'schema_migrations'",
			   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("database: cannot read the catalog: %s", pq_message(st->conn, res, msg, sizeof(msg)));
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	PQclear(res);
	sql = with_ident(st, "select coalesce(max(version), 0) from ", ".schema_migrations");
	if (sql == NULL)
		return -1;
	res = PQexec(st->conn, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("database: cannot read %s.schema_migrations: %s", st->ident,
			  pq_message(st->conn, res, msg, sizeof(msg)));
		goto done;
	}
	*version = atoi(PQgetvalue(res, 0, 0));
	rc = 0;
done:
	PQclear(res);
	return rc;
}

/* Applies one migration in its own transaction. */
static int
apply_one(struct store *st, const struct migration *m)
{
	char version[16];
	const char *params[2] = { version, m->name };
	char *path = NULL, *ins = NULL;
	int rc = -1;

	snprintf(version, sizeof(version), "%d", m->version);
	path = with_ident(st, "set local search_path = ", "");
	ins = with_ident(st, "insert into ", ".schema_migrations (version, name) values ($1, $2)");
	if (path == NULL || ins == NULL)
		goto done;
	if (exec_command(st, "begin", "begin", 0, NULL) != 0)
		goto done;
	if (exec_command(st, "set search_path", path, 0, NULL) != 0 ||
	    exec_command(st, m->name, m->sql, 0, NULL) != 0 ||
	    exec_command(st, "recording the migration", ins, 2, params) != 0 ||
	    exec_command(st, "commit", "commit", 0, NULL) != 0) {
		PGresult *res = PQexec(st->conn, "rollback");
		PQclear(res);
		log_error("migration %s was rolled back; the schema is as it was before it", m->name);
		goto done;
	}
	log_info("applied migration %s to schema %s", m->name, st->ident);
	rc = 0;
done:
	free(path);
	free(ins);
	return rc;
}

int
store_migrate(struct store *st, int *applied)
{
	char lockid[32];
	const char *lparams[2] = { lockid, st->schema };
	char msg[1024];
	char *sql = NULL;
	PGresult *res = NULL;
	int version, n = 0, rc = -1;
	size_t i;

	if (applied != NULL)
		*applied = 0;
	snprintf(lockid, sizeof(lockid), "%d", STORE_LOCK_CLASS);
	/* Without a statement timeout: a big migration may take long, and the lock may wait. */
	if (exec_command(st, "set statement_timeout", "set statement_timeout = 0; set lock_timeout = 0", 0, NULL) != 0)
		return -1;
	/* One migrator at a time per schema; a second one waits here, then finds nothing to do. */
	if (exec_command(st, "taking the migration lock",
			 "select pg_catalog.pg_advisory_lock($1::int4, pg_catalog.hashtext($2))", 2, lparams) != 0)
		goto reset;
	sql = with_ident(st, "create schema if not exists ", "");
	if (sql == NULL || exec_command(st, "creating the schema", sql, 0, NULL) != 0)
		goto unlock;
	free(sql);
	sql = with_ident(st, "create table if not exists ",
			 ".schema_migrations (version integer primary key, name text not null, "
			 "applied_at timestamptz not null default now())");
	if (sql == NULL || exec_command(st, "creating the migrations table", sql, 0, NULL) != 0)
		goto unlock;
	free(sql);
	sql = with_ident(st, "select version, name from ", ".schema_migrations order by version");
	if (sql == NULL)
		goto unlock;
	res = PQexec(st->conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("database: cannot read the migrations table: %s", pq_message(st->conn, res, msg, sizeof(msg)));
		goto unlock;
	}
	version = PQntuples(res) > 0 ? atoi(PQgetvalue(res, PQntuples(res) - 1, 0)) : 0;
	if (version > store_latest_version()) {
		log_error("schema %s is at version %d, newer than this mojosync knows (%d); upgrade mojosync",
			  st->ident, version, store_latest_version());
		goto unlock;
	}
	for (i = 0; i < (size_t)PQntuples(res); i++) {
		int v = atoi(PQgetvalue(res, (int)i, 0));
		size_t j;
		for (j = 0; j < migrations_count; j++)
			if (migrations[j].version == v && strcmp(migrations[j].name, PQgetvalue(res, (int)i, 1)) != 0) {
				log_error("schema %s: migration %d is recorded as %s but this mojosync has %s; "
					  "the schema was made by another build",
					  st->ident, v, PQgetvalue(res, (int)i, 1), migrations[j].name);
				goto unlock;
			}
	}
	for (i = 0; i < migrations_count; i++) {
		if (migrations[i].version <= version)
			continue;
		if (apply_one(st, &migrations[i]) != 0)
			goto unlock;
		n++;
	}
	if (applied != NULL)
		*applied = n;
	rc = 0;
unlock:
	PQclear(res);
	free(sql);
	if (exec_command(st, "releasing the migration lock",
			 "select pg_catalog.pg_advisory_unlock($1::int4, pg_catalog.hashtext($2))", 2, lparams) != 0)
		rc = -1;
reset:
	if (exec_command(st, "set statement_timeout", "set statement_timeout = '20s'; set lock_timeout = '10s'", 0,
			 NULL) != 0)
		rc = -1;
	return rc;
}

int
store_print_status(struct store *st)
{
	static const char *const tables[] = { "tickets", "comments", "users", "ticket_queues", "companies" };
	char msg[1024];
	PGresult *res;
	char *sql, *p;
	size_t i, len;
	int version;
	bool runs;

	if (store_schema_version(st, &version) != 0)
		return -1;
	if (version == 0) {
		log_error("schema %s has no mojosync tables yet; run mojosync migrate (or sync)", st->ident);
		return -1;
	}
	runs = version >= 4;	/* the run log came with migration 4 */
	/* One query: the state row of each resource beside its table's counts and its last run. */
	len = 2048 + 5 * (256 + 2 * strlen(st->ident));
	sql = malloc(len);
	if (sql == NULL)
		return -1;
	p = sql;
	p += snprintf(p, len, "select s.resource, coalesce(to_char(s.watermark at time zone 'UTC', "
			      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '-'), "
			      "coalesce(to_char(s.last_success at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-'), "
			      "coalesce(c.live, 0), coalesce(c.deleted, 0), %s%s%s, coalesce(s.last_error, '') "
			      "from %s.sync_state s left join (",
		      runs ? "coalesce((select r.outcome || ' +' || r.inserted || ' ~' || r.updated || ' -' || r.deleted "
			     "|| ' in ' || round(extract(epoch from r.finished_at - r.started_at), 1) || 's' from "
			   : "'-'",
		      runs ? st->ident : "",
		      runs ? ".sync_runs r where r.resource = s.resource order by r.id desc limit 1), '-')" : "",
		      st->ident);
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		p += snprintf(p, len - (size_t)(p - sql),
			      "%sselect '%s'::text as resource, count(*) filter (where deleted_at is null) as live, "
			      "count(*) filter (where deleted_at is not null) as deleted from %s.%s",
			      i ? " union all " : "", tables[i], st->ident, tables[i]);
	snprintf(p, len - (size_t)(p - sql), ") c using (resource) order by s.resource");
	res = PQexec(st->conn, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("database: cannot read the sync state: %s", pq_message(st->conn, res, msg, sizeof(msg)));
		PQclear(res);
		return -1;
	}
	log_out("%-14s %-28s %-21s %9s %8s  %-26s %s\n", "resource", "watermark", "last success", "rows", "deleted",
		"last run (+ins ~upd -del)", "last error");
	for (i = 0; i < (size_t)PQntuples(res); i++)
		log_out("%-14s %-28s %-21s %9s %8s  %-26s %s\n", PQgetvalue(res, (int)i, 0), PQgetvalue(res, (int)i, 1),
			PQgetvalue(res, (int)i, 2), PQgetvalue(res, (int)i, 3), PQgetvalue(res, (int)i, 4),
			PQgetvalue(res, (int)i, 5), PQgetvalue(res, (int)i, 6));
	PQclear(res);
	return 0;
}

/* ---- the sync engine's statements ---- */

/* Runs a statement with text parameters; returns the result or NULL after logging. */
static PGresult *
exec_params(struct store *st, const char *what, const char *sql, int n, const char *const *params, ExecStatusType want)
{
	char msg[1024];
	PGresult *res;

	res = PQexecParams(st->conn, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != want) {
		log_error("database: %s failed: %s", what, pq_message(st->conn, res, msg, sizeof(msg)));
		PQclear(res);
		return NULL;
	}
	return res;
}

int
store_begin(struct store *st)
{
	return exec_command(st, "begin", "begin", 0, NULL);
}

int
store_commit(struct store *st)
{
	return exec_command(st, "commit", "commit", 0, NULL);
}

void
store_rollback(struct store *st)
{
	PGresult *res = PQexec(st->conn, "rollback");

	PQclear(res);
}

/* A PostgreSQL bigint[] literal: {1,2,3}. */
static char *
id_array(const int64_t *ids, size_t n)
{
	char *s = malloc(n * 21 + 3), *p;
	size_t i;

	if (s == NULL)
		return NULL;
	p = s;
	*p++ = '{';
	for (i = 0; i < n; i++)
		p += sprintf(p, i ? ",%lld" : "%lld", (long long)ids[i]);
	*p++ = '}';
	*p = '\0';
	return s;
}

static const char *
cast_of(enum mojo_col_type t)
{
	switch (t) {
	case MOJO_COL_BIGINT:
		return "::bigint";
	case MOJO_COL_BOOL:
		return "::boolean";
	case MOJO_COL_TIME:
		return "::timestamptz";
	case MOJO_COL_DATE:
		return "::date";
	default:
		return "";
	}
}

/* Appends printf output to a growing string; returns -1 when out of memory. */
static int
sb_printf(char **buf, size_t *len, size_t *cap, const char *fmt, ...) MOJO_PRINTF(4, 5);

static int
sb_printf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if (*len + (size_t)n < *cap) {
			*len += (size_t)n;
			return 0;
		}
		*cap = (*cap + (size_t)n) * 2;
		*buf = realloc(*buf, *cap);
		if (*buf == NULL)
			return -1;
	}
}

/* The upsert of one kind, built from the column table of mojo. */
static char *
upsert_sql(const struct store *st, enum mojo_kind kind)
{
	const struct mojo_column *cols;
	const char *table = mojo_kind_table(kind);
	size_t n, i, len = 0, cap = 4096;
	bool has_updated = false;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	cols = mojo_columns(kind, &n);
	for (i = 0; i < n; i++)
		has_updated |= strcmp(cols[i].name, "updated_on") == 0;
	s[0] = '\0';
	/* The newest of duplicate ids in one page wins; ON CONFLICT may not touch a row twice. */
	sb_printf(&s, &len, &cap,
		  "with input as (select distinct on ((w->'raw'->>'id')::bigint) w->'raw' as raw, w "
		  "from pg_catalog.jsonb_array_elements($1::jsonb) as e(w) "
		  "order by (w->'raw'->>'id')::bigint, %s) "
		  "insert into %s.%s as t (id",
		  has_updated ? "(w->'raw'->>'updated_on')::timestamptz desc nulls last" : "1", st->ident, table);
	for (i = 0; i < n; i++)
		sb_printf(&s, &len, &cap, ", %s", cols[i].name);
	if (kind == MOJO_TICKETS)
		sb_printf(&s, &len, &cap, ", custom_fields");
	sb_printf(&s, &len, &cap, ", raw, synced_at, deleted_at) select (raw->>'id')::bigint");
	for (i = 0; i < n; i++) {
		if (kind == MOJO_COMMENTS && strcmp(cols[i].name, "ticket_id") == 0)
			sb_printf(&s, &len, &cap,
				  ", coalesce((raw->>'ticket_id')::bigint, nullif((w->>'parent_id')::bigint, 0))");
		else
			sb_printf(&s, &len, &cap, ", (raw->>'%s')%s", cols[i].name, cast_of(cols[i].type));
	}
	if (kind == MOJO_TICKETS)
		sb_printf(&s, &len, &cap, ", coalesce(w->'custom_fields', '{}'::jsonb)");
	sb_printf(&s, &len, &cap, ", raw, now(), null from input on conflict (id) do update set ");
	for (i = 0; i < n; i++)
		sb_printf(&s, &len, &cap, "%s = excluded.%s, ", cols[i].name, cols[i].name);
	if (kind == MOJO_TICKETS)
		sb_printf(&s, &len, &cap, "custom_fields = excluded.custom_fields, ");
	sb_printf(&s, &len, &cap,
		  "raw = excluded.raw, synced_at = excluded.synced_at, deleted_at = null "
		  "where (t.raw is distinct from excluded.raw or t.deleted_at is not null)");
	/* Never older: a late or stale answer does not overwrite a newer row. */
	if (has_updated)
		sb_printf(&s, &len, &cap,
			  " and (t.updated_on is null or excluded.updated_on is null or excluded.updated_on >= t.updated_on)");
	if (sb_printf(&s, &len, &cap, " returning t.id, (t.xmax = 0)") != 0) {
		free(s);
		return NULL;
	}
	return s;
}

int
store_upsert(struct store *st, enum mojo_kind kind, const char *json, struct store_counts *c, struct ids *updated)
{
	const char *params[1] = { json };
	char what[64];
	PGresult *res;
	char *sql;
	int i;

	sql = upsert_sql(st, kind);
	if (sql == NULL)
		return -1;
	snprintf(what, sizeof(what), "storing %s", mojo_kind_table(kind));
	res = exec_params(st, what, sql, 1, params, PGRES_TUPLES_OK);
	free(sql);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		if (PQgetvalue(res, i, 1)[0] == 't') {
			c->inserted++;
		} else {
			c->updated++;
			if (updated != NULL)
				ids_add(updated, strtoll(PQgetvalue(res, i, 0), NULL, 10));
		}
	}
	PQclear(res);
	return 0;
}

int
store_changed(struct store *st, enum mojo_kind kind, const int64_t *ids, const int64_t *updated, size_t n,
	      bool *changed)
{
	char sql[512];
	const char *params[1];
	PGresult *res;
	char *arr;
	size_t i, j;
	int rows;

	for (i = 0; i < n; i++)
		changed[i] = true;
	if (n == 0)
		return 0;
	arr = id_array(ids, n);
	if (arr == NULL)
		return -1;
	params[0] = arr;
	snprintf(sql, sizeof(sql),
		 "select id, coalesce((extract(epoch from updated_on) * 1000000)::bigint, -1), deleted_at is not null "
		 "from %s.%s where id = any($1::bigint[])",
		 st->ident, mojo_kind_table(kind));
	res = exec_params(st, "reading stored versions", sql, 1, params, PGRES_TUPLES_OK);
	free(arr);
	if (res == NULL)
		return -1;
	rows = PQntuples(res);
	for (j = 0; j < (size_t)rows; j++) {
		int64_t id = strtoll(PQgetvalue(res, (int)j, 0), NULL, 10);
		int64_t have = strtoll(PQgetvalue(res, (int)j, 1), NULL, 10);
		bool deleted = PQgetvalue(res, (int)j, 2)[0] == 't';
		for (i = 0; i < n; i++) {
			if (ids[i] != id)
				continue;
			if (deleted)
				changed[i] = true;
			else if (updated == NULL)
				changed[i] = false;
			else
				changed[i] = updated[i] == MOJO_NO_TIME || have == -1 || have < updated[i];
		}
	}
	PQclear(res);
	return 0;
}

/* Runs a query whose first column is an id, appending every row's to *out. */
static int
query_ids(struct store *st, const char *what, const char *sql, int nparams, const char *const *params,
	  struct ids *out)
{
	PGresult *res = exec_params(st, what, sql, nparams, params, PGRES_TUPLES_OK);
	int i, rc = 0;

	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = ids_add(out, strtoll(PQgetvalue(res, i, 0), NULL, 10));
	PQclear(res);
	return rc;
}

int
store_live_ids(struct store *st, enum mojo_kind kind, struct ids *out)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "select id from %s.%s where deleted_at is null order by id", st->ident,
		 mojo_kind_table(kind));
	return query_ids(st, "listing stored ids", sql, 0, NULL, out);
}

static int
exec_count(struct store *st, const char *what, const char *sql, int nparams, const char *const *params, long *count)
{
	PGresult *res = exec_params(st, what, sql, nparams, params, PGRES_COMMAND_OK);

	if (res == NULL)
		return -1;
	if (count != NULL)
		*count += strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

int
store_mark_deleted(struct store *st, enum mojo_kind kind, const int64_t *ids, size_t n, struct store_counts *c)
{
	char sql[256];
	const char *params[1];
	char *arr;
	int rc;

	if (n == 0)
		return 0;
	arr = id_array(ids, n);
	if (arr == NULL)
		return -1;
	params[0] = arr;
	snprintf(sql, sizeof(sql),
		 "update %s.%s set deleted_at = now() where id = any($1::bigint[]) and deleted_at is null", st->ident,
		 mojo_kind_table(kind));
	rc = exec_count(st, "marking deletions", sql, 1, params, &c->deleted);
	free(arr);
	return rc;
}

int
store_mark_comments_gone(struct store *st, const int64_t *tickets, size_t nt, const int64_t *keep, size_t nk,
			 struct store_counts *c)
{
	char sql[256];
	const char *params[2];
	char *ta, *ka;
	int rc = -1;

	if (nt == 0)
		return 0;
	ta = id_array(tickets, nt);
	ka = id_array(keep, nk);
	if (ta != NULL && ka != NULL) {
		params[0] = ta;
		params[1] = ka;
		snprintf(sql, sizeof(sql),
			 "update %s.comments set deleted_at = now() where ticket_id = any($1::bigint[]) "
			 "and deleted_at is null and id <> all($2::bigint[])",
			 st->ident);
		rc = exec_count(st, "marking deleted comments", sql, 2, params, &c->deleted);
	}
	free(ta);
	free(ka);
	return rc;
}

/* Runs a query of one row and one column, a time in Unix microseconds or null (MOJO_NO_TIME). */
static int
query_time(struct store *st, const char *what, const char *sql, int nparams, const char *const *params, int64_t *us)
{
	PGresult *res = exec_params(st, what, sql, nparams, params, PGRES_TUPLES_OK);

	*us = MOJO_NO_TIME;
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		*us = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int
store_get_watermark(struct store *st, const char *resource, int64_t *us)
{
	char sql[256];
	const char *params[1] = { resource };

	snprintf(sql, sizeof(sql),
		 "select (extract(epoch from watermark) * 1000000)::bigint from %s.sync_state where resource = $1",
		 st->ident);
	return query_time(st, "reading the watermark", sql, 1, params, us);
}

int
store_set_watermark(struct store *st, const char *resource, int64_t us)
{
	char sql[256], when[64];
	const char *params[2] = { resource, when };

	mojo_format_time(us, true, when, sizeof(when));
	snprintf(sql, sizeof(sql),
		 "update %s.sync_state set watermark = greatest(watermark, $2::timestamptz), last_attempt = now() "
		 "where resource = $1",
		 st->ident);
	return exec_count(st, "moving the watermark", sql, 2, params, NULL);
}

int
store_finish_resource(struct store *st, const char *resource, const char *error, bool reconciled)
{
	char sql[320];
	const char *params[2] = { resource, error };

	if (error == NULL)
		snprintf(sql, sizeof(sql),
			 "update %s.sync_state set last_success = now(), last_attempt = now(), last_error = null%s "
			 "where resource = $1",
			 st->ident, reconciled ? ", last_reconcile = now()" : "");
	else
		snprintf(sql, sizeof(sql),
			 "update %s.sync_state set last_attempt = now(), last_error = $2 where resource = $1", st->ident);
	return exec_count(st, "recording the outcome", sql, error == NULL ? 1 : 2, params, NULL);
}

int
store_failure_add(struct store *st, const char *resource, int64_t id, const char *reason)
{
	char sql[512], idtext[24];
	const char *params[3] = { resource, idtext, reason };

	snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
	snprintf(sql, sizeof(sql),
		 "insert into %s.sync_failures (resource, id, reason) values ($1, $2, $3) "
		 "on conflict (resource, id) do update set reason = excluded.reason, last_failed = now(), "
		 "attempts = sync_failures.attempts + 1",
		 st->ident);
	return exec_count(st, "recording a failed record", sql, 3, params, NULL);
}

int
store_failure_clear(struct store *st, const char *resource, const int64_t *ids, size_t n)
{
	char sql[256];
	const char *params[2] = { resource, NULL };
	char *arr;
	int rc;

	if (n == 0)
		return 0;
	arr = id_array(ids, n);
	if (arr == NULL)
		return -1;
	params[1] = arr;
	snprintf(sql, sizeof(sql), "delete from %s.sync_failures where resource = $1 and id = any($2::bigint[])",
		 st->ident);
	rc = exec_count(st, "clearing failed records", sql, 2, params, NULL);
	free(arr);
	return rc;
}

int
store_failure_ids(struct store *st, const char *resource, struct ids *out)
{
	char sql[256];
	const char *params[1] = { resource };

	snprintf(sql, sizeof(sql), "select id from %s.sync_failures where resource = $1 order by id", st->ident);
	return query_ids(st, "reading failed records", sql, 1, params, out);
}

int
store_tickets_embedding(struct store *st, const struct ids *users, const struct ids *queues,
			const struct ids *companies, struct ids *out)
{
	char sql[1024];
	const char *params[3];
	char *u, *q, *c;
	int rc = -1;

	if (users->n == 0 && queues->n == 0 && companies->n == 0)
		return 0;
	u = id_array(users->v, users->n);
	q = id_array(queues->v, queues->n);
	c = id_array(companies->v, companies->n);
	if (u == NULL || q == NULL || c == NULL)
		goto out;
	params[0] = u;
	params[1] = q;
	params[2] = c;
	snprintf(sql, sizeof(sql),
		 "select id from %s.tickets where deleted_at is null and (user_id = any($1::bigint[]) "
		 "or assigned_to_id = any($1::bigint[]) or ticket_queue_id = any($2::bigint[]) "
		 "or company_id = any($3::bigint[])) "
		 "union select ticket_id from %s.comments where deleted_at is null and user_id = any($1::bigint[]) "
		 "and ticket_id in (select id from %s.tickets where deleted_at is null)",
		 st->ident, st->ident, st->ident);
	rc = query_ids(st, "finding tickets that embed changed records", sql, 3, params, out);
out:
	free(u);
	free(q);
	free(c);
	return rc;
}

int
store_users_embedding(struct store *st, const struct ids *companies, const struct ids *queues, struct ids *out)
{
	char sql[512];
	const char *params[2];
	char *c, *q;
	int rc;

	if (companies->n == 0 && queues->n == 0)
		return 0;
	c = id_array(companies->v, companies->n);
	q = id_array(queues->v, queues->n);
	params[0] = c;
	params[1] = q;
	snprintf(sql, sizeof(sql),
		 "select id from %s.users u where deleted_at is null and (company_id = any($1::bigint[]) "
		 "or (cardinality($2::bigint[]) > 0 and exists (select 1 from pg_catalog.jsonb_array_elements("
		 "case when pg_catalog.jsonb_typeof(u.raw->'related_data'->'accessible_queues') = 'array' "
		 "then u.raw->'related_data'->'accessible_queues' else '[]' end) a "
		 "where (a->>'id') ~ '^[0-9]{1,18}$' and (a->>'id')::bigint = any($2::bigint[]))))",
		 st->ident);
	rc = c && q ? query_ids(st, "finding users that embed changed records", sql, 2, params, out) : -1;
	free(c);
	free(q);
	return rc;
}

int
store_last_reconcile(struct store *st, int64_t *us)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "select case when bool_or(last_reconcile is null) then null "
		 "else (extract(epoch from min(last_reconcile)) * 1000000)::bigint end from %s.sync_state",
		 st->ident);
	return query_time(st, "reading the last reconciliation", sql, 0, NULL, us);
}

int
store_notify(struct store *st, const char *resource, const struct store_counts *c)
{
	char payload[256];
	const char *params[2] = { st->schema, payload };
	PGresult *res;

	if (c->inserted == 0 && c->updated == 0 && c->deleted == 0)
		return 0;
	snprintf(payload, sizeof(payload), "{\"resource\":\"%s\",\"inserted\":%ld,\"updated\":%ld,\"deleted\":%ld}",
		 resource, c->inserted, c->updated, c->deleted);
	res = exec_params(st, "notifying listeners", "select pg_catalog.pg_notify($1, $2)", 2, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
store_log_runs(struct store *st, const struct store_run *runs, size_t n)
{
	struct json_object *arr = json_object_new_array(), *o;
	const char *params[2];
	char sql[1024], *seq;
	size_t i;
	int rc;

	if (arr == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "resource", json_object_new_string(runs[i].resource));
		json_object_object_add(o, "started", json_object_new_int64(runs[i].started_us));
		json_object_object_add(o, "finished", json_object_new_int64(runs[i].finished_us));
		json_object_object_add(o, "full", json_object_new_boolean(runs[i].full));
		json_object_object_add(o, "requests", json_object_new_int64(runs[i].requests));
		json_object_object_add(o, "retries", json_object_new_int64(runs[i].retries));
		json_object_object_add(o, "inserted", json_object_new_int64(runs[i].inserted));
		json_object_object_add(o, "updated", json_object_new_int64(runs[i].updated));
		json_object_object_add(o, "deleted", json_object_new_int64(runs[i].deleted));
		json_object_object_add(o, "failed", json_object_new_int64(runs[i].failed));
		json_object_object_add(o, "outcome", json_object_new_string(runs[i].outcome));
		json_object_object_add(o, "error", runs[i].error ? json_object_new_string(runs[i].error) : NULL);
		json_object_array_add(arr, o);
	}
	params[0] = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
	seq = with_ident(st, "", ".sync_runs_cycle_seq");
	params[1] = seq;
	snprintf(sql, sizeof(sql),
		 "with c as (select pg_catalog.nextval($2::regclass) as cycle) "
		 "insert into %s.sync_runs (cycle, resource, started_at, finished_at, full_sync, requests, retries, "
		 "inserted, updated, deleted, failed_records, outcome, error) "
		 "select c.cycle, r->>'resource', to_timestamp((r->>'started')::bigint / 1e6), "
		 "to_timestamp((r->>'finished')::bigint / 1e6), (r->>'full')::boolean, (r->>'requests')::bigint, "
		 "(r->>'retries')::bigint, (r->>'inserted')::bigint, (r->>'updated')::bigint, (r->>'deleted')::bigint, "
		 "(r->>'failed')::bigint, r->>'outcome', r->>'error' "
		 "from c, pg_catalog.jsonb_array_elements($1::jsonb) r",
		 st->ident);
	rc = seq != NULL ? exec_count(st, "writing the run log", sql, 2, params, NULL) : -1;
	free(seq);
	json_object_put(arr);
	return rc;
}
