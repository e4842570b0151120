"""Indicators, each in two forms that give bit-identical values.

The vectorised form (``sma_series``, ``rsi_series``) serves backtests over whole series;
the incremental form (``SmaState``, ``RsiState``) serves a live bot bar by bar. Both do the
same float operations in the same order, so a live bot and a backtest on the same bars
see exactly the same numbers (tested bit for bit).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np


def sma_series(close: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average; NaN for the first ``period - 1`` bars.

    Computed from a running sum from the first bar (sequential, like ``SmaState``):
    sma[i] = (S[i+1] - S[i+1-period]) / period with S[0] = 0.
    """
    totals = np.empty(len(close) + 1)
    totals[0] = 0.0
    np.cumsum(close, out=totals[1:])
    out = np.full(len(close), np.nan)
    if len(close) >= period:
        out[period - 1 :] = (totals[period:] - totals[: len(close) + 1 - period]) / period
    return out


class SmaState:
    """Incremental simple moving average (see ``sma_series``)."""

    __slots__ = ("_period", "_total", "_totals")

    def __init__(self, period: int):
        self._period = period
        self._total = 0.0
        self._totals: deque[float] = deque([0.0], maxlen=period + 1)

    def update(self, close: float) -> float:
        self._total += close
        self._totals.append(self._total)
        if len(self._totals) <= self._period:
            return math.nan
        return (self._total - self._totals[0]) / self._period


def rsi_series(close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's RSI (0..100); NaN for the first ``period`` bars.

    The first averages are plain means of the first ``period`` gains and losses; then
    avg = (avg * (period - 1) + value) / period. RSI is 100 when there are no losses
    and 50 when the price has not moved at all.
    """
    n = len(close)
    out = np.full(n, np.nan)
    if n <= period:
        return out
    values = close.tolist()
    # The loop inlines RsiState.update (same operations, same order) for speed.
    previous = values[0]
    gain_sum = loss_sum = 0.0
    for i in range(1, period + 1):
        change = values[i] - previous
        previous = values[i]
        if change > 0:
            gain_sum += change
        else:
            loss_sum -= change
    avg_gain = gain_sum / period
    avg_loss = loss_sum / period
    result = out.tolist()
    result[period] = _rsi(avg_gain, avg_loss)
    keep = period - 1
    for i in range(period + 1, n):
        change = values[i] - previous
        previous = values[i]
        if change > 0:
            avg_gain = (avg_gain * keep + change) / period
            avg_loss = (avg_loss * keep + 0.0) / period
        else:
            avg_gain = (avg_gain * keep + 0.0) / period
            avg_loss = (avg_loss * keep - change) / period
        result[i] = _rsi(avg_gain, avg_loss)
    return np.asarray(result, dtype=np.float64)


class RsiState:
    """Incremental Wilder RSI (see ``rsi_series``)."""

    __slots__ = ("_avg_gain", "_avg_loss", "_count", "_period", "_previous")

    def __init__(self, period: int):
        self._period = period
        self._count = 0
        self._previous = math.nan
        self._avg_gain = 0.0
        self._avg_loss = 0.0

    def update(self, close: float) -> float:
        count = self._count
        self._count = count + 1
        if count == 0:
            self._previous = close
            return math.nan
        change = close - self._previous
        self._previous = close
        period = self._period
        if count <= period:  # still summing the first ``period`` changes
            if change > 0:
                self._avg_gain += change
            else:
                self._avg_loss -= change
            if count < period:
                return math.nan
            self._avg_gain /= period
            self._avg_loss /= period
            return _rsi(self._avg_gain, self._avg_loss)
        keep = period - 1
        if change > 0:
            self._avg_gain = (self._avg_gain * keep + change) / period
            self._avg_loss = (self._avg_loss * keep + 0.0) / period
        else:
            self._avg_gain = (self._avg_gain * keep + 0.0) / period
            self._avg_loss = (self._avg_loss * keep - change) / period
        return _rsi(self._avg_gain, self._avg_loss)


def _rsi(avg_gain: float, avg_loss: float) -> float:
    if avg_loss == 0.0:
        return 50.0 if avg_gain == 0.0 else 100.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
