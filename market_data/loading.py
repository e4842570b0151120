"""One entry point for bars, whatever the source: ``load_bars``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from market_data.alpaca_source import AlpacaBarSource, alpaca_keys_configured
from market_data.bars import Bars
from market_data.cache import BarCache, BarKey
from market_data.files import read_bar_file
from market_data.intervals import Interval, parse_interval
from market_data.sessions import as_utc, to_ns
from market_data.symbols import check_symbol_shape
from market_data.synthetic import synthetic_bars
from servicekit.errors import InvalidArgument

SOURCES = ("synthetic", "csv", "parquet", "alpaca", "auto")


def load_bars(
    symbol: str,
    interval: Interval | str,
    start: datetime,
    end: datetime,
    source: str = "synthetic",
    seed: int = 0,
    *,
    path: str | Path | None = None,
    cache: BarCache | None = None,
    alpaca: AlpacaBarSource | None = None,
) -> Bars:
    """Bars of ``symbol`` opening in [start, end) (naive datetimes are UTC).

    ``source``: "synthetic" (default, deterministic for ``seed``), "csv"/"parquet" (``path``),
    "alpaca" (keys from the environment or ``alpaca``), "auto" (Alpaca when keys are
    configured, else synthetic). Bad input raises InvalidArgument naming the field:
    ``symbol``, ``interval``, ``start``, ``end``, ``source``, ``path``; no bars in the range
    is InvalidArgument on ``start``.
    """
    resolved = _resolve_source(source, alpaca)
    interval = parse_interval(interval)
    symbol = check_symbol_shape(symbol)
    if as_utc(end) <= as_utc(start):
        raise InvalidArgument("end", "must be after start")
    key = BarKey(resolved, symbol, interval.value, to_ns(start), to_ns(end), seed, str(path or ""))
    bars = cache.get(key) if cache is not None else None
    if bars is None:
        bars = _fetch(resolved, symbol, interval, start, end, seed, path, alpaca)
        if len(bars) == 0:
            raise InvalidArgument(
                "start", f"no {interval} bars for {symbol} between {start} and {end}"
            )
        if cache is not None:
            cache.put(key, bars)
    return bars


def _resolve_source(source: str, alpaca: AlpacaBarSource | None) -> str:
    if source not in SOURCES:
        raise InvalidArgument("source", f"unknown source {source!r} (one of {', '.join(SOURCES)})")
    if source == "auto":
        return "alpaca" if alpaca is not None or alpaca_keys_configured() else "synthetic"
    return source


def _fetch(
    source: str,
    symbol: str,
    interval: Interval,
    start: datetime,
    end: datetime,
    seed: int,
    path: str | Path | None,
    alpaca: AlpacaBarSource | None,
) -> Bars:
    if source == "synthetic":
        return synthetic_bars(symbol, interval, start, end, seed)
    if source in ("csv", "parquet"):
        if path is None:
            raise InvalidArgument("path", f"is required for the {source} source")
        return read_bar_file(path, symbol, interval, start, end)
    if alpaca is None and not alpaca_keys_configured():
        raise InvalidArgument("source", "alpaca needs ALPACA_API_KEY and ALPACA_SECRET_KEY")
    return (alpaca or AlpacaBarSource()).fetch(symbol, interval, start, end)
