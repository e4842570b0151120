"""Helpers for end-to-end executor tests: the real risk and notification services
in-process, the executor with its bot runner, and ledger invariants read from the DB."""

from __future__ import annotations

import asyncio
import contextlib
import time

import asyncpg

from executor_service.config import ExecutorSettings
from executor_service.server import build as build_executor
from notification_service.config import NotificationSettings
from notification_service.server import build as build_notification
from risk_service.config import RiskSettings
from risk_service.server import build as build_risk
from tests.executor_service.conftest import CREDENTIALS_KEY
from tests.testkit.services import start_service


@contextlib.asynccontextmanager
async def risk_and_notification(database):
    async with (
        start_service(
            RiskSettings, database, name="risk", role="risk_service", build=build_risk
        ) as risk,
        start_service(
            NotificationSettings,
            database,
            name="notification",
            role="notification_service",
            build=build_notification,
        ) as notification,
    ):
        yield risk, notification


# The seed's demo user, whose DCA and grid bots are active in every test database.
DEMO_USER = "00000000-0000-4000-8000-000000000001"


async def stop_seeded_bots(connection: asyncpg.Connection) -> None:
    """Stop the seed's demo bots: a test with the bot runner on runs only the bots it
    creates (the demo bots would trade in its database beside them)."""
    await connection.execute(
        "update trading_strategies set status = 'stopped', status_reason = 'not in this test'"
        " where user_id = $1 and status = 'active'",
        DEMO_USER,
    )


def executor_service(database, risk_port: int, notification_port: int, **overrides):
    values = {
        "run_bots": True,
        "replay_speed": 6000.0,
        "runner_poll_seconds": 0.2,
        "outbox_poll_seconds": 0.1,
        "performance_refresh_seconds": 0.5,
        "risk_address": f"127.0.0.1:{risk_port}",
        "notification_address": f"127.0.0.1:{notification_port}",
        "credentials_key": CREDENTIALS_KEY,
        **overrides,
    }
    return start_service(
        ExecutorSettings,
        database,
        name="executor",
        role="executor_service",
        build=build_executor,
        **values,
    )


async def wait_for(connection: asyncpg.Connection, query: str, predicate, timeout=60.0, *args):
    deadline = time.monotonic() + timeout
    while True:
        value = await connection.fetchval(query, *args)
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            orders = await connection.fetch(
                "select user_id, order_type, status, tag, count(*) from bot_orders"
                " group by 1, 2, 3, 4"
            )
            events = await connection.fetch(
                "select kind, attempts, last_error, delivered_at is null as pending, count(*)"
                " from outbox group by 1, 2, 3, 4"
            )
            raise AssertionError(
                f"timed out waiting on {query!r} (last value {value!r});"
                f" orders: {[dict(o) for o in orders]}; events: {[dict(e) for e in events]}"
            )
        await asyncio.sleep(0.2)


async def assert_ledger_consistent(connection: asyncpg.Connection) -> None:
    """Every fill has exactly one outbox row; positions equal the sum of fills."""
    orphans = await connection.fetchval(
        """
        select count(*) from bot_fills f
        where (select count(*) from outbox o
               where o.idempotency_key = 'fill:' || f.client_order_id || ':' || f.broker_fill_id
              ) <> 1
        """
    )
    assert orphans == 0
    mismatched = await connection.fetch(
        """
        select p.strategy_id, p.quantity,
               coalesce((select sum(case when f.side = 'buy' then f.quantity else -f.quantity end)
                         from bot_fills f
                         where f.strategy_id = p.strategy_id and f.symbol = p.symbol), 0) as fills
        from bot_positions p
        """
    )
    assert all(row["quantity"] == row["fills"] for row in mismatched), mismatched
    # The executor's ledger equals the broker's (the paper exchange's) books.
    broker = await connection.fetch(
        """
        select b.client_order_id, b.filled_qty as ours, p.filled_qty as theirs
        from bot_orders b join paper_orders p using (client_order_id)
        where b.filled_qty <> p.filled_qty and b.status in ('filled', 'canceled', 'rejected')
        """
    )
    assert broker == [], broker
