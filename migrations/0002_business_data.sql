-- The business data of issue 3: accounts, shops and members, the catalogue, spools and their
-- usage ledger, products and their stock ledger, printers, print jobs, market events, sales.
--
-- Conventions
-- - Singular table names; ids are UUIDs made by the server (v7) or the client.
-- - Money: bigint minor units of the shop's currency. Weights: bigint centigrams (`_cg`).
--   Times: timestamptz (UTC instants). Calendar days: date.
-- - Every shop-owned table has `shop_id`, a `unique (shop_id, id)` key, and references other
--   shop-owned rows through composite foreign keys `(shop_id, x_id)`, so a row can never
--   point at another shop's row even when someone knows its id (foreign-key checks do not
--   see row-level security).
-- - Row-level security is enabled and forced on every shop-owned table. The policies read
--   the per-transaction settings `app.shop_id` / `app.user_id` (set with
--   `set_config(..., true)` at the start of every request transaction). Without them a
--   query sees and changes nothing.
-- - Ledgers (stock_entry, spool_usage, sale_line) are append-only for the app role: select
--   and insert only. Current levels (product.on_hand, spool.left_cg) are kept in step by the
--   server in the same transaction as the ledger row.
--
-- Account tables (app_user, refresh_token, invite) belong to a person or to the sign-in
-- flow rather than to one shop's data: RLS is enabled on them (the app role sees only its own
-- user, its shop's invites, and no refresh tokens at all) but not forced, because signing in,
-- refreshing and redeeming an invite code must look a row up before any shop is known; only
-- the owner connection does that.

-- The shop and user of the current transaction; NULL when unset (or reset to '').
create function app_shop_id() returns uuid
language sql stable parallel safe
as $$ select nullif(current_setting('app.shop_id', true), '')::uuid $$;

create function app_user_id() returns uuid
language sql stable parallel safe
as $$ select nullif(current_setting('app.user_id', true), '')::uuid $$;

grant execute on function app_shop_id(), app_user_id() to printstall_app;

-- ---------------------------------------------------------------------------------------
-- Accounts

