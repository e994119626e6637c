"""The JSON fast path for `up` events (ingest/uplinkjson.py) against the reference (json.loads +
json_format.ParseDict into `integration.UplinkEvent`, then decode.normalize).

For every body, generated from chirpstack_api protobufs and then perturbed (wrong types, numbers as strings,
nulls, unknown and proto-named keys, missing fields, bad base64, odd timestamps, 64-bit and huge integers,
two oneof members, deep `object` trees, raw-text tweaks), the fast path either declines (`Unusual`, the
reference then decides) or gives exactly the reference's answer: the same events, byte for byte once
serialized, or the same decode failure. It never accepts a body the reference rejects. And it must not
decline ChirpStack's own bodies, or it would be no fast path.
"""

from __future__ import annotations

import json
import time
from typing import Any

import chirp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tingbro import strictjson
from tingbro.codec import tingcodec_decode
from tingbro.config import DecodeConfig
from tingbro.decode import DecodeFailure, normalize
from tingbro.ingest.fastjson import Unusual
from tingbro.ingest.intake import Intake
from tingbro.ingest.parse import ParseError, parse_event
from tingbro.ingest.uplinkjson import uplink_from_json
from tingbro.metrics import Metrics

RECEIVED_AT = 1_763_888_400.25
TAG = "tingbro_device_type"


def reference(body: bytes, fallback: str | None = None) -> tuple[str, Any]:
    try:
        message = parse_event("up", body, "json")
    except ParseError as exc:
        return "rejected", str(exc)
    try:
        return "events", normalize("up", message, RECEIVED_AT, tingcodec_decode, TAG, fallback)
    except DecodeFailure as exc:
        return "failure", str(exc)


def fast(body: bytes, fallback: str | None = None) -> tuple[str, Any] | None:
    try:
        return "events", uplink_from_json(body, RECEIVED_AT, tingcodec_decode, TAG, fallback)
    except Unusual:
        return None
    except DecodeFailure as exc:
        return "failure", str(exc)


def same(body: bytes, fallback: str | None = None) -> bool:
    """True when the fast path answered (and agreed); False when it declined. Fails on any disagreement."""
    expected, got = reference(body, fallback), fast(body, fallback)
    if got is None:
        return False
    assert got[0] == expected[0], (body, got, expected)
    if got[0] == "events":
        assert strictjson.dumps(got[1]) == strictjson.dumps(expected[1]), body  # types too: 1 vs 1.0 vs true
    else:
        assert got == expected
    return True


# --- generated ChirpStack events ------------------------------------------------------------------------

float32ish = st.floats(-200, 200, allow_nan=False, width=64)
decimals = st.integers(-20_000, 20_000).map(lambda milli: milli / 1000)
text = st.text(max_size=12)


@st.composite
def chirpstack_uplinks(draw: st.DrawFn) -> dict[str, Any]:
    device_type = draw(st.sampled_from(["fill_level", "lifebuoy", "streetlight", None, "Fill-Level"]))
    message = {"fill_level": "status", "lifebuoy": "presence"}.get(device_type or "", None)
    tags = draw(st.dictionaries(st.sampled_from(["tingbro_bin_empty_mm", "tingbro_bin_full_mm",
                                                 "tingbro_municipality", "tingbro_latitude", "tingbro_longitude",
                                                 "x"]), st.sampled_from(["1400", "200", "aarhus", "56.1",
                                                                         "nan", "", "-3"]), max_size=4))
    if message:
        up = chirp.uplink(device_type=device_type if device_type != "Fill-Level" else None, message=message,
                          f_cnt=draw(st.integers(0, 2**32 - 1)), gateways=draw(st.integers(0, 3)), tags=tags)
        if device_type == "Fill-Level":
            up.device_info.tags["tingbro_device_type"] = device_type
    else:
        up = chirp.uplink(device_type=device_type, payload=draw(st.binary(max_size=12)),
                          f_port=draw(st.integers(0, 255)), gateways=draw(st.integers(0, 3)), tags=tags)
    up.dr = draw(st.integers(0, 15))
    up.time.nanos = draw(st.integers(0, 999_999_999))
    up.time.seconds = draw(st.integers(0, 4_000_000_000))
    up.device_info.device_name = draw(text)
    up.device_info.dev_eui = draw(st.sampled_from(["0102030405060708", "ABCDEF0123456789", ""]))
    for rx in up.rx_info:
        rx.rssi = draw(st.integers(-140, 10))
        rx.snr = draw(float32ish)
    document = json.loads(chirp.chirpstack_json(up))
    for rx in document.get("rxInfo", []):
        rx["snr"] = draw(st.one_of(st.just(rx.get("snr", 0.0)), decimals))  # as a gateway reports it: 7.805
    return document


# --- perturbations -----------------------------------------------------------------------------------------

