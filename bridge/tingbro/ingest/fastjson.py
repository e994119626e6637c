"""A fast, strict reader of ChirpStack's proto3 JSON, generated from the `chirpstack_api` descriptors.

`PlainReader(descriptor).read(body)` returns msgspec structs mirroring the message (JSON names as
attribute names, protobuf defaults for absent keys) only when `json.loads` + `json_format.ParseDict(...,
ignore_unknown_fields=True)` would accept the body and every known field holds the plain form of its
type: a string for a string, an in-range integer for an integer, a finite number for a float, an enum
*name*, padded standard base64 for bytes, an RFC 3339 timestamp. Anything else raises `Unusual` and the
caller asks json_format, which stays the reference for every corner of proto3 JSON (numbers as strings,
null, enum numbers, proto field names as keys, two members of one oneof, "[extension]" keys, ...). So this
reader may decline a body the reference accepts, never the reverse; tests/bridge/test_uplink_fastpath.py
checks both directions on generated and perturbed events. Unknown keys are ignored, as json_format does.

msgspec does the type and range checks in C (timestamps and durations by a pattern that admits only what
protobuf accepts); what msgspec cannot express (two members of a oneof, `google.protobuf.Struct` depth and
numbers) is checked afterwards, only where such fields exist. Fields named `recurring` (the radio settings: a
few distinct texts across a whole network) stay JSON text in the body's decode; each distinct text is decoded
and checked once and its struct shared by every body that carries it (`Recurring`). A field whose texts rarely
repeat (a device's info when nearly every uplink is from a device not seen lately) is cheaper decoded inline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from msgspec import UNSET, Meta, UnsetType

INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1), FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1), FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1), FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1), FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1), FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
FLOAT32_MAX = float.fromhex("0x1.fffffep+127")  # json_format's bound for float fields
DOUBLE_MAX = float.fromhex("0x1.fffffffffffffp+1023")  # excludes infinities
EXACT_INT = 2**53
STRUCT_DEPTH = 20  # deeper `google.protobuf.Struct` trees go to json_format (its own limit is 100 messages)
MIN_SECONDS, MAX_SECONDS = -62135596800, 253402300799  # 0001-01-01 .. 9999-12-31, as protobuf allows
EPOCH = datetime(1970, 1, 1)
RFC3339_TEXT = (r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
                r"(?:Z|([+-])([0-9]{2}):([0-9]{2}))\Z")
RFC3339 = re.compile(RFC3339_TEXT)
# What msgspec lets through is valid for `Timestamp.FromJsonString` as it stands, so no Python check is
# needed: a real calendar day (29 February in leap years only), hours 00-23, years 0002..9998 (far enough
# from protobuf's range ends for any offset), at most 9 fractional digits.
_DAY = (r"(?:[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
        r"|[0-9]{4}-(?:0[13-9]|1[0-2])-(?:29|30)"
        r"|[0-9]{4}-(?:0[13578]|1[02])-31"
        r"|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)")
TIMESTAMP_STRING = Annotated[str, Meta(pattern=r"^(?!0000|0001|9999)" + _DAY + r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:"
                                                r"[0-5][0-9](?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})\Z")]
# At most 11 integer digits: always within protobuf's +-315,576,000,000 s.
DURATION_STRING = Annotated[str, Meta(pattern=r"^-?[0-9]{1,11}(?:\.[0-9]{1,9})?s\Z")]
# A key never valid in the plain form: a proto field name that differs from its JSON name (legal, but it may
# collide with the JSON name), a null, a type msgspec is not told about. Its presence fails the decode.
NEVER = Annotated[int, Meta(ge=1, le=0)] | UnsetType
EXTENSION_KEY = re.compile(rb'"\[[^"]*\]"\s*:')
WELL_KNOWN = ("google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.Struct")
_SECONDS_CACHE: dict[str, int] = {}


class Unusual(Exception):
    """Not the plain case: let json_format decide."""


def timestamp_parts(text: str) -> tuple[int, int]:
    """(seconds, nanos) of an RFC 3339 string, computed as `Timestamp.FromJsonString` does; else Unusual."""
    match = RFC3339.match(text)
    if match is None:
        raise Unusual
    seconds = _seconds_of(text, match)
    fraction, sign, offset_h, offset_m = match.group(7, 8, 9, 10)
    nanos = round(float("0." + fraction) * 1e9) if fraction else 0
    if sign is not None:
        shift = (int(offset_h) * 60 + int(offset_m)) * 60
        seconds += -shift if sign == "+" else shift
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise Unusual
    return seconds, nanos


def _seconds_of(text: str, match: re.Match[str]) -> int:
    """Seconds since 1970 of the date and time part, cached: consecutive events share their second."""
    seconds = _SECONDS_CACHE.get(text[:19])
    if seconds is None:
        year, month, day, hour, minute, second = map(int, match.group(1, 2, 3, 4, 5, 6))
        try:
            span = datetime(year, month, day, hour, minute, second) - EPOCH
        except ValueError:
            raise Unusual from None
        seconds = span.seconds + span.days * 86400
        if len(_SECONDS_CACHE) > 4096:
            _SECONDS_CACHE.clear()
        _SECONDS_CACHE[text[:19]] = seconds
    return seconds


def _struct(raw: msgspec.Raw) -> None:
    """`google.protobuf.Struct`: any JSON object json_format can hold (finite numbers, limited depth)."""
    try:
        stack = [(msgspec.json.decode(raw), 0)]
    except (msgspec.DecodeError, ValueError, RecursionError):
        raise Unusual from None
    if type(stack[0][0]) is not dict:
        raise Unusual
    while stack:
        value, depth = stack.pop()
        if type(value) is dict or type(value) is list:
            if depth >= STRUCT_DEPTH:
                raise Unusual
            stack.extend((item, depth + 1) for item in (value.values() if type(value) is dict else value))
        elif type(value) is int and not -EXACT_INT <= value <= EXACT_INT:
            raise Unusual
        elif type(value) is float and value - value != 0:
            raise Unusual


Check = Callable[[Any], None]


class PlainReader:
    """Generated once per message type: msgspec structs plus the checks msgspec cannot express."""

    def __init__(self, descriptor: Descriptor, recurring: tuple[str, ...] = ()) -> None:
        """`recurring`: JSON names of top-level message fields whose text repeats from body to body (radio
        settings); each distinct text is decoded and checked once (`Recurring`)."""
        self._types: dict[str, Any] = {}
        # per (message, with oneof checks): [(attribute, check of its value)]; "" checks the message itself
        self._checks: dict[str, list[tuple[str, Check]]] = {}
        by_name = {field.json_name: field for field in descriptor.fields}
        self._recurring = []  # (JSON name, its known texts, their Recurring)
        for name in recurring:
            part = Recurring(self._struct_for(by_name[name].message_type), self._checks_of(by_name[name].message_type))
            self._recurring.append((name, part.known, part))
        self.root = self._struct_for(descriptor, frozenset(recurring))
        self.decoder = msgspec.json.Decoder(self.root)
        self._checks_all = [check for check in self._checks_of(descriptor) if check[0] not in recurring]

    def read(self, body: bytes) -> Any:
        if _maybe_extension_key(body):
            raise Unusual  # json_format rejects "[extension]" keys in these messages; unknown keys it ignores
        try:
            message = self.decoder.decode(body)
        except (msgspec.DecodeError, ValueError, RecursionError):
            raise Unusual from None
        for name, known, recurring in self._recurring:
            text = getattr(message, name)
            if text is not UNSET:
                struct = known.get(bytes(text))
                setattr(message, name, recurring.struct_of(text) if struct is None else struct)
        _run(self._checks_all, message)
        return message

    def _struct_for(self, descriptor: Descriptor, as_text: frozenset[str] = frozenset()) -> Any:
        """The struct of a message; fields named in `as_text` stay JSON text (msgspec.Raw)."""
        known = self._types.get(descriptor.full_name)
        if known is not None and not as_text:
            return known
        fields: list[tuple[str, Any, Any]] = []
        for field in descriptor.fields:
            value_type, default = ((msgspec.Raw | UnsetType, UNSET) if field.json_name in as_text
                                   else self._field_type(field))
            fields.append((field.json_name, value_type, default))
            if field.name != field.json_name:
                fields.append((field.name + "__proto_name", NEVER, msgspec.field(default=UNSET, name=field.name)))
        struct = msgspec.defstruct(descriptor.name, fields, gc=False)
        if not as_text:
            self._types[descriptor.full_name] = struct
        return struct

    def _checks_of(self, descriptor: Descriptor) -> list[tuple[str, Check]]:
        known = self._checks.get(descriptor.full_name)
        if known is not None:
            return known
        checks: list[tuple[str, Check]] = []
        for field in descriptor.fields:
            check = self._check_for(field)
            if check is not None:
                checks.append((field.json_name, check))
        for oneof in descriptor.oneofs:
            if len(oneof.fields) > 1:
                checks.append(("", _one_of(tuple(field.json_name for field in oneof.fields))))
        self._checks[descriptor.full_name] = checks
        return checks

    def _check_for(self, field: FieldDescriptor) -> Check | None:
        sub = field.message_type
        if sub is None or sub.GetOptions().map_entry:
            return None
        name = sub.full_name
        if name in WELL_KNOWN:
            return _struct if name == WELL_KNOWN[2] else None  # timestamps, durations: msgspec's pattern
        checks = self._checks_of(sub)
        if not checks:
            return None
        if field.is_repeated:
            return lambda items: [_run(checks, item) for item in items] and None
        return lambda message: _run(checks, message)

    def _field_type(self, field: FieldDescriptor) -> tuple[Any, Any]:
        sub = field.message_type
        if sub is not None and sub.GetOptions().map_entry:
            key_field, value_field = sub.fields_by_name["key"], sub.fields_by_name["value"]
            if key_field.type != FieldDescriptor.TYPE_STRING or value_field.message_type is not None:
                return NEVER, UNSET
            value_type, _ = self._scalar_type(value_field)
            return dict[str, value_type] | UnsetType, UNSET  # type: ignore[valid-type]
        if sub is not None:
            if sub.full_name == WELL_KNOWN[0]:
                single: Any = TIMESTAMP_STRING
            elif sub.full_name == WELL_KNOWN[1]:
                single = DURATION_STRING
            elif sub.full_name == WELL_KNOWN[2]:
                single = msgspec.Raw
            elif sub.full_name.startswith("google.protobuf."):
                return NEVER, UNSET  # wrappers, Any, Value, ...: json_format's job
            else:
                single = self._struct_for(sub)
            if field.is_repeated:
                return (NEVER, UNSET) if sub.full_name in WELL_KNOWN else (list[single] | UnsetType, UNSET)
            return single | UnsetType, UNSET
        value_type, default = self._scalar_type(field)
        if field.is_repeated:
            return list[value_type] | UnsetType, UNSET  # type: ignore[valid-type]
        return value_type, default

    @staticmethod
    def _scalar_type(field: FieldDescriptor) -> tuple[Any, Any]:
        kind = field.type
        if kind == FieldDescriptor.TYPE_STRING:
            return str, ""
        if kind == FieldDescriptor.TYPE_BOOL:
            return bool, False
        if kind in INT_RANGES:
            low, high = INT_RANGES[kind]
            return Annotated[int, Meta(ge=low, le=high)], 0
        if kind == FieldDescriptor.TYPE_FLOAT:
            return Annotated[float, Meta(ge=-FLOAT32_MAX, le=FLOAT32_MAX)], 0.0
        if kind == FieldDescriptor.TYPE_DOUBLE:
            return Annotated[float, Meta(ge=-DOUBLE_MAX, le=DOUBLE_MAX)], 0.0
        if kind == FieldDescriptor.TYPE_BYTES:
            return bytes, b""
        if kind == FieldDescriptor.TYPE_ENUM:
            return Literal[tuple(value.name for value in field.enum_type.values)] | UnsetType, UNSET
        return NEVER, UNSET


def _maybe_extension_key(body: bytes) -> bool:
    """Might a key be "[...]"? Finding single bytes is much quicker than finding the pair '"['.
    (`find`, not `in`: bytes' `in` first tries the operand as an integer and clears that error.)"""
    if body.find(b"\\") != -1 and body.find(b"\\u005") != -1:
        return True  # \\u005b is "[", \\u005d is "]": let json_format look
    at = body.find(b"[")
    while at != -1:
        if body[at - 1] == 34:  # '"' (at 0, [-1] is the last byte: at worst the pattern below looks)
            return EXTENSION_KEY.search(body) is not None
        at = body.find(b"[", at + 1)
    return False


class Recurring:
    """A message-typed field whose JSON text recurs from body to body: the struct of each distinct text is
    decoded and checked once and handed back again for the same text (json_format's verdict on a field's
    value depends on that value alone). Callers must treat the shared structs as read-only."""

    # Distinct texts remembered. A full cache is emptied at once: dropping the oldest
    # entry one by one (`del d[next(iter(d))]`) made every miss walk the holes earlier deletions leave at the
    # front of a dict (~11k instructions per uplink when every uplink is a new device), and a fleet larger than
    # the cache misses under either rule.
    LIMIT = 4096

    def __init__(self, struct: Any, checks: list[tuple[str, Check]]) -> None:
        self.decoder = msgspec.json.Decoder(struct)
        self.checks = checks
        self.known: dict[bytes, Any] = {}

    def struct_of(self, raw: msgspec.Raw) -> Any:
        text = bytes(raw)
        struct = self.known.get(text)
        if struct is None:
            try:
                struct = self.decoder.decode(text)
            except (msgspec.DecodeError, ValueError, RecursionError):
                raise Unusual from None
            _run(self.checks, struct)
            if len(self.known) >= self.LIMIT:
                self.known.clear()
            self.known[text] = struct
        return struct


def _run(checks: list[tuple[str, Check]], message: Any) -> None:
    for name, check in checks:
        if not name:
            check(message)
            continue
        value = getattr(message, name)
        if value is not UNSET:
            check(value)


def _one_of(group: tuple[str, ...]) -> Check:
    def check(message: Any) -> None:
        present = 0
        for name in group:
            if getattr(message, name) is not UNSET:
                present += 1
        if present > 1:
            raise Unusual  # json_format: "should not have multiple ... oneof fields"
    return check
