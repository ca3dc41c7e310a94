"""SQLite backend: the embedded default (one file, WAL journal, no setup)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import operator
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

from smartcity.kernel.storage.base import SqlStore, _create_engine, bind_processors
from smartcity.kernel.storage.driver import driver_of, traced
from smartcity.kernel.storage.kept import WRITE_OPTION, KeptConnection

log = logging.getLogger(__name__)

# How long a writer waits for the write lock before it gives up.
BUSY_TIMEOUT_S = 10.0

# How often the checkpointer moves committed WAL pages into the database file. A batch
# upsert rewrites much the same pages as the batch before it (nearly every leaf of the
# history's series index, of context_attribute and of its number index), and a
# checkpoint copies each page once however many commits rewrote it since the last one:
# every 2 s instead of 0.5 s the checkpointer copied 35-50% fewer pages per batch. The
# WAL holds up to 2 s of writes (a batch at history depth 10: ~14 MB).
CHECKPOINT_INTERVAL_S = 2.0


def _tune(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a committed transaction survives a process crash (SIGKILL);
    # only an OS crash or power loss may roll back the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _no_autocheckpoint(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # The store's checkpointer thread does it (see ``Checkpointer``).
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


class Checkpointer:
    """Copies the WAL into the database file from a thread of its own.

    SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages,
    and it syncs the database file: on a busy disk that commit takes tens to hundreds
    of milliseconds, and every write queued behind it waits. Here the connections of
    the store never checkpoint; this thread does, every ``interval`` seconds, in PASSIVE
    mode (it never waits for, nor blocks, readers or writers). Commits then only append
    to the WAL (``synchronous=NORMAL``: no sync).
    """

    def __init__(self, path: str, interval: float = CHECKPOINT_INTERVAL_S) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, name="smartcity-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        connection = sqlite3.connect(self._path, check_same_thread=False)
        try:
            while not self._stop.wait(self._interval):
                self.checkpoint(connection)
            self.checkpoint(connection)
        finally:
            connection.close()

    @staticmethod
    def checkpoint(connection: sqlite3.Connection) -> None:
        """One passive checkpoint; a failure is logged and the next one tries again."""
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:
            log.warning("WAL checkpoint failed: %s", error)

    def close(self) -> None:
        """A last checkpoint, then stop."""
        self._stop.set()
        with contextlib.suppress(RuntimeError):
            self._thread.join()


class WriterLock:
    """One write transaction at a time across every process that opens the database file.

    SQLite lets one transaction write at a time. A writer that finds the file locked
    sleeps in SQLite's busy handler, which polls (after 1, 2, 5, 10, ... up to 100 ms):
    with two server processes, a write waited up to ~100 ms behind the other process's
    group although the lock came free after a millisecond. Here writers queue on an
    exclusive ``flock`` of a file beside the database (``<database>-writer``), and the
    kernel wakes the next one as soon as the holder lets go. The threads of one process
    queue on a thread lock first (an ``flock`` belongs to an open file, not a thread).
    The lock goes with the process: a killed writer holds nothing.
    """

    def __init__(self, database: str) -> None:
        self._fd = os.open(f"{database}-writer", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self._threads = threading.Lock()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock (waiting for it) until the block ends."""
        # As long as SQLite's busy handler would have waited: a write nested in another
        # write of the same thread fails as it did, instead of waiting for itself.
        if not self._threads.acquire(timeout=BUSY_TIMEOUT_S):
            raise TimeoutError(f"no write transaction within {BUSY_TIMEOUT_S:g} s")
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        """Let go of the lock file."""
        os.close(self._fd)


class SQLiteStore(SqlStore):
    """Store on a SQLite file (or ``:memory:`` for throwaway use)."""

    @classmethod
    def from_url(cls, url: URL, **options: Any) -> SQLiteStore:
        database = url.database or ""
        on_file = bool(database) and database != ":memory:" and not database.startswith("file:")
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        else:
            # One shared connection, or every checkout would see its own empty database.
            options.setdefault("poolclass", StaticPool)
        options.setdefault("connect_args", {"check_same_thread": False})
        engine = _create_engine(url, **options)
        event.listen(engine, "connect", _tune)
        if on_file:
            event.listen(engine, "connect", _no_autocheckpoint)

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
            sql = "BEGIN IMMEDIATE" if writing else "BEGIN"
            if traced(conn):
                conn.exec_driver_sql(sql)
            else:
                # Straight to sqlite3: SQLAlchemy's execution cost more than the BEGIN.
                driver_of(conn).execute(sql)

        store = cls(engine)
        if on_file:
            store._checkpointer = Checkpointer(database)
            store._writer_lock = WriterLock(database)
        return store

    _checkpointer: Checkpointer | None = None
    _writer_lock: WriterLock | None = None

    def keep_connection(self) -> KeptConnection:
        # The writer's transactions take the cross-process writer lock too.
        return KeptConnection(self._engine, self._writing)

    def _writing(self) -> contextlib.AbstractContextManager[None]:
        """The cross-process writer lock (none for an in-memory database)."""
        lock = self._writer_lock
        return contextlib.nullcontext() if lock is None else lock.held()

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        # Held from before ``BEGIN IMMEDIATE`` until after the commit or rollback.
        with self._writing(), super().begin() as conn:
            yield conn

    def close(self) -> None:
        super().close()
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self._writer_lock is not None:
            self._writer_lock.close()
            self._writer_lock = None

    def bulk_insert(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
        if not rows:
            return 0
        columns = list(rows[0].keys())
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
        # Straight to the driver: the compiled-statement path costs ~3x for wide batches.
        processors = bind_processors(table, columns, conn.dialect)
        # One C-level getter per row, then only the columns that need converting (a
        # DATETIME's text, a BOOLEAN's 0/1): a generator per row cost more than the insert.
        pick = operator.itemgetter(*columns)
        converted = [(i, p) for i, p in enumerate(processors) if p is not None]
        single = len(columns) == 1  # itemgetter of one name gives the value, not a tuple
        values: list[Any] = [(pick(r),) if single else pick(r) for r in rows]
        if converted:
            lists = [list(v) for v in values]
            for row in lists:
                for i, process in converted:
                    row[i] = process(row[i])
            values = [tuple(row) for row in lists]  # SQLAlchemy takes tuples, not lists
        conn.exec_driver_sql(sql, values)
        return len(rows)
