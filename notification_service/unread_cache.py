"""Per-process cache of users' unread counts, exact across replicas.

A user's count is read once from the database (under their RLS) and then served from
memory until something announces that it may have changed: every insert, mark-read,
delete or removal of a user's notification is announced on the live feed's Postgres
channel (triggers in the migration), whichever replica wrote it, and this replica's own
writes invalidate right after they commit. Entries are dropped, never adjusted, so the
next read goes back to the database.

The cache is only trusted while the live feed is listening: when the listening
connection is lost every entry is dropped and reads go straight to the database; when it
is back, the cache starts empty (announcements sent meanwhile were missed).

A read that started before an announcement may finish after it with a count from before
the change. Each load therefore holds a ticket; an invalidation of that user (or a change
of the feed's state) withdraws it, and a load whose ticket was withdrawn returns its
count to its caller without keeping it.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable

ReadCount = Callable[[uuid.UUID], Awaitable[int]]


class UnreadCountCache:
    """Bounded (least recently used) unread counts, invalidated by the change feed."""

    def __init__(self, *, max_users: int):
        self._max_users = max_users
        self._counts: OrderedDict[uuid.UUID, int] = OrderedDict()
        # Loads in flight: user -> the ticket of the most recent one.
        self._tickets: dict[uuid.UUID, object] = {}
        self._trusted = False

    @property
    def trusted(self) -> bool:
        """Whether counts are served from memory (the change feed is listening)."""
        return self._trusted

    def __len__(self) -> int:
        return len(self._counts)

    async def unread_count(self, user_id: uuid.UUID, read_count: ReadCount) -> int:
        """The user's unread count: from memory when known, else ``read_count(user_id)``.

        The caller must have authorized ``user_id`` already; ``read_count`` reads the
        database under the user's RLS.
        """
        cached = self._counts.get(user_id)
        if cached is not None:
            self._counts.move_to_end(user_id)
            return cached
        if not self._trusted or self._max_users <= 0:
            return await read_count(user_id)
        ticket = object()
        self._tickets[user_id] = ticket
        try:
            count = await read_count(user_id)
        finally:
            if self._tickets.get(user_id) is ticket:
                del self._tickets[user_id]
            else:
                ticket = None  # withdrawn meanwhile: the count may predate a change
        if ticket is not None and self._trusted:
            self._keep(user_id, count)
        return count

    def invalidate(self, user_id: uuid.UUID) -> None:
        """The user's count may have changed: forget it, and any load in flight."""
        self._counts.pop(user_id, None)
        self._tickets.pop(user_id, None)

    def feed_connected(self) -> None:
        """The change feed listens again: start empty, then trust announcements."""
        self._forget_all()
        self._trusted = True

    def feed_lost(self) -> None:
        """The change feed stopped listening: announcements may be missed; read the database."""
        self._trusted = False
        self._forget_all()

    def _keep(self, user_id: uuid.UUID, count: int) -> None:
        self._counts[user_id] = count
        self._counts.move_to_end(user_id)
        while len(self._counts) > self._max_users:
            self._counts.popitem(last=False)

    def _forget_all(self) -> None:
        self._counts.clear()
        self._tickets.clear()
