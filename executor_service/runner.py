"""The bot runner: runs every active strategy on its feed, bar by bar.

One task per active strategy. At each bar, in the backtest engine's order: the day start,
the broker matching the bar (paper exchange), the open orders brought up to date (fills
-> ledger -> outbox), the fills and closures of this bar handed to the bot, then the
bot's decision at the bar's close; every intent goes through ``OrderFlow``. The cursor
(``last_bar_at``) moves after the bar is fully handled.

Protective stops (stop loss, daily loss) are held by the executor, not rested at the
broker: a resting stop beside the take profit would sell the holding twice, which risk
refuses (short selling, wash trade). When a bar trades at or below a held stop, the
executor cancels the strategy's resting sells (the take profit) and sends a market sell
of the position under the stop's order id, validated by risk like every order; its fill
pauses the strategy (``OrderFlow``). The market sell fills at the next bar's open: a
live executor learns of the breach when the bar closes (the backtest engine fills a
triggered stop in the bar that trades through it, at the stop).

After a restart the bot is rebuilt by replaying the bars up to the cursor with the fills
the ledger recorded for each; its intents map to the same client order ids, which find
their orders in the ledger, so nothing is validated or sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

from executor_service import config_codec, ledger
from executor_service.bot import LiveBot
from executor_service.brokers.base import Broker, OrderRequest
from executor_service.brokers.directory import BrokerDirectory
from executor_service.brokers.paper import PaperExchange
from executor_service.feed import Bar, bar_at, feed_bars, index_of, release_time
from executor_service.order_flow import PAUSING_TAGS, BotContext, OrderFlow
from executor_service.order_ids import client_order_id
from executor_service.order_state import OrderStatus
from executor_service.store import StrategyRow, StrategyStore
from strategies.orders import (
    LIMIT,
    MARKET,
    SELL,
    STOP,
    AmendOrder,
    CancelOrder,
    Fill,
    PlaceOrder,
)

log = logging.getLogger("executor_service.runner")

QUANTITY_STEP = Decimal("1e-8")
# Orders placed in reaction to a fill at a bar's open are stamped this much before the
# bar, so the paper exchange lets them trade in the bar's later phases (as the engine).
_BEFORE = timedelta(microseconds=1)


def _decimal(value: float, step: Decimal = QUANTITY_STEP) -> Decimal | None:
    if value is None or math.isnan(value):
        return None
    return Decimal(repr(float(value))).quantize(step)


@dataclass(slots=True)
class HeldStop:
    """A protective stop the executor watches itself (never sent to the broker)."""

    price: float
    quantity: float
    tag: str


def order_request(
    cid: str,
    symbol: str,
    side: str,
    kind: str,
    quantity: Decimal,
    price: float,
    decided_at: datetime,
) -> OrderRequest:
    """The broker order of a strategy's market or limit intent."""
    limit = _decimal(price) if kind == LIMIT else None
    return OrderRequest(
        client_order_id=cid,
        symbol=symbol,
        side=side,
        order_type=kind,
        quantity=quantity,
        limit_price=limit,
        decision_at=decided_at,
    )


