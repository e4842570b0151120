"""The strategy state machine every type builds on.

A strategy keeps its own books from the fills it is told about (cash, reserved cash,
position, lots, open orders), applies the risk controls, and answers three calls:

- ``on_bar(bar)``: the decision at a bar's close (signals, new entries);
- ``on_fill(fill)``: reactions to an execution (counter orders, cancels, protection);
- ``on_day_start(previous_close)``: the daily loss limit resets.

Each returns intents (``strategies.orders``). The backtest engine and the live executor
call exactly these, so both get the same orders for the same bars and fills.
``next_decision_bar`` tells a backtest the first bar from which ``on_bar`` can act,
so the engine may skip the quiet bars in between; it must never skip a bar where
``on_bar`` would emit something (the engine's per-bar mode checks this).
"""

from __future__ import annotations

import math

from market_data.bars import Bars
from strategies.config import StrategyConfig
from strategies.orders import (
    BUY,
    LIMIT,
    MARKET,
    RISK_EXIT_TAGS,
    SELL,
    STOP,
    AmendOrder,
    CancelOrder,
    Fill,
    Intent,
    PlaceOrder,
    Reason,
    Rejection,
    Tag,
)
from strategies.risk import COST_HEADROOM, RiskParams
from strategies.signals import BarView, SignalPlan, SignalSpec
from strategies.window import WindowRule

_EPSILON = 1e-12


