"""What ChirpStack's HTTP integration endpoint answers, in one place for both HTTP transports.

Order of checks, each with its own answer: token (401, before the body is read), declared size (413), event
name (400); then the body: content type (415) and content (400). 200 with `{"events": n, "dead_lettered": m}`
only after the outbox committed; 503 when it cannot store. An `Answer` is (status, JSON body): the lean
front (http_front.py) and the aiohttp route (http.py) add the HTTP framing, neither repeats a rule.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time

from tingbro.config import HttpIngestConfig
from tingbro.ingest.intake import Intake
from tingbro.ingest.parse import EVENT_CLASSES, ParseError
from tingbro.metrics import Metrics
from tingbro.outbox import Outbox

log = logging.getLogger("tingbro.ingest.http")

Answer = tuple[int, bytes]
UNAVAILABLE: Answer = (503, b'{"error": "outbox unavailable, event not stored"}')
INTERNAL_ERROR: Answer = (500, b'{"error": "internal error, event not stored"}')


def token_matches(given: str | bytes | None, expected: str | bytes) -> bool:
    """Constant-time comparison (hmac.compare_digest), so response timing does not reveal the token.

    Bytes are compared as received; a str header (aiohttp decodes with surrogateescape) is encoded back."""
    if given is None:
        given = b""
    elif isinstance(given, str):
        given = given.encode("utf-8", "surrogateescape")
    if isinstance(expected, str):
        expected = expected.encode("utf-8")
    return hmac.compare_digest(given, expected)


class Commit:
    """Events handed to the outbox; `future` resolves once they are on disk (or fails)."""

    __slots__ = ("future", "events", "letters")

    def __init__(self, future: asyncio.Future[None], events: int, letters: int) -> None:
        self.future, self.events, self.letters = future, events, letters


class IngestRules:
    def __init__(self, settings: HttpIngestConfig, intake: Intake, outbox: Outbox, metrics: Metrics) -> None:
        assert settings.token, "the HTTP ingest is never open without a token"
        self.settings = settings
        self.expected_token = settings.token.encode("utf-8")
        self.limit = settings.max_body_bytes
        self.intake = intake
        self.outbox = outbox
        self.metrics = metrics
        self.stored_answers: dict[tuple[int, int], Answer] = {}  # (events, dead letters) -> the 200 answer

    def check_head(self, token: str | bytes | None, content_length: int | None, event_name: str) -> Answer | None:
        """The answer for a request that can be refused before its body is read, else None."""
        if not token_matches(token, self.expected_token):
            return self.reject(401, f"missing or wrong token in header {self.settings.token_header}")
        if content_length is not None and content_length > self.limit:
            return self.too_large(event_name)
        if event_name not in EVENT_CLASSES:
            return self.reject(400, "query parameter event must be one of " + ", ".join(EVENT_CLASSES), event_name)
        return None

    def too_large(self, event_name: str = "") -> Answer:
        return self.reject(413, f"body larger than {self.limit} bytes", event_name)

    def take(self, event_name: str, body: bytes, content_type: str | None) -> Answer | Commit:
        """Parse and decode a body that passed `check_head`, and hand its events to the outbox."""
        try:
            events, letters = self.intake.convert("http", event_name, body, content_type, time.time())
        except ParseError as exc:
            status = 415 if str(exc).startswith("unsupported content type") else 400
            return self.reject(status, str(exc), event_name)
        except Exception as exc:  # a bug, not the sender's fault: 500 for this request, the connection lives on
            log.error("http ingest failed", extra={"reason": f"{type(exc).__name__}", "event": event_name[:40]},
                      exc_info=True)
            self.metrics.inc("tingbro_ingest_rejected_total", source="http", status="500")
            return INTERNAL_ERROR
        try:
            future = self.outbox.submit(events, letters)
        except (OSError, RuntimeError) as exc:  # closing: ChirpStack must not think it was stored
            return self.unavailable(exc)
        return Commit(future, len(events), len(letters))

    def settle(self, commit: Commit) -> Answer:
        """The answer once `commit.future` is done: 200 only if the events are on disk."""
        failure = commit_failure(commit.future)
        if failure is not None:
            return self.unavailable(failure)
        return self.stored(commit.events, commit.letters)

    def stored(self, events: int, letters: int) -> Answer:
        """The 200 answer for a body whose events are on disk."""
        counts = (events, letters)
        answer = self.stored_answers.get(counts)
        if answer is None:
            answer = (200, b'{"events": %d, "dead_lettered": %d}' % counts)
            if len(self.stored_answers) < 64:
                self.stored_answers[counts] = answer
        return answer

    def unavailable(self, exc: BaseException) -> Answer:
        log.error("outbox unavailable", extra={"reason": str(exc)})
        self.metrics.inc("tingbro_ingest_rejected_total", source="http", status="503")
        return UNAVAILABLE

    def reject(self, status: int, reason: str, event_name: str = "") -> Answer:
        self.metrics.inc("tingbro_ingest_rejected_total", source="http", status=str(status))
        log.warning("http ingest rejected", extra={"status": status, "reason": reason, "event": event_name[:40]})
        return error_answer(status, reason)


def commit_failure(future: asyncio.Future[None]) -> BaseException | None:
    """Why a done commit future did not store its events; None when they are on disk."""
    if future.cancelled():
        return RuntimeError("commit cancelled")
    return future.exception()


def error_answer(status: int, reason: str) -> Answer:
    return status, json.dumps({"error": reason}).encode()
