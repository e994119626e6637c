"""The webhook sink against a real aiohttp receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket

import pytest
from sinkhelp import Receiver, make_event, run
from tingbro.sinks import PermanentSinkError, SinkConfigError, TransientSinkError, build_sink
from tingbro.sinks.webhook import verify

SECRET = "s3cret-hmac-key"
TOKEN = "tok-abc-123"


def webhook(url: str, **options: object):
    return build_sink("city-webhook", "webhook", {"url": url, **options})


def test_posts_exact_signed_body_with_authorization(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("TEST_WEBHOOK_HMAC", SECRET)
    events = [make_event(1), make_event(2)]

    async def scenario() -> None:
        async with Receiver() as receiver:
            sink = webhook(receiver.url + "/hook", token_env="TEST_WEBHOOK_TOKEN", hmac_secret_env="TEST_WEBHOOK_HMAC")
            assert set(sink.secrets) == {TOKEN, SECRET}  # for the bridge's log redaction
            await sink.start()
            try:
                await sink.deliver(events)
            finally:
                await sink.close()
            assert len(receiver.requests) == 1
            request = receiver.requests[0]
            assert (request.method, request.path) == ("POST", "/hook")
            assert request.headers["Authorization"] == "Bearer " + TOKEN
            assert request.headers["Content-Type"] == "application/json"
            body = json.loads(request.body)
            assert body["events"] == events
            assert request.headers["Idempotency-Key"] == body["batch_id"]
            # The receiver's check, written out independently of the sink's code.
            expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
            assert request.headers["X-Tingbro-Signature"] == expected
            assert verify(SECRET.encode(), request.body, request.headers["X-Tingbro-Signature"])
            assert not verify(b"wrong", request.body, request.headers["X-Tingbro-Signature"])
            assert not verify(SECRET.encode(), request.body + b" ", request.headers["X-Tingbro-Signature"])

    run(scenario())


def test_batch_id_is_stable_across_retries_and_custom_headers() -> None:
    events = [make_event(1), make_event(2)]

    async def scenario() -> None:
        async with Receiver(statuses=[503]) as receiver:
            sink = webhook(receiver.url, authorization="ApiKey xyz", signature_header="X-Sig",
                           hmac_secret="k", headers={"X-Municipality": "aarhus"})
            await sink.start()
            with pytest.raises(TransientSinkError, match="HTTP 503"):
                await sink.deliver(events)
            await sink.deliver(events)
            await sink.close()
            first, second = receiver.requests
            assert first.body == second.body
            assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
            assert first.headers["Authorization"] == "ApiKey xyz"
            assert first.headers["X-Municipality"] == "aarhus"
            assert verify(b"k", second.body, second.headers["X-Sig"])

    run(scenario())


@pytest.mark.parametrize(("status", "error"), [
    (500, TransientSinkError), (502, TransientSinkError), (503, TransientSinkError),
    (408, TransientSinkError), (429, TransientSinkError),
    (400, PermanentSinkError), (401, PermanentSinkError), (404, PermanentSinkError), (422, PermanentSinkError),
    (301, PermanentSinkError),
])
def test_status_classification(status: int, error: type[Exception]) -> None:
    async def scenario() -> None:
        async with Receiver(default_status=status, response_body=b"echo " + TOKEN.encode()) as receiver:
            sink = webhook(receiver.url, token=TOKEN)
            with pytest.raises(error) as caught:
                await sink.deliver([make_event(1)])
            await sink.close()
            assert f"HTTP {status}" in str(caught.value)
            assert TOKEN not in str(caught.value)  # an echoing receiver does not leak the token into errors

    run(scenario())


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_delivered(status: int) -> None:
    async def scenario() -> None:
        async with Receiver(default_status=status) as receiver:
            sink = webhook(receiver.url)
            await sink.deliver([make_event(1)])
            await sink.close()
            assert len(receiver.requests) == 1

    run(scenario())


def test_connection_refused_is_transient() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def scenario() -> None:
        sink = webhook(f"http://127.0.0.1:{port}/hook")
        with pytest.raises(TransientSinkError, match="cannot post"):
            await sink.deliver([make_event(1)])
        await sink.close()

    run(scenario())


def test_timeout_is_transient() -> None:
    async def scenario() -> None:
        async with Receiver(delay_s=1.0) as receiver:
            sink = webhook(receiver.url, timeout_s=0.2)
            started = asyncio.get_running_loop().time()
            with pytest.raises(TransientSinkError, match="timeout"):
                await sink.deliver([make_event(1)])
            assert asyncio.get_running_loop().time() - started < 0.9
            await sink.close()

    run(scenario())


def test_event_type_filter_and_max_batch() -> None:
    async def scenario() -> None:
        async with Receiver() as receiver:
            sink = webhook(receiver.url, event_types=["alarm"], max_batch=7)
            assert sink.max_batch == 7
            await sink.deliver([make_event(1)])  # an uplink: acknowledged without a request
            assert receiver.requests == []
            alarm = make_event(2, type="alarm", alarm={"name": "fire", "active": True})
            await sink.deliver([make_event(3), alarm])
            await sink.close()
            assert [event["id"] for event in json.loads(receiver.requests[0].body)["events"]] == [alarm["id"]]

    run(scenario())


def test_not_json_is_permanent() -> None:
    async def scenario() -> None:
        async with Receiver() as receiver:
            sink = webhook(receiver.url)
            with pytest.raises(PermanentSinkError, match="JSON"):
                await sink.deliver([make_event(1, fields={"temperature_c": float("nan")})])
            await sink.close()
            assert receiver.requests == []

    run(scenario())


def test_config_errors_are_clear_and_do_not_leak_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISSING_TOKEN_VAR", raising=False)
    with pytest.raises(SinkConfigError, match="MISSING_TOKEN_VAR.*not set"):
        webhook("http://127.0.0.1:1/", token_env="MISSING_TOKEN_VAR")
    with pytest.raises(SinkConfigError, match="'url' is required"):
        build_sink("w", "webhook", {})
    with pytest.raises(SinkConfigError, match="unknown options \\['tokn'\\]"):
        webhook("http://127.0.0.1:1/", tokn=TOKEN)
    with pytest.raises(SinkConfigError, match="absolute http"):
        webhook("ftp://example/")
    with pytest.raises(SinkConfigError, match="max_batch"):
        webhook("http://127.0.0.1:1/", max_batch=0)
    with pytest.raises(SinkConfigError, match="event_types") as caught:
        webhook("http://127.0.0.1:1/", event_types=["upl1nk"], token=TOKEN)
    assert TOKEN not in str(caught.value)


def test_receiver_side_verification_and_batching() -> None:
    """A receiver that checks the signature itself: right secret -> 2xx, wrong secret -> 401 -> permanent."""
    from aiohttp import web
    from conftest import free_port

    accepted: list[list[str]] = []

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        if not verify(SECRET.encode(), raw, request.headers.get("X-Tingbro-Signature", "")):
            return web.Response(status=401, text="bad signature")
        accepted.append([event["id"] for event in json.loads(raw)["events"]])
        return web.Response(status=204)

    async def scenario() -> None:
        app = web.Application()
        app.router.add_post("/hook", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            events = [make_event(index) for index in range(250)]
            good = webhook(f"http://127.0.0.1:{port}/hook", hmac_secret=SECRET, max_batch=100)
            await good.deliver(events)
            await good.close()
            assert [len(ids) for ids in accepted] == [100, 100, 50]
            assert [event_id for ids in accepted for event_id in ids] == [event["id"] for event in events]
            forged = webhook(f"http://127.0.0.1:{port}/hook", hmac_secret="not-the-secret")
            with pytest.raises(PermanentSinkError, match="HTTP 401"):
                await forged.deliver(events[:1])
            await forged.close()
            assert len(accepted) == 3
        finally:
            await runner.cleanup()

    run(scenario())
