"""Market data: bars from a deterministic synthetic source, CSV/Parquet files or Alpaca.

Public API: ``load_bars``, ``Bars``, ``Interval``/``parse_interval``, ``AssetClass``,
``asset_class_of``, ``bars_per_year``, ``BarCache``/``BarKey``/``MemoryBarCache``,
``AlpacaBarSource``, ``resample``, ``read_bar_file``/``write_bar_file``, ``known_symbols``.
"""

from market_data.alpaca_source import AlpacaBarSource, alpaca_keys_configured
from market_data.bars import Bars
from market_data.cache import BarCache, BarKey, MemoryBarCache
from market_data.files import read_bar_file, write_bar_file
from market_data.intervals import Interval, parse_interval
from market_data.loading import SOURCES, load_bars
from market_data.resample import resample
from market_data.sessions import bars_per_year
from market_data.symbols import AssetClass, asset_class_of, known_symbols
from market_data.synthetic import synthetic_bars

__all__ = [
    "SOURCES",
    "AlpacaBarSource",
    "AssetClass",
    "BarCache",
    "BarKey",
    "Bars",
    "Interval",
    "MemoryBarCache",
    "alpaca_keys_configured",
    "asset_class_of",
    "bars_per_year",
    "known_symbols",
    "load_bars",
    "parse_interval",
    "read_bar_file",
    "resample",
    "synthetic_bars",
    "write_bar_file",
]
