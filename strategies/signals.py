"""What a strategy reads from the market at a bar's close, in two equivalent forms.

``SignalPlan`` is computed once over a whole series for a backtest (vectorised);
``LiveSignals`` computes the same values one bar at a time for a live bot. A ``BarView``
carries one bar plus those values to ``Strategy.on_bar``.

- ``signal``: +1 entry signal, -1 exit signal, 0 nothing (SMA crossover: fast crosses above
  / below slow; RSI: crosses down through the buy threshold / up through the sell one);
- ``entry_ok``: a level filter for new entries (DCA's optional RSI filter), else True;
- ``in_window``: the bar's close is inside the trade window;
- day starts: the first bar of each UTC day (the daily loss limit resets there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from market_data.bars import Bars
from strategies.indicators import RsiState, SmaState, rsi_series, sma_series
from strategies.window import NS_PER_DAY, WindowRule

ENTRY = 1
EXIT = -1


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """Which indicator drives a strategy (kind: "none", "sma", "rsi", "rsi_filter")."""

    kind: str = "none"
    fast: int = 0
    slow: int = 0
    rsi_period: int = 0
    buy_level: float = math.nan
    sell_level: float = math.nan


@dataclass(slots=True)
class BarView:
    """One closed bar as a strategy sees it at its close."""

    index: int
    timestamp: int  # open time, ns UTC
    open: float
    high: float
    low: float
    close: float
    volume: float
    signal: int
    entry_ok: bool
    in_window: bool


class SignalPlan:
    """Signals of a whole series, with fast "next bar where ..." look-ups for the engine."""

    def __init__(self, bars: Bars, spec: SignalSpec, window: WindowRule):
        n = len(bars)
        self.size = n
        self.signal, self.entry_ok = _vector_signals(bars.close, spec)
        close_times = bars.timestamps + bars.interval.nanoseconds
        self.in_window = window.mask(close_times)
        self.window_enabled = window.enabled
        days = bars.timestamps // NS_PER_DAY
        self.day_start = np.zeros(n, dtype=bool)
        self.day_start[1:] = days[1:] != days[:-1]
        self._signal_idx = np.flatnonzero(self.signal)
        self._window_idx = np.flatnonzero(self.in_window) if window.enabled else None
        self._entry_idx = np.flatnonzero(self.entry_ok & self.in_window)
        self._day_idx = np.flatnonzero(self.day_start)

    def view(self, bars: Bars, i: int) -> BarView:
        return BarView(
            i,
            int(bars.timestamps[i]),
            float(bars.open[i]),
            float(bars.high[i]),
            float(bars.low[i]),
            float(bars.close[i]),
            float(bars.volume[i]),
            int(self.signal[i]),
            bool(self.entry_ok[i]),
            bool(self.in_window[i]),
        )

    def next_signal(self, start: int) -> int:
        """First bar >= start with a nonzero signal (``size`` if none)."""
        return _next(self._signal_idx, start, self.size)

    def next_in_window(self, start: int) -> int:
        if self._window_idx is None:
            return min(start, self.size)
        return _next(self._window_idx, start, self.size)

    def next_entry_ok(self, start: int) -> int:
        """First bar >= start inside the window whose entry filter passes."""
        return _next(self._entry_idx, start, self.size)

    def next_day_start(self, start: int) -> int:
        return _next(self._day_idx, start, self.size)


class LiveSignals:
    """The same values as ``SignalPlan``, one bar at a time (for a live bot)."""

    def __init__(self, spec: SignalSpec, window: WindowRule, interval_ns: int):
        self._spec = spec
        self._window = window
        self._interval_ns = interval_ns
        self._fast = SmaState(spec.fast) if spec.kind == "sma" else None
        self._slow = SmaState(spec.slow) if spec.kind == "sma" else None
        self._rsi = RsiState(spec.rsi_period) if spec.kind in ("rsi", "rsi_filter") else None
        self._previous = (math.nan, math.nan)
        self._day = -1
        self._index = 0

    def view(self, timestamp: int, o: float, h: float, low: float, c: float, v: float) -> BarView:
        signal, entry_ok = self._update(c)
        in_window = self._window.contains(timestamp + self._interval_ns)
        view = BarView(self._index, timestamp, o, h, low, c, v, signal, entry_ok, in_window)
        self._index += 1
        return view

    def is_day_start(self, timestamp: int) -> bool:
        """True for the first bar of a new UTC day (not for the very first bar)."""
        day = timestamp // NS_PER_DAY
        started = self._day >= 0 and day != self._day
        self._day = day
        return started

    def _update(self, close: float) -> tuple[int, bool]:
        spec = self._spec
        if spec.kind == "sma":
            now = (self._fast.update(close), self._slow.update(close))  # type: ignore[union-attr]
            before, self._previous = self._previous, now
            return _cross(before[0] - before[1], now[0] - now[1], 0.0, 0.0), True
        if spec.kind in ("rsi", "rsi_filter"):
            value = self._rsi.update(close)  # type: ignore[union-attr]
            previous_value = self._previous[0]
            self._previous = (value, math.nan)
            entry_ok = value <= spec.buy_level  # NaN compares False
            if spec.kind == "rsi_filter":
                return 0, entry_ok
            return _rsi_cross(previous_value, value, spec), True
        return 0, True


def _cross(before: float, now: float, low: float, high: float) -> int:
    if before <= low and now > low:
        return ENTRY
    if before >= high and now < high:
        return EXIT
    return 0


def _rsi_cross(before: float, now: float, spec: SignalSpec) -> int:
    if before > spec.buy_level and now <= spec.buy_level:
        return ENTRY
    if before < spec.sell_level and now >= spec.sell_level:
        return EXIT
    return 0


def _vector_signals(close: np.ndarray, spec: SignalSpec) -> tuple[np.ndarray, np.ndarray]:
    n = len(close)
    signal = np.zeros(n, dtype=np.int8)
    entry_ok = np.ones(n, dtype=bool)
    if spec.kind == "sma":
        gap = sma_series(close, spec.fast) - sma_series(close, spec.slow)
        before, now = gap[:-1], gap[1:]
        signal[1:][(before <= 0.0) & (now > 0.0)] = ENTRY
        signal[1:][(before >= 0.0) & (now < 0.0)] = EXIT
    elif spec.kind in ("rsi", "rsi_filter"):
        rsi = rsi_series(close, spec.rsi_period)
        entry_ok = rsi <= spec.buy_level
        if spec.kind == "rsi":
            entry_ok = np.ones(n, dtype=bool)
            before, now = rsi[:-1], rsi[1:]
            signal[1:][(before > spec.buy_level) & (now <= spec.buy_level)] = ENTRY
            signal[1:][(before < spec.sell_level) & (now >= spec.sell_level)] = EXIT
    return signal, entry_ok


def _next(indexes: np.ndarray, start: int, size: int) -> int:
    k = int(np.searchsorted(indexes, start))
    return int(indexes[k]) if k < len(indexes) else size
