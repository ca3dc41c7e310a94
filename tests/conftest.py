"""Shared fixtures.

The suite runs once per backend: ``SMARTCITY_TEST_BACKEND=sqlite`` (default) or
``postgres`` with ``SMARTCITY_TEST_DATABASE_URL`` pointing at a throwaway database
(``scripts/pg-test-cluster start`` prints one). The ``store`` fixture hands every test an
empty, fully migrated store.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from smartcity.kernel.clock import FixedClock
from smartcity.kernel.storage import Store, open_store
from smartcity.kernel.storage.schema import load_tables

# The API tests serve their remote @context documents from loopback servers; the shared
# resolver refuses private addresses unless told (SSRF guard, kernel/context/jsonld_fetch).
os.environ.setdefault("SMARTCITY_CONTEXT_ALLOW_PRIVATE", "1")
# The payment expiry timer would sweep behind the tests' backs; tests that want it say so.
os.environ.setdefault("SMARTCITY_PAYMENT_EXPIRE_EVERY", "0")
# Receipts in the server process: a worker process per test would be slow to start.
os.environ.setdefault("SMARTCITY_PAYMENT_RECEIPTS", "thread")

BACKEND = os.environ.get("SMARTCITY_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("SMARTCITY_TEST_DATABASE_URL", "")


def pytest_report_header() -> str:
    return f"smartcity backend: {BACKEND}"


@pytest.fixture(scope="session")
def _postgres_store() -> Iterator[Store]:
    if not PG_URL:
        raise RuntimeError("SMARTCITY_TEST_DATABASE_URL is not set for the postgres backend")
    store = open_store(PG_URL)
    with store.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    store.migrate()
    yield store
    store.close()


def _truncate_all(store: Store) -> None:
    tables = [t.name for t in reversed(load_tables().sorted_tables)]
    if not tables:
        return
    with store.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store on the backend this run tests."""
    if BACKEND == "postgres":
        pg: Store = request.getfixturevalue("_postgres_store")
        _truncate_all(pg)
        yield pg
        return
    sqlite_store = open_store(f"sqlite:///{tmp_path / 'test.db'}")
    sqlite_store.migrate()
    yield sqlite_store
    sqlite_store.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


# Threads that write to the store in the background. One still running after its test
# can write into the next test's store (on PostgreSQL the tests share one database, and
# the next test's TRUNCATE deadlocked against it), so a test must stop what it starts.
_WRITER_THREADS = ("payment-receipt-signer", "payment-receipts", "payment-group-commit")


@pytest.fixture(autouse=True)
def _no_background_writer_left() -> Iterator[None]:
    before = {t.ident for t in threading.enumerate()}
    yield
    left = [t for t in threading.enumerate() if t.ident not in before and t.name in _WRITER_THREADS]
    for thread in left:
        thread.join(timeout=2)
    alive = [t.name for t in left if t.is_alive()]
    if alive:
        pytest.fail(f"the test left background writers running: {alive} (stop the platform)")
