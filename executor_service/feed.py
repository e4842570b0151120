"""The live feed: a fixed window of market data replayed bar by bar, in real time or faster.

Bar k of a strategy's feed is released at ``anchor + k x interval / speed`` (the anchor is
stored with the strategy), so a restarted executor resumes where it was, catching up on
the bars released while it was down (or, after a long downtime, moving the anchor). The
series is the deterministic synthetic one (the same one backtests use), cut to a fixed
window so every strategy on a symbol sees the same bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from market_data.bars import Bars
from market_data.intervals import Interval
from market_data.synthetic import synthetic_bars

FEED_START = datetime(2026, 1, 5, tzinfo=UTC)
FEED_BARS = 20_000


@dataclass(frozen=True)
class Bar:
    index: int
    at: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@lru_cache(maxsize=32)
def feed_bars(symbol: str, interval: Interval, seed: int) -> Bars:
    """The feed window of ``symbol`` (cached: every strategy on it shares one copy)."""
    end = FEED_START + timedelta(minutes=interval.minutes * FEED_BARS)
    return synthetic_bars(symbol, interval, FEED_START, end, seed)


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def bar_at(bars: Bars, index: int) -> Bar:
    return Bar(
        index=index,
        at=datetime.fromtimestamp(int(bars.timestamps[index]) / 1e9, tz=UTC),
        open=_decimal(bars.open[index]),
        high=_decimal(bars.high[index]),
        low=_decimal(bars.low[index]),
        close=_decimal(bars.close[index]),
        volume=_decimal(bars.volume[index])
        if bars.volume[index] == bars.volume[index]
        else Decimal(0),
    )


def release_time(anchor: datetime, index: int, interval: Interval, speed: float) -> datetime:
    """When bar ``index`` becomes available, for a feed whose bar 0 was released at ``anchor``."""
    return anchor + timedelta(seconds=index * interval.minutes * 60 / speed)


def index_of(bars: Bars, moment: datetime | None) -> int:
    """The index of the bar opening at ``moment`` (-1 for None: nothing processed yet)."""
    if moment is None:
        return -1
    target = int(moment.timestamp() * 1_000_000) * 1000
    import numpy as np

    return int(np.searchsorted(bars.timestamps, target))
