"""The group commit's writer thread: no caller left waiting, and groups gathered whole."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from typing import Any

import pytest

from smartcity.kernel.storage.group_commit import GroupCommit, Together, Write


class FakeConnection:
    """The writer's connection, recording what ran on it (the thread is the subject)."""

    def __init__(self) -> None:
        self.log: list[Any] = []
        self.refuse = False

    @contextlib.contextmanager
    def begin(self, *, alone: bool = False) -> Iterator[Any]:
        if self.refuse:
            raise ConnectionError("the server went away")
        yield self


def writer_of() -> tuple[GroupCommit, FakeConnection]:
    connection = FakeConnection()

    @contextlib.contextmanager
    def begin() -> Iterator[Any]:
        yield connection

    return GroupCommit(begin, connection), connection


def run_together(conn: Any, items: Sequence[Any]) -> list[tuple[bool, Any]]:
    conn.log.extend(items)
    return [(True, item) for item in items]


def queue_write(
    commit: GroupCommit, value: Any, after: list[Any], run: Any = run_together
) -> Future[Any]:
    """A write going together, through the thread callers' path (``submit`` has no together)."""

    def work(conn: Any) -> Any:
        return run(conn, [value])[0][1]

    future: Future[Any] = Future()
    commit._queue_write(Write(work, after.append, (), future, together=Together(run, value)))
    return future


def hold(commit: GroupCommit) -> tuple[threading.Event, Future[Any]]:
    """A write that keeps the writer busy until the event is set."""
    started, release = threading.Event(), threading.Event()

    def work(conn: Any) -> str:
        started.set()
        release.wait(10)
        return "held"

    future = commit.submit(work)
    assert started.wait(10)
    return release, future


def test_a_writer_whose_connection_fails_answers_its_callers() -> None:
    commit, connection = writer_of()
    connection.refuse = True
    after: list[Any] = []
    futures = [queue_write(commit, f"v{n}", after) for n in range(3)]
    for future in futures:
        with pytest.raises(ConnectionError, match="went away"):
            future.result(10)
    connection.refuse = False
    assert queue_write(commit, "again", after).result(10) == "again"
    commit.close()
    assert connection.log == ["again"]
    assert after == ["again"]  # after-commit only for what committed


def test_close_finishes_what_was_queued() -> None:
    commit, connection = writer_of()
    release, held = hold(commit)
    after: list[Any] = []
    queued = [queue_write(commit, f"w{n}", after) for n in range(9)]
    closing = threading.Thread(target=commit.close)
    closing.start()
    release.set()
    closing.join(10)
    assert not closing.is_alive()
    assert held.result(0) == "held"
    assert [future.result(0) for future in queued] == [f"w{n}" for n in range(9)]
    assert connection.log == [f"w{n}" for n in range(9)]
    assert after == [f"w{n}" for n in range(9)]


def test_a_group_smaller_than_the_last_waits_for_the_callers_still_sending() -> None:
    commit, _connection = writer_of()
    calls: list[list[Any]] = []

    def run(conn: Any, items: Sequence[Any]) -> list[tuple[bool, Any]]:
        calls.append(list(items))
        return [(True, item) for item in items]

    def write(value: str) -> Future[Any]:
        return queue_write(commit, value, [], run)

    release, held = hold(commit)
    first = [write(f"a{n}") for n in range(3)]
    release.set()
    assert [f.result(10) for f in first] == ["a0", "a1", "a2"]  # one group of three
    # The next callers arrive one by one; the group waits (here: up to a minute) until it
    # is as big as the last one, and no longer.
    commit.gather_seconds = 60.0
    late = [write("b0")]
    threading.Event().wait(0.05)
    late += [write("b1"), write("b2")]
    assert [f.result(10) for f in late] == ["b0", "b1", "b2"]
    assert calls == [["a0", "a1", "a2"], ["b0", "b1", "b2"]]
    # A smaller group that gets no more writes still runs once its wait is over.
    commit.gather_seconds = 0.01
    assert write("c0").result(10) == "c0"
    commit.close()
    assert held.result(0) == "held"
