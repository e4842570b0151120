"""Results: JSON with decimal strings, bounded curve and progress, monthly breakdown."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest

from backtest_service.engine import EngineSettings, run_backtest
from market_data import load_bars
from servicekit.errors import InvalidArgument
from strategies.config import (
    CapitalAllocation,
    DcaSettings,
    GridSettings,
    StrategyConfig,
    StrategyType,
)
from tests.strategies.handmade import bars_from_rows

D = Decimal
DCA = StrategyConfig(
    name="dca",
    strategy_type=StrategyType.DCA,
    base_symbol="BTC/USD",
    capital_allocation=CapitalAllocation(D("10000")),
    dca=DcaSettings(D("500"), D("500"), 5, D("1"), D("1.3"), D("1.5"), D("1.2")),
)


@pytest.fixture(scope="module")
def quarter():
    return load_bars("BTC/USD", "5m", datetime(2024, 1, 1), datetime(2024, 4, 1), seed=8)


@pytest.fixture(scope="module")
def result(quarter):
    return run_backtest(DCA, quarter)


def test_to_dict_when_serialised_is_json_with_money_as_decimal_strings(result):
    data = json.loads(json.dumps(result.to_dict()))
    metrics = data["metrics"]
    assert Decimal(metrics["final_equity"]) == pytest.approx(
        Decimal(str(result.metrics.final_equity)), abs=Decimal("1e-8")
    )
    assert isinstance(metrics["fees_paid"], str) and Decimal(metrics["fees_paid"]) > 0
    assert all(isinstance(t["pnl"], str) for t in data["trades"])
    assert data["trades_total"] == len(result.trades) > 0
    assert data["start"] == "2024-01-01T00:00:00Z" and data["end"] == "2024-04-01T00:00:00Z"


def test_run_when_series_is_long_downsamples_the_equity_curve(result, quarter):
    assert len(quarter) > 2000
    assert len(result.equity_curve) <= 2000
    assert result.equity_curve[-1][1] == pytest.approx(result.metrics.final_equity)


def test_run_when_months_are_spanned_breaks_returns_down_by_month(result):
    assert [m.month for m in result.monthly] == ["2024-01", "2024-02", "2024-03"]
    growth = 1.0
    for month in result.monthly:
        growth *= 1 + month.return_pct / 100
    assert 100 * (growth - 1) == pytest.approx(result.metrics.total_return_pct)
    assert result.monthly[-1].end_equity == pytest.approx(result.metrics.final_equity)


def test_run_when_not_buy_and_hold_reports_the_buy_and_hold_benchmark(result, quarter):
    # All capital in at the second bar's open (plus 5 bps slippage and a 10 bps fee).
    entry = float(quarter.open[1]) * 1.0005
    held = 100 * (float(quarter.close[-1]) / entry - 1)
    assert result.metrics.buy_and_hold_return_pct == pytest.approx(held, abs=1.0)


def test_run_when_progress_given_reports_a_bounded_rising_fraction(quarter):
    seen: list[float] = []
    run_backtest(DCA, quarter, EngineSettings(benchmark=False), progress=seen.append)
    assert 1 <= len(seen) <= 102
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_run_when_grid_trades_reports_peak_capital_deployed_and_exits(quarter):
    price = D(str(round(float(quarter.close[0]))))
    grid = StrategyConfig(
        name="grid",
        strategy_type=StrategyType.SPOT_GRID,
        base_symbol="BTC/USD",
        capital_allocation=CapitalAllocation(D("10000")),
        grid=GridSettings(price * D("0.8"), price * D("1.2"), None, 30),
    )
    result = run_backtest(grid, quarter)
    assert 0 < result.metrics.peak_capital_deployed <= 10000
    assert result.exits_by_reason.get("grid_sell", 0) == result.metrics.number_of_trades > 0
    assert 0 < result.metrics.exposure_pct <= 100


def test_run_when_fewer_than_two_bars_raises_invalid_argument():
    with pytest.raises(InvalidArgument) as raised:
        run_backtest(DCA, bars_from_rows([(1, 1, 1, 1)]))
    assert raised.value.field == "bars"
