-- Sliced-file uploads and versions (issue 5). 0002 made `sliced_file` and
-- `model_variant.sliced_file_id` (the current file); this adds what the upload flow needs:
--
-- - `file_upload`: a reservation made before any byte goes to the file store. It names the
--   variant, the size and SHA-256 the client announced, and the object key
--   (`shops/{shop_id}/uploads/{upload_id}`, never built from the user's file name). Pending
--   reservations count against the shop's storage quota until they are completed or expire;
--   a refused completion (size or hash mismatch, unreadable file) deletes the object and the
--   reservation.
-- - `sliced_file.version`: 1, 2, 3… per variant, in upload order; earlier files are kept.
-- - `sliced_file.thumbnails`: the web-size PNGs stored beside the file
--   (`[{"max_side", "width", "height", "bytes", "key"}]`).

create table file_upload (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    variant_id uuid not null,
    file_name text not null check (length(file_name) between 1 and 255),
    size_bytes bigint not null check (size_bytes > 0),
    sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key text not null check (length(storage_key) between 1 and 1024),
    created_by uuid references app_user (id),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    completed_at timestamptz,
    sliced_file_id uuid,
    unique (shop_id, id),
    constraint file_upload_variant_fkey foreign key (shop_id, variant_id)
        references model_variant (shop_id, id) on delete cascade,
    constraint file_upload_sliced_file_fkey foreign key (shop_id, sliced_file_id)
        references sliced_file (shop_id, id)
);
-- The quota sums the pending reservations of a shop.
create index file_upload_pending_idx on file_upload (shop_id, expires_at) where completed_at is null;

alter table sliced_file
    add column version integer check (version >= 1),
    add column thumbnails jsonb not null default '[]' check (jsonb_typeof(thumbnails) = 'array');
create unique index sliced_file_variant_version_key on sliced_file (shop_id, variant_id, version);

alter table file_upload enable row level security;
alter table file_upload force row level security;
create policy shop_isolation on file_upload
    using (shop_id = app_shop_id()) with check (shop_id = app_shop_id());

grant select, insert, update, delete on file_upload to printstall_app;
