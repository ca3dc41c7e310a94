"""SQLite: the group-commit writer keeps one connection between its transactions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, select

from smartcity.kernel.storage import open_store
from smartcity.kernel.storage.sqlite import SQLiteStore
from smartcity.kernel.storage.tables import platform_meta


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Any:
    store = open_store(f"sqlite:///{tmp_path / 'writer.db'}")
    store.migrate()
    assert isinstance(store, SQLiteStore)
    yield store
    store.close()


def put(key: str, clock: Any) -> Any:
    def work(conn: Connection) -> str:
        conn.execute(platform_meta.insert().values(key=key, value=key, updated_at=clock.now()))
        return key

    return work


def keys(store: SQLiteStore) -> list[str]:
    with store.connect() as conn:
        return sorted(conn.execute(select(platform_meta.c.key)).scalars())


def test_the_writer_checks_out_one_connection_for_all_its_groups(
    sqlite_store: SQLiteStore, clock: Any
) -> None:
    checkouts: list[object] = []
    event.listen(sqlite_store.engine, "checkout", lambda *args: checkouts.append(args[0]))
    for n in range(5):
        sqlite_store.write(put(f"k{n}", clock))
    assert len(checkouts) == 1
    assert keys(sqlite_store) == [f"k{n}" for n in range(5)]


def test_a_failed_write_leaves_the_writers_connection_outside_any_transaction(
    sqlite_store: SQLiteStore, clock: Any
) -> None:
    def failing(conn: Connection) -> None:
        put("bad", clock)(conn)
        raise KeyError("nope")

    with pytest.raises(KeyError):
        sqlite_store.write(failing)
    held = sqlite_store._held
    assert held is not None
    assert not held.in_transaction()
    assert not held.connection.driver_connection.in_transaction  # type: ignore[union-attr]
    sqlite_store.write(put("good", clock))
    # Another connection writes too: the writer holds no lock between its groups.
    with sqlite_store.begin() as conn:
        put("other", clock)(conn)
    assert keys(sqlite_store) == ["good", "other"]


def test_a_broken_writer_connection_is_replaced(sqlite_store: SQLiteStore, clock: Any) -> None:
    sqlite_store.write(put("a", clock))
    held = sqlite_store._held
    assert held is not None
    held.invalidate()
    sqlite_store.write(put("b", clock))
    assert sqlite_store._held is not held
    assert keys(sqlite_store) == ["a", "b"]


def test_close_closes_the_writers_connection(tmp_path: Path, clock: Any) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'closing.db'}")
    store.migrate()
    assert isinstance(store, SQLiteStore)
    store.write(put("a", clock))
    held = store._held
    assert held is not None
    store.close()
    assert held.closed
    assert store._held is None
