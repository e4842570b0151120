"""The fast path (skipping quiet bars) equals the per-bar path (the live executor's), always."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtest_service.engine import Costs, EngineSettings, simulate
from backtest_service.engine.scan import CrossScanner
from market_data import Interval, synthetic_bars
from strategies.config import (
    CapitalAllocation,
    DcaSettings,
    GridMode,
    GridSettings,
    PositionSizing,
    PositionSizingMethod,
    RiskControls,
    StrategyConfig,
    StrategyType,
    TechnicalIndicators,
    TradeWindow,
)

D = Decimal


def configs(price: float):
    """Strategy configs of every type around ``price``, with and without risk controls."""
    capital = st.sampled_from([D("1000"), D("10000")])
    risk = st.builds(
        RiskControls,
        stop_loss_pct=st.sampled_from([None, D("2"), D("6")]),
        take_profit_pct=st.sampled_from([None, D("3")]),
        max_daily_loss_usd=st.sampled_from([None, D("50")]),
        max_daily_loss_pct=st.sampled_from([None, D("2")]),
    )
    window = st.sampled_from(
        [TradeWindow(), TradeWindow(True, "08:00", "20:00", (1, 2, 3, 4, 5), "America/New_York")]
    )
    sizing = st.sampled_from(
        [
            PositionSizing(),
            PositionSizing(PositionSizingMethod.PCT_EQUITY, D("30"), None, 3),
            PositionSizing(PositionSizingMethod.FIXED_AMOUNT, None, D("400"), 2),
        ]
    )
    p = D(str(round(price)))
    grid = st.builds(
        GridSettings,
        lower_price=st.sampled_from([p * D("0.9"), p * D("0.97")]),
        upper_price=st.sampled_from([p * D("1.03"), p * D("1.1")]),
        grid_mode=st.sampled_from([GridMode.ARITHMETIC, GridMode.GEOMETRIC]),
        grid_count=st.integers(3, 30),
        trailing_enabled=st.booleans(),
    )
    dca = st.builds(
        DcaSettings,
        base_order_amount=st.sampled_from([D("100"), D("300")]),
        safety_order_amount=st.just(D("100")),
        max_safety_orders=st.integers(0, 5),
        price_deviation_pct=st.sampled_from([D("0.3"), D("1")]),
        step_scale=st.sampled_from([D("1"), D("1.5")]),
        volume_scale=st.sampled_from([D("1"), D("2")]),
        take_profit_pct=st.sampled_from([D("0.5"), D("1.5")]),
        rsi_entry_filter=st.booleans(),
    )
    indicators = st.just(TechnicalIndicators(14, D("30"), D("70"), 5, 20))
    return st.builds(
        StrategyConfig,
        name=st.just("prop"),
        strategy_type=st.sampled_from(list(StrategyType)),
        base_symbol=st.just("BTC/USD"),
        capital_allocation=st.builds(CapitalAllocation, capital),
        position_sizing=sizing,
        risk_controls=risk,
        trade_window=window,
        technical_indicators=indicators,
        dca=dca,
        grid=grid,
    )


BARS = synthetic_bars("BTC/USD", Interval.M5, datetime(2024, 1, 1), datetime(2024, 1, 15), 11)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    config=configs(float(BARS.close[0])),
    start=st.integers(0, 2000),
    volume_scale=st.sampled_from([1.0, 1e-3]),
)
def test_simulate_when_fast_or_per_bar_gives_the_same_fills_and_books(config, start, volume_scale):
    # Thin volume makes orders fill partially over several bars: both paths must agree.
    bars = BARS.slice(start, start + 1500)
    bars = bars.with_columns(volume=np.ascontiguousarray(bars.volume * volume_scale))
    costs = Costs.resolve(EngineSettings(), config.resolved_asset_class())

    fast = simulate(config, bars, EngineSettings(mode="fast"), costs)
    per_bar = simulate(config, bars, EngineSettings(mode="per_bar"), costs)

    assert fast.fills == per_bar.fills
    assert fast.rejections == per_bar.rejections
    assert (fast.step_bars, fast.step_cash, fast.step_position) == (
        per_bar.step_bars,
        per_bar.step_cash,
        per_bar.step_position,
    )
    assert fast.events <= len(bars)


@settings(max_examples=200, deadline=None)
@given(
    data=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=2000),
    start=st.integers(0, 2100),
    length=st.integers(0, 2100),
    buy_at=st.one_of(st.just(-np.inf), st.floats(-1.0, 40.0)),
    sell_at=st.one_of(st.just(np.inf), st.floats(60.0, 101.0)),
    close_above=st.one_of(st.just(np.inf), st.floats(50.0, 101.0)),
)
def test_cross_scanner_when_skipping_blocks_finds_the_same_bar_as_a_loop(
    data, start, length, buy_at, sell_at, close_above
):
    low = np.asarray(data)
    high = low + 5.0
    close = low + 2.0
    stop = min(len(low), start + length)
    expected = next(
        (
            i
            for i in range(start, stop)
            if low[i] <= buy_at or high[i] >= sell_at or close[i] > close_above
        ),
        max(stop, start),
    )
    found = CrossScanner(low, high, close).next_cross(start, stop, buy_at, sell_at, close_above)
    assert found == expected or (start >= stop and found == stop)
