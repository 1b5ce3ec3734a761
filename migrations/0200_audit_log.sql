-- The audit log (issue 7): every change to a shop's business data, whoever made it and
-- however (the REST API, a sync push, sign-up and invites), recorded in the same transaction
-- as the change, by one trigger function on every business table. Nothing in the server has
-- to remember to call it, so a new endpoint cannot forget to be audited.
--
-- A row says who (`user_id`, from `app.user_id`), which device (`device_id`, from
-- `app.device_id`: the pushing device for a sync op, the member's server-side device for a
-- REST change made as an op; `session_id`, from `app.session_id`: the signed-in session of a
-- REST request), when (`at`, the transaction's time; `tx_id` groups the rows of one change),
-- what (`entity` = the table, `entity_id`, `action`), the op that caused it (`op_id`), and the
-- changed fields: `before` and `after` hold only the columns that changed (the whole row on
-- insert or delete); `updated_at` alone is no change, and secrets (password hashes, invite
-- code hashes, tokens) are written as "[redacted]".
--
-- Append-only: the app role may insert and select, never update or delete; row-level
-- security (forced, as everywhere) keeps each shop to its own rows. The server's owner
-- connection may anonymise or delete rows (account deletion, shop erasure).
--
-- Writes made without `app.shop_id` (maintenance on the owner connection) are not recorded;
-- a transaction may also turn the trigger off with `set_config('app.audit', 'off', true)`
-- (erasing a whole shop, where the cascade would otherwise log every deleted row).

create table audit_log (
    id bigint generated always as identity primary key,
    shop_id uuid not null,
    at timestamptz not null default now(),
    tx_id bigint not null default txid_current(),
    user_id uuid,
    device_id uuid,
    session_id uuid,
    op_id uuid,
    entity text not null check (length(entity) between 1 and 64),
    entity_id uuid,
    action text not null check (action in ('insert', 'update', 'delete', 'op')),
    before jsonb,
    after jsonb
);
-- No foreign keys: the log outlives the rows it describes (and their users).
create index audit_log_shop_idx on audit_log (shop_id, id desc);
create index audit_log_entity_idx on audit_log (shop_id, entity, entity_id, id desc);
create index audit_log_user_idx on audit_log (shop_id, user_id, id desc);
create index audit_log_at_idx on audit_log (shop_id, at);

alter table audit_log enable row level security;
alter table audit_log force row level security;
create policy shop_isolation on audit_log
    using (shop_id = app_shop_id()) with check (shop_id = app_shop_id());

grant select, insert on audit_log to printstall_app;

-- The per-transaction context beyond app.shop_id / app.user_id.
create function app_setting_uuid(name text) returns uuid
language plpgsql stable parallel safe
as $$
declare
    v text := nullif(current_setting(name, true), '');
begin
    return v::uuid;
exception when invalid_text_representation then
    return null;
end
$$;
grant execute on function app_setting_uuid(text) to printstall_app;

-- Secrets never reach the log.
create function audit_redact(doc jsonb) returns jsonb
language sql immutable parallel safe
as $$
    select coalesce(jsonb_object_agg(
        key,
        case when key ~ '(password|token|secret|code_hash)' and value <> 'null'::jsonb
             then '"[redacted]"'::jsonb else value end), '{}'::jsonb)
    from jsonb_each(doc)
$$;
grant execute on function audit_redact(jsonb) to printstall_app;

-- The trigger: TG_ARGV[0] names the row's id column (default `id`), TG_ARGV[1] its shop
-- column (default `shop_id`).
create function audit_row() returns trigger
language plpgsql
as $$
declare
    shop uuid := app_shop_id();
    id_col text := coalesce(tg_argv[0], 'id');
    shop_col text := coalesce(tg_argv[1], 'shop_id');
    o jsonb;
    n jsonb;
    b jsonb := '{}'::jsonb;
    a jsonb := '{}'::jsonb;
    k text;
    row_doc jsonb;
begin
    if shop is null or current_setting('app.audit', true) = 'off' then
        return null;
    end if;
    if tg_op <> 'INSERT' then
        o := to_jsonb(old) - 'updated_at';
    end if;
    if tg_op <> 'DELETE' then
        n := to_jsonb(new) - 'updated_at';
    end if;
    row_doc := coalesce(n, o);
    -- Only the current shop's rows (the owner connection could write others).
    if (row_doc ->> shop_col)::uuid is distinct from shop then
        return null;
    end if;
    if tg_op = 'UPDATE' then
        for k in select jsonb_object_keys(n) loop
            if (o -> k) is distinct from (n -> k) then
                b := b || jsonb_build_object(k, o -> k);
                a := a || jsonb_build_object(k, n -> k);
            end if;
        end loop;
        if a = '{}'::jsonb then
            return null;
        end if;
    else
        b := o;
        a := n;
    end if;
    insert into audit_log (shop_id, user_id, device_id, session_id, op_id, entity, entity_id,
                           action, before, after)
    values (shop, app_user_id(), app_setting_uuid('app.device_id'),
            app_setting_uuid('app.session_id'), app_setting_uuid('app.op_id'), tg_table_name,
            (row_doc ->> id_col)::uuid, lower(tg_op),
            case when b is null then null else audit_redact(b) end,
            case when a is null then null else audit_redact(a) end);
    return null;
end
$$;

do $$
declare
    t text;
begin
    foreach t in array array[
        'model', 'filament', 'sliced_file', 'model_variant', 'spool', 'printer',
        'market_event', 'print_job', 'spool_usage', 'product', 'sale', 'stock_entry', 'invite'
    ] loop
        execute format(
            'create trigger audit after insert or update or delete on %I for each row execute function audit_row()',
            t
        );
    end loop;
end
$$;
create trigger audit after insert or update or delete on shop
    for each row execute function audit_row('id', 'id');
create trigger audit after insert or update or delete on membership
    for each row execute function audit_row('user_id');
create trigger audit after insert or update or delete on variant_filament
    for each row execute function audit_row('variant_id');
create trigger audit after insert or update or delete on event_stock_plan
    for each row execute function audit_row('event_id');
create trigger audit after insert or update or delete on sale_line
    for each row execute function audit_row('sale_id');
