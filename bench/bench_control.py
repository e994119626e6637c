"""Control plane figures: provisioning 200 devices, command validation, enqueue latency, watchdog scan.

ChirpStack is the grpcio stand-in from tests/control on loopback, so the numbers measure our side
(protobuf, gRPC round trips, files) and not a real ChirpStack's database.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "control"))

DEVICES = 200


def _row(area_name: str, value: float, unit: str, target: str | None = None, met: bool | None = None,
         note: str = "") -> dict:
    return {"area": "control", "name": area_name, "value": value, "unit": unit, "target": target, "met": met,
            "note": note}


def run() -> list[dict]:
    from chirpstack_fake import FakeChirpStack
    from tingbro.chirpstack import ChirpStackClient
    from tingbro.cli import main
    from tingbro.control.command_service import CommandService
    from tingbro.control.command_store import CommandStore
    from tingbro.control.commands import build_command
    from tingbro.control.health import Watchdog

    rows = []
    with tempfile.TemporaryDirectory() as tmp, FakeChirpStack(token="bench") as cs:
        work = Path(tmp)
        app_id = cs.add_application()
        (work / "codecs").mkdir()
        for device_type in ("fill_level", "lifebuoy", "streetlight"):
            (work / "codecs" / f"{device_type}.js").write_text("function decodeUplink(i){return {data:{}};}\n")
        lines = ["name,device_type,lat,lon,municipality,bin_height_mm,group"]
        for n in range(DEVICES):
            kind = ("fill_level", "lifebuoy", "streetlight")[n % 3]
            lines.append(f"dev-{n:04d},{kind},56.{n:04d},10.{n:04d},aarhus,"
                         f"{1100 if kind == 'fill_level' else ''},{'street-1' if kind == 'streetlight' else ''}")
        (work / "inv.csv").write_text("\n".join(lines) + "\n")
        argv = ["provision", "--server", cs.target, "--tenant-id", cs.tenant_id, "--application-id", app_id,
                "--csv", str(work / "inv.csv"), "--devices", str(work / "devices.jsonl"),
                "--configs-dir", str(work / "cfg"), "--labels-dir", str(work / "labels"),
                "--codecs-dir", str(work / "codecs")]
        os.environ["CHIRPSTACK_API_TOKEN"] = "bench"
        for label in ("first run", "re-run"):
            started = time.perf_counter()
            with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                status = main(argv)
            elapsed = time.perf_counter() - started
            rows.append(_row(f"provision {DEVICES} devices ({label})", elapsed, "s", note=f"exit {status}; "
                             f"{DEVICES / elapsed:.0f} devices/s incl. configs, labels, device list"))

        with ChirpStackClient(cs.target, "bench") as client:
            store = CommandStore(work / "c.sqlite")
            service = CommandService(client, store, app_id)
            dev_eui = next(iter(cs.devices))
            latencies = []
            for _ in range(50):
                started = time.perf_counter()
                service.send(dev_eui, "streetlight", "level", {"level_pct": 40})
                latencies.append((time.perf_counter() - started) * 1000)
            store.close()
        rows.append(_row("send: validate + Enqueue + 2 SQLite writes, median", statistics.median(latencies), "ms"))

    count = 2000
    started = time.perf_counter()
    for _ in range(count):
        build_command("streetlight", "schedule", {"points": [
            {"level_pct": 30, "time_min": -30, "anchor": "sunset", "days_mask": 127},
            {"level_pct": 0, "time_min": 10, "anchor": "sunrise", "days_mask": 127}]})
    rows.append(_row("command validation + encode (2-point schedule)", count / (time.perf_counter() - started),
                     "per s"))

    dog = Watchdog()
    for n in range(10_000):
        dog.observe({"id": f"d{n}:up", "type": "uplink", "fields": {},
                     "device": {"dev_eui": f"{n:016x}", "device_type": "fill_level", "tags": {}}}, 0.0)
    started = time.perf_counter()
    dog.check(1000.0)
    rows.append(_row("watchdog scan of 10,000 devices", (time.perf_counter() - started) * 1000, "ms"))
    return rows
