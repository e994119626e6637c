"""lorawan.Device under the real MicroPython, over the virtual radio, against a network side built
from lorawan.network on CPython: OTAA join, a confirmed uplink, its ACK and a downlink in RX1."""

from __future__ import annotations

import base64
from pathlib import Path

from conftest import assert_micropython_ok, run_micropython
from lorawan import network
from lorawan.aes import aes_factory

from .gwmp_server import PUSH_DATA, Datagram, GwmpServer, txpk

MPY = Path(__file__).parent / "mpy"
AES = aes_factory()
APP_KEY = bytes(range(16))
NET_ID = 0x000013
DEV_ADDR = 0x26011234
JOIN_NONCE = 7


class NetworkSide:
    """What ChirpStack does for one device, reduced: join-accept in RX1 (5 s), downlinks in RX1 (1 s)."""

    def __init__(self) -> None:
        self.app_key = network.cmac_key(AES, APP_KEY)
        self.session: list = []
        self.uplinks: list[network.Uplink] = []
        self.fcnt_down = 0
        self.log: list[str] = []

    def __call__(self, server: GwmpServer, datagram: Datagram) -> None:
        if datagram.identifier != PUSH_DATA or "rxpk" not in datagram.body:
            return
        rxpk = datagram.body["rxpk"][0]
        phy = base64.b64decode(rxpk["data"])
        if phy[0] == 0x00:
            _join_eui, _dev_eui, dev_nonce = network.accept_join_request(self.app_key, phy)
            nwk, app = network.session_keys(AES, APP_KEY, JOIN_NONCE, NET_ID, dev_nonce)
            self.session = [network.cmac_key(AES, nwk), network.cmac_key(AES, app)]
            accept = network.build_join_accept(AES, APP_KEY, JOIN_NONCE, NET_ID, DEV_ADDR)
            server.send_pull_resp(txpk(accept, rxpk["freq"], rxpk["datr"], rxpk["tmst"] + 5_000_000))
            self.log.append(f"join dev_nonce={dev_nonce} {rxpk['datr']}")
            return
        last = self.uplinks[-1].fcnt if self.uplinks else None
        uplink = network.open_uplink(self.session[0], self.session[1], phy, last)
        self.uplinks.append(uplink)
        self.log.append(f"uplink fcnt={uplink.fcnt} port={uplink.fport} {bytes(uplink.payload)!r}")
        if uplink.confirmed:
            down = network.build_downlink(self.session[0], self.session[1], DEV_ADDR, self.fcnt_down, fport=10,
                                          payload=b"dim 40%", ack=True)
            self.fcnt_down += 1
            server.send_pull_resp(txpk(down, rxpk["freq"], rxpk["datr"], rxpk["tmst"] + 1_000_000))


def test_lorawan_device_joins_sends_and_receives_over_gwmp() -> None:
    side = NetworkSide()
    with GwmpServer(on_datagram=side) as server:
        result = run_micropython(MPY / "mpy_device_over_gwmp.py", str(server.port), "5", timeout=60)
    assert_micropython_ok(result)
    assert not server.errors, server.errors
    out = result.stdout
    assert "JOINED True" in out, out
    assert "SEND acked=True fcnt_up=0 downlinks=10:dim 40%" in out, out
    assert "SEND2 acked=None fcnt_up=1 downlinks=0" in out, out
    assert "tx_acks=NONE,NONE" in out, out
    assert side.log[0].startswith("join dev_nonce=0 SF7BW125"), side.log
    assert side.log[1:] == ["uplink fcnt=0 port=2 b'fill 380mm'", "uplink fcnt=1 port=2 b'second'"], side.log
