"""The pure MQTT codec (mqttwire, mqttpackets): round trips, streams cut anywhere, garbage never hangs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tingbro.ingest import mqttpackets as packets
from tingbro.ingest import mqttwire as wire
from tingbro.ingest.mqttwire import MqttProtocolError

FAST = settings(max_examples=300, deadline=500, suppress_health_check=[HealthCheck.too_slow], database=None)

texts = st.text(max_size=40).filter(lambda text: len(text.encode()) <= 0xFFFF)
u16s = st.integers(1, 0xFFFF)
_VALUES = {
    wire._BYTE: st.integers(0, 255), wire._U16: st.integers(0, 0xFFFF), wire._U32: st.integers(0, 2**32 - 1),
    wire._VARINT: st.integers(0, wire.MAX_REMAINING_LENGTH), wire._STRING: texts, wire._BINARY: st.binary(max_size=40),
    wire._PAIR: st.tuples(texts, texts),
}


@st.composite
def property_sets(draw: st.DrawFn) -> dict:
    chosen = draw(st.lists(st.sampled_from(sorted(wire.PROPERTY_TYPES)), max_size=5, unique=True))
    properties = {}
    for identifier in chosen:
        values = _VALUES[wire.PROPERTY_TYPES[identifier]]
        properties[identifier] = (draw(st.lists(values, min_size=1, max_size=3)) if identifier in wire.REPEATABLE
                                  else draw(values))
    return properties


@st.composite
def publishes(draw: st.DrawFn, v5: bool) -> tuple[bytes, packets.Publish]:
    qos = draw(st.integers(0, 2))
    expected = packets.Publish(draw(texts), draw(st.binary(max_size=300)), qos, draw(u16s) if qos else 0,
                               draw(st.booleans()), draw(st.booleans()), draw(property_sets()) if v5 else {})
    return packets.encode_publish(expected.topic, expected.payload, qos, expected.packet_id, v5=v5,
                                  retain=expected.retain, dup=expected.dup, properties=expected.properties), expected


@st.composite
def any_packets(draw: st.DrawFn, v5: bool) -> tuple[bytes, tuple]:
    """One encoded packet of any type the bridge exchanges, and what decoding it must give."""
    props = draw(property_sets()) if v5 else {}
    choice = draw(st.sampled_from(["publish", "connect", "connack", "subscribe", "suback", "ack", "disconnect",
                                   "ping"]))
    if choice == "publish":
        encoded, expected = draw(publishes(v5))
        return encoded, (wire.PUBLISH, expected)
    if choice == "connect":
        username = draw(st.none() | texts)
        password = draw(st.none() | st.binary(max_size=30)) if (v5 or username is not None) else None
        connect = packets.Connect(5 if v5 else 4, draw(texts), draw(st.booleans()), draw(st.integers(0, 0xFFFF)),
                                  username, password, props)
        return packets.encode_connect(connect.client_id, protocol_level=connect.protocol_level,
                                      clean_start=connect.clean_start, keepalive_s=connect.keepalive_s,
                                      username=username, password=password, properties=props), (wire.CONNECT, connect)
    if choice == "connack":
        connack = packets.Connack(draw(st.booleans()), draw(st.integers(0, 255)), props)
        return packets.encode_connack(*connack[:2], v5=v5, properties=props), (wire.CONNACK, connack)
    if choice == "subscribe":
        subscribe = packets.Subscribe(draw(u16s), [(draw(texts), draw(st.integers(0, 255)))], props)
        return (packets.encode_subscribe(subscribe.packet_id, *subscribe.topic_filters[0], v5=v5, properties=props),
                (wire.SUBSCRIBE, subscribe))
    if choice == "suback":
        suback = packets.Suback(draw(u16s), draw(st.lists(st.integers(0, 255), min_size=1, max_size=5)), props)
        return packets.encode_suback(suback.packet_id, suback.reason_codes, v5=v5, properties=props), (wire.SUBACK,
                                                                                                      suback)
    if choice == "ack":
        kind = draw(st.sampled_from([wire.PUBACK, wire.PUBREC, wire.PUBREL, wire.PUBCOMP]))
        ack = packets.Ack(draw(u16s), draw(st.integers(0, 255)) if v5 else 0, props)
        return packets.encode_ack(kind, ack.packet_id, ack.reason_code, v5=v5, properties=props), (kind, ack)
    if choice == "disconnect":
        notice = packets.Ack(0, draw(st.integers(0, 255)) if v5 else 0, props)
        return packets.encode_disconnect(notice.reason_code, v5=v5, properties=props), (wire.DISCONNECT, notice)
    kind = draw(st.sampled_from([wire.PINGREQ, wire.PINGRESP]))
    return (wire.PINGREQ_PACKET if kind == wire.PINGREQ else wire.PINGRESP_PACKET), (kind, None)


@FAST
@given(st.integers(0, wire.MAX_REMAINING_LENGTH))
def test_varint_round_trip(value: int) -> None:
    encoded = wire.encode_varint(value)
    assert len(encoded) <= 4
    assert wire.decode_varint(encoded, 0, len(encoded)) == (value, len(encoded))
    assert wire.decode_varint(encoded, 0, len(encoded) - 1) is None  # cut short: "need more", not a wrong value


def test_varint_limits() -> None:
    assert wire.encode_varint(127) == b"\x7f" and wire.encode_varint(128) == b"\x80\x01"
    assert wire.encode_varint(16_383) == b"\xff\x7f" and wire.encode_varint(268_435_455) == b"\xff\xff\xff\x7f"
    with pytest.raises(MqttProtocolError, match="out of range"):
        wire.encode_varint(268_435_456)
    with pytest.raises(MqttProtocolError, match="longer than 4 bytes"):
        wire.decode_varint(b"\xff\xff\xff\xff\x01", 0, 5)


@FAST
@given(st.booleans(), st.data())
def test_every_packet_round_trips(v5: bool, data: st.DataObject) -> None:
    encoded, expected = data.draw(any_packets(v5))
    assert packets.parse_stream(encoded, v5) == [expected]


@FAST
@given(st.booleans(), st.data(), st.integers(1, 8))
def test_a_stream_cut_anywhere_gives_the_same_packets(v5: bool, data: st.DataObject, count: int) -> None:
    pairs = [data.draw(any_packets(v5)) for _ in range(count)]
    stream = b"".join(encoded for encoded, _ in pairs)
    cut = data.draw(st.integers(0, len(stream)))
    first, used = wire.split_frames(stream[:cut])
    rest = stream[used:]
    second, used_rest = wire.split_frames(rest)
    assert used_rest == len(rest)
    decoded = ([packets.parse_packet(f, stream, s, e, v5) for f, s, e in first]
               + [packets.parse_packet(f, rest, s, e, v5) for f, s, e in second])
    assert decoded == [expected for _, expected in pairs]


@FAST
@given(st.booleans(), st.data())
def test_a_truncated_packet_is_a_clear_error(v5: bool, data: st.DataObject) -> None:
    encoded, _ = data.draw(any_packets(v5))
    cut = data.draw(st.integers(1, len(encoded) - 1))
    assert wire.split_frames(encoded[:cut]) == ([], 0)  # a stream: wait for the rest
    with pytest.raises(MqttProtocolError, match="ends inside a packet"):
        packets.parse_stream(encoded[:cut], v5)  # complete input: an error saying so


@FAST
@given(st.booleans(), st.binary(max_size=400))
def test_garbage_is_decoded_or_refused_with_a_protocol_error(v5: bool, garbage: bytes) -> None:
    try:
        packets.parse_stream(garbage, v5, max_packet_bytes=1 << 20)
    except MqttProtocolError as exc:
        assert str(exc)


@FAST
@given(st.booleans(), st.data())
def test_corrupted_packets_are_decoded_or_refused(v5: bool, data: st.DataObject) -> None:
    encoded, _ = data.draw(any_packets(v5))
    position = data.draw(st.integers(0, len(encoded) - 1))
    corrupted = bytearray(encoded)
    corrupted[position] = data.draw(st.integers(0, 255))
    try:
        packets.parse_stream(bytes(corrupted), v5)
    except MqttProtocolError:
        pass


def test_specific_malformations_are_named() -> None:
    cases = [
        (b"\x00\x00", "invalid fixed header"),                  # packet type 0 is reserved
        (b"\x63\x02\x00\x01", "invalid fixed header"),          # PUBREL must carry flags 0010
        (b"\x36\x05\x00\x01a\x00\x01", "QoS 3"),
        (b"\x32\x05\x00\x01a\x00\x00", "packet id 0"),
        (b"\x30\x04\x00\x05ab", "topic runs past"),
        (b"\x30\x05\x00\x02\xff\xfe", "ends inside a packet"),
        (b"\x30\x04\x00\x02\xff\xfe", "not valid UTF-8"),
        (b"\x20\x03\x00\x00\x05", "properties run past"),
        (b"\x20\x05\x00\x00\x02\x7e\x00", "unknown property 0x7e"),
        (b"\x20\x06\x00\x00\x04\x21\x00\x01", "properties run past"),
        (b"\x20\x09\x00\x00\x06\x21\x00\x01\x21\x00\x02", "given twice"),
        (b"\xf0\x00", "not supported"),
    ]
    for data, message in cases:
        with pytest.raises(MqttProtocolError, match=message):
            packets.parse_stream(data, v5=True)
    with pytest.raises(MqttProtocolError, match="without a reason code"):
        packets.parse_stream(b"\x90\x02\x00\x01", v5=False)
    with pytest.raises(MqttProtocolError, match="over the limit"):
        wire.split_frames(b"\x30\xff\xff\x7f", max_packet_bytes=1000)  # refused from the header alone
    with pytest.raises(MqttProtocolError, match="only together with a user name"):
        packets.encode_connect("c", protocol_level=4, password=b"x")


def test_known_encodings() -> None:
    """Byte-exact against the specifications' layouts (MQTT 3.1.1 section 3, MQTT 5 section 3)."""
    assert packets.encode_connect("tb", protocol_level=4, clean_start=False, keepalive_s=30) == (
        b"\x10\x0e\x00\x04MQTT\x04\x00\x00\x1e\x00\x02tb")
    assert packets.encode_connect("tb", protocol_level=5, keepalive_s=60, username="u", password=b"p",
                                  properties={wire.SESSION_EXPIRY: 3600}) == (
        b"\x10\x1a\x00\x04MQTT\x05\xc0\x00\x3c\x05\x11\x00\x00\x0e\x10\x00\x02tb\x00\x01u\x00\x01p")
    assert packets.encode_subscribe(1, "a/+", 1, v5=True) == b"\x82\x09\x00\x01\x00\x00\x03a/+\x01"
    assert packets.encode_subscribe(1, "a/+", 1, v5=False) == b"\x82\x08\x00\x01\x00\x03a/+\x01"
    assert packets.encode_ack(wire.PUBACK, 0x1234) == b"\x40\x02\x12\x34"
    assert packets.encode_ack(wire.PUBREL, 7) == b"\x62\x02\x00\x07"
    assert packets.encode_publish("t", b"hi", 1, 10, v5=True) == b"\x32\x08\x00\x01t\x00\x0a\x00hi"
    assert packets.encode_disconnect() == b"\xe0\x00"
    assert wire.frame_size(b"\x30\x80\x01") == 131 and wire.frame_size(b"\x30\x80") is None
