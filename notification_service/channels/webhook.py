"""Webhook channel: a signed JSON POST to the user's URL.

Signature (documented in docs/notifications.md)::

    X-Notification-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

The timestamp is part of what is signed, so a receiver can refuse replays older than a
few minutes; ``X-Notification-Id`` lets it drop a redelivery it already processed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from notification_service.channels.base import PermanentDeliveryError, RetryableDeliveryError
from notification_service.model import StoredNotification
from notification_service.preferences import OutgoingChannel, Preferences

SIGNATURE_HEADER = "X-Notification-Signature"
ID_HEADER = "X-Notification-Id"
TYPE_HEADER = "X-Notification-Type"
USER_AGENT = "trading-platform-notifications/1"


def payload(notification: StoredNotification) -> bytes:
    """The JSON body a webhook receives (stable key order)."""
    document = {
        "id": str(notification.id),
        "type": notification.type.value,
        "severity": notification.severity.value,
        "critical": notification.critical,
        "title": notification.title,
        "body": notification.body,
        "data": notification.data,
        "strategy_id": str(notification.strategy_id) if notification.strategy_id else None,
        "created_at": notification.created_at.isoformat(),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header value signing ``body`` at ``timestamp`` with ``secret``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _is_retryable_status(status: int) -> bool:
    return status in (408, 425, 429) or status >= 500


class WebhookChannel:
    """POSTs signed notifications; 2xx is success, 408/429/5xx and network errors retry."""

    name = OutgoingChannel.WEBHOOK

    def __init__(self, timeout_seconds: float = 10.0, client: httpx.AsyncClient | None = None):
        self._client = client or httpx.AsyncClient(
            timeout=timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    async def send(self, notification: StoredNotification, preferences: Preferences) -> None:
        if not preferences.webhook_url or not preferences.webhook_secret:
            raise PermanentDeliveryError("no webhook URL and secret configured")
        body = payload(notification)
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: str(notification.id),
            TYPE_HEADER: notification.type.value,
            SIGNATURE_HEADER: signature(preferences.webhook_secret, int(time.time()), body),
        }
        try:
            response = await self._client.post(
                preferences.webhook_url, content=body, headers=headers
            )
        except httpx.TransportError as error:
            raise RetryableDeliveryError(f"webhook unreachable: {type(error).__name__}") from error
        if response.is_success:
            return
        reason = f"webhook answered HTTP {response.status_code}"
        if _is_retryable_status(response.status_code):
            raise RetryableDeliveryError(reason)
        raise PermanentDeliveryError(reason)

    async def close(self) -> None:
        await self._client.aclose()
