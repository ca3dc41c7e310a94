"""Driver-level statements: rows read back as SQLAlchemy wrote them; tracers see them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select, update

from smartcity.kernel.storage import Store
from smartcity.kernel.storage.driver import (
    driver_statement,
    execute_rows,
    fetch_all,
    marker,
    traced,
)
from smartcity.kernel.storage.tables import platform_meta


@pytest.fixture
def seen(store: Store) -> Iterator[list[str]]:
    """The SQL of every statement the store's connections run while the test does."""
    statements: list[str] = []

    def listen(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements.append(sql)

    engine = store.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def test_rows_written_at_the_driver_level_read_back_like_sqlalchemy_rows(
    store: Store, clock: Any
) -> None:
    rows = [
        {"key": f"k{i}", "value": str(i), "updated_at": clock.now() + timedelta(seconds=i)}
        for i in range(3)
    ]
    with store.begin() as conn:
        assert not traced(conn)
        execute_rows(conn, insert(platform_meta), rows)
    with store.connect() as conn:
        found = conn.execute(select(platform_meta).order_by(platform_meta.c.key)).all()
    assert [(r.key, r.value, r.updated_at) for r in found] == [
        (r["key"], r["value"], r["updated_at"]) for r in rows
    ]


def test_a_bind_the_rows_do_not_have_is_refused_not_sent_as_null(store: Store, clock: Any) -> None:
    statement = (
        update(platform_meta)
        .where(platform_meta.c.key == bindparam("b_key"))
        .values(value=bindparam("b_value"))
    )
    with store.begin() as conn:
        execute_rows(
            conn, insert(platform_meta), [{"key": "k", "value": "v", "updated_at": clock.now()}]
        )
        with pytest.raises(ValueError, match="b_value"):
            execute_rows(conn, statement, [{"b_key": "k"}])
    with store.connect() as conn:
        assert conn.execute(select(platform_meta.c.value)).scalar_one() == "v"


def test_a_statement_constant_travels_with_every_row_on_named_drivers(
    store: Store, clock: Any
) -> None:
    statement = insert(platform_meta).values(value="fixed")
    with store.begin() as conn:
        if conn.dialect.paramstyle != "pyformat":
            # Positional drivers have no room for constants: refused, not guessed.
            with pytest.raises(ValueError, match="value"):
                driver_statement(conn, statement, ("key", "updated_at"))
            return
        execute_rows(conn, statement, [{"key": "a", "updated_at": clock.now()}])
    with store.connect() as conn:
        assert conn.execute(select(platform_meta.c.value)).scalar_one() == "fixed"


def test_tracers_see_driver_level_statements(store: Store, clock: Any, seen: list[str]) -> None:
    with store.begin() as conn:
        assert traced(conn)
        execute_rows(
            conn, insert(platform_meta), [{"key": "t", "value": "v", "updated_at": clock.now()}]
        )
        rows = fetch_all(
            conn, f"SELECT value FROM platform_meta WHERE key = {marker(conn)}", ("t",)
        )
    assert rows == [("v",)]
    assert any(sql.startswith("INSERT INTO platform_meta") for sql in seen)
    assert any(sql.startswith("SELECT value FROM platform_meta") for sql in seen)


def test_a_compiled_statement_is_reused_for_the_same_keys(store: Store) -> None:
    statement = insert(platform_meta)
    keys = ("key", "value", "updated_at")
    with store.connect() as conn:
        first = driver_statement(conn, statement, keys)
        assert driver_statement(conn, statement, keys) is first
        assert driver_statement(conn, statement, keys[:2]) is not first
