"""The hot path: a ChirpStack `up` event as proto3 JSON -> normalized events, without a protobuf message.

`fastjson.PlainReader` proves the body is what json_format would accept as an `UplinkEvent` (plain values
only) and hands back msgspec structs with protobuf's defaults; the few values normalization needs are read
from those, with protobuf's float32 rounding for SNR. Whatever is not plain raises `Unusual`; the caller
then takes the reference path (json_format into the message, then `decode.normalize`).
tests/bridge/test_uplink_fastpath.py holds both paths to the same answers.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import Any

from chirpstack_api import integration
from msgspec import UNSET

from tingbro.decode import Codec, device_from, time_text, uplink_events
from tingbro.ingest.fastjson import PlainReader, Recurring, Unusual, timestamp_parts

# A device's info and its transmit settings repeat from uplink to uplink: checked once per distinct text.
READER = PlainReader(integration.UplinkEvent.DESCRIPTOR, recurring=("deviceInfo", "txInfo"))
READER_LIMIT = Recurring.LIMIT
FLOAT32 = struct.Struct("<f")
NO_TAGS: dict[str, str] = {}
UTC_OFFSETS = ("+00:00", "-00:00")


def utc_time_text(stamp: str) -> str:
    """`decode.time_text` of a valid RFC 3339 UTC timestamp, from the text: the date and time as they stand,
    microseconds (fraction truncated to 6 digits) only when not zero."""
    fraction = stamp[20:-1] if stamp[-1] == "Z" else stamp[20:-6]  # "" when there is none
    micros = (fraction + "000000")[:6]
    return stamp[:19] + ("+00:00" if micros == "000000" else "." + micros + "+00:00")


# id(DeviceInfo struct) -> (that struct, tag name, fallback, device). The entry holds the struct, so its id
# cannot be reused while the entry lives; the `is` test makes a stale id harmless anyway.
_DEVICES: dict[int, tuple[Any, str, str | None, dict[str, Any]]] = {}


def _device_of(info: Any, tag_name: str, fallback: str | None) -> dict[str, Any]:
    """`device_from` of a DeviceInfo struct, made once per struct: READER hands back one struct per distinct
    deviceInfo text, so all uplinks of a device share one device dict. Sharing is safe because events are
    read-only after normalization: the outbox only serializes them, sinks and the health watchdog only read."""
    entry = _DEVICES.get(id(info))
    if entry is not None and entry[0] is info and entry[1] == tag_name and entry[2] == fallback:
        return entry[3]
    if info is UNSET:
        return device_from("", "", "", "", NO_TAGS, tag_name, fallback)
    tags = info.tags
    device = device_from(info.devEui, info.deviceName, info.applicationId, info.tenantId,
                         NO_TAGS if tags is UNSET else tags, tag_name, fallback)
    if len(_DEVICES) >= READER_LIMIT:
        del _DEVICES[next(iter(_DEVICES))]
    _DEVICES[id(info)] = (info, tag_name, fallback, device)
    return device


def uplink_from_json(body: bytes, received_at: float, codec: Codec, tag_name: str,
                     fallback: str | None) -> list[dict[str, Any]]:
    """Events of one `up` JSON body; Unusual when json_format must decide; DecodeFailure as usual."""
    up = READER.read(body)
    key = up.deduplicationId
    if not key:
        raise Unusual  # the key then is a hash of the serialized message: the reference path builds it
    device = _device_of(up.deviceInfo, tag_name, fallback)
    stamp = up.time
    if stamp is UNSET:
        time = datetime.fromtimestamp(received_at, UTC).isoformat()
    elif stamp[-1] == "Z" or stamp[-6:] in UTC_OFFSETS:
        time = utc_time_text(stamp)
    else:
        time = time_text(*timestamp_parts(stamp))
    rx = () if up.rxInfo is UNSET else up.rxInfo
    # SNR is a protobuf float: json_format stores it as float32, so round the same way.
    snrs = [FLOAT32.unpack(FLOAT32.pack(item.snr))[0] for item in rx]
    return uplink_events(key, device, time, codec, up.fCnt, up.fPort, up.dr, up.confirmed,
                         [item.rssi for item in rx], snrs, up.devAddr, up.regionConfigId, up.data)
