#!/usr/bin/env bash
# mojosync sync against the emulator and a real PostgreSQL: the mirror equals the helpdesk, in both dialects,
# incrementally, idempotently, with deletions, bad records and the emulator's warts.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

PG_OPTS="-c log_statement=mod" pg_start
emu_start --seed 7 --tickets 400 --users 80 --comments-per-ticket 3
write_config "$T_TMP/c.conf" "[sync]" "overlap = 1m"

sync_run() { "$MOJOSYNC" -c "$T_TMP/c.conf" sync "$@" >"$T_TMP/out" 2>&1; echo $?; }
equal() {
	local out n
	out=$(compare_truth "${SCHEMA:-mojo}" "${API:-v2}")
	n=$(head -1 <<<"$out")
	is "$n" 0 "$1"
	[ "$n" = 0 ] || diag "$(tail -n +2 <<<"$out" | head -20)"
}
requests() { emu_get /_emu/stats | jq '[.requests[] | to_entries[] | .value] | add // 0'; }
xmin_sum() { psql_q "select coalesce(sum(xmin::text::bigint), 0) from (select xmin from mojo.tickets union all select xmin from mojo.comments union all select xmin from mojo.users union all select xmin from mojo.ticket_queues union all select xmin from mojo.companies) x"; }

# --- the initial sync, on a terminal: progress
log_mark=$(wc -l <"$T_TMP/pglog/pg.log")
emu_post /_emu/stats/reset '{}' >/dev/null
script -qec "'$MOJOSYNC' -c '$T_TMP/c.conf' sync" /dev/null >"$T_TMP/out" 2>&1; rc=$?
is "$rc" 0 "initial sync exits 0"
like "$(cat "$T_TMP/out")" "cycle done" "a summary line ends the cycle"
like "$(cat "$T_TMP/out")" "tickets: 400 inserted" "the summary counts rows per resource"
check "on a terminal the initial sync shows its progress" grep -Eq 'initial sync: [0-9]+ pages, [0-9]+ records' "$T_TMP/out"
inserts=$(tail -n +"$log_mark" "$T_TMP/pglog/pg.log" | grep -c 'insert into "mojo"\.tickets')
searches=$(emu_get /_emu/stats | jq '.requests["tickets.search"]["200"]')
check "batched writes: one insert statement per search page ($inserts inserts, $searches pages), not one per row" test "$inserts" -ge 4 -a "$inserts" -le "$searches"
cinserts=$(tail -n +"$log_mark" "$T_TMP/pglog/pg.log" | grep -c 'insert into "mojo"\.comments')
check "batched writes: one insert of comments per page ($cinserts), not one per comment" test "$cinserts" -le 5
out=$("$MOJOSYNC" -c "$T_TMP/c.conf" sync 2>&1)
unlike "$out" "initial sync:" "not on a terminal, no progress line"
equal "after the initial sync the mirror equals the helpdesk (v2)"
is "$(psql_q "select count(*) from mojo.ticket_history")" 400 "one history row per ticket"
wm=$(psql_q "select watermark from mojo.sync_state where resource = 'tickets'")
is "$wm" "$(psql_q "select max(updated_on) from mojo.tickets")" "the watermark is the newest updated_on the helpdesk sent"

# --- idempotence: nothing changed, nothing written, few requests
before=$(xmin_sum)
hist=$(psql_q "select count(*) from mojo.ticket_history")
emu_post /_emu/stats/reset '{}' >/dev/null
is "$(sync_run)" 0 "an idle sync exits 0"
is "$(xmin_sum)" "$before" "an idle sync rewrites no row"
is "$(psql_q "select count(*) from mojo.ticket_history")" "$hist" "an idle sync adds no history"
n=$(requests)
check "an idle sync makes few requests ($n)" test "$n" -le 4

# --- changes: edits, new tickets, comments, new users
emu_post /_emu/mutate '{"tickets":20,"new_tickets":5,"comments":15,"queues":1,"groups":1}' >/dev/null
is "$(sync_run)" 0 "sync after changes exits 0"
equal "after edits, new tickets, comments, renamed queues and companies: equal after one sync"
# Users change without touching tickets: the sweep of sync --full finds them, and the records that embed them.
emu_post /_emu/mutate '{"new_users":3,"users":4,"tickets":3}' >/dev/null
is "$(sync_run)" 0 "sync after user changes exits 0"
is "$(psql_q "select count(*) from mojo.tickets t where not exists (select 1 from mojo.users u where u.id = t.user_id) and t.user_id is not null")" 0 "every requester a ticket refers to is mirrored in the same cycle"
is "$(psql_q "select count(*) from mojo.comments c where not exists (select 1 from mojo.users u where u.id = c.user_id) and c.user_id is not null")" 0 "every comment author is mirrored in the same cycle"
check "history grew with the edits" test "$(psql_q "select count(*) from mojo.ticket_history")" -gt "$hist"
is "$(sync_run --full)" 0 "sync --full exits 0"
equal "after sync --full the mirror equals the helpdesk, users included"

# --- a ticket with more comments than one page holds: every page is fetched
busy=$(psql_q "select id from mojo.tickets where deleted_at is null order by id limit 1")
for i in $(seq 1 105); do
	curl -sf -X POST -H 'Content-Type: application/json' --data "{\"body\":\"comment $i\"}" \
		"$EMU/api/v2/tickets/$busy/comments?access_key=${ACCESS_KEY:-test-access-key-0123456789abcdef}" >/dev/null
