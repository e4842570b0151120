"""DCA: a base order, safety orders at growing deviations, take profit on the average price.

A deal starts with a market base order (at the next open after a decision). When it
fills, every safety order is placed as a resting limit buy: safety order k (1-based)
sits at ``entry x (1 - d_k)`` with d_k = deviation x (1 + s + s^2 + ... + s^(k-1)) for
step scale s, and buys ``safety_amount x v^(k-1)`` USD for volume scale v. The take profit
is a limit sell of the whole position at ``average x (1 + tp)`` (the tighter of
``dca.take_profit_pct`` and ``risk_controls.take_profit_pct``), moved after each safety
fill. When the position is closed the deal ends and the next decision may start a new
one (only when the RSI filter, if enabled, passes and inside the trade window).
"""

from __future__ import annotations

import math

from strategies.base import Strategy
from strategies.config import StrategyConfig
from strategies.orders import BUY, LIMIT, Fill, PlaceOrder, Reason, Tag
from strategies.signals import BarView, SignalPlan, SignalSpec


def safety_levels(deviation_pct: float, step_scale: float, max_orders: int) -> list[float]:
    """Cumulative drops (fractions) below the entry at which each safety order sits."""
    levels, step, total = [], deviation_pct / 100.0, 0.0
    for _ in range(max_orders):
        total += step
        levels.append(total)
        step *= step_scale
    return levels


class Dca(Strategy):
    def __init__(self, config: StrategyConfig):
        d = config.dca
        t = config.technical_indicators
        if d.rsi_entry_filter:
            # validate_config requires the threshold when the filter is on.
            assert t.rsi_buy_threshold is not None
            self.signal_spec = SignalSpec(
                "rsi_filter", rsi_period=t.rsi_period, buy_level=float(t.rsi_buy_threshold)
            )
        super().__init__(config)
        self.base_amount = float(d.base_order_amount or 0)
        self.safety_amount = float(d.safety_order_amount or 0)
        self.volume_scale = float(d.volume_scale or 1)
        self.drops = safety_levels(
            float(d.price_deviation_pct or 0), float(d.step_scale or 1), d.max_safety_orders
        )
        take_profits = [float(x) / 100.0 for x in (d.take_profit_pct,) if x is not None]
        if not math.isnan(self.risk.take_profit):
            take_profits.append(self.risk.take_profit)
        self.deal_take_profit = min(take_profits) if take_profits else math.nan
        self.in_deal = False
        self.deal_lot = 0
        self._base_order = 0
        self._base_quantity = 0.0
        self._base_cost = 0.0

    def _waiting(self) -> bool:
        return not (self.in_deal or self._base_order or self.halted or self.blocked_today)

    def next_decision_bar(self, start: int, plan: SignalPlan) -> int:
        return plan.next_entry_ok(start) if self._waiting() else plan.size

    def decide(self, bar: BarView) -> None:
        if not (self._waiting() and bar.in_window and bar.entry_ok):
            return
        self.deal_lot = self.new_lot()
        self._base_quantity = self._base_cost = 0.0
        self._base_order = self.buy_market(
            self.risk.capped(self.base_amount), bar.close, Tag.ENTRY, self.deal_lot
        )
        if not self._base_order:
            self.halted = True  # flat and unable to fund a base order: nothing will change

    def take_profit_price(self) -> float:
        if math.isnan(self.deal_take_profit):
            return math.nan
        return self.average_price() * (1.0 + self.deal_take_profit)

    def react(self, order: PlaceOrder, fill: Fill) -> None:
        if order.order_id == self._base_order:
            self._base_quantity += fill.quantity
            self._base_cost += fill.quantity * fill.price
            if fill.done:
                self._base_order = 0
                if self._base_quantity > 0:
                    self.in_deal = True
                    self._place_safety_orders(self._base_cost / self._base_quantity)
        elif order.side != BUY and self.position == 0:
            self._end_deal()

    def risk_exit(self, tag: str) -> None:
        self._end_deal()

    def _end_deal(self) -> None:
        self.in_deal = False
        self.cancel_all(BUY)

    def _place_safety_orders(self, entry: float) -> None:
        amount = self.safety_amount
        for drop in self.drops:
            price = entry * (1.0 - drop)
            quantity = self.risk.round_quantity(self.risk.capped(amount) / price)
            if quantity <= 0 or not self.affordable(quantity, price):
                self.reject(Reason.CAPITAL, Tag.SAFETY)
                break
            self.place(BUY, LIMIT, quantity, price, Tag.SAFETY, self.deal_lot)
            amount *= self.volume_scale
