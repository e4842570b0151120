"""Refused input: every bad request gets INVALID_ARGUMENT / PERMISSION_DENIED naming the field."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from servicekit.errors import field_of, reason_of
from tests.notification_service.conftest import as_service, as_user, notify
from trading.notification.v1 import notification_service_pb2 as pb
from trading.types.v1 import types_pb2


def _requests(user: str, other: str):
    """(method, request, expected code, expected field) for every refused input."""
    invalid, denied = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED
    notify_fields = {"user_id": user, "idempotency_key": "k", "type": pb.NOTIFICATION_TYPE_SYSTEM}
    return [
        ("Notify", pb.NotifyRequest(**notify_fields, title="  "), invalid, "title"),
        ("Notify", pb.NotifyRequest(**{**notify_fields, "type": 999}, title="x"), invalid, "type"),
        ("Notify", pb.NotifyRequest(**{**notify_fields, "type": 0}, title="x"), invalid, "type"),
        (
            "Notify",
            pb.NotifyRequest(**{**notify_fields, "idempotency_key": ""}, title="x"),
            invalid,
            "idempotency_key",
        ),
        (
            "Notify",
            pb.NotifyRequest(**{**notify_fields, "user_id": "nope"}, title="x"),
            invalid,
            "user_id",
        ),
        (
            "NotifyTradeExecuted",
            pb.NotifyTradeExecutedRequest(
                user_id=user,
                idempotency_key="k",
                fill=types_pb2.Fill(
                    symbol="BTC/USD", side=types_pb2.SIDE_BUY, quantity="-1", price="1"
                ),
            ),
            invalid,
            "fill.quantity",
        ),
        (
            "NotifyTradeExecuted",
            pb.NotifyTradeExecutedRequest(
                user_id=user,
                idempotency_key="k",
                fill=types_pb2.Fill(
                    symbol="BTC/USD", side=types_pb2.SIDE_SELL, quantity="1", price="0"
                ),
            ),
            invalid,
            "fill.price",
        ),
        (
            "NotifyRiskEvent",
            pb.NotifyRiskEventRequest(
                user_id=user,
                idempotency_key="k",
                event_type="stop loss!",
                action_taken=pb.RISK_ACTION_NONE,
            ),
            invalid,
            "event_type",
        ),
        ("ListNotifications", pb.ListNotificationsRequest(user_id=user, limit=0), invalid, "limit"),
        (
            "ListNotifications",
            pb.ListNotificationsRequest(user_id=user, limit=-5),
            invalid,
            "limit",
        ),
        (
            "ListNotifications",
            pb.ListNotificationsRequest(user_id=user, limit=1_000_000),
            invalid,
            "limit",
        ),
        (
            "ListNotifications",
            pb.ListNotificationsRequest(user_id=user, cursor="not-a-cursor!"),
            invalid,
            "cursor",
        ),
        ("ListNotifications", pb.ListNotificationsRequest(user_id=other), denied, "user_id"),
        ("GetUnreadCount", pb.GetUnreadCountRequest(user_id=other), denied, "user_id"),
        ("MarkRead", pb.MarkReadRequest(user_id=other, all=True), denied, "user_id"),
        ("MarkRead", pb.MarkReadRequest(user_id=user), invalid, "notification_ids"),
        (
            "MarkRead",
            pb.MarkReadRequest(user_id=user, notification_ids=["x"]),
            invalid,
            "notification_ids",
        ),
        (
            "DeleteNotifications",
            pb.DeleteNotificationsRequest(user_id=other, all=True),
            denied,
            "user_id",
        ),
        ("UpdatePreferences", pb.UpdatePreferencesRequest(user_id=user), invalid, "update_mask"),
        (
            "UpdatePreferences",
            pb.UpdatePreferencesRequest(
                user_id=user,
                preferences=pb.NotificationPreferences(channels=[pb.CHANNEL_WEBHOOK]),
                update_mask=FieldMask(paths=["channels"]),
            ),
            invalid,
            "preferences.webhook_url",
        ),
        (
            "UpdatePreferences",
            pb.UpdatePreferencesRequest(
                user_id=user,
                preferences=pb.NotificationPreferences(webhook_url="ftp://x"),
                update_mask=FieldMask(paths=["webhook_url"]),
            ),
            invalid,
            "preferences.webhook_url",
        ),
        ("GetPreferences", pb.GetPreferencesRequest(user_id=other), denied, "user_id"),
    ]


_CASES = _requests("u", "o")


@pytest.mark.parametrize(
    "case", range(len(_CASES)), ids=[f"{method}-{field}" for method, _, _, field in _CASES]
)
async def test_bad_input_when_sent_is_refused_naming_the_field(stub, user_a, user_b, case):
    method, request, code, field = _requests(str(user_a), str(user_b))[case]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        # Notify* are for services (users are refused outright); the rest for the user.
        caller = as_service() if method.startswith("Notify") else as_user(user_a)
        await getattr(stub, method)(request, **caller)
    assert refused.value.code() == code, refused.value.details()
    assert field_of(refused.value) == field


async def test_subscribe_when_another_users_id_is_permission_denied(stub, user_a, user_b):
    stream = stub.SubscribeNotifications(
        pb.SubscribeNotificationsRequest(user_id=str(user_b)), **as_user(user_a)
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stream.read()
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert field_of(refused.value) == "user_id"


async def test_notify_when_user_does_not_exist_is_not_found(stub):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await notify(stub, uuid.uuid4())
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


async def test_notify_when_called_by_a_user_even_for_themselves_is_permission_denied(stub, user_a):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.Notify(
            pb.NotifyRequest(
                user_id=str(user_a),
                idempotency_key="self-made",
                type=pb.NOTIFICATION_TYPE_KILL_SWITCH,
                title="Fake alert",
            ),
            **as_user(user_a),
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason_of(refused.value) == "SERVICE_CALLER_REQUIRED"
