"""Vectorised and incremental indicators and signals agree bit for bit."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from market_data.intervals import Interval
from strategies.config import TradeWindow
from strategies.indicators import RsiState, SmaState, rsi_series, sma_series
from strategies.signals import LiveSignals, SignalPlan, SignalSpec
from strategies.window import WindowRule
from tests.strategies.handmade import bars_from_closes

prices = st.lists(
    st.floats(min_value=1.0, max_value=1e5, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=300,
)


def same(a: np.ndarray, b: list[float]) -> bool:
    return np.array_equal(a, np.asarray(b), equal_nan=True)


@given(prices, st.integers(min_value=1, max_value=40))
def test_sma_series_when_computed_incrementally_is_bit_identical(closes, period):
    state = SmaState(period)
    assert same(sma_series(np.asarray(closes), period), [state.update(c) for c in closes])


@given(prices, st.integers(min_value=2, max_value=40))
def test_rsi_series_when_computed_incrementally_is_bit_identical(closes, period):
    state = RsiState(period)
    assert same(rsi_series(np.asarray(closes), period), [state.update(c) for c in closes])


@settings(max_examples=60)
@given(
    prices,
    st.sampled_from(
        [
            SignalSpec("sma", fast=2, slow=5),
            SignalSpec("sma", fast=1, slow=3),
            SignalSpec("rsi", rsi_period=3, buy_level=35.0, sell_level=65.0),
            SignalSpec("rsi_filter", rsi_period=4, buy_level=45.0),
        ]
    ),
)
def test_signal_plan_when_replayed_live_gives_the_same_signals(closes, spec):
    bars = bars_from_closes(closes, interval=Interval.M15)
    window = WindowRule(TradeWindow(True, "01:00", "03:30", (1, 2), "Europe/Paris"))
    plan = SignalPlan(bars, spec, window)
    live = LiveSignals(spec, window, Interval.M15.nanoseconds)
    for i, close in enumerate(closes):
        view = live.view(int(bars.timestamps[i]), close, close, close, close, math.nan)
        assert (view.signal, view.entry_ok, view.in_window) == (
            plan.signal[i],
            plan.entry_ok[i],
            plan.in_window[i],
        )


def test_window_rule_when_it_wraps_midnight_contains_both_sides():
    rule = WindowRule(TradeWindow(True, "22:00", "02:00", (), "UTC"))
    hour = 3_600 * 1_000_000_000
    assert [rule.contains(h * hour) for h in (21, 22, 1, 2)] == [False, True, True, False]
    assert rule.mask(np.array([21, 22, 1, 2]) * hour).tolist() == [False, True, True, False]
