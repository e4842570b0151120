"""Finding the next bar where a resting order can trade, without a Python loop per bar.

``CrossScanner`` keeps the lowest low and highest high of each block of bars; a search
first skips whole blocks whose range cannot reach either price, then looks inside the
first block that can. The answer is exactly the first bar a bar-by-bar loop would find.
"""

from __future__ import annotations

import numpy as np

_FIRST_CHUNK = 32
_MAX_CHUNK = 1 << 15
BLOCK = 256


def first_cross(
    low: np.ndarray,
    high: np.ndarray,
    start: int,
    stop: int,
    buy_at: float,
    sell_at: float,
    close: np.ndarray | None = None,
    close_above: float = np.inf,
) -> int:
    """First i in [start, stop) with low[i] <= buy_at, high[i] >= sell_at or
    close[i] > close_above; else ``stop``.

    Scans in chunks that grow geometrically, so a near hit costs one small numpy call.
    """
    size = _FIRST_CHUNK
    watch_buy = buy_at > -np.inf
    watch_sell = sell_at < np.inf
    watch_close = close is not None and close_above < np.inf
    if not (watch_buy or watch_sell or watch_close):
        return stop
    while start < stop:
        end = min(start + size, stop)
        hits = low[start:end] <= buy_at
        if watch_sell:
            hits |= high[start:end] >= sell_at
        if watch_close:
            hits |= close[start:end] > close_above  # type: ignore[index]
        k = int(hits.argmax())
        if hits[k]:
            return start + k
        start = end
        size = min(size * 4, _MAX_CHUNK)
    return stop


class CrossScanner:
    def __init__(self, low: np.ndarray, high: np.ndarray, close: np.ndarray | None = None):
        self.low = low
        self.high = high
        self.close = close if close is not None else high
        blocks = len(low) // BLOCK
        shape = (blocks, BLOCK)
        self.block_low = low[: blocks * BLOCK].reshape(shape).min(axis=1)
        self.block_high = high[: blocks * BLOCK].reshape(shape).max(axis=1)
        self.block_close = self.close[: blocks * BLOCK].reshape(shape).max(axis=1)

    def next_cross(
        self, start: int, stop: int, buy_at: float, sell_at: float, close_above: float = np.inf
    ) -> int:
        """Same answer as ``first_cross`` over the whole arrays."""
        if not (buy_at > -np.inf or sell_at < np.inf or close_above < np.inf):
            return stop
        low, high, close = self.low, self.high, self.close
        levels = (buy_at, sell_at, close, close_above)
        head_end = min(stop, -(-start // BLOCK) * BLOCK)
        hit = first_cross(low, high, start, head_end, *levels)
        if hit < head_end:
            return hit
        first_block, last_block = head_end // BLOCK, stop // BLOCK
        if first_block < last_block:
            block = first_cross(
                self.block_low,
                self.block_high,
                first_block,
                last_block,
                buy_at,
                sell_at,
                self.block_close,
                close_above,
            )
            if block < last_block:
                begin = block * BLOCK
                return first_cross(low, high, begin, begin + BLOCK, *levels)
        return first_cross(low, high, max(head_end, last_block * BLOCK), stop, *levels)
