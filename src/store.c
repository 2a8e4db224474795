#include "ac-config.h"

#include "store.h"

#include "config.h"
#include "log.h"
#include "migrations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Advisory lock class for migrations: "mojo" in ASCII; the object is hashtext(schema). */
#define STORE_LOCK_CLASS 0x6d6f6a6f

struct store {
	PGconn *conn;
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

struct store *
store_connect(const struct config *cfg)
{
	/* Our defaults come first: anything in conninfo overrides them. */
	const char *kw[] = { "connect_timeout", "application_name", "keepalives", "keepalives_idle",
			     "keepalives_interval", "keepalives_count", "dbname", NULL };
	const char *val[] = { "10", "mojosync", "1", "60", "10", "6", cfg->conninfo, NULL };
	struct store *st;
	char msg[1024];
	PGresult *res;

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
	st->schema = strdup(cfg->schema);
	st->ident = PQescapeIdentifier(st->conn, cfg->schema, strlen(cfg->schema));
	if (st->schema == NULL || st->ident == NULL) {
		log_error("database: cannot quote schema name: %s", pq_message(st->conn, NULL, msg, sizeof(msg)));
		goto fail;
	}
	/* Timestamps travel as UTC text; nothing depends on the server's TimeZone. */
	res = PQexec(st->conn, "set timezone = 'UTC'; set statement_timeout = '5min'; "
			       "set lock_timeout = '1min'; set idle_in_transaction_session_timeout = '10min'");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_error("database: cannot set session parameters: %s", pq_message(st->conn, res, msg, sizeof(msg)));
		PQclear(res);
		goto fail;
	}
	PQclear(res);
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
	if (exec_command(st, "set statement_timeout", "set statement_timeout = '5min'; set lock_timeout = '1min'", 0,
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

	if (store_schema_version(st, &version) != 0)
		return -1;
	if (version == 0) {
		log_error("schema %s has no mojosync tables yet; run mojosync migrate (or sync)", st->ident);
		return -1;
	}
	/* One query: the state row of each resource beside its table's counts. */
	len = 1024 + 5 * (256 + 2 * strlen(st->ident));
	sql = malloc(len);
	if (sql == NULL)
		return -1;
	p = sql;
	p += snprintf(p, len, "select s.resource, coalesce(to_char(s.watermark at time zone 'UTC', "
			      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '-'), "
			      "coalesce(to_char(s.last_success at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-'), "
			      "coalesce(c.live, 0), coalesce(c.deleted, 0), coalesce(s.last_error, '') "
			      "from %s.sync_state s left join (",
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
	log_out("%-14s %-28s %-21s %10s %8s  %s\n", "resource", "watermark", "last success", "rows", "deleted",
		"last error");
	for (i = 0; i < (size_t)PQntuples(res); i++)
		log_out("%-14s %-28s %-21s %10s %8s  %s\n", PQgetvalue(res, (int)i, 0), PQgetvalue(res, (int)i, 1),
			PQgetvalue(res, (int)i, 2), PQgetvalue(res, (int)i, 3), PQgetvalue(res, (int)i, 4),
			PQgetvalue(res, (int)i, 5));
	PQclear(res);
	return 0;
}
