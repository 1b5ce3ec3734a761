-- External sign-in (OpenID Connect), password reset by email, and the owner's low-stock and
-- low-filament digest (issue 7).
--
-- - `external_identity`: who an external provider's token (`iss`, `sub`) is here. Account
--   table like refresh_token: RLS enabled, no policy, no grant; the sign-in code looks it up
--   on the owner connection before any shop is known.
-- - `password_reset`: single-use, expiring reset tokens, stored as SHA-256 only. Same rules.
-- - `shop_digest`: the owner's choice to get the digest by email, and the filament threshold.
--   Shop data: RLS enabled and forced, one policy on app.shop_id. A second, read-only policy
--   lets any role other than the app role list every shop's row, so that `printstall
--   digest` (on the owner connection) finds the shops that asked for it even where that
--   connection is not a superuser; the app role never sees another shop's row.

create table external_identity (
    issuer text not null check (length(issuer) between 1 and 512),
    subject text not null check (length(subject) between 1 and 255),
    user_id uuid not null references app_user (id) on delete cascade,
    created_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    primary key (issuer, subject)
);
create index external_identity_user_idx on external_identity (user_id);
alter table external_identity enable row level security;

create table password_reset (
    id uuid primary key,
    user_id uuid not null references app_user (id) on delete cascade,
    token_hash text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz,
    constraint password_reset_token_key unique (token_hash)
);
create index password_reset_user_idx on password_reset (user_id);
alter table password_reset enable row level security;

create table shop_digest (
    shop_id uuid primary key references shop (id) on delete cascade,
    enabled boolean not null default false,
    -- A filament is low when its spools (not archived) hold less than this, in centigrams.
    low_filament_cg bigint not null default 25000 check (low_filament_cg between 0 and 100000000),
    last_sent_at timestamptz,
    updated_at timestamptz not null default now()
);
alter table shop_digest enable row level security;
alter table shop_digest force row level security;
create policy shop_isolation on shop_digest
    using (shop_id = app_shop_id()) with check (shop_id = app_shop_id());
create policy digest_sender_reads_all on shop_digest for select
    using (current_user <> 'printstall_app');

grant select, insert, update on shop_digest to printstall_app;
