"""The MQTT republish sink against a real mosquitto on a loopback port."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiomqtt
import pytest
from sinkhelp import lifebuoy_alarm, make_event, run
from tingbro.sinks import SinkConfigError, TransientSinkError, build_sink
from tingbro.sinks.mqtt import topic_for


async def collect(broker: Any, topic: str, count: int, timeout_s: float = 5) -> list[aiomqtt.Message]:
    received: list[aiomqtt.Message] = []
    async with aiomqtt.Client(broker.host, broker.port, identifier="test-collector") as client:
        await client.subscribe(topic, qos=1)
        async with asyncio.timeout(timeout_s):
            async for message in client.messages:
                received.append(message)
                if len(received) >= count:
                    break
    return received


def test_topic_scheme() -> None:
    assert topic_for("tingbro", make_event(1)) == "tingbro/aarhus/fill_level/0102030405060708/uplink"
    assert topic_for("tingbro", lifebuoy_alarm(1)) == \
        "tingbro/aarhus/lifebuoy/70b3d57ed00000b7/alarm/lifebuoy_removed"
    odd = make_event(1, device={"municipality": None, "device_type": None, "dev_eui": "a/b+c#"})
    assert topic_for("city/x", odd) == "city/x/unknown/unknown/a_b_c_/uplink"


def test_publishes_events_with_qos1_and_retains_status(mosquitto: Any) -> None:
    status = make_event(3, id="abc:status", type="status", message=None, fields={}, derived={},
                        detail={"battery_level_percent": 90.0, "margin": 7})
    events = [make_event(1), lifebuoy_alarm(2), status]

    async def scenario() -> None:
        sink = build_sink("city-mqtt", "mqtt", {"host": mosquitto.host, "port": mosquitto.port})
        await sink.start()
        collector = asyncio.create_task(collect(mosquitto, "tingbro/#", len(events)))
        await asyncio.sleep(0.3)  # let the collector subscribe first
        await sink.deliver(events)
        received = await collector
        by_topic = {str(message.topic): message for message in received}
        assert set(by_topic) == {topic_for("tingbro", event) for event in events}
        for event in events:
            message = by_topic[topic_for("tingbro", event)]
            assert json.loads(message.payload) == event
            assert message.qos == 1
        # A subscriber arriving later still sees the retained status, and only that.
        late = await collect(mosquitto, "tingbro/#", 1)
        assert [str(message.topic) for message in late] == [topic_for("tingbro", status)]
        assert late[0].retain
        await sink.close()

    run(scenario())


def test_broker_down_is_transient_and_sink_reconnects(mosquitto: Any) -> None:
    async def scenario() -> None:
        sink = build_sink("city-mqtt", "mqtt", {"host": mosquitto.host, "port": mosquitto.port,
                                                "topic_prefix": "kommune", "timeout_s": 2})
        await sink.deliver([make_event(1)])
        mosquitto.stop()
        with pytest.raises(TransientSinkError, match="MQTT"):
            for attempt in range(5):  # the first publish after the broker died may still be buffered
                await sink.deliver([make_event(10 + attempt)])
                await asyncio.sleep(0.2)
        mosquitto.start()
        collector = asyncio.create_task(collect(mosquitto, "kommune/#", 1, timeout_s=20))
        await asyncio.sleep(0.3)
        for _ in range(10):  # paho reconnects on its own back-off (at most 10 s between attempts)
            try:
                await sink.deliver([make_event(20)])
                break
            except TransientSinkError:
                await asyncio.sleep(0.5)
        received = await collector
        assert json.loads(received[0].payload)["id"] == make_event(20)["id"]
        await sink.close()

    run(scenario(), timeout_s=40)


def test_bad_options() -> None:
    with pytest.raises(SinkConfigError, match="'host' is required"):
        build_sink("m", "mqtt", {})
    with pytest.raises(SinkConfigError, match="qos"):
        build_sink("m", "mqtt", {"host": "127.0.0.1", "qos": 0})
    with pytest.raises(SinkConfigError, match="retain_types"):
        build_sink("m", "mqtt", {"host": "127.0.0.1", "retain_types": ["statsu"]})
    with pytest.raises(SinkConfigError, match="topic_prefix"):
        build_sink("m", "mqtt", {"host": "127.0.0.1", "topic_prefix": "a/#"})


def test_no_broker_start_succeeds_and_deliver_is_transient() -> None:
    from conftest import free_port

    async def scenario() -> None:
        sink = build_sink("city-mqtt", "mqtt", {"host": "127.0.0.1", "port": free_port(), "timeout_s": 0.5})
        await sink.start()
        with pytest.raises(TransientSinkError, match="not connected"):
            await sink.deliver([make_event(1)])
        await sink.close()

    run(scenario())


def test_refused_login_is_transient_with_the_brokers_reason(tmp_path: Any) -> None:
    import shutil
    import socket
    import subprocess
    import time

    from conftest import free_port

    passwords = tmp_path / "passwords"
    subprocess.run([shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd", "-c", "-b", str(passwords),
                    "tingbro", "right-password"], check=True, capture_output=True, timeout=30)
    port = free_port()
    conf = tmp_path / "auth.conf"
    # `user root`: a broker started as root would otherwise drop to user mosquitto, who cannot read tmp_path;
    # started by anyone else, mosquitto ignores the line.
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
                    "persistence false\nlog_dest none\nuser root\n")
    broker = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):  # wait for the listener, at most 10 s
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert broker.poll() is None, "mosquitto with a password file did not start"
                time.sleep(0.1)

        async def scenario() -> None:
            wrong = build_sink("m", "mqtt", {"host": "127.0.0.1", "port": port, "username": "tingbro",
                                             "password": "wrong-password", "timeout_s": 5})
            with pytest.raises(TransientSinkError, match="refused: Not authorized") as caught:
                await wrong.deliver([make_event(1)])
            assert "wrong-password" not in str(caught.value)
            await wrong.close()
            right = build_sink("m", "mqtt", {"host": "127.0.0.1", "port": port, "username": "tingbro",
                                             "password": "right-password"})
            await right.deliver([make_event(1)])
            await right.close()

        run(scenario())
    finally:
        broker.terminate()
        broker.wait(10)
