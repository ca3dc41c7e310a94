"""The Store protocol and the SQLAlchemy-based implementation both backends share."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, insert, text
from sqlalchemy.engine import Dialect, make_url

from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.storage.group_commit import GroupCommit, Together
from smartcity.kernel.storage.kept import WRITE_OPTION, KeptConnection

T = TypeVar("T")

# Threads running awaited writes that do not group; PostgreSQL's pool holds 10 (+ 20).
WRITE_THREADS = 16


class Store(Protocol):
    """Transactional access to the platform's database."""

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        ...

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        ...

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (Core only; apps never see a driver)."""
        ...

    def begin(self) -> contextlib.AbstractContextManager[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        ...

    def connect(self) -> contextlib.AbstractContextManager[Connection]:
        """A connection for reading."""
        ...

    def write(
        self,
        work: Callable[[Connection], T],
        *,
        after_commit: Callable[[T], None] | None = None,
        retry_on: tuple[type[BaseException], ...] = (),
    ) -> T:
        """Run ``work`` in a write transaction it may share with concurrent writes.

        Group commit (:mod:`smartcity.kernel.storage.group_commit`): the writes queued
        meanwhile run in order in one transaction, each in its own savepoint, and commit
        once. ``work`` sees the writes queued before it; an exception it raises undoes
        only its own changes and is raised here. ``after_commit(result)`` runs once the
        write is durable, in queue order. Exceptions in ``retry_on`` run ``work`` once more.
        """
        ...

    async def write_async(
        self,
        work: Callable[[Connection], T],
        *,
        after_commit: Callable[[T], None] | None = None,
        retry_on: tuple[type[BaseException], ...] = (),
        together: Together | None = None,
    ) -> T:
        """``write`` for a caller on an event loop: awaits the commit without a thread.

        A write with ``together`` always goes through the writer (on PostgreSQL too),
        where the queued writes sharing its ``Together.run`` run as one set of
        statements, without savepoints (:mod:`~smartcity.kernel.storage.group_commit`).
        """
        ...

    def bulk_insert(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert many rows in as few round trips as the backend allows; returns the count."""
        ...

    def migrate(self, extra_table_modules: Sequence[str] = ()) -> None:
        """Bring the schema up to date (Alembic ``upgrade heads``)."""
        ...

    def ping(self) -> None:
        """Raise if the database does not answer."""
        ...

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load (PostgreSQL ``ANALYZE``)."""
        ...

    def close(self) -> None:
        """Release every connection."""
        ...


class SqlStore:
    """Shared behaviour of the SQLAlchemy-backed stores."""

    # Whether concurrent writes share a transaction (``group_commit``). SQLite admits one
    # writer anyway; on PostgreSQL a write with savepoints costs as many round trips as
    # alone, so there writes run on their own, on many connections at once; only the
    # writes that go ``together`` (read in one statement, written in one pipeline) are
    # grouped there, in the one writer thread (decision 0015).
    group_commit = True

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._kept = self.keep_connection()
        self._writer = GroupCommit(self.begin, self._kept)
        self._threads: ThreadPoolExecutor | None = None

    def keep_connection(self) -> KeptConnection:
        """The writer thread's connection, kept between its transactions."""
        return KeptConnection(self._engine)

    def _write_threads(self) -> ThreadPoolExecutor:
        """Threads for awaited writes that do not group (as many as the pool's connections)."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(
                max_workers=WRITE_THREADS, thread_name_prefix="smartcity-store-write"
            )
        return self._threads

    @property
    def url(self) -> str:
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            yield conn

    def write(
        self,
        work: Callable[[Connection], T],
        *,
        after_commit: Callable[[T], None] | None = None,
        retry_on: tuple[type[BaseException], ...] = (),
    ) -> T:
        if not self.group_commit:
            alone: T = self._writer.run_now(work, after_commit=after_commit, retry_on=retry_on)
            return alone
        future = self._writer.submit(work, after_commit=after_commit, retry_on=retry_on)
        result: T = future.result()
        return result

    async def write_async(
        self,
        work: Callable[[Connection], T],
        *,
        after_commit: Callable[[T], None] | None = None,
        retry_on: tuple[type[BaseException], ...] = (),
        together: Together | None = None,
    ) -> T:
        if not self.group_commit and together is None:
            call = functools.partial(
                self._writer.run_now, work, after_commit=after_commit, retry_on=retry_on
            )
            alone: T = await asyncio.get_running_loop().run_in_executor(
                self._write_threads(), contextvars.copy_context().run, call
            )
            return alone
        result: T = await self._writer.run(
            work, after_commit=after_commit, retry_on=retry_on, together=together
        )
        return result

    def bulk_insert(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
        if not rows:
            return 0
        conn.execute(insert(table), list(rows))
        return len(rows)

    def migrate(self, extra_table_modules: Sequence[str] = ()) -> None:
        from smartcity.kernel.storage.migrate import upgrade

        upgrade(self, extra_table_modules)

    def ping(self) -> None:
        with self._engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def analyze(self) -> None:
        # PostgreSQL plans a fresh database's statements without statistics until
        # autovacuum's first ANALYZE (a minute or more after a bulk load): a PATCH's group
        # statements then cost its backend 0.75 ms instead of 0.28 ms. SQLite keeps no
        # statistics unless asked; its hot statements name their indexes instead.
        if self.dialect == "postgresql":
            with self._engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()

    def close(self) -> None:
        self._writer.close()  # the writer thread stops before its connection closes
        self._kept.close()
        if self._threads is not None:
            self._threads.shutdown()
            self._threads = None
        self._engine.dispose()


def bind_processors(table: Table, columns: Sequence[str], dialect: Dialect) -> list[Any]:
    """The value converters an ordinary INSERT would apply, for raw driver-level batches.

    Taken from each type's *dialect* implementation: the generic type's processor skips
    the dialect's own formatting (SQLite's DATETIME text format, for one), and rows
    written in bulk must read back exactly like rows written one by one.
    """
    return [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]


def open_store(url: str, **engine_options: Any) -> SqlStore:
    """Open the store for a database URL (``sqlite:///...`` or ``postgresql://...``)."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError for malformed URLs
        raise ConfigurationError(f"cannot parse database URL {url!r}: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        from smartcity.kernel.storage.sqlite import SQLiteStore

        return SQLiteStore.from_url(parsed, **engine_options)
    if backend in ("postgresql", "postgres"):
        from smartcity.kernel.storage.postgres import PostgresStore

        return PostgresStore.from_url(parsed, **engine_options)
    raise ConfigurationError(
        f"unsupported database {backend!r}: use sqlite:///path or postgresql://user@host/db"
    )


def _create_engine(url: Any, **options: Any) -> Engine:
    return create_engine(url, **options)
