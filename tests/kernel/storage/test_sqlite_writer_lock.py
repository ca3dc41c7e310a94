"""SQLite writers of several processes queue on one lock file, not in the busy handler."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from smartcity.kernel.storage import Store, open_store

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


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "w.db"


@pytest.fixture
def file_store(database: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{database}")
    yield store
    store.close()


def test_a_write_transaction_holds_the_lock_until_it_commits(
    database: Path, file_store: Store
) -> None:
    with file_store.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        assert not _lock_is_free(database)
    assert _lock_is_free(database)
    with file_store.connect() as conn:
        # Readers never take it.
        conn.execute(text("SELECT count(*) FROM t")).scalar_one()
        assert _lock_is_free(database)


def test_the_group_writers_transactions_hold_the_lock_too(
    database: Path, file_store: Store
) -> None:
    free_inside = [
        file_store.write(lambda conn: _lock_is_free(database)),
        file_store.write(lambda conn: _lock_is_free(database)),
    ]
    assert free_inside == [False, False]
    assert _lock_is_free(database)


def test_a_failed_write_lets_go_of_the_lock(database: Path, file_store: Store) -> None:
    with pytest.raises(Exception, match="no_such_function"), file_store.begin() as conn:
        conn.execute(text("SELECT no_such_function()"))
    assert _lock_is_free(database)


def _count_up(database: str) -> None:
    store = open_store(f"sqlite:///{database}")
    try:
        for _ in range(WRITES_PER_PROCESS):
            store.write(lambda conn: conn.execute(text("UPDATE counter SET n = n + 1")))
    finally:
        store.close()


def test_writers_of_two_processes_both_get_every_write_in(
    database: Path, file_store: Store
) -> None:
    with file_store.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_count_up, args=(str(database),)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    with file_store.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 2 * WRITES_PER_PROCESS
