"""MQTT republish sink: one message per event on a normalized topic, QoS 1, payload = the event JSON.

Topic: {topic_prefix}/{municipality}/{device_type}/{dev_eui}/{type}, and for alarms
{topic_prefix}/{municipality}/{device_type}/{dev_eui}/alarm/{alarm name}. A missing municipality or device
type becomes "unknown"; characters MQTT reserves (/ + # and NUL) inside a segment become "_".
Event types listed in `retain_types` are published with the retained flag (default: ChirpStack "status").

paho's network loop runs in its own thread (with automatic reconnects); PUBACKs resolve asyncio futures
through `call_soon_threadsafe`. This is about three times faster than awaiting each publish through aiomqtt.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import paho.mqtt.client as paho

from tingbro.sinks.base import EVENT_TYPES, PermanentSinkError, Sink, SinkOptions, TransientSinkError
from tingbro.sinks.jsonenc import dump_json

UNKNOWN_SEGMENT = "unknown"
RESERVED_TOPIC_CHARS = str.maketrans({"/": "_", "+": "_", "#": "_", "\0": "_"})


def topic_segment(value: str | None) -> str:
    if not value:
        return UNKNOWN_SEGMENT
    return value.translate(RESERVED_TOPIC_CHARS)


def topic_for(prefix: str, event: dict[str, Any]) -> str:
    device = event["device"]
    parts = [prefix, topic_segment(device["municipality"]), topic_segment(device["device_type"]),
             topic_segment(device["dev_eui"]), topic_segment(event["type"])]
    if event["type"] == "alarm" and event["alarm"]:
        parts.append(topic_segment(event["alarm"]["name"]))
    return "/".join(parts)


class MqttSink(Sink):
    kind = "mqtt"
    default_max_batch = 200

    def configure(self, options: SinkOptions) -> None:
        self.host = options.text("host", required=True) or ""
        self.port = options.integer("port", 1883, 1, 65535)
        self.username = options.text("username")
        self.password = options.secret("password")
        self.client_id = options.text("client_id", f"tingbro-sink-{self.name}") or ""
        self.topic_prefix = (options.text("topic_prefix", "tingbro") or "").strip("/")
        if not self.topic_prefix or any(char in self.topic_prefix for char in "+#\0"):
            raise options.fail("option 'topic_prefix' must be non-empty and free of + # and NUL")
        self.qos = options.integer("qos", 1, 1, 2)
        self.retain_types = frozenset(options.strings("retain_types", ("status",), EVENT_TYPES))
        self.tls = options.flag("tls", False)
        self.timeout_s = options.number("timeout_s", 10.0, 0.05, 300.0)
        self.keepalive_s = options.integer("keepalive_s", 60, 5, 3600)
        self.client: paho.Client | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.connected = asyncio.Event()
        self.last_refusal = ""
        self.pending: dict[int, asyncio.Future[None]] = {}

    # Called in paho's network thread: hand over to the event loop, touch nothing else.
    def _to_loop(self, callback: Any, *args: Any) -> None:
        try:
            if self.loop is not None:
                self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            pass  # the event loop has closed: nobody is waiting any more

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._to_loop(self._connection_changed, not reason.is_failure, "" if not reason.is_failure else str(reason))

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._to_loop(self._connection_changed, False, "")

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        self._to_loop(self._acknowledged, mid)

    def _connection_changed(self, up: bool, refusal: str) -> None:
        if up or refusal:  # a disconnect after a refused CONNECT keeps the broker's reason
            self.last_refusal = refusal
        if up:
            self.connected.set()
            return
        self.connected.clear()
        for future in self.pending.values():  # their PUBACKs will not come on this connection
            if not future.done():
                future.set_exception(TransientSinkError(f"MQTT broker {self.host}:{self.port} disconnected"))
        self.pending.clear()

    def _acknowledged(self, mid: int) -> None:
        future = self.pending.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(None)

    async def start(self) -> None:
        if self.client is not None:
            return
        self.loop = asyncio.get_running_loop()
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=self.client_id)
        if self.username:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            client.tls_set_context(ssl.create_default_context())
        client.max_inflight_messages_set(self.max_batch)
        client.reconnect_delay_set(1, 10)
        client.on_connect, client.on_disconnect, client.on_publish = \
            self._on_connect, self._on_disconnect, self._on_publish
        client.connect_async(self.host, self.port, self.keepalive_s)
        client.loop_start()  # connects, and reconnects, in the background: a broker that is down is no error here
        self.client = client

    async def _wait_connected(self) -> None:
        try:
            await asyncio.wait_for(self.connected.wait(), min(self.timeout_s, 2.0))
        except TimeoutError:
            refusal = f" (refused: {self.last_refusal})" if self.last_refusal else ""
            raise TransientSinkError(f"not connected to MQTT broker {self.host}:{self.port}{refusal}") from None

    async def send(self, events: list[dict[str, Any]]) -> None:
        messages = [(topic_for(self.topic_prefix, event), dump_json(event), event["type"] in self.retain_types)
                    for event in events]
        await self.start()
        await self._wait_connected()
        assert self.client is not None and self.loop is not None
        futures: list[asyncio.Future[None]] = []
        mids: list[int] = []
        try:
            for topic, payload, retain in messages:
                info = self.client.publish(topic, payload, qos=self.qos, retain=retain)
                if info.rc != paho.MQTT_ERR_SUCCESS:
                    raise TransientSinkError(f"MQTT publish to {self.host}:{self.port} failed: "
                                             f"{paho.error_string(info.rc)}")
                future = self.loop.create_future()
                self.pending[info.mid] = future
                futures.append(future)
                mids.append(info.mid)
            # QoS 1/2: done when the broker has acknowledged every message of the batch.
            await asyncio.wait_for(asyncio.gather(*futures), self.timeout_s)
        except TimeoutError:
            raise TransientSinkError(f"MQTT broker {self.host}:{self.port} did not acknowledge within "
                                     f"{self.timeout_s:g} s") from None
        except ValueError as exc:  # paho rejects a topic or payload it cannot send
            raise PermanentSinkError(f"MQTT publish rejected: {exc}") from None
        finally:
            for mid in mids:
                self.pending.pop(mid, None)
            for future in futures:
                if not future.done():
                    future.cancel()
                elif not future.cancelled():
                    future.exception()  # retrieved: a failed batch is reported once, by the raise above

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)
        self.connected.clear()
