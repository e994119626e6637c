"""Every shared vector (codecs/vectors.json) through the generated JS codecs.

Runtimes: QuickJS inside ChirpStack's ES module wrapper (fresh context per call, 100 ms limit),
QuickJS as a plain script (TTN style), node inside the same module wrapper (with the real
`import { Buffer } from "buffer"`), and node as a plain script. Each must give exactly what the
Python decoder gives and what the vector says; downlinks must encode to the vector's bytes.
Damaged copies of every vector must come back as errors, never as a throw.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import tingcodec
from jscodegen.quickjs_runner import ScriptCodec, downlink_input, run_chirpstack, uplink_input
from jsharness import (
    CODECS,
    DEVICES,
    assert_clean_errors,
    codec_source,
    node_module_case,
    node_script_case,
    run_node_cases,
)

VECTORS: list[dict[str, Any]] = json.loads((CODECS / "vectors.json").read_text(encoding="utf-8"))


def vectors_of(device: str) -> list[dict[str, Any]]:
    return [vector for vector in VECTORS if vector["device"] == device]


def decoder_for(vector: dict[str, Any]) -> str:
    return "decodeUplink" if vector["direction"] == "up" else "decodeDownlink"


def calls_and_expectations(vector: dict[str, Any]) -> list[tuple[str, dict, dict]]:
    """(function, input, expected output) for one vector; the expected output is Python's."""
    payload = bytes.fromhex(vector["hex"])
    python = tingcodec.decode(vector["fPort"], payload, vector["device"], direction=vector["direction"])
    assert python == {"message": vector["message"], "fields": vector["fields"]}
    calls = [(decoder_for(vector), uplink_input(vector["fPort"], payload), {"data": python})]
    if vector["direction"] == "down":
        calls.append(("encodeDownlink", downlink_input({"message": vector["message"], "fields": vector["fields"]}),
                      {"fPort": vector["fPort"], "bytes": list(payload)}))
    return calls


def damaged(vector: dict[str, Any]) -> list[tuple[str, dict]]:
    """Truncations, a trailing byte, a wrong fPort, garbage and malformed inputs: all must be errors."""
    payload = list(bytes.fromhex(vector["hex"]))
    function_name = decoder_for(vector)
    inputs = [uplink_input(vector["fPort"], payload[:cut]) for cut in range(len(payload))]
    inputs += [uplink_input(vector["fPort"], payload + [0]), uplink_input(vector["fPort"], payload + [0xff]),
               uplink_input(vector["fPort"] + 100, payload), uplink_input(0, payload),
               uplink_input(vector["fPort"], [0xff] * len(payload)),
               {"fPort": vector["fPort"], "bytes": [x + 256 for x in payload]},
               {"fPort": vector["fPort"], "bytes": vector["hex"]}, {"fPort": str(vector["fPort"]), "bytes": payload},
               {"fPort": vector["fPort"]}, {}]
    cases = [(function_name, given) for given in inputs]
    if vector["direction"] == "down":
        cases += [("encodeDownlink", {"data": {"message": vector["message"]}}),
                  ("encodeDownlink", {"data": {"message": vector["message"] + "x", "fields": vector["fields"]}}),
                  ("encodeDownlink", {"data": vector["fields"]}), ("encodeDownlink", {"data": None}),
                  ("encodeDownlink", {})]
    return cases


def test_vectors_cover_every_message_of_every_device() -> None:
    covered = {(vector["device"], vector["direction"], vector["message"]) for vector in VECTORS}
    for device in DEVICES:
        for msg in tingcodec.catalogue.MESSAGES[device]:
            assert (device, msg["direction"], msg["name"]) in covered


@pytest.mark.parametrize("device", DEVICES)
def test_vectors_in_quickjs_as_chirpstack_runs_them(device: str) -> None:
    source = codec_source(device)
    for vector in vectors_of(device):
        for function_name, given, expected in calls_and_expectations(vector):
            assert run_chirpstack(source, function_name, given) == expected, vector


@pytest.mark.parametrize("device", DEVICES)
def test_vectors_in_quickjs_as_plain_script(device: str) -> None:
    codec = ScriptCodec(codec_source(device))
    for vector in vectors_of(device):
        for function_name, given, expected in calls_and_expectations(vector):
            assert codec.call(function_name, given) == expected, vector


@pytest.mark.parametrize("device", DEVICES)
def test_vectors_in_node_as_module_and_as_script(device: str) -> None:
    calls = [call for vector in vectors_of(device) for call in calls_and_expectations(vector)]
    cases = [node_module_case(fn, given) for fn, given, _ in calls] + [node_script_case(fn, given)
                                                                       for fn, given, _ in calls]
    _, results = run_node_cases(codec_source(device), cases)
    for result, (_, given, expected) in zip(results, calls + calls, strict=True):
        assert result == {"ok": expected}, given


def first_vector_per_message(device: str) -> list[dict[str, Any]]:
    # A fresh module per call costs QuickJS ~4 ms and node ~20 ms: the module-wrapper runs of
    # damaged input use one vector per message, the plain-script runs use all of them.
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for vector in vectors_of(device):
        first.setdefault((vector["direction"], vector["message"]), vector)
    return list(first.values())


@pytest.mark.parametrize("device", DEVICES)
def test_damaged_vectors_are_errors_in_quickjs(device: str) -> None:
    source = codec_source(device)
    for vector in first_vector_per_message(device):
        for function_name, given in damaged(vector):
            assert_clean_errors(run_chirpstack(source, function_name, given))
    codec = ScriptCodec(source)
    for vector in vectors_of(device):
        for function_name, given in damaged(vector):
            assert_clean_errors(codec.call(function_name, given))


@pytest.mark.parametrize("device", DEVICES)
def test_damaged_vectors_are_errors_in_node(device: str) -> None:
    cases = [node_script_case(fn, given) for vector in vectors_of(device) for fn, given in damaged(vector)]
    cases += [node_module_case(fn, given) for vector in first_vector_per_message(device)
              for fn, given in damaged(vector)]
    _, results = run_node_cases(codec_source(device), cases)
    for result in results:
        assert "ok" in result, result
        assert_clean_errors(result["ok"])
