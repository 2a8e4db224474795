#!/usr/bin/env bash
# bench/sync.sh [TICKETS]: the initial sync of a helpdesk of TICKETS tickets (default 10000) and an idle cycle,
# against the emulator on loopback and a throwaway PostgreSQL. Prints requests, times, rows per second, and the
# ratio of the sync's time to PostgreSQL's own bulk load (COPY) of the same records' JSON into a jsonb table.
# Run from a build directory (or set MOJOSYNC and EMULATOR). Ratios from one run; not a test.
set -eu
: "${top_builddir:=$PWD}"	# binaries from the build directory we run in
. "$(dirname "$0")/../tests/lib.sh"
n=${1:-10000}

ms() { date +%s%3N; }
pg_start
emu_start --seed 99 --tickets "$n" --users $((n / 20 + 10)) --comments-per-ticket 3
write_config "$T_TMP/c.conf" "[sync]" "concurrency = 8"

emu_post /_emu/stats/reset '{}' >/dev/null
t0=$(ms)
"$MOJOSYNC" -c "$T_TMP/c.conf" sync 2>"$T_TMP/initial.log"
t1=$(ms)
req_initial=$(emu_get /_emu/stats | jq '[.requests[] | to_entries[] | .value] | add')
rows=$(psql_q "select (select count(*) from mojo.tickets) + (select count(*) from mojo.comments) + (select count(*) from mojo.users) + (select count(*) from mojo.ticket_queues) + (select count(*) from mojo.companies)")
bytes=$(psql_q "select sum(pg_column_size(raw)) from (select raw from mojo.tickets union all select raw from mojo.comments union all select raw from mojo.users) x")

emu_post /_emu/stats/reset '{}' >/dev/null
t2=$(ms)
"$MOJOSYNC" -c "$T_TMP/c.conf" sync 2>"$T_TMP/idle.log"
t3=$(ms)
req_idle=$(emu_get /_emu/stats | jq '[.requests[] | to_entries[] | .value] | add // 0')

# The baseline: COPY the same objects (one JSON document per line) into a plain jsonb table.
psql_q "copy (select raw from mojo.tickets union all select raw from mojo.comments union all select raw from mojo.users) to stdout" >"$T_TMP/raw.txt" 2>/dev/null ||
	psql -X -q -c "\\copy (select raw from mojo.tickets union all select raw from mojo.comments union all select raw from mojo.users) to '$T_TMP/raw.txt'"
psql_q "create table public.bulk (raw jsonb not null)"
t4=$(ms)
psql -X -q -c "\\copy public.bulk from '$T_TMP/raw.txt'"
t5=$(ms)

initial=$((t1 - t0)); idle=$((t3 - t2)); copy=$((t5 - t4))
echo "helpdesk: $n tickets; mirrored rows: $rows ($((bytes / 1048576)) MiB of jsonb)"
echo "initial sync: ${initial} ms, $req_initial requests, $((rows * 1000 / (initial > 0 ? initial : 1))) rows/s"
echo "idle cycle:   ${idle} ms, $req_idle requests"
echo "COPY of the same JSON into one jsonb table: ${copy} ms"
awk -v a="$initial" -v b="$copy" 'BEGIN { printf "ratio initial sync / bulk load: %.1f\n", a / (b > 0 ? b : 1) }'
grep -h "cycle done" "$T_TMP/initial.log" | sed 's/^/  /'
