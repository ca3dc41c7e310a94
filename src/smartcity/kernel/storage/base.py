"""The Store protocol and the SQLAlchemy-based implementation both backends share."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, insert, text
from sqlalchemy.engine import Dialect, make_url

from smartcity.kernel.errors import ConfigurationError
from smartcity.kernel.storage.driver import driver_of
from smartcity.kernel.storage.group_commit import GroupCommit, Together

log = logging.getLogger(__name__)

T = TypeVar("T")

# Threads running awaited writes that do not group; PostgreSQL's pool holds 10 (+ 20).
WRITE_THREADS = 16

# Execution option marking a connection that will write (SQLite takes the lock up front).
WRITE_OPTION = "smartcity_write"


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
        self._writer = GroupCommit(self.begin, self.writer_begin)
        self._threads: ThreadPoolExecutor | None = None

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

    # The group-commit writer's connection, kept between its transactions (only the
    # writer thread uses it; ``close`` closes it once that thread has stopped).
    _held: Connection | None = None

    @contextlib.contextmanager
    def writer_begin(self) -> Iterator[Connection]:
        """A write transaction on the writer thread's own connection.

        The group commit has one writer thread: checking a connection out of the pool
        for every group, and back in (the pool's events, its reset on return), cost more
        than a small group's statements. The connection stays checked out between
        groups, outside any transaction (it holds no lock and no snapshot, so it never
        delays a reader, a checkpoint or another writer). Should a transaction fail, its
        rollback is made sure of; a connection that cannot even roll back is closed and
        the next group opens another.
        """
        conn = self._held
        if conn is None or conn.closed or conn.invalidated or not self._held_usable(conn):
            conn = self._held = self._engine.connect()
            conn.execution_options(**{WRITE_OPTION: True})
            self._held_opened(conn)
        try:
            with self._writing(), conn.begin():
                yield conn
        except BaseException:
            self._settle_held(conn)
            raise
        finally:
            if self._held is conn:
                self._held_done(conn)

    def _held_opened(self, conn: Connection) -> None:
        """Once, when the writer's kept connection is checked out."""

    def _release_held(self, conn: Connection) -> None:
        """Give the kept connection back (``close``)."""
        conn.close()

    def _held_usable(self, conn: Connection) -> bool:
        """Whether the kept writer connection may serve the next group (or is replaced)."""
        return True

    def _held_done(self, conn: Connection) -> None:
        """After each of the kept connection's transactions."""

    def _writing(self) -> contextlib.AbstractContextManager[None]:
        """What a write transaction holds from before its start until after its end."""
        return contextlib.nullcontext()

    def _settle_held(self, conn: Connection) -> None:
        """After a failed transaction: make sure nothing of it stays open, or drop ``conn``."""
        try:
            if conn.in_transaction():
                conn.rollback()
            driver = driver_of(conn)
            if driver_in_transaction(driver):
                driver.rollback()
        except Exception:
            log.warning("the store writer's connection could not roll back; opening another")
            self._drop_held(conn)

    def _drop_held(self, conn: Connection) -> None:
        """Forget the kept writer connection and close it (the next group opens another)."""
        if self._held is conn:
            self._held = None
        with contextlib.suppress(Exception):
            conn.invalidate()
            conn.close()

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
        held, self._held = self._held, None
        if held is not None:
            with contextlib.suppress(Exception):
                self._release_held(held)
        if self._threads is not None:
            self._threads.shutdown()
            self._threads = None
        self._engine.dispose()


def driver_in_transaction(driver: Any) -> bool:
    """Whether a DB-API connection (sqlite3's or psycopg's) has a transaction open."""
    info = getattr(driver, "info", None)
    status = getattr(info, "transaction_status", None)
    if status is not None:  # psycopg: anything but IDLE (0), a broken connection too
        return bool(status != 0)
    return bool(driver.in_transaction)


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
