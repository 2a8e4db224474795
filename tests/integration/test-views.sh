#!/usr/bin/env bash
# views: the audit trail (history of every mirrored table, *_as_of functions) and the BI views (issue 7).
# The data is written the way the sync engine writes it: one insert ... on conflict (id) do update per record with
# raw and the typed columns, `update ... set deleted_at` for a deletion, the record rewritten with deleted_at null
# when it comes back. Everything runs in an odd schema name, with the session in an odd time zone.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

pg_start
export PGTZ=Pacific/Chatham # +13:45 / +12:45: every answer must be the same as in UTC

ODD='help "desk" ü'
S="\"${ODD//\"/\"\"}\"" # the schema, quoted as an identifier
SCHEMA=$ODD write_config "$T_TMP/odd.conf"
out=$("$MOJOSYNC" -c "$T_TMP/odd.conf" migrate 2>&1)
is "$?" 0 "migrate into $ODD exits 0"
like "$out" "003_bi_views" "the history and view migrations are applied"

q() { psql_q "$1" | tr '\n' ' ' | sed 's/ $//'; }

# put TABLE JSON [TYPED]: what the engine writes for one record: raw = JSON, typed columns from the same-named keys
# (TYPED overrides some, e.g. custom_fields), synced_at = now(), deleted_at = null. It writes even when nothing
# changed (the engine would skip such a row; the trigger must not need that).
declare -A SET
for t in tickets comments users ticket_queues companies; do
	SET[$t]=$(psql_q "select string_agg(format('%I = excluded.%I', attname, attname), ', ' order by attnum)
		from pg_attribute where attrelid = '$S.$t'::regclass and attnum > 0 and not attisdropped and attname <> 'id'")
done
put() {
	local typed=${3:-'{}'}
	psql_q "insert into $S.$1 select * from jsonb_populate_record(null::$S.$1,
		'{\"custom_fields\": {}}'::jsonb || \$j\$$2\$j\$::jsonb || \$j\$$typed\$j\$::jsonb
		|| jsonb_build_object('raw', \$j\$$2\$j\$::jsonb, 'synced_at', now(), 'deleted_at', null))
		on conflict (id) do update set ${SET[$1]}"
}
gone() { psql_q "update $S.$1 set deleted_at = '$3' where id = $2"; }
hist_rows() { q "select (select count(*) from $S.ticket_history) + (select count(*) from $S.comment_history)
	+ (select count(*) from $S.user_history) + (select count(*) from $S.ticket_queue_history)
	+ (select count(*) from $S.company_history)"; }

# --- people and places ---------------------------------------------------------------------------------------
user() {
	put users "{\"id\":$1,\"email\":\"$2@example.com\",\"first_name\":\"$3\",\"last_name\":\"$4\",\"full_name\":\"$3 $4\",
		\"role_id\":$5,\"is_active\":true,\"created_on\":\"2024-01-01T00:00:00Z\",\"updated_on\":\"$6\"}"
}
user 100 rita Rita Requester 10 2024-01-01T00:00:00Z
user 200 alice Alice Agent 20 2024-01-01T00:00:00Z
user 201 bob Bob Tech 15 2024-01-01T00:00:00Z
user 300 mia Mia Manager 30 2024-01-01T00:00:00Z
for qd in "1 Support" "2 Billing" "10 Alpha" "11 Beta"; do
	put ticket_queues "{\"id\":${qd% *},\"name\":\"${qd#* }\",\"email_alias\":\"q${qd% *}@example.com\"}"
done
put companies '{"id":7,"name":"Acme","support_start_date":"2024-01-01","support_status_id":0}'

# --- the scripted ticket ------------------------------------------------------------------------------------------
# Ticket 1, on the helpdesk's clock (UTC): created 03-01 09:00 (new); a requester comment bumps it at 09:10;
# assigned to Alice and in progress at 09:30; solved 10:00; reopened 03-02 08:00; solved again 12:30; reassigned to
# Bob (and rated) 03-03 09:00; deleted 03-04 15:00 (found by reconciliation); back again later.
# After each step the live row is kept in snap; tickets_as_of must give it back at the step's instant, and the
# previous step's row one microsecond before.
psql_q "create table public.snap (step int, at timestamptz, r $S.tickets)"
snap() { psql_q "insert into public.snap select $1, '$2'::timestamptz, t from $S.tickets t where t.id = 1 and t.deleted_at is null
	union all select $1, '$2'::timestamptz, null where not exists (select 1 from $S.tickets t where t.id = 1 and t.deleted_at is null)"; }
snap 0 '2024-01-01T00:00:00Z'
T1='"id":1,"title":"Printer on fire","description":"It is on fire.","priority_id":20,"ticket_queue_id":1,"user_id":100,
	"company_id":7,"created_on":"2024-03-01T09:00:00Z","due_on":"2024-03-02T09:00:00Z",
	"custom_field_values":[{"name":"custom_field_floor","value":"3"}]'
CF='{"custom_fields":{"floor":"3"}}'
step_at=(x 2024-03-01T09:00:00Z 2024-03-01T09:10:00Z 2024-03-01T09:30:00Z 2024-03-01T10:00:00Z
	2024-03-02T08:00:00Z 2024-03-02T12:30:00Z 2024-03-03T09:00:00Z 2024-03-04T15:00:00Z)
put tickets "{$T1,\"status_id\":10,\"assigned_to_id\":null,\"updated_on\":\"${step_at[1]}\"}" "$CF"
snap 1 "${step_at[1]}"
put comments '{"id":11,"ticket_id":1,"user_id":100,"body":"Help!","is_private":false,"time_spent":null,
	"created_on":"2024-03-01T09:10:00Z","updated_on":"2024-03-01T09:10:00Z"}'
put tickets "{$T1,\"status_id\":10,\"assigned_to_id\":null,\"updated_on\":\"${step_at[2]}\",\"comments_count\":1}" "$CF"
snap 2 "${step_at[2]}"
put comments '{"id":12,"ticket_id":1,"user_id":200,"body":"Calling facilities.","is_private":true,"time_spent":5,
	"created_on":"2024-03-01T09:20:00Z","updated_on":"2024-03-01T09:20:00Z"}'
