"""Performance metrics of an equity curve, defined as empyrical defines them.

``returns`` are simple per-bar returns of equity, the first one measured from the
starting capital. ``periods_per_year`` annualises them: 365 days for crypto (24/7) and
252 sessions for US equities, times the bars in a day (crypto 1m: 525,600; equity 1m:
252 x 390; 1d: 365 or 252).

- total return = final equity / capital - 1
- CAGR = (final / capital) ^ (periods_per_year / number of returns) - 1
- volatility = std(returns, ddof=1) x sqrt(periods_per_year)
- Sharpe = mean(returns - rf) / std(returns - rf, ddof=1) x sqrt(periods_per_year)
- Sortino = mean(returns - rf) x periods_per_year / downside risk, with downside risk =
  sqrt(mean(min(returns - rf, 0)^2)) x sqrt(periods_per_year)
- max drawdown = min over time of equity / running peak - 1 (capital counts as a peak)
- Calmar = CAGR / |max drawdown|
rf is the yearly risk-free rate turned per period as (1 + rf)^(1/periods_per_year) - 1.
Undefined ratios (no variance, no drawdown) are NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class CurveMetrics:
    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float  # negative fraction, e.g. -0.25
    max_drawdown_bars: int  # longest stretch below a previous peak, in bars
    calmar: float


def curve_returns(capital: float, equity: np.ndarray) -> np.ndarray:
    full = np.empty(len(equity) + 1)
    full[0] = capital
    full[1:] = equity
    return full[1:] / full[:-1] - 1.0


def curve_metrics(
    capital: float, equity: np.ndarray, periods_per_year: float, risk_free_rate: float = 0.0
) -> CurveMetrics:
    """All curve metrics of ``equity`` (equity at each bar's close) from ``capital``."""
    returns = curve_returns(capital, equity)
    rf = (1.0 + risk_free_rate) ** (1.0 / periods_per_year) - 1.0
    excess = returns - rf
    total = float(equity[-1] / capital - 1.0) if len(equity) else 0.0
    cagr = annual_return(returns, periods_per_year)
    drawdown, duration = max_drawdown(capital, equity)
    return CurveMetrics(
        total_return=total,
        cagr=cagr,
        volatility=annual_volatility(returns, periods_per_year),
        sharpe=sharpe_ratio(excess, periods_per_year),
        sortino=sortino_ratio(excess, periods_per_year),
        max_drawdown=drawdown,
        max_drawdown_bars=duration,
        calmar=_ratio(cagr, abs(drawdown)) if drawdown < 0 else math.nan,
    )


def annual_return(returns: np.ndarray, periods_per_year: float) -> float:
    if len(returns) == 0:
        return math.nan
    growth = float(np.prod(1.0 + returns))
    return growth ** (periods_per_year / len(returns)) - 1.0


def annual_volatility(returns: np.ndarray, periods_per_year: float) -> float:
    if len(returns) < 2:
        return math.nan
    return float(np.std(returns, ddof=1)) * math.sqrt(periods_per_year)


def sharpe_ratio(excess: np.ndarray, periods_per_year: float) -> float:
    if len(excess) < 2:
        return math.nan
    return _ratio(float(np.mean(excess)), float(np.std(excess, ddof=1))) * math.sqrt(
        periods_per_year
    )


def sortino_ratio(excess: np.ndarray, periods_per_year: float) -> float:
    if len(excess) < 2:
        return math.nan
    downside = np.minimum(excess, 0.0)
    risk = math.sqrt(float(np.mean(downside * downside))) * math.sqrt(periods_per_year)
    return _ratio(float(np.mean(excess)) * periods_per_year, risk)


def max_drawdown(capital: float, equity: np.ndarray) -> tuple[float, int]:
    """(deepest drawdown as a negative fraction, longest underwater stretch in bars)."""
    full = np.empty(len(equity) + 1)
    full[0] = capital
    full[1:] = equity
    peak = np.maximum.accumulate(full)
    drawdown = float(np.min((full - peak) / peak))
    at_peak = np.flatnonzero(full >= peak)
    gaps = np.diff(np.r_[at_peak, len(full)]) - 1
    return drawdown, int(gaps.max()) if len(gaps) else 0


def _ratio(top: float, bottom: float) -> float:
    if bottom == 0 or math.isnan(bottom):
        return math.nan
    return top / bottom
