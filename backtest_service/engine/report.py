"""Turning a simulation log into a BacktestResult: curve, metrics, trades, breakdowns."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from backtest_service.engine.metrics import curve_metrics
from backtest_service.engine.result import BacktestResult, Metrics, MonthlyReturn
from backtest_service.engine.settings import Costs
from backtest_service.engine.simulator import SimulationLog
from backtest_service.engine.trades import Trade, build_trades
from market_data.bars import Bars
from strategies.orders import RISK_REASONS, Reason

NS_PER_DAY = 86_400 * 1_000_000_000


def equity_curve(bars: Bars, capital: float, log: SimulationLog) -> tuple[np.ndarray, np.ndarray]:
    """(equity at each bar's close, position at each bar's close) from the logged steps."""
    n = len(bars)
    steps = np.asarray(log.step_bars, dtype=np.int64)
    lengths = np.diff(np.r_[0, steps, n])
    cash = np.repeat(np.r_[capital, log.step_cash], lengths)
    position = np.repeat(np.r_[0.0, log.step_position], lengths)
    return cash + position * bars.close, position


def build_result(
    bars: Bars,
    strategy_type: str,
    asset_class: str,
    capital: float,
    costs: Costs,
    log: SimulationLog,
    periods_per_year: float,
    risk_free_rate: float,
    max_curve_points: int,
    buy_and_hold_return_pct: float,
) -> BacktestResult:
    equity, position = equity_curve(bars, capital, log)
    curve = curve_metrics(capital, equity, periods_per_year, risk_free_rate)
    trades = build_trades(log.fills, float(bars.close[-1]), len(bars) - 1)
    closed = [t for t in trades if not t.is_open]
    pnls = np.array([t.pnl for t in closed])
    wins, losses = pnls[pnls > 0].sum(), -pnls[pnls < 0].sum()
    bar_days = bars.interval.nanoseconds / NS_PER_DAY
    metrics = Metrics(
        initial_capital=capital,
        final_equity=float(equity[-1]),
        total_return_pct=100.0 * curve.total_return,
        cagr_pct=100.0 * curve.cagr,
        max_drawdown_pct=100.0 * curve.max_drawdown,
        max_drawdown_duration_days=_underwater_days(bars, curve.max_drawdown_bars, bar_days),
        volatility_pct=100.0 * curve.volatility,
        sharpe=curve.sharpe,
        sortino=curve.sortino,
        calmar=curve.calmar,
        win_rate_pct=100.0 * float(np.mean(pnls > 0)) if len(pnls) else math.nan,
        profit_factor=float(wins / losses) if losses > 0 else (math.inf if wins > 0 else math.nan),
        number_of_trades=len(closed),
        open_trades=len(trades) - len(closed),
        average_trade_pnl=float(pnls.mean()) if len(pnls) else math.nan,
        average_trade_return_pct=float(np.mean([t.return_pct for t in closed]))
        if closed
        else math.nan,
        exposure_pct=100.0 * float(np.count_nonzero(position > 0)) / len(bars),
        fees_paid=float(sum(f.fee for f in log.fills)),
        buy_and_hold_return_pct=buy_and_hold_return_pct,
        peak_capital_deployed=max(log.step_cost, default=0.0),
        periods_per_year=periods_per_year,
    )
    return BacktestResult(
        symbol=bars.symbol,
        interval=bars.interval.value,
        asset_class=asset_class,
        strategy_type=strategy_type,
        start=int(bars.timestamps[0]),
        end=int(bars.timestamps[-1]) + bars.interval.nanoseconds,
        bars=len(bars),
        costs={
            "maker_fee_bps": costs.maker_fee * 1e4,
            "taker_fee_bps": costs.taker_fee * 1e4,
            "slippage_bps": costs.slippage * 1e4,
            "max_volume_share": costs.max_volume_share,
        },
        metrics=metrics,
        signals_rejected=_rejections(log.rejections),
        exits_by_reason=dict(Counter(t.exit_reason for t in closed)),
        monthly=monthly_returns(bars, capital, equity),
        equity_curve=downsample(bars, equity, max_curve_points),
        trades=trades,
        timestamps=bars.timestamps,
        events_processed=log.events,
        fills=len(log.fills),
    )


def _underwater_days(bars: Bars, stretch_bars: int, bar_days: float) -> float:
    return stretch_bars * bar_days


def _rejections(counts: Counter) -> dict:
    by_risk = {k: v for k, v in counts.items() if k in RISK_REASONS}
    return {
        "by_capital": counts.get(Reason.CAPITAL, 0),
        "by_risk_rules": sum(by_risk.values()),
        "by_reason": dict(sorted(counts.items())),
    }


def monthly_returns(bars: Bars, capital: float, equity: np.ndarray) -> list[MonthlyReturn]:
    """Return of each calendar month (UTC), from the previous month's last close."""
    first = np.datetime64(int(bars.timestamps[0]), "ns").astype("datetime64[M]")
    last = np.datetime64(int(bars.timestamps[-1]), "ns").astype("datetime64[M]")
    months = np.arange(first, last + 1)
    month_ends = (months + 1).astype("datetime64[ns]").astype(np.int64)
    last_bar = np.searchsorted(bars.timestamps, month_ends) - 1
    out, previous = [], capital
    for month, index in zip(months, last_bar.tolist(), strict=True):
        if index < 0:
            continue
        value = float(equity[index])
        out.append(MonthlyReturn(str(month), 100.0 * (value / previous - 1.0), value))
        previous = value
    return out


def downsample(bars: Bars, equity: np.ndarray, points: int) -> list[tuple[int, float]]:
    """At most ``points`` (time, equity) pairs: the close of evenly spaced buckets, keeping
    the first bar, the last bar and the lowest point."""
    n = len(equity)
    close_times = bars.timestamps + bars.interval.nanoseconds
    if n <= points:
        picks = np.arange(n)
    else:
        picks = np.unique(
            np.r_[np.linspace(0, n - 1, points - 1).astype(np.int64), int(np.argmin(equity))]
        )
    return list(zip(close_times[picks].tolist(), equity[picks].tolist(), strict=True))


__all__ = ["Trade", "build_result", "equity_curve"]
