"""ChirpStack's MQTT integration: subscribe to `application/+/device/+/event/+` at QoS 1.

Our own small MQTT 3.1.1/5 client (`mqttsession`, `mqttpackets`, `mqttwire`) on the service's asyncio loop.
All PUBLISHes that arrive in one read become one outbox submission; their PUBACKs are written together, in
order, only after that commit, so a message the bridge had not stored when it died is redelivered by the
broker. The session is persistent (fixed client id, clean start off, a session expiry for MQTT v5) so the
broker queues QoS 1 messages while the bridge is away. With `shared_group` several bridges split one
subscription ($share/<group>/...). The connection is re-established with exponential back-off; optionally TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from typing import Any

from tingbro.config import MqttIngestConfig
from tingbro.ingest.intake import Intake, ingest_letter
from tingbro.ingest.mqttpackets import Publish
from tingbro.ingest.mqttsession import MqttSession, SessionClosed
from tingbro.ingest.mqttwire import (
    MAXIMUM_PACKET_SIZE,
    RECEIVE_MAXIMUM,
    SERVER_KEEP_ALIVE,
    SESSION_EXPIRY,
    reason_name,
)
from tingbro.ingest.parse import ParseError
from tingbro.metrics import Metrics
from tingbro.outbox import Outbox

log = logging.getLogger("tingbro.ingest.mqtt")

RECONNECT_MIN_S = 0.2
RECONNECT_MAX_S = 10.0
HANDSHAKE_TIMEOUT_S = 10.0      # TCP connect, CONNACK, SUBACK each
STOP_TIMEOUT_S = 10.0           # graceful stop: commits in flight, then DISCONNECT
MAX_PACKET_BYTES = 16 * 1024 * 1024  # ChirpStack events are a few kB; v5 tells the broker, v3.1.1 drops the link


def tls_context(settings: MqttIngestConfig) -> ssl.SSLContext:
    """Verifies the broker's certificate and host name (against `host`); a client certificate if configured."""
    context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    if settings.cert_file:
        context.load_cert_chain(str(settings.cert_file), str(settings.key_file) if settings.key_file else None)
    return context


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
        self.connected = asyncio.Event()
        self.subscribed = asyncio.Event()
        self.stopping = False
        self.stopped = asyncio.Event()     # wakes the back-off sleep on stop()
        self.session: MqttSession | None = None
        self.tls = tls_context(settings) if settings.tls else None
        self.had_session = False           # a session existed earlier in this process (so the broker should keep it)
        self.commits_in_flight = 0
        self.all_committed = asyncio.Event()
        self.all_committed.set()

    @property
    def subscription(self) -> str:
        topic = self.settings.topic
        return f"$share/{self.settings.shared_group}/{topic}" if self.settings.shared_group else topic

    async def run(self) -> None:
        """Connect, keep connected, and process messages until `stop()`."""
        delay_s = RECONNECT_MIN_S
        while not self.stopping:
            if await self.run_session():
                delay_s = RECONNECT_MIN_S
            if self.stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopped.wait(), delay_s)
            delay_s = min(delay_s * 2, RECONNECT_MAX_S)

    async def run_session(self) -> bool:
        """One connection from CONNECT to its end; True when it got as far as a subscription."""
        settings = self.settings
        loop = asyncio.get_running_loop()
        try:
            _, session = await asyncio.wait_for(loop.create_connection(
                lambda: MqttSession(settings.protocol == 5, self.on_publishes, MAX_PACKET_BYTES),
                settings.host, settings.port, ssl=self.tls), HANDSHAKE_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            log.warning("mqtt connect failed", extra={"reason": f"{type(exc).__name__}: {exc}",
                                                      "host": settings.host, "port": settings.port})
            return False
        self.session = session
        try:
            return await self.converse(session)
        except SessionClosed as exc:
            if not self.stopping:
                log.warning("mqtt disconnected", extra={"reason": str(exc)})
            return False
        finally:
            session.abort("session over")
            self.session = None
            self.connected.clear()
            self.subscribed.clear()

    async def converse(self, session: MqttSession) -> bool:
        settings = self.settings
        properties = {SESSION_EXPIRY: settings.session_expiry_s, RECEIVE_MAXIMUM: settings.max_inflight,
                      MAXIMUM_PACKET_SIZE: MAX_PACKET_BYTES} if session.v5 else {}
        session.send_connect(settings.client_id, clean_start=False, keepalive_s=settings.keepalive_s,
                             username=settings.username, password=settings.password if settings.username else None,
                             properties=properties)
        connack = await session.wait(session.connack, HANDSHAKE_TIMEOUT_S, "CONNACK")
        if connack.reason_code:
            log.error("mqtt connect refused", extra={"reason": reason_name(connack.reason_code, settings.protocol)})
            return False
        self.connected.set()
        log.info("mqtt connected", extra={"session_present": connack.session_present,
                                          "subscription": self.subscription})
        if self.had_session and not connack.session_present:
            log.warning("mqtt broker did not keep our session: what was published while disconnected may be lost",
                        extra={"client_id": settings.client_id})
        self.had_session = True
        suback = await session.wait(session.subscribe(self.subscription, 1), HANDSHAKE_TIMEOUT_S, "SUBACK")
        granted = suback.reason_codes[0]
        if granted >= 0x80:
            log.error("mqtt subscribe refused", extra={"reason": reason_name(granted, 5),
                                                       "subscription": self.subscription})
            return False
        if granted == 0:
            log.warning("mqtt subscription granted at QoS 0 only: the broker will not redeliver",
                        extra={"subscription": self.subscription})
        self.subscribed.set()
        await self.keep_alive(session, connack.properties.get(SERVER_KEEP_ALIVE, settings.keepalive_s))
        if not self.stopping:
            log.warning("mqtt disconnected", extra={"reason": session.close_reason})
        return True

    async def keep_alive(self, session: MqttSession, keepalive_s: int) -> None:
        """PINGREQ every half keep-alive; a broker silent for 1.5 keep-alives is taken for gone."""
        while not session.closed.done():
            await asyncio.wait((session.closed,), timeout=keepalive_s / 2 if keepalive_s else None)
            if session.closed.done():
                return
            silent_s = time.monotonic() - session.last_packet_at
            if silent_s > keepalive_s * 1.5:
                session.abort(f"no packet from the broker for {silent_s:.0f} s")
                await session.closed
                return
            session.ping()

    def on_publishes(self, session: MqttSession, publishes: list[Publish]) -> None:
        """One read's messages -> one outbox submission; their acks go out after it committed."""
        now = time.time()
        events: list[dict[str, Any]] = []
        letters: list[dict[str, Any]] = []
        convert = self.intake.convert
        for publish in publishes:
            event_name = event_name_of(publish.topic)
            try:
                if event_name is None:
                    raise ParseError(f"topic {publish.topic[:120]!r} is not application/+/device/+/event/+")
                found, lost = convert("mqtt", event_name, publish.payload, None, now)
            except Exception as exc:  # ParseError, or a bug: keep the message (as a dead letter) rather than loop on it
                found, lost = [], [self.dead_letter(publish, event_name, exc)]
            events += found
            letters += lost
        try:
            committed = self.outbox.submit(events, letters, received_at=now)
        except RuntimeError as exc:  # the outbox is closing: nothing stored, nothing acknowledged
            session.abort(str(exc))
            return
        self.commits_in_flight += 1
        self.all_committed.clear()
        session.acknowledge_after(committed, publishes)  # its callback first: acks are out before stop() goes on
        committed.add_done_callback(self.after_commit)

    def dead_letter(self, publish: Publish, event_name: str | None, exc: Exception) -> dict[str, Any]:
        reason = str(exc) if isinstance(exc, ParseError) else f"internal error: {type(exc).__name__}: {exc}"
        self.metrics.inc("tingbro_ingest_rejected_total", source="mqtt", status="dead_letter")
        self.metrics.inc("tingbro_dead_lettered_total", stage="ingest", sink="")
        log.warning("mqtt message dead-lettered", extra={"reason": reason, "topic": publish.topic[:120]})
        return ingest_letter("ingest", reason, event_name, "mqtt:" + publish.topic[:200], publish.payload)

    def after_commit(self, committed: asyncio.Future[None]) -> None:
        """Counts commits in flight (for stop); the session writes the acks, or drops the link on a failure."""
        self.commits_in_flight -= 1
        if not self.commits_in_flight:
            self.all_committed.set()
        failure = None if committed.cancelled() else committed.exception()
        if committed.cancelled() or failure is not None:
            log.error("outbox unavailable: messages stay unacknowledged", extra={"reason": str(failure)})

    async def stop(self) -> None:
        """Stop taking messages: what is stored is acknowledged, the rest the broker keeps for next time."""
        self.stopping = True
        self.stopped.set()
        session = self.session
        if session is None:
            return
        session.pause_reading()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_committed.wait(), STOP_TIMEOUT_S)
        session.disconnect()  # after the last acks: the transport flushes both, then closes
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(session.closed), STOP_TIMEOUT_S)
