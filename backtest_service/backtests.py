"""Backtest jobs as a user sees them: submit (with quotas), get, list, cancel, watch.

No grpc here: ``service`` turns requests into these calls and records into messages.
Every read or write of a user's jobs runs in ``user_transaction`` (RLS decides what the
user sees); the worker side lives in ``jobs`` and ``worker``.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg

from backtest_service import quotas, store
from backtest_service.progress import TERMINAL_STATUSES, ProgressEvent, ProgressHub
from servicekit.db.rls import user_transaction
from servicekit.errors import InvalidArgument, NotFound

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

TierLookup = Callable[[uuid.UUID], Awaitable[str | None]]


def page_size(requested: int) -> int:
    """A page size within bounds (0 = the default)."""
    if requested < 0:
        raise InvalidArgument("page.limit", "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_cursor(completed_at: dt.datetime, backtest_id: uuid.UUID) -> str:
    raw = f"{completed_at.isoformat()}|{backtest_id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        time_text, id_text = text.split("|")
        return dt.datetime.fromisoformat(time_text), uuid.UUID(id_text)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("page.cursor", "is not a cursor this service issued") from None


class BacktestJobs:
    """A user's backtests."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        hub: ProgressHub,
        tier_lookup: TierLookup,
        *,
        watch_poll_interval_seconds: float,
    ):
        self._pool = pool
        self._hub = hub
        self._tier_lookup = tier_lookup
        self._watch_poll_interval = watch_poll_interval_seconds

    async def tier_of(self, user_id: uuid.UUID, claimed_tier: str | None) -> str:
        """The user's tier: the risk service's answer; else the tier a trusted service
        caller sent; else the most restrictive tier."""
        tier = await self._tier_lookup(user_id)
        return tier or claimed_tier or quotas.FALLBACK_TIER

    async def submit(
        self, user_id: uuid.UUID, new: store.NewBacktest, *, tier: str
    ) -> asyncpg.Record:
        """Queue a backtest within the tier's limits; returns the queued row at once."""
        quotas.check_period(tier, new.start_at, new.end_at)
        async with user_transaction(self._pool, user_id) as conn:
            usage = await store.lock_usage(conn, user_id)
            quotas.check_usage(tier, usage, dt.datetime.now(dt.UTC))
            return await store.insert_backtest(conn, user_id, new)

    async def get(self, user_id: uuid.UUID, backtest_id: uuid.UUID) -> asyncpg.Record:
        async with user_transaction(self._pool, user_id) as conn:
            row = await store.get_backtest(conn, backtest_id)
        if row is None:
            raise NotFound(f"backtest {backtest_id} not found")
        return row

    async def list_completed(
        self,
        user_id: uuid.UUID,
        *,
        limit: int,
        cursor: str,
        strategy_id: uuid.UUID | None,
    ) -> tuple[list[asyncpg.Record], str]:
        """The recent completed backtests, newest first, and the next page's cursor."""
        size = page_size(limit)
        async with user_transaction(self._pool, user_id) as conn:
            rows = await store.list_recent_completed(
                conn,
                user_id,
                limit=size + 1,
                strategy_id=strategy_id,
                after=decode_cursor(cursor),
            )
        next_cursor = ""
        if len(rows) > size:
            rows = rows[:size]
            next_cursor = encode_cursor(rows[-1]["completed_at"], rows[-1]["id"])
        return rows, next_cursor

    async def cancel(self, user_id: uuid.UUID, backtest_id: uuid.UUID) -> asyncpg.Record:
        """Cancel an unfinished job (its worker notices at its next heartbeat and stops)
        and return the job as it now is, without curve and trades.

        Idempotent: a job already finished (completed, failed, or cancelled before) is
        returned unchanged, not refused. A job that completes just before the cancel
        arrives is the user's race, not their error; its status tells them the outcome.
        """
        async with user_transaction(self._pool, user_id) as conn:
            row = await store.get_backtest(conn, backtest_id, details=False)
            if row is None:
                raise NotFound(f"backtest {backtest_id} not found")
            if row["status"] in TERMINAL_STATUSES:
                return row
            # Conditioned on still being unfinished: if the worker finished it meanwhile,
            # nothing changes and the re-read shows the finished job.
            await store.cancel_backtest(conn, backtest_id)
            return await store.get_backtest(conn, backtest_id, details=False)

    async def watch(
        self, user_id: uuid.UUID, backtest_id: uuid.UUID
    ) -> AsyncIterator[ProgressEvent | asyncpg.Record]:
        """Progress events while the job is unfinished, then the final row (and stop)."""
        # Subscribe before the first read: an event between the two is not lost.
        async with self._hub.subscribe(backtest_id) as events:
            row = await self.get(user_id, backtest_id)
            last: tuple[str, float] | None = None
            while True:
                if row["status"] in TERMINAL_STATUSES:
                    yield row
                    return
                current = (row["status"], row["progress"])
                if current != last:
                    last = current
                    yield ProgressEvent(backtest_id, row["status"], row["progress"])
                event = await _next_event(events, self._watch_poll_interval)
                if event is not None and not event.is_terminal:
                    # Progress comes in the notification itself: no read needed.
                    row = {**row, "status": event.status, "progress": event.progress}
                else:
                    row = await self.get(user_id, backtest_id)


async def _next_event(events: asyncio.Queue, timeout: float) -> ProgressEvent | None:
    """The newest queued event, waiting up to ``timeout``; None on timeout."""
    try:
        event = await asyncio.wait_for(events.get(), timeout)
    except TimeoutError:
        return None
    while not events.empty():
        newer = events.get_nowait()
        # A terminal event must not be skipped over by a late progress one.
        event = newer if not event.is_terminal else event
    return event
