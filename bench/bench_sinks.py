"""Events per second each sink delivers into a local receiver on 127.0.0.1.

HTTP receivers run in the same process and event loop as the sink (so the figure includes the receiver's
cost: it is a floor, not a ceiling); MQTT goes to a real mosquitto; SQL to a SQLite file and, when the
Debian package is installed, a throw-away PostgreSQL cluster. The issue's pipeline target (>= 10,000
uplinks/s through the webhook sink) needs the sink itself to be well above that.
"""

from __future__ import annotations

import asyncio
import copy
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "sinks"))

from conftest import Mosquitto, free_port  # noqa: E402
from sinkhelp import BASE_EVENT  # noqa: E402
from tingbro.sinks import Sink, build_sink  # noqa: E402

WEBHOOK_TARGET = 10_000


def events(count: int) -> list[dict[str, Any]]:
    result = []
    for index in range(count):
        event = copy.deepcopy(BASE_EVENT)
        event["id"] = f"bench-{index:08d}:up"
        event["device"]["dev_eui"] = f"{index % 100:016x}"
        event["radio"]["f_cnt"] = index
        result.append(event)
    return result


async def http_receiver(status: int) -> tuple[web.AppRunner, str]:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=status)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("POST", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def measure(sink: Sink, batch: list[dict[str, Any]]) -> float:
    await sink.start()
    try:
        await sink.deliver(batch[: sink.max_batch])  # warm-up: connections, tables
        started = time.perf_counter()
        for offset in range(0, len(batch), sink.max_batch):
            await sink.deliver(batch[offset: offset + sink.max_batch])
        return len(batch) / (time.perf_counter() - started)
    finally:
        await sink.close()


def row(name: str, rate: float, target: int | None = None, note: str = "") -> dict[str, Any]:
    return {"area": "sinks", "name": name, "value": round(rate), "unit": "events/s",
            "target": f">= {target:,}" if target else "", "met": (rate >= target) if target else None,
            "note": note}


async def http_rows() -> list[dict[str, Any]]:
    rows = []
    runner, url = await http_receiver(200)
    try:
        rate = await measure(build_sink("bench", "webhook", {"url": url, "hmac_secret": "k", "token": "t"}),
                             events(20_000))
        rows.append(row("webhook, batches of 100, HMAC-signed", rate, WEBHOOK_TARGET))
        rate = await measure(build_sink("bench", "ngsi_ld", {"url": url}), events(10_000))
        rows.append(row("ngsi_ld upsert, batches of 100 (100 devices)", rate))
        keys = {f"{index:016x}": f"key-{index}" for index in range(100)}
        rate = await measure(build_sink("bench", "os2iot", {"url": url, "api_keys": keys}), events(2_000))
        rows.append(row("os2iot, one request per event", rate))
    finally:
        await runner.cleanup()
    return rows


async def mqtt_row(workdir: Path) -> dict[str, Any]:
    broker = Mosquitto(workdir, persistence=False)
    broker.start()
    try:
        rate = await measure(build_sink("bench", "mqtt", {"host": broker.host, "port": broker.port}),
                             events(20_000))
    finally:
        broker.stop()
    return row("mqtt QoS 1, batches of 200", rate)


async def sql_rows(workdir: Path) -> list[dict[str, Any]]:
    rows = [row("sql SQLite, batches of 500",
                await measure(build_sink("bench", "sql", {"path": str(workdir / "events.sqlite3")}),
                              events(50_000)))]
    try:
        from pgserver import postgres_server

        with postgres_server() as dsn:
            rate = await measure(build_sink("bench", "sql", {"dsn": dsn}), events(20_000))
            rows.append(row("sql PostgreSQL, batches of 500", rate, note="fsync off"))
    except BaseException as exc:  # noqa: BLE001 - pytest.skip when the server binaries are missing
        if type(exc).__name__ != "Skipped":
            raise
        rows.append({"area": "sinks", "name": "sql PostgreSQL", "value": "skipped", "unit": "",
                     "target": "", "met": None, "note": "PostgreSQL server binaries not installed"})
    return rows


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="tingbro-bench-sinks-") as tmp:
        workdir = Path(tmp)
        rows = asyncio.run(http_rows())
        rows.append(asyncio.run(mqtt_row(workdir)))
        rows.extend(asyncio.run(sql_rows(workdir)))
    return rows


if __name__ == "__main__":
    for item in run():
        print(item)
