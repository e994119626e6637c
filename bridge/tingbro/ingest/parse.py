"""Bytes from ChirpStack -> a `chirpstack_api.integration` message: the reference path.

JSON goes through `json.loads` and `json_format.ParseDict`; `up` events usually take the fast path in
`uplinkjson.py` instead, which accepts only what this path accepts.

ChirpStack sends either proto3 JSON (camelCase, written by pbjson) or protobuf binary. Unknown fields are
ignored so a newer ChirpStack that adds fields keeps working. Every failure is a `ParseError` whose message
says what was wrong without echoing the payload.
"""

from __future__ import annotations

import json

from chirpstack_api import integration
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

# ChirpStack event name (HTTP `?event=`, MQTT topic suffix) -> protobuf class.
EVENT_CLASSES: dict[str, type[Message]] = {
    "up": integration.UplinkEvent,
    "join": integration.JoinEvent,
    "ack": integration.AckEvent,
    "txack": integration.TxAckEvent,
    "log": integration.LogEvent,
    "status": integration.StatusEvent,
    "location": integration.LocationEvent,
}

JSON = "json"
PROTOBUF = "protobuf"
KNOWN_TYPES = {"application/json": JSON, "application/octet-stream": PROTOBUF}  # what ChirpStack sends


class ParseError(ValueError):
    """The body is not a valid ChirpStack event of the named type."""


def encoding_for(content_type: str | None, body: bytes) -> str:
    """JSON or protobuf from the Content-Type; without one, a body starting with `{` is JSON."""
    known = KNOWN_TYPES.get(content_type)  # type: ignore[arg-type]
    if known is not None:
        return known
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in ("application/json", "text/json") or media.endswith("+json"):
        return JSON
    if media in ("application/octet-stream", "application/protobuf", "application/x-protobuf"):
        return PROTOBUF
    if media:
        raise ParseError(f"unsupported content type {media[:60]!r}: use application/json or application/octet-stream")
    return JSON if body.lstrip()[:1] == b"{" else PROTOBUF


def parse_event(event_name: str, body: bytes, encoding: str) -> Message:
    event_class = EVENT_CLASSES.get(event_name)
    if event_class is None:
        raise ParseError(f"unknown event type {event_name[:40]!r}; known: {', '.join(EVENT_CLASSES)}")
    message = event_class()
    if encoding == JSON:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("JSON body is not valid UTF-8") from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"invalid {event_name} JSON: {_short(exc)}") from None
        if not isinstance(data, dict):
            raise ParseError(f"invalid {event_name} JSON: the body must be a JSON object")
        try:
            json_format.ParseDict(data, message, ignore_unknown_fields=True)
        except json_format.ParseError as exc:
            raise ParseError(f"invalid {event_name} JSON: {_short(exc)}") from None
        except (ValueError, TypeError, RecursionError, OverflowError) as exc:
            raise ParseError(f"invalid {event_name} JSON: {type(exc).__name__}") from None
    else:
        try:
            message.ParseFromString(body)
        except (DecodeError, ValueError, RecursionError) as exc:
            raise ParseError(f"invalid {event_name} protobuf: {_short(exc)}") from None
    return message


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:160] if text else type(exc).__name__
