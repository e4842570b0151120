"""The strategy config, checked by the shared strategy library (as the executor does)."""

from __future__ import annotations

from servicekit.errors import InvalidArgument
from strategies import config as model
from strategies.proto_codec import parse_config
from trading.types.v1 import types_pb2


def check_strategy_config(
    message: types_pb2.StrategyConfig, field_prefix: str
) -> model.StrategyConfig:
    """Decode and validate a wire config; errors name the dotted field under the prefix."""
    return parse_config(message, field_prefix + ".")


def strategy_type_name(value: int, field: str = "config.strategy_type") -> str:
    """The stored name of a wire strategy type ("dca", "spot_grid", ...)."""
    descriptor = types_pb2.StrategyType.DESCRIPTOR.values_by_number.get(value)
    suffix = descriptor.name.removeprefix("STRATEGY_TYPE_") if descriptor else ""
    if not suffix or suffix == "UNSPECIFIED":
        raise InvalidArgument(field, "is required")
    return model.StrategyType[suffix].value
