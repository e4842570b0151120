"""Strategy configs between the wire, the strategies library and the database.

The shared library (``strategies``) validates a config field by field (INVALID_ARGUMENT
naming "config.<dotted field>"); the database keeps its JSON form (``config_to_dict``)
plus the typed columns queries filter on.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from executor_service.store import NewStrategy
from strategies import proto_codec
from strategies.config import StrategyConfig
from trading.types.v1 import types_pb2 as tpb


def validated_strategy(message: tpb.StrategyConfig) -> NewStrategy:
    """The row a valid config is stored as; InvalidArgument on the first bad field."""
    config = proto_codec.parse_config(message, "config.")
    return NewStrategy(
        name=config.name.strip(),
        strategy_type=config.strategy_type.value,  # type: ignore[union-attr]
        base_symbol=config.base_symbol,
        asset_class=config.resolved_asset_class().value,
        config=proto_codec.config_to_dict(config),
    )


def with_broker(new: NewStrategy, broker: str, live: bool) -> NewStrategy:
    return dataclasses.replace(new, broker=broker, live=live)


def config_of(stored: dict[str, Any]) -> StrategyConfig:
    """The config model of a stored row."""
    return proto_codec.config_from_dict(stored)


def proto_of(stored: dict[str, Any]) -> tpb.StrategyConfig:
    return proto_codec.config_to_proto(config_of(stored))
