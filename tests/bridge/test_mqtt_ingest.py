"""The MQTT ingest against a real mosquitto: JSON and protobuf, bad messages dead-lettered, shared groups,
persistent sessions (3.1.1 and 5), a broker restart, QoS 1 redelivery after kill -9, user name and password, TLS.

The test publisher is paho-mqtt, a client independent of the bridge's own.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import signal
import socket
import sqlite3
import subprocess
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import chirp
import paho.mqtt.client as mqtt
import pytest
from bridgehelp import BridgeProcess, Receiver, config_text
from conftest import Mosquitto, _mosquitto_executable, free_port
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion
from tingbro.config import ConfigError, parse_config
from tingbro.ingest.mqtt import event_name_of


def publish(port: int, messages: list[tuple[str, bytes]], credentials: tuple[str, str] | None = None,
            ca_file: Path | None = None) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{time.monotonic_ns()}")
    if credentials:
        client.username_pw_set(*credentials)
    if ca_file:
        client.tls_set(ca_certs=str(ca_file))
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


@contextlib.contextmanager
def one_bridge(tmp_path: Path, broker_port: int, mqtt_lines: str = "",
               ready: bool = True) -> Iterator[tuple[BridgeProcess, Receiver, int]]:
    """A bridge process on MQTT ingest and its webhook receiver; `mqtt_lines` go into [ingest.mqtt]."""
    receiver = Receiver().start()
    port = free_port()
    config = config_text(tmp_path / "outbox.sqlite3", port, receiver.url, http=False, mqtt_port=broker_port)
    (tmp_path / "bridge.toml").write_text(config.replace('shared_group = ""', f'shared_group = ""\n{mqtt_lines}'))
    bridge = BridgeProcess(tmp_path / "bridge.toml", port, tmp_path / "bridge.log")
    try:
        if ready:
            bridge.start().wait_ready(mqtt="subscribed")
        yield bridge, receiver, port
    finally:
        if bridge.process is not None:
            bridge.terminate()
        receiver.stop()


def test_topic_parsing() -> None:
    assert event_name_of("application/a/device/0102/event/up") == "up"
    assert event_name_of("application/a/device/0102/command/down") is None
    assert event_name_of("application/a/device/0102/event") is None


def test_mqtt_json_protobuf_and_bad_messages(mosquitto, tmp_path: Path) -> None:
    with one_bridge(tmp_path, mosquitto.port) as (bridge, receiver, _):
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
        assert bridge.terminate() == 0


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
    with one_bridge(tmp_path, mosquitto.port) as (bridge, receiver, port):
        publish(mosquitto.port, uplinks("graceful", 100))
        assert receiver.wait_for(100, 10)
        assert bridge.terminate() == 0
        bridge.start().wait_ready(mqtt="subscribed")
        time.sleep(1.0)
        assert metric(port, 'tingbro_events_in_total{event="up",source="mqtt"}') == 0  # nothing redelivered
        assert len(receiver.ids()) == 100


def uplinks(prefix: str, count: int) -> list[tuple[str, bytes]]:
    return [(topic("0102030405060708"), chirp.chirpstack_json(chirp.uplink(f_cnt=n, dedup_id=f"{prefix}-{n}")))
            for n in range(count)]


def metric(port: int, line_start: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(line_start):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.parametrize("protocol", [4, 5])
def test_persistent_session_keeps_what_was_published_while_the_bridge_was_away(mosquitto, tmp_path: Path,
                                                                               protocol: int) -> None:
    with one_bridge(tmp_path, mosquitto.port, f"protocol = {protocol}") as (bridge, receiver, _):
        assert bridge.terminate() == 0
        publish(mosquitto.port, uplinks("away", 50))  # nobody connected: the broker queues them for our session
        bridge.start().wait_ready(mqtt="subscribed")
        assert receiver.wait_for(50, 10)
        assert sorted(receiver.ids()) == sorted(f"away-{n}:up" for n in range(50))


def test_broker_restart_reconnects_and_resumes(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path)
    broker.start()
    try:
        with one_bridge(tmp_path, broker.port) as (bridge, receiver, _):
            restart_the_broker(broker, bridge, receiver)
            assert "mqtt disconnected" in (tmp_path / "bridge.log").read_text()
    finally:
        broker.stop()


def restart_the_broker(broker: Mosquitto, bridge: BridgeProcess, receiver: Receiver) -> None:
    publish(broker.port, uplinks("before", 20))
    assert receiver.wait_for(20, 10)
    broker.stop()
    deadline = time.monotonic() + 5
    while (bridge.health() or {}).get("mqtt_connected") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bridge.health()["mqtt_connected"] is False  # type: ignore[index]
    broker.start()  # same port, same persistence file
    bridge.wait_ready(mqtt="subscribed", timeout_s=15)
    publish(broker.port, uplinks("after", 20))
    assert receiver.wait_for(40, 10)


def test_messages_unacknowledged_at_kill_9_are_redelivered(mosquitto, tmp_path: Path) -> None:
    """Freeze the bridge (SIGSTOP) so it cannot commit, let the broker send to it, kill -9: all come back."""
    with one_bridge(tmp_path, mosquitto.port) as (bridge, receiver, port):
        pid = bridge.process.pid  # type: ignore[union-attr]
        os.kill(pid, signal.SIGSTOP)
        publish(mosquitto.port, uplinks("frozen", 300))  # the broker sends up to the in-flight window at once
        bridge.kill()  # SIGKILL works on a stopped process
        bridge.start().wait_ready(mqtt="subscribed")
        assert receiver.wait_for(300, 15)
        assert sorted(set(receiver.ids())) == sorted(f"frozen-{n}:up" for n in range(300))
        # The new process took all 300 from the broker: nothing was acknowledged by the one that was killed.
        assert metric(port, 'tingbro_events_in_total{event="up",source="mqtt"}') == 300


class ConfiguredBroker(Mosquitto):
    """mosquitto with extra configuration lines (password file, TLS), no persistence."""

    def __init__(self, workdir: Path, lines: str) -> None:
        super().__init__(workdir, persistence=False)
        self.lines = lines

    def start(self) -> None:
        conf = self.workdir / "mosquitto-custom.conf"
        # As root mosquitto would drop to its own user, which cannot read the test's private folder.
        conf.write_text(f"listener {self.port} {self.host}\n{self.lines}\n"
                        f"log_dest none\n{'user root' if os.geteuid() == 0 else ''}\n")
        self.process = subprocess.Popen([_mosquitto_executable(), "-c", str(conf)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")


def test_user_name_and_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    passwords = tmp_path / "passwords"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "tingbro", "mqtt-pw-91c2"], check=True,
                   capture_output=True)

    broker = ConfiguredBroker(tmp_path, f"allow_anonymous false\npassword_file {passwords}")
    broker.start()
    try:
        with one_bridge(tmp_path, broker.port, 'username = "tingbro"\npassword_env = "TB_MQTT_PW"',
                        ready=False) as (bridge, receiver, _):
            log_in_wrong_then_right(broker, bridge, receiver, tmp_path / "bridge.log", monkeypatch)
    finally:
        broker.stop()


def log_in_wrong_then_right(broker: Mosquitto, bridge: BridgeProcess, receiver: Receiver, log_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TB_MQTT_PW", "wrong-password")  # the bridge process inherits it
    bridge.start()
    deadline = time.monotonic() + 10
    while "mqtt connect refused" not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bridge.health()["mqtt_connected"] is False  # type: ignore[index]
    bridge.terminate()
    log = log_path.read_text()
    assert "bad user name or password" in log or "not authorized" in log
    assert "wrong-password" not in log
    monkeypatch.setenv("TB_MQTT_PW", "mqtt-pw-91c2")
    bridge.start().wait_ready(mqtt="subscribed")
    publish(broker.port, uplinks("auth", 5), credentials=("tingbro", "mqtt-pw-91c2"))
    assert receiver.wait_for(5, 10)
    assert "mqtt-pw-91c2" not in log_path.read_text()


def write_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, server.key)."""
    def key_and_name(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Name]:
        return ec.generate_private_key(ec.SECP256R1()), x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    now = datetime.datetime.now(datetime.UTC)
    ca_key, ca_name = key_and_name("tingbro test CA")
    server_key, server_name = key_and_name("127.0.0.1")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder().subject_name(server_name).issuer_name(ca_name)
              .public_key(server_key.public_key()).serial_number(2)
              .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return paths


