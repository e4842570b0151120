"""Bootstrap of the backtest service: wire stores, peers, workers; register the servicer."""

from __future__ import annotations

import asyncio

import asyncpg

from backtest_service.backtests import BacktestJobs
from backtest_service.bar_cache import DatabaseBarCache
from backtest_service.config import BacktestSettings
from backtest_service.convert import config_from_json
from backtest_service.finisher import ServiceFinisher
from backtest_service.jobs import JobQueue
from backtest_service.marketplace import Marketplace
from backtest_service.peers import NotificationPeer, RiskPeer
from backtest_service.progress import ProgressHub
from backtest_service.runner import EngineRunner
from backtest_service.service import BacktestServicer, register
from backtest_service.worker import JobRunner, Worker
from servicekit.server import ServiceApp


def build_worker(
    pool: asyncpg.Pool,
    settings: BacktestSettings,
    *,
    risk: RiskPeer,
    notifications: NotificationPeer,
    marketplace: Marketplace,
    runner: JobRunner | None = None,
    worker_id: str | None = None,
) -> Worker:
    """A worker claiming jobs from this database (one per replica; tests make several).

    Call it inside the service's event loop: the bars cache runs its queries there.
    """
    queue = JobQueue(pool, lease_seconds=settings.lease_seconds, max_attempts=settings.max_attempts)
    finisher = ServiceFinisher(
        pool,
        risk,
        notifications,
        config_to_proto=config_from_json,
        marketplace_sweep=marketplace.schedule_pending_verifications,
        notify_retry_after_seconds=settings.notify_retry_after_seconds,
    )
    if runner is None:
        runner = EngineRunner(DatabaseBarCache(pool, asyncio.get_running_loop()))
    return Worker(
        queue,
        runner,
        finisher,
        concurrency=settings.worker_concurrency,
        poll_interval_seconds=settings.worker_poll_interval_seconds,
        heartbeat_interval_seconds=settings.heartbeat_interval_seconds,
        worker_id=worker_id,
    )


async def build(app: ServiceApp) -> None:
    """Register BacktestService; start the progress listener and (if enabled) a worker."""
    settings: BacktestSettings = app.settings  # type: ignore[assignment]
    risk = RiskPeer(settings)
    notifications = NotificationPeer(settings)
    app.on_shutdown(risk.close)
    app.on_shutdown(notifications.close)

    hub = ProgressHub(app.pool)
    app.add_background(hub.run)
    jobs = BacktestJobs(
        app.pool,
        hub,
        risk.tier_of,
        watch_poll_interval_seconds=settings.watch_poll_interval_seconds,
    )
    marketplace = Marketplace(app.pool, settings)
    app.add_service_name(register(app.server, BacktestServicer(jobs, marketplace)))

    if settings.worker_enabled:
        worker = build_worker(
            app.pool, settings, risk=risk, notifications=notifications, marketplace=marketplace
        )
        app.add_background(worker.run)
