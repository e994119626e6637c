"""The durable outbox: group commits to SQLite (WAL) on one worker thread, for an asyncio service.

`await outbox.accept(events)` returns only after the events are committed: an ingest acknowledges
ChirpStack (HTTP 2xx, MQTT PUBACK) after that, so an acknowledged event survives kill -9. Many callers'
events share one transaction (group commit): the first waiter opens a short window
(`commit_interval_ms`) and everything that arrives meanwhile is committed together.
Cursor moves are cheap and ride along with the next commit: losing one to a crash means a batch is
delivered twice, which sinks absorb by the event id.
Events this process committed are also kept in memory for a while (`recent`), so the delivery loops
usually do not read them back from the file. The delivery loops get `strictjson.Dumped` dicts, from memory
or from the file alike: each carries the JSON it was stored as, which the sinks send without encoding it
again. Sinks share those dicts and must not change them.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec

from tingbro.recent import RecentRows
from tingbro.store import Store
from tingbro.strictjson import Dumped, dumped

_DECODE = msgspec.json.Decoder().decode

# In-memory copies for the delivery loops (1 s at 10,000/s); older ones are read from SQLite. Every event kept
# here is scanned by each full garbage collection, so more would lengthen those pauses (the latency tail).
RECENT_EVENTS = 10_000
CURSOR_FLUSH_S = 0.5    # cursor moves wait this long for an event commit to ride along with (one fsync, not two)


def load_event(body: str | bytes) -> dict[str, Any]:
    """A stored event body back as a dict: msgspec (~3x faster), json.loads for what msgspec cannot hold."""
    try:
        return _DECODE(body)  # type: ignore[no-any-return]
    except (msgspec.DecodeError, ValueError):
        return json.loads(body)  # type: ignore[no-any-return]


class Outbox:
    def __init__(self, path: Path, synchronous: str = "full", commit_interval_ms: float = 2.0,
                 commit_max_events: int = 5000) -> None:
        self.path = path
        self.synchronous = synchronous
        self.commit_interval_s = commit_interval_ms / 1000.0
        self.commit_max_events = commit_max_events
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self.store: Store | None = None
        self.last_seq = 0
        self.stored_total = 0
        self.absorbed_total = 0
        self.recent = RecentRows(RECENT_EVENTS)
        self._listeners: list[asyncio.Event] = []   # one per delivery loop: set after commits that stored events
        self._events: list[tuple[float, dict[str, Any]]] = []
        self._letters: list[dict[str, Any]] = []
        self._cursors: dict[str, int] = {}
        self._batch: asyncio.Future[None] | None = None  # resolves when what is staged now is on disk
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._cursor_timer: asyncio.TimerHandle | None = None
        self._closing = False
        # The write loop stages a transaction on the event loop and commits it on the worker thread; the
        # other users of the one connection (fetch, cursor_of, prune) wait for the lock meanwhile.
        self._db_lock = asyncio.Lock()
        self._delivered: dict[str, int] = {}  # per delivery loop: the highest seq it is past

    async def run_blocking(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def open(self) -> None:
        self.store = await self.run_blocking(Store, self.path, self.synchronous)
        self.last_seq = await self.run_blocking(self.store.last_seq)
        self._writer = asyncio.create_task(self._write_loop(), name="outbox-writer")

    async def close(self) -> None:
        """Commit whatever is pending (cursor moves included), then close the file."""
        self._closing = True
        if self._cursor_timer is not None:
            self._cursor_timer.cancel()
        self._wakeup.set()
        if self._writer is not None:
            await self._writer
        if self.store is not None:
            await self.run_blocking(self.store.close)
        self.executor.shutdown(wait=True)

    async def accept(self, events: list[dict[str, Any]], letters: list[dict[str, Any]] = (),  # type: ignore[assignment]
                     received_at: float | None = None) -> None:
        """Commit events and/or dead letters durably; returns when they are on disk."""
        await asyncio.shield(self.submit(events, letters, received_at))  # the future is shared: never cancel it

    def submit(self, events: list[dict[str, Any]], letters: list[dict[str, Any]] = (),  # type: ignore[assignment]
               received_at: float | None = None) -> asyncio.Future[None]:
        """As `accept`, without a coroutine: the future resolves once the events are on disk (or fails).

        For ingests written as protocols (callbacks, no task per request). Every submission that joins one
        transaction gets the same future, so a caller must not cancel it (await it through asyncio.shield);
        callers that answer many requests per commit can settle them all from one done-callback."""
        if self._closing:
            raise RuntimeError("outbox is closing")
        stamp = time.time() if received_at is None else received_at
        self._events += [(stamp, event) for event in events]
        if letters:
            self._letters.extend(letters)
        batch = self._batch
        if batch is None:
            batch = self._batch = asyncio.get_running_loop().create_future()
            self._wakeup.set()
        return batch

    def listener(self) -> asyncio.Event:
        """An event set whenever new events were committed (each delivery loop clears its own)."""
        listener = asyncio.Event()
        self._listeners.append(listener)
        return listener

    def advance(self, sink: str, seq: int) -> None:
        """Record a sink's new cursor; written with the next commit, within CURSOR_FLUSH_S, or at close."""
        self._cursors[sink] = max(seq, self._cursors.get(sink, 0))
        self._delivered[sink] = max(seq, self._delivered.get(sink, 0))
        self._forget_delivered()
        if self._cursor_timer is None and not self._closing:
            self._cursor_timer = asyncio.get_running_loop().call_later(CURSOR_FLUSH_S, self._flush_cursors)

    def _forget_delivered(self) -> None:
        """Drop in-memory events every delivery loop is past: fewer live objects, shorter GC pauses."""
        self.recent.forget_through(min(self._delivered.values()))

    def _flush_cursors(self) -> None:
        self._cursor_timer = None
        self._wakeup.set()

    async def _write_loop(self) -> None:
        while True:
            await self._wakeup.wait()
            if self._events and not self._closing and len(self._events) < self.commit_max_events:
                await asyncio.sleep(self.commit_interval_s)  # let concurrent ingests join this transaction
            self._wakeup.clear()
            events, self._events = self._events, []
            letters, self._letters = self._letters, []
            cursors, self._cursors = self._cursors, {}
            batch, self._batch = self._batch, None
            if events or letters or cursors:
                assert self.store is not None
                try:
                    async with self._db_lock:
                        stored = self.store.stage_batch(events, letters, cursors)
                        span = self.store.last_span
                        await self.run_blocking(self.store.commit)
                except Exception as exc:  # the disk failed: every waiter's ingest must fail, not be acknowledged
                    if batch is not None and not batch.done():
                        batch.set_exception(OSError(f"outbox commit failed: {type(exc).__name__}: {exc}"))
                    continue
                self.remember(stored, span)
                self.stored_total += len(stored)
                self.absorbed_total += len(events) - len(stored)
                if stored or letters:
                    for listener in self._listeners:
                        listener.set()
            if batch is not None and not batch.done():
                batch.set_result(None)
            if self._closing and not (self._events or self._letters or self._cursors):
                return

    def remember(self, stored: list[tuple[int, float, Dumped]], span: tuple[int, int]) -> None:
        """Keep committed events in memory; `span` (seqs the commit used up) marks absorbed repeats' holes."""
        self.recent.add(span, stored)
        if stored:
            self.last_seq = max(self.last_seq, stored[-1][0])

    def take_recent(self, after_seq: int, limit: int) -> list[tuple[int, float, Dumped]]:
        """Events of up to `limit` seqs after `after_seq` from memory (holes skipped); [] means: ask SQLite."""
        return self.recent.take(after_seq, limit)

    async def cursor_of(self, sink: str) -> int:
        assert self.store is not None
        async with self._db_lock:
            cursor = int(await self.run_blocking(self.store.cursor_of, sink))
        self._delivered[sink] = max(cursor, self._delivered.get(sink, 0))
        return cursor

    async def fetch(self, sink: str, after_seq: int, limit: int) -> list[tuple[int, float, Dumped]]:
        """The next events for a sink in outbox order: from memory when possible, else from SQLite."""
        rows = self.take_recent(after_seq, limit)
        if rows:
            return rows
        assert self.store is not None
        async with self._db_lock:
            # A commit may have finished while this waited for the lock: its events are in memory now.
            rows = self.take_recent(after_seq, limit)
            if rows:
                return rows
            stored = await self.run_blocking(self.store.fetch, sink, after_seq, limit)
        # The stored body is the event's JSON as it was first serialized: the sinks send those bytes.
        return [(seq, received_at, dumped(load_event(body), body)) for seq, received_at, body in stored]

    async def prune(self, sinks: list[str], retention_s: float) -> int:
        assert self.store is not None
        async with self._db_lock:
            return int(await self.run_blocking(self.store.prune, sinks, retention_s))
