"""The SQL sink: SQLite files in tmp_path (the default), PostgreSQL when a real server can be started."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port
from pgserver import postgres_server
from sinkhelp import lifebuoy_alarm, make_event, run
from tingbro.sinks import PermanentSinkError, SinkConfigError, TransientSinkError, build_sink


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[str]:
    """One real PostgreSQL server for this module (initdb is the slow part); each test gets its own database."""
    with postgres_server() as dsn:
        yield dsn


@pytest.fixture
def pg_dsn(pg_cluster: str, request: pytest.FixtureRequest) -> str:
    import psycopg

    database = "t_" + request.node.name.lower().replace("test_", "")[:40]
    with psycopg.connect(pg_cluster, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {database}")
        admin.execute(f"CREATE DATABASE {database}")
    return pg_cluster.replace("dbname=postgres", f"dbname={database}")


def streetlight_event(index: int) -> dict[str, Any]:
    return make_event(index, device={"device_type": "streetlight", "dev_eui": "00000000000000aa",
                                     "name": "sl-1187"},
                      fields={"level_pct": 60, "lamp_on": True, "power_w": 41.5, "energy_wh": 123456,
                              "lamp_failure": False}, derived={})


def deliver_all(sink: Any, *batches: list[dict[str, Any]]) -> None:
    async def scenario() -> None:
        await sink.start()
        try:
            for batch in batches:
                await sink.deliver(batch)
        finally:
            await sink.close()

    run(scenario())


def test_sqlite_rows_views_and_idempotency(tmp_path: Path) -> None:
    database = tmp_path / "city" / "events.sqlite3"
    sink = build_sink("city-sql", "sql", {"path": str(database)})
    batch = [make_event(1), make_event(2, time="2026-11-23T10:00:00+01:00"), lifebuoy_alarm(3),
             streetlight_event(4)]
    deliver_all(sink, batch, batch[:2], [make_event(5)])  # the repeated events are absorbed
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*), count(DISTINCT id) FROM events").fetchone() == (5, 5)
        row = db.execute("SELECT type, time, dev_eui, device_type, municipality, message, f_cnt, rssi_dbm, "
                         "json_extract(fields, '$.distance_mm'), json_extract(event, '$.id') FROM events "
                         "WHERE id = ?", (batch[1]["id"],)).fetchone()
        assert row == ("uplink", "2026-11-23T09:00:00.000000+00:00", "0102030405060708", "fill_level", "aarhus",
                       "status", 2, -80.0, 380, batch[1]["id"])
        bins = db.execute("SELECT f_cnt, fill_ratio, distance_mm, temperature_c, battery_mv FROM "
                          "fill_level_readings ORDER BY f_cnt").fetchall()
        assert bins == [(1, 0.72, 380, 21.5, 3600), (2, 0.72, 380, 21.5, 3600), (5, 0.72, 380, 21.5, 3600)]
        assert db.execute("SELECT level_pct, lamp_on, power_w, energy_wh FROM streetlight_readings").fetchall() == [
            (60, 1, 41.5, 123456)]
        assert db.execute("SELECT dev_eui, alarm_name, alarm_active FROM alarms").fetchall() == [
            ("70b3d57ed00000b7", "lifebuoy_removed", 1)]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_sqlite_batch_is_all_or_nothing(tmp_path: Path) -> None:
    database = tmp_path / "events.sqlite3"
    sink = build_sink("city-sql", "sql", {"path": str(database)})
    broken = make_event(2, time="not a time")

    async def scenario() -> None:
        await sink.start()
        with pytest.raises(PermanentSinkError, match="cannot be stored"):
            await sink.deliver([make_event(1), broken])
        await sink.close()

    run(scenario())
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_sqlite_locked_database_is_transient(tmp_path: Path) -> None:
    database = tmp_path / "events.sqlite3"
    sink = build_sink("city-sql", "sql", {"path": str(database), "timeout_s": 0.2})

    async def scenario() -> None:
        await sink.start()
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(TransientSinkError, match="locked"):
                await sink.deliver([make_event(1)])
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        await sink.deliver([make_event(1)])  # the lock is gone: the same batch now goes through
        await sink.close()

    run(scenario())
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM events").fetchone() == (1,)


def test_postgres_rows_views_and_idempotency(pg_dsn: str) -> None:
    import psycopg

    dsn = pg_dsn
    sink = build_sink("city-pg", "sql", {"dsn": dsn})
    batch = [make_event(1), lifebuoy_alarm(2), streetlight_event(3)]
    deliver_all(sink, batch, batch, [make_event(4)])
    with psycopg.connect(dsn) as db:
        assert db.execute("SELECT count(*), count(DISTINCT id) FROM events").fetchone() == (4, 4)
        bins = db.execute("SELECT f_cnt, fill_ratio, distance_mm, battery_mv FROM fill_level_readings "
                          "ORDER BY f_cnt").fetchall()
        assert bins == [(1, 0.72, 380.0, 3600.0), (4, 0.72, 380.0, 3600.0)]
        assert db.execute("SELECT lamp_on, power_w FROM streetlight_readings").fetchall() == [(True, 41.5)]
        assert db.execute("SELECT alarm_name, alarm_active FROM alarms").fetchall() == [
            ("lifebuoy_removed", True)]
        stored = db.execute("SELECT event->>'id', time FROM events WHERE f_cnt = 1").fetchone()
        assert stored[0] == batch[0]["id"]
        assert stored[1].isoformat() == "2026-11-23T09:00:00.123456+00:00"


def test_postgres_down_is_transient() -> None:
    dsn = f"host=127.0.0.1 port={free_port()} user=tingbro dbname=postgres"  # nothing listens there
    sink = build_sink("city-pg", "sql", {"dsn": dsn, "timeout_s": 2})

    async def scenario() -> None:
        await sink.start()  # a server that is down does not fail start()
        with pytest.raises(TransientSinkError, match="cannot connect to PostgreSQL"):
            await sink.deliver([make_event(1)])
        await sink.close()

    run(scenario())


def test_sqlite_unopenable_file_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    sink = build_sink("city-sql", "sql", {"path": str(blocker / "events.sqlite3")})

    async def scenario() -> None:
        with pytest.raises(SinkConfigError, match="cannot open SQLite database"):
            await sink.start()
        await sink.close()

    run(scenario())


def test_postgres_dropped_connection_is_transient_then_recovers(pg_dsn: str) -> None:
    import psycopg

    dsn = pg_dsn
    sink = build_sink("city-pg", "sql", {"dsn": dsn})

    async def scenario() -> None:
        await sink.start()
        await sink.deliver([make_event(1)])
        with psycopg.connect(dsn, autocommit=True) as admin:  # an administrator kills the bridge's session
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE pid <> pg_backend_pid() AND datname = current_database()")
        with pytest.raises(TransientSinkError, match="PostgreSQL"):
            await sink.deliver([make_event(2)])
        await sink.deliver([make_event(2)])  # reconnected
        await sink.close()

    run(scenario())
    with psycopg.connect(dsn) as db:
        assert db.execute("SELECT count(*) FROM events").fetchone() == (2,)