V3="{$T1,\"status_id\":20,\"assigned_to_id\":200,\"updated_on\":\"${step_at[3]}\",\"comments_count\":2}"
put tickets "$V3" "$CF"
snap 3 "${step_at[3]}"

# Idempotence: the same records written again (keys in another order too) add no version; nor does synced_at.
before=$(hist_rows)
put tickets "$V3" "$CF"
put tickets "{\"comments_count\":2,$T1,\"updated_on\":\"${step_at[3]}\",\"assigned_to_id\":200,\"status_id\":20}" "$CF"
user 200 alice Alice Agent 20 2024-01-01T00:00:00Z
put ticket_queues '{"id":1,"name":"Support","email_alias":"q1@example.com"}'
put companies '{"id":7,"name":"Acme","support_start_date":"2024-01-01","support_status_id":0}'
for t in tickets comments users ticket_queues companies; do psql_q "update $S.$t set synced_at = now()"; done
is "$(hist_rows)" "$before" "idempotent: rewriting unchanged records (and synced_at) adds no history row"
is "$(q "select count(*) from $S.ticket_history where ticket_id = 1")" 3 "ticket 1 has one version per distinct write"

put comments '{"id":13,"ticket_id":1,"user_id":200,"body":"Fire brigade is on its way.","is_private":false,"time_spent":10,
	"created_on":"2024-03-01T09:45:00Z","updated_on":"2024-03-01T09:45:00Z"}'
put comments '{"id":11,"ticket_id":1,"user_id":100,"body":"Help! (edited)","is_private":false,"time_spent":null,
	"created_on":"2024-03-01T09:10:00Z","updated_on":"2024-03-01T09:50:00Z"}'
