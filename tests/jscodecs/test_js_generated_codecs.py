"""The generated codecs: current with the catalogue, ES5-only, no leaked globals, their own examples pass."""

from __future__ import annotations

import re

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


# ES2015+ syntax TTN's ES5.1 engine would reject (comments and strings removed first).
ES2015_SYNTAX = re.compile(r"\b(let|const|class|import|export)\b|=>|`|\.\.\.")


def _code_only(source: str) -> str:
    without_strings = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', source)
    return re.sub(r"//[^\n]*", "", without_strings)


@pytest.mark.parametrize("device", DEVICES)
def test_codec_uses_es5_syntax_only(device: str) -> None:
    found = ES2015_SYNTAX.findall(_code_only(codec_source(device)))
    assert not found, f"ES2015+ syntax in {device}.js: {found}"


def test_es5_check_catches_es2015() -> None:
    assert ES2015_SYNTAX.search(_code_only('var a = "let"; // const\nconst b = (x) => x;'))


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
