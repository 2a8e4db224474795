# tests/lib.sh: shared by the integration tests (bash). Source it, then call the helpers.
# TAP output: ok/not_ok lines, counted here; finish with `done_testing`.
# Each test starts what it needs (a PostgreSQL cluster, the emulator) and a trap stops it whatever happens.

set -u
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${MOJOSYNC:=$top_builddir/src/mojosync}"
: "${EMULATOR:=$top_builddir/tests/emulator/mojo-emulator}"
: "${PG_BINDIR:=/usr/lib/postgresql/15/bin}"

T_N=0
T_FAILED=0
T_TMP=$(mktemp -d /tmp/mojosync-test.XXXXXX)
chmod 755 "$T_TMP"
T_CLEANUP=()

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
diag() { sed 's/^/# /' <<<"$*"; }

# check "description" command...: ok when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# is "got" "want" "description"
is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3"
		diag "got:  $1"
		diag "want: $2"
	fi
}

# like "text" "substring" "description"
like() {
	if [[ $1 == *"$2"* ]]; then
		ok "$3"
	else
		not_ok "$3"
		diag "got:  $1"
		diag "want (inside): $2"
	fi
}

# unlike "text" "substring" "description"
unlike() {
	if [[ $1 != *"$2"* ]]; then ok "$3"; else not_ok "$3"; diag "unwanted: $2"; fi
}