put tickets "{$T1,\"status_id\":50,\"assigned_to_id\":200,\"solved_on\":\"${step_at[4]}\",\"updated_on\":\"${step_at[4]}\"}" "$CF"
snap 4 "${step_at[4]}"
put comments '{"id":14,"ticket_id":1,"user_id":100,"body":"It is burning again.","is_private":false,
	"created_on":"2024-03-02T08:00:00Z","updated_on":"2024-03-02T08:00:00Z"}'
put tickets "{$T1,\"status_id\":10,\"assigned_to_id\":200,\"solved_on\":\"${step_at[4]}\",\"updated_on\":\"${step_at[5]}\"}" "$CF"
snap 5 "${step_at[5]}"
put comments '{"id":15,"ticket_id":1,"user_id":201,"body":"Extinguished.","is_private":false,"time_spent":20,
	"created_on":"2024-03-02T12:00:00Z","updated_on":"2024-03-02T12:00:00Z"}'
put comments '{"id":16,"ticket_id":1,"user_id":300,"body":"Spam.","is_private":false,"time_spent":7,
	"created_on":"2024-03-02T12:10:00Z","updated_on":"2024-03-02T12:10:00Z"}'
gone comments 16 2024-03-02T13:00:00Z
put tickets "{$T1,\"status_id\":50,\"assigned_to_id\":200,\"solved_on\":\"${step_at[6]}\",\"updated_on\":\"${step_at[6]}\"}" "$CF"
snap 6 "${step_at[6]}"
V7="{$T1,\"status_id\":50,\"assigned_to_id\":201,\"solved_on\":\"${step_at[6]}\",\"rating\":5,
	\"rated_on\":\"${step_at[7]}\",\"updated_on\":\"${step_at[7]}\"}"
put tickets "$V7" "$CF"
snap 7 "${step_at[7]}"

# Three more tickets. 2: first seen already solved (solved_on 12:00 before its updated_on 13:00), one agent reply.
# 3: waiting for information, past its due time. 4: on hold, nobody assigned, no due time.
put tickets '{"id":2,"title":"Invoice","status_id":50,"priority_id":30,"ticket_queue_id":2,"user_id":100,"assigned_to_id":200,
	"created_on":"2024-03-01T11:00:00Z","solved_on":"2024-03-01T12:00:00Z","updated_on":"2024-03-01T13:00:00Z",
	"due_on":"2024-03-01T18:00:00Z"}'
put comments '{"id":21,"ticket_id":2,"user_id":200,"body":"Sent.","is_private":false,
	"created_on":"2024-03-01T11:30:00Z","updated_on":"2024-03-01T11:30:00Z"}'
put tickets '{"id":3,"title":"Password","status_id":40,"priority_id":10,"ticket_queue_id":2,"user_id":100,"assigned_to_id":201,
	"created_on":"2024-03-01T08:00:00Z","updated_on":"2024-03-01T08:00:00Z","due_on":"2024-03-01T12:00:00Z"}'
put tickets '{"id":4,"title":"Chair","status_id":30,"priority_id":40,"ticket_queue_id":1,"user_id":100,
	"created_on":"2024-03-02T10:00:00Z","updated_on":"2024-03-02T10:00:00Z"}'

