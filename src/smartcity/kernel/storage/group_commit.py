"""Group commit: the concurrent writes of a process share one transaction and one commit.

A single-entity write costs little next to its commit (on SQLite the commit writes the
WAL pages of every index touched; on PostgreSQL it is one more round trip), and SQLite
admits one writer at a time anyway. A writer thread therefore takes every write queued
while its previous group ran, runs them in order in ONE transaction, each inside its
own savepoint, and commits once: sixteen concurrent PATCHes pay one commit.

A store has one writer thread, with its queue and its connection: the writes of a
process commit, and publish their events, in queue order (decision 0015, addendum 6: the
lanes of session 9, several writer threads by entity, split the groups and cost 1.6-2.5x
the CPU per PATCH).

Each write keeps its own outcome. A write that raises is rolled back to its savepoint
and gets its exception; the others of the group commit. A write that raises one of its
``retry_on`` exceptions (a unique violation after a stale read) runs once more, in the
same transaction, on fresh data. Should the commit itself fail, every write of the group
runs again alone, so one bad write never takes the others down.

``after_commit`` runs once the write is durable, in queue order (events are published
there, so subscribers see the changes of one entity in order): in the writer thread, or,
when every write of a group awaits on one event loop, on that loop just before their
results are handed over (:func:`settle`). The events of a group are then published on
the loop itself: a write published from the writer thread woke the loop once per event
(~10 wake-ups per group of 16), on the loop they cost none. The loop is the one the bus
delivers on (the served application's), so the order of groups is kept either way: a
later group's events published from the writer reach the loop after this one's.

Writes that can go *together* (:class:`Together`: the single-entity writes of the
information library) skip the savepoints: the queued writes sharing one ``Together.run``
are handed to it at once, and it reads what they need in one statement, decides each
write's outcome in Python (a domain error is one write's answer, decided before anything
is written) and sends all their rows as one set of statements. Should the database
refuse that set (a rare race: a unique violation, a row deleted meanwhile), the whole
transaction rolls back and every write of the group runs again alone, as above.

A group smaller than the writer's last one waits a little (``GATHER_SECONDS``) for more:
callers answered together send their next writes together, and without the wait the
first of them would make a group of one (decision 0015, addendum 5).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection

log = logging.getLogger(__name__)

# More writes per group add latency to the first ones for little saved per commit.
MAX_GROUP = 64
# How long a group smaller than the writer's last one waits for more writes. Callers over
# HTTP answer a group and send their next request all at once; without the wait the
# first of them makes a group of one and the rest the next group, and each group costs
# its round trips, statements and commit (session 9: 0.30-0.37 against 0.23-0.26 ms of
# server CPU per PATCH; docs/performance.md "Gathering a group, session 9").
GATHER_SECONDS = 0.0004
SAVEPOINT = "smartcity_write"


# Runs several writes' items in one go on one connection; per item (succeeded, value or
# exception). A database error it raises fails the whole group (each write then runs alone).
RunTogether = Callable[[Connection, Sequence[Any]], list[tuple[bool, Any]]]


@dataclass(frozen=True)
class Together:
    """How a write joins the others of its group: ``run`` takes every ``item`` at once.

    ``alone``: when the run is its group's whole, its statements may each commit by
    themselves (the store opens no transaction); a run needing several statements to
    commit together opens one itself, and the store commits it.
    """

    run: RunTogether
    item: Any
    alone: bool = False


@dataclass(slots=True)
class Write:
    """One queued write: the work, what runs after commit, and its future outcome."""

    work: Callable[[Connection], Any]
    after_commit: Callable[[Any], None] | None
    retry_on: tuple[type[BaseException], ...]
    # Set for a caller waiting in a thread (``submit``); a loop's caller has ``waiter``
    # (a thread's future costs a lock and a condition per write).
    future: Future[Any] | None = None
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    # Set for a caller awaiting on an event loop: its outcome is handed over on the loop.
    waiter: asyncio.Future[Any] | None = None
    outcome: tuple[bool, Any] | None = None
    # Set for a write that can run together with others of the same ``Together.run``.
    together: Together | None = None
    # Whether ``after_commit`` waits for ``settle`` on the caller's loop (see the module).
    on_loop: bool = False


class WriterConnection(Protocol):
    """The writer's connection (``KeptConnection``): its transactions, or none (``alone``)."""

    def begin(self, *, alone: bool = False) -> contextlib.AbstractContextManager[Connection]:
        """A write transaction; with ``alone`` maybe none (statements commit alone)."""
        ...


