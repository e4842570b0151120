"""Malformed requests: the right status, the field named, and nothing written (a
denial's risk event belongs only to well-formed orders that a rule refused)."""

from __future__ import annotations

import uuid

import grpc
import pytest

from servicekit.errors import field_of
from tests.risk_service.conftest import trade_request, validate
from tests.testkit.services import service_metadata, user_metadata
from trading.types.v1 import types_pb2 as types

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def _set(path: str, value):
    """A mutation of the request: set the (dotted) field ``path`` to ``value``."""

    def mutate(request):
        *parents, leaf = path.split(".")
        target = request
        for part in parents:
            target = getattr(target, part)
        setattr(target, leaf, value)

    return mutate


def _clear(field: str):
    return lambda request: request.ClearField(field)


def _position(symbol: str, average_entry_price: str = "100") -> types.Position:
    return types.Position(symbol=symbol, quantity="1", average_entry_price=average_entry_price)


def _open_order(side: int = types.SIDE_BUY, quantity: str = "1") -> types.Order:
    return types.Order(
        symbol="MSFT",
        side=side,
        order_type=types.ORDER_TYPE_LIMIT,
        quantity=quantity,
        limit_price="100",
    )


def _add_positions(request, *positions: types.Position) -> None:
    del request.strategy.positions[:]
    request.strategy.positions.extend(positions)


def _add_open_orders(request, *orders: types.Order) -> None:
    request.strategy.open_orders.extend(orders)


CASES = [
    ("negative quantity", _set("order.quantity", "-10"), INVALID, "order.quantity"),
    ("zero quantity", _set("order.quantity", "0"), INVALID, "order.quantity"),
    ("NaN price", _set("price", "NaN"), INVALID, "price"),
    ("infinite price", _set("price", "Infinity"), INVALID, "price"),
    ("zero price", _set("price", "0"), INVALID, "price"),
    ("huge quantity", _set("order.quantity", "10000000000"), INVALID, "order.quantity"),
    ("absurd exponent", _set("order.quantity", "1e999999"), INVALID, "order.quantity"),
    ("fractional shares not enabled", _set("order.quantity", "1.5"), INVALID, "order.quantity"),
    (
        "limit price with three places",
        lambda r: (
            _set("order.order_type", types.ORDER_TYPE_LIMIT)(r),
            _set("order.limit_price", "150.001")(r),
        ),
        INVALID,
        "order.limit_price",
    ),
    ("market price with ten places", _set("price", "150.0000000001"), INVALID, "price"),
    ("not a number", _set("account.buying_power", "lots"), INVALID, "account.buying_power"),
    ("negative buying power", _set("account.buying_power", "-1"), INVALID, "account.buying_power"),
    ("zero equity", _set("account.equity", "0"), INVALID, "account.equity"),
    ("unknown side", _set("order.side", 99), INVALID, "order.side"),
    ("unset side", _set("order.side", 0), INVALID, "order.side"),
    ("unknown order type", _set("order.order_type", 42), INVALID, "order.order_type"),
    ("unknown asset class", _set("asset_class", 7), INVALID, "asset_class"),
    ("unset broker mode", _set("broker_mode", 0), INVALID, "broker_mode"),
    ("unknown strategy state", _set("strategy.state", 9), INVALID, "strategy.state"),
    ("bad symbol", _set("order.symbol", "aapl; drop table"), INVALID, "order.symbol"),
    ("missing symbol", _set("order.symbol", ""), INVALID, "order.symbol"),
    (
        "missing client order id",
        _set("order.client_order_id", ""),
        INVALID,
        "order.client_order_id",
    ),
    ("missing order", _clear("order"), INVALID, "order"),
    ("missing account", _clear("account"), INVALID, "account"),
    ("missing strategy", _clear("strategy"), INVALID, "strategy"),
    ("missing price", _set("price", ""), INVALID, "price"),
    (
        "limit order without limit price",
        _set("order.order_type", types.ORDER_TYPE_LIMIT),
        INVALID,
        "order.limit_price",
    ),
    (
        "strategy id not a uuid",
        _set("strategy.strategy_id", "bot-7"),
        INVALID,
        "strategy.strategy_id",
    ),
    ("missing user", _set("user_id", ""), INVALID, "user_id"),
    (
        "negative rate limit",
        _set("strategy.config.risk_controls.max_orders_per_day", -1),
        INVALID,
        "strategy.config.risk_controls.max_orders_per_day",
    ),
    (
        "bad trade window",
        lambda r: (
            _set("strategy.config.trade_window.enabled", True)(r),
            _set("strategy.config.trade_window.start_time", "9am")(r),
        ),
        INVALID,
        "strategy.config.trade_window.start_time",
    ),
    (
        "bad symbol of the second position",
        lambda r: _add_positions(r, _position("MSFT"), _position("msft!")),
        INVALID,
        "strategy.positions[1].symbol",
    ),
    (
        "negative entry price of a position",
        lambda r: _add_positions(r, _position("MSFT", average_entry_price="-1")),
        INVALID,
        "strategy.positions[0].average_entry_price",
    ),
    (
        "unknown side of the third open order",
        lambda r: _add_open_orders(r, _open_order(), _open_order(), _open_order(side=5)),
        INVALID,
        "strategy.open_orders[2].side",
    ),
    (
        "zero quantity of an open order",
        lambda r: _add_open_orders(r, _open_order(quantity="0")),
        INVALID,
        "strategy.open_orders[0].quantity",
    ),
    (
        "another user's strategy",
        _set("strategy.user_id", str(uuid.uuid4())),
        grpc.StatusCode.PERMISSION_DENIED,
        "strategy.user_id",
    ),
]


