"""The lean HTTP front over raw sockets: keep-alive, pipelining in order, HTTP/1.0, Connection: close, the
hand-over to aiohttp (other paths, chunked bodies, Expect: 100-continue), early 401/413, timeouts, 503 and
the graceful stop. The server is the real front + rules + Intake + Outbox + aiohttp app, in-process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import chirp
import pytest
from bridgehelp import INGEST_TOKEN
from fronthelp import MAX_BODY_BYTES, FrontServer, request
from tingbro.ingest.http_wire import parse_head

UP = chirp.chirpstack_json(chirp.uplink())


@pytest.fixture(params=["asyncio", "uvloop"])
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FrontServer]:
    front = FrontServer(tmp_path, request_timeout_s=0.5, event_loop=request.param).start()
    try:
        yield front
    finally:
        front.stop()


def uplink_body(index: int) -> bytes:
    return chirp.chirpstack_json(chirp.uplink(f_cnt=index, dedup_id=f"front-{index}"))


def test_keep_alive_and_pipelined_answers_in_request_order(server: FrontServer) -> None:
    client = server.connect()
    client.send(request(uplink_body(1)))
    first = client.response()
    assert first is not None and first.status == 200 and json.loads(first.body) == {"events": 1, "dead_lettered": 0}
    assert "connection" not in first.headers and first.headers["content-type"] == "application/json"
    assert "server" not in first.headers  # answered by the front (aiohttp would add Server: ... aiohttp/...)
    # One write holding: ok, wrong token, unknown event, bad JSON, wrong content type, ok, then aiohttp's route.
    client.send(request(uplink_body(2)) + request(UP, token="Bearer nope") + request(b"{}", event="nope")
                + request(b"{nope") + request(b"{}", content_type="text/html") + request(uplink_body(3))
                + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + request(uplink_body(4)))
    statuses = [client.response() for _ in range(8)]
    assert [r.status if r else None for r in statuses] == [200, 401, 400, 400, 415, 200, 200, 200]
    assert json.loads(statuses[6].body) == {"status": "ok"}  # type: ignore[union-attr]
    assert "aiohttp" in statuses[6].headers["server"] and "aiohttp" in statuses[7].headers["server"]  # type: ignore[union-attr]
    assert INGEST_TOKEN.split()[1].encode() not in b"".join(r.body for r in statuses if r)
    assert server.stored() == 4
    client.close()


def test_answers_are_the_same_however_the_bytes_are_split(server: FrontServer) -> None:
    stream = request(uplink_body(10)) + request(UP, token=None) + request(uplink_body(11), version="HTTP/1.0",
                                                                          extra="Connection: keep-alive\r\n")
    for step in (1, 7, 150):
        client = server.connect()
        for start in range(0, len(stream), step):
            client.send(stream[start:start + step])
        assert [r.status if (r := client.response()) else None for _ in range(3)] == [200, 401, 200]
        client.close()


def test_http10_and_connection_close_end_the_connection(server: FrontServer) -> None:
    for raw in (request(uplink_body(20), version="HTTP/1.0"), request(uplink_body(21), extra="Connection: close\r\n")):
        client = server.connect()
        client.send(raw + request(uplink_body(99)))  # the second request comes after the last one: ignored
        answer = client.response()
        assert answer is not None and answer.status == 200 and answer.headers["connection"] == "close"
        assert client.closed()
        assert client.buffer == b""
        client.close()
    keep = server.connect()
    keep.send(request(uplink_body(22), version="HTTP/1.0", extra="Connection: keep-alive\r\n"))
    answer = keep.response()
    assert answer is not None and answer.headers["connection"] == "keep-alive" and not keep.closed(0.3)
    keep.close()


def test_wrong_token_is_refused_before_the_body_arrives_and_the_connection_stays_usable(server: FrontServer) -> None:
    client = server.connect()
    body = uplink_body(30)
    raw = request(body, token="Bearer wrong")
    client.send(raw[:-len(body)])  # head only
    refused = client.response(2)
    assert refused is not None and refused.status == 401
    client.send(body + request(uplink_body(31)))  # the refused body is skipped, the next request is served
    answer = client.response()
    assert answer is not None and answer.status == 200
    assert server.stored() == 1
    client.close()


def test_declared_oversize_is_413_at_once_then_close(server: FrontServer) -> None:
    client = server.connect()
    client.send(f"POST /chirpstack?event=up HTTP/1.1\r\nHost: x\r\nAuthorization: {INGEST_TOKEN}\r\n"
                f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode() + b"x" * 100)
    answer = client.response(2)
    assert answer is not None and answer.status == 413 and answer.headers["connection"] == "close"
    client.send(b"x" * (MAX_BODY_BYTES + 1 - 100))
    assert client.closed()
    client.close()


def test_chunked_and_expect_continue_are_served_by_aiohttp_with_the_same_rules(server: FrontServer) -> None:
    body = uplink_body(40)
    chunked = (f"POST /chirpstack?event=up HTTP/1.1\r\nHost: x\r\nAuthorization: {INGEST_TOKEN}\r\nContent-Type: application/json"
               f"\r\nTransfer-Encoding: chunked\r\n\r\n{len(body):x}\r\n").encode() + body + b"\r\n0\r\n\r\n"
    client = server.connect()
    client.send(request(uplink_body(41)) + chunked)
    assert [r.status if (r := client.response()) else None for _ in range(2)] == [200, 200]
    client.send(chunked.replace(INGEST_TOKEN.encode(), b"Bearer nope"))
    answer = client.response()
    assert answer is not None and answer.status == 401
    client.close()
    client = server.connect()
    client.send(request(uplink_body(42), extra="Expect: 100-continue\r\n"))
    answer = client.response()
    assert answer is not None and answer.status == 200 and json.loads(answer.body)["events"] == 1
    assert server.stored() == 3


def test_garbage_oversized_heads_and_other_methods_get_aiohttp_answers(server: FrontServer) -> None:
    cases = [(b"\x00\xff garbage\r\n\r\n", 400), (b"GET /chirpstack?event=up HTTP/1.1\r\nHost: x\r\n\r\n", 405),
             (b"POST /chirpstack?event=up HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 400),
             (b"POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 404),
             (b"POST /chirpstack?event=up HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 20000 + b"\r\n\r\n", 400),
             (b"POST /chirpstack?event=up HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
             (b"POST /chirpstack?event=up HTTP/1.1\r\nHost: x\r\nContent-Length : 1\r\n\r\nx", 400)]
    for raw, status in cases:
        client = server.connect()
        client.send(raw)
        answer = client.response()
        assert answer is not None and answer.status == status, (raw[:60], answer and answer.status)
        client.close()
    assert server.stored() == 0


def test_a_slow_request_gets_408_and_is_closed(server: FrontServer) -> None:
    client = server.connect()
    started = time.monotonic()
    raw = request(uplink_body(50))
    for byte in raw[:40]:  # slowloris: a byte at a time, never finishing
        client.send(bytes([byte]))
        time.sleep(0.02)
        if client.closed(0.001):
            break
    answer = client.response(5)
    assert answer is not None and answer.status == 408 and answer.headers["connection"] == "close"
    assert client.closed() and time.monotonic() - started < 5
    assert server.stored() == 0


def test_outbox_failure_is_503_and_nothing_is_acknowledged(server: FrontServer) -> None:
    assert server.outbox is not None and server.outbox.store is not None

    def broken_disk(*args: object) -> None:
        raise OSError("disk full")

    server.outbox.store.commit = broken_disk  # type: ignore[method-assign]  # the COMMIT (fsync) fails
    client = server.connect()
    client.send(request(uplink_body(60)) + request(uplink_body(61)))
    answers = [client.response() for _ in range(2)]
    assert [a.status if a else None for a in answers] == [503, 503]
    client.close()


def test_stop_answers_requests_in_flight_then_closes(server: FrontServer) -> None:
    assert server.outbox is not None and server.outbox.store is not None
    store = server.outbox.store
    real_commit = store.commit

    def slow_commit() -> None:
        time.sleep(0.5)  # on the outbox thread: the answer is in flight while the front stops
        real_commit()

    store.commit = slow_commit  # type: ignore[method-assign]
    idle = server.connect()
    busy = server.connect()
    busy.send(request(uplink_body(70)))
    time.sleep(0.1)
    assert server.front is not None
    server.call(server.front.stop(5))
    answer = busy.response()
    assert answer is not None and answer.status == 200 and answer.headers.get("connection") == "close"
    assert busy.closed() and idle.closed()
    assert server.stored() == 1


def test_parse_head_accepts_what_chirpstack_sends_and_nothing_ambiguous() -> None:
    go_client = (b"POST /chirpstack?event=up HTTP/1.1\r\nHost: bridge:8090\r\nUser-Agent: Go-http-client/1.1\r\n"
                 b"Content-Length: 1234\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\n"
                 b"Accept-Encoding: gzip")
    head = parse_head(go_client, b"/chirpstack", b"authorization")
    assert head is not None and (head.content_length, head.token, head.content_type, head.event_name) == (
        1234, b"Bearer t", "application/json", "up")
    assert head.keep_alive and not head.http10
    head = parse_head(b"POST /chirpstack?x=1&event=%6Aoin HTTP/1.0\r\nConnection: Keep-Alive\r\nauthorization:t ",
                      b"/chirpstack", b"authorization")
    assert head is not None and head.http10 and head.keep_alive and head.event_name == "join" and head.token == b"t"
    assert head.content_length == 0
    for refused in (b"POST /chirpstack?event=up HTTP/1.1\r\nContent-Length: 1",  # no Host
                    b"POST /chirpstack?event=up HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\ncontent-length: 1",
                    b"POST /chirpstack?event=up HTTP/1.1\r\nHost: x\r\nContent-Length: +1",
                    b"POST /chirpstack?event=up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked",
                    b"POST /chirpstack?event=up HTTP/1.1\r\nHost: x\r\n folded",
                    b"POST /chirpstack?event=up HTTP/1.1\r\nHost: x\nContent-Length: 1",
                    b"POST /chirpstack?event=up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade",
                    b"POST /chirpstack/?event=up HTTP/1.1\r\nHost: x", b"PUT /chirpstack?event=up HTTP/1.1\r\nHost: x",
                    b"POST /chirpstack?event=up HTTP/1.2\r\nHost: x", b"POST  /chirpstack?event=up HTTP/1.1\r\nHost: x"):
        assert parse_head(refused, b"/chirpstack", b"authorization") is None, refused


def test_a_bug_in_the_intake_is_500_for_that_request_only(server: FrontServer) -> None:
    assert server.front is not None
    intake = server.front.rules.intake
    real_convert = intake.convert

    def failing(source: str, event_name: str, body: bytes, *rest: object) -> object:
        if b"boom" in body:
            raise KeyError("a bug")
        return real_convert(source, event_name, body, *rest)  # type: ignore[arg-type]

    intake.convert = failing  # type: ignore[method-assign]
    client = server.connect()
    client.send(request(b'{"boom": 1}') + request(uplink_body(80)))
    assert [r.status if (r := client.response()) else None for _ in range(2)] == [500, 200]
    client.close()
