"""The store's isolation is the database's: RLS, not only WHERE clauses."""

from __future__ import annotations

import asyncpg
import pytest

from notification_service.model import NewNotification, NotificationType, Severity
from notification_service.store import NotificationStore
from servicekit.db.pool import create_pool
from servicekit.db.rls import user_transaction


@pytest.fixture
async def pool(database):
    pool = await create_pool(database.dsn_for("notification_service"), min_size=1, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


def new(key: str) -> NewNotification:
    return NewNotification(
        type=NotificationType.SYSTEM,
        severity=Severity.INFO,
        title="t",
        body="",
        idempotency_key=key,
    )


async def test_user_transaction_when_where_clause_missing_sees_and_marks_only_own_rows(
    pool, user_a, user_b
):
    store = NotificationStore(pool)
    for index in range(3):
        await store.store(user_a, new(f"a{index}"))
        await store.store(user_b, new(f"b{index}"))
    async with user_transaction(pool, user_a) as conn:
        # Deliberately no WHERE: RLS alone must keep user B's rows out.
        owners = await conn.fetch("select user_id from public.user_notifications")
        updated = await conn.execute("update public.user_notifications set read_at = now()")
    assert {row["user_id"] for row in owners} == {user_a} and len(owners) == 3
    assert updated == "UPDATE 3"
    assert await store.unread_count(user_b) == 3
    assert await store.unread_count(user_a) == 0


async def test_store_when_claims_name_another_user_refuses_the_insert(pool, user_a, user_b):
    async with user_transaction(pool, user_a) as conn:
        await conn.execute("set local role none")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "insert into public.user_notifications "
                "(user_id, type, severity, title, idempotency_key) "
                "values ($1, 'system', 'info', 'forged', 'k')",
                user_b,
            )


async def test_authenticated_user_when_inserting_a_notification_is_refused(pool, user_a):
    async with user_transaction(pool, user_a) as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "insert into public.user_notifications "
                "(user_id, type, severity, title, idempotency_key) "
                "values ($1, 'system', 'info', 'self-made', 'k')",
                user_a,
            )