# --- ticket_metrics, by hand -----------------------------------------------------------------------------------------
# Ticket 1: first agent public reply 09:45 (Alice; her 09:20 note is private): 45 min. Agent replies: 13 and 15 (16,
# by a manager, was deleted): 2, a two-touch. Entered solved 03-01 10:00 and 03-02 12:30: first resolution 60 min,
# full 27 h 30 = 1650 min; one reopen. New 09:00-09:30 and 03-02 08:00-12:30: 300 min; in progress 09:30-10:00:
# 30 min; open 330 min; solved 03-01 10:00 to 03-02 08:00 (1320) + from 03-02 12:30 on (1230 to 03-03 09:00, then
# on till now). Assignees Alice and Bob; time spent 5 + 10 + 20; solved after its due time (03-02 09:00): breached.
UTC="at time zone 'UTC', 'MM-DD HH24:MI'"
is "$(q "select concat_ws('|', first_reply_minutes, first_reply_by, agent_replies, to_char(first_solved_at $UTC),
	to_char(last_solved_at $UTC), first_resolution_minutes, full_resolution_minutes, reopens, minutes_new,
	minutes_in_progress, minutes_on_hold, minutes_information_requested, minutes_closed, minutes_open,
	minutes_solved = round((2550 * 60 + extract(epoch from now() - '2024-03-03T09:00:00Z')) / 60, 2),
	assignees, time_spent, is_one_touch, is_two_touch, sla_breached, rating, is_open, status)
	from $S.ticket_metrics where ticket_id = 1")" \
	"45.00|200|2|03-01 10:00|03-02 12:30|60.00|1650.00|1|300.00|30.00|0.00|0.00|0.00|330.00|t|2|35|f|t|t|5|f|solved" \
	"ticket_metrics, ticket 1: the scripted history's metrics"
# Ticket 2: reply at 11:30 (30 min); solved at its solved_on 12:00 (history starts solved): 60 min both; one-touch;
# before its due time. Its history starts at 13:00, so no open time is known.
is "$(q "select concat_ws('|', first_reply_minutes, first_reply_by, agent_replies, to_char(first_solved_at $UTC), first_resolution_minutes,
	full_resolution_minutes, reopens, minutes_open, assignees, time_spent, is_one_touch, is_two_touch, sla_breached)
	from $S.ticket_metrics where ticket_id = 2")" \
	"30.00|200|1|03-01 12:00|60.00|60.00|0|0.00|1|0|t|f|f" "ticket_metrics, ticket 2: already solved when first seen"
is "$(q "select concat_ws('|', coalesce(first_reply_minutes::text, '-'), agent_replies, coalesce(first_solved_at::text, '-'),
	coalesce(full_resolution_minutes::text, '-'), assignees, is_one_touch, sla_breached, is_open,
	minutes_information_requested = round(extract(epoch from now() - '2024-03-01T08:00:00Z') / 60, 2))
	from $S.ticket_metrics where ticket_id = 3")" \
	"-|0|-|-|1|f|t|t|t" "ticket_metrics, ticket 3: open past its due time is a breach"
is "$(q "select concat_ws('|', coalesce(sla_breached::text, '-'), assignees, minutes_on_hold > 0, time_spent)
	from $S.ticket_metrics where ticket_id = 4")" "-|0|t|0" "ticket_metrics, ticket 4: no due time, nobody assigned"

