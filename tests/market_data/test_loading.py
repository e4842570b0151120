"""load_bars: sources, bad requests naming the field, files, cache, Alpaca through fakes."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from market_data import (
    AlpacaBarSource,
    Interval,
    MemoryBarCache,
    load_bars,
    resample,
    write_bar_file,
)
from servicekit.errors import InvalidArgument

START, END = datetime(2024, 1, 1), datetime(2024, 1, 3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"end": datetime(2023, 12, 31)}, "end"),
        ({"symbol": "NOPE/USD"}, "symbol"),
        ({"symbol": "not a symbol"}, "symbol"),
        ({"interval": "2m"}, "interval"),
        ({"source": "ftp"}, "source"),
        ({"source": "csv"}, "path"),
        ({"symbol": "AAPL", "start": datetime(2024, 1, 6), "end": datetime(2024, 1, 7)}, "start"),
    ],
)
def test_load_bars_when_request_is_bad_raises_invalid_argument_naming_the_field(kwargs, field):
    request = {"symbol": "BTC/USD", "interval": "1h", "start": START, "end": END} | kwargs
    with pytest.raises(InvalidArgument) as raised:
        load_bars(**request)
    assert raised.value.field == field


def test_load_bars_when_cache_given_returns_the_cached_bars_the_second_time():
    cache = MemoryBarCache()
    first = load_bars("BTC/USD", "1h", START, END, seed=9, cache=cache)
    second = load_bars("BTC/USD", "1h", START, END, seed=9, cache=cache)
    assert second is first and len(cache) == 1


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_load_bars_when_file_holds_minutes_resamples_to_the_interval(tmp_path, suffix):
    minutes = load_bars("ETH/USD", "1m", START, END, seed=4)
    path = tmp_path / f"eth{suffix}"
    write_bar_file(minutes, path)

    bars = load_bars("ETH/USD", "15m", START, END, source=suffix[1:], path=path)

    expected = resample(minutes, Interval.M15)
    assert len(bars) == 2 * 24 * 4
    assert np.array_equal(bars.timestamps, expected.timestamps)
    assert np.allclose(bars.high, expected.high) and np.allclose(bars.volume, expected.volume)
    assert bars.open[0] == minutes.open[0] and bars.close[0] == minutes.close[14]
    assert bars.high[0] == minutes.high[:15].max() and bars.low[0] == minutes.low[:15].min()


def test_load_bars_when_file_is_coarser_than_requested_names_the_interval(tmp_path):
    path = tmp_path / "daily.csv"
    write_bar_file(load_bars("BTC/USD", "1d", START, datetime(2024, 2, 1)), path)
    with pytest.raises(InvalidArgument) as raised:
        load_bars("BTC/USD", "1h", START, END, source="csv", path=path)
    assert raised.value.field == "interval"


class FakeAlpacaClient:
    """Answers get_*_bars like alpaca-py: an object whose .df is (symbol, timestamp)."""

    def __init__(self):
        self.requests = []

    def _answer(self, request):
        self.requests.append(request)
        times = pd.date_range("2024-01-02 14:30", periods=3, freq="5min", tz=UTC)
        index = pd.MultiIndex.from_product([[request.symbol_or_symbols], times])
        frame = pd.DataFrame(
            {
                "open": [1.0, 2, 3],
                "high": [2.0, 3, 4],
                "low": [0.5, 1, 2],
                "close": [1.5, 2.5, 3.5],
                "volume": [10.0, 20, 30],
                "trade_count": [1, 2, 3],
                "vwap": [1.0, 2, 3],
            },
            index=index,
        )
        return SimpleNamespace(df=frame)

    get_stock_bars = _answer
    get_crypto_bars = _answer


def test_load_bars_when_source_is_alpaca_uses_the_stock_client_and_timeframe():
    client = FakeAlpacaClient()
    source = AlpacaBarSource("key", "secret", stock_client=client, crypto_client=object())

    bars = load_bars("AAPL", "5m", START, END, source="alpaca", alpaca=source)

    [request] = client.requests
    assert request.symbol_or_symbols == "AAPL" and request.timeframe.amount_value == 5
    assert bars.close.tolist() == [1.5, 2.5, 3.5] and bars.interval is Interval.M5


def test_load_bars_when_auto_without_keys_falls_back_to_synthetic(monkeypatch):
    monkeypatch.delenv("ALPACA_API_KEY", raising=False)
    monkeypatch.delenv("ALPACA_SECRET_KEY", raising=False)
    auto = load_bars("BTC/USD", "1h", START, END, source="auto", seed=1)
    assert np.array_equal(auto.close, load_bars("BTC/USD", "1h", START, END, seed=1).close)
