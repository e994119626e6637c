"""SQL sink: events into a table municipalities can query. SQLite by default, PostgreSQL when `dsn` is set.

Idempotent on the event id (INSERT OR IGNORE / ON CONFLICT DO NOTHING), so a retried or replayed batch
never doubles a row. A batch is one transaction. The SQLite file is the sink's own (never the outbox) and
runs in WAL mode so readers do not block the bridge.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tingbro.sinks.base import PermanentSinkError, Sink, SinkConfigError, SinkOptions, TransientSinkError
from tingbro.sinks.httpclient import redact
from tingbro.sinks.sql_schema import ddl, event_row, insert_sql


class SqlSink(Sink):
    kind = "sql"
    default_max_batch = 500

    def configure(self, options: SinkOptions) -> None:
        self.dsn = options.secret("dsn")
        path = options.text("path")
        if self.dsn and path:
            raise options.fail("give either 'path' (SQLite) or 'dsn'/'dsn_env' (PostgreSQL), not both")
        self.path = Path(path or "tingbro-events.sqlite3")
        self.timeout_s = options.number("timeout_s", 10.0, 0.05, 300.0)
        self.sqlite: sqlite3.Connection | None = None
        self.postgres: Any = None  # psycopg.AsyncConnection, imported only when configured
        self.lock = asyncio.Lock()

    @property
    def is_postgres(self) -> bool:
        return bool(self.dsn)

    async def start(self) -> None:
        if self.is_postgres:
            try:
                await self._postgres_connection()
            except TransientSinkError:
                pass  # the server is down: deliver() reports it and the bridge retries
            return
        try:
            await asyncio.to_thread(self._open_sqlite)
        except (sqlite3.Error, OSError) as exc:
            raise SinkConfigError(f"sink {self.name!r}: cannot open SQLite database {str(self.path)!r}: {exc}") from None

    # SQLite ----------------------------------------------------------------------------------------------
    def _open_sqlite(self) -> None:
        if self.sqlite is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=self.timeout_s, check_same_thread=False,
                                     isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        with connection:
            for statement in ddl(postgres=False):
                connection.execute(statement)
        self.sqlite = connection

    def _write_sqlite(self, rows: list[dict[str, Any]]) -> None:
        self._open_sqlite()
        assert self.sqlite is not None
        with self.sqlite:  # one transaction: all rows or none
            self.sqlite.execute("BEGIN")
            self.sqlite.executemany(insert_sql(postgres=False), rows)

    # PostgreSQL ------------------------------------------------------------------------------------------
    async def _postgres_connection(self) -> Any:
        if self.postgres is not None and not self.postgres.closed:
            return self.postgres
        try:
            import psycopg
        except ImportError:
            raise PermanentSinkError("PostgreSQL needs psycopg: pip install 'tingbro[postgres]'") from None
        try:
            connection = await psycopg.AsyncConnection.connect(self.dsn, connect_timeout=max(1, int(self.timeout_s)))
            async with connection.transaction():
                for statement in ddl(postgres=True):
                    await connection.execute(statement)
        except psycopg.OperationalError as exc:
            raise TransientSinkError(f"cannot connect to PostgreSQL: {self._clean(exc)}") from None
        self.postgres = connection
        return connection

    async def _write_postgres(self, rows: list[dict[str, Any]]) -> None:
        import psycopg

        connection = await self._postgres_connection()
        try:
            async with connection.transaction(), connection.cursor() as cursor:
                await cursor.executemany(insert_sql(postgres=True), rows)
        except psycopg.OperationalError as exc:
            await self.close()
            raise TransientSinkError(f"PostgreSQL write failed: {self._clean(exc)}") from None
        except psycopg.Error as exc:
            raise PermanentSinkError(f"PostgreSQL rejected the batch: {self._clean(exc)}") from None

    def _clean(self, exc: Exception) -> str:
        return redact(" ".join(str(exc).split()), (self.dsn or "",))

    # Both ------------------------------------------------------------------------------------------------
    async def send(self, events: list[dict[str, Any]]) -> None:
        stored_at = datetime.now(UTC)
        try:
            rows = [event_row(event, stored_at, self.is_postgres) for event in events]
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentSinkError(f"event cannot be stored: {type(exc).__name__}: {exc}") from None
        async with self.lock:
            if self.is_postgres:
                await self._write_postgres(rows)
                return
            try:
                await asyncio.to_thread(self._write_sqlite, rows)
            except sqlite3.OperationalError as exc:  # locked, disk I/O, full: may pass
                raise TransientSinkError(f"SQLite write to {self.path} failed: {exc}") from None
            except sqlite3.Error as exc:
                raise PermanentSinkError(f"SQLite rejected the batch: {exc}") from None

    async def close(self) -> None:
        if self.sqlite is not None:
            connection, self.sqlite = self.sqlite, None
            await asyncio.to_thread(connection.close)
        if self.postgres is not None:
            connection, self.postgres = self.postgres, None
            try:
                await connection.close()
            except Exception:  # noqa: BLE001 - closing a broken connection must not mask the real error
                pass
