"""Property-based fuzzing of the lean HTTP front (bounded).

- Raw byte streams (valid requests, garbage, truncated and oversized heads, other routes, pipelined, split
  at random points): the server never hangs or crashes, answers only well-formed responses without 5xx,
  and serves a fresh connection afterwards.
- Valid pipelined ingest requests split anywhere: the same answers, in request order.
- The head parser never disagrees with aiohttp's: a head it accepts is framed and read exactly as aiohttp's
  own (C) parser reads it, so handing a connection over can never change a request's meaning.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import chirp
import pytest
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import HttpRequestParser
from bridgehelp import INGEST_TOKEN
from fronthelp import FrontServer, request
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tingbro.ingest.http_wire import parse_head

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
UP = chirp.chirpstack_json(chirp.uplink(dedup_id="fuzz-front"))


@pytest.fixture(scope="module", params=["asyncio", "uvloop"])
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[FrontServer]:
    front = FrontServer(tmp_path_factory.mktemp("front-fuzz"), request_timeout_s=1.0, event_loop=request.param).start()
    try:
        yield front
    finally:
        front.stop()


pieces = st.one_of(
    st.builds(lambda event, token: request(UP, event=event, token=token),
              st.sampled_from(["up", "join", "nope", ""]), st.sampled_from([INGEST_TOKEN, "Bearer x", None])),
    st.binary(max_size=300),
    st.builds(lambda cut: request(UP)[:cut], st.integers(0, 400)),
    st.just(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
    st.just(b"POST /chirpstack?event=up HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n"),
    st.builds(lambda extra: request(b"{}", extra=extra),
              st.sampled_from(["Transfer-Encoding: chunked\r\n", "Connection: close\r\n", "Expect: 100-continue\r\n",
                               "Content-Length: 2\r\n", " folded\r\n", "Connection: upgrade\r\nUpgrade: x\r\n"])),
)


def read_until_closed(sock: socket.socket, timeout_s: float) -> bytes:
    sock.settimeout(timeout_s)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        raise AssertionError("the server did not close the connection: hang") from None
    return data


def parse_responses(data: bytes) -> list[int]:
    statuses = []
    while data:
        end = data.find(b"\r\n\r\n")
        assert end > 0 and data[:9] in (b"HTTP/1.1 ", b"HTTP/1.0 "), data[:80]
        head = data[:end].decode("latin-1").split("\r\n")
        length = next((int(line.split(":", 1)[1]) for line in head[1:] if line.lower().startswith("content-length:")), 0)
        assert len(data) >= end + 4 + length, "truncated response"
        statuses.append(int(head[0].split()[1]))
        data = data[end + 4 + length:]
    return statuses


@FUZZ
@given(stream=st.lists(pieces, min_size=1, max_size=6), cuts=st.lists(st.integers(1, 200), max_size=8))
def test_fuzz_raw_streams(server: FrontServer, stream: list[bytes], cuts: list[int]) -> None:
    data = b"".join(stream)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        position = 0
        for cut in cuts:
            sock.sendall(data[position:position + cut])
            position += cut
        sock.sendall(data[position:])
        sock.shutdown(socket.SHUT_WR)
        statuses = parse_responses(read_until_closed(sock, 8))
    except OSError as exc:  # the server may close on garbage before everything was sent
        if isinstance(exc, TimeoutError):
            raise
        statuses = []
    finally:
        sock.close()
    assert all(status == 200 or 100 <= status < 500 for status in statuses), statuses
    client = server.connect()
    client.send(request(UP))
    answer = client.response()
    client.close()
    assert answer is not None and answer.status == 200


@FUZZ
@given(kinds=st.lists(st.sampled_from(["ok", "token", "event", "json"]), min_size=1, max_size=8),
       cuts=st.lists(st.integers(1, 500), max_size=10))
def test_fuzz_split_pipelines_answer_in_order(server: FrontServer, kinds: list[str], cuts: list[int]) -> None:
    raw = {"ok": request(UP), "token": request(UP, token="Bearer no"), "event": request(UP, event="x"),
           "json": request(b"[1]")}
    expected = {"ok": 200, "token": 401, "event": 400, "json": 400}
    data = b"".join(raw[kind] for kind in kinds)
    client = server.connect()
    position = 0
    for cut in cuts:
        client.send(data[position:position + cut])
        position += cut
    client.send(data[position:])
    got = [r.status if (r := client.response()) else None for _ in kinds]
    client.close()
    assert got == [expected[kind] for kind in kinds]


header_lines = st.lists(st.one_of(
    st.sampled_from(["Host: x", "Content-Length: 5", "Content-Length: 005", "content-length:7", "Content-Length: 5x",
                     f"Authorization: {INGEST_TOKEN}", "authorization:  a  ", "Content-Type: application/json",
                     "Connection: close", "Connection: keep-alive", "Connection: Keep-Alive, TE", "X-A: \u00e6",
                     "Transfer-Encoding: chunked", "Content-Length: 99999999999999999999", " folded", "Bad Name: 1",
                     "User-Agent: reqwest"]),
    st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255), max_size=30)), max_size=8)


@FUZZ
@given(method=st.sampled_from(["POST", "GET", "post", "POST "]),
       target=st.sampled_from(["/chirpstack?event=up", "/chirpstack", "/chirpstack?event=%75p", "/chirpstack?a=1&event=j",
                               "/chirpstack?event=up#x", "/other", "http://x/chirpstack?event=up", "/chirp stack"]),
       version=st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 "]), lines=header_lines)
@example(method="POST", target="/chirpstack?event=up", version="HTTP/1.1", lines=["Host: x", "Host: x"])
@example(method="POST", target="/chirpstack?event=up", version="HTTP/1.1",
         lines=["Host: x", "User-Agent: a", "user-agent: b"])
def test_parser_agrees_with_aiohttp(method: str, target: str, version: str, lines: list[str]) -> None:
    head = f"{method} {target} {version}\r\n".encode("latin-1") + "".join(line + "\r\n" for line in lines).encode(
        "latin-1")
    ours = parse_head(head[:-2] if lines else head[:-2], b"/chirpstack", b"authorization")
    if ours is None:
        return  # handed to aiohttp: nothing of ours to compare
    loop = asyncio.new_event_loop()
    try:
        parser = HttpRequestParser(BaseProtocol(loop), loop, 2**16, max_line_size=8190, max_field_size=8190)
        try:
            messages, _, _ = parser.feed_data(head + b"\r\n" + b"x" * ours.content_length)
        except HttpProcessingError as exc:
            raise AssertionError(f"we accepted what aiohttp refuses: {exc}") from None
    finally:
        loop.close()
    assert len(messages) == 1
    message = messages[0][0]
    assert message.method == "POST" and message.path.startswith("/chirpstack") and not message.chunked
    assert int(message.headers.get("Content-Length", "0")) == ours.content_length
    assert (message.version.minor == 0) == ours.http10
    assert (not message.should_close) == ours.keep_alive
    token = message.headers.get("Authorization")
    assert (None if token is None else token.encode("utf-8", "surrogateescape")) == ours.token
    assert message.url.query.get("event", "") == ours.event_name
    content_type = message.headers.get("Content-Type")
    assert content_type == ours.content_type
