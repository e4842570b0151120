"""The synthetic source: deterministic for a seed, believable, with the right calendars."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from market_data import Interval, synthetic_bars

START, END = datetime(2024, 1, 1), datetime(2024, 3, 1)


def test_synthetic_bars_when_called_twice_with_a_seed_are_identical():
    first = synthetic_bars("BTC/USD", Interval.M5, START, END, seed=42)
    second = synthetic_bars("BTC/USD", Interval.M5, START, END, seed=42)
    for name in ("timestamps", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(first, name), getattr(second, name))


def test_synthetic_bars_when_seed_differs_are_different():
    first = synthetic_bars("BTC/USD", Interval.M5, START, END, seed=1)
    second = synthetic_bars("BTC/USD", Interval.M5, START, END, seed=2)
    assert not np.array_equal(first.close, second.close)


def test_synthetic_bars_when_generated_are_consistent_ohlcv():
    bars = synthetic_bars("ETH/USD", Interval.M1, START, END, seed=3)
    assert len(bars) == 60 * 24 * 60  # 60 days of 24/7 minutes
    assert np.all(bars.high >= np.maximum(bars.open, bars.close))
    assert np.all(bars.low <= np.minimum(bars.open, bars.close))
    assert np.all(bars.low > 0) and np.all(bars.volume > 0)
    assert np.all(np.diff(bars.timestamps) == Interval.M1.nanoseconds)


def test_synthetic_bars_when_crypto_have_crypto_like_volatility_and_regimes():
    bars = synthetic_bars("BTC/USD", Interval.H1, datetime(2022, 1, 1), datetime(2024, 1, 1), 5)
    returns = np.diff(np.log(bars.close))
    yearly = returns.std() * np.sqrt(365 * 24)
    assert 0.4 < yearly < 1.2  # BTC's realised volatility has lived in this band
    kurtosis = ((returns - returns.mean()) ** 4).mean() / returns.var() ** 2
    assert kurtosis > 3.5  # fat tails


def test_synthetic_bars_when_equity_follow_new_york_sessions():
    bars = synthetic_bars("AAPL", Interval.M15, datetime(2024, 3, 4), datetime(2024, 3, 16))
    local = pd.DatetimeIndex(pd.to_datetime(bars.timestamps, utc=True)).tz_convert(
        "America/New_York"
    )
    assert set(local.dayofweek) == {0, 1, 2, 3, 4}
    minutes = local.hour * 60 + local.minute
    assert minutes.min() == 9 * 60 + 30 and minutes.max() == 15 * 60 + 45
    assert len(bars) == 10 * 26  # ten sessions of 26 quarter hours (across the DST switch)


def test_synthetic_bars_when_daily_equity_has_one_bar_per_weekday():
    bars = synthetic_bars("SPY", Interval.D1, datetime(2024, 1, 1), datetime(2024, 1, 8))
    assert len(bars) == 5
    assert bars.close[0] == pytest.approx(450, rel=0.1)
