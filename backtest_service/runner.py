"""One claimed job through the engine: config and bars in, stored result out.

Runs in a worker thread (blocking is fine here). The engine reports progress through
``report``; ``report`` raises when the job was cancelled or taken over, which ends the
run. The engine's result is reshaped into the stored form, which is the JSON form of
the proto messages (BacktestMetrics, EquityPoint, BacktestTrade): decimal strings,
ISO times; the engine already thins the equity curve, trades are capped at
``MAX_STORED_TRADES`` (the count of all of them is in ``trade_count``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from backtest_service.convert import config_from_json
from backtest_service.engine import EngineSettings, run_backtest
from backtest_service.jobs import ClaimedJob
from backtest_service.worker import JobResult
from market_data import BarCache, load_bars
from servicekit.money import format_decimal
from strategies.proto_codec import parse_config

MAX_STORED_TRADES = 10_000

# Engine metric name -> stored (proto) name, for the ones passed through as they are.
_SAME_METRICS = {
    "total_return_pct": "total_return_pct",
    "cagr_pct": "cagr_pct",
    "volatility_pct": "volatility_pct",
    "sharpe": "sharpe_ratio",
    "sortino": "sortino_ratio",
    "calmar": "calmar_ratio",
    "win_rate_pct": "win_rate_pct",
    "profit_factor": "profit_factor",
    "average_trade_pnl": "average_trade_pnl",
    "average_trade_return_pct": "average_trade_return_pct",
    "exposure_pct": "exposure_pct",
    "fees_paid": "fees_paid",
    "buy_and_hold_return_pct": "buy_and_hold_return_pct",
    "peak_capital_deployed": "peak_capital_deployed",
    "initial_capital": "initial_capital",
    "final_equity": "final_equity",
}


class EngineRunner:
    """The worker's runner: load bars (through the cache), run the engine, shape it."""

    def __init__(self, bar_cache: BarCache | None = None):
        self._bar_cache = bar_cache

    def __call__(self, job: ClaimedJob, report: Callable[[float], None]) -> JobResult:
        report(0.0)
        config = parse_config(config_from_json(job.config), "config.")
        # The job's capital (the request may override the config's allocation).
        config = dataclasses.replace(
            config,
            capital_allocation=dataclasses.replace(
                config.capital_allocation, allocated_capital=job.initial_capital
            ),
        )
        bars = load_bars(
            job.symbol,
            job.timeframe,
            job.start_at,
            job.end_at,
            source=job.data_source,
            seed=job.seed,
            cache=self._bar_cache,
        )
        result = run_backtest(
            config, bars, settings=engine_settings(job.execution), progress=report
        )
        return stored_result(result.to_dict(max_trades=MAX_STORED_TRADES))


def engine_settings(execution: dict[str, str]) -> EngineSettings:
    """Engine settings with the request's overrides; the rest keep the realistic defaults."""

    def number(name: str) -> float | None:
        value = execution.get(name)
        return float(value) if value else None

    defaults = EngineSettings()
    return dataclasses.replace(
        defaults,
        maker_fee_bps=number("maker_fee_bps"),
        taker_fee_bps=number("taker_fee_bps"),
        slippage_bps=_first_set(number("slippage_bps"), defaults.slippage_bps),
        max_volume_share=_first_set(number("max_volume_share"), defaults.max_volume_share),
    )


def _first_set(value: float | None, default: float) -> float:
    return default if value is None else value


def stored_result(result: dict[str, Any]) -> JobResult:
    """The engine's ``to_dict()`` in the stored (proto JSON) shape."""
    engine = result["metrics"]
    metrics: dict[str, Any] = {}
    for source, target in _SAME_METRICS.items():
        text = decimal_text(engine.get(source))
        if text:
            metrics[target] = text
    drawdown = engine.get("max_drawdown_pct")
    if drawdown is not None:
        metrics["max_drawdown_pct"] = decimal_text(abs(float(drawdown)))  # a positive depth
    days = engine.get("max_drawdown_duration_days")
    if days is not None:
        metrics["max_drawdown_duration_seconds"] = str(round(float(days) * 86400))
    metrics["trade_count"] = int(engine.get("number_of_trades") or 0)
    metrics["open_trades"] = int(engine.get("open_trades") or 0)
    metrics["periods_per_year"] = round(float(engine.get("periods_per_year") or 0))
    metrics["exits_by_reason"] = reason_counts(result.get("exits_by_reason") or {})
    rejected = result.get("signals_rejected") or {}
    metrics["signals_rejected_by_reason"] = reason_counts(rejected.get("by_reason") or {})
    metrics["signals_rejected_capital"] = int(rejected.get("by_capital") or 0)
    metrics["signals_rejected_risk"] = int(rejected.get("by_risk_rules") or 0)
    metrics["monthly_returns"] = [
        {
            "month": month["month"],
            "return_pct": decimal_text(month.get("return_pct")),
            "end_equity": month.get("end_equity") or "",
        }
        for month in result.get("monthly") or ()
    ]
    return JobResult(
        metrics=metrics,
        equity_curve=[
            {"time": point["time"], "equity": point["equity"]}
            for point in result.get("equity_curve") or ()
        ],
        trades=[_trade(trade) for trade in result.get("trades") or ()],
    )


def reason_counts(counts: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"reason": reason, "count": int(count)} for reason, count in sorted(counts.items())]


def decimal_text(value: Any) -> str:
    """A number as a decimal string; "" for missing, NaN or infinite."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if not math.isfinite(float(value)):
        return ""
    return format_decimal(Decimal(repr(float(value))))


def _trade(trade: dict[str, Any]) -> dict[str, Any]:
    stored = {
        "lot": int(trade.get("lot") or 0),
        "quantity": trade.get("quantity") or "",
        "entry_price": trade.get("entry_price") or "",
        "exit_price": trade.get("exit_price") or "",
        "pnl": trade.get("pnl") or "",
        "fees": trade.get("fees") or "",
        "return_pct": decimal_text(trade.get("return_pct")),
        "exit_reason": trade.get("exit_reason") or "",
    }
    for name in ("entry_time", "exit_time"):
        if trade.get(name):
            stored[name] = trade[name]
    return stored