class GroupCommit:
    """The writer thread of one store (started on the first write), its queue and connection."""

    def __init__(
        self,
        begin: Callable[[], contextlib.AbstractContextManager[Connection]],
        connection: WriterConnection | None = None,
    ) -> None:
        # ``connection``: the writer thread's own transactions (the groups and the writes
        # it runs alone); a store may keep it between groups. ``begin`` serves the
        # callers' threads (``run_now``) and a write queued by a write.
        self._begin = begin
        self._connection = connection or Transactions(begin)
        self._queue: queue.SimpleQueue[Write | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # A group smaller than the last one waits this long for more (0: never).
        self.gather_seconds = GATHER_SECONDS
        # The size of the last group, the measure of the next one (``gather_seconds``).
        self.last_size = 0

    def submit(
        self,
        work: Callable[[Connection], Any],
        *,
        after_commit: Callable[[Any], None] | None = None,
        retry_on: tuple[type[BaseException], ...] = (),
    ) -> Future[Any]:
        """Queue ``work``; the future holds its result once committed, or its exception."""
        future: Future[Any] = Future()
        self._queue_write(Write(work, after_commit, retry_on, future))
        return future

    async def run(
        self,
        work: Callable[[Connection], Any],
        *,
        after_commit: Callable[[Any], None] | None = None,
        retry_on: tuple[type[BaseException], ...] = (),
        together: Together | None = None,
    ) -> Any:
        """Queue ``work`` and await its result on the running loop.

        The writer hands the outcomes of a whole group to each loop in one call, so an
        event loop wakes once per group rather than once per write. With ``together``
        the write may run with the group's others of the same kind (see the module).
        """
        waiter = asyncio.get_running_loop().create_future()
        self._queue_write(Write(work, after_commit, retry_on, waiter=waiter, together=together))
        return await waiter

    def _queue_write(self, write: Write) -> Write:
        if threading.current_thread() is self._thread:
            # A write queued by a write would wait for itself: it runs alone, now (on a
            # connection of its own: the writer's is inside the queuing write's transaction).
            self._run_alone(write, self._begin)
            deliver([write])
            return write
        self._ensure_thread()
        self._queue.put(write)
        return write

    def run_now(
        self,
        work: Callable[[Connection], Any],
        *,
        after_commit: Callable[[Any], None] | None = None,
        retry_on: tuple[type[BaseException], ...] = (),
    ) -> Any:
        """Run ``work`` alone in the calling thread, with the same outcome rules."""
        write = Write(work, after_commit, retry_on)
        self._run_alone(write, self._begin)
        ok, value = write.outcome or (False, RuntimeError("the write never ran"))
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Finish the queued writes and stop the writer thread."""
        with self._lock:
            thread = self._thread
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            # Known as the writer until it stops: a write it runs may queue another.
            # No new thread starts meanwhile (it might take the old one's stop).
            thread.join()
        with self._lock:
            self._thread = None

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is not None:
                return
            thread = threading.Thread(
                target=self._serve, name="smartcity-store-writer", daemon=True
            )
            thread.start()
            self._thread = thread

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = False
            deadline = 0.0
            while len(group) < MAX_GROUP:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    # Smaller than the last group: its callers are likely still sending
                    # (their answers went out a moment ago); wait a little for them.
                    if len(group) >= self.last_size or not self.gather_seconds:
                        break
                    now = time.monotonic()
                    deadline = deadline or now + self.gather_seconds
                    try:
                        more = self._queue.get(timeout=max(deadline - now, 0.0))
                    except queue.Empty:
                        break
                if more is None:
                    stop = True
                    break
                group.append(more)
            self.last_size = len(group)
            on_loop(group)
            try:
                self._run_group(self._connection, group)
            except BaseException as error:  # pragma: no cover - never leave a caller hanging
                log.exception("group commit failed")
                for write in group:
                    if write.outcome is None:
                        write.outcome = (False, error)
            deliver(group)
            if stop:
                return

    def _run_group(self, connection: WriterConnection, group: list[Write]) -> None:
        single = group[0].together
        if len(group) == 1 and (single is None or not single.alone):
            self._run_alone(group[0], connection.begin)
            return
        outcomes: list[tuple[bool, Any]] = []
        cut = segments(group)
        # A run of writes that is its group's whole may commit without a transaction.
        first = cut[0][1][0].together
        alone = len(cut) == 1 and first is not None and first.alone
        try:
            with connection.begin(alone=alone) as conn:
                for run, writes in cut:
                    if run is None:
                        outcomes.extend(self._run_in_savepoint(conn, w) for w in writes)
                    else:
                        items = [w.together.item for w in writes if w.together is not None]
                        outcomes.extend(writes[0].context.run(run, conn, items))
        except Exception:
            # The commit (or a savepoint statement) failed: nothing of the group is
            # stored. Each write runs again alone and gets its own outcome.
            log.warning("a group of %d writes failed to commit; running each alone", len(group))
            for write in group:
                self._run_alone(write, connection.begin)
            return
        for write, (ok, value) in zip(group, outcomes, strict=True):
            self._finish(write, ok, value)

    def _run_in_savepoint(self, conn: Connection, write: Write) -> tuple[bool, Any]:
        # Savepoint statements go straight to the driver (sqlite3 and psycopg connections
        # both execute): through SQLAlchemy they cost more than the database's own work.
        driver: Any = conn.connection.driver_connection
        retried = False
        while True:
            driver.execute(f"SAVEPOINT {SAVEPOINT}")
            try:
                value = write.context.run(write.work, conn)
            except BaseException as error:
                driver.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
                driver.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
                if isinstance(error, write.retry_on) and not retried:
                    retried = True
                    continue
                if not isinstance(error, Exception):
                    raise
                return False, error
            driver.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
            return True, value

    def _run_alone(
        self, write: Write, begin: Callable[[], contextlib.AbstractContextManager[Connection]]
    ) -> None:
        retried = False
        while True:
            try:
                with begin() as conn:
                    value = write.context.run(write.work, conn)
            except Exception as error:
                if isinstance(error, write.retry_on) and not retried:
                    retried = True
                    continue
                self._finish(write, False, error)
                return
            self._finish(write, True, value)
            return

    @staticmethod
    def _finish(write: Write, ok: bool, value: Any) -> None:
        if ok and not write.on_loop:
            run_after_commit(write, value)
        write.outcome = (ok, value)


def run_after_commit(write: Write, value: Any) -> None:
    """The write's after-commit step (a failure is logged: the write did commit)."""
    if write.after_commit is None:
        return
    try:
        write.context.run(write.after_commit, value)
    except Exception:
        log.exception("after-commit step of a write failed")


def on_loop(group: list[Write]) -> None:
    """Let the group's after-commit steps run on its loop if all its writes await on one."""
    loop = None
    for write in group:
        if write.waiter is None:
            return
        if loop is None:
            loop = write.waiter.get_loop()
        elif write.waiter.get_loop() is not loop:
            return
    for write in group:
        write.on_loop = True


def segments(group: list[Write]) -> list[tuple[RunTogether | None, list[Write]]]:
    """The group in order, cut into runs of writes going together (run) or alone (None).

    Only a run of two or more writes goes together: one write alone needs no more.
    """
    cut: list[tuple[RunTogether | None, list[Write]]] = []
    for write in group:
        run = write.together.run if write.together is not None else None
        if cut and run is not None and cut[-1][0] is run:
            cut[-1][1].append(write)
        else:
            cut.append((run, [write]))
    if len(cut) == 1:
        return cut  # a group of one write going together (``Together.alone``) runs as one
    return [
        (run, writes) if run is None or len(writes) > 1 else (None, writes) for run, writes in cut
    ]


def deliver(group: list[Write]) -> None:
    """Hand each write's outcome to its caller: futures at once, loops one call each."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Write]] = {}
    for write in group:
        if write.waiter is not None:
            by_loop.setdefault(write.waiter.get_loop(), []).append(write)
            continue
        if write.future is None:
            continue
        ok, value = write.outcome or (False, RuntimeError("the write never ran"))
        if ok:
            write.future.set_result(value)
        else:
            write.future.set_exception(value)
    for loop, writes in by_loop.items():
        try:
            loop.call_soon_threadsafe(settle, writes)
        except RuntimeError:  # the loop closed meanwhile: nobody waits any more
            log.warning("%d writes finished after their event loop closed", len(writes))
            for write in writes:
                if write.on_loop and write.outcome is not None and write.outcome[0]:
                    run_after_commit(write, write.outcome[1])


def settle(writes: list[Write]) -> None:
    """On the caller's loop: the deferred after-commit steps, in queue order, then the
    awaiting futures' results (a cancelled caller's write still publishes its events)."""
    for write in writes:
        ok, value = write.outcome or (False, RuntimeError("the write never ran"))
        if ok and write.on_loop:
            run_after_commit(write, value)
        waiter = write.waiter
        if waiter is None or waiter.done():
            continue
        if ok:
            waiter.set_result(value)
        else:
            waiter.set_exception(value)


class Transactions:
    """The writer's connection when the store keeps none: a transaction from ``begin`` each time."""

    def __init__(self, begin: Callable[[], contextlib.AbstractContextManager[Connection]]) -> None:
        self._begin = begin

    @contextlib.contextmanager
    def begin(self, *, alone: bool = False) -> Iterator[Connection]:
        """A transaction (``alone`` asks for none; every work gets one here)."""
        with self._begin() as conn:
            yield conn
