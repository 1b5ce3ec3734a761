-- Row-level security forced on the last shop-owned tables that had it only enabled:
-- `invite`, `printer_token` and `refresh_token` (every table with a `shop_id` column is now
-- enabled and forced; server/tests/rls.rs derives that list from information_schema).
--
-- Why they were not forced: the sign-in flows look a row up by the hash of a secret before
-- any shop is known (redeeming an invite code, refreshing a session, a printer's API
-- token), on the owner connection. A superuser owner (the embedded cluster) bypasses RLS
-- anyway, but an owner role that is not one (a managed PostgreSQL) is bound by FORCE and
-- would see nothing.
--
-- How they still work when forced: besides `shop_isolation` (the shop of the transaction),
-- one more policy, for any role but the app role, admits exactly the rows a transaction
-- names:
-- - the row whose secret hash equals the transaction's `app.lookup_hash` (set by the
--   server to the hash of the code or token it was handed, so it finds that row and no
--   other);
-- - for `refresh_token` also the rows of `app.user_id` (a person's sessions span shops:
--   listing, ending and revoking them all on a password change or erasure), and for
--   `invite` the codes `app.user_id` made or redeemed (erasing the person);
-- - `session_open(user, family)` checks a signed access token's session on every request
--   in one round trip: it names the user for its one query and restores the setting.
-- Without those settings the owner connection sees none of these rows, as with every other
-- forced table. The app role still sees only its shop's invites and printer tokens, and no
-- refresh token at all (it has no grant on the table).

create function app_lookup_hash() returns text
language sql stable parallel safe
as $$ select nullif(current_setting('app.lookup_hash', true), '') $$;

alter table invite force row level security;
create policy named_by_owner on invite
    using (
        current_user <> 'printstall_app'
        and (code_hash = app_lookup_hash() or created_by = app_user_id() or used_by = app_user_id())
    );

alter table printer_token force row level security;
create policy named_by_owner on printer_token
    using (current_user <> 'printstall_app' and token_hash = app_lookup_hash());

alter table refresh_token force row level security;
create policy named_by_owner on refresh_token
    using (
        current_user <> 'printstall_app'
        and (shop_id = app_shop_id() or user_id = app_user_id() or token_hash = app_lookup_hash())
    );

-- Whether the session (refresh-token family) `p_family` of `p_user` still has a refresh
-- token that is not revoked. Names the user for its own query only.
create function session_open(p_user uuid, p_family uuid) returns boolean
language plpgsql volatile
as $$
declare
    before text := current_setting('app.user_id', true);
    found boolean;
begin
    perform set_config('app.user_id', p_user::text, true);
    found := exists (
        select from refresh_token
        where family_id = p_family and user_id = p_user and revoked_at is null
    );
    perform set_config('app.user_id', coalesce(before, ''), true);
    return found;
end
$$;
revoke execute on function session_open(uuid, uuid) from public;
