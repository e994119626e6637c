"""A parsed ChirpStack event -> the bridge's normalized events (see `schema/event.schema.json`).

Pure: no I/O. The codec is passed in (`tingcodec.decode` in the service) so this module only knows the
shape of its answer. An `up` whose payload the codec rejects raises `DecodeFailure`: the caller
dead-letters the raw event with that reason.

ChirpStack device tags the bridge reads (application, device-profile and device tags are merged by
ChirpStack, later wins):
  tingbro_device_type     fill_level | lifebuoy | streetlight (tag name configurable; `fill-level` accepted)
  tingbro_municipality    municipality slug, e.g. "aarhus"
  tingbro_latitude, tingbro_longitude     decimal degrees, WGS 84
  tingbro_bin_empty_mm    fill-level sensor to bin bottom when empty, mm (needed for `derived.fill_ratio`)
  tingbro_bin_full_mm     fill-level sensor to surface when full, mm (default 0)
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

MUNICIPALITY_TAG = "tingbro_municipality"
LATITUDE_TAG = "tingbro_latitude"
LONGITUDE_TAG = "tingbro_longitude"
BIN_EMPTY_TAG = "tingbro_bin_empty_mm"
BIN_FULL_TAG = "tingbro_bin_full_mm"
DEVICE_TYPES = ("fill_level", "lifebuoy", "streetlight")

# codec(fport, payload, device_type, direction="up") -> {"message": str, "fields": dict}; raises on bad input
Codec = Callable[..., dict[str, Any]]

EMPTY_RADIO: dict[str, Any] = {"f_cnt": None, "f_port": None, "dr": None, "rssi_dbm": None, "snr_db": None,
                               "gateway_count": None, "confirmed": None}


class DecodeFailure(ValueError):
    """The event is well-formed but its payload cannot be decoded: dead-letter it with this reason."""


def device_type_of(tags: dict[str, str], tag_name: str, fallback: str | None) -> str | None:
    text = tags.get(tag_name, "")
    value = _PLAIN_TYPES.get(text)  # the tag as written in the usual case; else cleaned up
    if value is None:
        value = text.strip().lower().replace("-", "_")
    return value if value in DEVICE_TYPES else fallback


_PLAIN_TYPES = {name: name for name in DEVICE_TYPES}


def _float_tag(tags: dict[str, str], name: str) -> float | None:
    text = tags.get(name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value - value == 0 else None  # not NaN, not infinite


def device_of(message: Message, tag_name: str, fallback: str | None) -> dict[str, Any]:
    info = message.device_info  # type: ignore[attr-defined]
    return device_from(info.dev_eui, info.device_name, info.application_id, info.tenant_id,
                       dict(sorted(info.tags.items())), tag_name, fallback)


def device_from(dev_eui: str, device_name: str, application_id: str, tenant_id: str, tags: dict[str, str],
                tag_name: str, fallback: str | None) -> dict[str, Any]:
    """The `device` part of every event. `tags` sorted by name (one device always serializes alike); the
    device keeps that dict."""
    location = None
    if LATITUDE_TAG in tags and LONGITUDE_TAG in tags:
        lat, lon = _float_tag(tags, LATITUDE_TAG), _float_tag(tags, LONGITUDE_TAG)
        if lat is not None and lon is not None:
            location = {"lat": lat, "lon": lon}
    return {
        "dev_eui": dev_eui.lower(),
        "name": device_name or None,
        "device_type": device_type_of(tags, tag_name, fallback),
        "application_id": application_id or None,
        "tenant_id": tenant_id or None,
        "municipality": tags.get(MUNICIPALITY_TAG) or None,
        "location": location,
        "tags": tags,
    }


def time_of(message: Message, received_at: float) -> str:
    stamp = message.time  # type: ignore[attr-defined]
    if message.HasField("time"):
        return time_text(stamp.seconds, stamp.nanos)
    return datetime.fromtimestamp(received_at, UTC).isoformat()


def time_text(seconds: int, nanos: int) -> str:
    """As datetime.isoformat() writes the UTC moment: microseconds only when not zero."""
    whole = _WHOLE_SECONDS.get(seconds)
    if whole is None:
        if len(_WHOLE_SECONDS) > 4096:
            _WHOLE_SECONDS.clear()
        whole = _WHOLE_SECONDS[seconds] = datetime.fromtimestamp(seconds, UTC).isoformat()[:-6]
    micros = nanos // 1000
    return f"{whole}.{micros:06d}+00:00" if micros else whole + "+00:00"


_WHOLE_SECONDS: dict[int, str] = {}  # consecutive events share their second


def finite(value: float) -> float | None:
    """None for NaN and infinities (protobuf floats may hold them; JSON cannot)."""
    return value if value - value == 0 else None


def content_key(message: Message) -> str:
    """An idempotency key for events ChirpStack gives none (log): a hash of the event's content."""
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()[:32]


