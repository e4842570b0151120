"""SMA crossover, RSI reversion, buy and hold, and the risk controls, on hand-made series."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from backtest_service.engine import EngineSettings, run_backtest
from strategies.config import (
    PositionSizing,
    PositionSizingMethod,
    RiskControls,
    StrategyType,
    TechnicalIndicators,
    TradeWindow,
)
from strategies.indicators import rsi_series, sma_series
from tests.strategies.handmade import FREE, bars_from_closes, bars_from_rows, config

FIXED_110 = PositionSizing(PositionSizingMethod.FIXED_AMOUNT, None, Decimal("110"))
# fast SMA(2) - slow SMA(3) turns positive at bar 6 and negative at bar 9.
SMA_CLOSES = [10, 10, 10, 9, 8, 9, 11, 12, 10, 8, 7]


def sma_config(**overrides):
    overrides.setdefault("position_sizing", FIXED_110)
    return config(
        strategy_type=StrategyType.SMA_CROSSOVER,
        technical_indicators=TechnicalIndicators(sma_fast_period=2, sma_slow_period=3),
        **overrides,
    )


def test_sma_series_when_period_three_matches_hand_averages():
    values = sma_series(np.array(SMA_CLOSES, dtype=float), 3)
    assert np.isnan(values[:2]).all()
    assert values[2:7] == pytest.approx([10, 29 / 3, 9, 26 / 3, 28 / 3])


def test_run_when_fast_sma_crosses_slow_enters_next_open_and_exits_on_cross_down():
    result = run_backtest(sma_config(), bars_from_closes(SMA_CLOSES), FREE)

    # Signal on bar 6's close (11): buy 110 / 11 = 10 units at bar 7's open (11);
    # exit signal on bar 9's close: sell at bar 10's open (8).
    [trade] = result.trades
    assert (trade.entry_bar, trade.exit_bar) == (7, 10)
    assert (trade.entry_price, trade.exit_price, trade.quantity) == (11, 8, 10)
    assert trade.exit_reason == "signal_exit"
    assert result.metrics.final_equity == pytest.approx(1000 - 30)


def test_rsi_series_when_period_two_matches_wilder_by_hand():
    values = rsi_series(np.array([10, 11, 12, 11, 10, 9, 10, 11, 12], dtype=float), 2)
    assert values[2:8] == pytest.approx([100, 50, 25, 12.5, 56.25, 78.125])


def test_run_when_rsi_falls_through_buy_level_buys_and_sells_through_sell_level():
    closes = [10, 11, 12, 11, 10, 9, 10, 11, 12]
    result = run_backtest(rsi_config(1), bars_from_closes(closes), FREE)

    # RSI 25 at bar 4 (close 10): 10 units at bar 5's open (10); RSI 78 at bar 7: sold at
    # bar 8's open (11).
    [trade] = result.trades
    assert (trade.entry_bar, trade.exit_bar, trade.quantity) == (5, 8, 10)
    assert result.metrics.final_equity == pytest.approx(1010.0)


STOP_ROWS = [
    (100, 100, 100, 100),  # decision: buy $500
    (100, 101, 97, 98),  # 5 @ 100; stop at 95
    (98, 99, 96, 97),
    (97, 97, 94, 95),  # low 94 reaches the stop: sold at 95
    (95, 120, 95, 120),
]


def stop_config():
    return config(
        strategy_type=StrategyType.BUY_AND_HOLD,
        position_sizing=PositionSizing(PositionSizingMethod.FIXED_AMOUNT, None, Decimal("500")),
        risk_controls=RiskControls(stop_loss_pct=Decimal("5")),
    )


def test_run_when_low_reaches_stop_loss_closes_at_the_stop_on_that_bar():
    result = run_backtest(stop_config(), bars_from_rows(STOP_ROWS), FREE)

    [trade] = result.trades
    assert (trade.exit_bar, trade.exit_price, trade.exit_reason) == (3, 95, "stop_loss")
    assert result.metrics.final_equity == pytest.approx(975.0)


def test_run_when_bar_gaps_below_the_stop_fills_at_the_open_less_slippage():
    rows = [*STOP_ROWS[:3], (93, 94, 90, 92), STOP_ROWS[4]]
    settings = EngineSettings(maker_fee_bps=0, taker_fee_bps=0, slippage_bps=10, benchmark=False)
    result = run_backtest(stop_config(), bars_from_rows(rows), settings)

    [trade] = result.trades
    assert trade.entry_price == pytest.approx(100 * 1.001)  # market buy pays slippage
    assert trade.exit_price == pytest.approx(93 * 0.999)


def test_run_when_take_profit_is_set_sells_at_the_target():
    rows = [(100, 100, 100, 100), (100, 101, 99, 100), (100, 112, 100, 111)]
    tp = config(
        strategy_type=StrategyType.BUY_AND_HOLD,
        position_sizing=PositionSizing(PositionSizingMethod.FIXED_AMOUNT, None, Decimal("500")),
        risk_controls=RiskControls(take_profit_pct=Decimal("10")),
    )
    result = run_backtest(tp, bars_from_rows(rows), FREE)

    [trade] = result.trades
    assert (trade.exit_price, trade.exit_reason) == (pytest.approx(110), "take_profit")


def test_run_when_daily_loss_limit_breaks_flattens_and_rejects_entries_that_day():
    closes = [10, 10, 10, 9, 8, 9, 11, 12, 10, 8, 7]
    limited = sma_config(risk_controls=RiskControls(max_daily_loss_usd=Decimal("5")))
    rows = [(c, c, c, c) for c in closes]
    rows[8] = (12, 12, 11, 11)  # 10 units x 1 = $10 loss from 12: limit $5 -> stop at 11.5
    result = run_backtest(limited, bars_from_rows(rows), FREE)

    [trade] = result.trades
    assert trade.exit_reason == "daily_loss"
    assert trade.exit_price == pytest.approx(11.5)


def test_run_when_outside_trade_window_rejects_the_entry_signal():
    # Bars are hourly from Monday 00:00 UTC; the window 12:00-13:00 excludes bar 6's close.
    windowed = sma_config(
        trade_window=TradeWindow(True, "12:00", "13:00", (), "UTC"),
    )
    result = run_backtest(windowed, bars_from_closes(SMA_CLOSES), FREE)

    assert result.trades == []
    assert result.signals_rejected["by_reason"] == {"trade_window": 1}
    assert result.signals_rejected["by_risk_rules"] == 1


def rsi_config(max_positions: int):
    return config(
        strategy_type=StrategyType.RSI_REVERSION,
        technical_indicators=TechnicalIndicators(
            rsi_period=2, rsi_buy_threshold=Decimal("30"), rsi_sell_threshold=Decimal("70")
        ),
        position_sizing=PositionSizing(
            PositionSizingMethod.FIXED_AMOUNT, None, Decimal("100"), max_positions
        ),
    )


# RSI(2) falls through 30 at bar 4 (25) and again at bar 7 (28.1) without reaching 70.
TWO_DIPS = [10, 11, 12, 11, 10, 9, 10, 9, 8, 8]


def test_run_when_max_positions_reached_rejects_the_next_entry():
    result = run_backtest(rsi_config(1), bars_from_closes(TWO_DIPS), FREE)

    assert len(result.trades) == 1
    assert result.signals_rejected["by_reason"] == {"max_positions": 1}


def test_run_when_two_positions_allowed_takes_the_second_entry():
    result = run_backtest(rsi_config(2), bars_from_closes(TWO_DIPS), FREE)

    assert [t.entry_bar for t in result.trades] == [5, 8]
    assert result.signals_rejected["by_reason"] == {}


def test_run_when_equity_shares_are_whole_rounds_the_quantity_down():
    equity = config(
        strategy_type=StrategyType.BUY_AND_HOLD,
        base_symbol="AAPL",
        position_sizing=PositionSizing(PositionSizingMethod.FIXED_AMOUNT, None, Decimal("1000")),
    )
    bars = bars_from_rows([(300, 300, 300, 300)] * 3, symbol="AAPL")
    [trade] = run_backtest(equity, bars, FREE).trades
    assert trade.quantity == 3  # 1000 / 300 = 3.33 -> 3 shares
