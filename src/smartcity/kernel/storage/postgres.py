"""PostgreSQL + PostGIS backend: for a city that outgrows one file."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DisconnectionError

from smartcity.kernel.storage.base import SqlStore, _create_engine, bind_processors
from smartcity.kernel.storage.driver import PREPARE_THRESHOLD, driver_of, traced
from smartcity.kernel.storage.kept import KeptConnection, driver_in_transaction

# A pooled connection unused for longer than this is pinged before it is handed out.
IDLE_PING_S = 10.0


def restore_prepare_on_checkin(engine: Engine) -> None:
    """A connection ``driver.plan_each_run`` changed prepares statements again once returned."""

    @event.listens_for(engine, "checkin")
    def _prepare_again(dbapi_connection: Any, record: Any) -> None:
        threshold = record.info.pop(PREPARE_THRESHOLD, None) if record.info else None
        if threshold is not None and dbapi_connection is not None:
            dbapi_connection.prepare_threshold = threshold


def ping_after_idle(engine: Engine, idle_s: float = IDLE_PING_S) -> None:
    """Ping a pooled connection at checkout only if it sat idle for ``idle_s`` seconds.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: one more round trip per
    write, a quarter of a PATCH's. A connection in steady use is known to be alive; one
    idle for a while may have been closed by the server, a proxy or a restart, and a
    failed ping replaces it before anyone uses it. Should the server go away while
    connections are in steady use, the first statement on a dead one fails (one request
    answers an error) and SQLAlchemy then invalidates every connection of the pool
    opened before the failure, so the next checkouts connect afresh.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops this connection and checks out another (a fresh one).
            raise DisconnectionError(f"connection idle for {idle_s:g}s did not answer") from error


def set_session(dbapi_connection: Any, sql: str) -> None:
    """Run a session ``SET`` outside any transaction (a rollback does not undo it)."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    dbapi_connection.execute(sql)
    dbapi_connection.autocommit = autocommit


def no_jit(engine: Engine) -> None:
    """Every connection of ``engine`` runs without JIT compilation (``SET jit = off``).

    PostgreSQL compiles a statement the planner prices above ``jit_above_cost`` before
    running it, which pays off for queries of seconds; the platform's statements answer
    in milliseconds, and the planner overprices some (the temporal range scans, with
    their page of entities unknown in advance): compiling one took ~0.5 s, running it
    ~20 ms. Set once per connection, not per transaction: a read then needs no
    ``SET LOCAL`` round trip (nor a transaction).
    """

    @event.listens_for(engine, "connect")
    def _without_jit(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a session setting, not undone by a rollback
        dbapi_connection.execute("SET jit = off")
        dbapi_connection.autocommit = autocommit


class PostgresKeptConnection(KeptConnection):
    """A writer thread's kept connection on PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        # When the connection last finished a transaction.
        self._since = 0.0

    def opened(self, conn: Connection) -> None:
        # The writer's connection runs the groups of single-entity writes (and each of
        # their writes alone should a group fail): a few rows each, found by primary
        # key. psycopg prepares them; PostgreSQL then planned the group's write
        # statement afresh at every group (a custom plan: its arrays' lengths made the
        # generic plan look dearer), ~40% of the database's CPU per PATCH. A generic
        # plan serves every group. Batches, which want plans for their arrays
        # (``driver.plan_each_run``), never run on this connection.
        set_session(driver_of(conn), "SET plan_cache_mode = force_generic_plan")

    def release(self, conn: Connection) -> None:
        # Not back into the pool with the writer's plan setting: closed for good.
        conn.invalidate()
        conn.close()

    def usable(self, conn: Connection) -> bool:
        # As the pool does at checkout (``ping_after_idle``): a connection idle for a
        # while may have been closed by the server, a proxy or a restart.
        if time.monotonic() - self._since < IDLE_PING_S:
            return True
        try:
            self._engine.dialect.do_ping(driver_of(conn))
        except Exception:
            self.drop(conn)
            return False
        return True

    def done(self, conn: Connection) -> None:
        self._since = time.monotonic()
        # A connection ``plan_each_run`` changed prepares statements again, as the pool
        # restores it at check-in (``restore_prepare_on_checkin``); this one stays out.
        record = conn.connection
        threshold = record.info.pop(PREPARE_THRESHOLD, None) if record.info else None
        if threshold is not None and record.driver_connection is not None:
            record.driver_connection.prepare_threshold = threshold

    def commits_alone(self, conn: Connection) -> bool:
        # Someone traces statements (instrumentation, tests): they see each one inside
        # its transaction, as SQLAlchemy sends them.
        return not traced(conn)

    @contextlib.contextmanager
    def autocommit(self, conn: Connection) -> Iterator[None]:
        """No ``BEGIN``, no ``COMMIT``: each statement commits by itself.

        A group of single-entity writes then costs two round trips: its read (a snapshot
        of what is committed) and its one write statement, all or nothing. A work that
        needs several statements to commit together turns autocommit off before them
        (``entity_group.one_transaction``); what it opened is committed here.
        """
        driver = driver_of(conn)
        driver.autocommit = True
        try:
            yield
            if conn.in_transaction():
                conn.commit()
            if driver_in_transaction(driver):
                driver.commit()
        except BaseException:
            self.settle(conn)
            raise
        finally:
            try:
                driver.autocommit = False
            except Exception:
                # Never keep a connection committing each statement: the next
                # transaction on it would not be one.
                self.drop(conn)


class PostgresStore(SqlStore):
    """Store on PostgreSQL through psycopg 3."""

    group_commit = False

    def keep_connection(self) -> KeptConnection:
        return PostgresKeptConnection(self._engine)

    @classmethod
    def from_url(cls, url: URL, **options: Any) -> PostgresStore:
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 20)
        engine = _create_engine(url, **options)
        if not options.get("pool_pre_ping"):
            ping_after_idle(engine)
        restore_prepare_on_checkin(engine)
        no_jit(engine)
        return cls(engine)

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
