"""The result of one backtest, and its JSON form (money as decimal strings)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from backtest_service.engine.trades import Trade
from servicekit.money import format_decimal


@dataclass(frozen=True, slots=True)
class Metrics:
    """Headline numbers. Percentages are percent (12.5 = 12.5%); money is USD."""

    initial_capital: float
    final_equity: float
    total_return_pct: float
    cagr_pct: float
    max_drawdown_pct: float  # negative
    max_drawdown_duration_days: float
    volatility_pct: float
    sharpe: float
    sortino: float
    calmar: float
    win_rate_pct: float
    profit_factor: float
    number_of_trades: int  # closed round trips
    open_trades: int
    average_trade_pnl: float
    average_trade_return_pct: float
    exposure_pct: float
    fees_paid: float
    buy_and_hold_return_pct: float
    peak_capital_deployed: float
    periods_per_year: float


_MONEY_FIELDS = frozenset(
    {"initial_capital", "final_equity", "average_trade_pnl", "fees_paid", "peak_capital_deployed"}
)


@dataclass(frozen=True, slots=True)
class MonthlyReturn:
    month: str  # "2024-01"
    return_pct: float
    end_equity: float


@dataclass(slots=True)
class BacktestResult:
    symbol: str
    interval: str
    asset_class: str
    strategy_type: str
    start: int  # first bar's open, ns UTC
    end: int  # last bar's close, ns UTC
    bars: int
    costs: dict[str, float]
    metrics: Metrics
    signals_rejected: dict[str, Any]
    exits_by_reason: dict[str, int]
    monthly: list[MonthlyReturn]
    equity_curve: list[tuple[int, float]]  # (ns UTC, equity), at most max_curve_points
    trades: list[Trade]
    timestamps: Any = field(repr=False, default=None)  # bar open times, to date trades
    events_processed: int = 0
    fills: int = 0

    def to_dict(self, max_trades: int | None = None) -> dict[str, Any]:
        """JSON-ready: money as decimal strings, times as ISO 8601 UTC, NaN/inf as null."""
        trades = self.trades if max_trades is None else self.trades[:max_trades]
        return {
            "symbol": self.symbol,
            "interval": self.interval,
            "asset_class": self.asset_class,
            "strategy_type": self.strategy_type,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "bars": self.bars,
            "costs": {k: _number(v) for k, v in self.costs.items()},
            "metrics": {
                name: money(value) if name in _MONEY_FIELDS else _number(value)
                for name, value in ((n, getattr(self.metrics, n)) for n in Metrics.__slots__)
            },
            "signals_rejected": self.signals_rejected,
            "exits_by_reason": self.exits_by_reason,
            "monthly": [
                {
                    "month": m.month,
                    "return_pct": _number(m.return_pct),
                    "end_equity": money(m.end_equity),
                }
                for m in self.monthly
            ],
            "equity_curve": [{"time": _iso(t), "equity": money(v)} for t, v in self.equity_curve],
            "trades": [self._trade(t) for t in trades],
            "trades_total": len(self.trades),
            "events_processed": self.events_processed,
            "fills": self.fills,
        }

    def _trade(self, trade: Trade) -> dict[str, Any]:
        stamps = self.timestamps
        return {
            "lot": trade.lot,
            "entry_time": _iso(int(stamps[trade.entry_bar])) if stamps is not None else None,
            "exit_time": None
            if trade.is_open or stamps is None
            else _iso(int(stamps[trade.exit_bar])),
            "quantity": money(trade.quantity),
            "entry_price": money(trade.entry_price),
            "exit_price": money(trade.exit_price),
            "pnl": money(trade.pnl),
            "fees": money(trade.fees),
            "return_pct": _number(trade.return_pct),
            "exit_reason": trade.exit_reason,
        }


def money(value: float) -> str:
    """A float amount as a decimal string with at most 8 places ("" for NaN)."""
    if value is None or not math.isfinite(value):
        return ""
    return format_decimal(Decimal(f"{value:.8f}"))


def _number(value: float) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 10)


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat().replace("+00:00", "Z")
