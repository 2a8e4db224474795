#!/usr/bin/env bash
# The run log (sync_runs) and the change feed (NOTIFY on a channel named as the schema).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
PG_LISTEN=${PG_LISTEN:-$top_builddir/tests/pg-listen}

pg_start
emu_start --seed 71 --tickets 250 --users 30
SCHEMA='feed "x"' write_config "$T_TMP/c.conf" "[sync]" "overlap = 1m"
S='"feed ""x"""'
"$MOJOSYNC" -c "$T_TMP/c.conf" migrate >/dev/null 2>&1
"$PG_LISTEN" 'feed "x"' 60 >"$T_TMP/feed.log" 2>&1 &
T_CLEANUP+=("kill $!")
check "a listener on the schema's channel" wait_for 10 grep -q listening "$T_TMP/feed.log"

sum_feed() { grep -F "\"resource\":\"$1\"" "$T_TMP/feed.log" | sed -n "s/.*\"$2\":\\([0-9]*\\).*/\\1/p" | awk '{ s += $1 } END { print s + 0 }'; }
feed_at_least() { [ "$(sum_feed "$1" "$2")" -ge "$3" ]; }
"$MOJOSYNC" -c "$T_TMP/c.conf" sync >"$T_TMP/out" 2>&1
is "$?" 0 "initial sync"
check "notifications arrive" wait_for 10 feed_at_least tickets inserted 250
is "$(sum_feed tickets inserted)" "$(psql_q "select count(*) from $S.tickets")" "the feed counts every inserted ticket"
is "$(sum_feed comments inserted)" "$(psql_q "select count(*) from $S.comments")" "and every inserted comment"
is "$(sum_feed users inserted)" "$(psql_q "select count(*) from $S.users")" "and every inserted user"
is "$(sum_feed companies inserted)" "$(psql_q "select count(*) from $S.companies")" "and every inserted company"
is "$(psql_q "select count(*) from $S.sync_runs")" 5 "sync_runs: one row per resource of the cycle"
is "$(psql_q "select count(distinct cycle) from $S.sync_runs")" 1 "sync_runs: the rows of a cycle share its number"
is "$(psql_q "select inserted from $S.sync_runs where resource = 'tickets'")" 250 "sync_runs: rows inserted"
is "$(psql_q "select requests > 0 and finished_at >= started_at and outcome = 'ok' and full_sync from $S.sync_runs where resource = 'tickets'")" t "sync_runs: requests, times, outcome, kind"
like "$("$MOJOSYNC" -c "$T_TMP/c.conf" status 2>&1)" "ok +250 ~0 -0" "status reads the last run"

lines=$(wc -l <"$T_TMP/feed.log")
"$MOJOSYNC" -c "$T_TMP/c.conf" sync >"$T_TMP/out" 2>&1
is "$(psql_q "select count(*) from $S.sync_runs")" 10 "a second cycle adds its five rows"
is "$(wc -l <"$T_TMP/feed.log")" "$lines" "nothing changed: no notification"

emu_post /_emu/mutate '{"tickets":7,"comments":3,"delete_tickets":1}' >/dev/null
"$MOJOSYNC" -c "$T_TMP/c.conf" sync --full >"$T_TMP/out" 2>&1
check "changes: notified" wait_for 10 feed_at_least tickets updated 7
check "a deletion: notified" wait_for 10 feed_at_least tickets deleted 1
is "$(psql_q "select updated >= 7 and deleted >= 1 from $S.sync_runs where resource = 'tickets' order by id desc limit 1")" t "sync_runs: updates and deletions of the last cycle"

emu_post /_emu/faults '{"error_rate":1}' >/dev/null
"$MOJOSYNC" -c "$T_TMP/c.conf" sync >"$T_TMP/out" 2>&1
is "$(psql_q "select outcome || ':' || (error is not null) from $S.sync_runs where resource = 'tickets' order by id desc limit 1")" "failed:true" "a failed cycle is logged with its error"
like "$("$MOJOSYNC" -c "$T_TMP/c.conf" status 2>&1 | grep '^tickets')" "failed" "status shows the failed run"

done_testing
