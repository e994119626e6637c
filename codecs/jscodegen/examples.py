"""Worked examples for the TTN codec YAML and ChirpStack's test files, computed by tingcodec.

Each message gets one example with tingcodec's typical fields (`tingcodec.examples.typical`);
the bytes and the expected output are what the Python codec (the reference) gives. Downlinks
also get an out-of-range example, and each device an unknown-fPort one, with the JS codec's
error text (tests check it verbatim).
"""

from __future__ import annotations

from typing import Any

import tingcodec
from tingcodec import catalogue
from tingcodec.examples import typical


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
        fport, payload = tingcodec.encode(device, msg["name"], typical(device, msg["name"]))
        decoded = tingcodec.decode(fport, payload, device, direction=msg["direction"])
        wire = {"fPort": fport, "bytes": list(payload)}
        description = f"{msg['name']} ({msg['direction']}link, fPort {msg['fport']})"
        if msg["direction"] == "up":
            found["uplink"].append({"description": description, "input": wire, "output": {"data": decoded}})
            continue
        if tingcodec.encode(device, msg["name"], decoded["fields"]) != (fport, payload):
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
