"""Small hand-made bar series and configs for strategy and engine tests."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from backtest_service.engine import EngineSettings
from market_data.bars import Bars
from market_data.intervals import Interval
from strategies.config import CapitalAllocation, StrategyConfig

# 2024-01-01 00:00 UTC, a Monday.
START_NS = 1_704_067_200 * 1_000_000_000
FREE = EngineSettings(maker_fee_bps=0, taker_fee_bps=0, slippage_bps=0, benchmark=False)


def bars_from_rows(
    rows: list[tuple[float, float, float, float]],
    *,
    symbol: str = "BTC/USD",
    interval: Interval = Interval.H1,
    volume: float = 1e9,
) -> Bars:
    """Bars from (open, high, low, close) rows, one interval apart from START_NS."""
    data = np.asarray(rows, dtype=np.float64)
    stamps = START_NS + np.arange(len(rows), dtype=np.int64) * interval.nanoseconds
    return Bars(
        symbol,
        interval,
        stamps,
        data[:, 0].copy(),
        data[:, 1].copy(),
        data[:, 2].copy(),
        data[:, 3].copy(),
        np.full(len(rows), volume),
    )


def bars_from_closes(closes: list[float], **kwargs) -> Bars:
    """Each bar opens at the previous close; high/low are the larger/smaller of the two."""
    rows = []
    previous = closes[0]
    for close in closes:
        rows.append((previous, max(previous, close), min(previous, close), close))
        previous = close
    return bars_from_rows(rows, **kwargs)


def config(**fields) -> StrategyConfig:
    """A config with a name, BTC/USD and $1,000 unless overridden."""
    fields.setdefault("name", "test")
    fields.setdefault("base_symbol", "BTC/USD")
    fields.setdefault("capital_allocation", CapitalAllocation(Decimal("1000")))
    return StrategyConfig(**fields)
