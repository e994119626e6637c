"""The real parts the other tests rely on are present and behave: MicroPython, mosquitto, node, the CLI."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from conftest import assert_micropython_ok, run_cli, run_micropython, run_node


def test_micropython_has_what_the_firmware_needs() -> None:
    result = run_micropython(
        "import sys, cryptolib, struct, micropython\n"
        "assert sys.implementation.name == 'micropython'\n"
        "print(cryptolib.aes(bytes(16), 1).encrypt(bytes(16)).hex())\n"
    )
    assert_micropython_ok(result)
    # AES-128(key=0, block=0): FIPS-197 known answer.
    assert result.stdout.strip() == "66e94bd4ef8a2c3b884cfa59ca342b2e"


def test_mpytest_runner_reports_failures() -> None:
    failing = run_micropython("import mpytest\ndef test_bad():\n    assert 1 == 2\nmpytest.main(globals())\n")
    assert failing.returncode == 1
    assert "0 passed, 1 failed" in failing.stdout


def test_mosquitto_accepts_connections(mosquitto) -> None:
    with socket.create_connection((mosquitto.host, mosquitto.port), timeout=2) as sock:
        # MQTT 3.1.1 CONNECT with clean session, keep-alive 10 s, client id "t".
        sock.sendall(bytes.fromhex("100d00044d5154540402000a000174"))
        assert sock.recv(4) == bytes.fromhex("20020000")  # CONNACK, accepted


def test_node_loads_lora_packet() -> None:
    result = run_node("const lp = require('lora-packet'); console.log(typeof lp.fromWire);")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "function"


def test_cli_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("tingbro ")


def test_installed_cli_runs_outside_the_checkout(tmp_path: Path) -> None:
    """`make setup` installs the `tingbro` command: every subcommand must import from the installed
    packages alone (no PYTHONPATH, another working directory), as a technician or integrator runs it."""
    command = Path(sys.executable).parent / "tingbro"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    listing = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=60, env=env,
                             cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    names = re.findall(r"^    (\w[\w-]*)\s", listing.stdout, flags=re.M)
    assert {"serve", "decode", "provision", "simulate", "devnet"} <= set(names), listing.stdout
    for name in names:
        result = subprocess.run([str(command), name, "--help"], capture_output=True, text=True, timeout=60, env=env,
                                cwd=tmp_path)
        assert result.returncode == 0, f"tingbro {name} --help: {result.stderr[-800:]}"
    decoded = subprocess.run([str(command), "decode", "--device", "fill_level", "--port", "10", "--hex",
                              "8413182b18b400"], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert decoded.returncode == 0 and "distance_mm" in decoded.stdout, decoded.stderr
