"""The built-in paper exchange: a broker whose books live in the executor's database.

Orders, fills, cash and positions per account (one account per user) are kept in the
``paper_*`` tables, so they survive a crash exactly as a real broker's would. Orders
fill against the market data feed (``match_bar``) with fees, slippage and partial fills
(``fill_model``). Like Alpaca, it refuses a second order with the same client order id.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Container
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg

from executor_service.brokers.base import (
    BrokerAccount,
    BrokerFill,
    BrokerOrder,
    DuplicateClientOrderId,
    OrderRequest,
)
from executor_service.brokers.fill_model import (
    BarLike,
    FillTerms,
    as_decimal,
    fill_price,
    quote_fill,
)


class PaperExchange:
    """The exchange: every account's books, and matching against bars."""

    def __init__(self, pool: asyncpg.Pool, terms: FillTerms, starting_cash: Decimal):
        self._pool = pool
        self.terms = terms
        self._starting_cash = starting_cash

    def account(self, user_id: uuid.UUID) -> PaperBroker:
        """The broker interface of one user's paper account."""
        return PaperBroker(self, user_id)

    async def _ensure_account(self, connection: asyncpg.Connection, user_id: uuid.UUID) -> None:
        await connection.execute(
            "insert into paper_accounts (user_id, cash) values ($1, $2)"
            " on conflict (user_id) do nothing",
            user_id,
            self._starting_cash,
        )

    async def submit(
        self, user_id: uuid.UUID, request: OrderRequest, decision_at: datetime
    ) -> BrokerOrder:
        async with self._pool.acquire() as connection:
            # Counted (and committed) before refusing: the crash test reads the counter.
            duplicate = await connection.fetchval(
                "update paper_orders set duplicate_submissions = duplicate_submissions + 1"
                " where client_order_id = $1 returning id",
                request.client_order_id,
            )
        if duplicate is not None:
            raise DuplicateClientOrderId("client_order_id must be unique")
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                await self._ensure_account(connection, user_id)
                status, reason = "new", ""
                if request.side == "sell":
                    held = await connection.fetchval(
                        "select coalesce(sum(quantity), 0) from paper_positions"
                        " where user_id = $1 and symbol = $2",
                        user_id,
                        request.symbol,
                    )
                    # Resting exits (take profit and stop) may both cover the same holding;
                    # whichever fills first is capped at what is held then (match_bar).
                    if held < request.quantity:
                        status, reason = "rejected", "insufficient position to sell"
                await connection.execute(
                    """
                    insert into paper_orders (user_id, client_order_id, symbol, side, order_type,
                        quantity, limit_price, stop_price, status, reject_reason, created_at,
                        updated_at)
                    values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
                    """,
                    user_id,
                    request.client_order_id,
                    request.symbol,
                    request.side,
                    request.order_type,
                    request.quantity,
                    request.limit_price,
                    request.stop_price,
                    status,
                    reason,
                    decision_at,
                )
        except asyncpg.UniqueViolationError:
            # A concurrent submit of the same id won the race to the unique key.
            raise DuplicateClientOrderId("client_order_id must be unique") from None
        return await self.get(user_id, request.client_order_id)  # type: ignore[return-value]

    async def get(self, user_id: uuid.UUID, client_order_id: str) -> BrokerOrder | None:
        async with self._pool.acquire() as connection:
            order = await connection.fetchrow(
                "select * from paper_orders where user_id = $1 and client_order_id = $2",
                user_id,
                client_order_id,
            )
            if order is None:
                return None
            fills = await connection.fetch(
                "select * from paper_fills where order_id = $1 order by fill_seq", order["id"]
            )
        return _broker_order(order, fills)

    async def cancel(self, user_id: uuid.UUID, client_order_id: str) -> BrokerOrder | None:
        """Cancel an open order (a filled or closed one stays as it is)."""
        await self._pool.execute(
            "update paper_orders set status = 'canceled', updated_at = now()"
            " where user_id = $1 and client_order_id = $2"
            " and status in ('new', 'partially_filled')",
            user_id,
            client_order_id,
        )
        return await self.get(user_id, client_order_id)

    async def open_orders(self, user_id: uuid.UUID) -> list[BrokerOrder]:
        records = await self._pool.fetch(
            "select client_order_id from paper_orders where user_id = $1"
            " and status in ('new', 'partially_filled') order by created_at",
            user_id,
        )
        orders = [await self.get(user_id, r["client_order_id"]) for r in records]
        return [order for order in orders if order is not None]

    async def balances(self, user_id: uuid.UUID) -> tuple[Decimal, dict[str, Decimal]]:
        async with self._pool.acquire() as connection, connection.transaction():
            await self._ensure_account(connection, user_id)
            cash = await connection.fetchval(
                "select cash from paper_accounts where user_id = $1", user_id
            )
            rows = await connection.fetch(
                "select symbol, quantity from paper_positions where user_id = $1 and quantity <> 0",
                user_id,
            )
        return cash, {row["symbol"]: row["quantity"] for row in rows}

    async def match_bar(
        self,
        user_id: uuid.UUID,
        symbol: str,
        bar_at: datetime,
        bar: BarLike,
        *,
        only: Container[str] | None = None,
        on_phase: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> set[str]:
        """Fill the account's open orders on ``symbol`` that this bar trades.

        In the backtest engine's phases: market orders at the open (in the order they
        were placed), then the low side (buy limits, sell stops) nearest the open first,
        then the high side (sell limits, buy stops) nearest first. Each phase takes the
        orders eligible when it starts; ``on_phase`` (the bot's reactions) gets the
        client order ids the phase changed, in order, before the next phase starts, so
        an order the bot places with a decision time before the bar (a reaction to a
        fill at the open) trades in this bar's later phases, and one it cancels does not.
        ``only`` limits matching to these client order ids (one strategy's orders).

        Only orders decided before the bar are eligible, and an order fills at most once
        per bar (a unique key), so matching a bar again changes nothing. Returns the
        client order ids this bar changed (filled or closed).
        """
        touched: set[str] = set()
        for phase in _PHASES:
            changed = [
                cid
                for cid in await self._phase_orders(user_id, symbol, bar_at, bar, phase, only)
                if await self._match_one(user_id, symbol, cid, bar_at, bar)
            ]
            touched.update(changed)
            if changed and on_phase is not None:
                await on_phase(changed)
        return touched

    async def _phase_orders(
        self, user_id, symbol, bar_at, bar, phase: str, only: Container[str] | None
    ) -> list[str]:
        records = await self._pool.fetch(
            """
            select o.client_order_id, o.side, o.order_type, o.limit_price, o.stop_price
            from paper_orders o
            where o.user_id = $1 and o.symbol = $2 and o.status in ('new', 'partially_filled')
              and o.created_at < $3
              and not exists (select 1 from paper_fills f
                              where f.order_id = o.id and f.bar_at = $3)
            order by o.created_at, o.client_order_id
            """,
            user_id,
            symbol,
            bar_at,
        )
        low, high = as_decimal(bar.low), as_decimal(bar.high)
        keyed: list[tuple[Decimal, str]] = []
        for r in records:
            if only is not None and r["client_order_id"] not in only:
                continue
            kind, side = r["order_type"], r["side"]
            if phase == "market":
                if kind == "market":
                    keyed.append((Decimal(len(keyed)), r["client_order_id"]))
                continue
            level = r["limit_price"] if kind == "limit" else r["stop_price"]
            if kind == "market" or level is None:
                continue
            low_side = side == "buy" if kind == "limit" else side == "sell"
            if phase == "low" and low_side and level >= low:
                keyed.append((-level, r["client_order_id"]))  # highest (nearest the open) first
            elif phase == "high" and not low_side and level <= high:
                keyed.append((level, r["client_order_id"]))  # lowest first
        keyed.sort(key=lambda item: item[0])  # stable: ties keep the placing order
        return [cid for _, cid in keyed]

    async def _match_one(self, user_id, symbol, cid: str, bar_at: datetime, bar) -> bool:
        """Fill (or close) one order against the bar; False if the bar changes nothing."""
        async with self._pool.acquire() as connection, connection.transaction():
            await self._ensure_account(connection, user_id)
            cash = await connection.fetchval(
                "select cash from paper_accounts where user_id = $1 for update", user_id
            )
            order = await connection.fetchrow(
                """
                select o.* from paper_orders o
                where o.user_id = $1 and o.client_order_id = $2
                  and o.status in ('new', 'partially_filled') and o.created_at < $3
                  and not exists (select 1 from paper_fills f
                                  where f.order_id = o.id and f.bar_at = $3)
                for update
                """,
                user_id,
                cid,
                bar_at,
            )
            if order is None:  # cancelled or filled meanwhile
                return False
            held = await connection.fetchval(
                "select coalesce(sum(quantity), 0) from paper_positions"
                " where user_id = $1 and symbol = $2",
                user_id,
                symbol,
            )
            remaining = order["quantity"] - order["filled_qty"]
            if order["side"] == "sell":
                remaining = min(remaining, held)
                if remaining <= 0:
                    if (
                        fill_price(
                            order["side"],
                            order["order_type"],
                            order["limit_price"],
                            bar,
                            self.terms,
                            order["stop_price"],
                        )
                        is None
                    ):
                        return False
                    await _close(connection, order, "insufficient position to sell")
                    return True
            quote = quote_fill(
                order["side"],
                order["order_type"],
                order["limit_price"],
                remaining,
                bar,
                self.terms,
                cash if order["side"] == "buy" else None,
                order["stop_price"],
            )
            if quote is None:
                if order["side"] == "buy" and order["order_type"] == "market":
                    # A market buy the account cannot pay for any more of.
                    await _close(connection, order, "insufficient cash")
                    return True
                return False
            cash = await _record_fill(connection, order, quote, bar_at, cash)
            await connection.execute(
                "update paper_accounts set cash = $2, updated_at = now() where user_id = $1",
                user_id,
                cash,
            )
        return True


_PHASES = ("market", "low", "high")


async def _close(connection: asyncpg.Connection, order: asyncpg.Record, reason: str) -> None:
    status = "canceled" if order["filled_qty"] > 0 else "rejected"
    await connection.execute(
        "update paper_orders set status = $2, reject_reason = $3, updated_at = now() where id = $1",
        order["id"],
        status,
        reason,
    )


async def _record_fill(connection, order, quote, bar_at, cash: Decimal) -> Decimal:
    sequence = await connection.fetchval(
        "select coalesce(max(fill_seq), 0) + 1 from paper_fills where order_id = $1", order["id"]
    )
    await connection.execute(
        """
        insert into paper_fills (order_id, user_id, fill_seq, quantity, price, fee, bar_at)
        values ($1, $2, $3, $4, $5, $6, $7)
        """,
        order["id"],
        order["user_id"],
        sequence,
        quote.quantity,
        quote.price,
        quote.fee,
        bar_at,
    )
    filled = order["filled_qty"] + quote.quantity
    status = "filled" if filled >= order["quantity"] else "partially_filled"
    await connection.execute(
        "update paper_orders set filled_qty = $2, status = $3, updated_at = now() where id = $1",
        order["id"],
        filled,
        status,
    )
    signed = quote.quantity if order["side"] == "buy" else -quote.quantity
    await connection.execute(
        """
        insert into paper_positions (user_id, symbol, quantity) values ($1, $2, $3)
        on conflict (user_id, symbol)
        do update set quantity = paper_positions.quantity + excluded.quantity
        """,
        order["user_id"],
        order["symbol"],
        signed,
    )
    value = quote.quantity * quote.price
    return cash - value - quote.fee if order["side"] == "buy" else cash + value - quote.fee


def _broker_order(order: asyncpg.Record, fills: list[asyncpg.Record]) -> BrokerOrder:
    broker_fills = tuple(
        BrokerFill(
            fill_id=f"{order['id']}:{fill['fill_seq']}",
            quantity=fill["quantity"],
            price=fill["price"],
            fee=fill["fee"],
            filled_at=fill["bar_at"],
        )
        for fill in fills
    )
    total = sum((fill.quantity for fill in broker_fills), Decimal(0))
    average = (
        sum((f.quantity * f.price for f in broker_fills), Decimal(0)) / total if total else None
    )
    return BrokerOrder(
        client_order_id=order["client_order_id"],
        broker_order_id=str(order["id"]),
        symbol=order["symbol"],
        side=order["side"],
        quantity=order["quantity"],
        status=order["status"],
        filled_qty=order["filled_qty"],
        filled_avg_price=average,
        reject_reason=order["reject_reason"],
        fills=broker_fills,
    )


class PaperBroker:
    """One user's paper account behind the Broker interface."""

    name = "paper"

    def __init__(self, exchange: PaperExchange, user_id: uuid.UUID):
        self._exchange = exchange
        self._user_id = user_id

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        when = request.decision_at or datetime.now(UTC)
        return await self._exchange.submit(self._user_id, request, when)

    async def get_order(self, client_order_id: str) -> BrokerOrder | None:
        return await self._exchange.get(self._user_id, client_order_id)

    async def cancel_order(self, client_order_id: str) -> BrokerOrder | None:
        return await self._exchange.cancel(self._user_id, client_order_id)

    async def list_open_orders(self) -> list[BrokerOrder]:
        return await self._exchange.open_orders(self._user_id)

    async def get_account(self) -> BrokerAccount:
        cash, _ = await self._exchange.balances(self._user_id)
        return BrokerAccount(cash=cash, buying_power=cash, equity=cash)

    async def get_positions(self) -> dict[str, Decimal]:
        _, positions = await self._exchange.balances(self._user_id)
        return positions
