"""Backtest engine: spot grid (50 levels) and DCA over five years of 1-minute bars.

Both are timed after a warm-up (best and median of a few runs) beside the floor a
vectorised engine reaches on the same bars: a plain NumPy SMA crossover (two cumsum
moving averages, positions, returns, equity). Also reported: peak memory of the whole
run (ru_maxrss: bars, engine and results together) and how many bars the engine had to
look at (events) out of the 2.6 million.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import numpy as np

from backtest_service.engine import EngineSettings, run_backtest
from bench.harness import result
from market_data import load_bars
from strategies.config import (
    CapitalAllocation,
    DcaSettings,
    GridMode,
    GridSettings,
    StrategyConfig,
    StrategyType,
)

SYMBOL = "BTC/USD"
START, END = datetime(2019, 1, 1), datetime(2024, 1, 1)  # 5 x 365 + 1 days of minutes
SEED = 3
RUNS = 5
BASELINE = "numpy vectorised SMA crossover"


def sma_crossover_numpy(close: np.ndarray, fast: int = 50, slow: int = 200) -> float:
    """The vectorised floor: long while SMA(fast) > SMA(slow), entering on the next bar."""
    total = np.concatenate(([0.0], np.cumsum(close)))
    fast_sma = (total[fast:] - total[:-fast]) / fast
    slow_sma = (total[slow:] - total[:-slow]) / slow
    long = fast_sma[slow - fast :] > slow_sma  # aligned on bars slow-1 .. n-1
    returns = close[slow:] / close[slow - 1 : -1] - 1.0
    equity = np.cumprod(1.0 + returns * long[:-1])
    return float(equity[-1])


def grid_config(price: float) -> StrategyConfig:
    """A 50-level geometric grid from half to twice the starting price, $10,000."""
    return StrategyConfig(
        name="bench grid",
        strategy_type=StrategyType.SPOT_GRID,
        base_symbol=SYMBOL,
        capital_allocation=CapitalAllocation(Decimal("10000")),
        grid=GridSettings(
            lower_price=Decimal(round(price * 0.5)),
            upper_price=Decimal(round(price * 2.0)),
            grid_mode=GridMode.GEOMETRIC,
            grid_count=50,
        ),
    )


def dca_config() -> StrategyConfig:
    """$500 base, 5 safety orders from -1.5% (step x1.2, volume x1.5), take profit 1.5%."""
    return StrategyConfig(
        name="bench dca",
        strategy_type=StrategyType.DCA,
        base_symbol=SYMBOL,
        capital_allocation=CapitalAllocation(Decimal("10000")),
        dca=DcaSettings(
            base_order_amount=Decimal("500"),
            safety_order_amount=Decimal("500"),
            max_safety_orders=5,
            price_deviation_pct=Decimal("1.5"),
            step_scale=Decimal("1.2"),
            volume_scale=Decimal("1.5"),
            take_profit_pct=Decimal("1.5"),
        ),
    )


def _timed(call: Callable[[], object], runs: int = RUNS) -> tuple[float, float, object]:
    """(best, median) seconds of ``runs`` calls after one warm-up call, and the last value."""
    value = call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        value = call()
        samples.append(time.perf_counter() - started)
    return min(samples), statistics.median(samples), value


def run() -> list[dict]:
    bars = load_bars(SYMBOL, "1m", START, END, seed=SEED)
    close = bars.close
    floor_best, floor_median, _ = _timed(lambda: sma_crossover_numpy(close), runs=9)
    # The benchmark comparison (buy and hold) is a separate run: leave it out of the timing.
    settings = EngineSettings(benchmark=False)
    rows = [
        result(f"backtest: {BASELINE}, {len(bars):,} 1m bars (best)", floor_best, "s"),
    ]
    for label, config in (
        ("spot grid 50 levels", grid_config(float(close[0]))),
        ("DCA 5 safety orders", dca_config()),
    ):
        best, median, outcome = _timed(lambda c=config: run_backtest(c, bars, settings))
        rows.append(
            result(f"backtest: {label}, 5y 1m bars (best)", best, "s", BASELINE, floor_best)
        )
        rows.append(
            result(f"backtest: {label}, 5y 1m bars (median)", median, "s", BASELINE, floor_median)
        )
        rows.append(
            result(
                f"backtest: {label}, bars processed (events)",
                float(outcome.events_processed),  # type: ignore[attr-defined]
                "bars",
                f"all {len(bars):,} bars",
                float(len(bars)),
            )
        )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    rows.append(result("backtest: peak memory (bars + engine + results)", peak_mib, "MiB"))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
