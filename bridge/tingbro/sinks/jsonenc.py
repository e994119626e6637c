"""Compact, strict JSON bytes: what every sink puts on the wire (and what an HMAC is computed over)."""

from __future__ import annotations

import json
from typing import Any

from tingbro.sinks.base import PermanentSinkError

# ASCII output (non-ASCII as \u escapes) is valid UTF-8 and about twice as fast to produce as raw UTF-8.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def dump_json(value: Any) -> bytes:
    """Compact JSON bytes; NaN/Infinity are not JSON, so they are a permanent error, not a retry."""
    try:
        return _ENCODER.encode(value).encode()
    except (TypeError, ValueError) as exc:
        raise PermanentSinkError(f"event is not JSON-serializable: {exc}") from exc
