"""The outbox file: one statement per event absorbs repeats, replays keep their ids, old files are migrated."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from tingbro.outbox import Outbox, load_event
from tingbro.replay import replay_range
from tingbro.store import SCHEMA_VERSION, Store

# The schema before PRAGMA user_version 1: idempotency keys in their own `seen` table, replays to every
# sink with target NULL (written here verbatim, as an older bridge left its file).
OLD_SCHEMA = """
CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, dev_eui TEXT,
                     received_at REAL NOT NULL, target TEXT, body TEXT NOT NULL);
CREATE INDEX events_received_at ON events(received_at);
CREATE TABLE seen (event_id TEXT PRIMARY KEY, received_at REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX seen_received_at ON seen(received_at);
CREATE TABLE cursors (sink TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, stage TEXT NOT NULL, sink TEXT,
                           reason TEXT NOT NULL, event_name TEXT, content_type TEXT, raw BLOB, event_id TEXT,
                           body TEXT, replayed_at REAL);
"""


def event(index: int) -> dict[str, Any]:
    return {"id": f"d-{index}:up", "type": "uplink", "device": {"dev_eui": "0102030405060708"},
            "fields": {"name": "æøå", "value": index / 3}}


def rows(path: Path) -> list[tuple[Any, ...]]:
    return sqlite3.connect(path).execute("SELECT seq, event_id, target FROM events ORDER BY seq").fetchall()


def test_repeats_are_absorbed_within_and_across_batches(tmp_path: Path) -> None:
    store = Store(tmp_path / "o.db")
    now = time.time()
    first = store.commit_batch([(now, event(1)), (now, event(2)), (now, event(1))], [], {})
    assert [(seq, ev["id"]) for seq, _, ev in first] == [(1, "d-1:up"), (2, "d-2:up")]
    assert store.last_span == (0, 3)  # the absorbed repeat used up seq 3 (AUTOINCREMENT): a hole
    second = store.commit_batch([(now, event(2)), (now, event(3)), (now, event(3)), (now, event(4))], [], {})
    assert [(seq, ev["id"]) for seq, _, ev in second] == [(5, "d-3:up"), (7, "d-4:up")]
    assert store.commit_batch([(now, event(4))], [], {"hook": 2}) == [] and store.last_span == (7, 8)
    assert store.cursor_of("hook") == 2
    assert [seq for seq, _, _ in store.fetch("hook", 0, 10)] == [1, 2, 5, 7]
    [(body,)] = store.db.execute("SELECT body FROM events WHERE seq = 1").fetchall()
    assert json.loads(body) == event(1) and "æøå" in body  # UTF-8, not \\u escapes
    store.close()


def test_replays_repeat_ids_without_touching_the_idempotency_keys(tmp_path: Path) -> None:
    store = Store(tmp_path / "o.db")
    now = time.time()
    store.commit_batch([(now, event(1)), (now, event(2))], [], {})
    assert replay_range(store, now - 1, now + 1, None) == 2        # to every sink: target '*'
    assert replay_range(store, now - 1, now + 1, "hook") == 4      # originals and replays-to-all
    assert [row[2] for row in rows(tmp_path / "o.db")] == [None, None, "*", "*", "hook", "hook", "hook", "hook"]
    assert store.commit_batch([(now, event(1))], [], {}) == []      # still absorbed after the replays
    assert [seq for seq, _, _ in store.fetch("other", 0, 100)] == [1, 2, 3, 4]
    assert [seq for seq, _, _ in store.fetch("hook", 0, 100)] == [1, 2, 3, 4, 5, 6, 7, 8]
    store.close()


def test_pruning_forgets_ids_with_their_events(tmp_path: Path) -> None:
    store = Store(tmp_path / "o.db")
    old = time.time() - 3600
    store.commit_batch([(old, event(1)), (time.time(), event(2))], [], {"hook": 2})
    assert store.prune(["hook"], retention_s=60) == 1
    assert [ev["id"] for _, _, ev in store.commit_batch([(time.time(), event(1)), (time.time(), event(2))], [], {})] \
        == ["d-1:up"]  # 1 was forgotten with its row; 2 is still within the retention window
    store.close()


def test_a_file_in_the_old_schema_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    now = time.time()
    for seq, (event_id, target) in enumerate([("d-1:up", None), ("d-2:up", None), ("d-1:up", None),  # replay to all
                                              ("d-2:up", "hook")], start=1):
        db.execute("INSERT INTO events VALUES (?, ?, '0102030405060708', ?, ?, ?)",
                   (seq, event_id, now, target, json.dumps(event(seq))))
        if target is None and seq < 3:
            db.execute("INSERT INTO seen VALUES (?, ?)", (event_id, now))
    db.execute("INSERT INTO cursors VALUES ('hook', 3)")
    db.commit()
    db.close()

    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'seen'").fetchone()[0] == 0
    assert rows(path) == [(1, "d-1:up", None), (2, "d-2:up", None), (3, "d-1:up", "*"), (4, "d-2:up", "hook")]
    assert store.cursor_of("hook") == 3 and store.last_seq() == 4
    # The migrated ids still absorb repeats; new events continue the sequence.
    stored = store.commit_batch([(now, event(1)), (now, event(2)), (now, event(9))], [], {})
    assert [ev["id"] for _, _, ev in stored] == ["d-9:up"] and stored[0][0] > 4
    store.close()
    reopened = Store(path)  # opening again changes nothing
    assert rows(path)[-1] == (stored[0][0], "d-9:up", None)
    reopened.close()


def test_the_outbox_serves_events_from_memory_across_absorbed_repeats(tmp_path: Path) -> None:
    async def scenario() -> None:
        outbox = Outbox(tmp_path / "o.db", commit_interval_ms=1)
        await outbox.open()
        await outbox.accept([event(1), event(1), event(2)])
        await outbox.accept([event(2), event(3)])
        assert [(seq, ev["id"]) for seq, _, ev in outbox.take_recent(0, 10)] == [
            (1, "d-1:up"), (3, "d-2:up"), (5, "d-3:up")]  # holes 2 and 4 skipped, no SQLite read needed
        assert outbox.last_seq == 5
        await outbox.close()

    asyncio.run(scenario())


def test_events_read_back_from_the_file_equal_what_was_stored(tmp_path: Path) -> None:
    stored = {"id": "x:up", "device": {"dev_eui": ""}, "fields": {"big": 2**70, "tiny": 1e-7, "text": "æ\u2028\"\\"}}
    store = Store(tmp_path / "o.db")
    store.commit_batch([(1.0, stored)], [], {})
    [(_, _, body)] = store.fetch("hook", 0, 10)
    assert load_event(body) == stored == json.loads(body)  # msgspec, json.loads where it cannot (2**70)
    store.close()

