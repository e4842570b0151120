"""Spot grid: buy below the price, sell one level above, over a fixed (or trailing) grid.

``grid_count`` levels L_0 < ... < L_{m-1} span [lower, upper] (arithmetic: equal steps;
geometric: equal ratios). Slot k buys at L_k and sells that lot at L_{k+1}. At the
first decision the grid is seeded at the close c: slots with L_k < c get a resting
limit buy; slots entirely above the price (L_k >= c) are bought at market (one order per
slot) and their sells placed once filled. After a buy fills, its lot's sell rests one
level up; after the sell fills, the buy is placed again. Each slot holds
``quantity_per_grid`` (or allocated capital / (m - 1) USD at L_k). New buys are only
placed inside the trade window and while the daily loss limit allows; outside it they
wait. Trailing: when a close is above the top level and the grid holds nothing, the
grid moves up one step (the lowest buy is cancelled, a buy is added at the old top).
A stop loss or take profit closes the position and stops the grid; a daily loss closes
it and re-seeds the grid the next day.
"""

from __future__ import annotations

import math

from strategies.base import Strategy
from strategies.config import GridMode, StrategyConfig
from strategies.orders import BUY, LIMIT, MARKET, SELL, Fill, PlaceOrder, Reason, Tag
from strategies.signals import BarView, SignalPlan


def grid_levels(lower: float, upper: float, count: int, mode: GridMode | None) -> list[float]:
    """The ``count`` prices of the grid, ascending."""
    if mode is GridMode.GEOMETRIC:
        ratio = (upper / lower) ** (1.0 / (count - 1))
        return [lower * ratio**k for k in range(count)]
    step = (upper - lower) / (count - 1)
    return [lower + step * k for k in range(count)]


class _Slot:
    __slots__ = ("buy_id", "lot", "sell_ids", "waiting")

    def __init__(self) -> None:
        self.buy_id = 0
        self.lot = 0
        self.sell_ids: set[int] = set()
        self.waiting = False  # needs its buy placed at the next allowed decision


