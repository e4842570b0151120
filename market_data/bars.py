"""The Bars container: one symbol's OHLCV bars as parallel float64 arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from market_data.intervals import Interval

_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True, eq=False)
class Bars:
    """OHLCV bars of one symbol, oldest first.

    ``timestamps`` are each bar's open time in nanoseconds since the Unix epoch (UTC,
    int64); a bar's close is its open time plus the interval. ``volume`` is in base units
    (coins, shares); NaN where a source has none.
    """

    symbol: str
    interval: Interval
    timestamps: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.timestamps)
        if self.timestamps.dtype != np.int64:
            raise TypeError("timestamps must be int64 nanoseconds")
        for name in _COLUMNS:
            column = getattr(self, name)
            if column.dtype != np.float64 or len(column) != n:
                raise ValueError(f"{name} must be a float64 array of length {n}")

    def __len__(self) -> int:
        return len(self.timestamps)

    def slice(self, start: int, stop: int) -> Bars:
        """Bars[start:stop] (views, no copy)."""
        return Bars(
            self.symbol,
            self.interval,
            self.timestamps[start:stop],
            *(getattr(self, name)[start:stop] for name in _COLUMNS),
        )

    def with_columns(self, **columns: np.ndarray) -> Bars:
        """A copy with some columns replaced (used by tests that perturb a bar)."""
        values = {name: getattr(self, name) for name in ("timestamps", *_COLUMNS)}
        values.update(columns)
        return Bars(self.symbol, self.interval, **values)

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame indexed by UTC open time with open/high/low/close/volume columns."""
        index = pd.DatetimeIndex(pd.to_datetime(self.timestamps, utc=True), name="timestamp")
        return pd.DataFrame({name: getattr(self, name) for name in _COLUMNS}, index=index)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, symbol: str, interval: Interval) -> Bars:
        """Build from a DataFrame indexed by time (naive = UTC) with OHLC(V) columns."""
        index = pd.DatetimeIndex(frame.index)
        index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
        stamps = index.as_unit("ns").asi8.astype(np.int64)
        volume = (
            frame["volume"].to_numpy(np.float64)
            if "volume" in frame
            else np.full(len(frame), np.nan)
        )
        prices = {
            c: np.ascontiguousarray(frame[c].to_numpy(np.float64))
            for c in ("open", "high", "low", "close")
        }
        return cls(
            symbol,
            interval,
            np.ascontiguousarray(stamps),
            open=prices["open"],
            high=prices["high"],
            low=prices["low"],
            close=prices["close"],
            volume=np.ascontiguousarray(volume),
        )

    @classmethod
    def empty(cls, symbol: str, interval: Interval) -> Bars:
        nothing = np.empty(0, np.float64)
        return cls(symbol, interval, np.empty(0, np.int64), *(nothing,) * 5)
