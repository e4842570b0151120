"""ValidateTrade through the real gRPC server and the real database: the seed's scenario
and, for every rule, its boundary (exactly at the limit passes, one cent or one unit
over fails)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from risk_service.rules import RULES, Orders
from tests.risk_service.conftest import (
    DEMO_USER,
    STRATEGY_ID,
    check,
    trade_request,
    validate,
)
from trading.risk.v1 import risk_service_pb2 as pb
from trading.types.v1 import types_pb2 as types

FAILED = pb.CHECK_OUTCOME_FAILED
ONE_BOT = {"strategy_id": STRATEGY_ID}
PLENTY = {"cash": "1000000", "buying_power": "1000000", "equity": "1000000"}


def config(**fields) -> types.StrategyConfig:
    return types.StrategyConfig(**fields)


async def test_validate_when_seed_scenario_ten_shares_fit_passes(stub):
    response = await validate(stub, trade_request(quantity="10", price="150.00"))
    assert response.allowed
    assert response.reason_code == ""
    assert all(c.outcome != FAILED for c in response.checks)


async def test_validate_when_seed_scenario_hundred_shares_exceed_buying_power_fails(stub, admin):
    response = await validate(stub, trade_request(quantity="100", price="150.00"))
    assert not response.allowed
    assert response.reason_code == "INSUFFICIENT_BUYING_POWER"
    assert "Insufficient buying power" in response.message
    assert response.message == (
        "Insufficient buying power: order needs $15,000.00, available $5,000.00"
    )
    # 33 shares fit the buying power; 16 is the most the 25% position limit allows.
    assert response.max_allowed_quantity == "16"
    assert check(response, "position_size").outcome == FAILED
    event = await admin.fetchrow(
        "select * from risk_events where id = $1::uuid", response.risk_event_id
    )
    assert event["event_type"] == "trade_blocked"
    assert event["reason_code"] == "INSUFFICIENT_BUYING_POWER"
    details = (
        json.loads(event["details"]) if isinstance(event["details"], str) else event["details"]
    )
    assert details["order"]["quantity"] == "100"
    assert details["account"]["buying_power"] == "5000"


async def test_validate_when_max_allowed_quantity_is_retried_passes(shared_stub):
    denied = await validate(shared_stub, trade_request(quantity="100"))
    retried = await validate(shared_stub, trade_request(quantity=denied.max_allowed_quantity))
    assert retried.allowed


@pytest.mark.parametrize(("buying_power", "allowed"), [("1500.00", True), ("1499.99", False)])
async def test_buying_power_at_boundary(shared_stub, buying_power, allowed):
    request = trade_request(account={"buying_power": buying_power})
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "INSUFFICIENT_BUYING_POWER"
        assert response.max_allowed_quantity == "9"


@pytest.mark.parametrize(("limit_price", "allowed"), [("149.00", True), ("149.01", False)])
async def test_buying_power_counts_open_buy_orders_as_reserved(shared_stub, limit_price, allowed):
    # $1,500 buying power, $1 of it reserved by an open buy: a 10-share limit buy at
    # $149.00 ($1,490) fits, at $149.01 ($1,490.10) it does not.
    open_buy = types.Order(symbol="MSFT", side=types.SIDE_BUY, quantity="1", limit_price="10.00")
    request = trade_request(
        account={"buying_power": "1500.00"},
        order_type=types.ORDER_TYPE_LIMIT,
        limit_price=limit_price,
        open_orders=[open_buy],
    )
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "INSUFFICIENT_BUYING_POWER"


@pytest.mark.parametrize(("price", "allowed"), [("1500.00", True), ("1500.01", False)])
async def test_max_notional_per_order_at_boundary(shared_stub, price, allowed):
    request = trade_request(
        quantity="1",
        price=price,
        account=PLENTY,
        config=config(capital_allocation=types.CapitalAllocation(max_capital_per_trade="1500")),
    )
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "NOTIONAL_EXCEEDS_MAX_PER_ORDER"
        assert "limit from strategy" in response.message


@pytest.mark.parametrize(("price", "allowed"), [("2500.00", True), ("2500.01", False)])
async def test_position_size_pct_equity_at_boundary(shared_stub, price, allowed):
    # Demo profile: risk tolerance medium, 25% of equity per position; equity $10,000.
    request = trade_request(
        quantity="1", price=price, account={"buying_power": "100000", "equity": "10000.00"}
    )
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "POSITION_SIZE_EXCEEDS_PCT_EQUITY"
        assert "limit from risk tolerance" in response.message


@pytest.mark.parametrize(("price", "allowed"), [("1000.00", True), ("1000.01", False)])
async def test_bot_allocation_at_boundary(shared_stub, price, allowed):
    request = trade_request(
        quantity="1",
        price=price,
        account=PLENTY,
        config=config(capital_allocation=types.CapitalAllocation(allocated_capital="1000")),
    )
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "BOT_ALLOCATION_EXCEEDED"


def _holding(symbol: str) -> types.Position:
    return types.Position(symbol=symbol, quantity="1", average_entry_price="10")


@pytest.mark.parametrize(("held", "allowed"), [(["MSFT"], True), (["MSFT", "GOOG"], False)])
async def test_max_positions_at_boundary(shared_stub, held, allowed):
    request = trade_request(
        account=PLENTY,
        positions=[_holding(s) for s in held],
        config=config(position_sizing=types.PositionSizing(max_positions=2)),
    )
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "MAX_POSITIONS"


@pytest.mark.parametrize(("gross", "allowed"), [("18500.00", True), ("18500.01", False)])
async def test_leverage_at_boundary(shared_stub, gross, allowed):
    # 2x for the demo profile: $10,000 equity allows $20,000 of gross exposure.
    request = trade_request(
        account={"buying_power": "100000", "equity": "10000", "gross_exposure": gross},
    )
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "LEVERAGE_EXCEEDED"


@pytest.mark.parametrize(("unrealized", "allowed"), [("-200.00", True), ("-200.01", False)])
async def test_daily_loss_pct_of_account_at_boundary(shared_stub, unrealized, allowed):
    # 5% of $10,000 (risk tolerance medium): a $500 loss is the limit.
    request = trade_request(account={"realized_pnl_today": "-300", "unrealized_pnl": unrealized})
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    assert response.reducing_only is (not allowed)
    if not allowed:
        assert response.reason_code == "DAILY_LOSS_LIMIT"


@pytest.mark.parametrize(("realized", "allowed"), [("-100.00", True), ("-100.01", False)])
async def test_daily_loss_usd_of_strategy_at_boundary(shared_stub, realized, allowed):
    request = trade_request(
        strategy={"realized_pnl_today": realized},
        config=config(risk_controls=types.RiskControls(max_daily_loss_usd="100")),
    )
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "DAILY_LOSS_LIMIT"


async def test_daily_loss_when_breached_a_reducing_sell_passes(shared_stub):
    request = trade_request(
        side=types.SIDE_SELL,
        quantity="5",
        account={"realized_pnl_today": "-5000"},
        positions=[types.Position(symbol="AAPL", quantity="10", average_entry_price="150")],
    )
    response = await validate(shared_stub, request)
    assert response.allowed
    assert response.reducing_only
    assert check(response, "daily_loss_account").outcome == pb.CHECK_OUTCOME_SKIPPED


@pytest.mark.parametrize(("peak", "allowed"), [("12500.00", True), ("12500.01", False)])
async def test_drawdown_of_account_at_boundary(shared_stub, peak, allowed):
    # 20% (risk tolerance medium): equity $10,000 after a peak of $12,500.
    request = trade_request(account={"peak_equity": peak})
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "MAX_DRAWDOWN"


@pytest.mark.parametrize(("equity", "allowed"), [("900.00", True), ("899.99", False)])
async def test_drawdown_of_strategy_at_boundary(shared_stub, equity, allowed):
    request = trade_request(
        strategy={"equity": equity, "peak_equity": "1000"},
        config=config(risk_controls=types.RiskControls(max_drawdown_pct="10")),
    )
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "MAX_DRAWDOWN"


WINDOW = types.TradeWindow(
    enabled=True, start_time="09:30", end_time="16:00", days_of_week=[1, 2, 3, 4, 5]
)


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (dt.datetime(2026, 11, 23, 21, 0, 0, tzinfo=dt.UTC), True),  # Mon 16:00:00 NY
        (dt.datetime(2026, 11, 23, 21, 0, 1, tzinfo=dt.UTC), False),  # Mon 16:00:01 NY
        (dt.datetime(2026, 11, 23, 14, 30, 0, tzinfo=dt.UTC), True),  # Mon 09:30:00 NY
        (dt.datetime(2026, 11, 23, 14, 29, 59, tzinfo=dt.UTC), False),  # Mon 09:29:59 NY
        (dt.datetime(2026, 11, 28, 16, 0, 0, tzinfo=dt.UTC), False),  # Saturday
    ],
)
async def test_trade_window_in_exchange_time_zone_at_boundary(stub, clock, now, allowed):
    clock.now = now
    response = await validate(stub, trade_request(config=config(trade_window=WINDOW)))
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "OUTSIDE_TRADE_WINDOW"


async def test_trade_window_when_crypto_has_none_trades_on_sunday_night(stub, clock):
    clock.now = dt.datetime(2026, 11, 29, 23, 0, tzinfo=dt.UTC)
    request = trade_request(
        symbol="BTC/USD",
        asset_class=types.ASSET_CLASS_CRYPTO,
        quantity="0.01",
        price="50000",
        time_in_force=types.TIME_IN_FORCE_GTC,
        account={"buying_power": "100000", "equity": "100000"},
    )
    response = await validate(stub, request)
    assert response.allowed, response.message


@pytest.mark.parametrize(("quantity", "allowed"), [("10", True), ("11", False)])
async def test_short_selling_at_boundary(shared_stub, quantity, allowed):
    request = trade_request(
        side=types.SIDE_SELL,
        quantity=quantity,
        positions=[types.Position(symbol="AAPL", quantity="10", average_entry_price="140")],
    )
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "SHORT_NOT_ALLOWED"
        assert response.max_allowed_quantity == "10"


@pytest.mark.parametrize(("limit_price", "allowed"), [("149.99", True), ("150.00", False)])
async def test_wash_trade_when_buy_would_cross_open_sell_at_boundary(
    shared_stub, limit_price, allowed
):
    open_sell = types.Order(
        symbol="AAPL",
        side=types.SIDE_SELL,
        quantity="5",
        limit_price="150.00",
        order_type=types.ORDER_TYPE_LIMIT,
    )
    request = trade_request(
        order_type=types.ORDER_TYPE_LIMIT,
        limit_price=limit_price,
        open_orders=[open_sell],
        positions=[types.Position(symbol="AAPL", quantity="5", average_entry_price="140")],
    )
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "POTENTIAL_WASH_TRADE"


@pytest.mark.parametrize(
    ("broker_mode", "allowed"), [(pb.BROKER_MODE_PAPER, True), (pb.BROKER_MODE_LIVE, False)]
)
async def test_paper_mode_profile_never_reaches_a_live_broker(shared_stub, broker_mode, allowed):
    response = await validate(shared_stub, trade_request(broker_mode=broker_mode))
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "PAPER_MODE"


@pytest.mark.parametrize(
    ("state", "side", "allowed"),
    [
        (pb.STRATEGY_STATE_ACTIVE, types.SIDE_BUY, True),
        (pb.STRATEGY_STATE_PAUSED, types.SIDE_BUY, False),
        (pb.STRATEGY_STATE_STOPPED, types.SIDE_SELL, False),
        (pb.STRATEGY_STATE_REDUCING, types.SIDE_BUY, False),
        (pb.STRATEGY_STATE_REDUCING, types.SIDE_SELL, True),
    ],
)
async def test_trading_state_of_strategy(shared_stub, state, side, allowed):
    request = trade_request(
        side=side,
        strategy={"state": state},
        account=PLENTY,
        positions=[types.Position(symbol="AAPL", quantity="10", average_entry_price="140")],
    )
    response = await validate(shared_stub, request)
    assert response.allowed is allowed
    if not allowed:
        assert response.reason_code == "TRADING_STATE"


async def test_rate_limit_per_minute_at_boundary(stub, clock):
    limited = config(risk_controls=types.RiskControls(max_orders_per_minute=3))
    for _ in range(3):
        assert (await validate(stub, trade_request(config=limited, strategy=ONE_BOT))).allowed
    denied = await validate(stub, trade_request(config=limited, strategy=ONE_BOT))
    assert not denied.allowed
    assert denied.reason_code == "RATE_LIMIT"
    clock.now += dt.timedelta(minutes=1)
    assert (await validate(stub, trade_request(config=limited, strategy=ONE_BOT))).allowed


async def test_rate_limit_per_day_at_boundary(stub, clock):
    limited = config(risk_controls=types.RiskControls(max_orders_per_day=2))
    for minute in range(2):
        clock.now += dt.timedelta(minutes=minute)
        assert (await validate(stub, trade_request(config=limited, strategy=ONE_BOT))).allowed
    clock.now += dt.timedelta(minutes=5)
    denied = await validate(stub, trade_request(config=limited, strategy=ONE_BOT))
    assert denied.reason_code == "RATE_LIMIT"
    clock.now += dt.timedelta(days=1)
    assert (await validate(stub, trade_request(config=limited, strategy=ONE_BOT))).allowed


async def test_rate_limit_counts_only_approved_orders(stub):
    limited = config(risk_controls=types.RiskControls(max_orders_per_minute=1))
    assert not (
        await validate(stub, trade_request(quantity="100", config=limited, strategy=ONE_BOT))
    ).allowed
    assert (await validate(stub, trade_request(config=limited, strategy=ONE_BOT))).allowed


async def test_duplicate_client_order_id_when_reused_fails(stub, admin):
    first = await validate(stub, trade_request(client_order_id="bot-1-0001"))
    second = await validate(stub, trade_request(client_order_id="bot-1-0001"))
    assert first.allowed
    assert not second.allowed
    assert second.reason_code == "DUPLICATE_CLIENT_ORDER_ID"
    ledger = await admin.fetchval(
        "select count(*) from risk_approved_orders where client_order_id = 'bot-1-0001'"
    )
    assert ledger == 1


async def test_asset_class_when_platform_allows_only_equities_crypto_fails(stub, admin):
    await admin.execute(
        "update platform_config set value = jsonb_set(value, '{allowed_asset_classes}',"
        " '[\"us_equity\"]') where key = 'default_risk_limits'"
    )
    crypto = trade_request(
        symbol="ETH/USD",
        asset_class=types.ASSET_CLASS_CRYPTO,
        quantity="0.5",
        price="3000",
        time_in_force=types.TIME_IN_FORCE_GTC,
    )
    denied = await _eventually(stub, crypto, lambda r: not r.allowed)
    assert denied.reason_code == "ASSET_CLASS_NOT_ALLOWED"
    assert "limit from platform" in denied.message
    assert (await validate(stub, trade_request())).allowed


async def test_asset_class_fee_estimate_counts_in_crypto_buying_power(shared_stub):
    # 0.25% estimated fee on crypto: $1,000 of BTC needs $1,002.50.
    def crypto(buying_power: str):
        return trade_request(
            symbol="BTC/USD",
            asset_class=types.ASSET_CLASS_CRYPTO,
            quantity="0.02",
            price="50000",
            time_in_force=types.TIME_IN_FORCE_GTC,
            account={"buying_power": buying_power, "equity": "100000"},
        )

    assert (await validate(shared_stub, crypto("1002.50"))).allowed
    denied = await validate(shared_stub, crypto("1002.49"))
    assert denied.reason_code == "INSUFFICIENT_BUYING_POWER"


async def _eventually(stub, request, predicate, timeout: float = 1.0):
    """Validate until ``predicate`` holds (changes reach the cache asynchronously)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        request.order.client_order_id = f"poll-{loop.time()}"
        response = await validate(stub, request)
        if predicate(response) or loop.time() > deadline:
            return response
        await asyncio.sleep(0.01)


