"""Property tests over arbitrary schema-shaped events: the pure parts of the sinks never crash or misbehave."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tingbro.sinks.mqtt import topic_for
from tingbro.sinks.ngsi_ld_mapping import entities_for_event, upsert_body
from tingbro.sinks.sql_schema import event_row
from tingbro.sinks.webhook import encode_batch

EVENT_TYPES = ["uplink", "alarm", "join", "status", "ack", "txack", "log", "location", "device_offline",
               "device_online", "command"]
ALARM_NAMES = ["fire", "tilt", "fill_threshold", "lifebuoy_removed", "lamp_failure", "device_offline", "new_one"]
FIELD_NAMES = ["distance_mm", "temperature_c", "battery_mv", "tilted", "tilt", "present", "tamper", "driver_failure",
               "level_pct", "lamp_on", "power_w", "energy_wh", "lamp_failure"]
text = st.text(min_size=1, max_size=20)
number = st.one_of(st.integers(-10**9, 10**9), st.floats(-1e9, 1e9, allow_nan=False))
field_value = st.one_of(number, st.booleans())


@st.composite
def events(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(EVENT_TYPES))
    moment = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
    location = draw(st.one_of(st.none(), st.fixed_dictionaries(
        {"lat": st.floats(-90, 90), "lon": st.floats(-180, 180)})))
    return {
        "id": draw(text) + ":" + kind,
        "type": kind,
        "time": moment.isoformat(),
        "device": {
            "dev_eui": draw(st.from_regex(r"[0-9a-f]{16}", fullmatch=True)),
            "name": draw(st.one_of(st.none(), text)),
            "device_type": draw(st.sampled_from([None, "fill_level", "lifebuoy", "streetlight"])),
            "application_id": draw(st.one_of(st.none(), text)),
            "tenant_id": draw(st.one_of(st.none(), text)),
            "municipality": draw(st.one_of(st.none(), text)),
            "location": location,
            "tags": draw(st.dictionaries(st.sampled_from(["tingbro_asset_id", "tingbro_bin_empty_mm", "x"]), text, max_size=3)),
        },
        "radio": {"f_cnt": draw(st.integers(0, 2**32 - 1)), "f_port": draw(st.integers(1, 223)),
                  "dr": 5, "rssi_dbm": draw(st.integers(-140, 0)), "snr_db": draw(st.floats(-20, 15)),
                  "gateway_count": draw(st.integers(0, 10)), "confirmed": False},
        "message": draw(st.one_of(st.none(), text)),
        "fields": draw(st.dictionaries(st.sampled_from(FIELD_NAMES), field_value, max_size=6)),
        "derived": draw(st.one_of(st.just({}), st.fixed_dictionaries({"fill_ratio": st.floats(-1, 2)}))),
        "alarm": ({"name": draw(st.sampled_from(ALARM_NAMES)), "active": draw(st.booleans())}
                  if kind == "alarm" else None),
        "detail": draw(st.one_of(st.just({}), st.fixed_dictionaries({"battery_level_pct": st.floats(0, 100), "lat": st.floats(-90, 90),
                                                                "lon": st.floats(-180, 180)}))),
    }


@settings(max_examples=80, deadline=None)
@given(st.lists(events(), min_size=1, max_size=5))
def test_ngsi_ld_entities_are_well_formed(batch: list[dict[str, Any]]) -> None:
    body = upsert_body(batch, inline_context=True)
    assert len({item["id"] for item in body}) == len(body)
    json.dumps(body, allow_nan=False)
    for event in batch:
        for item in entities_for_event(event):
            assert item["id"].startswith("urn:ngsi-ld:" + item["type"] + ":")
            assert " " not in item["id"]
            if "fillingLevel" in item:
                assert 0.0 <= item["fillingLevel"]["value"] <= 1.0
            if "location" in item:
                lon, lat = item["location"]["value"]["coordinates"]
                source = event["detail"] if event["type"] == "location" else event["device"]["location"]
                assert (lat, lon) == (source["lat"], source["lon"])
            for name, attribute in item.items():
                if name not in ("id", "type", "@context"):
                    assert attribute["type"] in ("Property", "Relationship", "GeoProperty")


@settings(max_examples=80, deadline=None)
@given(events(), st.text(min_size=1, max_size=10).filter(lambda p: not set(p) & set("+#\0")))
def test_mqtt_topics_have_no_wildcards_and_fixed_depth(event: dict[str, Any], prefix: str) -> None:
    event["device"]["municipality"] = event["device"]["municipality"] and event["device"]["municipality"] + "/+#"
    topic = topic_for(prefix.strip("/") or "p", event)
    assert not set(topic) & set("+#\0")
    tail = topic.split("/")[-(6 if event["type"] == "alarm" else 5):]
    assert tail[3] == event["device"]["dev_eui"]


@settings(max_examples=50, deadline=None)
@given(st.lists(events(), min_size=1, max_size=5))
def test_webhook_body_and_sql_rows(batch: list[dict[str, Any]]) -> None:
    _, body = encode_batch(batch)
    assert json.loads(body)["events"] == json.loads(json.dumps(batch))
    for event in batch:
        row = event_row(event, datetime.now(UTC), postgres=False)
        assert row["time"].endswith("+00:00")
        assert json.loads(row["event"])["id"] == event["id"]
