"""The MQTT ingest against a real mosquitto: JSON and protobuf, bad messages dead-lettered, shared groups."""

from __future__ import annotations

import sqlite3
import time
import urllib.request
from pathlib import Path

import chirp
import paho.mqtt.client as mqtt
from bridgehelp import BridgeProcess, Receiver, config_text
from conftest import free_port
from paho.mqtt.enums import CallbackAPIVersion
from tingbro.ingest.mqtt import event_name_of


def publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{time.monotonic_ns()}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for info in [client.publish(topic, body, qos=1) for topic, body in messages]:
            info.wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def topic(dev_eui: str, event: str = "up") -> str:
    return f"application/{chirp.APP_ID}/device/{dev_eui}/event/{event}"


def test_topic_parsing() -> None:
    assert event_name_of("application/a/device/0102/event/up") == "up"
    assert event_name_of("application/a/device/0102/command/down") is None
    assert event_name_of("application/a/device/0102/event") is None


def test_mqtt_json_protobuf_and_bad_messages(mosquitto, tmp_path: Path) -> None:
    receiver = Receiver().start()
    port = free_port()
    (tmp_path / "bridge.toml").write_text(config_text(tmp_path / "outbox.sqlite3", port, receiver.url, http=False,
                                                      mqtt_port=mosquitto.port))
    bridge = BridgeProcess(tmp_path / "bridge.toml", port, tmp_path / "bridge.log").start()
    try:
        bridge.wait_ready(mqtt="subscribed")
        json_up = chirp.uplink(f_cnt=1, dedup_id="m-json")
        proto_up = chirp.uplink(f_cnt=2, dedup_id="m-proto")
        publish(mosquitto.port, [
            (topic("0102030405060708"), chirp.chirpstack_json(json_up)),
            (topic("0102030405060708"), chirp.protobuf(proto_up)),
            (topic("0102030405060708", "join"), b"\xff\xff not protobuf"),
            (topic("0102030405060708", "nonsense"), b"{}"),
            (topic("0102030405060708"), chirp.chirpstack_json(json_up)),  # a QoS 1 repeat: absorbed
        ])
        assert receiver.wait_for(2, 10)
        deadline = time.monotonic() + 5
        while count(tmp_path, "dead_letters") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(receiver.ids()) == ["m-json:up", "m-proto:up"]
        db = sqlite3.connect(tmp_path / "outbox.sqlite3")
        letters = db.execute("SELECT stage, event_name, reason, raw FROM dead_letters ORDER BY id").fetchall()
        assert [(stage, name) for stage, name, _, _ in letters] == [("ingest", "join"), ("ingest", "nonsense")]
        assert "invalid join protobuf" in letters[0][2] and letters[0][3] == b"\xff\xff not protobuf"
        assert "unknown event type 'nonsense'" in letters[1][2]
    finally:
        assert bridge.terminate() == 0
        receiver.stop()


def count(tmp_path: Path, table: str) -> int:
    return sqlite3.connect(tmp_path / "outbox.sqlite3").execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_shared_subscription_splits_the_load_between_two_bridges(mosquitto, tmp_path: Path) -> None:
    receiver = Receiver().start()
    bridges = []
    try:
        for index in range(2):
            folder = tmp_path / f"bridge{index}"
            folder.mkdir()
            port = free_port()
            (folder / "bridge.toml").write_text(config_text(
                folder / "outbox.sqlite3", port, receiver.url, http=False, mqtt_port=mosquitto.port,
                client_id=f"tingbro-{index}", shared_group="tingbro"))
            bridges.append(BridgeProcess(folder / "bridge.toml", port, folder / "bridge.log").start())
        for bridge in bridges:
            bridge.wait_ready(mqtt="subscribed")
        publish(mosquitto.port, [(topic("0102030405060708"), chirp.chirpstack_json(
            chirp.uplink(f_cnt=n, dedup_id=f"shared-{n}"))) for n in range(200)])
        assert receiver.wait_for(200, 20)
        assert len(receiver.ids()) == 200  # each message went to exactly one bridge
        stored = [count(tmp_path / f"bridge{index}", "events") for index in range(2)]
        assert sum(stored) == 200 and min(stored) > 0, stored
    finally:
        for bridge in bridges:
            bridge.terminate()
        receiver.stop()


def test_graceful_stop_acknowledges_what_it_stored(mosquitto, tmp_path: Path) -> None:
    """After SIGTERM every stored message was PUBACKed: the next session gets no redeliveries."""
    receiver = Receiver().start()
    port = free_port()
    (tmp_path / "bridge.toml").write_text(config_text(tmp_path / "outbox.sqlite3", port, receiver.url, http=False,
                                                      mqtt_port=mosquitto.port))
    bridge = BridgeProcess(tmp_path / "bridge.toml", port, tmp_path / "bridge.log").start()
    try:
        bridge.wait_ready(mqtt="subscribed")
        publish(mosquitto.port, [(topic("0102030405060708"), chirp.chirpstack_json(
            chirp.uplink(f_cnt=n, dedup_id=f"graceful-{n}"))) for n in range(100)])
        assert receiver.wait_for(100, 10)
        assert bridge.terminate() == 0
        bridge.start().wait_ready(mqtt="subscribed")
        time.sleep(1.0)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert 'tingbro_events_in_total{event="up",source="mqtt"}' not in metrics  # nothing redelivered
        assert len(receiver.ids()) == 100
    finally:
        bridge.terminate()
        receiver.stop()
