"""SQLite writers of several processes queue on one lock file, not in the busy handler."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
from pathlib import Path

from sqlalchemy import text

from smartcity.kernel.storage import open_store

WRITES_PER_PROCESS = 200


def _lock_is_free(database: Path) -> bool:
    """Whether another open file could take the writer lock right now."""
    fd = os.open(f"{database}-writer", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def test_a_write_transaction_holds_the_lock_until_it_commits(tmp_path: Path) -> None:
    database = tmp_path / "w.db"
    store = open_store(f"sqlite:///{database}")
    try:
        with store.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            assert not _lock_is_free(database)
        assert _lock_is_free(database)
        with store.connect() as conn:
            # Readers never take it.
            conn.execute(text("SELECT count(*) FROM t")).scalar_one()
            assert _lock_is_free(database)
    finally:
        store.close()


def test_the_group_writers_transactions_hold_the_lock_too(tmp_path: Path) -> None:
    database = tmp_path / "w.db"
    store = open_store(f"sqlite:///{database}")
    try:
        free_inside = [
            store.write(lambda conn: _lock_is_free(database)),
            store.write(lambda conn: _lock_is_free(database)),
        ]
        assert free_inside == [False, False]
        assert _lock_is_free(database)
    finally:
        store.close()


def test_a_failed_write_lets_go_of_the_lock(tmp_path: Path) -> None:
    database = tmp_path / "w.db"
    store = open_store(f"sqlite:///{database}")
    try:
        try:
            with store.begin() as conn:
                conn.execute(text("SELECT no_such_function()"))
        except Exception:
            pass
        assert _lock_is_free(database)
    finally:
        store.close()


def _count_up(database: str) -> None:
    store = open_store(f"sqlite:///{database}")
    try:
        for _ in range(WRITES_PER_PROCESS):
            store.write(lambda conn: conn.execute(text("UPDATE counter SET n = n + 1")))
    finally:
        store.close()


def test_writers_of_two_processes_both_get_every_write_in(tmp_path: Path) -> None:
    database = tmp_path / "w.db"
    store = open_store(f"sqlite:///{database}")
    try:
        with store.begin() as conn:
            conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
            conn.execute(text("INSERT INTO counter VALUES (0)"))
        spawn = multiprocessing.get_context("spawn")
        workers = [spawn.Process(target=_count_up, args=(str(database),)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert [worker.exitcode for worker in workers] == [0, 0]
        with store.connect() as conn:
            assert (
                conn.execute(text("SELECT n FROM counter")).scalar_one() == 2 * WRITES_PER_PROCESS
            )
    finally:
        store.close()
