"""Buy and hold: the benchmark every result is compared with."""

from __future__ import annotations

from strategies.base import Strategy
from strategies.orders import Tag
from strategies.signals import BarView, SignalPlan


class BuyAndHold(Strategy):
    """Buy at the first decision inside the trade window, then hold (risk exits apply)."""

    def __init__(self, config):
        super().__init__(config)
        self.entered = False

    def next_decision_bar(self, start: int, plan: SignalPlan) -> int:
        return plan.size if self.entered else plan.next_in_window(start)

    def decide(self, bar: BarView) -> None:
        if self.entered or not bar.in_window:
            return
        self.entered = True
        if self.entry_blocked(bar):
            return
        notional = self.risk.entry_notional(self.equity(bar.close), 1.0)
        self.buy_market(notional, bar.close, Tag.ENTRY, self.new_lot())
