"""Webhook channel: signed, retried with backoff, delivered once, given up after a bound."""

from __future__ import annotations

import hashlib
import hmac
import json

from notification_service.channels.webhook import signature
from tests.notification_service.conftest import notification_service, notify, stub_for
from tests.notification_service.deliveries import (
    WEBHOOK_SECRET,
    enable_channels,
    wait_until_settled,
)
from tests.notification_service.receivers import webhook_receiver


def signature_is_valid(header: str, body: bytes, secret: str) -> bool:
    """Verify as a receiver would, without the service's code."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(parts["v1"], expected.hexdigest())


async def test_webhook_when_receiver_fails_twice_gets_notification_once_with_valid_signature(
    stub, database, user_a
):
    async with webhook_receiver(statuses=[500, 503]) as receiver:
        await enable_channels(stub, user_a, webhook_url=receiver.url)
        sent = await notify(stub, user_a, title="Daily summary ready")
        rows = await wait_until_settled(database, sent.notification.id)

    assert rows["webhook"]["status"] == "delivered" and rows["webhook"]["attempts"] == 3
    assert [request.answered for request in receiver.requests] == [500, 503, 200]
    assert len(receiver.accepted) == 1
    accepted = receiver.accepted[0]
    assert accepted.method == "POST" and accepted.path == "/hooks/trading"
    assert accepted.headers["x-notification-id"] == sent.notification.id
    assert signature_is_valid(
        accepted.headers["x-notification-signature"], accepted.body, WEBHOOK_SECRET
    )
    document = json.loads(accepted.body)
    assert document["id"] == sent.notification.id
    assert document["title"] == "Daily summary ready"


async def test_webhook_when_receiver_keeps_failing_gives_up_after_bound_and_records_it(
    database, user_a
):
    async with (
        notification_service(database, delivery_max_attempts=3) as app,
        stub_for(app) as stub,
        webhook_receiver(statuses=[500] * 10) as receiver,
    ):
        await enable_channels(stub, user_a, webhook_url=receiver.url)
        sent = await notify(stub, user_a)
        rows = await wait_until_settled(database, sent.notification.id)
    assert len(receiver.requests) == 3
    assert rows["webhook"]["status"] == "failed" and rows["webhook"]["attempts"] == 3
    assert "gave up after 3 attempts" in rows["webhook"]["last_error"]
    assert "HTTP 500" in rows["webhook"]["last_error"]


async def test_webhook_when_receiver_answers_client_error_gives_up_at_once(stub, database, user_a):
    async with webhook_receiver(statuses=[410]) as receiver:
        await enable_channels(stub, user_a, webhook_url=receiver.url)
        sent = await notify(stub, user_a)
        rows = await wait_until_settled(database, sent.notification.id)
    assert len(receiver.requests) == 1
    assert rows["webhook"]["status"] == "failed" and rows["webhook"]["attempts"] == 1


async def test_webhook_when_notification_is_a_duplicate_is_not_sent_again(stub, database, user_a):
    async with webhook_receiver() as receiver:
        await enable_channels(stub, user_a, webhook_url=receiver.url)
        first = await notify(stub, user_a, key="fill:1")
        await wait_until_settled(database, first.notification.id)
        await notify(stub, user_a, key="fill:1")
        marker = await notify(stub, user_a, key="fill:2")
        await wait_until_settled(database, marker.notification.id)
    ids = [request.headers["x-notification-id"] for request in receiver.requests]
    assert ids == [first.notification.id, marker.notification.id]


def test_signature_when_body_changes_no_longer_matches():
    header = signature(WEBHOOK_SECRET, 1_700_000_000, b'{"a":1}')
    assert header.startswith("t=1700000000,v1=")
    assert signature_is_valid(header, b'{"a":1}', WEBHOOK_SECRET)
    assert not signature_is_valid(header, b'{"a":2}', WEBHOOK_SECRET)
    assert not signature_is_valid(header, b'{"a":1}', WEBHOOK_SECRET + "x")
