"""The payload codec the bridge decodes uplinks with: `tingcodec.decode`, imported at first use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_decode: Callable[..., dict[str, Any]] | None = None  # tingcodec.decode once imported


def tingcodec_decode(fport: int, payload: bytes, device_type: str, direction: str = "up") -> dict[str, Any]:
    global _decode
    if _decode is None:
        import tingcodec  # the shared device/bridge codec (codecs/tingcodec)

        _decode = tingcodec.decode
    return _decode(fport, payload, device_type, direction)
