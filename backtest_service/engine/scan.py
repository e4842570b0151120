"""Finding the next bar where a resting order can trade, without a Python loop per bar."""

from __future__ import annotations

import numpy as np

_FIRST_CHUNK = 32
_MAX_CHUNK = 1 << 15


def next_cross(
    low: np.ndarray, high: np.ndarray, start: int, stop: int, buy_at: float, sell_at: float
) -> int:
    """First i in [start, stop) with low[i] <= buy_at or high[i] >= sell_at, else ``stop``.

    Scans in chunks that grow geometrically, so a near event costs one small numpy call
    and a far one costs O(distance) vectorised work.
    """
    size = _FIRST_CHUNK
    watch_buy = buy_at > -np.inf
    watch_sell = sell_at < np.inf
    if not (watch_buy or watch_sell):
        return stop
    while start < stop:
        end = min(start + size, stop)
        if watch_buy:
            hits = low[start:end] <= buy_at
            if watch_sell:
                hits |= high[start:end] >= sell_at
        else:
            hits = high[start:end] >= sell_at
        k = int(hits.argmax())
        if hits[k]:
            return start + k
        start = end
        size = min(size * 4, _MAX_CHUNK)
    return stop
