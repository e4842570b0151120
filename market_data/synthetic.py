"""Deterministic synthetic bars: seeded, with trends, volatility clustering and fat tails.

The series is a log-price random walk whose drift and volatility switch between regimes
lasting days to weeks (bull runs, sell-offs, quiet ranges), with hour-scale volatility
clustering, Student-t shocks (df 4) and, for equities, overnight gaps between sessions.
Each symbol has a realistic starting price, yearly volatility and traded volume
(``market_data.symbols``). The same (symbol, interval, start, end, seed) always gives
the same bars, on any machine: the random stream is derived from a SHA-256 of them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import numpy as np

from market_data.bars import Bars
from market_data.intervals import Interval
from market_data.sessions import bar_open_times, bars_per_year
from market_data.symbols import AssetClass, SymbolProfile, profile_of

_MEAN_REGIME_DAYS = 20.0
_TREND_STRENGTH = 0.6  # yearly drift of a regime ~ N(0, strength x yearly volatility)
_REGIME_VOL_SPREAD = 0.35  # log-normal spread of a regime's volatility multiplier
_CLUSTER_VOL_SPREAD = 0.30  # hour-scale volatility clustering
_STUDENT_DF = 4.0


def synthetic_bars(
    symbol: str, interval: Interval, start: datetime, end: datetime, seed: int = 0
) -> Bars:
    """Generate the bars of ``symbol`` opening in [start, end) (see the module docstring)."""
    profile = profile_of(symbol)
    stamps = bar_open_times(profile.asset_class, interval, start, end)
    rng = np.random.default_rng(_seed_of(profile.symbol, interval, stamps, seed))
    return _generate(profile, interval, stamps, rng)


def _seed_of(symbol: str, interval: Interval, stamps: np.ndarray, seed: int) -> int:
    first = int(stamps[0]) if len(stamps) else 0
    key = f"{symbol}|{interval.value}|{first}|{len(stamps)}|{seed}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little")


def _generate(
    profile: SymbolProfile, interval: Interval, stamps: np.ndarray, rng: np.random.Generator
) -> Bars:
    n = len(stamps)
    if n == 0:
        return Bars.empty(profile.symbol, interval)
    per_year = bars_per_year(profile.asset_class, interval)
    base_sigma = profile.annual_volatility / np.sqrt(per_year)
    drift, sigma = _regimes(profile, per_year, base_sigma, n, rng)
    sigma *= _clustering(interval, n, rng)
    shocks = rng.standard_t(_STUDENT_DF, n) / np.sqrt(_STUDENT_DF / (_STUDENT_DF - 2.0))
    body = drift + sigma * shocks  # no -sigma^2/2 drag: the median path stays level
    gaps = _session_gaps(profile, interval, stamps, base_sigma, rng)
    log_close = np.log(profile.start_price) + np.cumsum(body + gaps)
    close = np.exp(log_close)
    open_ = np.exp(log_close - body)
    del log_close, gaps, shocks, drift
    wick = 0.5 * sigma
    high = np.maximum(open_, close) * np.exp(wick * np.abs(rng.standard_normal(n)))
    low = np.minimum(open_, close) * np.exp(-wick * np.abs(rng.standard_normal(n)))
    open_, high, low, close = _to_ticks(open_, high, low, close)
    volume = _volume(profile, per_year, body, sigma, rng)
    return Bars(profile.symbol, interval, stamps, open_, high, low, close, volume)


def _regimes(
    profile: SymbolProfile, per_year: float, base_sigma: float, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Per-bar drift and volatility, constant within regimes of random length."""
    mean_len = max(1.0, _MEAN_REGIME_DAYS * per_year / 365.0)
    lengths: list[np.ndarray] = []
    total = 0
    while total < n:
        chunk = np.maximum(1, rng.exponential(mean_len, 64)).astype(np.int64)
        lengths.append(chunk)
        total += int(chunk.sum())
    run = np.concatenate(lengths)
    run = run[: int(np.searchsorted(np.cumsum(run), n)) + 1]
    run[-1] -= int(run.sum()) - n
    yearly_drift = rng.normal(0.0, _TREND_STRENGTH * profile.annual_volatility, len(run))
    vol_multiplier = np.exp(rng.normal(0.0, _REGIME_VOL_SPREAD, len(run)))
    drift = np.repeat(yearly_drift / per_year, run)
    sigma = np.repeat(base_sigma * vol_multiplier, run)
    return drift, sigma


def _clustering(interval: Interval, n: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth log-normal multiplier (hour-scale memory) that makes calm and busy spells."""
    per_hour = max(1, 60 // interval.minutes)
    hours = n // per_hour + 2
    kernel = np.exp(-np.arange(96) / 12.0)
    kernel /= np.sqrt(np.sum(kernel * kernel))
    smooth = np.convolve(rng.standard_normal(hours + len(kernel)), kernel, "valid")[:hours]
    factor = np.exp(_CLUSTER_VOL_SPREAD * smooth - 0.5 * _CLUSTER_VOL_SPREAD**2)
    return np.repeat(factor, per_hour)[:n]


def _session_gaps(
    profile: SymbolProfile,
    interval: Interval,
    stamps: np.ndarray,
    base_sigma: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Overnight gaps at each equity session's first bar (zero for 24/7 crypto)."""
    gaps = np.zeros(len(stamps))
    if profile.asset_class is AssetClass.CRYPTO or interval is Interval.D1 or len(stamps) < 2:
        return gaps
    new_session = np.flatnonzero(np.diff(stamps) > interval.nanoseconds) + 1
    daily_sigma = profile.annual_volatility / np.sqrt(252.0)
    gaps[new_session] = rng.normal(0.0, 0.4 * daily_sigma, len(new_session))
    return gaps


def _to_ticks(*prices: np.ndarray) -> tuple[np.ndarray, ...]:
    """Round to the tick (a cent above $1, 1e-5 below) keeping high/low outside open/close."""
    open_, high, low, close = prices
    tick = 0.01 if float(close[0]) >= 1.0 else 1e-5
    open_, high, low, close = (np.round(p / tick) * tick for p in prices)
    floor = tick
    open_ = np.maximum(open_, floor)
    close = np.maximum(close, floor)
    high = np.maximum(high, np.maximum(open_, close))
    low = np.maximum(np.minimum(low, np.minimum(open_, close)), floor)
    return open_, high, low, close


def _volume(
    profile: SymbolProfile,
    per_year: float,
    body: np.ndarray,
    sigma: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Traded base units per bar: log-normal, busier when the bar moves more."""
    per_day = per_year / (365.0 if profile.asset_class is AssetClass.CRYPTO else 252.0)
    mean = profile.volume_per_day / per_day
    activity = 0.6 + 0.4 * np.abs(body) / sigma
    volume = mean * activity * np.exp(rng.normal(-0.125, 0.5, len(body)))
    step = 1e-4 if profile.asset_class is AssetClass.CRYPTO else 1.0
    return np.maximum(np.round(volume / step) * step, step)
