"""ChirpStack's MQTT integration: subscribe to `application/+/device/+/event/+` at QoS 1.

paho-mqtt runs on the service's asyncio loop (socket readiness callbacks, no extra thread) with manual
acknowledgement: a PUBACK is sent only after the outbox committed what the message became, so a message
the bridge had not stored when it died is redelivered by the broker. The session is persistent (fixed
client id, clean start off, a session expiry for MQTT v5) so the broker queues QoS 1 messages while the
bridge is away. With `shared_group` several bridges split one subscription ($share/<group>/...).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tingbro.config import MqttIngestConfig
from tingbro.ingest.intake import Intake, ingest_letter
from tingbro.ingest.parse import ParseError
from tingbro.metrics import Metrics
from tingbro.outbox import Outbox

log = logging.getLogger("tingbro.ingest.mqtt")

RECONNECT_MAX_S = 10.0


class BufferedReads:
    """The broker socket as paho sees it: one large recv() feeds paho's many small ones.

    paho reads a packet with two or more recv() calls of a few bytes each; at thousands of messages per
    second those system calls were most of the ingest's time. Everything but recv() goes to the socket.
    """

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.data = b""
        self.position = 0

    @property
    def buffered(self) -> bool:
        return self.position < len(self.data)

    def recv(self, size: int) -> bytes:
        if self.position >= len(self.data):
            # BlockingIOError when nothing is there, as paho expects; b"" when the broker closed the connection
            self.data = self.sock.recv(max(size, 65536))
            self.position = 0
        chunk = self.data[self.position:self.position + size]
        self.position += len(chunk)
        return chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


def event_name_of(topic: str) -> str | None:
    """`application/<app>/device/<dev_eui>/event/<event>` -> event, else None."""
    parts = topic.split("/")
    if len(parts) == 6 and parts[0] == "application" and parts[2] == "device" and parts[4] == "event":
        return parts[5]
    return None


class MqttIngest:
    def __init__(self, settings: MqttIngestConfig, intake: Intake, outbox: Outbox, metrics: Metrics) -> None:
        self.settings = settings
        self.intake = intake
        self.outbox = outbox
        self.metrics = metrics
        self.pending: list[paho.MQTTMessage] = []
        self.have_pending = asyncio.Event()
        self.connected = asyncio.Event()
        self.subscribed = asyncio.Event()
        self.stopping = False
        self.busy = False
        self.client: paho.Client | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def subscription(self) -> str:
        topic = self.settings.topic
        return f"$share/{self.settings.shared_group}/{topic}" if self.settings.shared_group else topic

    def build_client(self) -> paho.Client:
        v5 = self.settings.protocol == 5
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.settings.client_id,
                             clean_session=None if v5 else False,
                             protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
                             manual_ack=True, reconnect_on_failure=False)
        if self.settings.username:
            client.username_pw_set(self.settings.username, self.settings.password)
        client.on_connect = self.on_connect
        client.on_disconnect = self.on_disconnect
        client.on_message = self.on_message
        client.on_subscribe = lambda *args: self.subscribed.set()
        loop = self.loop
        assert loop is not None
        client.on_socket_open = self.on_socket_open
        client.on_socket_close = lambda c, u, sock: loop.remove_reader(sock)
        client.on_socket_register_write = lambda c, u, sock: loop.add_writer(sock, c.loop_write)
        client.on_socket_unregister_write = lambda c, u, sock: loop.remove_writer(sock)
        return client

    def on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        wrapped = BufferedReads(sock)
        client._sock = wrapped  # type: ignore[assignment]  # paho has no hook for buffered reads

        def readable() -> None:
            client.loop_read()
            while wrapped.buffered and client._sock is wrapped:  # the kernel will not signal what we hold
                client.loop_read()

        assert self.loop is not None
        self.loop.add_reader(sock, readable)

    def on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.error("mqtt connect refused", extra={"reason": str(reason)})
            return
        log.info("mqtt connected", extra={"session_present": bool(flags.session_present),
                                          "subscription": self.subscription})
        client.subscribe(self.subscription, qos=1)
        self.connected.set()

    def on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if not self.stopping:
            log.warning("mqtt disconnected", extra={"reason": str(reason)})

    def on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self.pending.append(message)
        self.have_pending.set()

    async def run(self) -> None:
        """Connect, keep connected, and process messages until `stop()`."""
        self.loop = asyncio.get_running_loop()
        processor = asyncio.create_task(self.process_loop(), name="mqtt-process")
        delay_s = 0.2
        try:
            while not self.stopping:
                if self.client is None or not self.client.is_connected():
                    if await self.connect_once():
                        delay_s = 0.2
                    else:
                        await asyncio.sleep(delay_s)
                        delay_s = min(delay_s * 2, RECONNECT_MAX_S)
                        continue
                self.client.loop_misc()  # type: ignore[union-attr]  # keepalive pings, timeouts
                await asyncio.sleep(0.5)
        finally:
            processor.cancel()

    async def connect_once(self) -> bool:
        if self.client is not None:
            self.drop_client()
        self.client = self.build_client()
        properties = None
        if self.settings.protocol == 5:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = self.settings.session_expiry_s
            properties.ReceiveMaximum = self.settings.max_inflight
        try:
            self.client.connect(self.settings.host, self.settings.port, self.settings.keepalive_s,
                                clean_start=False, properties=properties)
        except OSError as exc:
            log.warning("mqtt connect failed", extra={"reason": f"{type(exc).__name__}: {exc}",
                                                      "host": self.settings.host, "port": self.settings.port})
            self.drop_client()
            return False
        return True

    def drop_client(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            sock = client.socket()
            if sock is not None and self.loop is not None:
                self.loop.remove_reader(sock)
                self.loop.remove_writer(sock)
            client.disconnect()
            self.pending.clear()  # unacknowledged: the broker sends them again in the next session

    async def process_loop(self) -> None:
        while True:
            await self.have_pending.wait()
            self.have_pending.clear()
            batch, self.pending = self.pending, []
            if batch:
                self.busy = True
                try:
                    await self.process(batch)
                finally:
                    self.busy = False

    async def process(self, batch: list[paho.MQTTMessage]) -> None:
        client = self.client
        events: list[dict[str, Any]] = []
        letters: list[dict[str, Any]] = []
        now = time.time()
        for message in batch:
            topic = message.topic
            event_name = event_name_of(topic)
            body = bytes(message.payload)
            try:
                if event_name is None:
                    raise ParseError(f"topic {topic[:120]!r} is not application/+/device/+/event/+")
                found, lost = self.intake.convert("mqtt", event_name, body, None, now)
            except ParseError as exc:
                self.metrics.inc("tingbro_ingest_rejected_total", source="mqtt", status="dead_letter")
                self.metrics.inc("tingbro_dead_lettered_total", stage="ingest", sink="")
                log.warning("mqtt message dead-lettered", extra={"reason": str(exc), "topic": topic[:120]})
                found, lost = [], [ingest_letter("ingest", str(exc), event_name, "mqtt:" + topic[:200], body)]
            events += found
            letters += lost
        try:
            await self.outbox.accept(events, letters, received_at=now)
        except (OSError, RuntimeError) as exc:
            log.error("outbox unavailable: messages stay unacknowledged", extra={"reason": str(exc)})
            return
        if client is None or client is not self.client:
            return  # reconnected meanwhile: the broker redelivers them; the outbox absorbs the repeats
        for message in batch:
            if message.qos > 0:
                client.ack(message.mid, message.qos)

    async def stop(self) -> None:
        """Stop taking messages: what is stored is acknowledged, the rest the broker keeps for next time."""
        self.stopping = True
        client = self.client
        if client is None:
            return
        sock = client.socket()
        if sock is not None and self.loop is not None:
            self.loop.remove_reader(sock)  # take no new messages
        deadline = time.monotonic() + 10
        while (self.pending or self.busy) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        client.disconnect()  # queued after the last PUBACKs: flush both before closing the socket
        while time.monotonic() < deadline:
            client.loop_write()
            if not client.want_write():
                break
            await asyncio.sleep(0.01)
        self.drop_client()
