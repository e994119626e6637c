"""strictjson refuses what json.dumps refuses, and an event serialized once by the outbox goes out byte for byte."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tingbro import strictjson
from tingbro.outbox import Outbox
from tingbro.sinks.base import PermanentSinkError
from tingbro.sinks.webhook import encode_batch
from tingbro.store import Store

text = st.text(max_size=12)
scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from([math.nan, -math.nan, math.inf, -math.inf, 1e16, -0.0, 2**63, 2**64, -(2**63) - 1])
           | text)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
                      max_leaves=12)


def reference(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


@settings(max_examples=400, deadline=None)
@given(values)
def test_dumps_refuses_what_json_dumps_refuses_and_parses_the_same(value: Any) -> None:
    try:
        expected = reference(value)
    except ValueError:
        with pytest.raises(ValueError):
            strictjson.dumps(value)
        return
    assert json.loads(strictjson.dumps(value)) == json.loads(expected)


@pytest.mark.parametrize("value", [
    math.nan, [1.5, -math.inf], {"a": {"b": [None, math.inf]}}, {"x": 2**70, "y": math.nan},
    {"text": "\u02cb\u02ff", "bad": -math.nan},  # 0xcb lead bytes in the text, a NaN elsewhere
])
def test_non_finite_floats_are_refused_anywhere(value: Any) -> None:
    with pytest.raises(ValueError):
        strictjson.dumps(value)


def test_integers_that_look_like_a_non_finite_float_inside_are_kept() -> None:
    value = {"n": int.from_bytes(b"\x00\xcb\x7f\xf8\x00\x00\x00\x01", "big"), "text": "\u02cb"}
    assert strictjson.dumps(value) == reference(value)


def test_a_dumped_dict_is_not_encoded_again() -> None:
    value = {"id": "a:up", "fields": {"t": 21.5, "name": "æøå"}}
    record = strictjson.dumped(value)
    assert record == value and record.json == strictjson.dumps(value)
    assert strictjson.dumps(record) is record.json
    assert strictjson.join_array([record, {"b": None}]) == strictjson.dumps([value, {"b": None}])
    with pytest.raises(ValueError):
        strictjson.join_array([record, {"b": math.nan}])


def event(index: int) -> dict[str, Any]:
    return {"id": f"d-{index}:up", "type": "uplink", "device": {"dev_eui": "0102030405060708", "name": None},
            "radio": {"snr_db": index / 7, "f_cnt": index}, "fields": {"name": "æøå\u2028\"\\", "value": index / 3}}


def test_webhook_bodies_from_memory_and_from_the_file_are_the_same_bytes(tmp_path: Path) -> None:
    plain = [event(index) for index in range(130)]  # several multi-row INSERT sizes (64, 64, 2)

    async def scenario() -> tuple[list[Any], list[Any]]:
        outbox = Outbox(tmp_path / "o.db", commit_interval_ms=1)
        await outbox.open()
        await outbox.accept(plain)
        in_memory = await outbox.fetch("hook", 0, 1000)
        outbox.recent.clear()  # as after a restart: read back from SQLite
        from_file = await outbox.fetch("hook", 0, 1000)
        await outbox.close()
        return in_memory, from_file

    in_memory, from_file = asyncio.run(scenario())
    assert [row[0] for row in in_memory] == [row[0] for row in from_file] == list(range(1, 131))
    memory_events = [row[2] for row in in_memory]
    file_events = [row[2] for row in from_file]
    assert memory_events == file_events == plain
    expected = encode_batch(plain)  # plain dicts: encoded on the spot
    assert encode_batch(memory_events) == encode_batch(file_events) == expected
    assert expected[1] == strictjson.dumps({"batch_id": expected[0], "events": plain})


def test_bodies_are_stored_as_text(tmp_path: Path) -> None:
    store = Store(tmp_path / "o.db")
    store.commit_batch([(1.0, event(1))], [], {})
    kind, body = store.db.execute("SELECT typeof(body), body FROM events").fetchone()
    assert kind == "text" and json.loads(body) == event(1)
    store.close()


def test_a_webhook_batch_with_nan_is_a_permanent_error() -> None:
    with pytest.raises(PermanentSinkError):
        encode_batch([event(1), {**event(2), "fields": {"value": math.nan}}])
