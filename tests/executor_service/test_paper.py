"""The paper exchange: fills with fees, slippage and partial fills; durable, idempotent books."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from executor_service.brokers.base import DuplicateClientOrderId, OrderRequest, submit_idempotently
from executor_service.brokers.fill_model import FillTerms, fill_price
from executor_service.brokers.paper import PaperExchange
from servicekit.db.pool import create_pool

T0 = datetime(2026, 1, 5, tzinfo=UTC)
TERMS = FillTerms(fee_bps=Decimal(10), slippage_bps=Decimal(5), max_volume_fraction=Decimal("0.5"))


@dataclass(frozen=True)
class Candle:
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


BAR = Candle(Decimal(100), Decimal(105), Decimal(95), Decimal(101), Decimal(1000))


@pytest.fixture
async def exchange(database):
    pool = await create_pool(database.dsn_for("executor_service"))
    yield PaperExchange(pool, TERMS, Decimal(10_000))
    await pool.close()


def buy(cid: str, quantity: str, order_type: str = "market", limit: str | None = None):
    return OrderRequest(
        cid,
        "BTC/USD",
        "buy",
        order_type,
        Decimal(quantity),
        Decimal(limit) if limit else None,
        decision_at=T0,
    )


async def test_market_buy_when_next_bar_fills_at_open_plus_slippage_with_fee(exchange, user_a):
    account = exchange.account(user_a)
    await account.submit_order(buy("c1", "10"))
    assert await exchange.match_bar(user_a, "BTC/USD", T0, BAR) == set()  # the decision bar
    assert await exchange.match_bar(user_a, "BTC/USD", T0 + timedelta(minutes=1), BAR) == {"c1"}
    order = await account.get_order("c1")
    fill = order.fills[0]
    assert (order.status, order.filled_qty) == ("filled", Decimal(10))
    assert fill.price == Decimal("100.05")
    assert fill.fee == Decimal("1.0005")
    assert (await account.get_account()).cash == Decimal(10_000) - Decimal("1000.5") - fill.fee
    assert await account.get_positions() == {"BTC/USD": Decimal(10)}


async def test_submit_when_client_order_id_reused_is_refused_and_counted(
    exchange, user_a, database
):
    account = exchange.account(user_a)
    first = await account.submit_order(buy("dup", "1"))
    with pytest.raises(DuplicateClientOrderId):
        await account.submit_order(buy("dup", "1"))
    again = await submit_idempotently(account, buy("dup", "1"))
    assert again.broker_order_id == first.broker_order_id
    pool = await create_pool(database.admin_dsn)
    try:
        assert await pool.fetchval("select count(*) from paper_orders") == 1
        assert await pool.fetchval("select duplicate_submissions from paper_orders") == 2
    finally:
        await pool.close()


async def test_match_bar_when_order_exceeds_volume_share_fills_partially_over_bars(
    exchange, user_a
):
    account = exchange.account(user_a)
    await account.submit_order(buy("big", "80"))  # half of 1000 per bar = 500, cash caps ~99
    small = Candle(Decimal(100), Decimal(101), Decimal(99), Decimal(100), Decimal(60))
    await exchange.match_bar(user_a, "BTC/USD", T0 + timedelta(minutes=1), small)
    order = await account.get_order("big")
    assert (order.status, order.filled_qty) == ("partially_filled", Decimal(30))
    # The same bar again changes nothing (replay after a crash).
    await exchange.match_bar(user_a, "BTC/USD", T0 + timedelta(minutes=1), small)
    assert (await account.get_order("big")).filled_qty == Decimal(30)
    await exchange.match_bar(user_a, "BTC/USD", T0 + timedelta(minutes=2), small)
    await exchange.match_bar(user_a, "BTC/USD", T0 + timedelta(minutes=3), small)
    order = await account.get_order("big")
    assert (order.status, order.filled_qty, len(order.fills)) == ("filled", Decimal(80), 3)


async def test_limit_buy_when_bar_stays_above_limit_does_not_fill(exchange, user_a):
    account = exchange.account(user_a)
    await account.submit_order(buy("lim", "1", "limit", "90"))
    await exchange.match_bar(user_a, "BTC/USD", T0 + timedelta(minutes=1), BAR)
    assert (await account.get_order("lim")).status == "new"
    dip = Candle(Decimal(96), Decimal(97), Decimal(89), Decimal(92), Decimal(1000))
    await exchange.match_bar(user_a, "BTC/USD", T0 + timedelta(minutes=2), dip)
    order = await account.get_order("lim")
    assert (order.status, order.fills[0].price) == ("filled", Decimal(90))


async def test_sell_when_more_than_held_is_rejected(exchange, user_a):
    account = exchange.account(user_a)
    order = await account.submit_order(
        OrderRequest("s1", "BTC/USD", "sell", "market", Decimal(1), decision_at=T0)
    )
    assert (order.status, order.reject_reason) == ("rejected", "insufficient position to sell")


async def test_sell_stop_when_bar_trades_through_fills_at_stop_less_slippage(exchange, user_a):
    account = exchange.account(user_a)
    await account.submit_order(buy("b", "2"))
    await exchange.match_bar(user_a, "BTC/USD", T0 + timedelta(minutes=1), BAR)
    await account.submit_order(
        OrderRequest(
            "stop", "BTC/USD", "sell", "stop", Decimal(2), stop_price=Decimal(97), decision_at=T0
        )
    )
    await exchange.match_bar(user_a, "BTC/USD", T0 + timedelta(minutes=2), BAR)  # low 95
    order = await account.get_order("stop")
    assert order.status == "filled"
    assert order.fills[0].price == (Decimal(97) * (1 - Decimal("0.0005"))).quantize(Decimal("1e-8"))
    assert await account.get_positions() == {}


@pytest.mark.parametrize(
    ("open_", "high", "low", "expected"),
    [
        ("100", "101", "94", "94.9525"),  # trades through the stop: the stop less slippage
        ("100", "101", "96", None),  # never reaches the stop
        ("90", "91", "80", "90"),  # gaps below the limit, trades back to it
        ("88", "89", "80", None),  # gaps below the limit and stays there
    ],
)
def test_stop_limit_sell_when_bar_trades_fills_like_a_stop_but_never_under_its_limit(
    open_, high, low, expected
):
    bar = Candle(Decimal(open_), Decimal(high), Decimal(low), Decimal(open_), Decimal(1000))
    price = fill_price("sell", "stop_limit", Decimal(90), bar, TERMS, Decimal(95))
    assert price == (None if expected is None else Decimal(expected))
