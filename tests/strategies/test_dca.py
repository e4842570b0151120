"""DCA on hand-made series: safety orders at the right deviations, take profit on the average."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backtest_service.engine import run_backtest
from market_data.intervals import Interval
from strategies import LiveRunner, build_strategy
from strategies.config import DcaSettings, StrategyType
from strategies.dca import safety_levels
from strategies.orders import LIMIT, Fill, PlaceOrder
from tests.strategies.handmade import FREE, START_NS, bars_from_rows, config

DCA = DcaSettings(
    base_order_amount=Decimal("100"),
    safety_order_amount=Decimal("100"),
    max_safety_orders=3,
    price_deviation_pct=Decimal("2"),
    step_scale=Decimal("2"),
    volume_scale=Decimal("2"),
    take_profit_pct=Decimal("3"),
)


def dca_config():
    return config(strategy_type=StrategyType.DCA, dca=DCA)


def test_safety_levels_when_step_scale_is_two_double_each_step():
    # 2%, then 2% + 4%, then 2% + 4% + 8%.
    assert safety_levels(2.0, 2.0, 3) == pytest.approx([0.02, 0.06, 0.14])


def test_on_fill_when_base_order_fills_places_safety_orders_at_the_deviations():
    strategy = build_strategy(dca_config())
    runner = LiveRunner(strategy, Interval.H1)
    runner.begin_bar(START_NS)
    [base] = runner.end_bar(START_NS, 100, 100, 100, 100, 1e9)
    assert (base.kind, base.quantity) == ("market", 1.0)

    intents = runner.on_fill(Fill(base.order_id, "buy", 1.0, 100.0, 0.0, 1, True))

    safety = [i for i in intents if isinstance(i, PlaceOrder) and i.side == "buy"]
    assert [o.kind for o in safety] == [LIMIT] * 3
    assert [o.price for o in safety] == pytest.approx([98.0, 94.0, 86.0])
    # $100, $200, $400 (volume scale 2) at those prices.
    assert [o.quantity for o in safety] == pytest.approx([100 / 98, 200 / 94, 400 / 86])
    [take_profit] = [i for i in intents if isinstance(i, PlaceOrder) and i.side == "sell"]
    assert take_profit.price == pytest.approx(103.0)


def test_run_when_price_dips_twice_then_recovers_takes_profit_on_the_average():
    rows = [
        (100, 100, 100, 100),  # decision: base order
        (100, 100.5, 99, 99.5),  # base 1 @ 100; safety at 98 / 94 / 86, take profit 103
        (99.5, 99.5, 97.5, 98),  # safety 1 @ 98
        (98, 98.5, 93, 94),  # safety 2 @ 94
        (94, 100, 94, 99.5),  # take profit at 3% over the average
    ]
    result = run_backtest(dca_config(), bars_from_rows(rows), FREE)

    # $400 invested in total; 3% over its average price returns exactly $12.
    [trade] = [t for t in result.trades if not t.is_open]
    units = 1 + 100 / 98 + 200 / 94
    assert trade.quantity == pytest.approx(units)
    assert trade.entry_price == pytest.approx(400 / units)
    assert trade.exit_price == pytest.approx(400 / units * 1.03)
    assert trade.pnl == pytest.approx(12.0)
    assert result.exits_by_reason == {"take_profit": 1}
    assert result.metrics.final_equity == pytest.approx(1012.0)
    assert result.metrics.peak_capital_deployed == pytest.approx(400.0)


def test_run_when_price_never_dips_takes_profit_on_the_base_order_alone():
    rows = [(100, 100, 100, 100), (100, 101, 99.5, 100.5), (100.5, 103.5, 100.5, 103)]
    result = run_backtest(dca_config(), bars_from_rows(rows), FREE)

    assert result.metrics.final_equity == pytest.approx(1003.0)
    assert result.fills == 2
