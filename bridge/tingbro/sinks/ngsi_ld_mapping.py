"""Pure mapping: one normalized event -> NGSI-LD entities (normalized form) using FIWARE Smart Data Models.

- every device: `Device` (urn:ngsi-ld:Device:<dev_eui>) with rssi, battery, dateLastValueReported, deviceState;
- fill_level: `WasteContainer` with fillingLevel as a ratio 0..1 (from derived.fill_ratio), temperature, status;
- streetlight: `Streetlight` with powerState (0 -> off, 100 -> on, else low), illuminanceLevel 0..1,
  powerConsumption (W), lifetimePowerConsumption (kWh), status (ok / defectiveLamp);
- lifebuoy: the `Device` carries value "present" / "absent" and controlledAsset -> urn:ngsi-ld:Lifebuoy:<asset>;
- every alarm: an `Alert` per device and alarm name (urn:ngsi-ld:Alert:<dev_eui>:<alarm>), plus the asset's
  status (tilt -> dropped, fire -> burning, lamp_failure -> defectiveLamp, lifebuoy_removed -> absent).
Asset ids use the device tag `tingbro_asset_id` when present, else the DevEUI, prefixed by the municipality.
Field names are the codec catalogue's (`codecs/README.md`): `tilted`, `present`, `level_pct`, `lamp_on`, ...
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
_SDM = "https://raw.githubusercontent.com/smart-data-models/dataModel.%s/master/context.jsonld"
DOMAIN_CONTEXTS = {
    "WasteContainer": _SDM % "WasteManagement",
    "Streetlight": _SDM % "Streetlighting",
    "Device": _SDM % "Device",
    "Alert": _SDM % "Alert",
}

ASSET_TYPES = {"fill_level": "WasteContainer", "streetlight": "Streetlight", "lifebuoy": "Lifebuoy"}
CONTROLLED_PROPERTIES = {
    "fill_level": ["fillingLevel", "temperature"],
    "streetlight": ["light", "power", "energy"],
    "lifebuoy": ["occupancy"],
}
# alarm name -> (Alert category, severity, asset status while active, description)
ALARMS = {
    "fire": ("security", "critical", "burning", "Fire suspected in waste container"),
    "tilt": ("security", "medium", "dropped", "Waste container tilted or knocked over"),
    "fill_threshold": ("environment", "medium", None, "Waste container above its fill threshold"),
    "lifebuoy_removed": ("security", "high", "absent", "Lifebuoy removed from its holder"),
    "lamp_failure": ("security", "medium", "defectiveLamp", "Streetlight lamp failure"),
    "device_offline": ("security", "low", None, "Device stopped reporting"),
}
ASSET_TAG = "tingbro_asset_id"
URN_UNSAFE = re.compile(r"[^A-Za-z0-9._~\-:]")


def ngsi_time(rfc3339: str) -> str:
    """UTC with millisecond precision and a Z: the form every broker accepts in observedAt and DateTime."""
    moment = datetime.fromisoformat(rfc3339)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def urn_part(text: str) -> str:
    return URN_UNSAFE.sub("-", text)


def device_urn(event: dict[str, Any]) -> str:
    return "urn:ngsi-ld:Device:" + urn_part(event["device"]["dev_eui"])


def asset_urn(event: dict[str, Any], entity_type: str) -> str:
    device = event["device"]
    asset = device["tags"].get(ASSET_TAG) or device["dev_eui"]
    scope = (urn_part(device["municipality"]) + ":") if device["municipality"] else ""
    return f"urn:ngsi-ld:{entity_type}:{scope}{urn_part(asset)}"


def prop(value: Any, observed_at: str | None = None, unit_code: str | None = None) -> dict[str, Any]:
    attribute: dict[str, Any] = {"type": "Property", "value": value}
    if observed_at:
        attribute["observedAt"] = observed_at
    if unit_code:
        attribute["unitCode"] = unit_code
    return attribute


def date_prop(moment: str) -> dict[str, Any]:
    return {"type": "Property", "value": {"@type": "DateTime", "@value": moment}}


def rel(target: str | list[str]) -> dict[str, Any]:
    return {"type": "Relationship", "object": target}


def location_attr(event: dict[str, Any]) -> dict[str, Any] | None:
    location = event["device"]["location"]
    if not location or location.get("lat") is None or location.get("lon") is None:
        return None
    # GeoJSON order is [longitude, latitude].
    return {"type": "GeoProperty", "value": {"type": "Point",
                                              "coordinates": [location["lon"], location["lat"]]}}


def entity(entity_id: str, entity_type: str, attributes: dict[str, Any], event: dict[str, Any],
           with_location: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = {"id": entity_id, "type": entity_type}
    result.update({key: value for key, value in attributes.items() if value is not None})
    location = location_attr(event) if with_location else None
    if location:
        result["location"] = location
    return result


def device_entity(event: dict[str, Any], at: str, extra: dict[str, Any]) -> dict[str, Any]:
    device_type = event["device"]["device_type"]
    radio = event["radio"]
    fields = event["fields"]
    battery_mv = fields.get("battery_mv")
    attributes: dict[str, Any] = {
        "deviceCategory": prop(["sensor", "actuator"] if device_type == "streetlight" else ["sensor"]),
        "controlledProperty": prop(CONTROLLED_PROPERTIES.get(device_type or "", [])),
        "supportedProtocol": prop(["lora"]),
        "name": prop(event["device"]["name"]) if event["device"]["name"] else None,
        "dateLastValueReported": date_prop(at),
        "rssi": prop(radio["rssi_dbm"], at, "DBM") if radio and radio.get("rssi_dbm") is not None else None,
        # Not in the Device model: the raw cell voltage, which is what our devices report.
        "batteryVoltage": prop(battery_mv / 1000, at, "VLT") if battery_mv is not None else None,
    }
    asset_type = ASSET_TYPES.get(device_type or "")
    if asset_type:
        attributes["controlledAsset"] = rel([asset_urn(event, asset_type)])
    attributes.update(extra)
    return entity(device_urn(event), "Device", attributes, event)


def waste_container(event: dict[str, Any], at: str) -> dict[str, Any]:
    fields = event["fields"]
    fill_ratio = event["derived"].get("fill_ratio")
    tilted = fields.get("tilted")  # the status message's flag; alarm uplinks become alarm events instead
    temperature = fields.get("temperature_c")
    return entity(asset_urn(event, "WasteContainer"), "WasteContainer", {
        "fillingLevel": prop(min(max(float(fill_ratio), 0.0), 1.0), at, "C62") if fill_ratio is not None else None,
        "temperature": prop(temperature, at, "CEL") if temperature is not None else None,
        "status": prop("dropped" if tilted else "ok", at) if tilted is not None else None,
        "refDevice": rel([device_urn(event)]),
    }, event)


def power_state(level_pct: float) -> str:
    if level_pct <= 0:
        return "off"
    return "on" if level_pct >= 100 else "low"


def streetlight(event: dict[str, Any], at: str) -> dict[str, Any]:
    fields = event["fields"]
    lamp_on = fields.get("lamp_on")
    # Only the status message reports the actual level (with lamp_on); lamp_failure carries the commanded one.
    level = fields.get("level_pct") if lamp_on is not None else None
    if level is not None and not lamp_on:
        level = 0
    power_w = fields.get("power_w")
    energy_wh = fields.get("energy_wh")
    faults = [fields[name] for name in ("lamp_failure", "driver_failure") if name in fields]
    failure = any(faults) if faults else None
    return entity(asset_urn(event, "Streetlight"), "Streetlight", {
        "powerState": prop(power_state(level), at) if level is not None else None,
        "illuminanceLevel": prop(round(level / 100, 4), at) if level is not None else None,
        "powerConsumption": prop(power_w, at, "WTT") if power_w is not None else None,
        "lifetimePowerConsumption": prop(energy_wh / 1000, at, "KWH") if energy_wh is not None else None,
        "status": prop("defectiveLamp" if failure else "ok", at) if failure is not None else None,
        "refDevice": rel([device_urn(event)]),
    }, event)


def uplink_entities(event: dict[str, Any], at: str) -> list[dict[str, Any]]:
    device_type = event["device"]["device_type"]
    extra: dict[str, Any] = {"deviceState": prop("ok", at)}
    entities: list[dict[str, Any]] = []
    if device_type == "fill_level":
        entities.append(waste_container(event, at))
    elif device_type == "streetlight":
        entities.append(streetlight(event, at))
    elif device_type == "lifebuoy":
        present = event["fields"].get("present")
        if present is not None:
            extra["value"] = prop("present" if present else "absent", at)
    return [device_entity(event, at, extra), *entities]


def alert_entity(event: dict[str, Any], at: str) -> dict[str, Any]:
    name = event["alarm"]["name"]
    active = bool(event["alarm"]["active"])
    category, severity, _, description = ALARMS.get(name, ("security", "medium", None, f"Alarm {name}"))
    label = event["device"]["name"] or event["device"]["dev_eui"]
    return entity(f"urn:ngsi-ld:Alert:{urn_part(event['device']['dev_eui'])}:{urn_part(name)}", "Alert", {
        "category": prop(category),
        "subCategory": prop(name),
        "severity": prop(severity if active else "informational", at),
        "description": prop(f"{description}: {label}" + ("" if active else " (cleared)"), at),
        "alertSource": rel(device_urn(event)),
        "dateIssued": date_prop(at),
        # Raised: validFrom moves; cleared: validTo moves. `data.active` says which is current.
        "validFrom" if active else "validTo": date_prop(at),
        "data": prop({"active": active, "event_id": event["id"]}, at),
    }, event)


def alarm_entities(event: dict[str, Any], at: str) -> list[dict[str, Any]]:
    name = event["alarm"]["name"]
    active = bool(event["alarm"]["active"])
    entities = [alert_entity(event, at)]
    asset_status = ALARMS.get(name, (None, None, None, None))[2]
    device_type = event["device"]["device_type"]
    if asset_status == "absent" and device_type == "lifebuoy":
        entities.append(entity(device_urn(event), "Device", {
            "value": prop("absent" if active else "present", at)}, event, with_location=False))
    elif asset_status and device_type in ASSET_TYPES:
        asset_type = ASSET_TYPES[device_type]
        entities.append(entity(asset_urn(event, asset_type), asset_type, {
            "status": prop(asset_status if active else "ok", at)}, event, with_location=False))
    return entities


def entities_for_event(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The entities one event updates; [] for event types NGSI-LD has no use for (log, ack, ...)."""
    at = ngsi_time(event["time"])
    kind = event["type"]
    if kind == "uplink":
        return uplink_entities(event, at)
    if kind == "alarm" and event["alarm"]:
        return alarm_entities(event, at)
    if kind == "status":
        detail = event["detail"]
        battery = detail.get("battery_level_pct")
        known = isinstance(battery, int | float) and not detail.get("battery_level_unavailable") \
            and not detail.get("external_power_source")
        return [entity(device_urn(event), "Device", {
            "batteryLevel": prop(round(min(max(battery / 100, 0.0), 1.0), 4), at) if known else None,
            "dateLastValueReported": date_prop(at),
        }, event, with_location=False)]
    if kind == "location":
        detail = event["detail"]
        if detail.get("lat") is None or detail.get("lon") is None:
            return []
        return [{"id": device_urn(event), "type": "Device", "location": {"type": "GeoProperty", "value": {
            "type": "Point", "coordinates": [detail["lon"], detail["lat"]]}, "observedAt": at}}]
    if kind in ("device_offline", "device_online"):
        state = "offline" if kind == "device_offline" else "ok"
        return [entity(device_urn(event), "Device", {"deviceState": prop(state, at)}, event,
                       with_location=False)]
    return []


def merge_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per entity id (a batch upsert must not name an entity twice); later attributes win."""
    merged: dict[str, dict[str, Any]] = {}
    for item in entities:
        if item["id"] in merged:
            merged[item["id"]].update(item)
        else:
            merged[item["id"]] = dict(item)
    return list(merged.values())


def with_context(item: dict[str, Any]) -> dict[str, Any]:
    """Inline @context for `Content-Type: application/ld+json` bodies: the domain model, then the core."""
    domain = DOMAIN_CONTEXTS.get(item["type"])
    return {**item, "@context": [domain, CORE_CONTEXT] if domain else [CORE_CONTEXT]}


def upsert_body(events: list[dict[str, Any]], inline_context: bool) -> list[dict[str, Any]]:
    entities = merge_entities([item for event in events for item in entities_for_event(event)])
    return [with_context(item) for item in entities] if inline_context else entities
