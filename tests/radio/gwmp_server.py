"""The network side of a Semtech UDP packet forwarder link, for tests: a loopback UDP server.

It parses datagrams itself (struct + json), independently of tingfw.radio.gwmp, so the
device's encoder is checked against a second reading of the protocol.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PUSH_DATA, PUSH_ACK, PULL_DATA, PULL_RESP, PULL_ACK, TX_ACK = range(6)


@dataclass
class Datagram:
    identifier: int
    token: int
    eui: bytes
    body: dict[str, Any]
    addr: tuple[str, int]
    received_at: float


@dataclass
class GwmpServer:
    """Receives on 127.0.0.1, acknowledges PUSH/PULL_DATA, hands every datagram to `on_datagram`."""

    on_datagram: Callable[[GwmpServer, Datagram], None] | None = None
    received: list[Datagram] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pull_addr: tuple[str, int] | None = None

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._token = 0x4000

    def __enter__(self) -> GwmpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            try:
                datagram = self._parse(data, addr)
            except (ValueError, KeyError) as exc:
                self.errors.append(f"bad datagram {data[:16].hex()}: {exc}")
                continue
            self.received.append(datagram)
            if datagram.identifier == PUSH_DATA:
                self.sock.sendto(bytes([2, data[1], data[2], PUSH_ACK]), addr)
            elif datagram.identifier == PULL_DATA:
                self.pull_addr = addr
                self.sock.sendto(bytes([2, data[1], data[2], PULL_ACK]), addr)
            if self.on_datagram:
                try:
                    self.on_datagram(self, datagram)
                except Exception as exc:  # surface in the test, do not kill the thread silently
                    self.errors.append(f"handler: {exc!r}")

    @staticmethod
    def _parse(data: bytes, addr: tuple[str, int]) -> Datagram:
        if len(data) < 12 or data[0] != 2:
            raise ValueError("not a GWMP v2 gateway datagram")
        identifier = data[3]
        if identifier not in (PUSH_DATA, PULL_DATA, TX_ACK):
            raise ValueError(f"identifier {identifier} is not gateway-to-server")
        body = json.loads(data[12:]) if len(data) > 12 else {}
        return Datagram(identifier, (data[1] << 8) | data[2], data[4:12], body, addr, time.monotonic())

    def send_pull_resp(self, txpk: dict[str, Any]) -> int:
        """Send a PULL_RESP to the gateway's PULL_DATA address; returns its token."""
        assert self.pull_addr, "no PULL_DATA seen yet"
        self._token += 1
        head = bytes([2, self._token >> 8, self._token & 0xFF, PULL_RESP])
        self.sock.sendto(head + json.dumps({"txpk": txpk}).encode(), self.pull_addr)
        return self._token

    def of_kind(self, identifier: int) -> list[Datagram]:
        return [d for d in list(self.received) if d.identifier == identifier]


def txpk(payload: bytes, freq_mhz: float, datr: str, tmst: int | None = None, ipol: bool = True) -> dict[str, Any]:
    timing: dict[str, Any] = {"imme": True} if tmst is None else {"tmst": tmst & 0xFFFFFFFF}
    return {**timing, "freq": freq_mhz, "rfch": 0, "powe": 14, "modu": "LORA", "datr": datr, "codr": "4/5",
            "ipol": ipol, "size": len(payload), "data": base64.b64encode(payload).decode()}
