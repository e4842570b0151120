"""What an instrument allows: symbol shape, quantity and price precision, minimum size,
order types and times in force, per asset class (Alpaca's rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from risk_service.model import AssetClass, OrderType, TimeInForce

# The largest quantity and price accepted at all: far above any real order, so a typo of
# a few orders of magnitude is refused as malformed rather than evaluated.
MAX_QUANTITY = Decimal("1000000000")
MAX_PRICE = Decimal("100000000")
FRACTIONAL_PLACES = 9
MIN_NOTIONAL = Decimal(1)


@dataclass(frozen=True, slots=True)
class InstrumentRules:
    symbol_pattern: re.Pattern[str]
    symbol_example: str
    order_types: frozenset[OrderType]
    times_in_force: frozenset[TimeInForce]
    price_places: int

    def quantity_places(self, fractional: bool) -> int:
        return FRACTIONAL_PLACES if fractional else 0


EQUITY = InstrumentRules(
    symbol_pattern=re.compile(r"^[A-Z]{1,5}([.][A-Z]{1,2})?$"),
    symbol_example="AAPL",
    order_types=frozenset(OrderType),
    times_in_force=frozenset(TimeInForce),
    # Sub-dollar prices may have four places; the check is made per price.
    price_places=2,
)

CRYPTO = InstrumentRules(
    symbol_pattern=re.compile(r"^[A-Z0-9]{2,10}/[A-Z]{3,5}$"),
    symbol_example="BTC/USD",
    order_types=frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_LIMIT}),
    times_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC}),
    price_places=9,
)

RULES_BY_ASSET = {AssetClass.US_EQUITY: EQUITY, AssetClass.CRYPTO: CRYPTO}
# A symbol of any asset class, in one match (positions and open orders carry no class).
ANY_SYMBOL = re.compile(
    "|".join(f"(?:{rules.symbol_pattern.pattern})" for rules in RULES_BY_ASSET.values())
)


def price_places(asset: AssetClass, price: Decimal) -> int:
    """Decimal places a price may have: equities 2 (4 below $1), crypto 9."""
    if asset is AssetClass.US_EQUITY and price < 1:
        return 4
    return RULES_BY_ASSET[asset].price_places


def meets_minimum(asset: AssetClass, quantity: Decimal, price: Decimal, whole: bool) -> bool:
    """Whole-share orders need one share; fractional and crypto orders $1 of notional."""
    if quantity <= 0:
        return False
    if asset is AssetClass.US_EQUITY and whole:
        return quantity >= 1
    return quantity * price >= MIN_NOTIONAL
