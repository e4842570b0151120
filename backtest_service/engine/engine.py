"""run_backtest: one strategy config over one series of bars."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from backtest_service.engine.fills import FillModel
from backtest_service.engine.report import build_result
from backtest_service.engine.result import BacktestResult
from backtest_service.engine.settings import Costs, EngineSettings
from backtest_service.engine.simulator import SimulationLog, Simulator
from market_data.bars import Bars
from market_data.sessions import bars_per_year
from market_data.symbols import AssetClass as MarketAssetClass
from servicekit.errors import InvalidArgument
from strategies import LiveRunner, build_strategy
from strategies.config import (
    CapitalAllocation,
    StrategyConfig,
    StrategyType,
)


def run_backtest(
    config: StrategyConfig,
    bars: Bars,
    settings: EngineSettings = EngineSettings(),  # noqa: B008 (frozen, shared safely)
    progress: Callable[[float], None] | None = None,
) -> BacktestResult:
    """Backtest ``config`` on ``bars``.

    Raises InvalidArgument for a bad config (field named) or empty bars (``bars``).
    ``progress`` (optional) is called with a fraction in [0, 1], at most ~100 times.
    """
    if len(bars) < 2:
        raise InvalidArgument("bars", "a backtest needs at least two bars")
    if settings.mode not in ("fast", "per_bar"):
        raise InvalidArgument("settings.mode", "must be 'fast' or 'per_bar'")
    strategy = build_strategy(config)
    asset_class = config.resolved_asset_class()
    costs = Costs.resolve(settings, asset_class)
    log = simulate(config, bars, settings, costs, progress)
    benchmark = (
        _buy_and_hold_return(config, bars, settings)
        if settings.benchmark and config.strategy_type is not StrategyType.BUY_AND_HOLD
        else None
    )
    periods = bars_per_year(MarketAssetClass(asset_class.value), bars.interval)
    result = build_result(
        bars,
        config.strategy_type.value,  # type: ignore[union-attr]
        asset_class.value,
        strategy.risk.capital,
        costs,
        log,
        periods,
        settings.risk_free_rate,
        settings.max_curve_points,
        0.0,
    )
    if benchmark is None:
        benchmark = result.metrics.total_return_pct
    result.metrics = dataclasses.replace(result.metrics, buy_and_hold_return_pct=benchmark)
    if progress is not None:
        progress(1.0)
    return result


def simulate(
    config: StrategyConfig,
    bars: Bars,
    settings: EngineSettings,
    costs: Costs,
    progress: Callable[[float], None] | None = None,
) -> SimulationLog:
    """Only the simulation (fills, rejections, books), in the requested mode."""
    strategy = build_strategy(config)
    simulator = Simulator(strategy, bars, FillModel(costs))
    if settings.mode == "per_bar":
        return simulator.run_per_bar(LiveRunner(strategy, bars.interval), progress)
    return simulator.run_fast(strategy.plan(bars), progress)


def _buy_and_hold_return(config: StrategyConfig, bars: Bars, settings: EngineSettings) -> float:
    """Total return (%) of buying with all the capital at the first decision and holding."""
    benchmark = StrategyConfig(
        name="buy and hold",
        strategy_type=StrategyType.BUY_AND_HOLD,
        base_symbol=config.base_symbol,
        asset_class=config.asset_class,
        capital_allocation=CapitalAllocation(config.capital_allocation.allocated_capital),
        fractional_enabled=config.fractional_enabled,
    )
    costs = Costs.resolve(settings, config.resolved_asset_class())
    log = simulate(benchmark, bars, dataclasses.replace(settings, mode="fast"), costs)
    capital = float(config.capital_allocation.allocated_capital)  # type: ignore[arg-type]
    final_cash = log.step_cash[-1] if log.step_cash else capital
    final_position = log.step_position[-1] if log.step_position else 0.0
    return 100.0 * ((final_cash + final_position * float(bars.close[-1])) / capital - 1.0)
