"""`tingbro encode`: encode a message by name from key=value fields, print fPort and hex."""

from __future__ import annotations

import argparse
import base64
import json

import tingcodec

from tingbro.cli import UsageError
from tingbro.fieldargs import parse_fields


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "encode", help="encode a message from key=value fields into fPort and hex",
        description="Values: true/false, numbers, enum names, or JSON for lists "
                    "(points='[{\"level_pct\":100,\"time_min\":0,\"anchor\":\"sunset\",\"days_mask\":127}]').")
    parser.add_argument("--device", required=True, help="device type: " + ", ".join(tingcodec.device_types()))
    parser.add_argument("message", help="message name, e.g. set_level")
    parser.add_argument("fields", nargs="*", metavar="key=value", help="field values")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        fields = parse_fields(args.fields)
        fport, payload = tingcodec.encode(args.device, args.message, fields)
    except ValueError as exc:  # bad key=value arguments, or tingcodec.CodecError (a ValueError)
        raise UsageError(str(exc)) from None
    print(json.dumps({"fPort": fport, "hex": payload.hex(), "base64": base64.b64encode(payload).decode()}))
    return 0
