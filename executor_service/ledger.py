"""The order ledger: bot orders, fills, positions and the outbox rows they write.

Every change that the user must hear about writes its outbox row in the same
transaction as the change itself, so a crash can lose neither. Fills are keyed by the
broker's fill id: a fill seen twice (a poll after a restart) is recorded once, and so is
its notification. These functions run as the service role (the runner's cross-user work).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from executor_service.brokers.base import BrokerFill, BrokerOrder, OrderRequest
from executor_service.order_state import OrderState, OrderStatus, apply_report, is_terminal
from servicekit.money import format_decimal


@dataclass(frozen=True)
class OrderRow:
    id: uuid.UUID
    user_id: uuid.UUID
    strategy_id: uuid.UUID
    client_order_id: str
    broker: str
    broker_order_id: str | None
    symbol: str
    side: str
    order_type: str
    time_in_force: str
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    filled_qty: Decimal
    avg_fill_price: Decimal | None
    reject_reason: str
    tag: str
    needs_attention: bool
    bar_at: datetime
    decided_at: datetime | None
    closed_bar_at: datetime | None
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def request(self) -> OrderRequest:
        return OrderRequest(
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            quantity=self.quantity,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            time_in_force=self.time_in_force,
            decision_at=self.decided_at or self.bar_at,
        )


@dataclass(frozen=True)
class RecordedFill:
    client_order_id: str
    strategy_id: uuid.UUID
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    filled_at: datetime


def order_from_record(record: asyncpg.Record) -> OrderRow:
    values = dict(record)
    values["status"] = OrderStatus(values["status"])
    return OrderRow(**values)


async def write_outbox(
    connection: asyncpg.Connection,
    user_id: uuid.UUID,
    kind: str,
    idempotency_key: str,
    payload: dict[str, Any],
) -> None:
    """Queue a notification; the same key twice is queued once."""
    await connection.execute(
        "insert into outbox (user_id, kind, idempotency_key, payload) values ($1, $2, $3, $4)"
        " on conflict (idempotency_key) do nothing",
        user_id,
        kind,
        idempotency_key,
        payload,
    )


async def insert_order(
    connection: asyncpg.Connection,
    *,
    user_id: uuid.UUID,
    strategy_id: uuid.UUID,
    broker: str,
    request: OrderRequest,
    bar_at: datetime,
    tag: str = "",
) -> OrderRow:
    """Write an order in pending_submit, or return the one that already has its id."""
    record = await connection.fetchrow(
        """
        insert into bot_orders (user_id, strategy_id, client_order_id, broker, symbol, side,
            order_type, time_in_force, quantity, limit_price, stop_price, bar_at, tag, decided_at)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        on conflict (client_order_id) do nothing
        returning *
        """,
        user_id,
        strategy_id,
        request.client_order_id,
        broker,
        request.symbol,
        request.side,
        request.order_type,
        request.time_in_force,
        request.quantity,
        request.limit_price,
        request.stop_price,
        bar_at,
        tag,
        request.decision_at,
    )
    if record is None:
        record = await connection.fetchrow(
            "select * from bot_orders where client_order_id = $1", request.client_order_id
        )
    return order_from_record(record)


async def get_order(connection: asyncpg.Connection, client_order_id: str) -> OrderRow | None:
    record = await connection.fetchrow(
        "select * from bot_orders where client_order_id = $1", client_order_id
    )
    return order_from_record(record) if record else None


async def open_orders(
    connection: asyncpg.Connection, strategy_id: uuid.UUID | None = None
) -> list[OrderRow]:
    """Orders not yet in a terminal state (optionally of one strategy), oldest first."""
    records = await connection.fetch(
        """
        select * from bot_orders
        where status not in ('filled', 'canceled', 'expired', 'rejected', 'replaced')
          and ($1::uuid is null or strategy_id = $1)
        order by created_at, client_order_id
        """,
        strategy_id,
    )
    return [order_from_record(record) for record in records]


def _synthesized_fills(order: OrderRow, report: BrokerOrder) -> tuple[BrokerFill, ...]:
    """A fill per increase of the cumulative filled quantity (brokers without fill lists).

    The fill id names the cumulative quantity it reached, so seeing the same report again
    derives the same id.
    """
    delta = report.filled_qty - order.filled_qty
    if delta <= 0 or report.filled_avg_price is None:
        return ()
    old_value = order.filled_qty * (order.avg_fill_price or Decimal(0))
    price = (report.filled_qty * report.filled_avg_price - old_value) / delta
    return (
        BrokerFill(
            fill_id=f"{report.broker_order_id}:{format_decimal(report.filled_qty)}",
            quantity=delta,
            price=price.quantize(Decimal("1e-8")) if price > 0 else report.filled_avg_price,
            fee=Decimal(0),
            filled_at=datetime.now().astimezone(),
        ),
    )


async def apply_broker_report(
    connection: asyncpg.Connection,
    order: OrderRow,
    report: BrokerOrder,
    strategy_name: str,
    bar_at: datetime,
) -> tuple[OrderRow, list[RecordedFill]]:
    """Bring an order up to the broker's report, in the caller's transaction.

    New fills are recorded (each once), the position moves, each fill queues exactly one
    trade notification, and the status moves forward only (``order_state``).
    """
    locked = await connection.fetchrow(
        "select * from bot_orders where id = $1 for update", order.id
    )
    order = order_from_record(locked)
    fills = report.fills if report.fills is not None else _synthesized_fills(order, report)
    recorded: list[RecordedFill] = []
    for fill in fills:
        inserted = await connection.fetchval(
            """
            insert into bot_fills (order_id, user_id, strategy_id, client_order_id,
                broker_fill_id, symbol, side, quantity, price, fee, filled_at, bar_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            on conflict (order_id, broker_fill_id) do nothing
            returning id
            """,
            order.id,
            order.user_id,
            order.strategy_id,
            order.client_order_id,
            fill.fill_id,
            order.symbol,
            order.side,
            fill.quantity,
            fill.price,
            fill.fee,
            fill.filled_at,
            bar_at,
        )
        if inserted is None:
            continue
        recorded.append(
            RecordedFill(
                order.client_order_id,
                order.strategy_id,
                order.symbol,
                order.side,
                fill.quantity,
                fill.price,
                fill.fee,
                fill.filled_at,
            )
        )
        realized = await _apply_fill_to_position(connection, order, fill)
        await connection.execute(
            "update bot_fills set realized_pnl = $2 where id = $1", inserted, realized
        )
        await write_outbox(
            connection,
            order.user_id,
            "trade_executed",
            f"fill:{order.client_order_id}:{fill.fill_id}",
            _trade_payload(order, fill, strategy_name),
        )
    totals = await connection.fetchrow(
        "select coalesce(sum(quantity), 0) as qty, coalesce(sum(quantity * price), 0) as value"
        " from bot_fills where order_id = $1",
        order.id,
    )
    state = apply_report(
        OrderState(order.status, order.filled_qty, order.quantity),
        _status_of(report.status),
        totals["qty"],
    )
    average = totals["value"] / totals["qty"] if totals["qty"] else None
    record = await connection.fetchrow(
        """
        update bot_orders set status = $2, filled_qty = $3, avg_fill_price = $4,
            broker_order_id = coalesce(broker_order_id, $5),
            reject_reason = case when $6 <> '' then $6 else reject_reason end,
            submitted_at = coalesce(submitted_at, now()), updated_at = now(),
            closed_bar_at = case when $7 then coalesce(closed_bar_at, $8) else null end
        where id = $1 returning *
        """,
        order.id,
        state.status.value,
        state.filled_qty,
        average,
        report.broker_order_id,
        report.reject_reason,
        is_terminal(state.status),
        bar_at,
    )
    updated = order_from_record(record)
    if updated.status == OrderStatus.REJECTED and order.status != OrderStatus.REJECTED:
        await write_outbox(
            connection,
            order.user_id,
            "notify",
            f"order-failed:{order.client_order_id}",
            {
                "userId": str(order.user_id),
                "type": "NOTIFICATION_TYPE_ORDER_FAILED",
                "title": f"Order rejected: {order.side} {order.symbol}",
                "body": f"{strategy_name}: the broker rejected the order"
                f" ({updated.reject_reason or 'no reason given'})",
                "strategyId": str(order.strategy_id),
                "data": {"client_order_id": order.client_order_id},
            },
        )
    return updated, recorded


@dataclass(frozen=True)
class BarEvent:
    """What the bot hears at a bar: a fill, or an order closing without (more) fills."""

    client_order_id: str
    side: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    done: bool


async def bar_events(
    connection: asyncpg.Connection, strategy_id: uuid.UUID, start: datetime, end: datetime
) -> dict[datetime, list[BarEvent]]:
    """Fills and closures the executor recorded during bars in [start, end], by bar.

    A fill is ``done`` when it completes its order (or the order was already closed by
    then); an order closed short of its quantity adds a zero-quantity ``done`` event.
    """
    fills = await connection.fetch(
        """
        select f.bar_at, f.client_order_id, f.side, f.quantity, f.price, f.fee,
               sum(f.quantity) over (partition by f.order_id order by f.created_at, f.id)
                   as cumulative,
               o.quantity as order_quantity, o.closed_bar_at
        from bot_fills f join bot_orders o on o.id = f.order_id
        where f.strategy_id = $1 and f.bar_at between $2 and $3
        order by f.bar_at, f.created_at, f.id
        """,
        strategy_id,
        start,
        end,
    )
    closures = await connection.fetch(
        """
        select o.closed_bar_at, o.client_order_id, o.side from bot_orders o
        where o.strategy_id = $1 and o.closed_bar_at between $2 and $3
          and o.filled_qty < o.quantity
        order by o.closed_bar_at, o.updated_at, o.id
        """,
        strategy_id,
        start,
        end,
    )
    events: dict[datetime, list[BarEvent]] = {}
    for f in fills:
        done = f["cumulative"] >= f["order_quantity"]
        events.setdefault(f["bar_at"], []).append(
            BarEvent(f["client_order_id"], f["side"], f["quantity"], f["price"], f["fee"], done)
        )
    for c in closures:
        events.setdefault(c["closed_bar_at"], []).append(
            BarEvent(c["client_order_id"], c["side"], Decimal(0), Decimal(0), Decimal(0), True)
        )
    return events


def _status_of(value: str) -> OrderStatus:
    try:
        return OrderStatus(str(value).lower())
    except ValueError:
        # An unknown broker status must not move the order; keep it open and visible.
        return OrderStatus.PENDING_NEW


async def _apply_fill_to_position(
    connection: asyncpg.Connection, order: OrderRow, fill: BrokerFill
) -> Decimal:
    """Average-cost position: buys move the average entry, sells realize P&L (net of fees)."""
    current = await connection.fetchrow(
        """
        insert into bot_positions (strategy_id, symbol, user_id) values ($1, $2, $3)
        on conflict (strategy_id, symbol) do update set updated_at = now()
        returning quantity, average_entry_price
        """,
        order.strategy_id,
        order.symbol,
        order.user_id,
    )
    quantity, average = current["quantity"], current["average_entry_price"]
    realized = -fill.fee
    if order.side == "buy":
        new_quantity = quantity + fill.quantity
        average = (quantity * average + fill.quantity * fill.price) / new_quantity
    else:
        new_quantity = quantity - fill.quantity
        realized += (fill.price - average) * fill.quantity
        if new_quantity == 0:
            average = Decimal(0)
    await connection.execute(
        """
        update bot_positions
        set quantity = $3, average_entry_price = $4, realized_pnl = realized_pnl + $5,
            total_fees = total_fees + $6, updated_at = now()
        where strategy_id = $1 and symbol = $2
        """,
        order.strategy_id,
        order.symbol,
        new_quantity,
        average.quantize(Decimal("1e-12")),
        realized,
        fill.fee,
    )
    return realized


def _trade_payload(order: OrderRow, fill: BrokerFill, strategy_name: str) -> dict[str, Any]:
    """NotifyTradeExecutedRequest fields (protobuf JSON names), minus the idempotency key."""
    return {
        "userId": str(order.user_id),
        "strategyId": str(order.strategy_id),
        "strategyName": strategy_name,
        "fill": {
            "clientOrderId": order.client_order_id,
            "symbol": order.symbol,
            "side": "SIDE_BUY" if order.side == "buy" else "SIDE_SELL",
            "quantity": format_decimal(fill.quantity),
            "price": format_decimal(fill.price),
            "fee": format_decimal(fill.fee),
            "filledAt": fill.filled_at.isoformat(),
        },
    }


async def mark_to_market(
    connection: asyncpg.Connection, strategy_id: uuid.UUID, symbol: str, price: Decimal
) -> None:
    await connection.execute(
        "update bot_positions set market_price = $3, updated_at = now()"
        " where strategy_id = $1 and symbol = $2",
        strategy_id,
        symbol,
        price,
    )


async def strategy_positions(
    connection: asyncpg.Connection, strategy_id: uuid.UUID
) -> list[asyncpg.Record]:
    return await connection.fetch(
        "select * from bot_positions where strategy_id = $1 order by symbol", strategy_id
    )


async def realized_pnl_since(
    connection: asyncpg.Connection, strategy_id: uuid.UUID, since: datetime
) -> Decimal:
    """Realized P&L of the strategy's fills since ``since`` (net of fees)."""
    return await connection.fetchval(
        "select coalesce(sum(realized_pnl), 0) from bot_fills"
        " where strategy_id = $1 and filled_at >= $2",
        strategy_id,
        since,
    )
