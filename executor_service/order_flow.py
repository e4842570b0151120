"""Every order's way out, failing closed.

``place``: risk.ValidateTrade with a deadline -> blocked: a risk event notification
(outbox) and no order; risk unreachable: the same, saying why; allowed: the order row
(deterministic client order id) is written, then submitted (idempotent on retry) and the
broker's answer applied. ``sync``: brings an open order up to the broker's report
(fills -> position -> notification, one transaction). A fill of a stop-loss or
daily-loss exit pauses the strategy (actor risk) with its reason and tells the user.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from executor_service import config_codec, ledger
from executor_service.brokers.base import (
    Broker,
    BrokerUnavailable,
    OrderRequest,
    submit_idempotently,
)
from executor_service.lifecycle import Action, Actor, Status
from executor_service.order_state import OrderStatus
from executor_service.risk_gateway import RiskGateway, RiskUnreachable
from executor_service.store import StrategyRow, StrategyStore
from servicekit.money import format_decimal
from trading.risk.v1 import risk_service_pb2 as rpb
from trading.types.v1 import types_pb2 as tpb

log = logging.getLogger("executor_service.order_flow")

REPEAT_WINDOW_SECONDS = 300.0

# Exits the strategy library tags as risk exits: their fill pauses the strategy.
PAUSING_TAGS = {"stop_loss": "stop_loss_triggered", "daily_loss": "daily_loss_limit_breached"}


@dataclass(frozen=True)
class BotContext:
    """The strategy an order belongs to, as the flow needs it."""

    strategy_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    config: tpb.StrategyConfig
    broker_name: str
    live: bool
    broker: Broker

    @classmethod
    def of(cls, row: StrategyRow, broker: Broker) -> BotContext:
        """The context of a stored strategy, trading through ``broker``."""
        return cls(
            row.id,
            row.user_id,
            row.name,
            config_codec.proto_of(row.config),
            row.broker,
            row.live,
            broker,
        )


@dataclass(frozen=True)
class Placement:
    client_order_id: str
    placed: bool  # an order exists at (or is on its way to) the broker
    reason: str = ""  # why not, when not


def _blocked_key(client_order_id: str) -> str:
    return f"blocked:{client_order_id}"


class OrderFlow:
    def __init__(self, pool: asyncpg.Pool, risk: RiskGateway, strategies: StrategyStore):
        self._pool = pool
        self._risk = risk
        self._strategies = strategies

    async def place(
        self,
        bot: BotContext,
        request: OrderRequest,
        bar_at: datetime,
        price: Decimal,
        tag: str,
        *,
        replaying: bool = False,
    ) -> Placement:
        cid = request.client_order_id
        async with self._pool.acquire() as connection:
            existing = await ledger.get_order(connection, cid)
            blocked = await connection.fetchval(
                "select payload->>'message' from outbox where idempotency_key = $1",
                _blocked_key(cid),
            )
        if existing is not None:  # decided before a restart: never validated or sent twice
            if not replaying:
                await self.sync(bot, existing, bar_at)
            return Placement(cid, True)
        if blocked is not None:
            return Placement(cid, False, blocked)
        try:
            verdict = await self._risk.validate_trade(
                await self._validation_request(bot, request, price, bar_at)
            )
        except RiskUnreachable as error:
            message = f"Order not placed: the risk service gave no verdict ({error})"
            await self._record_block(bot, request, "risk_service_unreachable", message, {})
            return Placement(cid, False, message)
        if not verdict.allowed:
            message = verdict.message or f"Order blocked by risk: {verdict.reason_code}"
            await self._record_block(
                bot,
                request,
                "trade_blocked",
                message,
                {"reason_code": verdict.reason_code, "risk_event_id": verdict.risk_event_id},
            )
            return Placement(cid, False, message)
        async with self._pool.acquire() as connection, connection.transaction():
            order = await ledger.insert_order(
                connection,
                user_id=bot.user_id,
                strategy_id=bot.strategy_id,
                broker=bot.broker_name,
                request=request,
                bar_at=bar_at,
                tag=tag,
            )
        await self.sync(bot, order, bar_at, fresh=True)
        return Placement(cid, True)

    async def sync(
        self, bot: BotContext, order: ledger.OrderRow, bar_at: datetime, *, fresh: bool = False
    ) -> None:
        """Submit a pending order or fetch its state; apply what the broker says.

        A pending order that is not ``fresh`` (written by an earlier attempt, perhaps by a
        process that died after sending it) is looked up first and sent only if the broker
        does not have it; the broker's duplicate refusal is the last line of defence.
        """
        try:
            report = None
            if not fresh or order.status != OrderStatus.PENDING_SUBMIT:
                report = await bot.broker.get_order(order.client_order_id)
            if report is None and order.status == OrderStatus.PENDING_SUBMIT:
                report = await submit_idempotently(bot.broker, order.request())
        except BrokerUnavailable as error:
            log.warning("broker unavailable for %s: %s", order.client_order_id, error)
            return
        if report is None:
            if order.status != OrderStatus.PENDING_SUBMIT:
                await self._flag(order, "the broker does not know this order")
            return
        await self._apply(bot, order, report, bar_at)

    async def cancel(self, bot: BotContext, client_order_id: str, bar_at: datetime) -> None:
        async with self._pool.acquire() as connection:
            order = await ledger.get_order(connection, client_order_id)
        if order is None:
            return
        try:
            report = await bot.broker.cancel_order(client_order_id)
        except BrokerUnavailable as error:
            log.warning("cancel of %s not confirmed: %s", client_order_id, error)
            return
        if report is not None:
            await self._apply(bot, order, report, bar_at)

    async def _apply(self, bot: BotContext, order, report, bar_at: datetime) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            updated, fills = await ledger.apply_broker_report(
                connection, order, report, bot.name, bar_at
            )
            event = PAUSING_TAGS.get(updated.tag)
            if fills and event and updated.status == OrderStatus.FILLED:
                await self._pause_by_risk(connection, bot, updated, event)

    async def _pause_by_risk(self, connection, bot: BotContext, order, event_type: str) -> None:
        status = await connection.fetchval(
            "select status from trading_strategies where id = $1 for update", bot.strategy_id
        )
        if status != Status.ACTIVE.value:
            return
        # The transition's reason is the exit's tag (stop_loss, daily_loss); the message
        # says at what price the position was closed.
        reason = order.tag
        closed = f"position closed at {format_decimal(order.avg_fill_price)}"
        await self._strategies.transition(
            bot.user_id, bot.strategy_id, Action.PAUSE, Actor.RISK, reason, connection=connection
        )
        await ledger.write_outbox(
            connection,
            bot.user_id,
            "risk_event",
            f"paused:{order.client_order_id}",
            {
                "userId": str(bot.user_id),
                "strategyId": str(bot.strategy_id),
                "strategyName": bot.name,
                "eventType": event_type,
                "eventData": {
                    "client_order_id": order.client_order_id,
                    "price": format_decimal(order.avg_fill_price),
                },
                "actionTaken": "RISK_ACTION_STRATEGY_PAUSED",
                "message": f"{bot.name} was paused: {event_type.replace('_', ' ')}, {closed}",
            },
        )

    async def _record_block(self, bot, request: OrderRequest, event_type, message, data) -> None:
        """Record the block (replays find it by client order id) and tell the user, once per
        strategy and reason within ``REPEAT_WINDOW``: a bot asking again every bar must not
        flood the user's feed."""
        async with self._pool.acquire() as connection, connection.transaction():
            repeated = await connection.fetchval(
                """
                select exists (select 1 from outbox
                    where user_id = $1 and kind = 'risk_event'
                      and created_at > now() - make_interval(secs => $4)
                      and payload->>'strategyId' = $2 and payload->>'eventType' = $3
                      and coalesce(payload->'eventData'->>'reason_code', '') = $5
                      and last_error not like 'suppressed%')
                """,
                bot.user_id,
                str(bot.strategy_id),
                event_type,
                REPEAT_WINDOW_SECONDS,
                data.get("reason_code", ""),
            )
            await ledger.write_outbox(
                connection,
                bot.user_id,
                "risk_event",
                _blocked_key(request.client_order_id),
                {
                    "userId": str(bot.user_id),
                    "strategyId": str(bot.strategy_id),
                    "strategyName": bot.name,
                    "eventType": event_type,
                    "eventData": {
                        "client_order_id": request.client_order_id,
                        "side": request.side,
                        "symbol": request.symbol,
                        "quantity": format_decimal(request.quantity),
                        **data,
                    },
                    "actionTaken": "RISK_ACTION_TRADE_BLOCKED",
                    "message": message,
                },
            )
            if repeated:
                await connection.execute(
                    "update outbox set delivered_at = now(),"
                    " last_error = 'suppressed: the same block was notified recently'"
                    " where idempotency_key = $1 and delivered_at is null",
                    _blocked_key(request.client_order_id),
                )

    async def _flag(self, order: ledger.OrderRow, why: str) -> None:
        await self._pool.execute(
            "update bot_orders set needs_attention = true, reject_reason = $2, updated_at = now()"
            " where id = $1",
            order.id,
            why,
        )

    async def _validation_request(
        self, bot: BotContext, request: OrderRequest, price: Decimal, bar_at: datetime
    ) -> rpb.ValidateTradeRequest:
        account = await bot.broker.get_account()
        async with self._pool.acquire() as connection:
            positions = await ledger.strategy_positions(connection, bot.strategy_id)
            open_orders = await ledger.open_orders(connection, bot.strategy_id)
            day_start = bar_at.replace(hour=0, minute=0, second=0, microsecond=0)
            realized_today = await ledger.realized_pnl_since(connection, bot.strategy_id, day_start)
        unrealized = sum(
            ((p["market_price"] or p["average_entry_price"]) - p["average_entry_price"])
            * p["quantity"]
            for p in positions
        ) or Decimal(0)
        held_value = sum(
            (p["market_price"] or p["average_entry_price"]) * p["quantity"] for p in positions
        ) or Decimal(0)
        equity = account.cash + held_value
        return rpb.ValidateTradeRequest(
            user_id=str(bot.user_id),
            order=_order_message(request),
            asset_class=bot.config.asset_class,
            price=_wire(price),
            broker_mode=rpb.BROKER_MODE_LIVE if bot.live else rpb.BROKER_MODE_PAPER,
            account=rpb.AccountSnapshot(
                cash=_wire(account.cash),
                buying_power=_wire(account.buying_power),
                equity=_wire(equity if equity > 0 else account.cash),
                realized_pnl_today=_wire(realized_today),
                unrealized_pnl=_wire(unrealized),
            ),
            strategy=rpb.StrategySnapshot(
                strategy_id=str(bot.strategy_id),
                user_id=str(bot.user_id),
                state=rpb.STRATEGY_STATE_ACTIVE,
                config=bot.config,
                positions=[
                    tpb.Position(
                        symbol=p["symbol"],
                        quantity=_wire(p["quantity"]),
                        average_entry_price=_wire(p["average_entry_price"]),
                        market_price=_wire(p["market_price"]),
                    )
                    for p in positions
                    if p["quantity"] != 0
                ],
                open_orders=[_order_message(o.request()) for o in open_orders],
                realized_pnl_today=_wire(realized_today),
                unrealized_pnl=_wire(unrealized),
            ),
        )


_WIRE_STEP = Decimal("1e-8")


def _wire(value: Decimal | None) -> str:
    """Amounts sent to risk: 8 decimal places at most (its parsing limit is 9)."""
    return "" if value is None else format_decimal(Decimal(value).quantize(_WIRE_STEP))


def _order_message(request: OrderRequest) -> tpb.Order:
    return tpb.Order(
        client_order_id=request.client_order_id,
        symbol=request.symbol,
        side=tpb.SIDE_BUY if request.side == "buy" else tpb.SIDE_SELL,
        order_type=tpb.OrderType.Value(f"ORDER_TYPE_{request.order_type.upper()}"),
        time_in_force=tpb.TIME_IN_FORCE_GTC,
        quantity=_wire(request.quantity),
        limit_price=_wire(request.limit_price),
        stop_price=_wire(request.stop_price),
    )
