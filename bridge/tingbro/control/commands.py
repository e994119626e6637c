"""Commands to devices: resolve a friendly name to a catalogue downlink, validate, encode (pure).

Validation is the catalogue's own (tingcodec.encode): every field checked against its range
before anything is sent, with an error naming the field and its allowed range.
"""

from __future__ import annotations

from typing import Any

import tingcodec

from tingbro.control.device_types import INTERVAL_FIELD, canonical_type
from tingbro.fieldargs import parse_fields

# Short names an operator may type, per device type where they differ.
_ALIASES = {
    "level": "set_level",
    "schedule": "set_schedule",
    "presence_dimming": "set_presence_dimming",
    "default_level": "set_default_level",
    "thresholds": "set_alarm_thresholds",
    "debounce": "set_debounce",
}
# A lifebuoy's only threshold is its presence debounce.
_TYPE_ALIASES = {"lifebuoy": {"thresholds": "set_debounce"}}


class CommandError(ValueError):
    """A command that cannot be sent as asked; the message says which field and why."""


def downlink_names(device_type: str) -> list[str]:
    return list(tingcodec.message_names(device_type, "down"))


def resolve_message(device_type: str, name: str) -> str:
    """`level` / `set-level` / `interval` -> the catalogue's downlink message name for this type."""
    key = name.strip().lower().replace("-", "_")
    if key == "interval":
        key = "set_" + INTERVAL_FIELD[device_type].removesuffix("_s")
    key = _TYPE_ALIASES.get(device_type, {}).get(key) or _ALIASES.get(key, key)
    known = downlink_names(device_type)
    if key not in known and "set_" + key in known:
        key = "set_" + key
    if key not in known:
        raise CommandError(f"{device_type} has no command {name!r} (commands: {', '.join(known)})")
    return key


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """`["level_pct=40", "points=[...]"]` -> fields, parsed as `tingbro encode` parses them."""
    try:
        return parse_fields(pairs)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def build_command(device_type: str, message: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Validate and encode -> {device_type, message, fields, f_port, payload_hex}; CommandError if invalid."""
    try:
        device_type = canonical_type(device_type)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    message = resolve_message(device_type, message)
    try:
        f_port, payload = tingcodec.encode(device_type, message, fields)
    except tingcodec.CodecError as exc:
        raise CommandError(f"{device_type} {message}: {exc}") from None
    if not 1 <= f_port <= 223:  # ChirpStack wraps f_port >= 256 silently (reference §5.3)
        raise CommandError(f"{message}: fPort {f_port} is not an application port")
    return {"device_type": device_type, "message": message, "fields": fields, "f_port": f_port,
            "payload_hex": payload.hex()}
