"""Driving a strategy bar by bar, as the live executor does (and the engine's per-bar mode).

For each bar: ``begin_bar`` before any of the bar's fills (a new UTC day resets the daily
loss limit), ``on_fill`` for each execution the broker reports, then ``end_bar`` with the
closed bar for the decision. Indicators are computed incrementally (``LiveSignals``) and
equal the vectorised ones bit for bit, so the orders equal a backtest's on the same bars.
"""

from __future__ import annotations

import math

from market_data.intervals import Interval
from strategies.base import Strategy
from strategies.orders import Fill, Intent
from strategies.signals import LiveSignals


class LiveRunner:
    def __init__(self, strategy: Strategy, interval: Interval):
        self.strategy = strategy
        self.signals = LiveSignals(strategy.signal_spec, strategy.window, interval.nanoseconds)
        self._previous_close = math.nan

    def begin_bar(self, timestamp_ns: int) -> list[Intent]:
        """Call when a bar opens (before its fills are reported)."""
        if self.signals.is_day_start(timestamp_ns) and self.strategy.uses_day_starts:
            return self.strategy.on_day_start(self._previous_close)
        return []

    def on_fill(self, fill: Fill) -> list[Intent]:
        return self.strategy.on_fill(fill)

    def end_bar(
        self, timestamp_ns: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> list[Intent]:
        """Call with the closed bar: the strategy's decision at its close."""
        view = self.signals.view(timestamp_ns, open_, high, low, close, volume)
        self._previous_close = close
        return self.strategy.on_bar(view)
