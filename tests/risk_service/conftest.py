"""Fixtures of the risk service's tests: the real service on port 0 against the test's
own migrated database, a clock the test controls, and ready-made requests."""

from __future__ import annotations

import datetime as dt
import functools
import uuid

import asyncpg
import pytest
import pytest_asyncio

from risk_service.config import RiskSettings
from risk_service.server import build
from tests.testkit.database import unique_database_name
from tests.testkit.services import channel_to, service_metadata, start_service
from trading.risk.v1 import risk_service_pb2 as pb
from trading.risk.v1 import risk_service_pb2_grpc as pb_grpc
from trading.types.v1 import types_pb2 as types

DEMO_USER = "00000000-0000-4000-8000-000000000001"
# A Monday, 11:00 in New York: inside any equity session.
MONDAY_MORNING_NY = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)


class FakeClock:
    """The service's clock, moved by the test."""

    def __init__(self, now: dt.datetime = MONDAY_MORNING_NY):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def wait_until_listening(app, timeout: float = 5.0) -> None:
    """The change listener is up (until then the service reads the database every call)."""
    await app.risk_cache.wait_listening(timeout)


def risk_service(database, clock):
    return start_service(
        RiskSettings,
        database,
        name="risk",
        role="risk_service",
        build=functools.partial(build, clock=clock),
    )


@pytest.fixture
async def risk(database, clock):
    async with risk_service(database, clock) as app:
        await wait_until_listening(app)
        yield app


@pytest.fixture
async def stub(risk):
    channel = channel_to(risk)
    yield pb_grpc.RiskServiceStub(channel)
    await channel.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def shared_stub(embedded_cluster, migrated_template):
    """One service and database for a whole module, for tests that neither count rows nor
    move the clock (every request has a strategy of its own, so rate limits never meet)."""
    database = await embedded_cluster.create_database(
        unique_database_name("risk"), template=migrated_template
    )
    try:
        async with risk_service(database, FakeClock()) as app:
            await wait_until_listening(app)
            channel = channel_to(app)
            yield pb_grpc.RiskServiceStub(channel)
            await channel.close()
    finally:
        await embedded_cluster.drop_database(database.name)


@pytest.fixture
async def admin(database):
    """A superuser connection to the test's database (to arrange and inspect rows)."""
    connection = await asyncpg.connect(database.admin_dsn)
    yield connection
    await connection.close()


STRATEGY_ID = "11111111-1111-4111-8111-111111111111"


def trade_request(
    *,
    user_id: str = DEMO_USER,
    symbol: str = "AAPL",
    side: int = types.SIDE_BUY,
    quantity: str = "10",
    price: str = "150.00",
    order_type: int = types.ORDER_TYPE_MARKET,
    time_in_force: int = types.TIME_IN_FORCE_DAY,
    limit_price: str = "",
    asset_class: int = types.ASSET_CLASS_US_EQUITY,
    broker_mode: int = pb.BROKER_MODE_PAPER,
    client_order_id: str | None = None,
    account: dict | None = None,
    strategy: dict | None = None,
    config: types.StrategyConfig | None = None,
    positions: list[types.Position] | None = None,
    open_orders: list[types.Order] | None = None,
) -> pb.ValidateTradeRequest:
    """A ValidateTrade request of the demo user: 10 AAPL at $150, $5,000 buying power."""
    account_fields = {
        "cash": "5000.00",
        "buying_power": "5000.00",
        "equity": "10000.00",
        "realized_pnl_today": "0",
        "unrealized_pnl": "0",
        **(account or {}),
    }
    strategy_fields = {
        "strategy_id": str(uuid.uuid4()),
        "user_id": user_id,
        "state": pb.STRATEGY_STATE_ACTIVE,
        **(strategy or {}),
    }
    return pb.ValidateTradeRequest(
        user_id=user_id,
        order=types.Order(
            client_order_id=client_order_id or f"test-{uuid.uuid4().hex[:12]}",
            symbol=symbol,
            side=side,
            order_type=order_type,
            time_in_force=time_in_force,
            quantity=quantity,
            limit_price=limit_price,
        ),
        asset_class=asset_class,
        price=price,
        broker_mode=broker_mode,
        account=pb.AccountSnapshot(**account_fields),
        strategy=pb.StrategySnapshot(
            **strategy_fields,
            config=config or types.StrategyConfig(),
            positions=positions or [],
            open_orders=open_orders or [],
        ),
    )


async def validate(stub, request, metadata=None) -> pb.ValidateTradeResponse:
    return await stub.ValidateTrade(request, metadata=metadata or service_metadata(), timeout=5)


def check(response: pb.ValidateTradeResponse, name: str) -> pb.CheckResult:
    return next(c for c in response.checks if c.name == name)
