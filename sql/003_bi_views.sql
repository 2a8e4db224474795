-- mojosync schema, version 3: views for BI dashboards, over the mirror and its history.
-- Applied like every migration: one transaction, search_path set to the configured schema, unqualified names.
-- Conventions: a ticket is open while its status_id is below 50; it is resolved when it enters solved (50) or
-- closed (60) from an open status; an agent is a user with role_id >= 15. Durations are minutes (numeric, two
-- decimals). Days are calendar days in settings.time_zone, whatever the session's TimeZone is.

-- One row of settings for the views. time_zone: the zone in which backlog_daily and agent_activity_daily cut days.
create table settings (
    singleton  boolean primary key default true check (singleton),
    time_zone  text not null default 'UTC'
               check (pg_catalog.timezone(time_zone, timestamptz '2000-01-01 00:00:00+00') is not null)
);
insert into settings default values;

-- Every version of every ticket (tombstones left out), with the fields the metrics need and what changed:
-- resolved_at is set on a version that entered solved or closed from an open status (its valid_from), or that was
-- already solved or closed when the mirror first saw the ticket (its solved_on, else its valid_from);
-- is_reopen marks a version that went from solved or closed back to an open status.
create view ticket_versions as
select h.ticket_id,
       h.version,
       h.valid_from,
       h.valid_to,
       h.updated_on,
       h.status_id,
       h.priority_id,
       h.ticket_queue_id,
       h.assigned_to_id,
       h.company_id,
       lag(h.status_id) over w                      as previous_status_id,
       lag(h.assigned_to_id) over w                 as previous_assigned_to_id,
       h.solved_on,
       case when h.status_id >= 50 and lag(h.version) over w is null
                then coalesce(h.solved_on, h.valid_from)
            when h.status_id >= 50 and coalesce(lag(h.status_id) over w, 0) < 50
                then h.valid_from
       end                                          as resolved_at,
       coalesce(h.status_id < 50 and lag(h.status_id) over w >= 50, false) as is_reopen
  from ticket_history h
 where not h.deleted
window w as (partition by h.ticket_id order by h.version);

-- One row per live ticket.
create view ticket_metrics as
with hist as (
    select v.ticket_id,
           min(v.resolved_at)                                           as first_solved_at,
           max(v.resolved_at)                                           as last_solved_at,
           count(*) filter (where v.is_reopen)                          as reopens,
           count(distinct v.assigned_to_id)                             as assignees,
           sum(coalesce(v.valid_to, now()) - v.valid_from) filter (where v.status_id = 10) as in_new,
           sum(coalesce(v.valid_to, now()) - v.valid_from) filter (where v.status_id = 20) as in_progress,
           sum(coalesce(v.valid_to, now()) - v.valid_from) filter (where v.status_id = 30) as on_hold,
           sum(coalesce(v.valid_to, now()) - v.valid_from) filter (where v.status_id = 40) as info_requested,
           sum(coalesce(v.valid_to, now()) - v.valid_from) filter (where v.status_id = 50) as in_solved,
           sum(coalesce(v.valid_to, now()) - v.valid_from) filter (where v.status_id = 60) as in_closed,
           sum(coalesce(v.valid_to, now()) - v.valid_from) filter (where v.status_id < 50) as in_open
      from ticket_versions v
     group by v.ticket_id
),
replies as (
    select c.ticket_id,
           min(c.created_on) filter (where u.role_id >= 15 and c.is_private is not true) as first_reply_at,
           (array_agg(c.user_id order by c.created_on, c.id)
                filter (where u.role_id >= 15 and c.is_private is not true))[1]           as first_reply_by,
           count(*) filter (where u.role_id >= 15 and c.is_private is not true)          as agent_replies,
           sum(c.time_spent)                                                             as time_spent
      from comments c
      left join users u on u.id = c.user_id
     where c.deleted_at is null
     group by c.ticket_id
),
m as (
    select t.*,
           coalesce(h.first_solved_at, t.solved_on) as first_solved_at,
           coalesce(h.last_solved_at, t.solved_on)  as last_solved_at,
           h.reopens, h.assignees, h.in_new, h.in_progress, h.on_hold, h.info_requested, h.in_solved, h.in_closed,
           h.in_open,
           r.first_reply_at, r.first_reply_by, r.agent_replies, r.time_spent
      from tickets t
      left join hist h on h.ticket_id = t.id
      left join replies r on r.ticket_id = t.id
     where t.deleted_at is null
)
select m.id                                                                  as ticket_id,
       m.status_id,
       s.name                                                                as status,
       m.status_id < 50                                                      as is_open,
       m.priority_id,
       m.ticket_queue_id,
       m.assigned_to_id,
       m.created_on,
       m.first_reply_at,
       m.first_reply_by,
       round(extract(epoch from m.first_reply_at - m.created_on) / 60, 2)   as first_reply_minutes,
       coalesce(m.agent_replies, 0)                                          as agent_replies,
       m.first_solved_at                                                    as first_solved_at,
       m.last_solved_at                                                     as last_solved_at,
       round(extract(epoch from m.first_solved_at - m.created_on) / 60, 2) as first_resolution_minutes,
       case when m.status_id >= 50
            then round(extract(epoch from m.last_solved_at - m.created_on) / 60, 2)
       end                                                                   as full_resolution_minutes,
       coalesce(m.reopens, 0)                                                as reopens,
       round(extract(epoch from coalesce(m.in_new, '0')) / 60, 2)            as minutes_new,
       round(extract(epoch from coalesce(m.in_progress, '0')) / 60, 2)       as minutes_in_progress,
       round(extract(epoch from coalesce(m.on_hold, '0')) / 60, 2)           as minutes_on_hold,
       round(extract(epoch from coalesce(m.info_requested, '0')) / 60, 2)    as minutes_information_requested,
       round(extract(epoch from coalesce(m.in_solved, '0')) / 60, 2)         as minutes_solved,
       round(extract(epoch from coalesce(m.in_closed, '0')) / 60, 2)         as minutes_closed,
       round(extract(epoch from coalesce(m.in_open, '0')) / 60, 2)           as minutes_open,
       greatest(coalesce(m.assignees, 0), (m.assigned_to_id is not null)::int) as assignees,
       coalesce(m.time_spent, 0)                                            as time_spent,
       m.status_id >= 50 and coalesce(m.agent_replies, 0) = 1                as is_one_touch,
       m.status_id >= 50 and coalesce(m.agent_replies, 0) = 2                as is_two_touch,
       m.due_on,
       case when m.due_on is null then null
            when m.status_id >= 50 then m.last_solved_at > m.due_on
            else now() > m.due_on
       end                                                                   as sla_breached,
       m.rating,
       m.rating_comment,
       m.rated_on
  from m
  left join ticket_statuses s on s.id = m.status_id;

