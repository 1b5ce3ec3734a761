-- The audit trigger (0200) did the same work in fewer steps (issue 9: it was a third of the
-- database's time in a sync push, which writes several audited rows per op). What it
-- records is unchanged:
--
-- - `app_setting_uuid`: read three times per audited row. Its exception block opened a
--   subtransaction on every call; a canonical UUID (what the server sets) is now read
--   without one, anything else still goes through the old, forgiving path.
-- - `audit_row`: the changed columns of an update are found in one query instead of a loop
--   that rebuilt two JSON documents per changed column; documents that cannot hold a
--   secret (no key or value mentions one) skip the redaction rebuild, whose answer for
--   them is the document itself.

create function app_setting_uuid_slow(v text) returns uuid
language plpgsql immutable parallel safe
as $$
begin
    return v::uuid;
exception when invalid_text_representation then
    return null;
end
$$;
grant execute on function app_setting_uuid_slow(text) to printstall_app;

create or replace function app_setting_uuid(name text) returns uuid
language sql stable parallel safe
as $$
    select case
               when v is null then null
               when v ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                   then v::uuid
               else app_setting_uuid_slow(v)
           end
    from (select nullif(current_setting(name, true), '') as v) s
$$;

create or replace function audit_row() returns trigger
language plpgsql
as $$
declare
    shop uuid := app_shop_id();
    id_col text := coalesce(tg_argv[0], 'id');
    shop_col text := coalesce(tg_argv[1], 'shop_id');
    o jsonb;
    n jsonb;
    b jsonb;
    a jsonb;
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
        select jsonb_object_agg(e.key, o -> e.key), jsonb_object_agg(e.key, e.value)
          into b, a
          from jsonb_each(n) as e
         where (o -> e.key) is distinct from e.value;
        if a is null then
            return null;
        end if;
    else
        b := o;
        a := n;
    end if;
    -- `audit_redact` only rewrites keys that name a secret; a document whose text names
    -- none (keys or values) comes back unchanged, so it is kept as it is.
    if b is not null and b::text ~ '(password|token|secret|code_hash)' then
        b := audit_redact(b);
    end if;
    if a is not null and a::text ~ '(password|token|secret|code_hash)' then
        a := audit_redact(a);
    end if;
    insert into audit_log (shop_id, user_id, device_id, session_id, op_id, entity, entity_id,
                           action, before, after)
    values (shop, app_user_id(), app_setting_uuid('app.device_id'),
            app_setting_uuid('app.session_id'), app_setting_uuid('app.op_id'), tg_table_name,
            (row_doc ->> id_col)::uuid, lower(tg_op), b, a);
    return null;
end
$$;
