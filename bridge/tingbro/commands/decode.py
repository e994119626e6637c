"""`tingbro decode`: decode one application payload with the message catalogue, print JSON."""

from __future__ import annotations

import argparse
import base64
import binascii
import json

import tingcodec

from tingbro.cli import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("decode", help="decode a payload (fPort + hex) into JSON fields")
    parser.add_argument("--device", required=True, help="device type: " + ", ".join(tingcodec.device_types()))
    parser.add_argument("--port", required=True, help="LoRaWAN fPort (1..223)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--hex", help="payload as hex, e.g. 8413182b18b400")
    source.add_argument("--base64", help="payload as base64 (as in ChirpStack events)")
    parser.add_argument("--direction", choices=("up", "down"), default="up", help="uplink (default) or downlink")
    parser.set_defaults(handler=run)


def parse_payload(hex_text: str | None, base64_text: str | None) -> bytes:
    """The payload from --hex (spaces and a 0x prefix allowed) or --base64; UsageError if invalid."""
    if hex_text is not None:
        cleaned = "".join(hex_text.split())
        cleaned = cleaned[2:] if cleaned.lower().startswith("0x") else cleaned
        try:
            return bytes.fromhex(cleaned)
        except ValueError:
            raise UsageError(f"--hex is not valid hex: {hex_text!r}") from None
    try:
        return base64.b64decode(base64_text or "", validate=True)
    except binascii.Error:
        raise UsageError(f"--base64 is not valid base64: {base64_text!r}") from None


def run(args: argparse.Namespace) -> int:
    try:
        fport = int(args.port)
    except ValueError:
        raise UsageError(f"--port must be a number, not {args.port!r}") from None
    payload = parse_payload(args.hex, args.base64)
    try:
        result = tingcodec.decode(fport, payload, args.device, args.direction)
    except tingcodec.CodecError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(result, ensure_ascii=False))
    return 0
