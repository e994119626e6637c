"""The MQTT ingest's own cost: messages per CPU-second of the transport alone (issue 5, MQTT ingest).

A real mosquitto queues N ChirpStack uplinks for the bridge's persistent session; then `MqttIngest` runs in this
process with a trivial intake (no parsing) and an outbox that "commits" at once, so what is measured is reading,
framing, PUBLISH parsing, batching and the PUBACKs. The end-to-end figure (with parse, decode, SQLite, webhook)
is bench_bridge's `mqtt_throughput`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bridge"), str(ROOT / "codecs")]

from conftest import Mosquitto  # noqa: E402
from tingbro.config import MqttIngestConfig  # noqa: E402
from tingbro.ingest.mqtt import MqttIngest  # noqa: E402
from tingbro.metrics import Metrics  # noqa: E402

from bench.cpus import pin, pinned_here  # noqa: E402

MESSAGES = int(os.environ.get("TINGBRO_BENCH_MQTT_MESSAGES", "30000"))
BENCH_CPU, BROKER_CPU = 0, 1


class TrivialIntake:
    def convert(self, source: str, event_name: str, body: bytes, content_type: str | None,
                received_at: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return [], []


class InstantOutbox:
    """Counts what it is given; the future resolves on the next loop turn, as a commit would, minus the disk."""

    def __init__(self) -> None:
        self.submissions = 0
        self.all_in = asyncio.Event()

    def submit(self, events: list[dict[str, Any]], letters: list[dict[str, Any]] = (),  # type: ignore[assignment]
               received_at: float | None = None) -> asyncio.Future[None]:
        self.submissions += 1
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        loop.call_soon(future.set_result, None)
        return future


class CountingIngest(MqttIngest):
    received = 0

    def on_publishes(self, session: Any, publishes: list[Any]) -> None:
        super().on_publishes(session, publishes)
        self.received += len(publishes)
        if self.received >= MESSAGES:
            self.outbox.all_in.set()  # type: ignore[attr-defined]


async def session_once(port: int, drain: bool) -> tuple[CountingIngest, float, float]:
    settings = MqttIngestConfig(enabled=True, port=port, client_id="transport-bench")
    ingest = CountingIngest(settings, TrivialIntake(), InstantOutbox(), Metrics())  # type: ignore[arg-type]
    task = asyncio.create_task(ingest.run())
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    if not drain:
        await asyncio.wait_for(ingest.subscribed.wait(), 10)
    else:
        await asyncio.wait_for(ingest.outbox.all_in.wait(), 120)  # type: ignore[attr-defined]
    cpu_s, wall_s = time.process_time() - cpu_before, time.perf_counter() - wall_before
    await ingest.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return ingest, cpu_s, wall_s


async def measure(port: int) -> tuple[CountingIngest, float, float]:
    await session_once(port, False)  # the persistent session exists: the broker queues for it from now on
    publisher = subprocess.run([sys.executable, str(ROOT / "bench" / "bridge_loadgen.py"), "mqtt", str(port),
                                str(MESSAGES)], capture_output=True, text=True, timeout=300)
    if publisher.returncode:
        raise RuntimeError(f"publisher failed: {publisher.stderr[-500:]}")
    return await session_once(port, True)


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="tingbro-bench-") as folder:
        broker = Mosquitto(Path(folder))
        broker.start()
        try:
            pin(broker.process.pid, BROKER_CPU)  # type: ignore[union-attr]
            best = None
            with pinned_here(BENCH_CPU):
                for _ in range(3):
                    ingest, cpu_s, wall_s = asyncio.run(measure(broker.port))
                    if best is None or cpu_s < best[1]:
                        best = (ingest, cpu_s, wall_s)
        finally:
            broker.stop()
    ingest, cpu_s, wall_s = best  # type: ignore[misc]
    per_cpu_s = MESSAGES / cpu_s
    return [{"area": "bridge", "name": "MQTT ingest transport alone (trivial intake, instant commit)",
             "value": round(per_cpu_s), "unit": "messages/CPU-s", "target": "", "met": None,
             "note": f"{MESSAGES} queued QoS 1 uplinks, best of 3: {cpu_s:.2f} CPU-s, {MESSAGES / wall_s:,.0f} "
                     f"messages/s wall-clock, {ingest.outbox.submissions} batches "  # type: ignore[attr-defined]
                     f"(mean {MESSAGES / max(1, ingest.outbox.submissions):.0f} messages per read)"}]  # type: ignore[attr-defined]


if __name__ == "__main__":
    for row in run():
        print(row)
