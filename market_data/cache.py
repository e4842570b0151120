"""A cache of loaded bars, keyed by everything that determines them.

``BarCache`` is the interface (the backtest service may back it with its market data
table); ``MemoryBarCache`` is a small in-process LRU.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Protocol

from market_data.bars import Bars


@dataclass(frozen=True, slots=True)
class BarKey:
    """Identifies one load: same key, same bars."""

    source: str
    symbol: str
    interval: str
    start_ns: int
    end_ns: int
    seed: int = 0
    path: str = ""


class BarCache(Protocol):
    def get(self, key: BarKey) -> Bars | None: ...

    def put(self, key: BarKey, bars: Bars) -> None: ...


class MemoryBarCache:
    """Keeps the ``max_entries`` most recently used loads (thread-safe)."""

    def __init__(self, max_entries: int = 8):
        self._entries: OrderedDict[BarKey, Bars] = OrderedDict()
        self._max_entries = max_entries
        self._lock = Lock()

    def get(self, key: BarKey) -> Bars | None:
        with self._lock:
            bars = self._entries.get(key)
            if bars is not None:
                self._entries.move_to_end(key)
            return bars

    def put(self, key: BarKey, bars: Bars) -> None:
        with self._lock:
            self._entries[key] = bars
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