class StrategyRun:
    """One strategy's bot, its order-id mapping and its bar loop."""

    def __init__(
        self,
        row: StrategyRow,
        context: BotContext,
        flow: OrderFlow,
        pool: asyncpg.Pool,
        exchange: PaperExchange | None,
        seed: int,
    ):
        self.row = row
        self.context = context
        self._flow = flow
        self._pool = pool
        self._exchange = exchange
        self.config = config_codec.config_of(row.config)
        self.interval = self.config.timeframe.interval  # type: ignore[union-attr]
        self.bars = feed_bars(row.base_symbol, self.interval, seed)
        self.bot = LiveBot(self.config)
        # The run's start names its orders: a strategy stopped and activated again starts a
        # new run whose client order ids cannot collide with the previous run's.
        self._epoch = int((row.activated_at or row.created_at).timestamp())
        self._cid_of: dict[int, str] = {}
        self._id_of: dict[str, int] = {}
        self._replaying = False
        self._first_bar = True  # the first live bar syncs every open order
        # Orders risk refused, told to the bot at the next bar (see ``_place``).
        self._refused: list[Fill] = []
        self._held: dict[int, HeldStop] = {}  # the bot's protective stops, by order id
        self._decided_at: dict[int, datetime] = {}
        self._amends: dict[int, int] = {}
        self._replaced: set[str] = set()  # client order ids an amendment cancelled
        self._exited_at = -1  # the bar of a stop-loss or daily-loss exit (see ``_tell``)
        self._armed_at = -1
        self._armed: dict[int, float] = {}  # held stop levels as the low side started

    def _cid(self, bar: Bar, key: str) -> str:
        return client_order_id(self.row.id, bar.at, f"{self._epoch}:{key}")

    async def replay(self, through: int) -> None:
        """Rebuild the bot from bars [0, through] and the fills recorded for them."""
        if through < 0:
            return
        self._replaying = True
        async with self._pool.acquire() as connection:
            events = await ledger.bar_events(
                connection, self.row.id, bar_at(self.bars, 0).at, bar_at(self.bars, through).at
            )
        for index in range(through + 1):
            bar = bar_at(self.bars, index)
            await self._step(bar, events.get(bar.at, []))
        self._replaying = False

    async def process(self, index: int) -> None:
        """Handle bar ``index`` live, in the backtest engine's order: the day start, the
        broker's fills (on the paper exchange phase by phase, the bot told after each),
        held stops, then the decision at the close."""
        bar = bar_at(self.bars, index)
        await self._begin(bar)
        async with self._pool.acquire() as connection:
            open_orders = await ledger.open_orders(connection, self.row.id)
        for order in open_orders:
            # The paper exchange reports what each bar changed (``_on_change``); other
            # brokers are polled. Pending orders (a crash) are looked up and sent first.
            if self._exchange is None or (
                order.status == OrderStatus.PENDING_SUBMIT or self._first_bar
            ):
                await self._flow.sync(self.context, order, bar.at)
        self._first_bar = False
        told: set[str] = set()
        if self._exchange is not None:

            async def on_phase(changed: list[str]) -> None:
                await self._on_phase(bar, changed, told)

            await self._exchange.match_bar(
                self.row.user_id,
                self.row.base_symbol,
                bar.at,
                bar,
                only=self._id_of.keys(),
                on_phase=on_phase,
            )
        async with self._pool.acquire() as connection:
            events = await ledger.bar_events(connection, self.row.id, bar.at, bar.at)
        for event in events.get(bar.at, []):
            if event.client_order_id not in told:
                await self._tell(bar, event)
        await self._finish(bar)
        async with self._pool.acquire() as connection, connection.transaction():
            await ledger.mark_to_market(connection, self.row.id, self.row.base_symbol, bar.close)
            await connection.execute(
                "update trading_strategies set last_bar_at = $2 where id = $1"
                " and (last_bar_at is null or last_bar_at < $2)",
                self.row.id,
                bar.at,
            )

    async def _on_phase(self, bar: Bar, changed: list[str], told: set[str]) -> None:
        """A phase of the bar changed these orders: record them all, then tell the bot of
        each in turn (risk then sees every fill of the phase when it checks a reaction;
        a market order the exchange filled still looks open to it until recorded)."""
        for cid in changed:
            async with self._pool.acquire() as connection:
                order = await ledger.get_order(connection, cid)
            if order is not None:
                await self._flow.sync(self.context, order, bar.at)
        async with self._pool.acquire() as connection:
            events = await ledger.bar_events(connection, self.row.id, bar.at, bar.at)
        for cid in changed:
            told.add(cid)
            for event in events.get(bar.at, []):
                if event.client_order_id == cid:
                    await self._tell(bar, event)

    async def _step(self, bar: Bar, events: list[ledger.BarEvent]) -> None:
        """A replayed bar: the same calls as ``process`` with the events recorded."""
        await self._begin(bar)
        for event in events:
            await self._tell(bar, event)
        await self._finish(bar)

    async def _begin(self, bar: Bar) -> None:
        # The engine lets orders placed at a day start trade in that bar.
        await self._handle(bar, self.bot.day_start(bar), bar.at - _BEFORE)
        refused, self._refused = self._refused, []
        for fill in refused:
            await self._handle(
                bar,
                self.bot.fill(Fill(fill.order_id, fill.side, 0.0, 0.0, 0.0, bar.index, True)),
                bar.at,
            )

    async def _tell(self, bar: Bar, event: ledger.BarEvent) -> None:
        order_id = self._id_of.get(event.client_order_id)
        if order_id is None or (event.quantity == 0 and event.client_order_id in self._replaced):
            return
        order = self.bot.strategy.orders.get(order_id)
        if order is None or order.kind != MARKET:
            self._arm_stops(bar)  # the market phase is over
        # As in the engine: what the bot places in reaction to a fill at the open may
        # still trade in this bar (decided "before" it); after later fills, from the next.
        at_open = order is not None and order.kind == MARKET
        if order is not None and order.tag in PAUSING_TAGS and event.done:
            # The exit pauses the strategy (``OrderFlow``): no decision at this bar, the
            # run ends with it. Replays see the same fill and skip the same decision.
            self._exited_at = bar.index
        fill = Fill(
            order_id,
            event.side,
            float(event.quantity),
            float(event.price),
            float(event.fee),
            bar.index,
            event.done,
        )
        await self._handle(bar, self.bot.fill(fill), bar.at - _BEFORE if at_open else bar.at)

    def _arm_stops(self, bar: Bar) -> None:
        """Note the held stops' levels as the bar's low side starts (as the engine lists
        the orders its low reaches when that phase starts): a stop placed or moved up
        during the low side does not trigger in this bar."""
        if self._armed_at != bar.index:
            self._armed_at = bar.index
            self._armed = {order_id: stop.price for order_id, stop in self._held.items()}

    async def _finish(self, bar: Bar) -> None:
        if self._exited_at == bar.index:
            return
        self._arm_stops(bar)
        await self._trigger_stops(bar)
        await self._handle(bar, self.bot.decide(bar), bar.at)

    async def _trigger_stops(self, bar: Bar) -> None:
        """Held stops this bar traded through become market sells of the position: the
        bar's low reached the stop's level, both as the low side started and now.

        The strategy's other resting orders are cancelled first: its take profit (risk
        refuses a second sell of the holding) and its resting buys (a market sell beside
        them is a potential wash trade; the strategy cancels them after the exit anyway,
        and any the bar reached have filled in its low phase already). Their closures are
        recorded at the next bar, where the exit fills: the bot hears of the exit first
        (the whole position gone, every order cancelled) and the closures then change
        nothing. If risk refuses the exit, the bot hears at the next bar that its stop
        and those orders are gone, and asks again: the stop is watched again from then.
        """
        low = float(bar.low)
        for order_id, stop in list(self._held.items()):
            if low > stop.price or low > self._armed.get(order_id, -math.inf):
                continue
            del self._held[order_id]
            if bar.index + 1 < len(self.bars):
                closed_at = bar_at(self.bars, bar.index + 1).at
                for other_id in list(self.bot.strategy.orders):
                    cid = self._cid_of.get(other_id)
                    if other_id != order_id and cid:
                        await self._flow.cancel(self.context, cid, closed_at)
            await self._place(
                bar,
                order_id,
                f"o{order_id}:stop",
                SELL,
                MARKET,
                stop.quantity,
                math.nan,
                stop.tag,
                bar.at,
            )

    async def _handle(self, bar: Bar, intents: list, decided_at: datetime) -> None:
        """Send the bot's intents; ``decided_at`` is when the broker takes them as placed
        (an amended order keeps its original time, as the engine keeps it resting)."""
        for intent in intents:
            if isinstance(intent, PlaceOrder):
                self._decided_at[intent.order_id] = decided_at
                await self._place(
                    bar,
                    intent.order_id,
                    f"o{intent.order_id}",
                    intent.side,
                    intent.kind,
                    intent.quantity,
                    intent.price,
                    intent.tag,
                    decided_at,
                )
            elif isinstance(intent, CancelOrder):
                self._held.pop(intent.order_id, None)
                cid = self._cid_of.get(intent.order_id)
                if cid and not self._replaying:
                    await self._flow.cancel(self.context, cid, bar.at)
            elif isinstance(intent, AmendOrder):
                # Brokers replace an order with a new one: cancel, then place the amended
                # order under a new client order id (same strategy order id).
                cid = self._cid_of.get(intent.order_id)
                if cid:
                    # Its closure is not the amended order's: never told to the bot.
                    self._replaced.add(cid)
                    if not self._replaying:
                        await self._flow.cancel(self.context, cid, bar.at)
                original = self.bot.strategy.orders.get(intent.order_id)
                if original is None:
                    continue
                # Numbered per order: two amendments within one bar are two orders.
                amends = self._amends[intent.order_id] = self._amends.get(intent.order_id, 0) + 1
                await self._place(
                    bar,
                    intent.order_id,
                    f"o{intent.order_id}:a{amends}",
                    original.side,
                    original.kind,
                    intent.quantity,
                    intent.price,
                    original.tag,
                    self._decided_at.get(intent.order_id, decided_at),
                )

    async def _place(
        self,
        bar: Bar,
        order_id: int,
        key: str,
        side: str,
        kind: str,
        quantity: float,
        price: float,
        tag: str,
        decided_at: datetime,
    ) -> None:
        if kind == STOP:  # held by the executor (see ``_trigger_stops``)
            self._held[order_id] = HeldStop(price, quantity, tag)
            return
        cid = self._cid(bar, key)
        self._cid_of[order_id] = cid
        self._id_of[cid] = order_id
        amount = _decimal(quantity)
        if amount is None or amount <= 0:  # dust below the quantity step: nothing to send
            self._refused.append(Fill(order_id, side, 0.0, 0.0, 0.0, bar.index, True))
            return
        request = order_request(cid, self.row.base_symbol, side, kind, amount, price, decided_at)
        placement = await self._flow.place(
            self.context, request, bar.at, bar.close, tag, replaying=self._replaying
        )
        if placement.placed:
            return
        # Blocked (or risk unreachable): the bot forgets the order it asked for, at the
        # next bar. Told now, a strategy that wants the order (a protective stop) asks for
        # it again at once, and again: an endless validate-and-block loop within one bar
        # (thousands of risk calls and outbox rows per bar, seen in the test suite).
        self._refused.append(Fill(order_id, side, 0.0, 0.0, 0.0, bar.index, True))


