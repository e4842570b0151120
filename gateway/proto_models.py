"""JSON models derived from the protobuf contracts, and the conversions both ways.

The HTTP API speaks the protos' shapes in JSON: the same field names (snake_case),
enums as lower-case names without their prefix (``STRATEGY_TYPE_SPOT_GRID`` ->
``"spot_grid"``), decimals as the strings they already are, timestamps as RFC 3339.
Deriving the pydantic models from the message descriptors keeps the OpenAPI document
and the wire contract from drifting apart: a field added to a proto appears here.

- ``output_model(descriptor)``: every field, always present (nullable when unset).
- ``input_model(descriptor, exclude=...)``: every field optional, unknown fields refused,
  and the ``exclude``d ones (a user must not set them) not accepted at all.
- ``to_json(message)`` / ``from_json(data, message_class)`` convert values.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from google.protobuf import timestamp_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from pydantic import BaseModel, ConfigDict, Field, create_model

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

V = TypeVar("V", bound=int)
M = TypeVar("M", bound=Message)
# Descriptors are walked reflectively; the stubs type their links as optional and split
# the upb and pure-Python classes, so the walking functions take them as Any.
FieldInfo = Any

TIMESTAMP = timestamp_pb2.Timestamp.DESCRIPTOR.full_name
UNSPECIFIED = "unspecified"

_SCALARS: dict[int, type] = {
    FieldDescriptor.TYPE_STRING: str,
    FieldDescriptor.TYPE_BOOL: bool,
    FieldDescriptor.TYPE_INT32: int,
    FieldDescriptor.TYPE_INT64: int,
    FieldDescriptor.TYPE_UINT32: int,
    FieldDescriptor.TYPE_UINT64: int,
    FieldDescriptor.TYPE_SINT32: int,
    FieldDescriptor.TYPE_SINT64: int,
    FieldDescriptor.TYPE_DOUBLE: float,
    FieldDescriptor.TYPE_FLOAT: float,
}
_INT32_BOUNDS = {"ge": -(2**31), "le": 2**31 - 1}
_INT64_BOUNDS = {"ge": -(2**63), "le": 2**63 - 1}
_MAX_STRING = 10_000


def _enum_prefix(descriptor: EnumDescriptor) -> str:
    # StrategyType -> STRATEGY_TYPE_ (buf's ENUM_VALUE_PREFIX rule guarantees it).
    return re.sub(r"(?<!^)(?=[A-Z])", "_", descriptor.name).upper() + "_"


def enum_json_name(descriptor: EnumDescriptor, number: int) -> str:
    """The JSON name of an enum value: ``STRATEGY_TYPE_DCA`` -> ``"dca"``."""
    value = descriptor.values_by_number.get(number)
    if value is None:
        return UNSPECIFIED
    return value.name.removeprefix(_enum_prefix(descriptor)).lower()


def enum_value(enum_class: _EnumTypeWrapper[V], json_name: str | None) -> V:
    """The typed value of a generated enum named ``json_name`` (None: its UNSPECIFIED).

    ``enum_value(types_pb2.Side, "buy") == types_pb2.SIDE_BUY``; ValueError when unknown.
    """
    prefix = _enum_prefix(enum_class.DESCRIPTOR)
    return enum_class.Value(prefix + (json_name or UNSPECIFIED).upper())


def enum_number(descriptor: EnumDescriptor, json_name: str) -> int:
    """The number of the value called ``json_name`` (ValueError when there is none)."""
    value = descriptor.values_by_name.get(_enum_prefix(descriptor) + json_name.upper())
    if value is None:
        raise ValueError(f"{json_name!r} is not a {descriptor.name}")
    return value.number


_enum_classes: dict[tuple[str, bool], type[enum.Enum]] = {}


def enum_type(descriptor: EnumDescriptor, *, with_unspecified: bool = True) -> type[enum.Enum]:
    """A str Enum of the JSON names (named after the proto enum in the OpenAPI document)."""
    key = (descriptor.full_name, with_unspecified)
    if key not in _enum_classes:
        names = [enum_json_name(descriptor, value.number) for value in descriptor.values]
        if not with_unspecified:
            names = [name for name in names if name != UNSPECIFIED]
        class_name = descriptor.name if with_unspecified else f"{descriptor.name}Choice"
        members = {name: name for name in names}
        _enum_classes[key] = enum.Enum(class_name, members, type=str)  # type: ignore[assignment]
    return _enum_classes[key]


_models: dict[tuple[str, str, frozenset[str]], type[BaseModel]] = {}


class _OutputBase(BaseModel):
    model_config = ConfigDict(use_enum_values=True)


class _InputBase(BaseModel):
    # Mass assignment: a field the model does not declare is refused, never ignored.
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


def output_model(
    descriptor: Descriptor, *, name: str | None = None, exclude: Iterable[str] = ()
) -> type[BaseModel]:
    """The response model of a message: every field present, unset ones null."""
    return _model(descriptor, "out", frozenset(exclude), name)


def input_model(
    descriptor: Descriptor, *, name: str | None = None, exclude: Iterable[str] = ()
) -> type[BaseModel]:
    """The request model of a message: fields optional, unknown and excluded ones refused."""
    return _model(descriptor, "in", frozenset(exclude), name)


def _model(
    descriptor: Any, direction: str, exclude: frozenset[str], name: str | None
) -> type[BaseModel]:
    key = (descriptor.full_name, direction, exclude)
    if key in _models:
        return _models[key]
    model_name = name or (descriptor.name if direction == "out" else f"{descriptor.name}Input")
    fields: dict[str, Any] = {}
    for field in descriptor.fields:
        if field.name in exclude:
            continue
        annotation, default = _field_type(field, direction)
        fields[field.name] = (annotation, default)
    base = _OutputBase if direction == "out" else _InputBase
    model = create_model(model_name, __base__=base, **fields)  # type: ignore[call-overload]
    _models[key] = model
    return model


def _is_repeated(field: FieldInfo) -> bool:
    return field.is_repeated


def _is_map(field: FieldInfo) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry


def _single_type(field: FieldInfo, direction: str) -> tuple[Any, dict]:
    """The Python type of one value of ``field`` and the Field() constraints it takes."""
    if field.type == FieldDescriptor.TYPE_ENUM:
        # "unspecified" is accepted in requests too, so what a GET returned can be sent back.
        return enum_type(field.enum_type), {}
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == TIMESTAMP:
            return dt.datetime, {}
        return _model(field.message_type, direction, frozenset(), None), {}
    python_type = _SCALARS[field.type]
    constraints: dict = {}
    if direction == "in":
        if python_type is int:
            wide = field.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64)
            constraints = dict(_INT64_BOUNDS if wide else _INT32_BOUNDS)
        elif python_type is str:
            constraints = {"max_length": _MAX_STRING}
        elif python_type is float:
            constraints = {"allow_inf_nan": False}
    return python_type, constraints


def _field_type(field: FieldInfo, direction: str) -> tuple[Any, Any]:
    if _is_map(field):
        value_field = field.message_type.fields_by_name["value"]
        value_type, _ = _single_type(value_field, direction)
        annotation: Any = dict[str, value_type]  # type: ignore[valid-type]
        return (annotation, Field(default_factory=dict))
    single, constraints = _single_type(field, direction)
    if _is_repeated(field):
        if direction == "in":
            item = Annotated[single, Field(**constraints)] if constraints else single
            return (list[item], Field(default_factory=list, max_length=1000))  # type: ignore[valid-type]
        return (list[single], ...)  # type: ignore[valid-type]
    # Messages, oneof members and proto3 `optional` scalars can be unset: null in JSON.
    nullable = field.has_presence
    if direction == "out":
        return (single | None, ...) if nullable else (single, ...)
    # In requests every field may be left out: the proto default (or "unset") applies.
    return (single | None, Field(None, **constraints))


def to_json(message: Message) -> dict[str, Any]:
    """A message as the JSON the output model of its type describes."""
    result: dict[str, Any] = {}
    field: FieldInfo
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if _is_map(field):
            value_field = field.message_type.fields_by_name["value"]
            result[field.name] = {
                key: _value_to_json(value_field, item) for key, item in value.items()
            }
        elif _is_repeated(field):
            result[field.name] = [_value_to_json(field, item) for item in value]
        elif field.has_presence and not message.HasField(field.name):
            result[field.name] = None
        else:
            result[field.name] = _value_to_json(field, value)
    return result


def _value_to_json(field: FieldInfo, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_json_name(field.enum_type, value)
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == TIMESTAMP:
            return value.ToDatetime(tzinfo=dt.UTC)
        return to_json(value)
    return value


def from_json(data: dict[str, Any] | BaseModel, message_class: type[M]) -> M:
    """Build ``message_class`` from validated input (None and missing = proto default)."""
    if isinstance(data, BaseModel):
        data = data.model_dump(exclude_none=True)
    message = message_class()
    _fill(message, data)
    return message


def _fill(message: Message, data: dict[str, Any]) -> None:
    for name, value in data.items():
        if value is None:
            continue
        field: FieldInfo = message.DESCRIPTOR.fields_by_name[name]
        if _is_map(field):
            getattr(message, name).update(value)
        elif _is_repeated(field):
            target = getattr(message, name)
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                for item in value:
                    _set_message(target.add(), field, item)
            else:
                target.extend(_value_from_json(field, item) for item in value)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            _set_message(getattr(message, name), field, value)
        else:
            setattr(message, name, _value_from_json(field, value))


def _set_message(target: Any, field: FieldInfo, value: Any) -> None:
    if field.message_type.full_name == TIMESTAMP:
        target.FromDatetime(_aware(value))
    else:
        target.SetInParent()
        _fill(target, value)


def _value_from_json(field: FieldInfo, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_number(field.enum_type, value.value if isinstance(value, enum.Enum) else value)
    return value


def _aware(value: dt.datetime) -> dt.datetime:
    # A timestamp without a zone is read as UTC (what a browser's toISOString() sends).
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