def _crypto(**overrides):
    fields = {
        "symbol": "BTC/USD",
        "asset_class": types.ASSET_CLASS_CRYPTO,
        "quantity": "0.01",
        "price": "50000",
        "time_in_force": types.TIME_IN_FORCE_GTC,
    }
    return trade_request(**{**fields, **overrides})


CRYPTO_CASES = [
    (
        "crypto day order",
        _set("order.time_in_force", types.TIME_IN_FORCE_DAY),
        INVALID,
        "order.time_in_force",
    ),
    (
        "crypto stop order",
        _set("order.order_type", types.ORDER_TYPE_STOP),
        INVALID,
        "order.order_type",
    ),
    ("crypto below one dollar", _set("order.quantity", "0.00001"), INVALID, "order.quantity"),
    (
        "crypto quantity with ten places",
        _set("order.quantity", "0.0100000001"),
        INVALID,
        "order.quantity",
    ),
    ("equity symbol as crypto", _set("order.symbol", "AAPL"), INVALID, "order.symbol"),
]


async def _nothing_written(admin) -> None:
    assert await admin.fetchval("select count(*) from risk_events") == 0
    assert await admin.fetchval("select count(*) from risk_approved_orders") == 0
    assert await admin.fetchval("select count(*) from risk_order_counters") == 0


async def _expect_error(stub, request, code, field, metadata=None):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await validate(stub, request, metadata)
    assert raised.value.code() == code, raised.value.details()
    assert field_of(raised.value) == field, raised.value.details()


@pytest.mark.parametrize(("case", "mutate", "code", "field"), CASES, ids=[c[0] for c in CASES])
async def test_validate_when_equity_order_malformed_names_the_field(
    shared_stub, case, mutate, code, field
):
    request = trade_request()
    mutate(request)
    await _expect_error(shared_stub, request, code, field)


@pytest.mark.parametrize(
    ("case", "mutate", "code", "field"), CRYPTO_CASES, ids=[c[0] for c in CRYPTO_CASES]
)
async def test_validate_when_crypto_order_malformed_names_the_field(
    shared_stub, case, mutate, code, field
):
    request = _crypto()
    mutate(request)
    await _expect_error(shared_stub, request, code, field)


async def test_validate_when_malformed_writes_nothing(stub, admin):
    cases = [(trade_request, c[1]) for c in CASES] + [(_crypto, c[1]) for c in CRYPTO_CASES]
    for make_request, mutate in cases:
        request = make_request()
        mutate(request)
        with pytest.raises(grpc.aio.AioRpcError):
            await validate(stub, request)
    await _nothing_written(admin)


async def test_validate_when_fractional_equity_limit_order_fails_on_quantity(stub, admin):
    request = trade_request(
        quantity="1.5",
        order_type=types.ORDER_TYPE_LIMIT,
        limit_price="150.00",
        config=types.StrategyConfig(fractional_enabled=True),
    )
    await _expect_error(stub, request, INVALID, "order.quantity")
    await _nothing_written(admin)


async def test_validate_when_user_names_another_user_is_denied(stub, admin, user_a):
    request = trade_request()  # the demo user's order
    await _expect_error(
        stub, request, grpc.StatusCode.PERMISSION_DENIED, "user_id", user_metadata(user_a)
    )
    await _nothing_written(admin)


async def test_validate_when_user_names_themselves_is_answered(stub, user_a):
    request = trade_request(user_id=str(user_a))
    response = await validate(stub, request, user_metadata(user_a))
    assert response.allowed


async def test_validate_when_user_unknown_is_not_found(stub, admin):
    request = trade_request(user_id=str(uuid.uuid4()))
    await _expect_error(stub, request, grpc.StatusCode.NOT_FOUND, "user_id", service_metadata())
    await _nothing_written(admin)


async def test_validate_without_token_is_unauthenticated(stub):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ValidateTrade(trade_request(), timeout=5)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_validate_when_platform_config_missing_is_unavailable_and_fails_closed(stub, admin):
    # An internal failure (here: the platform limits are gone) is never an approval.
    await admin.execute("delete from platform_config where key = 'default_risk_limits'")
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 1.0
    while True:
        try:
            await validate(stub, trade_request())
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE
            assert "treat the order as denied" in error.details()
            break
        assert loop.time() < deadline, "the service kept approving without its limits"
        await asyncio.sleep(0.01)
