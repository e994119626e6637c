"""The delivery loop: one per sink, reading the outbox in order and driving `Sink.deliver`.

A sink reads events strictly in outbox order and only moves its cursor past a batch once it is delivered
or dead-lettered, so every device's events arrive in order (a failing batch holds back the ones after it).
Transient failures are retried with exponential back-off; a permanent failure is narrowed down to the
events that cause it (each retried alone) and only those are dead-lettered with the sink's reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from tingbro.config import DeliveryConfig
from tingbro.metrics import Metrics
from tingbro.outbox import Outbox
from tingbro.sinks.base import PermanentSinkError, Sink, TransientSinkError

log = logging.getLogger("tingbro.delivery")


class Stopping(Exception):
    """Shutdown was asked for while waiting to retry: leave the batch in the outbox for the next start."""


class SinkWorker:
    def __init__(self, sink: Sink, outbox: Outbox, settings: DeliveryConfig, metrics: Metrics) -> None:
        self.sink = sink
        self.outbox = outbox
        self.settings = settings
        self.metrics = metrics
        self.cursor = 0
        self.stop_requested = asyncio.Event()
        self.wake = outbox.listener()

    @property
    def queue_depth(self) -> int:
        return max(0, self.outbox.last_seq - self.cursor)

    def stop(self) -> None:
        """Finish the delivery in flight, then return from run(); no new batch is started."""
        self.stop_requested.set()
        self.wake.set()

    async def run(self) -> None:
        self.cursor = await self.outbox.cursor_of(self.sink.name)
        while not self.stop_requested.is_set():
            rows = await self.outbox.fetch(self.sink.name, self.cursor, self.sink.max_batch)
            if not rows:
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), self.settings.idle_poll_s)
                except TimeoutError:
                    pass
                continue
            try:
                await self.deliver_rows(rows)
            except Stopping:
                return
            self.cursor = rows[-1][0]
            self.outbox.advance(self.sink.name, self.cursor)

    async def deliver_rows(self, rows: list[tuple[int, float, dict[str, Any]]]) -> None:
        events = [event for _, _, event in rows]
        try:
            await self.deliver_with_retry(events)
        except PermanentSinkError as exc:
            if len(events) == 1:
                await self.dead_letter(events, str(exc))
                return
            delivered = []
            for row in rows:  # find the culprits: one bad event must not take its batch with it
                try:
                    await self.deliver_with_retry([row[2]])
                    delivered.append(row)
                except PermanentSinkError as single_exc:
                    await self.dead_letter([row[2]], str(single_exc))
            rows = delivered
        self.record_delivered(rows)

    def record_delivered(self, rows: list[tuple[int, float, dict[str, Any]]]) -> None:
        now = time.time()
        self.metrics.observe_latencies(self.sink.name, [now - received_at for _, received_at, _ in rows])
        self.metrics.inc("tingbro_sink_events_out_total", len(rows), sink=self.sink.name)

    async def deliver_with_retry(self, events: list[dict[str, Any]]) -> None:
        """Deliver or raise PermanentSinkError (also when `give_up_after_s` ran out); Stopping on shutdown."""
        delay_s = self.settings.retry_initial_s
        first_failure: float | None = None
        while True:
            try:
                await self.sink.deliver(events)
                if first_failure is not None:
                    log.info("sink recovered", extra={"sink": self.sink.name,
                                                      "outage_s": round(time.monotonic() - first_failure, 3)})
                return
            except PermanentSinkError:
                raise
            except (TransientSinkError, Exception) as exc:  # an unexpected error in a sink is retried too
                reason = str(exc) if isinstance(exc, TransientSinkError) else f"{type(exc).__name__}: {exc}"
                now = time.monotonic()
                first_failure = now if first_failure is None else first_failure
                self.metrics.inc("tingbro_sink_events_failed_total", len(events), sink=self.sink.name)
                give_up = self.settings.give_up_after_s
                if give_up and now - first_failure >= give_up:
                    raise PermanentSinkError(f"gave up after {give_up:g} s of failures; last: {reason}") from None
                log.warning("delivery failed, will retry", extra={
                    "sink": self.sink.name, "events": len(events), "reason": reason, "retry_in_s": delay_s})
            if self.stop_requested.is_set():
                raise Stopping
            try:
                await asyncio.wait_for(self.stop_requested.wait(), delay_s)
                raise Stopping
            except TimeoutError:
                pass
            delay_s = min(delay_s * 2, self.settings.retry_max_s)

    async def dead_letter(self, events: list[dict[str, Any]], reason: str) -> None:
        letters = [{"stage": "sink", "sink": self.sink.name, "reason": reason, "event_id": event["id"],
                    "body": json.dumps(event, separators=(",", ":"))} for event in events]
        await self.outbox.accept([], letters)
        self.metrics.inc("tingbro_dead_lettered_total", len(events), stage="sink", sink=self.sink.name)
        log.error("dead-lettered", extra={"sink": self.sink.name, "events": len(events), "reason": reason})
