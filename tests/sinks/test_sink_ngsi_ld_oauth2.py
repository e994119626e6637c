"""NGSI-LD behind OAuth2 client credentials: a local token endpoint and broker stand-in on 127.0.0.1."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from aiohttp import web
from conftest import free_port
from sinkhelp import make_event, run
from tingbro.sinks import SinkConfigError, TransientSinkError, build_sink

CLIENT_SECRET = "cl13nt-s3cret"


class AuthServer:
    def __init__(self) -> None:
        self.issued = 0
        self.valid_token: str | None = None
        self.upserts: list[str] = []

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        expected = "Basic " + base64.b64encode(f"tingbro:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected or form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "invalid_client", "echo": CLIENT_SECRET}, status=401)
        self.issued += 1
        self.valid_token = f"token-{self.issued}"
        return web.json_response({"access_token": self.valid_token, "token_type": "Bearer", "expires_in": 3600})

    async def upsert(self, request: web.Request) -> web.Response:
        await request.read()
        if request.headers.get("Authorization") != f"Bearer {self.valid_token}":
            return web.Response(status=401)
        self.upserts.append(request.headers["Authorization"])
        return web.Response(status=204)


async def serve(server: AuthServer) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/realms/city/token", server.token)
    app.router.add_post("/ngsi-ld/v1/entityOperations/upsert", server.upsert)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


def oauth_sink(url: str, secret: str) -> Any:
    return build_sink("fiware", "ngsi_ld", {"url": url, "oauth2_token_url": url + "/realms/city/token",
                                            "oauth2_client_id": "tingbro", "oauth2_client_secret": secret})


def test_token_is_fetched_cached_and_renewed_after_401() -> None:
    server = AuthServer()

    async def scenario() -> None:
        runner, url = await serve(server)
        try:
            sink = oauth_sink(url, CLIENT_SECRET)
            await sink.deliver([make_event(1)])
            await sink.deliver([make_event(2)])
            assert (server.issued, server.upserts) == (1, ["Bearer token-1", "Bearer token-1"])
            server.valid_token = None  # revoked by the identity provider
            with pytest.raises(TransientSinkError, match="HTTP 401.*OAuth2 token refused"):
                await sink.deliver([make_event(3)])
            await sink.deliver([make_event(3)])
            assert server.issued == 2 and server.upserts[-1] == "Bearer token-2"
            await sink.close()
        finally:
            await runner.cleanup()

    run(scenario())


def test_wrong_client_secret_is_transient_and_not_leaked() -> None:
    server = AuthServer()

    async def scenario() -> None:
        runner, url = await serve(server)
        try:
            sink = oauth_sink(url, "wrong-secret")
            with pytest.raises(TransientSinkError, match="token endpoint .* HTTP 401") as caught:
                await sink.deliver([make_event(1)])
            assert "wrong-secret" not in str(caught.value) and server.upserts == []
            await sink.close()
        finally:
            await runner.cleanup()

    run(scenario())


def test_oauth2_options_are_checked() -> None:
    with pytest.raises(SinkConfigError, match="need 'oauth2_token_url'"):
        build_sink("f", "ngsi_ld", {"url": "http://127.0.0.1:1", "oauth2_client_id": "x"})
    with pytest.raises(SinkConfigError, match="not both"):
        build_sink("f", "ngsi_ld", {"url": "http://127.0.0.1:1", "token": "t", "oauth2_token_url": "http://127.0.0.1:1/t",
                                    "oauth2_client_id": "x", "oauth2_client_secret": "y"})