def fill_ratio(fields: dict[str, Any], tags: dict[str, str]) -> float | None:
    """0 (empty) .. 1 (full) from the measured distance and the bin geometry tags; None when unknown."""
    distance_mm = fields.get("distance_mm")
    if distance_mm is None:
        return None
    empty_mm = _float_tag(tags, BIN_EMPTY_TAG)
    if empty_mm is None:
        return None
    full_mm = _float_tag(tags, BIN_FULL_TAG) or 0.0
    if empty_mm <= full_mm:
        return None
    if fields.get("no_echo") or fields.get("blind_zone"):
        return None  # the sensor says its distance is not valid
    ratio = (empty_mm - float(distance_mm)) / (empty_mm - full_mm)
    return round(min(1.0, max(0.0, ratio)), 4)


def alarms_of(device_type: str | None, message_name: str | None, fields: dict[str, Any]) -> list[tuple[str, bool]]:
    """(alarm name, active) pairs an uplink raises; each becomes its own `alarm` event."""
    if device_type == "fill_level" and message_name == "alarm":
        found = []
        if fields.get("fire_temperature") or fields.get("fire_rise"):
            found.append(("fire", True))
        if fields.get("tilt"):
            found.append(("tilt", True))
        if fields.get("fill_threshold"):
            found.append(("fill_threshold", True))
        return found
    if device_type == "lifebuoy" and message_name == "presence":
        return [("lifebuoy_removed", not fields.get("present", False))]
    if device_type == "streetlight" and message_name == "lamp_failure":
        return [("lamp_failure", True)]
    return []


def _event(event_id: str, kind: str, time: str, device: dict[str, Any], **parts: Any) -> dict[str, Any]:
    event = {"id": event_id, "type": kind, "time": time, "device": device, "radio": dict(EMPTY_RADIO),
             "message": None, "fields": {}, "derived": {}, "alarm": None, "detail": {}}
    event.update(parts)
    return event


def normalize_uplink(message: Message, device: dict[str, Any], time: str, codec: Codec) -> list[dict[str, Any]]:
    up: Any = message
    rx = up.rx_info
    rssi_dbm = max([r.rssi for r in rx]) if rx else None
    snr_db = snr_db_of(max([r.snr for r in rx])) if rx else None
    return uplink_events(up.deduplication_id or content_key(message), device, time, codec, up.f_cnt, up.f_port,
                         up.dr, up.confirmed, rssi_dbm, snr_db, len(rx), up.dev_addr, up.region_config_id,
                         bytes(up.data))


FLOAT32 = struct.Struct("<f")
_SNR_DB: dict[float, float] = {}  # gateways report few distinct SNRs; round() is costly


def snr_db_of(snr: float) -> float | None:
    """The radio part's `snr_db` of the best SNR: as protobuf holds it (float32), to 0.01 dB; None when not
    finite. The same for a float32 from a protobuf message and a number from its JSON."""
    if snr - snr != 0:
        return None
    if not snr:
        return snr  # 0.0 and -0.0 are one dict key but serialize differently
    rounded = _SNR_DB.get(snr)
    if rounded is None:
        if len(_SNR_DB) > 4096:
            _SNR_DB.clear()
        rounded = _SNR_DB[snr] = round(FLOAT32.unpack(FLOAT32.pack(snr))[0], 2)
    return rounded


ALARM_MESSAGES = frozenset({"alarm", "presence", "lamp_failure"})  # the only messages alarms_of looks at


