"""PostgreSQL + PostGIS backend: for a city that outgrows one file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import URL

from smartcity.kernel.storage.base import SqlStore, _create_engine, bind_processors


class PostgresStore(SqlStore):
    """Store on PostgreSQL through psycopg 3."""

    group_commit = False

    @classmethod
    def from_url(cls, url: URL, **options: Any) -> PostgresStore:
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 20)
        options.setdefault("pool_pre_ping", True)
        return cls(_create_engine(url, **options))

    def bulk_insert(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
        if not rows:
            return 0
        columns = list(rows[0].keys())
        # COPY is the fastest way in; values that need a bind expression (geometry)
        # go through ordinary batched INSERTs instead.
        impls = [table.c[c].type.dialect_impl(conn.dialect) for c in columns]
        if any(getattr(impl, "_has_bind_expression", False) for impl in impls):
            return super().bulk_insert(conn, table, rows)
        processors = bind_processors(table, columns, conn.dialect)
        raw = conn.connection.driver_connection
        if raw is None:
            return super().bulk_insert(conn, table, rows)
        names = ", ".join(f'"{c}"' for c in columns)
        pairs = list(zip(columns, processors, strict=True))
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row([p(row[c]) if p else row[c] for c, p in pairs])
        return len(rows)
