"""A fast path for ChirpStack's proto3 JSON: `json.loads` + a precomputed walk over the descriptors.

It handles only the plain case (every value of the type the field expects) and gives up with `Unusual`
otherwise, so the caller falls back to `json_format.Parse`, which stays the reference for every corner
of proto3 JSON (numbers as strings, NaN, null, enum numbers, 64-bit integers, ...). Unknown keys are
ignored either way.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1), FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1), FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
}
FLOAT_TYPES = (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE)
TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)\Z")

# What to do with one JSON key of one message type: (field name, action, converter or None).
UNSUPPORTED, SCALAR, REPEATED_SCALAR, MAP, MESSAGE, REPEATED_MESSAGE, TIMESTAMP_TEXT, DURATION_TEXT, STRUCT = range(9)
_PLANS: dict[Any, dict[str, tuple[str, int, Any]]] = {}


class Unusual(Exception):
    """Not the plain case: let json_format decide."""


def _unusual() -> Any:
    raise Unusual


def _string(value: Any) -> str:
    return value if type(value) is str else _unusual()


def _bool(value: Any) -> bool:
    return value if type(value) is bool else _unusual()


def _bytes(value: Any) -> bytes:
    if type(value) is not str:
        raise Unusual
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Unusual from None


def _converter(field: FieldDescriptor) -> Any:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return _string
    if kind == FieldDescriptor.TYPE_BOOL:
        return _bool
    if kind in INT_RANGES:
        low, high = INT_RANGES[kind]
        return lambda value: value if type(value) is int and low <= value <= high else _unusual()
    if kind in FLOAT_TYPES:
        return lambda value: float(value) if type(value) in (int, float) else _unusual()
    if kind == FieldDescriptor.TYPE_BYTES:
        return _bytes
    if kind == FieldDescriptor.TYPE_ENUM:
        numbers = {value.name: value.number for value in field.enum_type.values}
        return lambda value: numbers[value] if type(value) is str and value in numbers else _unusual()
    return None  # 64-bit integers and the rest: json_format's job


def _step(field: FieldDescriptor) -> tuple[str, int, Any]:
    if field.type != FieldDescriptor.TYPE_MESSAGE:
        converter = _converter(field)
        if converter is None:
            return field.name, UNSUPPORTED, None
        return field.name, REPEATED_SCALAR if field.is_repeated else SCALAR, converter
    sub = field.message_type
    if sub.GetOptions().map_entry:
        key_field, value_field = sub.fields_by_name["key"], sub.fields_by_name["value"]
        converter = _converter(value_field) if key_field.type == FieldDescriptor.TYPE_STRING else None
        return (field.name, MAP, converter) if converter else (field.name, UNSUPPORTED, None)
    if field.is_repeated:
        return field.name, REPEATED_MESSAGE, None
    special = {"google.protobuf.Timestamp": TIMESTAMP_TEXT, "google.protobuf.Duration": DURATION_TEXT,
               "google.protobuf.Struct": STRUCT}
    if sub.full_name in special:
        return field.name, special[sub.full_name], None
    if sub.full_name.startswith("google.protobuf."):
        return field.name, UNSUPPORTED, None
    return field.name, MESSAGE, None


def _plan(descriptor: Descriptor) -> dict[str, tuple[str, int, Any]]:
    plan = {}
    for field in descriptor.fields:
        plan[field.name] = plan[field.json_name] = _step(field)
    return plan


def _set_timestamp(target: Any, text: Any) -> None:
    match = TIMESTAMP.match(text) if type(text) is str else None
    if match is None:
        raise Unusual
    base, fraction, offset = match.groups()
    try:
        moment = datetime.fromisoformat(base + ("+00:00" if offset == "Z" else offset))
    except ValueError:
        raise Unusual from None
    seconds = int(moment.timestamp())
    if not -62135596800 <= seconds <= 253402300799:
        raise Unusual
    target.seconds = seconds
    target.nanos = int((fraction or "0").ljust(9, "0"))


def fill(message: Message, data: Any) -> None:
    """Set `message` from a decoded JSON object, or raise Unusual."""
    if type(data) is not dict:
        raise Unusual
    plan = _PLANS.get(type(message))
    if plan is None:
        plan = _PLANS[type(message)] = _plan(message.DESCRIPTOR)
    for key, value in data.items():
        step = plan.get(key)
        if step is None:
            continue  # unknown field: ignored, like json_format's ignore_unknown_fields
        name, action, convert = step
        if value is None or action == UNSUPPORTED:
            raise Unusual
        if action == SCALAR:
            setattr(message, name, convert(value))
        elif action == MESSAGE:
            target = getattr(message, name)
            target.SetInParent()
            fill(target, value)
        elif action == TIMESTAMP_TEXT:
            _set_timestamp(getattr(message, name), value)
        elif action == MAP:
            if type(value) is not dict:
                raise Unusual
            target = getattr(message, name)
            for map_key, map_value in value.items():
                target[map_key] = convert(map_value)
        elif action == REPEATED_MESSAGE:
            if type(value) is not list:
                raise Unusual
            items = getattr(message, name)
            for item in value:
                fill(items.add(), item)
        elif action == REPEATED_SCALAR:
            if type(value) is not list:
                raise Unusual
            getattr(message, name).extend([convert(item) for item in value])
        elif action == DURATION_TEXT:
            if type(value) is not str:
                raise Unusual
            try:
                getattr(message, name).FromJsonString(value)
            except ValueError:
                raise Unusual from None
        else:  # STRUCT
            if type(value) is not dict:
                raise Unusual
            try:
                getattr(message, name).update(value)
            except (ValueError, TypeError):
                raise Unusual from None
