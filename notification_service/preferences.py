"""What a user wants: which notifications are stored, and which channels carry them.

Critical types (``model.CRITICAL_TYPES``) are stored whatever the switches say: a user
must learn that a strategy was paused or a kill switch engaged, even with everything muted.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

from notification_service.model import NotificationType, is_critical
from servicekit.errors import InvalidArgument

MIN_WEBHOOK_SECRET_LENGTH = 16
MAX_WEBHOOK_SECRET_LENGTH = 200
MAX_URL_LENGTH = 2000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class OutgoingChannel(enum.StrEnum):
    """Channels besides the in-app feed (which is always on)."""

    WEBHOOK = "webhook"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class Preferences:
    """A user's notification preferences (the defaults when they never saved any)."""

    notifications_enabled: bool = True
    muted_types: frozenset[NotificationType] = frozenset()
    channels: frozenset[OutgoingChannel] = frozenset()
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    email_address: str | None = None
    updated_at: datetime | None = None


DEFAULT_PREFERENCES = Preferences()


def should_store(preferences: Preferences, kind: NotificationType) -> bool:
    """Whether a notification of ``kind`` goes into the user's feed."""
    if is_critical(kind):
        return True
    return preferences.notifications_enabled and kind not in preferences.muted_types


def channels_for(preferences: Preferences, kind: NotificationType) -> list[OutgoingChannel]:
    """The outgoing channels a stored notification is also delivered to.

    Only for notifications that were stored; a channel needs its destination set.
    """
    if not should_store(preferences, kind):
        return []
    wanted = []
    if OutgoingChannel.WEBHOOK in preferences.channels and preferences.webhook_url:
        wanted.append(OutgoingChannel.WEBHOOK)
    if OutgoingChannel.EMAIL in preferences.channels and preferences.email_address:
        wanted.append(OutgoingChannel.EMAIL)
    return wanted


UPDATABLE_FIELDS = frozenset(
    {
        "notifications_enabled",
        "muted_types",
        "channels",
        "webhook_url",
        "webhook_secret",
        "email_address",
    }
)


def apply_update(current: Preferences, changes: dict[str, object]) -> Preferences:
    """``current`` with ``changes`` (field name -> new value) applied and checked.

    Empty strings clear the webhook URL, secret and email address. Raises InvalidArgument
    naming the field (``preferences.<field>``) for a bad value or an unusable combination.
    """
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise InvalidArgument("update_mask", f"cannot update {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, value in changes.items():
        values[name] = _CHECKS[name](value)
    updated = replace(current, **values)
    _check_channels_have_destinations(updated)
    return updated


def _check_enabled(value: object) -> bool:
    return bool(value)


def _check_muted_types(value: object) -> frozenset[NotificationType]:
    return frozenset(cast(Iterable[NotificationType], value))  # parsed by the transport


def _check_channels(value: object) -> frozenset[OutgoingChannel]:
    return frozenset(cast(Iterable[OutgoingChannel], value))


def _check_webhook_url(value: object) -> str | None:
    url = str(value or "").strip()
    if not url:
        return None
    field_name = "preferences.webhook_url"
    if len(url) > MAX_URL_LENGTH:
        raise InvalidArgument(field_name, f"at most {MAX_URL_LENGTH} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(field_name, "must be an http(s) URL with a host")
    if parts.username or parts.password:
        raise InvalidArgument(field_name, "must not carry credentials; use webhook_secret")
    _check_not_unspecified_address(parts.hostname, field_name)
    return url


def _check_not_unspecified_address(host: str, field_name: str) -> None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if address.is_unspecified or address.is_multicast:
        raise InvalidArgument(field_name, "must name a reachable host")


def _check_webhook_secret(value: object) -> str | None:
    secret = str(value or "")
    if not secret:
        return None
    if not MIN_WEBHOOK_SECRET_LENGTH <= len(secret) <= MAX_WEBHOOK_SECRET_LENGTH:
        raise InvalidArgument(
            "preferences.webhook_secret",
            f"{MIN_WEBHOOK_SECRET_LENGTH}..{MAX_WEBHOOK_SECRET_LENGTH} characters",
        )
    return secret


def _check_email(value: object) -> str | None:
    address = str(value or "").strip()
    if not address:
        return None
    if len(address) > 320 or not _EMAIL.match(address):
        raise InvalidArgument("preferences.email_address", "must be an email address")
    return address


_CHECKS = {
    "notifications_enabled": _check_enabled,
    "muted_types": _check_muted_types,
    "channels": _check_channels,
    "webhook_url": _check_webhook_url,
    "webhook_secret": _check_webhook_secret,
    "email_address": _check_email,
}


def _check_channels_have_destinations(preferences: Preferences) -> None:
    if OutgoingChannel.WEBHOOK in preferences.channels:
        if not preferences.webhook_url:
            raise InvalidArgument("preferences.webhook_url", "is required for the webhook channel")
        if not preferences.webhook_secret:
            raise InvalidArgument(
                "preferences.webhook_secret", "is required for the webhook channel"
            )
    if OutgoingChannel.EMAIL in preferences.channels and not preferences.email_address:
        raise InvalidArgument("preferences.email_address", "is required for the email channel")
