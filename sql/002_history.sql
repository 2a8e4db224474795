-- mojosync schema, version 2: the audit trail of every mirrored table, and "as of" queries.
-- Applied like every migration: one transaction, search_path set to the configured schema, unqualified names.
--
-- Each mirrored table T has a history table with one row per distinct version the daemon has stored:
--   <key>          the record's id (ticket_id, comment_id, user_id, ticket_queue_id, company_id)
--   version        1, 2, 3, ... per record
--   valid_from     when this version became current, on the helpdesk's clock where it gives one (see 3.)
--   valid_to       when the next version replaced it; null for the current version. Intervals are [valid_from, valid_to).
--   updated_on     the record's updated_on (null for queues and companies, which have none)
--   deleted        a tombstone: the record was found gone from the helpdesk (as of valid_from)
--   raw            the object as the API sent it
--   typed_columns  the live row's typed columns whose value is not spelled exactly like the same-named key of raw
--                  (timestamps, custom_fields, synced_at, ...); raw || typed_columns rebuilds the live row exactly
--   synced_at      when the daemon stored this version
-- Rows are only ever inserted; the one change allowed is closing valid_to once. history_guard enforces it.

-- 1. ticket_history, created by version 1 with a trigger that could rewrite a version in place: reshape it.
drop trigger tickets_history on tickets;
drop function ticket_history_record();

