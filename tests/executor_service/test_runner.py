"""The bot runner against a scriptable risk: what a bot does with orders risk refuses."""

from __future__ import annotations

import asyncpg

from executor_service.config import ExecutorSettings
from executor_service.server import build
from tests.executor_service.configs import dca_config
from tests.executor_service.conftest import CREDENTIALS_KEY
from tests.executor_service.flow_kit import stop_seeded_bots, wait_for
from tests.executor_service.test_flow import create_and_activate
from tests.testkit.services import channel_to, start_service, user_metadata
from trading.executor.v1 import executor_service_pb2 as pb
from trading.executor.v1 import executor_service_pb2_grpc as pb_grpc
from trading.types.v1 import types_pb2 as tpb

BARS = 40


async def test_bot_when_risk_refuses_its_stop_asks_once_per_bar_and_user_is_told_once(
    database, user_a, fake_risk
):
    # A DCA with a stop loss on crypto: its protective stop goes out as a stop-limit, which
    # this risk refuses. The strategy wants the stop back at once; before the fix the bot
    # asked again within the same bar, forever (thousands of risk calls, the bar stuck).
    fake_risk.refused_order_types = {tpb.ORDER_TYPE_STOP_LIMIT}
    connection = await asyncpg.connect(database.admin_dsn)
    await stop_seeded_bots(connection)
    try:
        async with start_service(
            ExecutorSettings, database, name="executor", role="executor_service", build=build,
            run_bots=True, replay_speed=6000.0, runner_poll_seconds=0.2,
            risk_address=f"127.0.0.1:{fake_risk.port}", notification_address="127.0.0.1:1",
            credentials_key=CREDENTIALS_KEY,
        ) as executor:
            channel = channel_to(executor)
            stub = pb_grpc.ExecutorServiceStub(channel)
            strategy = await create_and_activate(
                stub, user_a, dca_config(stop_loss_pct="5"))
            await wait_for(
                connection,
                "select count(*) from trading_strategies where id = $1"
                " and last_bar_at >= timestamptz '2026-01-05' + make_interval(mins => $2)",
                lambda n: n == 1, 60, strategy, BARS)
            await stub.StopStrategy(
                pb.StopStrategyRequest(user_id=str(user_a), strategy_id=strategy),
                metadata=user_metadata(user_a), timeout=5)
            await channel.close()
        bars_done = await connection.fetchval(
            "select extract(epoch from last_bar_at - timestamptz '2026-01-05') / 60 + 1"
            " from trading_strategies where id = $1", strategy)
        stops = [r for r in fake_risk.validated
                 if r.order.order_type == tpb.ORDER_TYPE_STOP_LIMIT]
        assert stops, "the stop loss was never asked for"
        fills = await connection.fetchval(
            "select count(*) from bot_fills where strategy_id = $1", strategy)
        # At most one request for the stop per bar, plus one per fill that moved it (an
        # amended stop is a new order), plus the bar the stop cut short.
        assert len(stops) <= bars_done + fills + 1
        assert {r.order.side for r in stops} == {tpb.SIDE_SELL}
        assert all(r.order.stop_price and r.order.limit_price for r in stops)
        told = await connection.fetchval(
            "select count(*) from outbox where user_id = $1 and kind = 'risk_event'"
            " and last_error not like 'suppressed%'", user_a)
        recorded = await connection.fetchval(
            "select count(*) from outbox where user_id = $1 and kind = 'risk_event'", user_a)
        # Every refusal is recorded, but the one in flight when the executor shut down.
        assert told == 1 and len(stops) - 1 <= recorded <= len(stops)
        assert await connection.fetchval(
            "select count(*) from bot_orders where strategy_id = $1 and order_type = 'stop_limit'",
            strategy) == 0
    finally:
        await connection.close()