-- Per day, queue and status: the tickets open at the end of the day (just before the next midnight in
-- settings.time_zone), from history. A version counts from the day it started to the day before the one it ended;
-- a deletion ends it, so a deleted ticket leaves the backlog on the day it was deleted.
create view backlog_daily as
with tz as (
    select coalesce((select time_zone from settings limit 1), 'UTC') as name
),
events as (
    select h.ticket_queue_id, h.status_id, (e.at at time zone tz.name)::date as day, sum(e.delta) as delta
      from ticket_history h
     cross join tz
     cross join lateral (values (h.valid_from, 1), (h.valid_to, -1)) e(at, delta)
     where not h.deleted and h.status_id < 50 and e.at is not null
     group by 1, 2, 3
),
running as (
    select ev.ticket_queue_id, ev.status_id, ev.day,
           sum(ev.delta) over w as open_tickets,
           lead(ev.day) over w  as next_day
      from events ev
    window w as (partition by ev.ticket_queue_id, ev.status_id order by ev.day)
)
select r.day + g.n                as day,
       r.ticket_queue_id,
       q.name                     as ticket_queue,
       r.status_id,
       s.name                     as status,
       r.open_tickets::bigint     as open_tickets
  from running r
 cross join tz
 cross join lateral generate_series(0, least(r.next_day - 1, (now() at time zone tz.name)::date) - r.day) g(n)
  left join ticket_queues q on q.id = r.ticket_queue_id
  left join ticket_statuses s on s.id = r.status_id
 where r.open_tickets > 0;

-- Per agent and day (in settings.time_zone): their comments on live tickets' threads (public, private, time_spent
-- summed), and the live tickets resolved that day while assigned to them.
create view agent_activity_daily as
with tz as (
    select coalesce((select time_zone from settings limit 1), 'UTC') as name
),
written as (
    select c.user_id                                  as agent_id,
           (c.created_on at time zone tz.name)::date  as day,
           count(*) filter (where c.is_private is not true) as public_comments,
           count(*) filter (where c.is_private)       as private_comments,
           coalesce(sum(c.time_spent), 0)             as time_spent
      from comments c
      join users u on u.id = c.user_id
     cross join tz
     where u.role_id >= 15 and c.deleted_at is null and c.created_on is not null
     group by 1, 2
),
solved as (
    select v.assigned_to_id                           as agent_id,
           (v.resolved_at at time zone tz.name)::date as day,
           count(distinct v.ticket_id)                as tickets_solved
      from ticket_versions v
      join tickets t on t.id = v.ticket_id and t.deleted_at is null
     cross join tz
     where v.resolved_at is not null and v.assigned_to_id is not null
     group by 1, 2
)
select coalesce(w.day, s.day)                         as day,
       coalesce(w.agent_id, s.agent_id)               as agent_id,
       coalesce(u.full_name, nullif(concat_ws(' ', u.first_name, u.last_name), '')) as agent,
       coalesce(w.public_comments, 0)                 as public_comments,
       coalesce(w.private_comments, 0)                as private_comments,
       coalesce(w.time_spent, 0)                      as time_spent,
       coalesce(s.tickets_solved, 0)                  as tickets_solved
  from written w
  full join solved s on s.agent_id = w.agent_id and s.day = w.day
  left join users u on u.id = coalesce(w.agent_id, s.agent_id);
