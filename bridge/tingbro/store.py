"""The SQLite file behind the outbox: schema and the blocking queries (run on one worker thread).

Tables:
  events        every accepted normalized event, in arrival order (`seq`). `target` is NULL for an event as
                ingested, '*' for a replay to every sink, or one sink's name (a replay aimed at that sink).
                The ingested rows' event ids are unique (a partial index): a repeated ChirpStack
                deduplicationId is absorbed by `INSERT OR IGNORE` (also within one statement). An id is
                remembered as long as its row is kept (see `prune`).
  cursors       per sink: the highest `seq` delivered (or dead-lettered)
  dead_letters  what could not be accepted or delivered, with the raw payload and the reason

Events are inserted by multi-row statements of up to INSERT_ROWS rows (a third fewer instructions per row
than one statement per row: the per-statement work, AUTOINCREMENT's sqlite_sequence update included, is
shared); their sizes are powers of two so that a handful of prepared statements serve every batch size.
Each event is serialized once (`strictjson.dumped`): the body is bound as those UTF-8 bytes, cast to TEXT by
SQLite, and the same bytes travel on with the stored event to the sinks.

`PRAGMA user_version` is the schema version; `migrate` brings older files up to date when they are opened.
Version 0 kept the idempotency keys in a separate `seen` table and marked replays to every sink with NULL.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from tingbro import strictjson
from tingbro.strictjson import Dumped

SCHEMA_VERSION = 1
ALL_SINKS = "*"  # `target` of a replay to every sink
# WAL pages before SQLite checkpoints them into the file (its default is 1000, 4 MiB). Each new event dirties a
# random leaf of the id index, so a commit of 100 events writes ~100 pages: a checkpoint came every ~10 commits
# and wrote most index pages each time. 4000 (16 MiB of WAL) writes each such page back a quarter as often:
# ~10-20 % less CPU per committed event (mostly kernel time), durability unchanged (the WAL is fsynced).
WAL_AUTOCHECKPOINT_PAGES = 4000
INSERT_ROWS = 64  # the largest multi-row INSERT; SQLite allows 32,766 parameters, this uses 256
_INSERT_EVENTS = {rows: "INSERT OR IGNORE INTO events(event_id, dev_eui, received_at, body) VALUES "
                        + ",".join(["(?,?,?,CAST(? AS TEXT))"] * rows) for rows in (1, 2, 4, 8, 16, 32, 64)}
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    dev_eui TEXT,
    received_at REAL NOT NULL,
    target TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_received_at ON events(received_at);
CREATE UNIQUE INDEX IF NOT EXISTS events_ingested_id ON events(event_id) WHERE target IS NULL;
CREATE TABLE IF NOT EXISTS cursors (sink TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    stage TEXT NOT NULL,          -- ingest | decode | sink
    sink TEXT,                    -- for stage sink: which sink gave up
    reason TEXT NOT NULL,
    event_name TEXT,              -- ChirpStack event name (up, join, ...) for ingest/decode letters
    content_type TEXT,
    raw BLOB,                     -- the body as received (ingest/decode)
    event_id TEXT,
    body TEXT,                    -- the normalized event JSON (sink)
    replayed_at REAL
);
"""


def open_database(path: Path, synchronous: str = "full") -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
    connection.execute("PRAGMA busy_timeout=30000")
    connection.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    migrate(connection)
    return connection


