"""SQLite checkpoints run in a thread of their own, never inside a commit."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from smartcity.kernel.storage import open_store
from smartcity.kernel.storage import sqlite as sqlite_backend


def test_store_connections_never_checkpoint_themselves(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        with store.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    finally:
        store.close()


def test_the_checkpointer_moves_the_wal_and_stops_on_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("PRAGMA wal_autocheckpoint=0")
        setup.execute("CREATE TABLE t (x)")
        setup.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1000)])
    calls: list[int] = []
    original = sqlite_backend.Checkpointer.checkpoint

    def counted(connection: sqlite3.Connection) -> None:
        calls.append(1)
        original(connection)

    monkeypatch.setattr(sqlite_backend.Checkpointer, "checkpoint", staticmethod(counted))
    checkpointer = sqlite_backend.Checkpointer(str(path), interval=0.01)
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    checkpointer.close()
    assert calls
    stopped_at = len(calls)
    time.sleep(0.05)
    assert len(calls) == stopped_at
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (1000,)
