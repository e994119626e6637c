"""MQTT 3.1.1 (protocol level 4) and MQTT 5 wire primitives: pure, bytes in and out, no I/O.

`split_frames` cuts a byte stream into whole packets (and says how much it used, so a partial packet waits
for more bytes); packet bodies are then read as `data[start:end]` (see `mqttpackets`), so the stream is not
copied per packet. Anything malformed raises `MqttProtocolError` (a ValueError) saying what was wrong; every
loop advances through a bounded buffer, so no input can hang a decoder.
"""

from __future__ import annotations

import struct
from typing import Any

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = 8, 9, 10, 11, 12, 13, 14, 15

MAX_REMAINING_LENGTH = 268_435_455  # four varint bytes
PINGREQ_PACKET = b"\xc0\x00"
PINGRESP_PACKET = b"\xd0\x00"

# The flags nibble the specification fixes for each packet type (PUBLISH carries dup/qos/retain instead).
_FIXED_FLAGS = {CONNECT: 0, CONNACK: 0, PUBACK: 0, PUBREC: 0, PUBREL: 2, PUBCOMP: 0, SUBSCRIBE: 2, SUBACK: 0,
                UNSUBSCRIBE: 2, UNSUBACK: 0, PINGREQ: 0, PINGRESP: 0, DISCONNECT: 0, AUTH: 0}

# MQTT 5 properties: identifier -> value type. Those marked repeatable may occur more than once.
_BYTE, _U16, _U32, _VARINT, _STRING, _BINARY, _PAIR = range(7)
PROPERTY_TYPES = {
    0x01: _BYTE, 0x02: _U32, 0x03: _STRING, 0x08: _STRING, 0x09: _BINARY, 0x0B: _VARINT, 0x11: _U32,
    0x12: _STRING, 0x13: _U16, 0x15: _STRING, 0x16: _BINARY, 0x17: _BYTE, 0x18: _U32, 0x19: _BYTE,
    0x1A: _STRING, 0x1C: _STRING, 0x1F: _STRING, 0x21: _U16, 0x22: _U16, 0x23: _U16, 0x24: _BYTE,
    0x25: _BYTE, 0x26: _PAIR, 0x27: _U32, 0x28: _BYTE, 0x29: _BYTE, 0x2A: _BYTE,
}
REPEATABLE = {0x0B, 0x26}  # subscription identifier, user property: values are lists
SESSION_EXPIRY, RECEIVE_MAXIMUM, MAXIMUM_PACKET_SIZE = 0x11, 0x21, 0x27
SERVER_KEEP_ALIVE, ASSIGNED_CLIENT_ID, REASON_STRING, TOPIC_ALIAS = 0x13, 0x12, 0x1F, 0x23

# Names for the reason codes a client gets told (v3.1.1 CONNACK return codes are the first five).
CONNACK_V4_NAMES = {1: "unacceptable protocol version", 2: "identifier rejected", 3: "server unavailable",
                    4: "bad user name or password", 5: "not authorized"}
REASON_NAMES = {
    0x00: "success", 0x04: "disconnect with will message", 0x80: "unspecified error", 0x81: "malformed packet",
    0x82: "protocol error", 0x83: "implementation specific error", 0x84: "unsupported protocol version",
    0x85: "client identifier not valid", 0x86: "bad user name or password", 0x87: "not authorized",
    0x88: "server unavailable", 0x89: "server busy", 0x8A: "banned", 0x8B: "server shutting down",
    0x8C: "bad authentication method", 0x8D: "keep alive timeout", 0x8E: "session taken over",
    0x8F: "topic filter invalid", 0x90: "topic name invalid", 0x93: "receive maximum exceeded",
    0x94: "topic alias invalid", 0x95: "packet too large", 0x97: "quota exceeded", 0x98: "administrative action",
    0x99: "payload format invalid", 0x9B: "QoS not supported", 0x9C: "use another server", 0x9D: "server moved",
    0x9E: "shared subscriptions not supported", 0x9F: "connection rate exceeded",
    0xA2: "wildcard subscriptions not supported",
}

U16 = struct.Struct(">H")
U32 = struct.Struct(">I")


class MqttProtocolError(ValueError):
    """Bytes that are no valid MQTT packet (or a packet the client must not receive)."""


def reason_name(code: int, protocol_level: int = 5) -> str:
    names = REASON_NAMES if protocol_level == 5 else CONNACK_V4_NAMES
    return f"0x{code:02x} {names.get(code, 'unknown reason')}"


# -- primitives --------------------------------------------------------------------------------------------

def encode_varint(value: int) -> bytes:
    if not 0 <= value <= MAX_REMAINING_LENGTH:
        raise MqttProtocolError(f"variable byte integer out of range: {value}")
    out = bytearray()
    while True:
        value, digit = value >> 7, value & 0x7F
        out.append(digit | 0x80 if value else digit)
        if not value:
            return bytes(out)


def decode_varint(data: bytes, offset: int, end: int) -> tuple[int, int] | None:
    """(value, offset after it), or None when `data[:end]` stops inside it."""
    value = 0
    for shift in (0, 7, 14, 21):
        if offset >= end:
            return None
        digit = data[offset]
        offset += 1
        value |= (digit & 0x7F) << shift
        if digit < 0x80:
            return value, offset
    raise MqttProtocolError("variable byte integer longer than 4 bytes")


def read_varint(data: bytes, offset: int, end: int) -> tuple[int, int]:
    found = decode_varint(data, offset, end)
    if found is None:
        raise MqttProtocolError("packet ends inside a variable byte integer")
    return found


