"""The demo's municipality: a webhook receiver on 127.0.0.1 keeping every event the bridge delivers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    def __init__(self, token: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.expected = "Bearer " + token
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (stdlib name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = 401
                if self.headers.get("Authorization") == receiver.expected:
                    status = 200
                    try:
                        batch = json.loads(body)["events"]
                    except (ValueError, KeyError, TypeError):
                        status = 400
                    else:
                        with receiver.lock:
                            receiver.events.extend(batch)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/tingbro"

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.events)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
