"""The order ledger holds across replicas: rate limits and duplicate client order ids
count every approval exactly once, however the validations interleave."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

from risk_service.engine import LedgerEntry
from risk_service.store import RiskStore
from servicekit.db.dsn import service_dsn
from servicekit.db.pool import create_pool
from tests.risk_service.conftest import (
    DEMO_USER,
    STRATEGY_ID,
    FakeClock,
    risk_service,
    trade_request,
    validate,
    wait_until_listening,
)
from tests.testkit.services import channel_to
from trading.risk.v1 import risk_service_pb2_grpc as pb_grpc
from trading.types.v1 import types_pb2 as types

LIMITED = types.StrategyConfig(risk_controls=types.RiskControls(max_orders_per_minute=5))
ONE_BOT = {"strategy_id": STRATEGY_ID}


async def _race_on_two_replicas(database, requests):
    """Send every request at once, alternating between two replicas on one database."""
    clock = FakeClock()
    async with risk_service(database, clock) as first, risk_service(database, clock) as second:
        await wait_until_listening(first)
        await wait_until_listening(second)
        channels = [channel_to(first), channel_to(second)]
        stubs = [pb_grpc.RiskServiceStub(channel) for channel in channels]
        try:
            return await asyncio.gather(
                *(validate(stubs[i % 2], request) for i, request in enumerate(requests))
            )
        finally:
            for channel in channels:
                await channel.close()


async def test_rate_limit_when_two_replicas_race_approves_exactly_the_limit(database, admin):
    replies = await _race_on_two_replicas(
        database, [trade_request(config=LIMITED, strategy=ONE_BOT) for _ in range(16)]
    )
    approved = [r for r in replies if r.allowed]
    assert len(approved) == 5
    assert {r.reason_code for r in replies if not r.allowed} == {"RATE_LIMIT"}
    assert await admin.fetchval("select count(*) from risk_approved_orders") == 5


async def test_duplicate_client_order_id_when_two_replicas_race_approves_once(database, admin):
    # The same order id from two strategies of the user, on both replicas at once.
    replies = await _race_on_two_replicas(
        database, [trade_request(client_order_id="same-id") for _ in range(8)]
    )
    assert sum(r.allowed for r in replies) == 1
    assert {r.reason_code for r in replies if not r.allowed} == {"DUPLICATE_CLIENT_ORDER_ID"}


async def test_ledger_when_many_strategies_validate_at_once_answers_each(stub, admin):
    replies = await asyncio.gather(*(validate(stub, trade_request()) for _ in range(64)))
    assert all(r.allowed for r in replies)
    assert await admin.fetchval("select count(*) from risk_approved_orders") == 64
    assert (
        await admin.fetchval("select count(*) from risk_order_counters where bucket = 'day'") == 64
    )


async def test_store_when_batch_mixes_strategies_and_a_duplicate_answers_each_in_order(database):
    """A batch (arrays) and a batch of one (the plain function) keep the same books."""
    pool = await create_pool(
        service_dsn(database.admin_dsn, "risk_service"), min_size=1, max_size=1
    )
    store = RiskStore(pool)
    user = uuid.UUID(DEMO_USER)
    first, second = uuid.uuid4(), uuid.uuid4()
    now = dt.datetime.now(dt.UTC)

    def entry(strategy_id, client_order_id):
        return LedgerEntry(
            user_id=user,
            strategy_id=strategy_id,
            client_order_id=client_order_id,
            symbol="AAPL",
            side="buy",
            quantity=Decimal(10),
            notional=Decimal("1500.00"),
            now=now,
            reserve=True,
            max_per_minute=2,
            max_per_day=None,
        )

    try:
        batch = await store.reserve_orders(
            [entry(first, "a"), entry(first, "b"), entry(second, "c"), entry(first, "a")]
        )
        lone = await store.reserve_orders([entry(first, "d")])
    finally:
        await pool.close()
    assert [(r.orders_this_minute, r.duplicate, r.reserved) for r in batch] == [
        (0, False, True),
        (1, False, True),
        (0, False, True),
        (2, True, False),  # its id was taken two places earlier in the same batch
    ]
    assert (lone[0].orders_this_minute, lone[0].reserved) == (2, False)  # the limit is 2