PATHS = [
    ("deduplicationId",), ("time",), ("deviceInfo",), ("deviceInfo", "devEui"), ("deviceInfo", "deviceName"),
    ("deviceInfo", "tags"), ("deviceInfo", "tags", "tingbro_device_type"), ("deviceInfo", "deviceClassEnabled"),
    ("deviceInfo", "tenantId"), ("devAddr",), ("adr",), ("dr",), ("fCnt",), ("fPort",), ("confirmed",),
    ("data",), ("object",), ("rxInfo",), ("rxInfo", 0), ("rxInfo", 0, "rssi"), ("rxInfo", 0, "snr"),
    ("rxInfo", 0, "gwTime"), ("rxInfo", 0, "nsTime"), ("rxInfo", 0, "timeSinceGpsEpoch"),
    ("rxInfo", 0, "location"), ("rxInfo", 0, "location", "latitude"), ("rxInfo", 0, "location", "accuracy"),
    ("rxInfo", 0, "metadata"), ("rxInfo", 0, "crcStatus"), ("rxInfo", 0, "context"), ("rxInfo", 0, "uplinkId"),
    ("txInfo",), ("txInfo", "frequency"), ("txInfo", "modulation"), ("txInfo", "modulation", "fsk"),
    ("txInfo", "modulation", "lora", "codeRate"), ("txInfo", "modulation", "lora", "bandwidth"),
    ("relayRxInfo",), ("relayRxInfo", "snr"), ("joinServerContext",), ("regionConfigId",),
    # proto field names (legal in proto3 JSON), unknown keys, extension syntax
    ("f_cnt",), ("dev_eui",), ("deviceInfo", "dev_eui"), ("rxInfo", 0, "gw_time"), ("deduplication_id",),
    ("fieldFromTheFuture",), ("[tingbro.ext]",), ("deviceInfo", "[x]"), ("txInfo", "modulation", "lr_fhss"),
]
timestamps = st.one_of(
    st.sampled_from(["2026-11-23T09:00:00Z", "2026-11-23T09:00:00.5+02:00", "2026-11-23t09:00:00Z",
                     "2026-11-23T09:00:60Z", "2026-02-30T09:00:00Z", "0001-01-01T00:00:00+01:00",
                     "0001-01-01T00:30:00-00:10", "9999-12-31T23:59:59-01:00", "2026-11-23T09:00:00.1234567891Z",
                     "2026-11-23T09:00:00.Z", "2026-11-23T09:00:00", "2026-11-23 09:00:00Z",
                     "2026-11-23T09:00:00+99:99", "2026-11-23T09:00:00+5:00", "2026-11-23T9:00:00Z",
                     "1970-01-01T00:00:00Z", "2026-11-23T09:00:00.000000001-00:00", "2026-11-23T24:00:00Z",
                     "2028-02-29T12:00:00Z", "2100-02-29T12:00:00Z", "2000-02-29T12:00:00Z", "2027-02-29T00:00:00Z",
                     "2026-04-31T00:00:00Z", "2026-12-31T23:59:59.999999999+00:00", "0002-01-01T00:00:00+99:00",
                     "9998-12-31T23:59:59-99:00", "0000-01-01T00:00:00Z", "2026-13-01T00:00:00Z",
                     "2026-11-23T09:00:00.1\n", "2026-11-23T09:00:00Z\n"]),
    st.builds(lambda seconds, fraction, offset: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
              + fraction + offset, st.integers(-62135596800, 253402300799),
              st.sampled_from(["", ".1", ".123456", ".999999999", ".0000000001"]),
              st.sampled_from(["Z", "+00:00", "-07:30", "+14:00", "-23:59"])),
)
special_values = st.sampled_from([
    None, True, False, 0, -1, 1, 255, 256, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53 + 1, 2**63, 2**64, -(2**63) - 1,
    10**30, 5.0, -0.0, 1.5, 1e39, -1e39, 3.4028235e38, 1e-46, 1e308, "5", "1e2", "-3", " 5", "5.5", "NaN", "Infinity",
    "nan", "", "qg==", "qg", "-_8=", "q g==", "qg===", "AQID", "AQI=", "CLASS_B", "CR_4_5", "CRC_OK", "1s", "-1.5s",
    "1.0000000001s", "315576000001s", "99999999999.999999999s", "-0.5s", "1.s", "+1s", "1e3s", "x", [], [1], [None], {}, {"a": 1}, {"lora": {}}, {"lora": {}, "fsk": {}},
    {"lora": None, "fsk": {}}, {"rssi": 1}, {"k": "v"}, {"k": 1}, {"k": None}, [{}], [{"rssi": "1"}],
])
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | text,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                           max_leaves=8)


