"""The HTTP ingest transport alone: requests per CPU-second of the server, lean front vs. aiohttp route.

The server runs in this process (pinned to core 0) with the real HttpFront / aiohttp app and the real
IngestRules, the load generator (bench/bridge_loadgen.py, keep-alive connections) in another process on
core 1. Three set-ups:
- stub: Intake and Outbox replaced by trivial stand-ins (an already committed future): the transport's
  own cost per request, which is what the front changes;
- the same through aiohttp only (`fast_path = false`), for comparison;
- real: the real Intake (parse + decode) and the real Outbox (SQLite, synchronous = normal), no sink.
Figures are CPU time of this process (time.process_time), so the load generator's share is not counted.

  .venv/bin/python bench/bench_http_front.py
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bridge"), str(ROOT / "codecs")]

from aiohttp import web  # noqa: E402
from tingbro.codec import tingcodec_decode  # noqa: E402
from tingbro.config import DecodeConfig, HttpIngestConfig  # noqa: E402
from tingbro.ingest.http import HttpIngest  # noqa: E402
from tingbro.ingest.http_front import HttpFront  # noqa: E402
from tingbro.ingest.http_rules import IngestRules  # noqa: E402
from tingbro.ingest.intake import Intake  # noqa: E402
from tingbro.metrics import Metrics  # noqa: E402
from tingbro.outbox import Outbox  # noqa: E402

from bench.cpus import pin, pinned_here  # noqa: E402

TOKEN = "Bearer bench-front-token"
REQUESTS = int(os.environ.get("TINGBRO_BENCH_FRONT_REQUESTS", "20000"))
CONNECTIONS = 64
SERVER_CPU, LOAD_CPU = 0, 1


class StubIntake:
    def convert(self, source: str, event_name: str, body: bytes, content_type: str | None,
                received_at: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return [{"id": "x"}], []


class StubOutbox:
    def submit(self, events: list[dict[str, Any]], letters: list[dict[str, Any]] = ()) -> asyncio.Future[None]:  # type: ignore[assignment]
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


async def serve_and_load(rules: IngestRules, fast_path: bool) -> tuple[float, float, dict[str, int]]:
    """(requests per CPU-second of this process, requests per wall second, statuses)."""
    app = web.Application()
    HttpIngest(rules).add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    front = None
    if fast_path:
        assert runner.server is not None
        front = HttpFront(rules, 10.0, runner.server)
        port = await front.start("127.0.0.1", 0)
    else:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "bridge_loadgen.py"), "http", str(port), TOKEN, str(REQUESTS),
        str(CONNECTIONS), "1", "0", stdout=subprocess.PIPE)
    pin(process.pid, LOAD_CPU)
    cpu_before = time.process_time()
    out, _ = await process.communicate()
    cpu_s = time.process_time() - cpu_before
    result = json.loads(out.decode().strip().splitlines()[-1])
    if front is not None:
        await front.stop(5)
    await runner.cleanup()
    wall_s = result["finished"] - result["started"]
    return REQUESTS / cpu_s, REQUESTS / wall_s, result["statuses"]


async def measure(kind: str, fast_path: bool, folder: Path) -> tuple[float, float, dict[str, int]]:
    settings = HttpIngestConfig(token=TOKEN, max_body_bytes=65536)
    metrics = Metrics()
    if kind == "stub":
        return await serve_and_load(IngestRules(settings, StubIntake(), StubOutbox(), metrics),  # type: ignore[arg-type]
                                    fast_path)
    outbox = Outbox(folder / "outbox.sqlite3", "normal")
    await outbox.open()
    try:
        intake = Intake(tingcodec_decode, DecodeConfig(fallback_device_type="fill_level"), metrics)
        return await serve_and_load(IngestRules(settings, intake, outbox, metrics), fast_path)
    finally:
        await outbox.close()


def row(name: str, figures: tuple[float, float, dict[str, int]], note: str) -> dict:
    per_cpu_s, per_wall_s, statuses = figures
    return {"area": "bridge", "name": name, "value": round(per_cpu_s), "unit": "requests/CPU-s", "target": "",
            "met": None, "note": f"{note}; wall {per_wall_s:,.0f}/s over {CONNECTIONS} keep-alive connections; "
                                 f"statuses {statuses}"}


def best(kind: str, fast_path: bool, event_loop: str = "asyncio", runs: int = 2) -> tuple[float, float, dict[str, int]]:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="tingbro-front-") as folder:
            if event_loop == "uvloop":
                import uvloop

                results.append(uvloop.run(measure(kind, fast_path, Path(folder))))
            else:
                results.append(asyncio.run(measure(kind, fast_path, Path(folder))))
    return max(results, key=lambda figures: figures[0])


def run() -> list[dict]:
    with pinned_here(SERVER_CPU):
        rows = []
        for event_loop in ("asyncio", "uvloop") if importlib.util.find_spec("uvloop") else ("asyncio",):
            rows += [row(f"HTTP ingest transport, lean front, {event_loop} (stub intake/outbox)",
                         best("stub", True, event_loop), "the transport's own cost per request"),
                     row(f"HTTP ingest transport, aiohttp route, {event_loop} (stub intake/outbox)",
                         best("stub", False, event_loop), "the same requests with fast_path = false"),
                     row(f"HTTP ingest, lean front, {event_loop} + real intake and outbox (no sink)",
                         best("real", True, event_loop),
                         "parse, decode, SQLite group commit; see bench_bridge for the whole path")]
        return rows


if __name__ == "__main__":
    for figure in run():
        print(figure)
