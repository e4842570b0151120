"""The one interface every outgoing channel implements, and how failures are classified.

A channel sends one stored notification to one user's destination. It reports failure
by raising: ``RetryableDeliveryError`` (temporary: the dispatcher retries with backoff)
or ``PermanentDeliveryError`` (retrying cannot help: the dispatcher gives up and records
why). Any other exception counts as temporary. Channels know nothing of each other, so one
failing never stops another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from notification_service.model import StoredNotification
from notification_service.preferences import OutgoingChannel, Preferences


class DeliveryError(Exception):
    """A delivery did not succeed; the message says why (it is recorded)."""


class RetryableDeliveryError(DeliveryError):
    """Temporary: the destination may accept it later (timeout, 5xx, 429, refused)."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help (4xx, no destination configured, address refused)."""


class Channel(Protocol):
    """An outgoing channel: webhook, email, ..."""

    name: OutgoingChannel

    async def send(self, notification: StoredNotification, preferences: Preferences) -> None:
        """Deliver ``notification`` to the destination in ``preferences``, or raise."""
        ...

    async def close(self) -> None:
        """Release connections (called once on shutdown)."""
        ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with a bound on attempts.

    Attempt n (1-based) failed -> wait ``base_delay * 2**(n-1)``, capped at ``max_delay``;
    after ``max_attempts`` attempts the delivery is given up and recorded as failed.
    """

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 300.0

    def delay_after(self, attempt: int) -> float:
        return min(self.base_delay * 2 ** max(attempt - 1, 0), self.max_delay)

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
