"""The outbox (group commit, dedup, cursors, pruning) and the delivery loop (retry, dead letters, stop)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

from tingbro.config import DeliveryConfig
from tingbro.delivery import SinkWorker
from tingbro.metrics import Metrics
from tingbro.outbox import Outbox
from tingbro.sinks.base import PermanentSinkError, Sink, TransientSinkError


def event(index: int, dev_eui: str = "0102030405060708") -> dict[str, Any]:
    return {"id": f"dedup-{index}:up", "type": "uplink", "time": "2026-11-23T09:00:00+00:00",
            "device": {"dev_eui": dev_eui}, "radio": {"f_cnt": index}}


class ScriptedSink(Sink):
    """A sink whose answers the test scripts: a list of exceptions (or None) consumed per deliver call."""

    kind = "scripted"

    def __init__(self, name: str, max_batch: int = 10, script: list[Exception | None] | None = None,
                 poison: str | None = None, delay_s: float = 0.0) -> None:
        self.name, self.max_batch = name, max_batch
        self.script = list(script or [])
        self.poison, self.delay_s = poison, delay_s
        self.delivered: list[dict[str, Any]] = []
        self.calls = 0

    async def deliver(self, events: list[dict[str, Any]]) -> None:
        self.calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.script:
            outcome = self.script.pop(0)
            if outcome is not None:
                raise outcome
        if self.poison and any(e["id"] == self.poison for e in events):
            raise PermanentSinkError("HTTP 422 from receiver: bad event")
        self.delivered.extend(events)


FAST = DeliveryConfig(retry_initial_s=0.01, retry_max_s=0.05, give_up_after_s=0, idle_poll_s=0.05)


async def drive(outbox: Outbox, sink: ScriptedSink, settings: DeliveryConfig, until: Any,
                timeout_s: float = 10) -> SinkWorker:
    worker = SinkWorker(sink, outbox, settings, Metrics())
    task = asyncio.create_task(worker.run())
    deadline = time.monotonic() + timeout_s
    while not until() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    worker.stop()
    await asyncio.wait_for(task, 5)
    return worker


def test_accept_is_durable_on_return_and_repeats_are_absorbed(tmp_path: Path) -> None:
    async def scenario() -> None:
        outbox = Outbox(tmp_path / "o.db", "full", commit_interval_ms=5)
        await outbox.open()
        await asyncio.gather(*(outbox.accept([event(i)]) for i in range(50)))
        # Visible to another connection the moment accept() returned: it is committed.
        assert sqlite3.connect(tmp_path / "o.db").execute("SELECT count(*) FROM events").fetchone()[0] == 50
        await outbox.accept([event(3), event(7), event(50)])
        assert (outbox.stored_total, outbox.absorbed_total) == (51, 2)
        await outbox.accept([], [{"stage": "ingest", "reason": "bad", "raw": b"\x00"}])
        await outbox.close()

    asyncio.run(scenario())
    db = sqlite3.connect(tmp_path / "o.db")
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 51
    assert db.execute("SELECT stage, reason, raw FROM dead_letters").fetchall() == [("ingest", "bad", b"\x00")]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_transient_failures_are_retried_in_order_and_cursor_survives_restart(tmp_path: Path) -> None:
    async def scenario() -> None:
        outbox = Outbox(tmp_path / "o.db")
        await outbox.open()
        sink = ScriptedSink("s", max_batch=4, script=[TransientSinkError("503"), TransientSinkError("timeout"),
                                                      RuntimeError("bug in sink")])
        await outbox.cursor_of("s")  # registered before the events arrive
        await outbox.accept([event(i) for i in range(10)])
        worker = await drive(outbox, sink, FAST, lambda: len(sink.delivered) == 10)
        assert [e["radio"]["f_cnt"] for e in sink.delivered] == list(range(10))
        assert sink.calls == 3 + 3  # three failures, then three batches of 4, 4, 2
        assert worker.metrics.value("tingbro_sink_events_failed_total", sink="s") == 12
        await outbox.close()
        again = Outbox(tmp_path / "o.db")
        await again.open()
        assert await again.cursor_of("s") == 10  # nothing delivered twice after a clean restart
        await again.close()

    asyncio.run(scenario())


def test_permanent_failure_dead_letters_only_the_culprit(tmp_path: Path) -> None:
    async def scenario() -> None:
        outbox = Outbox(tmp_path / "o.db")
        await outbox.open()
        await outbox.cursor_of("s")
        sink = ScriptedSink("s", max_batch=5, poison="dedup-2:up")
        await outbox.accept([event(i) for i in range(5)])
        worker = await drive(outbox, sink, FAST, lambda: len(sink.delivered) == 4)
        assert [e["id"] for e in sink.delivered] == ["dedup-0:up", "dedup-1:up", "dedup-3:up", "dedup-4:up"]
        assert worker.metrics.value("tingbro_sink_events_out_total", sink="s") == 4
        assert worker.metrics.value("tingbro_dead_lettered_total", stage="sink", sink="s") == 1
        await outbox.close()

    asyncio.run(scenario())
    rows = sqlite3.connect(tmp_path / "o.db").execute("SELECT stage, sink, event_id, reason FROM dead_letters").fetchall()
    assert rows == [("sink", "s", "dedup-2:up", "HTTP 422 from receiver: bad event")]


def test_give_up_after_dead_letters_with_the_last_reason(tmp_path: Path) -> None:
    async def scenario() -> None:
        outbox = Outbox(tmp_path / "o.db")
        await outbox.open()
        await outbox.cursor_of("s")
        sink = ScriptedSink("s", script=[TransientSinkError("HTTP 503 from http://x")] * 1000)
        await outbox.accept([event(1)])
        settings = DeliveryConfig(retry_initial_s=0.01, retry_max_s=0.02, give_up_after_s=0.2, idle_poll_s=0.05)
        worker = await drive(outbox, sink, settings, lambda: worker_cursor(outbox) >= 1)
        assert worker.cursor == 1 and not sink.delivered
        await outbox.close()

    def worker_cursor(outbox: Outbox) -> int:
        return sqlite3.connect(tmp_path / "o.db").execute("SELECT count(*) FROM dead_letters").fetchone()[0]

    asyncio.run(scenario())
    [(reason,)] = sqlite3.connect(tmp_path / "o.db").execute("SELECT reason FROM dead_letters").fetchall()
    assert reason.startswith("gave up after 0.2 s") and "HTTP 503" in reason


def test_stop_finishes_the_delivery_in_flight(tmp_path: Path) -> None:
    async def scenario() -> None:
        outbox = Outbox(tmp_path / "o.db")
        await outbox.open()
        await outbox.cursor_of("s")
        sink = ScriptedSink("s", max_batch=3, delay_s=0.3)
        await outbox.accept([event(i) for i in range(9)])
        worker = SinkWorker(sink, outbox, FAST, Metrics())
        task = asyncio.create_task(worker.run())
        await asyncio.sleep(0.1)  # the first batch is in flight
        worker.stop()
        await asyncio.wait_for(task, 5)
        assert len(sink.delivered) == 3 and worker.cursor == 3
        await outbox.close()
        again = Outbox(tmp_path / "o.db")
        await again.open()
        assert await again.cursor_of("s") == 3  # the rest waits in the outbox for the next start
        await again.close()

    asyncio.run(scenario())


def test_prune_keeps_undelivered_and_recent_events(tmp_path: Path) -> None:
    async def scenario() -> None:
        outbox = Outbox(tmp_path / "o.db")
        await outbox.open()
        await outbox.cursor_of("a")
        await outbox.cursor_of("b")
        await outbox.accept([event(i) for i in range(6)], received_at=time.time() - 3600)
        outbox.advance("a", 6)
        outbox.advance("b", 2)
        await outbox.accept([])
        assert await outbox.prune(["a", "b"], retention_s=60) == 2
        assert await outbox.prune(["a", "b"], retention_s=7200) == 0
        assert outbox.store is not None
        assert [row[0] for row in outbox.store.fetch("b", 0, 100)] == [3, 4, 5, 6]  # in the file
        await outbox.close()

    asyncio.run(scenario())
