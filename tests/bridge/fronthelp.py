"""The lean HTTP front in-process, as the service wires it (real rules, Intake, Outbox, aiohttp fallback),
on its own event-loop thread, and a raw-socket client that reads HTTP/1.1 responses byte-exactly."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from aiohttp import web
from bridgehelp import INGEST_TOKEN
from tingbro.codec import tingcodec_decode
from tingbro.config import DecodeConfig, HttpIngestConfig
from tingbro.ingest.http import HttpIngest
from tingbro.ingest.http_front import HttpFront
from tingbro.ingest.http_rules import IngestRules
from tingbro.ingest.intake import Intake
from tingbro.metrics import Metrics
from tingbro.outbox import Outbox

MAX_BODY_BYTES = 4096


class FrontServer:
    def __init__(self, folder: Path, request_timeout_s: float = 10.0, event_loop: str = "asyncio") -> None:
        self.folder = folder
        self.request_timeout_s = request_timeout_s
        if event_loop == "uvloop":
            import uvloop

            self.loop = uvloop.new_event_loop()
        else:
            self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0
        self.outbox: Outbox | None = None
        self.front: HttpFront | None = None
        self.runner: web.AppRunner | None = None
        self.metrics = Metrics()

    def call(self, coroutine: Coroutine[Any, Any, Any], timeout_s: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout_s)

    def start(self) -> FrontServer:
        self.thread.start()
        self.call(self._start())
        return self

    async def _start(self) -> None:
        self.outbox = Outbox(self.folder / "outbox.sqlite3", "normal", commit_interval_ms=1)
        await self.outbox.open()
        settings = HttpIngestConfig(token=INGEST_TOKEN, max_body_bytes=MAX_BODY_BYTES,
                                    request_timeout_s=self.request_timeout_s)
        intake = Intake(tingcodec_decode, DecodeConfig(), self.metrics)
        rules = IngestRules(settings, intake, self.outbox, self.metrics)
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        HttpIngest(rules).add_routes(app)
        app.router.add_get("/healthz", healthz)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        assert self.runner.server is not None
        self.front = HttpFront(rules, self.request_timeout_s, self.runner.server)
        self.port = await self.front.start("127.0.0.1", 0)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.call(self._stop())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
        self.loop.close()

    async def _stop(self) -> None:
        assert self.front is not None and self.runner is not None and self.outbox is not None
        await self.front.stop(5)
        await self.runner.cleanup()
        await self.outbox.close()

    def stored(self) -> int:
        assert self.outbox is not None
        return self.outbox.stored_total

    def connect(self) -> Client:
        return Client(socket.create_connection(("127.0.0.1", self.port), timeout=5))


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def request(body: bytes, event: str = "up", token: str | None = INGEST_TOKEN, version: str = "HTTP/1.1",
            extra: str = "", content_type: str = "application/json", path: str = "/chirpstack") -> bytes:
    head = f"POST {path}?event={event} {version}\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
    if token is not None:
        head += f"Authorization: {token}\r\n"
    return (head + f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class Client:
    """A raw HTTP/1.1 client: sends bytes as given, reads Content-Length framed responses."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = self.sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            return False
        self.buffer += chunk
        return bool(chunk)

    def response(self, timeout_s: float = 5) -> Response | None:
        """The next final response (interim 1xx skipped); None if the connection closed or nothing came."""
        deadline = time.monotonic() + timeout_s
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                lines = self.buffer[:end].decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                status = int(lines[0].split()[1])
                length = int(headers.get("content-length", "0"))
                if len(self.buffer) >= end + 4 + length:
                    body = self.buffer[end + 4:end + 4 + length]
                    self.buffer = self.buffer[end + 4 + length:]
                    if 100 <= status < 200:
                        continue
                    return Response(status, headers, body)
            if time.monotonic() > deadline or not self._fill(deadline):
                return None

    def closed(self, timeout_s: float = 5) -> bool:
        """True once the server closed the connection (after any data left)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.buffer += chunk
        return False

    def close(self) -> None:
        self.sock.close()
