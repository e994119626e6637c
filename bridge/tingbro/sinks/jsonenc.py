"""Compact, strict JSON bytes: what every sink puts on the wire (and what an HMAC is computed over)."""

from __future__ import annotations

import json
from typing import Any

from tingbro.sinks.base import PermanentSinkError


def dump_json(value: Any) -> bytes:
    """UTF-8 JSON without spaces; NaN/Infinity are not JSON, so they are a permanent error, not a retry."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise PermanentSinkError(f"event is not JSON-serializable: {exc}") from exc
