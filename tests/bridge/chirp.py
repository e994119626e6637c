"""ChirpStack events for the bridge tests: built from `chirpstack_api` protobufs, serialized like ChirpStack
(`tingbro.devnet.pbjson.chirpstack_json`, re-exported here).

`chirpstack_json` mimics pbjson with `emit_fields` (chirpstack.md §1.2): camelCase keys in proto field
order; scalar/enum/repeated/map fields of the event and of `deviceInfo` always written, defaults included;
nested gateway messages omit defaults; unset message fields omitted; timestamps as `+00:00`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import tingcodec
from chirpstack_api import common, gw, integration
from google.protobuf.message import Message
from tingbro.devnet.pbjson import chirpstack_json as chirpstack_json  # re-exported for the tests

APP_ID = "17c82e96-be03-4f38-aef3-f83d48582d97"
TENANT_ID = "52f14cd4-c6f1-4fbd-8f87-4025e1d49242"

# The documented `up` example, verbatim (chirpstack.md §1.4 (a), from chirpstack-docs events.md).
DOCS_UP_EXAMPLE = (
    b'{"deduplicationId":"3ac7e3c4-4401-4b8d-9386-a5c902f9202d","time":"2022-07-18T09:34:15.775023242+00:00",'
    b'"deviceInfo":{"tenantId":"52f14cd4-c6f1-4fbd-8f87-4025e1d49242","tenantName":"ChirpStack",'
    b'"applicationId":"17c82e96-be03-4f38-aef3-f83d48582d97","applicationName":"Test application",'
    b'"deviceProfileId":"14855bf7-d10d-4aee-b618-ebfcb64dc7ad","deviceProfileName":"Test device-profile",'
    b'"deviceName":"Test device","devEui":"0101010101010101","tags":{"key":"value"}},'
    b'"devAddr":"00189440","dr":1,"fPort":1,"data":"qg==",'
    b'"rxInfo":[{"gatewayId":"0016c001f153a14c","uplinkId":4217106255,"rssi":-36,"snr":10.5,"context":"E3OWOQ==",'
    b'"metadata":{"region_name":"eu868","region_common_name":"EU868"}}],'
    b'"txInfo":{"frequency":867100000,"modulation":{"lora":{"bandwidth":125000,"spreadingFactor":11,"codeRate":"CR_4_5"}}}}'
)
DOCS_LOG_EXAMPLE = (
    b'{"time":"2022-07-18T09:39:57.311414029+00:00","deviceInfo":{"devEui":"0101010101010101","tags":{}},'
    b'"level":"ERROR","code":"UPLINK_MIC","description":"MIC of join-request is invalid, make sure keys are correct",'
    b'"context":{"deduplication_id":"4e91db13-5ce3-4c8c-ab0f-dfc626cf0771"}}'
)
DOCS_TXACK_EXAMPLE = (
    b'{"downlinkId":3461958127,"time":"2022-07-18T09:37:48.929184085+00:00","deviceInfo":{},'
    b'"queueItemId":"42cb6459-a640-46ec-9623-bdff39dc4736","fCntDown":2,"gatewayId":"0016c001f153a14c",'
    b'"txInfo":{"frequency":867900000,"power":14,'
    b'"modulation":{"lora":{"bandwidth":125000,"spreadingFactor":7,"codeRate":"CR_4_5","polarizationInversion":true}},'
    b'"timing":{"delay":{"delay":"1s"}},"context":"ICYVGw=="}}'
)


def device_info(dev_eui: str, device_type: str | None, **tags: str) -> integration.DeviceInfo:
    all_tags = dict(tags)
    if device_type:
        all_tags["tingbro_device_type"] = device_type
    return integration.DeviceInfo(
        tenant_id=TENANT_ID, tenant_name="Aarhus Kommune", application_id=APP_ID, application_name="Affald",
        device_profile_id="14855bf7-d10d-4aee-b618-ebfcb64dc7ad", device_profile_name="tingbro " + str(device_type),
        device_name="dev-" + dev_eui[-4:], dev_eui=dev_eui, device_class_enabled=common.CLASS_A, tags=all_tags)


def uplink(dev_eui: str = "0102030405060708", f_cnt: int = 1, device_type: str | None = "fill_level",
           message: str = "status", fields: dict[str, Any] | None = None, payload: bytes | None = None,
           f_port: int | None = None, dedup_id: str | None = None, gateways: int = 2,
           tags: dict[str, str] | None = None) -> integration.UplinkEvent:
    """An UplinkEvent whose payload is encoded with the real catalogue codec (unless `payload` is given)."""
    if payload is None:
        f_port, payload = tingcodec.encode(device_type or "fill_level", message, fields or default_fields(message))
    event = integration.UplinkEvent(
        deduplication_id=dedup_id or str(uuid.uuid4()), device_info=device_info(dev_eui, device_type, **(tags or {})),
        dev_addr="00189440", adr=True, dr=5, f_cnt=f_cnt, f_port=f_port or 0, confirmed=False, data=payload,
        region_config_id="eu868")
    event.time.FromDatetime(datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC))
    for index in range(gateways):
        rx = event.rx_info.add(gateway_id=f"0016c001f153a1{index:02x}", uplink_id=1000 + index, rssi=-100 + 7 * index,
                               snr=2.5 + index, channel=index, crc_status=gw.CRC_OK,
                               metadata={"region_config_id": "eu868", "region_common_name": "EU868"})
        rx.gw_time.FromDatetime(datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC))
    event.tx_info.frequency = 867100000
    event.tx_info.modulation.lora.bandwidth = 125000
    event.tx_info.modulation.lora.spreading_factor = 7
    event.tx_info.modulation.lora.code_rate = gw.CR_4_5
    return event


def default_fields(message: str) -> dict[str, Any]:
    return {
        "status": {"distance_mm": 380, "temperature_c": 21.5, "battery_mv": 3600, "tilted": False,
                   "no_echo": False, "blind_zone": False},
        "alarm": {"fire_temperature": True, "fire_rise": False, "tilt": False, "fill_threshold": True,
                  "distance_mm": 200, "temperature_c": 70},
        "presence": {"present": False, "tamper": False, "event_seq": 3},
    }[message]


def protobuf(message: Message) -> bytes:
    return message.SerializeToString()
