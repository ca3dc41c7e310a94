"""PostgreSQL: pooled connections are pinged only after sitting idle."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from smartcity.kernel.storage import Store, open_store
from smartcity.kernel.storage.driver import plan_each_run
from smartcity.kernel.storage.postgres import ping_after_idle


@pytest.fixture
def postgres_url(store: Store) -> str:
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL's connection pool")
    return store.engine.url.render_as_string(hide_password=False)


def backend_pid(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_in_steady_use_is_not_pinged(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    ping_after_idle(engine, idle_s=60.0)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        first, second = backend_pid(engine), backend_pid(engine)
    finally:
        engine.dispose()
    assert first == second
    assert statements == ["SELECT pg_backend_pid()"] * 2


def test_an_idle_connection_the_server_closed_is_replaced(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    ping_after_idle(engine, idle_s=0.0)
    admin = create_engine(postgres_url)
    try:
        gone = backend_pid(engine)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": gone})
        # Without the ping this checkout would hand out the dead connection and fail.
        assert backend_pid(engine) != gone
    finally:
        engine.dispose()
        admin.dispose()


def test_a_connection_planning_each_run_prepares_again_once_back_in_the_pool(
    postgres_url: str,
) -> None:
    store = open_store(postgres_url, pool_size=1)
    try:
        with store.connect() as conn:
            driver: Any = conn.connection.driver_connection
            prepared_at = driver.prepare_threshold
            plan_each_run(conn)
            assert driver.prepare_threshold is None
        with store.connect() as conn:
            assert conn.connection.driver_connection is driver
            assert driver.prepare_threshold == prepared_at
    finally:
        store.close()
