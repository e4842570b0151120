"""The project's metrics equal empyrical-reloaded's on a stored equity curve, to 1e-9."""

from __future__ import annotations

from pathlib import Path

import empyrical
import numpy as np
import pandas as pd
import pytest

from backtest_service.engine.metrics import curve_metrics

CAPITAL = 10_000.0
CURVE = Path(__file__).parent / "data" / "dca_eth_1h_equity.csv"
CRYPTO_HOURS = 365 * 24  # crypto trades 24/7: 8,760 hourly bars a year


@pytest.fixture(scope="module")
def equity() -> np.ndarray:
    return pd.read_csv(CURVE, comment="#")["equity"].to_numpy()


@pytest.fixture(scope="module")
def returns(equity) -> pd.Series:
    # Independent of the engine: pandas' pct_change over capital followed by the curve.
    return pd.Series(np.r_[CAPITAL, equity]).pct_change().dropna()


def close(value: float, expected: float) -> bool:
    return value == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("periods", [CRYPTO_HOURS, 252 * 7])
def test_curve_metrics_when_compared_with_empyrical_are_equal(equity, returns, periods):
    ours = curve_metrics(CAPITAL, equity, periods)

    assert close(ours.total_return, empyrical.cum_returns_final(returns))
    assert close(ours.cagr, empyrical.annual_return(returns, annualization=periods))
    assert close(ours.volatility, empyrical.annual_volatility(returns, annualization=periods))
    assert close(ours.sharpe, empyrical.sharpe_ratio(returns, annualization=periods))
    assert close(ours.sortino, empyrical.sortino_ratio(returns, annualization=periods))
    assert close(ours.max_drawdown, empyrical.max_drawdown(returns))
    assert close(ours.calmar, empyrical.calmar_ratio(returns, annualization=periods))


def test_curve_metrics_when_risk_free_rate_set_match_empyrical_per_period_rate(equity, returns):
    rate = 0.04
    per_period = (1 + rate) ** (1 / CRYPTO_HOURS) - 1
    ours = curve_metrics(CAPITAL, equity, CRYPTO_HOURS, risk_free_rate=rate)

    expected = empyrical.sharpe_ratio(returns, risk_free=per_period, annualization=CRYPTO_HOURS)
    assert close(ours.sharpe, expected)
    assert close(
        ours.sortino,
        empyrical.sortino_ratio(returns, required_return=per_period, annualization=CRYPTO_HOURS),
    )


def test_curve_metrics_when_curve_dips_and_recovers_measures_the_underwater_stretch():
    curve = np.array([100, 110, 99, 104, 111, 108, 109], dtype=float)
    ours = curve_metrics(100.0, curve, 365)
    assert ours.max_drawdown == pytest.approx(99 / 110 - 1)
    assert ours.max_drawdown_bars == 2  # two bars under 110 (99, 104), two under 111


def test_curve_metrics_when_curve_never_falls_has_no_calmar():
    ours = curve_metrics(100.0, np.array([101.0, 102.0, 103.0]), 365)
    assert ours.max_drawdown == 0 and np.isnan(ours.calmar)