class BotRunner:
    """Supervises one StrategyRun task per active strategy."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        strategies: StrategyStore,
        flow: OrderFlow,
        exchange: PaperExchange,
        broker_for: Callable[[StrategyRow], Awaitable[Broker]],
        *,
        speed: float,
        seed: int,
        poll_seconds: float,
        max_catch_up_bars: int = 500,
    ):
        self._pool = pool
        self._strategies = strategies
        self._flow = flow
        self._exchange = exchange
        self._broker_for = broker_for
        self._speed = speed
        self._seed = seed
        self._poll = poll_seconds
        self._max_catch_up = max_catch_up_bars
        self._tasks: dict[uuid.UUID, asyncio.Task] = {}

    async def run(self) -> None:
        try:
            while True:
                active = {row.id: row for row in await self._strategies.active_strategies()}
                for strategy_id, task in list(self._tasks.items()):
                    if task.done():
                        if not task.cancelled() and task.exception() is not None:
                            log.error("strategy %s run failed: %s", strategy_id, task.exception())
                        del self._tasks[strategy_id]
                for strategy_id, row in active.items():
                    if strategy_id not in self._tasks:
                        self._tasks[strategy_id] = asyncio.create_task(
                            self._run_strategy(row), name=f"bot-{strategy_id}"
                        )
                await asyncio.sleep(self._poll)
        finally:
            for task in self._tasks.values():
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _run_strategy(self, row: StrategyRow) -> None:
        broker = await self._broker_for(row)
        context = BotContext.of(row, broker)
        exchange = self._exchange if row.broker == "paper" else None
        run = StrategyRun(row, context, self._flow, self._pool, exchange, self._seed)
        cursor = index_of(run.bars, row.last_bar_at)
        await run.replay(cursor)
        index = cursor + 1
        anchor = await self._anchor(row, index, run.interval)
        while index < len(run.bars):
            due = release_time(anchor, index, run.interval, self._speed)
            wait = (due - datetime.now(UTC)).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
            if await self._strategies.status_of(row.id) != "active":
                return
            await run.process(index)
            index += 1

    async def _anchor(self, row: StrategyRow, index: int, interval) -> datetime:
        """The feed's schedule start; after a long downtime the feed resumes from ``index``
        now instead of replaying everything it missed in a burst."""
        now = datetime.now(UTC)
        anchor = row.feed_anchor_at
        if anchor is not None:
            behind = (now - release_time(anchor, index, interval, self._speed)).total_seconds()
            if behind * self._speed / (interval.minutes * 60) <= self._max_catch_up:
                return anchor
        anchor = now - (release_time(now, index, interval, self._speed) - now)
        await self._strategies.anchor_feed(row.id, anchor)
        return anchor


def start_runner(
    app,
    settings,
    strategies: StrategyStore,
    risk,
    exchange: PaperExchange,
    brokers: BrokerDirectory,
) -> Callable:
    """The runner as a background task: reconciliation first, then trading."""
    from executor_service.reconcile import reconcile

    flow = OrderFlow(app.pool, risk, strategies)
    broker_for = brokers.for_strategy

    runner = BotRunner(
        app.pool,
        strategies,
        flow,
        exchange,
        broker_for,
        speed=settings.replay_speed,
        seed=settings.feed_seed,
        poll_seconds=settings.runner_poll_seconds,
        max_catch_up_bars=settings.max_catch_up_bars,
    )

    async def run_bots() -> None:
        try:
            await reconcile(app.pool, flow, strategies, broker_for, settings.feed_seed)
        except Exception:
            log.critical("bots are not started: reconciliation failed", exc_info=True)
            raise
        await runner.run()

    return run_bots
