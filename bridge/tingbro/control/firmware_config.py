"""The per-device firmware config JSON (device type, keys, region, intervals, thresholds)."""

from __future__ import annotations

from typing import Any

from tingbro.control.device_types import DEVICE_CLASS, FIRMWARE_DEFAULTS, INTERVAL_FIELD


def firmware_config(spec: dict[str, Any], dev_eui: str, join_eui: str, app_key: str,
                    interval_s: int) -> dict[str, Any]:
    device_type = spec["device_type"]
    config: dict[str, Any] = {
        "device_type": device_type,
        "name": spec["name"],
        "dev_eui": dev_eui,
        "join_eui": join_eui,
        "app_key": app_key,
        "region": "EU868",
        "lorawan_version": "1.0.4",
        "device_class": DEVICE_CLASS[device_type],
        INTERVAL_FIELD[device_type]: interval_s,
    }
    config.update(FIRMWARE_DEFAULTS[device_type])
    if device_type == "fill_level":
        config["bin_empty_distance_mm"] = spec["bin_empty_distance_mm"]
        config["bin_full_distance_mm"] = spec["bin_full_distance_mm"]
    return config
