"""The per-device firmware config JSON, in the shape the firmware validates (firmware/tingfw/config.py).

Only what provisioning decides is written (identity, keys, region, board, the reporting interval,
a streetlight's location for sunset/sunrise); every other setting keeps the firmware's default.
When the firmware sources are importable the config is checked with the firmware's own validator,
so a config that would make the device blink an error code is never written.
"""

from __future__ import annotations

from typing import Any

from tingbro.control.device_types import INTERVAL_FIELD

DEFAULT_BOARD = "heltec_wifi_lora32_v3"


class FirmwareConfigError(ValueError):
    pass


def firmware_config(spec: dict[str, Any], dev_eui: str, join_eui: str, app_key: str,
                    interval_s: int) -> dict[str, Any]:
    device_type = spec["device_type"]
    config: dict[str, Any] = {
        "device": device_type,
        "name": spec["name"],
        "dev_eui": dev_eui,
        "join_eui": join_eui,
        "app_key": app_key,
        "region": "EU868",
        "board": spec.get("board") or DEFAULT_BOARD,
        "intervals": {INTERVAL_FIELD[device_type]: interval_s},
    }
    if device_type == "streetlight":
        config["location"] = {"latitude_deg": spec["lat"], "longitude_deg": spec["lon"]}
    check_with_firmware(config)
    return config


def check_with_firmware(config: dict[str, Any]) -> None:
    """Run the firmware's validator on `config` when the firmware sources are on the path."""
    try:
        from tingfw import boards
        from tingfw import config as firmware
    except ImportError:  # an installed bridge without the firmware tree
        return
    try:
        firmware.validate(config, boards.board_names())
    except firmware.ConfigError as exc:  # its messages never echo key values
        raise FirmwareConfigError(f"device {config['name']}: firmware would reject its config: {exc.message}") from None
