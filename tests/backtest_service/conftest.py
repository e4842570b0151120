"""Fixtures for the backtest service tests: the service's own pool and queued jobs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from decimal import Decimal

import pytest_asyncio

from backtest_service.config import BacktestSettings
from backtest_service.marketplace import Marketplace
from backtest_service.peers import NotificationPeer, RiskPeer
from backtest_service.server import build, build_worker
from servicekit.db.pool import create_pool
from tests.backtest_service.fakes import running_peers
from tests.testkit.services import channel_to, settings_for, start_service
from trading.backtest.v1 import backtest_service_pb2_grpc as pb_grpc

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

# A small strategy config in its stored (protobuf JSON) form.
BUY_AND_HOLD_CONFIG = {
    "name": "Hold BTC",
    "strategy_type": "STRATEGY_TYPE_BUY_AND_HOLD",
    "base_symbol": "BTC/USD",
    "asset_class": "ASSET_CLASS_CRYPTO",
    "timeframe": "TIMEFRAME_1D",
    "capital_allocation": {"allocated_capital": "10000"},
}


@pytest_asyncio.fixture(loop_scope="session")
async def backtest_pool(database):
    """A pool logged in as backtest_service (the role the service and its workers use)."""
    pool = await create_pool(database.dsn_for("backtest_service"), min_size=1, max_size=8)
    try:
        yield pool
    finally:
        await pool.close()


async def queue_job(
    pool,
    user_id: uuid.UUID,
    *,
    days: int = 60,
    config: dict | None = None,
    created_offset_seconds: float = 0.0,
) -> uuid.UUID:
    """Insert a queued user job directly (as the service role)."""
    return await pool.fetchval(
        """
        insert into public.backtests
            (user_id, config, symbol, timeframe, start_at, end_at, initial_capital, created_at)
        values ($1, $2::jsonb, 'BTC/USD', '1d', $3, $4, $5, now() + make_interval(secs => $6))
        returning id
        """,
        user_id,
        config or BUY_AND_HOLD_CONFIG,
        START,
        START + dt.timedelta(days=days),
        Decimal(10_000),
        created_offset_seconds,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def peers():
    """Fake risk and notification services on port 0."""
    async with running_peers() as running:
        yield running


@contextlib.asynccontextmanager
async def backtest_service(database, peers, **overrides):
    """The real backtest service on port 0 against the test's database."""
    values = {
        "risk_address": peers.address,
        "notification_address": peers.address,
        "worker_enabled": False,
        "worker_poll_interval_seconds": 0.05,
        "heartbeat_interval_seconds": 0.1,
        "watch_poll_interval_seconds": 0.5,
        "db_pool_max_size": 10,
        **overrides,
    }
    async with start_service(
        BacktestSettings, database, name="backtest", role="backtest_service", build=build, **values
    ) as app:
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def service_app(database, peers):
    """The service without a worker (requests, marketplace)."""
    async with backtest_service(database, peers) as app:
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def stub(service_app):
    async with channel_to(service_app) as channel:
        yield pb_grpc.BacktestServiceStub(channel)


@contextlib.asynccontextmanager
async def running_worker(pool, database, peers, *, runner=None, worker_id=None, **overrides):
    """A Worker (as one replica runs it) claiming from the test's database until the block ends."""
    values = {
        "risk_address": peers.address,
        "notification_address": peers.address,
        "worker_poll_interval_seconds": 0.05,
        "heartbeat_interval_seconds": 0.05,
        **overrides,
    }
    settings = settings_for(BacktestSettings, database, **values)
    risk, notifications = RiskPeer(settings), NotificationPeer(settings)
    extra = {"runner": runner} if runner is not None else {}
    worker = build_worker(
        pool,
        settings,
        risk=risk,
        notifications=notifications,
        marketplace=Marketplace(pool, settings),
        worker_id=worker_id,
        **extra,
    )
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await risk.close()
        await notifications.close()


async def wait_for_status(pool, backtest_id, statuses, *, limit_seconds: float = 60.0):
    """Poll the row until its status is one of ``statuses`` (fails after a generous limit)."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + limit_seconds
    while True:
        row = await pool.fetchrow("select * from public.backtests where id = $1", backtest_id)
        if row["status"] in statuses:
            return row
        if loop.time() > give_up_at:
            raise AssertionError(f"backtest {backtest_id} stayed {row['status']}")
        await asyncio.sleep(0.05)
