"""UnreadCountCache on its own: what it keeps, forgets, and never trusts."""

from __future__ import annotations

import asyncio
import uuid

from notification_service.unread_cache import UnreadCountCache


class CountingDatabase:
    """Stands in for the store's read: counts reads, can hold one until released."""

    def __init__(self, counts: dict[uuid.UUID, int]):
        self.counts = counts
        self.reads = 0
        self.gate: asyncio.Event | None = None

    async def read(self, user_id: uuid.UUID) -> int:
        self.reads += 1
        value = self.counts.get(user_id, 0)  # read now: the snapshot of this moment
        if self.gate is not None:
            await self.gate.wait()
        return value


def trusted_cache(max_users: int = 10) -> UnreadCountCache:
    cache = UnreadCountCache(max_users=max_users)
    cache.feed_connected()
    return cache


async def test_unread_count_when_cached_reads_database_once():
    user = uuid.uuid4()
    database = CountingDatabase({user: 3})
    cache = trusted_cache()
    assert [await cache.unread_count(user, database.read) for _ in range(3)] == [3, 3, 3]
    assert database.reads == 1


async def test_unread_count_when_invalidated_reads_database_again():
    user = uuid.uuid4()
    database = CountingDatabase({user: 3})
    cache = trusted_cache()
    await cache.unread_count(user, database.read)
    database.counts[user] = 4
    cache.invalidate(user)
    assert await cache.unread_count(user, database.read) == 4


async def test_unread_count_when_feed_not_listening_always_reads_database():
    user = uuid.uuid4()
    database = CountingDatabase({user: 1})
    cache = UnreadCountCache(max_users=10)  # never connected
    await cache.unread_count(user, database.read)
    await cache.unread_count(user, database.read)
    cache.feed_connected()
    await cache.unread_count(user, database.read)
    cache.feed_lost()
    await cache.unread_count(user, database.read)
    assert database.reads == 4
    assert len(cache) == 0


async def test_feed_connected_when_entries_cached_starts_empty():
    user = uuid.uuid4()
    database = CountingDatabase({user: 1})
    cache = trusted_cache()
    await cache.unread_count(user, database.read)
    cache.feed_connected()
    assert len(cache) == 0


async def test_unread_count_when_invalidated_during_load_does_not_keep_old_count():
    user = uuid.uuid4()
    database = CountingDatabase({user: 5})
    database.gate = asyncio.Event()
    cache = trusted_cache()
    load = asyncio.create_task(cache.unread_count(user, database.read))
    await asyncio.sleep(0)  # the load has read 5 and waits
    database.counts[user] = 6
    cache.invalidate(user)  # the change is announced before the load finishes
    database.gate.set()
    assert await load == 5  # the caller gets what it read...
    database.gate = None
    assert await cache.unread_count(user, database.read) == 6  # ...but it was not kept


async def test_unread_count_when_more_users_than_bound_evicts_least_recently_used():
    users = [uuid.uuid4() for _ in range(3)]
    database = CountingDatabase(dict.fromkeys(users, 1))
    cache = trusted_cache(max_users=2)
    await cache.unread_count(users[0], database.read)
    await cache.unread_count(users[1], database.read)
    await cache.unread_count(users[0], database.read)  # users[0] is now the most recent
    await cache.unread_count(users[2], database.read)  # evicts users[1]
    reads = database.reads
    await cache.unread_count(users[0], database.read)
    await cache.unread_count(users[2], database.read)
    assert database.reads == reads
    await cache.unread_count(users[1], database.read)
    assert database.reads == reads + 1
    assert len(cache) == 2


async def test_unread_count_when_bound_is_zero_never_caches():
    user = uuid.uuid4()
    database = CountingDatabase({user: 1})
    cache = trusted_cache(max_users=0)
    await cache.unread_count(user, database.read)
    await cache.unread_count(user, database.read)
    assert database.reads == 2
