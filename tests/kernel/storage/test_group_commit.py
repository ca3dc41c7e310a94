"""Group commit: concurrent writes share a transaction but keep their own outcomes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Connection, select

from smartcity.kernel.storage import Store
from smartcity.kernel.storage.group_commit import Together, Write, segments
from smartcity.kernel.storage.tables import platform_meta
from tests.kernel.storage.meta_writes import insert, stored_keys


def hold_writer(store: Store, clock: Any) -> tuple[threading.Event, Any]:
    """A write that keeps the writer busy until the event is set (so others queue)."""
    started, release = threading.Event(), threading.Event()

    def work(conn: Connection) -> str:
        started.set()
        release.wait(10)
        return insert("first", clock)(conn)

    pool = ThreadPoolExecutor(1)
    future = pool.submit(store.write, work)
    started.wait(10)
    return release, (pool, future)


def test_many_threads_each_get_their_own_result(store: Store, clock: Any) -> None:
    keys = [f"k{i}" for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda k: store.write(insert(k, clock)), keys))
    assert results == keys
    assert stored_keys(store) == sorted(keys)


def test_a_failing_write_leaves_the_others_of_its_group(store: Store, clock: Any) -> None:
    release, (holder, first) = hold_writer(store, clock)
    order: list[str] = []

    def failing(conn: Connection) -> str:
        insert("bad", clock)(conn)
        raise ValueError("refused")

    with ThreadPoolExecutor(3) as pool:
        queued = [
            pool.submit(store.write, insert("a", clock), after_commit=order.append),
            pool.submit(store.write, failing, after_commit=order.append),
            pool.submit(store.write, insert("b", clock), after_commit=order.append),
        ]
        # Let all three reach the queue while the writer is still busy (should one be
        # late, it runs in a group of its own: the outcomes are the same).
        threading.Event().wait(0.2)
        release.set()
        assert first.result(10) == "first"
        assert queued[0].result(10) == "a"
        with pytest.raises(ValueError, match="refused"):
            queued[1].result(10)
        assert queued[2].result(10) == "b"
    holder.shutdown()
    assert stored_keys(store) == ["a", "b", "first"]
    assert sorted(order) == ["a", "b"]  # after_commit only for what committed


def test_a_write_sees_the_writes_queued_before_it(store: Store, clock: Any) -> None:
    if not getattr(store, "group_commit", False):
        pytest.skip("this store runs every write on its own connection")
    release, (holder, first) = hold_writer(store, clock)

    def count(conn: Connection) -> int:
        return len(conn.execute(select(platform_meta.c.key)).all())

    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(store.write, insert("a", clock))
        threading.Event().wait(0.1)
        seen = pool.submit(store.write, count)
        threading.Event().wait(0.1)
        release.set()
        first.result(10)
        a.result(10)
        assert seen.result(10) == 2
    holder.shutdown()


def test_a_retried_exception_runs_the_work_again(store: Store, clock: Any) -> None:
    attempts: list[int] = []

    class Stale(Exception):
        pass

    def work(conn: Connection) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise Stale
        return insert("k", clock)(conn)

    assert store.write(work, retry_on=(Stale,)) == "k"
    assert len(attempts) == 2
    with pytest.raises(Stale):
        store.write(lambda conn: (_ for _ in ()).throw(Stale()), retry_on=())


def test_async_callers_await_their_write(store: Store, clock: Any) -> None:
    async def main() -> list[str]:
        return list(
            await asyncio.gather(*(store.write_async(insert(f"k{i}", clock)) for i in range(20)))
        )

    assert asyncio.run(main()) == [f"k{i}" for i in range(20)]
    assert len(stored_keys(store)) == 20


def test_async_caller_gets_the_exception(store: Store, clock: Any) -> None:
    def failing(conn: Connection) -> None:
        raise KeyError("nope")

    async def main() -> None:
        await store.write_async(failing)

    with pytest.raises(KeyError):
        asyncio.run(main())


def test_writes_going_together_run_in_one_call_in_queue_order(store: Store, clock: Any) -> None:
    calls: list[list[str]] = []
    published: list[str] = []

    def run_together(conn: Connection, items: Sequence[Any]) -> list[tuple[bool, Any]]:
        calls.append(list(items))
        outcomes: list[tuple[bool, Any]] = []
        for key in items:
            if key == "bad":
                outcomes.append((False, ValueError("refused")))
                continue
            insert(key, clock)(conn)
            outcomes.append((True, key))
        return outcomes

    def together(key: str) -> Any:
        return store.write_async(
            insert(key, clock),
            after_commit=published.append,
            together=Together(run_together, key),
        )

    async def main() -> list[Any]:
        started, release = threading.Event(), threading.Event()

        def hold(conn: Connection) -> str:
            started.set()
            release.wait(10)
            return insert("first", clock)(conn)

        # A write going together, alone in its group, holds the writer (on every backend).
        held = asyncio.ensure_future(
            store.write_async(hold, together=Together(run_together, "first"))
        )
        await asyncio.to_thread(started.wait, 10)
        queued = [asyncio.ensure_future(together(k)) for k in ("a", "bad", "b", "c")]
        await asyncio.sleep(0.05)
        release.set()
        await held
        return list(await asyncio.gather(*queued, return_exceptions=True))

    outcomes = asyncio.run(main())
    assert calls == [["a", "bad", "b", "c"]]  # the held write ran alone, by its work
    assert outcomes[0] == "a" and outcomes[2:] == ["b", "c"]
    assert isinstance(outcomes[1], ValueError)
    assert stored_keys(store) == ["a", "b", "c", "first"]
    assert published == ["a", "b", "c"]


def test_a_group_the_database_refuses_runs_each_write_alone(store: Store, clock: Any) -> None:
    calls: list[int] = []

    def run_together(conn: Connection, items: Sequence[Any]) -> list[tuple[bool, Any]]:
        calls.append(len(items))
        for key in items:
            insert(key, clock)(conn)
        insert(items[0], clock)(conn)  # a duplicate key: the statement fails
        return [(True, key) for key in items]

    async def main() -> list[Any]:
        started, release = threading.Event(), threading.Event()

        def hold(conn: Connection) -> str:
            started.set()
            release.wait(10)
            return "held"

        held = asyncio.ensure_future(
            store.write_async(hold, together=Together(run_together, "held"))
        )
        await asyncio.to_thread(started.wait, 10)
        queued = [
            asyncio.ensure_future(
                store.write_async(insert(k, clock), together=Together(run_together, k))
            )
            for k in ("a", "b")
        ]
        await asyncio.sleep(0.05)
        release.set()
        await held
        return list(await asyncio.gather(*queued))

    assert asyncio.run(main()) == ["a", "b"]
    assert calls == [2]
    assert stored_keys(store) == ["a", "b"]


def test_segments_keep_queue_order() -> None:
    def run_one(conn: Connection, items: Sequence[Any]) -> list[tuple[bool, Any]]:
        return []

    def run_two(conn: Connection, items: Sequence[Any]) -> list[tuple[bool, Any]]:
        return []

    def write(run: Any = None) -> Write:
        return Write(
            lambda conn: None, None, (), together=None if run is None else Together(run, 1)
        )

    group = [
        write(run_one),
        write(run_one),
        write(),
        write(run_one),
        write(run_two),
        write(run_two),
    ]
    cut = segments(group)
    assert [(run, len(writes)) for run, writes in cut] == [
        (run_one, 2),
        (None, 1),
        (None, 1),  # one write of its kind alone needs no group
        (run_two, 2),
    ]
    assert [w for _run, writes in cut for w in writes] == group


def test_a_loops_writes_run_their_after_commit_on_the_loop_before_the_caller_resumes(
    store: Store, clock: Any
) -> None:
    if not getattr(store, "group_commit", False):
        pytest.skip("this store runs every write on its own connection")
    seen: list[tuple[str, int]] = []

    async def one(key: str) -> str:
        result: str = await store.write_async(
            insert(key, clock),
            after_commit=lambda value: seen.append((value, threading.get_ident())),
        )
        # The write's after-commit step (its events) ran before its caller resumes.
        assert (key, threading.get_ident()) in seen
        return result

    async def main() -> list[str]:
        return list(await asyncio.gather(*(one(f"k{i}") for i in range(20))))

    assert asyncio.run(main()) == [f"k{i}" for i in range(20)]
    # In queue order, on the loop's thread (no wake-up of the loop per event).
    assert [key for key, _ in seen] == [f"k{i}" for i in range(20)]
    assert {thread for _, thread in seen} == {threading.get_ident()}


def test_a_cancelled_callers_write_still_runs_its_after_commit(store: Store, clock: Any) -> None:
    if not getattr(store, "group_commit", False):
        pytest.skip("this store runs every write on its own connection")
    release, (holder, first) = hold_writer(store, clock)
    seen: list[str] = []

    async def main() -> None:
        task = asyncio.ensure_future(
            store.write_async(insert("k", clock), after_commit=seen.append)
        )
        await asyncio.sleep(0.05)  # queued behind the held write
        task.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(200):  # the write commits and settles on this loop
            if seen:
                break
            await asyncio.sleep(0.01)

    asyncio.run(main())
    first.result(10)
    holder.shutdown()
    assert seen == ["k"]
    assert stored_keys(store) == ["first", "k"]


def test_a_group_with_a_threads_write_runs_after_commits_in_the_writer_in_order(
    store: Store, clock: Any
) -> None:
    if not getattr(store, "group_commit", False):
        pytest.skip("this store runs every write on its own connection")
    release, (holder, first) = hold_writer(store, clock)
    seen: list[tuple[str, str]] = []

    def note(value: str) -> None:
        seen.append((value, threading.current_thread().name))

    async def main() -> None:
        loop_write = asyncio.ensure_future(store.write_async(insert("a", clock), after_commit=note))
        await asyncio.sleep(0.05)
        thread_write = asyncio.get_running_loop().run_in_executor(
            None, lambda: store.write(insert("b", clock), after_commit=note)
        )
        await asyncio.sleep(0.05)
        release.set()
        assert await loop_write == "a"
        assert await thread_write == "b"

    asyncio.run(main())
    first.result(10)
    holder.shutdown()
    assert [value for value, _ in seen] == ["a", "b"]
    assert {name for _, name in seen} == {"smartcity-store-writer"}
