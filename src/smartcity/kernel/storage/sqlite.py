"""SQLite backend: the embedded default (one file, WAL journal, no setup)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

from smartcity.kernel.storage.base import WRITE_OPTION, SqlStore, _create_engine, bind_processors


def _tune(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a committed transaction survives a process crash (SIGKILL);
    # only an OS crash or power loss may roll back the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


class SQLiteStore(SqlStore):
    """Store on a SQLite file (or ``:memory:`` for throwaway use)."""

    @classmethod
    def from_url(cls, url: URL, **options: Any) -> SQLiteStore:
        database = url.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        else:
            # One shared connection, or every checkout would see its own empty database.
            options.setdefault("poolclass", StaticPool)
        options.setdefault("connect_args", {"check_same_thread": False})
        engine = _create_engine(url, **options)
        event.listen(engine, "connect", _tune)

        # pysqlite's own transaction handling defers BEGIN; take control so that every
        # ``store.begin()`` is one real transaction that takes the write lock up front.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection: sqlite3.Connection, _record: object) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # Writers take the lock up front so two writers queue instead of one failing
            # on lock upgrade; readers stay deferred so they never block a writer.
            writing = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

        return cls(engine)

    def bulk_insert(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
        if not rows:
            return 0
        columns = list(rows[0].keys())
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
        # Straight to the driver: the compiled-statement path costs ~3x for wide batches.
        processors = bind_processors(table, columns, conn.dialect)
        if any(p is not None for p in processors):
            values = [
                tuple(p(r[c]) if p else r[c] for c, p in zip(columns, processors, strict=True))
                for r in rows
            ]
        else:
            values = [tuple(r[c] for c in columns) for r in rows]
        conn.exec_driver_sql(sql, values)
        return len(rows)
