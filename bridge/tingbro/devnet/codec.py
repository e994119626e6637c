"""The `object` of an `up` event, as ChirpStack makes it: the device profile's JavaScript codec in QuickJS.

Why the JS codec and not `tingcodec`: ChirpStack decodes with the script stored in the device profile
(`payload_codec_runtime = JS`), in QuickJS, in a fresh context per uplink with a 100 ms limit
(chirpstack.md §7.1). Running that same script the same way (jscodegen.quickjs_runner) lets the demo
and the tests see what ChirpStack would send - including a codec that errs or a profile with no codec
- instead of what the Python catalogue thinks it should be.

Failure is ChirpStack's too: the `up` goes out without `object`, and a `log` UPLINK_CODEC follows.
"""

from __future__ import annotations

from typing import Any

import quickjs
from chirpstack_api import api
from jscodegen.quickjs_runner import run_chirpstack, uplink_input


class CodecError(Exception):
    """The codec threw, timed out, returned errors or no `data`; the text is ChirpStack's wording."""


def decode_uplink(profile: api.DeviceProfile | None, fport: int, data: bytes, recv_time_s: float,
                  variables: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The decoded `data` object, or None when the profile has no JS codec (no `object`, as ChirpStack)."""
    if profile is None or profile.payload_codec_runtime != api.CodecRuntime.JS or not profile.payload_codec_script:
        return None
    if not fport:
        return None  # MAC-only frames carry no application payload to decode
    codec_input = uplink_input(fport, data)
    codec_input["variables"] = dict(variables or {})
    try:
        result = run_chirpstack(profile.payload_codec_script, "decodeUplink", codec_input,
                                recv_time_ms=int(recv_time_s * 1000))
    except quickjs.JSException as exc:
        raise CodecError(f"JS error: {exc}") from None
    except (ValueError, TypeError) as exc:  # a result JSON cannot carry (e.g. undefined)
        raise CodecError(f"JS error: {exc}") from None
    if not isinstance(result, dict):
        raise CodecError("decodeUplink did not return 'data'")
    errors = result.get("errors")
    if isinstance(errors, list) and errors:
        raise CodecError("decodeUplink returned errors: " + ", ".join(str(e) for e in errors))
    decoded = result.get("data")
    if not isinstance(decoded, dict):
        raise CodecError("decodeUplink did not return 'data'")
    return decoded
