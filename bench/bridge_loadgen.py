"""Load generator for bench_bridge, run as its own process (loopback only, bounded by count).

  python bench/bridge_loadgen.py http PORT TOKEN COUNT CONNECTIONS WINDOW RATE_PER_S
  python bench/bridge_loadgen.py mqtt PORT COUNT

MQTT: one MQTT 3.1.1 connection writing prebuilt QoS 1 PUBLISHes, keeping MQTT_WINDOW unacknowledged.
HTTP: raw keep-alive connections with up to WINDOW pipelined requests each (a cheap client, so the
bridge is what is measured). RATE_PER_S = 0 sends as fast as the bridge answers; otherwise requests are
sent on a fixed schedule and each body's `time` is its send time (for the latency figure).
Prints one JSON line: {"started": wall-clock s, "finished": ..., "statuses": {...}}.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "bridge"), str(ROOT / "codecs"), str(ROOT / "bridge")]

import chirp  # noqa: E402
from tingbro.ingest import mqttpackets, mqttwire  # noqa: E402

# Devices the uplinks come from; 0: a device of its own per uplink. At the target rate a bridge serves millions
# of devices (10,000/s at one uplink per 15 minutes is 9 million), so within one measure nearly every uplink is
# from a device not seen before: what the bridge remembers per device must not flatter the figure.
DEVICES = int(os.environ.get("TINGBRO_BENCH_DEVICES", "0"))
MQTT_WINDOW = 2000  # unacknowledged QoS 1 PUBLISHes in flight


def bodies(count: int) -> list[dict]:
    template = json.loads(chirp.chirpstack_json(chirp.uplink(dev_eui="00000000000000ff")))
    out = []
    devices = DEVICES or count
    ids = random.Random(count)  # ChirpStack's deduplicationIds are random (v4) UUIDs: the outbox's unique index
    for index in range(count):  # on them then takes inserts all over, not appends at its end
        key = uuid.UUID(int=ids.getrandbits(128), version=4)
        event = dict(template, deduplicationId=str(key), fCnt=index // devices)
        event["deviceInfo"] = dict(template["deviceInfo"], devEui="70b3d57ed0%06x" % (index % devices),
                                   deviceName=f"bin-{index % devices:06d}")
        out.append(event)
    return out


def stamp(event: dict, now: float) -> bytes:
    event["time"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}+00:00"
    return json.dumps(event, separators=(",", ":")).encode()


class Connection(asyncio.Protocol):
    def __init__(self, statuses: dict[int, int], on_response: object) -> None:
        self.buffer = b""
        self.statuses = statuses
        self.on_response = on_response
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self.buffer[:end].lower().split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line[15:])
            if len(self.buffer) < end + 4 + length:
                return
            status = int(self.buffer[9:12])
            self.buffer = self.buffer[end + 4 + length:]
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.on_response(self)  # type: ignore[operator]


async def http_load(port: int, token: str, count: int, connections: int, window: int, rate: float) -> dict:
    events = bodies(count)
    prefix = ("POST /chirpstack?event=up HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              f"Authorization: {token}\r\n").encode()
    statuses: dict[int, int] = {}
    sent = 0
    done = asyncio.get_running_loop().create_future()
    answered = 0

    def build(index: int, now: float) -> bytes:
        body = stamp(events[index], now)
        return prefix + b"Content-Length: %d\r\n\r\n" % len(body) + body

    # As fast as the bridge answers: every request is built before the clock starts, so this process's own
    # CPU (one core, shared with the webhook receiver) does not cap the figure. At a rate, each body carries
    # its send time (for the latency figure).
    prebuilt = [] if rate else [build(index, time.time()) for index in range(count)]

    def request(now: float) -> bytes:
        nonlocal sent
        data = prebuilt[sent] if prebuilt else build(sent, now)
        sent += 1
        return data

    def on_response(connection: Connection) -> None:
        nonlocal answered
        answered += 1
        if answered == count and not done.done():
            done.set_result(None)
        elif not rate and sent < count:
            connection.transport.write(request(time.time()))  # type: ignore[union-attr]

    loop = asyncio.get_running_loop()
    pool = [(await loop.create_connection(lambda: Connection(statuses, on_response), "127.0.0.1", port))[1]
            for _ in range(connections)]
    started = time.time()
    if rate:
        for index in range(count):
            delay = started + index / rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            pool[index % connections].transport.write(request(time.time()))  # type: ignore[union-attr]
    else:
        for connection in pool:
            for _ in range(min(window, count - sent)):
                connection.transport.write(request(time.time()))  # type: ignore[union-attr]
    await asyncio.wait_for(done, 300)
    return {"started": started, "finished": time.time(), "statuses": statuses}


class Publisher(asyncio.Protocol):
    """QoS 1 PUBLISHes from a prebuilt list with up to `window` unacknowledged; counts the broker's PUBACKs."""

    def __init__(self, packets: list[bytes], window: int) -> None:
        self.packets = packets
        self.window = window
        self.sent = 0
        self.acked = 0
        self.held = b""
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.connack = loop.create_future()
        self.done = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self.connack, self.done):
            if not future.done():
                future.set_exception(ConnectionError(f"broker closed the connection: {exc}"))

    def data_received(self, data: bytes) -> None:
        data = self.held + data
        frames, used = mqttwire.split_frames(data)
        self.held = data[used:]
        acks = 0
        for first_byte, start, end in frames:
            if first_byte >> 4 == mqttwire.PUBACK:
                acks += 1
            elif first_byte >> 4 == mqttwire.CONNACK and not self.connack.done():
                self.connack.set_result(mqttpackets.parse_connack(data, start, end, v5=False))
        if acks:
            self.acked += acks
            self.send(acks)
            if self.acked >= len(self.packets) and not self.done.done():
                self.done.set_result(None)

    def send(self, count: int) -> None:
        batch = self.packets[self.sent:self.sent + count]
        self.sent += len(batch)
        if batch:
            self.transport.write(b"".join(batch))  # type: ignore[union-attr]


