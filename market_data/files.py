"""Bars from CSV and Parquet files.

A file holds one symbol: a time column (``timestamp``, ``time``, ``date`` or ``datetime``;
ISO strings, naive = UTC, or epoch seconds/milliseconds) and ``open``, ``high``, ``low``,
``close`` and optionally ``volume`` columns (case-insensitive). Bars finer than the
requested interval are aggregated; coarser ones are refused.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from market_data.bars import Bars
from market_data.intervals import Interval
from market_data.resample import resample
from market_data.sessions import to_ns
from servicekit.errors import InvalidArgument

_TIME_COLUMNS = ("timestamp", "time", "date", "datetime")


def read_bar_file(
    path: str | Path, symbol: str, interval: Interval, start: datetime, end: datetime
) -> Bars:
    """Read ``path`` (.csv or .parquet), keep bars opening in [start, end), resample."""
    file = Path(path)
    if not file.is_file():
        raise InvalidArgument("path", f"no such file: {file}")
    if file.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(file)
    elif file.suffix.lower() == ".csv":
        frame = pd.read_csv(file)
    else:
        raise InvalidArgument("path", "bar files must end in .csv or .parquet")
    frame = _normalise(frame, file)
    stamps = frame.index.asi8
    keep = (stamps >= to_ns(start)) & (stamps < to_ns(end))
    native = Bars.from_frame(frame[keep], symbol, _native_interval(stamps, interval))
    if native.interval.minutes > interval.minutes:
        raise InvalidArgument(
            "interval", f"{file.name} holds {native.interval} bars, coarser than {interval}"
        )
    return resample(native, interval)


def write_bar_file(bars: Bars, path: str | Path) -> None:
    """Write bars as .csv or .parquet (the format read_bar_file reads)."""
    file = Path(path)
    frame = bars.to_frame()
    if file.suffix.lower() == ".csv":
        frame.to_csv(file, date_format="%Y-%m-%dT%H:%M:%SZ")
    else:
        frame.to_parquet(file)


def _normalise(frame: pd.DataFrame, file: Path) -> pd.DataFrame:
    frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
    if not isinstance(frame.index, pd.DatetimeIndex):
        time_column = next((c for c in _TIME_COLUMNS if c in frame.columns), None)
        if time_column is None:
            raise InvalidArgument("path", f"{file.name} has no timestamp column")
        frame = frame.set_index(_parse_times(frame[time_column]))
    missing = [c for c in ("open", "high", "low", "close") if c not in frame.columns]
    if missing:
        raise InvalidArgument("path", f"{file.name} lacks columns: {', '.join(missing)}")
    index = frame.index.tz_localize("UTC") if frame.index.tz is None else frame.index
    frame.index = index.tz_convert("UTC").as_unit("ns")
    return frame.sort_index()[~frame.index.duplicated(keep="last")]


def _parse_times(column: pd.Series) -> pd.DatetimeIndex:
    if pd.api.types.is_numeric_dtype(column):
        unit = "ms" if float(column.max()) > 1e11 else "s"
        return pd.DatetimeIndex(pd.to_datetime(column, unit=unit, utc=True))
    return pd.DatetimeIndex(pd.to_datetime(column, utc=True, format="ISO8601"))


def _native_interval(stamps: np.ndarray, requested: Interval) -> Interval:
    """The interval a file's bars are in, from the smallest gap between them."""
    if len(stamps) < 2:
        return requested
    smallest = int(np.min(np.diff(stamps)))
    for interval in Interval:
        if interval.nanoseconds >= smallest:
            return interval
    return Interval.D1