on_exit() {
	local i
	for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUP[$i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$T_TMP"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

done_testing() {
	echo "1..$T_N"
	exit 0
}

# Runs a command as the postgres user when we are root (initdb refuses root).
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start: a throwaway cluster in $T_TMP/pg, listening only on a Unix socket in $T_TMP/sock ($PG_OPTS: more -c).
# Sets PGHOST, PGPORT, PGUSER, PGDATABASE and CONNINFO.
pg_start() {
	local data=$T_TMP/pg sock=$T_TMP/sock
	mkdir -p "$data" "$sock" "$T_TMP/pglog"
	[ "$(id -u)" = 0 ] && chown postgres: "$data" "$sock" "$T_TMP/pglog"
	if ! as_pg "$PG_BINDIR/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-sync >"$T_TMP/initdb.log" 2>&1; then
		echo "Bail out! initdb failed: $(tail -3 "$T_TMP/initdb.log")"
		exit 1
	fi
	PGPORT=$((20000 + RANDOM % 20000))
	T_CLEANUP+=("as_pg '$PG_BINDIR/pg_ctl' -D '$data' -m immediate -w stop")
	if ! as_pg "$PG_BINDIR/pg_ctl" -D "$data" -w -t 60 -l "$T_TMP/pglog/pg.log" \
		-o "-k $sock -p $PGPORT -c listen_addresses='' -c fsync=off -c full_page_writes=off ${PG_OPTS:-}" start >/dev/null; then
		echo "Bail out! pg_ctl start failed: $(tail -5 "$T_TMP/pglog/pg.log")"
		exit 1
	fi
	export PGHOST=$sock PGPORT PGUSER=postgres PGDATABASE=postgres
	CONNINFO="host=$sock port=$PGPORT user=postgres dbname=postgres"
}

pg_stop() {
	as_pg "$PG_BINDIR/pg_ctl" -D "$T_TMP/pg" -m fast -w stop >/dev/null 2>&1
}

pg_restart() {
	as_pg "$PG_BINDIR/pg_ctl" -D "$T_TMP/pg" -w -t 60 -l "$T_TMP/pglog/pg.log" \
		-o "-k $T_TMP/sock -p $PGPORT -c listen_addresses='' -c fsync=off -c full_page_writes=off ${PG_OPTS:-}" start >/dev/null
}

# psql_q SQL: one value (or rows, |-separated), no headers.
psql_q() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

# write_config FILE [extra INI text]: a configuration for the local cluster and helpdesk URL $HELPDESK_URL.
write_config() {
	local file=$1
	shift
	{
		echo "[helpdesk]"
		echo "url = ${HELPDESK_URL:-http://127.0.0.1:9}"
		echo "access_key = ${ACCESS_KEY:-test-access-key-0123456789abcdef}"
		echo "[database]"
		echo "conninfo = $CONNINFO"
		echo "schema = ${SCHEMA:-mojo}"
		printf '%s\n' "$@"
	} >"$file"
	chmod 600 "$file"
}

# wait_for SECONDS command...: polls the command every 0.1 s until it succeeds or time runs out.
wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# emu_start [options]: the helpdesk emulator on a free loopback port; sets EMU and HELPDESK_URL.
emu_start() {
	local out=$T_TMP/emu.$RANDOM.out
	"$EMULATOR" --port 0 --access-key "${ACCESS_KEY:-test-access-key-0123456789abcdef}" --quiet "$@" >"$out" 2>"$out.err" &
	EMU_PID=$!
	T_CLEANUP+=("kill $EMU_PID")
	if ! wait_for 60 grep -qs '^listening on 127.0.0.1:' "$out"; then
		echo "Bail out! the emulator did not start: $(cat "$out.err")"
		exit 1
	fi
	EMU=http://$(sed -n 's/^listening on //p' "$out")
	HELPDESK_URL=$EMU
}

emu_stop() {
	kill "$EMU_PID" 2>/dev/null
	wait "$EMU_PID" 2>/dev/null
}

emu_get() { curl -sf "$EMU$1"; }
emu_post() { curl -sf -X POST -H 'Content-Type: application/json' --data "$2" "$EMU$1"; }

# load_truth: the emulator's ground truth into the table _truth(j jsonb) of the test database.
load_truth() {
	emu_get /_emu/truth >"$T_TMP/truth.json" || { echo "# cannot read the truth"; return 1; }
	psql_q "set client_min_messages = warning; drop table if exists public._truth; create table public._truth (j jsonb)"
	# CSV with quote and delimiter characters that JSON text never holds: the text arrives verbatim.
	tr -d '\n' <"$T_TMP/truth.json" | psql -X -q -v ON_ERROR_STOP=1 \
		-c "\\copy public._truth from stdin with (format csv, quote e'\\x01', delimiter e'\\x02')"
}

# compare_truth SCHEMA [v1|v2]: prints the number of differences between the mirror and the truth (0: equal),
# and each difference as a TAP comment. Checks live ids, raw, every typed column against raw, custom_fields,
# and deleted_at of the records the truth lists as deleted.
compare_truth() {
	local schema=${1:-mojo} api=${2:-v2}
	load_truth || { echo 1; return; }
	psql -X -q -A -t -v ON_ERROR_STOP=1 -v schema="$schema" -v api="$api" <<'SQL'
-- The truth is in v2's form; v1 shows a ticket's custom fields as top-level custom_field_<name> keys.
create or replace function pg_temp.as_dialect(e jsonb, kind text, api text) returns jsonb language sql as $$
	select case when api = 'v1' and kind = 'tickets' and e ? 'custom_field_values'
	            then (e - 'custom_field_values') || coalesce((select jsonb_object_agg(v->>'name', v->'value')
	                                                           from jsonb_array_elements(e->'custom_field_values') v), '{}')
	            else e end
$$;
create or replace function pg_temp.diffs(s text, api text) returns table (what text) language plpgsql as $$
declare
	k record;
	c record;
	n bigint;
begin
	for k in select * from (values ('tickets', 'tickets'), ('comments', 'comments'), ('users', 'users'),
	                               ('ticket_queues', 'ticket_queues'), ('groups', 'companies')) v(kind, tab) loop
		-- live records: same ids, same raw
		for c in execute format($q$
			with t as (select (e->>'id')::bigint as id, pg_temp.as_dialect(e, %L, %L) as raw
			             from public._truth, jsonb_array_elements(j->%L) e),
			     m as (select id, raw from %I.%I where deleted_at is null)
			select coalesce(t.id, m.id) as id,
			       case when m.id is null then 'missing' when t.id is null then 'extra live row'
			            else 'raw differs' end as why
			  from t full join m on m.id = t.id
			 where m.id is null or t.id is null or m.raw <> t.raw
			 order by 1 limit 20$q$, k.tab, api, k.kind, s, k.tab) loop
			what := format('%s %s: %s', k.tab, c.id, c.why);
			return next;
		end loop;
		-- deleted records: marked
		for c in execute format($q$
			select (d)::bigint as id from public._truth, jsonb_array_elements_text(j->'deleted'->%L) d
			 where exists (select 1 from %I.%I m where m.id = d::bigint and m.deleted_at is null)
			 limit 20$q$, k.kind, s, k.tab) loop
			what := format('%s %s: deleted in the helpdesk, live in the mirror', k.tab, c.id);
			return next;
		end loop;
		-- typed columns hold the value of the same-named key of raw
		for c in select column_name, data_type from information_schema.columns
		          where table_schema = s and table_name = k.tab
		            and column_name not in ('id', 'raw', 'synced_at', 'deleted_at', 'custom_fields') loop
			execute format($q$select count(*) from %I.%I where %I is distinct from
			                  case when %s then (raw->>%L)::%s end$q$,
			               s, k.tab, c.column_name,
			               case when k.tab = 'comments' and c.column_name = 'ticket_id' then 'true'
			                    else format('raw ? %L', c.column_name) end,
			               c.column_name, c.data_type) into n;
			if n > 0 then
				what := format('%s.%s: %s rows differ from raw', k.tab, c.column_name, n);
				return next;
			end if;
		end loop;
	end loop;
	-- custom_fields: the show form's custom_field_values (or v1's custom_field_ keys) by name
	execute format($q$select count(*) from %I.tickets t where deleted_at is null and custom_fields is distinct from
		coalesce((select jsonb_object_agg(regexp_replace(v->>'name', '^custom_field_', ''), v->'value')
		            from jsonb_array_elements(coalesce(t.raw->'custom_field_values', '[]')) v),
		         (select jsonb_object_agg(substr(key, 14), value) from jsonb_each(t.raw)
		           where key like 'custom\_field\_%%' and key not in ('custom_field_values', 'custom_field_types')),
		         '{}')$q$, s) into n;
	if n > 0 then
		what := format('tickets.custom_fields: %s rows differ from raw', n);
		return next;
	end if;
end $$;
select count(*) from pg_temp.diffs(:'schema', :'api');
select '# ' || what from pg_temp.diffs(:'schema', :'api');
SQL
}

# lines_at_least FILE PATTERN N: true when FILE has at least N lines matching PATTERN (for wait_for).
lines_at_least() { [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ]; }

# free_port: a loopback TCP port nothing listens on now (from 40000 to 59999).
free_port() {
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$((40000 + RANDOM % 20000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	echo "$p"
}