def test_tls_verifies_the_broker_certificate(tmp_path: Path) -> None:
    ca_file, cert_file, key_file = write_certificates(tmp_path)
    broker = ConfiguredBroker(tmp_path, f"allow_anonymous true\ncafile {ca_file}\ncertfile {cert_file}\n"
                                        f"keyfile {key_file}")
    broker.start()
    try:
        untrusted = tmp_path / "untrusted"
        untrusted.mkdir()
        with one_bridge(untrusted, broker.port, "tls = true", ready=False) as (bridge, _, _):
            bridge.start()  # the system's CAs do not know our test CA: refused, and said why
            deadline = time.monotonic() + 10
            while "CERTIFICATE_VERIFY_FAILED" not in (untrusted / "bridge.log").read_text():
                assert time.monotonic() < deadline, (untrusted / "bridge.log").read_text()[-2000:]
                time.sleep(0.05)
            assert bridge.health()["mqtt_connected"] is False  # type: ignore[index]
        with one_bridge(tmp_path, broker.port, f'tls = true\nca_file = "{ca_file}"') as (_, receiver, _):
            publish(broker.port, uplinks("tls", 5), ca_file=ca_file)
            assert receiver.wait_for(5, 10)
    finally:
        broker.stop()


def test_tls_options_are_checked_up_front(tmp_path: Path) -> None:
    def mqtt_options(lines: str) -> str:
        with pytest.raises(ConfigError) as refused:
            parse_config(tomllib.loads(f"[ingest.http]\nenabled = false\n[ingest.mqtt]\nenabled = true\n{lines}\n"),
                         base_dir=tmp_path)
        return str(refused.value)

    (tmp_path / "ca.pem").write_text("")
    assert mqtt_options('tls = true\nca_file = "missing.pem"') == (
        f"[ingest.mqtt] ca_file {tmp_path / 'missing.pem'} does not exist")
    assert mqtt_options('ca_file = "ca.pem"') == "[ingest.mqtt] ca_file, cert_file and key_file need tls = true"
    assert mqtt_options('tls = true\ncert_file = "ca.pem"') == "[ingest.mqtt] cert_file and key_file go together"
