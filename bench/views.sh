#!/usr/bin/env bash
# bench/views.sh [TICKETS]: how long the history trigger and the BI views take on a generated helpdesk.
# Starts a throwaway PostgreSQL (tests/lib.sh), runs `mojosync migrate`, generates TICKETS tickets (default 100000)
# with their lives written through the history triggers the way the daemon writes them (one version per change),
# three comments each, 1% deleted, then times the views. Run from a build tree: top_builddir=/path/to/build.
# Prints one line per measurement; the cluster runs with PostgreSQL's default settings (shared_buffers 128MB,
# work_mem 4MB).
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

N=${1:-100000}
pg_start
SCHEMA=bench write_config "$T_TMP/bench.conf"
"$MOJOSYNC" -c "$T_TMP/bench.conf" migrate >/dev/null 2>&1 || { echo "migrate failed"; exit 1; }

# timed LABEL SQL: runs SQL, prints the wall time psql measured for it.
timed() {
	local ms
	ms=$(psql -X -q -v ON_ERROR_STOP=1 -c '\timing on' -c "set search_path = bench" -c "$2" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
	printf '%-58s %10.1f ms\n' "$1" "$ms"
}

echo "# $N tickets; PostgreSQL $(psql_q 'show server_version')"
timed "people, queues, companies" "
insert into users (id, email, full_name, role_id, is_active, created_on, updated_on, raw)
select i, 'u' || i || '@example.com', 'User ' || i, case when i <= 50 then 20 else 10 end, true,
       timestamptz '2023-01-01', timestamptz '2023-01-01',
       jsonb_build_object('id', i, 'email', 'u' || i || '@example.com', 'full_name', 'User ' || i,
                          'role_id', case when i <= 50 then 20 else 10 end, 'is_active', true,
                          'created_on', '2023-01-01T00:00:00Z', 'updated_on', '2023-01-01T00:00:00Z')
  from generate_series(1, 5050) i;
insert into ticket_queues (id, name, raw) select i, 'Queue ' || i, jsonb_build_object('id', i, 'name', 'Queue ' || i)
  from generate_series(1, 10) i;
insert into companies (id, name, raw) select i, 'Company ' || i, jsonb_build_object('id', i, 'name', 'Company ' || i)
  from generate_series(1, 100) i;"

# A ticket every 7 minutes from 2024-01-01; its lifetime is written in rounds, each an update of many rows, like
# the daemon's pages: created (new); 90% assigned and in progress after 1 h; 80% solved after 1 day; 10% reopened
# after 2 days; 8% solved again after 3 days; 1% deleted.
timed "tickets: create (history trigger)" "
insert into tickets (id, title, description, status_id, priority_id, ticket_queue_id, user_id, company_id,
                     created_on, updated_on, due_on, raw)
select i, 'Ticket ' || i, repeat('words ', 40), 10, 10 + 10 * (i % 4), 1 + i % 10, 51 + i % 5000, 1 + i % 100,
       c, c, c + interval '2 days',
       jsonb_build_object('id', i, 'title', 'Ticket ' || i, 'description', repeat('words ', 40), 'status_id', 10,
                          'priority_id', 10 + 10 * (i % 4), 'ticket_queue_id', 1 + i % 10, 'user_id', 51 + i % 5000,
                          'company_id', 1 + i % 100, 'created_on', c, 'updated_on', c, 'due_on', c + interval '2 days')
  from generate_series(1, $N) i, lateral (select timestamptz '2024-01-01' + i * interval '7 minutes' as c) x;"
step() { # label, where, new status, assignee expr, delay
	timed "tickets: $1 (history trigger)" "
update tickets set status_id = $3, assigned_to_id = $4, updated_on = created_on + interval '$5',
       raw = raw || jsonb_build_object('status_id', $3, 'assigned_to_id', $4, 'updated_on', created_on + interval '$5')
 where $2;"
}
step "assigned, in progress" "id % 10 <> 0" 20 "1 + id % 50" "1 hour"
step "solved" "id % 10 not in (0, 1)" 50 "assigned_to_id" "1 day"
step "reopened" "id % 10 = 2" 10 "assigned_to_id" "2 days"
step "solved again" "id % 50 in (2, 12, 22, 32)" 50 "assigned_to_id" "3 days"
timed "tickets: 1% deleted (tombstones)" "update tickets set deleted_at = created_on + interval '10 days' where id % 100 = 5"
timed "comments: 3 per ticket (history trigger)" "
insert into comments (id, ticket_id, user_id, body, is_private, time_spent, created_on, updated_on, raw)
select t.id * 3 + k, t.id, case when k = 0 then t.user_id else 1 + t.id % 50 end, 'comment', k = 2,
       case when k = 0 then null else 5 * k end, t.created_on + k * interval '25 minutes',
       t.created_on + k * interval '25 minutes',
       jsonb_build_object('id', t.id * 3 + k, 'ticket_id', t.id, 'body', 'comment', 'is_private', k = 2,
                          'user_id', case when k = 0 then t.user_id else 1 + t.id % 50 end,
                          'created_on', t.created_on + k * interval '25 minutes',
                          'updated_on', t.created_on + k * interval '25 minutes')
  from tickets t, generate_series(0, 2) k;"
timed "rewrite 10,000 unchanged tickets (no new version)" "update tickets set synced_at = now() where id <= 10000"
psql_q "vacuum analyze" >/dev/null
echo "# history rows: $(psql_q "select (select count(*) from bench.ticket_history) || ' ticket versions, '
	|| (select count(*) from bench.comment_history) || ' comment versions'")"

timed "select count(*) from ticket_metrics" "select count(*) from ticket_metrics"
# count(*) lets the planner drop the joins whose columns it does not need; count(m) computes every column.
timed "select count(m) from ticket_metrics m (every column)" "select count(m) from ticket_metrics m"
timed "create temp table as select * from ticket_metrics" "create temp table m as select * from ticket_metrics"
timed "select count(*) from backlog_daily" "select count(*) from backlog_daily"
timed "select count(*) from agent_activity_daily" "select count(*) from agent_activity_daily"
timed "select count(*) from ticket_details" "select count(*) from ticket_details"
timed "select count(*) from tickets_as_of(2025-01-01)" "select count(*) from tickets_as_of('2025-01-01')"
timed "select * from tickets_as_of(2025-01-01, 4242)" "select * from tickets_as_of('2025-01-01', 4242)"
timed "dashboard: created vs solved per day" "
select d.day, coalesce(c.n, 0) as created, coalesce(s.n, 0) as solved
  from (select distinct day from backlog_daily) d
  left join (select (created_on at time zone (select time_zone from settings))::date as day, count(*) as n
               from ticket_metrics group by 1) c using (day)
  left join (select (first_solved_at at time zone (select time_zone from settings))::date as day, count(*) as n
               from ticket_metrics group by 1) s using (day)
 order by d.day"
timed "dashboard: median first reply per agent" "
select assigned_to_id, percentile_cont(0.5) within group (order by first_reply_minutes)
  from ticket_metrics where first_reply_minutes is not null group by 1"
timed "dashboard: backlog by queue today" "
select ticket_queue, sum(open_tickets) from backlog_daily
 where day = (now() at time zone (select time_zone from settings))::date group by 1"
