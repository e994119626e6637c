"""Compact, strict JSON bytes: what every sink puts on the wire (and what an HMAC is computed over).

An event from the outbox carries the JSON it was stored as (`strictjson.Dumped`): those bytes are sent as they
are, so an event is serialized once on its way from ingest to every sink.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tingbro import strictjson
from tingbro.sinks.base import PermanentSinkError


def dump_json(value: Any) -> bytes:
    """Compact JSON bytes; NaN/Infinity are not JSON, so they are a permanent error, not a retry."""
    try:
        return strictjson.dumps(value)
    except (TypeError, ValueError) as exc:
        raise PermanentSinkError(f"event is not JSON-serializable: {exc}") from exc


def dump_json_array(values: Iterable[Any], before: bytes = b"", after: bytes = b"") -> bytes:
    """`before + dump_json(list(values)) + after` from each value's own JSON (outbox events are not encoded again)."""
    try:
        return strictjson.join_array(values, before, after)
    except (TypeError, ValueError) as exc:
        raise PermanentSinkError(f"event is not JSON-serializable: {exc}") from exc
