"""JSON models derived from the protos: names, enums, presence, and the round trip."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from gateway.proto_models import (
    enum_json_name,
    enum_number,
    from_json,
    input_model,
    output_model,
    to_json,
)
from trading.executor.v1 import executor_service_pb2 as executor_pb
from trading.notification.v1 import notification_service_pb2 as notification_pb
from trading.types.v1 import types_pb2


def test_enum_json_name_when_prefixed_drops_the_prefix_and_lowercases():
    assert enum_json_name(types_pb2.StrategyType.DESCRIPTOR, 2) == "spot_grid"
    assert enum_json_name(types_pb2.Timeframe.DESCRIPTOR, types_pb2.TIMEFRAME_1H) == "1h"
    assert enum_number(types_pb2.StrategyType.DESCRIPTOR, "spot_grid") == 2


def test_enum_number_when_name_unknown_raises():
    with pytest.raises(ValueError):
        enum_number(types_pb2.StrategyType.DESCRIPTOR, "moonshot")


def test_config_when_round_tripped_through_json_is_unchanged():
    config = types_pb2.StrategyConfig(
        name="grid",
        strategy_type=types_pb2.STRATEGY_TYPE_SPOT_GRID,
        base_symbol="ETH/USD",
        grid=types_pb2.GridSettings(lower_price="2400.5", upper_price="2600", grid_count=10),
        trade_window=types_pb2.TradeWindow(days_of_week=[1, 2, 3]),
    )
    model = input_model(types_pb2.StrategyConfig.DESCRIPTOR)
    rebuilt = from_json(model.model_validate(to_json(config)), types_pb2.StrategyConfig)
    assert rebuilt == config


def test_output_when_message_field_unset_is_null_and_scalars_are_defaults():
    strategy = executor_pb.Strategy(strategy_id="s1")
    strategy.created_at.FromDatetime(dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    body = output_model(executor_pb.Strategy.DESCRIPTOR).model_validate(to_json(strategy))
    assert body.config is None
    assert body.status == "unspecified"
    assert body.version == 0
    assert body.created_at == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert body.updated_at is None


def test_optional_scalar_when_unset_is_null_and_when_set_is_kept():
    unset = notification_pb.ListNotificationsRequest()
    assert to_json(unset)["limit"] is None
    assert to_json(notification_pb.ListNotificationsRequest(limit=5))["limit"] == 5


def test_input_when_unknown_field_present_is_refused():
    model = input_model(types_pb2.StrategyConfig.DESCRIPTOR)
    with pytest.raises(ValidationError):
        model.model_validate({"name": "x", "owner": "someone else"})


def test_input_when_excluded_field_present_is_refused():
    model = input_model(executor_pb.Strategy.DESCRIPTOR, exclude={"user_id"}, name="NoOwner")
    with pytest.raises(ValidationError):
        model.model_validate({"user_id": "b"})


def test_input_when_int32_out_of_range_even_in_a_list_is_refused():
    model = input_model(types_pb2.StrategyConfig.DESCRIPTOR)
    with pytest.raises(ValidationError):
        model.model_validate({"trade_window": {"days_of_week": [2**40]}})
    with pytest.raises(ValidationError):
        model.model_validate({"dca": {"max_safety_orders": 2**31}})


def test_input_when_enum_unspecified_means_unset():
    model = input_model(types_pb2.StrategyConfig.DESCRIPTOR)
    config = from_json(
        model.model_validate({"strategy_type": "unspecified"}), types_pb2.StrategyConfig
    )
    assert config.strategy_type == types_pb2.STRATEGY_TYPE_UNSPECIFIED


def test_input_when_enum_name_unknown_is_refused():
    model = input_model(types_pb2.StrategyConfig.DESCRIPTOR)
    with pytest.raises(ValidationError):
        model.model_validate({"strategy_type": "moonshot"})


def test_map_field_when_converted_keeps_every_entry():
    notification = notification_pb.Notification(data={"price": "42000.5", "qty": "0.1"})
    assert to_json(notification)["data"] == {"price": "42000.5", "qty": "0.1"}
