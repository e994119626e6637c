"""Runs a JS codec in QuickJS (PyPI `quickjs`) the way ChirpStack >= 4.17 does, or as a plain script.

ChirpStack wraps the codec source in an ES module, evaluated in a fresh runtime per call
with a 100 ms interrupt:

    import { Buffer } from "buffer";
    <codec source>
    export default decodeUplink(chirpstack_input);

The `quickjs` package has no module loader, so the import line is replaced by a top-level
`const Buffer`: like the import binding it is lexical, so a codec that declares its own
`Buffer` fails here with the same redeclaration error. Everything else (module scope, strict
mode, the input object from a global, one context per call) is as ChirpStack does it.
"""

from __future__ import annotations

import json
from typing import Any

import quickjs

CHIRPSTACK_TIME_LIMIT_S = 0.1


def chirpstack_module_source(codec_source: str, function_name: str) -> str:
    """The ES module ChirpStack evaluates, with the result also kept as JSON on globalThis."""
    return (
        "const Buffer = undefined;\n"
        f"{codec_source}\n"
        f"export default (globalThis.__tingbro_result = JSON.stringify({function_name}(chirpstack_input)));\n"
    )


def uplink_input(fport: int, payload: bytes | list[int]) -> dict[str, Any]:
    return {"bytes": list(payload), "fPort": fport, "variables": {}}


def downlink_input(data: Any) -> dict[str, Any]:
    return {"data": data, "variables": {}}


def run_chirpstack(codec_source: str, function_name: str, input_object: dict[str, Any],
                   time_limit_s: float = CHIRPSTACK_TIME_LIMIT_S, recv_time_ms: int = 1700000000000) -> Any:
    """One ChirpStack-style invocation in a fresh context; returns the codec's result as JSON data.

    `recvTime` is added as a JS Date (at recv_time_ms, Unix ms) like ChirpStack does. Raises
    quickjs.JSException when the codec throws or runs over the time limit.
    """
    context = quickjs.Context()
    context.set_time_limit(time_limit_s)
    context.eval(
        f"globalThis.chirpstack_input = {json.dumps(input_object)};\n"
        f"globalThis.chirpstack_input.recvTime = new Date({int(recv_time_ms)});\n"
    )
    context.module(chirpstack_module_source(codec_source, function_name))
    return json.loads(context.get("__tingbro_result"))


class ScriptCodec:
    """A codec loaded once as a plain (sloppy-mode) script, as TTN and older ChirpStack load it."""

    def __init__(self, codec_source: str) -> None:
        self.context = quickjs.Context()
        self.globals_before = set(self._global_names())
        self.context.eval(codec_source)
        self._call = self.context.eval(
            "(function (name, inputJson) { return JSON.stringify(globalThis[name](JSON.parse(inputJson))); })"
        )

    def _global_names(self) -> list[str]:
        return json.loads(self.context.eval("JSON.stringify(Object.getOwnPropertyNames(globalThis))"))

    def new_globals(self) -> set[str]:
        """Names the codec added to the global object."""
        return set(self._global_names()) - self.globals_before

    def call(self, function_name: str, input_object: dict[str, Any]) -> Any:
        return json.loads(self._call(function_name, json.dumps(input_object)))
