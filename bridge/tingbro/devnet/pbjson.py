"""ChirpStack's JSON for integration events: protobuf messages serialized the way pbjson does it.

ChirpStack builds its `integration` package with `pbjson_build::Builder::emit_fields()` (chirpstack.md §1.2):
camelCase keys in proto field order; scalar, enum, repeated and map fields of the event and of `deviceInfo`
always written, defaults included; nested gateway/common messages omit defaults; unset message fields are
left out (never null); timestamps as RFC 3339 with `+00:00`. The bridge's tests use this serializer too.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

_MESSAGE_KINDS = (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP)


def _pbjson(message: Message, emit_fields: bool) -> dict[str, Any]:
    sparse = json_format.MessageToDict(message)
    full = json_format.MessageToDict(message, always_print_fields_with_no_presence=True) if emit_fields else sparse
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        key = field.json_name
        if field.type in _MESSAGE_KINDS and not field.is_repeated:
            if message.HasField(field.name):
                value = getattr(message, field.name)
                kind = value.DESCRIPTOR.full_name
                if kind == "google.protobuf.Timestamp":
                    out[key] = rfc3339(value)
                elif kind.startswith("google.protobuf."):
                    out[key] = sparse[key]
                else:  # deviceInfo is in package integration: emit_fields applies to it too
                    out[key] = _pbjson(value, emit_fields and kind.startswith("integration."))
            continue
        if field.type in _MESSAGE_KINDS and not field.message_type.GetOptions().map_entry:
            out[key] = sparse.get(key, [])  # repeated gateway messages: the list always, their defaults not
            continue
        if key in (full if emit_fields else sparse):
            out[key] = (full if emit_fields else sparse)[key]
    return out


def rfc3339(stamp: Any) -> str:
    """A protobuf Timestamp as chrono's to_rfc3339: `+00:00`, 0/3/6/9 fraction digits."""
    moment = datetime.fromtimestamp(stamp.seconds, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if stamp.nanos:
        text += "." + re.sub(r"(000)+$", "", f"{stamp.nanos:09d}")
    return text + "+00:00"


def chirpstack_json(message: Message) -> bytes:
    """Compact JSON bytes, as ChirpStack's HTTP and MQTT integrations send them."""
    return json.dumps(_pbjson(message, emit_fields=True), separators=(",", ":")).encode()
