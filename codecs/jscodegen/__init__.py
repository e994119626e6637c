"""Generates the ChirpStack and TTN JavaScript codecs from the tingcodec message catalogue.

`python -m jscodegen` (with `codecs` on PYTHONPATH) rewrites `codecs/chirpstack/*.js` and
`codecs/ttn/*`; `--check` only reports stale files. The JS sources the generator pastes
together live in `jscodegen/js/`.
"""

from __future__ import annotations

from pathlib import Path

JS_DIR = Path(__file__).resolve().parent / "js"
CODECS_DIR = Path(__file__).resolve().parent.parent


def cbor_core_source() -> str:
    """The CBOR core: function declarations meant to be pasted inside a function scope."""
    return (JS_DIR / "cbor_core.js").read_text(encoding="utf-8")


def cbor_library_source(name: str = "TingCbor") -> str:
    """The CBOR core as one script-level binding `name` = {decode, encode}, for tests and benches."""
    return (
        f"var {name} = (function () {{\n\"use strict\";\n{cbor_core_source()}\n"
        "return { decode: cborDecode, encode: cborEncode };\n})();\n"
    )
