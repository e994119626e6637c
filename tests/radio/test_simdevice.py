"""tingfw.radio.simdevice under the real MicroPython: one simulated device against a loopback network
side; a second run resumes the session from its state directory instead of joining again."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import MICROPYPATH, micropython_executable

from .gwmp_server import GwmpServer
from .netside import NetworkSide

APP_KEY_HEX = bytes(range(16)).hex()
TIME_SCALE = 2  # RX1 opens 500 ms (wall) after an uplink: room for a loaded machine


def simdevice(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MICROPYPATH=MICROPYPATH)
    return subprocess.run([micropython_executable(), "-m", "tingfw.radio.simdevice", *args], capture_output=True,
                          text=True, timeout=60, env=env, cwd=cwd)


def device_args(port: int, state_dir: Path, *extra: str) -> list[str]:
    return ["--server", f"127.0.0.1:{port}", "--gateway-eui", "00800000a0001234", "--dev-eui", "70b3d57ed0000001",
            "--join-eui", "70b3d57ed0000000", "--app-key", APP_KEY_HEX, "--state-dir", str(state_dir),
            "--time-scale", str(TIME_SCALE), *extra]


def test_simulated_device_joins_once_and_resumes_its_session(tmp_path: Path) -> None:
    side = NetworkSide(TIME_SCALE)
    state = tmp_path / "dev1"
    with GwmpServer(on_datagram=side) as server:
        first = simdevice(*device_args(server.port, state, "--uplinks", "2", "--interval-s", "1", "--confirmed",
                                       "--payload-hex", "0102"), cwd=tmp_path)
        second = simdevice(*device_args(server.port, state, "--payload-hex", "03"), cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
    assert not server.errors, server.errors
    lines = first.stdout.splitlines()
    assert lines[0] == "joined"
    assert lines[1] == "uplink fcnt_up=0 acked=True downlinks=10:64696d20343025", lines
    assert lines[2] == "uplink fcnt_up=1 acked=True downlinks=10:64696d20343025", lines
    assert lines[3].startswith("gateway push_acked=") and "tx_acks=NONE:3" in lines[3], lines  # join-accept + 2
    assert second.stdout.splitlines()[0] == "session restored", second.stdout
    assert len(side.dev_nonces) == 1  # no second join: the session came back from the state directory
    fcnts = [uplink.fcnt for uplink in side.uplinks]
    assert fcnts[:2] == [0, 1] and fcnts[2] > 1, fcnts  # never a counter twice (reserved ahead)
    assert [uplink.payload for uplink in side.uplinks] == [b"\x01\x02", b"\x01\x02", b"\x03"]
    assert APP_KEY_HEX not in first.stdout + second.stdout


def test_usage_errors_are_one_line_and_never_show_the_key(tmp_path: Path) -> None:
    result = simdevice("--server", "127.0.0.1:1700", "--app-key", APP_KEY_HEX, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "missing --gateway-eui" in result.stderr and APP_KEY_HEX not in result.stderr
    result = simdevice(*device_args(1700, tmp_path / "x")[:-2], "--app-key", "00" * 15, cwd=tmp_path)
    assert result.returncode == 2 and "--app-key must be 32 hex digits" in result.stderr, result.stderr
    assert "00" * 15 not in result.stderr
    result = simdevice("--server", "x", APP_KEY_HEX, cwd=tmp_path)
    assert result.returncode == 2 and APP_KEY_HEX not in result.stderr, result.stderr
