"""servicekit.db.rls: the per-request transaction really sets the claims and the role."""

from __future__ import annotations

import json
import uuid

import asyncpg
import pytest

from servicekit.db.pool import create_pool
from servicekit.db.rls import service_transaction, user_transaction

SERVICE_ROLES = ["risk_service", "backtest_service", "notification_service", "executor_service"]
WHO_AM_I = (
    "select auth.uid() as uid, auth.role() as role, current_user as current_user,"
    " current_setting('request.jwt.claims', true) as claims"
)


@pytest.fixture
async def executor_pool(database):
    pool = await create_pool(database.dsn_for("executor_service"), min_size=1, max_size=1)
    yield pool
    await pool.close()


@pytest.mark.parametrize("role", SERVICE_ROLES)
async def test_user_transaction_when_entered_sets_claims_and_authenticated_role(database, role):
    user_id = uuid.uuid4()
    pool = await create_pool(database.dsn_for(role), min_size=1, max_size=1)
    try:
        async with user_transaction(pool, user_id) as conn:
            row = await conn.fetchrow(WHO_AM_I)
            assert conn.is_in_transaction()
    finally:
        await pool.close()

    assert row["uid"] == user_id
    assert row["role"] == "authenticated"
    assert row["current_user"] == "authenticated"
    assert json.loads(row["claims"]) == {"sub": str(user_id), "role": "authenticated"}


async def test_user_transaction_when_finished_leaves_no_claims_on_the_connection(executor_pool):
    async with user_transaction(executor_pool, uuid.uuid4()):
        pass

    # The pool has one connection: this is the same one, back from the pool.
    async with executor_pool.acquire() as conn:
        row = await conn.fetchrow(WHO_AM_I)
    assert row["uid"] is None
    assert row["current_user"] == "executor_service"
    assert not row["claims"]


async def test_user_transaction_when_block_raises_rolls_back(database, executor_pool):
    admin = await asyncpg.connect(database.admin_dsn)
    try:
        await admin.execute(
            "create table public.scratch_notes (user_id uuid not null, note text);"
            "alter table public.scratch_notes enable row level security;"
            "create policy own on public.scratch_notes to authenticated"
            " using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));"
            "grant select, insert on public.scratch_notes to authenticated;"
        )
        user_id = uuid.uuid4()

        with pytest.raises(RuntimeError, match="stop"):
            async with user_transaction(executor_pool, user_id) as conn:
                await conn.execute("insert into public.scratch_notes values ($1, 'kept?')", user_id)
                raise RuntimeError("stop")

        assert await admin.fetchval("select count(*) from public.scratch_notes") == 0
    finally:
        await admin.close()


async def test_user_transaction_when_user_id_not_a_uuid_refuses_before_querying(executor_pool):
    with pytest.raises(ValueError):
        async with user_transaction(executor_pool, "not-a-uuid"):
            pytest.fail("entered the transaction")


async def test_service_transaction_when_entered_acts_as_the_service_without_claims(
    executor_pool,
):
    async with service_transaction(executor_pool) as conn:
        row = await conn.fetchrow(WHO_AM_I)
        assert conn.is_in_transaction()

    assert row["current_user"] == "executor_service"
    assert row["uid"] is None
