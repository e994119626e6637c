"""One HTTP POST with the sinks' shared error classification.

2xx -> delivered. 408, 429, 5xx, timeouts, refused or reset connections -> TransientSinkError (retry).
Other 4xx and unexpected 3xx -> PermanentSinkError (dead letter). Error messages name the receiver by
scheme://host:port only (query strings can carry API keys) and have every secret blanked out.
"""

from __future__ import annotations

import aiohttp
from yarl import URL

from tingbro.sinks.base import PermanentSinkError, SinkOptions, TransientSinkError

RETRYABLE_CLIENT_STATUSES = frozenset({408, 425, 429})
RESPONSE_SNIPPET_CHARS = 200


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def classify_status(status: int, where: str, response_text: str, secrets: tuple[str, ...] = ()) -> None:
    """Raise the right sink error for a non-2xx status; return quietly for 2xx."""
    if 200 <= status < 300:
        return
    snippet = redact(" ".join(response_text.split())[:RESPONSE_SNIPPET_CHARS], secrets)
    message = f"HTTP {status} from {where}" + (f": {snippet}" if snippet else "")
    error: Exception
    if status >= 500 or status in RETRYABLE_CLIENT_STATUSES:
        error = TransientSinkError(message)
    else:
        error = PermanentSinkError(message)
    error.http_status = status  # type: ignore[attr-defined]
    raise error


def authorization_header(options: SinkOptions) -> str | None:
    """`authorization[_env]` is the whole header value; `token[_env]` is sent as "Bearer <token>"."""
    authorization = options.secret("authorization")
    token = options.secret("token")
    if token and authorization:
        raise options.fail("give either a bearer 'token' or a full 'authorization' header value, not both")
    return "Bearer " + token if token else authorization


def origin(url: URL) -> str:
    return str(url.origin()) if url.is_absolute() else "<relative url>"


class HttpPoster:
    """An aiohttp session for one sink: POST bytes, classify the outcome."""

    def __init__(self, timeout_s: float, secrets: tuple[str, ...] = (), connections: int = 8) -> None:
        self.timeout_s = timeout_s
        # "Bearer abc": blank out the bare credential too, longest first.
        parts = {piece for secret in secrets if secret for piece in (secret, secret.split(" ", 1)[-1]) if piece}
        self.secrets = tuple(sorted(parts, key=len, reverse=True))
        self.connections = connections
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self.session is None:
            connector = aiohttp.TCPConnector(limit=self.connections)
            self.session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout_s))

    async def post(self, url: URL, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST; return the 2xx status and response body, or raise TransientSinkError / PermanentSinkError."""
        await self.start()
        assert self.session is not None
        where = origin(url)
        try:
            async with self.session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                text = "" if 200 <= response.status < 300 else await response.text(errors="replace")
                classify_status(response.status, where, text, self.secrets)
                return response.status, await response.read()
        except (TransientSinkError, PermanentSinkError):
            raise
        except TimeoutError:
            raise TransientSinkError(f"timeout after {self.timeout_s:g} s posting to {where}") from None
        except aiohttp.InvalidURL:
            raise PermanentSinkError(f"invalid URL for {where}") from None
        except (aiohttp.ClientError, OSError) as exc:
            detail = redact(str(exc), self.secrets)
            raise TransientSinkError(f"cannot post to {where}: {type(exc).__name__}: {detail}") from None

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
