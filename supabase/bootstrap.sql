-- Bootstrap: what a Supabase project already provides, created only where it is missing.
--
-- The migrations in supabase/migrations rely on Supabase's roles (anon, authenticated,
-- service_role), the auth schema, auth.users and the auth.uid() / auth.role() / auth.jwt()
-- functions. A Supabase project has all of them, so every statement below is guarded and
-- this file is a no-op there. On the embedded PostgreSQL (laptop, tests, CI) it creates
-- them, with the same attributes and the same function bodies as Supabase
-- (supabase/auth, migrations/20240624145325_recreate_auth_functions.up.sql).
--
-- The migration runner applies this file before any migration, every time, and does not
-- record it in supabase_migrations.schema_migrations: it is not a migration.

-- Roles. Supabase creates them NOLOGIN and NOINHERIT; service_role bypasses RLS.
do $bootstrap$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$bootstrap$;

-- Schema auth and a minimal auth.users (Supabase's has many more columns; the
-- migrations only reference auth.users(id)).
do $bootstrap$
begin
  if not exists (select 1 from pg_catalog.pg_namespace where nspname = 'auth') then
    create schema auth;
    grant usage on schema auth to anon, authenticated, service_role;
  end if;
  if to_regclass('auth.users') is null then
    create table auth.users (
      id uuid primary key,
      email text,
      created_at timestamptz not null default now()
    );
  end if;
end
$bootstrap$;

-- auth.uid(), auth.role(), auth.jwt(): the claims PostgREST (and our
-- servicekit.db.rls.user_transaction) put in request.jwt.claims, or the legacy
-- per-claim settings request.jwt.claim.<name>.
do $bootstrap$
begin
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid()
      returns uuid
      language sql stable
      set search_path to ''
    as $fn$
      select
        coalesce(
          nullif(current_setting('request.jwt.claim.sub', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        )::uuid
    $fn$;
  end if;

  if to_regprocedure('auth.role()') is null then
    create function auth.role()
      returns text
      language sql stable
      set search_path to ''
    as $fn$
      select
        coalesce(
          nullif(current_setting('request.jwt.claim.role', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
        )::text
    $fn$;
  end if;

  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt()
      returns jsonb
      language sql stable
      set search_path to ''
    as $fn$
      select
        coalesce(
          nullif(current_setting('request.jwt.claim', true), ''),
          nullif(current_setting('request.jwt.claims', true), '')
        )::jsonb
    $fn$;
  end if;
end
$bootstrap$;
