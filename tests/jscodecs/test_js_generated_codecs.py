"""The generated codecs: current with the catalogue, ES5-only, no leaked globals, their own examples pass."""

from __future__ import annotations

import esprima
import pytest
import yaml
from jscodegen.generate import generated_files, stale_files
from jscodegen.quickjs_runner import ScriptCodec, run_chirpstack
from jsharness import CODECS, DEVICES, codec_source, node_module_case, node_script_case, run_node_cases

API = {"decodeUplink", "decodeDownlink", "encodeDownlink"}
SECTIONS = {"uplinkDecoder": "decodeUplink", "downlinkEncoder": "encodeDownlink", "downlinkDecoder": "decodeDownlink"}


def test_committed_codecs_are_what_the_catalogue_generates() -> None:
    stale = stale_files()
    assert not stale, f"stale generated files, run `make jscodecs`: {[str(p) for p in stale]}"


def test_codecs_are_ascii_only() -> None:
    # Pasted through web forms and stored by network servers: no encoding surprises.
    for device in DEVICES:
        assert codec_source(device).isascii()


def test_codecs_fit_ttn_size_limit() -> None:
    for path in generated_files():
        if path.suffix == ".js":
            assert path.stat().st_size <= 40 * 1024, f"{path} exceeds TTN's 40 KB formatter limit"


# ESTree node types of ECMAScript 5.1: anything else (arrows, classes, let/const, templates,
# spread, destructuring, for-of, ...) would fail in TTN's ES5.1 engine.
ES5_NODES = {
    "Program", "ExpressionStatement", "BlockStatement", "EmptyStatement", "ReturnStatement", "LabeledStatement",
    "BreakStatement", "ContinueStatement", "IfStatement", "SwitchStatement", "SwitchCase", "ThrowStatement",
    "TryStatement", "CatchClause", "WhileStatement", "DoWhileStatement", "ForStatement", "ForInStatement",
    "FunctionDeclaration", "VariableDeclaration", "VariableDeclarator", "ThisExpression", "ArrayExpression",
    "ObjectExpression", "Property", "FunctionExpression", "UnaryExpression", "UpdateExpression",
    "BinaryExpression", "AssignmentExpression", "LogicalExpression", "MemberExpression", "ConditionalExpression",
    "CallExpression", "NewExpression", "SequenceExpression", "Identifier", "Literal",
}
# Library functions added in ES2015+ (Uint8Array is used only behind a typeof guard).
ES2015_METHODS = {"from", "of", "assign", "isInteger", "isSafeInteger", "trunc", "sign", "fround", "includes",
                  "startsWith", "endsWith", "padStart", "padEnd", "find", "findIndex", "fill", "repeat",
                  "codePointAt", "fromCodePoint"}
ES2015_GLOBALS = {"Map", "Set", "WeakMap", "Symbol", "Promise", "Reflect", "Proxy", "DataView", "TextDecoder",
                  "TextEncoder", "BigInt"}


def es2015_features(source: str) -> list[str]:
    found = []

    def walk(node: object) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind is not None:
            if kind not in ES5_NODES:
                found.append(kind)
            if kind == "VariableDeclaration" and node["kind"] != "var":
                found.append(node["kind"])
            if kind == "Property" and (node.get("shorthand") or node.get("method") or node.get("computed")):
                found.append("ES2015 property syntax")
            if kind in ("FunctionDeclaration", "FunctionExpression") and (node.get("generator") or node.get("isAsync")):
                found.append("generator/async function")
            if kind == "MemberExpression" and not node["computed"] and node["property"]["name"] in ES2015_METHODS:
                found.append("." + node["property"]["name"])
            if kind == "Identifier" and node["name"] in ES2015_GLOBALS:
                found.append(node["name"])
        for value in node.values():
            walk(value)

    walk(esprima.parseScript(source).toDict())
    return found


@pytest.mark.parametrize("device", DEVICES)
def test_codec_is_ecmascript_5(device: str) -> None:
    assert es2015_features(codec_source(device)) == []


def test_es5_check_catches_es2015() -> None:
    found = es2015_features("let a = 1; var f = (x) => x; var o = {a}; Object.assign({}, o); var s = `t`;"
                            "var m = new Map(); var sign = 1;")
    assert set(found) == {"let", "ArrowFunctionExpression", "ES2015 property syntax", ".assign", "TemplateLiteral",
                          "TemplateElement", "Map"}


@pytest.mark.parametrize("device", DEVICES)
def test_plain_script_defines_only_the_codec_api(device: str) -> None:
    assert ScriptCodec(codec_source(device)).new_globals() == API
    new_globals, _ = run_node_cases(codec_source(device), [])
    assert set(new_globals) == API


def _yaml_examples(device: str) -> list[tuple[str, dict, dict]]:
    definition = yaml.safe_load((CODECS / "ttn" / f"{device}-codec.yaml").read_text(encoding="utf-8"))
    cases = []
    for section, function_name in SECTIONS.items():
        assert definition[section]["fileName"] == f"{device}.js"
        for example in definition[section]["examples"]:
            cases.append((function_name, example["input"], example["output"]))
    return cases


@pytest.mark.parametrize("device", DEVICES)
def test_ttn_examples_pass_in_quickjs_as_chirpstack_runs_them(device: str) -> None:
    cases = _yaml_examples(device)
    assert len(cases) >= 6
    source = codec_source(device)
    for function_name, input_object, expected in cases:
        assert run_chirpstack(source, function_name, input_object) == expected, (function_name, input_object)


@pytest.mark.parametrize("device", DEVICES)
def test_ttn_examples_pass_in_node_as_module_and_as_script(device: str) -> None:
    cases = _yaml_examples(device)
    node_cases = [node_module_case(fn, given) for fn, given, _ in cases]
    node_cases += [node_script_case(fn, given) for fn, given, _ in cases]
    _, results = run_node_cases(codec_source(device), node_cases)
    for result, (_, _, expected) in zip(results, cases + cases, strict=True):
        assert result == {"ok": expected}


@pytest.mark.parametrize("device", DEVICES)
def test_chirpstack_test_files_match_the_codec(device: str) -> None:
    import json

    source = codec_source(device)
    for kind, function_name in (("decode", "decodeUplink"), ("encode", "encodeDownlink")):
        tests = json.loads((CODECS / "chirpstack" / f"test_{kind}_{device}.json").read_text(encoding="utf-8"))
        assert tests
        for test in tests:
            assert run_chirpstack(source, function_name, test["input"]) == test["expected"], test["name"]