# --- agent_activity_daily --------------------------------------------------------------------------------------------
# UTC days. Alice 03-01: replies 13 and 21, note 12 (5 + 10 min), solved 1 (10:00) and 2 (solved_on 12:00);
# 03-02: solved 1 again (12:30, still hers). Bob 03-02: reply 15 (20 min). Rita is no agent; Mia's comment is deleted.
activity() { q "select concat_ws('|', day, agent_id, agent, public_comments, private_comments, time_spent, tickets_solved)
	from $S.agent_activity_daily where day < '2024-04-01' order by day, agent_id"; }
is "$(activity)" "2024-03-01|200|Alice Agent|2|1|15|2 2024-03-02|200|Alice Agent|0|0|0|1 2024-03-02|201|Bob Tech|1|0|20|0" \
	"agent_activity_daily: per agent and UTC day"
psql_q "update $S.settings set time_zone = 'Pacific/Kiritimati'"
# +14: 10:00 is midnight, 03-02; reply 21 (11:30) and solve of 2 (12:00) are on 03-02; 03-02 12:xx are on 03-03.
is "$(activity)" "2024-03-01|200|Alice Agent|1|1|15|0 2024-03-02|200|Alice Agent|1|0|0|2 2024-03-03|200|Alice Agent|0|0|0|1 2024-03-03|201|Bob Tech|1|0|20|0" \
	"agent_activity_daily: days follow settings.time_zone"
psql_q "update $S.settings set time_zone = 'UTC'"
out=$(psql_q "update $S.settings set time_zone = 'Mars/Olympus_Mons'" 2>&1)
like "$out" "time zone" "settings.time_zone refuses an unknown zone"
is "$(q "select count(*) from $S.settings")" 1 "settings has one row"

# --- deletion and return ---------------------------------------------------------------------------------------------
gone tickets 1 "${step_at[8]}"
snap 8 "${step_at[8]}"
is "$(q "select concat_ws('|', version, deleted, valid_from = '${step_at[8]}', valid_to is null) from $S.ticket_history
	where ticket_id = 1 order by version desc limit 1")" "8|t|t|t" "a deletion adds a tombstone version at deleted_at"
is "$(q "select count(*) from $S.ticket_metrics where ticket_id = 1")/$(q "select count(*) from $S.ticket_details where id = 1")" \
	"0/0" "a deleted ticket leaves ticket_metrics and ticket_details"
is "$(activity)" "2024-03-01|200|Alice Agent|2|1|15|1 2024-03-02|201|Bob Tech|1|0|20|0" \
	"agent_activity_daily: a deleted ticket's solves no longer count"
put tickets "$V7" "$CF" # back: the same content; its updated_on is older than the deletion
back_at=$(psql_q "select valid_from from $S.ticket_history where ticket_id = 1 order by version desc limit 1")
snap 9 "$back_at"
is "$(q "select concat_ws('|', version, deleted, valid_from > '${step_at[8]}', updated_on = '${step_at[7]}') from $S.ticket_history
	where ticket_id = 1 order by version desc limit 1")" "9|f|t|t" \
	"a record that comes back opens a new version, from when it was seen again"
is "$(q "select count(*) from $S.ticket_history where ticket_id = 1 and valid_to is null")" 1 "one current version"
is "$(q "select concat_ws('|', reopens, to_char(last_solved_at $UTC), agent_replies) from $S.ticket_metrics where ticket_id = 1")" \
	"1|03-02 12:30|2" "ticket_metrics after the return: nothing counted twice"

# --- tickets_as_of against the snapshots ----------------------------------------------------------------------------
step_at[9]=$back_at
for i in 1 2 3 4 5 6 7 8 9; do
	is "$(q "select (select a from $S.tickets_as_of('${step_at[$i]}', 1) a) is not distinct from
		(select r from public.snap where step = $i)")" t "tickets_as_of at step $i equals the row written then"
	is "$(q "select (select a from $S.tickets_as_of(timestamptz '${step_at[$i]}' - interval '1 microsecond', 1) a)
		is not distinct from (select r from public.snap where step = $((i - 1)))")" t \
		"tickets_as_of just before step $i equals the row of step $((i - 1))"
done
is "$(q "select count(*) from $S.tickets_as_of('2024-03-03T12:00:00Z')")" 4 "tickets_as_of without an id: every ticket then"
is "$(q "select (select a from $S.tickets_as_of(now(), 1) a) is not distinct from t from $S.tickets t where id = 1")" t \
	"tickets_as_of(now()) is the live row"
is "$(q "select count(*) from (select * from $S.tickets_as_of(now()) except all
	select * from $S.tickets where deleted_at is null) x")/$(q "select count(*) from (select * from $S.tickets
	where deleted_at is null except all select * from $S.tickets_as_of(now())) x")" "0/0" \
	"tickets_as_of(now()) equals the live table, typed columns included"
is "$(q "select custom_fields ->> 'floor' from $S.tickets_as_of('2024-03-01T09:00:00Z', 1)")" 3 \
	"as-of rows keep typed columns that raw does not spell (custom_fields)"

# --- the other tables' history ----------------------------------------------------------------------------------------
is "$(q "select body from $S.comments_as_of('2024-03-01T09:49:59Z', 11)")|$(q "select body from $S.comments_as_of('2024-03-01T09:50:00Z', 11)")" \
	"Help!|Help! (edited)" "comments_as_of: an edit is valid from its updated_on"
is "$(q "select count(*) from $S.comments_as_of('2024-03-02T12:59:59Z', 16)")/$(q "select count(*) from $S.comments_as_of('2024-03-02T13:00:00Z', 16)")" \
	"1/0" "comments_as_of: a deleted comment is there before its deletion, not after"
user 201 bob Bob Tech 20 2024-03-10T00:00:00Z
is "$(q "select role_id from $S.users_as_of('2024-03-09T23:59:59Z', 201)")|$(q "select role_id from $S.users_as_of('2024-03-10T00:00:00Z', 201)")" \
	"15|20" "users_as_of: a role change is valid from its updated_on"
t_before=$(psql_q "select clock_timestamp()")
put ticket_queues '{"id":1,"name":"Customer support","email_alias":"q1@example.com"}'
put companies '{"id":7,"name":"Acme Inc.","support_start_date":"2024-01-01","support_status_id":0}'
is "$(q "select name from $S.ticket_queues_as_of('$t_before', 1)")|$(q "select name from $S.ticket_queues_as_of(now(), 1)")" \
	"Support|Customer support" "ticket_queues_as_of: no updated_on, so a change is valid from its sync"
is "$(q "select name || ' ' || support_start_date from $S.companies_as_of('$t_before', 7)")|$(q "select name from $S.companies_as_of(now(), 7)")" \
	"Acme 2024-01-01|Acme Inc." "companies_as_of: the version before and after a change, dates typed"
is "$(q "select count(*) from $S.companies_as_of('2024-01-01T00:00:00Z')")" 0 "companies_as_of before the first sync: nothing"

# Every history table: versions numbered 1..n, each valid until the next begins, exactly one current version.
for h in tickets:ticket_history:ticket_id comments:comment_history:comment_id users:user_history:user_id \
	ticket_queues:ticket_queue_history:ticket_queue_id companies:company_history:company_id; do
	IFS=: read -r live tab key <<<"$h"
	is "$(q "select count(*) filter (where a.version <> a.n or a.valid_to is distinct from a.next_from or a.valid_to < a.valid_from),
		count(*) filter (where a.valid_to is null), count(distinct a.$key)
		from (select *, row_number() over w as n, lead(valid_from) over w as next_from from $S.$tab
		window w as (partition by $key order by version)) a")" \
		"0|$(q "select count(*) from $S.$live")|$(q "select count(*) from $S.$live")" \
		"$tab: one chain of versions per record, contiguous, one current"
done

# Append-only, enforced.
for stmt in "delete from $S.ticket_history where ticket_id = 2" "update $S.comment_history set raw = '{}' where comment_id = 11" \
	"update $S.ticket_history set valid_to = now() where ticket_id = 1 and version = 1" "truncate $S.user_history"; do
	out=$(psql_q "$stmt" 2>&1)
	like "$out" "append-only" "history refuses: ${stmt%% where*}"
done

# --- backlog_daily on a known data set --------------------------------------------------------------------------------
# Queues 10 and 11 (UTC):
#   1001 created 05-01 10:00 in 10 (new); in progress 05-02 11:00; solved 05-04 09:00.
#   1002 created 05-01 23:30 in 11 (new); moved to 10 on 05-03 10:00; deleted 05-05 08:00.
#   1003 created 05-02 05:00 in 10 (on hold); solved 05-02 20:00; reopened (in progress) 05-03 01:00, open since.
#   1004 created 05-03 00:00:00 in 11 (new); solved 05-04 00:00:00.
bt() {
	put tickets "{\"id\":$1,\"title\":\"B$1\",\"status_id\":$4,\"ticket_queue_id\":$5,\"user_id\":100,
		\"created_on\":\"$2\",\"updated_on\":\"$3\"}"
}
bt 1001 2024-05-01T10:00:00Z 2024-05-01T10:00:00Z 10 10
bt 1002 2024-05-01T23:30:00Z 2024-05-01T23:30:00Z 10 11
bt 1003 2024-05-02T05:00:00Z 2024-05-02T05:00:00Z 30 10
bt 1001 2024-05-01T10:00:00Z 2024-05-02T11:00:00Z 20 10
bt 1003 2024-05-02T05:00:00Z 2024-05-02T20:00:00Z 50 10
bt 1003 2024-05-02T05:00:00Z 2024-05-03T01:00:00Z 20 10
bt 1004 2024-05-03T00:00:00Z 2024-05-03T00:00:00Z 10 11
bt 1002 2024-05-01T23:30:00Z 2024-05-03T10:00:00Z 10 10
bt 1001 2024-05-01T10:00:00Z 2024-05-04T09:00:00Z 50 10
bt 1004 2024-05-03T00:00:00Z 2024-05-04T00:00:00Z 50 11
gone tickets 1002 2024-05-05T08:00:00Z
backlog() { q "select concat_ws('|', day, ticket_queue_id, status_id, open_tickets) from $S.backlog_daily
	where ticket_queue_id in (10, 11) and day between '2024-04-30' and '2024-05-06' order by 1"; }
is "$(backlog)" "2024-05-01|10|10|1 2024-05-01|11|10|1 2024-05-02|10|20|1 2024-05-02|11|10|1 2024-05-03|10|10|1 2024-05-03|10|20|2 2024-05-03|11|10|1 2024-05-04|10|10|1 2024-05-04|10|20|1 2024-05-05|10|20|1 2024-05-06|10|20|1" \
	"backlog_daily: open tickets at the end of each UTC day"
is "$(q "select string_agg(concat_ws('|', day = (now() at time zone 'UTC')::date, ticket_queue, status, open_tickets), ' '
	order by day) from $S.backlog_daily where ticket_queue_id = 10 and day >= (now() at time zone 'UTC')::date - 1")" \
	"f|Alpha|in progress|1 t|Alpha|in progress|1" "backlog_daily runs up to today, names included"
psql_q "update $S.settings set time_zone = 'Pacific/Chatham'"
# +12:45 in May: 1001 starts 05-01 22:45, in progress 05-02 23:45; 1002 starts 05-02 12:15; 1003 is on hold at the
# end of 05-02 (solved 05-03 08:45); 1004 is created and solved at 12:45 local.
is "$(backlog)" "2024-05-01|10|10|1 2024-05-02|10|20|1 2024-05-02|10|30|1 2024-05-02|11|10|1 2024-05-03|10|10|1 2024-05-03|10|20|2 2024-05-03|11|10|1 2024-05-04|10|10|1 2024-05-04|10|20|1 2024-05-05|10|20|1 2024-05-06|10|20|1" \
	"backlog_daily: days follow settings.time_zone"

# backlog_daily agrees with tickets_as_of at the end of every day (all queues), in both zones.
agree() {
	q "with tz as (select time_zone as z from $S.settings), days as (
		select d::date as day from generate_series(timestamp '2024-02-28', timestamp '2024-05-08', interval '1 day') d),
	want as (select d.day, a.ticket_queue_id, a.status_id, count(*) as n
		from days d, tz, lateral $S.tickets_as_of((d.day + 1)::timestamp at time zone tz.z - interval '1 microsecond') a
		where a.status_id < 50 group by 1, 2, 3),
	got as (select day, ticket_queue_id, status_id, open_tickets as n from $S.backlog_daily
		where day between '2024-02-28' and '2024-05-08')
	select (select count(*) from (table want except table got) x) + (select count(*) from (table got except table want) x),
		(select count(*) from got)"
}
res=$(agree)
is "${res%|*}" 0 "backlog_daily equals counting tickets_as_of at each end of day (Chatham days)"
if [ "${res#*|}" -gt 20 ]; then ok "... over ${res#*|} rows"; else not_ok "too few backlog rows compared: ${res#*|}"; fi
psql_q "update $S.settings set time_zone = 'UTC'"
is "$(agree | cut -d'|' -f1)" 0 "backlog_daily equals counting tickets_as_of at each end of day (UTC days)"

# --- the session's time zone changes nothing ---------------------------------------------------------------------------
same_in_utc() {
	q "begin; set local timezone = 'Pacific/Chatham'; create temp table a on commit drop as $1;
		set local timezone = 'UTC'; create temp table b on commit drop as $1;
		select (select count(*) from (table a except all table b) x) + (select count(*) from (table b except all table a) x),
		(select count(*) from a); commit"
}
for v in ticket_metrics backlog_daily agent_activity_daily ticket_details ticket_versions \
	"$S.tickets_as_of('2024-03-02T12:00:00Z')" "$S.comments_as_of('2024-03-02T12:05:00Z')"; do
	[[ $v == *"("* ]] || v="$S.$v"
	res=$(same_in_utc "select * from $v")
	if [ "${res%|*}" = 0 ] && [ "${res#*|}" -gt 0 ]; then ok "same rows in UTC and in Chatham: ${v#"$S."}"
	else not_ok "same rows in UTC and in Chatham: ${v#"$S."}"; diag "differences, rows: $res"; fi
done

# --- the README's sample queries run, and answer -------------------------------------------------------------------------
awk -v dir="$T_TMP" '/^## /{on = ($0 == "## Querying the mirror")}
	on && /^```sql$/{n++; f = dir "/readme-" n ".sql"; inb = 1; next}
	inb && /^```$/{inb = 0; close(f); next}
	inb{print > f}' "$top_srcdir/README.md"
n=$(ls "$T_TMP"/readme-*.sql 2>/dev/null | wc -l)
if [ "$n" -ge 6 ]; then ok "the README shows $n sample queries"; else not_ok "the README shows sample queries ($n found)"; fi
for f in "$T_TMP"/readme-*.sql; do
	out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -c "set search_path = $S" -f "$f" 2>&1)
	is "$?" 0 "README sample $(basename "$f" .sql) runs: $(head -1 "$f" | cut -c1-50)"
	echo "$out" >"$f.out"
