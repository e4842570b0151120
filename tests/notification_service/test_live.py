"""SubscribeNotifications: what one replica stores reaches subscribers on another."""

from __future__ import annotations

import asyncio

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


async def next_event(
    stream, timeout: float, skip: frozenset[str] = frozenset()
) -> pb.SubscribeNotificationsResponse:
    """The next event other than a heartbeat (or a notification in ``skip``).

    A notification stored just before the subscription may still be announced after
    ``ready`` (the stream promises everything stored after ``ready``, possibly a little
    more); tests skip those by id, as a client would.
    """
    async with asyncio.timeout(timeout):
        while True:
            event = await stream.read()
            kind = event.WhichOneof("event")
            if kind == "heartbeat" or (kind == "notification" and event.notification.id in skip):
                continue
            return event


async def test_subscriber_on_instance_b_when_stored_through_a_receives_it_within_a_second(
    database, user_a, user_b
):
    async with (
        notification_service(database) as instance_a,
        notification_service(database) as instance_b,
        stub_for(instance_a) as stub_a,
        stub_for(instance_b) as stub_b,
    ):
        stream = stub_b.SubscribeNotifications(
            pb.SubscribeNotificationsRequest(user_id=str(user_a)),
            metadata=as_user(user_a)["metadata"],
        )
        ready = await next_event(stream, timeout=5.0)
        assert ready.WhichOneof("event") == "ready"
        await notify(stub_a, user_b)  # someone else's: must not reach user A
        sent = await notify(stub_a, user_a, title="Kill switch drill")

        received = await next_event(stream, timeout=1.0)

        assert received.WhichOneof("event") == "notification"
        assert received.notification.id == sent.notification.id
        assert received.notification.title == "Kill switch drill"
        assert received.notification.user_id == str(user_a)
        stream.cancel()


async def test_subscribe_when_ready_reports_unread_count_and_streams_in_order(stub, user_a):
    before = await notify(stub, user_a)
    stream = stub.SubscribeNotifications(
        pb.SubscribeNotificationsRequest(user_id=str(user_a)),
        metadata=as_user(user_a)["metadata"],
    )
    ready = await next_event(stream, timeout=5.0)
    sent = [(await notify(stub, user_a)).notification.id for _ in range(5)]
    skip = frozenset({before.notification.id})
    received = [(await next_event(stream, 5.0, skip)).notification.id for _ in range(5)]
    assert ready.ready.unread_count == 1
    assert received == sent
    stream.cancel()


async def test_subscribe_when_idle_sends_heartbeats(database, user_a):
    async with (
        notification_service(database, stream_heartbeat_seconds=0.05) as app,
        stub_for(app) as stub,
    ):
        stream = stub.SubscribeNotifications(
            pb.SubscribeNotificationsRequest(user_id=str(user_a)),
            metadata=as_user(user_a)["metadata"],
        )
        kinds = [(await stream.read()).WhichOneof("event") for _ in range(3)]
        assert kinds == ["ready", "heartbeat", "heartbeat"]
        stream.cancel()


async def test_subscribe_when_duplicate_notify_streams_nothing_new(stub, user_a):
    stream = stub.SubscribeNotifications(
        pb.SubscribeNotificationsRequest(user_id=str(user_a)),
        metadata=as_user(user_a)["metadata"],
    )
    await next_event(stream, timeout=5.0)
    first = await notify(stub, user_a, key="once")
    streamed = await next_event(stream, timeout=5.0)
    await notify(stub, user_a, key="once")
    marker = await notify(stub, user_a, key="after")
    after = await next_event(stream, timeout=5.0)
    assert streamed.notification.id == first.notification.id
    assert after.notification.id == marker.notification.id
    stream.cancel()


async def test_subscribe_when_listening_connection_lost_ends_stream_and_recovers(
    stub, database, user_a
):
    stream = stub.SubscribeNotifications(
        pb.SubscribeNotificationsRequest(user_id=str(user_a)),
        metadata=as_user(user_a)["metadata"],
    )
    await next_event(stream, timeout=5.0)
    assert await terminate_listener(database) == 1
    with pytest.raises(grpc.aio.AioRpcError) as ended:
        await next_event(stream, timeout=5.0)
    assert ended.value.code() == grpc.StatusCode.UNAVAILABLE

    again = stub.SubscribeNotifications(
        pb.SubscribeNotificationsRequest(user_id=str(user_a)),
        metadata=as_user(user_a)["metadata"],
    )
    await next_event(again, timeout=10.0)
    sent = await notify(stub, user_a)
    received = await next_event(again, timeout=5.0)
    assert received.notification.id == sent.notification.id
    again.cancel()
