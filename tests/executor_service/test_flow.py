"""The order flow end to end through the REAL risk and notification services: bots on
the paper exchange place orders, each validated by risk, each fill notified once; with
risk stopped, no order is placed and the user is told."""

from __future__ import annotations

import asyncpg

from tests.executor_service.configs import dca_config, grid_config
from tests.executor_service.flow_kit import (
    DEMO_USER,
    assert_ledger_consistent,
    executor_service,
    risk_and_notification,
    stop_seeded_bots,
    wait_for,
)
from tests.testkit.services import channel_to, user_metadata
from trading.executor.v1 import executor_service_pb2 as pb
from trading.executor.v1 import executor_service_pb2_grpc as pb_grpc

DEMO_DCA = "00000000-0000-4000-8000-00000000e001"
DEMO_GRID = "00000000-0000-4000-8000-00000000e002"


async def create_and_activate(stub, user, config):
    meta = user_metadata(user)
    strategy = (
        await stub.CreateStrategy(
            pb.CreateStrategyRequest(user_id=str(user), config=config), metadata=meta, timeout=5
        )
    ).strategy
    await stub.ActivateStrategy(
        pb.ActivateStrategyRequest(user_id=str(user), strategy_id=strategy.strategy_id),
        metadata=meta,
        timeout=10,
    )
    return strategy.strategy_id


async def test_bots_when_running_on_paper_every_order_validated_and_every_fill_notified(
    database, user_a
):
    connection = await asyncpg.connect(database.admin_dsn)
    await stop_seeded_bots(connection)
    try:
        async with (
            risk_and_notification(database) as (risk, notification),
            executor_service(database, risk.port, notification.port) as executor,
        ):
            if True:
                channel = channel_to(executor)
                stub = pb_grpc.ExecutorServiceStub(channel)
                dca = await create_and_activate(stub, user_a, dca_config())
                grid = await create_and_activate(stub, user_a, grid_config())
                await wait_for(
                    connection,
                    "select count(*) from bot_fills where strategy_id = $1",
                    lambda n: n >= 3,
                    90,
                    dca,
                )
                await wait_for(
                    connection,
                    "select count(*) from bot_fills where strategy_id = $1",
                    lambda n: n >= 3,
                    90,
                    grid,
                )
                for strategy_id in (dca, grid):
                    await stub.StopStrategy(
                        pb.StopStrategyRequest(user_id=str(user_a), strategy_id=strategy_id),
                        metadata=user_metadata(user_a),
                        timeout=5,
                    )
                await wait_for(
                    connection,
                    "select count(*) from outbox where delivered_at is null and user_id = $1",
                    lambda n: n == 0,
                    30,
                    user_a,
                )
                orders = await stub.ListOrders(
                    pb.ListOrdersRequest(user_id=str(user_a)),
                    metadata=user_metadata(user_a),
                    timeout=5,
                )
                positions = await stub.ListPositions(
                    pb.ListPositionsRequest(user_id=str(user_a)),
                    metadata=user_metadata(user_a),
                    timeout=5,
                )
                await channel.close()
        # Every order the executor wrote was approved by the real risk service first.
        unapproved = await connection.fetchval(
            "select count(*) from bot_orders b where not exists (select 1 from"
            " risk_approved_orders r where r.client_order_id = b.client_order_id)"
        )
        assert unapproved == 0
        fills = await connection.fetchval(
            "select count(*) from bot_fills where user_id = $1", user_a
        )
        trade_notes = await connection.fetchval(
            "select count(*) from user_notifications where type = 'trade_executed'"
            " and user_id = $1",
            user_a,
        )
        assert fills >= 6 and trade_notes == fills
        assert len(orders.orders) >= 6 and positions.positions
        await assert_ledger_consistent(connection)
    finally:
        await connection.close()


async def test_bots_when_risk_stopped_place_no_order_and_user_is_told(database, user_a):
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
                await channel.close()
            risk_port = risk.port
            await risk.stop(grace=0)  # risk goes away; the executor must fail closed
            async with executor_service(
                database, risk_port, notification.port, risk_deadline_seconds=0.5
            ):
                await wait_for(
                    connection,
                    "select count(*) from user_notifications where type = 'trade_blocked'"
                    " and user_id = $1 and body like '%risk service gave no verdict%'",
                    lambda n: n >= 1,
                    60,
                    user_a,
                )
        assert (
            await connection.fetchval("select count(*) from bot_orders where user_id = $1", user_a)
            == 0
        )
        assert (
            await connection.fetchval(
                "select count(*) from paper_orders where user_id = $1", user_a
            )
            == 0
        )
    finally:
        await connection.close()


async def test_demo_bots_when_run_against_real_risk_trade_and_none_is_refused(database):
    # What `make run` shows: the seed's DCA and grid bots trade on the paper exchange,
    # every order accepted by the real risk service (no "blocked" noise for a newcomer).
    connection = await asyncpg.connect(database.admin_dsn)
    try:
        async with (
            risk_and_notification(database) as (risk, notification),
            executor_service(database, risk.port, notification.port),
        ):
            for strategy in (DEMO_DCA, DEMO_GRID):
                await wait_for(
                    connection,
                    "select count(*) from bot_fills where strategy_id = $1",
                    lambda n: n >= 3,
                    90,
                    strategy,
                )
            await connection.execute(
                "update trading_strategies set status = 'stopped' where user_id = $1", DEMO_USER
            )
        refused = await connection.fetch(
            "select payload->>'message' as message from outbox where user_id = $1"
            " and kind = 'risk_event'",
            DEMO_USER,
        )
        assert refused == [], set(r["message"] for r in refused)
        await assert_ledger_consistent(connection)
    finally:
        await connection.close()
