"""The event loop: a simulated exchange that fills a strategy's orders bar by bar.

Within a bar, in this order: (1) a new UTC day resets the daily loss limit; (2) market
orders fill at the open (orders placed in reaction to these fills may still trade in
the same bar: the whole range is ahead of them); (3) the low side: resting buy limits
and sell stops the low reaches, nearest the open first; (4) the high side: sell limits
the high reaches, nearest first; (5) the strategy decides on the close. Orders placed in
(3)-(5) can trade from the next bar on. Stops are processed before take-profits of the
same bar (the pessimistic reading of a bar whose path is unknown).

``run_fast`` processes only bars where something can happen: the next bar after a market
order, the strategy's next decision bar, day starts when a daily loss limit is set, and
the first bar whose low/high reaches a resting order (``scan.next_cross``). ``run_per_bar``
drives every bar through ``LiveRunner`` like the live executor; both give the same fills.
"""

from __future__ import annotations

import math
from bisect import insort
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from backtest_service.engine.fills import FillModel
from backtest_service.engine.scan import CrossScanner
from market_data.bars import Bars
from strategies.base import Strategy
from strategies.live import LiveRunner
from strategies.orders import (
    BUY,
    LIMIT,
    MARKET,
    STOP,
    AmendOrder,
    CancelOrder,
    Fill,
    Intent,
    PlaceOrder,
    Rejection,
)
from strategies.signals import SignalPlan

Progress = Callable[[float], None]
_PROGRESS_STEPS = 100


class _Order:
    __slots__ = ("active_from", "kind", "lot", "order_id", "price", "quantity", "side", "tag")

    def __init__(self, intent: PlaceOrder, active_from: int):
        self.order_id = intent.order_id
        self.side = intent.side
        self.kind = intent.kind
        self.quantity = intent.quantity
        self.price = intent.price
        self.tag = intent.tag
        self.lot = intent.lot
        self.active_from = active_from


def _price_key(order: _Order) -> float:
    return order.price


@dataclass(slots=True)
class FillRecord:
    """One execution, as stored in results."""

    bar_index: int
    order_id: int
    side: str
    quantity: float
    price: float
    fee: float
    tag: str
    lot: int


@dataclass
class SimulationLog:
    """What happened: fills, rejections, and the books after each bar that changed them."""

    fills: list[FillRecord] = field(default_factory=list)
    rejections: Counter = field(default_factory=Counter)
    step_bars: list[int] = field(default_factory=list)
    step_cash: list[float] = field(default_factory=list)
    step_position: list[float] = field(default_factory=list)
    step_cost: list[float] = field(default_factory=list)
    events: int = 0


