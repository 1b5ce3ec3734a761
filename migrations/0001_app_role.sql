-- The role the server's request transactions run as. It owns no table and cannot bypass
-- row-level security, so a query that forgets the shop sees nothing. Roles are global to
-- the cluster, so the role may already exist (another database of the same cluster), or be
-- created at this moment by a migration of another database (tests migrate many at once).
do $$
begin
  if not exists (select from pg_roles where rolname = 'printstall_app') then
    begin
      create role printstall_app login nosuperuser nocreatedb nocreaterole nobypassrls;
    exception when duplicate_object or unique_violation then
      null;
    end;
  end if;
end
$$;

grant usage on schema public to printstall_app;