def uplink_events(key: str, device: dict[str, Any], time: str, codec: Codec, f_cnt: int, f_port: int, dr: int,
                  confirmed: bool, rssi_dbm: int | None, snr_db: float | None, gateway_count: int, dev_addr: str,
                  region_config_id: str, data: bytes) -> list[dict[str, Any]]:
    """The events of one uplink from its plain values (shared by the protobuf and the JSON fast path);
    `rssi_dbm` and `snr_db` are the best gateway's (None without gateways)."""
    radio = {"f_cnt": f_cnt, "f_port": f_port, "dr": dr, "rssi_dbm": rssi_dbm, "snr_db": snr_db,
             "gateway_count": gateway_count, "confirmed": confirmed}
    detail: dict[str, Any] = {"dev_addr": dev_addr or None, "region_config_id": region_config_id or None}
    device_type = device["device_type"]
    message_name: str | None = None
    fields: dict[str, Any] = {}
    derived: dict[str, Any] = {}
    if f_port == 0:
        detail["note"] = "MAC-only frame (fPort 0): no application payload"
    elif device_type is None:
        detail["data_base64"] = base64.b64encode(data).decode()
        detail["note"] = "device type unknown: set the device tag or [decode] fallback_device_type"
    else:
        try:
            decoded = codec(f_port, data, device_type, direction="up")
        except Exception as exc:  # any codec failure is the payload's fault, not the bridge's
            raise DecodeFailure(f"{device_type} payload on fPort {f_port} not decodable: "
                                f"{type(exc).__name__}: {str(exc)[:200]}") from None
        message_name, fields = decoded["message"], dict(decoded["fields"])
    if device_type == "fill_level" and BIN_EMPTY_TAG in device["tags"]:  # fill_ratio needs the empty distance
        ratio = fill_ratio(fields, device["tags"])
        if ratio is not None:
            derived["fill_ratio"] = ratio
    events = [{"id": key + ":up", "type": "uplink", "time": time, "device": device, "radio": radio,
               "message": message_name, "fields": fields, "derived": derived, "alarm": None, "detail": detail}]
    if message_name in ALARM_MESSAGES:
        for name, active in alarms_of(device_type, message_name, fields):
            events.append(_event(f"{key}:alarm:{name}", "alarm", time, device, radio=radio, message=message_name,
                                 fields=fields, derived=derived, alarm={"name": name, "active": active}))
    return events


def _detail(event_name: str, message: Any) -> tuple[str, dict[str, Any]]:
    """(idempotency key, detail) of the non-uplink events."""
    if event_name == "join":
        return message.deduplication_id + ":join", {
            "dev_addr": message.dev_addr or None, "region_config_id": message.region_config_id or None}
    if event_name == "status":
        return message.deduplication_id + ":status", {
            "margin_db": message.margin, "external_power_source": message.external_power_source,
            "battery_level_unavailable": message.battery_level_unavailable,
            "battery_level_pct": finite(round(message.battery_level, 2))}
    if event_name == "ack":
        return (message.queue_item_id or message.deduplication_id) + ":ack", {
            "queue_item_id": message.queue_item_id or None, "acknowledged": message.acknowledged,
            "f_cnt_down": message.f_cnt_down}
    if event_name == "txack":
        return f"{message.queue_item_id}:txack:{message.downlink_id}", {
            "downlink_id": message.downlink_id, "queue_item_id": message.queue_item_id or None,
            "f_cnt_down": message.f_cnt_down, "gateway_id": message.gateway_id or None,
            "frequency_hz": message.tx_info.frequency or None, "power_dbm": message.tx_info.power}
    if event_name == "log":
        level, code = _enum_name(message, "level"), _enum_name(message, "code")
        return "log:" + content_key(message), {
            "level": level, "code": code, "description": message.description, "context": dict(message.context)}
    if event_name == "location":
        place = message.location
        return message.deduplication_id + ":location", {
            "lat": finite(place.latitude), "lon": finite(place.longitude), "altitude_m": finite(place.altitude),
            "accuracy_m": finite(place.accuracy)}
    raise DecodeFailure(f"no normalization for event type {event_name!r}")


def _enum_name(message: Any, field: str) -> str:
    """An enum field's name; a number this chirpstack-api does not know (open enums accept any) as its digits."""
    number = getattr(message, field)
    value = type(message).DESCRIPTOR.fields_by_name[field].enum_type.values_by_number.get(number)
    return value.name if value is not None else str(number)


TYPED_EVENTS = {"join": "join", "status": "status", "ack": "ack", "txack": "txack", "log": "log",
                "location": "location"}


def normalize(event_name: str, message: Message, received_at: float, codec: Codec,
              device_type_tag: str = "tingbro_device_type", fallback_device_type: str | None = None,
              ) -> list[dict[str, Any]]:
    """All normalized events one ChirpStack event yields (an uplink may add alarm events)."""
    device = device_of(message, device_type_tag, fallback_device_type)
    time = time_of(message, received_at)
    if event_name == "up":
        return normalize_uplink(message, device, time, codec)
    key, detail = _detail(event_name, message)
    if key.startswith(":"):  # ChirpStack always sends an id; a hand-made event may not
        key = content_key(message) + key
    return [_event(key, TYPED_EVENTS[event_name], time, device, detail=detail)]
