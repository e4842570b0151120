"""Watching jobs across replicas: one LISTEN connection per process, fanned out.

The backtests table's trigger sends ``pg_notify('backtest_progress', {id, status,
progress})`` whenever a job's status or progress changes, whichever replica's worker
wrote it. This process listens on one pooled connection and hands each event to the
watchers of that job. Watchers also re-read the row on a timer, so a notification lost
while the listening connection was being replaced only delays an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

log = logging.getLogger("backtest_service.progress")

CHANNEL = "backtest_progress"
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
_RECONNECT_DELAY_SECONDS = 1.0
_QUEUE_SIZE = 64


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    backtest_id: uuid.UUID
    status: str
    progress: float

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class ProgressHub:
    """Delivers ``backtest_progress`` notifications to in-process subscribers."""

    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool
        self._subscribers: dict[uuid.UUID, set[asyncio.Queue[ProgressEvent]]] = defaultdict(set)
        self.listening = asyncio.Event()

    async def run(self) -> None:
        """Hold a listening connection for the life of the process (reconnecting)."""
        while True:
            try:
                async with self._pool.acquire() as conn:
                    closed = asyncio.Event()
                    conn.add_termination_listener(lambda _conn, event=closed: event.set())
                    await conn.add_listener(CHANNEL, self._on_notification)
                    self.listening.set()
                    try:
                        await closed.wait()
                    finally:
                        self.listening.clear()
                        if not conn.is_closed():
                            await conn.remove_listener(CHANNEL, self._on_notification)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("progress listener lost its connection: %s", error)
            await asyncio.sleep(_RECONNECT_DELAY_SECONDS)

    @contextlib.asynccontextmanager
    async def subscribe(self, backtest_id: uuid.UUID) -> AsyncIterator[asyncio.Queue]:
        """A queue of this job's events for as long as the block runs."""
        queue: asyncio.Queue[ProgressEvent] = asyncio.Queue(maxsize=_QUEUE_SIZE)
        self._subscribers[backtest_id].add(queue)
        try:
            yield queue
        finally:
            watchers = self._subscribers.get(backtest_id)
            if watchers is not None:
                watchers.discard(queue)
                if not watchers:
                    del self._subscribers[backtest_id]

    def _on_notification(self, _conn, _pid, _channel, payload: str) -> None:
        try:
            data = json.loads(payload)
            event = ProgressEvent(uuid.UUID(data["id"]), data["status"], float(data["progress"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed %s payload: %r", CHANNEL, payload[:200])
            return
        for queue in self._subscribers.get(event.backtest_id, ()):
            if queue.full():
                # A slow watcher only needs the newest progress; drop the oldest.
                queue.get_nowait()
            queue.put_nowait(event)
