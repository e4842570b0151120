"""What parity compares: the orders a strategy emits, as (bar index, side, type, quantity,
price), from the backtest engine's per-bar run and from the executor's ledger."""

from __future__ import annotations

import math
from decimal import Decimal

from backtest_service.engine.fills import FillModel
from backtest_service.engine.settings import Costs
from backtest_service.engine.simulator import SimulationLog, Simulator
from market_data.bars import Bars
from strategies import LiveRunner, build_strategy
from strategies.config import StrategyConfig
from strategies.orders import AmendOrder, Intent, PlaceOrder

STEP = Decimal("1e-8")  # the executor's quantity and price step

Order = tuple[int, str, str, Decimal, Decimal | None]


def stepped(value: float | Decimal | None) -> Decimal | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return Decimal(repr(float(value))).quantize(STEP)


def engine_orders(config: StrategyConfig, bars: Bars, costs: Costs) -> list[Order]:
    return engine_run(config, bars, costs)[0]


def engine_run(
    config: StrategyConfig, bars: Bars, costs: Costs
) -> tuple[list[Order], SimulationLog]:
    """The orders of the engine's per-bar run (every bar through ``LiveRunner``, as the
    executor drives its bot), each with the bar it was decided at. An amendment counts as
    an order (the executor sends it as a new one); stops are left out (the executor holds
    them: see docs/executor.md)."""
    strategy = build_strategy(config)
    runner = LiveRunner(strategy, bars.interval)
    start, step = int(bars.timestamps[0]), bars.interval.nanoseconds
    orders: list[Order] = []
    now = [0]

    def record(intents: list[Intent], index: int) -> list[Intent]:
        for intent in intents:
            if isinstance(intent, PlaceOrder):
                side, kind = intent.side, intent.kind
            elif isinstance(intent, AmendOrder):
                book = strategy.orders[intent.order_id]
                side, kind = book.side, book.kind
            else:
                continue
            if kind != "stop":
                orders.append((index, side, kind, stepped(intent.quantity), stepped(intent.price)))
        return intents

    on_fill, begin_bar, end_bar = strategy.on_fill, runner.begin_bar, runner.end_bar
    strategy.on_fill = lambda fill: record(on_fill(fill), fill.bar_index)  # type: ignore[method-assign]

    def begin(timestamp: int) -> list[Intent]:
        now[0] = (timestamp - start) // step
        return record(begin_bar(timestamp), now[0])

    runner.begin_bar = begin  # type: ignore[method-assign]
    runner.end_bar = lambda *bar: record(end_bar(*bar), now[0])  # type: ignore[method-assign]
    log = Simulator(strategy, bars, FillModel(costs)).run_per_bar(runner)
    return orders, log


def assert_same_orders(ours: list[Order], theirs: list[Order]) -> None:
    """Equal order for order (sorted), quantities and prices to within one step of 1e-8:
    the paper exchange fills at Decimal prices, the engine at floats, so the strategy's
    average price (and a take profit computed from it) may differ in the last digit."""
    ours, theirs = sorted(ours, key=str), sorted(theirs, key=str)
    assert len(ours) == len(theirs), (ours, theirs)
    for mine, engine in zip(ours, theirs, strict=True):
        assert mine[:3] == engine[:3], (mine, engine)
        for a, b in zip(mine[3:], engine[3:], strict=True):
            assert (a is None and b is None) or abs(a - b) <= STEP, (mine, engine)
