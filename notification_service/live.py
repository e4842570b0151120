"""Live fan-out of stored notifications to subscribers, across replicas.

Every insert into ``user_notifications`` announces ``{"id", "user_id"}`` on the Postgres
channel ``user_notifications`` (a trigger in the migration), whichever replica stored it;
every other change of a user's unread count (read, deleted, removed) announces
``{"user_id"}``. Watchers (the unread-count cache) hear of every announced user and of
the connection coming and going.
Each process holds ONE listening connection and fans announcements out to its in-process
subscribers; the row itself is read once, under its owner's RLS, and handed to every
subscriber of that user. Announcements for users nobody here subscribed to cost nothing.

If the listening connection is lost, every subscription is closed with UNAVAILABLE (a
client reconnects and re-reads its feed, so nothing stored meanwhile goes unseen) and the
feed reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Protocol

import asyncpg

from notification_service.model import StoredNotification
from servicekit.errors import DomainError, ResourceExhausted, Unavailable

log = logging.getLogger("notification_service.live")

CHANNEL = "user_notifications"

LoadNotification = Callable[[uuid.UUID, uuid.UUID], Awaitable[StoredNotification | None]]


class ChangeWatcher(Protocol):
    """Told of every announced user and of the listening connection's state."""

    def invalidate(self, user_id: uuid.UUID) -> None: ...

    def feed_connected(self) -> None: ...

    def feed_lost(self) -> None: ...


class Subscription:
    """One subscriber's queue of new notifications (bounded: a stalled reader is dropped)."""

    def __init__(self, user_id: uuid.UUID, max_pending: int):
        self.user_id = user_id
        self._queue: asyncio.Queue[StoredNotification] = asyncio.Queue(max_pending)
        self._closed: DomainError | None = None
        self._closed_event = asyncio.Event()

    def offer(self, notification: StoredNotification) -> None:
        if self._closed is not None:
            return
        try:
            self._queue.put_nowait(notification)
        except asyncio.QueueFull:
            self.close(ResourceExhausted("the subscriber fell too far behind; re-subscribe"))

    def close(self, error: DomainError) -> None:
        if self._closed is None:
            self._closed = error
            self._closed_event.set()

    async def next(self, timeout: float) -> StoredNotification | None:
        """The next notification; None if none came within ``timeout``; raises once closed."""
        if self._closed is not None and self._queue.empty():
            raise self._closed
        if not self._queue.empty():
            return self._queue.get_nowait()
        getter = asyncio.ensure_future(self._queue.get())
        closer = asyncio.ensure_future(self._closed_event.wait())
        try:
            done, _ = await asyncio.wait(
                {getter, closer}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            closer.cancel()
            if not getter.done():
                getter.cancel()
        if getter in done:
            return getter.result()
        if self._closed is not None:
            raise self._closed
        return None


class LiveFeed:
    """One LISTEN connection per process, fanned out to that process's subscribers."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        load: LoadNotification,
        *,
        max_pending: int = 256,
        reconnect_delay: float = 1.0,
        probe_interval: float = 30.0,
        watchers: Iterable[ChangeWatcher] = (),
    ):
        self._pool = pool
        self._load = load
        self._max_pending = max_pending
        self._reconnect_delay = reconnect_delay
        self._probe_interval = probe_interval
        self._subscribers: dict[uuid.UUID, set[Subscription]] = {}
        self._announcements: asyncio.Queue[tuple[uuid.UUID, uuid.UUID]] = asyncio.Queue()
        self._listening = asyncio.Event()
        self._watchers = tuple(watchers)

    @property
    def subscriber_count(self) -> int:
        return sum(len(group) for group in self._subscribers.values())

    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: uuid.UUID) -> AsyncIterator[Subscription]:
        """Receive ``user_id``'s notifications stored from now on, until the block ends."""
        subscription = Subscription(user_id, self._max_pending)
        self._subscribers.setdefault(user_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            group = self._subscribers.get(user_id)
            if group is not None:
                group.discard(subscription)
                if not group:
                    del self._subscribers[user_id]

    async def wait_listening(self, timeout: float) -> None:
        """Return once announcements are being received; Unavailable after ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                await self._listening.wait()
        except TimeoutError:
            raise Unavailable("the live feed is not connected to the database yet") from None

    async def run(self) -> None:
        """Listen and fan out until cancelled (a background task of the service)."""
        fan_out = asyncio.create_task(self._fan_out(), name="live-fan-out")
        try:
            while True:
                try:
                    await self._listen_until_lost()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    log.warning("live feed connection failed: %s", error)
                self._close_all(Unavailable("the live feed lost its database connection"))
                await asyncio.sleep(self._reconnect_delay)
        finally:
            fan_out.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fan_out
            self._close_all(Unavailable("the service is shutting down"))

    async def _listen_until_lost(self) -> None:
        async with self._pool.acquire() as conn:
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _conn: self._lost(lost))
            await conn.add_listener(CHANNEL, self._on_announcement)
            for watcher in self._watchers:
                watcher.feed_connected()
            self._listening.set()
            log.info("live feed listening on %s", CHANNEL)
            try:
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._probe_interval):
                            await lost.wait()
                    if not lost.is_set():
                        # A silently dropped connection never reports itself: ask.
                        await conn.fetchval("select 1", timeout=5.0)
            finally:
                self._lost(lost)
                if not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.remove_listener(CHANNEL, self._on_announcement)

    def _lost(self, lost: asyncio.Event) -> None:
        # Called from the termination callback as well, so watchers stop trusting the
        # feed the moment the connection is known to be gone.
        lost.set()
        self._listening.clear()
        for watcher in self._watchers:
            watcher.feed_lost()

    def _on_announcement(self, _conn, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
            user_id = uuid.UUID(message["user_id"])
            notification_id = uuid.UUID(message["id"]) if "id" in message else None
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignored a malformed announcement: %r", payload[:200])
            return
        for watcher in self._watchers:
            watcher.invalidate(user_id)
        if notification_id is not None and user_id in self._subscribers:
            self._announcements.put_nowait((user_id, notification_id))

    async def _fan_out(self) -> None:
        # One reader, in announcement order, so a subscriber sees notifications in the
        # order they were stored.
        while True:
            user_id, notification_id = await self._announcements.get()
            if user_id not in self._subscribers:
                continue
            try:
                notification = await self._load(user_id, notification_id)
            except Exception:
                log.exception("reading announced notification %s failed", notification_id)
                continue
            if notification is None:
                continue
            for subscription in list(self._subscribers.get(user_id, ())):
                subscription.offer(notification)

    def _close_all(self, error: DomainError) -> None:
        for group in self._subscribers.values():
            for subscription in group:
                subscription.close(error)