class Strategy:
    """Books, risk controls and order plumbing shared by every strategy type."""

    signal_spec = SignalSpec()

    def __init__(self, config: StrategyConfig):
        self.config = config
        self.risk = RiskParams.from_config(config)
        self.window = WindowRule(config.trade_window)
        self.cash = self.risk.capital  # includes cash reserved by resting buy orders
        self.reserved = 0.0
        self.position = 0.0
        self.position_cost = 0.0  # sum of quantity x price of the held quantity
        self.lots: dict[int, float] = {}
        self.orders: dict[int, PlaceOrder] = {}  # open orders, quantity = what remains
        self.halted = False
        self.blocked_today = False
        self.day_start_equity = self.risk.capital
        self._protective_stop = 0
        self._protective_limit = 0
        self._next_order_id = 1
        self._next_lot = 1
        self._out: list[Intent] = []

    # --- what engines and executors call -------------------------------------------

    def plan(self, bars: Bars) -> SignalPlan:
        """Vectorised signals for a whole series (backtests)."""
        return SignalPlan(bars, self.signal_spec, self.window)

    @property
    def uses_day_starts(self) -> bool:
        return self.risk.has_daily_loss

    def on_bar(self, bar: BarView) -> list[Intent]:
        self.decide(bar)
        return self._flush()

    def on_fill(self, fill: Fill) -> list[Intent]:
        order = self.orders.get(fill.order_id)
        if order is None:
            return []
        self._book_fill(order, fill)
        if fill.done:
            del self.orders[fill.order_id]
            self._forget_protective(fill.order_id)
        elif fill.quantity > 0:
            order.quantity -= fill.quantity
        if order.tag in RISK_EXIT_TAGS and order.side == SELL and self.position == 0:
            if order.tag == Tag.DAILY_LOSS:
                self.blocked_today = True
            self.risk_exit(order.tag)
        else:
            self.react(order, fill)
        if not self.halted:
            self._protect()
        return self._flush()

    def on_day_start(self, previous_close: float) -> list[Intent]:
        self.day_start_equity = self.equity(previous_close)
        self.blocked_today = False
        self.day_started()
        self._protect()
        return self._flush()

    def next_decision_bar(self, start: int, plan: SignalPlan) -> int:
        """First bar >= start at which ``on_bar`` may emit anything (``plan.size``: never)."""
        return plan.size

    def watch_above(self) -> float:
        """A close above this price may make ``on_bar`` act (inf: none)."""
        return math.inf

    # --- what types implement ----------------------------------------------------

    def decide(self, bar: BarView) -> None:
        """The decision at a bar's close."""

    def react(self, order: PlaceOrder, fill: Fill) -> None:
        """Reactions to a fill of one of this strategy's orders."""

    def risk_exit(self, tag: str) -> None:
        """The whole position was closed by a stop loss, daily loss or take profit."""

    def day_started(self) -> None:
        """Hook for a new day (after the daily loss reference is reset)."""

    def take_profit_price(self) -> float:
        """Where to take profit on the whole position (NaN: nowhere)."""
        if math.isnan(self.risk.take_profit):
            return math.nan
        return self.average_price() * (1.0 + self.risk.take_profit)

    # --- books -------------------------------------------------------------------

    @property
    def free_cash(self) -> float:
        return self.cash - self.reserved

    def equity(self, price: float) -> float:
        return self.cash + self.position * price

    def average_price(self) -> float:
        return self.position_cost / self.position if self.position > 0 else math.nan

    def open_lots(self) -> int:
        return len(self.lots)

    def _book_fill(self, order: PlaceOrder, fill: Fill) -> None:
        quantity = fill.quantity
        if order.side == BUY:
            if order.kind == LIMIT:
                release = order.quantity if fill.done else quantity
                self.reserved = max(0.0, self.reserved - _reserve(release, order.price))
            if quantity <= 0:
                return
            self.cash -= quantity * fill.price + fill.fee
            self.position += quantity
            self.position_cost += quantity * fill.price
            self.lots[order.lot] = self.lots.get(order.lot, 0.0) + quantity
            return
        if quantity <= 0:
            return
        self.cash += quantity * fill.price - fill.fee
        average = self.average_price()
        self.position -= quantity
        self.position_cost -= quantity * average
        self._reduce_lots(order.lot, quantity)
        if self.position < self.risk.quantity_step * 0.5:  # float dust, not a holding
            self.position = 0.0
            self.position_cost = 0.0
            self.lots.clear()

    def _reduce_lots(self, lot: int, quantity: float) -> None:
        if lot and lot in self.lots:
            left = self.lots[lot] - quantity
            if left <= _EPSILON * max(1.0, quantity):
                del self.lots[lot]
            else:
                self.lots[lot] = left
            return
        held = sum(self.lots.values())
        if held <= 0:
            return
        share = quantity / held
        for key in list(self.lots):
            left = self.lots[key] * (1.0 - share)
            if left <= _EPSILON * max(1.0, quantity):
                del self.lots[key]
            else:
                self.lots[key] = left

    # --- intents -----------------------------------------------------------------

    def new_lot(self) -> int:
        lot = self._next_lot
        self._next_lot += 1
        return lot

    def place(
        self, side: str, kind: str, quantity: float, price: float, tag: str, lot: int = 0
    ) -> int:
        """Emit an order; limit buys reserve their cash. Returns the order id."""
        order_id = self._next_order_id
        self._next_order_id += 1
        order = PlaceOrder(order_id, side, kind, quantity, price, tag, lot)
        self.orders[order_id] = order
        if side == BUY and kind == LIMIT:
            self.reserved += _reserve(quantity, price)
        self._out.append(PlaceOrder(order_id, side, kind, quantity, price, tag, lot))
        return order_id

    def cancel(self, order_id: int) -> None:
        order = self.orders.pop(order_id, None)
        if order is None:
            return
        if order.side == BUY and order.kind == LIMIT:
            self.reserved = max(0.0, self.reserved - _reserve(order.quantity, order.price))
        self._forget_protective(order_id)
        self._out.append(CancelOrder(order_id))

    def cancel_all(self, side: str | None = None) -> None:
        for order_id in [k for k, o in self.orders.items() if side is None or o.side == side]:
            self.cancel(order_id)

    def reject(self, reason: str, tag: str = Tag.ENTRY) -> None:
        self._out.append(Rejection(reason, tag))

    def affordable(self, quantity: float, price: float) -> bool:
        return _reserve(quantity, price) <= self.free_cash + _EPSILON

    def buy_market(self, notional: float, close: float, tag: str, lot: int) -> int:
        """A market buy of ``notional`` USD at the next open, or a capital rejection (0)."""
        budget = min(notional, self.free_cash / (1.0 + COST_HEADROOM))
        quantity = self.risk.round_quantity(budget / close)
        if quantity <= 0:
            self.reject(Reason.CAPITAL, tag)
            return 0
        return self.place(BUY, MARKET, quantity, math.nan, tag, lot)

    def entry_blocked(self, bar: BarView, tag: str = Tag.ENTRY) -> bool:
        """Apply halts, the daily loss block and the trade window to a new entry."""
        if self.halted:
            self.reject(Reason.HALTED, tag)
        elif self.blocked_today:
            self.reject(Reason.DAILY_LOSS, tag)
        elif not bar.in_window:
            self.reject(Reason.TRADE_WINDOW, tag)
        else:
            return False
        return True

    def close_position(self, tag: str) -> None:
        if self.position > 0:
            self.place(SELL, MARKET, self.position, math.nan, tag)

    # --- protection: one stop (stop loss / daily loss) and one take-profit limit ----

    def _protect(self) -> None:
        stop_price, stop_tag = self._stop_level()
        self._protective_stop = self._keep(self._protective_stop, STOP, stop_price, stop_tag)
        self._protective_limit = self._keep(
            self._protective_limit, LIMIT, self.take_profit_price(), Tag.TAKE_PROFIT
        )

    def _stop_level(self) -> tuple[float, str]:
        if self.position <= 0:
            return math.nan, Tag.STOP_LOSS
        price, tag = math.nan, Tag.STOP_LOSS
        if not math.isnan(self.risk.stop_loss):
            price = self.average_price() * (1.0 - self.risk.stop_loss)
        if self.risk.has_daily_loss and not self.blocked_today:
            floor = self.day_start_equity - self.risk.daily_loss_limit(self.day_start_equity)
            daily = (floor - self.cash) / self.position
            if daily > 0 and not daily <= price:
                price, tag = daily, Tag.DAILY_LOSS
        return price, tag

    def _keep(self, order_id: int, kind: str, price: float, tag: str) -> int:
        """Make the protective order ``order_id`` match (price, whole position)."""
        wanted = self.position > 0 and not math.isnan(price)
        order = self.orders.get(order_id) if order_id else None
        if not wanted:
            if order is not None:
                self.cancel(order_id)
            return 0
        if order is None:
            return self.place(SELL, kind, self.position, price, tag)
        if order.price != price or order.quantity != self.position or order.tag != tag:
            order.price, order.quantity, order.tag = price, self.position, tag
            self._out.append(AmendOrder(order_id, self.position, price, tag))
        return order_id

    def _forget_protective(self, order_id: int) -> None:
        if order_id == self._protective_stop:
            self._protective_stop = 0
        elif order_id == self._protective_limit:
            self._protective_limit = 0

    def _flush(self) -> list[Intent]:
        out, self._out = self._out, []
        return out


def _reserve(quantity: float, price: float) -> float:
    return quantity * price * (1.0 + COST_HEADROOM)