done
like "$(head -1 "$T_TMP/readme-4.sql.out")" "3|Password|information requested|Billing|Bob Tech|" "README, oldest open tickets: ticket 3 first"
res=$(cat "$T_TMP/readme-2.sql.out")
like "$res" $'Alpha|in progress|1\nBilling|information requested|1\nCustomer support|on hold|1' "README, backlog by queue today"

# --- no dependence on the caller's search_path ------------------------------------------------------------------------
SCHEMA=mojo write_config "$T_TMP/mojo.conf"
"$MOJOSYNC" -c "$T_TMP/mojo.conf" migrate >/dev/null 2>&1
psql_q "set search_path = mojo; insert into tickets (id, title, status_id, updated_on, raw)
	values (1, 'decoy', 10, '2024-03-01T00:00:00Z', '{\"title\":\"decoy\"}')" >/dev/null
is "$(q "set search_path = mojo; select title from $S.tickets_as_of('2024-03-03T12:00:00Z', 1)")" "Printer on fire" \
	"tickets_as_of reads its own schema whatever the search_path"
before=$(q "select count(*) from mojo.ticket_history")
psql_q "set search_path = mojo, public; update $S.tickets set title = 'Chair, broken', raw = raw || '{\"title\":\"Chair, broken\"}',
	updated_on = '2024-03-05T00:00:00Z' where id = 4"
is "$(q "select count(*) from $S.ticket_history where ticket_id = 4")|$(q "select count(*) from mojo.ticket_history")" \
	"2|$before" "the history trigger writes into its own schema whatever the search_path"
is "$(q "set search_path = ''; select count(*) from $S.ticket_metrics")" 7 "the views work with an empty search_path"

done_testing
