"""CPU time per event of the bridge's shared path, in-process: Intake.convert, Store.commit_batch (the real
SQLite file, synchronous=FULL, 500 events per transaction) and the webhook body encoding.

    .venv/bin/python bench/bench_bridgecore.py [events]      (or: make bench bridgecore)

One event = ChirpStack's uplink JSON as bench/bridge_loadgen.py sends it (a device of its own, a random
deduplicationId).
Figures are CPU seconds of this process (`time.process_time`), best of five runs, in microseconds per event.
Issue 5's budget is 100 us per uplink for the whole process; this path aims at <= 40 us of it.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "bridge"), str(ROOT / "codecs"), str(ROOT / "bridge"), str(ROOT / "bench")]

import bridge_loadgen  # noqa: E402
from tingbro.codec import tingcodec_decode  # noqa: E402
from tingbro.config import DecodeConfig  # noqa: E402
from tingbro.ingest.intake import Intake  # noqa: E402
from tingbro.metrics import Metrics  # noqa: E402
from tingbro.sinks.webhook import encode_batch  # noqa: E402
from tingbro.store import Store  # noqa: E402

BATCH = 500
RUNS = 5


def bodies(count: int) -> list[bytes]:
    """The load generator's bodies: a device of its own and a random deduplicationId per uplink."""
    return [json.dumps(event, separators=(",", ":")).encode() for event in bridge_loadgen.bodies(count)]


def best_us(work: Callable[[int], None], count: int) -> float:
    """Best of RUNS: CPU microseconds per event; `work(run)` processes `count` events."""
    results = []
    for run in range(RUNS):
        started = time.process_time()
        work(run)
        results.append((time.process_time() - started) / count * 1e6)
    return min(results)


def measure(count: int = 5000) -> dict[str, float]:
    sample = bodies(count)
    intake = Intake(tingcodec_decode, DecodeConfig(), Metrics())
    events: list[dict] = []

    def convert(_run: int) -> None:
        events.clear()
        for body in sample:
            converted, _ = intake.convert("http", "up", body, "application/json", time.time())
            events.extend(converted)

    figures = {"convert": best_us(convert, count)}
    with tempfile.TemporaryDirectory() as folder:
        stores = [Store(Path(folder) / f"outbox{run}.sqlite3", "full") for run in range(RUNS)]

        committed: list[dict] = []  # as the outbox hands them to the sinks: carrying their stored JSON

        def commit(run: int) -> None:  # a fresh file per run: every event is new
            now = time.time()
            committed.clear()
            for start in range(0, count, BATCH):
                stored = stores[run].commit_batch([(now, event) for event in events[start:start + BATCH]], [], {})
                committed.extend(event for _, _, event in stored)

        figures["commit"] = best_us(commit, count)
        for store in stores:
            store.close()

    def encode(_run: int) -> None:
        for start in range(0, count, 100):  # the webhook sink's default batch
            encode_batch(committed[start:start + 100])

    figures["webhook encode"] = best_us(encode, count)
    figures["total"] = sum(figures.values())
    return figures


def run() -> list[dict]:
    figures = measure()
    notes = {"convert": "Intake.convert: parse, check, decode, normalize (ChirpStack uplink JSON, 1,239 B)",
             "commit": "Store.commit_batch, 500 events per transaction, synchronous=FULL",
             "webhook encode": "webhook body (batches of 100) from the committed events' stored JSON",
             "total": "the three together; aimed at <= 40 us of issue 5's whole budget of 100 us per uplink "
                      "at 10,000/s on one core"}
    return [{"area": "bridge", "name": f"CPU per uplink: {name}", "value": round(value, 1), "unit": "us",
             "target": "", "met": None,  # an internal budget (<= 40 us aimed at), not one of the targets
             "note": notes[name] + "; best of 5, time.process_time"} for name, value in figures.items()]


if __name__ == "__main__":
    for name, value in measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5000).items():
        print(f"{name:>15}: {value:6.1f} us/event (CPU)")
