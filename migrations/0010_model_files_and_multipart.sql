-- Design files on the model itself, and resumable multipart uploads (issue 5).
--
-- - `model_file`: STL and plain 3MF design files of a model, kept as versions like
--   `sliced_file` (1, 2, 3… per model; `current` marks the one shown, at most one per
--   model). `metadata` is what the server read itself (objects, triangles, bounding box,
--   volume); `thumbnails` the PNGs it drew from the mesh or took from the 3MF.
-- - `file_upload` now reserves room for either a variant's sliced file or a model's design
--   file (exactly one of `variant_id`, `model_id`), and remembers a multipart upload:
--   `multipart_id` is the S3 upload id (or `local` for the local store, whose parts are
--   objects `…/{upload_id}.part-N`), `part_size` the bytes of every part but the last.

create table model_file (
    id uuid primary key,
    shop_id uuid not null references shop (id) on delete cascade,
    model_id uuid not null,
    version integer not null check (version >= 1),
    current boolean not null default false,
    storage_key text not null check (length(storage_key) between 1 and 1024),
    file_name text not null check (length(file_name) between 1 and 255),
    size_bytes bigint not null check (size_bytes >= 0),
    sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    metadata jsonb not null default '{}',
    thumbnails jsonb not null default '[]' check (jsonb_typeof(thumbnails) = 'array'),
    uploaded_by uuid references app_user (id),
    uploaded_at timestamptz not null default now(),
    unique (shop_id, id),
    constraint model_file_model_fkey foreign key (shop_id, model_id)
        references model (shop_id, id) on delete cascade
);
create unique index model_file_version_key on model_file (shop_id, model_id, version);
create unique index model_file_current_key on model_file (shop_id, model_id) where current;

alter table model_file enable row level security;
alter table model_file force row level security;
create policy shop_isolation on model_file
    using (shop_id = app_shop_id()) with check (shop_id = app_shop_id());
grant select, insert, update, delete on model_file to printstall_app;

alter table file_upload
    alter column variant_id drop not null,
    add column model_id uuid,
    add column model_file_id uuid,
    add column multipart_id text check (length(multipart_id) between 1 and 1024),
    add column part_size bigint check (part_size >= 5242880),
    add constraint file_upload_one_target check ((variant_id is null) <> (model_id is null)),
    add constraint file_upload_multipart check ((multipart_id is null) = (part_size is null)),
    add constraint file_upload_model_fkey foreign key (shop_id, model_id)
        references model (shop_id, id) on delete cascade,
    add constraint file_upload_model_file_fkey foreign key (shop_id, model_file_id)
        references model_file (shop_id, id);
