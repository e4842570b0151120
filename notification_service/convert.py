"""Protobuf <-> domain: enums, notifications, preferences and the notify requests."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from notification_service.messages import (
    BacktestOutcome,
    BacktestSummary,
    RiskAction,
    RiskEvent,
    TradeFill,
    TradeSide,
)
from notification_service.model import (
    DEFAULT_SEVERITY,
    NotificationType,
    Severity,
    StoredNotification,
    validate_data,
)
from notification_service.preferences import OutgoingChannel, Preferences
from servicekit.errors import InvalidArgument
from servicekit.money import parse_decimal
from trading.notification.v1 import notification_service_pb2 as pb
from trading.types.v1 import types_pb2

TYPE_TO_PROTO: dict[NotificationType, pb.NotificationType.ValueType] = {
    NotificationType.TRADE_EXECUTED: pb.NOTIFICATION_TYPE_TRADE_EXECUTED,
    NotificationType.TRADE_BLOCKED: pb.NOTIFICATION_TYPE_TRADE_BLOCKED,
    NotificationType.RISK_ALERT: pb.NOTIFICATION_TYPE_RISK_ALERT,
    NotificationType.STRATEGY_PAUSED: pb.NOTIFICATION_TYPE_STRATEGY_PAUSED,
    NotificationType.KILL_SWITCH: pb.NOTIFICATION_TYPE_KILL_SWITCH,
    NotificationType.BACKTEST_COMPLETED: pb.NOTIFICATION_TYPE_BACKTEST_COMPLETED,
    NotificationType.BACKTEST_FAILED: pb.NOTIFICATION_TYPE_BACKTEST_FAILED,
    NotificationType.ORDER_FAILED: pb.NOTIFICATION_TYPE_ORDER_FAILED,
    NotificationType.STRATEGY_UPDATE: pb.NOTIFICATION_TYPE_STRATEGY_UPDATE,
    NotificationType.SYSTEM: pb.NOTIFICATION_TYPE_SYSTEM,
}
TYPE_FROM_PROTO = {value: key for key, value in TYPE_TO_PROTO.items()}

SEVERITY_TO_PROTO: dict[Severity, pb.NotificationSeverity.ValueType] = {
    Severity.INFO: pb.NOTIFICATION_SEVERITY_INFO,
    Severity.SUCCESS: pb.NOTIFICATION_SEVERITY_SUCCESS,
    Severity.WARNING: pb.NOTIFICATION_SEVERITY_WARNING,
    Severity.ERROR: pb.NOTIFICATION_SEVERITY_ERROR,
    Severity.CRITICAL: pb.NOTIFICATION_SEVERITY_CRITICAL,
}
SEVERITY_FROM_PROTO = {value: key for key, value in SEVERITY_TO_PROTO.items()}

CHANNEL_TO_PROTO: dict[OutgoingChannel, pb.Channel.ValueType] = {
    OutgoingChannel.WEBHOOK: pb.CHANNEL_WEBHOOK,
    OutgoingChannel.EMAIL: pb.CHANNEL_EMAIL,
}
CHANNEL_FROM_PROTO = {value: key for key, value in CHANNEL_TO_PROTO.items()}

RISK_ACTION_FROM_PROTO = {
    pb.RISK_ACTION_NONE: RiskAction.NONE,
    pb.RISK_ACTION_TRADE_BLOCKED: RiskAction.TRADE_BLOCKED,
    pb.RISK_ACTION_STRATEGY_PAUSED: RiskAction.STRATEGY_PAUSED,
    pb.RISK_ACTION_STRATEGY_STOPPED: RiskAction.STRATEGY_STOPPED,
    pb.RISK_ACTION_KILL_SWITCH_ENGAGED: RiskAction.KILL_SWITCH_ENGAGED,
}

BACKTEST_OUTCOME_FROM_PROTO = {
    pb.BACKTEST_OUTCOME_SUCCEEDED: BacktestOutcome.SUCCEEDED,
    pb.BACKTEST_OUTCOME_FAILED: BacktestOutcome.FAILED,
    pb.BACKTEST_OUTCOME_CANCELLED: BacktestOutcome.CANCELLED,
}

SIDE_FROM_PROTO = {types_pb2.SIDE_BUY: TradeSide.BUY, types_pb2.SIDE_SELL: TradeSide.SELL}

MAX_STRATEGY_NAME_LENGTH = 100
MAX_SYMBOL_LENGTH = 20


T = TypeVar("T")


def _enum(value: int, table: Mapping[Any, T], field: str) -> T:
    try:
        return table[value]
    except KeyError:
        raise InvalidArgument(field, f"unknown or unspecified value {value}") from None


def notification_type(value: int, field: str = "type") -> NotificationType:
    return _enum(value, TYPE_FROM_PROTO, field)


def severity(value: int, kind: NotificationType, field: str = "severity") -> Severity:
    """The requested severity, or the type's default when unspecified."""
    if value == pb.NOTIFICATION_SEVERITY_UNSPECIFIED:
        return DEFAULT_SEVERITY[kind]
    return _enum(value, SEVERITY_FROM_PROTO, field)


def notification_types(values: Iterable[int], field: str) -> frozenset[NotificationType]:
    return frozenset(notification_type(value, field) for value in values)


def channels(values: Iterable[int], field: str) -> frozenset[OutgoingChannel]:
    return frozenset(_enum(value, CHANNEL_FROM_PROTO, field) for value in values)