class SpotGrid(Strategy):
    def __init__(self, config: StrategyConfig):
        super().__init__(config)
        g = config.grid
        # validate_config requires both bounds of a grid.
        assert g.lower_price is not None and g.upper_price is not None
        self.mode = g.grid_mode
        self.levels = grid_levels(
            float(g.lower_price), float(g.upper_price), g.grid_count, g.grid_mode
        )
        self.fixed_quantity = float(g.quantity_per_grid) if g.quantity_per_grid else math.nan
        self.slot_budget = self.risk.capital / (g.grid_count - 1)
        self.trailing = g.trailing_enabled
        self.max_positions = self.risk.max_positions or g.grid_count
        self.slots = [_Slot() for _ in range(g.grid_count - 1)]
        self.seeded = False
        self._order_slot: dict[int, int] = {}  # order id -> slot index
        self._waiting = 0

    # --- engine hints ----------------------------------------------------------

    def next_decision_bar(self, start: int, plan: SignalPlan) -> int:
        if self.halted or self.blocked_today or (self.seeded and not self._waiting):
            return plan.size
        return plan.next_in_window(start)

    def watch_above(self) -> float:
        if self.trailing and self.seeded and not self.halted and self.position == 0:
            return self.levels[-1]
        return math.inf

    # --- decisions ---------------------------------------------------------------

    def decide(self, bar: BarView) -> None:
        if self.halted or self.blocked_today or not bar.in_window:
            return
        if not self.seeded:
            self._seed(bar.close)
            return
        while self.trailing and self.position == 0 and bar.close > self.levels[-1]:
            self._trail_up()
        if self._waiting:
            for k in [k for k, slot in enumerate(self.slots) if slot.waiting]:
                self._place_buy(k)

    def _seed(self, close: float) -> None:
        self.seeded = True
        below = [k for k in range(len(self.slots)) if self.levels[k] < close]
        above = [k for k in range(len(self.slots)) if self.levels[k] >= close]
        for k in above:  # inventory for the sells above the price
            slot = self.slots[k]
            quantity = self._quantity(k)
            if quantity <= 0 or not self.affordable(quantity, close):
                self.reject(Reason.CAPITAL, Tag.GRID_BUY)
                continue
            slot.lot = self.new_lot()
            slot.buy_id = self.place(BUY, MARKET, quantity, math.nan, Tag.GRID_BUY, slot.lot)
            self._order_slot[slot.buy_id] = k
        for k in sorted(below, reverse=True):  # nearest the price first
            self._place_buy(k)

    def _committed(self) -> int:
        return sum(1 for s in self.slots if s.buy_id or s.sell_ids)

    def _quantity(self, k: int) -> float:
        if not math.isnan(self.fixed_quantity):
            return self.risk.round_quantity(self.fixed_quantity)
        return self.risk.round_quantity(self.risk.capped(self.slot_budget) / self.levels[k])

    def _place_buy(self, k: int) -> None:
        slot = self.slots[k]
        self._set_waiting(slot, False)
        if self.max_positions < len(self.slots) and self._committed() >= self.max_positions:
            self.reject(Reason.MAX_POSITIONS, Tag.GRID_BUY)
            return
        price = self.levels[k]
        quantity = self._quantity(k)
        if quantity <= 0 or not self.affordable(quantity, price):
            self.reject(Reason.CAPITAL, Tag.GRID_BUY)
            return
        slot.lot = self.new_lot()
        slot.buy_id = self.place(BUY, LIMIT, quantity, price, Tag.GRID_BUY, slot.lot)
        self._order_slot[slot.buy_id] = k

    def _set_waiting(self, slot: _Slot, waiting: bool) -> None:
        if slot.waiting != waiting:
            slot.waiting = waiting
            self._waiting += 1 if waiting else -1

    def _trail_up(self) -> None:
        lowest = self.slots.pop(0)
        if lowest.buy_id:
            self.cancel(lowest.buy_id)
            self._order_slot.pop(lowest.buy_id, None)
        self._set_waiting(lowest, False)
        if self.mode is GridMode.GEOMETRIC:
            top = self.levels[-1] * (self.levels[-1] / self.levels[-2])
        else:
            top = self.levels[-1] + (self.levels[-1] - self.levels[-2])
        self.levels = [*self.levels[1:], top]
        self._order_slot = {oid: k - 1 for oid, k in self._order_slot.items()}
        self.slots.append(_Slot())
        self._place_buy(len(self.slots) - 1)

    # --- reactions ---------------------------------------------------------------

    def react(self, order: PlaceOrder, fill: Fill) -> None:
        k = self._order_slot.get(order.order_id)
        if k is None:
            return
        slot = self.slots[k]
        if fill.done:
            del self._order_slot[order.order_id]
        if order.side == BUY:
            if fill.done:
                slot.buy_id = 0
            if fill.quantity > 0:
                sell = self.place(
                    SELL, LIMIT, fill.quantity, self.levels[k + 1], Tag.GRID_SELL, slot.lot
                )
                slot.sell_ids.add(sell)
                self._order_slot[sell] = k
            return
        if fill.done:
            slot.sell_ids.discard(order.order_id)
            if not slot.sell_ids and not slot.buy_id:
                self._rebuy(k)

    def _rebuy(self, k: int) -> None:
        if self.halted:
            return
        self._set_waiting(self.slots[k], True)  # placed at the next allowed decision

    def risk_exit(self, tag: str) -> None:
        self.cancel_all()
        self._order_slot.clear()
        self.slots = [_Slot() for _ in self.slots]
        self._waiting = 0
        if tag == Tag.DAILY_LOSS:
            self.seeded = False  # re-seed around the price of the next allowed day
        else:
            self.halted = True
