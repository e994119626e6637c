"""MQTT 3.1.1 / 5 packets the ingest exchanges, both directions: pure encoders and decoders, no I/O.

The client side (CONNECT, SUBSCRIBE, acks) is what the bridge sends; the broker side (CONNACK, SUBACK,
PUBLISH) is what it reads. Each decoder also has its encoder so they are tested as round trips, and the
bench publisher and the protocol tests' scripted broker are built from the same pieces. Decoders take a
packet body as `data[start:end]` (from `mqttwire.split_frames`) and raise `MqttProtocolError`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from tingbro.ingest.mqttwire import (
    CONNACK,
    CONNECT,
    DISCONNECT,
    MAX_REMAINING_LENGTH,
    PINGREQ,
    PINGRESP,
    PUBLISH,
    PUBREL,
    SUBACK,
    SUBSCRIBE,
    U16,
    MqttProtocolError,
    encode_binary,
    encode_properties,
    encode_string,
    packet,
    parse_properties,
    read_binary,
    read_string,
    read_u16,
    split_frames,
)

PROTOCOL_NAME = encode_string("MQTT")
_USERNAME, _PASSWORD, _CLEAN_START = 0x80, 0x40, 0x02
_ACK_FIRST_BYTES = {4: 0x40, 5: 0x50, PUBREL: 0x62, 7: 0x70}  # PUBACK, PUBREC, PUBREL (flags 0010), PUBCOMP


class Connect(NamedTuple):
    protocol_level: int       # 4 = MQTT 3.1.1, 5 = MQTT 5
    client_id: str
    clean_start: bool
    keepalive_s: int
    username: str | None
    password: bytes | None
    properties: dict[int, Any]


class Connack(NamedTuple):
    session_present: bool
    reason_code: int          # the v3.1.1 return code or the v5 reason code; 0 = accepted
    properties: dict[int, Any]


class Publish(NamedTuple):
    topic: str
    payload: bytes
    qos: int
    packet_id: int            # 0 for QoS 0
    dup: bool
    retain: bool
    properties: dict[int, Any]


class Subscribe(NamedTuple):
    packet_id: int
    topic_filters: list[tuple[str, int]]   # (filter, options byte: QoS in bits 0-1, v5 flags above)
    properties: dict[int, Any]


class Suback(NamedTuple):
    packet_id: int
    reason_codes: list[int]   # granted QoS 0..2, or >= 0x80 for a refusal
    properties: dict[int, Any]


class Ack(NamedTuple):
    packet_id: int
    reason_code: int
    properties: dict[int, Any]


def _expect_end(offset: int, end: int, what: str) -> None:
    if offset != end:
        raise MqttProtocolError(f"{what}: {end - offset} bytes left over")


def _byte(data: bytes, offset: int, end: int, what: str) -> int:
    if offset >= end:
        raise MqttProtocolError(f"{what} is cut short")
    return data[offset]


def _properties(v5: bool, properties: dict[int, Any] | None) -> bytes:
    return encode_properties(properties or {}) if v5 else b""


# -- CONNECT / CONNACK ---------------------------------------------------------------------------------------

def encode_connect(client_id: str, *, protocol_level: int = 5, clean_start: bool = False, keepalive_s: int = 30,
                   username: str | None = None, password: bytes | None = None,
                   properties: dict[int, Any] | None = None) -> bytes:
    if protocol_level not in (4, 5):
        raise MqttProtocolError(f"protocol level {protocol_level} is neither 4 (3.1.1) nor 5")
    if password is not None and username is None and protocol_level == 4:
        raise MqttProtocolError("MQTT 3.1.1 allows a password only together with a user name")
    flags = ((_USERNAME if username is not None else 0) | (_PASSWORD if password is not None else 0)
             | (_CLEAN_START if clean_start else 0))
    body = (PROTOCOL_NAME + bytes((protocol_level, flags)) + U16.pack(keepalive_s)
            + _properties(protocol_level == 5, properties) + encode_string(client_id))
    if username is not None:
        body += encode_string(username)
    if password is not None:
        body += encode_binary(password)
    return packet(CONNECT << 4, body)


def parse_connect(data: bytes, start: int, end: int) -> Connect:
    name, offset = read_string(data, start, end)
    if name != "MQTT":
        raise MqttProtocolError(f"protocol name {name[:20]!r} is not MQTT")
    level = _byte(data, offset, end, "CONNECT")
    if level not in (4, 5):
        raise MqttProtocolError(f"unsupported protocol level {level}")
    flags = _byte(data, offset + 1, end, "CONNECT")
    if flags & 0x01 or flags & 0x04:
        raise MqttProtocolError("CONNECT with the reserved flag or a will message (not supported here)")
    keepalive_s = read_u16(data, offset + 2, end)
    properties, offset = parse_properties(data, offset + 4, end) if level == 5 else ({}, offset + 4)
    client_id, offset = read_string(data, offset, end)
    username = password = None
    if flags & _USERNAME:
        username, offset = read_string(data, offset, end)
    if flags & _PASSWORD:
        password, offset = read_binary(data, offset, end)
    _expect_end(offset, end, "CONNECT")
    return Connect(level, client_id, bool(flags & _CLEAN_START), keepalive_s, username, password, properties)


def encode_connack(session_present: bool, reason_code: int, *, v5: bool = True,
                   properties: dict[int, Any] | None = None) -> bytes:
    return packet(CONNACK << 4, bytes((int(session_present), reason_code)) + _properties(v5, properties))


def parse_connack(data: bytes, start: int, end: int, v5: bool) -> Connack:
    if end - start < 2:
        raise MqttProtocolError("CONNACK is cut short")
    flags, code = data[start], data[start + 1]
    if flags & 0xFE:
        raise MqttProtocolError(f"CONNACK with reserved flags 0x{flags:02x}")
    properties, offset = parse_properties(data, start + 2, end) if v5 else ({}, start + 2)
    _expect_end(offset, end, "CONNACK")
    return Connack(bool(flags), code, properties)


# -- PUBLISH -------------------------------------------------------------------------------------------------

def encode_publish(topic: str, payload: bytes, qos: int = 1, packet_id: int = 0, *, v5: bool = True,
                   retain: bool = False, dup: bool = False, properties: dict[int, Any] | None = None) -> bytes:
    if qos not in (0, 1, 2) or (qos > 0) != (packet_id > 0) or packet_id > 0xFFFF:
        raise MqttProtocolError(f"QoS {qos} with packet id {packet_id}")
    head = encode_string(topic) + (U16.pack(packet_id) if qos else b"") + _properties(v5, properties)
    return packet((PUBLISH << 4) | (dup << 3) | (qos << 1) | retain, head + payload)


def parse_publish(first_byte: int, data: bytes, start: int, end: int, v5: bool) -> Publish:
    qos = (first_byte >> 1) & 3
    if qos == 3:
        raise MqttProtocolError("PUBLISH with QoS 3")
    if start + 2 > end:
        raise MqttProtocolError("PUBLISH is cut short")
    offset = start + 2 + ((data[start] << 8) | data[start + 1])
    if offset > end:
        raise MqttProtocolError("PUBLISH topic runs past the end of the packet")
    try:
        topic = data[start + 2:offset].decode()
    except UnicodeDecodeError:
        raise MqttProtocolError("PUBLISH topic is not valid UTF-8") from None
    packet_id = 0
    if qos:
        if offset + 2 > end:
            raise MqttProtocolError("PUBLISH is cut short before its packet id")
        packet_id = (data[offset] << 8) | data[offset + 1]
        if not packet_id:
            raise MqttProtocolError("PUBLISH with QoS > 0 and packet id 0")
        offset += 2
    properties: dict[int, Any] = {}
    if v5:
        if offset >= end:
            raise MqttProtocolError("PUBLISH is cut short before its properties")
        if data[offset]:
            properties, offset = parse_properties(data, offset, end)
        else:
            offset += 1
    return Publish(topic, data[offset:end], qos, packet_id, bool(first_byte & 8), bool(first_byte & 1), properties)


# -- SUBSCRIBE / SUBACK --------------------------------------------------------------------------------------

def encode_subscribe(packet_id: int, topic_filter: str, options: int, *, v5: bool = True,
                     properties: dict[int, Any] | None = None) -> bytes:
    body = U16.pack(packet_id) + _properties(v5, properties) + encode_string(topic_filter) + bytes((options,))
    return packet((SUBSCRIBE << 4) | 2, body)


def parse_subscribe(data: bytes, start: int, end: int, v5: bool) -> Subscribe:
    packet_id = read_u16(data, start, end)
    properties, offset = parse_properties(data, start + 2, end) if v5 else ({}, start + 2)
    filters = []
    while offset < end:
        topic_filter, offset = read_string(data, offset, end)
        filters.append((topic_filter, _byte(data, offset, end, "SUBSCRIBE")))
        offset += 1
    if not filters:
        raise MqttProtocolError("SUBSCRIBE without a topic filter")
    return Subscribe(packet_id, filters, properties)


def encode_suback(packet_id: int, reason_codes: list[int], *, v5: bool = True,
                  properties: dict[int, Any] | None = None) -> bytes:
    return packet(SUBACK << 4, U16.pack(packet_id) + _properties(v5, properties) + bytes(reason_codes))


def parse_suback(data: bytes, start: int, end: int, v5: bool) -> Suback:
    packet_id = read_u16(data, start, end)
    properties, offset = parse_properties(data, start + 2, end) if v5 else ({}, start + 2)
    if offset >= end:
        raise MqttProtocolError("SUBACK without a reason code")
    return Suback(packet_id, list(data[offset:end]), properties)


# -- PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT -------------------------------------------------------------

def encode_ack(kind: int, packet_id: int, reason_code: int = 0, *, v5: bool = True,
               properties: dict[int, Any] | None = None) -> bytes:
    """A PUBACK/PUBREC/PUBREL/PUBCOMP; success without properties is the short 2-byte form in both versions."""
    body = U16.pack(packet_id)
    if v5 and (reason_code or properties):
        body += bytes((reason_code,)) + _properties(True, properties)
    return packet(_ACK_FIRST_BYTES[kind], body)


def parse_ack(data: bytes, start: int, end: int, v5: bool) -> Ack:
    packet_id = read_u16(data, start, end)
    offset = start + 2
    reason_code = 0
    properties: dict[int, Any] = {}
    if v5 and offset < end:  # v5 leaves out reason 0 and empty properties
        reason_code = data[offset]
        offset += 1
        if offset < end:
            properties, offset = parse_properties(data, offset, end)
    _expect_end(offset, end, "acknowledgement")
    return Ack(packet_id, reason_code, properties)


def encode_disconnect(reason_code: int = 0, *, v5: bool = True, properties: dict[int, Any] | None = None) -> bytes:
    if not v5 or not (reason_code or properties):
        return packet(DISCONNECT << 4, b"")
    return packet(DISCONNECT << 4, bytes((reason_code,)) + _properties(True, properties))


def parse_disconnect(data: bytes, start: int, end: int, v5: bool) -> Ack:
    """DISCONNECT as an Ack without a packet id (0): its reason code and properties (v5)."""
    if not v5 or start == end:
        _expect_end(start, end, "DISCONNECT")
        return Ack(0, 0, {})
    properties, offset = parse_properties(data, start + 1, end) if start + 1 < end else ({}, end)
    _expect_end(offset, end, "DISCONNECT")
    return Ack(0, data[start], properties)


# -- any packet ----------------------------------------------------------------------------------------------

def parse_packet(first_byte: int, data: bytes, start: int, end: int, v5: bool) -> tuple[int, Any]:
    """(packet type, its decoded form) for one framed packet; PINGREQ/PINGRESP decode to None."""
    kind = first_byte >> 4
    if kind == PUBLISH:
        return kind, parse_publish(first_byte, data, start, end, v5)
    if kind == CONNECT:
        return kind, parse_connect(data, start, end)
    if kind == CONNACK:
        return kind, parse_connack(data, start, end, v5)
    if kind == SUBSCRIBE:
        return kind, parse_subscribe(data, start, end, v5)
    if kind == SUBACK:
        return kind, parse_suback(data, start, end, v5)
    if kind in _ACK_FIRST_BYTES:
        return kind, parse_ack(data, start, end, v5)
    if kind == DISCONNECT:
        return kind, parse_disconnect(data, start, end, v5)
    if kind in (PINGREQ, PINGRESP):
        _expect_end(start, end, "PINGREQ/PINGRESP")
        return kind, None
    raise MqttProtocolError(f"packet type {kind} is not supported")  # UNSUBSCRIBE, UNSUBACK, AUTH


def parse_stream(data: bytes, v5: bool, max_packet_bytes: int = MAX_REMAINING_LENGTH) -> list[tuple[int, Any]]:
    """Every packet in a complete byte string; MqttProtocolError if it ends inside one."""
    frames, used = split_frames(data, max_packet_bytes)
    if used != len(data):
        raise MqttProtocolError(f"the data ends inside a packet ({len(data) - used} bytes of it)")
    return [parse_packet(first_byte, data, start, end, v5) for first_byte, start, end in frames]
