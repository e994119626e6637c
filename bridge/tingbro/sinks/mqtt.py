"""MQTT republish sink: one message per event on a normalized topic, QoS 1, payload = the event JSON.

Topic: {topic_prefix}/{municipality}/{device_type}/{dev_eui}/{type}, and for alarms
{topic_prefix}/{municipality}/{device_type}/{dev_eui}/alarm/{alarm name}. A missing municipality or device
type becomes "unknown"; characters MQTT reserves (/ + # and NUL) inside a segment become "_".
Event types listed in `retain_types` are published with the retained flag (default: ChirpStack "status").
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiomqtt

from tingbro.sinks.base import PermanentSinkError, Sink, SinkOptions, TransientSinkError
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
        self.retain_types = frozenset(options.strings("retain_types", ("status",)))
        self.tls = options.flag("tls", False)
        self.timeout_s = options.number("timeout_s", 10.0, 0.05, 300.0)
        self.keepalive_s = options.integer("keepalive_s", 60, 5, 3600)
        self.client: aiomqtt.Client | None = None

    def _new_client(self) -> aiomqtt.Client:
        return aiomqtt.Client(
            self.host, self.port, username=self.username, password=self.password, identifier=self.client_id,
            keepalive=self.keepalive_s, timeout=self.timeout_s, max_inflight_messages=100,
            tls_context=ssl.create_default_context() if self.tls else None,
        )

    async def _connected(self) -> aiomqtt.Client:
        if self.client is None:
            client = self._new_client()
            try:
                await client.__aenter__()
            except aiomqtt.MqttError as exc:
                raise TransientSinkError(
                    f"cannot connect to MQTT broker {self.host}:{self.port}: {exc}") from None
            self.client = client
        return self.client

    async def _drop_client(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                await client.__aexit__(None, None, None)
            except (aiomqtt.MqttError, OSError):
                pass  # the connection is already gone; nothing to release

    async def send(self, events: list[dict[str, Any]]) -> None:
        messages = [(topic_for(self.topic_prefix, event), dump_json(event), event["type"] in self.retain_types)
                    for event in events]
        client = await self._connected()
        try:
            # QoS 1: each publish returns after the broker's PUBACK; the batch succeeds only if all do.
            await asyncio.wait_for(asyncio.gather(*(
                client.publish(topic, payload, qos=self.qos, retain=retain) for topic, payload, retain in messages
            )), self.timeout_s)
        except (aiomqtt.MqttError, TimeoutError) as exc:
            await self._drop_client()
            detail = str(exc) or "timeout"
            raise TransientSinkError(f"MQTT publish to {self.host}:{self.port} failed: {detail}") from None
        except ValueError as exc:  # paho rejects a topic or payload it cannot send
            raise PermanentSinkError(f"MQTT publish rejected: {exc}") from None

    async def close(self) -> None:
        await self._drop_client()
