"""The notification domain: types, severities, and what a notification is (no transport)."""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from servicekit.errors import InvalidArgument

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 2000
MAX_IDEMPOTENCY_KEY_LENGTH = 200
MAX_DATA_ENTRIES = 50
MAX_DATA_KEY_LENGTH = 64
MAX_DATA_VALUE_LENGTH = 1000


class NotificationType(enum.StrEnum):
    """What a notification is about (the database stores the value)."""

    TRADE_EXECUTED = "trade_executed"
    TRADE_BLOCKED = "trade_blocked"
    RISK_ALERT = "risk_alert"
    STRATEGY_PAUSED = "strategy_paused"
    KILL_SWITCH = "kill_switch"
    BACKTEST_COMPLETED = "backtest_completed"
    BACKTEST_FAILED = "backtest_failed"
    ORDER_FAILED = "order_failed"
    STRATEGY_UPDATE = "strategy_update"
    SYSTEM = "system"


class Severity(enum.StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


# A user must learn that money stopped being managed, even with notifications muted.
CRITICAL_TYPES: frozenset[NotificationType] = frozenset(
    {NotificationType.STRATEGY_PAUSED, NotificationType.KILL_SWITCH}
)

DEFAULT_SEVERITY: dict[NotificationType, Severity] = {
    NotificationType.TRADE_EXECUTED: Severity.INFO,
    NotificationType.TRADE_BLOCKED: Severity.WARNING,
    NotificationType.RISK_ALERT: Severity.WARNING,
    NotificationType.STRATEGY_PAUSED: Severity.CRITICAL,
    NotificationType.KILL_SWITCH: Severity.CRITICAL,
    NotificationType.BACKTEST_COMPLETED: Severity.SUCCESS,
    NotificationType.BACKTEST_FAILED: Severity.ERROR,
    NotificationType.ORDER_FAILED: Severity.ERROR,
    NotificationType.STRATEGY_UPDATE: Severity.INFO,
    NotificationType.SYSTEM: Severity.INFO,
}


def is_critical(kind: NotificationType) -> bool:
    """Critical notifications are stored even when the user muted them."""
    return kind in CRITICAL_TYPES


@dataclass(frozen=True, slots=True)
class NewNotification:
    """A notification about to be stored, already validated and written for people."""

    type: NotificationType
    severity: Severity
    title: str
    body: str
    idempotency_key: str
    data: dict[str, str] = field(default_factory=dict)
    strategy_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class StoredNotification:
    """A notification as stored in the user's feed."""

    id: uuid.UUID
    user_id: uuid.UUID
    type: NotificationType
    severity: Severity
    title: str
    body: str
    data: dict[str, str]
    strategy_id: uuid.UUID | None
    idempotency_key: str
    created_at: datetime
    read_at: datetime | None

    @property
    def read(self) -> bool:
        return self.read_at is not None

    @property
    def critical(self) -> bool:
        return is_critical(self.type)


class NotifyOutcome(enum.Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    MUTED = "muted"


@dataclass(frozen=True, slots=True)
class NotifyResult:
    """What a notify call did: stored now, found stored before, or muted (nothing stored)."""

    outcome: NotifyOutcome
    notification: StoredNotification | None


_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces


def validate_idempotency_key(value: str, field_name: str = "idempotency_key") -> str:
    """The caller's key for the event, or InvalidArgument naming the field."""
    if not value:
        raise InvalidArgument(field_name, "is required: the same event must be stored once")
    if len(value) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidArgument(field_name, f"at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters")
    if not _IDEMPOTENCY_KEY.match(value):
        raise InvalidArgument(field_name, "printable ASCII without spaces")
    return value


def validate_title(value: str, field_name: str = "title") -> str:
    title = value.strip()
    if not title:
        raise InvalidArgument(field_name, "must not be empty")
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidArgument(field_name, f"at most {MAX_TITLE_LENGTH} characters")
    return title


def validate_body(value: str, field_name: str = "body") -> str:
    body = value.strip()
    if len(body) > MAX_BODY_LENGTH:
        raise InvalidArgument(field_name, f"at most {MAX_BODY_LENGTH} characters")
    return body


def validate_data(data: dict[str, str], field_name: str = "data") -> dict[str, str]:
    """Machine-readable details: a bounded map of short keys to strings."""
    if len(data) > MAX_DATA_ENTRIES:
        raise InvalidArgument(field_name, f"at most {MAX_DATA_ENTRIES} entries")
    for key, value in data.items():
        if not key or len(key) > MAX_DATA_KEY_LENGTH:
            raise InvalidArgument(field_name, f"keys are 1..{MAX_DATA_KEY_LENGTH} characters")
        if len(value) > MAX_DATA_VALUE_LENGTH:
            raise InvalidArgument(
                f"{field_name}.{key}", f"at most {MAX_DATA_VALUE_LENGTH} characters"
            )
    return dict(data)


def parse_optional_uuid(value: str, field_name: str) -> uuid.UUID | None:
    """An optional id from the wire: empty means none, anything else must be a UUID."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(field_name, "must be a UUID") from None
