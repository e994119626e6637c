"""NGSI-LD: the pure event -> entity mapping, and the sink against a local broker stand-in on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from sinkhelp import Receiver, lifebuoy_alarm, make_event, run
from tingbro.sinks import PermanentSinkError, TransientSinkError, build_sink
from tingbro.sinks.ngsi_ld_mapping import CORE_CONTEXT, entities_for_event, ngsi_time, upsert_body

AT = "2026-11-23T09:00:00.123Z"


def by_id(entities: list[dict]) -> dict[str, dict]:
    return {item["id"]: item for item in entities}


def test_time_is_utc_milliseconds_z() -> None:
    assert ngsi_time("2026-11-23T10:00:00.123456+01:00") == AT
    assert ngsi_time("2026-11-23T09:00:00+00:00") == "2026-11-23T09:00:00.000Z"


def test_fill_level_uplink_is_waste_container_and_device() -> None:
    event = make_event(1, device={"tags": {"tingbro_asset_id": "bin 42/a"}})
    entities = by_id(entities_for_event(event))
    bin_entity = entities["urn:ngsi-ld:WasteContainer:aarhus:bin-42-a"]
    assert bin_entity["type"] == "WasteContainer"
    assert bin_entity["fillingLevel"] == {"type": "Property", "value": 0.72, "observedAt": AT, "unitCode": "C62"}
    assert bin_entity["temperature"] == {"type": "Property", "value": 21.5, "observedAt": AT, "unitCode": "CEL"}
    assert bin_entity["refDevice"] == {"type": "Relationship", "object": ["urn:ngsi-ld:Device:0102030405060708"]}
    assert bin_entity["location"] == {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [10.21, 56.15]}}
    assert "status" not in bin_entity  # no tilt field in this uplink: do not invent a status
    device = entities["urn:ngsi-ld:Device:0102030405060708"]
    assert device["controlledProperty"]["value"] == ["fillingLevel", "temperature"]
    assert device["controlledAsset"]["object"] == ["urn:ngsi-ld:WasteContainer:aarhus:bin-42-a"]
    assert device["rssi"]["value"] == -80
    assert device["batteryVoltage"]["value"] == 3.6
    assert device["dateLastValueReported"]["value"] == {"@type": "DateTime", "@value": AT}


def test_fill_ratio_clamped_missing_and_tilt() -> None:
    over = by_id(entities_for_event(make_event(1, derived={"fill_ratio": 1.3})))
    assert over["urn:ngsi-ld:WasteContainer:aarhus:0102030405060708"]["fillingLevel"]["value"] == 1.0
    unknown = by_id(entities_for_event(make_event(1, derived={}, fields={"tilted": True},
                                                  device={"municipality": None, "location": None})))
    container = unknown["urn:ngsi-ld:WasteContainer:0102030405060708"]
    assert "fillingLevel" not in container and "location" not in container
    assert container["status"]["value"] == "dropped"


@pytest.mark.parametrize(("level", "lamp_on", "state", "ratio"), [
    (0, True, "off", 0.0), (100, True, "on", 1.0), (60, True, "low", 0.6), (60, False, "off", 0.0)])
def test_streetlight_uplink(level: int, lamp_on: bool, state: str, ratio: float) -> None:
    event = make_event(1, device={"device_type": "streetlight", "tags": {"tingbro_asset_id": "SL-1187"}}, message="status",
                       fields={"level_pct": level, "lamp_on": lamp_on, "power_w": 41.8, "energy_wh": 1234567,
                               "lamp_failure": False}, derived={})
    light = by_id(entities_for_event(event))["urn:ngsi-ld:Streetlight:aarhus:SL-1187"]
    assert light["powerState"]["value"] == state
    assert light["illuminanceLevel"]["value"] == ratio
    assert light["powerConsumption"] == {"type": "Property", "value": 41.8, "observedAt": AT, "unitCode": "WTT"}
    assert light["lifetimePowerConsumption"]["value"] == 1234.567
    assert light["lifetimePowerConsumption"]["unitCode"] == "KWH"
    assert light["status"]["value"] == "ok"


def test_streetlight_fault_uplink_reports_status_not_the_commanded_level() -> None:
    event = make_event(1, device={"device_type": "streetlight"}, message="lamp_failure", derived={},
                       fields={"lamp_failure": False, "driver_failure": True, "supply_failure": False,
                               "level_pct": 100, "power_w": 3})
    light = by_id(entities_for_event(event))["urn:ngsi-ld:Streetlight:aarhus:0102030405060708"]
    assert light["status"]["value"] == "defectiveLamp"
    assert "powerState" not in light and "illuminanceLevel" not in light
    assert light["powerConsumption"]["value"] == 3


def test_lifebuoy_alarm_is_alert_and_device_value() -> None:
    raised = by_id(entities_for_event(lifebuoy_alarm(1, active=True)))
    alert = raised["urn:ngsi-ld:Alert:70b3d57ed00000b7:lifebuoy_removed"]
    assert alert["type"] == "Alert"
    assert (alert["category"]["value"], alert["severity"]["value"]) == ("security", "high")
    assert alert["alertSource"] == {"type": "Relationship", "object": "urn:ngsi-ld:Device:70b3d57ed00000b7"}
    assert alert["dateIssued"]["value"] == {"@type": "DateTime", "@value": AT}
    assert "validFrom" in alert and "validTo" not in alert
    assert alert["data"]["value"]["active"] is True
    assert raised["urn:ngsi-ld:Device:70b3d57ed00000b7"]["value"]["value"] == "absent"
    cleared = by_id(entities_for_event(lifebuoy_alarm(2, active=False)))
    alert = cleared["urn:ngsi-ld:Alert:70b3d57ed00000b7:lifebuoy_removed"]
    assert "validTo" in alert and alert["severity"]["value"] == "informational"
    assert cleared["urn:ngsi-ld:Device:70b3d57ed00000b7"]["value"]["value"] == "present"


def test_lifebuoy_uplink_presence_and_other_alarms() -> None:
    uplink = make_event(1, device={"device_type": "lifebuoy"}, fields={"present": True, "battery_mv": 3000},
                        derived={})
    device = by_id(entities_for_event(uplink))["urn:ngsi-ld:Device:0102030405060708"]
    assert device["value"]["value"] == "present"
    assert device["controlledAsset"]["object"] == ["urn:ngsi-ld:Lifebuoy:aarhus:0102030405060708"]
    fire = make_event(2, type="alarm", alarm={"name": "fire", "active": True})
    entities = by_id(entities_for_event(fire))
    assert entities["urn:ngsi-ld:WasteContainer:aarhus:0102030405060708"]["status"]["value"] == "burning"
    assert entities["urn:ngsi-ld:Alert:0102030405060708:fire"]["severity"]["value"] == "critical"


def test_other_event_types() -> None:
    detail = {"margin_db": 7, "external_power_source": False, "battery_level_unavailable": False,
              "battery_level_pct": 87.5}
    (device,) = entities_for_event(make_event(1, type="status", detail=detail))
    assert device["batteryLevel"]["value"] == 0.875
    (mains,) = entities_for_event(make_event(1, type="status", detail={**detail, "external_power_source": True}))
    assert "batteryLevel" not in mains
    (moved,) = entities_for_event(make_event(1, type="location", detail={"lat": 56.2, "lon": 10.4}))
    assert moved["location"]["value"]["coordinates"] == [10.4, 56.2]
    (offline,) = entities_for_event(make_event(2, type="device_offline"))
    assert offline["deviceState"]["value"] == "offline"
    assert entities_for_event(make_event(3, type="log")) == []


def test_batch_merges_entities_and_adds_context() -> None:
    body = upsert_body([make_event(1, derived={"fill_ratio": 0.5}), make_event(2, derived={"fill_ratio": 0.6})],
                       inline_context=True)
    assert [item["type"] for item in body] == ["Device", "WasteContainer"]  # one entry per entity id
    assert body[1]["fillingLevel"]["value"] == 0.6  # the later event wins
    assert body[1]["@context"][-1] == CORE_CONTEXT
    assert "WasteManagement" in body[1]["@context"][0]
    assert all("@context" not in item for item in upsert_body([make_event(1)], inline_context=False))


def test_sink_posts_batch_upsert_with_options_update() -> None:
    events = [make_event(1), lifebuoy_alarm(2)]

    async def scenario() -> None:
        async with Receiver(default_status=201) as broker:
            sink = build_sink("broker", "ngsi_ld", {"url": broker.url + "/", "tenant": "aarhus", "token": "t0k"})
            await sink.start()
            await sink.deliver(events)
            await sink.close()
            (request,) = broker.requests
            assert (request.method, request.path, request.query) == (
                "POST", "/ngsi-ld/v1/entityOperations/upsert", {"options": "update"})
            assert request.headers["Content-Type"] == "application/ld+json"
            assert "Link" not in request.headers
            assert request.headers["NGSILD-Tenant"] == "aarhus"
            assert request.headers["Authorization"] == "Bearer t0k"
            assert json.loads(request.body) == upsert_body(events, inline_context=True)

    run(scenario())


def test_sink_link_header_mode_and_skips_empty() -> None:
    context = "https://example.org/tingbro-context.jsonld"

    async def scenario() -> None:
        async with Receiver(default_status=204) as broker:
            sink = build_sink("broker", "ngsi_ld", {"url": broker.url, "context_url": context})
            await sink.deliver([make_event(1, type="log")])  # maps to nothing: no request
            assert broker.requests == []
            await sink.deliver([make_event(1)])
            await sink.close()
            (request,) = broker.requests
            assert request.headers["Content-Type"] == "application/json"
            assert request.headers["Link"] == (
                f'<{context}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"')
            assert "NGSILD-Tenant" not in request.headers
            assert all("@context" not in item for item in json.loads(request.body))

    run(scenario())


@pytest.mark.parametrize(("status", "error"), [(500, TransientSinkError), (503, TransientSinkError),
                                               (400, PermanentSinkError), (207, PermanentSinkError)])
def test_sink_error_classification(status: int, error: type[Exception]) -> None:
    batch_result = {"success": ["urn:ngsi-ld:Device:0102030405060708"], "errors": [
        {"entityId": "urn:ngsi-ld:WasteContainer:aarhus:0102030405060708",
         "error": {"type": "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", "title": "bad fillingLevel"}}]}

    async def scenario() -> None:
        async with Receiver(default_status=status, response_body=json.dumps(batch_result).encode()) as broker:
            sink = build_sink("broker", "ngsi_ld", {"url": broker.url})
            with pytest.raises(error) as caught:
                await sink.deliver([make_event(1)])
            await sink.close()
            if status == 207:
                assert "1 entities rejected" in str(caught.value)
                assert "bad fillingLevel" in str(caught.value)

    run(scenario())
