"""encode/decode: round trips over generated fields, the evolution rule, and fuzzing for stray exceptions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import tingcodec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tingcodec import cbor, examples

ALL = list(examples.all_messages())


@pytest.fixture(params=["pure", "cbor2"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    previous = tingcodec.set_cbor_backend(request.param)
    yield request.param
    tingcodec.set_cbor_backend(previous)


def _int_values(field: dict) -> st.SearchStrategy:
    lo = field["min"] * field["scale"] // field["step"]
    hi = field["max"] * field["scale"] // field["step"]

    def to_value(wire: int) -> int | float:
        num = wire * field["step"]
        return num // field["scale"] if num % field["scale"] == 0 else num / field["scale"]
    return st.integers(lo, hi).map(to_value)


def _item(field: dict) -> st.SearchStrategy:
    subs = {}
    for sub in field["item"]:
        subs[sub["name"]] = st.sampled_from(sub["values"]) if "values" in sub else st.integers(sub["min"], sub["max"])
    return st.fixed_dictionaries(subs)


@st.composite
def message_fields(draw: st.DrawFn) -> tuple[str, dict, dict]:
    device, msg = draw(st.sampled_from(ALL))
    fields: dict = {}
    for field in msg["fields"]:
        if field["optional"] and draw(st.booleans()):
            break  # leave out this and every later optional field
        kind = field["kind"]
        if kind == "int":
            fields[field["name"]] = draw(_int_values(field))
        elif kind == "flags":
            for bit in field["bits"]:
                fields[bit] = draw(st.booleans())
        elif kind == "enum":
            fields[field["name"]] = draw(st.sampled_from(field["values"]))
        else:
            fields[field["name"]] = draw(st.lists(_item(field), min_size=field["min_items"],
                                                  max_size=field["max_items"]))
    return device, msg, fields


@settings(max_examples=300, deadline=None)
@given(message_fields())
def test_round_trip_in_both_backends(case: tuple[str, dict, dict]) -> None:
    device, msg, fields = case
    fport, payload = tingcodec.encode(device, msg["name"], fields)
    assert fport == msg["fport"]
    for name in ("pure", "cbor2"):
        previous = tingcodec.set_cbor_backend(name)
        try:
            assert tingcodec.decode(fport, payload, device, msg["direction"]) == {"message": msg["name"],
                                                                                "fields": fields}
        finally:
            tingcodec.set_cbor_backend(previous)


def test_old_decoder_ignores_appended_fields(backend: str) -> None:
    fport, payload = tingcodec.encode("fill_level", "status", examples.typical("fill_level", "status"))
    items = cbor.loads(payload)
    newer = cbor.dumps([*items, 7, [1, 2]])  # a newer firmware appended two fields
    assert tingcodec.decode(fport, newer, "fill_level") == tingcodec.decode(fport, payload, "fill_level")


def test_new_decoder_accepts_absent_optional_fields(backend: str) -> None:
    fport, payload = tingcodec.encode("streetlight", "set_level", {"level_pct": 40})
    assert payload == bytes.fromhex("811828")
    assert tingcodec.decode(fport, payload, "streetlight", "down")["fields"] == {"level_pct": 40}
    # a later optional field given: the earlier one is filled with its default
    _, payload = tingcodec.encode("streetlight", "set_level", {"level_pct": 40, "fade_ms": 500})
    assert cbor.loads(payload) == [40, 0, 500]


@pytest.mark.parametrize(("device", "message", "fields", "why"), [
    ("toaster", "status", {}, "unknown device type"),
    ("fill_level", "nope", {}, "unknown message"),
    ("fill_level", "status", [], "fields must be an object"),
    ("fill_level", "set_report_interval", {}, "missing field report_interval_s"),
    ("fill_level", "set_report_interval", {"report_interval_s": 59}, "outside 60..86400"),
    ("fill_level", "set_report_interval", {"report_interval_s": 86401}, "outside"),
    ("fill_level", "set_report_interval", {"report_interval_s": "60"}, "expected a number"),
    ("fill_level", "set_report_interval", {"report_interval_s": True}, "expected a number"),
    ("fill_level", "set_report_interval", {"report_interval_s": float("nan")}, "not a finite"),
    ("fill_level", "set_report_interval", {"report_interval_s": 600, "extra": 1}, "unknown field 'extra'"),
    ("lifebuoy", "presence", {"present": 1, "event_seq": 1}, "expected true or false"),
    ("fill_level", "device_info", {"firmware_major": 1, "firmware_minor": 0, "firmware_patch": 0,
                                   "reset_cause": "gremlins", "device_type": "fill_level"}, "not one of"),
    ("streetlight", "set_schedule", {"points": [{}] * 9}, "9 items"),
    ("streetlight", "set_schedule", {"points": [{"level_pct": 101, "time_min": 0, "anchor": "clock",
                                                 "days_mask": 1}]}, "level_pct must be an integer in 0..100"),
    ("streetlight", "set_schedule", {"points": [{"level_pct": 1, "time_min": 0, "anchor": "clock",
                                                 "days_mask": 0}]}, "days_mask"),
])
def test_encode_rejects_bad_fields(device: str, message: str, fields: object, why: str) -> None:
    with pytest.raises(tingcodec.CodecError, match=why):
        tingcodec.encode(device, message, fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("fport", "hex_", "direction", "why"), [
    (10, "8413182b18b4", "up", "malformed CBOR"),            # truncated
    (10, "8413182b18b40000", "up", "trailing"),
    (10, "841813182b18b400", "up", "preferred serialization"),  # non-shortest 19
    (10, "8313182b18b4", "up", "at least 4 required"),
    (10, "a0", "up", "not a CBOR array"),
    (10, "8419ffff182b18b400", "up", "distance_mm"),           # beyond the range
    (10, "84f5182b18b400", "up", "distance_mm"),               # a boolean is not an integer
    (10, "84f93e00182b18b400", "up", "distance_mm"),           # a float is not an integer
    (99, "80", "up", "no uplink message on fPort 99"),
    (10, "8413182b18b400", "sideways", "direction"),
    (20, "8413182b18b400", "up", "no uplink message on fPort 20"),
])
def test_decode_rejects_bad_payloads(backend: str, fport: int, hex_: str, direction: str, why: str) -> None:
    with pytest.raises(tingcodec.CodecError, match=why):
        tingcodec.decode(fport, bytes.fromhex(hex_), "fill_level", direction)


def test_lookups() -> None:
    assert tingcodec.device_type("fill-level") == "fill_level"
    assert tingcodec.message_names("lifebuoy", "down") == ["set_heartbeat_interval", "set_debounce"]
    assert tingcodec.message_for_port("streetlight", 22, "down")["name"] == "set_schedule"
    assert [f["name"] for f in tingcodec.field_specs("lifebuoy", "presence")] == ["state", "event_seq"]
    with pytest.raises(tingcodec.CodecError):
        tingcodec.message_names("lifebuoy", "diagonal")
    assert tingcodec.crc16(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE check value


cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=3)
    | st.binary(max_size=3),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.integers(0, 9), inner, max_size=2),
    max_leaves=12,
)
devices = st.sampled_from([*tingcodec.device_types(), "fill-level", "nope", 3])
ports = st.integers(0, 30) | st.none() | st.text(max_size=2)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ports, st.binary(max_size=20) | cbor_values.map(cbor.dumps), devices, st.sampled_from(["up", "down", "x"]))
def test_decode_fuzz_raises_only_codec_error(backend: str, fport: object, payload: bytes, device: object,
                                             direction: str) -> None:
    try:
        result = tingcodec.decode(fport, payload, device, direction)  # type: ignore[arg-type]
    except tingcodec.CodecError:
        return
    # what is accepted re-encodes to the same bytes (extra appended items aside)
    msg = tingcodec.message_spec(device, result["message"])  # type: ignore[arg-type]
    fields = result["fields"]
    if len(cbor.loads(payload)) == len(msg["fields"]):
        assert tingcodec.encode(device, result["message"], fields) == (fport, payload)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ALL), st.dictionaries(st.text(max_size=12) | st.sampled_from(
    ["level_pct", "distance_mm", "present", "points", "result", "fade_ms", "temperature_c"]), cbor_values,
    max_size=6))
def test_encode_fuzz_raises_only_codec_error(case: tuple[str, dict], fields: dict) -> None:
    device, msg = case
    try:
        tingcodec.encode(device, msg["name"], fields)
    except tingcodec.CodecError:
        pass


def test_clamp_sends_readings_beyond_the_range_as_its_end() -> None:
    reading = {"distance_mm": 7000, "temperature_c": 180.2, "battery_mv": 3300, "tilted": False}
    with pytest.raises(tingcodec.CodecError, match="distance_mm"):
        tingcodec.encode("fill_level", "status", reading)
    fport, payload = tingcodec.encode("fill_level", "status", reading, clamp=True)
    fields = tingcodec.decode(fport, payload, "fill_level")["fields"]
    assert (fields["distance_mm"], fields["temperature_c"]) == (5100, 125)
    with pytest.raises(tingcodec.CodecError, match="not a finite"):
        tingcodec.encode("fill_level", "status", {**reading, "temperature_c": float("inf")}, clamp=True)


@pytest.mark.parametrize("extra_hex", [
    "81" * 17 + "00",      # nested deeper than the CBOR limit
    "f7",                  # undefined: outside the data model
    "c11a514b67b0",        # a date tag
    "9f01ff",              # indefinite length
    "fb3ff8000000000000",  # 1.5 as a double: not the shortest float
])
def test_appended_items_are_held_to_the_same_rules_in_both_backends(backend: str, extra_hex: str) -> None:
    payload = bytes.fromhex("85" + "13182b18b400" + extra_hex)  # fill_level status plus one appended item
    with pytest.raises(tingcodec.CodecError):
        tingcodec.decode(10, payload, "fill_level")


def test_appended_items_in_preferred_form_are_ignored_in_both_backends(backend: str) -> None:
    payload = bytes.fromhex("86" + "13182b18b400" + "f93e00" + "a1616101")  # 1.5 and {"a": 1} appended
    assert tingcodec.decode(10, payload, "fill_level")["fields"]["distance_mm"] == 380
