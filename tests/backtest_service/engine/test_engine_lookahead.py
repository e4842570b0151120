"""No look-ahead: changing future bars never changes an earlier decision or fill."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest_service.engine import Costs, EngineSettings, simulate
from market_data import Interval, synthetic_bars
from strategies import build_strategy
from strategies.config import (
    CapitalAllocation,
    DcaSettings,
    GridSettings,
    RiskControls,
    StrategyConfig,
    StrategyType,
    TechnicalIndicators,
)

D = Decimal
BARS = synthetic_bars("BTC/USD", Interval.M15, datetime(2024, 2, 1), datetime(2024, 2, 15), 3)
PRICE = D(str(round(float(BARS.close[0]))))
CONFIGS = [
    StrategyConfig(
        name=t.value,
        strategy_type=t,
        base_symbol="BTC/USD",
        capital_allocation=CapitalAllocation(D("5000")),
        risk_controls=RiskControls(stop_loss_pct=D("3"), max_daily_loss_pct=D("2")),
        technical_indicators=TechnicalIndicators(14, D("35"), D("65"), 8, 30),
        dca=DcaSettings(D("200"), D("200"), 4, D("0.8"), D("1.2"), D("1.5"), D("1"), True),
        grid=GridSettings(PRICE * D("0.95"), PRICE * D("1.05"), None, 15),
    )
    for t in StrategyType
]
COSTS = Costs.resolve(EngineSettings(), CONFIGS[0].resolved_asset_class())


def perturbed(cut: int, seed: int):
    """The same bars up to ``cut``, a different (still consistent) series after it."""
    rng = np.random.default_rng(seed)
    columns = {}
    factor = np.exp(rng.normal(0, 0.01, len(BARS) - cut - 1).cumsum())
    for name in ("open", "high", "low", "close"):
        column = getattr(BARS, name).copy()
        column[cut + 1 :] *= factor
        columns[name] = column
    columns["volume"] = BARS.volume.copy()
    columns["volume"][cut + 1 :] *= rng.uniform(0.1, 3, len(BARS) - cut - 1)
    return BARS.with_columns(**columns)


@settings(max_examples=25, deadline=None)
@given(
    config=st.sampled_from(CONFIGS),
    cut=st.integers(1, len(BARS) - 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_simulate_when_future_bars_change_keeps_every_earlier_fill_and_book(config, cut, seed):
    original = simulate(config, BARS, EngineSettings(), COSTS)
    changed = simulate(config, perturbed(cut, seed), EngineSettings(), COSTS)

    assert [f for f in original.fills if f.bar_index <= cut] == [
        f for f in changed.fills if f.bar_index <= cut
    ]
    before = [k for k, bar in enumerate(original.step_bars) if bar <= cut]
    assert [original.step_cash[k] for k in before] == [
        changed.step_cash[k] for k in range(len(before))
    ]


@settings(max_examples=25, deadline=None)
@given(
    config=st.sampled_from(CONFIGS),
    cut=st.integers(1, len(BARS) - 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_signal_plan_when_future_bars_change_keeps_every_earlier_signal(config, cut, seed):
    """The vectorised indicators see the whole series at once; they must still be causal."""
    strategy = build_strategy(config)
    original = strategy.plan(BARS)
    changed = strategy.plan(perturbed(cut, seed))

    for name in ("signal", "entry_ok", "in_window", "day_start"):
        assert np.array_equal(getattr(original, name)[: cut + 1], getattr(changed, name)[: cut + 1])
