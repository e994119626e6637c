"""Helpers for the bridge tests: a real webhook receiver on 127.0.0.1, config files, the bridge as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from conftest import ROOT, free_port

INGEST_TOKEN = "Bearer ingest-s3cret-7f3a9c"
WEBHOOK_TOKEN = "webhook-t0ken-b81d"
HMAC_SECRET = "hmac-k3y-55e0"
SECRETS = (INGEST_TOKEN.split()[1], WEBHOOK_TOKEN, HMAC_SECRET)
SECRET_ENV = {"TB_INGEST_TOKEN": INGEST_TOKEN, "TB_WEBHOOK_TOKEN": WEBHOOK_TOKEN, "TB_HMAC": HMAC_SECRET}


class Receiver:
    """A webhook receiver (threaded stdlib HTTP server) that records every event it is sent, in order.

    `reject(predicate)` makes it answer 400 to batches holding a matching event (a permanent sink error).
    `stop()` closes the port (connections refused, a transient error); `start()` opens it again.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.events: list[dict[str, Any]] = []
        self.arrival_times: list[float] = []  # time.time() when each event in `events` arrived
        self.requests = 0
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.rejecting: Callable[[dict[str, Any]], bool] | None = None
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real webhook receiver would

            def do_POST(self) -> None:  # noqa: N802 (stdlib name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                events = json.loads(body)["events"]
                with receiver.lock:
                    receiver.requests += 1
                    receiver.headers.append(dict(self.headers))
                    rejected = receiver.rejecting is not None and any(map(receiver.rejecting, events))
                    if not rejected:
                        receiver.events.extend(events)
                        receiver.arrival_times.extend([time.time()] * len(events))
                self.send_response(400 if rejected else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def ids(self) -> list[str]:
        with self.lock:
            return [event["id"] for event in self.events]

    def wait_for(self, count: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(set(self.ids())) >= count:
                return True
            time.sleep(0.05)
        return False


def config_text(db: Path, port: int, receiver_url: str, *, http: bool = True, mqtt_port: int | None = None,
                client_id: str = "tingbro-test", shared_group: str = "", extra: str = "",
                sink_extra: str = "") -> str:
    mqtt = (f'[ingest.mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {mqtt_port}\nclient_id = "{client_id}"\n'
            f'shared_group = "{shared_group}"\n' if mqtt_port else "")
    return f"""
[storage]
path = "{db}"
synchronous = "normal"

[server]
host = "127.0.0.1"
port = {port}

[ingest.http]
enabled = {"true" if http else "false"}
token_env = "TB_INGEST_TOKEN"
max_body_bytes = 65536

{mqtt}
[delivery]
retry_initial_s = 0.05
retry_max_s = 0.5
idle_poll_s = 0.2
{extra}

[[sinks]]
name = "hook"
kind = "webhook"
url = "{receiver_url}"
token_env = "TB_WEBHOOK_TOKEN"
hmac_secret_env = "TB_HMAC"
timeout_s = 5
{sink_extra}
"""


def cli_env() -> dict[str, str]:
    env = dict(os.environ, **SECRET_ENV)
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / sub) for sub in ("bridge", "codecs", "firmware"))
    return env


class BridgeProcess:
    """`tingbro serve` as a child process; its JSON logs go to a file the tests can read."""

    def __init__(self, config: Path, port: int, log_path: Path) -> None:
        self.config, self.port, self.log_path = config, port, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BridgeProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "tingbro", "serve", "--config", str(self.config)],
                                        stdout=log, stderr=log, env=cli_env(), cwd=ROOT)
        log.close()
        return self

    def health(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as response:
                return json.loads(response.read())
        except OSError:
            return None

    def wait_ready(self, timeout_s: float = 20, mqtt: str = "") -> None:
        """Until /healthz answers; mqtt="connected" or "subscribed" also waits for that MQTT state."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log_path.read_text()[-2000:]
            status = self.health()
            if status and (not mqtt or status.get("mqtt_" + mqtt)):
                return
            time.sleep(0.05)
        raise AssertionError("bridge did not become ready:\n" + self.log_path.read_text()[-2000:])

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def terminate(self, timeout_s: float = 20) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError("bridge did not stop on SIGTERM") from None
        return self.process.returncode


def post(port: int, event: str, body: bytes, content_type: str = "application/json",
         token: str | None = INGEST_TOKEN, path: str = "/chirpstack") -> tuple[int, bytes]:
    query = urllib.parse.urlencode({"event": event})
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}?{query}", data=body, method="POST")
    request.add_header("Content-Type", content_type)
    if token is not None:
        request.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
