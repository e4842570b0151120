"""The ledger batcher: a call that finds the ledger idle goes straight through; calls that
find it busy go together in one round trip, in arrival order, once the batch has lingered
or is full; a caller giving up hurts nobody."""

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from risk_service.engine import LedgerEntry, LedgerResult
from risk_service.ledger import LedgerBatcher


class GatedStore:
    """Answers each round trip once released; remembers the batches it was given."""

    def __init__(self):
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()

    async def reserve_orders(self, entries, connection=None):
        self.batches.append([e.client_order_id for e in entries])
        await self.gate.wait()
        return [LedgerResult(i, i, False, e.reserve) for i, e in enumerate(entries)]


def _entry(client_order_id: str) -> LedgerEntry:
    return LedgerEntry(
        user_id=uuid.uuid4(),
        strategy_id=uuid.uuid4(),
        client_order_id=client_order_id,
        symbol="AAPL",
        side="buy",
        quantity=Decimal(1),
        notional=Decimal(150),
        now=dt.datetime.now(dt.UTC),
        reserve=True,
        max_per_minute=None,
        max_per_day=None,
    )


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_reserve_when_slots_busy_sends_the_waiting_calls_as_one_batch_in_order():
    store = GatedStore()
    batcher = LedgerBatcher(store, max_in_flight=1)  # type: ignore[arg-type]
    first = asyncio.create_task(batcher.reserve(_entry("a")))
    await _settle()
    waiting = [asyncio.create_task(batcher.reserve(_entry(name))) for name in "bcd"]
    await _settle()
    assert store.batches == [["a"]]
    store.gate.set()
    results = await asyncio.gather(first, *waiting)
    assert store.batches == [["a"], ["b", "c", "d"]]
    # Each caller gets its own answer: the position of its entry in its batch.
    assert [r.orders_today for r in results] == [0, 0, 1, 2]


async def test_reserve_when_lone_caller_gives_up_later_calls_still_answer():
    store = GatedStore()
    batcher = LedgerBatcher(store, max_in_flight=1)  # type: ignore[arg-type]
    lone = asyncio.create_task(batcher.reserve(_entry("a")))
    await _settle()
    lone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await lone
    store.gate.set()
    result = await asyncio.wait_for(batcher.reserve(_entry("b")), 1)
    assert result.reserved
    assert store.batches == [["a"], ["b"]]


async def test_reserve_when_queued_caller_gives_up_the_rest_of_its_batch_is_answered():
    store = GatedStore()
    batcher = LedgerBatcher(store, max_in_flight=1)  # type: ignore[arg-type]
    first = asyncio.create_task(batcher.reserve(_entry("a")))
    await _settle()
    leaving, staying = (asyncio.create_task(batcher.reserve(_entry(n))) for n in "bc")
    await _settle()
    store.gate.set()
    await asyncio.sleep(0)
    leaving.cancel()
    assert (await asyncio.wait_for(staying, 1)).reserved
    assert (await first).reserved
    # The batch went out whole: the departed caller's entry was still asked about.
    assert store.batches == [["a"], ["b", "c"]]


async def test_reserve_when_round_trip_fails_every_caller_of_the_batch_sees_the_error():
    class FailingStore(GatedStore):
        async def reserve_orders(self, entries, connection=None):
            await super().reserve_orders(entries, connection)
            raise ConnectionError("database went away")

    store = FailingStore()
    batcher = LedgerBatcher(store, max_in_flight=1)  # type: ignore[arg-type]
    calls = [asyncio.create_task(batcher.reserve(_entry(n))) for n in "abc"]
    await _settle()
    store.gate.set()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(o, ConnectionError) for o in outcomes)
    assert store.batches == [["a"], ["b", "c"]]


async def test_reserve_when_ledger_idle_goes_at_once_without_lingering():
    store = GatedStore()
    store.gate.set()
    batcher = LedgerBatcher(store, linger=3600)  # type: ignore[arg-type]
    for name in "abc":  # sequential calls: each finds the ledger idle
        assert (await asyncio.wait_for(batcher.reserve(_entry(name)), 1)).reserved
    assert store.batches == [["a"], ["b"], ["c"]]


async def test_reserve_when_ledger_busy_the_batch_waits_its_linger_then_leaves_whole():
    store = GatedStore()
    batcher = LedgerBatcher(store, linger=0.2, max_in_flight=2)  # type: ignore[arg-type]
    first = asyncio.create_task(batcher.reserve(_entry("a")))
    await _settle()
    waiting = [asyncio.create_task(batcher.reserve(_entry(name))) for name in "bc"]
    await _settle()
    store.gate.set()
    assert (await first).reserved
    await _settle()
    # A slot is free and the ledger answered "a", but "b" and "c" are still lingering.
    assert store.batches == [["a"]]
    assert all(r.reserved for r in await asyncio.wait_for(asyncio.gather(*waiting), 5))
    assert store.batches == [["a"], ["b", "c"]]


async def test_reserve_when_batch_fills_it_leaves_without_waiting_for_its_linger():
    store = GatedStore()
    batcher = LedgerBatcher(store, linger=3600, max_batch=3, max_in_flight=2)  # type: ignore[arg-type]
    first = asyncio.create_task(batcher.reserve(_entry("a")))
    await _settle()
    waiting = [asyncio.create_task(batcher.reserve(_entry(name))) for name in "bcde"]
    await _settle()
    # "a" still holds one slot; the full batch took the other; "e" opened the next batch.
    assert store.batches == [["a"], ["b", "c", "d"]]
    store.gate.set()
    await asyncio.wait_for(asyncio.gather(first, *waiting[:3]), 1)
    assert not waiting[3].done()
    waiting[3].cancel()
