"""A network side for one device, built from lorawan.network (CPython): what ChirpStack does, reduced.

Join-accept in RX1 (5 s), confirmed uplinks answered with ACK + a downlink in RX1 (1 s); after an
unconfirmed uplink (when class_c is set) an immediate RX2 downlink once the windows are over; an
uplink 'rxc' is answered on RX2 300 ms after it ended (Class C listens there until RX1).
"""

from __future__ import annotations

import base64
import threading

from lorawan import network
from lorawan.aes import aes_factory

from .gwmp_server import PUSH_DATA, Datagram, GwmpServer, txpk

AES = aes_factory()
APP_KEY = bytes(range(16))
NET_ID = 0x000013
DEV_ADDR = 0x26011234


class NetworkSide:
    def __init__(self, time_scale: float = 1, class_c: bool = False) -> None:
        self.time_scale = time_scale
        self.class_c = class_c
        self.dev_nonces: list[int] = []
        self.join_nonce = 6
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
            assert dev_nonce not in self.dev_nonces, "DevNonce reused"  # ChirpStack would refuse it
            self.dev_nonces.append(dev_nonce)
            self.join_nonce += 1
            nwk, app = network.session_keys(AES, APP_KEY, self.join_nonce, NET_ID, dev_nonce)
            self.session = [network.cmac_key(AES, nwk), network.cmac_key(AES, app)]
            self.uplinks = []
            self.fcnt_down = 0
            accept = network.build_join_accept(AES, APP_KEY, self.join_nonce, NET_ID, DEV_ADDR)
            server.send_pull_resp(txpk(accept, rxpk["freq"], rxpk["datr"], rxpk["tmst"] + 5_000_000))
            self.log.append(f"join dev_nonce={dev_nonce} {rxpk['datr']}")
            return
        last = self.uplinks[-1].fcnt if self.uplinks else None
        uplink = network.open_uplink(self.session[0], self.session[1], phy, last)
        self.uplinks.append(uplink)
        self.log.append(f"uplink fcnt={uplink.fcnt} port={uplink.fport} {bytes(uplink.payload)!r}")
        if bytes(uplink.payload) == b"rxc":  # Class C: on RX2 300 ms after the uplink, before RX1 opens
            server.send_pull_resp(txpk(self._downlink(12, b"early"), 869.525, "SF12BW125", rxpk["tmst"] + 300_000))
        elif uplink.confirmed:
            server.send_pull_resp(txpk(self._downlink(10, b"dim 40%", ack=True), rxpk["freq"], rxpk["datr"],
                                       rxpk["tmst"] + 1_000_000))
        elif self.class_c:  # once the RX windows are over (2 s simulated), send at once on RX2
            down = txpk(self._downlink(11, b"lamp on"), 869.525, "SF12BW125")
            threading.Timer(3.0 / self.time_scale, server.send_pull_resp, (down,)).start()

    def _downlink(self, fport: int, payload: bytes, ack: bool = False) -> bytes:
        down = network.build_downlink(self.session[0], self.session[1], DEV_ADDR, self.fcnt_down, fport=fport,
                                      payload=payload, ack=ack)
        self.fcnt_down += 1
        return down
