"""Compact, strict JSON bytes: what every sink puts on the wire (and what an HMAC is computed over)."""

from __future__ import annotations

from typing import Any

from tingbro import strictjson
from tingbro.sinks.base import PermanentSinkError


def dump_json(value: Any) -> bytes:
    """Compact JSON bytes; NaN/Infinity are not JSON, so they are a permanent error, not a retry."""
    try:
        return strictjson.dumps(value)
    except (TypeError, ValueError) as exc:
        raise PermanentSinkError(f"event is not JSON-serializable: {exc}") from exc