-- The typed columns of a row (to_jsonb of it) that raw does not already spell the same way. jsonb_populate_record
-- of raw || this gives back every typed column exactly (each value either is, as text, to_jsonb of the column, or
-- is raw's value with the identical text).
create function history_typed_columns(rec jsonb, raw jsonb) returns jsonb
language sql immutable set search_path from current as $$
    select coalesce(jsonb_object_agg(e.key, e.value), '{}')
      from jsonb_each(rec - 'raw') e
     where case when jsonb_typeof(raw) = 'object' and raw ? e.key
                then (raw -> e.key)::text is distinct from e.value::text
                else e.value <> 'null'::jsonb
           end
$$;

alter table ticket_history
    add column version integer,
    add column typed_columns jsonb not null default '{}';

-- Versions recorded by version 1: number them, and make every validity end where the next version starts.
update ticket_history h
   set version = n.version, valid_to = n.next_from
  from (select ticket_id, valid_from,
               row_number() over w as version,
               lead(valid_from) over w as next_from
          from ticket_history
        window w as (partition by ticket_id order by valid_from)) n
 where n.ticket_id = h.ticket_id and n.valid_from = h.valid_from;

-- Their typed columns: the live row's for a current version that is the live row; derived from raw for the others
-- (as the daemon maps them: same-named keys, custom fields by name), all null where raw cannot be read that way.
update ticket_history h
   set typed_columns = history_typed_columns(to_jsonb(t), t.raw)
  from tickets t
 where t.id = h.ticket_id and h.valid_to is null and h.raw = t.raw and h.deleted = (t.deleted_at is not null);

create function legacy_ticket_columns(raw jsonb, synced timestamptz) returns jsonb
language plpgsql set search_path from current as $$
declare
    fields jsonb;
begin
    select coalesce(jsonb_object_agg(regexp_replace(f.name, '^custom_field_', ''), f.value), '{}')
      into fields
      from (select e ->> 'name' as name, e -> 'value' as value
              from jsonb_array_elements(case when jsonb_typeof(raw -> 'custom_field_values') = 'array'
                                             then raw -> 'custom_field_values' else '[]' end) e
            union all
            select k.key, k.value from jsonb_each(raw) k
             where k.key like 'custom\_field\_%' and k.key <> 'custom_field_values') f
     where f.name is not null;
    return history_typed_columns(
        to_jsonb(jsonb_populate_record(null::tickets,
                                       raw || jsonb_build_object('custom_fields', fields, 'synced_at', synced,
                                                                 'deleted_at', null, 'raw', raw))), raw);
exception when others then
    return (select jsonb_object_agg(a.attname, null) from pg_attribute a
             where a.attrelid = 'tickets'::regclass and a.attnum > 0 and not a.attisdropped and a.attname <> 'raw')
           || jsonb_build_object('id', raw -> 'id', 'custom_fields', '{}'::jsonb, 'synced_at', synced);
end $$;
update ticket_history
   set typed_columns = legacy_ticket_columns(raw, synced_at)
 where version is not null and typed_columns = '{}';
drop function legacy_ticket_columns(jsonb, timestamptz);

alter table ticket_history
    alter column version set not null,
    drop constraint ticket_history_pkey,
    add primary key (ticket_id, version),
    add check (valid_to is null or valid_to >= valid_from);
drop index ticket_history_current_idx;
create unique index ticket_history_current_idx on ticket_history (ticket_id) where valid_to is null;

-- Typed fields of each version that the views need, kept beside it (computed once, when the version is stored).
alter table ticket_history
    add column status_id bigint generated always as
        (((case when typed_columns ? 'status_id' then typed_columns else raw end) ->> 'status_id')::bigint) stored,
    add column priority_id bigint generated always as
        (((case when typed_columns ? 'priority_id' then typed_columns else raw end) ->> 'priority_id')::bigint) stored,
    add column ticket_queue_id bigint generated always as
        (((case when typed_columns ? 'ticket_queue_id' then typed_columns else raw end) ->> 'ticket_queue_id')::bigint) stored,
    add column assigned_to_id bigint generated always as
        (((case when typed_columns ? 'assigned_to_id' then typed_columns else raw end) ->> 'assigned_to_id')::bigint) stored,
    add column company_id bigint generated always as
        (((case when typed_columns ? 'company_id' then typed_columns else raw end) ->> 'company_id')::bigint) stored,
    add column solved_on timestamptz;
-- (solved_on is written by the trigger: a cast to timestamptz cannot be a generated column. The text read here
-- always carries its offset, so the session's TimeZone does not matter.)
update ticket_history
   set solved_on = ((case when typed_columns ? 'solved_on' then typed_columns else raw end) ->> 'solved_on')::timestamptz;

-- 2. The other four tables: the same shape.
create table comment_history (
    comment_id     bigint not null,
    valid_from     timestamptz not null,
    valid_to       timestamptz,
    updated_on     timestamptz,
    deleted        boolean not null default false,
    raw            jsonb not null,
    synced_at      timestamptz not null default now(),
    version        integer not null,
    typed_columns  jsonb not null default '{}',
    ticket_id      bigint generated always as
        (((case when typed_columns ? 'ticket_id' then typed_columns else raw end) ->> 'ticket_id')::bigint) stored,
    user_id        bigint generated always as
        (((case when typed_columns ? 'user_id' then typed_columns else raw end) ->> 'user_id')::bigint) stored,
    primary key (comment_id, version),
    check (valid_to is null or valid_to >= valid_from)
);
create unique index comment_history_current_idx on comment_history (comment_id) where valid_to is null;
create index comment_history_ticket_idx on comment_history (ticket_id);

create table user_history (
    user_id        bigint not null,
    valid_from     timestamptz not null,
    valid_to       timestamptz,
    updated_on     timestamptz,
    deleted        boolean not null default false,
    raw            jsonb not null,
    synced_at      timestamptz not null default now(),
    version        integer not null,
    typed_columns  jsonb not null default '{}',
    primary key (user_id, version),
    check (valid_to is null or valid_to >= valid_from)
);
create unique index user_history_current_idx on user_history (user_id) where valid_to is null;

create table ticket_queue_history (
    ticket_queue_id  bigint not null,
    valid_from       timestamptz not null,
    valid_to         timestamptz,
    updated_on       timestamptz,
    deleted          boolean not null default false,
    raw              jsonb not null,
    synced_at        timestamptz not null default now(),
    version          integer not null,
    typed_columns    jsonb not null default '{}',
    primary key (ticket_queue_id, version),
    check (valid_to is null or valid_to >= valid_from)
);
create unique index ticket_queue_history_current_idx on ticket_queue_history (ticket_queue_id) where valid_to is null;

create table company_history (
    company_id     bigint not null,
    valid_from     timestamptz not null,
    valid_to       timestamptz,
    updated_on     timestamptz,
    deleted        boolean not null default false,
    raw            jsonb not null,
    synced_at      timestamptz not null default now(),
    version        integer not null,
    typed_columns  jsonb not null default '{}',
    primary key (company_id, version),
    check (valid_to is null or valid_to >= valid_from)
);
create unique index company_history_current_idx on company_history (company_id) where valid_to is null;

-- 3. The triggers that record versions: AFTER INSERT OR UPDATE on each mirrored table, one function per table
-- (static SQL, so that its plans are cached), all made from one template. A write that leaves raw and the deletion
-- state as the current version has them adds nothing: re-reading an unchanged record, or touching synced_at,
-- never makes a version. valid_from of a new version:
--   - a deletion: deleted_at (when reconciliation found the record gone);
--   - otherwise the record's updated_on (the helpdesk's clock);
--   - the time of this sync (now()) where that gives nothing later than the current version's valid_from: the record
--     has no updated_on (queues, companies), or changed, or came back after a deletion, without its updated_on moving;
--   - never earlier than the current version's valid_from, so that validities never overlap.
-- Rows already mirrored get their first version here (tickets have theirs from version 1): valid from their
-- updated_on, else from when they were synced; a row already marked deleted gets its tombstone after it.
do $do$
declare
    t record;
begin
    for t in select * from (values ('tickets', 'ticket_history', 'ticket_id'),
                                   ('comments', 'comment_history', 'comment_id'),
                                   ('users', 'user_history', 'user_id'),
                                   ('ticket_queues', 'ticket_queue_history', 'ticket_queue_id'),
                                   ('companies', 'company_history', 'company_id')) v(tab, hist, key)
    loop
        execute format($fn$
            create function %1$I() returns trigger
            language plpgsql set search_path from current as $body$
            declare
                rec        jsonb := to_jsonb(new);
                is_deleted boolean := new.deleted_at is not null;
                updated    timestamptz := (rec ->> 'updated_on')::timestamptz;
                c_version  integer;
                c_from     timestamptz;
                c_deleted  boolean;
                c_raw      jsonb;
                v_from     timestamptz;
                typed      jsonb;
            begin
                select h.version, h.valid_from, h.deleted, h.raw into c_version, c_from, c_deleted, c_raw
                  from %2$I h where h.%3$I = new.id and h.valid_to is null;
                if c_version is not null and c_raw = new.raw and c_deleted = is_deleted then
                    return null;
                end if;
                if is_deleted and c_deleted is distinct from true then
                    v_from := new.deleted_at;
                else
                    v_from := updated;
                end if;
                if v_from is null or v_from <= c_from then
                    v_from := now();
                end if;
                v_from := greatest(v_from, c_from);
                if c_version is not null then
                    update %2$I h set valid_to = v_from where h.%3$I = new.id and h.valid_to is null;
                end if;
                typed := history_typed_columns(rec, new.raw);
                insert into %2$I (%3$I, version, valid_from, updated_on, deleted, raw, typed_columns%4$s)
                values (new.id, coalesce(c_version, 0) + 1, v_from, updated, is_deleted, new.raw, typed%5$s);
                return null;
            end $body$$fn$, t.hist || '_record', t.hist, t.key,
            case when t.tab = 'tickets' then ', solved_on' else '' end,
            case when t.tab = 'tickets' then ', new.solved_on' else '' end);

        execute format($f$
            insert into %2$I (%3$I, version, valid_from, valid_to, updated_on, deleted, raw, typed_columns%4$s)
            select r.id, 1, r.vf, case when r.deleted_at is not null then greatest(r.deleted_at, r.vf) end,
                   r.upd, false, r.raw, history_typed_columns(r.rec || '{"deleted_at": null}', r.raw)%5$s
              from (select x.id, x.raw, x.deleted_at, to_jsonb(x) as rec,
                           (to_jsonb(x) ->> 'updated_on')::timestamptz as upd,
                           coalesce((to_jsonb(x) ->> 'updated_on')::timestamptz, x.synced_at) as vf
                      from %1$I x
                     where not exists (select 1 from %2$I h where h.%3$I = x.id)) r$f$, t.tab, t.hist, t.key,
            case when t.tab = 'tickets' then ', solved_on' else '' end,
            case when t.tab = 'tickets' then ', (r.rec ->> ''solved_on'')::timestamptz' else '' end);
        execute format($f$
            insert into %2$I (%3$I, version, valid_from, updated_on, deleted, raw, typed_columns%4$s)
            select x.id, 2, h.valid_to, h.updated_on, true, x.raw, history_typed_columns(to_jsonb(x), x.raw)%5$s
              from %1$I x join %2$I h on h.%3$I = x.id and h.version = 1 and h.valid_to is not null
             where x.deleted_at is not null
               and not exists (select 1 from %2$I h2 where h2.%3$I = x.id and h2.version = 2)$f$,
            t.tab, t.hist, t.key,
            case when t.tab = 'tickets' then ', solved_on' else '' end,
            case when t.tab = 'tickets' then ', (to_jsonb(x) ->> ''solved_on'')::timestamptz' else '' end);

        execute format('create trigger %I after insert or update on %I for each row execute function %I()',
                       t.tab || '_history', t.tab, t.hist || '_record');
    end loop;
end $do$;

-- 4. Append-only, enforced: no delete, no truncate, and no update but closing the valid_to of a current version.
-- The triggers name the columns an update may not set (every stored one but valid_to), so the daemon's closing
-- update costs nothing to check.
create function history_guard() returns trigger
language plpgsql set search_path from current as $$
begin
    raise exception '%.% is append-only: a version is never changed or removed, only its valid_to set once',
        quote_ident(tg_table_schema), quote_ident(tg_table_name)
        using errcode = 'integrity_constraint_violation',
              hint = 'History is the audit trail; to purge it deliberately, disable its history_guard triggers first.';
end $$;

do $$
declare
    h text;
begin
    foreach h in array array['ticket_history', 'comment_history', 'user_history', 'ticket_queue_history',
                             'company_history']
    loop
        execute format('create trigger history_guard before update of %s or delete on %I
                            for each row execute function history_guard()',
                       (select string_agg(quote_ident(a.attname), ', ' order by a.attnum)
                          from pg_attribute a
                         where a.attrelid = h::regclass and a.attnum > 0 and not a.attisdropped
                           and a.attgenerated = '' and a.attname <> 'valid_to'), h);
        execute format('create trigger history_guard_valid_to before update of valid_to on %I
                            for each row when (old.valid_to is not null) execute function history_guard()', h);
        execute format('create trigger history_guard_truncate before truncate on %I
                            for each statement execute function history_guard()', h);
    end loop;
end $$;

-- 5. "As of": tickets_as_of(instant [, id]) and the same for comments, users, ticket_queues and companies: the rows of
-- the table as they were at that instant, with the live table's columns (raw, the typed columns, synced_at of that
-- version; deleted_at is null: a record deleted by then is not there). With an id: that record only (an index
-- lookup; the first branch is skipped when an id is given).
do $do$
declare
    t record;
begin
    for t in select * from (values ('tickets', 'ticket_history', 'ticket_id'),
                                   ('comments', 'comment_history', 'comment_id'),
                                   ('users', 'user_history', 'user_id'),
                                   ('ticket_queues', 'ticket_queue_history', 'ticket_queue_id'),
                                   ('companies', 'company_history', 'company_id')) v(tab, hist, key)
    loop
        execute format($fn$
            create function %1$I(instant timestamptz, id bigint default null) returns setof %2$I
            language sql stable set search_path from current as $body$
                select r.*
                  from (select h.raw, h.typed_columns from %3$I h
                         where $2 is null
                           and not h.deleted and h.valid_from <= $1 and (h.valid_to is null or h.valid_to > $1)
                        union all
                        select h.raw, h.typed_columns from %3$I h
                         where h.%4$I = $2
                           and not h.deleted and h.valid_from <= $1 and (h.valid_to is null or h.valid_to > $1)) v
                 cross join lateral jsonb_populate_record(null::%2$I,
                           case when jsonb_typeof(v.raw) = 'object' then v.raw else '{}' end || v.typed_columns
                           || jsonb_build_object('raw', v.raw)) r
            $body$$fn$, t.tab || '_as_of', t.tab, t.hist, t.key);
    end loop;
end $do$;
