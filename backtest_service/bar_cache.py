"""Bars cache for the engine: in memory for every source, in ``market_data_cache`` for
remote ones (Alpaca), so a rerun on any replica does not fetch the same bars again.

Synthetic bars are regenerated faster than they are read back, so they stay in memory
only. ``get``/``put`` are called from worker threads; the queries run on the service's
event loop through its pool.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging

import asyncpg
import numpy as np

from market_data import BarKey, Bars, Interval, MemoryBarCache

log = logging.getLogger("backtest_service.bar_cache")

STORED_SOURCES = frozenset({"alpaca"})
ENCODING = "npz-v1"
_COLUMNS = ("timestamps", "open", "high", "low", "close", "volume")
_TIMEOUT_SECONDS = 30.0


def encode_bars(bars: Bars) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{name: getattr(bars, name) for name in _COLUMNS})
    return buffer.getvalue()


def decode_bars(data: bytes, symbol: str, interval: str) -> Bars:
    with np.load(io.BytesIO(data)) as arrays:
        return Bars(symbol, Interval(interval), *(arrays[name] for name in _COLUMNS))


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _utc(ns: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=ns // 1000)


class DatabaseBarCache:
    """A ``market_data.BarCache`` over memory and the market_data_cache table."""

    def __init__(
        self, pool: asyncpg.Pool, loop: asyncio.AbstractEventLoop, memory_entries: int = 4
    ):
        self._pool = pool
        self._loop = loop
        self._memory = MemoryBarCache(memory_entries)

    def get(self, key: BarKey) -> Bars | None:
        bars = self._memory.get(key)
        if bars is None and key.source in STORED_SOURCES:
            bars = self._on_loop(self._read(key))
            if bars is not None:
                self._memory.put(key, bars)
        return bars

    def put(self, key: BarKey, bars: Bars) -> None:
        self._memory.put(key, bars)
        if key.source in STORED_SOURCES:
            self._on_loop(self._write(key, bars))

    def _on_loop(self, coroutine):
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(_TIMEOUT_SECONDS)
        except Exception as error:
            # A cache that cannot be reached is a miss, never a failed backtest.
            log.warning("bars cache unavailable: %s", error)
            return None

    async def _read(self, key: BarKey) -> Bars | None:
        data = await self._pool.fetchval(
            """
            select bars from public.market_data_cache
             where source = $1 and symbol = $2 and timeframe = $3 and start_at = $4
               and end_at = $5 and encoding = $6
            """,
            key.source,
            key.symbol,
            key.interval,
            _utc(key.start_ns),
            _utc(key.end_ns),
            ENCODING,
        )
        return decode_bars(data, key.symbol, key.interval) if data is not None else None

    async def _write(self, key: BarKey, bars: Bars) -> None:
        await self._pool.execute(
            """
            insert into public.market_data_cache
                (source, symbol, timeframe, start_at, end_at, bar_count, bars, encoding)
            values ($1, $2, $3, $4, $5, $6, $7, $8)
            on conflict (source, symbol, timeframe, start_at, end_at)
            do update set bars = excluded.bars, bar_count = excluded.bar_count,
                          encoding = excluded.encoding, created_at = now()
            """,
            key.source,
            key.symbol,
            key.interval,
            _utc(key.start_ns),
            _utc(key.end_ns),
            len(bars),
            encode_bars(bars),
            ENCODING,
        )
