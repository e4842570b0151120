"""One claimed job through the engine: config and bars in, stored result out.

Runs in a worker thread (blocking is fine here). The engine reports progress through
``report``; ``report`` raises when the job was cancelled or taken over, which ends the
run. Results are reshaped into the stored form: metrics keyed like the proto's
BacktestMetrics with decimal strings, the equity curve thinned to at most
``MAX_EQUITY_POINTS``, trades capped at ``MAX_STORED_TRADES``.
"""

from __future__ import annotations

from collections.abc import Callable

from backtest_service.jobs import ClaimedJob
from backtest_service.worker import JobResult

MAX_EQUITY_POINTS = 2_000
MAX_STORED_TRADES = 10_000


def run_job(job: ClaimedJob, report: Callable[[float], None]) -> JobResult:
    """Load the job's bars, run the engine, and shape the result for storage."""
    raise NotImplementedError("waiting for backtest_service.engine")
