"""Command statuses in SQLite: one row per command, its full record as JSON plus indexed columns."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS control_commands (
    id TEXT PRIMARY KEY,
    queue_item_id TEXT,
    dev_eui TEXT,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS control_commands_queue_item ON control_commands (queue_item_id);
"""


class CommandStore:
    """Thread-safe (one connection behind a lock): the HTTP API calls it from worker threads."""

    def __init__(self, path: Path | str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def save(self, command: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO control_commands (id, queue_item_id, dev_eui, status, updated_at, record) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET queue_item_id=excluded.queue_item_id, "
                "status=excluded.status, updated_at=excluded.updated_at, record=excluded.record",
                (command["id"], command["queue_item_id"], command["dev_eui"], command["status"],
                 command["updated_at"], json.dumps(command, sort_keys=True)))

    def get(self, command_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT record FROM control_commands WHERE id = ?", (command_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def by_queue_item(self, queue_item_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT record FROM control_commands WHERE queue_item_id = ?",
                                   (queue_item_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
