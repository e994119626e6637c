"""`tingbro encode`: encode a message by name from key=value fields, print fPort and hex."""

from __future__ import annotations

import argparse
import base64
import json

import tingcodec

from tingbro.cli import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "encode", help="encode a message from key=value fields into fPort and hex",
        description="Values: true/false, numbers, enum names, or JSON for lists "
                    "(points='[{\"level_pct\":100,\"time_min\":0,\"anchor\":\"sunset\",\"days_mask\":127}]').")
    parser.add_argument("--device", required=True, help="device type: " + ", ".join(tingcodec.device_types()))
    parser.add_argument("message", help="message name, e.g. set_level")
    parser.add_argument("fields", nargs="*", metavar="key=value", help="field values")
    parser.set_defaults(handler=run)


def parse_value(text: str) -> object:
    """A command-line value: true/false, an int, a float, JSON for lists/objects, else the text itself."""
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
            raise UsageError(f"not valid JSON: {text!r} ({exc.msg})") from None
    return text


def parse_fields(pairs: list[str]) -> dict[str, object]:
    fields: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"expected key=value, got {pair!r}")
        if key in fields:
            raise UsageError(f"field {key} given twice")
        fields[key] = parse_value(value)
    return fields


def run(args: argparse.Namespace) -> int:
    fields = parse_fields(args.fields)
    try:
        fport, payload = tingcodec.encode(args.device, args.message, fields)
    except tingcodec.CodecError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps({"fPort": fport, "hex": payload.hex(), "base64": base64.b64encode(payload).decode()}))
    return 0
