"""Re-send what is in the outbox file: dead letters, or every event received in a time range.

Runs against the SQLite file directly (WAL lets it run beside a live `tingbro serve`, whose delivery
loops pick the rows up within `idle_poll_s`). Replayed events get new outbox positions; their ids are
unchanged, so receivers can still recognise a repeat. Their `target` is the sink's name, or '*' for every
sink, never NULL: NULL marks the rows as ingested, whose ids absorb repeats from ChirpStack.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tingbro.ingest.intake import Intake
from tingbro.ingest.parse import ParseError
from tingbro.store import ALL_SINKS, Store, dump_event


def _insert(store: Store, rows: list[tuple[dict[str, Any], float, str | None]]) -> None:
    store.db.executemany("INSERT INTO events(event_id, dev_eui, received_at, target, body) VALUES (?,?,?,?,?)",
                         [(event["id"], event["device"]["dev_eui"], received_at, target or ALL_SINKS,
                           dump_event(event)) for event, received_at, target in rows])


def replay_range(store: Store, since: float, until: float, sink: str | None) -> int:
    """Queue again every event received in [since, until] for one sink (or all); returns the count."""
    rows = store.db.execute("SELECT body, received_at FROM events WHERE received_at >= ? AND received_at <= ? "
                            "AND (target IS NULL OR target = ?) ORDER BY seq", (since, until, ALL_SINKS)).fetchall()
    store.db.execute("BEGIN IMMEDIATE")
    _insert(store, [(json.loads(body), received_at, sink) for body, received_at in rows])
    store.db.execute("COMMIT")
    return len(rows)


def replay_dead_letters(store: Store, intake: Intake, sink: str | None, ids: list[int] | None,
                        include_replayed: bool) -> tuple[int, list[tuple[int, str]]]:
    """Queue dead letters again: sink letters as they were, ingest/decode letters decoded anew.

    Returns (events queued, [(letter id, why it still fails)]). A letter that fails again stays unreplayed.
    """
    query = "SELECT id, stage, sink, event_name, content_type, raw, body FROM dead_letters WHERE 1=1"
    params: list[Any] = []
    if not include_replayed:
        query += " AND replayed_at IS NULL"
    if sink:
        query += " AND (sink = ? OR stage != 'sink')"
        params.append(sink)
    if ids:
        query += f" AND id IN ({','.join('?' * len(ids))})"
        params += ids
    letters = store.db.execute(query + " ORDER BY id", params).fetchall()
    queued = 0
    still_failing: list[tuple[int, str]] = []
    now = time.time()
    store.db.execute("BEGIN IMMEDIATE")
    try:
        for letter_id, stage, letter_sink, event_name, content_type, raw, body in letters:
            if stage == "sink":
                rows = [(json.loads(body), now, sink or letter_sink)]
            else:
                media = None if (content_type or "").startswith("mqtt:") else content_type
                try:
                    events, lost = intake.convert("replay", event_name or "", bytes(raw or b""), media, now)
                except ParseError as exc:
                    still_failing.append((letter_id, str(exc)))
                    continue
                if lost:
                    still_failing.append((letter_id, lost[0]["reason"]))
                    continue
                rows = [(event, now, sink) for event in events]
            _insert(store, rows)
            store.db.execute("UPDATE dead_letters SET replayed_at = ? WHERE id = ?", (now, letter_id))
            queued += len(rows)
        store.db.execute("COMMIT")
    except BaseException:
        store.db.execute("ROLLBACK")
        raise
    return queued, still_failing
