"""supabase/bootstrap.sql: Supabase's roles and auth functions, created only where missing."""

from __future__ import annotations

import json
import uuid

import asyncpg

from servicekit.db.migrate import DEFAULT_SUPABASE_DIR, apply_sql_file

BOOTSTRAP = DEFAULT_SUPABASE_DIR / "bootstrap.sql"
SNAPSHOT = """
select
  (select array_agg(oid order by rolname) from pg_roles
     where rolname in ('anon', 'authenticated', 'service_role')) as role_oids,
  'auth'::regnamespace::oid as schema_oid,
  'auth.users'::regclass::oid as users_oid,
  (select array_agg(p.oid || ':' || p.prosrc order by p.proname) from pg_proc p
     where p.pronamespace = 'auth'::regnamespace) as functions
"""


async def test_bootstrap_when_everything_exists_changes_nothing(admin):
    # Stand in for a Supabase project, whose auth.uid() has its own body.
    await admin.execute(
        "create or replace function auth.uid() returns uuid language sql stable"
        " as $$ select '00000000-0000-4000-8000-00000000abcd'::uuid $$"
    )
    before = dict(await admin.fetchrow(SNAPSHOT))

    await apply_sql_file(admin, BOOTSTRAP, "bootstrap")

    assert dict(await admin.fetchrow(SNAPSHOT)) == before
    assert await admin.fetchval("select auth.uid()") == uuid.UUID(
        "00000000-0000-4000-8000-00000000abcd"
    )


async def test_bootstrap_when_auth_missing_creates_schema_users_and_functions(empty_database):
    conn = await asyncpg.connect(empty_database.admin_dsn)
    try:
        assert await conn.fetchval("select to_regnamespace('auth')") is None

        await apply_sql_file(conn, BOOTSTRAP, "bootstrap")

        assert await conn.fetchval("select to_regclass('auth.users')::text") == "auth.users"
        functions = await conn.fetch(
            "select proname from pg_proc where pronamespace = 'auth'::regnamespace order by proname"
        )
        assert [row["proname"] for row in functions] == ["jwt", "role", "uid"]
    finally:
        await conn.close()


async def test_supabase_roles_when_bootstrapped_match_supabase_attributes(shared_admin):
    rows = await shared_admin.fetch(
        "select rolname, rolcanlogin, rolinherit, rolbypassrls from pg_roles"
        " where rolname in ('anon', 'authenticated', 'service_role') order by rolname"
    )
    assert [dict(row) for row in rows] == [
        {"rolname": "anon", "rolcanlogin": False, "rolinherit": False, "rolbypassrls": False},
        {
            "rolname": "authenticated",
            "rolcanlogin": False,
            "rolinherit": False,
            "rolbypassrls": False,
        },
        {
            "rolname": "service_role",
            "rolcanlogin": False,
            "rolinherit": False,
            "rolbypassrls": True,
        },
    ]


async def test_auth_functions_when_claims_set_read_them_like_supabase(shared_admin):
    user_id = uuid.uuid4()
    claims = {"sub": str(user_id), "role": "authenticated", "email": "a@example.com"}
    async with shared_admin.transaction():
        await shared_admin.execute(
            "select set_config('request.jwt.claims', $1, true)", json.dumps(claims)
        )
        row = await shared_admin.fetchrow("select auth.uid(), auth.role(), auth.jwt()")
    assert row["uid"] == user_id
    assert row["role"] == "authenticated"
    assert json.loads(row["jwt"]) == claims


async def test_auth_uid_when_legacy_claim_setting_used_reads_it(shared_admin):
    user_id = uuid.uuid4()
    async with shared_admin.transaction():
        await shared_admin.execute(
            "select set_config('request.jwt.claim.sub', $1, true)", str(user_id)
        )
        assert await shared_admin.fetchval("select auth.uid()") == user_id


async def test_auth_uid_when_no_claims_set_is_null(shared_admin):
    assert await shared_admin.fetchval("select auth.uid()") is None
