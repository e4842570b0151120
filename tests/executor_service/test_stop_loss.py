"""A stop-loss (or daily-loss) breach through the REAL risk and notification services:
the executor holds the stop itself, and when the synthetic feed falls through it the take
profit is cancelled, the position sold at market (approved by risk), the strategy paused
with the reason, and the user told exactly once."""

from __future__ import annotations

import asyncpg
import pytest

from tests.executor_service.configs import dca_config
from tests.executor_service.flow_kit import (
    assert_ledger_consistent,
    executor_service,
    risk_and_notification,
    stop_seeded_bots,
    wait_for,
)
from tests.executor_service.test_flow import create_and_activate
from tests.testkit.services import channel_to
from trading.executor.v1 import executor_service_pb2_grpc as pb_grpc

# On the default feed (seed 42) BTC/USD falls 0.5% below this DCA's average entry at
# bar 35, after its base and three safety orders filled; and the DCA has lost $5 in the
# day by bar 22 (the backtest engine agrees on both).
LIMITS = {
    "stop_loss": ({"stop_loss_pct": "0.5"}, "stop loss"),
    "daily_loss": ({"max_daily_loss_usd": "5"}, "daily loss"),
}


@pytest.mark.parametrize("reason", sorted(LIMITS))
async def test_stop_loss_when_feed_falls_through_it_closes_position_pauses_and_tells_once(
    reason, database, user_a
):
    controls, words = LIMITS[reason]
    connection = await asyncpg.connect(database.admin_dsn)
    await stop_seeded_bots(connection)
    try:
        async with (
            risk_and_notification(database) as (risk, notification),
            executor_service(database, risk.port, notification.port) as executor,
        ):
            channel = channel_to(executor)
            stub = pb_grpc.ExecutorServiceStub(channel)
            strategy = await create_and_activate(stub, user_a, dca_config(**controls))
            await channel.close()
            await wait_for(
                connection,
                "select status from trading_strategies where id = $1",
                lambda status: status == "paused",
                90,
                strategy,
            )
            await wait_for(
                connection,
                "select count(*) from outbox where delivered_at is null and user_id = $1",
                lambda n: n == 0,
                30,
                user_a,
            )
            # Paused bots place nothing more: the count must not move afterwards.
            orders_when_paused = await connection.fetchval(
                "select count(*) from bot_orders where strategy_id = $1", strategy
            )
        transitions = await connection.fetch(
            "select from_status, to_status, actor, reason from strategy_transitions"
            " where strategy_id = $1 and actor = 'risk'",
            strategy,
        )
        assert [dict(t) for t in transitions] == [
            {"from_status": "active", "to_status": "paused", "actor": "risk", "reason": reason}
        ]
        exits = await connection.fetch(
            "select side, order_type, status, filled_qty from bot_orders"
            " where strategy_id = $1 and tag = $2",
            strategy,
            reason,
        )
        assert [(e["side"], e["order_type"], e["status"]) for e in exits] == [
            ("sell", "market", "filled")
        ]
        # The stop was never a resting broker order, so risk never had a second sell of
        # the holding to refuse: no blocked-order noise at all.
        assert (
            await connection.fetchval(
                "select count(*) from bot_orders where strategy_id = $1"
                " and order_type in ('stop', 'stop_limit')",
                strategy,
            )
            == 0
        )
        assert (
            await connection.fetchval(
                "select count(*) from outbox where user_id = $1 and kind = 'risk_event'"
                " and idempotency_key like 'blocked:%'",
                user_a,
            )
            == 0
        )
        # The take profit resting beside the stop was cancelled before the exit was sent.
        assert (
            await connection.fetchval(
                "select count(*) from bot_orders where strategy_id = $1 and tag = 'take_profit'"
                " and status in ('new', 'partially_filled', 'pending_submit')",
                strategy,
            )
            == 0
        )
        assert (
            await connection.fetchval(
                "select coalesce(sum(quantity), 0) from bot_positions where strategy_id = $1",
                strategy,
            )
            == 0
        )
        assert (
            await connection.fetchval(
                "select count(*) from bot_orders b where not exists (select 1 from"
                " risk_approved_orders r where r.client_order_id = b.client_order_id)"
            )
            == 0
        )
        told = await connection.fetch(
            "select title, body from user_notifications where user_id = $1"
            " and type = 'strategy_paused'",
            user_a,
        )
        assert len(told) == 1, told
        assert told[0]["title"].startswith("Strategy paused automatically")
        assert words in told[0]["body"]
        assert (
            await connection.fetchval(
                "select count(*) from bot_orders where strategy_id = $1", strategy
            )
            == orders_when_paused
        )
        # Nothing was decided after the exit filled (the bot makes no decision at that bar).
        assert (
            await connection.fetchval(
                "select count(*) from bot_orders where strategy_id = $1 and bar_at >="
                " (select max(f.bar_at) from bot_fills f where f.strategy_id = $1)",
                strategy,
            )
            == 0
        )
        await assert_ledger_consistent(connection)
    finally:
        await connection.close()
