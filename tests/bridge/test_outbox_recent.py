"""The outbox's in-memory rows: consecutive seqs with holes, gaps left to SQLite, bounded, cut as delivered."""

from __future__ import annotations

from tingbro.recent import RecentRows


def rows(*seqs: int) -> list[tuple[int, float, dict[str, int]]]:
    return [(seq, 1.0, {"n": seq}) for seq in seqs]


def seqs(taken: list[tuple[int, float, dict[str, int]]]) -> list[int]:
    return [row[0] for row in taken]


def test_holes_are_skipped_and_limit_counts_seqs() -> None:
    recent = RecentRows(100)
    recent.add((0, 3), rows(1, 2, 3))
    recent.add((3, 7), rows(4, 6))            # 5 and 7 were used up by absorbed repeats
    assert seqs(recent.take(0, 100)) == [1, 2, 3, 4, 6]
    assert seqs(recent.take(2, 3)) == [3, 4]  # seqs 3, 4, 5
    assert recent.take(7, 10) == [] and recent.take(99, 10) == []
    recent.forget_through(5)
    assert seqs(recent.take(5, 10)) == [6] and recent.holes == 1
    assert recent.take(3, 10) == []           # forgotten: SQLite has it


def test_a_gap_in_the_seqs_drops_what_came_before() -> None:
    recent = RecentRows(100)
    recent.add((10, 12), rows(11, 12))
    recent.add((15, 16), rows(16))            # 13..15 are another writer's rows
    assert recent.take(10, 10) == [] and recent.take(12, 10) == []
    assert seqs(recent.take(15, 10)) == [16]


def test_the_oldest_rows_go_beyond_capacity() -> None:
    recent = RecentRows(5)
    recent.add((0, 4), rows(1, 2, 3, 4))
    recent.add((4, 8), rows(5, 7, 8))
    assert len(recent) == 5 and recent.take(2, 10) == []
    assert seqs(recent.take(3, 10)) == [4, 5, 7, 8] and recent.holes == 1
    recent.forget_through(8)
    assert len(recent) == 0 and recent.holes == 0
    recent.add((8, 9), rows(9))
    assert seqs(recent.take(8, 10)) == [9]
