"""`key=value` field arguments from the command line, shared by `tingbro encode` and `tingbro send`."""

from __future__ import annotations

import json


def parse_value(text: str) -> object:
    """true/false, an int, a float, JSON for lists/objects, else the text itself (an enum name)."""
    if text in ("true", "false"):
        return text == "true"
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {text!r} ({exc.msg})") from None
    return text


def parse_fields(pairs: list[str]) -> dict[str, object]:
    """`["level_pct=40", "points=[...]"]` -> fields; ValueError names the argument that is wrong."""
    fields: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {pair!r}")
        if key in fields:
            raise ValueError(f"field {key} given twice")
        fields[key] = parse_value(value)
    return fields
