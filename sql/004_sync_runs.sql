-- mojosync schema, version 4: the run log.
-- One row per cycle and resource: when it ran, what it cost, what it wrote, and how it ended.
-- `mojosync status` reads it; a dashboard can chart it. Rows are appended, never changed.
create table sync_runs (
    id              bigint generated always as identity primary key,
    cycle           bigint not null,            -- the rows of one cycle share it
    resource        text not null,              -- tickets, comments, users, ticket_queues, companies
    started_at      timestamptz not null,
    finished_at     timestamptz not null,
    full_sync       boolean not null,           -- the cycle reconciled (listings, deletions, user sweep)
    requests        bigint not null default 0,
    retries         bigint not null default 0,
    inserted        bigint not null default 0,
    updated         bigint not null default 0,
    deleted         bigint not null default 0,
    failed_records  bigint not null default 0,
    outcome         text not null check (outcome in ('ok', 'failed', 'stopped')),
    error           text
);
create index sync_runs_resource_idx on sync_runs (resource, started_at desc);
create sequence sync_runs_cycle_seq;
