"""Helpers for the JS codec tests: run cases in node (batched) and compare JS values with Python ones."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from conftest import run_node

HERE = Path(__file__).resolve().parent


def run_node_cases(source: str, cases: list[dict[str, Any]], setup: str = "") -> tuple[list[str], list[dict]]:
    """Run `cases` (see node_runner.js) against `source` in one node process.

    Returns (names the source added to the global object, one result per case).
    """
    request = json.dumps({"source": source, "setup": setup, "cases": cases})
    result = run_node((HERE / "node_runner.js").read_text(encoding="utf-8"), input_text=request, timeout=60)
    assert result.returncode == 0, f"node runner failed:\n{result.stderr}"
    answer = json.loads(result.stdout)
    assert len(answer["results"]) == len(cases)
    return answer["newGlobals"], answer["results"]


def tree_of(value: Any) -> list:
    """The Python twin of tree.js `toTree`: a JSON-safe tagged form of a decoded CBOR value."""
    if value is None:
        return ["null"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, float):
        if math.isnan(value):
            return ["nan"]
        if math.isinf(value):
            return ["inf", 1 if value > 0 else -1]
        if value == 0 and math.copysign(1, value) < 0:
            return ["negzero"]
        return ["num", value]
    if isinstance(value, int):
        return ["num", value]
    if isinstance(value, str):
        return ["text", value]
    if isinstance(value, bytes):
        return ["bytes", list(value)]
    if isinstance(value, list):
        return ["array", [tree_of(item) for item in value]]
    if isinstance(value, dict):
        return ["map", [[str(key), tree_of(item)] for key, item in value.items()]]
    raise TypeError(f"no tree for {type(value).__name__}")


def normalized(tree: list) -> Any:
    """Map entries sorted by key (JS objects list integer keys first), numbers as doubles."""
    kind = tree[0]
    if kind == "array":
        return ["array", [normalized(item) for item in tree[1]]]
    if kind == "map":
        return ["map", sorted(([key, normalized(item)] for key, item in tree[1]), key=lambda pair: pair[0])]
    if kind == "num":
        # JS has one number type; JSON prints big integral doubles as ints: compare as doubles.
        return ["num", float(tree[1])]
    return tree


CODECS = HERE.parent.parent / "codecs"
DEVICES = ("fill_level", "lifebuoy", "streetlight")


def codec_source(device: str) -> str:
    """A committed, generated codec (the same file serves ChirpStack and TTN)."""
    return (CODECS / "chirpstack" / f"{device}.js").read_text(encoding="utf-8")


def node_module_case(function_name: str, input_object: dict[str, Any]) -> dict[str, Any]:
    """A node case that runs the codec inside ChirpStack's exact ES module wrapper."""
    return {"mode": "module", "fn": function_name, "input": input_object}


def node_script_case(function_name: str, input_object: dict[str, Any]) -> dict[str, Any]:
    """A node case that calls the codec loaded as a plain script (TTN style)."""
    return {"mode": "script",
            "expr": f"JSON.stringify({function_name}(JSON.parse({json.dumps(json.dumps(input_object))})))"}


def assert_clean_errors(result: Any) -> None:
    """A codec's answer to bad input: {errors: [non-empty strings]} and no data/bytes."""
    assert isinstance(result, dict) and set(result) == {"errors"}, result
    assert result["errors"] and all(isinstance(text, str) and text for text in result["errors"]), result
