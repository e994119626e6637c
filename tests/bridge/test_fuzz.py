"""Acceptance: property-based fuzzing of HTTP bodies, JSON, protobuf and CBOR payloads (bounded).

Every input is answered 2xx (stored as events, or dead-lettered with a reason) or 4xx; never 5xx, never a
hang (each request has a 10 s timeout), and the bridge is alive and healthy afterwards.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import cbor2
import chirp
import pytest
from bridgehelp import BridgeProcess, Receiver, config_text, post
from conftest import free_port
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EVENT_NAMES = ["up", "join", "ack", "txack", "log", "status", "location"]
CONTENT_TYPES = ["application/json", "application/octet-stream", "application/protobuf", "text/plain", "",
                 "application/json; charset=utf-8", "image/png"]
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)
cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**64), max_value=2**64) | st.floats() | st.binary(max_size=8)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.integers(0, 30), children, max_size=3),
    max_leaves=12)


class Bridge:
    def __init__(self, process: BridgeProcess, db: Path) -> None:
        self.process, self.port, self.db = process, process.port, db

    def check(self, status: int, body: bytes) -> None:
        assert status in (200, 400, 413, 415), (status, body[:200])
        answer = json.loads(body)
        if status == 200:
            assert answer["events"] + answer["dead_lettered"] >= 1
        else:
            assert answer["error"]


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    tmp = tmp_path_factory.mktemp("fuzz")
    receiver = Receiver().start()
    port = free_port()
    (tmp / "bridge.toml").write_text(config_text(tmp / "outbox.sqlite3", port, receiver.url))
    process = BridgeProcess(tmp / "bridge.toml", port, tmp / "bridge.log").start()
    process.wait_ready()
    try:
        yield Bridge(process, tmp / "outbox.sqlite3")
        assert process.health() is not None, "bridge died during fuzzing"
        db = sqlite3.connect(bridge_db := tmp / "outbox.sqlite3")
        letters = db.execute("SELECT stage, reason, raw FROM dead_letters").fetchall()
        assert all(reason and raw is not None for _, reason, raw in letters), bridge_db
        assert process.terminate() == 0
    finally:
        process.kill()
        receiver.stop()


@FUZZ
@given(event=st.sampled_from(EVENT_NAMES) | st.text(max_size=10), content_type=st.sampled_from(CONTENT_TYPES),
       body=st.binary(max_size=2000))
def test_fuzz_http_bodies(bridge: Bridge, event: str, content_type: str, body: bytes) -> None:
    bridge.check(*post(bridge.port, event, body, content_type=content_type or "application/json"))


@FUZZ
@given(event=st.sampled_from(EVENT_NAMES), value=json_values)
def test_fuzz_json_values(bridge: Bridge, event: str, value: object) -> None:
    bridge.check(*post(bridge.port, event, json.dumps(value).encode()))


@FUZZ
@given(key=st.sampled_from(["deduplicationId", "time", "deviceInfo", "fCnt", "fPort", "data", "rxInfo", "txInfo",
                            "object", "dr", "adr", "newField"]), value=json_values)
def test_fuzz_json_fields_of_a_real_uplink(bridge: Bridge, key: str, value: object) -> None:
    event = json.loads(chirp.chirpstack_json(chirp.uplink()))
    event[key] = value
    bridge.check(*post(bridge.port, "up", json.dumps(event).encode()))


@FUZZ
@given(event=st.sampled_from(EVENT_NAMES), flips=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 255)),
                                                           max_size=6), cut=st.integers(0, 400))
def test_fuzz_protobuf_mutations(bridge: Bridge, event: str, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(chirp.protobuf(chirp.uplink(message="alarm")))
    for position, mask in flips:
        data[position % len(data)] ^= mask
    bridge.check(*post(bridge.port, event, bytes(data[: max(cut, 1)]), content_type="application/octet-stream"))


@FUZZ
@given(device_type=st.sampled_from(["fill_level", "lifebuoy", "streetlight"]), f_port=st.integers(0, 255),
       payload=cbor_values.map(cbor2.dumps) | st.binary(max_size=64))
def test_fuzz_cbor_payloads_are_decoded_or_dead_lettered(bridge: Bridge, device_type: str, f_port: int,
                                                         payload: bytes) -> None:
    event = chirp.uplink(device_type=device_type, payload=payload, f_port=f_port)
    status, body = post(bridge.port, "up", chirp.chirpstack_json(event))
    bridge.check(status, body)
    assert status == 200  # a valid event with any payload is kept: decoded, or a dead letter with its reason
    answer = json.loads(body)
    if answer["dead_lettered"]:
        reason = sqlite3.connect(bridge.db).execute(
            "SELECT reason FROM dead_letters ORDER BY id DESC LIMIT 1").fetchone()[0]
        assert f"fPort {f_port}" in reason and device_type in reason
