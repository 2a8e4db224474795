-- mojosync schema, version 1.
-- Applied by `mojosync migrate` inside one transaction, with search_path set to the configured schema:
-- every name below is unqualified and lands in that schema, whatever it is called.
-- Typed columns mirror the same-named keys of raw (null when absent); raw is the object as the API sent it.

create table tickets (
    id                 bigint primary key,
    title              text,
    description        text,
    status_id          bigint,
    priority_id        bigint,
    ticket_queue_id    bigint,
    ticket_type_id     bigint,
    ticket_form_id     bigint,
    user_id            bigint,
    assigned_to_id     bigint,
    company_id         bigint,
    rating             bigint,
    rating_comment     text,
    rated_on           timestamptz,
    created_on         timestamptz,
    updated_on         timestamptz,
    status_changed_on  timestamptz,
    solved_on          timestamptz,
    assigned_on        timestamptz,
    first_assigned_on  timestamptz,
    due_on             timestamptz,
    scheduled_on       timestamptz,
    resolution_id      bigint,
    created_from       bigint,
    cc                 text,
    custom_fields      jsonb not null default '{}',
    raw                jsonb not null,
    synced_at          timestamptz not null default now(),
    deleted_at         timestamptz
);
create index tickets_updated_on_idx on tickets (updated_on);
create index tickets_queue_status_idx on tickets (ticket_queue_id, status_id);
create index tickets_assigned_to_idx on tickets (assigned_to_id);
create index tickets_user_idx on tickets (user_id);
create index tickets_company_idx on tickets (company_id);
create index tickets_created_on_idx on tickets (created_on);

create table comments (
    id          bigint primary key,
    ticket_id   bigint,
    user_id     bigint,
    body        text,
    is_private  boolean,
    time_spent  bigint,
    created_on  timestamptz,
    updated_on  timestamptz,
    raw         jsonb not null,
    synced_at   timestamptz not null default now(),
    deleted_at  timestamptz
);
create index comments_ticket_idx on comments (ticket_id, created_on);
create index comments_user_idx on comments (user_id, created_on);
create index comments_updated_on_idx on comments (updated_on);

create table users (
    id              bigint primary key,
    email           text,
    first_name      text,
    middle_name     text,
    last_name       text,
    full_name       text,
    work_phone      text,
    cell_phone      text,
    home_phone      text,
    user_notes      text,
    company_id      bigint,
    role_id         bigint,
    is_active       boolean,
    last_login_on   timestamptz,
    created_on      timestamptz,
    updated_on      timestamptz,
    raw             jsonb not null,
    synced_at       timestamptz not null default now(),
    deleted_at      timestamptz
);
create index users_email_idx on users (lower(email));
create index users_company_idx on users (company_id);
create index users_updated_on_idx on users (updated_on);

create table ticket_queues (
    id                    bigint primary key,
    name                  text,
    email_alias           text,
    email_forward         text,
    email_ticket_form_id  bigint,
    raw                   jsonb not null,
    synced_at             timestamptz not null default now(),
    deleted_at            timestamptz
);

create table companies (
    id                  bigint primary key,
    name                text,
    primary_contact_id  bigint,
    billing_contact_id  bigint,
    support_level_id    bigint,
    support_status_id   bigint,
    support_start_date  date,
    support_end_date    date,
    support_info_url    text,
    address             text,
    address2            text,
    city                text,
    state               text,
    zip                 text,
    country             text,
    website_url         text,
    notes               text,
    raw                 jsonb not null,
    synced_at           timestamptz not null default now(),
    deleted_at          timestamptz
);

-- One row per resource: the incremental position and the outcome of the last cycle.
create table sync_state (
    resource          text primary key,
    watermark         timestamptz,
    last_success      timestamptz,
    last_attempt      timestamptz,
    last_error        text,
    last_reconcile    timestamptz
);
insert into sync_state (resource) values
    ('tickets'), ('comments'), ('users'), ('ticket_queues'), ('companies');

-- Records that could not be fetched, parsed or stored: retried every cycle until they are.
-- The watermark moves on; this list is what keeps a bad record from being passed for good.
create table sync_failures (
    resource       text not null,
    id             bigint not null,
    reason         text not null,
    first_failed   timestamptz not null default now(),
    last_failed    timestamptz not null default now(),
    attempts       integer not null default 1,
    primary key (resource, id)
);

