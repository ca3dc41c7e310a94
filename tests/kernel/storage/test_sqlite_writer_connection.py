"""SQLite: the group-commit writer keeps one connection between its transactions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event

from smartcity.kernel.storage import open_store
from smartcity.kernel.storage.sqlite import SQLiteStore
from tests.kernel.storage.meta_writes import insert, stored_keys


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Any:
    store = open_store(f"sqlite:///{tmp_path / 'writer.db'}")
    store.migrate()
    assert isinstance(store, SQLiteStore)
    yield store
    store.close()


def test_the_writer_checks_out_one_connection_for_all_its_groups(
    sqlite_store: SQLiteStore, clock: Any
) -> None:
    checkouts: list[object] = []
    event.listen(sqlite_store.engine, "checkout", lambda *args: checkouts.append(args[0]))
    for n in range(5):
        sqlite_store.write(insert(f"k{n}", clock))
    assert len(checkouts) == 1
    assert stored_keys(sqlite_store) == [f"k{n}" for n in range(5)]


def test_a_failed_write_leaves_the_writers_connection_outside_any_transaction(
    sqlite_store: SQLiteStore, clock: Any
) -> None:
    def failing(conn: Connection) -> None:
        insert("bad", clock)(conn)
        raise KeyError("nope")

    with pytest.raises(KeyError):
        sqlite_store.write(failing)
    held = sqlite_store._kept.connection
    assert held is not None
    assert not held.in_transaction()
    assert not held.connection.driver_connection.in_transaction  # type: ignore[union-attr]
    sqlite_store.write(insert("good", clock))
    # Another connection writes too: the writer holds no lock between its groups.
    with sqlite_store.begin() as conn:
        insert("other", clock)(conn)
    assert stored_keys(sqlite_store) == ["good", "other"]


def test_a_broken_writer_connection_is_replaced(sqlite_store: SQLiteStore, clock: Any) -> None:
    sqlite_store.write(insert("a", clock))
    held = sqlite_store._kept.connection
    assert held is not None
    held.invalidate()
    sqlite_store.write(insert("b", clock))
    assert sqlite_store._kept.connection is not held
    assert stored_keys(sqlite_store) == ["a", "b"]


def test_close_closes_the_writers_connection(tmp_path: Path, clock: Any) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'closing.db'}")
    store.migrate()
    assert isinstance(store, SQLiteStore)
    store.write(insert("a", clock))
    held = store._kept.connection
    assert held is not None
    store.close()
    assert held.closed
    assert store._kept.connection is None