def uuids(values: Iterable[str], field: str) -> list[uuid.UUID]:
    parsed = []
    for value in values:
        try:
            parsed.append(uuid.UUID(value))
        except ValueError:
            raise InvalidArgument(field, f"{value[:40]!r} is not a UUID") from None
    return parsed


def strategy_name(value: str, field: str = "strategy_name") -> str:
    name = value.strip()
    if len(name) > MAX_STRATEGY_NAME_LENGTH:
        raise InvalidArgument(field, f"at most {MAX_STRATEGY_NAME_LENGTH} characters")
    return name


def timestamp(value) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def notification_to_proto(notification: StoredNotification) -> pb.Notification:
    message = pb.Notification(
        id=str(notification.id),
        user_id=str(notification.user_id),
        type=TYPE_TO_PROTO[notification.type],
        severity=SEVERITY_TO_PROTO[notification.severity],
        title=notification.title,
        body=notification.body,
        data=notification.data,
        strategy_id=str(notification.strategy_id) if notification.strategy_id else "",
        read=notification.read,
        created_at=timestamp(notification.created_at),
        idempotency_key=notification.idempotency_key,
        critical=notification.critical,
    )
    if notification.read_at is not None:
        message.read_at.CopyFrom(timestamp(notification.read_at))
    return message


def preferences_to_proto(preferences: Preferences) -> pb.NotificationPreferences:
    message = pb.NotificationPreferences(
        notifications_enabled=preferences.notifications_enabled,
        muted_types=sorted(TYPE_TO_PROTO[kind] for kind in preferences.muted_types),
        channels=sorted(CHANNEL_TO_PROTO[channel] for channel in preferences.channels),
        webhook_url=preferences.webhook_url or "",
        webhook_secret_set=bool(preferences.webhook_secret),
        email_address=preferences.email_address or "",
    )
    if preferences.updated_at is not None:
        message.updated_at.CopyFrom(timestamp(preferences.updated_at))
    return message


def preference_changes(request: pb.UpdatePreferencesRequest) -> dict[str, object]:
    """The fields named by ``update_mask``, with their new values in domain form."""
    paths = list(request.update_mask.paths)
    if not paths:
        raise InvalidArgument("update_mask", "name the fields to update")
    wanted = request.preferences
    readers = {
        "notifications_enabled": lambda: wanted.notifications_enabled,
        "muted_types": lambda: notification_types(wanted.muted_types, "preferences.muted_types"),
        "channels": lambda: channels(wanted.channels, "preferences.channels"),
        "webhook_url": lambda: wanted.webhook_url,
        "webhook_secret": lambda: wanted.webhook_secret,
        "email_address": lambda: wanted.email_address,
    }
    changes = {}
    for path in paths:
        reader = readers.get(path)
        if reader is None:
            raise InvalidArgument("update_mask", f"{path!r} cannot be updated")
        changes[path] = reader()
    return changes


def trade_fill(fill: types_pb2.Fill) -> TradeFill:
    symbol = fill.symbol.strip().upper()
    if not symbol or len(symbol) > MAX_SYMBOL_LENGTH:
        raise InvalidArgument("fill.symbol", f"1..{MAX_SYMBOL_LENGTH} characters")
    return TradeFill(
        symbol=symbol,
        side=_enum(fill.side, SIDE_FROM_PROTO, "fill.side"),
        quantity=_amount(fill.quantity, "fill.quantity"),
        price=_amount(fill.price, "fill.price"),
        fee=parse_decimal(fill.fee, "fill.fee", positive=True, required=False),
        client_order_id=fill.client_order_id[:100],
    )


def _amount(value: str, field: str) -> Decimal:
    """A required amount above zero."""
    amount = parse_decimal(value, field, positive=True, allow_zero=False)
    assert amount is not None  # required=True never returns None
    return amount


def risk_event(request: pb.NotifyRiskEventRequest) -> RiskEvent:
    event_type = request.event_type.strip()
    if not event_type or len(event_type) > 64 or not event_type.replace("_", "").isalnum():
        raise InvalidArgument("event_type", "a snake_case name such as stop_loss_triggered")
    return RiskEvent(
        event_type=event_type.lower(),
        action=_enum(request.action_taken, RISK_ACTION_FROM_PROTO, "action_taken"),
        event_data=validate_data(dict(request.event_data), "event_data"),
        strategy_name=strategy_name(request.strategy_name),
        message=messages_text(request.message, "message"),
    )


def backtest_summary(request: pb.NotifyBacktestCompletedRequest) -> BacktestSummary:
    if not request.backtest_id or len(request.backtest_id) > 100:
        raise InvalidArgument("backtest_id", "is required (at most 100 characters)")

    def optional_decimal(value: str, field: str) -> Decimal | None:
        return parse_decimal(value, field, required=False)

    if request.total_trades < 0:
        raise InvalidArgument("total_trades", "must not be negative")
    return BacktestSummary(
        backtest_id=request.backtest_id,
        strategy_name=strategy_name(request.strategy_name),
        outcome=_enum(request.outcome, BACKTEST_OUTCOME_FROM_PROTO, "outcome"),
        total_return_pct=optional_decimal(request.total_return_pct, "total_return_pct"),
        sharpe_ratio=optional_decimal(request.sharpe_ratio, "sharpe_ratio"),
        max_drawdown_pct=optional_decimal(request.max_drawdown_pct, "max_drawdown_pct"),
        total_trades=request.total_trades,
        error_message=messages_text(request.error_message, "error_message"),
    )


def messages_text(value: str, field: str, limit: int = 1000) -> str:
    text = value.strip()
    if len(text) > limit:
        raise InvalidArgument(field, f"at most {limit} characters")
    return text
