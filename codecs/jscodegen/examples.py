"""Worked examples for the TTN codec YAML and ChirpStack's test files, computed by tingcodec.

Each message gets one example built from mid-range wire values; the expected output is what
the Python codec (the reference) decodes. Downlinks also get an out-of-range example, and
each device an unknown-fPort one, with the JS codec's error text (tests check it verbatim).
"""

from __future__ import annotations

from typing import Any

import tingcodec
from tingcodec import catalogue

from jscodegen.catalogue_data import wire_bounds


def mid_wire(device: str, field: dict[str, Any]) -> Any:
    """A mid-range wire item for a field (a list field gets its minimum count of mid items)."""
    kind = field["kind"]
    if kind == "enum" and device in field["values"]:  # device_info names its own type
        return field["values"].index(device)
    if kind == "int":
        low, high = wire_bounds(field)
        return (low + high) // 2
    if kind == "flags":
        return 1
    if kind == "enum":
        return min(1, len(field["values"]) - 1)
    packed = 0
    shift = 0
    for sub in field["item"]:
        stored = 0 if sub.get("values") else (sub["max"] - sub["min"]) // 2
        packed |= stored << shift
        shift += sub["width"]
    return [packed] * max(1, field["min_items"])


def _out_of_range(msg: dict[str, Any], fields: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    for field in msg["fields"]:
        if field["kind"] == "int":
            bad = dict(fields, **{field["name"]: field["max"] + field["step"]})
            return bad, (f"field {field['name']}: {field['max'] + field['step']} outside "
                         f"{field['min']}..{field['max']} {field['unit']}")
    return None


def examples(device: str) -> dict[str, list[dict[str, Any]]]:
    """{"uplink": [...], "downlink_encode": [...], "downlink_decode": [...]} in TTN's example shape."""
    found: dict[str, list[dict[str, Any]]] = {"uplink": [], "downlink_encode": [], "downlink_decode": []}
    for msg in catalogue.MESSAGES[device]:
        payload = tingcodec.cbor.dumps([mid_wire(device, field) for field in msg["fields"]])
        decoded = tingcodec.decode(msg["fport"], payload, device, direction=msg["direction"])
        wire = {"fPort": msg["fport"], "bytes": list(payload)}
        description = f"{msg['name']} ({msg['direction']}link, fPort {msg['fport']})"
        if msg["direction"] == "up":
            found["uplink"].append({"description": description, "input": wire, "output": {"data": decoded}})
            continue
        if tingcodec.encode(device, msg["name"], decoded["fields"]) != (msg["fport"], payload):
            raise AssertionError(f"{device} {msg['name']}: example does not re-encode to its payload")
        found["downlink_decode"].append({"description": description, "input": wire, "output": {"data": decoded}})
        found["downlink_encode"].append({"description": description, "input": {"data": decoded}, "output": wire})
        rejected = _out_of_range(msg, decoded["fields"])
        if rejected:
            found["downlink_encode"].append({
                "description": f"{msg['name']}: out of range is rejected",
                "input": {"data": {"message": msg["name"], "fields": rejected[0]}},
                "output": {"errors": [f"{device}: {rejected[1]}"]},
            })
    found["uplink"].append({
        "description": "unknown fPort", "input": {"fPort": 99, "bytes": [128]},
        "output": {"errors": [f"{device}: no uplink message on fPort 99 for {device}"]},
    })
    return found
