-- Offline sync (issue 4): devices, the applied-op log, the merged state per row, and the
-- shop's sync version.
--
-- - `device`: a device id belongs to one user of one shop; a push naming a device that is
--   registered to someone else is refused.
-- - `applied_op`: every op ever received, keyed by its client-made `op_id`. The primary key
--   is what makes a push idempotent (`insert ... on conflict (op_id) do nothing`); the stored
--   `result` is answered again for a duplicate. Append-only for the app role.
-- - `sync_cell`: the core merge cell of each row (`printstall_core::sync::CellDoc` as JSON),
--   with the shop version of the push that last changed it. Pull pages it by
--   (version, kind, id).
-- - `shop_sync`: the shop's version counter (its row lock serialises a shop's pushes, so a
--   version is committed before the next one is taken) and the epoch that a restore must
--   change (`update shop_sync set epoch = gen_random_uuid()`) so devices resync.

create table device (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    user_id uuid not null references app_user (id) on delete cascade,
    created_at timestamptz not null default now(),
    last_push_at timestamptz
);
create index device_shop_idx on device (shop_id, user_id);

create table shop_sync (
    shop_id uuid primary key references shop (id) on delete cascade,
    version bigint not null default 0 check (version >= 0),
    epoch uuid not null default gen_random_uuid()
);

create table applied_op (
    op_id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    device_id uuid,
    user_id uuid references app_user (id),
    client_seq bigint,
    hlc text,
    kind text,
    body jsonb not null,
    outcome text not null check (outcome in ('applied', 'duplicate', 'rejected')),
    result jsonb not null,
    version bigint not null,
    applied_at timestamptz not null default now()
);
create index applied_op_device_idx on applied_op (shop_id, device_id, client_seq);
create index applied_op_version_idx on applied_op (shop_id, version);

create table sync_cell (
    shop_id uuid not null references shop (id) on delete cascade,
    kind text not null check (kind in ('shop', 'model', 'variant', 'filament', 'spool', 'product', 'printer', 'print_job', 'market_event', 'sale')),
    id uuid not null,
    cell jsonb not null,
    version bigint not null,
    primary key (shop_id, kind, id)
);
create index sync_cell_version_idx on sync_cell (shop_id, version, kind, id);

-- Row-level security: forced, on the shop of the transaction.
do $$
declare
    t text;
begin
    foreach t in array array['device', 'shop_sync', 'applied_op', 'sync_cell'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy shop_isolation on %I using (shop_id = app_shop_id()) with check (shop_id = app_shop_id())',
            t
        );
    end loop;
end
$$;

grant select, insert on device to printstall_app;
grant update (last_push_at) on device to printstall_app;
grant select, insert on shop_sync to printstall_app;
grant update (version) on shop_sync to printstall_app;
-- The op log is append-only.
grant select, insert on applied_op to printstall_app;
grant select, insert, update on sync_cell to printstall_app;
