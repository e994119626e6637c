"""FIWARE NGSI-LD sink: batch upsert of Smart Data Model entities with `?options=update`.

`options=update` merges attributes into existing entities; the spec default (replace) would drop every
attribute the bridge does not send (static metadata, dateLastEmptying set by others).
@context: inline per entity with `Content-Type: application/ld+json` (default), or, when `context_url` is
set, `Content-Type: application/json` plus the JSON-LD `Link` header pointing at that one context.
Responses: 201/204 delivered; 207 (some entities failed) is a permanent error naming the failures.
"""

from __future__ import annotations

import json
from typing import Any

from yarl import URL

from tingbro import __version__
from tingbro.sinks.base import PermanentSinkError, Sink, SinkOptions, TransientSinkError
from tingbro.sinks.httpclient import HttpPoster, authorization_header
from tingbro.sinks.jsonenc import dump_json
from tingbro.sinks.ngsi_ld_mapping import upsert_body
from tingbro.sinks.oauth2 import ClientCredentials

UPSERT_PATH = "/ngsi-ld/v1/entityOperations/upsert"
JSONLD_CONTEXT_REL = 'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def partial_failure_reason(body: bytes) -> str:
    """Summarize a 207 BatchOperationResult: {"success": [...], "errors": [{"entityId", "error": {...}}]}."""
    try:
        result = json.loads(body)
        errors = result.get("errors", []) if isinstance(result, dict) else []
        parts = []
        for item in errors[:5]:
            error = item.get("error", {}) if isinstance(item, dict) else {}
            parts.append(f"{item.get('entityId')}: {error.get('title') or error.get('type') or error}")
        return f"{len(errors)} entities rejected: " + "; ".join(parts)
    except (ValueError, AttributeError):
        return "some entities rejected (unreadable 207 body)"


class NgsiLdSink(Sink):
    kind = "ngsi_ld"
    default_max_batch = 100
    default_event_types = ("uplink", "alarm", "status", "location", "device_offline", "device_online")

    def configure(self, options: SinkOptions) -> None:
        base = URL(options.text("url", required=True) or "")
        if base.scheme not in ("http", "https") or not base.host:
            raise options.fail("option 'url' must be the broker's absolute http(s) base URL")
        self.upsert_url = base.with_path(base.path.rstrip("/") + UPSERT_PATH).with_query({"options": "update"})
        self.context_url = options.text("context_url")
        self.tenant = options.text("tenant")
        self.authorization = authorization_header(options)
        self.timeout_s = options.number("timeout_s", 10.0, 0.05, 300.0)
        self.oauth2 = self._oauth2(options)
        secrets = (self.authorization or "", self.oauth2.client_secret if self.oauth2 else "")
        self.poster = HttpPoster(self.timeout_s, secrets=secrets)

    def _oauth2(self, options: SinkOptions) -> ClientCredentials | None:
        token_url = options.text("oauth2_token_url")
        client_id = options.text("oauth2_client_id")
        client_secret = options.secret("oauth2_client_secret")
        scope = options.text("oauth2_scope")
        if not token_url:
            if client_id or client_secret or scope:
                raise options.fail("the oauth2_* options need 'oauth2_token_url'")
            return None
        url = URL(token_url)
        if url.scheme not in ("http", "https") or not url.host or not client_id or not client_secret:
            raise options.fail("OAuth2 needs an http(s) 'oauth2_token_url', 'oauth2_client_id' and "
                               "'oauth2_client_secret_env'")
        if self.authorization:
            raise options.fail("give either OAuth2 options or 'token'/'authorization', not both")
        return ClientCredentials(url, client_id, client_secret, scope, self.timeout_s)

    async def start(self) -> None:
        await self.poster.start()

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"tingbro/{__version__}", "Accept": "application/json"}
        if self.context_url:
            headers["Content-Type"] = "application/json"
            headers["Link"] = f"<{self.context_url}>; {JSONLD_CONTEXT_REL}"
        else:
            headers["Content-Type"] = "application/ld+json"
        if self.tenant:
            headers["NGSILD-Tenant"] = self.tenant
        if self.authorization:
            headers["Authorization"] = self.authorization
        return headers

    async def send(self, events: list[dict[str, Any]]) -> None:
        try:
            entities = upsert_body(events, inline_context=not self.context_url)
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentSinkError(f"cannot map event to NGSI-LD entities: {type(exc).__name__}: {exc}") from None
        if not entities:
            return
        headers = self.headers()
        if self.oauth2 is not None:
            await self.poster.start()
            assert self.poster.session is not None
            headers["Authorization"] = await self.oauth2.authorization(self.poster.session)
        try:
            status, response = await self.poster.post(self.upsert_url, dump_json(entities), headers)
        except PermanentSinkError as exc:
            if self.oauth2 is None or getattr(exc, "http_status", None) != 401:
                raise
            self.oauth2.forget()  # expired or revoked early: the retry fetches a fresh token
            raise TransientSinkError(f"{exc} (OAuth2 token refused; a new one is fetched on retry)") from None
        if status == 207:
            raise PermanentSinkError("NGSI-LD batch upsert partly failed: " + partial_failure_reason(response))

    async def close(self) -> None:
        await self.poster.close()