async def test_denial_writes_one_risk_event_and_no_ledger_row(stub, admin):
    response = await validate(stub, trade_request(quantity="100"))
    assert not response.allowed
    events = await admin.fetch("select user_id, strategy_id from risk_events")
    assert [str(e["user_id"]) for e in events] == [DEMO_USER]
    assert await admin.fetchval("select count(*) from risk_approved_orders") == 0


async def test_validate_when_market_price_has_eight_places_passes(shared_stub):
    # The market price is information (a feed's last price), not an order price.
    response = await validate(shared_stub, trade_request(price="150.12345678"))
    assert response.allowed, response.message


async def test_validate_when_buys_and_sells_alternate_each_lists_its_own_checks(shared_stub):
    """Approvals list every rule in evaluation order: a buy skips the short-selling rule,
    a sell skips the rules that guard growth, whatever was answered just before."""
    held = [types.Position(symbol="AAPL", quantity="10", average_entry_price="140")]
    sides = [types.SIDE_BUY, types.SIDE_SELL, types.SIDE_BUY, types.SIDE_SELL]
    answers = [
        await validate(shared_stub, trade_request(side=side, quantity="5", positions=held))
        for side in sides
    ]
    assert all(a.allowed for a in answers), [a.message for a in answers]
    expected_order = [rule.name for rule in RULES] + ["rate_limit", "duplicate_client_order_id"]
    for answer, side in zip(answers, ["buy", "sell", "buy", "sell"], strict=True):
        assert [c.name for c in answer.checks] == expected_order
        skipped = {c.name for c in answer.checks if c.outcome == pb.CHECK_OUTCOME_SKIPPED}
        if side == "buy":
            assert skipped == {"short_selling"}
        else:
            assert skipped == {r.name for r in RULES if r.applies_to is Orders.GROWING}
        assert all(c.outcome != FAILED for c in answer.checks)
