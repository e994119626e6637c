"""Compact, strict JSON bytes, ~10x faster than `json.dumps`: what the outbox stores and the sinks send.

The result parses to exactly what `json.dumps(value, separators=(",", ":"), ensure_ascii=False,
allow_nan=False)` gives (floats may be spelled differently, e.g. 1e16 for 1e+16), and the same inputs are
refused: msgspec writes NaN and infinities as null, so they are looked for first in msgspec's MessagePack
form of the value, where every float is 0xcb + 8 big-endian bytes and a non-finite one starts
0x7f/0xff, 0xf?. Those three bytes never occur in UTF-8 text, so a hit is a non-finite float or, rarely, the
inside of an integer, and json.dumps then decides (raising ValueError for NaN). Whatever msgspec refuses
(bool or None dict keys, integers beyond 64 bits) is json.dumps' job too. msgspec also accepts a few types
json.dumps refuses (bytes, sets, datetimes); events never hold them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

_JSON = msgspec.json.Encoder().encode
_MSGPACK = msgspec.msgpack.Encoder().encode
_NON_FINITE = re.compile(rb"\xcb[\x7f\xff][\xf0-\xff]")


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (UTF-8); ValueError for NaN/Infinity, TypeError for what JSON cannot hold."""
    try:
        if _NON_FINITE.search(_MSGPACK(value)) is None:
            return _JSON(value)
    except (TypeError, ValueError, OverflowError):
        pass
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
