"""ChirpStack's HTTP integration as an aiohttp route: `POST <path>?event=up|join|...`, JSON or protobuf.

The lean front (http_front.py) serves the usual requests itself; this route answers what it hands over
(chunked bodies, `Expect: 100-continue`, anything unusual) and everything when `fast_path = false`.
Both follow the same rules (http_rules.py).
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from tingbro.ingest.http_rules import Answer, Commit, IngestRules, token_matches

__all__ = ["HttpIngest", "token_matches"]

READ_CHUNK_BYTES = 65536


class HttpIngest:
    def __init__(self, rules: IngestRules) -> None:
        self.rules = rules

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(self.rules.settings.path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        rules = self.rules
        event_name = request.query.get("event", "")
        refused = rules.check_head(request.headers.get(rules.settings.token_header), request.content_length,
                                   event_name)
        if refused is not None:
            return response(refused)
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := await request.content.read(READ_CHUNK_BYTES):
                size += len(chunk)
                if size > rules.limit:
                    return response(rules.too_large(event_name))
                chunks.append(chunk)
        except (ValueError, OSError) as exc:
            return response(rules.reject(400, f"cannot read body: {type(exc).__name__}", event_name))
        outcome = rules.take(event_name, b"".join(chunks), request.headers.get("Content-Type"))
        if isinstance(outcome, Commit):
            with contextlib.suppress(Exception):  # settle() turns a failed commit into 503
                await asyncio.shield(outcome.future)  # shared by every request of one commit
            outcome = rules.settle(outcome)
        return response(outcome)


def response(answer: Answer) -> web.Response:
    return web.Response(status=answer[0], body=answer[1], content_type="application/json")
