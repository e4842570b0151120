"""Ownership enforced by the database: each service's role reaches only its own tables.

The ownership map below is DESIGN.md's "each service owns its tables" table, written as
exact names and name prefixes. Every relation in public must be owned by exactly one
service, so a table added without a decided owner fails here.
"""

from __future__ import annotations

import asyncpg
import pytest

from tests.database.catalog import Relation, public_relations

OWNERSHIP: dict[str, dict[str, tuple[str, ...]]] = {
    "risk_service": {
        "tables": ("user_profiles", "platform_config"),
        "prefixes": ("risk_", "kill_switch"),
    },
    "backtest_service": {
        "tables": ("backtests", "market_data_cache", "community_strategies", "strategy_ratings"),
        "prefixes": ("backtest_",),
    },
    "notification_service": {
        "tables": ("user_notifications",),
        "prefixes": ("notification_",),
    },
    "executor_service": {
        "tables": (
            "trading_strategies",
            "strategy_transitions",
            "outbox",
            "strategy_performance_summary",
            "my_strategy_performance_summary",
        ),
        "prefixes": ("bot_", "broker_", "paper_", "executor_"),
    },
}
SERVICE_ROLES = list(OWNERSHIP)
ALL_PRIVILEGES = "select,insert,update,delete,truncate,references,trigger"


def owners_of(relation: str) -> list[str]:
    return [
        service
        for service, owned in OWNERSHIP.items()
        if relation in owned["tables"] or relation.startswith(owned["prefixes"])
    ]


async def refused_statements(conn: asyncpg.Connection, role: str, relation: Relation) -> list[str]:
    """The statements ``role`` was NOT refused on ``relation`` (empty when all refused)."""
    attempts = [f"select * from public.{relation.name} limit 1"]
    if relation.is_table:
        column = await first_plain_column(conn, relation)
        attempts += [
            f"insert into public.{relation.name} default values",
            f"update public.{relation.name} set {column} = {column} where false",
            f"delete from public.{relation.name} where false",
        ]
    allowed = []
    for statement in attempts:
        transaction = conn.transaction()
        await transaction.start()
        try:
            await conn.execute(f'set local role "{role}"')
            await conn.execute(statement)
            allowed.append(statement)
        except asyncpg.InsufficientPrivilegeError:
            pass
        except asyncpg.PostgresError as error:  # passed the privilege check, failed later
            allowed.append(f"{statement} ({type(error).__name__})")
        finally:
            await transaction.rollback()
    return allowed


async def first_plain_column(conn: asyncpg.Connection, relation: Relation) -> str:
    """A column an UPDATE may name (not an identity or generated column)."""
    name = await conn.fetchval(
        "select attname from pg_attribute where attrelid = $1::regclass and attnum > 0"
        " and not attisdropped and attidentity = '' and attgenerated = ''"
        " order by attnum limit 1",
        f"public.{relation.name}",
    )
    return f'"{name}"'


async def test_every_public_relation_when_listed_has_exactly_one_owning_service(shared_admin):
    relations = await public_relations(shared_admin)

    unowned = [r.name for r in relations if not owners_of(r.name)]
    shared = [r.name for r in relations if len(owners_of(r.name)) > 1]
    assert unowned == [], "add these to OWNERSHIP (DESIGN.md decides the owner)"
    assert shared == []


@pytest.mark.parametrize("role", SERVICE_ROLES)
async def test_service_role_when_created_logs_in_without_special_powers(shared_admin, role):
    attributes = await shared_admin.fetchrow(
        "select rolcanlogin, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole, rolinherit"
        " from pg_roles where rolname = $1",
        role,
    )
    assert dict(attributes) == {
        "rolcanlogin": True,
        "rolsuper": False,
        "rolbypassrls": False,
        "rolcreatedb": False,
        "rolcreaterole": False,
        "rolinherit": False,
    }
    assert await shared_admin.fetchval("select pg_has_role($1, 'authenticated', 'SET')", role)
    inherits = "select pg_has_role($1, 'authenticated', 'USAGE')"
    assert not await shared_admin.fetchval(inherits, role)
    owned = await shared_admin.fetch(
        "select relname from pg_class where relowner = $1::regrole", role
    )
    assert owned == []


@pytest.mark.parametrize("role", SERVICE_ROLES)
async def test_service_role_when_touching_another_services_relation_is_refused(shared_admin, role):
    others = [r for r in await public_relations(shared_admin) if role not in owners_of(r.name)]

    not_refused = {}
    for relation in others:
        allowed = await refused_statements(shared_admin, role, relation)
        granted = await shared_admin.fetchval(
            "select has_table_privilege($1, $2::regclass, $3)"
            " or has_any_column_privilege($1, $2::regclass, 'select,insert,update,references')",
            role,
            f"public.{relation.name}",
            ALL_PRIVILEGES,
        )
        if allowed or granted:
            not_refused[relation.name] = allowed or ["a privilege is granted"]
    assert not_refused == {}


@pytest.mark.parametrize("role", SERVICE_ROLES)
async def test_service_role_when_its_tables_exist_may_use_them(shared_admin, role):
    own = [
        r for r in await public_relations(shared_admin) if r.is_table and role in owners_of(r.name)
    ]
    if not own:
        pytest.fail(f"{role} owns no table yet: its migration has not been written")

    usable = [
        r.name
        for r in own
        if await shared_admin.fetchval(
            "select has_table_privilege($1, $2::regclass, 'select,insert,update,delete')",
            role,
            f"public.{r.name}",
        )
    ]
    assert usable, f"{role} has no privilege on any of its own tables"


async def test_refusal_check_when_a_role_is_granted_a_table_reports_it(admin):
    await admin.execute(
        "create table public.scratch_granted (id int);"
        "alter table public.scratch_granted enable row level security;"
        "grant select on public.scratch_granted to risk_service;"
    )
    relation = Relation(name="scratch_granted", kind="r", rls=True, owner="postgres")

    allowed = await refused_statements(admin, "risk_service", relation)

    assert allowed == ["select * from public.scratch_granted limit 1"]


async def test_security_definer_function_when_defined_runs_for_at_most_its_own_service(
    shared_admin,
):
    # A SECURITY DEFINER function runs with its owner's rights (past RLS and grants), so
    # calling it is a privilege of its own: never everyone's, never another service's.
    functions = await shared_admin.fetch(
        "select p.oid::regprocedure::text as signature from pg_proc p"
        " where p.pronamespace = 'public'::regnamespace and p.prosecdef"
    )
    too_open = {}
    for function in functions:
        callers = [
            role
            for role in ["anon", "authenticated", *SERVICE_ROLES]
            if await shared_admin.fetchval(
                "select has_function_privilege($1, $2::regprocedure, 'execute')",
                role,
                function["signature"],
            )
        ]
        if "anon" in callers or len(set(callers) & set(SERVICE_ROLES)) > 1:
            too_open[function["signature"]] = callers
    assert too_open == {}
