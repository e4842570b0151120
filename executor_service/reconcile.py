"""Restart reconciliation: the gate the runner passes before it trades.

Orders the ledger left submitting or open are resolved against the broker by client
order id (a pending order the broker never got is submitted now, once); fills the
ledger missed are recorded (with their notifications) at the strategy's next bar, so
the bot hears of them there. Orders the broker has that the ledger does not know are
flagged to the user, never adopted. Any failure stops start-up of trading.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import asyncpg

from executor_service import config_codec, ledger
from executor_service.brokers.base import Broker
from executor_service.feed import bar_at, feed_bars, index_of
from executor_service.order_flow import BotContext, OrderFlow
from executor_service.store import StrategyRow, StrategyStore

log = logging.getLogger("executor_service.reconcile")


class ReconciliationFailed(Exception):
    """The ledger could not be brought in line with the broker; do not trade."""


async def reconcile(
    pool: asyncpg.Pool,
    flow: OrderFlow,
    strategies: StrategyStore,
    broker_for: Callable[[StrategyRow], Awaitable[Broker]],
    seed: int,
) -> int:
    """Resolve every in-flight order; the number resolved. Raises ReconciliationFailed."""
    try:
        async with pool.acquire() as connection:
            in_flight = await ledger.open_orders(connection)
        rows = await strategies.by_ids(list({order.strategy_id for order in in_flight}))
        for order in in_flight:
            row = rows[order.strategy_id]
            context = BotContext.of(row, await broker_for(row))
            await flow.sync(context, order, _next_bar_at(row, seed))
        await _flag_unknown_orders(pool, strategies, broker_for)
    except Exception as error:
        raise ReconciliationFailed(f"restart reconciliation failed: {error}") from error
    log.info("reconciliation resolved %d in-flight orders", len(in_flight))
    return len(in_flight)


def _next_bar_at(row: StrategyRow, seed: int):
    config = config_codec.config_of(row.config)
    bars = feed_bars(row.base_symbol, config.timeframe.interval, seed)  # type: ignore[union-attr]
    return bar_at(bars, min(index_of(bars, row.last_bar_at) + 1, len(bars) - 1)).at


async def _flag_unknown_orders(pool, strategies: StrategyStore, broker_for) -> None:
    """Tell users about open broker orders the ledger never wrote (not adopted)."""
    seen: set[tuple] = set()
    for row in await strategies.active_strategies():
        account = (row.user_id, row.broker)
        if account in seen:
            continue
        seen.add(account)
        for order in await (await broker_for(row)).list_open_orders():
            async with pool.acquire() as connection, connection.transaction():
                if await ledger.get_order(connection, order.client_order_id) is not None:
                    continue
                log.warning(
                    "broker order %s is not in the ledger; flagged, not adopted",
                    order.client_order_id,
                )
                await ledger.write_outbox(
                    connection,
                    row.user_id,
                    "notify",
                    f"unknown-order:{order.client_order_id}",
                    {
                        "userId": str(row.user_id),
                        "type": "NOTIFICATION_TYPE_SYSTEM",
                        "severity": "NOTIFICATION_SEVERITY_WARNING",
                        "title": "An order at your broker is not managed by a bot",
                        "body": f"{order.side} {order.quantity} {order.symbol}"
                        f" (client order id {order.client_order_id}) was left alone.",
                        "data": {"client_order_id": order.client_order_id},
                    },
                )
