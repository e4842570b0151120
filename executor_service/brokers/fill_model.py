"""How the paper exchange fills an order against one bar: pure arithmetic, no I/O.

Market orders fill at the bar's open moved against the trader by the slippage; limit
orders fill when the bar trades through the limit, at the limit or a better open. An
order may take at most a share of the bar's volume, so a large order fills over several
bars (partial fills). Fees are a rate of the traded value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Protocol

BPS = Decimal(10_000)
QUANTITY_STEP = Decimal("1e-8")
PRICE_STEP = Decimal("1e-8")


class BarLike(Protocol):
    """A price bar (market_data's Bar satisfies it)."""

    open: object
    high: object
    low: object
    close: object
    volume: object


@dataclass(frozen=True)
class FillTerms:
    fee_bps: Decimal
    slippage_bps: Decimal
    max_volume_fraction: Decimal


@dataclass(frozen=True)
class FillQuote:
    quantity: Decimal
    price: Decimal
    fee: Decimal


def _d(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def fill_price(side: str, order_type: str, limit_price: Decimal | None, bar: BarLike,
               terms: FillTerms, stop_price: Decimal | None = None) -> Decimal | None:
    """The price this bar fills the order at, or None if it does not trade there.

    A stop order becomes a market order when the bar trades through its stop: it fills
    at the stop (or the open, if the bar opened beyond it) with slippage. A stop-limit
    fills like a stop, but never beyond its limit (a bar that does not trade at the limit
    leaves it resting).
    """
    open_, high, low = _d(bar.open), _d(bar.high), _d(bar.low)
    slip = terms.slippage_bps / BPS
    if order_type == "stop_limit":
        price = fill_price(side, "stop", None, bar, terms, stop_price)
        if price is None or limit_price is None:
            return None
        if side == "sell" and price < limit_price:
            return limit_price if high >= limit_price else None
        if side == "buy" and price > limit_price:
            return limit_price if low <= limit_price else None
        return price
    if order_type == "stop":
        if stop_price is None:
            return None
        if side == "sell":
            if low > stop_price:
                return None
            price = min(open_, stop_price) * (1 - slip)
        else:
            if high < stop_price:
                return None
            price = max(open_, stop_price) * (1 + slip)
    elif order_type == "market":
        price = open_ * (1 + slip) if side == "buy" else open_ * (1 - slip)
    elif side == "buy":
        if limit_price is None or low > limit_price:
            return None
        price = min(open_, limit_price)
    else:
        if limit_price is None or high < limit_price:
            return None
        price = max(open_, limit_price)
    return price.quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)


def quote_fill(
    side: str,
    order_type: str,
    limit_price: Decimal | None,
    remaining: Decimal,
    bar: BarLike,
    terms: FillTerms,
    cash: Decimal | None = None,
    stop_price: Decimal | None = None,
) -> FillQuote | None:
    """The fill this bar gives an order with ``remaining`` quantity, or None.

    ``cash`` caps a buy at what the account can pay for, fee included.
    """
    price = fill_price(side, order_type, limit_price, bar, terms, stop_price)
    if price is None or remaining <= 0:
        return None
    cap = _d(bar.volume) * terms.max_volume_fraction
    quantity = min(remaining, cap) if cap > 0 else remaining
    fee_rate = terms.fee_bps / BPS
    if side == "buy" and cash is not None:
        affordable = cash / (price * (1 + fee_rate))
        quantity = min(quantity, affordable)
    quantity = quantity.quantize(QUANTITY_STEP, rounding=ROUND_DOWN)
    if quantity <= 0:
        return None
    fee = (quantity * price * fee_rate).quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)
    return FillQuote(quantity, price, fee)
