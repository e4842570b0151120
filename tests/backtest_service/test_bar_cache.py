"""The bars cache: remote-source bars survive in market_data_cache for every replica."""

from __future__ import annotations

import asyncio
import datetime as dt

import numpy as np

from backtest_service.bar_cache import DatabaseBarCache
from market_data import BarKey, Interval, synthetic_bars

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2024, 1, 3, tzinfo=dt.UTC)


def _key(source: str) -> BarKey:
    return BarKey(source, "BTC/USD", "1h", int(START.timestamp() * 1e9), int(END.timestamp() * 1e9))


async def test_put_when_source_is_alpaca_another_cache_reads_it_back_from_the_database(
    backtest_pool,
):
    bars = synthetic_bars("BTC/USD", Interval.H1, START, END, seed=3)
    loop = asyncio.get_running_loop()
    writer = DatabaseBarCache(backtest_pool, loop)
    await asyncio.to_thread(writer.put, _key("alpaca"), bars)

    reader = DatabaseBarCache(backtest_pool, loop)  # another replica: empty memory
    again = await asyncio.to_thread(reader.get, _key("alpaca"))

    assert again is not None and len(again) == len(bars)
    for column in ("timestamps", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(again, column), getattr(bars, column))
    stored = await backtest_pool.fetchval("select bar_count from public.market_data_cache")
    assert stored == len(bars)


async def test_put_when_source_is_synthetic_keeps_it_in_memory_only(backtest_pool):
    bars = synthetic_bars("BTC/USD", Interval.H1, START, END, seed=3)
    cache = DatabaseBarCache(backtest_pool, asyncio.get_running_loop())
    await asyncio.to_thread(cache.put, _key("synthetic"), bars)
    assert await asyncio.to_thread(cache.get, _key("synthetic")) is bars
    assert await backtest_pool.fetchval("select count(*) from public.market_data_cache") == 0
