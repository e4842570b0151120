"""How the paper exchange fills an order against one bar: pure arithmetic, no I/O.

The rules are the backtest engine's (``strategies.fills.FillModel``, one implementation):
market orders at the open moved against the trader by the slippage, limit orders at the
limit or a better open once the bar trades through it (maker fee), stops at the stop or
a worse open less slippage (taker fee), at most a share of the bar's volume per order.
Prices come out of the shared float model and are rounded to the exchange's Decimal
step here; fees and quantities are computed in Decimal. Stop-limits and buy stops, which
the engine does not simulate, are built on the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from functools import cached_property
from typing import Protocol

from strategies.fills import Costs, FillModel

BPS = Decimal(10_000)
QUANTITY_STEP = Decimal("1e-8")
PRICE_STEP = Decimal("1e-8")


class BarLike(Protocol):
    """A price bar (market_data's Bar satisfies it); read-only."""

    @property
    def open(self) -> object: ...
    @property
    def high(self) -> object: ...
    @property
    def low(self) -> object: ...
    @property
    def close(self) -> object: ...
    @property
    def volume(self) -> object: ...


@dataclass(frozen=True)
class FillTerms:
    """The exchange's costs: ``fee_bps`` for taker fills (market, stop), ``maker_fee_bps``
    for limit fills (None: the same as ``fee_bps``)."""

    fee_bps: Decimal
    slippage_bps: Decimal
    max_volume_fraction: Decimal
    maker_fee_bps: Decimal | None = None

    @cached_property
    def model(self) -> FillModel:
        maker = self.fee_bps if self.maker_fee_bps is None else self.maker_fee_bps
        return FillModel(
            Costs(
                maker_fee=float(maker / BPS),
                taker_fee=float(self.fee_bps / BPS),
                slippage=float(self.slippage_bps / BPS),
                max_volume_share=float(self.max_volume_fraction),
            )
        )


@dataclass(frozen=True)
class FillQuote:
    quantity: Decimal
    price: Decimal
    fee: Decimal


def as_decimal(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _exact(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _price(value: float) -> Decimal:
    return _exact(value).quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)


def fill_price(
    side: str,
    order_type: str,
    limit_price: Decimal | None,
    bar: BarLike,
    terms: FillTerms,
    stop_price: Decimal | None = None,
) -> Decimal | None:
    """The price this bar fills the order at, or None if it does not trade there.

    A stop order becomes a market order when the bar trades through its stop: it fills
    at the stop (or the open, if the bar opened beyond it) with slippage. A stop-limit
    fills like a stop, but never beyond its limit (a bar that does not trade at the limit
    leaves it resting).
    """
    model = terms.model
    open_, high, low = as_decimal(bar.open), as_decimal(bar.high), as_decimal(bar.low)
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
            return _price(model.stop_price(float(stop_price), float(open_)))
        if high < stop_price:
            return None
        return _price(model.buy_stop_price(float(stop_price), float(open_)))
    if order_type == "market":
        return _price(model.market_price(side, float(open_)))
    if limit_price is None or (low > limit_price if side == "buy" else high < limit_price):
        return None
    return _price(model.limit_price(side, float(limit_price), float(open_)))


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
    cap = _exact(terms.model.volume_cap(float(as_decimal(bar.volume))))
    quantity = min(remaining, cap) if cap > 0 else remaining
    fee_rate = _exact(terms.model.fee_rate(taker=order_type != "limit"))
    if side == "buy" and cash is not None:
        affordable = cash / (price * (1 + fee_rate))
        quantity = min(quantity, affordable)
    quantity = quantity.quantize(QUANTITY_STEP, rounding=ROUND_DOWN)
    if quantity <= 0:
        return None
    fee = (quantity * price * fee_rate).quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)
    return FillQuote(quantity, price, fee)
