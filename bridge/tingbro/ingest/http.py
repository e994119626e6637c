"""ChirpStack's HTTP integration: `POST <path>?event=up|join|...` with a JSON or protobuf body.

Order of checks, each with its own answer: token (401, before the body is read), size (413), event
name and body (400), content type (415). 200 only after the outbox committed the event.
"""

from __future__ import annotations

import hmac
import logging
import time

from aiohttp import web

from tingbro.config import HttpIngestConfig
from tingbro.ingest.intake import Intake
from tingbro.ingest.parse import EVENT_CLASSES, ParseError
from tingbro.metrics import Metrics
from tingbro.outbox import Outbox

log = logging.getLogger("tingbro.ingest.http")


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison (hmac.compare_digest), so response timing does not reveal the token."""
    return hmac.compare_digest((given or "").encode("utf-8", "replace"), expected.encode("utf-8"))


class HttpIngest:
    def __init__(self, settings: HttpIngestConfig, intake: Intake, outbox: Outbox, metrics: Metrics) -> None:
        self.settings = settings
        self.intake = intake
        self.outbox = outbox
        self.metrics = metrics

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(self.settings.path, self.handle)

    def reject(self, status: int, reason: str, event_name: str = "") -> web.Response:
        self.metrics.inc("tingbro_ingest_rejected_total", source="http", status=str(status))
        log.warning("http ingest rejected", extra={"status": status, "reason": reason, "event": event_name[:40]})
        return web.json_response({"error": reason}, status=status)

    async def handle(self, request: web.Request) -> web.Response:
        assert self.settings.token is not None
        if not token_matches(request.headers.get(self.settings.token_header), self.settings.token):
            return self.reject(401, f"missing or wrong token in header {self.settings.token_header}")
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return self.reject(413, f"body larger than {limit} bytes")
        event_name = request.query.get("event", "")
        if event_name not in EVENT_CLASSES:
            return self.reject(400, "query parameter event must be one of " + ", ".join(EVENT_CLASSES),
                               event_name)
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := await request.content.read(65536):
                size += len(chunk)
                if size > limit:
                    return self.reject(413, f"body larger than {limit} bytes", event_name)
                chunks.append(chunk)
        except (ValueError, OSError) as exc:
            return self.reject(400, f"cannot read body: {type(exc).__name__}", event_name)
        body = b"".join(chunks)
        content_type = request.headers.get("Content-Type")
        try:
            events, letters = self.intake.convert("http", event_name, body, content_type, time.time())
        except ParseError as exc:
            status = 415 if str(exc).startswith("unsupported content type") else 400
            return self.reject(status, str(exc), event_name)
        try:
            await self.outbox.accept(events, letters)
        except (OSError, RuntimeError) as exc:  # not stored: ChirpStack must not think it was
            log.error("outbox unavailable", extra={"reason": str(exc)})
            return web.json_response({"error": "outbox unavailable, event not stored"}, status=503)
        body = b'{"events": %d, "dead_lettered": %d}' % (len(events), len(letters))
        return web.Response(body=body, content_type="application/json")
