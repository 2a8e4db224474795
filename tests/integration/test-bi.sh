#!/usr/bin/env bash
# The BI views over what the sync engine wrote from the emulator: they agree with the mirror they read.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

pg_start
emu_start --seed 81 --tickets 400 --users 50 --comments-per-ticket 3
write_config "$T_TMP/c.conf" "[sync]" "overlap = 1m"
"$MOJOSYNC" -c "$T_TMP/c.conf" sync >/dev/null 2>&1
emu_post /_emu/clock '{"advance":3600}' >/dev/null
emu_post /_emu/mutate '{"tickets":40,"comments":30,"delete_tickets":3}' >/dev/null
"$MOJOSYNC" -c "$T_TMP/c.conf" sync --full >/dev/null 2>&1
is "$?" 0 "two syncs, with changes and deletions between"

live=$(psql_q "select count(*) from mojo.tickets where deleted_at is null")
is "$(psql_q "select count(*) from mojo.ticket_details")" "$live" "ticket_details: one row per live ticket"
is "$(psql_q "select count(*) from mojo.ticket_metrics")" "$live" "ticket_metrics: one row per live ticket"
is "$(psql_q "select count(*) from mojo.tickets_as_of('9999-01-01')")" "$live" "tickets_as_of('9999-01-01') is the live mirror (as of a time after every version)"
is "$(psql_q "select count(*) from mojo.tickets_as_of('9999-01-01') a join mojo.tickets t using (id) where a.raw = t.raw")" "$live" "tickets_as_of('9999-01-01') holds the current versions"
# A ticket edited by the second sync: as of just before its new version, it was the old one.
is "$(psql_q "select count(*) from mojo.ticket_history h where h.version > 1 and not h.deleted and exists (
	select 1 from mojo.tickets_as_of(h.valid_from - interval '1 microsecond') a where a.id = h.ticket_id and a.raw = (
		select p.raw from mojo.ticket_history p where p.ticket_id = h.ticket_id and p.valid_to = h.valid_from))")" \
	"$(psql_q "select count(*) from mojo.ticket_history where version > 1 and not deleted and ticket_id in (select ticket_id from mojo.ticket_history where version = 1 and valid_to is not null and not deleted)")" \
	"as of the instant before a new version, each edited ticket is its previous version"
is "$(psql_q "select count(*) from mojo.tickets_as_of('9999-01-01') where id in (select id from mojo.tickets where deleted_at is not null)")" 0 "deleted tickets are gone after their deletion"
open=$(psql_q "select count(*) from mojo.ticket_details where is_open")
is "$(psql_q "select coalesce(sum(open_tickets), 0) from mojo.backlog_daily where day = (now() at time zone (select time_zone from mojo.settings))::date")" "$open" "backlog_daily today: every open ticket, once"
agents=$(psql_q "select count(*) from mojo.comments c join mojo.users u on u.id = c.user_id where u.role_id >= 15 and c.deleted_at is null")
is "$(psql_q "select coalesce(sum(public_comments + private_comments), 0) from mojo.agent_activity_daily")" "$agents" "agent_activity_daily: every agent comment, once"
is "$(psql_q "select count(*) from mojo.ticket_metrics where first_reply_minutes < 0 or full_resolution_minutes < first_resolution_minutes")" 0 "ticket_metrics: no negative or inverted durations"
is "$(psql_q "set timezone = 'Pacific/Chatham'; select md5(string_agg(t::text, ',' order by day, ticket_queue_id, status_id)) from mojo.backlog_daily t")" \
	"$(psql_q "set timezone = 'UTC'; select md5(string_agg(t::text, ',' order by day, ticket_queue_id, status_id)) from mojo.backlog_daily t")" \
	"backlog_daily does not depend on the session's time zone"

done_testing
