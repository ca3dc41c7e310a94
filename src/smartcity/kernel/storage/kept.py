"""The connection a store's writer thread keeps between its transactions.

The writer thread (:mod:`~smartcity.kernel.storage.group_commit`, one per store) runs one
group after the other: checking a connection out of the pool for every group, and back
in (the pool's events, its reset on return), cost more than a small group's
statements. The connection stays checked out between groups, outside any transaction
(it holds no lock and no snapshot, so it never delays a reader, a checkpoint or another
writer). Should a transaction fail, its rollback is made sure of; a connection that
cannot even roll back is closed and the next group opens another.

A backend adapts it in a subclass (PostgreSQL: its plan setting, a ping after idling,
groups whose statements commit alone).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

from sqlalchemy import Connection, Engine

from smartcity.kernel.storage.driver import driver_of

log = logging.getLogger(__name__)

# Execution option marking a connection that will write (SQLite takes the lock up front).
WRITE_OPTION = "smartcity_write"


class KeptConnection:
    """One writer thread's connection, checked out once and kept (only that thread uses it)."""

    def __init__(
        self,
        engine: Engine,
        writing: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        # ``writing``: what a write transaction holds from before its start until after
        # its end (SQLite: the cross-process writer lock).
        self._engine = engine
        self._writing = writing
        self.connection: Connection | None = None

    @contextlib.contextmanager
    def begin(self, *, alone: bool = False) -> Iterator[Connection]:
        """A write transaction on the kept connection (opened anew if it is gone).

        ``alone``: the work's statements may each commit by themselves (see
        :meth:`commits_alone`); where the backend cannot, the work gets a transaction.
        """
        conn = self.connection
        if conn is None or conn.closed or conn.invalidated or not self.usable(conn):
            conn = self.connection = self._engine.connect()
            conn.execution_options(**{WRITE_OPTION: True})
            self.opened(conn)
        try:
            with self._writing():
                if alone and self.commits_alone(conn):
                    with self.autocommit(conn):
                        yield conn
                else:
                    with conn.begin():
                        yield conn
        except BaseException:
            self.settle(conn)
            raise
        finally:
            if self.connection is conn:
                self.done(conn)

    def opened(self, conn: Connection) -> None:
        """Once, when the connection is checked out."""

    def usable(self, conn: Connection) -> bool:
        """Whether the connection may serve the next transaction (or is replaced)."""
        return True

    def done(self, conn: Connection) -> None:
        """After each of the connection's transactions."""

    def commits_alone(self, conn: Connection) -> bool:
        """Whether ``conn`` can run a work outside a transaction (``begin(alone=True)``)."""
        return False

    def autocommit(self, conn: Connection) -> contextlib.AbstractContextManager[None]:
        """``conn`` with each statement committing by itself, for ``begin(alone=True)``."""
        raise NotImplementedError

    def settle(self, conn: Connection) -> None:
        """After a failed transaction: make sure nothing of it stays open, or drop ``conn``."""
        try:
            if conn.in_transaction():
                conn.rollback()
            driver = driver_of(conn)
            if driver_in_transaction(driver):
                driver.rollback()
        except Exception:
            log.warning("the store writer's connection could not roll back; opening another")
            self.drop(conn)

    def drop(self, conn: Connection) -> None:
        """Forget ``conn`` and close it (the next transaction opens another)."""
        if self.connection is conn:
            self.connection = None
        with contextlib.suppress(Exception):
            conn.invalidate()
            conn.close()

    def close(self) -> None:
        """Give the connection back (once its writer thread has stopped)."""
        conn, self.connection = self.connection, None
        if conn is not None:
            with contextlib.suppress(Exception):
                self.release(conn)

    def release(self, conn: Connection) -> None:
        """How ``close`` gives the connection back."""
        conn.close()


def driver_in_transaction(driver: object) -> bool:
    """Whether a DB-API connection (sqlite3's or psycopg's) has a transaction open."""
    info = getattr(driver, "info", None)
    status = getattr(info, "transaction_status", None)
    if status is not None:  # psycopg: anything but IDLE (0), a broken connection too
        return bool(status != 0)
    return bool(getattr(driver, "in_transaction", False))
