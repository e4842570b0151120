"""The Alpaca adapter through alpaca-py's own client and models, against a local server
that answers as Alpaca's documented Trading API does (fake_alpaca.py)."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import grpc
import pytest
from alpaca.trading.enums import OrderStatus as AlpacaStatus

from executor_service.brokers.alpaca import AlpacaBroker
from executor_service.brokers.base import (
    BrokerUnavailable,
    DuplicateClientOrderId,
    OrderRequest,
    submit_idempotently,
)
from executor_service.config import ExecutorSettings
from executor_service.credentials import BrokerKeys
from executor_service.order_state import OrderStatus
from executor_service.server import build
from tests.executor_service.configs import dca_config
from tests.executor_service.conftest import CREDENTIALS_KEY
from tests.executor_service.fake_alpaca import KEY_ID, SECRET, FakeAlpacaServer
from tests.executor_service.flow_kit import stop_seeded_bots, wait_for
from tests.testkit.services import channel_to, start_service, user_metadata
from trading.executor.v1 import executor_service_pb2 as pb
from trading.executor.v1 import executor_service_pb2_grpc as pb_grpc

KEYS = BrokerKeys(KEY_ID, SECRET)


@pytest.fixture
def server():
    with FakeAlpacaServer() as running:
        yield running


@pytest.fixture
def broker(server):
    return AlpacaBroker(KEYS, url_override=server.url, retry_wait_seconds=0)


def request(cid: str = "bot-1", **changes) -> OrderRequest:
    values = {
        "client_order_id": cid,
        "symbol": "BTC/USD",
        "side": "buy",
        "order_type": "limit",
        "quantity": Decimal("0.0125"),
        "limit_price": Decimal("39950.5"),
        "time_in_force": "gtc",
    }
    return OrderRequest(**{**values, **changes})


def test_broker_when_not_live_uses_paper_endpoint_and_live_uses_live():
    assert "paper-api.alpaca.markets" in AlpacaBroker(KEYS).base_url
    live = AlpacaBroker(KEYS, live=True).base_url
    assert "api.alpaca.markets" in live and "paper" not in live


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"order_type": "market", "limit_price": None},
            {"type": "market", "side": "buy", "qty": 0.0125},
        ),
        ({}, {"type": "limit", "limit_price": 39950.5}),
        (
            {
                "order_type": "stop",
                "side": "sell",
                "limit_price": None,
                "stop_price": Decimal("38000"),
            },
            {"type": "stop", "stop_price": 38000.0},
        ),
        (
            {
                "order_type": "stop_limit",
                "side": "sell",
                "limit_price": Decimal("36100"),
                "stop_price": Decimal("38000"),
            },
            {"type": "stop_limit", "stop_price": 38000.0, "limit_price": 36100.0},
        ),
    ],
)
async def test_submit_order_when_sent_carries_client_order_id_and_parses_order(
    broker, server, changes, expected
):
    report = await broker.submit_order(request(**changes))
    (body,) = server.fake.submits()
    assert body["client_order_id"] == "bot-1" and body["symbol"] == "BTC/USD"
    assert body["time_in_force"] == "gtc"
    assert {key: body[key] for key in expected} == expected
    assert report.client_order_id == "bot-1" and report.status == OrderStatus.ACCEPTED
    assert report.quantity == Decimal("0.0125") and report.filled_qty == 0
    assert report.broker_order_id == server.fake.orders["bot-1"]["id"]


async def test_submit_order_when_id_exists_is_duplicate_and_idempotent_submit_looks_it_up(
    broker, server
):
    await broker.submit_order(request())
    with pytest.raises(DuplicateClientOrderId):
        await broker.submit_order(request())
    report = await submit_idempotently(broker, request())
    assert report is not None and report.client_order_id == "bot-1"
    assert len(server.fake.orders) == 1


async def test_submit_when_first_answer_lost_retry_finds_order_and_creates_no_second(
    broker, server
):
    # Alpaca took the order, but the answer was a 504; alpaca-py retries the POST, Alpaca
    # answers "client_order_id must be unique", and the adapter looks the order up.
    server.fake.fail_next_submits_with = [504]
    report = await submit_idempotently(broker, request())
    assert report is not None and report.client_order_id == "bot-1"
    assert len(server.fake.submits()) == 2 and len(server.fake.orders) == 1
    lookups = [
        path
        for method, path, _ in server.fake.requests
        if method == "GET" and path == "/v2/orders:by_client_order_id"
    ]
    assert lookups == ["/v2/orders:by_client_order_id"]


async def test_submit_when_alpaca_unavailable_is_unknown_and_a_later_retry_sends_once(
    broker, server
):
    server.fake.unavailable_submits = 1
    with pytest.raises(BrokerUnavailable):
        await broker.submit_order(request())
    assert await submit_idempotently(broker, request()) is not None
    assert len(server.fake.orders) == 1


async def test_submit_when_answer_lost_then_duplicate_raises_duplicate(broker, server):
    # Without the look-up of submit_idempotently the adapter says what Alpaca said.
    server.fake.fail_next_submits_with = [504]
    with pytest.raises(DuplicateClientOrderId):
        await broker.submit_order(request())


async def test_submit_when_refused_reports_rejected_order(broker, server):
    server.fake.reject_next_submit = (
        403,
        {"code": 40310000, "message": "insufficient buying power"},
    )
    report = await broker.submit_order(request())
    assert report.status == OrderStatus.REJECTED
    assert "insufficient buying power" in report.reject_reason


async def test_get_order_when_unknown_is_none(broker):
    assert await broker.get_order("never-sent") is None


@pytest.mark.parametrize("status", [s.value for s in AlpacaStatus])
async def test_get_order_when_alpaca_reports_any_status_maps_it(broker, server, status):
    await broker.submit_order(request())
    server.fake.set_status("bot-1", status, "0.005", "39950.25")
    report = await broker.get_order("bot-1")
    assert report.status == OrderStatus(status)
    assert report.filled_qty == Decimal("0.005")
    assert report.filled_avg_price == Decimal("39950.25")


async def test_cancel_order_when_open_cancels_and_when_filled_keeps_fill(broker, server):
    await broker.submit_order(request("a"))
    await broker.submit_order(request("b"))
    server.fake.set_status("b", "filled", "0.0125", "39950.5")
    assert (await broker.cancel_order("a")).status == OrderStatus.CANCELED
    filled = await broker.cancel_order("b")
    assert filled.status == OrderStatus.FILLED and filled.filled_qty == Decimal("0.0125")
    assert await broker.cancel_order("unknown") is None


async def test_list_open_orders_when_some_closed_lists_only_open(broker, server):
    for cid in ("a", "b", "c"):
        await broker.submit_order(request(cid))
    server.fake.set_status("b", "filled", "0.0125", "39950.5")
    open_ids = {order.client_order_id for order in await broker.list_open_orders()}
    assert open_ids == {"a", "c"}


async def test_account_and_positions_when_read_parse_decimals(broker):
    account = await broker.get_account()
    assert account.cash == Decimal("25000.5") and account.buying_power == Decimal("50001")
    assert account.equity == Decimal("26000.25")
    assert await broker.get_positions() == {"BTCUSD": Decimal("0.125")}


async def test_calls_when_keys_wrong_are_refused(server):
    wrong = AlpacaBroker(BrokerKeys(KEY_ID, "not-the-secret-000000"), url_override=server.url)
    report = await wrong.submit_order(request())
    assert report.status == OrderStatus.REJECTED and "not authorized" in report.reject_reason


async def test_alpaca_bot_when_keys_stored_activates_and_trades_through_alpaca(
    database, user_a, fake_risk, server
):
    # Without keys: FAILED_PRECONDITION naming the broker; with them: the bot's orders go
    # to Alpaca (here the local server) with their client order ids, and Alpaca's fills
    # come back into the ledger with one notification each.
    server.fake.positions = []
    connection = await asyncpg.connect(database.admin_dsn)
    await stop_seeded_bots(connection)
    try:
        async with start_service(
            ExecutorSettings,
            database,
            name="executor",
            role="executor_service",
            build=build,
            run_bots=True,
            replay_speed=600.0,
            runner_poll_seconds=0.1,
            risk_address=f"127.0.0.1:{fake_risk.port}",
            notification_address="127.0.0.1:1",
            credentials_key=CREDENTIALS_KEY,
            alpaca_base_url=server.url,
        ) as executor:
            channel = channel_to(executor)
            stub = pb_grpc.ExecutorServiceStub(channel)
            meta = user_metadata(user_a)
            strategy = (
                await stub.CreateStrategy(
                    pb.CreateStrategyRequest(
                        user_id=str(user_a), config=dca_config(), broker=pb.BROKER_ALPACA
                    ),
                    metadata=meta,
                    timeout=5,
                )
            ).strategy.strategy_id
            activate = pb.ActivateStrategyRequest(user_id=str(user_a), strategy_id=strategy)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.ActivateStrategy(activate, metadata=meta, timeout=5)
            assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "Alpaca credentials" in refused.value.details()
            await stub.SetBrokerCredentials(
                pb.SetBrokerCredentialsRequest(
                    user_id=str(user_a),
                    broker=pb.BROKER_ALPACA,
                    api_key_id=KEY_ID,
                    api_secret=SECRET,
                ),
                metadata=meta,
                timeout=5,
            )
            await stub.ActivateStrategy(activate, metadata=meta, timeout=5)
            await wait_for(
                connection,
                "select count(*) from bot_orders where strategy_id = $1"
                " and broker = 'alpaca' and status = 'accepted'",
                lambda n: n >= 1,
                30,
                strategy,
            )
            (cid,) = list(server.fake.orders)
            server.fake.set_status(cid, "filled", "0.0125", "40000.5")
            await wait_for(
                connection,
                "select count(*) from bot_fills where client_order_id = $1",
                lambda n: n == 1,
                30,
                cid,
            )
            await stub.StopStrategy(
                pb.StopStrategyRequest(user_id=str(user_a), strategy_id=strategy),
                metadata=meta,
                timeout=5,
            )
            await channel.close()
        order = await connection.fetchrow(
            "select * from bot_orders where client_order_id = $1", cid
        )
        assert order["status"] == "filled" and order["filled_qty"] == Decimal("0.0125")
        assert order["broker_order_id"] == server.fake.orders[cid]["id"]
        assert [b["client_order_id"] for b in server.fake.submits()].count(cid) == 1
        assert (
            await connection.fetchval(
                "select count(*) from outbox where kind = 'trade_executed'"
                " and idempotency_key like 'fill:' || $1 || ':%'",
                cid,
            )
            == 1
        )
        assert await connection.fetchval(
            "select quantity from bot_positions where strategy_id = $1", strategy
        ) == Decimal("0.0125")
    finally:
        await connection.close()
