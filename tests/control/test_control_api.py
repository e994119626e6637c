"""The command HTTP API and the event consumer, against the grpcio ChirpStack stand-in (loopback)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from chirpstack_fake import FakeChirpStack
from conftest import free_port
from tingbro.chirpstack import ChirpStackClient
from tingbro.control.command_service import CommandService
from tingbro.control.command_store import CommandStore
from tingbro.control.control_plane import ControlPlane
from tingbro.control.http_api import ControlApi
from tingbro.control.inventory import parse_row
from tingbro.control.provisioner import Provisioner

CS_TOKEN = "cs-token"
API_TOKEN = "api-token-31"


@pytest.fixture
def site(tmp_path: Path):
    codecs = tmp_path / "codecs"
    codecs.mkdir()
    (codecs / "streetlight.js").write_text("function decodeUplink(i) { return {data: {}}; }\n")
    with FakeChirpStack(token=CS_TOKEN) as cs:
        cs.app_id = cs.add_application()
        with ChirpStackClient(cs.target, CS_TOKEN) as client:
            provisioner = Provisioner(client, cs.tenant_id, cs.app_id, codecs)
            for name, group in (("lamp-1", "main-street"), ("lamp-2", "")):
                spec = parse_row({"name": name, "device_type": "streetlight", "lat": "56.1", "lon": "10.2",
                                  "group": group}, "test")
                record, _ = provisioner.provision(spec, None)
                cs.__dict__.setdefault("eui", {})[name] = record["dev_eui"]
            cs.requests.clear()
            store = CommandStore(tmp_path / "commands.sqlite")
            cs.service = CommandService(client, store, cs.app_id, max_attempts=2)
            yield cs
            store.close()


async def _with_api(service: CommandService, calls):
    app = web.Application()
    ControlApi(service, API_TOKEN).add_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        headers = {"Authorization": "Bearer " + API_TOKEN}
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", headers=headers,
                                         timeout=aiohttp.ClientTimeout(total=20)) as http:
            return await calls(http)
    finally:
        await runner.cleanup()


def run_api(service, calls):
    return asyncio.run(_with_api(service, calls))


def test_post_by_name_then_follow_txack_and_ack_to_acked(site):
    async def calls(http):
        async with http.post("/api/commands", json={"device": "lamp-1", "command": "level",
                                                    "fields": {"level_pct": 40}}) as response:
            assert response.status == 202, await response.text()
            command = await response.json()
        async with http.get(f"/api/commands/{command['id']}") as response:
            return command, await response.json()

    command, fetched = run_api(site.service, calls)
    assert command["device_type"] == "streetlight" and fetched["status"] == "queued"
    (request,) = site.calls("DeviceService", "Enqueue")
    assert request.queue_item.dev_eui == site.eui["lamp-1"] and request.queue_item.f_port == 20

    control = ControlPlane(site.service)
    device = {"dev_eui": site.eui["lamp-1"], "device_type": "streetlight"}
    q = command["queue_item_id"]
    out = control.on_events([{"id": "a", "type": "txack", "device": device, "detail": {"queue_item_id": q}}], 1e9)
    assert [(e["type"], e["detail"]["status"]) for e in out] == [("command", "sent")]
    out = control.on_events([{"id": "b", "type": "ack", "device": device,
                              "detail": {"queue_item_id": q, "acknowledged": True}}], 1e9 + 5)
    assert out[0]["detail"]["status"] == "acked" and out[0]["id"] == f"{command['id']}:acked:1"
    assert control.on_events([{"id": "b", "type": "ack", "device": device,
                               "detail": {"queue_item_id": q, "acknowledged": True}}], 1e9 + 6) == []

    async def status(http):
        async with http.get(f"/api/commands/{command['id']}") as response:
            return await response.json()

    assert run_api(site.service, status)["status"] == "acked"


def test_nack_through_the_control_plane_reenqueues(site):
    command = site.service.send(site.eui["lamp-2"], "streetlight", "level", {"level_pct": 10})
    control = ControlPlane(site.service)
    out = control.on_events([{"id": "n", "type": "ack", "device": {},
                              "detail": {"queue_item_id": command["queue_item_id"], "acknowledged": False}}], 1e9)
    assert out[0]["detail"]["status"] == "queued" and out[0]["detail"]["attempts"] == 2
    assert len(site.calls("DeviceService", "Enqueue")) == 2


def test_auth_validation_and_not_found(site):
    async def calls(http):
        results = []
        for headers in ({"Authorization": "Bearer wrong"}, {"Authorization": ""}):
            async with http.post("/api/commands", json={}, headers=headers) as response:
                results.append(response.status)
            async with http.get("/api/commands/x", headers=headers) as response:
                results.append(response.status)
        async with http.post("/api/commands", json={"device": "lamp-1", "device_type": "streetlight",
                                                    "command": "level", "fields": {"level_pct": 101}}) as response:
            results.append((response.status, (await response.json())["error"]))
        async with http.post("/api/commands", json={"device": "lamp-1", "command": "level", "confirmed": "no",
                                                    "fields": {"level_pct": 1}}) as response:
            results.append((response.status, (await response.json())["error"]))
        async with http.post("/api/commands", data=b"not json") as response:
            results.append(response.status)
        async with http.post("/api/commands", json={"device": "nobody", "command": "level",
                                                    "fields": {"level_pct": 1}}) as response:
            results.append(response.status)
        async with http.get("/api/commands/unknown-id") as response:
            results.append(response.status)
        return results

    results = run_api(site.service, calls)
    assert results[:4] == [401, 401, 401, 401]
    assert results[4] == (400, "streetlight set_level: field level_pct: 101 outside 0..100 %")
    assert results[5] == (400, '"confirmed" must be true or false')
    assert results[6:] == [400, 404, 404]
    assert site.calls("DeviceService", "Enqueue") == []


def test_group_command_over_http(site):
    async def calls(http):
        async with http.post("/api/commands", json={"group": "main-street", "device_type": "streetlight",
                                                    "command": "default-level",
                                                    "fields": {"default_level_pct": 70, "failsafe_level_pct": 100,
                                                               "failsafe_after_s": 3600}}) as response:
            return response.status, await response.json()

    status, command = run_api(site.service, calls)
    assert status == 202 and command["multicast_group"] == "main-street"
    (request,) = site.calls("MulticastGroupService", "Enqueue")
    assert request.queue_item.f_port == 21


def test_chirpstack_refusal_is_502_without_the_token(site):
    with ChirpStackClient(site.target, "wrong-" + CS_TOKEN) as bad_client:
        service = CommandService(bad_client, site.service.store, site.app_id)

        async def calls(http):
            async with http.post("/api/commands", json={"dev_eui": site.eui["lamp-1"], "device_type": "streetlight",
                                                        "command": "level", "fields": {"level_pct": 5}}) as response:
                return response.status, await response.text()

        status, text = run_api(service, calls)
    assert status == 502 and "API token" in text and CS_TOKEN not in text
