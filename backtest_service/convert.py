"""Protobuf <-> domain: requests into validated submissions, rows into messages.

Config snapshots are stored as the StrategyConfig's protobuf JSON (proto field names), so
a stored config turns back into exactly the message that was sent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

from backtest_service import requests, store
from backtest_service.strategy_configs import check_strategy_config, strategy_type_name
from market_data.intervals import Interval
from market_data.sessions import bar_open_times
from market_data.symbols import asset_class_of, check_symbol_shape, profile_of
from servicekit.errors import InvalidArgument
from servicekit.money import format_decimal
from trading.backtest.v1 import backtest_service_pb2 as pb
from trading.types.v1 import types_pb2

TIMEFRAMES = {
    types_pb2.TIMEFRAME_1M: "1m",
    types_pb2.TIMEFRAME_5M: "5m",
    types_pb2.TIMEFRAME_15M: "15m",
    types_pb2.TIMEFRAME_1H: "1h",
    types_pb2.TIMEFRAME_1D: "1d",
}
TIMEFRAME_ENUMS = {name: value for value, name in TIMEFRAMES.items()}
DATA_SOURCES = {
    pb.DATA_SOURCE_UNSPECIFIED: "synthetic",
    pb.DATA_SOURCE_SYNTHETIC: "synthetic",
    pb.DATA_SOURCE_ALPACA: "alpaca",
}
DATA_SOURCE_ENUMS = {"synthetic": pb.DATA_SOURCE_SYNTHETIC, "alpaca": pb.DATA_SOURCE_ALPACA}
STATUSES = {
    "queued": pb.BACKTEST_STATUS_QUEUED,
    "running": pb.BACKTEST_STATUS_RUNNING,
    "completed": pb.BACKTEST_STATUS_COMPLETED,
    "failed": pb.BACKTEST_STATUS_FAILED,
    "cancelled": pb.BACKTEST_STATUS_CANCELLED,
}
RISK_SCORE_STATUSES = {
    "pending": pb.RISK_SCORE_STATUS_PENDING,
    "scored": pb.RISK_SCORE_STATUS_SCORED,
    "unavailable": pb.RISK_SCORE_STATUS_UNAVAILABLE,
}
VERIFICATION_STATUSES = {
    "pending": pb.VERIFICATION_STATUS_PENDING,
    "verified": pb.VERIFICATION_STATUS_VERIFIED,
    "failed": pb.VERIFICATION_STATUS_FAILED,
}
COMMUNITY_SORTS = {
    pb.COMMUNITY_SORT_UNSPECIFIED: "rating",
    pb.COMMUNITY_SORT_RATING: "rating",
    pb.COMMUNITY_SORT_RETURN: "return",
    pb.COMMUNITY_SORT_RISK: "risk",
    pb.COMMUNITY_SORT_NEWEST: "newest",
}


# ------------------------------------------------------------------------------ requests


def parse_uuid(value: str, field: str) -> uuid.UUID:
    """A required id from the wire, or InvalidArgument naming the field."""
    if not value:
        raise InvalidArgument(field, "is required")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(field, "must be a UUID") from None


def parse_optional_uuid(value: str, field: str) -> uuid.UUID | None:
    """An optional id ("" = none)."""
    return parse_uuid(value, field) if value else None


def config_to_json(config: types_pb2.StrategyConfig) -> dict[str, Any]:
    return json_format.MessageToDict(config, preserving_proto_field_name=True)


def config_from_json(data: dict[str, Any]) -> types_pb2.StrategyConfig:
    return json_format.ParseDict(data, types_pb2.StrategyConfig(), ignore_unknown_fields=True)


def new_backtest_from_spec(
    spec: pb.BacktestSpec, now: dt.datetime, *, has_spec: bool
) -> store.NewBacktest:
    """Validate a submission; every problem is InvalidArgument naming its field."""
    if not has_spec:
        raise InvalidArgument("spec", "is required")
    if not spec.HasField("config"):
        raise InvalidArgument("spec.config", "is required")
    config = spec.config
    check_strategy_config(config, field_prefix="spec.config")
    timeframe = TIMEFRAMES.get(spec.timeframe or config.timeframe)
    if timeframe is None:
        raise InvalidArgument("spec.timeframe", "is required (or set spec.config.timeframe)")
    data_source = DATA_SOURCES.get(spec.data_source)
    if data_source is None:
        raise InvalidArgument("spec.data_source", "is not a known data source")
    symbol_field = "spec.config.base_symbol"
    if data_source == "synthetic":
        symbol = profile_of(config.base_symbol, symbol_field).symbol
    else:
        symbol = check_symbol_shape(config.base_symbol, symbol_field)
    start = spec.start_time.ToDatetime(dt.UTC) if spec.HasField("start_time") else None
    end = spec.end_time.ToDatetime(dt.UTC) if spec.HasField("end_time") else None
    requests.check_period(start, end, timeframe, now)
    assert start is not None and end is not None
    bar_count = len(bar_open_times(asset_class_of(symbol), Interval(timeframe), start, end))
    if bar_count < requests.MIN_BARS:
        raise InvalidArgument(
            "spec.end_time",
            f"the period holds no data: {bar_count} {timeframe} bars of {symbol} between "
            f"spec.start_time and spec.end_time, at least {requests.MIN_BARS} are needed",
            reason="EMPTY_DATA",
        )
    if spec.initial_capital:
        capital = requests.parse_capital(spec.initial_capital, "spec.initial_capital")
    else:
        capital = requests.parse_capital(
            config.capital_allocation.allocated_capital,
            "spec.config.capital_allocation.allocated_capital",
        )
    execution = requests.parse_execution(
        {name: getattr(spec.execution, name) for name in requests.EXECUTION_FIELDS}
    )
    return store.NewBacktest(
        strategy_id=parse_optional_uuid(spec.strategy_id, "spec.strategy_id"),
        config=config_to_json(config),
        symbol=symbol,
        timeframe=timeframe,
        start_at=start,
        end_at=end,
        initial_capital=capital,
        data_source=data_source,
        seed=spec.seed,
        execution=execution,
    )


def new_listing(request: pb.PublishStrategyRequest) -> store.NewListing:
    """Validate a publication (the config is checked like any strategy's)."""
    if not request.HasField("config"):
        raise InvalidArgument("config", "is required")
    check_strategy_config(request.config, field_prefix="config")
    name = (request.name or request.config.name).strip()
    if not name:
        raise InvalidArgument("name", "is required (or set config.name)")
    if len(name) > 100:
        raise InvalidArgument("name", "must be at most 100 characters")
    if len(request.description) > 2000:
        raise InvalidArgument("description", "must be at most 2000 characters")
    return store.NewListing(
        source_strategy_id=parse_optional_uuid(request.strategy_id, "strategy_id"),
        name=name,
        description=request.description,
        config=config_to_json(request.config),
        strategy_type=strategy_type_name(request.config.strategy_type),
    )


# ------------------------------------------------------------------------------ messages


def timestamp(moment: dt.datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    message = Timestamp()
    message.FromDatetime(moment)
    return message


def metrics_message(metrics: dict[str, Any] | None) -> pb.BacktestMetrics | None:
    if not metrics:
        return None
    return json_format.ParseDict(metrics, pb.BacktestMetrics(), ignore_unknown_fields=True)


def backtest_message(row, *, details: bool = True) -> pb.Backtest:
    """A stored backtest as a message (curve and trades only with ``details``)."""
    message = pb.Backtest(
        backtest_id=str(row["id"]),
        user_id=str(row["user_id"]),
        status=STATUSES[row["status"]],
        progress=float(row["progress"]),
        error=row["error"] or "",
        symbol=row["symbol"],
        spec=pb.BacktestSpec(
            config=config_from_json(row["config"]),
            strategy_id=str(row["strategy_id"] or ""),
            start_time=timestamp(row["start_at"]),
            end_time=timestamp(row["end_at"]),
            initial_capital=format_decimal(row["initial_capital"]),
            timeframe=TIMEFRAME_ENUMS[row["timeframe"]],
            data_source=DATA_SOURCE_ENUMS[row["data_source"]],
            seed=row["seed"],
            execution=pb.ExecutionSettings(**(row["execution"] or {})),
        ),
        created_at=timestamp(row["created_at"]),
        started_at=timestamp(row["started_at"]),
        completed_at=timestamp(row["completed_at"]),
        metrics=metrics_message(row["metrics"]),
        risk_score=format_decimal(row["risk_score"]),
        risk_score_status=RISK_SCORE_STATUSES[row["risk_score_status"]],
        risk_score_note=row["risk_score_note"] or "",
    )
    # asyncpg's Record: `in` tests values, keys() tests column names.
    if details and "equity_curve" in row.keys():  # noqa: SIM118
        for point in row["equity_curve"] or ():
            message.equity_curve.append(json_format.ParseDict(point, pb.EquityPoint()))
        for trade in row["trades"] or ():
            message.trades.append(
                json_format.ParseDict(trade, pb.BacktestTrade(), ignore_unknown_fields=True)
            )
    return message


def community_message(row) -> pb.CommunityStrategy:
    return pb.CommunityStrategy(
        community_strategy_id=str(row["id"]),
        author_id=str(row["author_id"]),
        source_strategy_id=str(row["source_strategy_id"] or ""),
        name=row["name"],
        description=row["description"],
        config=config_from_json(row["config"]),
        is_verified=row["is_verified"],
        verification_status=VERIFICATION_STATUSES[row["verification_status"]],
        verification_backtest_id=str(row["verification_backtest_id"] or ""),
        verification_metrics=metrics_message(row["verification_metrics"]),
        risk_score=format_decimal(row["risk_score"]),
        risk_score_note=row["risk_score_note"] or row["verification_error"] or "",
        rating_average=format_decimal(row["rating_average"]),
        rating_count=row["rating_count"],
        my_rating=row["my_rating"] or 0,
        created_at=timestamp(row["created_at"]),
        verified_at=timestamp(row["verified_at"]),
    )