create table app_user (
    id uuid primary key,
    email text not null check (email = lower(btrim(email)) and length(email) between 3 and 254 and email like '%_@_%'),
    display_name text not null check (length(btrim(display_name)) between 1 and 120),
    password_hash text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index app_user_email_key on app_user (lower(email));

create table shop (
    id uuid primary key,
    name text not null check (length(btrim(name)) between 1 and 120),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    time_zone text not null check (length(time_zone) between 3 and 64),
    tax_rate_bp integer not null default 0 check (tax_rate_bp between 0 and 5000),
    prices_include_tax boolean not null default true,
    legal_name text check (length(legal_name) <= 120),
    tax_id text check (length(tax_id) <= 64),
    address text check (length(address) <= 500),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table membership (
    shop_id uuid not null references shop (id) on delete cascade,
    user_id uuid not null references app_user (id) on delete cascade,
    role text not null check (role in ('owner', 'seller')),
    created_at timestamptz not null default now(),
    primary key (shop_id, user_id)
);
create index membership_user_idx on membership (user_id);

create table invite (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    code_hash text not null,
    role text not null default 'seller' check (role in ('seller')),
    created_by uuid not null references app_user (id),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz,
    used_by uuid references app_user (id),
    check ((used_at is null) = (used_by is null)),
    constraint invite_code_key unique (code_hash)
);
create index invite_shop_idx on invite (shop_id, created_at);

-- One row per refresh token ever issued. Rotation marks the old row `rotated_at`; using a
-- rotated token again revokes every row of its family.
create table refresh_token (
    id uuid primary key,
    family_id uuid not null,
    user_id uuid not null references app_user (id) on delete cascade,
    shop_id uuid not null references shop (id) on delete cascade,
    token_hash text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    rotated_at timestamptz,
    revoked_at timestamptz,
    constraint refresh_token_hash_key unique (token_hash)
);
create index refresh_token_family_idx on refresh_token (family_id);

-- ---------------------------------------------------------------------------------------
-- Catalogue

create table model (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    name text not null check (length(btrim(name)) between 1 and 120),
    designer_name text check (length(designer_name) <= 120),
    source_url text check (length(source_url) <= 2048 and source_url ~* '^https?://'),
    source_site text not null check (source_site in ('printables', 'thingiverse', 'makerworld', 'cults3d', 'own', 'other')),
    licence_name text not null check (length(btrim(licence_name)) between 1 and 120),
    licence_allows_selling boolean not null,
    category text check (length(category) <= 120),
    tags text[] not null default '{}' check (cardinality(tags) <= 32),
    notes text check (length(notes) <= 4000),
    archived_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (shop_id, id)
);
create index model_shop_name_idx on model (shop_id, lower(name));

create table filament (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    brand text not null check (length(btrim(brand)) between 1 and 120),
    material text not null check (material in ('pla', 'petg', 'abs', 'asa', 'tpu', 'pa', 'pc', 'other')),
    colour_name text not null check (length(btrim(colour_name)) between 1 and 120),
    colour_hex text not null check (colour_hex ~ '^#[0-9A-Fa-f]{6}$'),
    multi_hexes text[] not null default '{}' check (cardinality(multi_hexes) <= 8),
    diameter text not null check (diameter in ('1.75', '2.85')),
    density_mg_cm3 integer not null check (density_mg_cm3 between 500 and 3000),
    net_weight_cg bigint not null check (net_weight_cg between 1 and 2000000),
    empty_spool_cg bigint check (empty_spool_cg between 0 and 500000),
    price_per_spool bigint check (price_per_spool between 0 and 100000000),
    nozzle_temp_c integer check (nozzle_temp_c between 150 and 500),
    bed_temp_c integer check (bed_temp_c between 0 and 150),
    article_number text check (length(article_number) <= 64),
    ean text check (ean ~ '^[0-9]{8,14}$'),
    archived_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (shop_id, id)
);
create index filament_shop_brand_idx on filament (shop_id, lower(brand));
create index filament_shop_colour_idx on filament (shop_id, lower(colour_name));

create table sliced_file (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    variant_id uuid not null,
    storage_key text not null check (length(storage_key) between 1 and 1024),
    file_name text not null check (length(file_name) between 1 and 255),
    size_bytes bigint not null check (size_bytes >= 0),
    sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
    metadata jsonb not null default '{}',
    uploaded_by uuid references app_user (id),
    uploaded_at timestamptz not null default now(),
    unique (shop_id, id)
);

create table model_variant (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    model_id uuid not null,
    name text not null check (length(btrim(name)) between 1 and 120),
    slicer_settings jsonb not null default '{}' check (jsonb_typeof(slicer_settings) = 'object'),
    parts_per_plate integer not null default 1 check (parts_per_plate between 1 and 1000),
    print_time_s integer check (print_time_s between 1 and 1209600),
    sliced_file_id uuid,
    archived_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (shop_id, id),
    constraint model_variant_model_fkey foreign key (shop_id, model_id) references model (shop_id, id),
    constraint model_variant_sliced_file_fkey foreign key (shop_id, sliced_file_id) references sliced_file (shop_id, id)
);
create index model_variant_model_idx on model_variant (shop_id, model_id);

alter table sliced_file
    add constraint sliced_file_variant_fkey foreign key (shop_id, variant_id) references model_variant (shop_id, id) on delete cascade;
create index sliced_file_variant_idx on sliced_file (shop_id, variant_id, uploaded_at);

-- Grams of each filament one unit of a variant needs (M:N variant <-> filament).
create table variant_filament (
    shop_id uuid not null,
    variant_id uuid not null,
    filament_id uuid not null,
    per_unit_cg bigint not null check (per_unit_cg between 1 and 1000000),
    primary key (variant_id, filament_id),
    constraint variant_filament_variant_fkey foreign key (shop_id, variant_id) references model_variant (shop_id, id) on delete cascade,
    constraint variant_filament_filament_fkey foreign key (shop_id, filament_id) references filament (shop_id, id)
);
create index variant_filament_filament_idx on variant_filament (shop_id, filament_id);

-- ---------------------------------------------------------------------------------------
-- Spools and their usage ledger

create table spool (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    filament_id uuid not null,
    initial_net_cg bigint not null check (initial_net_cg between 0 and 2000000),
    -- Kept in step with the ledger: initial_net_cg - sum(spool_usage.used_cg). Never below 0.
    left_cg bigint not null check (left_cg >= 0),
    empty_spool_cg bigint check (empty_spool_cg between 0 and 500000),
    price_paid bigint check (price_paid between 0 and 100000000),
    purchase_date date,
    location text check (length(location) <= 64),
    lot_number text check (length(lot_number) <= 64),
    barcode text check (length(barcode) <= 256),
    nfc_tag_id text check (length(nfc_tag_id) <= 64),
    first_used_at timestamptz,
    last_used_at timestamptz,
    archived boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (shop_id, id),
    constraint spool_filament_fkey foreign key (shop_id, filament_id) references filament (shop_id, id)
);
create index spool_filament_idx on spool (shop_id, filament_id);
create index spool_barcode_idx on spool (shop_id, barcode) where barcode is not null;
create index spool_nfc_idx on spool (shop_id, nfc_tag_id) where nfc_tag_id is not null;

-- ---------------------------------------------------------------------------------------
-- Printers, market events, print jobs

create table printer (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    name text not null check (length(btrim(name)) between 1 and 120),
    model text check (length(model) <= 120),
    nozzle_um integer check (nozzle_um between 100 and 2000),
    build_x_mm integer check (build_x_mm between 1 and 2000),
    build_y_mm integer check (build_y_mm between 1 and 2000),
    build_z_mm integer check (build_z_mm between 1 and 2000),
    notes text check (length(notes) <= 4000),
    loaded_spool_id uuid,
    archived_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (shop_id, id),
    check ((build_x_mm is null) = (build_y_mm is null) and (build_y_mm is null) = (build_z_mm is null)),
    constraint printer_loaded_spool_fkey foreign key (shop_id, loaded_spool_id) references spool (shop_id, id)
);

create table market_event (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    name text not null check (length(btrim(name)) between 1 and 120),
    starts_on date not null,
    ends_on date not null,
    location text check (length(location) <= 120),
    booth_fee bigint check (booth_fee between 0 and 100000000),
    theme_tags text[] not null default '{}' check (cardinality(theme_tags) <= 32),
    notes text check (length(notes) <= 4000),
    archived_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (shop_id, id),
    check (ends_on >= starts_on and ends_on - starts_on < 31)
);
create index market_event_dates_idx on market_event (shop_id, starts_on);

create table print_job (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    variant_id uuid not null,
    units integer not null check (units between 1 and 10000),
    plates integer not null check (plates between 1 and 10000),
    printer_id uuid,
    status text not null default 'queued' check (status in ('queued', 'printing', 'paused', 'done', 'failed', 'cancelled')),
    priority integer not null default 0,
    position bigint not null default 0,
    event_id uuid,
    started_at timestamptz,
    finished_at timestamptz,
    failure_reason text check (length(failure_reason) <= 480),
    notes text check (length(notes) <= 4000),
    created_by uuid references app_user (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (shop_id, id),
    check ((status in ('done', 'failed', 'cancelled')) = (finished_at is not null)),
    check (failure_reason is null or status = 'failed'),
    constraint print_job_variant_fkey foreign key (shop_id, variant_id) references model_variant (shop_id, id),
    constraint print_job_printer_fkey foreign key (shop_id, printer_id) references printer (shop_id, id),
    constraint print_job_event_fkey foreign key (shop_id, event_id) references market_event (shop_id, id)
);
-- The queue: open jobs by priority (higher first), then position.
create index print_job_queue_idx on print_job (shop_id, priority desc, position, id)
    where status in ('queued', 'printing', 'paused');
create index print_job_status_idx on print_job (shop_id, status, created_at);

-- One row per use of a spool: a print, a test, a failed print's waste, a weighing's
-- difference, a correction. `used_cg` is what left the spool (never more than was left:
-- the level clamps at 0); `overshoot_cg` is what was asked beyond that.
create table spool_usage (
    id uuid primary key,
    shop_id uuid not null,
    spool_id uuid not null,
    used_cg bigint not null check (used_cg between -2500000 and 2500000),
    overshoot_cg bigint not null default 0 check (overshoot_cg >= 0),
    reason text not null check (reason in ('print', 'test', 'failed_print', 'measurement', 'correction')),
    job_id uuid,
    user_id uuid references app_user (id),
    at timestamptz not null default now(),
    check (used_cg >= 0 or reason in ('correction', 'measurement')),
    constraint spool_usage_spool_fkey foreign key (shop_id, spool_id) references spool (shop_id, id),
    constraint spool_usage_job_fkey foreign key (shop_id, job_id) references print_job (shop_id, id)
);
create index spool_usage_spool_idx on spool_usage (shop_id, spool_id, at);
create index spool_usage_job_idx on spool_usage (shop_id, job_id) where job_id is not null;

-- ---------------------------------------------------------------------------------------
-- Products, sales and the stock ledger

create table product (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    sku text not null check (length(sku) between 1 and 64 and sku !~ '\s'),
    name text not null check (length(btrim(name)) between 1 and 120),
    variant_id uuid,
    price bigint not null check (price between 0 and 100000000),
    unit_cost bigint check (unit_cost between 0 and 100000000),
    barcode text check (length(barcode) <= 256),
    location text check (length(location) <= 64),
    low_stock_threshold integer check (low_stock_threshold between 0 and 1000000),
    tags text[] not null default '{}' check (cardinality(tags) <= 32),
    active boolean not null default true,
    -- Kept in step with the ledger: sum(stock_entry.quantity). May be negative (flagged).
    on_hand bigint not null default 0,
    archived_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (shop_id, id),
    constraint product_sku_key unique (shop_id, sku),
    constraint product_variant_fkey foreign key (shop_id, variant_id) references model_variant (shop_id, id)
);
create index product_name_idx on product (shop_id, lower(name));
create index product_barcode_idx on product (shop_id, barcode) where barcode is not null;

create table event_stock_plan (
    shop_id uuid not null,
    event_id uuid not null,
    product_id uuid not null,
    target integer not null check (target between 0 and 100000),
    primary key (event_id, product_id),
    constraint event_stock_plan_event_fkey foreign key (shop_id, event_id) references market_event (shop_id, id) on delete cascade,
    constraint event_stock_plan_product_fkey foreign key (shop_id, product_id) references product (shop_id, id)
);

create table sale (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    event_id uuid,
    discount_type text not null default 'none' check (discount_type in ('none', 'amount', 'percent')),
    discount_value bigint not null default 0 check (discount_value >= 0),
    subtotal bigint not null check (subtotal >= 0),
    discount bigint not null check (discount >= 0 and discount <= subtotal),
    total bigint not null check (total >= 0),
    tax bigint not null check (tax >= 0),
    payment_method text not null check (payment_method in ('cash', 'card', 'other')),
    tax_rate_bp integer not null check (tax_rate_bp between 0 and 5000),
    prices_include_tax boolean not null,
    taken_at timestamptz not null,
    taken_by uuid references app_user (id),
    device_id uuid,
    voided boolean not null default false,
    created_at timestamptz not null default now(),
    unique (shop_id, id),
    constraint sale_event_fkey foreign key (shop_id, event_id) references market_event (shop_id, id)
);
create index sale_taken_idx on sale (shop_id, taken_at desc);
create index sale_event_idx on sale (shop_id, event_id) where event_id is not null;

create table sale_line (
    shop_id uuid not null,
    sale_id uuid not null,
    line_no integer not null check (line_no between 0 and 199),
    product_id uuid not null,
    quantity integer not null check (quantity between 1 and 10000),
    unit_price bigint not null check (unit_price between 0 and 100000000),
    primary key (sale_id, line_no),
    constraint sale_line_sale_fkey foreign key (shop_id, sale_id) references sale (shop_id, id),
    constraint sale_line_product_fkey foreign key (shop_id, product_id) references product (shop_id, id)
);
create index sale_line_product_idx on sale_line (shop_id, product_id);

create table stock_entry (
    id uuid primary key,
    shop_id uuid not null,
    product_id uuid not null,
    -- Change in units; for `counted`, the difference the count made (may be 0).
    quantity bigint not null check (quantity between -1000000 and 1000000 and (quantity <> 0 or reason = 'counted')),
    reason text not null check (reason in ('produced', 'sold', 'adjusted', 'returned', 'damaged', 'counted')),
    job_id uuid,
    sale_id uuid,
    event_id uuid,
    user_id uuid references app_user (id),
    at timestamptz not null default now(),
    check (reason <> 'sold' or sale_id is not null),
    constraint stock_entry_product_fkey foreign key (shop_id, product_id) references product (shop_id, id),
    constraint stock_entry_job_fkey foreign key (shop_id, job_id) references print_job (shop_id, id),
    constraint stock_entry_sale_fkey foreign key (shop_id, sale_id) references sale (shop_id, id),
    constraint stock_entry_event_fkey foreign key (shop_id, event_id) references market_event (shop_id, id)
);
create index stock_entry_product_idx on stock_entry (shop_id, product_id, at);

-- ---------------------------------------------------------------------------------------
-- Row-level security

-- Shop-owned tables: enabled and forced; one policy on app.shop_id for every command.
do $$
declare
    t text;
begin
    foreach t in array array[
        'model', 'filament', 'sliced_file', 'model_variant', 'variant_filament', 'spool',
        'printer', 'market_event', 'print_job', 'spool_usage', 'product', 'event_stock_plan',
        'sale', 'sale_line', 'stock_entry'
    ] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy shop_isolation on %I using (shop_id = app_shop_id()) with check (shop_id = app_shop_id())',
            t
        );
    end loop;
end
$$;

-- The shop itself: only the current one.
alter table shop enable row level security;
alter table shop force row level security;
create policy shop_isolation on shop using (id = app_shop_id()) with check (id = app_shop_id());

-- Members of the current shop, and the current user's own memberships (to list their shops).
alter table membership enable row level security;
alter table membership force row level security;
create policy shop_isolation on membership
    using (shop_id = app_shop_id() or user_id = app_user_id())
    with check (shop_id = app_shop_id());

-- Account tables: enabled, not forced (see the head of this file).
alter table app_user enable row level security;
create policy self_or_fellow_member on app_user
    using (
        id = app_user_id()
        or exists (select from membership m where m.user_id = app_user.id and m.shop_id = app_shop_id())
    )
    with check (id = app_user_id());

alter table invite enable row level security;
create policy shop_isolation on invite using (shop_id = app_shop_id()) with check (shop_id = app_shop_id());

alter table refresh_token enable row level security;
-- No policy: the app role sees no refresh token; only the owner connection handles them.

-- ---------------------------------------------------------------------------------------
-- Grants to the app role

grant select, update on shop to printstall_app;
grant select, insert, update, delete on membership to printstall_app;
grant select, update (display_name, password_hash, updated_at) on app_user to printstall_app;
grant select, insert on invite to printstall_app;

grant select, insert, update, delete on
    model, model_variant, variant_filament, filament, sliced_file, printer, market_event,
    event_stock_plan
    to printstall_app;
grant select, insert, update on spool, product, print_job to printstall_app;

-- Ledgers: append-only.
grant select, insert on spool_usage, stock_entry, sale_line to printstall_app;
-- A sale is a ledger too; only its `voided` flag may change later.
grant select, insert on sale to printstall_app;
grant update (voided) on sale to printstall_app;
