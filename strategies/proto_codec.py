"""StrategyConfig <-> ``trading.types.v1.StrategyConfig`` and <-> plain JSON dicts.

Both directions walk the dataclasses field by field, so a field added to the model and
the proto (same name) is carried without touching this module. Decimal strings are
parsed with ``servicekit.money.parse_decimal``: a malformed one raises InvalidArgument
naming its dotted path (e.g. ``grid.lower_price``). Decoding does not apply the domain
rules; call ``strategies.validation.validate_config`` for that (``parse_config`` does both).
"""

from __future__ import annotations

import dataclasses
import typing
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from servicekit.errors import InvalidArgument
from servicekit.money import format_decimal, parse_decimal
from strategies import config as model
from strategies.validation import validate_config

# proto enum type name -> (python enum, proto value-name prefix)
_ENUM_PREFIX: dict[type[Enum], str] = {
    model.StrategyType: "STRATEGY_TYPE_",
    model.RiskLevel: "RISK_LEVEL_",
    model.AssetClass: "ASSET_CLASS_",
    model.TimeHorizon: "TIME_HORIZON_",
    model.AutomationLevel: "AUTOMATION_LEVEL_",
    model.Timeframe: "TIMEFRAME_",
    model.PositionSizingMethod: "POSITION_SIZING_METHOD_",
    model.GridMode: "GRID_MODE_",
}


def config_to_proto(config: model.StrategyConfig) -> Any:
    """The wire message for ``config`` (a ``types_pb2.StrategyConfig``)."""
    from trading.types.v1 import types_pb2

    message = types_pb2.StrategyConfig()
    _fill_message(message, config)
    return message


def config_from_proto(message: Any, field_prefix: str = "") -> model.StrategyConfig:
    """Decode the wire message; malformed decimals raise InvalidArgument (dotted path).

    ``field_prefix`` (e.g. "config.") is prepended to field paths in errors, for callers
    whose request nests the config.
    """
    return _read_message(model.StrategyConfig, message, field_prefix)


def parse_config(message: Any, field_prefix: str = "") -> model.StrategyConfig:
    """Decode and validate: what a service calls on an incoming StrategyConfig."""
    config = config_from_proto(message, field_prefix)
    validate_config(config, field_prefix)
    return config


def config_to_dict(config: model.StrategyConfig) -> dict[str, Any]:
    """JSON-ready dict: decimals as strings, enums as their lower-case values, None dropped."""
    out: dict[str, Any] = {}
    # A class is hashable; mypy compares the signatures of __hash__ and disagrees.
    for name, kind in _field_types(type(config)):  # type: ignore[arg-type]
        value = getattr(config, name)
        if value is None:
            continue
        if dataclasses.is_dataclass(kind):
            out[name] = config_to_dict(value)
        elif kind is Decimal:
            out[name] = format_decimal(value)
        elif isinstance(value, Enum):
            out[name] = value.value
        elif isinstance(value, tuple):
            out[name] = list(value)
        else:
            out[name] = value
    return out


def config_from_dict(data: dict[str, Any], field_prefix: str = "") -> model.StrategyConfig:
    """Inverse of ``config_to_dict`` (unknown keys are an InvalidArgument on that key)."""
    return _read_dict(model.StrategyConfig, data, field_prefix)


@cache
def _field_types(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, type) of each field, with ``X | None`` reduced to X."""
    hints = typing.get_type_hints(cls, vars(model))
    result = []
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if typing.get_origin(kind) is tuple:
            kind = tuple
        elif args:
            kind = args[0]
        result.append((f.name, kind))
    return tuple(result)


def _fill_message(message: Any, value: Any) -> None:
    for name, kind in _field_types(type(value)):  # type: ignore[arg-type]  # see config_to_dict
        item = getattr(value, name)
        if dataclasses.is_dataclass(kind):
            _fill_message(getattr(message, name), item)
        elif kind is Decimal:
            setattr(message, name, format_decimal(item))
        elif isinstance(kind, type) and issubclass(kind, Enum):
            setattr(message, name, _enum_to_wire(kind, item))
        elif kind is tuple:
            getattr(message, name).extend(item)
        else:
            setattr(message, name, item)


def _read_message(cls: type, message: Any, prefix: str) -> Any:
    values: dict[str, Any] = {}
    for name, kind in _field_types(cls):
        path = prefix + name
        raw = getattr(message, name)
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            values[name] = _read_message(kind, raw, path + ".")
        elif kind is Decimal:
            values[name] = parse_decimal(raw, path, required=False)
        elif isinstance(kind, type) and issubclass(kind, Enum):
            values[name] = _enum_from_wire(kind, raw, message, name, path)
        elif kind is tuple:
            values[name] = tuple(raw)
        else:
            values[name] = raw
    return cls(**values)


def _read_dict(cls: type, data: dict[str, Any], prefix: str) -> Any:
    if not isinstance(data, dict):
        raise InvalidArgument(prefix.rstrip(".") or "config", "must be an object")
    types = dict(_field_types(cls))
    values: dict[str, Any] = {}
    for name, raw in data.items():
        path = prefix + name
        kind = types.get(name)
        if kind is None:
            raise InvalidArgument(path, "is not a strategy config field")
        if raw is None:
            continue
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            values[name] = _read_dict(kind, raw, path + ".")
        elif kind is Decimal:
            values[name] = parse_decimal(str(raw), path, required=False)
        elif isinstance(kind, type) and issubclass(kind, Enum):
            try:
                values[name] = kind(raw)
            except ValueError:
                raise InvalidArgument(path, f"unknown value {raw!r}") from None
        elif kind is tuple:
            values[name] = tuple(int(v) for v in raw)
        else:
            if not isinstance(raw, kind):
                raise InvalidArgument(path, f"must be a {kind.__name__}")
            values[name] = raw
    return cls(**values)


def _enum_to_wire(kind: type[Enum], item: Enum | None) -> int:
    from trading.types.v1 import types_pb2

    prefix = _ENUM_PREFIX[kind]
    suffix = "UNSPECIFIED" if item is None else item.name.removeprefix("TF_")
    return int(getattr(types_pb2, prefix + suffix))


def _enum_from_wire(kind: type[Enum], number: int, message: Any, name: str, path: str) -> Any:
    descriptor = message.DESCRIPTOR.fields_by_name[name].enum_type
    value = descriptor.values_by_number.get(number)
    if value is None:
        raise InvalidArgument(path, f"unknown enum value {number}")
    suffix = value.name.removeprefix(_ENUM_PREFIX[kind])
    if suffix == "UNSPECIFIED":
        return None
    member = "TF_" + suffix if kind is model.Timeframe else suffix
    return kind[member]
