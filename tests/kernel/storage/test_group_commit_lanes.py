"""A group commit in several lanes: one key's writes in order, no caller left waiting."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from typing import Any

import pytest

from smartcity.kernel.storage.group_commit import GroupCommit, Together, Write

LANES = 3


class FakeConnection:
    """A lane's connection that records what ran on it (no database: lanes are the subject)."""

    def __init__(self, log: list[Any], lock: threading.Lock) -> None:
        self.log = log
        self.lock = lock
        self.refuse = False

    @contextlib.contextmanager
    def begin(self, *, alone: bool = False) -> Iterator[Any]:
        if self.refuse:
            raise ConnectionError("the server went away")
        yield self


def lanes_of(count: int = LANES) -> tuple[GroupCommit, list[FakeConnection], list[Any]]:
    log: list[Any] = []
    lock = threading.Lock()
    connections = [FakeConnection(log, lock) for _ in range(count)]

    @contextlib.contextmanager
    def begin() -> Iterator[Any]:
        yield connections[0]

    return GroupCommit(begin, connections), connections, log


def run_together(conn: Any, items: Sequence[Any]) -> list[tuple[bool, Any]]:
    with conn.lock:
        conn.log.extend(items)
    return [(True, item) for item in items]


def keyed(commit: GroupCommit, key: Any, value: Any, after: list[Any]) -> Future[Any]:
    """A write of ``key`` through ``submit`` (its work runs when it is a group alone)."""

    def work(conn: Any) -> Any:
        return run_together(conn, [value])[0][1]

    future: Future[Any] = Future()
    commit._queue_write(  # the thread callers' path, with a key
        _write(work, after, future, Together(run_together, value, key=key))
    )
    return future


def _write(work: Any, after: list[Any], future: Future[Any], together: Together | None) -> Write:
    return Write(work, after.append, (), future, together=together)


def hold(commit: GroupCommit, key: Any) -> tuple[threading.Event, Future[Any]]:
    """A write of ``key`` that keeps its lane busy until the event is set."""
    started, release = threading.Event(), threading.Event()

    def work(conn: Any) -> str:
        started.set()
        release.wait(10)
        return "held"

    future: Future[Any] = Future()
    commit._queue_write(_write(work, [], future, Together(run_together, "held", key=key)))
    assert started.wait(10)
    return release, future


def test_the_writes_of_one_key_commit_and_publish_in_order_across_lanes() -> None:
    commit, _connections, _log = lanes_of()
    published: list[tuple[int, int]] = []

    async def main() -> None:
        async def one(key: int, seq: int) -> Any:
            return await commit.run(
                lambda _conn: (key, seq),
                after_commit=published.append,
                together=Together(run_together, (key, seq), key=key),
            )

        # Interleaved: each key's writes are queued in seq order, the keys' lanes differ.
        tasks = [one(key, seq) for seq in range(40) for key in range(2 * LANES)]
        results = await asyncio.gather(*tasks)
        assert results == [(key, seq) for seq in range(40) for key in range(2 * LANES)]

    asyncio.run(main())
    commit.close()
    for key in range(2 * LANES):
        assert [seq for k, seq in published if k == key] == list(range(40))


def test_a_lane_that_fails_answers_its_callers_and_the_others_commit() -> None:
    commit, connections, log = lanes_of()
    connections[1].refuse = True
    after: list[Any] = []
    futures = {key: keyed(commit, key, f"v{key}", after) for key in range(LANES)}
    assert futures[0].result(10) == "v0"
    assert futures[2].result(10) == "v2"
    with pytest.raises(ConnectionError, match="went away"):
        futures[1].result(10)
    commit.close()
    assert sorted(log) == ["v0", "v2"]
    assert sorted(after) == ["v0", "v2"]  # after-commit only for what committed


def test_close_finishes_what_every_lane_has_queued() -> None:
    commit, _connections, log = lanes_of()
    holds = [hold(commit, key) for key in range(LANES)]
    after: list[Any] = []
    queued = [keyed(commit, key % LANES, f"w{key}", after) for key in range(3 * LANES)]
    closing = threading.Thread(target=commit.close)
    closing.start()
    for release, _future in holds:
        release.set()
    closing.join(10)
    assert not closing.is_alive()
    assert [future.result(0) for _release, future in holds] == ["held"] * LANES
    assert [future.result(0) for future in queued] == [f"w{key}" for key in range(3 * LANES)]
    assert sorted(log) == sorted(f"w{key}" for key in range(3 * LANES))


def test_a_write_without_key_waits_for_every_lane_and_goes_before_later_writes() -> None:
    commit, _connections, log = lanes_of()
    release, held = hold(commit, 1)  # lane 1 busy with an earlier write
    after: list[Any] = []
    earlier = keyed(commit, 2, "earlier", after)
    unkeyed: Future[Any] = Future()

    def work(conn: Any) -> str:
        with conn.lock:
            conn.log.append("unkeyed")
        return "unkeyed"

    commit._queue_write(_write(work, after, unkeyed, None))
    later = keyed(commit, 0, "later", after)
    assert earlier.result(10) == "earlier"
    # Lane 1 still runs the earlier write: the unkeyed one and what came after it wait.
    assert not unkeyed.done() and not later.done()
    release.set()
    assert held.result(10) == "held"
    assert unkeyed.result(10) == "unkeyed" and later.result(10) == "later"
    commit.close()
    assert log == ["earlier", "unkeyed", "later"]


def test_a_group_smaller_than_the_last_waits_for_the_callers_still_sending() -> None:
    commit, _connections, _log = lanes_of(1)
    calls: list[list[Any]] = []

    def run(conn: Any, items: Sequence[Any]) -> list[tuple[bool, Any]]:
        calls.append(list(items))
        return [(True, item) for item in items]

    def write(value: str) -> Future[Any]:
        future: Future[Any] = Future()
        commit._queue_write(_write(lambda _c: value, [], future, Together(run, value, key=1)))
        return future

    release, held = hold(commit, 1)
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