def migrate(connection: sqlite3.Connection) -> None:
    """Create the schema, or bring a file of an older version to SCHEMA_VERSION, in one transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version < SCHEMA_VERSION:
            if version == 0 and _has_table(connection, "events"):
                # A replay to every sink repeated an id with target NULL: keep the first row as the ingested one.
                connection.execute(f"UPDATE events SET target = '{ALL_SINKS}' WHERE target IS NULL AND seq NOT IN "
                                   "(SELECT min(seq) FROM events WHERE target IS NULL GROUP BY event_id)")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            # `seen` held the same ids as the ingested rows: both were pruned by the same received_at horizon.
            connection.execute("DROP TABLE IF EXISTS seen")
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                              (name,)).fetchone() is not None


def dump_event(event: dict[str, Any]) -> str:
    """Compact JSON text, non-ASCII as is; ValueError for NaN (see strictjson)."""
    return strictjson.dumps(event).decode()


class Store:
    """Blocking operations on the outbox database. Not thread-safe: one thread uses it at a time."""

    def __init__(self, path: Path, synchronous: str = "full") -> None:
        self.db = open_database(path, synchronous)
        self.last_span = (0, 0)  # (last seq before, after) the latest commit_batch

    def close(self) -> None:
        self.db.close()

    def commit_batch(self, events: list[tuple[float, dict[str, Any]]], letters: list[dict[str, Any]],
                     cursors: dict[str, int]) -> list[tuple[int, float, Dumped]]:
        """One transaction: new events (repeats absorbed), dead letters, cursor moves -> [(seq, time, event)]."""
        stored = self.stage_batch(events, letters, cursors)
        self.commit()
        return stored

    def stage_batch(self, events: list[tuple[float, dict[str, Any]]], letters: list[dict[str, Any]],
                    cursors: dict[str, int]) -> list[tuple[int, float, Dumped]]:
        """The writes of `commit_batch` in an open transaction; `commit()` makes them durable.

        Returns the stored events as `Dumped` copies that carry their JSON. Split so the outbox can run this
        CPU-bound part on its event loop and only the fsync-bound COMMIT on its worker thread: sqlite3 lets go
        of the GIL for every statement, and a thread taking it back from a busy event loop waits up to the
        switch interval each time."""
        db = self.db
        stored: list[tuple[int, float, Dumped]] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            before = self.last_seq()
            if events:
                # The rows as they are if every event is new: seqs are consecutive (AUTOINCREMENT under our lock)
                rows = [(before + 1 + index, received_at, strictjson.dumped(event))
                        for index, (received_at, event) in enumerate(events)]
                inserted = self._insert_events(rows)
                if inserted == len(rows) and self.last_seq() == before + inserted:
                    stored = rows
                elif inserted:
                    stored = self._stored_since(before, rows)
            # An ignored repeat still uses up a seq (AUTOINCREMENT): seqs in this span without a stored event
            # are such holes, not rows of another writer (our transaction holds the write lock).
            self.last_span = (before, self.last_seq())
            for letter in letters:
                self._insert_letter(letter)
            for sink, seq in cursors.items():
                db.execute("INSERT INTO cursors(sink, seq) VALUES (?, ?) "
                           "ON CONFLICT(sink) DO UPDATE SET seq = max(seq, excluded.seq)", (sink, seq))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return stored

    def _insert_events(self, rows: list[tuple[int, float, Dumped]]) -> int:
        """INSERT OR IGNORE the events in order, INSERT_ROWS at a time, then halving; how many were new."""
        params: list[Any] = []
        for _, received_at, record in rows:
            params += (record["id"], record["device"]["dev_eui"], received_at, record.json)
        inserted = done = 0
        size = INSERT_ROWS
        while done < len(rows):
            while size > len(rows) - done:
                size //= 2
            inserted += self.db.execute(_INSERT_EVENTS[size], params[4 * done:4 * (done + size)]).rowcount
            done += size
        return inserted

    def commit(self) -> None:
        """COMMIT the staged transaction (the fsync); rolls back and raises if that fails."""
        try:
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def _stored_since(self, before: int, rows: list[tuple[int, float, Dumped]]) -> list[tuple[int, float, Dumped]]:
        """Which of `rows` got a row in the file (repeats were ignored): the first of each id, by its real seq."""
        first: dict[str, tuple[float, Dumped]] = {}
        for _, received_at, record in rows:
            first.setdefault(record["id"], (received_at, record))
        found = self.db.execute("SELECT seq, event_id FROM events WHERE seq > ? AND target IS NULL ORDER BY seq",
                                (before,)).fetchall()
        return [(seq, *first[event_id]) for seq, event_id in found]

    def _insert_letter(self, letter: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO dead_letters(at, stage, sink, reason, event_name, content_type, raw, event_id, body) "
            "VALUES (:at, :stage, :sink, :reason, :event_name, :content_type, :raw, :event_id, :body)",
            {"at": time.time(), "sink": None, "event_name": None, "content_type": None, "raw": None,
             "event_id": None, "body": None, **letter})

    def last_seq(self) -> int:
        row = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return int(row[0]) if row else 0

    def cursor_of(self, sink: str) -> int:
        """A sink's cursor; a sink seen for the first time starts at the end (it gets new events only)."""
        row = self.db.execute("SELECT seq FROM cursors WHERE sink = ?", (sink,)).fetchone()
        if row:
            return int(row[0])
        start = self.last_seq()
        self.db.execute("INSERT INTO cursors(sink, seq) VALUES (?, ?)", (sink, start))
        return start

    def fetch(self, sink: str, after_seq: int, limit: int) -> list[tuple[int, float, bytes]]:
        """Up to `limit` rows after `after_seq` for `sink`: (seq, received_at, the body's UTF-8 bytes)."""
        return self.db.execute(
            "SELECT seq, received_at, CAST(body AS BLOB) FROM events WHERE seq > ? AND (target IS NULL OR target = ? OR target = ?) "
            "ORDER BY seq LIMIT ?", (after_seq, ALL_SINKS, sink, limit)).fetchall()

    def prune(self, sinks: list[str], retention_s: float) -> int:
        """Forget events every sink has passed and that are older than the retention window.

        Their ids go with them: a repeat arriving after that is accepted again (as with the old `seen` table)."""
        if not sinks:
            return 0
        marks = ",".join("?" * len(sinks))
        row = self.db.execute(f"SELECT min(seq) FROM cursors WHERE sink IN ({marks})", sinks).fetchone()
        horizon = time.time() - retention_s
        self.db.execute("BEGIN IMMEDIATE")
        removed = self.db.execute("DELETE FROM events WHERE seq <= ? AND received_at < ?",
                                  (row[0] or 0, horizon)).rowcount
        self.db.execute("COMMIT")
        return removed

    def dead_letter_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM dead_letters").fetchone()[0])
