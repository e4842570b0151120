-- One login role per service, so that table ownership is enforced by the database.
--
-- Each service connects as its own role and is granted only its own tables (in that
-- service's migration, 20261124000200_risk.sql and so on). The roles:
--   * log in, but are never superuser, never bypass RLS, create no databases or roles;
--   * are NOINHERIT members of `authenticated`: they may `SET LOCAL ROLE authenticated`
--     to act for one user under RLS (servicekit.db.rls.user_transaction), yet do not
--     silently inherit what `authenticated` may do while acting as themselves, so a
--     service is refused on another service's tables even where users may read them.
-- Roles are cluster-wide: they are created only where missing, so this file also applies
-- to a second database of the same cluster (and to a Supabase project). On Supabase set
-- each role's password afterwards (see docs/database.md).

do $roles$
declare
  service_role_name text;
begin
  foreach service_role_name in array
    array['risk_service', 'backtest_service', 'notification_service', 'executor_service']
  loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = service_role_name) then
      execute format(
        'create role %I login noinherit nosuperuser nobypassrls nocreatedb nocreaterole',
        service_role_name
      );
    end if;
    execute format('grant authenticated to %I', service_role_name);
    execute format('grant usage on schema public, auth to %I', service_role_name);
    execute format(
      'grant execute on function auth.uid(), auth.role(), auth.jwt() to %I',
      service_role_name
    );
  end loop;
end
$roles$;

-- Users reach public through `authenticated` (and nothing through `anon`) only by the
-- explicit grants each service's migration writes.
grant usage on schema public to anon, authenticated, service_role;
revoke create on schema public from public;

-- A Supabase project grants every new table, sequence and function in public to anon,
-- authenticated and service_role by default. Take that back for tables and sequences
-- created by the migration user, so a table is reachable only through explicit grants.
-- (Functions keep their default EXECUTE: they run with the caller's rights unless
-- declared SECURITY DEFINER.)
alter default privileges in schema public
  revoke all on tables from public, anon, authenticated, service_role;
alter default privileges in schema public
  revoke all on sequences from public, anon, authenticated, service_role;
