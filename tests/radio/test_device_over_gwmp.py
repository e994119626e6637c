"""lorawan.Device under the real MicroPython, over the virtual radio, against a network side built
from lorawan.network on CPython: OTAA join, a confirmed uplink, its ACK and a downlink in RX1, and Class C
downlinks on RX2 (between uplinks, and between an uplink's end and RX1)."""

from __future__ import annotations

from pathlib import Path

from conftest import assert_micropython_ok, run_micropython

from .gwmp_server import GwmpServer
from .netside import NetworkSide

MPY = Path(__file__).parent / "mpy"
TIME_SCALE = 2  # RX1 opens 500 ms (wall) after an uplink: room for a loaded machine


def test_lorawan_device_joins_sends_and_receives_over_gwmp() -> None:
    side = NetworkSide(TIME_SCALE, class_c=True)
    with GwmpServer(on_datagram=side) as server:
        result = run_micropython(MPY / "mpy_device_over_gwmp.py", str(server.port), str(TIME_SCALE), timeout=60)
    assert_micropython_ok(result)
    assert not server.errors, server.errors
    out = result.stdout
    assert "JOINED True" in out, out
    assert "SEND acked=True fcnt_up=0 downlinks=10:dim 40%" in out, out
    assert "SEND2 acked=None fcnt_up=1 downlinks=0" in out, out
    assert "CLASS_C 11:lamp on" in out, out
    assert "RXC downlinks=12:early" in out, out
    assert "tx_acks=NONE,NONE,NONE" in out, out
    assert side.log[0].startswith("join dev_nonce=0 SF7BW125"), side.log
    assert side.log[1:] == ["uplink fcnt=0 port=2 b'fill 380mm'", "uplink fcnt=1 port=2 b'second'",
                            "uplink fcnt=2 port=2 b'rxc'"], side.log
