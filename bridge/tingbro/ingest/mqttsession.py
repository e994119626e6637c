"""One connection to an MQTT broker as an asyncio Protocol: CONNECT, SUBSCRIBE, PUBLISH in, acks out.

Every read is cut into whole packets; the PUBLISHes among them go to `on_publishes` as one batch, and the
receiver hands back a future with `acknowledge_after()`: once it succeeds the batch is acknowledged (PUBACK for
QoS 1, PUBREC for QoS 2), in arrival order behind earlier batches. The ingest passes the outbox commit's future. Control packets (CONNACK, SUBACK, PINGRESP, PUBREL,
DISCONNECT) are answered here. A malformed stream closes the connection; what was not acknowledged the broker
delivers again in the next session.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from tingbro.ingest.mqttpackets import (
    Connack,
    Publish,
    Suback,
    encode_ack,
    encode_connect,
    encode_disconnect,
    encode_subscribe,
    parse_ack,
    parse_connack,
    parse_disconnect,
    parse_publish,
    parse_suback,
)
from tingbro.ingest.mqttwire import (
    CONNACK,
    DISCONNECT,
    PINGREQ_PACKET,
    PINGRESP,
    PUBCOMP,
    PUBLISH,
    PUBREL,
    REASON_STRING,
    SUBACK,
    MqttProtocolError,
    frame_size,
    reason_name,
    split_frames,
)

_ACK = struct.Struct(">BBH")  # first byte, remaining length 2, packet id: the short PUBACK/PUBREC form
_PUBACK_BYTE, _PUBREC_BYTE = 0x40, 0x50


class SessionClosed(ConnectionError):
    """The connection ended before the awaited packet arrived."""


class MqttSession(asyncio.Protocol):
    def __init__(self, v5: bool, on_publishes: Callable[[MqttSession, list[Publish]], None],
                 max_packet_bytes: int) -> None:
        self.v5 = v5
        self.on_publishes = on_publishes
        self.max_packet_bytes = max_packet_bytes
        self.transport: asyncio.Transport | None = None
        self.held: list[bytes] = []    # the start of a packet that has not fully arrived
        self.held_bytes = 0
        self.needed_bytes = 0          # how many bytes the held packet needs (an estimate until its header is in)
        loop = asyncio.get_running_loop()
        self.connack: asyncio.Future[Connack] = loop.create_future()
        self.subacks: dict[int, asyncio.Future[Suback]] = {}
        self.closed: asyncio.Future[None] = loop.create_future()
        self.close_reason = ""
        self.last_packet_at = time.monotonic()
        self.next_packet_id = 0
        self.owed: deque[tuple[asyncio.Future[None], list[Publish]]] = deque()  # batches awaiting their commit

    # -- asyncio.Protocol -------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.close_reason:
            self.close_reason = f"{type(exc).__name__}: {exc}" if exc else "the broker closed the connection"
        waiters: list[asyncio.Future[Any]] = [self.connack, *self.subacks.values()]
        for future in waiters:
            if not future.done():
                future.set_exception(SessionClosed(self.close_reason))
                future.exception()  # retrieved: nobody may be waiting for it any more
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.last_packet_at = time.monotonic()  # any byte shows the broker is alive, even inside a large packet
        if self.held:
            self.held.append(data)
            self.held_bytes += len(data)
            if self.held_bytes < self.needed_bytes:
                return  # a large packet arriving in pieces: join them once, when it is complete
            data = b"".join(self.held)
            self.held = []
        publishes = []
        try:
            frames, used = split_frames(data, self.max_packet_bytes)
            for first_byte, start, end in frames:
                if first_byte >> 4 == PUBLISH:
                    publishes.append(parse_publish(first_byte, data, start, end, self.v5))
                else:
                    self.control_packet(first_byte, data, start, end)
        except MqttProtocolError as exc:
            self.abort(f"protocol error: {exc}")
            return
        if used < len(data):
            rest = data[used:]
            self.held = [rest]
            self.held_bytes = len(rest)
            self.needed_bytes = frame_size(rest) or self.held_bytes + 1
        if publishes and not self.closed.done():
            self.on_publishes(self, publishes)

    def control_packet(self, first_byte: int, data: bytes, start: int, end: int) -> None:
        kind = first_byte >> 4
        if kind == PUBREL:  # QoS 2, second half: we stored the message before our PUBREC, so complete it
            self.write(encode_ack(PUBCOMP, parse_ack(data, start, end, self.v5).packet_id, v5=self.v5))
        elif kind == PINGRESP:
            if end != start:
                raise MqttProtocolError("PINGRESP with a body")
        elif kind == CONNACK:
            if self.connack.done():
                raise MqttProtocolError("a second CONNACK")
            self.connack.set_result(parse_connack(data, start, end, self.v5))
        elif kind == SUBACK:
            suback = parse_suback(data, start, end, self.v5)
            waiter = self.subacks.pop(suback.packet_id, None)
            if waiter is None:
                raise MqttProtocolError(f"SUBACK for packet id {suback.packet_id}, which was not sent")
            waiter.set_result(suback)
        elif kind == DISCONNECT:
            notice = parse_disconnect(data, start, end, self.v5)
            said = notice.properties.get(REASON_STRING)
            self.abort(f"the broker disconnected: {reason_name(notice.reason_code)}" + (f" ({said})" if said else ""))
        else:  # the client sends no PUBLISH or UNSUBSCRIBE, so no PUBACK/PUBREC/PUBCOMP/UNSUBACK; no AUTH either
            raise MqttProtocolError(f"unexpected packet type {kind} from the broker")

    # -- sending ----------------------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send_connect(self, client_id: str, *, clean_start: bool, keepalive_s: int, username: str | None,
                     password: str | None, properties: dict[int, Any]) -> None:
        self.write(encode_connect(client_id, protocol_level=5 if self.v5 else 4, clean_start=clean_start,
                                  keepalive_s=keepalive_s, username=username,
                                  password=password.encode() if password is not None else None,
                                  properties=properties))

    def subscribe(self, topic_filter: str, qos: int) -> asyncio.Future[Suback]:
        self.next_packet_id = self.next_packet_id % 0xFFFF + 1
        waiter: asyncio.Future[Suback] = asyncio.get_running_loop().create_future()
        self.subacks[self.next_packet_id] = waiter
        self.write(encode_subscribe(self.next_packet_id, topic_filter, qos, v5=self.v5))
        return waiter

    def acknowledge_after(self, committed: asyncio.Future[None], publishes: list[Publish]) -> None:
        """Acknowledge `publishes` once `committed` succeeded, and never before the batches received earlier
        (MQTT wants acks in arrival order); if it failed, drop the connection so the broker sends them again."""
        self.owed.append((committed, publishes))
        committed.add_done_callback(self._settle)

    def _settle(self, committed: asyncio.Future[None]) -> None:
        if not committed.cancelled():
            committed.exception()  # retrieved here; judged below, in arrival order
        owed = self.owed
        while owed and owed[0][0].done():
            done, publishes = owed.popleft()
            if done.cancelled() or done.exception() is not None:
                owed.clear()
                self.abort("the outbox could not store a batch")
                return
            self.acknowledge(publishes)

    def acknowledge(self, publishes: list[Publish]) -> None:
        """PUBACK (QoS 1) / PUBREC (QoS 2) for a batch, in arrival order, in one write; nothing for QoS 0."""
        pack = _ACK.pack
        acks = [pack(_PUBACK_BYTE if publish.qos == 1 else _PUBREC_BYTE, 2, publish.packet_id)
                for publish in publishes if publish.qos]
        if acks:
            self.write(b"".join(acks))

    def ping(self) -> None:
        self.write(PINGREQ_PACKET)

    def pause_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def disconnect(self) -> None:
        """A clean DISCONNECT after everything written before it (the transport flushes, then closes)."""
        if self.transport is not None and not self.transport.is_closing():
            self.close_reason = self.close_reason or "disconnected by the bridge"
            self.transport.write(encode_disconnect(v5=self.v5))
            self.transport.close()

    def abort(self, reason: str) -> None:
        """Drop the connection now, unsent acks included (the broker redelivers what they were for)."""
        self.close_reason = self.close_reason or reason
        if self.transport is not None:
            self.transport.abort()

    async def wait(self, future: asyncio.Future[Any], timeout_s: float, what: str) -> Any:
        """The future's result; SessionClosed when the connection ends first or after `timeout_s`."""
        await asyncio.wait((future, self.closed), timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        if future.done():
            return future.result()
        if not self.closed.done():
            self.abort(f"no {what} within {timeout_s:g} s")
        raise SessionClosed(self.close_reason)