def encode_string(text: str) -> bytes:
    return encode_binary(text.encode())


def encode_binary(blob: bytes) -> bytes:
    if len(blob) > 0xFFFF:
        raise MqttProtocolError(f"string or binary field longer than 65535 bytes ({len(blob)})")
    return U16.pack(len(blob)) + blob


def read_u16(data: bytes, offset: int, end: int) -> int:
    if offset + 2 > end:
        raise MqttProtocolError("packet ends inside a two-byte integer")
    return (data[offset] << 8) | data[offset + 1]


def read_binary(data: bytes, offset: int, end: int) -> tuple[bytes, int]:
    length = read_u16(data, offset, end)
    offset += 2
    if offset + length > end:
        raise MqttProtocolError(f"a {length}-byte field runs past the end of the packet")
    return bytes(data[offset:offset + length]), offset + length


def read_string(data: bytes, offset: int, end: int) -> tuple[str, int]:
    blob, offset = read_binary(data, offset, end)
    try:
        return blob.decode(), offset
    except UnicodeDecodeError:
        raise MqttProtocolError("a string field is not valid UTF-8") from None


def packet(first_byte: int, body: bytes) -> bytes:
    return bytes((first_byte,)) + encode_varint(len(body)) + body


# -- framing -----------------------------------------------------------------------------------------------

def split_frames(data: bytes, max_packet_bytes: int = MAX_REMAINING_LENGTH) -> tuple[list[tuple[int, int, int]], int]:
    """Whole packets at the start of `data` as (first byte, body start, body end), and the bytes they use.

    A packet cut off at the end is left for the next call. A remaining length over `max_packet_bytes`, a
    reserved packet type or wrong fixed-header flags raise MqttProtocolError (the stream cannot be resynced).
    """
    frames = []
    offset = 0
    end = len(data)
    while offset + 2 <= end:
        first = data[offset]
        length = data[offset + 1]
        if length < 0x80:
            start = offset + 2
        elif offset + 2 < end and data[offset + 2] < 0x80:  # two length bytes: most ChirpStack events
            length = (length & 0x7F) | (data[offset + 2] << 7)
            start = offset + 3
        else:
            found = decode_varint(data, offset + 1, end)
            if found is None:
                break
            length, start = found
        kind = first >> 4
        if kind != PUBLISH and (kind == 0 or first & 0x0F != _FIXED_FLAGS[kind]):
            raise MqttProtocolError(f"invalid fixed header byte 0x{first:02x}")
        if length > max_packet_bytes:
            raise MqttProtocolError(f"packet of {length} bytes is over the limit of {max_packet_bytes}")
        if start + length > end:
            break
        frames.append((first, start, start + length))
        offset = start + length
    return frames, offset


def frame_size(data: bytes) -> int | None:
    """Total bytes of the packet `data` starts with, once its fixed header is complete (else None)."""
    found = decode_varint(data, 1, len(data)) if data else None
    return None if found is None else found[1] + found[0]


# -- MQTT 5 properties ---------------------------------------------------------------------------------------

def encode_properties(properties: dict[int, Any]) -> bytes:
    out = bytearray()
    for identifier, value in properties.items():
        kind = PROPERTY_TYPES.get(identifier)
        if kind is None:
            raise MqttProtocolError(f"unknown property 0x{identifier:02x}")
        for item in value if identifier in REPEATABLE else (value,):
            out += encode_varint(identifier)
            if kind == _BYTE:
                out.append(item)
            elif kind == _U16:
                out += U16.pack(item)
            elif kind == _U32:
                out += U32.pack(item)
            elif kind == _VARINT:
                out += encode_varint(item)
            elif kind == _STRING:
                out += encode_string(item)
            elif kind == _BINARY:
                out += encode_binary(item)
            else:
                out += encode_string(item[0]) + encode_string(item[1])
    return encode_varint(len(out)) + bytes(out)


def parse_properties(data: bytes, offset: int, end: int) -> tuple[dict[int, Any], int]:
    """A property block at `offset` -> ({identifier: value}, offset after it)."""
    length, offset = read_varint(data, offset, end)
    stop = offset + length
    if stop > end:
        raise MqttProtocolError("properties run past the end of the packet")
    properties: dict[int, Any] = {}
    while offset < stop:
        identifier, offset = read_varint(data, offset, stop)
        kind = PROPERTY_TYPES.get(identifier)
        if kind is None:
            raise MqttProtocolError(f"unknown property 0x{identifier:02x}")
        value: Any
        if kind == _BYTE:
            if offset >= stop:
                raise MqttProtocolError("packet ends inside a property")
            value, offset = data[offset], offset + 1
        elif kind == _U16:
            value, offset = read_u16(data, offset, stop), offset + 2
        elif kind == _U32:
            if offset + 4 > stop:
                raise MqttProtocolError("packet ends inside a four-byte integer")
            value, offset = U32.unpack_from(data, offset)[0], offset + 4
        elif kind == _VARINT:
            value, offset = read_varint(data, offset, stop)
        elif kind == _STRING:
            value, offset = read_string(data, offset, stop)
        elif kind == _BINARY:
            value, offset = read_binary(data, offset, stop)
        else:
            name, offset = read_string(data, offset, stop)
            text, offset = read_string(data, offset, stop)
            value = (name, text)
        if identifier in REPEATABLE:
            properties.setdefault(identifier, []).append(value)
        elif identifier in properties:
            raise MqttProtocolError(f"property 0x{identifier:02x} given twice")
        else:
            properties[identifier] = value
    return properties, stop
