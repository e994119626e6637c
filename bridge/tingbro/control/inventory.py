"""The technician's inventory: devices to provision, from a CSV file or one command line.

CSV header (comma-separated, UTF-8; extra columns are ignored):
    name,device_type,lat,lon,municipality,bin_height_mm,bin_empty_distance_mm,bin_full_distance_mm,group,board
Geometry columns are for fill_level only: the sensor-to-bottom distance of an empty bin and the
sensor-to-surface distance of a full one (defaults: the bin height and 0).
`board` names the firmware board (default heltec_wifi_lora32_v3; see firmware/tingfw/boards).
`group` (streetlights only) names a Class C multicast group, e.g. a street dimmed at once.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from tingbro.control.device_types import canonical_type

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SENSOR_MAX_MM = 5100  # the catalogue's distance_mm range


class InventoryError(ValueError):
    """A bad inventory row; the message names the row and the column."""


def _number(row: dict[str, str], column: str, where: str, lo: float, hi: float, required: bool) -> float | None:
    text = (row.get(column) or "").strip()
    if not text:
        if required:
            raise InventoryError(f"{where}: column {column} is required")
        return None
    try:
        value = float(text)
    except ValueError:
        raise InventoryError(f"{where}: {column}={text!r} is not a number") from None
    if not lo <= value <= hi:
        raise InventoryError(f"{where}: {column}={text} is out of range {lo:g}..{hi:g}")
    return value


def parse_row(row: dict[str, str], where: str) -> dict[str, Any]:
    """One inventory row -> a device spec dict (name, device_type, lat, lon, municipality, geometry)."""
    name = (row.get("name") or "").strip()
    if not NAME_PATTERN.match(name):
        raise InventoryError(f"{where}: name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
    try:
        device_type = canonical_type(row.get("device_type") or "")
    except ValueError as exc:
        raise InventoryError(f"{where}: {exc}") from None
    spec: dict[str, Any] = {
        "name": name,
        "device_type": device_type,
        "lat": _number(row, "lat", where, -90, 90, required=True),
        "lon": _number(row, "lon", where, -180, 180, required=True),
        "municipality": (row.get("municipality") or "").strip().lower() or None,
    }
    board = (row.get("board") or "").strip()
    if board:
        if not NAME_PATTERN.match(board):
            raise InventoryError(f"{where}: board {board!r} is not a board name")
        spec["board"] = board
    group = (row.get("group") or "").strip()
    if group:
        if device_type != "streetlight":
            raise InventoryError(f"{where}: group {group!r}: multicast groups are for Class C streetlights only")
        if not NAME_PATTERN.match(group):
            raise InventoryError(f"{where}: group {group!r} must be 1-64 letters, digits, '.', '_' or '-'")
        spec["group"] = group
    if device_type == "fill_level":
        height = _number(row, "bin_height_mm", where, 1, SENSOR_MAX_MM, required=True)
        empty = _number(row, "bin_empty_distance_mm", where, 1, SENSOR_MAX_MM, required=False)
        full = _number(row, "bin_full_distance_mm", where, 0, SENSOR_MAX_MM, required=False)
        spec["bin_height_mm"] = int(height or 0)
        spec["bin_empty_distance_mm"] = int(empty if empty is not None else height or 0)
        spec["bin_full_distance_mm"] = int(full if full is not None else 0)
        if spec["bin_full_distance_mm"] >= spec["bin_empty_distance_mm"]:
            raise InventoryError(f"{where}: bin_full_distance_mm must be less than bin_empty_distance_mm")
    return spec


def parse_csv(text: str, source: str = "CSV") -> list[dict[str, Any]]:
    """All rows of an inventory CSV; names must be unique. Raises InventoryError on the first bad row."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"name", "device_type", "lat", "lon"} - set(reader.fieldnames or ())
    if missing:
        raise InventoryError(f"{source}: missing column(s) {', '.join(sorted(missing))}")
    specs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line_number, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # blank line
        spec = parse_row(row, f"{source} line {line_number}")
        if spec["name"] in seen:
            raise InventoryError(f"{source} line {line_number}: name {spec['name']!r} appears twice")
        seen.add(spec["name"])
        specs.append(spec)
    if not specs:
        raise InventoryError(f"{source}: no devices listed")
    return specs


def device_tags(spec: dict[str, Any], interval_s: int) -> dict[str, str]:
    """ChirpStack device tags, named as the bridge reads them (bridge/tingbro/decode.py), plus the
    bin height and the uplink interval the watchdog expects."""
    tags = {
        "tingbro_device_type": spec["device_type"],
        "tingbro_latitude": f"{spec['lat']:.6f}",
        "tingbro_longitude": f"{spec['lon']:.6f}",
        "tingbro_uplink_interval_s": str(interval_s),
    }
    if spec.get("municipality"):
        tags["tingbro_municipality"] = spec["municipality"]
    if spec["device_type"] == "fill_level":
        tags["tingbro_bin_height_mm"] = str(spec["bin_height_mm"])
        tags["tingbro_bin_empty_mm"] = str(spec["bin_empty_distance_mm"])
        tags["tingbro_bin_full_mm"] = str(spec["bin_full_distance_mm"])
    return tags
