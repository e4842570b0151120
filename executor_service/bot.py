"""A live bot: the shared strategy state machine (``strategies``) fed one bar at a time.

The same classes and the same per-bar driver (``strategies.LiveRunner``) as the backtest
engine's per-bar mode: at each bar, ``begin_bar`` (a new day), the bar's fills, then the
decision at the close. Order ids the strategy gives (1, 2, ...) are deterministic, so the
same bars and fills give the same intents, after a restart too.
"""

from __future__ import annotations

from executor_service.feed import Bar
from strategies import LiveRunner, build_strategy
from strategies.config import StrategyConfig
from strategies.orders import Fill, Intent


def _stamp(bar: Bar) -> int:
    return int(bar.at.timestamp()) * 1_000_000_000


class LiveBot:
    """One strategy instance and its incremental signals."""

    def __init__(self, config: StrategyConfig):
        self.strategy = build_strategy(config)
        self._runner = LiveRunner(self.strategy, config.timeframe.interval)  # type: ignore[union-attr]

    def day_start(self, bar: Bar) -> list[Intent]:
        return self._runner.begin_bar(_stamp(bar))

    def fill(self, fill: Fill) -> list[Intent]:
        return self._runner.on_fill(fill)

    def decide(self, bar: Bar) -> list[Intent]:
        return self._runner.end_bar(
            _stamp(bar),
            float(bar.open),
            float(bar.high),
            float(bar.low),
            float(bar.close),
            float(bar.volume),
        )