done
is "$(sync_run)" 0 "sync after 105 new comments on one ticket"
is "$(psql_q "select count(*) from mojo.comments where ticket_id = $busy and deleted_at is null")" \
	"$(emu_get /_emu/truth | jq "[.comments[] | select(.ticket_id == $busy)] | length")" "all of a ticket's comments arrive, over two pages"
# 105 changes in a second stamp that ticket ahead of the helpdesk's own clock: the watermark stops at its Date.
is "$(psql_q "select watermark <= '$(emu_get /_emu/clock | jq -r '.now // empty')'::timestamptz + interval '1 second' from mojo.sync_state where resource = 'tickets'")" t \
	"a record stamped in the helpdesk's future does not carry the watermark past its clock"

# --- deletions
emu_post /_emu/mutate '{"delete_tickets":3,"delete_comments":4,"delete_users":2,"delete_queues":1,"delete_groups":1}' >"$T_TMP/deleted.json"
is "$(sync_run --full)" 0 "sync --full after deletions exits 0"
equal "deletions are marked, everything else still equal"
del=$(jq -r '.deleted.tickets[0] // .tickets_deleted[0] // empty' "$T_TMP/deleted.json" 2>/dev/null)
is "$(psql_q "select count(*) from mojo.tickets where deleted_at is not null and raw ? 'title'")" "$(psql_q "select count(*) from mojo.tickets where deleted_at is not null")" "deleted tickets keep their data"
check "some tickets are marked deleted" test "$(psql_q "select count(*) from mojo.tickets where deleted_at is not null")" -ge 3

# --- never older: a stored row newer than the helpdesk's is not overwritten
id=$(psql_q "select id from mojo.tickets where deleted_at is null order by id limit 1")
psql_q "update mojo.tickets set updated_on = updated_on + interval '10 years', raw = jsonb_set(raw, '{title}', '\"from the future\"'), title = 'from the future' where id = $id"
sync_run --full >/dev/null
is "$(psql_q "select title from mojo.tickets where id = $id")" "from the future" "a stale answer does not overwrite a newer row"

# --- bad records: reported with kind, id and reason, skipped, retried next cycle
bad=$(psql_q "select id from mojo.tickets where deleted_at is null order by id desc limit 1")
emu_post /_emu/faults "{\"wrong_type\":{\"tickets\":[$bad]}}" >/dev/null
emu_post /_emu/mutate "{\"tickets\":0}" >/dev/null
curl -sf -X PUT -H 'Content-Type: application/json' --data '{"title":"touched by the test"}' "$EMU/api/v2/tickets/$bad?access_key=${ACCESS_KEY:-test-access-key-0123456789abcdef}" >/dev/null
emu_post /_emu/mutate '{"tickets":5}' >/dev/null
is "$(sync_run)" 1 "a record that cannot be stored: exit 1"
like "$(cat "$T_TMP/out")" "ticket $bad skipped:" "the bad record is reported with its kind and id"
like "$(cat "$T_TMP/out")" "expected" "and the reason"
is "$(psql_q "select count(*) from mojo.sync_failures where resource = 'tickets' and id = $bad")" 1 "the bad record is on the retry list"
emu_post /_emu/faults '{"wrong_type":{"tickets":[]}}' >/dev/null
is "$(sync_run)" 0 "once the record is good again, the next cycle exits 0"
is "$(psql_q "select title from mojo.tickets where id = $bad")" "touched by the test" "the record was retried and stored"
is "$(psql_q "select count(*) from mojo.sync_failures")" 0 "the retry list is empty again"

# --- the v1 dialect, into its own schema, from the same helpdesk
emu_post /_emu/faults '{"reset":true}' >/dev/null
SCHEMA=mojo_v1 write_config "$T_TMP/v1.conf" "[sync]" "overlap = 1m"
sed -i 's/^\[helpdesk\]$/[helpdesk]\napi = v1/' "$T_TMP/v1.conf"
emu_post /_emu/stats/reset '{}' >/dev/null
"$MOJOSYNC" -c "$T_TMP/v1.conf" sync >"$T_TMP/out" 2>&1; rc=$?
is "$rc" 0 "v1: the initial sync exits 0"
is "$(emu_get /_emu/stats | jq '.api.v2')" 0 "v1: every request went to the v1 API"
SCHEMA=mojo_v1 API=v1 equal "v1: the mirror equals the helpdesk (raw unwrapped, custom fields by name)"
emu_post /_emu/mutate '{"tickets":10,"new_tickets":3,"comments":10,"delete_tickets":1,"groups":1}' >/dev/null
"$MOJOSYNC" -c "$T_TMP/v1.conf" sync --full >"$T_TMP/out" 2>&1; rc=$?
is "$rc" 0 "v1: sync --full after changes exits 0"
SCHEMA=mojo_v1 API=v1 equal "v1: after changes and a deletion the mirror equals the helpdesk"
is "$(psql_q "select count(*) from mojo_v1.companies where deleted_at is null")" "$(emu_get /_emu/truth | jq '.groups | length')" "v1: companies come from /api/companies"

# --- the access key is never printed, and a wrong key is reported as such
unlike "$(cat "$T_TMP/out")" "${ACCESS_KEY:-test-access-key-0123456789abcdef}" "the key appears in no output"
ACCESS_KEY=wrong-key-0123456789 write_config "$T_TMP/bad-key.conf"
out=$("$MOJOSYNC" -c "$T_TMP/bad-key.conf" sync 2>&1); rc=$?
is "$rc" 1 "a rejected key: exit 1"
like "$out" "access key rejected" "a rejected key: says so"
unlike "$out" "wrong-key-0123456789" "a rejected key: not printed"

done_testing
