"""Strategies driven by an indicator signal: SMA crossover and RSI reversion."""

from __future__ import annotations

import math

from strategies.base import Strategy
from strategies.config import StrategyConfig
from strategies.orders import Reason, Tag
from strategies.signals import ENTRY, EXIT, BarView, SignalPlan, SignalSpec


class SignalStrategy(Strategy):
    """Enter on an entry signal, leave the whole position on an exit signal.

    Up to ``max_positions`` entries may be open at once (default 1); each entry is sized
    by the position sizing (default: equity split evenly across max_positions).
    """

    def __init__(self, config: StrategyConfig):
        super().__init__(config)
        self.max_positions = self.risk.max_positions or 1
        self._pending_entries: set[int] = set()

    def next_decision_bar(self, start: int, plan: SignalPlan) -> int:
        return plan.next_signal(start)

    def decide(self, bar: BarView) -> None:
        if bar.signal == ENTRY:
            self._enter(bar)
        elif bar.signal == EXIT and self.position > 0:
            self.close_position(Tag.SIGNAL_EXIT)

    def _enter(self, bar: BarView) -> None:
        if self.entry_blocked(bar):
            return
        if self.open_lots() + len(self._pending_entries) >= self.max_positions:
            self.reject(Reason.MAX_POSITIONS)
            return
        notional = self.risk.entry_notional(self.equity(bar.close), 1.0 / self.max_positions)
        order_id = self.buy_market(notional, bar.close, Tag.ENTRY, self.new_lot())
        if order_id:
            self._pending_entries.add(order_id)

    def react(self, order, fill) -> None:
        if fill.done:
            self._pending_entries.discard(order.order_id)


class SmaCrossover(SignalStrategy):
    """Long while the fast SMA is above the slow SMA (entries/exits on the crossings)."""

    def __init__(self, config: StrategyConfig):
        t = config.technical_indicators
        self.signal_spec = SignalSpec("sma", fast=t.sma_fast_period, slow=t.sma_slow_period)
        super().__init__(config)


class RsiReversion(SignalStrategy):
    """Buy when RSI falls through the buy threshold, sell when it rises through the sell one."""

    def __init__(self, config: StrategyConfig):
        t = config.technical_indicators
        self.signal_spec = SignalSpec(
            "rsi",
            rsi_period=t.rsi_period,
            buy_level=float(t.rsi_buy_threshold or math.nan),
            sell_level=float(t.rsi_sell_threshold or math.nan),
        )
        super().__init__(config)
