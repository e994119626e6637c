"""`tingbro decode` and `tingbro encode`: JSON out, exit 2 with one line on bad input."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli


def test_decode_prints_the_decoded_json() -> None:
    result = run_cli("decode", "--device", "fill-level", "--port", "10", "--hex", "8413182b18b400")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"message": "status", "fields": {
        "distance_mm": 380, "temperature_c": 21.5, "battery_mv": 3600,
        "tilted": False, "no_echo": False, "blind_zone": False}}


def test_decode_downlink_and_base64() -> None:
    result = run_cli("decode", "--device", "streetlight", "--port", "20", "--base64", "gxgoABkH0A==",
                     "--direction", "down")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["fields"] == {"level_pct": 40, "duration_s": 0, "fade_ms": 2000}


def test_encode_prints_fport_and_hex() -> None:
    result = run_cli("encode", "--device", "streetlight", "set_schedule",
                     'points=[{"level_pct":100,"time_min":0,"anchor":"sunset","days_mask":127}]')
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["fPort"], out["hex"]) == (22, "81811a0fc96864")


@pytest.mark.parametrize(("args", "why"), [
    (("decode", "--device", "toaster", "--port", "10", "--hex", "80"), "unknown device type"),
    (("decode", "--device", "lifebuoy", "--port", "10", "--hex", "8201"), "malformed CBOR"),
    (("decode", "--device", "lifebuoy", "--port", "10", "--hex", "xyz"), "not valid hex"),
    (("decode", "--device", "lifebuoy", "--port", "ten", "--hex", "80"), "--port must be a number"),
    (("decode", "--device", "lifebuoy", "--port", "10", "--base64", "!!"), "not valid base64"),
    (("encode", "--device", "lifebuoy", "presence", "present=yes", "event_seq=1"), "expected true or false"),
    (("encode", "--device", "streetlight", "set_level", "level_pct=101"), "outside 0..100"),
    (("encode", "--device", "streetlight", "set_level", "level_pct"), "expected key=value"),
    (("encode", "--device", "streetlight", "dance"), "unknown message"),
])
def test_bad_input_exits_2_with_one_line(args: tuple[str, ...], why: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and why in lines[0], result.stderr
