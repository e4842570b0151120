"""Aggregate finer bars into a coarser interval (e.g. 1m file -> 15m backtest)."""

from __future__ import annotations

import numpy as np

from market_data.bars import Bars
from market_data.intervals import Interval


def resample(bars: Bars, interval: Interval) -> Bars:
    """OHLCV of each ``interval`` bucket (aligned to the epoch; 1d = UTC days).

    Only buckets that contain at least one bar are returned; the open time of a bucket is
    its aligned start, so 09:30 equity sessions resampled to 1h open at 09:00 local.
    """
    if interval.minutes < bars.interval.minutes:
        raise ValueError(f"cannot resample {bars.interval} bars into finer {interval} bars")
    if interval is bars.interval or len(bars) == 0:
        return bars
    bucket = bars.timestamps // interval.nanoseconds
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(bars)] - 1
    volume = np.add.reduceat(np.nan_to_num(bars.volume), starts)
    if np.isnan(bars.volume).all():
        volume = np.full(len(starts), np.nan)
    return Bars(
        bars.symbol,
        interval,
        bucket[starts] * interval.nanoseconds,
        bars.open[starts],
        np.maximum.reduceat(bars.high, starts),
        np.minimum.reduceat(bars.low, starts),
        bars.close[ends],
        volume,
    )
