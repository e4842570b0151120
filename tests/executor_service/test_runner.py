"""The bot runner against a scriptable risk: what a bot does with orders risk refuses."""

from __future__ import annotations

import asyncpg

from tests.executor_service.configs import dca_config
from tests.executor_service.flow_kit import executor_service, stop_seeded_bots, wait_for
from tests.executor_service.test_flow import create_and_activate
from tests.testkit.services import channel_to, user_metadata
from trading.executor.v1 import executor_service_pb2 as pb
from trading.executor.v1 import executor_service_pb2_grpc as pb_grpc
from trading.types.v1 import types_pb2 as tpb

BARS = 80
BREACH_BAR = 35  # where this DCA's 0.5% stop is first traded through (seed 42)


async def test_bot_when_risk_refuses_its_stop_exit_asks_at_most_once_per_bar_and_tells_once(
    database, user_a, fake_risk
):
    # The executor holds the stop; a breach sends a market sell, which this risk denies.
    # The bot hears of the refusal at the next bar and asks again only if that bar still
    # trades through the stop: never twice within a bar (before, a refused protective
    # order was asked for again at once, forever: thousands of risk calls, the bar stuck).
    fake_risk.denied = {(tpb.SIDE_SELL, tpb.ORDER_TYPE_MARKET)}
    connection = await asyncpg.connect(database.admin_dsn)
    await stop_seeded_bots(connection)
    try:
        async with executor_service(
            database, fake_risk.port, 1, outbox_poll_seconds=0.5, performance_refresh_seconds=5.0
        ) as executor:
            channel = channel_to(executor)
            stub = pb_grpc.ExecutorServiceStub(channel)
            strategy = await create_and_activate(stub, user_a, dca_config(stop_loss_pct="0.5"))
            await wait_for(
                connection,
                "select count(*) from trading_strategies where id = $1"
                " and last_bar_at >= timestamptz '2026-01-05' + make_interval(mins => $2)",
                lambda n: n == 1,
                60,
                strategy,
                BARS,
            )
            await stub.StopStrategy(
                pb.StopStrategyRequest(user_id=str(user_a), strategy_id=strategy),
                metadata=user_metadata(user_a),
                timeout=5,
            )
            await channel.close()
        bars_done = await connection.fetchval(
            "select extract(epoch from last_bar_at - timestamptz '2026-01-05') / 60 + 1"
            " from trading_strategies where id = $1",
            strategy,
        )
        orders = [r.order for r in fake_risk.validated]
        assert not {tpb.ORDER_TYPE_STOP, tpb.ORDER_TYPE_STOP_LIMIT} & {
            o.order_type for o in orders
        }, "a stop was sent instead of held"
        exits = [
            o for o in orders if (o.side, o.order_type) == (tpb.SIDE_SELL, tpb.ORDER_TYPE_MARKET)
        ]
        assert exits, "the stop was never triggered"
        assert len(exits) <= bars_done - BREACH_BAR + 1
        assert len({o.client_order_id for o in exits}) == len(exits)
        # Never paused: the exit never filled, and the position is still held.
        assert (
            await connection.fetchval(
                "select count(*) from strategy_transitions where strategy_id = $1"
                " and actor = 'risk'",
                strategy,
            )
            == 0
        )
        told = await connection.fetchval(
            "select count(*) from outbox where user_id = $1 and kind = 'risk_event'"
            " and last_error not like 'suppressed%'",
            user_a,
        )
        recorded = await connection.fetchval(
            "select count(*) from outbox where user_id = $1 and kind = 'risk_event'", user_a
        )
        # Every refusal is recorded, but the one in flight when the executor shut down.
        assert told == 1 and len(exits) - 1 <= recorded <= len(exits)
    finally:
        await connection.close()
