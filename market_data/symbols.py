"""The symbols the synthetic source knows, and the asset class of a symbol.

Crypto pairs are written "BASE/QUOTE" ("BTC/USD"), US equities as tickers ("AAPL"),
the way Alpaca writes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from servicekit.errors import InvalidArgument


class AssetClass(StrEnum):
    CRYPTO = "crypto"
    US_EQUITY = "us_equity"


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    """What the synthetic generator needs to make a believable series for a symbol."""

    symbol: str
    asset_class: AssetClass
    start_price: float
    annual_volatility: float  # of log returns
    volume_per_day: float  # base units traded per day (coins or shares)


_PROFILES = {
    p.symbol: p
    for p in (
        SymbolProfile("BTC/USD", AssetClass.CRYPTO, 40_000.0, 0.65, 25_000.0),
        SymbolProfile("ETH/USD", AssetClass.CRYPTO, 2_500.0, 0.75, 300_000.0),
        SymbolProfile("SOL/USD", AssetClass.CRYPTO, 100.0, 0.95, 4_000_000.0),
        SymbolProfile("LTC/USD", AssetClass.CRYPTO, 80.0, 0.80, 1_500_000.0),
        SymbolProfile("DOGE/USD", AssetClass.CRYPTO, 0.08, 1.00, 2.0e9),
        SymbolProfile("AVAX/USD", AssetClass.CRYPTO, 30.0, 0.95, 3_000_000.0),
        SymbolProfile("LINK/USD", AssetClass.CRYPTO, 15.0, 0.90, 5_000_000.0),
        SymbolProfile("AAPL", AssetClass.US_EQUITY, 180.0, 0.27, 55_000_000.0),
        SymbolProfile("MSFT", AssetClass.US_EQUITY, 350.0, 0.25, 22_000_000.0),
        SymbolProfile("NVDA", AssetClass.US_EQUITY, 450.0, 0.50, 45_000_000.0),
        SymbolProfile("TSLA", AssetClass.US_EQUITY, 220.0, 0.55, 100_000_000.0),
        SymbolProfile("AMZN", AssetClass.US_EQUITY, 140.0, 0.32, 45_000_000.0),
        SymbolProfile("GOOGL", AssetClass.US_EQUITY, 135.0, 0.30, 30_000_000.0),
        SymbolProfile("META", AssetClass.US_EQUITY, 320.0, 0.40, 18_000_000.0),
        SymbolProfile("SPY", AssetClass.US_EQUITY, 450.0, 0.17, 80_000_000.0),
        SymbolProfile("QQQ", AssetClass.US_EQUITY, 380.0, 0.22, 45_000_000.0),
    )
}

_CRYPTO_PAIR = re.compile(r"^[A-Z0-9]{2,10}/[A-Z]{3,5}$")
_TICKER = re.compile(r"^[A-Z][A-Z0-9.]{0,9}$")


def known_symbols() -> list[str]:
    """Symbols the synthetic source can generate."""
    return sorted(_PROFILES)


def asset_class_of(symbol: str) -> AssetClass:
    """Crypto for "BASE/QUOTE" pairs, US equity for tickers (purely by shape)."""
    return AssetClass.CRYPTO if "/" in symbol else AssetClass.US_EQUITY


def check_symbol_shape(symbol: str, field: str = "symbol") -> str:
    """Normalise case and check a symbol is a crypto pair or a ticker; else InvalidArgument."""
    text = (symbol or "").strip().upper()
    if not text:
        raise InvalidArgument(field, "is required")
    if not (_CRYPTO_PAIR.match(text) or _TICKER.match(text)):
        raise InvalidArgument(field, f"{symbol!r} is neither a crypto pair (BTC/USD) nor a ticker")
    return text


def profile_of(symbol: str, field: str = "symbol") -> SymbolProfile:
    """The synthetic profile of a known symbol; an unknown one is InvalidArgument on ``field``."""
    text = check_symbol_shape(symbol, field)
    try:
        return _PROFILES[text]
    except KeyError:
        raise InvalidArgument(
            field, f"unknown symbol {symbol!r} (known: {', '.join(known_symbols())})"
        ) from None
