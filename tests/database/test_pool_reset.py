"""Connections come back to the pool clean, without a reset round trip per request."""

import uuid

from servicekit.db.pool import create_pool
from servicekit.db.rls import user_transaction


async def test_release_when_request_abandoned_mid_transaction_rolls_back_its_claims(database):
    pool = await create_pool(database.dsn_for("notification_service"), min_size=1, max_size=1)
    try:
        conn = await pool.acquire()
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(
            "select set_config('request.jwt.claims', $1, true)", f'{{"sub": "{uuid.uuid4()}"}}'
        )
        await pool.release(conn)  # as a cancelled request would leave it
        async with pool.acquire() as again:
            assert not again.is_in_transaction()
            assert await again.fetchval("select auth.uid()") is None
            assert await again.fetchval("select current_user") == "notification_service"
    finally:
        await pool.close()


async def test_release_after_user_transaction_leaves_service_role_and_no_claims(database):
    pool = await create_pool(database.dsn_for("risk_service"), min_size=1, max_size=1)
    try:
        async with user_transaction(pool, uuid.uuid4()) as conn:
            assert await conn.fetchval("select current_user") == "authenticated"
        async with pool.acquire() as again:
            assert await again.fetchval("select current_user") == "risk_service"
            assert await again.fetchval("select auth.uid()") is None
    finally:
        await pool.close()
