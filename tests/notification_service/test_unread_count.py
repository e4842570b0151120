"""GetUnreadCount served from the per-process cache: exact on every replica, never stale.

Each test first reads the count (so the replica caches it), then changes it, and checks
the next read. The cache is proven to be in use by a change nobody announces.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import grpc
import pytest

from tests.notification_service.conftest import (
    as_user,
    notification_service,
    notify,
    stub_for,
    terminate_listener,
)
from trading.notification.v1 import notification_service_pb2 as pb

# A replica sees another's change within this (the promise).
ACROSS_REPLICAS_SECONDS = 1.0


async def unread(stub, user_id) -> int:
    reply = await stub.GetUnreadCount(
        pb.GetUnreadCountRequest(user_id=str(user_id)), **as_user(user_id)
    )
    return reply.unread_count


async def unread_becomes(stub, user_id, expected: int) -> None:
    """Poll until the count is ``expected``; fails after ACROSS_REPLICAS_SECONDS."""
    async with asyncio.timeout(ACROSS_REPLICAS_SECONDS):
        while True:
            if await unread(stub, user_id) == expected:
                return
            await asyncio.sleep(0.01)


async def mark_read(stub, user_id, ids: list[str] | None = None) -> pb.MarkReadResponse:
    request = pb.MarkReadRequest(user_id=str(user_id), notification_ids=ids or [], all=ids is None)
    return await stub.MarkRead(request, **as_user(user_id))


async def delete(stub, user_id, ids: list[str] | None = None) -> None:
    request = pb.DeleteNotificationsRequest(
        user_id=str(user_id), notification_ids=ids or [], all=ids is None
    )
    await stub.DeleteNotifications(request, **as_user(user_id))


@contextlib.asynccontextmanager
async def admin(database):
    conn = await asyncpg.connect(database.admin_dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def insert_directly(conn: asyncpg.Connection, user_id, key: str) -> None:
    """A notification written by SQL, past every service (its trigger still announces it)."""
    await conn.execute(
        "insert into public.user_notifications (user_id, type, severity, title, idempotency_key) "
        "values ($1, 'system', 'info', 'Written by SQL', $2)",
        user_id,
        key,
    )


async def lose_listener(stub, database, user_id) -> None:
    """Kill the LISTEN connection and return once the service has noticed.

    A stream open at the time ends with UNAVAILABLE exactly when the feed is known lost.
    """
    stream = subscribe(stub, user_id)
    assert (await stream.read()).WhichOneof("event") == "ready"
    assert await terminate_listener(database) == 1
    with pytest.raises(grpc.aio.AioRpcError) as ended:
        while True:  # heartbeats until the service notices
            await stream.read()
    assert ended.value.code() == grpc.StatusCode.UNAVAILABLE


def subscribe(stub, user_id):
    return stub.SubscribeNotifications(
        pb.SubscribeNotificationsRequest(user_id=str(user_id)), **as_user(user_id)
    )


async def test_unread_count_when_changed_on_same_instance_is_exact_immediately(stub, user_a):
    assert await unread(stub, user_a) == 0
    sent = [(await notify(stub, user_a)).notification.id for _ in range(4)]
    assert await unread(stub, user_a) == 4
    await mark_read(stub, user_a, [sent[0]])
    assert await unread(stub, user_a) == 3
    await delete(stub, user_a, [sent[1]])
    assert await unread(stub, user_a) == 2
    await mark_read(stub, user_a)
    assert await unread(stub, user_a) == 0
    await notify(stub, user_a)
    assert await unread(stub, user_a) == 1
    await delete(stub, user_a)
    assert await unread(stub, user_a) == 0


async def test_unread_count_when_changed_on_other_instance_is_exact_within_a_second(
    database, user_a
):
    async with (
        notification_service(database) as instance_a,
        notification_service(database) as instance_b,
        stub_for(instance_a) as stub_a,
        stub_for(instance_b) as stub_b,
    ):
        assert await unread(stub_b, user_a) == 0
        sent = [(await notify(stub_a, user_a)).notification.id for _ in range(4)]
        await unread_becomes(stub_b, user_a, 4)
        await mark_read(stub_a, user_a, [sent[0]])
        await unread_becomes(stub_b, user_a, 3)
        await delete(stub_a, user_a, [sent[1]])
        await unread_becomes(stub_b, user_a, 2)
        await mark_read(stub_a, user_a)
        await unread_becomes(stub_b, user_a, 0)
        await notify(stub_a, user_a)
        await unread_becomes(stub_b, user_a, 1)
        await delete(stub_a, user_a)
        await unread_becomes(stub_b, user_a, 0)


async def test_unread_count_when_changed_by_sql_is_exact_within_a_second(stub, database, user_a):
    assert await unread(stub, user_a) == 0
    async with admin(database) as conn:
        await insert_directly(conn, user_a, "sql:1")
        await unread_becomes(stub, user_a, 1)
        await conn.execute(
            "update public.user_notifications set read_at = now() where user_id = $1", user_a
        )
        await unread_becomes(stub, user_a, 0)
        await conn.execute(
            "update public.user_notifications set read_at = null where user_id = $1", user_a
        )
        await unread_becomes(stub, user_a, 1)
        await conn.execute("delete from public.user_notifications where user_id = $1", user_a)
        await unread_becomes(stub, user_a, 0)


async def test_unread_count_when_change_not_announced_is_served_from_memory(stub, database, user_a):
    await notify(stub, user_a)
    assert await unread(stub, user_a) == 1
    async with admin(database) as conn:
        # Triggers off: the change is not announced, so only a cached count misses it.
        await conn.execute("set session_replication_role = replica")
        await insert_directly(conn, user_a, "unannounced")
    assert await unread(stub, user_a) == 1
    await notify(stub, user_a)  # an announced change drops the entry
    assert await unread(stub, user_a) == 3


async def test_unread_count_when_listener_down_reads_database(database, user_a):
    # A long reconnect delay keeps the listener down for the whole test.
    async with (
        notification_service(database, live_reconnect_delay_seconds=120.0) as app,
        stub_for(app) as stub,
    ):
        await notify(stub, user_a)
        assert await unread(stub, user_a) == 1
        await lose_listener(stub, database, user_a)

        async with admin(database) as conn:
            await insert_directly(conn, user_a, "while-down:1")
            assert await unread(stub, user_a) == 2
            await insert_directly(conn, user_a, "while-down:2")
            assert await unread(stub, user_a) == 3
            await conn.execute(
                "update public.user_notifications set read_at = now() where user_id = $1", user_a
            )
            assert await unread(stub, user_a) == 0


async def test_unread_count_when_listener_reconnects_reads_changes_missed_meanwhile(
    stub, database, user_a
):
    await notify(stub, user_a)
    assert await unread(stub, user_a) == 1
    await lose_listener(stub, database, user_a)
    async with admin(database) as conn:
        await insert_directly(conn, user_a, "while-down")
    # Ready is sent once the feed listens again (it reconnects after a second).
    stream = subscribe(stub, user_a)
    event = await stream.read()
    assert event.ready.unread_count == 2
    assert await unread(stub, user_a) == 2
    stream.cancel()


async def test_unread_count_when_other_users_count_cached_is_never_served(stub, user_a, user_b):
    await notify(stub, user_a)
    await notify(stub, user_a)
    assert await unread(stub, user_a) == 2
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.GetUnreadCount(pb.GetUnreadCountRequest(user_id=str(user_a)), **as_user(user_b))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await unread(stub, user_b) == 0
    assert await unread(stub, user_a) == 2
