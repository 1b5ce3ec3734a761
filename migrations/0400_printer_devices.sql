-- Printers as sync devices, and what they report on the spool ledger (issues 4 and 8).
--
-- - A printer token's uses and weighings are ops of its own device (`device.printer_token_id`,
--   named after the printer, registered to the shop and the member who made the token), not
--   of that member's server-side device: each printer's ops are numbered and clocked apart.
-- - A spool ledger row made by such an op names the token, the printer (when the token has
--   one) and the printer's name at the time, in columns, so the print history per printer is
--   a query, not a search in notes.
-- A token is deleted only with the account that made it; the books keep their rows and the
-- printer's name, and lose the token.

alter table device
    add column name text check (length(btrim(name)) between 1 and 120),
    add column printer_token_id uuid,
    add constraint device_printer_token_fkey foreign key (shop_id, printer_token_id)
        references printer_token (shop_id, id) on delete set null (printer_token_id),
    add constraint device_printer_token_key unique (printer_token_id);

alter table spool_usage
    add column printer_token_id uuid,
    add column printer_id uuid,
    add column printer_name text check (length(printer_name) <= 120),
    add constraint spool_usage_printer_token_fkey foreign key (shop_id, printer_token_id)
        references printer_token (shop_id, id) on delete set null (printer_token_id),
    add constraint spool_usage_printer_fkey foreign key (shop_id, printer_id)
        references printer (shop_id, id);

create index spool_usage_printer_idx on spool_usage (shop_id, at desc)
    where printer_name is not null;
