"""OAuth2 client-credentials tokens (RFC 6749 §4.4) for HTTP sinks behind Keycloak and the like.

The token is cached until shortly before `expires_in`; `forget()` drops it after the receiver answers 401.
Token endpoint trouble is transient: fixing the client secret then needs no replay of dead letters.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import quote

import aiohttp
from yarl import URL

from tingbro.sinks.base import TransientSinkError
from tingbro.sinks.httpclient import origin, redact

EXPIRY_MARGIN_S = 30.0


class ClientCredentials:
    def __init__(self, token_url: URL, client_id: str, client_secret: str, scope: str | None,
                 timeout_s: float) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.timeout_s = timeout_s
        self.token: str | None = None
        self.expires_at = 0.0

    def _basic(self) -> str:
        # RFC 6749 §2.3.1: form-urlencode id and secret, then HTTP Basic.
        pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def forget(self) -> None:
        self.token = None

    async def authorization(self, session: aiohttp.ClientSession) -> str:
        if self.token is None or time.monotonic() >= self.expires_at:
            await self._fetch(session)
        return "Bearer " + (self.token or "")

    async def _fetch(self, session: aiohttp.ClientSession) -> None:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        where = origin(self.token_url)
        try:
            async with session.post(self.token_url, data=form, allow_redirects=False,
                                    headers={"Authorization": self._basic()},
                                    timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as response:
                text = await response.text(errors="replace")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TransientSinkError(f"cannot get an OAuth2 token from {where}: {type(exc).__name__}") from None
        secrets = (self.client_secret,)
        if response.status != 200:
            snippet = redact(" ".join(text.split())[:200], secrets)
            raise TransientSinkError(f"OAuth2 token endpoint {where} answered HTTP {response.status}: {snippet}")
        try:
            answer = json.loads(text)
            token = answer["access_token"]
            lifetime_s = float(answer.get("expires_in", 300))
        except (ValueError, KeyError, TypeError):
            raise TransientSinkError(f"OAuth2 token endpoint {where} sent no access_token") from None
        if not isinstance(token, str) or not token:
            raise TransientSinkError(f"OAuth2 token endpoint {where} sent an empty access_token")
        self.token = token
        self.expires_at = time.monotonic() + max(lifetime_s - EXPIRY_MARGIN_S, 1.0)
