"""The few write statements of a single-entity write, sent to PostgreSQL in one round trip.

A PATCH writes three rows or so (the entity's modifiedAt, the attribute, its history
row). Each statement through SQLAlchemy is a round trip to the server, and on a busy
machine every round trip is a hand-over between two processes: the trips, not the
statements, are what a single-entity write costs there. psycopg's pipeline mode sends
the statements one after another and waits once, at the end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NoReturn

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from smartcity.kernel.storage.driver import driver_of, driver_statement


class Pipeline:
    """Statements collected in order and sent together by :meth:`send`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._batches: list[tuple[str, list[dict[str, Any]]]] = []

    def add(self, statement: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """``statement`` once per row (the rows share their keys), sent later."""
        if not rows:
            return
        compiled = driver_statement(self._conn, statement, tuple(rows[0]))
        self._batches.append((compiled.sql, compiled.parameters(rows)))

    def add_sql(self, sql: str, parameters: Mapping[str, Any]) -> None:
        """Driver-level ``sql`` once with ``parameters`` (already converted), sent later."""
        self._batches.append((sql, [dict(parameters)]))

    def send(self) -> None:
        """Every statement in one round trip; a failed one raises as SQLAlchemy would.

        Errors are raised as SQLAlchemy's (:func:`raise_translated`); the transaction is
        then aborted and rolled back by its owner.
        """
        batches, self._batches = self._batches, []
        if not batches:
            return
        driver = driver_of(self._conn)
        with translated(self._conn, batches[0][0]), driver.pipeline(), driver.cursor() as cursor:
            for sql, params in batches:
                cursor.executemany(sql, params)


@contextlib.contextmanager
def translated(conn: Connection, sql: str) -> Iterator[None]:
    """A psycopg error raised inside is raised as SQLAlchemy would (``raise_translated``)."""
    import psycopg

    try:
        yield
    except psycopg.Error as error:
        raise_translated(conn, sql, error)


def raise_translated(conn: Connection, sql: str, error: Exception) -> NoReturn:
    """Raise a psycopg error as SQLAlchemy would have.

    A unique or foreign-key violation is :class:`~sqlalchemy.exc.IntegrityError` (the
    write path retries on it), anything else :class:`~sqlalchemy.exc.DBAPIError`. A
    lost connection also drops the pool's other connections, as SQLAlchemy does when it
    sees one: they most likely went with the same server.
    """
    import psycopg

    if isinstance(error, psycopg.IntegrityError):
        raise IntegrityError(sql, None, error) from error
    lost = bool(getattr(conn.connection.driver_connection, "closed", False))
    if lost:
        conn.engine.dispose(close=False)
    raise DBAPIError(sql, None, error, connection_invalidated=lost) from error
