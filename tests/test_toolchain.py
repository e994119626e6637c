"""The real parts the other tests rely on are present and behave: MicroPython, mosquitto, node, the CLI."""

from __future__ import annotations

import socket

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
