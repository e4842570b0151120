"""Builders of valid requests that a test then breaks in exactly one place."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp

from trading.backtest.v1 import backtest_service_pb2 as pb
from trading.types.v1 import types_pb2


def ts(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def buy_and_hold_config(symbol: str = "BTC/USD") -> types_pb2.StrategyConfig:
    return types_pb2.StrategyConfig(
        name="Hold",
        strategy_type=types_pb2.STRATEGY_TYPE_BUY_AND_HOLD,
        base_symbol=symbol,
        asset_class=types_pb2.ASSET_CLASS_CRYPTO
        if "/" in symbol
        else types_pb2.ASSET_CLASS_US_EQUITY,
        timeframe=types_pb2.TIMEFRAME_1D,
        capital_allocation=types_pb2.CapitalAllocation(allocated_capital="10000"),
    )


def grid_config() -> types_pb2.StrategyConfig:
    config = buy_and_hold_config()
    config.name = "Grid"
    config.strategy_type = types_pb2.STRATEGY_TYPE_SPOT_GRID
    config.timeframe = types_pb2.TIMEFRAME_1H
    config.grid.CopyFrom(
        types_pb2.GridSettings(
            lower_price="30000",
            upper_price="50000",
            grid_mode=types_pb2.GRID_MODE_ARITHMETIC,
            grid_count=10,
        )
    )
    return config


def spec(
    config: types_pb2.StrategyConfig | None = None,
    *,
    start: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    days: int = 90,
) -> pb.BacktestSpec:
    return pb.BacktestSpec(
        config=config or buy_and_hold_config(),
        start_time=ts(start),
        end_time=ts(start + dt.timedelta(days=days)),
        seed=7,
    )


def submit_request(
    user_id, backtest_spec: pb.BacktestSpec | None = None
) -> pb.SubmitBacktestRequest:
    return pb.SubmitBacktestRequest(user_id=str(user_id), spec=backtest_spec or spec())
