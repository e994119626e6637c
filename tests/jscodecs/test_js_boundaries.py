"""Every field of every message at and beyond its limits: JS (QuickJS as ChirpStack runs it, and
node) must accept and reject exactly what tingcodec accepts and rejects, with the same result."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest
import tingcodec
from jscodegen.catalogue_data import wire_bounds
from jscodegen.quickjs_runner import downlink_input, run_chirpstack, uplink_input
from jsharness import DEVICES, assert_clean_errors, codec_source, node_script_case, run_node_cases
from tingcodec import catalogue


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


def wire_variants(field: dict[str, Any]) -> list[Any]:
    kind = field["kind"]
    if kind == "int":
        low, high = wire_bounds(field)
        return [low - 1, low, high, high + 1, "x", None]
    if kind == "flags":
        return [0, 2 ** len(field["bits"]) - 1, 2**32 - 1, 2**32, -1, True]
    if kind == "enum":
        return [-1, 0, len(field["values"]) - 1, len(field["values"]), "0"]
    width = sum(sub["width"] for sub in field["item"])
    variants: list[Any] = [[], [0] * field["max_items"], [0] * (field["max_items"] + 1), [2**width - 1],
                           [2**width], [-1], 5, [[0]]]
    shift = 0
    for sub in field["item"]:
        top = len(sub["values"]) - 1 if sub.get("values") else sub["max"] - sub["min"]
        variants += [[top << shift], [(top + 1) << shift]] if top + 1 < 2 ** sub["width"] else [[top << shift]]
        shift += sub["width"]
    return variants


def decode_cases(device: str) -> list[tuple[str, int, bytes]]:
    cases = []
    for msg in catalogue.MESSAGES[device]:
        base = [mid_wire(device, field) for field in msg["fields"]]
        payloads = [base, base[:-1], base + [7], base + [[1, 2]], []]
        for index, field in enumerate(msg["fields"]):
            payloads += [base[:index] + [variant] + base[index + 1:] for variant in wire_variants(field)]
        cases += [(msg["direction"], msg["fport"], tingcodec.cbor.dumps(items)) for items in payloads]
        # Items a newer sender appends are ignored, but only in canonical form (1.5 as a half
        # float and sorted map keys are; 1.5 as a double and unsorted keys are not).
        cases += [(msg["direction"], msg["fport"], tingcodec.cbor.dumps(base + [1.5, {"b": 1, "aa": 2}])),
                  (msg["direction"], msg["fport"], cbor2.dumps(base + [1.5])),
                  (msg["direction"], msg["fport"], cbor2.dumps(base + [{"aa": 2, "b": 1}]))]
    return cases


def field_value_variants(field: dict[str, Any]) -> list[tuple[str, Any]]:
    kind = field["kind"]
    if kind == "int":
        low, high, unit = field["min"], field["max"], field["step"] / field["scale"]
        return [(field["name"], value) for value in (low, high, low - unit, high + unit, low - field["step"],
                                                     high + field["step"], (low + high) / 2 + 0.25, "1", True)]
    if kind == "flags":
        return [(bit, value) for bit in field["bits"] for value in (True, False, 1)]
    if kind == "enum":
        return [(field["name"], value) for value in (*field["values"], "bogus", 0)]
    item = {sub["name"]: sub["values"][0] if sub.get("values") else sub["min"] for sub in field["item"]}
    variants = [[], [item] * field["max_items"], [item] * (field["max_items"] + 1), [dict(item, extra=1)], [1],
                "points"]
    for sub in field["item"]:
        if sub.get("values"):
            variants += [[dict(item, **{sub["name"]: value})] for value in (*sub["values"], "bogus")]
        else:
            variants += [[dict(item, **{sub["name"]: value})] for value in (sub["min"] - 1, sub["max"],
                                                                            sub["max"] + 1, 1.5)]
        variants.append([{key: value for key, value in item.items() if key != sub["name"]}])
    return [(field["name"], value) for value in variants]


def encode_cases(device: str) -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for msg in catalogue.MESSAGES[device]:
        if msg["direction"] != "down":
            continue
        base = tingcodec.decode(*tingcodec_example(device, msg), device, direction="down")["fields"]
        cases += [(msg["name"], base), (msg["name"], dict(base, surprise=1))]
        for field in msg["fields"]:
            names = tingcodec.output_names(field)
            cases.append((msg["name"], {key: value for key, value in base.items() if key not in names}))
            cases += [(msg["name"], dict(base, **{name: value})) for name, value in field_value_variants(field)]
    return cases


def tingcodec_example(device: str, msg: dict[str, Any]) -> tuple[int, bytes]:
    return msg["fport"], tingcodec.cbor.dumps([mid_wire(device, field) for field in msg["fields"]])


def python_decode(device: str, direction: str, fport: int, payload: bytes) -> dict | None:
    try:
        return {"data": tingcodec.decode(fport, payload, device, direction=direction)}
    except tingcodec.CodecError:
        return None


def python_encode(device: str, name: str, fields: dict[str, Any]) -> dict | None:
    try:
        fport, payload = tingcodec.encode(device, name, fields)
    except tingcodec.CodecError:
        return None
    return {"fPort": fport, "bytes": list(payload)}


def assert_same(result: Any, expected: dict | None, context: Any) -> None:
    if expected is None:
        assert_clean_errors(result)
    else:
        assert result == expected, context


def function_for(direction: str) -> str:
    return "decodeUplink" if direction == "up" else "decodeDownlink"


@pytest.mark.parametrize("device", DEVICES)
def test_decode_boundaries_quickjs_chirpstack_module(device: str) -> None:
    source = codec_source(device)
    cases = decode_cases(device)
    accepted = 0
    for direction, fport, payload in cases:
        expected = python_decode(device, direction, fport, payload)
        accepted += expected is not None
        result = run_chirpstack(source, function_for(direction), uplink_input(fport, payload))
        assert_same(result, expected, (direction, fport, payload.hex()))
    assert 0 < accepted < len(cases)  # both sides of every limit were exercised


@pytest.mark.parametrize("device", DEVICES)
def test_encode_boundaries_quickjs_chirpstack_module(device: str) -> None:
    source = codec_source(device)
    cases = encode_cases(device)
    accepted = 0
    for name, fields in cases:
        expected = python_encode(device, name, fields)
        accepted += expected is not None
        result = run_chirpstack(source, "encodeDownlink", downlink_input({"message": name, "fields": fields}))
        assert_same(result, expected, (name, fields))
    assert 0 < accepted < len(cases)


@pytest.mark.parametrize("device", DEVICES)
def test_boundaries_in_node(device: str) -> None:
    decodes = decode_cases(device)
    encodes = encode_cases(device)
    node_cases = [node_script_case(function_for(direction), uplink_input(fport, payload))
                  for direction, fport, payload in decodes]
    node_cases += [node_script_case("encodeDownlink", downlink_input({"message": name, "fields": fields}))
                   for name, fields in encodes]
    _, results = run_node_cases(codec_source(device), node_cases)
    expected = [python_decode(device, *case) for case in decodes]
    expected += [python_encode(device, *case) for case in encodes]
    for result, wanted, case in zip(results, expected, decodes + encodes, strict=True):
        assert "ok" in result, result
        assert_same(result["ok"], wanted, case)


def test_documented_difference_big_integer_in_an_appended_item() -> None:
    # README "Known differences": JS numbers are exact only below 2^53, so the JS refuses what
    # Python ignores. If tingcodec ever refuses it too, this test says the README is outdated.
    msg = catalogue.MESSAGES["streetlight"][2]
    payload = tingcodec.cbor.dumps([mid_wire("streetlight", field) for field in msg["fields"]] + [2**53])
    assert python_decode("streetlight", "up", msg["fport"], payload) is not None
    assert_clean_errors(run_chirpstack(codec_source("streetlight"), "decodeUplink", uplink_input(msg["fport"], payload)))
