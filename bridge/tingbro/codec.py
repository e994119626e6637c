"""The payload codec the bridge decodes uplinks with: `tingcodec.decode`, imported at first use."""

from __future__ import annotations

from typing import Any


def tingcodec_decode(fport: int, payload: bytes, device_type: str, direction: str = "up") -> dict[str, Any]:
    import tingcodec  # the shared device/bridge codec (codecs/tingcodec)

    return tingcodec.decode(fport, payload, device_type, direction=direction)