class Simulator:
    def __init__(self, strategy: Strategy, bars: Bars, fill_model: FillModel):
        self.strategy = strategy
        self.bars = bars
        self.model = fill_model
        self.open = bars.open
        self.high = bars.high
        self.low = bars.low
        self.close = bars.close
        self.volume = bars.volume
        self.orders: dict[int, _Order] = {}
        self.market: list[_Order] = []
        self.low_side: list[_Order] = []  # buy limits and sell stops, by price
        self.high_side: list[_Order] = []  # sell limits, by price
        self.log = SimulationLog()
        self._scanner: CrossScanner | None = None

    # --- the two drivers ---------------------------------------------------------

    def run_fast(self, plan: SignalPlan, progress: Progress | None = None) -> SimulationLog:
        n = len(self.bars)
        strategy = self.strategy
        self._scanner = CrossScanner(self.low, self.high, self.close)
        uses_days = strategy.uses_day_starts
        day_start = plan.day_start
        j = 0
        reported = 0
        while j < n:
            self._process(j, bool(uses_days and day_start[j]), plan.view(self.bars, j))
            j = self._next_event(j + 1, plan, uses_days)
            if progress is not None and j * _PROGRESS_STEPS >= (reported + 1) * n:
                reported = j * _PROGRESS_STEPS // n
                progress(min(1.0, j / n))
        return self.log

    def run_per_bar(self, runner: LiveRunner, progress: Progress | None = None) -> SimulationLog:
        bars = self.bars
        n = len(bars)
        stamps = bars.timestamps.tolist()
        columns = (bars.open, bars.high, bars.low, bars.close, bars.volume)
        o, h, lo, c, v = (column.tolist() for column in columns)
        reported = 0
        for j in range(n):
            self._apply(runner.begin_bar(stamps[j]), j)
            self._trade(j)
            self._apply(runner.end_bar(stamps[j], o[j], h[j], lo[j], c[j], v[j]), j + 1)
            self._record(j)
            if progress is not None and (j + 1) * _PROGRESS_STEPS >= (reported + 1) * n:
                reported = (j + 1) * _PROGRESS_STEPS // n
                progress((j + 1) / n)
        return self.log

    # --- one bar -----------------------------------------------------------------

    def _process(self, j: int, day_start: bool, view) -> None:
        self.log.events += 1
        if day_start:
            self._apply(self.strategy.on_day_start(float(self.close[j - 1])), j)
        self._trade(j)
        self._apply(self.strategy.on_bar(view), j + 1)
        self._record(j)

    def _trade(self, j: int) -> None:
        if self.market:
            open_ = float(self.open[j])
            for order in [o for o in self.market if o.active_from <= j]:
                if order.order_id in self.orders:
                    self._execute(order, j, self.model.market_price(order.side, open_), True, j)
        low_side = self.low_side
        if low_side and low_side[-1].price >= self.low[j]:
            low = float(self.low[j])
            open_ = float(self.open[j])
            hit = [o for o in reversed(low_side) if o.price >= low and o.active_from <= j]
            for order in hit:
                if order.order_id not in self.orders or order.price < low:
                    continue
                if order.kind == STOP:
                    price = self.model.stop_price(order.price, open_)
                    self._execute(order, j, price, True, j + 1)
                else:
                    price = self.model.limit_price(BUY, order.price, open_)
                    self._execute(order, j, price, False, j + 1)
        high_side = self.high_side
        if high_side and high_side[0].price <= self.high[j]:
            high = float(self.high[j])
            open_ = float(self.open[j])
            hit = [o for o in high_side if o.price <= high and o.active_from <= j]
            for order in hit:
                if order.order_id not in self.orders or order.price > high:
                    continue
                price = self.model.limit_price(order.side, order.price, open_)
                self._execute(order, j, price, False, j + 1)

    def _execute(self, order: _Order, j: int, price: float, taker: bool, react_from: int) -> None:
        strategy = self.strategy
        costs = self.model.costs
        fee_rate = costs.taker_fee if taker else costs.maker_fee
        step = strategy.risk.quantity_step
        cap = self.model.volume_cap(float(self.volume[j]))
        quantity = min(order.quantity, cap)
        short_of_cash = sold_out = False
        if order.side == BUY:
            affordable = strategy.cash / (price * (1.0 + fee_rate))
            short_of_cash = affordable < quantity
            quantity = strategy.risk.round_quantity(min(quantity, affordable))
        else:
            held = strategy.position
            # Selling all that is held: take it exactly, so no dust below a step is left.
            sold_out = order.quantity >= held - 0.5 * step and cap >= held
            quantity = held if sold_out else strategy.risk.round_quantity(min(quantity, held))
            sold_out = sold_out or held < step
        remaining = order.quantity - quantity
        done = remaining <= step * 1e-6 or short_of_cash or sold_out
        if quantity <= 0 and not done:
            return  # no volume this bar: try again later
        if short_of_cash and quantity <= 0:
            self.log.rejections["capital"] += 1
        fee = quantity * price * fee_rate
        if quantity > 0:
            record = FillRecord(
                j, order.order_id, order.side, quantity, price, fee, order.tag, order.lot
            )
            self.log.fills.append(record)
        if done:
            self._remove(order)
        else:
            order.quantity = remaining
            if order.kind != MARKET:  # a triggered stop goes on as a market order
                if order.kind == STOP:
                    self._unlist(order)
                    order.kind = MARKET
                    self.market.append(order)
                    order.active_from = j + 1
            else:
                order.active_from = j + 1
        fill = Fill(order.order_id, order.side, quantity, price, fee, j, done)
        self._apply(strategy.on_fill(fill), react_from)

    # --- the book ----------------------------------------------------------------

    def _apply(self, intents: list[Intent], active_from: int) -> None:
        for intent in intents:
            if isinstance(intent, PlaceOrder):
                order = _Order(intent, active_from)
                self.orders[order.order_id] = order
                self._list(order)
            elif isinstance(intent, CancelOrder):
                cancelled = self.orders.get(intent.order_id)
                if cancelled is not None:
                    self._remove(cancelled)
            elif isinstance(intent, AmendOrder):
                amended = self.orders.get(intent.order_id)
                if amended is not None:
                    self._unlist(amended)
                    amended.quantity, amended.price, amended.tag = (
                        intent.quantity,
                        intent.price,
                        intent.tag,
                    )
                    self._list(amended)
            elif isinstance(intent, Rejection):
                self.log.rejections[intent.reason] += 1

    def _list(self, order: _Order) -> None:
        if order.kind == MARKET:
            self.market.append(order)
        elif order.side == BUY or order.kind == STOP:
            insort(self.low_side, order, key=_price_key)
        elif order.kind == LIMIT:
            insort(self.high_side, order, key=_price_key)

    def _unlist(self, order: _Order) -> None:
        if order.kind == MARKET:
            self.market.remove(order)
        elif order.side == BUY or order.kind == STOP:
            self.low_side.remove(order)
        else:
            self.high_side.remove(order)

    def _remove(self, order: _Order) -> None:
        if self.orders.pop(order.order_id, None) is not None:
            self._unlist(order)

    def _record(self, j: int) -> None:
        s = self.strategy
        log = self.log
        if log.step_bars and (
            log.step_cash[-1] == s.cash
            and log.step_position[-1] == s.position
            and log.step_cost[-1] == s.position_cost
        ):
            return
        if log.step_bars and log.step_bars[-1] == j:
            log.step_cash[-1], log.step_position[-1] = s.cash, s.position
            log.step_cost[-1] = s.position_cost
            return
        log.step_bars.append(j)
        log.step_cash.append(s.cash)
        log.step_position.append(s.position)
        log.step_cost.append(s.position_cost)

    # --- skipping quiet bars -----------------------------------------------------

    def _next_event(self, start: int, plan: SignalPlan, uses_days: bool) -> int:
        n = plan.size
        if start >= n or self.market:
            return start
        stop = self.strategy.next_decision_bar(start, plan)
        if uses_days:
            stop = min(stop, plan.next_day_start(start))
        buy_at = self.low_side[-1].price if self.low_side else -math.inf
        sell_at = self.high_side[0].price if self.high_side else math.inf
        scanner: CrossScanner = self._scanner  # type: ignore[assignment]
        return scanner.next_cross(start, min(stop, n), buy_at, sell_at, self.strategy.watch_above())
