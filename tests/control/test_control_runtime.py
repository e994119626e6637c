"""The control plane inside the bridge: the real Outbox, the command API, the outbox consumer and the
watchdog timer, against the grpcio ChirpStack stand-in. Everything on loopback, bounded in time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from chirpstack_fake import FakeChirpStack
from conftest import free_port
from tingbro.chirpstack import ChirpStackClient
from tingbro.config import ConfigError
from tingbro.control.inventory import parse_row
from tingbro.control.provisioner import Provisioner
from tingbro.control.runtime import ControlRuntime, parse_row_body
from tingbro.control.settings import parse_control
from tingbro.outbox import Outbox

CS_TOKEN = "cs-token-rt"
API_TOKEN = "api-token-rt"
T0 = 1_795_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def device_block(dev_eui: str, device_type: str) -> dict:
    return {"dev_eui": dev_eui, "name": None, "device_type": device_type, "application_id": None,
            "tenant_id": None, "municipality": None, "location": None, "tags": {}}


def bridge_event(event_id: str, kind: str, device: dict, time_s: float, **detail) -> dict:
    from tingbro.control.events import make_event

    return make_event(event_id, kind, time_s, device, detail=detail)


async def wait_for(predicate, timeout_s: float = 10.0):
    for _ in range(int(timeout_s / 0.05)):
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def all_events(outbox: Outbox) -> list[dict]:
    return [parse_row_body(body) for _, _, body in await outbox.fetch("test-reader", 0, 10_000)]


@pytest.fixture
def cs(tmp_path: Path):
    (tmp_path / "codecs").mkdir()
    for device_type in ("lifebuoy", "streetlight"):
        (tmp_path / "codecs" / f"{device_type}.js").write_text("function decodeUplink(i) { return {data: {}}; }\n")
    with FakeChirpStack(token=CS_TOKEN) as fake:
        fake.app_id = fake.add_application()
        fake.eui = {}
        with ChirpStackClient(fake.target, CS_TOKEN) as client:
            provisioner = Provisioner(client, fake.tenant_id, fake.app_id, tmp_path / "codecs")
            for name, kind in (("lamp-1", "streetlight"), ("lamp-2", "streetlight"), ("buoy-1", "lifebuoy")):
                spec = parse_row({"name": name, "device_type": kind, "lat": "56.1", "lon": "10.2"}, "t")
                fake.eui[name] = provisioner.provision(spec, None)[0]["dev_eui"]
        fake.requests.clear()
        yield fake


def settings_for(cs: FakeChirpStack, tmp_path: Path, monkeypatch) -> object:
    monkeypatch.setenv("RT_CS_TOKEN", CS_TOKEN)
    monkeypatch.setenv("RT_API_TOKEN", API_TOKEN)
    secrets: list[str] = []
    settings = parse_control({"enabled": True, "chirpstack": cs.target, "chirpstack_token_env": "RT_CS_TOKEN",
                              "api_token_env": "RT_API_TOKEN", "application_id": cs.app_id,
                              "commands_db": "commands.sqlite3", "watchdog_interval_s": 0.05,
                              "max_attempts": 2}, secrets, tmp_path)
    assert CS_TOKEN in secrets and API_TOKEN in secrets  # the bridge's log filter masks them
    assert CS_TOKEN not in repr(settings)
    return settings


def test_command_api_statuses_and_watchdog_through_the_outbox(cs, tmp_path, monkeypatch):
    settings = settings_for(cs, tmp_path, monkeypatch)
    clock = Clock()

    async def scenario():
        outbox = Outbox(tmp_path / "outbox.sqlite3")
        await outbox.open()
        runtime = ControlRuntime(settings, outbox, clock)
        app = web.Application()
        runtime.add_routes(app)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await runtime.start()
        try:
            await asyncio.wait_for(runtime.seeded.wait(), 10)
            assert len(runtime.plane.watchdog.devices) == 3  # seeded from ChirpStack
            headers = {"Authorization": "Bearer " + API_TOKEN}
            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", headers=headers,
                                             timeout=aiohttp.ClientTimeout(total=20)) as http:
                async with http.post("/api/commands", json={"device": "lamp-1", "command": "level",
                                                            "fields": {"level_pct": 60}}) as response:
                    assert response.status == 202, await response.text()
                    command = await response.json()
                lamp = device_block(cs.eui["lamp-1"], "streetlight")
                q = command["queue_item_id"]
                # what the bridge's ingest would store for ChirpStack's txack and ack events
                await outbox.accept([bridge_event(f"{q}:txack:d1", "txack", lamp, T0 + 1, queue_item_id=q),
                                     bridge_event(f"{q}:ack", "ack", lamp, T0 + 2, queue_item_id=q,
                                                  acknowledged=False)])

                async def second_attempt():
                    async with http.get(f"/api/commands/{command['id']}") as response:
                        body = await response.json()
                    return body if body["attempts"] == 2 else None

                retried = await wait_for(second_attempt)
                assert retried["status"] == "queued" and retried["queue_item_id"] != q
                assert len(cs.calls("DeviceService", "Enqueue")) == 2
                q2 = retried["queue_item_id"]
                await outbox.accept([bridge_event(f"{q2}:ack", "ack", lamp, T0 + 3, queue_item_id=q2,
                                                  acknowledged=True)])

                async def acked():
                    async with http.get(f"/api/commands/{command['id']}") as response:
                        return (await response.json())["status"] == "acked"

                await wait_for(acked)

            async def command_events():
                found = [e for e in await all_events(outbox) if e["type"] == "command"]
                return found if len(found) == 3 else None

            statuses = [e["detail"]["status"] for e in await wait_for(command_events)]
            assert statuses == ["sent", "queued", "acked"]

            # the watchdog: lamp-1 is heard at T0 + 10, the others were never heard (seeded at T0)
            clock.now = T0 + 10
            await outbox.accept([bridge_event("u1:up", "uplink", lamp, T0 + 10)])
            clock.now = T0 + 2.5 * 900 + 5  # past the streetlights' 2.5 intervals, not lamp-1's

            async def offline():
                found = [e for e in await all_events(outbox) if e["type"] == "device_offline"]
                return found or None

            found = await wait_for(offline)
            assert [e["device"]["dev_eui"] for e in found] == [cs.eui["lamp-2"]]
            assert found[0]["device"]["location"] == {"lat": 56.1, "lon": 10.2}
        finally:
            await runtime.stop()
            await runner.cleanup()
            await outbox.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def unreachable_chirpstack_settings(tmp_path: Path, monkeypatch) -> object:
    """Settings for a ChirpStack nobody listens for (a free loopback port)."""
    monkeypatch.setenv("RT_CS_TOKEN", CS_TOKEN)
    monkeypatch.setenv("RT_API_TOKEN", API_TOKEN)
    return parse_control({"enabled": True, "chirpstack": f"127.0.0.1:{free_port()}",
                          "chirpstack_token_env": "RT_CS_TOKEN", "api_token_env": "RT_API_TOKEN",
                          "application_id": "b586ec0e-4003-4859-a395-1caefa9c81b0", "timeout_s": 1},
                         [], tmp_path)


async def new_runtime(settings, tmp_path: Path) -> tuple[ControlRuntime, Outbox]:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    await outbox.open()
    runtime = ControlRuntime(settings, outbox)
    runtime.client.max_attempts = 1
    return runtime, outbox


def test_runtime_starts_when_chirpstack_is_down(tmp_path, monkeypatch):
    settings = unreachable_chirpstack_settings(tmp_path, monkeypatch)

    async def scenario():
        runtime, outbox = await new_runtime(settings, tmp_path)
        await runtime.start()
        await asyncio.wait_for(runtime.seeded.wait(), 10)
        assert runtime.plane.watchdog.devices == {}
        await runtime.stop()
        await outbox.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


@pytest.mark.parametrize(("table", "message"), [
    ({"enabled": True, "api_token_env": "RT_API_TOKEN", "application_id": "a"}, "chirpstack_token_env"),
    ({"enabled": True, "chirpstack_token_env": "RT_CS_TOKEN", "application_id": "a"}, "api_token_env"),
    ({"enabled": True, "chirpstack_token_env": "RT_CS_TOKEN", "api_token_env": "RT_API_TOKEN"}, "application_id"),
    ({"enabled": True, "chirpstack_token_env": "NOT_SET_ANYWHERE", "api_token_env": "RT_API_TOKEN",
      "application_id": "a"}, "NOT_SET_ANYWHERE"),
    ({"enabled": True, "chirpstack_token_env": "RT_CS_TOKEN", "api_token_env": "RT_API_TOKEN",
      "application_id": "a", "max_attempt": 3}, "unknown keys: max_attempt"),
])
def test_control_table_errors(tmp_path, monkeypatch, table, message):
    monkeypatch.setenv("RT_CS_TOKEN", CS_TOKEN)
    monkeypatch.setenv("RT_API_TOKEN", API_TOKEN)
    with pytest.raises(ConfigError, match=message):
        parse_control(table, [], tmp_path)


def test_control_table_absent_or_disabled():
    assert parse_control({}, [], Path(".")) is None
    assert parse_control({"enabled": False, "chirpstack": "x"}, [], Path(".")) is None


def test_a_batch_the_control_plane_cannot_process_is_skipped_after_retries(tmp_path, monkeypatch):
    import tingbro.control.runtime as runtime_module

    monkeypatch.setattr(runtime_module, "RETRY_S", 0.01)
    settings = unreachable_chirpstack_settings(tmp_path, monkeypatch)

    async def scenario():
        runtime, outbox = await new_runtime(settings, tmp_path)
        calls = []

        def broken(events):
            calls.append(len(events))
            raise ValueError("poison")

        runtime._feed = broken
        await runtime.start()
        lamp = device_block("00000000000000aa", "streetlight")
        await outbox.accept([bridge_event("p:up", "uplink", lamp, T0)])
        await wait_for(lambda: asyncio.sleep(0, runtime.cursor > 0))
        assert len(calls) == runtime_module.MAX_BATCH_FAILURES
        runtime._feed = lambda events: []
        await outbox.accept([bridge_event("q:up", "uplink", lamp, T0)])
        last = outbox.last_seq
        await wait_for(lambda: asyncio.sleep(0, runtime.cursor == last))  # the consumer goes on
        await runtime.stop()
        await outbox.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))
