-- Issue 9: the merge cells are rewritten whole on every push that touches them, and a
-- product's cell grows with the stock moves since its last count; the ops and the audit
-- log's documents are written in bulk. lz4 compresses and decompresses them several times
-- faster than PostgreSQL's default (pglz), at a similar size. Only new values are written
-- with it. A server built without lz4 keeps pglz: nothing else changes.
do $$
begin
    if exists (select 1 from pg_settings
               where name = 'default_toast_compression' and 'lz4' = any(enumvals)) then
        alter table sync_cell alter column cell set compression lz4;
        alter table applied_op alter column body set compression lz4;
        alter table applied_op alter column result set compression lz4;
        alter table audit_log alter column before set compression lz4;
        alter table audit_log alter column after set compression lz4;
    end if;
end
$$;
