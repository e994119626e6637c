"""The JSON shown to integrators in codecs/chirpstack/README.md is what the codecs really produce and accept."""

from __future__ import annotations

import json
import re

import tingcodec
from jscodegen.quickjs_runner import downlink_input, run_chirpstack, uplink_input
from jsharness import CODECS, codec_source


def readme_json_blocks() -> list[dict]:
    text = (CODECS / "chirpstack" / "README.md").read_text(encoding="utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, flags=re.S)]


def test_readme_uplink_object_is_what_chirpstack_would_show() -> None:
    uplink, _ = readme_json_blocks()
    fport, payload = tingcodec.encode("fill_level", uplink["message"], uplink["fields"])
    result = run_chirpstack(codec_source("fill_level"), "decodeUplink", uplink_input(fport, payload))
    assert result == {"data": uplink}


def test_readme_downlink_object_encodes() -> None:
    _, downlink = readme_json_blocks()
    result = run_chirpstack(codec_source("fill_level"), "encodeDownlink", downlink_input(downlink))
    fport, payload = tingcodec.encode("fill_level", downlink["message"], downlink["fields"])
    assert result == {"fPort": fport, "bytes": list(payload)}
