"""devnet's network server and gRPC API in-process (fast): joins, counters, MIC, events in ChirpStack's shape."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
import tingcodec
from chirpstack_api import api
from conftest import run_cli
from lorawan import network
from lorawan.crypto import UPLINK
from lorawan.frame import CONFIRMED_UP, UNCONFIRMED_UP, build_data, build_join_request
from tingbro.devnet import lns
from tingbro.devnet.events import event_name
from tingbro.devnet.lns import AES, NET_ID, NetworkServer
from tingbro.devnet.pbjson import chirpstack_json
from tingbro.devnet.registry import Device, Registry
from tingbro.devnet.server import Devnet

APP_KEY = bytes(range(16))
DEV_EUI = "70b3d57ed0000001"
STATUS_FIELDS = {"distance_mm": 380, "temperature_c": 21.5, "battery_mv": 3600, "tilted": False, "no_echo": False,
                 "blind_zone": False}
FILL_LEVEL_JS = Path(tingcodec.__file__).resolve().parent.parent / "chirpstack" / "fill_level.js"
GATEWAY = "0080000000000001"


class Harness:
    def __init__(self, dev_status_interval_s: float | None = None) -> None:
        self.registry = Registry()
        self.registry.add_device(Device(DEV_EUI, "0" * 16, APP_KEY, "bin-1", "fill_level",
                                        {"tingbro_device_type": "fill_level"}))
        self.sent: list[tuple[str, str]] = []
        self.events: list[Any] = []
        self.network = NetworkServer(self.registry, self._transmit, self.events.append, dev_status_interval_s)

    def _transmit(self, gateway_eui: str, text: str) -> int:
        self.sent.append((gateway_eui, text))
        return len(self.sent)

    def rx(self, phy: bytes, tmst_us: int = 1_000_000) -> None:
        self.network.handle_rxpk(GATEWAY, {"payload": phy, "tmst_us": tmst_us, "freq_hz": 868_100_000, "sf": 7,
                                           "bw_khz": 125, "rssi": -80, "lsnr": 9.5})

    def join(self, dev_nonce: int, key: bytes = APP_KEY) -> None:
        cmac = network.cmac_key(AES, key)
        self.rx(build_join_request(cmac, bytes(8), bytes.fromhex(DEV_EUI), dev_nonce))

    def uplink(self, fcnt: int, payload: bytes = b"\x01\x02", confirmed: bool = False, fport: int | None = 10,
               fopts: bytes = b"", ack: bool = False) -> None:
        device = self.registry.devices[DEV_EUI]
        nwk, app = network.session_keys(AES, APP_KEY, device.join_nonce, NET_ID, device.last_dev_nonce)
        phy = build_data(network.cmac_key(AES, nwk), network.cmac_key(AES, app), UPLINK,
                         CONFIRMED_UP if confirmed else UNCONFIRMED_UP, device.session.dev_addr, 0x20 if ack else 0,
                         fcnt, fopts,
                         fport, payload)
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
    last_up = [e for e in h.events if event_name(e) == "up"][-1]
    assert acks[0].deduplication_id == last_up.deduplication_id, "the ack shares the uplink's deduplicationId"


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


def with_profile(h: Harness, script: str) -> None:
    profile = api.DeviceProfile(id="p-1", name="tingbro-fill_level", payload_codec_runtime=api.CodecRuntime.JS,
                                payload_codec_script=script)
    h.registry.profiles[profile.id] = profile
    h.registry.devices[DEV_EUI].profile_id = profile.id


def test_up_carries_the_object_the_profiles_js_codec_decodes_in_quickjs() -> None:
    h = Harness()
    with_profile(h, FILL_LEVEL_JS.read_text())
    h.join(dev_nonce=1)
    fport, payload = tingcodec.encode("fill_level", "status", STATUS_FIELDS)
    h.uplink(fcnt=0, payload=payload, fport=fport)
    body = json.loads(chirpstack_json(h.events[-1]))
    assert list(body)[10] == "object", "in proto field order, after data"
    assert body["object"] == {"message": "status", "fields": tingcodec.decode(fport, payload, "fill_level")["fields"]}
    assert '"distance_mm":380.0' in chirpstack_json(h.events[-1]).decode()  # Struct numbers are doubles: serde's 380.0
    h.uplink(fcnt=1, payload=b"", fport=None)  # MAC-only: nothing to decode
    assert "object" not in json.loads(chirpstack_json(h.events[-1]))


def test_a_failing_codec_gives_an_up_without_object_then_a_log() -> None:
    h = Harness()
    with_profile(h, "function decodeUplink(input) { return {errors: ['bad byte ' + input.bytes[0]]}; }")
    h.join(dev_nonce=1)
    h.uplink(fcnt=0, payload=b"\x07")
    assert h.names()[-2:] == ["up", "log"]
    up, log = (json.loads(chirpstack_json(e)) for e in h.events[-2:])
    assert "object" not in up
    assert log["code"] == "UPLINK_CODEC" and log["level"] == "ERROR"
    assert log["description"] == "decodeUplink returned errors: bad byte 7"
    assert log["context"] == {"deduplication_id": up["deduplicationId"]}
    with_profile(h, "function decodeUplink(input) { while (true) {} }")  # ChirpStack's 100 ms limit
    h.uplink(fcnt=1)
    assert h.names()[-2:] == ["up", "log"] and "JS error" in h.events[-1].description


def downlink_fopts(txpk_text: str) -> bytes:
    phy = base64.b64decode(json.loads(txpk_text)["data"])
    return phy[8:8 + (phy[5] & 0x0F)]  # LoRaWAN 1.0.x: FOpts in clear after FCnt


def test_status_events_from_devstatusans_at_the_profiles_interval() -> None:
    h = Harness()
    h.registry.profiles["p-1"] = api.DeviceProfile(id="p-1", name="p", device_status_req_interval=24)  # hourly
    h.registry.devices[DEV_EUI].profile_id = "p-1"
    h.join(dev_nonce=1)
    h.uplink(fcnt=0)
    assert len(h.sent) == 2 and downlink_fopts(h.sent[1][1]) == b"\x06", "DevStatusReq in RX1 after the first uplink"
    h.uplink(fcnt=1, fopts=b"\x06\xfe\x05")  # DevStatusAns: battery 254/254, margin +5 dB
    assert h.names()[-2:] == ["up", "status"] and len(h.sent) == 2, "not asked again within the hour"
    up, status = (json.loads(chirpstack_json(e)) for e in h.events[-2:])
    assert status["deduplicationId"] == up["deduplicationId"]
    assert list(status) == ["deduplicationId", "time", "deviceInfo", "margin", "externalPowerSource",
                            "batteryLevelUnavailable", "batteryLevel"]
    assert (status["margin"], status["externalPowerSource"], status["batteryLevel"]) == (5, False, 100.0)
    h.registry.devices[DEV_EUI].session.status_requested_s -= 3601
    h.uplink(fcnt=2, fopts=b"\x06\x00\x3e")  # mains powered, margin -2 dB; and due again
    status = json.loads(chirpstack_json(h.events[-1]))
    assert (status["margin"], status["externalPowerSource"], status["batteryLevel"]) == (-2, True, 0.0)
    assert downlink_fopts(h.sent[-1][1]) == b"\x06"
    h.uplink(fcnt=3, fopts=b"\x06\xff\x00")
    assert json.loads(chirpstack_json(h.events[-1]))["batteryLevelUnavailable"] is True


def test_devnet_interval_overrides_a_profile_without_status_requests() -> None:
    h = Harness(dev_status_interval_s=0.2)
    h.join(dev_nonce=1)
    h.uplink(fcnt=0)
    h.uplink(fcnt=1)
    time.sleep(0.25)
    h.uplink(fcnt=2)
    assert [downlink_fopts(text) for _, text in h.sent[1:]] == [b"\x06", b"\x06"]
    assert Harness().network._status_due(Harness().registry.devices[DEV_EUI]) is False  # no profile, no override


def on_devnet(devnet: Devnet) -> Harness:
    """The harness's frame helpers, aimed at a whole Devnet (its events go through its publisher)."""
    h = Harness()
    h.registry, h.network = devnet.registry, devnet.network
    return h


