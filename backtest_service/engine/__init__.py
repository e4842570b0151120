"""The backtest engine: strategies from ``strategies`` over ``market_data`` bars.

Public API: ``run_backtest(config, bars, settings=EngineSettings(), progress=None)
-> BacktestResult``; ``EngineSettings``; ``BacktestResult`` (``to_dict()``), ``Metrics``,
``Trade``; ``metrics`` (curve metrics, empyrical-compatible). Fill rules, costs and
metric definitions: docs/backtest-engine.md.
"""

from backtest_service.engine.engine import run_backtest, simulate
from backtest_service.engine.result import BacktestResult, Metrics, MonthlyReturn
from backtest_service.engine.settings import Costs, EngineSettings
from backtest_service.engine.trades import Trade

__all__ = [
    "BacktestResult",
    "Costs",
    "EngineSettings",
    "Metrics",
    "MonthlyReturn",
    "Trade",
    "run_backtest",
    "simulate",
]
