-- The Spoolman-compatible API and imports from Spoolman (issue 8).
--
-- - `printer_token`: an API token the owner makes for one printer host (Moonraker,
--   OctoPrint); only its SHA-256 is stored. Looked up by hash before any shop is known
--   (like `refresh_token`), so RLS is enabled but not forced: the owner connection finds the
--   token, the app role sees and revokes only its own shop's tokens.
-- - `spoolman_id`: the stable integer id per shop that Spoolman's clients use for vendors
--   (one per filament brand), filaments and spools, never reused; `source_id` is the id a
--   row had in the Spoolman it was imported from, so a second import updates it.

create table printer_token (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    name text not null check (length(btrim(name)) between 1 and 120),
    printer_id uuid,
    token_hash text not null,
    created_by uuid not null references app_user (id) on delete cascade,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    unique (shop_id, id),
    constraint printer_token_hash_key unique (token_hash),
    constraint printer_token_printer_fkey foreign key (shop_id, printer_id) references printer (shop_id, id)
);
create index printer_token_shop_idx on printer_token (shop_id, created_at);

alter table printer_token enable row level security;
create policy shop_isolation on printer_token
    using (shop_id = app_shop_id()) with check (shop_id = app_shop_id());

grant select, insert on printer_token to printstall_app;
grant update (revoked_at) on printer_token to printstall_app;

create table spoolman_id (
    shop_id uuid not null references shop (id) on delete cascade,
    kind text not null check (kind in ('vendor', 'filament', 'spool')),
    num integer not null check (num > 0),
    -- The filament or spool (vendors are brands: `vendor_key` is the brand, lower-cased).
    ref_id uuid,
    vendor_key text check (length(vendor_key) <= 120),
    source_id integer,
    registered timestamptz not null default now(),
    primary key (shop_id, kind, num),
    constraint spoolman_id_ref_key unique (shop_id, kind, ref_id),
    constraint spoolman_id_vendor_key unique (shop_id, kind, vendor_key),
    constraint spoolman_id_source_key unique (shop_id, kind, source_id),
    check ((kind = 'vendor') = (vendor_key is not null) and (kind = 'vendor') = (ref_id is null))
);

-- Sub-centigram remainders of printer reports (Moonraker reports every few seconds, often
-- a fraction of a gram), carried to the next report of the same token and spool.
create table spoolman_carry (
    shop_id uuid not null references shop (id) on delete cascade,
    token_id uuid not null,
    spool_id uuid not null,
    carry_ug bigint not null default 0 check (carry_ug > -10000 and carry_ug < 10000),
    primary key (token_id, spool_id),
    constraint spoolman_carry_token_fkey foreign key (shop_id, token_id) references printer_token (shop_id, id) on delete cascade,
    constraint spoolman_carry_spool_fkey foreign key (shop_id, spool_id) references spool (shop_id, id)
);

do $$
declare
    t text;
begin
    foreach t in array array['spoolman_id', 'spoolman_carry'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy shop_isolation on %I using (shop_id = app_shop_id()) with check (shop_id = app_shop_id())',
            t
        );
    end loop;
end
$$;

grant select, insert on spoolman_id to printstall_app;
grant update (source_id) on spoolman_id to printstall_app;
grant select, insert, update on spoolman_carry to printstall_app;
