"""The delivery dispatcher: leases survive a crashed replica; replicas never double-send."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from notification_service.channels.base import RetryPolicy
from notification_service.channels.webhook import WebhookChannel
from notification_service.dispatcher import DeliveryDispatcher
from notification_service.model import NewNotification, NotificationType, Severity
from notification_service.preferences import OutgoingChannel, Preferences
from notification_service.store import NotificationStore
from servicekit.db.pool import create_pool
from tests.notification_service.conftest import notification_service, notify, stub_for
from tests.notification_service.deliveries import (
    WEBHOOK_SECRET,
    enable_channels,
    wait_until_settled,
)
from tests.notification_service.receivers import webhook_receiver


@pytest.fixture
async def store(database):
    pool = await create_pool(database.dsn_for("notification_service"), min_size=1, max_size=3)
    try:
        yield NotificationStore(pool)
    finally:
        await pool.close()


def system_notification(key: str) -> NewNotification:
    return NewNotification(
        type=NotificationType.SYSTEM,
        severity=Severity.INFO,
        title="Dispatcher test",
        body="",
        idempotency_key=f"{key}:{uuid.uuid4()}",
    )


def webhook_preferences(url: str) -> Preferences:
    return Preferences(
        channels=frozenset({OutgoingChannel.WEBHOOK}),
        webhook_url=url,
        webhook_secret=WEBHOOK_SECRET,
    )


def webhook_dispatcher(store: NotificationStore) -> DeliveryDispatcher:
    channel = WebhookChannel(timeout_seconds=2.0)
    return DeliveryDispatcher(store, {OutgoingChannel.WEBHOOK: channel}, RetryPolicy())


async def test_dispatch_when_user_switched_channel_off_before_sending_records_failure(
    store, database, user_a
):
    async with webhook_receiver() as receiver:
        await store.update_preferences(user_a, webhook_preferences(receiver.url))
        stored = await store.store(user_a, system_notification("off"))
        await store.update_preferences(user_a, Preferences())
        dispatcher = webhook_dispatcher(store)
        try:
            assert await dispatcher.dispatch_due() == 1
        finally:
            await dispatcher.close()
        rows = await wait_until_settled(database, str(stored.result.notification.id))
    assert receiver.requests == []
    assert rows["webhook"]["status"] == "failed"
    assert "switched the webhook channel off" in rows["webhook"]["last_error"]


async def test_dispatch_when_claim_of_a_crashed_dispatcher_expires_delivers_it(
    store, database, user_a
):
    async with webhook_receiver() as receiver:
        await store.update_preferences(user_a, webhook_preferences(receiver.url))
        stored = await store.store(user_a, system_notification("lease"))
        notification = stored.result.notification
        assert notification is not None and stored.queued_deliveries == 1
        # A dispatcher claims it and dies before recording anything.
        [crashed] = await store.claim_due_deliveries(limit=10, lease_seconds=1.0)
        survivor = webhook_dispatcher(store)
        try:
            assert await survivor.dispatch_due() == 0  # still leased
            async with asyncio.timeout(5.0):
                while True:  # polls: the lease ends on the database's clock
                    if await survivor.dispatch_due():
                        break
                    await asyncio.sleep(0.05)
        finally:
            await survivor.close()
        rows = await wait_until_settled(database, str(notification.id))
    assert crashed.notification_id == notification.id
    assert rows["webhook"]["status"] == "delivered" and rows["webhook"]["attempts"] == 2
    assert [request.headers["x-notification-id"] for request in receiver.requests] == [
        str(notification.id)
    ]


async def test_dispatchers_on_two_replicas_when_sharing_the_outbox_send_each_once(database, user_a):
    async with (
        webhook_receiver() as receiver,
        notification_service(database) as replica_a,
        notification_service(database) as replica_b,
        stub_for(replica_a) as stub_a,
        stub_for(replica_b) as stub_b,
    ):
        await enable_channels(stub_a, user_a, webhook_url=receiver.url)
        sent = await asyncio.gather(*(notify(stub, user_a) for stub in [stub_a, stub_b] * 10))
        ids = {reply.notification.id for reply in sent}
        for notification_id in ids:
            await wait_until_settled(database, notification_id)
    received = [request.headers["x-notification-id"] for request in receiver.requests]
    assert sorted(received) == sorted(ids) and len(ids) == 20