def published(devnet: Devnet, name: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [json.loads(body) for event, body in list(devnet.publisher.history) if event == name]
        if len(found) >= count:
            return found
        time.sleep(0.02)
    raise AssertionError(f"{count} {name} events not published")


def test_sessions_profiles_and_queue_survive_a_restart_and_a_crash(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = Devnet("token", state_dir=state)
    try:
        h = on_devnet(first)
        h.registry.add_device(Device(DEV_EUI, "0" * 16, APP_KEY, "bin-1", "fill_level", {"site": "harbour"}))
        with_profile(h, FILL_LEVEL_JS.read_text())
        h.join(dev_nonce=7)
        crashed = tmp_path / "crashed"
        crashed.mkdir()  # what a devnet killed right after the join leaves behind: the join is on disk at once
        (crashed / "devnet-state.json").write_bytes((state / "devnet-state.json").read_bytes())
        h.uplink(fcnt=0)
        h.uplink(fcnt=1)
        first.network.enqueue(h.registry.devices[DEV_EUI],
                              api.DeviceQueueItem(dev_eui=DEV_EUI, f_port=20, data=b"\x1e"))
        fcnt_down = h.registry.devices[DEV_EUI].session.fcnt_down
        dev_addr = h.registry.devices[DEV_EUI].session.dev_addr
    finally:
        first.close()
    assert (state / "devnet-state.json").stat().st_mode & 0o777 == 0o600  # it holds keys

    with Devnet("token", state_dir=state) as second:
        assert second.restored_sessions == 1
        h = on_devnet(second)
        device = h.registry.devices[DEV_EUI]
        assert device.session.dev_addr == dev_addr and device.tags == {"site": "harbour"}
        assert device.session.fcnt_down >= fcnt_down + 16, "a downlink counter is never used twice"
        assert [bytes(item.data) for item in device.queue] == [b"\x1e"]
        h.uplink(fcnt=1)  # a replay of the last frame before the restart: still refused
        fport, payload = tingcodec.encode("fill_level", "status", STATUS_FIELDS)
        h.uplink(fcnt=2, payload=payload, fport=fport)  # no new join: the session goes on
        ups = published(second, "up", 1)
        assert len(ups) == 1 and ups[0]["fCnt"] == 2 and "object" in ups[0], "profile and codec came back too"
        assert second.network.counts["rejected"] == 1
        h.join(dev_nonce=7)  # the DevNonce of the last join may not come again
        assert published(second, "log", 2)[-1]["code"] == "OTAA"

    with Devnet("token", state_dir=crashed) as third:
        h = on_devnet(third)
        h.uplink(fcnt=5)
        assert published(third, "up", 1)[0]["devAddr"] == f"{dev_addr:08x}"


def test_a_damaged_state_file_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "devnet-state.json").write_text("{not json")
    with pytest.raises(ValueError, match="damaged devnet state file"):
        Devnet("token", state_dir=tmp_path)


def test_class_c_confirmed_downlink_is_nacked_after_the_profiles_class_c_timeout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lns, "CLASS_C_LOCK_S", 0.0)
    h = Harness()
    h.registry.profiles["p-c"] = api.DeviceProfile(id="p-c", name="lights", supports_class_c=True, class_c_timeout=1)
    device = h.registry.devices[DEV_EUI]
    device.class_c, device.profile_id = True, "p-c"
    h.join(dev_nonce=1)
    h.uplink(fcnt=0)
    first = h.network.enqueue(device, api.DeviceQueueItem(dev_eui=DEV_EUI, confirmed=True, f_port=20, data=b"\x01"))
    second = h.network.enqueue(device, api.DeviceQueueItem(dev_eui=DEV_EUI, confirmed=True, f_port=20, data=b"\x02"))
    assert len(h.sent) == 2, "one confirmed downlink in flight at a time"
    sent_at = time.monotonic()
    h.uplink(fcnt=1)  # no ACK bit: in Class C that is no NACK yet, the device may still answer
    assert "ack" not in h.names()
    deadline = time.monotonic() + 5
    while "ack" not in h.names() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert time.monotonic() - sent_at >= 0.9
    ack = [e for e in h.events if event_name(e) == "ack"][0]
    assert (ack.queue_item_id, ack.acknowledged, ack.deduplication_id) == (first, False, "")
    assert len(h.sent) == 3 and '"imme":true' in h.sent[2][1], "then the next item goes out"
    h.uplink(fcnt=2, ack=True)
    acks = [e for e in h.events if event_name(e) == "ack"]
    assert [(a.queue_item_id, a.acknowledged) for a in acks] == [(first, False), (second, True)]
    time.sleep(1.2)  # the second item's timer was cancelled by its ACK: no late NACK
    assert len([e for e in h.events if event_name(e) == "ack"]) == 2
    assert h.network.counts["ack_timeouts"] == 1


def test_devnet_cli_refuses_a_bad_status_interval_and_a_damaged_state_file(tmp_path: Path) -> None:
    env = {"CHIRPSTACK_API_TOKEN": "t0ken"}
    result = run_cli("devnet", "--udp-port", "0", "--grpc-port", "0", "--dev-status-interval", "0", env=env,
                     timeout=30)
    assert result.returncode == 2 and result.stderr.strip() == "tingbro devnet: --dev-status-interval must be > 0"
    (tmp_path / "devnet-state.json").write_text('{"version": 1, "profiles": [{"nope": 1}]}')
    result = run_cli("devnet", "--udp-port", "0", "--grpc-port", "0", "--state-dir", str(tmp_path), env=env,
                     timeout=30)
    assert result.returncode == 2 and result.stderr.strip() == "tingbro devnet: devnet state file is damaged (ParseError)"