-- The audit trail: every version of a ticket the daemon has stored, append-only.
-- valid_from is the version's updated_on (the helpdesk's clock), valid_to is closed when a newer version arrives.
create table ticket_history (
    ticket_id   bigint not null,
    valid_from  timestamptz not null,
    valid_to    timestamptz,
    updated_on  timestamptz,
    deleted     boolean not null default false,
    raw         jsonb not null,
    synced_at   timestamptz not null default now(),
    primary key (ticket_id, valid_from)
);
create index ticket_history_current_idx on ticket_history (ticket_id) where valid_to is null;

create function ticket_history_record() returns trigger
language plpgsql as $$
declare
    v_from timestamptz := coalesce(new.updated_on, new.synced_at);
    v_deleted boolean := new.deleted_at is not null;
begin
    if tg_op = 'UPDATE' and old.raw = new.raw and (old.deleted_at is null) = (new.deleted_at is null) then
        return null;
    end if;
    if v_deleted then
        v_from := greatest(v_from, new.deleted_at);
    end if;
    execute format('update %I.ticket_history set valid_to = $2
                     where ticket_id = $1 and valid_to is null and valid_from < $2', tg_table_schema)
        using new.id, v_from;
    execute format('insert into %I.ticket_history (ticket_id, valid_from, updated_on, deleted, raw)
                    values ($1, $2, $3, $4, $5)
                    on conflict (ticket_id, valid_from) do update
                       set raw = excluded.raw, deleted = excluded.deleted, synced_at = now()', tg_table_schema)
        using new.id, v_from, new.updated_on, v_deleted, new.raw;
    return null;
end $$;

create trigger tickets_history after insert or update on tickets
    for each row execute function ticket_history_record();

-- Lookup tables: the enumerations of the Mojo API, named.
create table ticket_statuses (id bigint primary key, name text not null, is_open boolean not null);
insert into ticket_statuses values
    (10, 'new', true), (20, 'in progress', true), (30, 'on hold', true),
    (40, 'information requested', true), (50, 'solved', false), (60, 'closed', false);

create table ticket_priorities (id bigint primary key, name text not null);
insert into ticket_priorities values (10, 'emergency'), (20, 'urgent'), (30, 'normal'), (40, 'low');

create table user_roles (id bigint primary key, name text not null, is_agent boolean not null);
insert into user_roles values
    (10, 'regular user', false), (15, 'restricted technician', true), (20, 'technician', true),
    (30, 'manager', true), (35, 'admin', true), (40, 'owner', true);

create table ticket_created_from (id bigint primary key, name text not null);
insert into ticket_created_from values
    (0, 'web'), (1, 'email'), (2, 'widget'), (3, 'API'), (4, 'chat'), (5, 'scheduler');

-- Tickets with everything named: a BI tool can use this without writing joins.
create view ticket_details as
select t.id,
       t.title,
       t.status_id,
       s.name                                       as status,
       coalesce(s.is_open, t.status_id < 50)        as is_open,
       t.priority_id,
       p.name                                       as priority,
       t.ticket_queue_id,
       q.name                                       as ticket_queue,
       t.company_id,
       c.name                                       as company,
       t.user_id                                    as requester_id,
       coalesce(ru.full_name, nullif(concat_ws(' ', ru.first_name, ru.last_name), '')) as requester,
       ru.email                                     as requester_email,
       t.assigned_to_id,
       coalesce(au.full_name, nullif(concat_ws(' ', au.first_name, au.last_name), '')) as assignee,
       t.created_from,
       cf.name                                      as created_from_name,
       t.rating,
       t.created_on,
       t.updated_on,
       t.solved_on,
       t.due_on,
       now() - t.created_on                         as age,
       t.custom_fields
  from tickets t
  left join ticket_statuses s on s.id = t.status_id
  left join ticket_priorities p on p.id = t.priority_id
  left join ticket_queues q on q.id = t.ticket_queue_id
  left join companies c on c.id = t.company_id
  left join users ru on ru.id = t.user_id
  left join users au on au.id = t.assigned_to_id
  left join ticket_created_from cf on cf.id = t.created_from
 where t.deleted_at is null;
