"""ChirpStack v4 integration events (chirpstack_api.integration protobufs) as devnet emits them."""

from __future__ import annotations

import time
import uuid
from typing import Any

from chirpstack_api import common, gw, integration

from tingbro.devnet.registry import TENANT_ID, Device, Registry

REGION_ID = "eu868"


def _now(stamp: Any, unix_s: float | None = None) -> None:
    stamp.FromNanoseconds(int((time.time() if unix_s is None else unix_s) * 1e9))


def device_info(registry: Registry, device: Device) -> integration.DeviceInfo:
    return integration.DeviceInfo(
        tenant_id=TENANT_ID, tenant_name="devnet", application_id=registry.application.id,
        application_name=registry.application.name, device_profile_id=device.profile_id,
        device_profile_name=registry.profile_name(device), device_name=device.name, dev_eui=device.dev_eui,
        device_class_enabled=common.CLASS_C if device.class_c else common.CLASS_A, tags=device.tags)


def rx_info(gateway_eui: str, rxpk: dict[str, Any], uplink_id: int) -> gw.UplinkRxInfo:
    info = gw.UplinkRxInfo(gateway_id=gateway_eui, uplink_id=uplink_id, rssi=int(rxpk.get("rssi") or 0),
                           snr=float(rxpk.get("lsnr") or 0.0), channel=int(rxpk.get("chan") or 0),
                           context=int(rxpk["tmst_us"]).to_bytes(4, "big"), crc_status=gw.CRC_OK,
                           metadata={"region_config_id": REGION_ID, "region_common_name": "EU868"})
    _now(info.ns_time)
    return info


def lora_tx_info(rxpk: dict[str, Any]) -> gw.UplinkTxInfo:
    info = gw.UplinkTxInfo(frequency=rxpk["freq_hz"])
    info.modulation.lora.bandwidth = rxpk["bw_khz"] * 1000
    info.modulation.lora.spreading_factor = rxpk["sf"]
    info.modulation.lora.code_rate = gw.CR_4_5
    return info


def data_rate(sf: int, bw_khz: int) -> int:
    """EU868 DR of a LoRa setting (DR6 is SF7/250 kHz)."""
    return 6 if bw_khz == 250 else 12 - sf


def uplink_event(registry: Registry, device: Device, uplink: Any, gateway_eui: str, rxpk: dict[str, Any],
                 uplink_id: int) -> integration.UplinkEvent:
    event = integration.UplinkEvent(
        deduplication_id=str(uuid.uuid4()), device_info=device_info(registry, device),
        dev_addr=f"{uplink.dev_addr:08x}", adr=uplink.adr, dr=data_rate(rxpk["sf"], rxpk["bw_khz"]),
        f_cnt=uplink.fcnt, f_port=uplink.fport or 0, confirmed=uplink.confirmed,
        data=uplink.payload if uplink.fport else b"", region_config_id=REGION_ID)
    _now(event.time)
    event.rx_info.append(rx_info(gateway_eui, rxpk, uplink_id))
    event.tx_info.CopyFrom(lora_tx_info(rxpk))
    return event


def join_event(registry: Registry, device: Device, dev_addr: int) -> integration.JoinEvent:
    event = integration.JoinEvent(deduplication_id=str(uuid.uuid4()), device_info=device_info(registry, device),
                                  dev_addr=f"{dev_addr:08x}", region_config_id=REGION_ID)
    _now(event.time)
    return event


def txack_event(registry: Registry, device: Device, downlink_id: int, queue_item_id: str, fcnt_down: int,
                gateway_eui: str, txpk: dict[str, Any]) -> integration.TxAckEvent:
    event = integration.TxAckEvent(downlink_id=downlink_id, device_info=device_info(registry, device),
                                   queue_item_id=queue_item_id, f_cnt_down=fcnt_down, gateway_id=gateway_eui)
    _now(event.time)
    event.tx_info.frequency = txpk["freq_hz"]
    event.tx_info.power = txpk.get("power_dbm", 14)
    event.tx_info.modulation.lora.bandwidth = txpk["bw_khz"] * 1000
    event.tx_info.modulation.lora.spreading_factor = txpk["sf"]
    event.tx_info.modulation.lora.code_rate = gw.CR_4_5
    event.tx_info.modulation.lora.polarization_inversion = True
    if txpk.get("imme"):
        event.tx_info.timing.immediately.SetInParent()
    else:
        event.tx_info.timing.delay.delay.FromSeconds(txpk.get("delay_s", 1))
    return event


def ack_event(registry: Registry, device: Device, queue_item_id: str, acknowledged: bool,
              fcnt_down: int, deduplication_id: str | None = None) -> integration.AckEvent:
    """deduplication_id: of the uplink that carried the answer; "" for a Class C timeout (no uplink)."""
    if deduplication_id is None:
        deduplication_id = str(uuid.uuid4())
    event = integration.AckEvent(deduplication_id=deduplication_id, device_info=device_info(registry, device),
                                 queue_item_id=queue_item_id, acknowledged=acknowledged, f_cnt_down=fcnt_down)
    _now(event.time)
    return event


def status_event(registry: Registry, device: Device, deduplication_id: str, battery: int,
                 margin_db: int) -> integration.StatusEvent:
    """DevStatusAns as ChirpStack reports it (maccommand/dev_status.rs): battery 0 = external power,
    1..254 = level (percent of 254), 255 = the device cannot measure it."""
    event = integration.StatusEvent(deduplication_id=deduplication_id, device_info=device_info(registry, device),
                                    margin=margin_db, external_power_source=battery == 0,
                                    battery_level_unavailable=battery == 255,
                                    battery_level=battery / 254 * 100 if 0 < battery < 255 else 0.0)
    _now(event.time)
    return event


def log_event(registry: Registry, device: Device | None, code: int, description: str,
              context: dict[str, str] | None = None, level: int = integration.ERROR) -> integration.LogEvent:
    info = device_info(registry, device) if device is not None else integration.DeviceInfo()
    event = integration.LogEvent(device_info=info, level=level, code=code, description=description,
                                 context=context or {})
    _now(event.time)
    return event


EVENT_NAMES = {"UplinkEvent": "up", "JoinEvent": "join", "TxAckEvent": "txack", "AckEvent": "ack",
               "LogEvent": "log", "StatusEvent": "status"}


def event_name(message: Any) -> str:
    return EVENT_NAMES[type(message).__name__]
