"""Helpers for the sink tests: normalized events, and a real aiohttp server on 127.0.0.1 that records requests."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from conftest import free_port

BASE_EVENT: dict[str, Any] = {
    "id": "9a1b2c3d-0000-4000-8000-000000000001:up",
    "type": "uplink",
    "time": "2026-11-23T09:00:00.123456+00:00",
    "device": {
        "dev_eui": "0102030405060708",
        "name": "bin-aarhus-0042",
        "device_type": "fill_level",
        "application_id": "app-1",
        "tenant_id": "tenant-1",
        "municipality": "aarhus",
        "location": {"lat": 56.15, "lon": 10.21},
        "tags": {"tingbro_bin_empty_mm": "1200"},
    },
    "radio": {"f_cnt": 12, "f_port": 10, "dr": 5, "rssi_dbm": -80, "snr_db": 7.5, "gateway_count": 2,
              "confirmed": False},
    "message": "status",
    "fields": {"distance_mm": 380, "temperature_c": 21.5, "battery_mv": 3600},
    "derived": {"fill_ratio": 0.72},
    "alarm": None,
    "detail": {},
}


def make_event(index: int = 1, **changes: Any) -> dict[str, Any]:
    """A schema-shaped event; `device=`/`radio=` dicts are merged into the defaults, other keys replace."""
    event = copy.deepcopy(BASE_EVENT)
    event["id"] = f"9a1b2c3d-0000-4000-8000-{index:012d}:up"
    event["radio"]["f_cnt"] = index
    for key, value in changes.items():
        if key in ("device", "radio") and isinstance(value, dict):
            event[key].update(value)
        else:
            event[key] = value
    return event


def lifebuoy_alarm(index: int = 1, active: bool = True) -> dict[str, Any]:
    return make_event(
        index,
        id=f"7e000000-0000-4000-8000-{index:012d}:alarm:lifebuoy_removed",
        type="alarm",
        device={"dev_eui": "70b3d57ed00000b7", "name": "buoy-aarhus-014", "device_type": "lifebuoy",
                "tags": {"tingbro_asset_id": "LB-014"}},
        message="presence",
        fields={"present": not active, "battery_mv": 3300},
        derived={},
        alarm={"name": "lifebuoy_removed", "active": active},
    )


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1. `statuses` are answered in turn (then `default_status`)."""

    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    delay_s: float = 0.0
    response_body: bytes = b""
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(Recorded(request.method, request.path, dict(request.query),
                                      dict(request.headers), body))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        status = self.statuses.pop(0) if self.statuses else self.default_status
        return web.Response(status=status, body=self.response_body if status != 204 else None)

    async def __aenter__(self) -> Receiver:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def run(coro: Any, timeout_s: float = 20) -> Any:
    """Run one async test scenario, bounded in time."""
    return asyncio.run(asyncio.wait_for(coro, timeout_s))
