"""The MQTT ingest against a scripted broker on 127.0.0.1: the protocol paths mosquitto cannot be made to take.

A real mosquitto never sends QoS 2 to a QoS 1 subscription, garbage, or a DISCONNECT on request, and cannot show
that no PUBACK left before the commit. This broker speaks real MQTT bytes (built with the codec under test,
whose byte layouts test_mqtt_wire checks against the specification) and lets each test hold the outbox's commit.
The everyday paths run against mosquitto in test_mqtt_ingest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tingbro.config import MqttIngestConfig
from tingbro.ingest import mqttpackets as packets
from tingbro.ingest import mqttwire as wire
from tingbro.ingest.mqtt import MqttIngest
from tingbro.metrics import Metrics

TOPIC = "application/app-1/device/0102030405060708/event/up"


class Link:
    """The broker's end of one client connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.buffer = b""
        self.v5 = True

    async def packet(self, timeout_s: float = 3.0) -> tuple[int, Any]:
        while True:
            frames, _ = wire.split_frames(self.buffer)
            if frames:
                first, start, end = frames[0]
                found = packets.parse_packet(first, self.buffer, start, end, self.v5)
                self.buffer = self.buffer[end:]
                return found
            chunk = await asyncio.wait_for(self.reader.read(65536), timeout_s)
            if not chunk:
                raise ConnectionError("the client closed the connection")
            self.buffer += chunk

    async def nothing_for(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            chunk = await asyncio.wait_for(self.reader.read(65536), seconds)
            raise AssertionError(f"the client sent {chunk!r}")

    async def closed(self, timeout_s: float = 3.0) -> None:
        while await asyncio.wait_for(self.reader.read(65536), timeout_s):
            pass

    def send(self, *chunks: bytes) -> None:
        self.writer.write(b"".join(chunks))

    async def handshake(self, connack: bytes = packets.encode_connack(False, 0), granted: int = 1) -> packets.Connect:
        kind, connect = await self.packet()
        assert kind == wire.CONNECT
        self.send(connack)
        if connack[3] if len(connack) > 3 else 0:  # refused: the client goes away
            return connect
        kind, subscribe = await self.packet()
        assert kind == wire.SUBSCRIBE and subscribe.topic_filters == [("application/+/device/+/event/+", 1)]
        self.send(packets.encode_suback(subscribe.packet_id, [granted]))
        return connect


class Broker:
    def __init__(self) -> None:
        self.links: asyncio.Queue[Link] = asyncio.Queue()
        self.port = 0

    async def __aenter__(self) -> Broker:
        self.server = await asyncio.start_server(lambda r, w: self.links.put_nowait(Link(r, w)), "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def link(self, timeout_s: float = 5.0) -> Link:
        return await asyncio.wait_for(self.links.get(), timeout_s)


class RecordingIntake:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def convert(self, source: str, event_name: str, body: bytes, content_type: str | None,
                received_at: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        if body == b"boom":
            raise RuntimeError("a bug in decode")
        self.bodies.append(body)
        return [{"id": body.decode(errors="replace")}], []


class HeldOutbox:
    """Each submit's commit waits until the test resolves it."""

    def __init__(self) -> None:
        self.commits: list[tuple[asyncio.Future[None], list[dict[str, Any]], list[dict[str, Any]]]] = []
        self.submitted = asyncio.Event()

    def submit(self, events: list[dict[str, Any]], letters: list[dict[str, Any]] = (),  # type: ignore[assignment]
               received_at: float | None = None) -> asyncio.Future[None]:
        future = asyncio.get_running_loop().create_future()
        self.commits.append((future, list(events), list(letters)))
        self.submitted.set()
        return future


@contextlib.asynccontextmanager
async def running(broker: Broker, **options: Any) -> AsyncIterator[MqttIngest]:
    settings = MqttIngestConfig(**{"enabled": True, "port": broker.port, "client_id": "tb-test", **options})
    ingest = MqttIngest(settings, RecordingIntake(), HeldOutbox(), Metrics())  # type: ignore[arg-type]
    task = asyncio.create_task(ingest.run())
    try:
        yield ingest
    finally:
        await asyncio.wait_for(ingest.stop(), 5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def publish(packet_id: int, body: bytes, qos: int = 1, topic: str = TOPIC) -> bytes:
    return packets.encode_publish(topic, body, qos, packet_id if qos else 0)


def test_one_read_is_one_commit_and_its_acks_follow_the_commit_in_order() -> None:
    async def scenario() -> None:
        async with Broker() as broker, running(broker) as ingest:
            link = await broker.link()
            connect = await link.handshake()
            assert (connect.client_id, connect.clean_start, connect.protocol_level) == ("tb-test", False, 5)
            assert connect.properties[wire.SESSION_EXPIRY] == 7 * 86400
            assert connect.properties[wire.RECEIVE_MAXIMUM] == 1000
            await asyncio.wait_for(ingest.subscribed.wait(), 2)
            link.send(publish(5, b"a"), publish(6, b"b"), publish(0, b"c", qos=0), publish(7, b"d"),
                      publish(8, b"e", qos=2))
            await asyncio.wait_for(ingest.outbox.submitted.wait(), 2)
            assert len(ingest.outbox.commits) == 1
            future, events, _ = ingest.outbox.commits[0]
            assert [event["id"] for event in events] == ["a", "b", "c", "d", "e"]
            await link.nothing_for(0.3)  # not one PUBACK before the commit
            future.set_result(None)
            acks = [await link.packet() for _ in range(4)]
            assert [(kind, ack.packet_id) for kind, ack in acks] == [
                (wire.PUBACK, 5), (wire.PUBACK, 6), (wire.PUBACK, 7), (wire.PUBREC, 8)]
            link.send(packets.encode_ack(wire.PUBREL, 8))  # QoS 2, second half
            kind, done = await link.packet()
            assert (kind, done.packet_id) == (wire.PUBCOMP, 8)
            # A graceful stop waits for commits in flight, then acknowledges, then disconnects.
            link.send(publish(9, b"f"))
            while len(ingest.outbox.commits) < 2:
                await asyncio.sleep(0.01)
            stopping = asyncio.create_task(ingest.stop())
            await asyncio.sleep(0.1)
            assert not stopping.done()
            ingest.outbox.commits[1][0].set_result(None)
            assert [kind for kind, _ in [await link.packet(), await link.packet()]] == [wire.PUBACK, wire.DISCONNECT]
            await link.closed()
            await stopping
    asyncio.run(scenario())


def test_acks_keep_arrival_order_even_when_a_later_commit_finishes_first() -> None:
    async def scenario() -> None:
        async with Broker() as broker, running(broker) as ingest:
            link = await broker.link()
            await link.handshake()
            for number, packet_id in enumerate((1, 2)):
                ingest.outbox.submitted.clear()
                link.send(publish(packet_id, b"batch %d" % number))
                await asyncio.wait_for(ingest.outbox.submitted.wait(), 2)  # two reads, two submissions
            (first, _, _), (second, _, _) = ingest.outbox.commits
            second.set_result(None)
            await link.nothing_for(0.3)  # batch 2 is stored, but batch 1 is not yet: no ack at all
            first.set_result(None)
            assert [(await link.packet())[1].packet_id for _ in range(2)] == [1, 2]
    asyncio.run(scenario())


def test_a_failed_commit_acknowledges_nothing_and_the_next_session_gets_them_again(caplog: Any) -> None:
    async def scenario() -> None:
        async with Broker() as broker, running(broker) as ingest:
            link = await broker.link()
            await link.handshake()
            link.send(publish(1, b"a"), publish(2, b"b"))
            await asyncio.wait_for(ingest.outbox.submitted.wait(), 2)
            ingest.outbox.commits[0][0].set_exception(OSError("disk full"))
            await link.closed()  # dropped without a PUBACK
            second = await broker.link()
            await second.handshake(packets.encode_connack(True, 0))  # the broker kept the session
            await asyncio.wait_for(ingest.subscribed.wait(), 2)
    with caplog.at_level(logging.WARNING, logger="tingbro.ingest.mqtt"):
        asyncio.run(scenario())
    assert any("outbox unavailable" in record.message for record in caplog.records)
    assert not any("did not keep our session" in record.message for record in caplog.records)


def test_keepalive_pings_and_a_silent_broker_is_dropped() -> None:
    async def scenario() -> None:
        async with Broker() as broker, running(broker, keepalive_s=30) as ingest:
            link = await broker.link()
            # The broker's Server Keep Alive (v5) overrides ours: 1 s -> a PINGREQ every 0.5 s.
            await link.handshake(packets.encode_connack(False, 0, properties={wire.SERVER_KEEP_ALIVE: 1}))
            kind, _ = await link.packet(timeout_s=2)
            assert kind == wire.PINGREQ
            link.send(wire.PINGRESP_PACKET)
            assert (await link.packet(timeout_s=2))[0] == wire.PINGREQ
            await link.closed(timeout_s=4)  # no PINGRESP and nothing else for 1.5 keep-alives: gone
            assert not ingest.connected.is_set()
            await (await broker.link()).handshake()
    asyncio.run(scenario())


def test_refusals_disconnects_and_garbage_end_the_session_and_it_comes_back(caplog: Any) -> None:
    async def scenario() -> None:
        async with Broker() as broker, running(broker, protocol=5) as ingest:
            await (await broker.link()).handshake(packets.encode_connack(False, 0x86))  # bad user name or password
            link = await broker.link()
            await link.handshake(granted=0x87)  # subscription not authorized
            await link.closed()
            link = await broker.link()
            await link.handshake()
            await asyncio.wait_for(ingest.subscribed.wait(), 2)
            link.send(packets.encode_disconnect(0x8B, properties={wire.REASON_STRING: "maintenance"}))
            await link.closed()
            link = await broker.link(timeout_s=8)
            await link.handshake()
            link.send(b"\x00\x00")  # a reserved packet type: the stream cannot be trusted any more
            await link.closed()
            await (await broker.link(timeout_s=8)).handshake()
            await asyncio.wait_for(ingest.subscribed.wait(), 2)
    with caplog.at_level(logging.INFO, logger="tingbro.ingest.mqtt"):
        asyncio.run(scenario())
    reasons = [getattr(record, "reason", "") for record in caplog.records]
    assert "0x86 bad user name or password" in reasons
    assert "0x87 not authorized" in reasons
    assert "the broker disconnected: 0x8b server shutting down (maintenance)" in reasons
    assert any("invalid fixed header byte 0x00" in reason for reason in reasons)
    # Every CONNACK here said "no session present": after the first accepted one that is worth a warning.
    assert any(record.message.startswith("mqtt broker did not keep our session") for record in caplog.records)


def test_mqtt_311_credentials_large_messages_and_bad_messages() -> None:
    async def scenario() -> None:
        async with Broker() as broker, running(broker, protocol=4, username="bridge", password="pw-secret") as ingest:
            link = await broker.link()
            link.v5 = False
            kind, connect = await link.packet()
            assert (connect.protocol_level, connect.clean_start, connect.properties) == (4, False, {})
            assert (connect.username, connect.password) == ("bridge", b"pw-secret")
            link.send(packets.encode_connack(True, 0, v5=False))
            kind, subscribe = await link.packet()
            link.send(packets.encode_suback(subscribe.packet_id, [1], v5=False))
            big = b"x" * 300_000  # arrives in many reads: joined once, parsed once
            whole = (packets.encode_publish(TOPIC, big, 1, 1, v5=False)
                     + packets.encode_publish("not/a/chirpstack/topic", b"{}", 1, 2, v5=False)
                     + packets.encode_publish(TOPIC, b"boom", 1, 3, v5=False))
            for offset in range(0, len(whole), 4096):
                link.send(whole[offset:offset + 4096])
                await link.writer.drain()
            while sum(len(events) + len(letters) for _, events, letters in ingest.outbox.commits) < 3:
                await asyncio.sleep(0.01)
            assert ingest.intake.bodies == [big]  # type: ignore[attr-defined]
            letters = [letter for _, _, batch in ingest.outbox.commits for letter in batch]
            assert [letter["stage"] for letter in letters] == ["ingest", "ingest"]
            assert "is not application/+/device/+/event/+" in letters[0]["reason"]
            assert letters[1]["reason"] == "internal error: RuntimeError: a bug in decode" and letters[1]["raw"] == b"boom"
            for future, _, _ in ingest.outbox.commits:
                future.set_result(None)
            acks = [await link.packet() for _ in range(3)]
            assert [ack.packet_id for _, ack in acks] == [1, 2, 3]  # dead letters are stored, so acknowledged
    asyncio.run(scenario())


@pytest.mark.parametrize("protocol", [4, 5])
def test_nothing_listening_is_retried_with_back_off(protocol: int, caplog: Any) -> None:
    async def scenario() -> None:
        async with Broker() as broker:
            port = broker.port
        settings = MqttIngestConfig(enabled=True, port=port, client_id="tb-test", protocol=protocol)
        ingest = MqttIngest(settings, RecordingIntake(), HeldOutbox(), Metrics())  # type: ignore[arg-type]
        task = asyncio.create_task(ingest.run())
        await asyncio.sleep(1.0)  # attempts at 0, 0.2, 0.6 s (doubling)
        await asyncio.wait_for(ingest.stop(), 2)
        await asyncio.wait_for(task, 2)  # stop() wakes the back-off sleep: run() ends by itself
    with caplog.at_level(logging.WARNING, logger="tingbro.ingest.mqtt"):
        asyncio.run(scenario())
    failures = [record for record in caplog.records if record.message == "mqtt connect failed"]
    assert 2 <= len(failures) <= 4
