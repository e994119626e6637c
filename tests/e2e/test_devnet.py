"""devnet's network server and gRPC API in-process (fast): joins, counters, MIC, events in ChirpStack's shape."""

from __future__ import annotations

import json
import time
from typing import Any

import grpc
import pytest
from chirpstack_api import api
from lorawan import network
from lorawan.crypto import UPLINK
from lorawan.frame import CONFIRMED_UP, UNCONFIRMED_UP, build_data, build_join_request
from tingbro.devnet.events import event_name
from tingbro.devnet.lns import AES, NET_ID, NetworkServer
from tingbro.devnet.pbjson import chirpstack_json
from tingbro.devnet.registry import Device, Registry
from tingbro.devnet.server import Devnet

APP_KEY = bytes(range(16))
DEV_EUI = "70b3d57ed0000001"
GATEWAY = "0080000000000001"


class Harness:
    def __init__(self) -> None:
        self.registry = Registry()
        self.registry.add_device(Device(DEV_EUI, "0" * 16, APP_KEY, "bin-1", "fill_level",
                                        {"tingbro_device_type": "fill_level"}))
        self.sent: list[tuple[str, str]] = []
        self.events: list[Any] = []
        self.network = NetworkServer(self.registry, self._transmit, self.events.append)

    def _transmit(self, gateway_eui: str, text: str) -> int:
        self.sent.append((gateway_eui, text))
        return len(self.sent)

    def rx(self, phy: bytes, tmst_us: int = 1_000_000) -> None:
        self.network.handle_rxpk(GATEWAY, {"payload": phy, "tmst_us": tmst_us, "freq_hz": 868_100_000, "sf": 7,
                                           "bw_khz": 125, "rssi": -80, "lsnr": 9.5})

    def join(self, dev_nonce: int, key: bytes = APP_KEY) -> None:
        cmac = network.cmac_key(AES, key)
        self.rx(build_join_request(cmac, bytes(8), bytes.fromhex(DEV_EUI), dev_nonce))

    def uplink(self, fcnt: int, payload: bytes = b"\x01\x02", confirmed: bool = False) -> None:
        device = self.registry.devices[DEV_EUI]
        nwk, app = network.session_keys(AES, APP_KEY, device.join_nonce, NET_ID, device.last_dev_nonce)
        phy = build_data(network.cmac_key(AES, nwk), network.cmac_key(AES, app), UPLINK,
                         CONFIRMED_UP if confirmed else UNCONFIRMED_UP, device.session.dev_addr, 0, fcnt, b"", 10,
                         payload)
        self.rx(bytes(phy))

    def names(self) -> list[str]:
        return [event_name(e) for e in self.events]


def test_join_uplink_and_the_event_json_shape() -> None:
    h = Harness()
    h.join(dev_nonce=0)
    assert h.names() == ["join"]
    assert '"tmst":6000000' in h.sent[0][1], "join-accept in RX1: 5 s after the request"
    h.uplink(fcnt=0, payload=b"\x0a\x0b")
    assert h.names() == ["join", "up"]
    body = json.loads(chirpstack_json(h.events[1]))
    assert list(body)[:12] == ["deduplicationId", "time", "deviceInfo", "devAddr", "adr", "dr", "fCnt", "fPort",
                               "confirmed", "data", "rxInfo", "txInfo"]
    assert body["fCnt"] == 0 and body["fPort"] == 10 and body["data"] == "Cgs=" and body["dr"] == 5
    assert body["adr"] is False and body["confirmed"] is False  # defaults written, as emit_fields does
    assert body["deviceInfo"]["deviceClassEnabled"] == "CLASS_A"
    assert body["deviceInfo"]["tags"] == {"tingbro_device_type": "fill_level"}
    assert body["time"].endswith("+00:00") and "object" not in body
    assert body["rxInfo"][0]["crcStatus"] == "CRC_OK" and body["regionConfigId"] == "eu868"


def test_replays_wrong_keys_and_reused_devnonces_are_refused() -> None:
    h = Harness()
    h.join(dev_nonce=5, key=bytes(16))
    assert h.names() == ["log"] and json.loads(chirpstack_json(h.events[0]))["code"] == "UPLINK_MIC"
    h.join(dev_nonce=5)
    h.join(dev_nonce=5)  # DevNonce reuse
    assert json.loads(chirpstack_json(h.events[-1]))["code"] == "OTAA"
    h.uplink(fcnt=3)
    h.uplink(fcnt=3)  # a replay
    log = json.loads(chirpstack_json(h.events[-1]))
    assert log["code"] == "UPLINK_F_CNT_RETRANSMISSION" and log["level"] == "WARNING"
    assert h.names().count("up") == 1


def test_confirmed_downlink_gets_txack_then_ack() -> None:
    h = Harness()
    h.join(dev_nonce=1)
    h.uplink(fcnt=0)
    item = api.DeviceQueueItem(dev_eui=DEV_EUI, confirmed=True, f_port=20, data=b"\x1e")
    item_id = h.network.enqueue(h.registry.devices[DEV_EUI], item)
    assert len(h.sent) == 1, "Class A: nothing is sent before the next uplink"
    h.uplink(fcnt=1)
    assert len(h.sent) == 2 and '"tmst":2000000' in h.sent[1][1], "in RX1, 1 s after the uplink"
    h.network.on_tx_ack(GATEWAY, 2, "NONE")
    assert h.names()[-1] == "txack" and h.events[-1].queue_item_id == item_id
    h.uplink(fcnt=2)  # without the ACK bit: a NACK
    acks = [e for e in h.events if event_name(e) == "ack"]
    assert len(acks) == 1 and acks[0].queue_item_id == item_id and acks[0].acknowledged is False


def test_grpc_needs_the_token_and_enqueue_returns_an_id() -> None:
    with Devnet("s3cret-token") as devnet:
        devnet.registry.add_device(Device(DEV_EUI, "0" * 16, APP_KEY, "bin-1", "fill_level", {}))
        with grpc.insecure_channel(f"127.0.0.1:{devnet.grpc_port}") as channel:
            stub = api.DeviceServiceStub(channel)
            request = api.EnqueueDeviceQueueItemRequest(
                queue_item=api.DeviceQueueItem(dev_eui=DEV_EUI, f_port=20, data=b"\x01"))
            with pytest.raises(grpc.RpcError) as refused:
                stub.Enqueue(request, metadata=[("authorization", "Bearer wrong")], timeout=5)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "s3cret" not in str(refused.value)
            answer = stub.Enqueue(request, metadata=[("authorization", "Bearer s3cret-token")], timeout=5)
            assert len(answer.id) == 36
            with pytest.raises(grpc.RpcError) as missing:
                stub.Get(api.GetDeviceRequest(dev_eui="0102030405060708"),
                         metadata=[("authorization", "Bearer s3cret-token")], timeout=5)
            assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_class_c_command_waits_out_the_receive_windows_of_an_uplink() -> None:
    h = Harness()
    h.registry.devices[DEV_EUI].class_c = True
    h.join(dev_nonce=1)
    h.uplink(fcnt=0)
    item = api.DeviceQueueItem(dev_eui=DEV_EUI, confirmed=False, f_port=20, data=b"\x1e")
    enqueued_at = time.monotonic()
    h.network.enqueue(h.registry.devices[DEV_EUI], item)
    assert len(h.sent) == 1, "not during RX1/RX2 of the uplink just received"
    deadline = time.monotonic() + 5
    while len(h.sent) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(h.sent) == 2 and '"imme":true' in h.sent[1][1] and '"freq":869.525' in h.sent[1][1]
    assert time.monotonic() - enqueued_at >= 2.5
