"""Webhook sink: POST a batch of events as JSON, signed with HMAC-SHA256 over the exact body bytes.

Body: {"batch_id": "<hex>", "events": [<event>, ...]}. `batch_id` depends only on the event ids, so a
retried batch carries the same id (also sent as `Idempotency-Key`). Signature header (default
`X-Tingbro-Signature`): "sha256=" + hex(HMAC-SHA256(secret, body)).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from yarl import URL

from tingbro import __version__
from tingbro.sinks.base import Sink, SinkOptions
from tingbro.sinks.httpclient import HttpPoster, authorization_header
from tingbro.sinks.jsonenc import dump_json_array

SIGNATURE_PREFIX = "sha256="


def batch_id(events: list[dict[str, Any]]) -> str:
    """Stable across retries of the same batch: a hash of the event ids in order."""
    digest = hashlib.sha256("\n".join([event["id"] for event in events]).encode())
    return digest.hexdigest()[:32]


def sign(secret: bytes, body: bytes) -> str:
    return SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header_value: str) -> bool:
    """What a receiver does (also used by the tests): constant-time compare over the raw body bytes."""
    return hmac.compare_digest(sign(secret, body), header_value)


def encode_batch(events: list[dict[str, Any]]) -> tuple[str, bytes]:
    """(batch id, body): the body is what strictjson gives for {"batch_id": id, "events": events}, put
    together from the events' own JSON (the outbox's events carry it, see `strictjson.Dumped`)."""
    identifier = batch_id(events)
    return identifier, dump_json_array(events, b'{"batch_id":"' + identifier.encode() + b'","events":', b"}")


class WebhookSink(Sink):
    kind = "webhook"
    default_max_batch = 100

    def configure(self, options: SinkOptions) -> None:
        self.url = URL(options.text("url", required=True) or "")
        if self.url.scheme not in ("http", "https") or not self.url.host:
            raise options.fail("option 'url' must be an absolute http:// or https:// URL")
        self.authorization = authorization_header(options)
        secret = options.secret("hmac_secret")
        self.hmac_secret = secret.encode() if secret else None
        self.signature_header = options.text("signature_header", "X-Tingbro-Signature") or ""
        self.timeout_s = options.number("timeout_s", 10.0, 0.05, 300.0)
        extra = options.table("headers")
        if not all(isinstance(value, str) for value in extra.values()):
            raise options.fail("option 'headers' must map header names to strings")
        self.extra_headers: dict[str, str] = extra
        self.poster = HttpPoster(self.timeout_s, secrets=(self.authorization or "", secret or ""))

    async def start(self) -> None:
        await self.poster.start()

    def headers_for(self, identifier: str, body: bytes) -> dict[str, str]:
        headers = {**self.extra_headers, "Content-Type": "application/json",
                   "User-Agent": f"tingbro/{__version__}", "Idempotency-Key": identifier}
        if self.authorization:
            headers["Authorization"] = self.authorization
        if self.hmac_secret is not None:
            headers[self.signature_header] = sign(self.hmac_secret, body)
        return headers

    async def send(self, events: list[dict[str, Any]]) -> None:
        identifier, body = encode_batch(events)
        await self.poster.post(self.url, body, self.headers_for(identifier, body))

    async def close(self) -> None:
        await self.poster.close()
