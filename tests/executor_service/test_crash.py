"""Crash test: the executor process is killed (SIGKILL) at random moments, 20+ times,
while its bots trade, and restarted each time. Afterwards no client order id reached
the broker twice, every fill has exactly one notification, and positions equal the sum
of fills. Risk and notification are the real services, in this test's process."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.executor_service.configs import dca_config, grid_config
from tests.executor_service.flow_kit import (
    assert_ledger_consistent,
    executor_service,
    risk_and_notification,
    stop_seeded_bots,
    wait_for,
)
from tests.executor_service.test_flow import create_and_activate
from tests.testkit.services import TEST_JWT_SECRET, channel_to
from trading.executor.v1 import executor_service_pb2_grpc as pb_grpc

KILLS = 20
ROOT = Path(__file__).resolve().parents[2]


def spawn_executor(database, risk_port: int, notification_port: int, log) -> subprocess.Popen:
    env = {
        **os.environ,
        "APP_ENV": "local",
        "DATABASE_URL": database.admin_dsn,
        "JWT_SECRET": TEST_JWT_SECRET,
        "RISK_ADDRESS": f"127.0.0.1:{risk_port}",
        "NOTIFICATION_ADDRESS": f"127.0.0.1:{notification_port}",
        "EXECUTOR_PORT": "0",
        "EXECUTOR_REPLAY_SPEED": "12000",
        "EXECUTOR_RUNNER_POLL_SECONDS": "0.1",
        "EXECUTOR_OUTBOX_POLL_SECONDS": "0.1",
        "EXECUTOR_DB_POOL_MIN_SIZE": "1",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "executor_service"], cwd=ROOT, env=env, stdout=log, stderr=log
    )


@pytest.mark.slow
async def test_executor_when_killed_repeatedly_never_duplicates_and_loses_nothing(
    database, user_a, tmp_path
):
    rng = random.Random(20261124)
    connection = await asyncpg.connect(database.admin_dsn)
    await stop_seeded_bots(connection)
    try:
        async with risk_and_notification(database) as (risk, notification):
            async with executor_service(
                database, risk.port, notification.port, run_bots=False
            ) as executor:
                channel = channel_to(executor)
                stub = pb_grpc.ExecutorServiceStub(channel)
                await create_and_activate(stub, user_a, dca_config())
                await create_and_activate(stub, user_a, grid_config())
                await channel.close()
            log = await asyncio.to_thread(open, tmp_path / "executor.log", "ab")
            with log:
                for _ in range(KILLS):
                    process = spawn_executor(database, risk.port, notification.port, log)
                    await asyncio.sleep(rng.uniform(2.0, 4.5))
                    process.send_signal(signal.SIGKILL)
                    await asyncio.to_thread(process.wait)
                # A last life, left to finish its work: in-flight orders reconciled, the
                # outbox drained. The bots are stopped first so that it only cleans up.
                await connection.execute(
                    "update trading_strategies set status = 'stopped' where status = 'active'"
                )
                process = spawn_executor(database, risk.port, notification.port, log)
                try:
                    await wait_for(
                        connection,
                        "select count(*) from outbox where delivered_at is null",
                        lambda n: n == 0,
                        60,
                    )
                    await asyncio.sleep(2.0)
                    await wait_for(
                        connection,
                        "select count(*) from outbox where delivered_at is null",
                        lambda n: n == 0,
                        60,
                    )
                finally:
                    process.send_signal(signal.SIGTERM)
                    await asyncio.to_thread(process.wait, 20)
        fills = await connection.fetchval(
            "select count(*) from bot_fills where user_id = $1", user_a
        )
        progress = await connection.fetch(
            "select name, last_bar_at, status, status_reason from trading_strategies"
            " where user_id = $1",
            user_a,
        )
        orders = await connection.fetch(
            "select tag, order_type, status, count(*) from bot_orders where user_id = $1"
            " group by 1, 2, 3",
            user_a,
        )
        # Risk limits orders per wall-clock minute, which an accelerated replay hits
        # quickly (most attempts are blocked and notified), so the volume is modest.
        assert fills >= 5, (
            f"the bots must have traded across the crashes: {[dict(p) for p in progress]}"
            f" {[dict(o) for o in orders]}"
        )
        # No client order id reached the broker twice: one order per id at the broker,
        # no second submission even attempted, every broker order known to the ledger.
        assert (
            await connection.fetchval(
                "select coalesce(sum(duplicate_submissions), 0) from paper_orders"
            )
            == 0
        )
        assert (
            await connection.fetchval(
                "select count(*) from paper_orders p where not exists"
                " (select 1 from bot_orders b where b.client_order_id = p.client_order_id)"
            )
            == 0
        )
        # Every broker fill is in the ledger exactly once.
        assert (
            await connection.fetchval("select count(*) from paper_fills where user_id = $1", user_a)
            == fills
        )
        # Every fill has exactly one notification, stored once by the notification service.
        notified = await connection.fetchval(
            "select count(*) from user_notifications where user_id = $1"
            " and type = 'trade_executed'",
            user_a,
        )
        assert notified == fills
        await assert_ledger_consistent(connection)
    finally:
        await connection.close()
