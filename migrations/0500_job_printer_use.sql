-- A job's filament as its printer reported it (issue 8).
--
-- A printer host reports the filament it pulls off a spool through the Spoolman API; each
-- report is a `spool.use.v1` of the printer's device and already has its row in
-- `spool_usage`. Finishing (or failing) a job can take those grams as the job's use instead
-- of the sliced file's estimate: its op's lines say `reported`, so they take nothing off the
-- spool again. This table keeps those lines, per job and spool, as the merge rules decided
-- (the job's final step): the REST job shows them beside the ledger rows its own finish made.
-- It is the job's projection, rewritten when a job's final step changes; the spool ledger
-- stays the append-only record of grams.
create table print_job_printer_use (
    shop_id uuid not null references shop (id) on delete cascade,
    job_id uuid not null,
    spool_id uuid not null,
    used_cg bigint not null check (used_cg between 1 and 2500000),
    primary key (shop_id, job_id, spool_id),
    constraint print_job_printer_use_job_fkey foreign key (shop_id, job_id)
        references print_job (shop_id, id) on delete cascade,
    constraint print_job_printer_use_spool_fkey foreign key (shop_id, spool_id)
        references spool (shop_id, id)
);
create index print_job_printer_use_spool_idx on print_job_printer_use (shop_id, spool_id);

alter table print_job_printer_use enable row level security;
alter table print_job_printer_use force row level security;
create policy shop_isolation on print_job_printer_use
    using (shop_id = app_shop_id()) with check (shop_id = app_shop_id());
grant select, insert, delete on print_job_printer_use to printstall_app;

create trigger audit after insert or update or delete on print_job_printer_use
    for each row execute function audit_row('job_id');

-- The queue asks what each running job's printer has reported since the job started.
create index spool_usage_printer_at_idx on spool_usage (shop_id, printer_id, at)
    where printer_id is not null;