def mqtt_packets(count: int) -> list[bytes]:
    """One prebuilt MQTT 3.1.1 QoS 1 PUBLISH per uplink; packet ids cycle (the window is far below 65535)."""
    packets = []
    for index, event in enumerate(bodies(count)):
        topic = f"application/{chirp.APP_ID}/device/{event['deviceInfo']['devEui']}/event/up"
        body = json.dumps(event, separators=(",", ":")).encode()
        packets.append(mqttpackets.encode_publish(topic, body, 1, index % 0xFFFF + 1, v5=False))
    return packets


async def mqtt_load(port: int, count: int, window: int = MQTT_WINDOW) -> dict:
    packets = mqtt_packets(count)
    loop = asyncio.get_running_loop()
    transport, publisher = await loop.create_connection(lambda: Publisher(packets, window), "127.0.0.1", port)
    transport.write(mqttpackets.encode_connect(f"bench-loadgen-{time.monotonic_ns()}", protocol_level=4,
                                               clean_start=True, keepalive_s=60))
    connack = await asyncio.wait_for(publisher.connack, 10)
    if connack.reason_code:
        raise ConnectionError(f"broker refused the publisher: {mqttwire.reason_name(connack.reason_code, 4)}")
    started = time.time()
    publisher.send(window)
    await asyncio.wait_for(publisher.done, 300)
    finished = time.time()
    transport.write(mqttpackets.encode_disconnect(v5=False))
    transport.close()
    return {"started": started, "finished": finished, "statuses": {"puback": publisher.acked}}


def main() -> int:
    mode = sys.argv[1]
    if mode == "http":
        port, token, count, connections, window, rate = sys.argv[2:8]
        result = asyncio.run(http_load(int(port), token, int(count), int(connections), int(window), float(rate)))
    else:
        result = asyncio.run(mqtt_load(int(sys.argv[2]), int(sys.argv[3])))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
