"""The virtual radio under the real MicroPython against a loopback GWMP network side."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import pytest
from conftest import assert_micropython_ok, free_port, run_micropython

from .gwmp_server import PULL_DATA, PUSH_DATA, TX_ACK, Datagram, GwmpServer, txpk

MPY = Path(__file__).parent / "mpy"
GATEWAY_EUI = bytes.fromhex("0102030405060708")


class Scenario:
    """Answers the device's uplinks with downlinks in and outside its receive windows."""

    def __init__(self, time_scale: int) -> None:
        self.time_scale = time_scale
        self.sent: dict[int, str] = {}  # PULL_RESP token -> label

    def __call__(self, server: GwmpServer, datagram: Datagram) -> None:
        if datagram.identifier != PUSH_DATA or "rxpk" not in datagram.body:
            return
        rxpk = datagram.body["rxpk"][0]
        payload = base64.b64decode(rxpk["data"])
        up = rxpk["tmst"]
        if payload == b"uplink-one":
            plan = [
                ("rx1-in", txpk(b"rx1-in", 868.1, "SF7BW125", up + 1_000_000)),
                ("overlap", txpk(b"overlap", 868.1, "SF7BW125", up + 1_020_000)),  # same TX chain, busy
                ("between", txpk(b"between", 868.1, "SF7BW125", up + 1_500_000)),  # no window open then
                ("rx2-in", txpk(b"rx2-in", 869.525, "SF12BW125", up + 2_000_000)),
                ("wrong-sf", txpk(b"wrong-sf", 868.1, "SF9BW125", up + 4_000_000)),
                ("no-ipol", txpk(b"no-ipol", 868.1, "SF7BW125", up + 5_000_000, ipol=False)),
                ("wrong-freq", txpk(b"wrong-freq", 868.1, "SF7BW125", up + 6_000_000)),
                ("too-late", txpk(b"too-late", 868.1, "SF7BW125", up - 1_000_000)),
                ("off-band", txpk(b"off-band", 915.2, "SF7BW125", up + 1_000_000)),
                ("too-early", txpk(b"too-early", 868.1, "SF7BW125", up + 40_000_000)),
            ]
        elif payload == b"class-c":
            time.sleep(0.2 / self.time_scale)
            plan = [("c-in", txpk(b"c-in", 869.525, "SF12BW125"))]
        else:
            server.errors.append(f"unexpected uplink {payload!r}")
            return
        for label, item in plan:
            self.sent[server.send_pull_resp(item)] = label


# Scale 2: RX1 opens 500 ms (wall) after the uplink, room for a loaded machine
@pytest.mark.parametrize("time_scale", [1, 2])
def test_virtual_radio_speaks_gwmp_and_honours_only_in_window_downlinks(time_scale: int) -> None:
    scenario = Scenario(time_scale)
    with GwmpServer(on_datagram=scenario) as server:
        result = run_micropython(MPY / "mpy_virtual_gwmp.py", str(server.port), str(time_scale), timeout=60)
        time.sleep(0.1)
    assert_micropython_ok(result)
    assert not server.errors, server.errors
    # Only the downlinks timed for an open window, on its frequency and data rate, are heard.
    assert "HEARD rx1=rx1-in rx2=rx2-in w4=- w5=- w6=- classc=c-in" in result.stdout, result.stdout

    pushes = [d for d in server.of_kind(PUSH_DATA) if "rxpk" in d.body]
    assert [base64.b64decode(d.body["rxpk"][0]["data"]) for d in pushes] == [b"uplink-one", b"class-c"]
    first = pushes[0].body["rxpk"][0]
    assert first["datr"] == "SF7BW125" and first["codr"] == "4/5" and first["modu"] == "LORA"
    assert first["freq"] == 868.1 and first["chan"] == 0 and first["rfch"] == 0 and first["stat"] == 1
    assert first["size"] == 10 and first["rssi"] == -87 and first["lsnr"] == 7.5
    assert pushes[1].body["rxpk"][0]["chan"] == 1
    # tmst is the gateway's µs counter at the end of the frame: the second uplink came later,
    # after the five windows (the last opens 6 s after the first uplink), in scaled (simulated) microseconds.
    gap_us = (pushes[1].body["rxpk"][0]["tmst"] - first["tmst"]) & 0xFFFFFFFF
    assert 6_000_000 <= gap_us <= 20_000_000, gap_us  # the upper bound allows for a stalled process
    assert all(d.eui == GATEWAY_EUI for d in server.received)

    # Keep-alives every simulated second, each answered.
    pulls = server.of_kind(PULL_DATA)
    assert len(pulls) >= 3 and all(d.body == {} for d in pulls)
    # Gateway statistics every 1.5 simulated seconds, as a packet forwarder sends them.
    stats = [d.body["stat"] for d in server.of_kind(PUSH_DATA) if "stat" in d.body]
    assert len(stats) >= 2, stats
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT", stats[0]["time"]), stats[0]
    assert sum(s["rxnb"] for s in stats) <= 2 and all(s["rxok"] == s["rxnb"] == s["rxfw"] for s in stats)
    assert sum(s["dwnb"] for s in stats) <= 10 and all(s["txnb"] <= s["dwnb"] for s in stats)
    pushed = 2 + len(stats)
    assert (f"push_sent={pushed} push_acked={pushed} pull_sent={len(pulls)} pull_acked={len(pulls)} bad=0"
            in result.stdout), result.stdout

    # Every PULL_RESP got a TX_ACK with its token: the gateway refuses what it cannot send.
    acks = {d.token: d.body["txpk_ack"]["error"] for d in server.of_kind(TX_ACK)}
    by_label = {scenario.sent[token]: error for token, error in acks.items()}
    assert set(by_label) == set(scenario.sent.values())
    assert by_label.pop("too-late") == "TOO_LATE"
    assert by_label.pop("off-band") == "TX_FREQ"
    assert by_label.pop("too-early") == "TOO_EARLY"
    assert by_label.pop("overlap") == "COLLISION_PACKET"
    assert set(by_label.values()) == {"NONE"}


def test_virtual_radio_carries_on_when_no_network_server_listens() -> None:
    script = """
from tingfw.radio.clock import SystemClock
from tingfw.radio.virtual import UdpTransport, VirtualGateway, VirtualRadio
clock = SystemClock(time_scale=20)
transport = UdpTransport("127.0.0.1", PORT)
gateway = VirtualGateway(transport, "0102030405060708", clock, keepalive_ms=100)
radio = VirtualRadio(gateway, clock)
for _ in range(3):
    end_ms = radio.transmit(b"anyone?", 868100000, 7, 125, 14)
    assert radio.receive(868100000, 7, 125, end_ms + 980, 40) is None
print("ALIVE push_sent=%d push_acked=%d pull_sent=%d" % (gateway.push_sent, gateway.push_acked, gateway.pull_sent))
""".replace("PORT", str(free_port()))
    result = run_micropython(script, timeout=30)
    assert_micropython_ok(result)
    assert "ALIVE push_sent=3 push_acked=0 pull_sent=" in result.stdout, result.stdout