def put(document: Any, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    target = document
    for step in path[:-1]:
        try:
            target = target[step]
        except (KeyError, IndexError, TypeError):
            return
    if not isinstance(target, dict | list):
        return
    last = path[-1]
    if isinstance(target, list) and (not isinstance(last, int) or last >= len(target)):
        return
    if isinstance(target, dict) and not isinstance(last, str):
        return
    if delete:
        if isinstance(target, dict):
            target.pop(last, None)
    else:
        target[last] = value


mutations = st.lists(st.tuples(st.sampled_from(PATHS), st.one_of(special_values, timestamps, json_values, decimals),
                               st.booleans()), max_size=3)
RAW_TWEAKS = [
    lambda body: body,
    lambda body: body.replace(b'"fCnt":', b'"fCnt":"x","fCnt":', 1),   # duplicate key, last one wins
    lambda body: body.replace(b'"fCnt":', b'"fCnt":7,"fCnt":', 1),
    lambda body: body.replace(b'"devAddr":"', b'"devAddr":"\\ud800', 1),  # a lone surrogate
    lambda body: body.replace(b'"dr":', b'"dr":1e400,"x":', 1),
    lambda body: body.replace(b'"deviceName":"', b'"deviceName":"\\u00e6\\n', 1),
    lambda body: body.replace(b'"devAddr"', b'"dev\\u0041ddr"', 1),  # an escaped key
    lambda body: body.replace(b'"fCnt"', b'"f\\u005fcnt"', 1),
    lambda body: body.replace(b'"lora":', b'"fsk":{},"\\u006cora":', 1),  # two oneof members, one key escaped
    lambda body: body.replace(b'{', b'{"[a.b]":1,', 1),
    lambda body: b" " + body + b"\n",
    lambda body: body + b"x",
    lambda body: body.replace(b"}", b"", 1),
    lambda body: body.replace(b'"confirmed":false', b'"confirmed":false,"object":' + b'[' * 60 + b']' * 60, 1),
    lambda body: body.replace(b'"confirmed":false', b'"confirmed":false,"object":{"a":' + b'[' * 60 + b']' * 60
                              + b'}', 1),
    lambda body: body.replace(b'"confirmed":false', b'"confirmed":false,"object":{"a":123456789012345678901234}', 1),
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=chirpstack_uplinks(), changes=mutations, tweak=st.sampled_from(RAW_TWEAKS),
       fallback=st.sampled_from([None, "fill_level"]))
def test_fast_path_agrees_with_json_format_or_declines(document: dict[str, Any], changes: list[Any], tweak: Any,
                                                       fallback: str | None) -> None:
    for path, value, delete in changes:
        put(document, path, value, delete)
    body = tweak(json.dumps(document, separators=(",", ":")).encode())
    same(body, fallback)


@settings(max_examples=150, deadline=None)
@given(document=chirpstack_uplinks())
def test_chirpstack_bodies_take_the_fast_path(document: dict[str, Any]) -> None:
    body = json.dumps(document, separators=(",", ":")).encode()
    assert same(body), "the fast path declined an ordinary ChirpStack uplink"


@pytest.mark.parametrize("body", [chirp.DOCS_UP_EXAMPLE, chirp.chirpstack_json(chirp.uplink(message="alarm")),
                                  chirp.chirpstack_json(chirp.uplink(device_type=None, payload=b"\x01", f_port=3))])
def test_documented_examples_take_the_fast_path(body: bytes) -> None:
    assert same(body) and same(body, "lifebuoy")


def test_intake_answers_alike_on_both_paths() -> None:
    """Intake.convert: the same events whether a body takes the fast path or not; the same rejections."""
    intake = Intake(tingcodec_decode, DecodeConfig(), Metrics())
    up = chirp.uplink(message="alarm", dedup_id="d-1")
    plain = chirp.chirpstack_json(up)
    unusual = plain.replace(b'"fCnt":1', b'"fCnt":"1"')  # a number as a string: json_format's job
    assert fast(unusual) is None and fast(plain) is not None
    events_fast, _ = intake.convert("http", "up", plain, "application/json", RECEIVED_AT)
    events_slow, _ = intake.convert("http", "up", unusual, "application/json", RECEIVED_AT)
    assert strictjson.dumps(events_fast) == strictjson.dumps(events_slow)
    for bad in (b'{"fCnt": -1}', b'{"time": "yesterday"}', b"[]", b'{"data": 5}', b'{"[x.y]": 1}'):
        with pytest.raises(ParseError) as from_intake:
            intake.convert("http", "up", bad, "application/json", RECEIVED_AT)
        assert reference(bad) == ("rejected", str(from_intake.value))
    undecodable = chirp.chirpstack_json(chirp.uplink(payload=b"\x01\x02", f_port=10))
    events, letters = intake.convert("mqtt", "up", undecodable, "application/json", RECEIVED_AT)
    assert events == [] and letters[0]["reason"] == reference(undecodable)[1]
    assert intake.metrics.value("tingbro_events_in_total", source="mqtt", event="up") == 1

