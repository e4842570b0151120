"""Historical bars from Alpaca's market data API (alpaca-py), when keys are configured.

Keys come from the arguments or the environment: ``ALPACA_API_KEY`` and
``ALPACA_SECRET_KEY``. Equities use ``StockHistoricalDataClient`` (IEX feed by default,
the one free accounts may query); crypto uses ``CryptoHistoricalDataClient``.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import pandas as pd

from market_data.bars import Bars
from market_data.intervals import Interval
from market_data.sessions import as_utc
from market_data.symbols import AssetClass, asset_class_of
from servicekit.errors import Unavailable


def alpaca_keys_configured() -> bool:
    """True when both Alpaca keys are in the environment."""
    return bool(os.environ.get("ALPACA_API_KEY") and os.environ.get("ALPACA_SECRET_KEY"))


class AlpacaBarSource:
    """Fetches bars through alpaca-py; clients may be injected (tests use fakes)."""

    def __init__(
        self,
        api_key: str | None = None,
        secret_key: str | None = None,
        *,
        stock_client: Any = None,
        crypto_client: Any = None,
        feed: str = "iex",
    ):
        self._api_key = api_key or os.environ.get("ALPACA_API_KEY")
        self._secret_key = secret_key or os.environ.get("ALPACA_SECRET_KEY")
        self._stock_client = stock_client
        self._crypto_client = crypto_client
        self._feed = feed

    def fetch(self, symbol: str, interval: Interval, start: datetime, end: datetime) -> Bars:
        """Bars of ``symbol`` opening in [start, end) (the API's end is inclusive)."""
        from alpaca.data.enums import DataFeed
        from alpaca.data.requests import CryptoBarsRequest, StockBarsRequest

        window = {"start": as_utc(start), "end": as_utc(end), "timeframe": _timeframe(interval)}
        try:
            if asset_class_of(symbol) is AssetClass.CRYPTO:
                response = self._crypto().get_crypto_bars(
                    CryptoBarsRequest(symbol_or_symbols=symbol, **window)
                )
            else:
                response = self._stocks().get_stock_bars(
                    StockBarsRequest(symbol_or_symbols=symbol, feed=DataFeed(self._feed), **window)
                )
        except Exception as error:  # the SDK raises APIError, requests errors, ...
            raise Unavailable(f"Alpaca bars for {symbol} could not be fetched: {error}") from error
        return _to_bars(response.df, symbol, interval, end)

    def _stocks(self) -> Any:
        if self._stock_client is None:
            from alpaca.data.historical import StockHistoricalDataClient

            self._stock_client = StockHistoricalDataClient(self._api_key, self._secret_key)
        return self._stock_client

    def _crypto(self) -> Any:
        if self._crypto_client is None:
            from alpaca.data.historical import CryptoHistoricalDataClient

            self._crypto_client = CryptoHistoricalDataClient(self._api_key, self._secret_key)
        return self._crypto_client


def _timeframe(interval: Interval) -> Any:
    from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

    if interval is Interval.D1:
        return TimeFrame(1, TimeFrameUnit.Day)
    if interval is Interval.H1:
        return TimeFrame(1, TimeFrameUnit.Hour)
    return TimeFrame(interval.minutes, TimeFrameUnit.Minute)


def _to_bars(frame: pd.DataFrame, symbol: str, interval: Interval, end: datetime) -> Bars:
    if frame is None or frame.empty:
        return Bars.empty(symbol, interval)
    if isinstance(frame.index, pd.MultiIndex):  # (symbol, timestamp)
        frame = frame.xs(symbol, level=0) if symbol in frame.index.get_level_values(0) else frame
        if isinstance(frame.index, pd.MultiIndex):
            frame = frame.droplevel(0)
    frame = frame.sort_index()
    frame = frame[frame.index < pd.Timestamp(as_utc(end))]
    return Bars.from_frame(frame, symbol, interval)
