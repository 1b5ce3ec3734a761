-- The role the server's request transactions run as. It owns no table and cannot bypass
-- row-level security, so a query that forgets the shop sees nothing. Roles are global to
-- the cluster, so the role may already exist (another database of the same cluster).
do $$
begin
  if not exists (select from pg_roles where rolname = 'printstall_app') then
    create role printstall_app login nosuperuser nocreatedb nocreaterole nobypassrls;
  end if;
end
$$;

grant usage on schema public to printstall_app;
