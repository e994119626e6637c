"""`tingbro simulate`: the real firmware under MicroPython (tingsim), over the virtual radio, against a
loopback network side (tests/radio's GWMP server + lorawan.network) answering on the wall clock: join,
heartbeat, removal event acknowledged, return, and the wind-sway blip ignored; a streetlight dimming
for pedestrians and reporting its failed lamp."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import tingcodec
from conftest import run_cli
from radio.gwmp_server import GwmpServer
from radio.netside import NetworkSide

TIME_SCALE = 200  # sleeps only: receive windows run in real time, so the network side needs no scaling
DEVICE = {"name": "buoy-nyhavn-3", "dev_eui": "70b3d57ed0000001", "join_eui": "70b3d57ed0000000",
          "app_key": bytes(range(16)).hex(), "device": "lifebuoy",
          "config": {"thresholds": {"debounce_ms": 1000}},
          "scenario": {"removed": [[600, 1800]], "sway_every_s": 1000}}


def simulate(tmp_path: Path, device: dict, duration_s: int) -> tuple[subprocess.CompletedProcess[str], list]:
    """Run `tingbro simulate` for one device against a loopback network side; -> (result, decoded uplinks)."""
    devices = tmp_path / "devices.jsonl"
    devices.write_text(json.dumps(device) + "\n")
    side = NetworkSide()
    with GwmpServer(on_datagram=side) as server:
        result = run_cli("simulate", "--devices", str(devices), "--gateway", f"127.0.0.1:{server.port}",
                         "--time-scale", str(TIME_SCALE), "--duration", str(duration_s), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not server.errors, server.errors
    assert len(side.dev_nonces) == 1  # joined once
    decoded = (tingcodec.decode(u.fport, bytes(u.payload), device["device"]) for u in side.uplinks if u.fport != 2)
    return result, [(d["message"], d["fields"]) for d in decoded]


def test_simulated_lifebuoy_is_removed_and_returned(tmp_path: Path) -> None:
    result, messages = simulate(tmp_path, DEVICE, 2400)
    assert DEVICE["app_key"] not in result.stdout
    names = [m for m, _ in messages]
    assert names[:2] == ["device_info", "heartbeat"], messages
    presence = [fields for message, fields in messages if message == "presence"]
    # Removal then return; the sways just before 1000 s and 2000 s are debounced away (no third event).
    assert [p["present"] for p in presence] == [False, True], messages
    assert [p["event_seq"] for p in presence] == [1, 2]
    assert "up presence" in result.stdout and "acked=True" in result.stdout


def test_simulate_rejects_a_bad_device_line(tmp_path: Path) -> None:
    devices = tmp_path / "devices.jsonl"
    devices.write_text(json.dumps(dict(DEVICE, app_key="xyz")) + "\n")
    result = run_cli("simulate", "--devices", str(devices), "--gateway", "127.0.0.1:1700")
    assert result.returncode == 2
    assert result.stderr.strip() == f"tingbro simulate: {devices} line 1: config: app_key must be 32 hex digits"


def test_simulated_streetlight_meters_dims_for_pedestrians_and_reports_a_failed_lamp(tmp_path: Path) -> None:
    light = {"name": "light-7", "dev_eui": "70b3d57ed0000002", "join_eui": "70b3d57ed0000000",
             "app_key": bytes(range(16)).hex(), "device": "streetlight",
             "config": {"intervals": {"report_interval_s": 60, "meter_every": 1},
                        "thresholds": {"low_level_pct": 20, "high_level_pct": 100, "hold_s": 10,
                                       "fail_confirm_s": 10}},
             "scenario": {"pedestrian_every_s": 40, "pedestrian_s": 4, "fail_at_s": 60}}
    result, messages = simulate(tmp_path, light, 130)
    names = [m for m, _ in messages]
    assert names[0] == "device_info" and "status" in names and "meter" in names, messages
    failures = [f for m, f in messages if m == "lamp_failure"]
    assert failures and failures[0]["lamp_failure"] and failures[0]["power_w"] == 0, messages
    out = result.stdout
    assert "lamp level 100 %" in out and "lamp level 20 %" in out, out  # pedestrians raise it, then it dims
