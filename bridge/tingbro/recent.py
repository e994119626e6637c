"""The outbox's latest committed rows in memory, so the delivery loops usually do not read them back from SQLite.

A list indexed by seq - `first_seq`: a commit appends its span of seqs (None where an absorbed repeat used one
up), a delivery loop takes a slice, and rows every loop is past are cut off the front. Handing out the very
(seq, received_at, event) tuples the commit made keeps the work per event to a few list operations.
"""

from __future__ import annotations

from typing import Any

Row = tuple[int, float, Any]  # (seq, received_at, event)


class RecentRows:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.first_seq = 1
        self.rows: list[Row | None] = []  # rows[i] holds seq first_seq + i
        self.holes = 0                    # how many of `rows` are None

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, span: tuple[int, int], stored: list[Row]) -> None:
        """A commit's rows; `span` = (last seq before it, after it). Seqs not in `stored` are holes.

        If the span does not follow on from what is kept (another writer's rows came between, or nothing is
        kept yet), the older rows are dropped: taking stops at the gap either way, and SQLite has them."""
        before, after = span
        if before + 1 != self.first_seq + len(self.rows):
            self.clear()
            self.first_seq = before + 1
        if len(stored) == after - before:
            self.rows += stored
        else:
            block: list[Row | None] = [None] * (after - before)
            for row in stored:
                block[row[0] - before - 1] = row
            self.rows += block
            self.holes += after - before - len(stored)
        if len(self.rows) > self.capacity:
            self.forget_through(self.first_seq + len(self.rows) - self.capacity - 1)

    def take(self, after_seq: int, limit: int) -> list[Row]:
        """Up to `limit` seqs' rows after `after_seq` (holes skipped); [] if memory does not hold the next one."""
        start = after_seq + 1 - self.first_seq
        if start < 0:
            return []
        rows = self.rows[start:start + limit]
        if self.holes:
            return [row for row in rows if row is not None]
        return rows  # type: ignore[return-value]  # no holes: no None

    def forget_through(self, seq: int) -> None:
        """Drop the rows up to and including `seq`."""
        count = seq + 1 - self.first_seq
        if count <= 0:
            return
        if self.holes:
            self.holes -= self.rows[:count].count(None)
        del self.rows[:count]
        self.first_seq += count

    def clear(self) -> None:
        self.first_seq += len(self.rows)
        self.rows = []
        self.holes = 0
