"""The hot path: a ChirpStack `up` event as proto3 JSON -> normalized events, without a protobuf message.

`fastjson.PlainReader` proves the body is what json_format would accept as an `UplinkEvent` (plain values
only) and hands back msgspec structs with protobuf's defaults; the few values normalization needs are read
from those, with protobuf's float32 rounding for SNR. Whatever is not plain raises `Unusual`; the caller
then takes the reference path (json_format into the message, then `decode.normalize`).
tests/bridge/test_uplink_fastpath.py holds both paths to the same answers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chirpstack_api import integration
from msgspec import UNSET

from tingbro.decode import Codec, device_from, snr_db_of, time_text, uplink_events
from tingbro.ingest.fastjson import PlainReader, Recurring, Unusual, timestamp_parts

# The transmit settings repeat across devices (a few channels and data rates): checked once per distinct text.
# A device's info is decoded inline: at the target rate nearly every uplink is from a device not seen lately,
# and remembering its text cost a second decode, two copies and a hash of the text per new device.
READER = PlainReader(integration.UplinkEvent.DESCRIPTOR, recurring=("txInfo",))
READER_LIMIT = Recurring.LIMIT
UTC_OFFSETS = ("+00:00", "-00:00")


def utc_time_text(stamp: str) -> str | None:
    """`decode.time_text` of a valid RFC 3339 timestamp in UTC ("Z", "+00:00", "-00:00"), from the text: the
    date and time as they stand, microseconds (the fraction truncated to 6 digits) only when not zero.
    None for other offsets."""
    if len(stamp) == 32 and stamp[26:] == "+00:00" and stamp[20:26] != "000000":
        return stamp  # ChirpStack's usual form (6 digits) is already the answer
    if stamp[-1] == "Z":
        zone_at = len(stamp) - 1
    elif stamp[-6:] in UTC_OFFSETS:
        zone_at = len(stamp) - 6
    else:
        return None
    if zone_at >= 26 and stamp[20:26] != "000000":  # ChirpStack's usual 6 or 9 digits
        return stamp[:26] + "+00:00"
    micros = (stamp[20:zone_at] + "000000")[:6]  # stamp[20:zone_at] is "" without a fraction
    return stamp[:19] + ("+00:00" if micros == "000000" else "." + micros + "+00:00")


# devEui -> (its DeviceInfo struct, tag name, fallback, device): a device that sends again with an equal
# deviceInfo (msgspec compares structs field by field in C) shares its device dict.
_DEVICES: dict[str, tuple[Any, str, str | None, dict[str, Any]]] = {}


def _device_of(info: Any, tag_name: str, fallback: str | None) -> dict[str, Any]:
    """`device_from` of a DeviceInfo struct, remembered (uplink_from_json looks in _DEVICES first). Sharing
    is safe because events are read-only after normalization: the outbox only serializes them, sinks and the
    health watchdog only read."""
    if info is UNSET:
        return device_from("", "", "", "", {}, tag_name, fallback)
    tags = info.tags  # decoded for this body alone (READER decodes deviceInfo inline): the device may keep it
    if tags is UNSET:
        tags = {}
    elif len(tags) > 1:
        tags = dict(sorted(tags.items()))
    device = device_from(info.devEui, info.deviceName, info.applicationId, info.tenantId, tags, tag_name,
                         fallback)
    if len(_DEVICES) >= READER_LIMIT:
        _DEVICES.clear()  # see Recurring.LIMIT
    _DEVICES[info.devEui] = (info, tag_name, fallback, device)
    return device


def uplink_from_json(body: bytes, received_at: float, codec: Codec, tag_name: str,
                     fallback: str | None) -> list[dict[str, Any]]:
    """Events of one `up` JSON body; Unusual when json_format must decide; DecodeFailure as usual."""
    up = READER.read(body)
    key = up.deduplicationId
    if not key:
        raise Unusual  # the key then is a hash of the serialized message: the reference path builds it
    info = up.deviceInfo
    entry = None if info is UNSET else _DEVICES.get(info.devEui)
    if entry is not None and entry[0] == info and entry[1] == tag_name and entry[2] == fallback:
        device = entry[3]
    else:
        device = _device_of(info, tag_name, fallback)
    stamp = up.time
    if stamp is UNSET:
        time = datetime.fromtimestamp(received_at, UTC).isoformat()
    else:
        time = utc_time_text(stamp) or time_text(*timestamp_parts(stamp))
    rx = up.rxInfo
    if rx:  # UNSET is false too
        # The best of each, as max() picks it (the first of equals); max()'s keyword parsing costs more than this
        # loop over the usual one or two gateways.
        best = rx[0]
        rssi_dbm, snr = best.rssi, best.snr
        for item in rx:
            if item.rssi > rssi_dbm:
                rssi_dbm = item.rssi
            if item.snr > snr:
                snr = item.snr
        # SNR is a protobuf float: snr_db_of rounds to float32 as json_format stores it, which keeps the order
        snr_db, gateway_count = snr_db_of(snr), len(rx)
    else:
        rssi_dbm, snr_db, gateway_count = None, None, 0
    return uplink_events(key, device, time, codec, up.fCnt, up.fPort, up.dr, up.confirmed, rssi_dbm, snr_db,
                         gateway_count, up.devAddr, up.regionConfigId, up.data)
