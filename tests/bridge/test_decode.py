"""ChirpStack events (built from chirpstack_api protobufs, serialized as ChirpStack does) -> normalized events."""

from __future__ import annotations

import json
import time
from importlib import resources

import chirp
import jsonschema
import pytest
from chirpstack_api import common, integration
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from tingbro.codec import tingcodec_decode
from tingbro.decode import DecodeFailure, fill_ratio, normalize
from tingbro.ingest.parse import EVENT_CLASSES, ParseError, encoding_for, parse_event

SCHEMA = json.loads(resources.files("tingbro").joinpath("schema/event.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def run(event_name: str, body: bytes, encoding: str = "json", fallback: str | None = None) -> list[dict]:
    events = normalize(event_name, parse_event(event_name, body, encoding), time.time(), tingcodec_decode,
                       fallback_device_type=fallback)
    for event in events:
        VALIDATOR.validate(event)
        json.dumps(event, allow_nan=False)
    return events


def test_schema_is_valid_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_uplink_json_and_protobuf_give_the_same_event() -> None:
    up = chirp.uplink(f_cnt=42, tags={"tingbro_bin_empty_mm": "1400", "tingbro_bin_full_mm": "200",
                                      "tingbro_municipality": "aarhus", "tingbro_latitude": "56.15",
                                      "tingbro_longitude": "10.21"})
    from_json = run("up", chirp.chirpstack_json(up))
    assert from_json == run("up", chirp.protobuf(up), "protobuf")
    [event] = from_json
    assert event["id"] == up.deduplication_id + ":up"
    assert event["type"] == "uplink" and event["message"] == "status"
    assert event["time"] == "2026-11-23T09:00:00.123456+00:00"
    assert event["fields"] == {"distance_mm": 380, "temperature_c": 21.5, "battery_mv": 3600, "tilted": False,
                               "no_echo": False, "blind_zone": False}
    assert event["derived"] == {"fill_ratio": round((1400 - 380) / 1200, 4)}
    assert event["radio"] == {"f_cnt": 42, "f_port": 10, "dr": 5, "rssi_dbm": -93, "snr_db": 3.5,
                              "gateway_count": 2, "confirmed": False}
    device = event["device"]
    assert device["dev_eui"] == "0102030405060708" and device["device_type"] == "fill_level"
    assert device["municipality"] == "aarhus" and device["location"] == {"lat": 56.15, "lon": 10.21}
    assert device["application_id"] == chirp.APP_ID and device["tenant_id"] == chirp.TENANT_ID


def test_alarms_are_their_own_events() -> None:
    fire = run("up", chirp.chirpstack_json(chirp.uplink(message="alarm", dedup_id="d1")))
    assert [(e["id"], e["type"], e["alarm"]) for e in fire] == [
        ("d1:up", "uplink", None),
        ("d1:alarm:fire", "alarm", {"name": "fire", "active": True}),
        ("d1:alarm:fill_threshold", "alarm", {"name": "fill_threshold", "active": True})]
    removed = run("up", chirp.chirpstack_json(chirp.uplink(device_type="lifebuoy", message="presence", dedup_id="d2")))
    assert removed[1]["alarm"] == {"name": "lifebuoy_removed", "active": True}
    back = chirp.uplink(device_type="lifebuoy", message="presence", dedup_id="d3",
                        fields={"present": True, "tamper": False, "event_seq": 4})
    assert run("up", chirp.chirpstack_json(back))[1]["alarm"] == {"name": "lifebuoy_removed", "active": False}
    lamp = chirp.uplink(device_type="streetlight", message="lamp_failure", dedup_id="d4",
                        fields={"lamp_failure": True, "driver_failure": False, "supply_failure": False,
                                "level_pct": 80, "power_w": 0})
    assert [e["alarm"] for e in run("up", chirp.chirpstack_json(lamp))] == [
        None, {"name": "lamp_failure", "active": True}]


def test_device_type_tag_fallback_and_unknown() -> None:
    untagged = chirp.uplink(device_type=None, payload=bytes.fromhex("8413182b18b400"), f_port=10)
    [unknown] = run("up", chirp.chirpstack_json(untagged))
    assert unknown["device"]["device_type"] is None and unknown["message"] is None
    assert unknown["detail"]["data_base64"] == "hBMYKxi0AA=="
    [decoded] = run("up", chirp.chirpstack_json(untagged), fallback="fill_level")
    assert decoded["device"]["device_type"] == "fill_level" and decoded["fields"]["distance_mm"] == 380
    dashed = chirp.uplink(device_type="fill-level")
    assert run("up", chirp.chirpstack_json(dashed))[0]["device"]["device_type"] == "fill_level"


def test_mac_only_uplink_and_undecodable_payload() -> None:
    [mac] = run("up", chirp.chirpstack_json(chirp.uplink(payload=b"", f_port=0)))
    assert mac["message"] is None and mac["radio"]["f_port"] == 0
    with pytest.raises(DecodeFailure, match="fill_level payload on fPort 10 not decodable"):
        run("up", chirp.chirpstack_json(chirp.uplink(payload=b"\xff\x00", f_port=10)))


def test_fill_ratio_geometry() -> None:
    tags = {"tingbro_bin_empty_mm": "1000", "tingbro_bin_full_mm": "100"}
    assert fill_ratio({"distance_mm": 1000}, tags) == 0.0
    assert fill_ratio({"distance_mm": 100}, tags) == 1.0
    assert fill_ratio({"distance_mm": 40}, tags) == 1.0
    assert fill_ratio({"distance_mm": 2000}, tags) == 0.0
    assert fill_ratio({"distance_mm": 550}, tags) == 0.5
    assert fill_ratio({"distance_mm": 550, "no_echo": True}, tags) is None
    assert fill_ratio({"distance_mm": 550}, {}) is None
    assert fill_ratio({"distance_mm": 550}, {"tingbro_bin_empty_mm": "nan"}) is None


def test_documented_examples_parse_and_normalize() -> None:
    [up] = run("up", chirp.DOCS_UP_EXAMPLE)
    assert up["id"] == "3ac7e3c4-4401-4b8d-9386-a5c902f9202d:up" and up["radio"]["rssi_dbm"] == -36
    assert up["time"] == "2022-07-18T09:34:15.775023+00:00"
    [log] = run("log", chirp.DOCS_LOG_EXAMPLE)
    assert log["type"] == "log" and log["detail"]["code"] == "UPLINK_MIC" and log["id"].startswith("log:")
    assert run("log", chirp.DOCS_LOG_EXAMPLE)[0]["id"] == log["id"]  # stable: repeats are absorbed
    [txack] = run("txack", chirp.DOCS_TXACK_EXAMPLE)
    assert txack["id"] == "42cb6459-a640-46ec-9623-bdff39dc4736:txack:3461958127"
    assert txack["detail"]["power_dbm"] == 14 and txack["device"]["dev_eui"] == ""


def test_typed_events_from_protobufs() -> None:
    info = chirp.device_info("0102030405060708", "streetlight", tingbro_municipality="odense")
    join = integration.JoinEvent(deduplication_id="j1", device_info=info, dev_addr="01020304",
                                 region_config_id="eu868")
    status = integration.StatusEvent(deduplication_id="s1", device_info=info, margin=7, battery_level=88.3)
    ack = integration.AckEvent(deduplication_id="a1", device_info=info, queue_item_id="q1", acknowledged=True,
                               f_cnt_down=3)
    location = integration.LocationEvent(deduplication_id="l1", device_info=info,
                                         location=common.Location(latitude=55.4, longitude=10.39, altitude=12))
    cases = {"join": (join, "j1:join"), "status": (status, "s1:status"), "ack": (ack, "q1:ack"),
             "location": (location, "l1:location")}
    for name, (message, expected_id) in cases.items():
        message.time.FromJsonString("2026-11-23T10:00:00.5Z")
        [event] = run(name, chirp.chirpstack_json(message))
        assert event["id"] == expected_id and event["type"] == name
        assert event["device"]["municipality"] == "odense" and event["radio"]["f_cnt"] is None
        assert run(name, chirp.protobuf(message), "protobuf") == [event]
    assert run("status", chirp.chirpstack_json(status))[0]["detail"]["battery_level_pct"] == 88.3
    assert run("ack", chirp.chirpstack_json(ack))[0]["detail"] == {
        "queue_item_id": "q1", "acknowledged": True, "f_cnt_down": 3}


def test_unknown_fields_are_ignored_and_bad_bodies_rejected() -> None:
    event = json.loads(chirp.chirpstack_json(chirp.uplink()))
    event["fieldFromTheFuture"] = {"x": 1}
    event["deviceInfo"]["newInfo"] = "y"
    assert run("up", json.dumps(event).encode())[0]["fields"]["distance_mm"] == 380
    for body in (b"[]", b'{"fCnt": "many"}', b"\xff\xfe", b'{"time": "yesterday"}'):
        with pytest.raises(ParseError):
            parse_event("up", body, "json")
    with pytest.raises(ParseError, match="unknown event type"):
        parse_event("integration", b"{}", "json")
    with pytest.raises(ParseError, match="unsupported content type"):
        encoding_for("text/html", b"{}")
    assert encoding_for(None, b' {"a":1}') == "json" and encoding_for(None, b"\x0a\x01") == "protobuf"


@settings(max_examples=60, deadline=None, database=None)
@given(f_cnt=st.integers(0, 2**32 - 1), dr=st.integers(0, 15), gateways=st.integers(0, 4),
       name=st.text(max_size=30), tags=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
       nanos=st.integers(0, 999_999_999), data=st.binary(max_size=40))
def test_fast_json_path_equals_json_format(f_cnt: int, dr: int, gateways: int, name: str, tags: dict[str, str],
                                           nanos: int, data: bytes) -> None:
    """The fast path is an optimisation only: on ChirpStack-shaped JSON it must equal json_format.Parse."""
    up = chirp.uplink(f_cnt=f_cnt, gateways=gateways, payload=data, f_port=7, tags=tags)
    up.dr, up.device_info.device_name, up.time.nanos = dr, name, nanos
    body = chirp.chirpstack_json(up)
    reference = json_format.Parse(body, integration.UplinkEvent(), ignore_unknown_fields=True)
    assert parse_event("up", body, "json") == reference == up


def test_every_event_class_is_known() -> None:
    assert set(EVENT_CLASSES) == {"up", "join", "ack", "txack", "log", "status", "location"}


def test_a_log_event_with_an_enum_number_this_api_does_not_know_is_kept() -> None:
    """Open enums accept any number (a newer ChirpStack may add levels): the detail carries the number."""
    [event] = run("log", chirp.DOCS_LOG_EXAMPLE.replace(b'"level":"ERROR"', b'"level":118'))
    assert event["detail"]["level"] == "118" and event["detail"]["code"] == "UPLINK_MIC"
