"""Spot grid on hand-made series: round trips worked out by hand."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from backtest_service.engine import run_backtest
from strategies.config import GridMode, GridSettings, RiskControls, StrategyType
from strategies.grid import grid_levels
from tests.strategies.handmade import FREE, bars_from_rows, config

# Levels 90 / 100 / 110: slot 0 buys at 90 (sells at 100), slot 1 buys at 100 (sells at 110).
GRID = GridSettings(
    lower_price=Decimal("90"),
    upper_price=Decimal("110"),
    grid_count=3,
    grid_mode=GridMode.ARITHMETIC,
)
# The price starts at 105 and oscillates three times across 100 and 110, never near 90.
OSCILLATION = [
    (105, 106, 104, 105),  # seed: buys rest at 90 and 100
    (105, 105, 99, 99),  # buy 5 @ 100
    (99, 111, 99, 111),  # sell 5 @ 110
    (111, 111, 99, 100),  # buy 5 @ 100 (opens above the limit: fills at the limit)
    (100, 112, 100, 112),  # sell 5 @ 110
    (112, 112, 98, 99),  # buy 5 @ 100
    (99, 111, 99, 110),  # sell 5 @ 110
    (110, 110, 105, 105),
]


def grid_config(**overrides):
    return config(strategy_type=StrategyType.SPOT_GRID, grid=GRID, **overrides)


def test_grid_levels_when_arithmetic_or_geometric_are_evenly_stepped():
    assert grid_levels(90, 110, 3, GridMode.ARITHMETIC) == [90, 100, 110]
    assert grid_levels(100, 400, 3, GridMode.GEOMETRIC) == pytest.approx([100, 200, 400])


def test_run_when_price_oscillates_across_two_levels_makes_three_round_trips():
    result = run_backtest(grid_config(), bars_from_rows(OSCILLATION), FREE)

    # $1,000 over 2 slots = $500 per slot; slot 1 trades 500 / 100 = 5 units.
    closed = [t for t in result.trades if not t.is_open]
    assert [(t.entry_price, t.exit_price, t.quantity) for t in closed] == [(100, 110, 5)] * 3
    assert [t.pnl for t in closed] == pytest.approx([50.0, 50.0, 50.0])
    assert result.metrics.number_of_trades == 3
    assert result.exits_by_reason == {"grid_sell": 3}
    assert result.metrics.final_equity == pytest.approx(1150.0)
    assert result.metrics.win_rate_pct == 100.0
    # The buy at 90 was never reached: it stays resting, nothing else traded.
    assert result.fills == 6


def test_run_when_maker_fees_apply_charges_them_on_both_sides():
    settings = dataclasses.replace(FREE, maker_fee_bps=10)
    result = run_backtest(grid_config(), bars_from_rows(OSCILLATION), settings)

    # Each round trip: +50, minus 0.1% of 500 (buy) and of 550 (sell).
    assert result.metrics.final_equity == pytest.approx(1000 + 3 * (50 - 0.5 - 0.55))
    assert result.metrics.fees_paid == pytest.approx(3 * 1.05)


def test_run_when_price_starts_inside_buys_inventory_for_the_levels_above():
    rows = [
        (95, 96, 94, 95),  # seed at 95: slot 1 (100..110) is above: bought at market
        (95, 96, 94, 95),  # market buy 5 @ 95 (next open); its sell rests at 110
        (95, 111, 95, 111),  # sell 5 @ 110
    ]
    result = run_backtest(grid_config(), bars_from_rows(rows), FREE)

    closed = [t for t in result.trades if not t.is_open]
    assert [(t.entry_price, t.exit_price) for t in closed] == [(95, 110)]
    assert result.metrics.final_equity == pytest.approx(1000 + 5 * 15)


def test_run_when_stop_loss_hits_closes_inventory_and_stops_the_grid():
    rows = [
        (105, 106, 104, 105),
        (105, 105, 99, 99),  # buy 5 @ 100; stop at 100 x 0.95 = 95
        (99, 99, 94, 94),  # low 94 <= 95: stop sells 5 @ 95; the buy at 90 is cancelled
        (94, 94, 80, 85),  # would have filled the buy at 90
    ]
    grid = grid_config(risk_controls=RiskControls(stop_loss_pct=Decimal("5")))
    result = run_backtest(grid, bars_from_rows(rows), FREE)

    assert result.exits_by_reason == {"stop_loss": 1}
    assert result.metrics.final_equity == pytest.approx(1000 - 5 * 5)
    assert result.fills == 2
