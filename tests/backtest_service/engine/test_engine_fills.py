"""Fill rules: next-open market fills, volume cap, whole shares, defaults per asset class."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backtest_service.engine import Costs, EngineSettings, run_backtest
from strategies.config import AssetClass, PositionSizing, PositionSizingMethod, StrategyType
from tests.strategies.handmade import FREE, bars_from_rows, config


def fixed(amount: str, **fields):
    return config(
        strategy_type=StrategyType.BUY_AND_HOLD,
        position_sizing=PositionSizing(PositionSizingMethod.FIXED_AMOUNT, None, Decimal(amount)),
        **fields,
    )


def test_costs_when_not_given_take_honest_asset_class_defaults():
    crypto = Costs.resolve(EngineSettings(), AssetClass.CRYPTO)
    equity = Costs.resolve(EngineSettings(), AssetClass.US_EQUITY)
    assert (crypto.maker_fee, crypto.taker_fee, crypto.slippage) == (0.001, 0.001, 0.0005)
    assert (equity.taker_fee, equity.slippage, equity.max_volume_share) == (0.0, 0.0005, 0.1)


def test_run_when_decided_on_a_close_fills_at_the_next_open_not_the_close():
    rows = [(100, 100, 100, 100), (105, 106, 104, 104), (104, 104, 104, 104)]
    [trade] = run_backtest(fixed("500"), bars_from_rows(rows), FREE).trades
    assert (trade.entry_bar, trade.entry_price) == (1, 105)
    # Sized at the decision's close: 500 / 100 = 5 units, paid at 105.
    assert trade.quantity == 5


def test_run_when_order_exceeds_volume_share_fills_the_rest_on_later_bars():
    rows = [(100, 100, 100, 100)] + [(100 + k, 100 + k, 100 + k, 100 + k) for k in range(1, 5)]
    bars = bars_from_rows(rows, volume=20.0)  # 10% of 20 = 2 units per bar
    result = run_backtest(fixed("500"), bars, FREE)

    [trade] = result.trades
    assert trade.quantity == pytest.approx(5)
    assert result.fills == 3  # 2 @ 101, 2 @ 102, 1 @ 103
    assert trade.entry_price == pytest.approx((2 * 101 + 2 * 102 + 103) / 5)


def test_run_when_taker_fee_and_slippage_apply_charges_both():
    rows = [(100, 100, 100, 100), (100, 100, 100, 100), (100, 100, 100, 100)]
    settings = EngineSettings(taker_fee_bps=10, slippage_bps=5, benchmark=False)
    result = run_backtest(fixed("500"), bars_from_rows(rows), settings)

    [trade] = result.trades
    assert trade.entry_price == pytest.approx(100.05)
    assert result.metrics.fees_paid == pytest.approx(5 * 100.05 * 0.001)
    assert result.metrics.final_equity == pytest.approx(1000 - 5 * 0.05 - 5 * 100.05 * 0.001)


def test_run_when_equity_not_fractional_buys_whole_shares_unless_enabled():
    rows = [(300, 300, 300, 300)] * 3
    bars = bars_from_rows(rows, symbol="AAPL")
    whole = run_backtest(fixed("500", base_symbol="AAPL"), bars, FREE)
    fractional = run_backtest(fixed("500", base_symbol="AAPL", fractional_enabled=True), bars, FREE)
    assert whole.trades[0].quantity == 1
    assert fractional.trades[0].quantity == pytest.approx(500 / 300, abs=1e-7)


def test_run_when_capital_is_too_small_for_one_share_rejects_by_capital():
    rows = [(300, 300, 300, 300)] * 3
    bars = bars_from_rows(rows, symbol="AAPL")
    result = run_backtest(fixed("200", base_symbol="AAPL"), bars, FREE)
    assert result.trades == []
    assert result.signals_rejected["by_capital"] == 1
