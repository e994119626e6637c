"""The Semtech UDP (GWMP v2) side of devnet: PUSH_DATA/PULL_DATA in, ACKs and PULL_RESP out, TX_ACK in.

Downlinks go to the address of the gateway's last PULL_DATA, as a packet forwarder expects.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from typing import Any

from tingfw.radio import gwmp

log = logging.getLogger("tingbro.devnet")


class GwmpServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 1700) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.pull_addr: dict[str, tuple[str, int]] = {}
        self.lock = threading.Lock()
        self._token = 0
        self.network: Any = None  # NetworkServer, set before start()
        self.bad_datagrams = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="devnet-udp", daemon=True)

    def start(self) -> GwmpServer:
        self._thread.start()
        return self

    def transmit(self, gateway_eui: str, txpk_text: str) -> int:
        """Send a PULL_RESP to the gateway; -> its token (answered by TX_ACK)."""
        with self.lock:
            self._token = (self._token + 1) & 0xFFFF
            token = self._token
            addr = self.pull_addr.get(gateway_eui)
        if addr is not None:
            self.sock.sendto(gwmp.encode_pull_resp(token, txpk_text), addr)
        return token

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                datagram, addr = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                self._handle(datagram, addr)
            except gwmp.GwmpError:
                self.bad_datagrams += 1
            except Exception:
                log.exception("devnet: datagram from %s:%d failed", *addr)

    def _handle(self, datagram: bytes, addr: tuple[str, int]) -> None:
        identifier, token, eui, body = gwmp.parse_datagram(datagram)
        gateway_eui = eui.hex() if eui is not None else ""
        if identifier == gwmp.PUSH_DATA:
            self.sock.sendto(gwmp.encode_ack(gwmp.PUSH_ACK, token), addr)
            for rxpk in gwmp.parse_rxpk(body):
                rxpk["chan"] = None
                self.network.handle_rxpk(gateway_eui, rxpk)
        elif identifier == gwmp.PULL_DATA:
            with self.lock:
                self.pull_addr[gateway_eui] = addr
            self.sock.sendto(gwmp.encode_ack(gwmp.PULL_ACK, token), addr)
        elif identifier == gwmp.TX_ACK:
            error = gwmp.TX_OK
            if body.strip(b"\x00 "):
                ack = json.loads(body).get("txpk_ack", {})
                error = ack.get("error", gwmp.TX_OK)
            self.network.on_tx_ack(gateway_eui, token, error)
        else:
            self.bad_datagrams += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
