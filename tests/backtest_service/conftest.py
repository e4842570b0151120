"""Fixtures for the backtest service tests: the service's own pool and queued jobs."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest_asyncio

from servicekit.db.pool import create_pool

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
