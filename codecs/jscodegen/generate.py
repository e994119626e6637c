"""Writes the JS codecs and their example files from the catalogue; `--check` reports stale ones.

    PYTHONPATH=codecs .venv/bin/python -m jscodegen           # (re)write the generated files
    PYTHONPATH=codecs .venv/bin/python -m jscodegen --check   # exit 1 if any is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tingcodec import catalogue

from jscodegen import CODECS_DIR, JS_DIR, cbor_core_source
from jscodegen.catalogue_data import message_table_lines, messages_data
from jscodegen.examples import examples

CHIRPSTACK_DIR = CODECS_DIR / "chirpstack"
TTN_DIR = CODECS_DIR / "ttn"


def codec_source(device: str) -> str:
    """The complete codec script for one device type."""
    replacements = {
        "@DEVICE@": device,
        "@MESSAGE_TABLE@": "\n".join("//   " + line for line in message_table_lines(device)),
        "@DEVICE_JSON@": json.dumps(device),
        "@MESSAGES_JSON@": json.dumps(messages_data(device), separators=(",", ":")),  # ASCII-only source
        "@CBOR_CORE@": cbor_core_source().rstrip("\n"),
        "@MESSAGE_CODEC@": (JS_DIR / "message_codec.js").read_text(encoding="utf-8").rstrip("\n"),
    }
    text = (JS_DIR / "codec_template.js").read_text(encoding="utf-8")
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    return text


def _flow(value: Any) -> str:
    # JSON is YAML flow syntax: one line per example value, no YAML library needed.
    return json.dumps(value, ensure_ascii=False)


def ttn_codec_yaml(device: str) -> str:
    """TTN Device Repository codec definition (`vendor/<vendor>/<codec-id>.yaml`) with examples."""
    found = examples(device)
    lines = [f"# Tingbro {device} codec for the TTN Device Repository: put codecs/chirpstack/{device}.js",
             "# beside this file (vendor/<vendor>/). GENERATED from codecs/tingcodec/catalogue.py by",
             "# `make jscodecs`: do not edit by hand."]
    for section, key in (("uplinkDecoder", "uplink"), ("downlinkEncoder", "downlink_encode"),
                         ("downlinkDecoder", "downlink_decode")):
        lines += [f"{section}:", f"  fileName: {device}.js", "  examples:"]
        for example in found[key]:
            lines += [f"    - description: {_flow(example['description'])}",
                      f"      input: {_flow(example['input'])}",
                      f"      output: {_flow(example['output'])}"]
    return "\n".join(lines) + "\n"


def chirpstack_tests(device: str) -> tuple[str, str]:
    """ChirpStack device-profile repository test files (test_decode_*.json, test_encode_*.json)."""
    found = examples(device)
    decode = [{"name": f"Test decode {example['description']}", "input": example["input"],
               "expected": example["output"]} for example in found["uplink"]]
    encode = [{"name": f"Test encode {example['description']}", "input": example["input"],
               "expected": example["output"]} for example in found["downlink_encode"]]
    return (json.dumps(decode, indent=2, ensure_ascii=False) + "\n",
            json.dumps(encode, indent=2, ensure_ascii=False) + "\n")


def generated_files() -> dict[Path, str]:
    """Every generated file and its content."""
    files: dict[Path, str] = {}
    for device in catalogue.DEVICE_TYPES:
        source = codec_source(device)
        decode_tests, encode_tests = chirpstack_tests(device)
        files[CHIRPSTACK_DIR / f"{device}.js"] = source
        files[CHIRPSTACK_DIR / f"test_decode_{device}.json"] = decode_tests
        files[CHIRPSTACK_DIR / f"test_encode_{device}.json"] = encode_tests
        files[TTN_DIR / f"{device}-codec.yaml"] = ttn_codec_yaml(device)
    return files


def stale_files() -> list[Path]:
    """Generated files whose committed content differs from what the catalogue gives now."""
    return [path for path, text in generated_files().items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jscodegen", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1 if any)")
    args = parser.parse_args(argv)
    stale = stale_files()
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(CODECS_DIR.parent)}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in generated_files().items():
        if path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(CODECS_DIR.parent)}")
    return 0
