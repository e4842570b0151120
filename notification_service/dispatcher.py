"""Delivers queued notifications to outgoing channels, with retries, on every replica.

Deliveries are rows written with the notification (an outbox). Each replica runs one
dispatcher: it claims due rows with a lease (``FOR UPDATE SKIP LOCKED``, so replicas share
the work and a crashed one's claims come due again), sends each through its channel, and
records the outcome. Every delivery is isolated: a channel that fails or raises anything
at all affects only its own row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from notification_service.channels.base import (
    Channel,
    PermanentDeliveryError,
    RetryableDeliveryError,
    RetryPolicy,
)
from notification_service.preferences import OutgoingChannel
from notification_service.store import ClaimedDelivery, NotificationStore

log = logging.getLogger("notification_service.dispatcher")

MAX_ERROR_LENGTH = 500


class DeliveryDispatcher:
    """Claims due deliveries and sends them; woken on new work, else polls."""

    def __init__(
        self,
        store: NotificationStore,
        channels: Mapping[OutgoingChannel, Channel],
        retry: RetryPolicy,
        *,
        poll_interval: float = 2.0,
        batch_size: int = 20,
        lease_seconds: float = 60.0,
    ):
        self._store = store
        self._channels = dict(channels)
        self._retry = retry
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._lease_seconds = lease_seconds
        self._wake = asyncio.Event()
        # The soonest retry this dispatcher scheduled: sleep no longer than that.
        self._soonest_retry: float | None = None

    def wake(self) -> None:
        """New deliveries were queued: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Dispatch until cancelled (a background task of the service)."""
        while True:
            try:
                claimed = await self.dispatch_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("claiming deliveries failed; retrying after the poll interval")
                claimed = 0
            if claimed < self._batch_size:
                await self._sleep_until_woken()

    async def dispatch_due(self) -> int:
        """Claim one batch of due deliveries and send them concurrently; how many claimed."""
        claimed = await self._store.claim_due_deliveries(self._batch_size, self._lease_seconds)
        if claimed:
            await asyncio.gather(*(self._deliver(delivery) for delivery in claimed))
        return len(claimed)

    async def _sleep_until_woken(self) -> None:
        timeout = self._poll_interval
        if self._soonest_retry is not None:
            timeout = min(timeout, self._soonest_retry)
            self._soonest_retry = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        self._wake.clear()

    async def _deliver(self, delivery: ClaimedDelivery) -> None:
        try:
            await self._send(delivery)
        except PermanentDeliveryError as error:
            await self._give_up(delivery, str(error))
        except Exception as error:  # a temporary failure, or a channel's bug: retry
            reason = str(error) if isinstance(error, RetryableDeliveryError) else repr(error)
            if not isinstance(error, RetryableDeliveryError):
                log.exception("channel %s raised unexpectedly", delivery.channel.value)
            await self._retry_or_give_up(delivery, reason)
        else:
            await self._store.record_delivered(delivery.id)
            log.info(
                "delivered",
                extra={
                    "delivery_id": delivery.id,
                    "channel": delivery.channel.value,
                    "attempt": delivery.attempts,
                },
            )

    async def _send(self, delivery: ClaimedDelivery) -> None:
        channel = self._channels.get(delivery.channel)
        if channel is None:
            raise PermanentDeliveryError(
                f"the {delivery.channel.value} channel is not configured on this server"
            )
        notification, preferences = await self._store.delivery_context(delivery)
        if notification is None:
            raise PermanentDeliveryError("the notification no longer exists")
        if delivery.channel not in preferences.channels:
            raise PermanentDeliveryError(
                f"the user switched the {delivery.channel.value} channel off before it was sent"
            )
        await channel.send(notification, preferences)

    async def _retry_or_give_up(self, delivery: ClaimedDelivery, reason: str) -> None:
        if self._retry.exhausted(delivery.attempts):
            await self._give_up(delivery, f"gave up after {delivery.attempts} attempts: {reason}")
            return
        delay = self._retry.delay_after(delivery.attempts)
        await self._store.record_retry(delivery.id, reason[:MAX_ERROR_LENGTH], delay)
        self._soonest_retry = min(delay, self._soonest_retry or delay)
        log.info(
            "delivery will be retried",
            extra={
                "delivery_id": delivery.id,
                "channel": delivery.channel.value,
                "attempt": delivery.attempts,
                "retry_in_seconds": delay,
                "reason": reason,
            },
        )

    async def _give_up(self, delivery: ClaimedDelivery, reason: str) -> None:
        await self._store.record_failed(delivery.id, reason[:MAX_ERROR_LENGTH])
        log.warning(
            "delivery failed",
            extra={
                "delivery_id": delivery.id,
                "channel": delivery.channel.value,
                "attempt": delivery.attempts,
                "reason": reason,
            },
        )

    async def close(self) -> None:
        for channel in self._channels.values():
            try:
                await channel.close()
            except Exception:
                log.exception("closing channel %s failed", channel.name.value)
