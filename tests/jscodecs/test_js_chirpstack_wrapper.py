"""The QuickJS emulation of ChirpStack's codec wrapper is strict where ChirpStack is strict."""

from __future__ import annotations

import pytest
import quickjs
from jscodegen.quickjs_runner import chirpstack_module_source, run_chirpstack, uplink_input


def test_wrapper_keeps_chirpstacks_last_line() -> None:
    source = chirpstack_module_source("function decodeUplink(input) { return {data: {}}; }", "decodeUplink")
    assert "export default" in source and "decodeUplink(chirpstack_input)" in source


def test_sloppy_mode_codec_fails_like_in_chirpstack() -> None:
    sloppy = "function decodeUplink(input) { leaked = input.fPort; return {data: {port: leaked}}; }"
    with pytest.raises(quickjs.JSException, match="leaked"):
        run_chirpstack(sloppy, "decodeUplink", uplink_input(1, b"\x00"))


def test_codec_declaring_buffer_clashes_like_the_injected_import() -> None:
    clashing = "var Buffer = null;\nfunction decodeUplink(input) { return {data: {}}; }"
    with pytest.raises(quickjs.JSException, match="redefinition"):
        run_chirpstack(clashing, "decodeUplink", uplink_input(1, b"\x00"))


def test_runaway_codec_is_interrupted() -> None:
    endless = "function decodeUplink(input) { for (;;) {} }"
    with pytest.raises(quickjs.JSException, match="interrupted"):
        run_chirpstack(endless, "decodeUplink", uplink_input(1, b"\x00"))


def test_input_has_chirpstacks_fields() -> None:
    probe = ("function decodeUplink(input) { return {data: {port: input.fPort, bytes: input.bytes,"
             " isArray: Array.isArray(input.bytes), date: input.recvTime instanceof Date}}; }")
    assert run_chirpstack(probe, "decodeUplink", uplink_input(7, b"\x01\x02")) == {
        "data": {"port": 7, "bytes": [1, 2], "isArray": True, "date": True}}
