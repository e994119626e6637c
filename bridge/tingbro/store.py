"""The SQLite file behind the outbox: schema and the blocking queries (run on one worker thread).

Tables:
  events        every accepted normalized event, in arrival order (`seq`); `target` is NULL for all sinks
                or one sink's name (a replay aimed at one sink)
  seen          idempotency keys already accepted: a repeated ChirpStack deduplicationId is absorbed here
  cursors       per sink: the highest `seq` delivered (or dead-lettered)
  dead_letters  what could not be accepted or delivered, with the raw payload and the reason
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

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
CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY, received_at REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_received_at ON seen(received_at);
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
    connection.executescript(SCHEMA)
    return connection


def dump_event(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class Store:
    """Blocking operations on the outbox database. Not thread-safe: one thread uses it at a time."""

    def __init__(self, path: Path, synchronous: str = "full") -> None:
        self.db = open_database(path, synchronous)

    def close(self) -> None:
        self.db.close()

    def commit_batch(self, events: list[tuple[float, dict[str, Any]]], letters: list[dict[str, Any]],
                     cursors: dict[str, int]) -> list[tuple[int, float, dict[str, Any]]]:
        """One transaction: new events (repeats absorbed), dead letters, cursor moves -> [(seq, time, event)]."""
        db = self.db
        stored: list[tuple[int, float, dict[str, Any]]] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            for received_at, event in events:
                if db.execute("INSERT OR IGNORE INTO seen(event_id, received_at) VALUES (?, ?)",
                              (event["id"], received_at)).rowcount:
                    seq = db.execute(
                        "INSERT INTO events(event_id, dev_eui, received_at, target, body) VALUES (?,?,?,?,?)",
                        (event["id"], event["device"]["dev_eui"], received_at, None, dump_event(event))).lastrowid
                    stored.append((int(seq or 0), received_at, event))
            for letter in letters:
                self._insert_letter(letter)
            for sink, seq in cursors.items():
                db.execute("INSERT INTO cursors(sink, seq) VALUES (?, ?) "
                           "ON CONFLICT(sink) DO UPDATE SET seq = max(seq, excluded.seq)", (sink, seq))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return stored

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

    def fetch(self, sink: str, after_seq: int, limit: int) -> list[tuple[int, float, str]]:
        return self.db.execute(
            "SELECT seq, received_at, body FROM events WHERE seq > ? AND (target IS NULL OR target = ?) "
            "ORDER BY seq LIMIT ?", (after_seq, sink, limit)).fetchall()

    def prune(self, sinks: list[str], retention_s: float) -> int:
        """Forget events every sink has passed and that are older than the retention window."""
        if not sinks:
            return 0
        marks = ",".join("?" * len(sinks))
        row = self.db.execute(f"SELECT min(seq) FROM cursors WHERE sink IN ({marks})", sinks).fetchone()
        horizon = time.time() - retention_s
        self.db.execute("BEGIN IMMEDIATE")
        removed = self.db.execute("DELETE FROM events WHERE seq <= ? AND received_at < ?",
                                  (row[0] or 0, horizon)).rowcount
        self.db.execute("DELETE FROM seen WHERE received_at < ?", (horizon,))
        self.db.execute("COMMIT")
        return removed

    def dead_letter_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM dead_letters").fetchone()[0])
